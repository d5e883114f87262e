-- The notification tick (every minute, from the worker): release held
-- deliveries whose window ended, send digests that are due, and purge
-- expired notifications. Each step is set-based and safe to run twice at
-- once (FOR UPDATE SKIP LOCKED, a per-user digest lock).

-- Why a waiting delivery must not go out any more, or null: its
-- notification was read, archived or expired, the user is inactive, chose
-- never, turned the channel off or unsubscribed from email. p_stage names
-- the wait ('delivery' or 'the digest') in the reason. The notification's
-- columns, not its row: on Citus a shard's row is of the shard's own type.
create or replace function app._notification_skip_reason(
    p_read_at timestamptz,
    p_archived_at timestamptz,
    p_expires_at timestamptz,
    p_user_active boolean,
    p_suppressed boolean,
    p_channels jsonb,
    p_email_unsubscribed boolean,
    p_channel text,
    p_now timestamptz,
    p_stage text
)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when p_read_at is not null then 'read before ' || p_stage
        when p_archived_at is not null then 'archived before ' || p_stage
        when p_expires_at is not null and p_expires_at <= p_now then 'expired'
        when not p_user_active then 'user inactive'
        when p_suppressed then 'frequency never'
        when not p_channels ? p_channel then 'channel turned off'
        when p_email_unsubscribed and p_channel = 'email' then 'email unsubscribed'
    end
$function$;

