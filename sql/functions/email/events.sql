-- Provider (Resend) events: deduplicated by their event id, applied to the
-- send they name, statuses only moving forward, and kept aside until the send
-- is known when they arrive before the send response.

-- Transaction-scoped locks on provider message ids, taken by
-- api.ingest_email_event(s) and api.record_email_sent, so an event racing the
-- send record either sees the send or is parked before the drain runs. A batch
-- takes its locks in the order of their keys, so two batches never wait on each
-- other in a cycle.
create or replace function app._email_lock_provider_messages(p_provider_message_ids text[])
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform pg_catalog.pg_advisory_xact_lock(k.key)
    from (
        select distinct pg_catalog.hashtextextended('intime.email:' || m.id, 0) as key
        from unnest(p_provider_message_ids) as m (id)
        where m.id is not null
    ) as k
    order by k.key;
end
$function$;

-- An event's created_at, or p_default when it is missing or not a time.
create or replace function app._email_event_time(p_created_at text, p_default timestamptz)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return coalesce(p_created_at::timestamptz, p_default);
exception when invalid_datetime_format or datetime_field_overflow then
    return p_default;
end
$function$;

-- Apply events to their sends, as if one by one in array order: one INSERT of the
-- events, one UPDATE per send (statuses only move forward; counts add up; first
-- times stay first), one INSERT of the suppressions they cause. The arrays are
-- parallel (the send's org and id, the event id, payload and receipt time).
-- Called by ingest (app._email_ingest_events), by api.record_email_sent when it
-- drains events that arrived early, and for bounce reports.
create or replace function app._email_apply_events(
    p_org_ids uuid[],
    p_send_ids uuid[],
    p_event_ids text[],
    p_payloads jsonb[],
    p_received_at timestamptz[]
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_at timestamptz[];
    v_enrollment_org_ids uuid[];
    v_enrollment_ids uuid[];
    v_suppressing_org_ids uuid[];
    v_suppressing_send_ids uuid[];
    v_campaign_org_ids uuid[];
    v_campaign_ids uuid[];
    -- Every table is filtered by the events' orgs too (the caller passes one): on
    -- Citus that routes each statement to the org's shards (docs/scale-out.md).
    v_orgs uuid[] := array(select distinct o.id from unnest(p_org_ids) as o (id));
begin
    -- The sends, row-locked in one order (two batches never wait in a cycle), and
    -- what their events set off: a campaign email's open, click, bounce or complaint
    -- (app._tg_email_send_campaign), and a bounce, complaint or provider suppression,
    -- which may suppress the address (app._tg_suppression_campaign stops its enrollments).
    select
        array_agg(l.org_id) filter (where l.campaign),
        array_agg(l.enrollment_id) filter (where l.campaign),
        array_agg(l.org_id) filter (where l.suppressing),
        array_agg(l.id) filter (where l.suppressing)
    into v_enrollment_org_ids, v_enrollment_ids, v_suppressing_org_ids, v_suppressing_send_ids
    from (
        select
            s.org_id,
            s.id,
            s.enrollment_id,
            s.enrollment_id is not null and k.engaging as campaign,
            k.suppressing
        from app.email_sends as s
        inner join (
            select
                p_org_ids[g.i] as org_id,
                p_send_ids[g.i] as send_id,
                bool_or(p_payloads[g.i] ->> 'type' in (
                    'email.opened', 'email.clicked', 'email.bounced', 'email.complained'
                )) as engaging,
                bool_or(p_payloads[g.i] ->> 'type' in (
                    'email.bounced', 'email.complained', 'email.suppressed'
                )) as suppressing
            from unnest(p_send_ids) with ordinality as g (send_id, i)
            group by 1, 2
        ) as k on s.org_id = k.org_id and s.id = k.send_id
        where s.org_id = any(v_orgs)
        order by s.org_id, s.id
        for update of s
    ) as l;

    -- What those triggers lock next, in the order they lock it: enrollments (the
    -- campaign email's own; the address's running ones in any campaign when it may be
    -- suppressed), then their campaigns (the totals trigger). Taken here, each in key
    -- order, so that two batches queue instead of deadlocking (found in review: opens
    -- of two campaigns' emails; hard bounces of contacts enrolled in two campaigns).
    if v_enrollment_ids is not null or v_suppressing_send_ids is not null then
        select array_agg(e.org_id), array_agg(e.campaign_id)
        into v_campaign_org_ids, v_campaign_ids
        from (
            select e.org_id, e.campaign_id
            from app.campaign_enrollments as e
            where (e.org_id, e.id) in (
                select u.org_id, u.id
                from unnest(v_enrollment_org_ids, v_enrollment_ids) as u (org_id, id)
                union
                select r.org_id, r.id
                from unnest(v_suppressing_org_ids, v_suppressing_send_ids) as g (org_id, send_id)
                inner join app.email_sends as s on s.org_id = g.org_id and s.id = g.send_id
                inner join app.contacts as k
                    on k.org_id = s.org_id and lower(k.email) = lower(s.to_email)
                inner join app.campaign_enrollments as r
                    on r.org_id = k.org_id and r.contact_id = k.id
                where
                    r.status in ('active', 'paused') and s.org_id = any(v_orgs)
                    and k.org_id = any(v_orgs) and r.org_id = any(v_orgs)
            )
            and e.org_id = any(v_orgs)
            order by e.org_id, e.id
            for update of e
        ) as e;
        perform
        from app.campaigns as c
        where (c.org_id, c.id) in (
            select u.org_id, u.id from unnest(v_campaign_org_ids, v_campaign_ids) as u (org_id, id)
        )
        and c.org_id = any(v_orgs)
        order by c.org_id, c.id
        for update of c;
    end if;

    v_at := array(
        select app._email_event_time(p_payloads[g.i] ->> 'created_at', p_received_at[g.i])
        from unnest(p_event_ids) with ordinality as g (event_id, i)
        order by g.i
    );

    insert into app.email_events (
        org_id, email_send_id, provider_event_id, type, payload, occurred_at, received_at,
        recipient_user_id
    )
    select
        p_org_ids[g.i], p_send_ids[g.i], p_event_ids[g.i],
        coalesce(p_payloads[g.i] ->> 'type', ''), p_payloads[g.i], v_at[g.i], p_received_at[g.i],
        s.recipient_user_id
    from unnest(p_event_ids) with ordinality as g (event_id, i)
    left join app.email_sends as s
        on s.org_id = p_org_ids[g.i] and s.id = p_send_ids[g.i] and s.org_id = any(v_orgs)
    order by g.i;

    with ev as (
        select
            p_org_ids[g.i] as org_id,
            p_send_ids[g.i] as send_id,
            g.i as ord,
            p_payloads[g.i] ->> 'type' as type,
            coalesce(p_payloads[g.i] -> 'data', '{}') as data,
            v_at[g.i] as at
        from unnest(p_event_ids) with ordinality as g (event_id, i)
    ),

    typed as (
        select
            ev.*,
            -- Searched CASEs only in this statement: Citus sends a simple one
            -- here to the worker as text = boolean (docs/scale-out.md).
            case
                when ev.type in (
                    'email.sent', 'email.delivery_delayed', 'email.delivered', 'email.opened',
                    'email.clicked', 'email.bounced', 'email.complained', 'email.failed',
                    'email.suppressed'
                ) then substr(ev.type, length('email.') + 1)
            end as target,
            ev.type = 'email.bounced'
            and lower(coalesce(ev.data -> 'bounce' ->> 'type', '')) in ('permanent', 'hard')
                as hard,
            substring(ev.data -> 'bounce' ->> 'status' from '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$')
                as bounce_status,
            case
                when ev.type = 'email.failed' then ev.data -> 'failed' ->> 'reason'
                when ev.type = 'email.bounced' then ev.data -> 'bounce' ->> 'message'
            end as error
        from ev
    ),

    per_send as (
        select
            t.org_id,
            t.send_id,
            -- The first final status wins; otherwise the highest rank.
            (array_agg(t.target order by t.ord) filter (
                where t.target is not null and app._email_status_rank(t.target) >= 100
            ))[1] as first_final,
            (array_agg(t.target order by app._email_status_rank(t.target) desc, t.ord) filter (
                where t.target is not null and app._email_status_rank(t.target) < 100
            ))[1] as top,
            (array_agg(t.at order by t.ord) filter (where t.type = 'email.sent'))[1] as sent_at,
            (array_agg(t.at order by t.ord) filter (where t.type = 'email.delivered'))[1]
                as delivered_at,
            min(t.at) filter (where t.type = 'email.opened') as opened_at,
            count(*) filter (where t.type = 'email.opened') as opens,
            min(t.at) filter (where t.type = 'email.clicked') as clicked_at,
            count(*) filter (where t.type = 'email.clicked') as clicks,
            (array_agg(t.at order by t.ord) filter (where t.type = 'email.bounced'))[1]
                as bounced_at,
            (array_agg(t.hard order by t.ord desc) filter (where t.type = 'email.bounced'))[1]
                as last_hard,
            (array_agg(t.bounce_status order by t.ord desc) filter (
                where t.type = 'email.bounced' and t.bounce_status is not null
            ))[1] as bounce_status,
            (array_agg(t.at order by t.ord) filter (where t.type = 'email.complained'))[1]
                as complained_at,
            (array_agg(t.at order by t.ord) filter (where t.type = 'email.failed'))[1]
                as failed_at,
            (array_agg(t.error order by t.ord desc) filter (where t.error is not null))[1]
                as error
        from typed as t
        group by t.org_id, t.send_id
    ),

    next as (
        select
            p.*,
            case
                when app._email_status_rank(o.status) >= 100 then o.status
                when p.first_final is not null then p.first_final
                when p.top is not null
                    and app._email_status_rank(p.top) > app._email_status_rank(o.status) then p.top
                else o.status
            end as status
        from per_send as p
        inner join app.email_sends as o on o.org_id = p.org_id and o.id = p.send_id
        where o.org_id = any(v_orgs)
    )

    update app.email_sends as s
    set
        status = n.status,
        suppression_reason = case
            when n.status = 'suppressed' then coalesce(s.suppression_reason, 'provider')
        end,
        sent_at = coalesce(s.sent_at, n.sent_at),
        delivered_at = coalesce(s.delivered_at, n.delivered_at),
        first_opened_at = least(coalesce(s.first_opened_at, n.opened_at), n.opened_at),
        open_count = s.open_count + n.opens,
        first_clicked_at = least(coalesce(s.first_clicked_at, n.clicked_at), n.clicked_at),
        click_count = s.click_count + n.clicks,
        bounced_at = coalesce(s.bounced_at, n.bounced_at),
        bounce_type = case
            when n.last_hard then 'hard'
            when not n.last_hard then 'soft'
            else s.bounce_type
        end,
        -- The enhanced status code of a bounce report (app._email_apply_bounce_report).
        bounce_status = coalesce(n.bounce_status, s.bounce_status),
        complained_at = coalesce(s.complained_at, n.complained_at),
        failed_at = coalesce(s.failed_at, n.failed_at),
        error = coalesce(n.error, s.error),
        updated_at = app.now()
    from next as n
    where s.org_id = n.org_id and s.id = n.send_id and s.org_id = any(v_orgs);

    -- Suppressions: a hard bounce, the third soft bounce, a complaint (which
    -- also unsubscribes from marketing) or a provider-side suppression; the
    -- first event that causes one is its source.
    if v_suppressing_send_ids is null then
        return;
    end if;
    insert into app.suppressions (org_id, email, reason, source_event_id)
    select f.org_id, f.email, f.reason, f.event_id
    from (
        -- Per address and reason, the first event that causes it; inserted in key
        -- order, so two batches never wait on each other's keys in a cycle.
        select distinct on (c.org_id, c.email, c.reason) c.*
        from (
            select
                p_org_ids[g.i] as org_id, lower(s.to_email) as email, r.reason,
                p_event_ids[g.i] as event_id, g.i as ord
            from unnest(p_event_ids) with ordinality as g (event_id, i)
            inner join app.email_sends as s
                on s.org_id = p_org_ids[g.i] and s.id = p_send_ids[g.i] and s.org_id = any(v_orgs)
            cross join lateral (
                select
                    p_payloads[g.i] ->> 'type' as type,
                    lower(coalesce(p_payloads[g.i] -> 'data' -> 'bounce' ->> 'type', ''))
                    in ('permanent', 'hard') as hard
            ) as t
            cross join lateral (
                select 'hard_bounce' as reason
                where t.type = 'email.bounced' and t.hard
                union all
                select 'soft_bounce'
                where
                    t.type = 'email.bounced' and not t.hard
                    and (
                        select count(*)
                        from app.email_sends as b
                        where
                            b.org_id = any(v_orgs)
                            and b.org_id = s.org_id and lower(b.to_email) = lower(s.to_email)
                            and b.bounce_type = 'soft'
                            -- Since the address's soft-bounce suppression was last lifted
                            -- (api.remove_suppression): a lift starts the count again.
                            and b.bounced_at > coalesce(
                                (
                                    select max(c.changed_at)
                                    from app.suppression_changes as c
                                    where
                                        c.org_id = any(v_orgs)
                                        and c.org_id = s.org_id and c.email = lower(s.to_email)
                                        and c.reason = 'soft_bounce' and c.action = 'removed'
                                ),
                                '-infinity'
                            )
                    ) >= 3
                union all
                select x.reason
                from (values ('complaint'), ('unsubscribe')) as x (reason)
                where t.type = 'email.complained'
                union all
                select 'provider' where t.type = 'email.suppressed'
            ) as r
        ) as c
        order by c.org_id, c.email, c.reason, c.ord
    ) as f
    order by f.org_id, f.email, f.reason
    on conflict (org_id, email, reason) do nothing;
end
$function$;

-- Ingest validated events (ids and payloads checked by the api functions): dedupe
-- by svix-id, park the ones whose send is not recorded yet, apply the rest in
-- one set (app._email_apply_events). Returns each event's outcome, in order.
create or replace function app._email_ingest_events(p_event_ids text[], p_payloads jsonb[])
returns text[]
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_result text[];
    v_org_ids uuid[];
    v_send_ids uuid[];
    v_ids text[];
    v_payloads jsonb[];
    v_citus boolean;
    v_group_orgs uuid[];
    v_group_sends uuid[];
    v_group_ids text[];
    v_group_payloads jsonb[];
begin
    -- Receipts in one order (two batches never wait on each other in a cycle); an id
    -- seen before, or twice in this batch, is a duplicate after its first.
    with fresh as (
        insert into app.webhook_receipts (provider, event_id)
        select 'resend', e.id
        from pg_catalog.unnest(p_event_ids) as e (id)
        order by e.id
        on conflict do nothing
        returning event_id
    ),

    ev as (
        select
            g.i as ord,
            p_payloads[g.i] -> 'data' ->> 'email_id' as message_id,
            p_payloads[g.i] ->> 'type' as type,
            g.i = min(g.i) over (partition by p_event_ids[g.i])
            and p_event_ids[g.i] in (select f.event_id from fresh as f) as is_new
        from unnest(p_event_ids) with ordinality as g (event_id, i)
    )

    select array_agg(
        case
            when not ev.is_new then 'duplicate'
            -- Not about a send of ours (inbound mail has its own endpoint).
            when ev.message_id is null or not starts_with(ev.type, 'email.')
                or ev.type = 'email.received' then 'ignored'
        end order by ev.ord
    )
    into v_result
    from ev;

    if array_position(v_result, null) is null then
        return v_result;  -- duplicates and events about no send of ours only
    end if;
    -- Serialize with api.record_email_sent for these message ids, so an event
    -- either sees the recorded send or is parked before the drain runs.
    perform app._email_lock_provider_messages(array(
        select p_payloads[g.i] -> 'data' ->> 'email_id'
        from unnest(p_event_ids) with ordinality as g (event_id, i)
        where v_result[g.i] is null
    ));

    with todo as (
        select g.i, s.org_id, s.id as send_id
        from unnest(p_event_ids) with ordinality as g (event_id, i)
        left join app.email_sends as s
            on s.provider_message_id = p_payloads[g.i] -> 'data' ->> 'email_id'
        where v_result[g.i] is null
    ),

    parked as (
        -- A send not recorded yet: the event waits for api.record_email_sent.
        insert into app.email_events_pending (provider_event_id, provider_message_id, payload)
        select p_event_ids[t.i], p_payloads[t.i] -> 'data' ->> 'email_id', p_payloads[t.i]
        from todo as t
        where t.send_id is null
        order by t.i
    )

    select
        array_agg(t.org_id order by t.i),
        array_agg(t.send_id order by t.i),
        array_agg(p_event_ids[t.i] order by t.i),
        array_agg(p_payloads[t.i] order by t.i)
    into v_org_ids, v_send_ids, v_ids, v_payloads
    from todo as t
    where t.send_id is not null;
    -- On Citus one org at a time: each org's sends, enrollments and campaigns are
    -- locked on the node that holds them, which a lock across orgs cannot be
    -- (docs/scale-out.md); orgs in key order, so two batches never wait in a cycle.
    -- On a single node the whole batch at once (a call per org costs about a
    -- millisecond).
    v_citus := app._on_citus();
    for v_group_sends, v_group_ids, v_group_payloads, v_group_orgs in
        select
            array_agg(x.send_id order by x.i), array_agg(x.event_id order by x.i),
            array_agg(x.payload order by x.i), array_agg(x.org_id order by x.i)
        from unnest(v_org_ids, v_send_ids, v_ids, v_payloads) with ordinality
            as x (org_id, send_id, event_id, payload, i)
        group by case when v_citus then x.org_id end
        order by min(x.org_id::text)
    loop
        perform app._email_apply_events(
            p_org_ids => v_group_orgs,
            p_send_ids => v_group_sends,
            p_event_ids => v_group_ids,
            p_payloads => v_group_payloads,
            p_received_at => array_fill(app.now(), array[cardinality(v_group_ids)])
        );
    end loop;

    return array(
        select coalesce(
            v_result[g.i],
            case when p_event_ids[g.i] = any(v_ids) then 'applied' else 'pending' end
        )
        from unnest(p_event_ids) with ordinality as g (event_id, i)
        order by g.i
    );
end
$function$;

-- An event as Resend sends it: a svix-id, and a JSON object with type and data.
create or replace function app._email_check_event(p_provider_event_id text, p_payload jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when p_provider_event_id is null or length(p_provider_event_id) = 0
            then 'p_provider_event_id is required'
        when p_payload is null or jsonb_typeof(p_payload) <> 'object'
            or jsonb_typeof(p_payload -> 'type') is distinct from 'string'
            or jsonb_typeof(p_payload -> 'data') is distinct from 'object'
            then 'an event is a JSON object with type and data'
    end
$function$;

create or replace function api.ingest_email_event(p_provider_event_id text, p_payload jsonb)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
set lock_timeout = '2s'
as $function$
declare
    v_refused text := app._email_check_event(p_provider_event_id, p_payload);
begin
    perform app._require_service();
    if v_refused is not null then
        raise exception using errcode = 'IT005', message = v_refused;
    end if;
    return (app._email_ingest_events(array[p_provider_event_id], array[p_payload]))[1];
end
$function$;

comment on function api.ingest_email_event(text, jsonb) is
$$Service role only. Records one Resend webhook event (p_provider_event_id is the svix-id) and
returns what happened: 'applied' to its send, 'pending' when the send's provider id is not
recorded yet (applied later by api.record_email_sent), 'duplicate' for an id seen before
(a retry changes nothing), or 'ignored' (not about an outbound email). Statuses only move
forward (queued < sending < sent < delivery_delayed < delivered < opened < clicked; bounced,
complained, failed and suppressed are final); opens and clicks are counted with their first
times. A hard bounce, a third soft bounce, a complaint (also an unsubscribe from marketing)
or a provider suppression suppresses the recipient. Waits at most 2 s for a lock (55P03).$$;

create or replace function api.ingest_email_events(
    p_provider_event_ids text[],
    p_payloads jsonb[]
)
returns text[]
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
set lock_timeout = '2s'
as $function$
declare
    v_refused text;
begin
    perform app._require_service();
    if p_provider_event_ids is null or p_payloads is null
        or array_ndims(p_provider_event_ids) is distinct from 1
        or array_ndims(p_payloads) is distinct from 1
        or array_lower(p_provider_event_ids, 1) <> 1 or array_lower(p_payloads, 1) <> 1
        or cardinality(p_provider_event_ids) <> cardinality(p_payloads) then
        raise exception using
            errcode = 'IT005',
            message = 'p_provider_event_ids and p_payloads are two arrays of one length';
    end if;
    if cardinality(p_provider_event_ids) > 1000 then
        raise exception using errcode = 'IT005', message = 'at most 1000 events a call';
    end if;
    select format('event %s: %s', g.i, c.refused)
    into v_refused
    from unnest(p_provider_event_ids) with ordinality as g (event_id, i)
    cross join lateral (
        select app._email_check_event(g.event_id, p_payloads[g.i]) as refused
    ) as c
    where c.refused is not null
    order by g.i
    limit 1;
    if v_refused is not null then
        raise exception using errcode = 'IT005', message = v_refused;
    end if;
    return app._email_ingest_events(p_provider_event_ids, p_payloads);
end
$function$;

comment on function api.ingest_email_events(text[], jsonb[]) is
$$Service role only. Records up to 1000 Resend webhook events in one call, as if
api.ingest_email_event were called for each in array order (p_provider_event_ids[i] is the
svix-id of p_payloads[i]), and returns each one's outcome at the same position: 'applied',
'pending', 'duplicate' (seen before, or earlier in the same call) or 'ignored'. One malformed
event refuses the whole call (IT005, naming its position) and nothing is written; waits at
most 2 s for a lock (55P03). The web app groups the events that arrive together into one
call (group commit, docs/email.md).$$;

create or replace function api.record_email_sent(
    p_email_send_id uuid,
    p_provider text,
    p_provider_message_id text,
    p_org_id uuid default null
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._act_for_org(p_org_id);
    v_status text;
    v_stamp timestamptz;
begin
    perform app._require_service();
    perform app._email_lock_provider_messages(array[p_provider_message_id]);
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.email_sends as s
    set
        provider = p_provider,
        provider_message_id = coalesce(s.provider_message_id, p_provider_message_id),
        status = case
            when app._email_status_rank(s.status) < app._email_status_rank('sent') then 'sent'
            else s.status
        end,
        sent_at = coalesce(s.sent_at, v_stamp),
        updated_at = v_stamp
    where s.org_id = v_org_id and s.id = p_email_send_id
    returning s.status into v_status;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('email send %s not found', p_email_send_id);
    end if;

    -- Events that beat the send response are applied now, in arrival order. Looked
    -- for first without a row lock (the message's advisory lock above keeps an
    -- arriving event out): on a Citus cluster the table is a reference table, whose
    -- locking read and delete reach every node, so the usual case (none) stays local.
    if exists (
        select 1 from app.email_events_pending as q
        where q.provider_message_id = p_provider_message_id
    ) then
        perform app._email_apply_parked_message(
            v_org_id, p_email_send_id, p_provider_message_id, p_skip_locked => false
        );
    end if;
    select s.status into v_status
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = p_email_send_id;
    return v_status;
end
$function$;

comment on function api.record_email_sent(uuid, text, text, uuid) is
$$Service role only, with the send's org as actor or as p_org_id (an org-first call). The
worker calls it after the provider accepted a message: records the provider and its message
id, moves the status to at least sent, and applies any webhook events that arrived before
this call. Returns the status.$$;

-- Apply the events parked for one message to its send, in arrival order, and
-- delete only those applied (on a cluster an event parked meanwhile on another node,
-- where the message's lock holds nothing, stays for the reconciliation). The rows are
-- locked first: waited for, or with p_skip_locked those another transaction holds
-- are left to it. Returns how many were applied.
create or replace function app._email_apply_parked_message(
    p_org_id uuid, p_send_id uuid, p_message_id text, p_skip_locked boolean
)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_locked text[];
    v_ids text[];
    v_payloads jsonb[];
    v_received timestamptz[];
begin
    if p_skip_locked then
        select array_agg(x.provider_event_id) into v_locked
        from (
            select q.provider_event_id from app.email_events_pending as q
            where q.provider_message_id = p_message_id
            for update skip locked
        ) as x;
    else
        select array_agg(x.provider_event_id) into v_locked
        from (
            select q.provider_event_id from app.email_events_pending as q
            where q.provider_message_id = p_message_id
            for update
        ) as x;
    end if;
    select
        array_agg(q.provider_event_id order by q.received_at, q.provider_event_id),
        array_agg(q.payload order by q.received_at, q.provider_event_id),
        array_agg(q.received_at order by q.received_at, q.provider_event_id)
    into v_ids, v_payloads, v_received
    from app.email_events_pending as q
    where q.provider_event_id = any(v_locked);
    if v_ids is null then
        return 0;
    end if;
    perform app._email_apply_events(
        p_org_ids => array_fill(p_org_id, array[cardinality(v_ids)]),
        p_send_ids => array_fill(p_send_id, array[cardinality(v_ids)]),
        p_event_ids => v_ids,
        p_payloads => v_payloads,
        p_received_at => v_received
    );
    delete from app.email_events_pending as p where p.provider_event_id = any(v_ids);
    return cardinality(v_ids);
end
$function$;

-- Provider events still parked for a send that has since been recorded: applied as
-- api.record_email_sent applies them, oldest message first, at most p_limit
-- messages. The message's advisory lock keeps an ingest and api.record_email_sent
-- apart on one node; on a Citus cluster they may run on different nodes, where it
-- holds nothing, and an event parked while the send was being recorded elsewhere was
-- seen by neither (docs/scale-out.md, Open item 17). A worker that died between the
-- provider's answer and the record leaves the same once the send is recorded again.
-- Parked rows are locked SKIP LOCKED (api.record_email_sent holds them while it
-- applies them), one message at a time: the table is a reference table on Citus, and
-- a send's rows are its org's. Returns how many events were applied.
create or replace function app._email_apply_parked(p_limit integer)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_messages text [];
    v_orgs uuid [];
    v_sends uuid [];
    v_count integer := 0;
    v_error text;
begin
    -- The candidates, unlocked: the parked messages a send has recorded; at most 50 a
    -- call (each is a subtransaction; the reconciliation runs every minute).
    select array_agg(x.message_id order by x.since), array_agg(x.org_id order by x.since),
        array_agg(x.send_id order by x.since)
    into v_messages, v_orgs, v_sends
    from (
        select q.provider_message_id as message_id, min(q.received_at) as since,
            min(s.org_id::text)::uuid as org_id, min(s.id::text)::uuid as send_id
        from app.email_events_pending as q
        inner join app.email_sends as s on s.provider_message_id = q.provider_message_id
        group by q.provider_message_id
        order by since
        limit least(p_limit, 50)
    ) as x;
    for i in 1 .. coalesce(cardinality(v_messages), 0) loop
        -- Never waited for (an ingest or a record holds it: they apply the events
        -- themselves), and each message on its own: one that fails is left parked,
        -- with a warning, and the reconciliation goes on.
        continue when not pg_catalog.pg_try_advisory_xact_lock(
            pg_catalog.hashtextextended('intime.email:' || v_messages[i], 0)
        );
        begin
            v_count := v_count + app._email_apply_parked_message(
                v_orgs[i], v_sends[i], v_messages[i], p_skip_locked => true
            );
        exception when others then
            get stacked diagnostics v_error = message_text;
            raise warning 'parked events of message % not applied: %', v_messages[i], v_error;
        end;
    end loop;
    return v_count;
end
$function$;
