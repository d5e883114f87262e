-- The reconciliation sweep on a Citus cluster (docs/scale-out.md, "The
-- reconciliation on a cluster"). The queue is per node there: a row's job may sit
-- in any node's queue.pgqueuer, a node-local table that no distributed query
-- joins. So the sweep runs on the coordinator alone (its advisory lock is then the
-- cluster's), reads the rows in flight unlocked, asks every node's queue about
-- their jobs in one round trip (Citus's run_command_on_all_nodes: a connection of
-- its own to each node), and moves each row found without a live job in a
-- statement that keeps to its org, its row locked and checked again. A single
-- node never calls these: app._ops_reconcile_emails, app._wf_reconcile and
-- app._ops_reconcile_deliveries join its one queue.

-- Whether this Citus node is the coordinator (group 0). Dynamic: Citus's catalog
-- exists only on a Citus node; false elsewhere.
create or replace function app._citus_on_coordinator()
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_group integer;
begin
    if not app._on_citus() then
        return false;
    end if;
    execute format('select l.groupid from %I as l', 'pg_dist_local_group') into v_group;
    return v_group = 0;
end
$function$;

-- On one node, for app._ops_cluster_jobs: this node's jobs among p_ids and p_keys
-- (or with p_all every job with a dedupe key and every run job), queued, picked
-- or held failed, as a JSON array: id, key, status, entrypoint, execute_after, the
-- execution a workflow.run job runs, and a failed job's last error.
create or replace function app._ops_node_jobs(p_ids bigint[], p_keys text[], p_all boolean)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(jsonb_agg(jsonb_build_object(
        'id', j.id, 'key', j.dedupe_key, 'status', j.status, 'entrypoint', j.entrypoint,
        'execute_after', j.execute_after,
        -- Read by pattern from the bytes (encode never fails), not parsed: one
        -- job's malformed payload must not make this node unanswered for every sweep.
        'execution_id', case
            when j.entrypoint = 'workflow.run' then substring(
                encode(j.payload, 'escape')
                from '"execution_id": *"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"'
            )
        end,
        'error', case when j.status = 'failed' then app._ops_job_error(j.id) end
    )), '[]')::text
    from queue.pgqueuer as j
    where
        j.status in ('queued', 'picked', 'failed')
        and (
            j.id = any(p_ids) or j.dedupe_key = any(p_keys)
            or (p_all and (j.dedupe_key is not null or j.entrypoint like 'workflow.run%'))
        )
$function$;

-- On one node, for app._ops_cluster_revive: put back this node's held jobs with
-- one of p_ids and its dedupe key, due at p_ats (epoch seconds). Returns, as text,
-- the keys revived and the keys of which this node holds a live job.
create or replace function app._ops_node_revive(
    p_ids bigint[], p_keys text[], p_ats double precision[]
)
returns text
language sql
volatile
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(x.key), '{}')::text
    from unnest(p_ids, p_keys, p_ats) as x (id, key, at)
    where case
        when exists (
            select 1 from queue.pgqueuer as j
            where j.dedupe_key = x.key and j.status in ('queued', 'picked')
        ) then true
        when exists (
            select 1 from queue.pgqueuer as j
            where j.id = x.id and j.dedupe_key = x.key and j.status = 'failed'
        ) then app._ops_revive_held_job(x.id, to_timestamp(x.at))
        else false
    end
$function$;

-- Every node's jobs among p_ids (pgqueuer ids, which each node draws from a
-- sequence of its own, so the same id may be a job on two nodes) and p_keys
-- (dedupe keys), or with p_all every job with a dedupe key and every run job;
-- queued, picked or held failed: the node (pg_dist_node.nodeid), the job, when
-- it is due, the execution a workflow.run job runs (its payload), and a failed
-- job's last error. A node that did not answer is a row with status 'unanswered'
-- and its error: the caller must not take its silence for "no job".
create or replace function app._ops_cluster_jobs(
    p_ids bigint[], p_keys text[], p_all boolean default false
)
returns table (
    node_id integer,
    job_id bigint,
    dedupe_key text,
    status text,
    entrypoint text,
    execute_after timestamptz,
    execution_id uuid,
    error text
)
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_command text;
    v_node integer;
    v_ok boolean;
    v_result text;
