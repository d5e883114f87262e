-- Approval chains. A step's approvers become slots (one required decision
-- each; a role is one slot anyone with the role may take). Sequential
-- chains open one slot at a time; parallel ones open all and need any, all
-- or a quorum. Delegation and escalation add rows to a slot; the first
-- decision in a slot settles it.

-- A user's name, for log lines people read.
create or replace function app._wf_user_name(p_org_id uuid, p_user_id uuid)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(
        (select u.full_name from app.user_profiles as u where u.org_id = p_org_id and u.id = p_user_id),
        p_user_id::text
    )
$function$;

-- Notify approvers of the given approval rows, each with a link of its own
-- (app._wf_mint_approval_link): /approvals/<token> decides that row, once.
create or replace function app._wf_notify_approvers(p_org_id uuid, p_approval_ids uuid[])
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row record;
    v_url text;
begin
    for v_row in
        select
            a.id, a.approver_id, e.id as execution_id, e.entity_type, e.entity_id,
            coalesce(s.result ->> 'title', w.name) as title,
            coalesce(req.full_name, 'Workflow ' || w.name) as requester
        from app.workflow_approvals as a
        inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
        inner join app.workflows as w on w.org_id = e.org_id and w.id = e.workflow_id
        left join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
        left join app.user_profiles as req on req.org_id = e.org_id and req.id = e.triggered_by
        where a.org_id = p_org_id and a.id = any(p_approval_ids)
    loop
        v_url := '/approvals/' || app._wf_mint_approval_link(p_org_id, v_row.id, v_row.approver_id);
        perform app._wf_notify(
            p_org_id => p_org_id,
            p_user_ids => array[v_row.approver_id],
            p_template => 'approval_required',
            p_variables => jsonb_build_object(
                'item', jsonb_build_object('title', v_row.title),
                'requester', jsonb_build_object('name', v_row.requester),
                'approval', jsonb_build_object('id', v_row.id),
                'action_url', v_url
            ),
            p_entity_type => v_row.entity_type,
            p_entity_id => v_row.entity_id,
            p_type => 'action_required',
            p_action_url => v_url,
            p_execution_id => v_row.execution_id
        );
    end loop;
end
$function$;

-- Who may not decide an approval of execution p_exec: the subjects of the
-- request. Whoever started it (by a change, by hand or through the API: nobody
-- approves what they asked for), and whoever changed one of the fields the
-- workflow depends on (app._wf_locked_fields) since the execution began (a
-- manager who starts a rule by hand and then raises the discount in the same
-- transaction, or changes it before the step runs, is not asked either).
create or replace function app._wf_approval_subjects(p_exec app.workflow_executions)
returns uuid[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(distinct x.id), '{}')
    from (
        select p_exec.triggered_by as id
        union all
        select h.changed_by
        from app.entity_history as h
        inner join app.entity_types as t on t.entity_type = p_exec.entity_type
        inner join app.workflow_versions as v
            on
                v.org_id = p_exec.org_id and v.workflow_id = p_exec.workflow_id
                and v.version = p_exec.workflow_version
        where
            h.org_id = p_exec.org_id and h.entity_type = p_exec.entity_type
            and h.entity_id = p_exec.entity_id and h.changed_at >= p_exec.created_at
            and h.field_name = any(app._wf_locked_fields(v.definition, t.status_field, t.owner_field))
    ) as x
    where x.id is not null
$function$;

