-- Starting executions: the statement-level triggers on every entity table
-- match workflows set-based, in the transaction of the change; manual starts
-- and scheduled triggers use the same insert.

-- The execution this transaction is running (api.run_execution), if any:
-- its org, id, depth and workflow chain. The setting alone proves nothing
-- (anyone may set it); the execution row must name this transaction.
create or replace function app._wf_run_context()
returns table (org_id uuid, execution_id uuid, depth integer, chain uuid[])
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_setting text := nullif(pg_catalog.current_setting('intime.wf_execution', true), '');
    v_xid xid8;
begin
    if v_setting is null then
        return;
    end if;
    -- The run's stamp (app._wf_run_stamp), read on this node: on Citus the query
    -- below runs on the node that holds the row, and a trigger reads it on the node
    -- where it fires; there the setting's mark must be the engine's.
    v_xid := app._wf_run_stamp();
    if v_xid is null then
        return;
    end if;
    return query
    select e.org_id, e.id, e.depth, e.chain
    from app.workflow_executions as e
    where
        e.org_id = split_part(v_setting, ':', 1)::uuid
        and e.id = split_part(v_setting, ':', 2)::uuid
        and e.run_xid = v_xid;
end
$function$;

-- The run of an execution this transaction is making, for the matcher, the approval
-- field lock and the email step (app._wf_run_context): 'org:execution' in the
-- setting intime.wf_execution, trusted because the execution's run_xid is this
-- transaction's (app._wf_run_stamp). On a single node a set_config, the stamp the
-- transaction id. On Citus the triggers that read it fire on the workers, where
-- another transaction id runs and set_config does not reach: there a SET LOCAL
-- (which Citus sends to the workers) carries 'org:execution:token:mac', the token 244
-- random bits (two v4 UUIDs), the mac a keyed hash with app.stream_secret's key (as
-- the actor's pin). The run's stamp (run_xid) is a hash of the token, not the token:
-- whoever reads the execution row (a user of the org; the service, which can read the
-- key too) cannot name the run from it. The token lives in the engine's transaction
-- only (and in the SET LOCAL that Citus sends to the workers' connections of the
-- owner: a server log that records statements holds it). Null clears it.
create or replace function app._wf_set_run(p_org_id uuid, p_execution_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_body text;
begin
    if not app._on_citus() then
        perform pg_catalog.set_config(
            'intime.wf_execution', coalesce(p_org_id || ':' || p_execution_id, ''), true
        );
        return;
    end if;
    if p_execution_id is null then
        execute format('set local intime.wf_execution = %L', '');
        return;
    end if;
    v_body := p_org_id || ':' || p_execution_id || ':'
        || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
    execute format(
        'set local intime.wf_execution = %L', v_body || ':' || app._keyed_mark('intime-run', v_body)
    );
end
$function$;

-- The stamp of the run this transaction makes (app._wf_set_run): on a single node
-- the transaction id; on Citus, when the setting's mac is the engine's, a hash of its
-- token (60 bits of its SHA-256), else null.
create or replace function app._wf_run_stamp()
returns xid8
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_setting text := nullif(pg_catalog.current_setting('intime.wf_execution', true), '');
    v_parts text [];
begin
    if not app._on_citus() then
        return pg_catalog.pg_current_xact_id();
    end if;
    if v_setting is null
        or v_setting !~ '^[0-9a-f-]{36}:[0-9a-f-]{36}:[0-9a-f]{64}:[0-9a-f]{64}$' then
        return null;
    end if;
    v_parts := string_to_array(v_setting, ':');
    if app._keyed_mark('intime-run', v_parts[1] || ':' || v_parts[2] || ':' || v_parts[3])
        is distinct from v_parts[4] then
        return null;
    end if;
    return (
        ('x' || left(encode(sha256(convert_to(v_parts[3], 'UTF8')), 'hex'), 15))::bit(60)::bigint
    )::text::xid8;
end
$function$;

-- Insert executions (and their instances, logs and workflow.run jobs) for
-- (org, workflow, entity) triples, honouring each workflow's re-enrollment
-- policy: one active execution per workflow and entity unless concurrent,
-- and never a second one for 'never'. Returns the executions made.
--
-- Each statement either reads or writes one tenant table, filtered by the
-- input's orgs (which a trigger on a Citus shard keeps to that shard's
-- group), or works on arrays alone. The rows it inserts get their ids here and
-- are read back: no data-modifying CTE joins a distributed table with another
-- or with the node-local queue (docs/scale-out.md, "Triggers").
create or replace function app._wf_start(
    p_org_ids uuid[],
    p_workflow_ids uuid[],
    p_entity_ids uuid[],
    p_trigger_events jsonb[],
    p_trigger_type text,
    p_triggered_by uuid default null,
    p_depth integer default 0,
    p_chain uuid[] default '{}',
    p_parent_execution_id uuid default null
)
returns table (execution_id uuid, org_id uuid, workflow_id uuid, entity_id uuid)
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_orgs uuid [] := array(select distinct x.o from unnest(p_org_ids) as x (o));
    v_workflows app.workflows [];
    v_states app.workflow_states [];
    v_made uuid [];
    v_instances app.workflow_instances [];
    v_new_instances uuid [];
    v_ran uuid [];
    v_c_orgs uuid [];
    v_c_ids uuid [];
    v_c_workflows uuid [];
    v_c_entities uuid [];
    v_c_events jsonb [];
    v_c_instances uuid [];
    v_jobs bigint [];
    v_ids uuid [];
    v_orgs_out uuid [];
    v_instances_out uuid [];
    v_wake_jobs bigint [];
