-- Provider (Resend) events: deduplicated by their event id, applied to the
-- send they name, statuses only moving forward, and kept aside until the send
-- is known when they arrive before the send response.

-- One transaction-scoped lock per provider message id, taken by both
-- api.ingest_email_event and api.record_email_sent, so an event racing the
-- send record either sees the send or is parked before the drain runs.
create or replace function app._email_lock_provider_message(p_provider_message_id text)
returns void
language sql
set search_path = pg_catalog, pg_temp
as $function$
    select pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('intime.email:' || p_provider_message_id, 0)
    )
$function$;

-- Apply one event to a send (row-locked). Called by api.ingest_email_event and
-- by api.record_email_sent when it drains events that arrived early.
create or replace function app._email_apply_event(
    p_org_id uuid,
    p_send_id uuid,
    p_event_id text,
    p_payload jsonb,
    p_received_at timestamptz
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_type text := p_payload ->> 'type';
    v_data jsonb := coalesce(p_payload -> 'data', '{}');
    v_at timestamptz;
    v_send app.email_sends%rowtype;
    v_target text;
    v_status text;
    v_hard boolean;
begin
    begin
        v_at := coalesce((p_payload ->> 'created_at')::timestamptz, p_received_at);
    exception when invalid_datetime_format or datetime_field_overflow then
        v_at := p_received_at;
    end;
    select s.* into v_send
    from app.email_sends as s
    where s.org_id = p_org_id and s.id = p_send_id
    for update;

    insert into app.email_events (
        org_id, email_send_id, provider_event_id, type, payload, occurred_at, received_at,
        recipient_user_id
    )
    values (
        p_org_id, p_send_id, p_event_id, coalesce(v_type, ''), p_payload, v_at, p_received_at,
        v_send.recipient_user_id
    );

    v_target := case v_type
        when 'email.sent' then 'sent'
        when 'email.delivery_delayed' then 'delivery_delayed'
        when 'email.delivered' then 'delivered'
        when 'email.opened' then 'opened'
        when 'email.clicked' then 'clicked'
        when 'email.bounced' then 'bounced'
        when 'email.complained' then 'complained'
        when 'email.failed' then 'failed'
        when 'email.suppressed' then 'suppressed'
    end;
    v_status := case
        when app._email_status_rank(v_send.status) >= 100 then v_send.status
        when v_target is null then v_send.status
        when app._email_status_rank(v_target) > app._email_status_rank(v_send.status)
            then v_target
        else v_send.status
    end;
    v_hard := v_type = 'email.bounced'
        and lower(coalesce(v_data -> 'bounce' ->> 'type', '')) in ('permanent', 'hard');

    update app.email_sends as s
    set
        status = v_status,
        suppression_reason = case
            when v_status = 'suppressed' then coalesce(s.suppression_reason, 'provider')
        end,
        sent_at = case when v_type = 'email.sent' then coalesce(s.sent_at, v_at) else s.sent_at end,
        delivered_at = case
            when v_type = 'email.delivered' then coalesce(s.delivered_at, v_at) else s.delivered_at
        end,
        first_opened_at = case
            when v_type = 'email.opened' then least(coalesce(s.first_opened_at, v_at), v_at)
            else s.first_opened_at
        end,
        open_count = s.open_count + (v_type = 'email.opened')::integer,
        first_clicked_at = case
            when v_type = 'email.clicked' then least(coalesce(s.first_clicked_at, v_at), v_at)
            else s.first_clicked_at
        end,
        click_count = s.click_count + (v_type = 'email.clicked')::integer,
        bounced_at = case
            when v_type = 'email.bounced' then coalesce(s.bounced_at, v_at) else s.bounced_at
        end,
        bounce_type = case
            when v_type = 'email.bounced' then case when v_hard then 'hard' else 'soft' end
            else s.bounce_type
        end,
        -- The enhanced status code of a bounce report (app._email_apply_bounce_report).
        bounce_status = case
            when v_type = 'email.bounced' then coalesce(
                substring(v_data -> 'bounce' ->> 'status' from '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$'),
                s.bounce_status
            )
            else s.bounce_status
        end,
        complained_at = case
            when v_type = 'email.complained' then coalesce(s.complained_at, v_at)
            else s.complained_at
        end,
        failed_at = case
            when v_type = 'email.failed' then coalesce(s.failed_at, v_at) else s.failed_at
        end,
        error = case
            when v_type = 'email.failed' then coalesce(v_data -> 'failed' ->> 'reason', s.error)
            when v_type = 'email.bounced' then coalesce(v_data -> 'bounce' ->> 'message', s.error)
            else s.error
        end,
        updated_at = app.now()
    where s.org_id = p_org_id and s.id = p_send_id;

    -- Suppressions: a hard bounce, the third soft bounce, a complaint (which
    -- also unsubscribes from marketing) or a provider-side suppression.
    insert into app.suppressions (org_id, email, reason, source_event_id)
    select p_org_id, lower(v_send.to_email), r.reason, p_event_id
    from (
        select 'hard_bounce' as reason where v_hard
        union all
        select 'soft_bounce'
        where
            v_type = 'email.bounced' and not v_hard
            and (
                select count(*)
                from app.email_sends as b
                where
                    b.org_id = p_org_id and lower(b.to_email) = lower(v_send.to_email)
                    and b.bounce_type = 'soft'
                    -- Since the address's soft-bounce suppression was last lifted
                    -- (api.remove_suppression): a lift starts the count again.
                    and b.bounced_at > coalesce(
                        (
                            select max(c.changed_at)
                            from app.suppression_changes as c
                            where
                                c.org_id = p_org_id and c.email = lower(v_send.to_email)
                                and c.reason = 'soft_bounce' and c.action = 'removed'
                        ),
                        '-infinity'
                    )
            ) >= 3
        union all
        select 'complaint' where v_type = 'email.complained'
        union all
        select 'unsubscribe' where v_type = 'email.complained'
        union all
        select 'provider' where v_type = 'email.suppressed'
    ) as r
    on conflict (org_id, email, reason) do nothing;
end
$function$;

create or replace function api.ingest_email_event(p_provider_event_id text, p_payload jsonb)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_message_id text := p_payload -> 'data' ->> 'email_id';
    v_org_id uuid;
    v_send_id uuid;
begin
    perform app._require_service();
    if p_provider_event_id is null or length(p_provider_event_id) = 0 then
        raise exception using errcode = 'IT005', message = 'p_provider_event_id is required';
    end if;
    if p_payload is null or jsonb_typeof(p_payload) <> 'object'
        or jsonb_typeof(p_payload -> 'type') is distinct from 'string'
        or jsonb_typeof(p_payload -> 'data') is distinct from 'object' then
        raise exception using
            errcode = 'IT005', message = 'an event is a JSON object with type and data';
    end if;

    insert into app.webhook_receipts (provider, event_id)
    values ('resend', p_provider_event_id)
    on conflict do nothing;
    if not found then
        return 'duplicate';
    end if;
    if v_message_id is null or not starts_with(p_payload ->> 'type', 'email.')
        or p_payload ->> 'type' = 'email.received' then
        return 'ignored';  -- not about a send of ours (inbound mail has its own endpoint)
    end if;

    -- Serialize with api.record_email_sent for this message id, so an event
    -- either sees the recorded send or is parked before the drain runs.
    perform app._email_lock_provider_message(v_message_id);
    select s.org_id, s.id into v_org_id, v_send_id
    from app.email_sends as s
    where s.provider_message_id = v_message_id;
    if not found then
        insert into app.email_events_pending (provider_event_id, provider_message_id, payload)
        values (p_provider_event_id, v_message_id, p_payload);
        return 'pending';
    end if;
    perform app._email_apply_event(v_org_id, v_send_id, p_provider_event_id, p_payload, app.now());
    return 'applied';
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
or a provider suppression suppresses the recipient.$$;

create or replace function api.record_email_sent(
    p_email_send_id uuid,
    p_provider text,
    p_provider_message_id text
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_status text;
    v_pending record;
begin
    perform app._require_service();
    perform app._email_lock_provider_message(p_provider_message_id);
    update app.email_sends as s
    set
        provider = p_provider,
        provider_message_id = coalesce(s.provider_message_id, p_provider_message_id),
        status = case
            when app._email_status_rank(s.status) < app._email_status_rank('sent') then 'sent'
            else s.status
        end,
        sent_at = coalesce(s.sent_at, app.now()),
        updated_at = app.now()
    where s.org_id = v_org_id and s.id = p_email_send_id
    returning s.status into v_status;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('email send %s not found', p_email_send_id);
    end if;

    -- Events that beat the send response are applied now, in arrival order.
    for v_pending in
        select p.provider_event_id, p.payload, p.received_at
        from app.email_events_pending as p
        where p.provider_message_id = p_provider_message_id
        order by p.received_at, p.provider_event_id
        for update
    loop
        perform app._email_apply_event(
            v_org_id, p_email_send_id, v_pending.provider_event_id, v_pending.payload,
            v_pending.received_at
        );
    end loop;
    delete from app.email_events_pending as p
    where p.provider_message_id = p_provider_message_id;
    select s.status into v_status
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = p_email_send_id;
    return v_status;
end
$function$;

comment on function api.record_email_sent(uuid, text, text) is
$$Service role only, with the send's org as actor. The worker calls it after the provider
accepted a message: records the provider and its message id, moves the status to at least
sent, and applies any webhook events that arrived before this call. Returns the status.$$;
