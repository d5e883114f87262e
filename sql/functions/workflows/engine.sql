-- api.run_execution: advance an execution inside SQL until it completes,
-- fails, or parks (a timer, an action the worker performs, an approval).
-- One transaction; each step in a subtransaction, so a failing step leaves
-- no half-done work and is recorded and retried with backoff.

-- The index after a finished step: its "next", a condition's branch, an
-- approval's on_reject; "end" (or past the last step) finishes. Null when the
-- jump names no step, or more than one (a definition stored before the check):
-- the engine fails the execution then, without a subtransaction to catch it.
create or replace function app._wf_next_index(
    p_steps jsonb, p_index integer, p_step jsonb, p_result jsonb
)
returns integer
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    with target as (
        select case
            when p_step ->> 'type' = 'condition' then
                case when (p_result ->> 'holds')::boolean then p_step ->> 'then' else p_step ->> 'else' end
            when p_step ->> 'type' = 'approval' and p_result ->> 'decision' = 'rejected' then
                p_step ->> 'on_reject'
            else p_step ->> 'next'
        end as name
    )
    select case
        when t.name is null then p_index + 1
        when t.name = 'end' then jsonb_array_length(p_steps)
        else (
            select case when count(*) = 1 then min(s.i)::integer - 1 end
            from jsonb_array_elements(p_steps) with ordinality as s (v, i)
            where s.v ->> 'name' = t.name
        )
    end
    from target as t
$function$;

-- The step row for a visit to position p_index that has not finished yet,
-- or a new one.
create or replace function app._wf_step_row(
    p_exec app.workflow_executions, p_index integer, p_step jsonb
)
returns app.workflow_steps
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row app.workflow_steps%rowtype;
begin
    select s.* into v_row from app.workflow_steps as s
    where
        s.org_id = p_exec.org_id and s.execution_id = p_exec.id and s.position = p_index
        and s.status in ('pending', 'running', 'waiting', 'failed')
    order by s.created_at desc
    limit 1;
    if found then
        return v_row;
    end if;
    insert into app.workflow_steps (
        org_id, execution_id, transition_id, step_type, step_kind, step_name, step_config,
        position, status
    )
    values (
        p_exec.org_id, p_exec.id, p_exec.transition_id,
        -- A searched CASE: Citus sends a simple one on a parameter to the worker as
        -- text = boolean (docs/scale-out.md).
        case
            when p_step ->> 'type' in ('wait', 'condition', 'approval') then p_step ->> 'type'
            when p_step ->> 'type' = 'set_state' then 'transition'
            else 'action'
        end,
        p_step ->> 'type', p_step ->> 'name', p_step, p_index, 'pending'
    )
    returning * into v_row;
    return v_row;
end
$function$;