-- The approval step: resolve approvers, write the slots, lock the entity,
-- notify, park.
create or replace function app._wf_request_approval(
    p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb,
    p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_specs jsonb[];
    v_slot_numbers integer[];
    v_targets uuid[];
    v_mode text := coalesce(p_step ->> 'mode', 'sequential');
    v_slots integer;
    v_needed integer;
    v_due timestamptz := app.now() + app._wf_interval(p_step ->> 'due_in');
    v_ids uuid [];
    v_subjects uuid [] := app._wf_approval_subjects(p_exec);
    v_configured integer := jsonb_array_length(p_step -> 'approvers');
    v_title text := coalesce(
        app._wf_text(p_step ->> 'title', p_vars),
        format('%s: %s', p_type.label, p_doc ->> p_type.name_field)
    );
    v_stamp timestamptz;
begin
    -- A retried step starts its chain again: open rows are cancelled, the
    -- earlier attempt's decisions expire (kept for the record, not counted).
    update app.workflow_approvals as a
    set
        status = case when a.status in ('pending', 'queued') then 'cancelled' else 'expired' end,
        updated_at = app.now()
    where
        a.org_id = p_exec.org_id and a.step_id = p_step_id
        and a.status not in ('cancelled', 'expired');

    -- Each slot's user (a manager, an owner, a field, a user), resolved first in a
    -- statement of its own: app._wf_resolve_user reads the tables, and on Citus a
    -- query on the shards may not call a function that does (docs/scale-out.md).
    select array_agg(s.v), array_agg(s.i::integer), array_agg(
        case when not s.v ? 'role' then app._wf_resolve_user(
            p_exec.org_id,
            case
                when s.v ? 'manager' then 'manager'
                when s.v ? 'owner' then 'owner'
                when s.v ? 'field' then 'field:' || (s.v ->> 'field')
                else s.v ->> 'user'
            end,
            p_doc, p_type.owner_field, p_exec.triggered_by
        ) end
    )
    into v_specs, v_slot_numbers, v_targets
    from jsonb_array_elements(p_step -> 'approvers') with ordinality as s (v, i);

    with
    specs as (
        select s.spec, s.slot, s.target
        from unnest(v_specs, v_slot_numbers, v_targets) as s (spec, slot, target)
    ),

    resolved as (
        select
            sp.slot,
            u.id as approver_id,
            case
                when sp.spec ? 'role' then 'role'
                when sp.spec ? 'manager' then 'manager'
                when sp.spec ? 'owner' then 'owner'
                when sp.spec ? 'field' then 'field'
                else 'user'
            end as approver_type,
            sp.spec ->> 'role' as approver_role
        from specs as sp
        cross join lateral (
            select p.id from app.user_profiles as p
            where
                p.org_id = p_exec.org_id and p.is_active
                and (
                    (
                        sp.spec ? 'role' and p.role = sp.spec ->> 'role'
                        -- A role slot never counts a subject of the request.
                        and p.id <> all(v_subjects)
                    )
                    or (
                        not sp.spec ? 'role'
                        -- Nor does any other slot: it falls back (below).
                        and p.id <> all(v_subjects)
                        and p.id = sp.target
                    )
                )
        ) as u
    ),

    -- A slot that resolves to nobody (no manager, an empty field, an inactive
    -- user, or only the subject) goes to the org's active admins, the
    -- subject left out: the approval is never skipped because whoever asked
    -- for it chose an owner with no manager.
    fallback as (
        select sp.slot, p.id as approver_id, 'role' as approver_type, 'admin' as approver_role
        from specs as sp
        inner join app.user_profiles as p
            on
                p.org_id = p_exec.org_id and p.is_active and p.role = 'admin'
                and p.id <> all(v_subjects)
        where not exists (select 1 from resolved as r where r.slot = sp.slot)
    ),

    numbered as (
        select r.*, dense_rank() over (order by r.slot) as slot_no
        from (select * from resolved union all select * from fallback) as r
    ),

    inserted as (
        insert into app.workflow_approvals (
            org_id, execution_id, step_id, approver_id, approver_type, approver_role, status,
            due_at, slot, sequence_order, is_parallel
        )
        select
            p_exec.org_id, p_exec.id, p_step_id, n.approver_id, n.approver_type, n.approver_role,
            case when v_mode = 'sequential' and n.slot_no > 1 then 'queued' else 'pending' end,
            case when v_mode = 'sequential' and n.slot_no > 1 then null else v_due end,
            n.slot_no, n.slot_no, v_mode <> 'sequential'
        from numbered as n
        returning id, status
    )

    select array_agg(i.id) filter (where i.status = 'pending'), count(*)
    into v_ids, v_slots
    from inserted as i;

    select count(distinct a.slot) into v_slots from app.workflow_approvals as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id and a.status in ('pending', 'queued');
    -- A slot nobody may fill (not even an admin who is not a subject) would
    -- lower what the step needs: with none left, or fewer than an all or
    -- sequential chain names, or than a quorum, the approval is refused and
    -- the step's on_reject branch (its undo) runs.
    if v_slots = 0
        or (v_mode in ('all', 'sequential') and v_slots < v_configured)
        or (v_mode = 'quorum' and v_slots < (p_step ->> 'quorum')::integer) then
        update app.workflow_approvals as a
        set status = 'cancelled', updated_at = app.now()
        where
            a.org_id = p_exec.org_id and a.step_id = p_step_id
            and a.status in ('pending', 'queued');
        perform app._wf_log(
            p_exec.org_id, p_exec.id, 'warning',
            format('approval %s rejected: no approver could be resolved', p_step ->> 'name'),
            null, p_step_id
        );
        return jsonb_build_object('result', jsonb_build_object(
            'mode', v_mode, 'slots', v_slots, 'needed', null, 'title', v_title,
            'decision', 'rejected', 'decided_at', app.now(),
            'notes', 'no approver could be resolved'
        ));
    end if;
    v_needed := case v_mode
        when 'any' then 1
        when 'quorum' then least((p_step ->> 'quorum')::integer, v_slots)
        else v_slots
    end;
    if coalesce((p_step ->> 'lock_entity')::boolean, true) then
        insert into app.workflow_entity_locks (org_id, entity_type, entity_id, execution_id, reason)
        values (
            p_exec.org_id, p_exec.entity_type, p_exec.entity_id, p_exec.id,
            format('approval %L is pending', p_step ->> 'name')
        )
        on conflict do nothing;
    end if;
    -- The step row carries the rule the decisions are counted by.
    update app.workflow_steps as s
    set result = jsonb_build_object(
        'mode', v_mode, 'slots', v_slots, 'needed', v_needed, 'title', v_title
    )
    where s.org_id = p_exec.org_id and s.id = p_step_id;
    -- The fields the workflow reads stay locked until this execution ends
    -- (app._tg_approval_field_lock).
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.workflow_executions as e
    set approval_requested_at = coalesce(e.approval_requested_at, v_stamp)
    where e.org_id = p_exec.org_id and e.id = p_exec.id;
    perform app._wf_notify_approvers(p_exec.org_id, v_ids);
    return jsonb_build_object('park', 'approval', 'result', jsonb_build_object(
        'mode', v_mode, 'slots', v_slots, 'needed', v_needed, 'title', v_title
    ));
end
$function$;

-- Count the slots of an approval step and decide, open the next link of a
-- sequential chain, or leave it open. On a decision: the open rows are
-- cancelled, the entity unlocked and the execution queued to go on.
create or replace function app._wf_settle_approval(p_org_id uuid, p_step_id uuid)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_step app.workflow_steps%rowtype;
    v_approved integer;
    v_rejected integer;
    v_open integer;
    v_needed integer;
    v_decision text;
    v_next integer;
    v_ids uuid [];
begin
    select s.* into v_step from app.workflow_steps as s
    where s.org_id = p_org_id and s.id = p_step_id
    for update;
    if v_step.result ? 'decision' then
        return v_step.result ->> 'decision';
    end if;
    v_needed := (v_step.result ->> 'needed')::integer;
    select
        count(*) filter (where x.state = 'approved'),
        count(*) filter (where x.state = 'rejected'),
        count(*) filter (where x.state = 'open')
    into v_approved, v_rejected, v_open
    from (
        select
            a.slot,
            case
                when bool_or(a.status = 'approved') then 'approved'
                when bool_or(a.status = 'rejected') then 'rejected'
                when bool_or(a.status in ('pending', 'queued')) then 'open'
                else 'dead'
            end as state
        from app.workflow_approvals as a
        where a.org_id = p_org_id and a.step_id = p_step_id and a.status not in ('cancelled', 'expired')
        group by a.slot
    ) as x;

    if v_approved >= v_needed then
        v_decision := 'approved';
    elsif v_approved + v_open < v_needed then
        v_decision := 'rejected';
    end if;

    if v_decision is null then
        if v_step.result ->> 'mode' = 'sequential' and not exists (
            select 1 from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.status = 'pending'
        ) then
            select min(a.slot) into v_next from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.status = 'queued';
            with opened as (
                update app.workflow_approvals as a
                set
                    status = 'pending', requested_at = app.now(), updated_at = app.now(),
                    due_at = app.now() + app._wf_interval(v_step.step_config ->> 'due_in')
                where a.org_id = p_org_id and a.step_id = p_step_id and a.slot = v_next
                    and a.status = 'queued'
                returning a.id
            )

            select array_agg(o.id) into v_ids from opened as o;
            perform app._wf_notify_approvers(p_org_id, v_ids);
        end if;
        return 'open';
    end if;

    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where a.org_id = p_org_id and a.step_id = p_step_id and a.status in ('pending', 'queued');
    update app.workflow_steps as s
    set result = s.result || jsonb_build_object(
        'decision', v_decision, 'decided_at', app.now(), 'approved', v_approved,
        'rejected', v_rejected,
        'notes', (
            select string_agg(a.response_notes, '; ' order by a.responded_at)
            from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.response_notes is not null
        )
    )
    where s.org_id = p_org_id and s.id = p_step_id;
    -- An approved transition keeps the entity locked until its move step ran.
    delete from app.workflow_entity_locks as l
    where
        l.org_id = p_org_id and l.execution_id = v_step.execution_id
        and not (
            v_decision = 'approved' and exists (
                select 1 from app.workflow_executions as e
                where e.org_id = p_org_id and e.id = v_step.execution_id and e.transition_id is not null
            )
        );
    perform app._wf_log(
        p_org_id, v_step.execution_id, 'info',
        format('approval %s %s (%s approved, %s rejected, %s needed)',
            v_step.step_name, v_decision, v_approved, v_rejected, v_needed),
        null, p_step_id
    );
    update app.workflow_executions as e
    set status = 'running', waiting_for = null, updated_at = app.now()
    where e.org_id = p_org_id and e.id = v_step.execution_id and e.status = 'waiting';
    if found then
        perform app._wf_schedule_run(p_org_id, v_step.execution_id);
    end if;
    return v_decision;
end
$function$;

-- The caller's pending approval row, locked; IT003 when it is not theirs.
create or replace function app._wf_my_approval(p_approval_id uuid)
returns app.workflow_approvals
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_row app.workflow_approvals%rowtype;
begin
    -- Lock order everywhere: execution, then its approvals (recall and
    -- cancel take them in that order too).
    perform from app.workflow_executions as e
    where
        e.org_id = v_org_id
        and e.id = (
            select a.execution_id from app.workflow_approvals as a
            where a.org_id = v_org_id and a.id = p_approval_id
        )
    for no key update;
    select a.* into v_row from app.workflow_approvals as a
    where a.org_id = v_org_id and a.id = p_approval_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('approval %s not found', p_approval_id),
            hint = 'api.list_my_approvals lists the approvals waiting for you.';
    end if;
    if v_user_id is null or v_row.approver_id <> v_user_id then
        raise exception using
            errcode = 'IT003', message = 'only the approver (or their delegate) may act on this approval',
            hint = 'api.list_my_approvals lists those waiting for you; an approver may '
            || 'api.delegate_approval.';
    end if;
    if v_row.status <> 'pending' then
        raise exception using
            errcode = 'IT013', message = format('approval %s is %s, not pending', p_approval_id, v_row.status);
    end if;
    return v_row;
end
$function$;

create or replace function app._wf_decide(p_approval_id uuid, p_decision text, p_notes text)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row app.workflow_approvals%rowtype := app._wf_my_approval(p_approval_id);
begin
    update app.workflow_approvals as a
    set
        status = p_decision, responded_at = app.now(), responded_by = app.current_user_id(),
        response_notes = p_notes, updated_at = app.now()
    where a.org_id = v_row.org_id and a.id = v_row.id;
    -- The slot is settled: its other rows (a delegator's, an escalation's) close.
    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where
        a.org_id = v_row.org_id and a.step_id = v_row.step_id and a.slot = v_row.slot
        and a.status = 'pending' and a.id <> v_row.id;
    perform app._wf_log(
        v_row.org_id, v_row.execution_id, 'info',
        format('approval %s by %s', p_decision, app._wf_user_name(v_row.org_id, v_row.approver_id)),
        jsonb_build_object('approval_id', v_row.id, 'notes', p_notes), v_row.step_id
    );
    return app._wf_settle_approval(v_row.org_id, v_row.step_id);
end
$function$;

create or replace function api.approve_approval(p_approval_id uuid, p_notes text default null)
returns text
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._wf_decide(p_approval_id, 'approved', p_notes)
$function$;

comment on function api.approve_approval(uuid, text) is
'Approve a pending approval. Only its approver may (a delegate has a row of their own); IT003 '
'otherwise, IT013 when it is no longer pending. Returns the step''s state: approved (the '
'execution goes on), rejected, or open (more decisions needed; a sequential chain opens its next '
'approver).';

create or replace function api.reject_approval(p_approval_id uuid, p_notes text default null)
returns text
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._wf_decide(p_approval_id, 'rejected', p_notes)
$function$;

comment on function api.reject_approval(uuid, text) is
'Reject a pending approval (its approver only). When the step can no longer reach the approvals '
'it needs it is rejected: the execution follows the step''s on_reject branch, or fails. Returns '
'approved, rejected or open.';

create or replace function api.delegate_approval(
    p_approval_id uuid, p_to_user uuid, p_reason text default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row app.workflow_approvals%rowtype := app._wf_my_approval(p_approval_id);
    v_exec app.workflow_executions%rowtype;
    v_subjects uuid [];
    v_id uuid;
begin
    -- The execution read first: a function given a row of a Citus shard would get
    -- the shard's row type (docs/scale-out.md, "SQL shapes"); its subjects too, in a
    -- statement of their own (a helper that reads tables is refused inside a
    -- statement Citus sends to a shard).
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_row.org_id and e.id = v_row.execution_id;
    if v_exec.id is not null then
        v_subjects := app._wf_approval_subjects(v_exec);
    end if;
    -- Never to a subject of the request: nobody approves their own change.
    if p_to_user is null or p_to_user = v_row.approver_id or (
        p_to_user = any(v_subjects)
    ) or not exists (
        select 1 from app.user_profiles as u
        where u.org_id = v_row.org_id and u.id = p_to_user and u.is_active
    ) then
        raise exception using
            errcode = 'IT005', message = format('cannot delegate to %s', coalesce(p_to_user::text, 'nobody'));
    end if;
    update app.workflow_approvals as a
    set
        status = 'delegated', delegated_to = p_to_user, delegated_at = app.now(),
        delegation_reason = p_reason, updated_at = app.now()
    where a.org_id = v_row.org_id and a.id = v_row.id;
    insert into app.workflow_approvals (
        org_id, execution_id, step_id, approver_id, approver_type, status, due_at, slot,
        sequence_order, is_parallel, source_approval_id
    )
    values (
        v_row.org_id, v_row.execution_id, v_row.step_id, p_to_user, 'delegate', 'pending',
        v_row.due_at, v_row.slot, v_row.sequence_order, v_row.is_parallel, v_row.id
    )
    returning id into v_id;
    perform app._wf_log(
        v_row.org_id, v_row.execution_id, 'info',
        format('approval delegated to %s', app._wf_user_name(v_row.org_id, p_to_user)),
        jsonb_build_object('from', v_row.approver_id, 'reason', p_reason, 'approval_id', v_id),
        v_row.step_id
    );
    perform app._wf_notify_approvers(v_row.org_id, array[v_id]);
    return v_id;
end
$function$;

comment on function api.delegate_approval(uuid, uuid, text) is
'Hand a pending approval to another active user of the org (its approver only). The original row '
'becomes delegated; the delegate gets a pending row in the same slot (same due time) and an '
'approval_required notification. Returns the new approval id.';

create or replace function api.recall_approval(p_execution_id uuid, p_reason text default null)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- An admin, the workflow's owner or whoever started it by hand (IT003);
    -- IT004 when not found.
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'waiting' or v_exec.waiting_for <> 'approval' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is not waiting for an approval', p_execution_id);
    end if;
    perform app._wf_withdraw_approval(v_exec, coalesce('recalled: ' || p_reason, 'recalled'));
    perform app._wf_log(
        v_exec.org_id, p_execution_id, 'info', 'approval recalled: its reject path runs',
        jsonb_build_object('by', app.current_user_id(), 'reason', p_reason)
    );
end
$function$;

comment on function api.recall_approval(uuid, text) is
'Withdraw an execution''s pending approval request (an admin, the workflow''s owner, or whoever '
'started it by hand; IT003 otherwise): it counts as rejected, so the execution goes on down the '
'step''s on_reject branch (its undo), or fails. IT013 when it is not waiting for an approval.';

-- Escalate pending approvals past their due time: the step's escalate_to
-- (else the approver's manager) is added to the slot and notified;
-- escalated_at and the reason are recorded. Returns how many.
create or replace function app._wf_escalate_due(p_limit integer)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row record;
    v_exec app.workflow_executions%rowtype;
    v_target uuid;
    v_count integer := 0;
    v_new uuid;
    v_asked boolean;
    v_error text;
    v_owner_field text;
    v_doc jsonb;
    v_reason text;
    v_stamp timestamptz;
    v_title text;
    v_approver_name text;
    v_now timestamptz := app.now();
    v_orgs uuid[];
    v_ids uuid[];
begin
    -- The candidates unlocked, then each locked on its own (SKIP LOCKED: another
    -- sweep has it) and checked again: a row lock holds one org's rows, which is
    -- what Citus can take (docs/scale-out.md, "SQL shapes").
    select array_agg(c.org_id order by c.due_at), array_agg(c.id order by c.due_at)
    into v_orgs, v_ids
    from (
        select a.org_id, a.id, a.due_at
        from app.workflow_approvals as a
        inner join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
        where
            a.status = 'pending' and a.escalated_at is null and a.due_at <= v_now
            and not coalesce(s.result ? 'decision', false)
        order by a.due_at
        limit p_limit
    ) as c;
    for i in 1 .. coalesce(cardinality(v_ids), 0) loop
        select a.*, s.step_config, e.entity_type, e.entity_id, e.triggered_by
        into v_row
        from app.workflow_approvals as a
        inner join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
        inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
        where
            a.org_id = v_orgs[i] and a.id = v_ids[i]
            and s.org_id = v_orgs[i] and e.org_id = v_orgs[i]
            and a.status = 'pending' and a.escalated_at is null and a.due_at <= v_now
            and not coalesce(s.result ? 'decision', false)
        for update of a skip locked;
        continue when not found;
        begin
            v_target := null;
            -- Every value read in a statement of its own before it is used (on Citus
            -- a statement that reads a table goes to a shard, where the helpers that
            -- read tables are refused: docs/scale-out.md, "SQL shapes").
            if v_row.step_config ? 'escalate_to' then
                select t.owner_field into v_owner_field
                from app.entity_types as t where t.entity_type = v_row.entity_type;
                v_doc := app._wf_entity_doc(v_row.org_id, v_row.entity_type, v_row.entity_id);
                v_target := app._wf_resolve_user(
                    v_row.org_id, v_row.step_config ->> 'escalate_to', v_doc, v_owner_field,
                    v_row.triggered_by
                );
            end if;
            if v_target is null then
                select u.manager_id into v_target from app.user_profiles as u
                where u.org_id = v_row.org_id and u.id = v_row.approver_id;
            end if;
            -- Not to a subject of the request either (the execution read first,
            -- as in api.delegate_approval).
            select e.* into v_exec from app.workflow_executions as e
            where e.org_id = v_row.org_id and e.id = v_row.execution_id;
            if v_target = any(app._wf_approval_subjects(v_exec)) then
                v_target := null;
            end if;
            v_asked := v_target is not null and exists (
                select 1 from app.workflow_approvals as a
                where a.org_id = v_row.org_id and a.step_id = v_row.step_id and a.slot = v_row.slot
                    and a.approver_id = v_target and a.status = 'pending'
            );
            v_reason := case
                when v_target is null then format('not decided by %s; no escalation target', v_row.due_at)
                when v_asked then format('not decided by %s; %s already has it', v_row.due_at, v_target)
                else format('not decided by %s', v_row.due_at)
            end;
            v_stamp := app.now();
            update app.workflow_approvals as a
            set
                escalated_at = v_stamp, escalated_to = v_target, updated_at = v_stamp,
                escalation_reason = v_reason
            where a.org_id = v_row.org_id and a.id = v_row.id;
            if v_target is not null and not v_asked then
                insert into app.workflow_approvals (
                    org_id, execution_id, step_id, approver_id, approver_type, status, slot,
                    sequence_order, is_parallel, source_approval_id
                )
                values (
                    v_row.org_id, v_row.execution_id, v_row.step_id, v_target, 'escalation', 'pending',
                    v_row.slot, v_row.sequence_order, v_row.is_parallel, v_row.id
                )
                returning id into v_new;
                select s.result ->> 'title' into v_title from app.workflow_steps as s
                where s.org_id = v_row.org_id and s.id = v_row.step_id;
                select u.full_name into v_approver_name from app.user_profiles as u
                where u.org_id = v_row.org_id and u.id = v_row.approver_id;
                perform app._wf_notify(
                    p_org_id => v_row.org_id,
                    p_user_ids => array[v_target],
                    p_template => 'approval_escalated',
                    p_variables => jsonb_build_object(
                        'item', jsonb_build_object('title', v_title),
                        'approver', jsonb_build_object('name', v_approver_name),
                        'due_at', v_row.due_at::text
                    ),
                    p_entity_type => v_row.entity_type,
                    p_entity_id => v_row.entity_id,
                    p_type => 'action_required',
                    p_action_url => '/approvals/'
                    || app._wf_mint_approval_link(v_row.org_id, v_new, v_target),
                    p_action_label => 'Review',
                    p_execution_id => v_row.execution_id
                );
            end if;
            perform app._wf_log(
                v_row.org_id, v_row.execution_id, 'warning',
                case when v_target is null then 'approval overdue; no one to escalate to'
                    else format('approval escalated to %s', app._wf_user_name(v_row.org_id, v_target)) end,
                jsonb_build_object('approval_id', v_row.id, 'due_at', v_row.due_at, 'escalated_to', v_target),
                v_row.step_id
            );
        exception when others then
            -- One approval's trouble (a user who left the org, say) never
            -- stops the sweep for everyone: record it and move on.
            get stacked diagnostics v_error = message_text;
            v_stamp := app.now();
            update app.workflow_approvals as a
            set
                escalated_at = v_stamp, updated_at = v_stamp,
                escalation_reason = left('escalation failed: ' || v_error, 500)
            where a.org_id = v_row.org_id and a.id = v_row.id;
            perform app._wf_log(
                v_row.org_id, v_row.execution_id, 'error', 'approval escalation failed: ' || v_error,
                jsonb_build_object('approval_id', v_row.id), v_row.step_id
            );
        end;
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$function$;

-- Approvals waiting for the caller.
create or replace function api.list_my_approvals()
returns table (
    approval_id uuid, execution_id uuid, title text, entity_type text, entity_id uuid,
    requested_at timestamptz, due_at timestamptz, approver_type text
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select a.id, a.execution_id, s.result ->> 'title', e.entity_type, e.entity_id, a.requested_at,
        a.due_at, a.approver_type
    from app.workflow_approvals as a
    inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
    left join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
    where
        a.org_id = app._require_org() and a.approver_id = app.current_user_id()
        and a.status = 'pending'
    order by a.requested_at
$function$;

comment on function api.list_my_approvals() is
'The caller''s pending approvals, oldest first.';
