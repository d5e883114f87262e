select app._ensure_trigger(
    p_table => 'app.comments',
    p_name => 'comment_mentions_insert',
    p_body => 'after insert on %s referencing new table as new_rows '
    || 'for each statement execute function app._tg_comment_mentions()'
);

select app._ensure_trigger(
    p_table => 'app.comments',
    p_name => 'comment_mentions_update',
    p_body => 'after update on %s referencing new table as new_rows '
    || 'for each statement execute function app._tg_comment_mentions()'
);

-- The built-in mention_comment notification (sql/functions/notifications/builtin.sql):
-- after the checks above, once per statement.
select app._ensure_trigger(
    p_table => 'app.comments',
    p_name => 'notify_builtin_insert',
    p_body => 'after insert on %s referencing new table as new_rows '
    || 'for each statement execute function app._tg_comment_notify_insert()'
);

select app._ensure_trigger(
    p_table => 'app.comments',
    p_name => 'notify_builtin_update',
    p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
    || 'for each statement execute function app._tg_comment_notify_update()'
);