-- Run one step's work (raises on failure).
create or replace function app._wf_dispatch(
    p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb,
    p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_doc is null and p_step ->> 'type' not in ('wait', 'webhook', 'send_notification') then
        raise exception using
            errcode = 'IT004',
            message = format('%s %s no longer exists', p_exec.entity_type, p_exec.entity_id);
    end if;
    return case p_step ->> 'type'
        -- The set forms with one row (app._wf_run_set runs them for groups).
        when 'create_task' then jsonb_build_object('result', (
            app._wf_steps_activity(array[p_exec], p_step, array[p_doc], array[p_vars], p_type)
        )[1])
        when 'create_activity' then jsonb_build_object('result', (
            app._wf_steps_activity(array[p_exec], p_step, array[p_doc], array[p_vars], p_type)
        )[1])
        when 'update_field' then jsonb_build_object('result', (
            app._wf_steps_update_field(array[p_exec], p_step, array[p_doc], array[p_vars], p_type)
        )[1])
        when 'assign' then app._wf_step_assign(p_exec, p_step, p_doc, p_type)
        when 'send_notification' then app._wf_step_notify(p_exec, p_step, p_doc, p_vars, p_type)
        when 'send_email' then app._wf_step_email(p_exec, p_step, p_step_id, p_doc, p_vars, p_type)
        when 'webhook' then app._wf_step_webhook(p_exec, p_step, p_step_id, p_doc, p_vars)
        when 'wait' then app._wf_step_wait(p_exec, p_step, p_doc, p_type)
        when 'condition' then jsonb_build_object('result', jsonb_build_object(
            'holds', app._wf_holds(p_step -> 'if', p_doc, null, p_vars -> 'org')
        ))
        when 'approval' then app._wf_request_approval(p_exec, p_step, p_step_id, p_doc, p_vars, p_type)
        when 'escalate' then app._wf_step_escalate(p_exec, p_step, p_doc, p_vars, p_type)
        when 'set_state' then jsonb_build_object('result', app._wf_set_state(p_exec, p_step))
    end;
end
$function$;

-- Record a step failure: retry with backoff while retries are left, else
-- fail the execution and notify its owner. p_permanent skips the retries.
create or replace function app._wf_fail_step(
    p_org_id uuid,
    p_execution_id uuid,
    p_step_id uuid,
    p_error text,
    p_detail text default null,
    p_permanent boolean default false,
    p_retry_after interval default null
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_exec app.workflow_executions%rowtype;
    v_step app.workflow_steps%rowtype;
    v_at timestamptz;
    v_notify uuid;
    v_wf app.workflows%rowtype;
    v_doc jsonb;
begin
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = p_org_id and e.id = p_execution_id;
    update app.workflow_steps as s
    set status = 'failed', error_message = left(p_error, 2000), completed_at = app.now()
    where s.org_id = p_org_id and s.id = p_step_id
    returning * into v_step;

    if not p_permanent and v_exec.retry_count < v_exec.max_retries then
        v_at := app.now() + greatest(app._wf_backoff(v_exec.retry_count + 1), coalesce(p_retry_after, '0'));
        update app.workflow_executions as e
        set
            status = 'waiting', waiting_for = 'retry', wake_at = v_at, next_retry_at = v_at,
            retry_count = e.retry_count + 1, error_message = left(p_error, 2000),
            error_stack = p_detail, updated_at = app.now()
        where e.org_id = p_org_id and e.id = p_execution_id;
        perform app._wf_log(
            p_org_id, p_execution_id, 'warning',
            format('step %s failed; retry %s of %s at %s', v_step.step_name, v_exec.retry_count + 1,
                v_exec.max_retries, v_at),
            jsonb_build_object('error', p_error), p_step_id
        );
        perform app._wf_schedule_run(p_org_id, p_execution_id, v_at);
        return 'retrying';
    end if;

    update app.workflow_executions as e
    set
        status = 'failed', waiting_for = null, wake_at = null, next_retry_at = null,
        completed_at = app.now(), error_message = left(p_error, 2000), error_stack = p_detail,
        updated_at = app.now()
    where e.org_id = p_org_id and e.id = p_execution_id;
    delete from app.workflow_entity_locks as l
    where l.org_id = p_org_id and l.execution_id = p_execution_id;
    perform app._wf_log(
        p_org_id, p_execution_id, 'error',
        format('execution failed at step %s: %s', v_step.step_name, p_error),
        jsonb_build_object('error', p_error, 'permanent', p_permanent, 'retries', v_exec.retry_count),
        p_step_id
    );
    -- The workflow's owner hears of it (else the entity's owner).
    select w.* into v_wf from app.workflows as w
    where w.org_id = p_org_id and w.id = v_exec.workflow_id;
    v_doc := app._wf_entity_doc(p_org_id, v_exec.entity_type, v_exec.entity_id);
    v_notify := coalesce(
        v_wf.created_by,
        (
            select (v_doc ->> e.owner_field)::uuid from app.entity_types as e
            where e.entity_type = v_exec.entity_type
        )
    );
    if v_notify is not null and exists (
        select 1 from app.user_profiles as u where u.org_id = p_org_id and u.id = v_notify and u.is_active
    ) then
        perform app._wf_notify(
            p_org_id => p_org_id,
            p_user_ids => array[v_notify],
            p_template => 'workflow_failed',
            p_variables => jsonb_build_object(
                'workflow', jsonb_build_object('name', v_wf.name),
                'step', jsonb_build_object('name', coalesce(v_step.step_name, '?')),
                'error', left(p_error, 500)
            ),
            p_entity_type => v_exec.entity_type,
            p_entity_id => v_exec.entity_id,
            p_execution_id => p_execution_id
        );
    end if;
    return 'failed';
end
$function$;

-- A log line kept for the end of a run (app._wf_advance's buffer): its time
-- and its order (seq) are taken now, so the timeline reads as if it had been
-- written at once; the run inserts its lines in one statement.
create or replace function app._wf_log_line(
    p_org_id uuid,
    p_execution_id uuid,
    p_level text,
    p_message text,
    p_data jsonb,
    p_step_id uuid default null
)
returns app.workflow_execution_logs
language sql
volatile
set search_path = pg_catalog, pg_temp
as $function$
    select row(
        p_org_id, gen_random_uuid(), p_execution_id, p_step_id, null::uuid, p_level, p_message,
        p_data, app.now(), nextval('app.workflow_execution_logs_seq')
    )::app.workflow_execution_logs
$function$;

-- Advance one execution, locked and due, until it completes, fails or parks.
-- The caller has set the actor and intime.wf_execution. The log lines of the
-- run come back in logs (the caller inserts them); failures and warnings
-- written by the helpers go straight to the table.
-- p_careful: each step in its own subtransaction, a failing step recorded and
-- retried (api.run_execution's way). Otherwise the quick way: no subtransaction
-- per step, a fresh database-only step written once as completed, the
-- execution row written once at the end; any error escapes, and the caller
-- (app._wf_run_due) rolls the attempt back and runs the execution carefully.
create or replace function app._wf_advance(
    p_exec app.workflow_executions,
    p_careful boolean,
    out outcome text,
    out logs app.workflow_execution_logs[]
)
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := p_exec.org_id;
    v_exec app.workflow_executions%rowtype;
    v_type app.entity_types%rowtype;
    v_wf_name text;
    v_steps jsonb;
    v_step jsonb;
    v_kind text;
    v_row app.workflow_steps%rowtype;
    v_doc jsonb;
    v_vars jsonb;
    v_out jsonb;
    v_result jsonb;
    v_next integer;
    v_message text;
    v_state text;
    v_detail text;
    v_ran integer := 0;
    v_park text;
    v_action_status text;
    -- The step's visit has no row yet: true after the first step of a run, and
    -- for the first too on an execution's first run.
    v_fresh boolean;
    v_started timestamptz;
    -- The quick way: steps done but not yet written on the execution row.
    v_dirty boolean := false;
    v_stamp timestamptz;
    v_xid xid8;
begin
    logs := '{}';
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    -- The run's stamp (app._wf_run_stamp: this transaction's id on one node), read
    -- here: on Citus an expression in the UPDATE would be evaluated on the node that
    -- holds the row (app._wf_run_context).
    v_xid := app._wf_run_stamp();
    update app.workflow_executions as e
    set
        status = 'running', waiting_for = null, wake_at = null, next_retry_at = null,
        started_at = coalesce(e.started_at, v_stamp), run_xid = v_xid,
        runs = e.runs + 1, updated_at = v_stamp, execution_context = e.execution_context - 'requeued'
    where e.org_id = v_org_id and e.id = p_exec.id
    returning * into v_exec;
    if v_exec.runs = 1 then
        logs := logs || app._wf_log_line(v_org_id, v_exec.id, 'info', 'execution started', null);
    end if;
    v_fresh := v_exec.runs = 1;

    select e.* into v_type from app.entity_types as e where e.entity_type = v_exec.entity_type;
    select w.name into v_wf_name from app.workflows as w
    where w.org_id = v_org_id and w.id = v_exec.workflow_id;
    v_steps := coalesce(
        v_exec.steps,
        (
            select v.definition -> 'steps' from app.workflow_versions as v
            where
                v.org_id = v_org_id and v.workflow_id = v_exec.workflow_id
                and v.version = v_exec.workflow_version
        ),
        '[]'
    );

    loop
        exit when v_exec.current_step_index >= jsonb_array_length(v_steps) or v_ran >= 1000;
        v_ran := v_ran + 1;
        v_step := v_steps -> v_exec.current_step_index;
        v_kind := v_step ->> 'type';

        if not p_careful and v_fresh and v_kind in (
            'create_task', 'create_activity', 'update_field', 'send_notification', 'assign',
            'condition', 'escalate'
        ) then
            -- The quick way for a step that ends in the database: its row is
            -- written once, done.
            v_doc := app._wf_entity_doc(v_org_id, v_exec.entity_type, v_exec.entity_id);
            if v_doc is null and v_exec.trigger_event ? 'row' then
                v_doc := v_exec.trigger_event -> 'row';
            end if;
            v_vars := app._wf_vars(v_exec, v_doc, v_wf_name);
            v_started := app.now();
            v_row.id := gen_random_uuid();
            v_out := app._wf_dispatch(v_exec, v_step, v_row.id, v_doc, v_vars, v_type);
            v_result := coalesce(v_out -> 'result', '{}');
            insert into app.workflow_steps (
                org_id, id, execution_id, transition_id, step_type, step_kind, step_name,
                step_config, position, status, attempts, started_at, completed_at, result
            )
            values (
                v_org_id, v_row.id, v_exec.id, v_exec.transition_id,
                case when v_kind = 'condition' then 'condition' else 'action' end,
                v_kind, v_step ->> 'name', v_step, v_exec.current_step_index, 'completed', 1,
                v_started, app.now(), v_result
            );
        else
            v_row := app._wf_step_row(v_exec, v_exec.current_step_index, v_step);
            if v_row.status = 'waiting' then
                -- Parked before (the first step of a run): finished now, or park
                -- again (a paused execution resumed early, a timer job that ran
                -- ahead of the clock).
                v_park := null;
                v_result := coalesce(v_row.result, '{}');
                if v_kind = 'wait' and v_row.wait_until > app.now() then
                    v_park := 'timer';
                elsif v_kind in ('send_email', 'webhook') then
                    select a.status into v_action_status from app.workflow_actions as a
                    where a.org_id = v_org_id and a.id = (v_result ->> 'action_id')::uuid;
                    if v_action_status = 'failed' then
                        outcome := app._wf_fail_step(
                            v_org_id, v_exec.id, v_row.id,
                            'action failed while the execution was paused'
                        );
                        exit;
                    elsif v_action_status is distinct from 'completed' then
                        v_park := 'action';
                    end if;
                elsif v_kind = 'approval' and not v_result ? 'decision' then
                    v_park := 'approval';
                end if;
                if v_park is not null then
                    update app.workflow_executions as e
                    set
                        status = 'waiting', waiting_for = v_park,
                        wake_at = case when v_park = 'timer' then v_row.wait_until end,
                        updated_at = app.now()
                    where e.org_id = v_org_id and e.id = v_exec.id;
                    if v_park = 'timer' then
                        perform app._wf_schedule_run(v_org_id, v_exec.id, v_row.wait_until);
                    end if;
                    outcome := 'waiting';
                    exit;
                end if;
            else
                v_doc := app._wf_entity_doc(v_org_id, v_exec.entity_type, v_exec.entity_id);
                if v_doc is null and v_exec.trigger_event ? 'row' then
                    v_doc := v_exec.trigger_event -> 'row';
                end if;
                v_vars := app._wf_vars(v_exec, v_doc, v_wf_name);
                v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
                update app.workflow_steps as s
                set
                    status = 'running', attempts = s.attempts + 1,
                    started_at = coalesce(s.started_at, v_stamp), error_message = null
                where s.org_id = v_org_id and s.id = v_row.id;
                if p_careful then
                    begin
                        v_out := app._wf_dispatch(v_exec, v_step, v_row.id, v_doc, v_vars, v_type);
                    exception when others then
                        get stacked diagnostics
                            v_message = message_text, v_state = returned_sqlstate,
                            v_detail = pg_exception_context;
                        outcome := app._wf_fail_step(
                            v_org_id, v_exec.id, v_row.id, format('%s (%s)', v_message, v_state),
                            v_detail,
                            -- A vanished entity will not come back.
                            v_state = 'IT004' and v_message like '% no longer exists'
                        );
                        exit;
                    end;
                else
                    v_out := app._wf_dispatch(v_exec, v_step, v_row.id, v_doc, v_vars, v_type);
                end if;
                if v_out ? 'park' then
                    update app.workflow_steps as s
                    set
                        status = 'waiting', result = v_out -> 'result',
                        wait_until = (v_out ->> 'wake_at')::timestamptz
                    where s.org_id = v_org_id and s.id = v_row.id;
                    update app.workflow_executions as e
                    set
                        status = 'waiting', waiting_for = v_out ->> 'park',
                        wake_at = (v_out ->> 'wake_at')::timestamptz, updated_at = app.now(),
                        current_step_index = v_exec.current_step_index,
                        retry_count = v_exec.retry_count, error_message = v_exec.error_message,
                        execution_context = v_exec.execution_context
                    where e.org_id = v_org_id and e.id = v_exec.id;
                    logs := logs || app._wf_log_line(
                        v_org_id, v_exec.id, 'info',
                        format('step %s waiting for %s', v_step ->> 'name', v_out ->> 'park'),
                        v_out -> 'result', v_row.id
                    );
                    if v_out ->> 'park' = 'timer' then
                        perform app._wf_schedule_run(
                            v_org_id, v_exec.id, (v_out ->> 'wake_at')::timestamptz
                        );
                    end if;
                    outcome := 'waiting';
                    exit;
                end if;
                v_result := coalesce(v_out -> 'result', '{}');
            end if;
            -- The step is done.
            update app.workflow_steps as s
            set status = 'completed', completed_at = app.now(), result = v_result
            where s.org_id = v_org_id and s.id = v_row.id;
        end if;
        v_fresh := true;

        -- Most steps just go on to the next one: no call for them.
        v_next := case
            when v_kind in ('condition', 'approval') or v_step ? 'next' then
                app._wf_next_index(v_steps, v_exec.current_step_index, v_step, v_result)
            else v_exec.current_step_index + 1
        end;
        if v_next is null or (
            v_kind = 'approval' and v_result ->> 'decision' = 'rejected'
            and v_step ->> 'on_reject' is null
        ) then
            if v_dirty then
                update app.workflow_executions as e
                set
                    current_step_index = v_exec.current_step_index, retry_count = 0,
                    error_message = null, execution_context = v_exec.execution_context
                where e.org_id = v_org_id and e.id = v_exec.id;
            end if;
            -- A definition that passed validation but cannot go on (an
            -- ambiguous or unknown jump), or a rejection with nowhere to go:
            -- fail for good, loudly.
            outcome := app._wf_fail_step(
                v_org_id, v_exec.id, v_row.id,
                case
                    when v_next is null then format(
                        'step %s jumps to no step, or to more than one (IT012)', v_step ->> 'name'
                    )
                    else 'approval rejected'
                end,
                case when v_next is not null then v_result ->> 'notes' end,
                true
            );
            exit;
        end if;
        v_exec.current_step_index := v_next;
        v_exec.retry_count := 0;
        v_exec.error_message := null;
        v_exec.execution_context := jsonb_set(
            v_exec.execution_context, '{steps}',
            coalesce(v_exec.execution_context -> 'steps', '{}')
            || jsonb_build_object(v_step ->> 'name', v_result)
        );
        if p_careful then
            update app.workflow_executions as e
            set
                current_step_index = v_next, retry_count = 0, error_message = null,
                execution_context = v_exec.execution_context
            where e.org_id = v_org_id and e.id = v_exec.id;
        else
            v_dirty := true;
        end if;
        logs := logs || app._wf_log_line(
            v_org_id, v_exec.id, 'info', format('step %s completed', v_step ->> 'name'), v_result,
            v_row.id
        );
    end loop;

    if outcome is null then
        if v_ran >= 1000 then
            if v_dirty then
                update app.workflow_executions as e
                set
                    current_step_index = v_exec.current_step_index, retry_count = 0,
                    error_message = null, execution_context = v_exec.execution_context
                where e.org_id = v_org_id and e.id = v_exec.id;
            end if;
            outcome := app._wf_fail_step(
                v_org_id, v_exec.id, v_row.id, 'more than 1000 steps in one run (a loop?)', null, true
            );
        else
            update app.workflow_executions as e
            set
                status = 'completed', completed_at = app.now(), waiting_for = null, wake_at = null,
                updated_at = app.now(), current_step_index = v_exec.current_step_index,
                retry_count = v_exec.retry_count, error_message = v_exec.error_message,
                execution_context = v_exec.execution_context
            where e.org_id = v_org_id and e.id = v_exec.id;
            delete from app.workflow_entity_locks as l
            where l.org_id = v_org_id and l.execution_id = v_exec.id;
            logs := logs || app._wf_log_line(
                v_org_id, v_exec.id, 'info', 'execution completed', null
            );
            outcome := 'completed';
        end if;
    end if;
end
$function$;

-- A transient error: a deadlock, a serialization failure (class 40) or a
-- lock timeout (55P03); the worker's is_transient_db_error says the same.
create or replace function app._wf_is_transient(p_state text)
returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select p_state like '40%' or p_state = '55P03'
$function$;

-- Run one locked, due execution: the quick way in a subtransaction, and when
-- that raises, carefully (every step in its own subtransaction, so a failing
-- step is recorded and retried). A transient error (a deadlock, a
-- serialization failure, a lock timeout) leaves the execution as it was:
-- deferred in a batch (with a workflow.run job of its own in a second, since
-- the batch's job, its wake_job_id, is ending), raised for a single run (its
-- job retries). p_batch: a
-- careful run that still raises ends the execution failed with the reason,
-- not the batch; alone, the error goes to the caller as before.
create or replace function app._wf_run_due(
    p_exec app.workflow_executions,
    p_batch boolean,
    out outcome text,
    out logs app.workflow_execution_logs[]
)
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_run record;
    v_state text;
    v_message text;
    v_detail text;
begin
    begin
        select a.outcome, a.logs into v_run from app._wf_advance(p_exec, false) as a;
        outcome := v_run.outcome;
        logs := v_run.logs;
        return;
    exception when others then
        get stacked diagnostics v_state = returned_sqlstate;
        if not p_batch and app._wf_is_transient(v_state) then
            raise;
        end if;
    end;
    if not p_batch then
        select a.outcome, a.logs into v_run from app._wf_advance(p_exec, true) as a;
        outcome := v_run.outcome;
        logs := v_run.logs;
        return;
    end if;
    if not app._wf_is_transient(v_state) then
        begin
            select a.outcome, a.logs into v_run from app._wf_advance(p_exec, true) as a;
            outcome := v_run.outcome;
            logs := v_run.logs;
            return;
        exception when others then
            get stacked diagnostics
                v_state = returned_sqlstate, v_message = message_text,
                v_detail = pg_exception_context;
        end;
    end if;
    if app._wf_is_transient(v_state) then
        -- Its own job tries again in a second, as a single run's job does:
        -- the batch's job (its wake_job_id) is ending.
        perform app._wf_schedule_run(p_exec.org_id, p_exec.id, app.now() + interval '1 second');
        -- A due timer or retry is due again with that job (the batches' due pick
        -- reads wake_at, on the application clock): not picked again meanwhile.
        if p_exec.status = 'waiting' then
            update app.workflow_executions as e
            set wake_at = app.now() + interval '1 second'
            where e.org_id = p_exec.org_id and e.id = p_exec.id;
        end if;
        outcome := 'deferred';
        return;
    end if;
    -- No retry cures it (docs/operations.md, rule 2): the execution ends now,
    -- with the reason, as api.fail_execution does for a single run.
    begin
        perform app._wf_fail_step(
            p_exec.org_id, p_exec.id,
            (
                select s.id from app.workflow_steps as s
                where
                    s.org_id = p_exec.org_id and s.execution_id = p_exec.id
                    and s.status in ('pending', 'running', 'waiting', 'failed')
                order by s.created_at desc
                limit 1
            ),
            format('the run failed: %s (%s)', v_message, v_state), v_detail, true
        );
        outcome := 'failed';
    exception when others then
        get stacked diagnostics v_message = message_text;
        raise warning 'execution % (org %) could not be failed: %',
            p_exec.id, p_exec.org_id, v_message;
        outcome := 'deferred';
    end;
    logs := '{}';
end
$function$;

create or replace function api.run_execution(p_execution_id uuid, p_org_id uuid default null)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid;
    v_exec app.workflow_executions%rowtype;
    v_run record;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update skip locked;
    if not found then
        if exists (
            select 1 from app.workflow_executions as e where e.org_id = v_org_id and e.id = p_execution_id
        ) then
            return 'busy';
        end if;
        raise exception using
            errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    if v_exec.status in ('completed', 'failed', 'cancelled', 'paused') then
        return v_exec.status;
    end if;
    if v_exec.status = 'waiting' and (
        v_exec.waiting_for in ('action', 'approval') or v_exec.wake_at > app.now()
    ) then
        return 'waiting';
    end if;

    -- The engine acts as the org's system user from here on; the matcher
    -- trusts intime.wf_execution because run_xid names this transaction.
    perform api.set_actor(p_org_id => v_org_id);
    perform app._wf_set_run(v_org_id, p_execution_id);
    select r.outcome, r.logs into v_run from app._wf_run_due(v_exec, false) as r;
    insert into app.workflow_execution_logs select l.* from unnest(v_run.logs) as l;
    perform app._wf_set_run(null, null);
    return v_run.outcome;
end
$function$;

comment on function api.run_execution(uuid, uuid) is
'Service role only (the worker''s workflow.run job). Advances an execution in one transaction: '
'runs its database steps in order (each in a subtransaction), and parks on a wait (a timer job), '
'an email or webhook (resumed by the worker''s report), or an approval. A failing step is retried '
'with exponential backoff (10 s doubling, at most an hour) up to max_retries, then the execution '
'fails and its owner is notified. Returns completed, waiting, retrying, failed, busy (another '
'runner holds it) or the status it already had. p_org_id defaults to the actor''s org.';

-- Whether an execution was deferred to a workflow.run job of its own that is
-- due later (app._wf_run_due): the batches leave it to that job. Inlined into
-- the batch's picks (no SET clause: docs/conventions.md, "Inlined SQL helpers").
create or replace function app._wf_left_to_its_job(p_wake_job_id bigint)
returns boolean
language sql
stable
as $function$
    select exists (
        select 1 from queue.pgqueuer as j
        where
            j.id = p_wake_job_id and j.entrypoint = 'workflow.run'
            and j.execute_after > pg_catalog.now()
    )
$function$;

-- The due executions of api.run_executions on Citus, where a locking read keeps
-- to one org: the due ones (pending or running, and timers and retries whose
-- time came; oldest first by that time) read unlocked, those deferred to a job
-- of their own left out (app._wf_left_to_its_job, this node's queue), then
-- locked one org at a time, SKIP LOCKED, and checked again; at most p_limit.
-- Four times as many are read as wanted, so that runners at once still fill a
-- batch past the rows the others hold.
create or replace function app._wf_lock_due(p_limit integer, p_now timestamptz)
returns app.workflow_executions[]
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_orgs uuid [];
    v_ids uuid [];
    v_jobs bigint [];
    v_pending boolean [];
    v_org uuid;
    v_org_ids uuid [];
    v_got app.workflow_executions [];
    v_execs app.workflow_executions [] := '{}';
begin
    select
        array_agg(c.org_id order by c.due, c.id), array_agg(c.id order by c.due, c.id),
        array_agg(c.wake_job_id order by c.due, c.id), array_agg(c.pending order by c.due, c.id)
    into v_orgs, v_ids, v_jobs, v_pending
    from (
        (
            select e.org_id, e.id, e.updated_at as due, e.wake_job_id, true as pending
            from app.workflow_executions as e
            where e.status in ('pending', 'running')
            order by e.updated_at
            limit p_limit * 4
        )
        union all
        (
            select e.org_id, e.id, e.wake_at as due, e.wake_job_id, false as pending
            from app.workflow_executions as e
            where
                e.status = 'waiting' and e.wake_at is not null and e.wake_at <= p_now
                and e.waiting_for in ('timer', 'retry')
            order by e.wake_at
            limit p_limit * 4
        )
    ) as c;
    -- Deferred to a job of its own a second later: that job's (read here, on this
    -- node, not inside a statement sent to a shard).
    select array_agg(u.org_id order by u.n), array_agg(u.id order by u.n)
    into v_orgs, v_ids
    from unnest(v_orgs, v_ids, v_jobs, v_pending) with ordinality as u (org_id, id, job, pending, n)
    where not u.pending or not app._wf_left_to_its_job(u.job);
    -- The orgs in the order of their oldest due execution.
    foreach v_org in array coalesce(array(
        select u.o from unnest(v_orgs) with ordinality as u (o, n) group by u.o order by min(u.n)
    ), '{}') loop
        exit when cardinality(v_execs) >= p_limit;
        v_org_ids := array(
            select i.id from unnest(v_orgs, v_ids) as i (org_id, id) where i.org_id = v_org
        );
        select coalesce(array_agg(d::app.workflow_executions), '{}') into v_got
        from (
            select e.* from app.workflow_executions as e
            where
                e.org_id = v_org
                and e.id = any(v_org_ids)
                and (
                    e.status in ('pending', 'running')
                    or (
                        e.status = 'waiting' and e.wake_at is not null and e.wake_at <= p_now
                        and e.waiting_for in ('timer', 'retry')
                    )
                )
            order by coalesce(e.wake_at, e.updated_at), e.id
            limit p_limit - cardinality(v_execs)
            for no key update of e skip locked
        ) as d;
        v_execs := v_execs || v_got;
    end loop;
    return v_execs;
end
$function$;

-- Set this transaction's lock_timeout (api.run_executions' waits on a row lock) on
-- every node it reaches: a SET LOCAL, which Citus sends to the workers' connections
-- of the transaction (citus.propagate_set_commands = 'local', set by bootstrap), where
-- the rows of a batch are locked; set_config() would hold on this node only. The same
-- as set_config(..., true) on a single node (undone with a subtransaction too).
create or replace function app._wf_lock_timeout(p_value text)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    execute format('set local lock_timeout = %L', p_value);
end
$function$;

-- The due executions of every org, up to p_limit of them, each run as
-- api.run_execution would (its org's actor; one subtransaction each), and one
-- commit for all. Due: pending, running (resumed after an action or a
-- decision), or waiting on a timer or a retry whose time has come. Rows that
-- another runner holds are skipped (SKIP LOCKED), so runners share the work.
create or replace function api.run_executions(p_limit integer default 50)
returns table (
    picked integer, completed integer, waiting integer, retrying integer, failed integer,
    deferred integer
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_limit integer := least(greatest(coalesce(p_limit, 50), 1), 500);
    -- At most 20 run one by one: each takes one or two subtransaction ids, and
    -- a backend caches 64 (past that, every snapshot on the server reads
    -- pg_subtrans while the batch is open).
    v_one integer := least(v_limit, 20);
    v_more app.workflow_executions [];
    v_now timestamptz := app.now();
    v_execs app.workflow_executions [];
    v_exec app.workflow_executions%rowtype;
    v_org_id uuid;
    v_run record;
    v_set record;
    v_logs app.workflow_execution_logs [] := '{}';
    v_outcomes text [] := '{}';
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
    v_citus boolean := app._on_citus();
begin
    perform app._require_service();
    if v_citus then
        -- A locking read keeps to one org on Citus: the due executions are read
        -- unlocked, then locked one org at a time (app._wf_lock_due).
        v_execs := app._wf_lock_due(v_one, v_now);
    else
        select coalesce(array_agg(d::app.workflow_executions), '{}') into v_execs
        from (
            select e.* from app.workflow_executions as e
            where
                e.status in ('pending', 'running')
                -- Deferred (below) to a job of its own a second later: that job's.
                and not app._wf_left_to_its_job(e.wake_job_id)
            order by e.updated_at
            limit v_one
            for no key update of e skip locked
        ) as d;
    end if;
    if cardinality(v_execs) < v_one and not v_citus then
        select v_execs || coalesce(array_agg(d::app.workflow_executions), '{}') into v_execs
        from (
            select e.* from app.workflow_executions as e
            where
                e.status = 'waiting' and e.wake_at is not null and e.wake_at <= v_now
                and e.waiting_for in ('timer', 'retry')
            order by e.wake_at
            limit v_one - cardinality(v_execs)
            for no key update of e skip locked
        ) as d;
    end if;
    -- An execution that waits on a row lock (a user's open transaction on its
    -- entity) would hold back the commit of every other in the batch, of any
    -- org: it waits 1 second at most (or the session's shorter lock_timeout),
    -- then is deferred to a workflow.run job of its own (which waits as a
    -- single run does). Once one was deferred, the rest wait 100 ms at most:
    -- a user holding many rows costs the batch about 1 s, not 1 s each.
    if v_lock_timeout = '0' or v_lock_timeout::interval > interval '1 second' then
        perform app._wf_lock_timeout('1s');
    end if;
    -- Groups of fresh executions of one straight database-only workflow run
    -- as sets, one statement per step (app._wf_run_set); the rest one by one.
    -- When some did, more fresh executions of those workflows join them
    -- (from the oldest of the group on, by the workflow's index), up to
    -- p_limit in all; any of these a group could not run stays due for the
    -- next batch (it is not counted as picked). A group waits 100 ms at most
    -- for a row lock, then runs one by one (where the 1 s rule holds).
    if v_lock_timeout = '0' or v_lock_timeout::interval > interval '100 milliseconds' then
        perform app._wf_lock_timeout('100ms');
    end if;
    select r.done, r.logs into v_set from app._wf_run_set(v_execs) as r;
    -- (On Citus the group's later executions wait for the next batch: the join
    -- below locks across orgs.)
    if cardinality(v_set.done) > 0 and cardinality(v_execs) < v_limit and not v_citus then
        select coalesce(array_agg(d::app.workflow_executions), '{}') into v_more
        from (
            select m.*
            from (
                select x.org_id, x.workflow_id, min(x.created_at) as since
                from unnest(v_execs) as x
                where x.id = any(v_set.done)
                group by x.org_id, x.workflow_id
            ) as w
            cross join lateral (
                select e.* from app.workflow_executions as e
                where
                    e.org_id = w.org_id and e.workflow_id = w.workflow_id
                    and e.created_at >= w.since
                    and e.status = 'pending' and e.runs = 0 and e.current_step_index = 0
                    and e.id <> all(array(select x.id from unnest(v_execs) as x))
                    and not app._wf_left_to_its_job(e.wake_job_id)
                order by e.created_at, e.id
                limit v_limit - cardinality(v_execs)
                for no key update of e skip locked
            ) as m
            limit v_limit - cardinality(v_execs)
        ) as d;
        select v_set.done || r.done, v_set.logs || r.logs into v_set.done, v_set.logs
        from app._wf_run_set(v_more) as r;
    end if;
    if v_lock_timeout = '0' or v_lock_timeout::interval > interval '1 second' then
        perform app._wf_lock_timeout('1s');
    else
        perform app._wf_lock_timeout(v_lock_timeout);
    end if;
    v_logs := v_set.logs;
    v_outcomes := array_fill('completed'::text, array[cardinality(v_set.done)]);
    select coalesce(array_agg(v_execs[g.i] order by g.i), '{}') into v_execs
    from generate_subscripts(v_execs, 1) as g (i)
    where (v_execs[g.i]).id <> all(v_set.done);
    foreach v_exec in array v_execs loop
        -- Each execution acts as its own org (the actor, RLS, the matcher's context).
        if v_exec.org_id is distinct from v_org_id then
            perform api.set_actor(p_org_id => v_exec.org_id);
            v_org_id := v_exec.org_id;
        end if;
        perform app._wf_set_run(v_exec.org_id, v_exec.id);
        select r.outcome, r.logs into v_run from app._wf_run_due(v_exec, true) as r;
        v_outcomes := v_outcomes || v_run.outcome;
        v_logs := v_logs || v_run.logs;
        if v_run.outcome = 'deferred' and (
            v_lock_timeout = '0' or v_lock_timeout::interval > interval '100 milliseconds'
        ) then
            perform app._wf_lock_timeout('100ms');
        end if;
    end loop;
    perform app._wf_set_run(null, null);
    perform app._wf_lock_timeout(v_lock_timeout);
    insert into app.workflow_execution_logs select l.* from unnest(v_logs) as l;
    return query
    select
        cardinality(v_outcomes),
        cardinality(array_positions(v_outcomes, 'completed')),
        cardinality(array_positions(v_outcomes, 'waiting')),
        cardinality(array_positions(v_outcomes, 'retrying')),
        cardinality(array_positions(v_outcomes, 'failed')),
        cardinality(array_positions(v_outcomes, 'deferred'));
end
$function$;

comment on function api.run_executions(integer) is
'Service role only (the worker''s workflow.run_due job). Runs up to p_limit (1 to 500, default '
'50) due executions of every org in one transaction: pending ones, running ones (resumed after '
'an action or a decision) and waiting ones whose timer or retry is due, skipping rows another '
'runner holds (SKIP LOCKED). Fresh executions of one workflow whose steps are a straight run of '
'create_task, create_activity, update_field and send_notification run as a group, one statement '
'per step (off with '
'the setting intime.workflow_sets = off; a group that cannot, for example because its change '
'would start another workflow, runs one by one). Each runs as api.run_execution would, as its '
'own org, in its own '
'subtransaction: a failing step is retried or fails the execution, an error no retry cures fails '
'that execution with the reason, and a transient one (a deadlock, a row lock held past the '
'batch''s lock_timeout: 1 s, 100 ms once one was deferred) defers it to a workflow.run job of '
'its own a second later; no execution undoes another. Returns how many were picked, and how '
'many of them completed, parked (waiting), will retry, failed, or were deferred.';

-- An action ended (the worker's report, or the email trigger): record it
-- on the action and its step, and let the execution go on (or retry/fail).
create or replace function app._wf_action_finished(
    p_org_id uuid,
    p_action_id uuid,
    p_ok boolean,
    p_result jsonb,
    p_error text default null,
    p_permanent boolean default false,
    p_retry_after interval default null
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_action app.workflow_actions%rowtype;
    v_exec app.workflow_executions%rowtype;
begin
    -- Lock order everywhere: execution, then its action.
    select e.* into v_exec from app.workflow_executions as e
    where
        e.org_id = p_org_id
        and e.id = (
            select a.execution_id from app.workflow_actions as a
            where a.org_id = p_org_id and a.id = p_action_id
        )
    for no key update;
    select a.* into v_action from app.workflow_actions as a
    where a.org_id = p_org_id and a.id = p_action_id
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('action %s not found', p_action_id);
    end if;
    if v_action.status in ('completed', 'failed', 'skipped') then
        return 'duplicate';
    end if;
    update app.workflow_actions as a
    set
        status = case when p_ok then 'completed' else 'failed' end,
        completed_at = app.now(),
        result = p_result,
        error_message = left(p_error, 2000),
        error_code = case when not p_ok then case when p_permanent then 'permanent' else 'transient' end end
    where a.org_id = p_org_id and a.id = p_action_id;
    perform app._wf_log(
        p_org_id, v_action.execution_id, case when p_ok then 'info' else 'warning' end,
        format('%s action %s', v_action.action_type, case when p_ok then 'succeeded' else 'failed' end),
        coalesce(p_result, '{}') || jsonb_build_object('error', p_error), v_action.step_id, p_action_id
    );
    if p_ok then
        update app.workflow_steps as s
        set result = coalesce(s.result, '{}') || coalesce(p_result, '{}')
        where s.org_id = p_org_id and s.id = v_action.step_id;
    end if;
    if v_exec.status <> 'waiting' or v_exec.waiting_for <> 'action' then
        -- Cancelled or paused meanwhile: the outcome is recorded, nothing resumes.
        return 'recorded';
    end if;
    if not p_ok then
        return app._wf_fail_step(
            p_org_id, v_exec.id, v_action.step_id, coalesce(p_error, 'action failed'), null,
            p_permanent, p_retry_after
        );
    end if;
    update app.workflow_executions as e
    set status = 'running', waiting_for = null, updated_at = app.now()
    where e.org_id = p_org_id and e.id = v_exec.id;
    -- The step row stays 'waiting' with its result; run_execution completes it.
    update app.workflow_steps as s set status = 'waiting'
    where s.org_id = p_org_id and s.id = v_action.step_id;
    perform app._wf_schedule_run(p_org_id, v_exec.id);
    return 'resumed';
end
$function$;

create or replace function api.complete_action(
    p_action_id uuid, p_result jsonb default '{}', p_org_id uuid default null
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    return app._wf_action_finished(
        coalesce(p_org_id, app._require_org()), p_action_id, true, coalesce(p_result, '{}')
    );
end
$function$;

comment on function api.complete_action(uuid, jsonb, uuid) is
'Service role only. The worker reports an action (webhook, email) done: the result is stored on '
'the action and its step, and the execution is queued to go on. Idempotent: a second report '
'returns duplicate. Returns resumed, recorded (the execution was cancelled or paused meanwhile) '
'or duplicate.';

create or replace function api.fail_action(
    p_action_id uuid,
    p_error text,
    p_permanent boolean default false,
    p_retry_after_seconds double precision default null,
    p_result jsonb default '{}',
    p_org_id uuid default null
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    return app._wf_action_finished(
        coalesce(p_org_id, app._require_org()), p_action_id, false, coalesce(p_result, '{}'),
        coalesce(p_error, 'action failed'), coalesce(p_permanent, false),
        make_interval(secs => coalesce(p_retry_after_seconds, 0))
    );
end
$function$;

comment on function api.fail_action(uuid, text, boolean, double precision, jsonb, uuid) is
'Service role only. The worker reports an action failed. Transient failures (p_permanent false) '
'retry the step with exponential backoff, no sooner than p_retry_after_seconds (a Retry-After), up '
'to the execution''s max_retries; a permanent one (a 4xx) fails the execution at once. Returns '
'retrying, failed, recorded or duplicate.';

-- What the webhook.deliver job sends: the request and the org's secrets.
-- The result gained retry_after_seconds (the send lease): drop the old shape.
do $drop$
begin
    if to_regprocedure('api.claim_webhook(uuid, uuid)') is not null and pg_catalog.pg_get_function_result(
        to_regprocedure('api.claim_webhook(uuid, uuid)')
    ) not like '%retry_after_seconds%' then
        drop function api.claim_webhook(uuid, uuid);
    end if;
end
$drop$;

create or replace function api.claim_webhook(p_action_id uuid, p_org_id uuid default null)
returns table (
    action text, url text, headers jsonb, body text, msg_id text, secrets text[], attempt integer,
    retry_after_seconds double precision
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_lease_until timestamptz;
    v_org_id uuid;
    v_action app.workflow_actions%rowtype;
    v_settings app.webhook_settings%rowtype;
    v_stamp timestamptz;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select a.* into v_action from app.workflow_actions as a
    where a.org_id = v_org_id and a.id = p_action_id and a.action_type = 'webhook'
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('webhook action %s not found', p_action_id);
    end if;
    if v_action.status not in ('pending', 'running') then
        return query select
            'done', null::text, null::jsonb, null::text, null::text, null::text [], 0,
            0::double precision;
        return;
    end if;
    -- Another worker claimed it and its lease (real clock) is live: it may hold
    -- the receiver's answer while cut off from the database. Not a second POST.
    if v_action.status = 'running' and v_action.sending_until > pg_catalog.clock_timestamp() then
        return query select
            'defer', null::text, null::jsonb, null::text, null::text, null::text [],
            v_action.retry_count + 1,
            extract(epoch from v_action.sending_until - pg_catalog.clock_timestamp())::double precision;
        return;
    end if;
    v_settings := app._wf_webhook_settings(v_org_id);
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    select pg_catalog.clock_timestamp() + make_interval(secs => t.webhook_send_lease_seconds)
    into v_lease_until
    from app.settings as t;
    update app.workflow_actions as a
    set
        status = 'running', started_at = coalesce(a.started_at, v_stamp),
        sending_until = v_lease_until
    where a.org_id = v_org_id and a.id = p_action_id;
    return query select
        'send',
        v_action.request ->> 'url',
        v_action.request -> 'headers',
        (v_action.request -> 'body')::text,
        'msg_' || replace(v_action.id::text, '-', ''),
        array_remove(array[
            v_settings.secret,
            case when v_settings.previous_valid_until > app.now() then v_settings.previous_secret end
        ], null),
        v_action.retry_count + 1,
        0::double precision;
end
$function$;

comment on function api.claim_webhook(uuid, uuid) is
'Service role only: the webhook.deliver job''s first step. Returns action send with the URL, extra '
'headers, the JSON body, the Standard Webhooks message id (the same on every retry; also the '
'Idempotency-Key) and the org''s signing secrets (the previous one too for a day after a '
'rotation), or done when the action already ended (a duplicate job). A claim takes the delivery '
'for app.settings.webhook_send_lease_seconds of real time (default 120): a second claim while '
'the lease is live (another worker holds the receiver''s answer but cannot reach the database) '
'returns defer with retry_after_seconds, the time left, and changes nothing; once the lease ran '
'out the message is sent again with the same webhook-id.';
