-- The notification tick (every minute, from the worker): release held
-- deliveries whose window ended, send digests that are due, and purge
-- expired notifications. Each step is set-based and safe to run twice at
-- once (FOR UPDATE SKIP LOCKED, a per-user digest lock).

-- Why a waiting delivery must not go out any more, or null: its
-- notification was read, archived or expired, the user is inactive, chose
-- never, turned the channel off or unsubscribed from email. p_stage names
-- the wait ('delivery' or 'the digest') in the reason.
create or replace function app._notification_skip_reason(
    p_row app.notifications,
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
        when p_row.read_at is not null then 'read before ' || p_stage
        when p_row.archived_at is not null then 'archived before ' || p_stage
        when p_row.expires_at is not null and p_row.expires_at <= p_now then 'expired'
        when not p_user_active then 'user inactive'
        when p_suppressed then 'frequency never'
        when not p_channels ? p_channel then 'channel turned off'
        when p_email_unsubscribed and p_channel = 'email' then 'email unsubscribed'
    end
$function$;

-- Re-decides held deliveries: the ones due (deliver_after <= now); with
-- p_org_id every held delivery of that org, or of p_user_id in it. A delivery whose notification
-- was read, archived or expired meanwhile is skipped; one still inside a
-- window moves to the new end; the rest are queued. Returns counts.
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
    v_pending uuid[];
    v_pending_orgs uuid[];
    v_org uuid;
    v_counts jsonb;
begin
    if p_org_id is null then
        select array_agg(c.id), array_agg(c.org_id) into v_ids, v_orgs
        from (
            select d.org_id, d.id
            from app.notification_deliveries as d
            where d.status = 'held' and d.deliver_after <= v_now
            order by d.deliver_after
            limit p_limit
            for update skip locked
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
            for update skip locked
        ) as c;
    end if;
    if v_ids is null then
        return jsonb_build_object('released', 0, 'rescheduled', 0, 'skipped', 0);
    end if;

    with decided as (
        select
            d.org_id,
            d.id,
            case when r.reason is not null then 'skipped'
                when pl.digest_at is not null then 'digest'
                when pl.hold_until is not null then 'held'
                else 'pending'
            end as status,
            coalesce(r.reason, case when pl.digest_at is null then pl.hold_reason end) as reason,
            coalesce(pl.digest_at, pl.hold_until) as deliver_after
        from app.notification_deliveries as d
        inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        cross join lateral app._notification_plan(
            d.org_id, d.user_id, n.category, n.channels, n.critical, v_now
        ) as pl
        cross join lateral app._notification_skip_reason(n, u.is_active, pl.suppressed, pl.channels,
            pl.email_unsubscribed, d.channel, v_now, 'delivery') as r (reason)
        where (d.org_id, d.id) in (select * from unnest(v_orgs, v_ids))
    ),

    updated as (
        update app.notification_deliveries as d
        set
            status = x.status,
            reason = x.reason,
            deliver_after = case when x.status in ('held', 'digest') then x.deliver_after end,
            updated_at = v_now
        from decided as x
        where d.org_id = x.org_id and d.id = x.id
        returning d.org_id, d.id, d.status
    )

    select
        jsonb_build_object(
            'released', count(*) filter (where u.status = 'pending'),
            'rescheduled', count(*) filter (where u.status in ('held', 'digest')),
            'skipped', count(*) filter (where u.status = 'skipped')
        ),
        array_agg(u.id) filter (where u.status = 'pending'),
        array_agg(u.org_id) filter (where u.status = 'pending')
    into v_counts, v_pending, v_pending_orgs
    from updated as u;

    if v_pending is not null then
        for v_org in select distinct o from unnest(v_pending_orgs) as o loop
            perform app._notification_queue_emails(v_org, v_pending);
        end loop;
    end if;
    return v_counts;
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
begin
    for v_user in
        select d.org_id, d.user_id, u.email
        from app.notification_deliveries as d
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        where d.status = 'digest' and d.deliver_after <= v_now
        group by d.org_id, d.user_id, u.email
        order by min(d.deliver_after)
        limit p_limit
    loop
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
        -- what a quiet window or do-not-disturb holds to the window's end.
        with decided as (
            select d.org_id, d.id, r.reason, pl.hold_until
            from app.notification_deliveries as d
            inner join app.notifications as n
                on n.org_id = d.org_id and n.id = d.notification_id
            inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
            cross join lateral app._notification_plan(
                d.org_id, d.user_id, n.category, n.channels, n.critical, v_now
            ) as pl
            cross join lateral app._notification_skip_reason(
                n, u.is_active, pl.suppressed, pl.channels, pl.email_unsubscribed, d.channel,
                v_now, 'the digest'
            ) as r (reason)
            where d.org_id = v_user.org_id and d.id = any(v_ids)
        )

        update app.notification_deliveries as d
        set
            status = case when x.reason is not null then 'skipped' else 'digest' end,
            reason = x.reason,
            deliver_after = case when x.reason is null then x.hold_until end,
            updated_at = v_now
        from decided as x
        where
            d.org_id = x.org_id
            and d.id = x.id
            and (x.reason is not null or x.hold_until is not null);

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
                '' order by n.seq
            ),
            string_agg(
                '- ' || n.title || ': ' || n.message || coalesce(' (' || n.action_url || ')', ''),
                E'\n' order by n.seq
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
    v_count integer;
begin
    perform app._require_service();
    delete from app.notifications as n
    where (n.org_id, n.id) in (
        select e.org_id, e.id
        from app.notifications as e
        where e.expires_at <= app.now()
        order by e.expires_at
        limit p_limit
        for update skip locked
    );
    get diagnostics v_count = row_count;
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