begin
    -- Each node answers for its own queue (app._ops_node_jobs), in a connection of
    -- the owner's; the arrays travel as literals (%L).
    v_command := format(
        'select app._ops_node_jobs(%L::bigint[], %L::text[], %L::boolean)',
        coalesce(p_ids, '{}'), coalesce(p_keys, '{}'), coalesce(p_all, false)
    );
    for v_node, v_ok, v_result in execute format(
        'select r.nodeid, r.success, r.result from pg_catalog.%I($1) as r',
        'run_command_on_all_nodes'
    ) using v_command
    loop
        if not v_ok then
            return query select v_node, null::bigint, null::text, 'unanswered'::text,
                null::text, null::timestamptz, null::uuid, left(v_result, 500);
            continue;
        end if;
        return query
        select
            v_node, (x.value ->> 'id')::bigint, x.value ->> 'key',
            x.value ->> 'status', x.value ->> 'entrypoint', (x.value ->> 'execute_after')::timestamptz,
            (x.value ->> 'execution_id')::uuid, x.value ->> 'error'
        from jsonb_array_elements(v_result::jsonb) as x (value);
    end loop;
end
$function$;

-- The jobs of app._ops_cluster_job_list by dedupe key: whether one is live on
-- some node, and the newest held failed one (its id and last error). A set, for a
-- hashed join with the candidates.
create or replace function app._ops_cluster_keyed(p_jobs jsonb)
returns table (dedupe_key text, live boolean, held_job_id bigint, held_error text)
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select
        j.dedupe_key,
        bool_or(j.status in ('queued', 'picked')),
        (array_agg(j.job_id order by j.job_id desc) filter (where j.status = 'failed'))[1],
        (array_agg(j.error order by j.job_id desc) filter (where j.status = 'failed'))[1]
    from jsonb_to_recordset(p_jobs) as j (dedupe_key text, status text, job_id bigint, error text)
    where j.dedupe_key is not null
    group by j.dedupe_key
$function$;

-- How many candidates of a kind a sweep on a cluster reads: five times as many
-- as it may move (those with a live job are left out after the read), at most
-- 50,000 (their keys travel to every node in one command).
create or replace function app._ops_cluster_window(p_limit integer)
returns bigint
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select least(p_limit::bigint * 5, 50000)
$function$;

-- app._ops_cluster_jobs as a JSON array for the sweeps, or, when a node did not
-- answer, {"skipped": "a node did not answer: ..."}: a sweep must not take that
-- node's silence for "no job".
create or replace function app._ops_cluster_job_list(p_ids bigint[], p_keys text[])
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_jobs jsonb;
    v_silent jsonb;
begin
    select coalesce(jsonb_agg(to_jsonb(j)), '[]') into v_jobs
    from app._ops_cluster_jobs(p_ids, p_keys) as j;
    v_silent := jsonb_path_query_first(v_jobs, '$[*] ? (@.status == "unanswered")');
    if v_silent is not null then
        return jsonb_build_object(
            'skipped', format('a node did not answer: %s (node %s)', v_silent ->> 'error', v_silent ->> 'node_id')
        );
    end if;
    return v_jobs;
end
$function$;

