select app._ensure_trigger(
    p_table => 'app.deals',
    p_name => 'deal_stage_sync',
    p_body => 'before insert or update on %s '
    || 'for each row execute function app._tg_deal_stage_sync()'
);

select app._ensure_trigger(
    p_table => 'app.deals',
    p_name => 'deal_stage_history',
    p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
    || 'for each statement execute function app._tg_deal_stage_history()'
);

-- The built-in deal_stage_changed and deal_closed_won notifications
-- (sql/functions/notifications/builtin.sql), once per statement.
select app._ensure_trigger(
    p_table => 'app.deals',
    p_name => 'notify_builtin_update',
    p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
    || 'for each statement execute function app._tg_deal_notify_stage()'
);
