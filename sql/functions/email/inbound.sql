-- Inbound mail: RFC 3834 auto-reply detection, matching to the send it
-- answers, threads, and reply tracking.

-- '<id@host>' whatever spacing or brackets the header had.
create or replace function app._email_message_id(p_value text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when nullif(btrim(p_value), '') is null then null
        else '<' || btrim(btrim(p_value), '<>') || '>'
    end
$function$;

-- Why a message is automatic (RFC 3834 and common practice), or null for a
-- human one. p_headers maps lower-case header names to values.
-- X-Auto-Response-Suppress asks others not to auto-reply: it does not mark
-- this message automatic.
create or replace function app._email_auto_reply_reason(p_headers jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when lower(btrim(coalesce(p_headers ->> 'auto-submitted', 'no'))) <> 'no'
            then 'auto-submitted: ' || btrim(p_headers ->> 'auto-submitted')
        when p_headers ? 'x-autoreply' then 'x-autoreply'
        when p_headers ? 'x-autorespond' then 'x-autorespond'
        when lower(btrim(coalesce(p_headers ->> 'precedence', '')))
            in ('bulk', 'junk', 'auto_reply') then 'precedence: ' || lower(btrim(p_headers ->> 'precedence'))
        when btrim(coalesce(p_headers ->> 'return-path', 'x')) = '<>' then 'empty return-path'
    end
$function$;

create or replace function api.record_inbound_email(
    p_message_id text,
    p_from text,
    p_to text[] default '{}',
    p_subject text default null,
    p_in_reply_to text default null,
    p_references text[] default '{}',
    p_text text default null,
    p_html text default null,
    p_headers jsonb default '{}',
    p_provider text default 'smtp',
    p_provider_email_id text default null,
    p_from_name text default null
)
returns table (
    result text,
    inbound_id uuid,
    org_id uuid,
    matched_send_id uuid,
    match_method text,
    is_auto_reply boolean
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_message_id text := app._email_message_id(p_message_id);
    v_in_reply_to text := app._email_message_id(p_in_reply_to);
    v_headers jsonb := coalesce(p_headers, '{}');
    v_reason text;
    v_org_id uuid;
    v_send_id uuid;
    v_method text;
    v_thread_id uuid;
    v_inbound_id uuid;
    v_owners uuid[];
begin
    perform app._require_service();
    if v_message_id is null then
        raise exception using errcode = 'IT005', message = 'an inbound email needs a Message-ID';
    end if;
    if p_from is null or p_from !~ '@' then
        raise exception using errcode = 'IT005', message = format('invalid sender %L', p_from);
    end if;
    v_reason := app._email_auto_reply_reason(v_headers);
    -- Mail to a verified sending domain is its org's only: every step below
    -- matches within the orgs that own a domain the mail was addressed to, when
    -- there is one (docs/email.md, "Sending domains").
    v_owners := array(
        select distinct d.org_id
        from unnest(coalesce(p_to, '{}')) as t (address)
        inner join app.sending_domains as d
            on d.domain = lower(split_part(t.address, '@', 2)) and d.verified_at is not null
    );

    -- 1. In-Reply-To names the Message-ID we gave the send.
    select s.org_id, s.id, 'in_reply_to' into v_org_id, v_send_id, v_method
    from app.email_sends as s
    where s.message_id = v_in_reply_to and (v_owners = '{}' or s.org_id = any(v_owners));
    -- 2. References, newest first (a client that dropped In-Reply-To).
    if v_send_id is null then
        select s.org_id, s.id, 'references' into v_org_id, v_send_id, v_method
        from unnest(coalesce(p_references, '{}')) with ordinality as r (ref, n)
        inner join app.email_sends as s on s.message_id = app._email_message_id(r.ref)
        where v_owners = '{}' or s.org_id = any(v_owners)
        order by r.n desc
        limit 1;
    end if;
    -- 3. The plus-address token of our Reply-To.
    if v_send_id is null then
        select s.org_id, s.id, 'reply_token' into v_org_id, v_send_id, v_method
        from unnest(coalesce(p_to, '{}')) as t (address)
        inner join app.email_sends as s
            on s.reply_token = substring(lower(t.address) from 'reply\+([0-9a-f]{16,64})@')
        where v_owners = '{}' or s.org_id = any(v_owners)
        limit 1;
    end if;
    -- 4. The sender, to whom we sent in the last 30 days (most recent send),
    -- but only from the owner of a verified domain the mail was addressed to.
    -- An unverified claim proves nothing (two orgs may name one domain, or a
    -- subdomain of another's): without a verified owner the sender alone
    -- never decides, and the mail is unmatched unless it carries our ids.
    if v_send_id is null and v_owners <> '{}' then
        select s.org_id, s.id, 'sender' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        where
            lower(s.to_email) = lower(btrim(p_from))
            and s.created_at > app.now() - interval '30 days'
            and s.status <> 'suppressed'
            and s.org_id = any(v_owners)
        order by s.created_at desc
        limit 1;
    end if;

    if v_send_id is null then
        insert into app.inbound_unmatched (
            message_id, from_email, to_emails, subject, headers, provider
        )
        values (v_message_id, p_from, coalesce(p_to, '{}'), p_subject, v_headers, p_provider)
        on conflict (message_id) do nothing;
        return query
        select 'unmatched', null::uuid, null::uuid, null::uuid, null::text, v_reason is not null;
        return;
    end if;

    select i.id into v_inbound_id
    from app.inbound_emails as i
    where i.org_id = v_org_id and i.message_id = v_message_id;
    if found then
        return query
        select 'duplicate', i.id, i.org_id, i.matched_send_id, i.match_method, i.is_auto_reply
        from app.inbound_emails as i
        where i.org_id = v_org_id and i.id = v_inbound_id;
        return;
    end if;

    -- A reply to a user-private send (a notification email) and its thread are as
    -- private as the send (0015): they carry its recipient.
    insert into app.email_threads (
        org_id, root_send_id, subject, entity_type, entity_id, message_count, last_message_at,
        recipient_user_id
    )
    select
        s.org_id, s.id, s.subject, s.entity_type, s.entity_id, 1, app.now(), s.recipient_user_id
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = v_send_id
    on conflict (org_id, root_send_id) do update
    set
        message_count = app.email_threads.message_count + 1,
        last_message_at = app.now()
    returning id into v_thread_id;

    insert into app.inbound_emails (
        org_id, message_id, in_reply_to, "references", from_email, from_name, to_emails, subject,
        text_body, html_body, headers, is_auto_reply, auto_reply_reason, auto_reply_kind,
        matched_send_id,
        match_method, thread_id, provider, provider_email_id, recipient_user_id
    )
    values (
        v_org_id, v_message_id, v_in_reply_to, coalesce(p_references, '{}'), btrim(p_from),
        p_from_name, coalesce(p_to, '{}'), p_subject, p_text, p_html, v_headers,
        v_reason is not null, v_reason, case when v_reason is not null then 'automatic' end,
        v_send_id, v_method, v_thread_id, p_provider,
        p_provider_email_id,
        (
            select s.recipient_user_id from app.email_sends as s
            where s.org_id = v_org_id and s.id = v_send_id
        )
    )
    returning id into v_inbound_id;

    -- An automatic message (out of office, bounce report) is no reply.
    if v_reason is null then
        update app.email_sends as s
        set replied_at = coalesce(s.replied_at, app.now()), updated_at = app.now()
        where s.org_id = v_org_id and s.id = v_send_id;
    end if;
    return query
    select 'recorded', v_inbound_id, v_org_id, v_send_id, v_method, v_reason is not null;
end
$function$;

comment on function api.record_inbound_email(
    text, text, text[], text, text, text[], text, text, jsonb, text, text, text
) is
$$Service role only. Records one inbound email and matches it to the send it answers, in
this order: In-Reply-To, then References (newest first), then the reply+TOKEN@ address of our
Reply-To, then the sender's address plus our most recent send to it in the last 30 days.
Mail addressed to a verified sending domain matches only sends of the org that verified it
(api.add_sending_domain); the sender step matches only through such a domain (without one,
mail that carries none of our ids is unmatched).
p_headers maps lower-case header names to values; RFC 3834 automatic mail (Auto-Submitted
other than no, X-Autoreply, X-Autorespond, Precedence bulk/junk/auto_reply, an empty
Return-Path) is flagged and not counted as a reply. A human reply sets the send's
replied_at. Returns result 'recorded', 'duplicate' (same Message-ID again) or 'unmatched'
(kept for operators, outside every tenant), with the match.$$;
