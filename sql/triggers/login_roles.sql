-- The login map must say what user_profiles says (sql/functions/core/login_roles.sql).
select app._ensure_trigger(
    p_table => 'app.user_profiles',
    p_name => 'login_roles_guard',
    p_body => 'after insert or update of db_role, is_active or delete on %s '
    || 'for each row execute function app._tg_login_roles_guard()'
);
