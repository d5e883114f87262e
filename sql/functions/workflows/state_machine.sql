-- The state machine: an instance (one per workflow and entity) is in one of
-- the workflow's states; api.transition_entity moves it along an allowed
-- transition, runs the transition's steps, and may wait for an approval.

-- Move an instance to a state and write the entity's history.
create or replace function app._wf_move_state(
    p_org_id uuid, p_instance_id uuid, p_transition_id uuid, p_notes text, p_actor uuid
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_inst app.workflow_instances%rowtype;
    v_tr app.workflow_transitions%rowtype;
    v_from text;
    v_to text;
    v_wf_name text;
begin
    select i.* into v_inst from app.workflow_instances as i
    where i.org_id = p_org_id and i.id = p_instance_id
    for no key update;
    select t.* into v_tr from app.workflow_transitions as t
    where t.org_id = p_org_id and t.id = p_transition_id;
    if not found then
        raise exception using
            errcode = 'IT015', message = 'the transition no longer exists (the workflow changed)';
    end if;
    if v_tr.from_state_id is not null and v_tr.from_state_id is distinct from v_inst.current_state_id then
        raise exception using
            errcode = 'IT015', message = 'the entity left the transition''s from state meanwhile';
    end if;
    select s.name into v_from from app.workflow_states as s
    where s.org_id = p_org_id and s.id = v_inst.current_state_id;
    select s.name into v_to from app.workflow_states as s
    where s.org_id = p_org_id and s.id = v_tr.to_state_id;
    select w.name into v_wf_name from app.workflows as w
    where w.org_id = p_org_id and w.id = v_inst.workflow_id;
    update app.workflow_instances as i
    set
        current_state_id = v_tr.to_state_id, updated_at = app.now(),
        status = case
            when exists (
                select 1 from app.workflow_states as s
                where s.org_id = p_org_id and s.id = v_tr.to_state_id and s.state_type = 'final'
            ) then 'completed'
            else 'active'
        end
    where i.org_id = p_org_id and i.id = p_instance_id;
    insert into app.entity_history (
        org_id, entity_type, entity_id, change_type, field_name, old_value, new_value, changed_by
    )
    values (
        p_org_id, v_inst.entity_type, v_inst.entity_id, 'updated', 'workflow_state',
        jsonb_build_object('workflow', v_wf_name, 'state', v_from),
        jsonb_build_object(
            'workflow', v_wf_name, 'state', v_to, 'transition', v_tr.name, 'notes', p_notes
        ),
        p_actor
    );
    return jsonb_build_object('from', v_from, 'to', v_to, 'transition', v_tr.name);
end
$function$;

-- The set_state step of an approved transition: move, then release the
-- lock the approval kept for it.
create or replace function app._wf_set_state(p_exec app.workflow_executions, p_step jsonb)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_moved jsonb;
begin
    v_moved := app._wf_move_state(
        p_exec.org_id, p_exec.instance_id, (p_step ->> 'transition_id')::uuid, p_step ->> 'notes',
        p_exec.triggered_by
    );
    delete from app.workflow_entity_locks as l
    where l.org_id = p_exec.org_id and l.execution_id = p_exec.id;
    return v_moved;
end
$function$;

create or replace function api.transition_entity(
    p_instance_id uuid, p_to_state text, p_notes text default null
)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user uuid := app.current_user_id();
    v_inst app.workflow_instances%rowtype;
    v_tr app.workflow_transitions%rowtype;
    v_from text;
    v_role text;
    v_steps jsonb;
    v_exec_id uuid;
    v_moved jsonb;
    v_final boolean;
begin
    select i.* into v_inst from app.workflow_instances as i
    where i.org_id = v_org_id and i.id = p_instance_id
    for no key update;
    if not found then
        raise exception using errcode = 'IT004', message = format('instance %s not found', p_instance_id);
    end if;
    select s.name, s.state_type = 'final' into v_from, v_final from app.workflow_states as s
    where s.org_id = v_org_id and s.id = v_inst.current_state_id;
    if v_final then
        raise exception using
            errcode = 'IT015', message = format('%s is a final state: no transition leaves it', v_from);
    end if;
    select t.* into v_tr
    from app.workflow_transitions as t
    inner join app.workflow_states as s on s.org_id = t.org_id and s.id = t.to_state_id
    where
        t.org_id = v_org_id and t.workflow_id = v_inst.workflow_id and s.name = p_to_state
        and (t.from_state_id = v_inst.current_state_id or t.from_state_id is null)
    order by t.from_state_id nulls last
    limit 1;
    if not found then
        raise exception using
            errcode = 'IT015',
            message = format('no transition from %s to %s', coalesce(v_from, '(no state)'), p_to_state);
    end if;
    if v_tr.required_role is not null and v_user is not null then
        select u.role into v_role from app.user_profiles as u where u.org_id = v_org_id and u.id = v_user;
        if array_position(array['member', 'manager', 'admin'], v_role)
            < array_position(array['member', 'manager', 'admin'], v_tr.required_role) then
            raise exception using
                errcode = 'IT003',
                message = format('transition %s needs the %s role', v_tr.name, v_tr.required_role),
                hint = format(
                    'Ask a user whose role is %s or higher (member < manager < admin).',
                    v_tr.required_role
                );
        end if;
    end if;
    perform app._wf_assert_unlocked(v_org_id, v_inst.entity_type, v_inst.entity_id, null);

    if v_tr.approval is null then
        v_moved := app._wf_move_state(v_org_id, p_instance_id, v_tr.id, p_notes, v_user);
        v_steps := v_tr.steps;
    else
        -- The approval gates the move: an execution asks, then moves, then
        -- runs the transition's steps. A rejection ends it where it is.
        v_steps := jsonb_build_array(
            v_tr.approval || jsonb_build_object(
                'name', 'approval', 'type', 'approval', 'on_reject', 'end',
                'title', coalesce(v_tr.approval ->> 'title', format('%s → %s', coalesce(v_from, '?'), p_to_state))
            ),
            jsonb_build_object('name', 'move', 'type', 'set_state', 'transition_id', v_tr.id, 'notes', p_notes)
        ) || v_tr.steps;
    end if;

    if jsonb_array_length(v_steps) > 0 then
        insert into app.workflow_executions (
            org_id, instance_id, workflow_id, workflow_version, entity_type, entity_id,
            triggered_by, trigger_type, trigger_event, steps, total_steps, max_retries, exclusive,
            transition_id
        )
        select
            v_org_id, v_inst.id, w.id, w.version, v_inst.entity_type, v_inst.entity_id, v_user,
            'transition',
            jsonb_build_object('event', 'transition', 'transition', v_tr.name, 'from', v_from,
                'to', p_to_state, 'notes', p_notes),
            v_steps, jsonb_array_length(v_steps), w.max_retries, false, v_tr.id
        from app.workflows as w
        where w.org_id = v_org_id and w.id = v_inst.workflow_id
        returning id into v_exec_id;
        perform app._wf_log(v_org_id, v_exec_id, 'info', format('transition %s requested', v_tr.name),
            jsonb_build_object('from', v_from, 'to', p_to_state, 'by', v_user));
        perform app._wf_schedule_run(v_org_id, v_exec_id);
    end if;
    if v_tr.approval is not null then
        -- Lock the entity now, so nothing moves it before the approval asks.
        insert into app.workflow_entity_locks (org_id, entity_type, entity_id, execution_id, reason)
        values (
            v_org_id, v_inst.entity_type, v_inst.entity_id, v_exec_id,
            format('transition %s awaits approval', v_tr.name)
        );
        return jsonb_build_object(
            'status', 'pending_approval', 'transition', v_tr.name, 'execution_id', v_exec_id
        );
    end if;
    return v_moved || jsonb_build_object('status', 'moved', 'execution_id', v_exec_id);
end
$function$;

comment on function api.transition_entity(uuid, text, text) is
'Move a workflow instance to p_to_state along an allowed transition (from its current state, or '
'from any state). IT015 when no transition allows it, IT003 when the caller lacks the '
'transition''s required role, IT014 while a pending approval locks the entity. Without an '
'approval the state changes now (entity_history records it) and the transition''s steps run as an '
'execution; with one, an execution asks for the approval, then moves and runs the steps (a '
'rejection leaves the state as it was). Returns {status: moved|pending_approval, ...}.';

create or replace function api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid)
returns table (instance_id uuid, state text, status text, locked boolean)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select
        i.id, s.name, i.status,
        exists (
            select 1 from app.workflow_entity_locks as l
            where l.org_id = i.org_id and l.entity_type = i.entity_type and l.entity_id = i.entity_id
        )
    from app.workflow_instances as i
    left join app.workflow_states as s on s.org_id = i.org_id and s.id = i.current_state_id
    where i.org_id = app._require_org() and i.workflow_id = p_workflow_id and i.entity_id = p_entity_id
$function$;

comment on function api.get_workflow_instance(uuid, uuid) is
'The instance of a workflow for an entity: its id, current state, status and whether a pending '
'approval locks the entity.';
