-- Campaign send windows (issue 6): when a step may go out. A window is
-- [start, end) local wall time on the listed days ('mon'..'sun'), in the
-- campaign's zone or, with use_contact_timezone, the contact's. Nothing here
-- reads the clock: the instant is always a parameter.

-- The earliest instant at or after p_ts inside the window: local wall time
-- [p_window_start, p_window_end) in p_timezone, on a day whose name is in
-- p_send_days. Null p_ts: null. Local times are converted with
-- `timestamp at time zone`, so DST follows PostgreSQL's rule: a wall time in
-- a spring-forward gap takes the offset before the change (02:30 in a 02:00
-- -> 03:00 gap is 03:30 after it), an ambiguous fall-back time the offset
-- after it (the later of the two instants). No queries: it runs per row.
create or replace function app._campaign_next_send_time(
    p_ts timestamptz,
    p_timezone text,
    p_window_start time,
    p_window_end time,
    p_send_days text[]
)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_day_names constant text [] := array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_first date;
    v_first_dow integer;
    v_dow integer;
    v_day date;
    v_open timestamptz;
    v_close timestamptz;
begin
    if p_ts is null then
        return null;
    end if;
    if p_timezone is null or p_window_start is null or p_window_end is null
        or p_send_days is null then
        raise exception using
            errcode = 'IT005',
            message = 'send window: time zone, start, end and days must not be null';
    end if;
    if p_window_end <= p_window_start then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send window must end after it starts (overnight windows are not supported): %s-%s',
                regexp_replace(p_window_start::text, ':00$', ''),
                regexp_replace(p_window_end::text, ':00$', '')
            );
    end if;
    v_first := (p_ts at time zone p_timezone)::date;
    v_first_dow := extract(isodow from v_first)::integer;
    -- Eight days: today's window may be over and today the only send day.
    for v_offset in 0..7 loop
        -- A null in p_send_days makes `= any` null for the other days: not send days.
        v_dow := (v_first_dow - 1 + v_offset) % 7 + 1;
        continue when (v_day_names[v_dow] = any(p_send_days)) is not true;
        v_day := v_first + v_offset;
        v_open := (v_day + p_window_start) at time zone p_timezone;
        v_close := (v_day + p_window_end) at time zone p_timezone;
        if greatest(p_ts, v_open) < v_close then
            return greatest(p_ts, v_open);
        end if;
    end loop;
    raise exception using
        errcode = 'IT005',
        message = format(
            'send days %s name no day of the week (valid: %s)',
            p_send_days, array_to_string(v_day_names, ', ')
        );
exception
    when invalid_parameter_value then
        raise exception using
            errcode = 'IT005',
            message = format('unknown time zone %s', p_timezone);
end
$function$;

-- The zone a campaign's step is scheduled in: the contact's when the
-- campaign uses contact zones and the contact's zone is valid, else the
-- campaign's.
create or replace function app._campaign_timezone(
    p_contact_timezone text,
    p_campaign_timezone text,
    p_use_contact boolean
)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_use_contact and app._is_time_zone(p_contact_timezone) then
        return p_contact_timezone;
    end if;
    return p_campaign_timezone;
end
$function$;

-- Raise IT005 unless the window is usable: no null piece, end after start
-- (overnight windows are refused, not supported), one to seven distinct day
-- names from 'mon'..'sun', an IANA time zone name (app._is_time_zone). The campaign API calls it on
-- create and update, before the table's check constraints would fire.
create or replace function app._campaign_assert_send_window(
    p_window_start time,
    p_window_end time,
    p_send_days text[],
    p_timezone text
)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_day_names constant text [] := array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_unknown text [];
begin
    if p_window_start is null or p_window_end is null then
        raise exception using
            errcode = 'IT005', message = 'send window start and end must not be null';
    end if;
    if p_window_end <= p_window_start then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send window must end after it starts (overnight windows are not supported): %s-%s',
                regexp_replace(p_window_start::text, ':00$', ''),
                regexp_replace(p_window_end::text, ':00$', '')
            );
    end if;
    if p_send_days is null or cardinality(p_send_days) = 0 or array_ndims(p_send_days) <> 1 then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send days must be a list naming at least one day (valid: %s)',
                array_to_string(v_day_names, ', ')
            );
    end if;
    select array_agg(distinct coalesce(d.name, 'null') order by coalesce(d.name, 'null'))
    into v_unknown
    from unnest(p_send_days) as d (name)
    where d.name is null or not d.name = any(v_day_names);
    if v_unknown is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                'unknown send day %s (valid: %s)',
                array_to_string(v_unknown, ', '), array_to_string(v_day_names, ', ')
            );
    end if;
    if cardinality(p_send_days) <> (
        select count(distinct d.name) from unnest(p_send_days) as d (name)
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send days must not repeat a day: %s', array_to_string(p_send_days, ', ')
            );
    end if;
    perform app._assert_time_zone(p_timezone, 'the campaign');
end
$function$;

