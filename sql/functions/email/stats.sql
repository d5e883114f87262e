create or replace function api.get_email_stats(
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_template_id uuid default null
)
returns table (
    sent bigint,
    delivered bigint,
    opened bigint,
    clicked bigint,
    replied bigint,
    bounced bigint,
    complained bigint,
    open_rate numeric,
    click_rate numeric,
    bounce_rate numeric
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    with s as (
        select
            count(*) filter (where e.sent_at is not null) as sent,
            count(*) filter (where e.delivered_at is not null) as delivered,
            -- A click implies an open (clients that block images never report one).
            count(*) filter (
                where e.first_opened_at is not null or e.first_clicked_at is not null
            ) as opened,
            count(*) filter (where e.first_clicked_at is not null) as clicked,
            count(*) filter (where e.replied_at is not null) as replied,
            count(*) filter (where e.status = 'bounced') as bounced,
            count(*) filter (where e.status = 'complained') as complained
        from app.email_sends as e
        where
            e.org_id = app._require_org()
            -- Notification emails to the org's own users are not outreach, nor
            -- are test sends (api.send_test_email).
            and e.recipient_user_id is null
            and not e.is_test
            and (p_entity_type is null or e.entity_type = p_entity_type)
            and (p_entity_id is null or e.entity_id = p_entity_id)
            and (p_template_id is null or e.template_id = p_template_id)
    )

    select
        s.sent, s.delivered, s.opened, s.clicked, s.replied, s.bounced, s.complained,
        round(s.opened::numeric / nullif(s.delivered, 0), 4),
        round(s.clicked::numeric / nullif(s.delivered, 0), 4),
        round(s.bounced::numeric / nullif(s.sent, 0), 4)
    from s
$function$;

comment on function api.get_email_stats(text, uuid, uuid) is
$$Email outcomes of the caller's org, optionally for one entity (p_entity_type, p_entity_id) or
one template: counts sent, delivered, opened, clicked, replied, bounced, complained, with the
open and click rates over delivered mail (a click counts as an open too) and the bounce rate
over sent mail (null when there
is nothing to divide by). A message counts once however many opens or clicks it had.
Notification emails to the org's own users (and digests) and test sends (api.send_test_email)
are not counted.$$;
