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
        select 1 from app.email_settings as s where s.org_id = p_org_id
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
-- email per notification, set-based (one INSERT of the sends, one of their
-- email.send jobs, one UPDATE of the deliveries: a workflow batch's or a bulk
-- UPDATE's task notifications cost one statement each, not one per email).
-- Each delivery ends as app._notification_email_deliveries leaves one: pending
-- and linked to its send; or skipped with the reason (an inactive user, an
-- address the mailer refuses, no email settings, a suppressed recipient, whose
-- suppressed send is kept and linked). Returns how many emails were queued.
create or replace function app._notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[])
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.email_settings%rowtype;
    v_queued integer;
    v_emails text[];
    v_reasons text[];
    v_delivery_ids uuid[];
    v_user_ids uuid[];
    v_notification_ids uuid[];
    v_addresses text[];
    v_skips text[];
    v_send_ids uuid[];
    v_queued_ids uuid[];
    v_made_ids uuid[];
    v_made_reasons text[];
    v_stamp timestamptz;
begin
    select s.* into v_settings from app.email_settings as s where s.org_id = p_org_id;
    -- The recipients' suppressions first, in statements of their own: on Citus a
    -- statement that writes may not call a function that reads a table
    -- (docs/scale-out.md).
    select array_agg(distinct lower(u.email)) into v_emails
    from app.notification_deliveries as d
    inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
    where d.org_id = p_org_id and d.id = any(p_delivery_ids) and d.channel = 'email';
    select array_agg(app._email_suppression_reason(p_org_id, e.email, 'transactional'))
    into v_reasons
    from unnest(v_emails) as e (email);
    -- Each statement reads or writes one kind of row, from arrays: on a Citus
    -- shard's trigger a statement may not mix the node's queue with the shards
    -- (docs/scale-out.md).
    select
        array_agg(d.id), array_agg(d.user_id), array_agg(n.id), array_agg(u.email),
        array_agg(
            case
                when not u.is_active then 'user inactive'
                when not coalesce(app._email_is_plain_address(u.email), false)
                    then 'invalid recipient address'
                when v_settings.org_id is null then 'no email provider configured'
            end
        ),
        array_agg(gen_random_uuid())
    into v_delivery_ids, v_user_ids, v_notification_ids, v_addresses, v_skips, v_send_ids
    from app.notification_deliveries as d
    inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
    inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
    where
        d.org_id = p_org_id and n.org_id = p_org_id and u.org_id = p_org_id
        and d.id = any(p_delivery_ids) and d.channel = 'email';
    if v_delivery_ids is null then
        return 0;
    end if;

    insert into app.email_sends (
        org_id, id, to_email, from_email, from_name, reply_to, subject, html_body,
        text_body, category, variables, entity_type, entity_id, notification_id,
        recipient_user_id, status, suppression_reason, provider, message_id, reply_token,
        unsubscribe_token, is_test
    )
    select
        p_org_id, t.send_id, t.email, v_settings.from_email, v_settings.from_name,
        format('reply+%s@%s', t.reply_token, v_settings.reply_domain),
        regexp_replace(n.email_subject, '[\r\n]+', ' ', 'g'), n.email_html, n.email_text,
        'transactional', '{}', n.entity_type, n.entity_id, n.id, t.user_id,
        case when r.reason is null then 'queued' else 'suppressed' end, r.reason,
        v_settings.provider, format('<%s@%s>', t.send_id, v_settings.reply_domain),
        t.reply_token, replace(gen_random_uuid()::text, '-', ''), false
    from (
        select x.*, replace(gen_random_uuid()::text, '-', '') as reply_token
        from unnest(v_delivery_ids, v_user_ids, v_notification_ids, v_addresses, v_skips, v_send_ids)
            as x (delivery_id, user_id, notification_id, email, skip, send_id)
    ) as t
    inner join app.notifications as n
        on n.org_id = p_org_id and n.id = t.notification_id
    left join unnest(v_emails, v_reasons) as r (email, reason) on r.email = lower(t.email)
    where t.skip is null
    order by t.delivery_id;

    -- What was sent: the queued sends wake the sender, from the node's queue.
    select array_agg(s.id) filter (where s.status = 'queued'), array_agg(s.id),
        array_agg(s.suppression_reason)
    into v_queued_ids, v_made_ids, v_made_reasons
    from app.email_sends as s
    where s.org_id = p_org_id and s.id = any(v_send_ids);
    insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
    select
        0, 'email.send',
        convert_to(jsonb_build_object('org_id', p_org_id, 'email_send_id', q.id)::text, 'UTF8'),
        'queued', pg_catalog.clock_timestamp(), 'email.send:' || q.id
    from unnest(v_queued_ids) as q (id)
    order by q.id;

    v_stamp := app.now();
    update app.notification_deliveries as d
    set
        email_send_id = o.send_id,
        status = case when o.skip is null then 'pending' else 'skipped' end,
        reason = o.skip,
        deliver_after = null,
        attempts = d.attempts + (o.send_id is not null)::integer,
        updated_at = v_stamp
    from (
        select
            t.delivery_id, m.id as send_id,
            coalesce(t.skip, 'suppressed: ' || m.reason) as skip
        from unnest(v_delivery_ids, v_skips, v_send_ids) as t (delivery_id, skip, send_id)
        left join unnest(v_made_ids, v_made_reasons) as m (id, reason) on m.id = t.send_id
    ) as o
    where d.org_id = p_org_id and d.id = o.delivery_id;
    v_queued := coalesce(cardinality(v_queued_ids), 0);
    return v_queued;
end
$function$;
