-- The reconciliation sweep: domain rows left in flight with no live job
-- (emails queued or sending, workflow executions and webhook deliveries,
-- pending notification deliveries) are queued again, or settled for good
-- when they keep coming back; and api.list_unsettled_work, which lists every row
-- still in flight with the state of its job. See docs/retention.md.

-- One reconciliation at a time (api.reconcile_in_flight_work and the re-queueing
-- part of api.tick_workflows): the second skips instead of queueing the
-- same rows again. Held to the end of the transaction; re-entrant.
create or replace function app._ops_reconcile_lock()
returns boolean
language sql
volatile
set search_path = pg_catalog, pg_temp
as $function$
    select pg_catalog.pg_try_advisory_xact_lock(444770002)
$function$;

-- The error a job last failed with (pgqueuer keeps the traceback in its
-- log), or null.
create or replace function app._ops_job_error(p_job_id bigint)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select t.traceback ->> 'exception_message'
    from queue.pgqueuer_log as t
    where t.job_id = p_job_id and t.traceback is not null
    order by t.id desc
    limit 1
$function$;

-- Put a job that pgqueuer holds as failed back in the queue (what its own
-- manual re-queue does: attempts reset), due at p_at on the application
-- clock (now when null or past). False when there is no such held job, or
-- when a live job with its dedupe key exists already.
create or replace function app._ops_revive_held_job(p_job_id bigint, p_at timestamptz default null)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_job_id is null then
        return false;
    end if;
    begin
        update queue.pgqueuer as j
        set
            status = 'queued',
            execute_after = pg_catalog.now()
            + greatest(coalesce(p_at - app.now(), '0'), interval '0'),
            updated = pg_catalog.now(),
            attempts = 0,
            queue_manager_id = null
        where j.id = p_job_id and j.status = 'failed';
        return found;
    exception when unique_violation then
        return false;
    end;
end
$function$;

