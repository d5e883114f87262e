-- Workflow matching on every registered entity table (statement-level, with
-- transition tables), the lock a pending approval puts on the fields its
-- workflow reads, and the email hook that resumes send_email steps.
do $triggers$
declare
    v_spec record;
begin
    for v_spec in
        select
            e.table_name,
            s.name,
            replace(s.body, '{type}', quote_literal(e.entity_type)) as body
        from app.entity_types as e
        cross join (
            values
            (
                'workflow_insert',
                'after insert on %s referencing new table as new_rows for each statement '
                || 'execute function app._tg_workflow_insert({type})'
            ),
            (
                'workflow_update',
                'after update on %s referencing old table as old_rows new table as new_rows '
                || 'for each statement execute function app._tg_workflow_update({type})'
            ),
            (
                'workflow_approval_field_lock',
                'after update on %s referencing old table as old_rows new table as new_rows '
                || 'for each statement execute function app._tg_approval_field_lock({type})'
            ),
            (
                'workflow_delete',
                'after delete on %s referencing old table as old_rows for each statement '
                || 'execute function app._tg_workflow_delete({type})'
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

select app._ensure_trigger(
    p_table => 'app.email_sends',
    p_name => 'email_sends_workflow_action',
    p_body => 'after update of status on %s for each row '
    || 'when (new.workflow_action_id is not null and old.status is distinct from new.status '
    || 'and old.status in (''queued'', ''sending'') '
    || 'and new.status not in (''queued'', ''sending'')) '
    || 'execute function app._tg_email_send_workflow_action()'
);
