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
