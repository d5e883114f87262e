-- Queue health for people: depth per entrypoint and status, the jobs pgqueuer holds as
-- failed, and re-queueing one of them (the console's /queue, `intime queue`).
--
-- How a failure is recorded: every entrypoint but campaigns.tick is registered with
-- pgqueuer's on_failure='hold' (worker/jobs.py). A handler that raises something that is
-- not transient leaves its job in queue.pgqueuer with status 'failed' (after settling its
-- domain row when it could: an email failed, an execution failed), and pgqueuer writes the
-- traceback to queue.pgqueuer_log (status 'failed', traceback->>'exception_message').
--
-- Who: the service role acting for no org sees every org's jobs; an org admin (a mapped
-- login, or the service acting for an admin or for the org itself) sees the jobs whose
-- payload names their org; anyone else IT003.

-- The org whose jobs the caller may see: null for every org (the service role acting
-- for none), else the caller's org when they administer it; IT003 (IT008 without an org).
create or replace function app._ops_queue_org()
returns uuid
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app.current_org_id();
begin
    if v_org_id is null and app._is_service() then
        return null;
    end if;
    v_org_id := app._require_org();
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003',
            message = 'the job queue is for org admins only';
    end if;
    return v_org_id;
end
$function$;

-- Which jobs an org admin sees: those whose payload names their org, found by a byte
-- search for `"org_id": "<id>"` (or without the space), not by parsing. The payload is
-- bytes, and every payload InTime writes is a flat JSON object of ids and a host name
-- (jsonb's text, or format()), so the search is exact, and it needs neither a UTF-8 decode
-- nor an exception block per job (with those an org admin's read of 200,000 queued jobs
-- took 8 times the service role's). app._ops_job_needles gives the two byte strings.
create or replace function app._ops_job_needles(p_org_id uuid)
returns bytea[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select array[
        pg_catalog.convert_to('"org_id": "' || p_org_id::text || '"', 'UTF8'),
        pg_catalog.convert_to('"org_id":"' || p_org_id::text || '"', 'UTF8')
    ]
$function$;

-- A job's payload as JSON, or null when it is not (pgqueuer's payload is bytes).
create or replace function app._ops_job_payload(p_payload bytea)
returns jsonb
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return pg_catalog.convert_from(p_payload, 'UTF8')::jsonb;
exception
    when invalid_text_representation or character_not_in_repertoire then
        return null;
end
$function$;

-- Why a held job must not run again, or null when it may: the domain row it works for
-- must still be in flight. An email already sent (or failed, or suppressed), an
-- execution over, a delivery settled: running the job again would do nothing at best;
-- each says what to do instead.
create or replace function app._ops_job_refusal(p_entrypoint text, p_payload jsonb)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid;
    v_status text;
begin
    v_org_id := (p_payload ->> 'org_id')::uuid;
    case p_entrypoint
        when 'email.send' then
            select s.status into v_status
            from app.email_sends as s
            where s.org_id = v_org_id and s.id = (p_payload ->> 'email_send_id')::uuid;
            if v_status is null then
                return 'its email no longer exists';
            elsif v_status not in ('queued', 'sending') then
                return format('its email is %s already (queue a new email to send it again)',
                    v_status);
            end if;
        when 'workflow.run' then
            select e.status into v_status
            from app.workflow_executions as e
            where e.org_id = v_org_id and e.id = (p_payload ->> 'execution_id')::uuid;
            if v_status is null then
                return 'its workflow execution no longer exists';
            elsif v_status = 'failed' then
                return 'its workflow execution failed (retry the execution instead: '
                    || 'api.retry_execution)';
            elsif v_status not in ('pending', 'running', 'waiting') then
                return format('its workflow execution is %s', v_status);
            end if;
        when 'webhook.deliver' then
            select a.status into v_status
            from app.workflow_actions as a
            where a.org_id = v_org_id and a.id = (p_payload ->> 'action_id')::uuid;
            if v_status is null then
                return 'its webhook delivery no longer exists';
            elsif v_status not in ('pending', 'running') then
                return format('its webhook delivery is %s already', v_status);
            end if;
        when 'domains.verify' then
            select case when d.verified_at is null then 'claimed' else 'verified' end
            into v_status
            from app.sending_domains as d
            where d.org_id = v_org_id and d.domain = p_payload ->> 'domain';
            if v_status is null then
                return 'its sending domain is no longer claimed';
            elsif v_status = 'verified' then
                return 'its sending domain is verified already';
            end if;
        else
            null;  -- no domain row InTime knows of: pgqueuer's own re-queue
    end case;
    return null;
exception
    when invalid_text_representation then
        return format('its payload is not what %s expects', p_entrypoint);
end
$function$;

create or replace function api.get_queue_stats()
returns table (entrypoint text, status text, jobs bigint, oldest_at timestamptz)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._ops_queue_org();
    v_needles bytea [] := app._ops_job_needles(v_org_id);
begin
    return query
    select
        j.entrypoint,
        j.status::text,
        count(*),
        min(case when j.status = 'queued' then j.execute_after else j.updated end)
            filter (where j.status <> 'queued' or j.execute_after <= pg_catalog.now())
    from queue.pgqueuer as j
    where
        v_org_id is null
        or position(v_needles[1] in j.payload) > 0
        or position(v_needles[2] in j.payload) > 0
    group by j.entrypoint, j.status
    order by j.entrypoint, j.status::text;
end
$function$;

comment on function api.get_queue_stats() is
$$The job queue per entrypoint and status (queued, picked, failed: pgqueuer deletes a job
once it is done): jobs, and oldest_at, since when the oldest has waited: for queued jobs
the time the oldest due one became due (null when none is due yet: scheduled jobs are
counted but are not waiting), for picked ones when the oldest was picked, for failed ones
when the oldest failed. The service role acting for no org sees every org's jobs; an org
admin those whose payload names their org (a byte search for `"org_id": "<id>"`: no
payload is parsed, so an org admin's read costs what the service role's does); anyone
else IT003.$$;

create or replace function api.list_failed_jobs(p_limit integer default 50)
returns table (
    job_id bigint,
    entrypoint text,
    org_id uuid,
    error text,
    failed_at timestamptz,
    payload jsonb
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._ops_queue_org();
    v_needles bytea [] := app._ops_job_needles(v_org_id);
begin
    if p_limit is null or p_limit not between 1 and 500 then
        raise exception using errcode = 'IT005', message = 'p_limit must be 1 to 500';
    end if;
    return query
    select
        j.id,
        j.entrypoint,
        case
            when j.payload_json ->> 'org_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                then (j.payload_json ->> 'org_id')::uuid
        end,
        app._ops_job_error(j.id),
        j.updated,
        j.payload_json
    from (
        -- The page is cut before any payload is parsed, and each is parsed once (offset 0
        -- keeps this query apart, so its column is not copied into each use above).
        select q.id, q.entrypoint, q.updated, app._ops_job_payload(q.payload) as payload_json
        from (
            select q.id, q.entrypoint, q.updated, q.payload
            from queue.pgqueuer as q
            where
                q.status = 'failed'
                and (
                    v_org_id is null
                    or position(v_needles[1] in q.payload) > 0
                    or position(v_needles[2] in q.payload) > 0
                )
            order by q.updated desc, q.id desc
            limit p_limit
        ) as q
        offset 0
    ) as j
    order by j.updated desc, j.id desc;
end
$function$;

comment on function api.list_failed_jobs(integer) is
$$The jobs pgqueuer holds as failed (a handler raised an error that is not transient;
worker/jobs.py), newest first: the org named by the payload, the error it last failed with
(pgqueuer's log), when it failed, its payload. p_limit 1 to 500 (IT005). The service role
acting for no org sees every org's; an org admin their org's; anyone else IT003. Re-queue
one with api.requeue_job.$$;

create or replace function api.requeue_job(p_job_id bigint)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._ops_queue_org();
    v_job record;
    v_payload jsonb;
    v_refusal text;
    v_live_id bigint;
    v_found boolean;
begin
    select j.id, j.entrypoint, j.status::text as status, j.priority, j.dedupe_key, j.payload
    into v_job
    from queue.pgqueuer as j
    where j.id = p_job_id
    for update;
    v_found := found;
    if v_found then
        v_payload := app._ops_job_payload(v_job.payload);
    end if;
    if not v_found
        or (v_org_id is not null and v_payload ->> 'org_id' is distinct from v_org_id::text) then
        raise exception using errcode = 'IT004', message = format('job %s not found', p_job_id);
    end if;
    if v_job.status <> 'failed' then
        raise exception using
            errcode = 'IT013',
            message = format('job %s is %s: only a failed job is re-queued', p_job_id,
                v_job.status);
    end if;
    v_refusal := app._ops_job_refusal(v_job.entrypoint, v_payload);
    if v_refusal is not null then
        raise exception using
            errcode = 'IT013',
            message = format('job %s (%s) is not re-queued: %s', p_job_id, v_job.entrypoint,
                v_refusal);
    end if;
    begin
        -- What pgqueuer's own re-queue does (`pgq requeue`): the same job, attempts
        -- reset, due now; the same id keeps the links to it (an execution's
        -- wake_job_id).
        update queue.pgqueuer as j
        set
            status = 'queued', execute_after = pg_catalog.now(), updated = pg_catalog.now(),
            attempts = 0, queue_manager_id = null
        where j.id = p_job_id;
        insert into queue.pgqueuer_log (job_id, status, entrypoint, priority)
        values (p_job_id, 'queued', v_job.entrypoint, v_job.priority);
        return p_job_id;
    exception when unique_violation then
        -- A live job for the same work holds the dedupe key (the reconciliation sweep
        -- queued one): this one is redundant, and the live one is the answer.
        select j.id into v_live_id
        from queue.pgqueuer as j
        where j.dedupe_key = v_job.dedupe_key and j.status in ('queued', 'picked');
    end;
    delete from queue.pgqueuer as j where j.id = p_job_id;
    insert into queue.pgqueuer_log (job_id, status, entrypoint, priority)
    values (p_job_id, 'deleted', v_job.entrypoint, v_job.priority);
    return v_live_id;
end
$function$;

comment on function api.requeue_job(bigint) is
$$Puts a job pgqueuer holds as failed back in the queue, due now with its attempts reset
(what `pgq requeue` does), and returns the id of the job that will run: the same one, or,
when a live job for the same work was queued since (same dedupe key), that job's id (the
failed one is then deleted). Never re-runs finished work: the domain row the job works for
must still be in flight, else IT013 says what to do instead (an email already sent, failed
or suppressed: queue a new one; a failed execution: api.retry_execution; a settled webhook
delivery; a verified or removed sending domain). IT013 too for a job that is not failed.
The service role, or an org admin for a job whose payload names their org; IT004 for an
unknown job or another org's, IT003 for anyone else.$$;
