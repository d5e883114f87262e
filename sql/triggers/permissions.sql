-- Configuration that clients may write with plain DML needs its permission
-- (docs/permissions.md): one statement trigger per table and event kind, so
-- INSERT, UPDATE and DELETE from a SQL client are refused with IT003 as an
-- api call is. The tables written only through api functions (email and
-- webhook settings, workflows) check there.

select app._ensure_trigger(
    p_table => 'app.email_templates',
    p_name => 'email_templates_permission',
    p_body => 'before insert or update or delete on %s for each statement '
    || 'execute function app._tg_require_permission(''templates.manage'')'
);

select app._ensure_trigger(
    p_table => 'app.notification_templates',
    p_name => 'notification_templates_permission',
    p_body => 'before insert or update or delete on %s for each statement '
    || 'execute function app._tg_require_permission(''templates.manage'')'
);

select app._ensure_trigger(
    p_table => 'app.deal_stages',
    p_name => 'deal_stages_permission',
    p_body => 'before insert or update or delete on %s for each statement '
    || 'execute function app._tg_require_permission(''pipeline.manage'')'
);