begin
    select array_agg(w) into v_workflows
    from app.workflows as w
    where w.org_id = any(v_orgs) and w.id = any(p_workflow_ids);
    if v_workflows is null then
        return;
    end if;
    select array_agg(s) into v_states
    from app.workflow_states as s
    where s.org_id = any(v_orgs) and s.workflow_id = any(p_workflow_ids) and s.state_type = 'initial';

    -- A new instance has had no execution, so the one about to start is
    -- certain: count it now (updating the rows just inserted would pay every
    -- foreign-key check again, a third of a bulk statement's time).
    select array_agg(gen_random_uuid()) into v_made from unnest(p_org_ids);
    insert into app.workflow_instances (
        org_id, id, workflow_id, entity_type, entity_id, current_state_id, created_by,
        executions_started, last_execution_at
    )
    select distinct on (i.org_id, i.workflow_id, i.entity_id)
        i.org_id, i.id, i.workflow_id, w.entity_type, i.entity_id, s.id, p_triggered_by, 1, app.now()
    from unnest(p_org_ids, p_workflow_ids, p_entity_ids, v_made)
        as i (org_id, workflow_id, entity_id, id)
    inner join unnest(v_workflows) as w on w.org_id = i.org_id and w.id = i.workflow_id
    left join unnest(v_states) as s on s.org_id = i.org_id and s.workflow_id = i.workflow_id
    on conflict (org_id, workflow_id, entity_id) do nothing;

    select array_agg(inst) into v_instances
    from app.workflow_instances as inst
    inner join (
        select distinct k.org_id, k.workflow_id, k.entity_id
        from unnest(p_org_ids, p_workflow_ids, p_entity_ids) as k (org_id, workflow_id, entity_id)
    ) as k on inst.org_id = k.org_id and inst.workflow_id = k.workflow_id and inst.entity_id = k.entity_id
    where inst.org_id = any(v_orgs);
    select array_agg(i.id) into v_new_instances
    from unnest(v_instances) as i
    inner join unnest(v_made) as m (id) on m.id = i.id;

    -- The instances of re-enrollment 'never' workflows that have had a run.
    if exists (select 1 from unnest(v_workflows) as w where w.reenrollment = 'never') then
        select array_agg(distinct e.instance_id) into v_ran
        from app.workflow_executions as e
        where
            e.org_id = any(v_orgs)
            and e.instance_id = any(array(
                select i.id from unnest(v_instances) as i
                inner join unnest(v_workflows) as w on w.org_id = i.org_id and w.id = i.workflow_id
                where w.reenrollment = 'never'
            ));
    end if;

    select
        array_agg(i.org_id), array_agg(gen_random_uuid()), array_agg(i.workflow_id),
        array_agg(i.entity_id), array_agg(i.trigger_event), array_agg(inst.id)
    into v_c_orgs, v_c_ids, v_c_workflows, v_c_entities, v_c_events, v_c_instances
    from unnest(p_org_ids, p_workflow_ids, p_entity_ids, p_trigger_events)
        as i (org_id, workflow_id, entity_id, trigger_event)
    inner join unnest(v_workflows) as w on w.org_id = i.org_id and w.id = i.workflow_id
    inner join unnest(v_instances) as inst
        on
            inst.org_id = i.org_id and inst.workflow_id = i.workflow_id
            and inst.entity_id = i.entity_id
    -- A join, hashed (a NOT EXISTS under the OR was a linear scan per row).
    left join (select distinct r.id from unnest(v_ran) as r (id)) as ran on ran.id = inst.id
    where w.reenrollment <> 'never' or ran.id is null;
    if v_c_ids is null then
        return;
    end if;

    -- One wake-up job per 100 executions (api.run_executions runs them in
    -- batches); its id is each execution's wake_job_id, for the sweeper.
    v_jobs := array(
        select nextval('queue.pgqueuer_id_seq')
        from generate_series(1, (cardinality(v_c_ids) + 99) / 100)
    );
    insert into app.workflow_executions (
        org_id, id, instance_id, workflow_id, workflow_version, entity_type, entity_id,
        triggered_by, trigger_type, trigger_event, total_steps, max_retries, depth, chain,
        parent_execution_id, exclusive, wake_job_id
    )
    select
        c.org_id, c.id, c.instance_id, c.workflow_id, w.version, w.entity_type, c.entity_id,
        p_triggered_by, p_trigger_type, c.trigger_event,
        coalesce(jsonb_array_length(w.definition -> 'steps'), 0),
        w.max_retries, p_depth, p_chain || c.workflow_id, p_parent_execution_id,
        w.reenrollment <> 'concurrent', v_jobs[(c.n - 1) / 100 + 1]
    from unnest(v_c_orgs, v_c_ids, v_c_instances, v_c_workflows, v_c_entities, v_c_events)
        with ordinality as c (org_id, id, instance_id, workflow_id, entity_id, trigger_event, n)
    inner join unnest(v_workflows) as w on w.org_id = c.org_id and w.id = c.workflow_id
    on conflict (org_id, workflow_id, entity_id)
    where exclusive and status in ('pending', 'running', 'waiting', 'paused')
    do nothing;

    -- What was inserted: an execution the conflict skipped is not there.
    select array_agg(e.id), array_agg(e.org_id), array_agg(e.instance_id), array_agg(e.wake_job_id)
    into v_ids, v_orgs_out, v_instances_out, v_wake_jobs
    from app.workflow_executions as e
    inner join unnest(v_c_orgs, v_c_ids) as c (org_id, id) on e.org_id = c.org_id and e.id = c.id
    where e.org_id = any(v_orgs);
    if v_ids is null then
        return;
    end if;

    -- A job that wakes one execution runs it (workflow.run, the same as a
    -- resume's); a job for more runs due executions in batches until none is
    -- left (workflow.run_due). The queue is the node's own table: a statement
    -- of its own.
    insert into queue.pgqueuer (id, priority, entrypoint, payload, status, execute_after)
    select
        g.job_id, 5,  -- as app._wf_schedule_run's: ahead of email.send backlogs
        case when g.n = 1 then 'workflow.run' else 'workflow.run_due' end,
        convert_to(
            case
                when g.n = 1 then
                    format('{"org_id": "%s", "execution_id": "%s"}', g.org_id, g.id)
                else format('{"executions": %s}', g.n)
            end,
            'UTF8'
        ),
        'queued', pg_catalog.now()
    from (
        select x.job_id, count(*) as n, min(x.org_id::text) as org_id, min(x.id::text) as id
        from unnest(v_wake_jobs, v_orgs_out, v_ids) as x (job_id, org_id, id)
        group by x.job_id
    ) as g;

    update app.workflow_instances as i
    set
        executions_started = i.executions_started + n.started,
        last_execution_at = app.now(),
        updated_at = app.now()
    from (
        select x.org_id, x.instance_id, count(*)::integer as started
        from unnest(v_orgs_out, v_instances_out) as x (org_id, instance_id)
        where not exists (select 1 from unnest(v_new_instances) as m (id) where m.id = x.instance_id)
        group by 1, 2
    ) as n
    where i.org_id = n.org_id and i.id = n.instance_id and i.org_id = any(v_orgs);

    -- No "queued" log line per execution: the execution row says it
    -- (api.get_execution_timeline shows it first), and a bulk statement would
    -- otherwise write one more partitioned row, with its checks, per row.
    return query
    select x.id, x.org_id, c.workflow_id, c.entity_id
    from unnest(v_ids, v_orgs_out) as x (id, org_id)
    inner join unnest(v_c_ids, v_c_workflows, v_c_entities) as c (id, workflow_id, entity_id)
        on c.id = x.id;
end
$function$;

-- Match changed rows against the active workflows of their orgs and start
-- what fires. p_new/p_old are the rows as jsonb, pairwise (null on the side
-- that does not exist). Called by the statement triggers below.
create or replace function app._wf_match_rows(
    p_entity_type text, p_event text, p_new jsonb[], p_old jsonb[]
)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_ctx record;
    v_max_depth integer;
    v_org_ids uuid [];
    v_workflow_ids uuid [];
    v_entity_ids uuid [];
    v_events jsonb [];
    v_started integer;
    v_status_field text;
    v_orgs uuid [];
    v_workflows app.workflows [];
    v_org_rows uuid [];
    v_org_docs jsonb [];
begin
    select e.status_field into v_status_field
    from app.entity_types as e where e.entity_type = p_entity_type;
    select c.* into v_ctx from app._wf_run_context() as c;

    -- The orgs' active workflows for this event, and the orgs, first; then a
    -- match on arrays alone (on a Citus shard, a query joining the changed rows
    -- to a table is planned through intermediate results, which a trigger
    -- there cannot use).
    v_orgs := array(
        select distinct (coalesce(x.new_doc, x.old_doc) ->> 'org_id')::uuid
        from unnest(p_new, p_old) as x (new_doc, old_doc)
    );
    select array_agg(w) into v_workflows
    from app.workflows as w
    where
        w.org_id = any(v_orgs) and w.entity_type = p_entity_type and w.is_active
        and w.deleted_at is null and p_event = any(w.trigger_events);
    if v_workflows is null then
        return 0;
    end if;
    select array_agg(o.id), array_agg(to_jsonb(o)) into v_org_rows, v_org_docs
    from app.organizations as o
    where o.id = any(v_orgs);

    with
    changed as materialized (
        select
            x.new_doc, x.old_doc, coalesce(x.new_doc, x.old_doc) as doc,
            (coalesce(x.new_doc, x.old_doc) ->> 'org_id')::uuid as org_id,
            (coalesce(x.new_doc, x.old_doc) ->> 'id')::uuid as entity_id
        from unnest(p_new, p_old) as x (new_doc, old_doc)
    )

    select
        array_agg(c.org_id), array_agg(w.id), array_agg(c.entity_id),
        array_agg(
            jsonb_build_object('event', p_event, 'trigger', t.v)
            -- A deleted row is gone by the time the steps run: keep it.
            || case when p_event = 'delete' then jsonb_build_object('row', c.old_doc) else '{}' end
        )
    into v_org_ids, v_workflow_ids, v_entity_ids, v_events
    from changed as c
    inner join unnest(v_org_rows, v_org_docs) as o (id, doc) on o.id = c.org_id
    inner join unnest(v_workflows) as w on w.org_id = c.org_id
    cross join lateral (
        select tr.v
        from jsonb_array_elements(w.definition -> 'triggers') as tr (v)
        where app._wf_trigger_fires(tr.v, p_event, c.new_doc, c.old_doc, v_status_field)
        limit 1
    ) as t
    where app._wf_holds(
        w.definition -> 'conditions',
        c.doc,
        c.old_doc,
        o.doc
    );

    if v_org_ids is null then
        return 0;
    end if;
    -- A set-based step (app._wf_run_set) made this change for many executions
    -- at once: a start needs the one execution that made it (its depth and
    -- chain), so the group's attempt is undone and its executions run one by
    -- one. Anyone may set the setting; it only ever refuses.
    if pg_catalog.current_setting('intime.wf_set', true) = 'on' then
        raise exception using
            errcode = 'IT013',
            message = 'a set-based workflow step would start a workflow: run one by one';
    end if;

    if v_ctx.execution_id is not null then
        select s.workflow_max_depth into v_max_depth from app.settings as s;
        -- The recursion guard: a workflow never re-fires itself through its
        -- own chain, and chains stop at the depth limit. Both are logged on
        -- the execution whose step made the change.
        insert into app.workflow_execution_logs (org_id, execution_id, level, message, data)
        select
            v_ctx.org_id, v_ctx.execution_id, 'warning',
            case
                when x.workflow_id = any(v_ctx.chain)
                    then 'recursion guard: workflow not re-fired by its own chain'
                else format('recursion guard: depth limit %s reached', v_max_depth)
            end,
            jsonb_build_object(
                'workflow_id', x.workflow_id, 'entity_id', x.entity_id,
                'depth', v_ctx.depth + 1, 'chain', to_jsonb(v_ctx.chain)
            )
        from unnest(v_workflow_ids, v_entity_ids) as x (workflow_id, entity_id)
        where x.workflow_id = any(v_ctx.chain) or v_ctx.depth + 1 > v_max_depth;

        select array_agg(x.org_id), array_agg(x.workflow_id), array_agg(x.entity_id), array_agg(x.ev)
        into v_org_ids, v_workflow_ids, v_entity_ids, v_events
        from unnest(v_org_ids, v_workflow_ids, v_entity_ids, v_events)
            as x (org_id, workflow_id, entity_id, ev)
        where x.workflow_id <> all(v_ctx.chain) and v_ctx.depth + 1 <= v_max_depth;
        if v_org_ids is null then
            return 0;
        end if;
    end if;

    select count(*) into v_started
    from app._wf_start(
        p_org_ids => v_org_ids,
        p_workflow_ids => v_workflow_ids,
        p_entity_ids => v_entity_ids,
        p_trigger_events => v_events,
        p_trigger_type => 'event',
        p_triggered_by => app.current_user_id(),
        p_depth => coalesce(v_ctx.depth + 1, 0),
        p_chain => coalesce(v_ctx.chain, '{}'),
        p_parent_execution_id => v_ctx.execution_id
    );
    return v_started;
end
$function$;

-- AFTER INSERT/UPDATE/DELETE, per statement, on every entity table.
-- tg_argv[0] is the entity type. When the changed rows' orgs have no active
-- workflow for this event, one index probe and out. A statement reads either a
-- transition table or the tables, never both: on a Citus worker a statement on a
-- distributed or reference table cannot see a transition table (docs/scale-out.md).
create or replace function app._tg_workflow_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [] := array(select distinct r.org_id from new_rows as r);
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    if exists (
        select 1 from app.workflows as w
        where
            w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
            and 'insert' = any(w.trigger_events)
            and w.org_id = any(v_org_ids)
    ) then
        perform app._wf_match_rows(
            tg_argv[0], 'insert', array(select to_jsonb(r) from new_rows as r),
            array_fill(null::jsonb, array[(select count(*)::integer from new_rows)])
        );
    end if;
    return null;
end
$function$;

create or replace function app._tg_workflow_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_new jsonb [];
    v_old jsonb [];
    v_whole_old boolean;
    v_fields text [];
    v_columns text;
    v_changed text;
    v_org_ids uuid [] := array(select distinct r.org_id from new_rows as r);
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    -- The update triggers of the changed rows' orgs' active workflows: does
    -- any need the whole old row ("updated" compares every column; a
    -- condition on "old.x" or with "changed" reads it), or only the columns
    -- that field_change / status_change triggers watch? The condition test
    -- is textual and errs towards the whole row.
    select
        bool_or(
            t.v ->> 'type' not in ('field_change', 'status_change')
            or coalesce((w.definition -> 'conditions')::text ~ '"old\.|"changed"', false)
        ),
        array_agg(distinct case t.v ->> 'type'
            when 'status_change' then e.status_field else t.v ->> 'field'
        end)
    into v_whole_old, v_fields
    from app.workflows as w
    inner join app.entity_types as e on e.entity_type = w.entity_type
    cross join lateral jsonb_array_elements(w.definition -> 'triggers') as t (v)
    where
        w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
        and 'update' = any(w.trigger_events)
        and w.org_id = any(v_org_ids)
        and t.v ->> 'type' in ('updated', 'status_change', 'field_change');
    if v_whole_old is null then
        return null;
    end if;
    -- EXECUTE: planned for this statement's row counts. A static query's
    -- plan is kept per connection with the row count it first saw, so a
    -- bulk UPDATE after a single-row one would join with nested loops.
    if v_whole_old then
        execute 'select array_agg(to_jsonb(n)), array_agg(to_jsonb(o)) '
            'from new_rows as n inner join old_rows as o on o.org_id = n.org_id and o.id = n.id'
        into v_new, v_old;
    else
        -- Only the watched columns of the old row, and only the rows where
        -- one of them changed (as jsonb, the way app._wf_trigger_fires
        -- compares): no trigger can fire on the others. A watched name that
        -- is no column never fires and is left out.
        select
            string_agg(format('%L, o.%I', a.attname, a.attname), ', '),
            string_agg(
                format('to_jsonb(n.%I) is distinct from to_jsonb(o.%I)', a.attname, a.attname),
                ' or '
            )
        into v_columns, v_changed
        from pg_catalog.pg_attribute as a
        where
            a.attrelid = tg_relid and a.attnum > 0 and not a.attisdropped
            and a.attname = any(v_fields);
        if v_columns is null then
            return null;
        end if;
        execute format(
            'select array_agg(to_jsonb(n)), array_agg(jsonb_build_object(%s)) '
            'from new_rows as n inner join old_rows as o on o.org_id = n.org_id and o.id = n.id '
            'where %s',
            v_columns, v_changed
        )
        into v_new, v_old;
    end if;
    if v_new is not null then
        perform app._wf_match_rows(tg_argv[0], 'update', v_new, v_old);
    end if;
    return null;
end
$function$;

create or replace function app._tg_workflow_delete()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [] := array(select distinct r.org_id from old_rows as r);
    v_old jsonb [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from old_rows) then
        return null;
    end if;
    if exists (
        select 1 from app.workflows as w
        where
            w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
            and 'delete' = any(w.trigger_events)
            and w.org_id = any(v_org_ids)
    ) then
        v_old := array(select to_jsonb(r) from old_rows as r);
        -- Not the rows of an organization deleted in the same statement.
        v_old := array(
            select r.doc from unnest(v_old) as r (doc)
            where exists (select 1 from app.organizations as o where o.id = (r.doc ->> 'org_id')::uuid)
        );
        perform app._wf_match_rows(
            tg_argv[0], 'delete', array_fill(null::jsonb, array[cardinality(v_old)]), v_old
        );
    end if;
    return null;
end
$function$;

-- Start a workflow by hand (trigger type manual) for one entity.
create or replace function api.start_workflow(
    p_workflow_id uuid, p_entity_id uuid, p_payload jsonb default '{}'
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_wf app.workflows%rowtype;
    v_table text;
    v_exists boolean;
    v_id uuid;
begin
    select w.* into v_wf from app.workflows as w
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
    if not v_wf.is_active then
        raise exception using errcode = 'IT013', message = format('workflow %s is not active', v_wf.name);
    end if;
    if not exists (
        select 1 from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
        where t.v ->> 'type' = 'manual'
    ) then
        raise exception using
            errcode = 'IT013',
            message = format('workflow %s has no manual trigger', v_wf.name),
            hint = 'Add {"type": "manual"} to its triggers to allow starting it by hand.';
    end if;
    select e.table_name into v_table from app.entity_types as e where e.entity_type = v_wf.entity_type;
    execute format('select exists (select 1 from app.%I where org_id = $1 and id = $2)', v_table)
    into v_exists using v_org_id, p_entity_id;
    if not v_exists then
        raise exception using
            errcode = 'IT004', message = format('%s %s not found', v_wf.entity_type, p_entity_id);
    end if;
    select s.execution_id into v_id
    from app._wf_start(
        p_org_ids => array[v_org_id],
        p_workflow_ids => array[p_workflow_id],
        p_entity_ids => array[p_entity_id],
        p_trigger_events => array[jsonb_build_object('event', 'manual', 'payload', coalesce(p_payload, '{}'))],
        p_trigger_type => 'manual',
        p_triggered_by => app.current_user_id()
    ) as s;
    if v_id is null then
        raise exception using
            errcode = 'IT013',
            message = format(
                'workflow %s is already running for this %s (re-enrollment: %s)',
                v_wf.name, v_wf.entity_type, v_wf.reenrollment
            );
    end if;
    return v_id;
end
$function$;

comment on function api.start_workflow(uuid, uuid, jsonb) is
'Start a workflow by hand for one entity of its type (trigger type manual); p_payload is kept in '
'the execution''s trigger_event. IT013 when the workflow is inactive or the entity is already '
'enrolled and the re-enrollment policy refuses another run. Returns the execution id.';
