-- Trigger functions of the notification tables.

-- Once per statement that adds or re-announces notifications (a collapse is
-- an INSERT ... ON CONFLICT DO UPDATE: the insert trigger covers it): a
-- wake-up for the web processes' stream hubs, with no row data. Identical
-- notifications of one transaction fold into one, and listeners re-read the
-- table past their cursor, so a forged or lost NOTIFY costs nothing.
--
-- NOTIFY makes a commit take a database-wide lock until it is flushed, so
-- notifying commits cannot share a WAL flush. While every live hub is
-- polling the table (it registered polling_until in app.stream_hubs, with a
-- margin for this transaction to commit), the wake-up is redundant and is
-- skipped; an idle hub, or none at all, always gets it.
create or replace function app._tg_notification_announce()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    -- On a Citus worker's part of a transaction begun elsewhere, no NOTIFY
    -- (app._may_notify); the hubs' registry lives on the coordinator.
    if app._on_citus() then
        if app._may_notify() then
            perform pg_catalog.pg_notify('app_notifications', '');
        end if;
        return null;
    end if;
    if coalesce(
        (
            select bool_and(h.polling_until > pg_catalog.clock_timestamp() + interval '100 ms')
            from app.stream_hubs as h
            where h.seen_at > pg_catalog.clock_timestamp() - interval '5 s'
        ),
        false
    ) then
        return null;
    end if;
    perform pg_catalog.pg_notify('app_notifications', '');
    return null;
end
$function$;

-- What an email's status means for the deliveries that sent it: their
-- status and reason. One mapping for the trigger below and for the
-- reconciliation sweep (a pending delivery whose email already settled).
create or replace function app._notification_email_outcome(
    p_email_status text,
    p_error text,
    p_suppression_reason text,
    out status text,
    out reason text
)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select
        case
            when p_email_status in ('queued', 'sending') then 'pending'
            when p_email_status in ('sent', 'delivery_delayed') then 'sent'
            when p_email_status in ('delivered', 'opened', 'clicked') then 'delivered'
            when p_email_status = 'suppressed' then 'skipped'
            else 'failed'
        end,
        case
            when p_email_status in ('bounced', 'complained', 'failed') then
                p_email_status || coalesce(': ' || p_error, '')
            when p_email_status = 'suppressed' then 'suppressed: ' || p_suppression_reason
        end
$function$;

-- Email status changes flow to the deliveries that sent the email (one
-- notification's email, or every notification of a digest).
create or replace function app._tg_email_send_delivery_status()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_status text;
    v_reason text;
begin
    -- The outcome first: Citus cannot send a function's record to a shard
    -- (docs/scale-out.md).
    select o.status, o.reason into v_status, v_reason
    from app._notification_email_outcome(new.status, new.error, new.suppression_reason) as o;
    update app.notification_deliveries as d
    set
        status = v_status,
        reason = v_reason,
        updated_at = app.now()
    where
        d.org_id = new.org_id
        and d.email_send_id = new.id
        and d.status not in ('held', 'digest');
    return null;
end
$function$;
