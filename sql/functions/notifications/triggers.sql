-- Trigger functions of the notification tables.

-- Once per statement that adds or re-announces notifications: a wake-up for
-- the web processes' stream hubs, with no row data. Identical notifications
-- of one transaction fold into one, and listeners re-read the table past
-- their high-water seq, so a forged or lost NOTIFY costs nothing.
create or replace function app._tg_notifications_announce()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform pg_catalog.pg_notify('app_notifications', '');
    return null;
end
$function$;

-- Before a statement inserts notifications: give the transaction its xid
-- now, before any seq is drawn. The stream hub settles a skipped seq once
-- the snapshot's xmin passes the xmax it saw; a transaction that drew a seq
-- before having an xid (an ON CONFLICT insert waits before it writes) could
-- otherwise commit it after that point and never be streamed.
create or replace function app._tg_notifications_assign_xid()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform pg_catalog.pg_current_xact_id();
    return null;
end
$function$;

-- Email status changes flow to the deliveries that sent the email (one
-- notification's email, or every notification of a digest).
create or replace function app._tg_email_send_delivery_status()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    update app.notification_deliveries as d
    set
        status = case
            when new.status in ('queued', 'sending') then 'pending'
            when new.status in ('sent', 'delivery_delayed') then 'sent'
            when new.status in ('delivered', 'opened', 'clicked') then 'delivered'
            when new.status = 'suppressed' then 'skipped'
            else 'failed'
        end,
        reason = case
            when new.status in ('bounced', 'complained', 'failed') then
                new.status || coalesce(': ' || new.error, '')
            when new.status = 'suppressed' then 'suppressed: ' || new.suppression_reason
        end,
        updated_at = app.now()
    where
        d.org_id = new.org_id
        and d.email_send_id = new.id
        and d.status not in ('held', 'digest');
    return null;
end
$function$;
