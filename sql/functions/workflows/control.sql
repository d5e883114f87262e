-- Controlling executions (cancel, pause, resume, retry), the timeline, and
-- the email hook that resumes a send_email step.

-- The execution, locked, if the caller may control it: an admin, the
-- workflow's owner, or whoever started it by hand (trigger manual or api) or
-- asked for the transition it gates (nothing has changed yet).
-- Whoever's change started it may not: an approval that guards their own
-- change is not theirs to withdraw.
create or replace function app._wf_controlled(p_execution_id uuid)
returns app.workflow_executions
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_exec app.workflow_executions%rowtype;
    -- Read apart: a helper that reads a table, inside a statement Citus sends to a
    -- shard, is refused there (docs/scale-out.md, "SQL shapes").
    v_admin boolean := app._is_org_admin();
    v_user_id uuid := app.current_user_id();
begin
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('execution %s not found', p_execution_id),
            hint = 'Ids are looked up in the caller''s organization only (api.get_actor).';
    end if;
    if not (
        v_admin
        or exists (
            select 1 from app.workflows as w
            where
                w.org_id = v_exec.org_id and w.id = v_exec.workflow_id
                and w.created_by = v_user_id
        )
        or (
            v_exec.trigger_type in ('manual', 'api', 'transition')
            and v_exec.triggered_by = v_user_id
        )
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'only an admin, the workflow''s owner, or whoever started it by hand '
            || 'may control an execution',
            hint = 'Ask an org admin, the user who created the workflow, or the user who '
            || 'started the execution.';
    end if;
    return v_exec;
end
$function$;

-- Withdraw the open approval an execution waits on (or waited on when it was
-- paused) as a rejection: the open requests are cancelled with p_note, the
-- step is decided rejected, and the execution goes on down the step's
-- on_reject branch (the undo), or fails, as if an approver had rejected it.
-- False when the execution has no open approval.
create or replace function app._wf_withdraw_approval(
    p_exec app.workflow_executions, p_note text
)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_step_id uuid;
begin
    select a.step_id into v_step_id from app.workflow_approvals as a
    where a.org_id = p_exec.org_id and a.execution_id = p_exec.id and a.status in ('pending', 'queued')
    order by a.created_at
    limit 1;
    if v_step_id is null then
        return false;
    end if;
    update app.workflow_approvals as a
    set status = 'cancelled', response_notes = p_note, updated_at = app.now()
    where a.org_id = p_exec.org_id and a.step_id = v_step_id and a.status in ('pending', 'queued');
    if p_exec.status = 'paused' then
        update app.workflow_executions as e
        set status = 'waiting', waiting_for = 'approval', paused_at = null, updated_at = app.now()
        where e.org_id = p_exec.org_id and e.id = p_exec.id;
    end if;
    perform app._wf_settle_approval(p_exec.org_id, v_step_id);
    return true;
end
$function$;

create or replace function api.cancel_execution(
    p_execution_id uuid, p_reason text default null, p_keep_changes boolean default false
)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status in ('completed', 'failed', 'cancelled') then
        raise exception using
            errcode = 'IT013', message = format('execution %s already ended (%s)', p_execution_id, v_exec.status);
    end if;
    if coalesce(p_keep_changes, false) and not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an admin may cancel an execution keeping its changes',
            hint = 'Cancel without p_keep_changes (its changes are rolled back), or ask an admin.';
    end if;
    if not coalesce(p_keep_changes, false) and app._wf_withdraw_approval(
        v_exec, coalesce('cancelled: ' || p_reason, 'cancelled')
    ) then
        perform app._wf_log(
            v_exec.org_id, v_exec.id, 'info', 'approval cancelled: its reject path runs',
            jsonb_build_object('by', app.current_user_id(), 'reason', p_reason)
        );
        return;
    end if;
    update app.workflow_executions as e
    set
        status = 'cancelled', waiting_for = null, wake_at = null, completed_at = app.now(),
        updated_at = app.now(), error_message = coalesce('cancelled: ' || p_reason, 'cancelled')
    where e.org_id = v_exec.org_id and e.id = v_exec.id;
    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where a.org_id = v_exec.org_id and a.execution_id = v_exec.id and a.status in ('pending', 'queued');
    delete from app.workflow_entity_locks as l
    where l.org_id = v_exec.org_id and l.execution_id = v_exec.id;
    perform app._wf_log(
        v_exec.org_id, v_exec.id, 'info', 'execution cancelled',
        jsonb_build_object('by', app.current_user_id(), 'reason', p_reason, 'kept_changes', p_keep_changes)
    );
end
$function$;

comment on function api.cancel_execution(uuid, text, boolean) is
$$Cancel an execution that has not ended (an admin, the workflow's owner, or whoever started it
by hand; not whoever's change started it: IT003). An execution with an open approval is not
cancelled outright: the approval is withdrawn as a rejection and the execution goes on down the
step's on_reject branch (its undo), or fails. An admin may pass p_keep_changes => true to cancel
it outright instead (IT003 for anyone else): open approvals are cancelled, the entity unlocked,
nothing undone. An action in flight may still finish, but nothing resumes.$$;

create or replace function api.pause_execution(p_execution_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status not in ('pending', 'running', 'waiting') then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s; only active ones pause', p_execution_id, v_exec.status);
    end if;
    update app.workflow_executions as e
    set status = 'paused', waiting_for = null, paused_at = app.now(), updated_at = app.now()
    where e.org_id = v_exec.org_id and e.id = v_exec.id;
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution paused',
        jsonb_build_object('by', app.current_user_id(), 'was', v_exec.status));
end
$function$;

comment on function api.pause_execution(uuid) is
'Pause an active execution: it runs no step until resumed. A timer, action or approval it was '
'waiting for keeps going; on resume the execution waits for what is still open.';

create or replace function api.resume_execution(p_execution_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'paused' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s, not paused', p_execution_id, v_exec.status);
    end if;
    if v_exec.next_retry_at > app.now() then
        -- Paused during a retry's backoff: the backoff still applies.
        update app.workflow_executions as e
        set
            status = 'waiting', waiting_for = 'retry', wake_at = e.next_retry_at, paused_at = null,
            updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
        perform app._wf_schedule_run(v_exec.org_id, v_exec.id, v_exec.next_retry_at);
    else
        update app.workflow_executions as e
        set status = 'running', paused_at = null, updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
        perform app._wf_schedule_run(v_exec.org_id, v_exec.id);
    end if;
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution resumed',
        jsonb_build_object('by', app.current_user_id()));
end
$function$;

comment on function api.resume_execution(uuid) is
'Resume a paused execution (queued to run at once; it parks again on whatever it still waits for).';

create or replace function api.retry_execution(p_execution_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'failed' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s; only failed ones are retried', p_execution_id, v_exec.status);
    end if;
    begin
        update app.workflow_executions as e
        set
            status = 'running', retry_count = 0, completed_at = null, error_message = null,
            error_stack = null, updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
    exception when unique_violation then
        raise exception using
            errcode = 'IT013',
            message = 'another execution of this workflow is active for the entity; retry it later';
    end;
    perform app._wf_schedule_run(v_exec.org_id, v_exec.id);
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution retried from its failed step',
        jsonb_build_object('by', app.current_user_id(), 'step_index', v_exec.current_step_index));
end
$function$;

comment on function api.retry_execution(uuid) is
'Restart a failed execution from the step that failed (steps already done are not run again; a '
'webhook is re-delivered with the same message id). IT013 unless it failed, or when another '
'execution of the workflow is active for the entity.';

create or replace function api.get_execution_timeline(p_execution_id uuid)
returns table (
    occurred_at timestamptz, kind text, name text, status text, message text, detail jsonb
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if not exists (
        select 1 from app.workflow_executions as e where e.org_id = v_org_id and e.id = p_execution_id
    ) then
        raise exception using errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    return query
    select x.at, x.kind, x.name, x.status, x.message, x.detail
    from (
        select
            e.created_at as at, 'log' as kind, 'info' as name, null as status,
            'execution queued' as message,
            jsonb_build_object(
                'trigger_type', e.trigger_type, 'trigger', e.trigger_event,
                'version', e.workflow_version, 'depth', e.depth
            ) as detail,
            -1 as rank, 0::bigint as seq
        from app.workflow_executions as e
        where e.org_id = v_org_id and e.id = p_execution_id
        union all
        select
            s.created_at as at, 'step' as kind, s.step_name as name, s.status,
            format('%s #%s', s.step_kind, s.position) as message,
            jsonb_build_object(
                'attempts', s.attempts, 'completed_at', s.completed_at, 'result', s.result,
                'error', s.error_message
            ) as detail,
            0 as rank, 0::bigint as seq
        from app.workflow_steps as s
        where s.org_id = v_org_id and s.execution_id = p_execution_id
        union all
        select
            a.created_at, 'action', a.action_type, a.status, a.error_message,
            jsonb_build_object('retries', a.retry_count, 'result', a.result, 'completed_at', a.completed_at),
            1, 0
        from app.workflow_actions as a
        where a.org_id = v_org_id and a.execution_id = p_execution_id
        union all
        select
            a.created_at, 'approval', u.full_name, a.status, a.response_notes,
            jsonb_build_object(
                'approval_id', a.id, 'slot', a.slot, 'approver_type', a.approver_type,
                'due_at', a.due_at, 'responded_at', a.responded_at,
                'escalated_at', a.escalated_at, 'escalation_reason', a.escalation_reason,
                'delegated_to', a.delegated_to
            ),
            2, 0
        from app.workflow_approvals as a
        inner join app.user_profiles as u on u.org_id = a.org_id and u.id = a.approver_id
        where a.org_id = v_org_id and a.execution_id = p_execution_id
        union all
        select l.occurred_at, 'log', l.level, null, l.message, l.data, 3, l.seq
        from app.workflow_execution_logs as l
        where l.org_id = v_org_id and l.execution_id = p_execution_id
    ) as x
    order by x.at, x.rank, x.seq;
end
$function$;

comment on function api.get_execution_timeline(uuid) is
'An execution''s steps, actions, approvals and log lines in time order (kind step, action, '
'approval or log), for the caller''s org.';

-- email_sends status → the workflow action that made the send: sent,
-- delivered (and later statuses) complete it, failed fails it permanently,
-- suppressed at send time completes it as skipped.
create or replace function app._tg_email_send_workflow_action()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    if exists (
        select 1 from app.workflow_actions as a
        where
            a.org_id = new.org_id and a.id = new.workflow_action_id
            and a.action_type = 'send_email' and a.status in ('pending', 'running')
    ) then
        perform app._wf_action_finished(
            new.org_id, new.workflow_action_id, new.status <> 'failed',
            jsonb_build_object(
                'email_send_id', new.id, 'status', new.status,
                'provider_message_id', new.provider_message_id,
                'suppression_reason', new.suppression_reason
            ),
            case when new.status = 'failed' then coalesce(new.error, 'email failed') end,
            true
        );
    end if;
    return null;
end
$function$;
