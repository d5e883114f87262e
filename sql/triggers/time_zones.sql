-- One time zone rule (app._is_time_zone, docs/conventions.md): every stored zone is an
-- IANA name, checked when it is written, by an api function or plain DML alike (IT005).
-- A contact's or candidate's blank zone is stored as null; a null is not checked.
do $triggers$
declare
    v_spec record;
begin
    for v_spec in
        select x.table_name, x.column_name, x.blank
        from (
            values
            ('organizations', 'timezone', ''),
            ('user_profiles', 'timezone', ''),
            ('contacts', 'timezone', 'blank_is_null'),
            ('candidates', 'timezone', 'blank_is_null'),
            ('interviews', 'timezone', ''),
            ('notification_preferences', 'quiet_hours_timezone', ''),
            ('campaigns', 'timezone', ''),
            ('workflows', 'schedule_timezone', '')
        ) as x (table_name, column_name, blank)
    loop
        perform app._ensure_trigger(
            p_table => format('app.%I', v_spec.table_name)::regclass,
            p_name => 'time_zone_check',
            p_body => format(
                'before insert or update of %I on %%s for each row when (new.%I is not null) '
                || 'execute function app._tg_time_zone(%L, %L)',
                v_spec.column_name, v_spec.column_name, v_spec.column_name, v_spec.blank
            )
        );
    end loop;
end
$triggers$;
