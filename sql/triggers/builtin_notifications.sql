-- The built-in notifications of activities (task_assigned), submissions
-- (submission_created, submission_status_changed) and interviews
-- (interview_scheduled): sql/functions/notifications/builtin.sql. Statement
-- triggers with transition tables, named to fire after the reference and
-- history checks of the same table (AFTER triggers fire in name order).
do $triggers$
declare
    v_spec record;
begin
    for v_spec in
        select t.table_name, s.name, format(s.body, '%s', t.singular) as body
        from (
            values ('activities', 'activity'), ('submissions', 'submission'),
            ('interviews', 'interview')
        ) as t (table_name, singular)
        cross join (
            values
            (
                'notify_builtin_insert',
                'after insert on %s referencing new table as new_rows '
                || 'for each statement execute function app._tg_%s_notify_insert()'
            ),
            (
                'notify_builtin_update',
                'after update on %s referencing old table as old_rows new table as new_rows '
                || 'for each statement execute function app._tg_%s_notify_update()'
            )
        ) as s (name, body)
        order by 1, 2
    loop
        perform app._ensure_trigger(
            p_table => format('app.%I', v_spec.table_name)::regclass,
            p_name => v_spec.name,
            p_body => v_spec.body
        );
    end loop;
end
$triggers$;