-- Put held failed jobs back in their queue, on whichever node holds them: each
-- node revives its jobs with one of p_ids AND its dedupe key (an id alone may
-- name another node's job), due at p_ats (app._ops_revive_held_job). Committed
-- on each node at once, in a connection of its own: a sweep that then rolls back
-- leaves a revived job, which does what the lost one would have (its runner
-- checks the row first). Returns the dedupe keys revived, and those a node holds
-- a live job of (put back by someone else since the read: a job queued here as
-- well would be a second one).
create or replace function app._ops_cluster_revive(
    p_ids bigint[], p_keys text[], p_ats timestamptz[]
)
returns text[]
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_command text;
    v_revived text[] := '{}';
    v_ok boolean;
    v_result text;
begin
    if coalesce(cardinality(p_ids), 0) = 0 then
        return v_revived;
    end if;
    -- The times as epoch seconds: a number reads the same in every session.
    v_command := format(
        'select app._ops_node_revive(%L::bigint[], %L::text[], %L::double precision[])',
        p_ids, p_keys,
        array(select extract(epoch from a.at) from unnest(p_ats) with ordinality as a (at, n) order by a.n)
    );
    for v_ok, v_result in execute format(
        'select r.success, r.result from pg_catalog.%I($1) as r', 'run_command_on_all_nodes'
    ) using v_command
    loop
        -- A node that did not answer revived nothing: the caller queues a job.
        if v_ok then
            v_revived := v_revived || v_result::text[];
        end if;
    end loop;
    return v_revived;
end
$function$;

-- app._ops_reconcile_emails on a cluster: the same decisions. The candidates
-- are read oldest first, a window at a time (app._ops_cluster_window), at most 20
-- windows a call; those with a live job on any node are left out, the rest (at
-- most p_limit) locked one by one and checked again, then queued again or
-- failed as on one node. An email scheduled for later is not a candidate until
-- its time (a backlog of them would fill every window): one whose job was lost is
-- queued again by the first sweep after its send_after.
create or replace function app._ops_reconcile_emails_cluster(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
-- Times travel to the workers as text: in a style every node reads alike.
set datestyle = 'ISO, YMD'
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stamp timestamptz := app.now();
    v_clock timestamptz := pg_catalog.clock_timestamp();
    v_window bigint := app._ops_cluster_window(p_limit);
    v_after_at timestamptz := '-infinity';
    v_after_id uuid := '00000000-0000-0000-0000-000000000000';
    v_orgs uuid[];
    v_ids uuid[];
    v_keys text[];
    v_stamps timestamptz[];
    v_jobs jsonb;
    v_row record;
    v_email record;
    v_requeued integer := 0;
    v_failed integer := 0;
    v_revive_ids bigint[] := '{}';
    v_revive_keys text[] := '{}';
    v_revive_ats timestamptz[] := '{}';
    v_queue_orgs uuid[] := '{}';
    v_queue_ids uuid[] := '{}';
    v_queue_ats timestamptz[] := '{}';
    v_revived text[];
    v_skipped text;
begin
    for v_page in 1 .. 20 loop
        select
            array_agg(s.org_id order by s.updated_at, s.id), array_agg(s.id order by s.updated_at, s.id),
            array_agg('email.send:' || s.id order by s.updated_at, s.id),
            array_agg(s.updated_at order by s.updated_at, s.id)
        into v_orgs, v_ids, v_keys, v_stamps
        from (
            select s.org_id, s.id, s.updated_at
            from app.email_sends as s
            where
                s.status in ('queued', 'sending')
                and s.updated_at < v_stamp - p_grace
                and (s.status = 'queued' or s.sending_until is null or s.sending_until <= v_clock)
                and (s.send_after is null or s.send_after <= v_stamp)
                and (s.updated_at, s.id) > (v_after_at, v_after_id)
            order by s.updated_at, s.id
            limit v_window
        ) as s;
        exit when v_ids is null;

        v_jobs := app._ops_cluster_job_list(null, v_keys);
        if jsonb_typeof(v_jobs) = 'object' then
            v_skipped := v_jobs ->> 'skipped';  -- a node did not answer: no more pages
            exit;
        end if;

        -- Every row of the page without a live job is looked at (a row skipped below
        -- counts for nothing), until p_limit moved.
        for v_row in
            select c.org_id, c.id, c.dedupe_key, k.held_job_id, k.held_error
            from unnest(v_orgs, v_ids, v_keys) with ordinality as c (org_id, id, dedupe_key, n)
            left join app._ops_cluster_keyed(v_jobs) as k on k.dedupe_key = c.dedupe_key
            where not coalesce(k.live, false)
            order by c.n
        loop
            exit when v_requeued + v_failed >= p_limit;
            -- The row now, locked: a claim or a reply since the read moved it on.
            select s.status, s.send_after, s.reconciled into v_email
            from app.email_sends as s
            where
                s.org_id = v_row.org_id and s.id = v_row.id
                and s.status in ('queued', 'sending') and s.updated_at < v_stamp - p_grace
                and (s.status = 'queued' or s.sending_until is null or s.sending_until <= v_clock)
            for no key update skip locked;
            continue when not found;
            if v_email.reconciled >= p_max_rounds then
                perform app._ops_fail_lost_email(
                    v_row.org_id, v_row.id, v_email.status, v_email.reconciled, v_row.held_error
                );
                v_failed := v_failed + 1;
            else
                update app.email_sends as s
                set reconciled = s.reconciled + 1, updated_at = v_stamp
                where s.org_id = v_row.org_id and s.id = v_row.id;
                if v_row.held_job_id is not null then
                    v_revive_ids := v_revive_ids || v_row.held_job_id;
                    v_revive_keys := v_revive_keys || v_row.dedupe_key;
                    v_revive_ats := v_revive_ats || v_email.send_after;
                end if;
                v_queue_orgs := v_queue_orgs || v_row.org_id;
                v_queue_ids := v_queue_ids || v_row.id;
                v_queue_ats := v_queue_ats || v_email.send_after;
                v_requeued := v_requeued + 1;
            end if;
        end loop;
        exit when v_requeued + v_failed >= p_limit or cardinality(v_ids) < v_window;
        v_after_at := v_stamps[cardinality(v_stamps)];
        v_after_id := v_ids[cardinality(v_ids)];
    end loop;

    -- A held job is put back on its node (or found live there again); the others
    -- are queued here.
    v_revived := app._ops_cluster_revive(v_revive_ids, v_revive_keys, v_revive_ats);
    perform app._enqueue_job(
        p_entrypoint => 'email.send',
        p_payload => jsonb_build_object('org_id', q.org_id, 'email_send_id', q.id),
        p_at => q.at,
        p_dedupe_key => 'email.send:' || q.id,
        p_skip_duplicate => true
    )
    from unnest(v_queue_orgs, v_queue_ids, v_queue_ats) as q (org_id, id, at)
    where not ('email.send:' || q.id = any(v_revived));
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed)
        || jsonb_strip_nulls(jsonb_build_object('skipped', v_skipped));
end
$function$;

-- app._wf_reconcile on a cluster: the same decisions, but for one. An execution's
-- job is its wake_job_id on a node whose job of that id runs this execution (its
-- payload names it) or runs due executions in a batch (workflow.run_due, whose
-- payload names none): live when queued or picked there. A held failed job fails
-- the execution for good only when it named the execution; a batch's failed job
-- of that id may be another node's, so the execution is queued again instead (and
-- failed after p_max_rounds, as on one node). A timer's job queued for a later
-- real time than the application clock says (a fake clock's case) is not moved.
create or replace function app._ops_reconcile_flows_cluster(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
set datestyle = 'ISO, YMD'  -- times travel to the workers as text
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stamp timestamptz := app.now();
    v_stale jsonb;
    v_due jsonb;
    v_actions jsonb;
    v_jobs jsonb;
    v_row record;
    v_woken integer := 0;
    v_stalled integer := 0;
    v_poisoned integer := 0;
    v_deliveries integer := 0;
    v_deliveries_failed integer := 0;
    v_revive_ids bigint[] := '{}';
    v_revive_keys text[] := '{}';
    v_revived text[];
    v_queue_orgs uuid[] := '{}';
    v_queue_ids uuid[] := '{}';
begin
    -- The candidates, unlocked: pending or running past the grace, waiting with a
    -- due timer, and webhook deliveries of waiting executions past the grace.
    select coalesce(jsonb_agg(to_jsonb(e) order by e.updated_at), '[]') into v_stale
    from (
        select
            e.org_id, e.id, e.wake_job_id, e.updated_at,
            coalesce((e.execution_context ->> 'requeued')::integer, 0) as requeued
        from app.workflow_executions as e
        where e.status in ('pending', 'running') and e.updated_at < v_stamp - p_grace
        order by e.updated_at
        limit app._ops_cluster_window(p_limit)
    ) as e;
    select coalesce(jsonb_agg(to_jsonb(e) order by e.wake_at), '[]') into v_due
    from (
        select e.org_id, e.id, e.wake_job_id, e.wake_at
        from app.workflow_executions as e
        where e.status = 'waiting' and e.wake_at <= v_stamp
        order by e.wake_at
        limit app._ops_cluster_window(p_limit)
    ) as e;
    select coalesce(jsonb_agg(to_jsonb(a) order by a.since), '[]') into v_actions
    from (
        select
            a.org_id, a.id, a.reconciled, coalesce(a.scheduled_at, a.created_at) as since,
            format('webhook.deliver:%s:%s', a.id, a.retry_count) as dedupe_key
        from app.workflow_actions as a
        inner join app.workflow_executions as e
            on e.org_id = a.org_id and e.id = a.execution_id
        where
            a.action_type = 'webhook' and a.status in ('pending', 'running')
            and e.status = 'waiting' and e.waiting_for = 'action'
            and coalesce(a.scheduled_at, a.created_at) < v_stamp - p_grace
        order by coalesce(a.scheduled_at, a.created_at)
        limit app._ops_cluster_window(p_limit)
    ) as a;
    if v_stale = '[]' and v_due = '[]' and v_actions = '[]' then
        return jsonb_build_object(
            'woken', 0, 'stalled', 0, 'poisoned', 0, 'deliveries_requeued', 0,
            'deliveries_failed', 0
        );
    end if;

    v_jobs := app._ops_cluster_job_list(
        array(
            select (x ->> 'wake_job_id')::bigint
            from jsonb_array_elements(v_stale || v_due) as x
            where x ->> 'wake_job_id' is not null
        ),
        array(select x ->> 'dedupe_key' from jsonb_array_elements(v_actions) as x)
    );
    if jsonb_typeof(v_jobs) = 'object' then
        return v_jobs;  -- a node did not answer
    end if;

    -- Each execution with its job's state: live, failed (with the error) or none.
    for v_row in
        with candidates as (
            select
                x.n, (x.value ->> 'org_id')::uuid as org_id, (x.value ->> 'id')::uuid as id,
                (x.value ->> 'wake_job_id')::bigint as wake_job_id,
                (x.value ->> 'requeued')::integer as requeued, x.n > s.n as waiting
            from jsonb_array_elements(v_stale || v_due) with ordinality as x (value, n)
            cross join (select jsonb_array_length(v_stale) as n) as s
        ),

        -- One row per job id and the execution its payload names (none for a batch's
        -- job): live on some node, and a held failed one's error. Joined by hash.
        run_jobs as materialized (
            select
                j.job_id, j.execution_id,
                bool_or(j.status in ('queued', 'picked')) as live,
                min(coalesce(j.error, '')) filter (where j.status = 'failed') as failed_with
            from jsonb_to_recordset(v_jobs) as j (
                job_id bigint, status text, entrypoint text, execution_id uuid, error text
            )
            where
                (j.entrypoint = 'workflow.run' and j.execution_id is not null)
                or j.entrypoint = 'workflow.run_due'
            group by j.job_id, j.execution_id
        )

        select
            c.org_id, c.id, c.wake_job_id, c.requeued, c.waiting,
            coalesce(x.live, false) or coalesce(b.live, false) as live,
            x.failed_with
        from candidates as c
        left join run_jobs as x on x.job_id = c.wake_job_id and x.execution_id = c.id
        left join run_jobs as b on b.job_id = c.wake_job_id and b.execution_id is null
        order by c.n
    loop
        if v_row.failed_with is not null or (not v_row.waiting and v_row.requeued >= p_max_rounds) then
            -- Still where it was read (a runner may have moved it on since).
            perform 1 from app.workflow_executions as e
            where
                e.org_id = v_row.org_id and e.id = v_row.id
                and e.wake_job_id is not distinct from v_row.wake_job_id
                and e.status in ('pending', 'running', 'waiting');
            if found and v_poisoned < p_limit then
                perform app._wf_fail_step(
                    v_row.org_id, v_row.id, null,
                    coalesce('the run failed: ' || nullif(v_row.failed_with, ''), 'the run failed repeatedly'),
                    null, true
                );
                v_poisoned := v_poisoned + 1;
            end if;
        elsif v_row.live then
            continue;
        elsif v_row.waiting then
            if v_woken < p_limit then
                perform 1 from app.workflow_executions as e
                where
                    e.org_id = v_row.org_id and e.id = v_row.id and e.status = 'waiting'
                    and e.wake_job_id is not distinct from v_row.wake_job_id;
                if found then
                    perform app._wf_schedule_run(v_row.org_id, v_row.id);
                    v_woken := v_woken + 1;
                end if;
            end if;
        elsif v_stalled < p_limit then
            update app.workflow_executions as e
            set execution_context = jsonb_set(
                e.execution_context, '{requeued}', to_jsonb(v_row.requeued + 1)
            )
            where
                e.org_id = v_row.org_id and e.id = v_row.id
                and e.status in ('pending', 'running') and e.updated_at < v_stamp - p_grace
                and e.wake_job_id is not distinct from v_row.wake_job_id;
            if found then
                perform app._wf_schedule_run(v_row.org_id, v_row.id);
                v_stalled := v_stalled + 1;
            end if;
        end if;
    end loop;

    -- Webhook deliveries without a live job: queued again (a held job put back on
    -- its node), or failed for good after p_max_rounds.
    for v_row in
        select
            (x.value ->> 'org_id')::uuid as org_id, (x.value ->> 'id')::uuid as id,
            (x.value ->> 'reconciled')::integer as reconciled, x.value ->> 'dedupe_key' as dedupe_key,
            k.held_job_id, k.held_error
        from jsonb_array_elements(v_actions) with ordinality as x (value, n)
        left join app._ops_cluster_keyed(v_jobs) as k on k.dedupe_key = x.value ->> 'dedupe_key'
        where not coalesce(k.live, false)
        order by x.n
    loop
        exit when v_deliveries + v_deliveries_failed >= p_limit;
        -- The row now, locked: its report may have come since the read.
        perform 1 from app.workflow_actions as a
        where
            a.org_id = v_row.org_id and a.id = v_row.id and a.status in ('pending', 'running')
            and a.reconciled = v_row.reconciled
            and format('webhook.deliver:%s:%s', a.id, a.retry_count) = v_row.dedupe_key
        for no key update skip locked;
        if not found then
            continue;
        end if;
        if v_row.reconciled >= p_max_rounds then
            perform app._wf_action_finished(
                v_row.org_id, v_row.id, false, '{}',
                format(
                    'the delivery was re-queued %s times without an outcome%s', v_row.reconciled,
                    coalesce(': ' || v_row.held_error, '')
                ),
                true
            );
            v_deliveries_failed := v_deliveries_failed + 1;
        else
            update app.workflow_actions as a
            set reconciled = a.reconciled + 1, scheduled_at = v_stamp
            where a.org_id = v_row.org_id and a.id = v_row.id;
            if v_row.held_job_id is not null then
                v_revive_ids := v_revive_ids || v_row.held_job_id;
                v_revive_keys := v_revive_keys || v_row.dedupe_key;
            end if;
            v_queue_orgs := v_queue_orgs || v_row.org_id;
            v_queue_ids := v_queue_ids || v_row.id;
            v_deliveries := v_deliveries + 1;
        end if;
    end loop;
    v_revived := app._ops_cluster_revive(
        v_revive_ids, v_revive_keys, array_fill(null::timestamptz, array[cardinality(v_revive_ids)])
    );
    perform app._wf_queue_delivery(q.org_id, q.id)
    from unnest(v_queue_orgs, v_queue_ids) as q (org_id, id)
    where not exists (
        select 1 from unnest(v_revived) as r (dedupe_key)
        where r.dedupe_key like 'webhook.deliver:' || q.id || ':%'
    );

    return jsonb_build_object(
        'woken', v_woken, 'stalled', v_stalled, 'poisoned', v_poisoned,
        'deliveries_requeued', v_deliveries, 'deliveries_failed', v_deliveries_failed
    );
end
$function$;

-- app._ops_reconcile_deliveries on a cluster: the same decisions, the candidates
-- read unlocked (a locking read keeps to one shard on Citus), then each row
-- locked, checked again and moved on by its key.
create or replace function app._ops_reconcile_deliveries_cluster(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
set datestyle = 'ISO, YMD'  -- times travel to the workers as text
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stamp timestamptz := app.now();
    v_row record;
    v_settled integer := 0;
    v_redriven integer := 0;
    v_failed integer := 0;
    v_status text;
    v_reason text;
    v_after timestamptz;
begin
    -- Its email settled without it: the email's outcome.
    for v_row in
        select d.org_id, d.id, o.status, o.reason
        from app.notification_deliveries as d
        inner join app.email_sends as s on s.org_id = d.org_id and s.id = d.email_send_id
        cross join lateral app._notification_email_outcome(
            s.status, s.error, s.suppression_reason
        ) as o
        where
            d.status = 'pending' and d.updated_at < v_stamp - p_grace
            and s.status not in ('queued', 'sending')
        order by d.updated_at
        limit p_limit
    loop
        -- Locked by its key, SKIP LOCKED as on one node: a trigger moving it now wins.
        perform 1 from app.notification_deliveries as d
        where d.org_id = v_row.org_id and d.id = v_row.id and d.status = 'pending'
        for no key update skip locked;
        continue when not found;
        update app.notification_deliveries as d
        set status = v_row.status, reason = v_row.reason, updated_at = v_stamp
        where d.org_id = v_row.org_id and d.id = v_row.id;
        v_settled := v_settled + 1;
    end loop;

    -- Its email is gone: held for the next tick to decide again, or failed.
    for v_row in
        select d.org_id, d.id, d.attempts > p_max_rounds as poison, d.attempts
        from app.notification_deliveries as d
        where
            d.status = 'pending' and d.channel = 'email' and d.email_send_id is null
            and d.updated_at < v_stamp - p_grace
        order by d.updated_at
        limit p_limit
    loop
        perform 1 from app.notification_deliveries as d
        where
            d.org_id = v_row.org_id and d.id = v_row.id and d.status = 'pending'
            and d.email_send_id is null
        for no key update skip locked;
        continue when not found;
        -- (Values first: Citus takes no stable function in an UPDATE's CASE.)
        if v_row.poison then
            v_status := 'failed';
            v_reason := format('its email was lost %s times', v_row.attempts);
            v_after := null;
        else
            v_status := 'held';
            v_reason := 'its email was lost: decided again by the next tick';
            v_after := v_stamp;
        end if;
        update app.notification_deliveries as d
        set status = v_status, reason = v_reason, deliver_after = v_after, updated_at = v_stamp
        where d.org_id = v_row.org_id and d.id = v_row.id;
        if v_row.poison then
            v_failed := v_failed + 1;
        else
            v_redriven := v_redriven + 1;
        end if;
    end loop;

    return jsonb_build_object('settled', v_settled, 'redriven', v_redriven, 'failed', v_failed);
end
$function$;
