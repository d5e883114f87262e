-- The step kinds. Each returns {"result": {...}} when the step is done, or
-- {"park": "timer"|"action"|"approval", "wake_at": ..., "result": {...}}
-- when the execution must wait. They raise on failure; the engine records
-- the error and retries the step.

-- create_task / create_activity for one or many executions of one step at
-- once (one INSERT, so the activities' statement triggers run once): each
-- execution's activity on its entity, rendered with its own variables.
-- Returns each execution's result, in p_execs' order.
create or replace function app._wf_steps_activity(
    p_execs app.workflow_executions[], p_step jsonb, p_docs jsonb[], p_vars jsonb[],
    p_type app.entity_types
)
returns jsonb[]
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_task boolean := p_step ->> 'type' = 'create_task';
    v_assignees uuid[];
    v_ids uuid[];
begin
    -- Each execution's assignee first (app._wf_resolve_user reads the tables), then
    -- the activities from arrays with their ids made here: on Citus a statement that
    -- writes may not call a function that reads the shards (docs/scale-out.md).
    v_assignees := array(
        select app._wf_resolve_user(
            (p_execs[g.i]).org_id,
            coalesce(p_step ->> 'assignee', case when v_task then 'owner' end),
            p_docs[g.i], p_type.owner_field, (p_execs[g.i]).triggered_by
        )
        from generate_subscripts(p_execs, 1) as g (i)
        order by g.i
    );
    v_ids := array(select gen_random_uuid() from generate_subscripts(p_execs, 1));
    insert into app.activities (
        org_id, id, entity_type, entity_id, type, subject, description, status, priority,
        due_date, completed_at, assignee_id, metadata
    )
    select
        (p_execs[g.i]).org_id, v_ids[g.i], (p_execs[g.i]).entity_type, (p_execs[g.i]).entity_id,
        coalesce(p_step ->> 'activity_type', case when v_task then 'task' else 'note' end),
        app._render(coalesce(p_step ->> 'title', p_step ->> 'subject'), p_vars[g.i], 'none'),
        app._wf_text(p_step ->> 'description', p_vars[g.i]),
        case when v_task then 'open' else coalesce(p_step ->> 'status', 'completed') end,
        coalesce(p_step ->> 'priority', 'normal'),
        app.now() + app._wf_interval(p_step ->> 'due_in'),
        case
            when not v_task and coalesce(p_step ->> 'status', 'completed') = 'completed'
                then app.now()
        end,
        v_assignees[g.i],
        jsonb_build_object('workflow_id', (p_execs[g.i]).workflow_id, 'execution_id', (p_execs[g.i]).id)
    from generate_subscripts(p_execs, 1) as g (i)
    order by g.i;
    return array(
        select jsonb_build_object('activity_id', v_ids[g.i], 'assignee_id', v_assignees[g.i])
        from generate_subscripts(p_execs, 1) as g (i)
        order by g.i
    );
end
$function$;

-- Write one allowlisted column of the entity. The value goes through
-- jsonb_populate_record, so it takes the column's own type.
create or replace function app._wf_set_field(
    p_exec app.workflow_executions, p_type app.entity_types, p_field text, p_value jsonb
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_count integer;
begin
    if p_field <> all(p_type.updatable_fields) then
        raise exception using
            errcode = 'IT005', message = format('%L is not updatable on %s', p_field, p_type.entity_type);
    end if;
    perform app._wf_assert_unlocked(p_exec.org_id, p_exec.entity_type, p_exec.entity_id, p_exec.id);
    execute format(
        'update app.%1$I as t set %2$I = (jsonb_populate_record(null::app.%1$I, $1)).%2$I '
        'where t.org_id = $2 and t.id = $3',
        p_type.table_name, p_field
    ) using jsonb_build_object(p_field, p_value), p_exec.org_id, p_exec.entity_id;
    get diagnostics v_count = row_count;
    if v_count = 0 then
        raise exception using
            errcode = 'IT004',
            message = format('%s %s no longer exists', p_exec.entity_type, p_exec.entity_id);
    end if;
end
$function$;

-- update_field for one or many executions of one step at once, one UPDATE (the
-- entity table's statement triggers run once): each execution's entity gets
-- the value rendered with its own variables, as app._wf_set_field writes one
-- (an allowlisted column, the column's own type, refused while another
-- execution's approval locks the entity, IT004 for an entity gone). The
-- entities are distinct (app._wf_run_set groups them so). Returns each
-- execution's result, in p_execs' order.
create or replace function app._wf_steps_update_field(
    p_execs app.workflow_executions[], p_step jsonb, p_docs jsonb[], p_vars jsonb[],
    p_type app.entity_types
)
returns jsonb[]
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_field text := p_step ->> 'field';
    v_values jsonb [];
    v_lock record;
    v_count integer;
    v_gone uuid;
    v_orgs uuid[];
begin
    if v_field <> all(p_type.updatable_fields) then
        raise exception using
            errcode = 'IT005', message = format('%L is not updatable on %s', v_field, p_type.entity_type);
    end if;
    -- The executions' orgs name the shard on Citus (docs/scale-out.md, "SQL shapes").
    v_orgs := array(select distinct e.org_id from unnest(p_execs) as e);
    select l.entity_type, l.entity_id, l.reason into v_lock
    from unnest(p_execs) as e
    inner join app.workflow_entity_locks as l
        on
            l.org_id = e.org_id and l.entity_type = e.entity_type and l.entity_id = e.entity_id
            and l.execution_id is distinct from e.id
    where l.org_id = any(v_orgs)
    limit 1;
    if found then
        raise exception using
            errcode = 'IT014',
            message = format('%s %s is locked: %s', v_lock.entity_type, v_lock.entity_id, v_lock.reason),
            hint = 'It unlocks when the approval is decided or recalled.';
    end if;
    select array_agg(app._wf_render_json(p_step -> 'value', x.vars) order by x.i) into v_values
    from unnest(p_vars) with ordinality as x (vars, i);
    if cardinality(p_execs) = 1 then
        -- One row (a one-by-one run): the plain statement, quicker to plan.
        execute format(
            'update app.%1$I as t set %2$I = (jsonb_populate_record(null::app.%1$I, $1)).%2$I '
            'where t.org_id = $2 and t.id = $3',
            p_type.table_name, v_field
        ) using
            jsonb_build_object(v_field, v_values[1]), (p_execs[1]).org_id, (p_execs[1]).entity_id;
    else
        -- The values typed first, in a CTE of their own (materialized): Citus refuses a
        -- stable function of a column in an UPDATE (docs/scale-out.md, "SQL shapes").
        execute format(
            'with x as materialized ('
            'select u.org_id, u.id, (jsonb_populate_record(null::app.%1$I, u.v)).%2$I as v '
            'from unnest($1::uuid[], $2::uuid[], $3::jsonb[]) as u (org_id, id, v)'
            ') '
            'update app.%1$I as t set %2$I = x.v from x '
            'where t.org_id = any($1::uuid[]) and t.org_id = x.org_id and t.id = x.id',
            p_type.table_name, v_field
        ) using
            array(select e.org_id from unnest(p_execs) with ordinality as e order by e.ordinality),
            array(select e.entity_id from unnest(p_execs) with ordinality as e order by e.ordinality),
            array(
                select jsonb_build_object(v_field, v.v)
                from unnest(v_values) with ordinality as v (v, i)
                order by v.i
            );
    end if;
    get diagnostics v_count = row_count;
    if v_count < cardinality(p_execs) then
        execute format(
            'select e.entity_id from unnest($1::app.workflow_executions[]) as e '
            'where not exists ('
            'select 1 from app.%I as t where t.org_id = any($2) and t.org_id = e.org_id '
            'and t.id = e.entity_id'
            ') limit 1',
            p_type.table_name
        ) into v_gone using p_execs, v_orgs;
        raise exception using
            errcode = 'IT004',
            message = format('%s %s no longer exists', p_type.entity_type, v_gone);
    end if;
    return array(
        select jsonb_build_object(
            'field', v_field, 'old', x.doc -> v_field, 'new', x.v
        )
        from unnest(p_docs, v_values) with ordinality as x (doc, v, i)
        order by x.i
    );
end
$function$;

-- assign: a user, the owner's manager, or the next in a fair round robin
-- (fewest assignments per weight among the active, available users who are
-- not out of office; ties to the longest idle).
create or replace function app._wf_step_assign(
    p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_field text := coalesce(p_step ->> 'field', p_type.owner_field);
    v_mode text := p_step ->> 'mode';
    v_user uuid;
    v_users uuid [];
    v_weights integer [];
    v_step_name text := p_step ->> 'name';
begin
    if v_mode = 'user' then
        v_user := app._wf_resolve_user(
            p_exec.org_id, p_step ->> 'user', p_doc, p_type.owner_field, p_exec.triggered_by
        );
    elsif v_mode = 'manager' then
        v_user := app._wf_resolve_user(
            p_exec.org_id, 'manager', p_doc, p_type.owner_field, p_exec.triggered_by
        );
        if v_user is null then
            return jsonb_build_object('result', jsonb_build_object(
                'skipped', 'the owner has no manager'
            ));
        end if;
    else
        select
            array_agg(coalesce(u.v ->> 'user', u.v #>> '{}')::uuid order by u.i),
            array_agg(coalesce((u.v ->> 'weight')::integer, 1) order by u.i)
        into v_users, v_weights
        from jsonb_array_elements(p_step -> 'users') with ordinality as u (v, i);
        insert into app.workflow_round_robin (org_id, workflow_id, step_name, user_id, weight)
        select p_exec.org_id, p_exec.workflow_id, v_step_name, x.user_id, x.weight
        from unnest(v_users, v_weights) as x (user_id, weight)
        where exists (
            select 1 from app.user_profiles as p where p.org_id = p_exec.org_id and p.id = x.user_id
        )
        on conflict (org_id, workflow_id, step_name, user_id) do update set weight = excluded.weight;
        -- One rotation at a time: lock it whole, then pick.
        perform from app.workflow_round_robin as r
        where r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id and r.step_name = v_step_name
        for update;
        select r.user_id into v_user
        from app.workflow_round_robin as r
        inner join app.user_profiles as u on u.org_id = r.org_id and u.id = r.user_id
        where
            r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id
            and r.step_name = v_step_name and r.user_id = any(v_users)
            and u.is_active and u.available
            and (u.out_of_office_until is null or u.out_of_office_until <= app.now())
        order by
            (r.assigned_count + 1)::numeric / r.weight, r.last_assigned_at nulls first,
            array_position(v_users, r.user_id)
        limit 1;
        if v_user is null then
            raise exception using
                errcode = 'IT013', message = 'no available user in the round robin';
        end if;
        update app.workflow_round_robin as r
        set assigned_count = r.assigned_count + 1, last_assigned_at = app.now()
        where
            r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id
            and r.step_name = v_step_name and r.user_id = v_user;
    end if;
    perform app._wf_set_field(p_exec, p_type, v_field, to_jsonb(v_user));
    return jsonb_build_object('result', jsonb_build_object(
        'field', v_field, 'user_id', v_user, 'previous', p_doc -> v_field
    ));
end
$function$;

create or replace function app._wf_step_notify(
    p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb,
    p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_users uuid [];
    v_vars jsonb := p_vars || app._wf_render_json(coalesce(p_step -> 'variables', '{}'), p_vars);
    v_result jsonb;
begin
    select array_agg(distinct u.id) into v_users
    from jsonb_array_elements_text(coalesce(p_step -> 'to', '["owner"]')) as r (ref)
    cross join lateral (
        select app._wf_resolve_user(
            p_exec.org_id, r.ref, p_doc, p_type.owner_field, p_exec.triggered_by
        ) as id
    ) as u
    where u.id is not null;
    if v_users is null then
        return jsonb_build_object('result', jsonb_build_object('skipped', 'no recipient'));
    end if;
    select jsonb_build_object(
        'notifications', jsonb_agg(jsonb_build_object(
            'user_id', s.user_id, 'notification_id', s.notification_id, 'outcome', s.outcome
        ))
    )
    into v_result
    from app._notification_send(row(
        p_exec.org_id,  -- org_id
        v_users,  -- user_ids
        coalesce(p_step ->> 'category', case when p_step ? 'template' then null else 'workflow' end),  -- category
        p_step ->> 'template',  -- template_slug
        app._wf_text(p_step ->> 'title', p_vars),  -- title
        app._wf_text(p_step ->> 'message', p_vars),  -- message
        v_vars,  -- variables
        p_step ->> 'notification_type',  -- type
        p_step ->> 'priority',  -- priority
        p_exec.entity_type,  -- entity_type
        p_exec.entity_id,  -- entity_id
        app._wf_text(p_step ->> 'action_url', p_vars),  -- action_url
        p_step ->> 'action_label',  -- action_label
        (select array_agg(c) from jsonb_array_elements_text(p_step -> 'channels') as c),  -- channels
        app._wf_text(p_step ->> 'group_key', p_vars),  -- group_key
        null,  -- expires_at
        coalesce((p_step ->> 'critical')::boolean, false)  -- critical
    )::app.notification_request) as s;
    return jsonb_build_object('result', v_result);
end
$function$;

-- send_email: one email_sends row tied to this step's action; the execution
-- waits for the send (the email_sends trigger resumes it). A suppressed
-- recipient completes the step at once.
create or replace function app._wf_step_email(
    p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb,
    p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_to_spec text := p_step ->> 'to';
    v_to text;
    v_action_id uuid;
    v_send app.email_sends%rowtype;
    v_send_id uuid;
begin
    -- A retried step reuses its action (and its email, if one was made).
    select a.id into v_action_id from app.workflow_actions as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id
    order by a.created_at desc limit 1;
    if v_action_id is not null then
        select s.* into v_send from app.email_sends as s
        where s.org_id = p_exec.org_id and s.workflow_action_id = v_action_id
        order by s.created_at desc limit 1;
        if found and v_send.status not in ('failed') then
            update app.workflow_actions as a set status = 'running', retry_count = a.retry_count + 1
            where a.org_id = p_exec.org_id and a.id = v_action_id;
            return jsonb_build_object('park', 'action', 'result', jsonb_build_object(
                'action_id', v_action_id, 'email_send_id', v_send.id
            ));
        end if;
    end if;

    v_to := case
        when v_to_spec like '%{{%' then app._render(v_to_spec, p_vars, 'none')
        when v_to_spec like '%@%' then v_to_spec
        else app._wf_resolve_path(p_exec.org_id, p_type.table_name, p_doc, v_to_spec) #>> '{}'
    end;
    if v_to is null or btrim(v_to) = '' then
        raise exception using
            errcode = 'IT005', message = format('no recipient address at %L', v_to_spec);
    end if;
    if v_action_id is null then
        insert into app.workflow_actions (
            org_id, execution_id, step_id, action_type, action_config, status, started_at
        )
        values (p_exec.org_id, p_exec.id, p_step_id, 'send_email', p_step, 'running', app.now())
        returning id into v_action_id;
    else
        update app.workflow_actions as a
        set status = 'running', retry_count = a.retry_count + 1, error_message = null
        where a.org_id = p_exec.org_id and a.id = v_action_id;
    end if;
    v_send_id := api.queue_email(
        p_to => btrim(v_to),
        p_template_slug => p_step ->> 'template',
        p_variables => p_vars || app._wf_render_json(coalesce(p_step -> 'variables', '{}'), p_vars),
        p_subject => p_step ->> 'subject',  -- queue_email renders it, once
        p_html => p_step ->> 'html',
        p_text => p_step ->> 'text',
        p_category => coalesce(p_step ->> 'category', 'transactional'),
        p_entity_type => p_exec.entity_type,
        p_entity_id => p_exec.entity_id,
        p_workflow_action_id => v_action_id
    );
    select s.* into v_send from app.email_sends as s
    where s.org_id = p_exec.org_id and s.id = v_send_id;
    if v_send.status = 'suppressed' then
        update app.workflow_actions as a
        set
            status = 'completed', completed_at = app.now(),
            result = jsonb_build_object(
                'email_send_id', v_send_id, 'status', 'suppressed', 'reason', v_send.suppression_reason
            )
        where a.org_id = p_exec.org_id and a.id = v_action_id;
        return jsonb_build_object('result', jsonb_build_object(
            'action_id', v_action_id, 'email_send_id', v_send_id, 'to', v_to,
            'skipped', 'suppressed: ' || v_send.suppression_reason
        ));
    end if;
    return jsonb_build_object('park', 'action', 'result', jsonb_build_object(
        'action_id', v_action_id, 'email_send_id', v_send_id, 'to', v_to
    ));
end
$function$;

-- webhook: an action holding the request, and a webhook.deliver job. The
-- action id is the Standard Webhooks message id, the same on every retry.
create or replace function app._wf_step_webhook(
    p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_action_id uuid;
    v_body jsonb;
begin
    select a.id into v_action_id from app.workflow_actions as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id
    order by a.created_at desc limit 1;
    v_body := coalesce(
        app._wf_render_json(p_step -> 'body', p_vars),
        jsonb_build_object(
            'type', 'workflow.step',
            'timestamp', app.now(),
            'data', jsonb_build_object(
                'workflow', p_vars -> 'workflow',
                'execution_id', p_exec.id,
                'step', p_step ->> 'name',
                'entity_type', p_exec.entity_type,
                'entity_id', p_exec.entity_id,
                'entity', p_doc,
                'trigger', p_exec.trigger_event
            )
        )
    );
    if v_action_id is null then
        insert into app.workflow_actions (
            org_id, execution_id, step_id, action_type, action_config, status, started_at, request
        )
        values (
            p_exec.org_id, p_exec.id, p_step_id, 'webhook', p_step, 'pending', app.now(),
            jsonb_build_object(
                'url', app._render(p_step ->> 'url', p_vars, 'url'),
                'headers', coalesce(p_step -> 'headers', '{}'),
                'body', v_body
            )
        )
        returning id into v_action_id;
    else
        -- A retry delivers the same message again (same id, same body).
        update app.workflow_actions as a
        set status = 'pending', retry_count = a.retry_count + 1, error_message = null, error_code = null
        where a.org_id = p_exec.org_id and a.id = v_action_id;
    end if;
    perform app._wf_queue_delivery(p_exec.org_id, v_action_id);
    return jsonb_build_object('park', 'action', 'result', jsonb_build_object('action_id', v_action_id));
end
$function$;

-- wait: until now + duration; until a date field plus an offset; or until
-- the next listed weekday at a local time in the org's, the owner's or a
-- named time zone.
create or replace function app._wf_step_wait(
    p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_at timestamptz;
    v_tz text;
    v_local timestamp;
    v_days text[];
    v_day integer;
    v_candidate timestamp;
begin
    if p_step ? 'duration' then
        v_at := v_now + app._wf_interval(p_step ->> 'duration');
    elsif p_step ? 'until_field' then
        if p_doc ->> (p_step ->> 'until_field') is null then
            return jsonb_build_object('result', jsonb_build_object(
                'skipped', format('%s is empty', p_step ->> 'until_field')
            ));
        end if;
        -- A date (no time) means midnight in the org's time zone.
        v_at := case
            when p_doc ->> (p_step ->> 'until_field') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
                (p_doc ->> (p_step ->> 'until_field'))::date::timestamp at time zone (
                    select o.timezone from app.organizations as o where o.id = p_exec.org_id
                )
            else (p_doc ->> (p_step ->> 'until_field'))::timestamptz
        end + coalesce(app._wf_interval(p_step ->> 'offset'), interval '0');
    else
        v_tz := case coalesce(p_step #>> '{until,timezone}', 'org')
            when 'org' then (select o.timezone from app.organizations as o where o.id = p_exec.org_id)
            when 'owner' then coalesce(
                (
                    select u.timezone from app.user_profiles as u
                    where u.org_id = p_exec.org_id and u.id = (p_doc ->> p_type.owner_field)::uuid
                ),
                (select o.timezone from app.organizations as o where o.id = p_exec.org_id)
            )
            else p_step #>> '{until,timezone}'
        end;
        v_days := coalesce(
            (select array_agg(d) from jsonb_array_elements_text(p_step #> '{until,weekdays}') as d),
            array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
        );
        v_local := v_now at time zone v_tz;
        for v_day in 0 .. 7 loop
            v_candidate := v_local::date + v_day + (p_step #>> '{until,time}')::time;
            if v_candidate > v_local
                and (array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])[
                    extract(dow from v_candidate)::integer + 1
                ] = any(v_days) then
                v_at := v_candidate at time zone v_tz;
                exit;
            end if;
        end loop;
    end if;
    if v_at <= v_now then
        return jsonb_build_object('result', jsonb_build_object('until', v_at, 'waited', false));
    end if;
    return jsonb_build_object(
        'park', 'timer', 'wake_at', v_at, 'result', jsonb_build_object('until', v_at)
    );
end
$function$;

-- escalate: up the owner's manager chain (or to a named user), then notify
-- them or make them the owner.
create or replace function app._wf_step_escalate(
    p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb,
    p_type app.entity_types
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_target uuid;
    v_notified boolean;
begin
    if coalesce(p_step ->> 'to', 'manager') = 'manager' then
        v_target := (p_doc ->> p_type.owner_field)::uuid;
        for v_level in 1 .. coalesce((p_step ->> 'levels')::integer, 1) loop
            select u.manager_id into v_target from app.user_profiles as u
            where u.org_id = p_exec.org_id and u.id = v_target;
            exit when v_target is null;
        end loop;
    else
        v_target := app._wf_resolve_user(
            p_exec.org_id, p_step ->> 'to', p_doc, p_type.owner_field, p_exec.triggered_by
        );
    end if;
    if v_target is null then
        return jsonb_build_object('result', jsonb_build_object('skipped', 'no one to escalate to'));
    end if;
    if coalesce(p_step ->> 'action', 'notify') = 'reassign' then
        perform app._wf_set_field(p_exec, p_type, p_type.owner_field, to_jsonb(v_target));
    end if;
    v_notified := app._wf_notify(
        p_org_id => p_exec.org_id,
        p_user_ids => array[v_target],
        p_template => 'workflow_escalation',
        p_variables => p_vars || jsonb_build_object(
            'item', jsonb_build_object('title', p_doc ->> p_type.name_field),
            'message', coalesce(
                app._wf_text(p_step ->> 'message', p_vars),
                format('%s needs your attention.', p_doc ->> p_type.name_field)
            )
        ),
        p_entity_type => p_exec.entity_type,
        p_entity_id => p_exec.entity_id,
        p_execution_id => p_exec.id
    );
    return jsonb_build_object('result', jsonb_build_object(
        'escalated_to', v_target, 'action', coalesce(p_step ->> 'action', 'notify'),
        'notified', v_notified
    ));
end
$function$;
