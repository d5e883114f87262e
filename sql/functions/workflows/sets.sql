-- Set-based steps (issue 17; docs/workflows.md, "Batched running"): a batch's
-- fresh executions of one workflow whose steps are a straight run of
-- database-only steps (create_task, create_activity, update_field,
-- send_notification) run step by step for the whole group, one statement per
-- step (a notification: one send per execution), the way the campaign tick
-- sends: the entity tables' statement triggers (history, workflow matching,
-- reference checks, built-in notifications) run once per step, not once per
-- execution. Whatever such a group cannot do as a set (a change that starts
-- another workflow, an approval's lock, an entity gone, a failing render)
-- undoes the group's attempt, and its executions run one by one as before.

-- Which steps a group may run as a set: one to 50 steps, each of a set kind,
-- none jumping (no "next"); conditions, waits, actions and approvals go one by
-- one.
create or replace function app._wf_set_steps(p_steps jsonb)
returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select
        jsonb_typeof(p_steps) = 'array'
        and jsonb_array_length(p_steps) between 1 and 50
        and not exists (
            select 1
            from jsonb_array_elements(p_steps) as s (v)
            where
                jsonb_typeof(s.v) <> 'object'
                or s.v ->> 'type' is null
                or s.v ->> 'type' not in (
                    'create_task', 'create_activity', 'update_field', 'send_notification'
                )
                or s.v ? 'next'
        )
$function$;

-- Whether a group's writes could start a workflow of its org (a workflow on
-- new activities, for a create_task or create_activity step; one on its
-- entity type whose update trigger watches a field an update_field step
-- writes, or any field): the matcher would refuse the group's change (it
-- needs the one execution that made it), so such a group runs one by one
-- from the start instead of twice. Errs towards true (a trigger's from/to
-- and the conditions are not evaluated).
create or replace function app._wf_set_may_start(
    p_org_id uuid, p_entity_type text, p_steps jsonb
)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select exists (
        select 1
        from app.workflows as w
        inner join app.entity_types as t on t.entity_type = w.entity_type
        cross join lateral jsonb_array_elements(w.definition -> 'triggers') as tr (v)
        cross join lateral jsonb_array_elements(p_steps) as s (v)
        where
            w.org_id = p_org_id and w.is_active and w.deleted_at is null
            and (
                (
                    s.v ->> 'type' in ('create_task', 'create_activity')
                    and w.entity_type = 'activity' and 'insert' = any(w.trigger_events)
                    and tr.v ->> 'type' = 'created'
                )
                or (
                    s.v ->> 'type' = 'update_field'
                    and w.entity_type = p_entity_type and 'update' = any(w.trigger_events)
                    and (
                        tr.v ->> 'type' = 'updated'
                        or (tr.v ->> 'type' = 'field_change' and tr.v ->> 'field' = s.v ->> 'field')
                        or (tr.v ->> 'type' = 'status_change' and t.status_field = s.v ->> 'field')
                    )
                )
            )
    )
$function$;

-- Run the set-capable groups of a batch (api.run_executions; the rows are
-- locked and due): fresh executions (pending, never run) of the same workflow
-- version, on distinct entities, two or more of them. Each group acts as its
-- org, in its own subtransaction; a group that raises leaves no trace and is
-- left to the caller's one-by-one runs. Returns the executions completed here
-- and their log lines (the caller inserts them with its own).
create or replace function app._wf_run_set(
    p_execs app.workflow_executions[],
    out done uuid[],
    out logs app.workflow_execution_logs[]
)
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_xid xid8;
    v_group record;
    v_execs app.workflow_executions [];
    v_exec app.workflow_executions%rowtype;
    v_type app.entity_types%rowtype;
    v_step jsonb;
    v_kind text;
    v_docs jsonb [];
    v_vars jsonb [];
    v_results jsonb [];
    v_ids uuid [];
    v_logs app.workflow_execution_logs [];
    v_step_ids uuid [];
    v_started timestamptz;
    v_held uuid [];
    v_versioned uuid [];
    v_version_steps jsonb [];
    v_names_org uuid [];
    v_names_id uuid [];
    v_names text [];