-- One org's waiting deliveries p_ids decided again at p_now: the reason to skip
-- each (app._notification_skip_reason), or what its user's preferences say now
-- (a digest slot, a quiet window's or do-not-disturb's end). Two statements: the
-- rows, then the plan on arrays (on Citus a query may not read a table and call a
-- function that reads one: docs/scale-out.md, "SQL shapes").
create or replace function app._notification_redecide(
    p_org_id uuid, p_ids uuid[], p_now timestamptz, p_stage text
)
returns table (
    id uuid, reason text, digest_at timestamptz, hold_until timestamptz, hold_reason text
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_ids uuid[];
    v_users uuid[];
    v_channel text[];
    v_categories text[];
    v_channels jsonb[];
    v_critical boolean[];
    v_read timestamptz[];
    v_archived timestamptz[];
    v_expires timestamptz[];
    v_active boolean[];
begin
    select
        array_agg(d.id), array_agg(d.user_id), array_agg(d.channel), array_agg(n.category),
        array_agg(n.channels), array_agg(n.critical), array_agg(n.read_at),
        array_agg(n.archived_at), array_agg(n.expires_at), array_agg(u.is_active)
    into
        v_ids, v_users, v_channel, v_categories, v_channels, v_critical, v_read, v_archived,
        v_expires, v_active
    from app.notification_deliveries as d
    inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
    inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
    where
        d.org_id = p_org_id and n.org_id = p_org_id and u.org_id = p_org_id
        and d.id = any(p_ids);
    return query
    select
        x.id,
        app._notification_skip_reason(
            x.read_at, x.archived_at, x.expires_at, x.active, pl.suppressed, pl.channels,
            pl.email_unsubscribed, x.channel, p_now, p_stage
        ),
        pl.digest_at, pl.hold_until, pl.hold_reason
    from unnest(
        v_ids, v_users, v_channel, v_categories, v_channels, v_critical, v_read, v_archived,
        v_expires, v_active
    ) as x (
        id, user_id, channel, category, channels, critical, read_at, archived_at, expires_at,
        active
    )
    cross join lateral app._notification_plan(
        p_org_id, x.user_id, x.category, x.channels, x.critical, p_now
    ) as pl;
end
$function$;

-- Re-decides held deliveries: the ones due (deliver_after <= now); with
-- p_org_id every held delivery of that org, or of p_user_id in it. A delivery whose notification
-- was read, archived or expired meanwhile is skipped; one still inside a
-- window moves to the new end; the rest are queued. Returns counts. The
-- candidates are read unlocked, then each org's are locked (SKIP LOCKED:
-- another tick has them) and decided: a row lock holds one org's rows, which
-- is what Citus can take.
create or replace function app._notification_release_held(
    p_org_id uuid default null,
    p_user_id uuid default null,
    p_limit integer default 1000
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_ids uuid[];
    v_orgs uuid[];
    v_org uuid;
    v_org_ids uuid[];
    v_locked uuid[];
    v_pending uuid[];
    v_released integer := 0;
    v_rescheduled integer := 0;
    v_skipped integer := 0;
    v_counts record;
    v_d_ids uuid[];
    v_d_status text[];
    v_d_reason text[];
    v_d_after timestamptz[];
begin
    if p_org_id is null then
        select array_agg(c.id), array_agg(c.org_id) into v_ids, v_orgs
        from (
            select d.org_id, d.id
            from app.notification_deliveries as d
            where d.status = 'held' and d.deliver_after <= v_now
            order by d.deliver_after
            limit p_limit
        ) as c;
    else
        select array_agg(c.id), array_agg(c.org_id) into v_ids, v_orgs
        from (
            select d.org_id, d.id
            from app.notification_deliveries as d
            where
                d.org_id = p_org_id
                and (p_user_id is null or d.user_id = p_user_id)
                and d.status = 'held'
            order by d.deliver_after
            limit p_limit
        ) as c;
    end if;

    for v_org, v_org_ids in
        select c.org_id, array_agg(c.id)
        from unnest(v_orgs, v_ids) as c (org_id, id)
        group by c.org_id
        order by c.org_id
    loop
        select array_agg(d.id) into v_locked
        from (
            select d.id
            from app.notification_deliveries as d
            where
                d.org_id = v_org and d.id = any(v_org_ids) and d.status = 'held'
                and (p_org_id is not null or d.deliver_after <= v_now)
            for update skip locked
        ) as d;
        continue when v_locked is null;

        -- Decided in a statement of its own (on Citus a statement that writes may not
        -- call a function that reads the shards), then written.
        select array_agg(x.id), array_agg(x.status), array_agg(x.reason), array_agg(x.deliver_after)
        into v_d_ids, v_d_status, v_d_reason, v_d_after
        from (
            select
                r.id,
                case when r.reason is not null then 'skipped'
                    when r.digest_at is not null then 'digest'
                    when r.hold_until is not null then 'held'
                    else 'pending'
                end as status,
                coalesce(r.reason, case when r.digest_at is null then r.hold_reason end) as reason,
                coalesce(r.digest_at, r.hold_until) as deliver_after
            from app._notification_redecide(v_org, v_locked, v_now, 'delivery') as r
        ) as x;

        with updated as (
            update app.notification_deliveries as d
            set
                status = x.status,
                reason = x.reason,
                deliver_after = case when x.status in ('held', 'digest') then x.deliver_after end,
                updated_at = v_now
            from unnest(v_d_ids, v_d_status, v_d_reason, v_d_after)
                as x (id, status, reason, deliver_after)
            where d.org_id = v_org and d.id = any(v_locked) and d.id = x.id
            returning d.id, d.status
        )

        select
            count(*) filter (where u.status = 'pending') as released,
            count(*) filter (where u.status in ('held', 'digest')) as rescheduled,
            count(*) filter (where u.status = 'skipped') as skipped,
            array_agg(u.id) filter (where u.status = 'pending') as pending
        into v_counts
        from updated as u;
        v_released := v_released + v_counts.released;
        v_rescheduled := v_rescheduled + v_counts.rescheduled;
        v_skipped := v_skipped + v_counts.skipped;
        if v_counts.pending is not null then
            perform app._notification_queue_emails(v_org, v_counts.pending);
        end if;
    end loop;
    return jsonb_build_object(
        'released', v_released, 'rescheduled', v_rescheduled, 'skipped', v_skipped
    );
end
$function$;

-- Sends one digest email per user whose digest deliveries are due, listing
-- the notifications still unread; returns how many digests were queued.
create or replace function app._notification_send_due_digests(p_limit integer default 500)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_user record;
    v_ids uuid[];
    v_count integer;
    v_html text;
    v_text text;
    v_due uuid[];
    v_sent integer := 0;
    v_d_ids uuid[];
    v_d_reason text[];
    v_d_after timestamptz[];
    v_u_orgs uuid[];
    v_u_users uuid[];
    v_u_emails text[];
begin
    -- The users due, read whole first (on Citus a loop over a query on the shards
    -- may not run other statements on them meanwhile).
    select
        array_agg(c.org_id order by c.due), array_agg(c.user_id order by c.due),
        array_agg(c.email order by c.due)
    into v_u_orgs, v_u_users, v_u_emails
    from (
        select d.org_id, d.user_id, u.email, min(d.deliver_after) as due
        from app.notification_deliveries as d
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        where d.status = 'digest' and d.deliver_after <= v_now
        group by d.org_id, d.user_id, u.email
        order by min(d.deliver_after)
        limit p_limit
    ) as c;
    for i in 1 .. coalesce(cardinality(v_u_users), 0) loop
        select v_u_orgs[i] as org_id, v_u_users[i] as user_id, v_u_emails[i] as email
        into v_user;
        -- One digest per user even with two ticks at once.
        continue when not pg_try_advisory_xact_lock(
            hashtextextended('intime.digest:' || v_user.org_id || ':' || v_user.user_id, 0)
        );
        select array_agg(c.id) into v_ids
        from (
            select d.id
            from app.notification_deliveries as d
            where
                d.org_id = v_user.org_id
                and d.user_id = v_user.user_id
                and d.status = 'digest'
                and d.deliver_after <= v_now
            for update skip locked
        ) as c;
        continue when v_ids is null;

        -- Decided again now: skip what must not go out any more, and move
        -- what a quiet window or do-not-disturb holds to the window's end (in a
        -- statement of its own, then written: see app._notification_release_held).
        select array_agg(r.id), array_agg(r.reason), array_agg(r.hold_until)
        into v_d_ids, v_d_reason, v_d_after
        from app._notification_redecide(v_user.org_id, v_ids, v_now, 'the digest') as r
        where r.reason is not null or r.hold_until is not null;
        if v_d_ids is not null then
            update app.notification_deliveries as d
            set
                status = case when x.reason is not null then 'skipped' else 'digest' end,
                reason = x.reason,
                deliver_after = case when x.reason is null then x.hold_until end,
                updated_at = v_now
            from unnest(v_d_ids, v_d_reason, v_d_after) as x (id, reason, hold_until)
            where d.org_id = v_user.org_id and d.id = any(v_d_ids) and d.id = x.id;
        end if;

        select
            count(*),
            array_agg(d.id),
            string_agg(
                format(
                    '<li><strong>%s</strong><br>%s%s</li>',
                    app._html_escape(n.title),
                    app._html_escape(n.message),
                    case
                        when n.action_url is not null then format(
                            '<br><a href="%s">%s</a>',
                            app._html_escape(n.action_url),
                            app._html_escape(coalesce(n.action_label, 'Open'))
                        )
                        else ''
                    end
                ),
                '' order by n.announced_at, n.seq
            ),
            string_agg(
                '- ' || n.title || ': ' || n.message || coalesce(' (' || n.action_url || ')', ''),
                E'\n' order by n.announced_at, n.seq
            )
        into v_count, v_due, v_html, v_text
        from app.notification_deliveries as d
        inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
        where
            d.org_id = v_user.org_id
            and d.id = any(v_ids)
            and d.status = 'digest'
            and d.deliver_after <= v_now;
        continue when v_count = 0;

        v_sent := v_sent + app._notification_email_deliveries(
            p_org_id => v_user.org_id,
            p_delivery_ids => v_due,
            p_to => v_user.email,
            p_subject => format(
                'Your digest: %s new notification%s', v_count, case when v_count > 1 then 's' end
            ),
            p_html => format(
                '<p>Here is what happened since your last digest:</p><ul>%s</ul>', v_html
            ),
            p_text => v_text,
            p_entity_type => 'notification_digest',
            p_entity_id => null,
            p_notification_id => null,
            p_recipient_user_id => v_user.user_id
        )::integer;
    end loop;
    return v_sent;
