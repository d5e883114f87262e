-- Reading campaigns (stats, an enrollment's timeline), resuming an
-- enrollment, and the log archive.

create or replace function api.get_campaign_stats(p_campaign_id uuid)
returns table (
    scope text,
    step_number integer,
    channel text,
    ab_variant text,
    enrolled integer,
    sent integer,
    delivered integer,
    opened integer,
    clicked integer,
    replied integer,
    bounced integer,
    unsubscribed integer,
    completed integer
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_c app.campaigns%rowtype;
begin
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    return query
    with logs as (
        select l.sequence_id, l.status, l.ab_variant, l.email_send_id
        from app.campaign_sequence_logs as l
        where l.org_id = v_org_id and l.campaign_id = p_campaign_id
        union all
        select l.sequence_id, l.status, l.ab_variant, l.email_send_id
        from app.campaign_sequence_logs_archive as l
        where l.org_id = v_org_id and l.campaign_id = p_campaign_id
    ),

    steps as (
        select
            s.step_number, s.channel, l.ab_variant,
            count(*) filter (where l.status = 'sent') as sent,
            count(*) filter (
                where l.status = 'sent' and (
                    m.delivered_at is not null or m.status in ('delivered', 'opened', 'clicked')
                )
            ) as delivered,
            count(*) filter (
                where l.status = 'sent'
                and (m.first_opened_at is not null or m.first_clicked_at is not null)
            ) as opened,
            count(*) filter (where l.status = 'sent' and m.first_clicked_at is not null)
                as clicked,
            count(*) filter (where l.status = 'sent' and m.replied_at is not null) as replied,
            count(*) filter (where l.status = 'sent' and m.status = 'bounced') as bounced,
            count(*) filter (where l.status in ('sent', 'skipped', 'completed')) as completed
        from app.campaign_sequences as s
        -- Only the tick's step runs carry the step's id: the stop lines of
        -- replies, bounces and suppressions don't count as runs.
        left join logs as l
            on l.sequence_id = s.id and l.status in ('sent', 'skipped', 'completed')
        left join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
        where s.org_id = v_org_id and s.campaign_id = p_campaign_id
        group by grouping sets ((s.step_number, s.channel), (s.step_number, s.channel, l.ab_variant))
        having grouping(l.ab_variant) = 1 or l.ab_variant is not null
    ),

    unsubscribed as (
        select e.current_step, e.ab_variant, count(*) as n
        from app.campaign_enrollments as e
        where
            e.org_id = v_org_id and e.campaign_id = p_campaign_id
            and e.status = 'unsubscribed'
        group by grouping sets ((e.current_step), (e.current_step, e.ab_variant))
    )

    select
        'campaign', null::integer, null::text, null::text, v_c.total_enrolled, v_c.total_sent,
        (select count(*)::integer from logs as l
            inner join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
            where l.status = 'sent'
            and (m.delivered_at is not null or m.status in ('delivered', 'opened', 'clicked'))),
        v_c.total_opened, v_c.total_clicked, v_c.total_replied, v_c.total_bounced,
        v_c.total_unsubscribed, v_c.total_completed
    union all
    select
        case when s.ab_variant is null then 'step' else 'variant' end,
        s.step_number, s.channel, s.ab_variant, null::integer, s.sent::integer,
        s.delivered::integer, s.opened::integer, s.clicked::integer, s.replied::integer,
        s.bounced::integer, coalesce(u.n, 0)::integer, s.completed::integer
    from steps as s
    left join unsubscribed as u
        on u.current_step = s.step_number and u.ab_variant is not distinct from s.ab_variant
    order by 2 nulls first, 4 nulls first;
end
$function$;

comment on function api.get_campaign_stats(uuid) is
$$A campaign's numbers (caller's org; IT004 otherwise). One 'campaign' row from the
campaign's totals: enrolled, emails sent, delivered, and enrollments that opened (or clicked), clicked,
replied (and stopped), bounced, unsubscribed, completed. Then per step a 'step' row and, for
A/B steps, a 'variant' row per arm, derived from the step logs (the archive included) and
their email sends: sent (emails queued, activities created), delivered, opened (a click
counts as an open), clicked, replied, bounced, unsubscribed (enrollments that unsubscribed
after this step) and completed (the step ran or was skipped).$$;

create or replace function api.get_enrollment_timeline(p_enrollment_id uuid)
returns table (
    at timestamptz,
    step_number integer,
    channel text,
    status text,
    detail text,
    ab_variant text,
    email_status text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if not exists (
        select 1 from app.campaign_enrollments as e
        where e.org_id = v_org_id and e.id = p_enrollment_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    return query
    select
        l.created_at, l.step_number, l.channel, l.status, l.detail, l.ab_variant, m.status
    from (
        select
            l.created_at, l.id, l.step_number, l.channel, l.status, l.detail, l.ab_variant,
            l.email_send_id
        from app.campaign_sequence_logs as l
        where l.org_id = v_org_id and l.enrollment_id = p_enrollment_id
        union all
        select
            l.created_at, l.id, l.step_number, l.channel, l.status, l.detail, l.ab_variant,
            l.email_send_id
        from app.campaign_sequence_logs_archive as l
        where l.org_id = v_org_id and l.enrollment_id = p_enrollment_id
    ) as l
    left join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
    order by l.created_at, l.id;
end
$function$;

comment on function api.get_enrollment_timeline(uuid) is
$$An enrollment's step log in order (caller's org; IT004 otherwise): when, the step, its
channel, status (sent, skipped, deferred, failed, suppressed, stopped, completed), detail,
the A/B arm, and the email's current delivery status for email steps.$$;

create or replace function api.resume_enrollment(p_enrollment_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_stamp timestamptz;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = v_org_id and e.id = p_enrollment_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    v_c := app._campaign_for_change(v_e.campaign_id);
    if v_e.status <> 'paused' or v_e.stop_reason is distinct from 'errors' then
        return false;
    end if;
    -- In a campaign that is not running the enrollment is parked like the
    -- others (the tick only runs active campaigns; an active enrollment of a
    -- paused one would be locked by every tick and never run).
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.campaign_enrollments as e
    set
        status = case when v_c.status = 'active' then 'active' else 'paused' end,
        stop_reason = case when v_c.status = 'active' then null else 'campaign_paused' end,
        error_count = 0,
        next_step_at = greatest(coalesce(e.next_step_at, v_stamp), v_stamp),
        updated_at = v_stamp
    where e.org_id = v_org_id and e.id = p_enrollment_id;
    return true;
end
$function$;

comment on function api.resume_enrollment(uuid) is
$$Resume an enrollment that three errors in a row paused (campaign owner or campaigns.manage_any),
after fixing the cause: its error count resets and its step runs at the next tick inside the
send window (in a paused or draft campaign it waits, parked, for api.resume_campaign or
api.activate_campaign). Returns false when it was not paused for errors (a campaign pause is
lifted with api.resume_campaign).$$;

create or replace function api.archive_campaign_logs(
    p_limit integer default 50000, p_retention interval default null
)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_retention interval;
    v_count integer;
    v_cutoff timestamptz;
    v_org_id uuid;
    v_rows integer;
    v_moved integer;
begin
    perform app._require_service();
    select coalesce(p_retention, make_interval(days => s.campaign_log_retention_days))
    into v_retention
    from app.settings as s;
    if v_retention < interval '0' then
        raise exception using errcode = 'IT005', message = 'p_retention must not be negative';
    end if;
    -- One org at a time, in key order (a row lock holds one org's rows: on Citus
    -- that is one shard, docs/scale-out.md), p_limit rows in all, oldest first.
    v_count := 0;
    v_cutoff := app.now() - v_retention;
    for v_org_id, v_rows in
        select o.org_id, count(*)::integer
        from (
            select l.org_id
            from app.campaign_sequence_logs as l
            where l.created_at < v_cutoff
            order by l.created_at
            limit greatest(p_limit, 1)
        ) as o
        group by o.org_id
        order by o.org_id
    loop
        with moved as (
            delete from app.campaign_sequence_logs as l
            where l.org_id = v_org_id and l.ctid in (
                select o.ctid
                from app.campaign_sequence_logs as o
                where o.org_id = v_org_id and o.created_at < v_cutoff
                order by o.created_at
                limit v_rows
                for update skip locked
            )
            returning l.*
        )

        insert into app.campaign_sequence_logs_archive (
            org_id, id, campaign_id, enrollment_id, sequence_id, step_number, channel, status,
            detail, ab_variant, email_send_id, activity_id, scheduled_at, sent_at, created_at
        )
        select
            m.org_id, m.id, m.campaign_id, m.enrollment_id, m.sequence_id, m.step_number,
            m.channel, m.status, m.detail, m.ab_variant, m.email_send_id, m.activity_id,
            m.scheduled_at, m.sent_at, m.created_at
        from moved as m;
        get diagnostics v_moved = row_count;
        v_count := v_count + v_moved;
    end loop;
    return v_count;
end
$function$;

comment on function api.archive_campaign_logs(integer, interval) is
$$Service role only (the worker's daily campaigns.archive). Moves at most p_limit campaign step
logs older than p_retention (default app.settings.campaign_log_retention_days, 90 days) into
app.campaign_sequence_logs_archive, in one transaction (nothing is lost or doubled).
Returns the number moved; the worker calls it again while it returns p_limit.$$;
