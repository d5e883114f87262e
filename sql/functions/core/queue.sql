-- Enqueue one pgqueuer job from SQL, in the caller's transaction. p_at is on
-- the (possibly fake) application clock; the queue runs on the real one, so
-- the job runs after the same delay from the real now. A duplicate
-- p_dedupe_key raises, unless p_skip_duplicate (then null is returned).
-- p_priority: pgqueuer claims by priority, then id (docs/operations.md, "Queue").
-- (The five-argument version it replaces is dropped by the migration runner,
-- as any function no file defines any more.)
create or replace function app._enqueue_job(
    p_entrypoint text,
    p_payload jsonb,
    p_at timestamptz default null,
    p_dedupe_key text default null,
    p_skip_duplicate boolean default false,
    p_priority integer default 0
)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_job_id bigint;
    -- clock_timestamp, not now(): app.now() is the clock's time too, and a job due
    -- at the transaction's start would run a few milliseconds before p_at (a
    -- runner finding its timer not yet due drops the job; the sweeper then wakes
    -- the execution up to a minute late). The application clock is read first, so
    -- the job is not due even the microseconds between the two reads early.
    v_now timestamptz := app.now();
    v_after timestamptz := pg_catalog.clock_timestamp()
        + greatest(coalesce(p_at - v_now, '0'), interval '0');
    v_payload bytea := convert_to(p_payload::text, 'UTF8');
begin
    if p_skip_duplicate then
        insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
        values (p_priority, p_entrypoint, v_payload, 'queued', v_after, p_dedupe_key)
        on conflict do nothing
        returning id into v_job_id;
    else
        insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
        values (p_priority, p_entrypoint, v_payload, 'queued', v_after, p_dedupe_key)
        returning id into v_job_id;
    end if;
    return v_job_id;
end
$function$;

-- On a Citus node, pgqueuer's own statement trigger on queue.pgqueuer is
-- disabled and this one stands in (intime.citus.set_up_node_queues): the same
-- wake-up, unless this node runs its part of a transaction begun elsewhere,
-- where a NOTIFY would make the initiator's two-phase commit fail
-- (app._may_notify). The workers attached to such a node poll (docs/scale-out.md).
create or replace function app._tg_queue_changed()
returns trigger
language plpgsql
security definer  -- the worker writes the queue as the service: app._may_notify is the owner's
set search_path = pg_catalog, pg_temp
as $function$
begin
    if app._may_notify() then
        perform pg_catalog.pg_notify(
            'ch_pgqueuer',
            json_build_object(
                'channel', 'ch_pgqueuer',
                'operation', lower(tg_op),
                'sent_at', pg_catalog.now(),
                'table', tg_table_name,
                'type', 'table_changed_event'
            )::text
        );
    end if;
    return null;
end
$function$;