begin
    done := '{}';
    logs := '{}';
    -- The switch (docs/operations.md): off runs every execution one by one.
    if pg_catalog.current_setting('intime.workflow_sets', true) = 'off' then
        return;
    end if;
    -- What the grouping needs from the tables, each read on its own by the batch's
    -- keys (on Citus a statement over the batch's rows may not probe a table row by
    -- row, nor call a helper that reads one: docs/scale-out.md, "SQL shapes"):
    -- the fresh executions an older due one on the same entity holds back (one by
    -- one, a batch runs the older first: a group never overtakes it, in this batch
    -- or the next), the steps of those that carry none, the workflows' names.
    select coalesce(array_agg(distinct e.id), '{}') into v_held
    from unnest(p_execs) as e
    inner join app.workflow_executions as o
        on o.org_id = e.org_id and o.entity_id = e.entity_id
    where
        e.status = 'pending' and e.runs = 0 and e.current_step_index = 0
        and o.status in ('pending', 'running') and o.id <> e.id
        and (o.created_at, o.id) < (e.created_at, e.id);
    select array_agg(e.id), array_agg(v.definition -> 'steps') into v_versioned, v_version_steps
    from unnest(p_execs) as e
    inner join app.workflow_versions as v
        on
            v.org_id = e.org_id and v.workflow_id = e.workflow_id
            and v.version = e.workflow_version
    where e.steps is null and e.status = 'pending' and e.runs = 0 and e.current_step_index = 0;
    select array_agg(w.org_id), array_agg(w.id), array_agg(w.name)
    into v_names_org, v_names_id, v_names
    from app.workflows as w
    inner join (select distinct e.org_id, e.workflow_id from unnest(p_execs) as e) as e
        on w.org_id = e.org_id and w.id = e.workflow_id;
    for v_group in
        select x.org_id, x.workflow_id, x.steps, n.name, array_agg(x.id order by x.id) as ids
        from (
            select
                e.org_id, e.id, e.workflow_id, e.entity_type,
                coalesce(e.steps, v_version_steps[array_position(v_versioned, e.id)]) as steps,
                count(*) over (partition by e.org_id, e.workflow_id, e.entity_id) as on_entity
            from unnest(p_execs) as e
            where
                e.status = 'pending' and e.runs = 0 and e.current_step_index = 0
                and e.id <> all(v_held)
        ) as x
        inner join unnest(v_names_org, v_names_id, v_names) as n (org_id, id, name)
            on n.org_id = x.org_id and n.id = x.workflow_id
        where
            x.on_entity = 1 and app._wf_set_steps(x.steps)
            and not app._wf_set_may_start(x.org_id, x.entity_type, x.steps)
        group by x.org_id, x.workflow_id, x.steps, n.name
        having count(*) >= 2
    loop
        v_logs := '{}';
        begin
            perform api.set_actor(p_org_id => v_group.org_id);
            -- No one execution made the group's changes: the matcher refuses
            -- to start a workflow from them (app._wf_match_rows), which sends
            -- the group one by one, each with its depth and chain.
            perform app._wf_set_run(null, null);
            -- A SET LOCAL: on Citus the matcher reads it on the workers.
            set local intime.wf_set = 'on';
            -- Started in memory (the row is written once, at the end): what the
            -- steps' variables read of it (execution.started_at) is set here.
            select array_agg(
                jsonb_populate_record(
                    e,
                    jsonb_build_object(
                        'status', 'running', 'runs', e.runs + 1,
                        'started_at', coalesce(e.started_at, app.now()),
                        'execution_context', e.execution_context - 'requeued'
                    )
                )
                order by e.id
            )
            into v_execs
            from unnest(p_execs) as e
            where e.org_id = v_group.org_id and e.id = any(v_group.ids);
            select array_agg(e.id order by e.id) into v_ids from unnest(v_execs) as e;
            select v_logs || array_agg(
                app._wf_log_line(e.org_id, e.id, 'info', 'execution started', null) order by e.id
            )
            into v_logs
            from unnest(v_execs) as e;
            select t.* into v_type from app.entity_types as t
            where t.entity_type = (v_execs[1]).entity_type;

            for v_index in 0 .. jsonb_array_length(v_group.steps) - 1 loop
                v_step := v_group.steps -> v_index;
                v_kind := v_step ->> 'type';
                v_started := app.now();
                -- Each entity as it is now (an earlier step may have changed it).
                execute format(
                    'select array_agg(to_jsonb(t) order by x.i) '
                    'from unnest($1::uuid[]) with ordinality as x (id, i) '
                    'left join app.%I as t on t.org_id = $2 and t.id = x.id',
                    v_type.table_name
                ) into v_docs using
                    array(select e.entity_id from unnest(v_execs) with ordinality as e order by e.ordinality),
                    v_group.org_id;
                if array_position(v_docs, null) is not null then
                    raise exception using
                        errcode = 'IT004', message = 'an entity of the group no longer exists';
                end if;
                select array_agg(app._wf_vars(v_execs[g.i], v_docs[g.i], v_group.name) order by g.i)
                into v_vars
                from generate_subscripts(v_execs, 1) as g (i);
                v_results := case v_kind
                    when 'update_field' then
                        app._wf_steps_update_field(v_execs, v_step, v_docs, v_vars, v_type)
                    -- Each execution's own request (recipients, variables): one
                    -- app._notification_send each, in the group's subtransaction.
                    when 'send_notification' then array(
                        select
                            app._wf_step_notify(
                                v_execs[g.i], v_step, v_docs[g.i], v_vars[g.i], v_type
                            ) -> 'result'
                        from generate_subscripts(v_execs, 1) as g (i)
                        order by g.i
                    )
                    else app._wf_steps_activity(v_execs, v_step, v_docs, v_vars, v_type)
                end;
                -- Each execution's step row, done, and its log line; each goes on,
                -- its context holding the step's result.
                v_step_ids := array(
                    select gen_random_uuid() from generate_subscripts(v_execs, 1) as g (i) order by g.i
                );
                insert into app.workflow_steps (
                    org_id, id, execution_id, transition_id, step_type, step_kind, step_name,
                    step_config, position, status, attempts, started_at, completed_at, result
                )
                select
                    v_group.org_id, v_step_ids[g.i], (v_execs[g.i]).id, (v_execs[g.i]).transition_id,
                    'action', v_kind, v_step ->> 'name', v_step, v_index, 'completed', 1, v_started,
                    app.now(), v_results[g.i]
                from generate_subscripts(v_execs, 1) as g (i);
                select
                    v_logs || array_agg(
                        app._wf_log_line(
                            v_group.org_id, (v_execs[g.i]).id, 'info',
                            format('step %s completed', v_step ->> 'name'), v_results[g.i],
                            v_step_ids[g.i]
                        )
                        order by g.i
                    ),
                    array_agg(
                        jsonb_populate_record(
                            v_execs[g.i],
                            jsonb_build_object(
                                'current_step_index', v_index + 1,
                                'execution_context', jsonb_set(
                                    (v_execs[g.i]).execution_context, '{steps}',
                                    coalesce((v_execs[g.i]).execution_context -> 'steps', '{}')
                                    || jsonb_build_object(v_step ->> 'name', v_results[g.i])
                                )
                            )
                        )
                        order by g.i
                    )
                into v_logs, v_execs
                from generate_subscripts(v_execs, 1) as g (i);
            end loop;

            -- No entity lock to release: only an approval step takes one. The
            -- stamp is read on this node (app._wf_run_context); on Citus, with no one
            -- run named in the group's setting, it is null (the executions end here).
            v_xid := app._wf_run_stamp();
            update app.workflow_executions as e
            set
                status = 'completed', completed_at = app.now(), waiting_for = null, wake_at = null,
                next_retry_at = null, started_at = x.started_at,
                run_xid = v_xid, runs = x.runs, updated_at = app.now(),
                current_step_index = x.current_step_index, retry_count = 0, error_message = null,
                execution_context = x.execution_context
            from unnest(v_execs) as x
            where e.org_id = v_group.org_id and e.org_id = x.org_id and e.id = x.id;
            select v_logs || array_agg(
                app._wf_log_line(e.org_id, e.id, 'info', 'execution completed', null) order by e.id
            )
            into v_logs
            from unnest(v_execs) as e;
            set local intime.wf_set = '';
            done := done || v_ids;
            logs := logs || v_logs;
        exception when others then
            -- Nothing of the group stays (the subtransaction is undone): the
            -- caller runs its executions one by one.
            null;
        end;
    end loop;
end
$function$;
