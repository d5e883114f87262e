-- What the worker calls when a workflow job cannot go on (docs/operations.md,
-- rule 2): a permanent error ends the execution, with its reason, at once.

create or replace function api.fail_execution(
    p_execution_id uuid,
    p_error text,
    p_org_id uuid default null
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid;
    v_exec app.workflow_executions%rowtype;
    v_step_id uuid;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    if v_exec.status in ('completed', 'failed', 'cancelled') then
        return v_exec.status;
    end if;
    select s.id into v_step_id from app.workflow_steps as s
    where s.org_id = v_org_id and s.execution_id = p_execution_id and s.status = 'running'
    order by s.started_at desc nulls last
    limit 1;
    perform app._wf_fail_step(
        v_org_id, p_execution_id, v_step_id,
        coalesce(nullif(btrim(p_error), ''), 'the run failed'), null, true
    );
    return 'failed';
end
$function$;

comment on function api.fail_execution(uuid, text, uuid) is
$$Service role only. The worker ends an execution whose run raised an error no retry can
cure (a bug, a value the engine cannot handle): the running step and the execution become
failed with p_error, the entity is unlocked and the workflow's owner gets the
workflow_failed notification, as for any permanent step failure. An execution that already
ended is left as it is. Returns the execution's status.$$;
