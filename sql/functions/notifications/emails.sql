-- Emailing notification deliveries (send, release, digests).

-- Queues one email for deliveries p_delivery_ids of org p_org_id and links
-- them to it: pending when queued, skipped with the reason otherwise (p_skip
-- given, an address the mailer refuses, email settings removed meanwhile, a
-- suppressed recipient). One bad recipient never fails the caller's batch.
-- Returns whether an email was queued.
create or replace function app._notification_email_deliveries(
    p_org_id uuid,
    p_delivery_ids uuid[],
    p_to text,
    p_subject text,
    p_html text,
    p_text text,
    p_entity_type text,
    p_entity_id uuid,
    p_notification_id uuid,
    p_recipient_user_id uuid,
    p_skip text default null
)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_send app.email_sends;
    v_skip text := p_skip;
begin
    -- What app._email_insert_send would refuse (IT005, IT011), checked first:
    -- no subtransaction (and no subtransaction id) per recipient, which would
    -- count against the 64 a backend caches (a workflow batch: docs/workflows.md).
    if v_skip is null and not coalesce(app._email_is_plain_address(p_to), false) then
        v_skip := 'invalid recipient address';
    elsif v_skip is null and not exists (
        select from app.email_settings as s where s.org_id = p_org_id
    ) then
        v_skip := 'no email provider configured';
    end if;
    if v_skip is null then
        v_send := app._email_insert_send(
            p_org_id => p_org_id,
            p_to => p_to,
            p_subject => p_subject,
            p_html => p_html,
            p_text => p_text,
            p_category => 'transactional',
            p_entity_type => p_entity_type,
            p_entity_id => p_entity_id,
            p_notification_id => p_notification_id,
            p_recipient_user_id => p_recipient_user_id
        );
    end if;
    if v_skip is null and v_send.status = 'suppressed' then
        v_skip := 'suppressed: ' || v_send.suppression_reason;
    end if;
    update app.notification_deliveries as d
    set
        email_send_id = v_send.id,
        status = case when v_skip is null then 'pending' else 'skipped' end,
        reason = v_skip,
        deliver_after = null,
        attempts = d.attempts + (v_send.id is not null)::integer,
        updated_at = app.now()
    where d.org_id = p_org_id and d.id = any(p_delivery_ids);
    return v_skip is null;
end
$function$;

-- Queues the email of each given pending email delivery (org p_org_id), one
-- email per notification; an inactive user's is skipped. Returns how many
-- emails were queued.
create or replace function app._notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[])
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row record;
    v_queued integer := 0;
begin
    for v_row in
        select d.id, d.user_id, n.id as notification_id, n.email_subject, n.email_html,
            n.email_text, n.entity_type, n.entity_id, u.email, u.is_active
        from app.notification_deliveries as d
        inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        where d.org_id = p_org_id and d.id = any(p_delivery_ids) and d.channel = 'email'
        order by d.id
    loop
        v_queued := v_queued + app._notification_email_deliveries(
            p_org_id => p_org_id,
            p_delivery_ids => array[v_row.id],
            p_to => v_row.email,
            p_subject => v_row.email_subject,
            p_html => v_row.email_html,
            p_text => v_row.email_text,
            p_entity_type => v_row.entity_type,
            p_entity_id => v_row.entity_id,
            p_notification_id => v_row.notification_id,
            p_recipient_user_id => v_row.user_id,
            p_skip => case when not v_row.is_active then 'user inactive' end
        )::integer;
    end loop;
    return v_queued;
end
$function$;