-- On time (issue 17): the tick wakes at the next due time, not on the minute grid.
-- One queued campaigns.wake job (worker/campaigns.py runs the tick) stands for the
-- earliest due time armed; the minute tick stays as the safety net
-- (docs/campaigns.md#on-time).

-- Arm the wake-up for p_at (application clock; the queue runs on the real one, as
-- in app._enqueue_job), never holding back a wake-up that is already due: pgqueuer
-- claims with FOR UPDATE SKIP LOCKED, so a due job this transaction locked would wait
-- for its commit, and so would the steps of every other enrollment relying on it.
-- In order:
-- 1. the job this transaction queued itself (app.campaign_wake_job, transaction-local):
--    no one else sees it before commit; moved earlier if p_at is earlier;
-- 2. the earliest queued campaigns.wake job not yet due (more than a second ahead):
--    kept when due by p_at, moved earlier when not and p_at is itself more than a
--    second ahead; held (FOR KEY SHARE, or the move's row lock) until commit, so its
--    tick cannot start before this transaction's rows are visible to it (and then
--    re-arms for them);
-- 3. else a job of its own, at p_at: invisible until commit, so no tick claims it
--    before the rows relying on it are visible.
-- Never waits on another transaction: a job being picked or moved by someone else is
-- left alone. At most one job per transaction; app._campaign_arm_next_wake folds the
-- extras after the tick. Returns the job's id; null for a null p_at.
create or replace function app._campaign_arm_wake(p_at timestamptz)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- The clock first: execute_after is then never before p_at on the real clock.
    v_now timestamptz := app.now();
    v_after timestamptz;
    v_not_due timestamptz;
    v_job_id bigint;
    v_job_after timestamptz;
    v_payload bytea;
begin
    if p_at is null then
        return null;
    end if;
    v_after := pg_catalog.clock_timestamp() + greatest(p_at - v_now, interval '0');
    v_not_due := pg_catalog.clock_timestamp() + interval '1 second';
    v_payload := convert_to(jsonb_build_object('due_at', p_at)::text, 'UTF8');
    v_job_id := nullif(pg_catalog.current_setting('app.campaign_wake_job', true), '')::bigint;
    if v_job_id is not null then
        select j.execute_after into v_job_after
        from queue.pgqueuer as j
        where j.id = v_job_id and j.entrypoint = 'campaigns.wake' and j.status = 'queued';
        if found then
            if v_job_after > v_after then
                update queue.pgqueuer as j
                set execute_after = v_after, payload = v_payload
                where j.id = v_job_id;
            end if;
            return v_job_id;
        end if;
    end if;
    select j.id, j.execute_after into v_job_id, v_job_after
    from queue.pgqueuer as j
    where
        j.entrypoint = 'campaigns.wake' and j.status = 'queued'
        and j.execute_after > v_not_due
    order by j.execute_after
    limit 1;
    if v_job_id is not null and v_job_after <= v_after then
        select k.id into v_job_id
        from queue.pgqueuer as k
        where
            k.id = v_job_id and k.status = 'queued'
            and k.execute_after > v_not_due and k.execute_after <= v_after
        for key share skip locked;
        if v_job_id is not null then
            return v_job_id;
        end if;
    elsif v_job_id is not null and v_after > v_not_due then
        update queue.pgqueuer as j
        set execute_after = v_after, payload = v_payload
        where j.id = (
            select k.id
            from queue.pgqueuer as k
            where k.id = v_job_id and k.status = 'queued' and k.execute_after > v_after
            for no key update skip locked
        )
        returning j.id into v_job_id;
        if v_job_id is not null then
            return v_job_id;
        end if;
    end if;
    -- Priority 10: pgqueuer claims by priority, then id; at 0 the wake-up would wait
    -- behind every job queued before it (a tick's thousands of email.send jobs).
    insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after)
    values (10, 'campaigns.wake', v_payload, 'queued', v_after)
    returning id into v_job_id;
    perform pg_catalog.set_config('app.campaign_wake_job', v_job_id::text, true);
    return v_job_id;
end
$function$;

-- After a tick (p_now: its clock): unless steps are still due (the drain running
-- it goes on, or the tick holding them re-arms when it ends), arm the wake-up for
-- the next due time: the earliest active enrollment's next step (already at its
-- send window's opening) or out-of-office resume; and drop the other queued
-- wake-ups no one holds (concurrent armers each queue their own). Only those read
-- with the due times, in one snapshot: a job committed after it stands for rows this
-- tick did not see, and is left to run. Returns the job's id, or null when nothing
-- is armed.
create or replace function app._campaign_arm_next_wake(p_now timestamptz)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_next timestamptz;
    v_seen bigint [];
    v_job_id bigint;
begin
    select
        least(
            (
                select min(e.next_step_at)
                from app.campaign_enrollments as e
                where e.status = 'active'
            ),
            (
                select min(e.resume_at)
                from app.campaign_enrollments as e
                where
                    e.status = 'paused' and e.resume_at is not null
                    and e.stop_reason = 'out_of_office'
            )
        ),
        array(
            select k.id
            from queue.pgqueuer as k
            where k.entrypoint = 'campaigns.wake' and k.status = 'queued'
        )
    into v_next, v_seen;
    if v_next <= p_now then
        return null;
    end if;
    v_job_id := app._campaign_arm_wake(v_next);
    delete from queue.pgqueuer as j
    where j.id in (
        select k.id
        from queue.pgqueuer as k
        where
            k.id = any(v_seen) and k.id is distinct from v_job_id
            and k.entrypoint = 'campaigns.wake' and k.status = 'queued'
        for update skip locked
    );
    return v_job_id;
end
$function$;

-- Enrollments written (enrolled, moved on by a tick, released by a resume, paused
-- out of office...): arm the wake-up for the earliest due time among the
-- statement's rows, once per statement whatever its size.
create or replace function app._tg_campaign_enrollment_wake()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_due timestamptz;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select least(
        min(n.next_step_at) filter (where n.status = 'active'),
        min(n.resume_at) filter (where n.status = 'paused' and n.stop_reason = 'out_of_office')
    ) into v_due
    from new_rows as n;
    if v_due is not null then
        perform app._campaign_arm_wake(v_due);
    end if;
    return null;
end
$function$;
