-- Queueing the email of notification deliveries (send, release).

-- Queues the email of each given pending email delivery (org p_org_id) and
-- links it. One bad row never stops the others: an address the mailer
-- refuses, email settings removed meanwhile or an inactive user leave that
-- delivery skipped with the reason, as does a suppressed recipient. Returns
-- how many emails were queued.
create or replace function app._queue_notification_emails(p_org_id uuid, p_delivery_ids uuid[])
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row record;
    v_send app.email_sends;
    v_skip text;
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
        v_send := null;
        v_skip := case when not v_row.is_active then 'user inactive' end;
        if v_skip is null then
            begin
                v_send := app._insert_email_send(
                    p_org_id => p_org_id,
                    p_to => v_row.email,
                    p_subject => v_row.email_subject,
                    p_html => v_row.email_html,
                    p_text => v_row.email_text,
                    p_category => 'transactional',
                    p_entity_type => v_row.entity_type,
                    p_entity_id => v_row.entity_id,
                    p_notification_id => v_row.notification_id,
                    p_recipient_user_id => v_row.user_id
                );
            exception
                when sqlstate 'IT005' then
                    v_skip := 'invalid recipient address';
                when sqlstate 'IT011' then
                    v_skip := 'no email provider configured';
            end;
        end if;
        update app.notification_deliveries as d
        set
            email_send_id = v_send.id,
            status = case
                when v_skip is not null or v_send.status = 'suppressed' then 'skipped'
                else 'pending'
            end,
            reason = coalesce(v_skip, 'suppressed: ' || v_send.suppression_reason),
            deliver_after = null,
            attempts = d.attempts + (v_send.id is not null)::integer,
            updated_at = app.now()
        where d.org_id = p_org_id and d.id = v_row.id;
        v_queued := v_queued + (v_skip is null and v_send.status <> 'suppressed')::integer;
    end loop;
    return v_queued;
end
$function$;