-- Fail an email the reconciliation already queued again p_rounds times, with
-- the reason and its job's last error (p_job_error, or null): its workflow step
-- and notification delivery follow the failure as they follow any.
create or replace function app._ops_fail_lost_email(
    p_org_id uuid, p_id uuid, p_status text, p_rounds integer, p_job_error text
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- Values first: Citus takes no stable function of a column in an UPDATE.
    v_stamp timestamptz := app.now();
    v_error text := left(
        format(
            'left %s without a live job after %s re-queues by the reconciliation sweep%s',
            p_status, p_rounds, coalesce('; the job last failed with: ' || p_job_error, '')
        ),
        2000
    );
begin
    update app.email_sends as s
    set status = 'failed', failed_at = v_stamp, updated_at = v_stamp, error = v_error
    where s.org_id = p_org_id and s.id = p_id;
end
$function$;

-- Emails queued or sending whose email.send job is gone or held failed,
-- untouched for p_grace and, when sending, past their lease: queued again
-- (the held job itself when there is one) at send_after if that is still
-- ahead, else now; the claim then sends as usual, with the same Message-ID
-- and idempotency key. One already re-queued p_max_rounds times is failed
-- with the reason instead (its workflow step, notification delivery and
-- campaign follow the failure as they follow any).
create or replace function app._ops_reconcile_emails(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row record;
    v_requeued integer := 0;
    v_failed integer := 0;
begin
    for v_row in
        with stuck as (
            select
                s.org_id, s.id, s.status, s.send_after, s.reconciled,
                'email.send:' || s.id as dedupe_key
            from app.email_sends as s
            where
                s.status in ('queued', 'sending')
                and s.updated_at < app.now() - p_grace
                and (
                    s.status = 'queued'
                    or s.sending_until is null
                    or s.sending_until <= pg_catalog.clock_timestamp()
                )
                and not exists (
                    select 1 from queue.pgqueuer as j
                    where j.dedupe_key = 'email.send:' || s.id and j.status in ('queued', 'picked')
                )
            order by s.updated_at
            limit p_limit
            for no key update of s skip locked
        ),

        -- Held jobs have no index on their dedupe key: one pass over the
        -- queue's failed email jobs for the whole batch.
        held as (
            select distinct on (j.dedupe_key) j.dedupe_key, j.id
            from queue.pgqueuer as j
            where
                j.entrypoint = 'email.send' and j.status = 'failed'
                and j.dedupe_key in (select s.dedupe_key from stuck as s)
            order by j.dedupe_key, j.id desc
        )

        select s.org_id, s.id, s.status, s.send_after, s.reconciled, s.dedupe_key, h.id as held_job_id
        from stuck as s
        left join held as h on h.dedupe_key = s.dedupe_key
    loop
        if v_row.reconciled >= p_max_rounds then
            perform app._ops_fail_lost_email(
                v_row.org_id, v_row.id, v_row.status, v_row.reconciled,
                app._ops_job_error(v_row.held_job_id)
            );
            v_failed := v_failed + 1;
        else
            update app.email_sends as s
            set reconciled = s.reconciled + 1, updated_at = app.now()
            where s.org_id = v_row.org_id and s.id = v_row.id;
            perform app._ops_revive_held_job(v_row.held_job_id, v_row.send_after);
            -- Queues a job unless the revived one holds the dedupe key.
            perform app._enqueue_job(
                p_entrypoint => 'email.send',
                p_payload => jsonb_build_object('org_id', v_row.org_id, 'email_send_id', v_row.id),
                p_at => v_row.send_after,
                p_dedupe_key => v_row.dedupe_key,
                p_skip_duplicate => true
            );
            v_requeued := v_requeued + 1;
        end if;
    end loop;
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end
$function$;

-- Pending notification deliveries (email) that nothing will move:
-- - its email already settled (a status change the delivery trigger did not
--   see): the delivery takes the email's outcome, as the trigger would;
-- - its email is gone: the delivery is held until now, so the next
--   notification tick decides it again (preferences, read, expired) and
--   queues a new email; after p_max_rounds such emails it is failed.
-- A delivery whose email is still queued or sending follows that email
-- (app._ops_reconcile_emails).
create or replace function app._ops_reconcile_deliveries(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settled integer;
    v_redriven integer;
    v_failed integer;
    v_stamp timestamptz;
begin
    with settled as (
        select d.org_id, d.id, o.status, o.reason
        from app.notification_deliveries as d
        inner join app.email_sends as s on s.org_id = d.org_id and s.id = d.email_send_id
        cross join lateral app._notification_email_outcome(
            s.status, s.error, s.suppression_reason
        ) as o
        where
            d.status = 'pending' and d.updated_at < app.now() - p_grace
            and s.status not in ('queued', 'sending')
        order by d.updated_at
        limit p_limit
        for no key update of d skip locked
    )

    update app.notification_deliveries as d
    set status = x.status, reason = x.reason, updated_at = app.now()
    from settled as x
    where d.org_id = x.org_id and d.id = x.id;
    get diagnostics v_settled = row_count;

    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    with lost as (
        select d.org_id, d.id, d.attempts > p_max_rounds as poison
        from app.notification_deliveries as d
        where
            d.status = 'pending' and d.channel = 'email' and d.email_send_id is null
            and d.updated_at < v_stamp - p_grace
        order by d.updated_at
        limit p_limit
        for no key update of d skip locked
    ),

    changed as (
        update app.notification_deliveries as d
        set
            status = case when l.poison then 'failed' else 'held' end,
            reason = case
                when l.poison then format('its email was lost %s times', d.attempts)
                else 'its email was lost: decided again by the next tick'
            end,
            deliver_after = case when not l.poison then v_stamp end,
            updated_at = v_stamp
        from lost as l
        where d.org_id = l.org_id and d.id = l.id
        returning l.poison
    )

    select count(*) filter (where not c.poison), count(*) filter (where c.poison)
    into v_redriven, v_failed
    from changed as c;

    return jsonb_build_object('settled', v_settled, 'redriven', v_redriven, 'failed', v_failed);
end
$function$;

create or replace function api.reconcile_in_flight_work(p_limit integer default 1000)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.settings%rowtype;
    v_grace interval;
    v_emails jsonb;
    v_flows jsonb;
    v_deliveries jsonb;
    v_skipped text;
begin
    perform app._require_service();
    if p_limit is null or p_limit < 1 then
        raise exception using errcode = 'IT005', message = 'p_limit must be at least 1';
    end if;
    -- On a Citus cluster the queue is per node: the coordinator reconciles, asking
    -- every node's queue (docs/scale-out.md, "The reconciliation on a cluster"); the
    -- other nodes apply parked email events only (they need no queue).
    if app._on_citus() and not app._citus_on_coordinator() then
        return jsonb_build_object(
            'skipped', 'the coordinator reconciles on a cluster',
            'email_events_applied', app._email_apply_parked(p_limit)
        );
    end if;
    if not app._ops_reconcile_lock() then
        return jsonb_build_object('skipped', 'another reconciliation holds the lock');
    end if;
    select s.* into v_settings from app.settings as s;
    v_grace := make_interval(secs => v_settings.reconcile_grace_seconds);
    if app._on_citus() then
        -- A part whose nodes did not all answer is skipped (its rows wait for the next
        -- call), and says so; the others go on.
        v_emails := app._ops_reconcile_emails_cluster(p_limit, v_grace, v_settings.reconcile_max_rounds);
        v_flows := app._ops_reconcile_flows_cluster(p_limit, v_grace, v_settings.reconcile_max_rounds);
        v_deliveries := app._ops_reconcile_deliveries_cluster(
            p_limit, v_grace, v_settings.reconcile_max_rounds
        );
        v_skipped := coalesce(v_emails ->> 'skipped', v_flows ->> 'skipped');
        v_flows := '{"woken": 0, "stalled": 0, "poisoned": 0, "deliveries_requeued": 0, '
            '"deliveries_failed": 0}'::jsonb || v_flows;
    else
        v_emails := app._ops_reconcile_emails(p_limit, v_grace, v_settings.reconcile_max_rounds);
        v_flows := app._wf_reconcile(p_limit, v_grace, v_settings.reconcile_max_rounds);
        v_deliveries := app._ops_reconcile_deliveries(
            p_limit, v_grace, v_settings.reconcile_max_rounds
        );
    end if;
    return jsonb_build_object(
        'emails_requeued', (v_emails ->> 'requeued')::integer,
        'emails_failed', (v_emails ->> 'failed')::integer,
        'executions_requeued', (v_flows ->> 'woken')::integer + (v_flows ->> 'stalled')::integer,
        'executions_failed', (v_flows ->> 'poisoned')::integer,
        'actions_requeued', (v_flows ->> 'deliveries_requeued')::integer,
        'actions_failed', (v_flows ->> 'deliveries_failed')::integer,
        'deliveries_settled', (v_deliveries ->> 'settled')::integer,
        'deliveries_redriven', (v_deliveries ->> 'redriven')::integer,
        'deliveries_failed', (v_deliveries ->> 'failed')::integer,
        'email_events_applied', app._email_apply_parked(p_limit)
    ) || jsonb_strip_nulls(jsonb_build_object('skipped', v_skipped));
end
$function$;

comment on function api.reconcile_in_flight_work(integer) is
$$Service role only (the worker runs it on a schedule). Re-queues or settles every row left in
flight without a live pgqueuer job (none queued or picked, or the job held failed) and
untouched for app.settings.reconcile_grace_seconds (default 300), at most p_limit per kind:
- emails queued or sending (sending only once its lease ran out): queued again, at send_after
  when that is still ahead, with the same Message-ID and idempotency key (a held job is put
  back itself, so no failed job stays behind);
- workflow executions pending or running without a job, waiting ones whose timer is due, and
  webhook deliveries of waiting executions: as api.tick_workflows does (the same code);
- notification deliveries pending on an email that settled without them: they take its
  outcome; on an email that is gone: held until now, for the next tick to decide again;
- provider events parked for a send not yet recorded when they came, whose send has since
  been recorded: applied as api.record_email_sent applies them (on a cluster, where the
  two may run on different nodes, this is how such an event is not lost).
A row already re-queued reconcile_max_rounds times (default 3), or an execution whose run job
is held failed, is failed for good with the reason (the error names the job's last error),
which fails the workflow step and notification delivery waiting on it. Two calls never queue a
row twice: one holds the reconciliation lock and the other (or a sweep) skips, returning
{"skipped": ...}. On a Citus cluster, where the queue is per node, the coordinator reconciles
(asking every node's queue; a held job is put back on its own node) and the other nodes skip it
but for the parked events; a part whose node did not answer is skipped, and "skipped" says so
beside the counts of the parts that ran. Returns the counts per kind: emails_requeued, emails_failed,
executions_requeued, executions_failed, actions_requeued, actions_failed (webhook
deliveries), deliveries_settled, deliveries_redriven, deliveries_failed,
email_events_applied. Call again while a count equals p_limit.$$;

-- Rows in flight, for operators and the soak harness: every email queued or
-- sending, execution not ended, action pending or running of an execution
-- not ended, and notification delivery pending, held or digest.
create or replace function api.list_unsettled_work()
returns table (
    kind text,
    org_id uuid,
    id uuid,
    status text,
    job_status text,
    waiting_until timestamptz,
    since timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_citus boolean := app._on_citus();
    v_jobs jsonb := '[]';
    v_node text;
    v_error text;
begin
    perform app._require_service();
    -- On a Citus cluster the queue is per node: every node's jobs, read in one round
    -- trip (docs/scale-out.md, "The reconciliation on a cluster").
    if v_citus then
        select coalesce(jsonb_agg(to_jsonb(c)), '[]') into v_jobs
        from app._ops_cluster_jobs(null, null, true) as c;
        -- A node that did not answer: its jobs unknown, the list would say "no job".
        select x ->> 'node_id', x ->> 'error' into v_node, v_error
        from jsonb_array_elements(v_jobs) as x
        where x ->> 'status' = 'unanswered'
        limit 1;
        if found then
            raise exception using
                errcode = 'IT018',
                message = format('node %s of the cluster did not answer: %s', v_node, v_error),
                hint = 'The list would show its jobs as missing. Retry once the node is back.';
        end if;
    end if;
    return query
    with queued as materialized (
        select
            j.id, j.dedupe_key, j.status::text as status, j.execute_after, j.entrypoint,
            null::uuid as execution_id
        from queue.pgqueuer as j
        where not v_citus and j.status in ('queued', 'picked', 'failed')
        union all
        select x.job_id, x.dedupe_key, x.status, x.execute_after, x.entrypoint, x.execution_id
        from jsonb_to_recordset(v_jobs) as x (
            job_id bigint, dedupe_key text, status text, execute_after timestamptz,
            entrypoint text, execution_id uuid
        )
    ),

    jobs as materialized (
        -- One row per dedupe key: a live job before a held failed one; retry_at when
        -- it is queued for later (a retry's delay, on the queue's own clock).
        select distinct on (j.dedupe_key)
            j.dedupe_key, j.status,
            case
                when j.status = 'queued' and j.execute_after > pg_catalog.now()
                    then j.execute_after
            end as retry_at
        from queued as j
        where j.dedupe_key is not null
        order by j.dedupe_key, j.status = 'failed', j.id desc
    ),

    -- The run jobs, one row per id and execution (a live one before a held failed
    -- one). On a cluster an id names a job only with its node: an execution's job is
    -- the one of its wake_job_id whose payload names it, else a batch's of that id
    -- (workflow.run_due, which names none). On one node execution_id is not read.
    run_jobs as materialized (
        select distinct on (j.id, j.execution_id) j.id, j.status, j.execute_after, j.execution_id
        from queued as j
        where j.entrypoint in ('workflow.run', 'workflow.run_due')
        order by j.id, j.execution_id, j.status = 'failed'
    ),

    actions as materialized (
        select
            a.org_id, a.id, a.execution_id, a.status, a.created_at,
            coalesce(a.scheduled_at, a.started_at, a.created_at) as since,
            case a.action_type when 'webhook' then wj.status else ej.status end as job_status,
            case a.action_type when 'webhook' then wj.retry_at else ej.retry_at end as retry_at
        from app.workflow_actions as a
        inner join app.workflow_executions as e
            on
                e.org_id = a.org_id and e.id = a.execution_id
                and e.status in ('pending', 'running', 'waiting', 'paused')
        left join jobs as wj
            on
                a.action_type = 'webhook'
                and wj.dedupe_key = format('webhook.deliver:%s:%s', a.id, a.retry_count)
        left join lateral (
            select s.id
            from app.email_sends as s
            where
                a.action_type = 'send_email' and s.org_id = a.org_id
                and s.workflow_action_id = a.id
            order by s.created_at desc
            limit 1
        ) as es on true
        left join jobs as ej on ej.dedupe_key = 'email.send:' || es.id
        where a.status in ('pending', 'running')
    )

    select 'email', s.org_id, s.id, s.status, jb.status,
        coalesce(case when s.send_after > app.now() then s.send_after end, jb.retry_at),
        s.updated_at
    from app.email_sends as s
    left join jobs as jb on jb.dedupe_key = 'email.send:' || s.id
    where s.status in ('queued', 'sending')

    union all

    select 'execution', e.org_id, e.id,
        case when e.status = 'waiting' then 'waiting:' || e.waiting_for else e.status end,
        case when e.waiting_for = 'action' then (
            select a.job_status from actions as a
            where a.org_id = e.org_id and a.execution_id = e.id
            order by a.created_at desc
            limit 1
        ) else coalesce(jx.status, jb.status) end,
        case
            when e.waiting_for in ('timer', 'retry') then e.wake_at
            when e.waiting_for = 'approval' then (
                select min(p.due_at) from app.workflow_approvals as p
                where
                    p.org_id = e.org_id and p.execution_id = e.id and p.status = 'pending'
                    and p.escalated_at is null
            )
            when e.waiting_for = 'action' then (
                select a.retry_at from actions as a
                where a.org_id = e.org_id and a.execution_id = e.id
                order by a.created_at desc
                limit 1
            )
            when coalesce(jx.status, jb.status) = 'queued'
                and coalesce(jx.execute_after, jb.execute_after) > pg_catalog.now()
                then coalesce(jx.execute_after, jb.execute_after)
        end,
        e.updated_at
    from app.workflow_executions as e
    left join run_jobs as jx on jx.id = e.wake_job_id and jx.execution_id = e.id
    left join run_jobs as jb on jb.id = e.wake_job_id and jb.execution_id is null
    where e.status in ('pending', 'running', 'waiting', 'paused')

    union all

    select 'action', a.org_id, a.id, a.status, a.job_status, a.retry_at, a.since
    from actions as a

    union all

    select 'delivery', d.org_id, d.id, d.status, jb.status,
        case when d.status in ('held', 'digest') then d.deliver_after else jb.retry_at end,
        d.updated_at
    from app.notification_deliveries as d
    left join jobs as jb on d.status = 'pending' and jb.dedupe_key = 'email.send:' || d.email_send_id
    where d.status in ('pending', 'held', 'digest')

    order by 7, 1, 3;
end
$function$;

comment on function api.list_unsettled_work() is
$$Service role only: every row still in flight, across orgs, for operators and the soak
harness. kind is email (queued or sending), execution (not ended; status waiting:timer,
waiting:retry, waiting:action or waiting:approval while parked), action (a webhook or
send_email action pending or running, of an execution not ended) or delivery (a
notification delivery pending, held or digest). job_status is the status of the pgqueuer job
that moves the row on (an email's email.send job; an execution's run job, or for one waiting
on an action that action's job; a webhook's delivery job; a send_email action's or a pending
delivery's email job; on a Citus cluster in any node's queue): queued, picked, failed (held by the worker: a bug unless the
reconciliation picks it up), or null when there is none. waiting_until is set when the row
legitimately waits on a timer: a send_after ahead, an execution's wake_at, the escalation time
of an open approval, a held or digest delivery's deliver_after, or the time its job is queued
for (a retry's delay: a deferral, a database error). since is when the row last
changed. Reading it: a row with a queued or picked job is moving; one with waiting_until set
is waiting on time; one waiting:approval (with no escalation left) or paused waits on a
person; anything else older than app.settings.reconcile_grace_seconds, or with job_status
failed, is what api.reconcile_in_flight_work re-queues or settles. On a Citus cluster a node that does
not answer fails the call with IT018 (the list would show its jobs as missing).$$;
