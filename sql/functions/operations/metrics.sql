-- The database's gauges for Prometheus, in one statement per scrape (web/metrics.py turns
-- each row into a sample; docs/operations.md lists the families). Every part reads an
-- index that holds only live rows, or counts a table that only holds live rows (the queue),
-- so the cost follows the work in flight, never the history: tests/sql/ops/test_metrics.py
-- pins the plan over a large history.

create or replace function api.get_metrics()
returns table (name text, labels jsonb, value double precision)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- The per-org estimates can look costly to the planner; compiling the statement (JIT)
-- would cost every scrape far more than running it.
set jit = off
as $function$
#variable_conflict use_column
begin
    perform app._require_service();
    return query
    -- pgqueuer deletes a job once it is done: the table holds what is queued, picked and
    -- held failed, so counting it is counting the work in flight.
    select
        'intime_queue_jobs'::text,
        jsonb_build_object('entrypoint', j.entrypoint, 'status', j.status::text),
        count(*)::double precision
    from queue.pgqueuer as j
    group by j.entrypoint, j.status

    union all
    -- How long the oldest job that is due has waited (the queue runs on the real clock).
    select
        'intime_queue_oldest_waiting_seconds',
        jsonb_build_object('entrypoint', j.entrypoint),
        extract(epoch from pg_catalog.now() - min(j.execute_after))::double precision
    from queue.pgqueuer as j
    where j.status = 'queued' and j.execute_after <= pg_catalog.now()
    group by j.entrypoint

    union all
    -- Emails not settled yet (email_sends_in_flight_idx); outcomes are the worker's
    -- intime_email_sends_total.
    select
        'intime_emails_in_flight',
        jsonb_build_object('status', s.status, 'provider', coalesce(s.provider, 'none')),
        count(*)::double precision
    from app.email_sends as s
    where s.status in ('queued', 'sending')
    group by s.status, s.provider

    union all
    -- Live executions per status: per org, a range of workflow_executions_org_idx
    -- (org_id, status, ...) for the live statuses only, never the finished history.
    -- The statuses are literals, so the planner weighs them by their own frequency.
    select
        'intime_workflow_executions',
        jsonb_build_object('status', st.status),
        coalesce(c.n, 0)::double precision
    from unnest(array['pending', 'running', 'waiting', 'paused']) as st (status)
    left join (
        select e.status, sum(e.n) as n
        from app.organizations as o
        cross join lateral (
            -- Grouped inside the lateral: one index range per org, whatever the
            -- planner guesses about the number of orgs.
            select x.status, count(*) as n
            from app.workflow_executions as x
            where
                x.org_id = o.id
                and x.status in ('pending', 'running', 'waiting', 'paused')
            group by x.status
        ) as e
        group by e.status
    ) as c on c.status = st.status

    union all
    -- The campaign backlog: active enrollments whose next step is due now
    -- (campaign_enrollments_due_idx), and how late the oldest is.
    select
        'intime_campaign_enrollments_due',
        '{}'::jsonb,
        count(*)::double precision
    from app.campaign_enrollments as ce
    where ce.status = 'active' and ce.next_step_at <= app.now()

    union all
    select
        'intime_campaign_due_oldest_seconds',
        '{}'::jsonb,
        coalesce(extract(epoch from app.now() - min(ce.next_step_at)), 0)::double precision
    from app.campaign_enrollments as ce
    where ce.status = 'active' and ce.next_step_at <= app.now()

    union all
    -- Notification deliveries held back (quiet hours, a delay) or waiting for a digest
    -- (notification_deliveries_due_idx).
    select
        'intime_notifications_held',
        jsonb_build_object('status', hs.status),
        coalesce(c.n, 0)::double precision
    from unnest(array['held', 'digest']) as hs (status)
    left join (
        select d.status, count(*) as n
        from app.notification_deliveries as d
        where d.status in ('held', 'digest')
        group by d.status
    ) as c on c.status = hs.status;
end
$function$;

comment on function api.get_metrics() is
$$Service role only (IT002 otherwise): the database's Prometheus gauges, one row per sample
(name, labels as a JSON object, value), computed in one statement that reads only live rows
through their indexes: intime_queue_jobs {entrypoint, status} (pgqueuer's queue: queued,
picked, failed), intime_queue_oldest_waiting_seconds {entrypoint} (the oldest due queued
job), intime_emails_in_flight {status, provider} (queued and sending emails),
intime_workflow_executions {status} (pending, running, waiting, paused),
intime_campaign_enrollments_due and intime_campaign_due_oldest_seconds (the campaign
backlog), intime_notifications_held {status} (held and digest deliveries). GET /metrics
calls it once per scrape (docs/operations.md).$$;
