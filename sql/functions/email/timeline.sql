-- An entity's email conversation for the CRM timeline: what we sent about it and
-- what came back, replies shown by what the person wrote.
drop function if exists api.get_email_timeline(text, uuid, timestamptz, integer);

create or replace function api.get_email_timeline(
    p_entity_type text,
    p_entity_id uuid,
    p_before timestamptz default null,
    p_before_id uuid default null,
    p_limit integer default 50
)
returns table (
    at timestamptz,
    id uuid,
    direction text,
    email_send_id uuid,
    inbound_id uuid,
    from_email text,
    to_email text,
    subject text,
    body text,
    status text,
    auto_reply_kind text
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
begin
    if p_entity_type is null or p_entity_id is null then
        raise exception using
            errcode = 'IT005', message = 'p_entity_type and p_entity_id are required';
    end if;
    if p_limit is null or p_limit not between 1 and 500 then
        raise exception using errcode = 'IT005', message = 'p_limit is between 1 and 500';
    end if;
    -- A user-private send (a notification email) and its replies stay their
    -- recipient's, as the row-level security of app.email_sends says (0007, 0015).
    return query
    select t.at, t.id, t.direction, t.email_send_id, t.inbound_id, t.from_email, t.to_email,
        t.subject, t.body, t.status, t.auto_reply_kind
    from (
        select
            s.created_at as at, s.id, 'outbound'::text as direction, s.id as email_send_id,
            null::uuid as inbound_id, s.from_email, s.to_email, s.subject,
            coalesce(s.text_body, s.html_body) as body, s.status,
            null::text as auto_reply_kind
        from app.email_sends as s
        where
            s.org_id = v_org_id and s.entity_type = p_entity_type
            and s.entity_id = p_entity_id and not s.is_test
            and (s.recipient_user_id is null or s.recipient_user_id = v_user_id)
        union all
        select
            i.received_at, i.id, 'inbound', i.matched_send_id, i.id, i.from_email,
            array_to_string(i.to_emails, ', '), i.subject,
            coalesce(i.reply_text, i.text_body), null, i.auto_reply_kind
        from app.inbound_emails as i
        inner join app.email_sends as s on s.org_id = i.org_id and s.id = i.matched_send_id
        where
            i.org_id = v_org_id and s.entity_type = p_entity_type
            and s.entity_id = p_entity_id
            and (i.recipient_user_id is null or i.recipient_user_id = v_user_id)
    ) as t
    -- Keyset paging on (at, id): rows of one instant (a tick's batch) are neither
    -- skipped nor repeated.
    where
        p_before is null
        or (p_before_id is null and t.at < p_before)
        or (p_before_id is not null and (t.at, t.id) < (p_before, p_before_id))
    order by t.at desc, t.id desc
    limit p_limit;
end
$function$;

comment on function api.get_email_timeline(text, uuid, timestamptz, uuid, integer) is
$$An entity's emails for its CRM timeline, newest first (caller's org; a user-private
send, such as a notification email, and its replies only for their recipient): each send about the
entity (direction outbound, its status; test sends left out) and each inbound message
matched to one (direction inbound, its auto_reply_kind when automatic), the body of a reply
being what the person wrote (inbound_emails.reply_text: without the quoted history and the
signature; the full text when none could be told apart). id is the send's or the inbound
message's; pages with p_before and p_before_id (the last row's at and id: rows of one
instant are neither skipped nor repeated) and p_limit (1 to 500, default 50; IT005
otherwise).$$;
