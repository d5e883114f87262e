-- Inbound mail: matching to the send it answers (a bounce report through its VERP
-- address or returned Message-ID), automatic mail by kind (email/auto_reply.sql),
-- bounce reports applied (email/bounces.sql), threads, and reply tracking.

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

-- p_reply_text and p_dsn came with issue 15; migrate drops the older signature, which
-- no file defines any more.
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
    p_from_name text default null,
    p_reply_text text default null,
    p_dsn jsonb default null
)
returns table (
    result text,
    inbound_id uuid,
    org_id uuid,
    matched_send_id uuid,
    match_method text,
    is_auto_reply boolean,
    auto_reply_kind text,
    bounce text
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
    v_kind text;
    v_reason text;
    v_threaded boolean;
    v_token text;
    v_returned text;
    v_org_id uuid;
    v_send_id uuid;
    v_method text;
    v_thread_id uuid;
    v_inbound_id uuid;
    v_owners uuid[];
    v_bounce text;
    v_enrollment_id uuid;
    v_stamp timestamptz;
    v_recipient_user_id uuid;
begin
    perform app._require_service();
    if v_message_id is null then
        raise exception using errcode = 'IT005', message = 'an inbound email needs a Message-ID';
    end if;
    if p_from is null or p_from !~ '@' then
        raise exception using errcode = 'IT005', message = format('invalid sender %L', p_from);
    end if;
    if p_dsn is not null and jsonb_typeof(p_dsn) <> 'object' then
        raise exception using
            errcode = 'IT005', message = 'p_dsn is a JSON object (docs/email.md, "Bounces")';
    end if;
    -- The VERP token of the address the message came back to (bounce+TOKEN@).
    v_token := coalesce(
        substring(lower(p_dsn ->> 'verp_token') from '^[0-9a-f]{16,64}$'),
        (
            select substring(lower(t.address) from 'bounce\+([0-9a-f]{16,64})@')
            from unnest(coalesce(p_to, '{}')) as t (address)
            where lower(t.address) ~ 'bounce\+[0-9a-f]{16,64}@'
            limit 1
        )
    );
    v_returned := app._email_message_id(left(p_dsn ->> 'returned_message_id', 998));
    -- Mail to a verified sending domain is its org's only: every step below
    -- matches within the orgs that own a domain the mail was addressed to, when
    -- there is one (docs/email.md, "Sending domains").
    v_owners := array(
        select distinct d.org_id
        from unnest(coalesce(p_to, '{}')) as t (address)
        inner join app.verified_domains as d on d.domain = lower(split_part(t.address, '@', 2))
    );
    -- Whether the message answers one of our sends: a reply through a mailing list is
    -- still a reply (the list header rules apply to other list mail only).
    v_threaded := exists (
        select 1
        from app.email_sends as s
        where
            s.message_id = any(
                array_append(
                    array(
                        select app._email_message_id(r.ref)
                        from unnest(coalesce(p_references, '{}')) as r (ref)
                    ),
                    v_in_reply_to
                )
            )
            and (v_owners = '{}' or s.org_id = any(v_owners))
    );
    -- The body rules read what the sender wrote (p_reply_text), not the email it quotes.
    select c.kind, c.reason into v_kind, v_reason
    from app._email_classify_auto_reply(
        v_headers, p_subject,
        coalesce(
            nullif(btrim(p_reply_text), ''), p_text,
            regexp_replace(left(p_html, 20000), '<[^>]*>', ' ', 'g')
        ),
        v_threaded
    ) as c;
    -- A report the parser read, unless its content type says it is a read receipt.
    if p_dsn is not null and v_kind is distinct from 'bounce'
        and v_reason is distinct from 'read receipt (MDN)' then
        v_kind := 'bounce';
        v_reason := 'delivery status report (' || coalesce(left(p_dsn ->> 'source', 100), '?') || ')';
    end if;

    -- A bounce report names its send by the VERP address it came back to, or by the
    -- Message-ID of the message it returns.
    if v_kind = 'bounce' and v_token is not null then
        select s.org_id, s.id, 'verp' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        where s.reply_token = v_token and (v_owners = '{}' or s.org_id = any(v_owners));
    end if;
    if v_kind = 'bounce' and v_send_id is null and v_returned is not null then
        select s.org_id, s.id, 'returned_message_id' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        where s.message_id = v_returned and (v_owners = '{}' or s.org_id = any(v_owners))
        limit 1;
    end if;
    -- 1. In-Reply-To names the Message-ID we gave the send.
    if v_send_id is null then
        select s.org_id, s.id, 'in_reply_to' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        where s.message_id = v_in_reply_to and (v_owners = '{}' or s.org_id = any(v_owners));
    end if;
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
    -- 3b. The envelope sender's token: an automatic reply (RFC 3834) goes to the
    -- Return-Path, which is our VERP address.
    if v_send_id is null and v_token is not null then
        select s.org_id, s.id, 'verp' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        where s.reply_token = v_token and (v_owners = '{}' or s.org_id = any(v_owners));
    end if;
    -- 4. The sender, to whom we sent in the last 30 days (most recent send),
    -- but only from the owner of a verified domain the mail was addressed to.
    -- An unverified claim proves nothing (two orgs may name one domain, or a
    -- subdomain of another's): without a verified owner the sender alone
    -- never decides, and the mail is unmatched unless it carries our ids.
    -- A bounce report's sender is a mail server: never matched this way.
    if v_send_id is null and v_owners <> '{}' and v_kind is distinct from 'bounce' then
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
            message_id, from_email, to_emails, subject, headers, provider, reason
        )
        values (
            v_message_id, p_from, coalesce(p_to, '{}'), p_subject, v_headers, p_provider,
            case
                when v_kind = 'bounce' then 'bounce report names no send of ours' || case
                    when v_token is not null then ' (unknown VERP token)'
                    when v_returned is not null then ' (unknown returned Message-ID)'
                    else ' (no VERP address, no returned Message-ID)'
                end
                when v_owners = '{}'
                    then 'carries no id of a send of ours and is not addressed to a verified '
                    || 'sending domain'
                else 'carries no id of a send of ours and its sender got no mail from the '
                    || 'domain''s org in the last 30 days'
            end
        )
        on conflict (message_id) do nothing;
        return query
        select
            'unmatched', null::uuid, null::uuid, null::uuid, null::text, v_kind is not null,
            v_kind, null::text;
        return;
    end if;

    select i.id into v_inbound_id
    from app.inbound_emails as i
    where i.org_id = v_org_id and i.message_id = v_message_id;
    if found then
        return query
        select
            'duplicate', i.id, i.org_id, i.matched_send_id, i.match_method, i.is_auto_reply,
            i.auto_reply_kind, null::text
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
        last_message_at = excluded.last_message_at
    returning id into v_thread_id;

    -- Read first: Citus takes no subquery in INSERT ... VALUES (docs/scale-out.md).
    select s.recipient_user_id into v_recipient_user_id
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = v_send_id;
    insert into app.inbound_emails (
        org_id, message_id, in_reply_to, "references", from_email, from_name, to_emails, subject,
        text_body, html_body, reply_text, headers, is_auto_reply, auto_reply_reason,
        auto_reply_kind, matched_send_id, match_method, thread_id, provider, provider_email_id,
        recipient_user_id
    )
    values (
        v_org_id, v_message_id, v_in_reply_to, coalesce(p_references, '{}'), btrim(p_from),
        p_from_name, coalesce(p_to, '{}'), p_subject, p_text, p_html, p_reply_text, v_headers,
        v_kind is not null, v_reason, v_kind, v_send_id, v_method, v_thread_id, p_provider,
        p_provider_email_id, v_recipient_user_id
    )
    returning id into v_inbound_id;

    if v_kind is null then
        -- A human reply. An automatic message (an out-of-office, a bounce report, a
        -- ticket acknowledgement) is never one.
        v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
        update app.email_sends as s
        set replied_at = coalesce(s.replied_at, v_stamp), updated_at = v_stamp
        where s.org_id = v_org_id and s.id = v_send_id;
    elsif v_kind = 'bounce' then
        v_bounce := app._email_apply_bounce_report(v_org_id, v_send_id, v_message_id, p_dsn);
    elsif v_kind = 'out_of_office' then
        select s.enrollment_id into v_enrollment_id
        from app.email_sends as s
        where s.org_id = v_org_id and s.id = v_send_id;
        if v_enrollment_id is not null then
            perform app._campaign_pause_out_of_office(
                p_org_id => v_org_id, p_send_id => v_send_id, p_inbound_id => v_inbound_id
            );
        end if;
    end if;
    return query
    select
        'recorded', v_inbound_id, v_org_id, v_send_id, v_method, v_kind is not null, v_kind,
        v_bounce;
end
$function$;

comment on function api.record_inbound_email(
    text, text, text[], text, text, text[], text, text, jsonb, text, text, text, text, jsonb
) is
$$Service role only. Records one inbound email and matches it to the send it answers, in
this order: for a bounce report, the bounce+TOKEN@ (VERP) address it came back to, then the
Message-ID of the message it returns; then In-Reply-To, References (newest first), the
reply+TOKEN@ address of our Reply-To, the VERP address (an automatic reply sent to the
Return-Path), and, except for a bounce report, the sender's address plus our most recent
send to it in the last 30 days. Mail addressed to a verified sending domain matches only
sends of the org that verified it (api.add_sending_domain); the sender step matches only
through such a domain. p_headers maps lower-case header names to values.
Automatic mail is classified by app._email_classify_auto_reply (the rule table of
docs/email.md, "Automatic replies"): auto_reply_kind 'bounce', 'out_of_office' or
'automatic' with its reason; it never counts as a reply (list headers make only mail that
answers no send of ours automatic: a reply through a mailing list is one). A human reply
sets the send's replied_at. p_reply_text is the reply's new text (stored beside the full body; the
classifier's body rules read it, not the quoted history).
p_dsn is the parser's bounce report ({"source", "verp_token", "returned_message_id",
"reporting_mta", "recipients": [{"recipient", "action", "status", "diagnostic",
"remote_mta"}]}); a bounce report is applied to its send like a Resend bounce (5.x.x hard,
4.x.x with Action failed soft, Action delayed delivery_delayed; bounce says which: 'hard',
'soft', 'delayed', or 'unreadable' for a report with no recipient to act on, recorded on its
send and applied to nothing), once per Message-ID. An out-of-office reply to a campaign email pauses its enrollment.
Returns result 'recorded', 'duplicate' (same Message-ID again; nothing applied) or
'unmatched' (kept for operators, outside every tenant, with the reason), with the match.$$;