end
$function$;

create or replace function api.purge_expired_notifications(p_limit integer default 10000)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_count integer := 0;
    v_deleted integer;
    v_org_id uuid;
    v_ids uuid[];
begin
    perform app._require_service();
    -- The candidates unlocked, then each org's locked (SKIP LOCKED: another purge
    -- has them) and deleted: a row lock holds one org's rows, which is what Citus
    -- can take (docs/scale-out.md, "SQL shapes").
    for v_org_id, v_ids in
        select c.org_id, array_agg(c.id)
        from (
            select e.org_id, e.id
            from app.notifications as e
            where e.expires_at <= v_now
            order by e.expires_at
            limit p_limit
        ) as c
        group by c.org_id
        order by c.org_id
    loop
        delete from app.notifications as n
        where
            n.org_id = v_org_id
            and n.id in (
                select e.id
                from app.notifications as e
                where e.org_id = v_org_id and e.id = any(v_ids) and e.expires_at <= v_now
                for update skip locked
            );
        get diagnostics v_deleted = row_count;
        v_count := v_count + v_deleted;
    end loop;
    return v_count;
end
$function$;

comment on function api.purge_expired_notifications(integer) is
$$Service role only (the maintenance job). Deletes up to p_limit notifications whose
expires_at has passed, with their deliveries; sent emails keep their row and lose the link.
Expired notifications are already hidden everywhere; this only reclaims space. Returns how
many were deleted.$$;

create or replace function api.tick_notifications(p_limit integer default 1000)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    return app._notification_release_held(p_limit => p_limit)
        || jsonb_build_object('digests', app._notification_send_due_digests(p_limit => p_limit));
end
$function$;

comment on function api.tick_notifications(integer) is
$$Service role only; the worker runs it every minute. Releases held deliveries whose window
ended (re-checking the user's preferences: still in a window moves them to its end; read,
archived or expired notifications are skipped), and sends each user whose digest slot came one
digest email of their still-unread notifications. Safe to run concurrently. Returns counts:
released, rescheduled, skipped, digests.$$;
