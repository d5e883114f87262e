--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: api; Type: SCHEMA; Schema: -; Owner: intime_owner
--

CREATE SCHEMA api;


ALTER SCHEMA api OWNER TO intime_owner;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: intime_owner
--

CREATE SCHEMA app;


ALTER SCHEMA app OWNER TO intime_owner;

--
-- Name: queue; Type: SCHEMA; Schema: -; Owner: intime_owner
--

CREATE SCHEMA queue;


ALTER SCHEMA queue OWNER TO intime_owner;

--
-- Name: pgqueuer_status; Type: TYPE; Schema: queue; Owner: intime_owner
--

CREATE TYPE queue.pgqueuer_status AS ENUM (
    'queued',
    'picked',
    'successful',
    'exception',
    'canceled',
    'deleted',
    'failed'
);


ALTER TYPE queue.pgqueuer_status OWNER TO intime_owner;

--
-- Name: archive(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.archive(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._mark_notifications(p_ids, 'archive')
$$;


ALTER FUNCTION api.archive(p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: authenticate(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.authenticate(p_token text) RETURNS TABLE(org_id uuid, user_id uuid, token_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_token app.api_tokens%rowtype;
begin
    perform app._require_service();
    -- Lookup by hash: a timing difference can only reveal bits of a SHA-256
    -- digest, never of the secret, so an index probe is safe here.
    select t.* into v_token
    from app.api_tokens as t
    inner join app.user_profiles as u on u.org_id = t.org_id and u.id = t.user_id
    where
        t.token_hash = sha256(convert_to(coalesce(p_token, ''), 'UTF8'))
        and t.revoked_at is null
        and (t.expires_at is null or t.expires_at > app.now())
        and u.is_active;

    if not found then
        raise exception using errcode = 'IT007', message = 'invalid, expired or revoked token';
    end if;

    if v_token.last_used_at is null or v_token.last_used_at < app.now() - interval '1 minute' then
        update app.api_tokens as t
        set last_used_at = app.now()
        where t.org_id = v_token.org_id and t.id = v_token.id;
    end if;

    return query select v_token.org_id, v_token.user_id, v_token.id;
end
$$;


ALTER FUNCTION api.authenticate(p_token text) OWNER TO intime_owner;

--
-- Name: claim_email_send(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.claim_email_send(p_email_send_id uuid) RETURNS TABLE(action text, retry_after_seconds double precision, email_send_id uuid, to_email text, from_email text, from_name text, reply_to text, subject text, html_body text, text_body text, category text, message_id text, unsubscribe_token text, provider text, attempts integer)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_send app.email_sends%rowtype;
    v_reason text;
    v_wait double precision;
begin
    perform app._require_service();
    select s.* into v_send
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = p_email_send_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('email send %s not found', p_email_send_id);
    end if;
    if v_send.status not in ('queued', 'sending') then
        return query select 'done', 0::double precision, v_send.id, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, null::text, v_send.attempts;
        return;
    end if;

    v_reason := app._suppression_reason(v_org_id, v_send.to_email, v_send.category);
    if v_reason is not null then
        update app.email_sends as s
        set status = 'suppressed', suppression_reason = v_reason, updated_at = app.now()
        where s.org_id = v_org_id and s.id = v_send.id;
        return query select 'suppressed', 0::double precision, v_send.id, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, null::text, v_send.attempts;
        return;
    end if;

    v_wait := app._take_send_token(v_org_id);
    if v_wait > 0 then
        return query select 'defer', v_wait, v_send.id, null::text, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, v_send.attempts;
        return;
    end if;

    -- 'sending' again means an earlier attempt died mid-send: send again with
    -- the same Message-ID and idempotency key.
    update app.email_sends as s
    set status = 'sending', attempts = s.attempts + 1, updated_at = app.now()
    where s.org_id = v_org_id and s.id = v_send.id
    returning s.* into v_send;
    return query select 'send', 0::double precision, v_send.id, v_send.to_email,
        v_send.from_email, v_send.from_name, v_send.reply_to, v_send.subject, v_send.html_body,
        v_send.text_body, v_send.category, v_send.message_id, v_send.unsubscribe_token,
        v_send.provider, v_send.attempts;
end
$$;


ALTER FUNCTION api.claim_email_send(p_email_send_id uuid) OWNER TO intime_owner;

--
-- Name: count_unread_for(uuid[], uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.count_unread_for(p_org_ids uuid[], p_user_ids uuid[]) RETURNS TABLE(org_id uuid, user_id uuid, unread bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
begin
    perform app._require_service();
    return query
    select
        k.org_id, k.user_id,
        (
            select count(*)
            from app.notifications as n
            where
                n.org_id = k.org_id
                and n.user_id = k.user_id
                and n.read_at is null
                and n.archived_at is null
                and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        )
    from unnest(p_org_ids, p_user_ids) as k (org_id, user_id);
end
$$;


ALTER FUNCTION api.count_unread_for(p_org_ids uuid[], p_user_ids uuid[]) OWNER TO intime_owner;

--
-- Name: create_api_token(text, uuid, timestamp with time zone); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_api_token(p_name text, p_user_id uuid DEFAULT NULL::uuid, p_expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(token_id uuid, token text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_caller uuid := app.current_user_id();
    v_user_id uuid := coalesce(p_user_id, app.current_user_id());
    v_token text;
    v_token_id uuid;
begin
    if v_user_id is null then
        raise exception using errcode = 'IT005', message = 'p_user_id is required';
    end if;
    if p_name is null or length(btrim(p_name)) = 0 then
        raise exception using errcode = 'IT005', message = 'token name must not be empty';
    end if;
    if p_expires_at is not null and p_expires_at <= app.now() then
        raise exception using errcode = 'IT005', message = 'p_expires_at is in the past';
    end if;
    if v_user_id is distinct from v_caller and not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may create tokens for another user';
    end if;
    if not exists (
        select from app.user_profiles as u
        where u.org_id = v_org_id and u.id = v_user_id and u.is_active
    ) then
        raise exception using errcode = 'IT004', message = format('user %s not found', v_user_id);
    end if;

    -- 244 random bits from two v4 UUIDs (pg_strong_random underneath).
    v_token := 'itk_'
        || replace(gen_random_uuid()::text, '-', '')
        || replace(gen_random_uuid()::text, '-', '');

    insert into app.api_tokens (org_id, user_id, name, token_prefix, token_hash, expires_at)
    values (
        v_org_id, v_user_id, btrim(p_name), left(v_token, 12),
        sha256(convert_to(v_token, 'UTF8')), p_expires_at
    )
    returning id into v_token_id;

    return query select v_token_id, v_token;
end
$$;


ALTER FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) OWNER TO intime_owner;

--
-- Name: create_organization(text, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text DEFAULT 'UTC'::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_org_id uuid;
begin
    perform app._require_service();
    if p_name is null or length(btrim(p_name)) = 0 then
        raise exception using errcode = 'IT005', message = 'organization name must not be empty';
    end if;
    if p_slug is null or p_slug !~ '^[a-z0-9][a-z0-9-]{1,62}$' then
        raise exception using
            errcode = 'IT005',
            message = format('invalid organization slug %L', p_slug),
            hint = 'Use 2 to 63 lower-case letters, digits and dashes.';
    end if;
    perform app._assert_timezone(p_timezone);
    if exists (select from app.organizations as o where o.slug = p_slug) then
        raise exception using
            errcode = 'IT006', message = format('organization slug %s is taken', p_slug);
    end if;

    insert into app.organizations (name, slug, timezone)
    values (btrim(p_name), p_slug, p_timezone)
    returning id into v_org_id;

    -- Every org starts with a standard pipeline it may edit.
    insert into app.deal_stages (org_id, name, position, probability, is_won, is_lost)
    values
    (v_org_id, 'Lead', 1, 10, false, false),
    (v_org_id, 'Qualified', 2, 25, false, false),
    (v_org_id, 'Proposal', 3, 50, false, false),
    (v_org_id, 'Negotiation', 4, 75, false, false),
    (v_org_id, 'Closed Won', 5, 100, true, false),
    (v_org_id, 'Closed Lost', 6, 0, false, true);

    return v_org_id;
end
$_$;


ALTER FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) OWNER TO intime_owner;

--
-- Name: create_user(text, text, text, uuid, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_user(p_email text, p_full_name text, p_role text DEFAULT 'member'::text, p_manager_id uuid DEFAULT NULL::uuid, p_timezone text DEFAULT 'UTC'::text, p_db_role text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid;
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin or the service role may create users';
    end if;
    if p_email is null or p_email !~ '^[^@\s]+@[^@\s]+$' then
        raise exception using errcode = 'IT005', message = format('invalid email %L', p_email);
    end if;
    if p_full_name is null or length(btrim(p_full_name)) = 0 then
        raise exception using errcode = 'IT005', message = 'full name must not be empty';
    end if;
    if p_role is null or p_role not in ('admin', 'manager', 'member') then
        raise exception using
            errcode = 'IT005',
            message = format('invalid role %L', p_role),
            hint = 'Use admin, manager or member.';
    end if;
    perform app._assert_timezone(p_timezone);
    if p_manager_id is not null and not exists (
        select from app.user_profiles as u where u.org_id = v_org_id and u.id = p_manager_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('manager %s not found', p_manager_id);
    end if;
    if exists (
        select from app.user_profiles as u
        where u.org_id = v_org_id and lower(u.email) = lower(p_email)
    ) then
        raise exception using
            errcode = 'IT006', message = format('a user with email %s exists', p_email);
    end if;
    if p_db_role is not null then
        if not exists (select from pg_catalog.pg_roles as r where r.rolname = p_db_role) then
            raise exception using
                errcode = 'IT005', message = format('database role %s does not exist', p_db_role);
        end if;
        if not pg_catalog.pg_has_role(p_db_role, 'intime_user', 'member')
            or pg_catalog.pg_has_role(p_db_role, 'intime_service', 'member')
            or pg_catalog.pg_has_role(p_db_role, 'intime_owner', 'member')
            or exists (
                select
                from pg_catalog.pg_roles as r
                where
                    r.rolname = p_db_role
                    and (r.rolsuper or r.rolbypassrls or r.rolcreaterole or not r.rolcanlogin)
            ) then
            raise exception using
                errcode = 'IT005',
                message = format(
                    'database role %s must be a login in intime_user with no privileged role '
                    'or attribute (superuser, bypassrls, createrole)',
                    p_db_role
                );
        end if;
        if exists (select from app.user_profiles as u where u.db_role = p_db_role) then
            raise exception using
                errcode = 'IT006',
                message = format('database role %s is already mapped to a user', p_db_role);
        end if;
    end if;

    insert into app.user_profiles (
        org_id, email, full_name, role, manager_id, timezone, db_role
    )
    values (
        v_org_id, p_email, btrim(p_full_name), p_role, p_manager_id, p_timezone, p_db_role
    )
    returning id into v_user_id;
    return v_user_id;
exception
    when unique_violation then
        -- A concurrent create_user took the email or the login first.
        raise exception using
            errcode = 'IT006',
            message = format('a user with email %s or database role %s exists', p_email, p_db_role);
end
$_$;


ALTER FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) OWNER TO intime_owner;

--
-- Name: email_stats(text, uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.email_stats(p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_template_id uuid DEFAULT NULL::uuid) RETURNS TABLE(sent bigint, delivered bigint, opened bigint, clicked bigint, replied bigint, bounced bigint, complained bigint, open_rate numeric, click_rate numeric, bounce_rate numeric)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
            -- Notification emails to the org's own users are not outreach.
            and e.recipient_user_id is null
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
$$;


ALTER FUNCTION api.email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) OWNER TO intime_owner;

--
-- Name: fail_email_send(uuid, text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_status text;
begin
    perform app._require_service();
    update app.email_sends as s
    set
        status = case when p_permanent then 'failed' else 'queued' end,
        failed_at = case when p_permanent then app.now() else s.failed_at end,
        error = left(p_error, 2000),
        updated_at = app.now()
    where s.org_id = v_org_id and s.id = p_email_send_id and s.status in ('queued', 'sending')
    returning s.status into v_status;
    if not found then
        select s.status into v_status
        from app.email_sends as s
        where s.org_id = v_org_id and s.id = p_email_send_id;
        if not found then
            raise exception using
                errcode = 'IT004', message = format('email send %s not found', p_email_send_id);
        end if;
    end if;
    return v_status;
end
$$;


ALTER FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) OWNER TO intime_owner;

--
-- Name: get_preferences(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_preferences() RETURNS TABLE(category text, scope text, channels text[], frequency text, digest_time time without time zone, digest_day text, quiet_hours_enabled boolean, quiet_hours_start time without time zone, quiet_hours_end time without time zone, quiet_hours_timezone text, dnd_enabled boolean, dnd_until timestamp with time zone, sound_enabled boolean, email_unsubscribed boolean)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
begin
    if v_user_id is null then
        raise exception using errcode = 'IT008', message = 'no user in context';
    end if;
    return query
    with categories as (
        select '*' as category
        union
        select s.category from app.notification_system_templates as s
        union
        select t.category from app.notification_templates as t where t.org_id = v_org_id
        union
        select p.category from app.notification_preferences as p
        where p.org_id = v_org_id and (p.user_id is null or p.user_id = v_user_id)
    )
    select
        c.category,
        case
            when e.id is null then 'default'
            when e.user_id is not null and e.category = '*' then 'user_all'
            when e.user_id is not null then 'user'
            when e.category = '*' then 'org_all'
            else 'org'
        end,
        array(select jsonb_array_elements_text(e.channels)),
        e.frequency, e.digest_time, e.digest_day, e.quiet_hours_enabled, e.quiet_hours_start,
        e.quiet_hours_end, e.quiet_hours_timezone, e.dnd_enabled, e.dnd_until, e.sound_enabled,
        e.email_unsubscribed
    from categories as c
    cross join lateral app._effective_preference(v_org_id, v_user_id, c.category) as e
    order by c.category <> '*', c.category;
end
$$;


ALTER FUNCTION api.get_preferences() OWNER TO intime_owner;

--
-- Name: ingest_email_event(text, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
    perform app._lock_provider_message(v_message_id);
    select s.org_id, s.id into v_org_id, v_send_id
    from app.email_sends as s
    where s.provider_message_id = v_message_id;
    if not found then
        insert into app.email_events_pending (provider_event_id, provider_message_id, payload)
        values (p_provider_event_id, v_message_id, p_payload);
        return 'pending';
    end if;
    perform app._apply_email_event(v_org_id, v_send_id, p_provider_event_id, p_payload, app.now());
    return 'applied';
end
$$;


ALTER FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) OWNER TO intime_owner;

--
-- Name: list_notifications(boolean, boolean, bigint, integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.list_notifications(p_unread_only boolean DEFAULT false, p_archived boolean DEFAULT false, p_before_seq bigint DEFAULT NULL::bigint, p_limit integer DEFAULT 50) RETURNS TABLE(id uuid, seq bigint, title text, message text, type text, category text, priority text, entity_type text, entity_id uuid, action_url text, action_label text, data jsonb, group_key text, group_count integer, critical boolean, silent boolean, read_at timestamp with time zone, seen_at timestamp with time zone, archived_at timestamp with time zone, expires_at timestamp with time zone, created_at timestamp with time zone, updated_at timestamp with time zone, delivery_status jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
begin
    if v_user_id is null then
        raise exception using errcode = 'IT008', message = 'no user in context';
    end if;
    if p_limit is null or p_limit < 1 or p_limit > 500 then
        raise exception using errcode = 'IT005', message = 'p_limit must be between 1 and 500';
    end if;
    return query
    select
        n.id, n.seq, n.title, n.message, n.type, n.category, n.priority, n.entity_type,
        n.entity_id, n.action_url, n.action_label, n.data, n.group_key, n.group_count,
        n.critical, n.silent, n.read_at, n.seen_at, n.archived_at, n.expires_at, n.created_at,
        n.updated_at,
        (
            select jsonb_object_agg(d.channel, d.status order by d.channel)
            from app.notification_deliveries as d
            where d.org_id = n.org_id and d.notification_id = n.id
        )
    from app.notifications as n
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        and (n.archived_at is not null) = coalesce(p_archived, false)
        and (not coalesce(p_unread_only, false) or n.read_at is null)
        and (p_before_seq is null or n.seq < p_before_seq)
    order by n.seq desc
    limit p_limit;
end
$$;


ALTER FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) OWNER TO intime_owner;

--
-- Name: mark_all_read(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_all_read() RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._mark_notifications(null, 'all_read')
$$;


ALTER FUNCTION api.mark_all_read() OWNER TO intime_owner;

--
-- Name: mark_read(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_read(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._mark_notifications(p_ids, 'read')
$$;


ALTER FUNCTION api.mark_read(p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: mark_seen(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_seen(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._mark_notifications(p_ids, 'seen')
$$;


ALTER FUNCTION api.mark_seen(p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: current_org_id(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app.current_org_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if app._is_service() then
        return app._actor_setting('intime.org_id')::uuid;
    end if;
    return (
        select u.org_id
        from app.user_profiles as u
        where u.db_role = session_user and u.is_active
    );
end
$$;


ALTER FUNCTION app.current_org_id() OWNER TO intime_owner;

--
-- Name: current_user_id(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app.current_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if app._is_service() then
        return app._actor_setting('intime.user_id')::uuid;
    end if;
    return (
        select u.id
        from app.user_profiles as u
        where u.db_role = session_user and u.is_active
    );
end
$$;


ALTER FUNCTION app.current_user_id() OWNER TO intime_owner;

--
-- Name: now(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app.now() RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_fake text := pg_catalog.current_setting('app.fake_now', true);
begin
    if v_fake is null or v_fake = '' then
        return pg_catalog.clock_timestamp();
    end if;
    if not coalesce((select s.allow_fake_clock from app.settings as s), false) then
        return pg_catalog.clock_timestamp();
    end if;
    return v_fake::timestamptz;
end
$$;


ALTER FUNCTION app.now() OWNER TO intime_owner;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: deals; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.deals (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    account_id uuid,
    lead_contact_id uuid,
    owner_id uuid,
    stage_id uuid NOT NULL,
    value numeric(16,2) DEFAULT 0 NOT NULL,
    currency text DEFAULT 'USD'::text NOT NULL,
    probability integer NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    expected_close_date date,
    closed_at timestamp with time zone,
    stage_entered_at timestamp with time zone DEFAULT app.now() NOT NULL,
    description text,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT deals_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT deals_name_check CHECK ((length(btrim(name)) > 0)),
    CONSTRAINT deals_probability_check CHECK (((probability >= 0) AND (probability <= 100))),
    CONSTRAINT deals_status_check CHECK ((status = ANY (ARRAY['open'::text, 'won'::text, 'lost'::text]))),
    CONSTRAINT deals_value_check CHECK ((value >= (0)::numeric))
);

ALTER TABLE ONLY app.deals FORCE ROW LEVEL SECURITY;


ALTER TABLE app.deals OWNER TO intime_owner;

--
-- Name: move_deal_stage(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text DEFAULT NULL::text) RETURNS app.deals
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_deal app.deals%rowtype;
begin
    select d.* into v_deal
    from app.deals as d
    where d.org_id = v_org_id and d.id = p_deal_id and d.deleted_at is null
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('deal %s not found', p_deal_id);
    end if;
    if not exists (
        select from app.deal_stages as s where s.org_id = v_org_id and s.id = p_stage_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('deal stage %s not found', p_stage_id);
    end if;
    if v_deal.stage_id = p_stage_id then
        return v_deal;  -- already there: a retry changes nothing
    end if;

    -- The deal triggers sync probability and status and write the history row.
    perform pg_catalog.set_config(
        'intime.deal_stage_notes', app._transaction_stamp() || '|' || coalesce(p_notes, ''), true
    );
    update app.deals as d
    set stage_id = p_stage_id
    where d.org_id = v_org_id and d.id = p_deal_id
    returning d.* into v_deal;
    perform pg_catalog.set_config('intime.deal_stage_notes', '', true);
    return v_deal;
end
$$;


ALTER FUNCTION api.move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text) OWNER TO intime_owner;

--
-- Name: notification_feed_head(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.notification_feed_head() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return coalesce((select max(n.seq) from app.notifications as n), 0);
end
$$;


ALTER FUNCTION api.notification_feed_head() OWNER TO intime_owner;

--
-- Name: purge_expired_notifications(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.purge_expired_notifications(p_limit integer DEFAULT 10000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_count integer;
begin
    perform app._require_service();
    delete from app.notifications as n
    where (n.org_id, n.id) in (
        select e.org_id, e.id
        from app.notifications as e
        where e.expires_at <= app.now()
        order by e.expires_at
        limit p_limit
        for update skip locked
    );
    get diagnostics v_count = row_count;
    return v_count;
end
$$;


ALTER FUNCTION api.purge_expired_notifications(p_limit integer) OWNER TO intime_owner;

--
-- Name: queue_email(text, text, jsonb, text, text, text, text, text, uuid, timestamp with time zone, uuid, uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.queue_email(p_to text, p_template_slug text DEFAULT NULL::text, p_variables jsonb DEFAULT '{}'::jsonb, p_subject text DEFAULT NULL::text, p_html text DEFAULT NULL::text, p_text text DEFAULT NULL::text, p_category text DEFAULT NULL::text, p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_send_after timestamp with time zone DEFAULT NULL::timestamp with time zone, p_enrollment_id uuid DEFAULT NULL::uuid, p_workflow_action_id uuid DEFAULT NULL::uuid, p_notification_id uuid DEFAULT NULL::uuid) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_template app.email_templates%rowtype;
    v_vars jsonb := coalesce(p_variables, '{}');
    v_missing text[];
begin
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;
    if not exists (select from app.email_settings as s where s.org_id = v_org_id) then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;

    if p_notification_id is not null and not exists (
        select from app.notifications as n where n.org_id = v_org_id and n.id = p_notification_id
    ) then
        raise exception using
            errcode = 'IT004',
            message = format('notification %s not found', p_notification_id);
    end if;

    if p_template_slug is not null then
        select t.* into v_template
        from app.email_templates as t
        where t.org_id = v_org_id and t.slug = p_template_slug and t.is_active;
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format('email template %s not found', p_template_slug);
        end if;
        v_missing := app._missing_variables(v_template.variables, v_vars);
        if cardinality(v_missing) > 0 then
            raise exception using
                errcode = 'IT010',
                message = format(
                    'template %s is missing required variables: %s',
                    p_template_slug, array_to_string(v_missing, ', ')
                );
        end if;
    elsif p_subject is null or (p_html is null and p_text is null) then
        raise exception using
            errcode = 'IT005',
            message = 'give p_template_slug, or p_subject with p_html or p_text';
    end if;

    return (
        app._insert_email_send(
            p_org_id => v_org_id,
            p_to => p_to,
            p_subject => app._render_template(
                coalesce(v_template.subject_template, p_subject), v_vars
            ),
            p_html => app._render_template(
                coalesce(v_template.html_template, p_html, app._html_escape(p_text)), v_vars, true
            ),
            p_text => app._render_template(coalesce(v_template.text_template, p_text), v_vars),
            p_category => coalesce(p_category, v_template.category, 'transactional'),
            p_template_id => v_template.id,
            p_variables => v_vars,
            p_entity_type => p_entity_type,
            p_entity_id => p_entity_id,
            p_send_after => p_send_after,
            p_enrollment_id => p_enrollment_id,
            p_workflow_action_id => p_workflow_action_id,
            p_notification_id => p_notification_id
        )
    ).id;
end
$$;


ALTER FUNCTION api.queue_email(p_to text, p_template_slug text, p_variables jsonb, p_subject text, p_html text, p_text text, p_category text, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid) OWNER TO intime_owner;

--
-- Name: read_notification_feed(bigint, integer, bigint[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[] DEFAULT '{}'::bigint[]) RETURNS TABLE(seq bigint, org_id uuid, user_id uuid, notification jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
begin
    perform app._require_service();
    return query
    select
        n.seq, n.org_id, n.user_id,
        case when (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now)) then app._notification_json(n) end
    from (
        select g.*
        from app.notifications as g
        where g.seq = any(p_gaps)
        union all
        (
            select a.*
            from app.notifications as a
            where a.seq > p_after_seq
            order by a.seq
            limit p_limit
        )
    ) as n
    order by n.seq;
end
$$;


ALTER FUNCTION api.read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[]) OWNER TO intime_owner;

--
-- Name: record_email_sent(uuid, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_status text;
    v_pending record;
begin
    perform app._require_service();
    perform app._lock_provider_message(p_provider_message_id);
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
        perform app._apply_email_event(
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
$$;


ALTER FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) OWNER TO intime_owner;

--
-- Name: record_inbound_email(text, text, text[], text, text, text[], text, text, jsonb, text, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[] DEFAULT '{}'::text[], p_subject text DEFAULT NULL::text, p_in_reply_to text DEFAULT NULL::text, p_references text[] DEFAULT '{}'::text[], p_text text DEFAULT NULL::text, p_html text DEFAULT NULL::text, p_headers jsonb DEFAULT '{}'::jsonb, p_provider text DEFAULT 'smtp'::text, p_provider_email_id text DEFAULT NULL::text, p_from_name text DEFAULT NULL::text) RETURNS TABLE(result text, inbound_id uuid, org_id uuid, matched_send_id uuid, match_method text, is_auto_reply boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_message_id text := app._message_id(p_message_id);
    v_in_reply_to text := app._message_id(p_in_reply_to);
    v_headers jsonb := coalesce(p_headers, '{}');
    v_reason text;
    v_org_id uuid;
    v_send_id uuid;
    v_method text;
    v_thread_id uuid;
    v_inbound_id uuid;
begin
    perform app._require_service();
    if v_message_id is null then
        raise exception using errcode = 'IT005', message = 'an inbound email needs a Message-ID';
    end if;
    if p_from is null or p_from !~ '@' then
        raise exception using errcode = 'IT005', message = format('invalid sender %L', p_from);
    end if;
    v_reason := app._auto_reply_reason(v_headers);

    -- 1. In-Reply-To names the Message-ID we gave the send.
    select s.org_id, s.id, 'in_reply_to' into v_org_id, v_send_id, v_method
    from app.email_sends as s
    where s.message_id = v_in_reply_to;
    -- 2. References, newest first (a client that dropped In-Reply-To).
    if v_send_id is null then
        select s.org_id, s.id, 'references' into v_org_id, v_send_id, v_method
        from unnest(coalesce(p_references, '{}')) with ordinality as r (ref, n)
        inner join app.email_sends as s on s.message_id = app._message_id(r.ref)
        order by r.n desc
        limit 1;
    end if;
    -- 3. The plus-address token of our Reply-To.
    if v_send_id is null then
        select s.org_id, s.id, 'reply_token' into v_org_id, v_send_id, v_method
        from unnest(coalesce(p_to, '{}')) as t (address)
        inner join app.email_sends as s
            on s.reply_token = substring(lower(t.address) from 'reply\+([0-9a-f]{16,64})@')
        limit 1;
    end if;
    -- 4. The sender, to whom we sent in the last 30 days (most recent send),
    -- but only from an org the mail was addressed to (its reply domain or the
    -- domain of its From address): never file one org's mail under another.
    if v_send_id is null then
        select s.org_id, s.id, 'sender' into v_org_id, v_send_id, v_method
        from app.email_sends as s
        inner join app.email_settings as e on e.org_id = s.org_id
        where
            lower(s.to_email) = lower(btrim(p_from))
            and s.created_at > app.now() - interval '30 days'
            and s.status <> 'suppressed'
            and exists (
                select
                from unnest(coalesce(p_to, '{}')) as t (address)
                where lower(split_part(t.address, '@', 2)) in (
                    e.reply_domain, lower(split_part(e.from_email, '@', 2))
                )
            )
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

    insert into app.email_threads (
        org_id, root_send_id, subject, entity_type, entity_id, message_count, last_message_at
    )
    select s.org_id, s.id, s.subject, s.entity_type, s.entity_id, 1, app.now()
    from app.email_sends as s
    where s.org_id = v_org_id and s.id = v_send_id
    on conflict (org_id, root_send_id) do update
    set
        message_count = app.email_threads.message_count + 1,
        last_message_at = app.now()
    returning id into v_thread_id;

    insert into app.inbound_emails (
        org_id, message_id, in_reply_to, "references", from_email, from_name, to_emails, subject,
        text_body, html_body, headers, is_auto_reply, auto_reply_reason, matched_send_id,
        match_method, thread_id, provider, provider_email_id
    )
    values (
        v_org_id, v_message_id, v_in_reply_to, coalesce(p_references, '{}'), btrim(p_from),
        p_from_name, coalesce(p_to, '{}'), p_subject, p_text, p_html, v_headers,
        v_reason is not null, v_reason, v_send_id, v_method, v_thread_id, p_provider,
        p_provider_email_id
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
$$;


ALTER FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text) OWNER TO intime_owner;

--
-- Name: replay_notifications(bigint, integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer DEFAULT 200) RETURNS TABLE(seq bigint, notification jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
begin
    if p_after_seq is null or p_limit is null or p_limit < 1 or p_limit > 1000 then
        raise exception using
            errcode = 'IT005',
            message = 'p_after_seq is required and p_limit must be between 1 and 1000';
    end if;
    return query
    select r.seq, r.notification
    from (
        select n.seq, app._notification_json(n) as notification
        from app.notifications as n
        where
            n.org_id = v_org_id
            and n.user_id = v_user_id
            and n.seq > p_after_seq
            and n.archived_at is null
            and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        order by n.seq desc
        limit p_limit
    ) as r
    order by r.seq;
end
$$;


ALTER FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) OWNER TO intime_owner;

--
-- Name: revoke_api_token(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.revoke_api_token(p_token_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_owner uuid;
begin
    select t.user_id into v_owner
    from app.api_tokens as t
    where t.org_id = v_org_id and t.id = p_token_id;

    if not found then
        raise exception using errcode = 'IT004', message = format('token %s not found', p_token_id);
    end if;
    if v_owner is distinct from app.current_user_id() and not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only the owner or an org admin may revoke a token';
    end if;

    update app.api_tokens as t
    set revoked_at = app.now()
    where t.org_id = v_org_id and t.id = p_token_id and t.revoked_at is null;
    return found;
end
$$;


ALTER FUNCTION api.revoke_api_token(p_token_id uuid) OWNER TO intime_owner;

--
-- Name: run_notification_tick(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.run_notification_tick(p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return app._release_held(p_limit => p_limit)
        || jsonb_build_object('digests', app._send_due_digests(p_limit => p_limit));
end
$$;


ALTER FUNCTION api.run_notification_tick(p_limit integer) OWNER TO intime_owner;

--
-- Name: send_notification(uuid, text, text, text, text, jsonb, text, text, text, uuid, text, text, text[], text, timestamp with time zone, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.send_notification(p_user_id uuid, p_category text DEFAULT NULL::text, p_template_slug text DEFAULT NULL::text, p_title text DEFAULT NULL::text, p_message text DEFAULT NULL::text, p_variables jsonb DEFAULT '{}'::jsonb, p_type text DEFAULT NULL::text, p_priority text DEFAULT NULL::text, p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_action_url text DEFAULT NULL::text, p_action_label text DEFAULT NULL::text, p_channels text[] DEFAULT NULL::text[], p_group_key text DEFAULT NULL::text, p_expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_critical boolean DEFAULT false) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_id uuid;
    v_outcome text;
begin
    if p_user_id is null then
        raise exception using errcode = 'IT005', message = 'p_user_id must not be null';
    end if;
    select s.notification_id, s.outcome into v_id, v_outcome
    from app._send_notifications(
        p_org_id => v_org_id,
        p_user_ids => array[p_user_id],
        p_category => p_category,
        p_template_slug => p_template_slug,
        p_title => p_title,
        p_message => p_message,
        p_variables => p_variables,
        p_type => p_type,
        p_priority => p_priority,
        p_entity_type => p_entity_type,
        p_entity_id => p_entity_id,
        p_action_url => p_action_url,
        p_action_label => p_action_label,
        p_channels => p_channels,
        p_group_key => p_group_key,
        p_expires_at => p_expires_at,
        p_critical => p_critical
    ) as s;
    if v_outcome = 'inactive' then
        raise exception using
            errcode = 'IT004',
            message = format('user %s is not active', p_user_id);
    end if;
    return v_id;
end
$$;


ALTER FUNCTION api.send_notification(p_user_id uuid, p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) OWNER TO intime_owner;

--
-- Name: send_notification_bulk(uuid[], text, text, text, text, jsonb, text, text, text, uuid, text, text, text[], text, timestamp with time zone, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.send_notification_bulk(p_user_ids uuid[], p_category text DEFAULT NULL::text, p_template_slug text DEFAULT NULL::text, p_title text DEFAULT NULL::text, p_message text DEFAULT NULL::text, p_variables jsonb DEFAULT '{}'::jsonb, p_type text DEFAULT NULL::text, p_priority text DEFAULT NULL::text, p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_action_url text DEFAULT NULL::text, p_action_label text DEFAULT NULL::text, p_channels text[] DEFAULT NULL::text[], p_group_key text DEFAULT NULL::text, p_expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_critical boolean DEFAULT false) RETURNS TABLE(user_id uuid, notification_id uuid, outcome text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
begin
    return query
    select s.user_id, s.notification_id, s.outcome
    from app._send_notifications(
        p_org_id => v_org_id,
        p_user_ids => p_user_ids,
        p_category => p_category,
        p_template_slug => p_template_slug,
        p_title => p_title,
        p_message => p_message,
        p_variables => p_variables,
        p_type => p_type,
        p_priority => p_priority,
        p_entity_type => p_entity_type,
        p_entity_id => p_entity_id,
        p_action_url => p_action_url,
        p_action_label => p_action_label,
        p_channels => p_channels,
        p_group_key => p_group_key,
        p_expires_at => p_expires_at,
        p_critical => p_critical
    ) as s;
end
$$;


ALTER FUNCTION api.send_notification_bulk(p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) OWNER TO intime_owner;

--
-- Name: set_actor(uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.set_actor(p_org_id uuid, p_user_id uuid DEFAULT NULL::uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    if p_org_id is null then
        raise exception using errcode = 'IT005', message = 'p_org_id must not be null';
    end if;
    if not exists (select from app.organizations as o where o.id = p_org_id) then
        raise exception using
            errcode = 'IT004', message = format('organization %s not found', p_org_id);
    end if;
    if p_user_id is not null and not exists (
        select
        from app.user_profiles as u
        where u.org_id = p_org_id and u.id = p_user_id and u.is_active
    ) then
        raise exception using
            errcode = 'IT004',
            message = format('user %s not found in organization %s', p_user_id, p_org_id);
    end if;
    perform pg_catalog.set_config('intime.actor_stamp', app._transaction_stamp(), true);
    perform pg_catalog.set_config('intime.org_id', p_org_id::text, true);
    perform pg_catalog.set_config('intime.user_id', coalesce(p_user_id::text, ''), true);
end
$$;


ALTER FUNCTION api.set_actor(p_org_id uuid, p_user_id uuid) OWNER TO intime_owner;

--
-- Name: email_settings; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_settings (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    from_email text NOT NULL,
    from_name text,
    reply_domain text NOT NULL,
    provider text DEFAULT 'outbox'::text NOT NULL,
    rate_limit_per_minute integer DEFAULT 100 NOT NULL,
    rate_tokens double precision,
    rate_refilled_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT email_settings_from_email_check CHECK ((POSITION(('@'::text) IN (from_email)) > 1)),
    CONSTRAINT email_settings_provider_check CHECK ((provider = ANY (ARRAY['smtp'::text, 'resend'::text, 'outbox'::text]))),
    CONSTRAINT email_settings_rate_limit_per_minute_check CHECK ((rate_limit_per_minute > 0)),
    CONSTRAINT email_settings_reply_domain_check CHECK ((reply_domain ~ '^[a-z0-9.-]+\.[a-z]{2,}$'::text))
);

ALTER TABLE ONLY app.email_settings FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_settings OWNER TO intime_owner;

--
-- Name: set_email_settings(text, text, text, text, integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text DEFAULT NULL::text, p_provider text DEFAULT 'outbox'::text, p_rate_limit_per_minute integer DEFAULT 100) RETURNS app.email_settings
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_org_id uuid := app._require_org();
    v_settings app.email_settings%rowtype;
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may change email settings';
    end if;
    if p_from_email is null or p_from_email !~ '^[^@\s]+@[^@\s]+$' then
        raise exception using
            errcode = 'IT005', message = format('invalid from address %L', p_from_email);
    end if;
    if p_reply_domain is null or lower(p_reply_domain) !~ '^[a-z0-9.-]+\.[a-z]{2,}$' then
        raise exception using
            errcode = 'IT005', message = format('invalid reply domain %L', p_reply_domain);
    end if;
    if p_from_name ~ '[\r\n]' then
        raise exception using errcode = 'IT005', message = 'the from name must be one line';
    end if;
    if p_provider is null or p_provider not in ('smtp', 'resend', 'outbox') then
        raise exception using
            errcode = 'IT005',
            message = format('invalid provider %L', p_provider),
            hint = 'Use smtp, resend or outbox.';
    end if;
    if p_rate_limit_per_minute is null or p_rate_limit_per_minute < 1 then
        raise exception using errcode = 'IT005', message = 'the rate limit must be at least 1';
    end if;

    insert into app.email_settings (
        org_id, from_email, from_name, reply_domain, provider, rate_limit_per_minute
    )
    values (
        v_org_id, p_from_email, p_from_name, lower(p_reply_domain), p_provider,
        p_rate_limit_per_minute
    )
    on conflict (org_id) do update
    set
        from_email = excluded.from_email,
        from_name = excluded.from_name,
        reply_domain = excluded.reply_domain,
        provider = excluded.provider,
        rate_limit_per_minute = excluded.rate_limit_per_minute,
        updated_at = app.now()
    returning * into v_settings;
    return v_settings;
end
$_$;


ALTER FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer) OWNER TO intime_owner;

--
-- Name: notification_preferences; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notification_preferences (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    category text NOT NULL,
    channels jsonb DEFAULT '["in_app"]'::jsonb NOT NULL,
    frequency text DEFAULT 'immediate'::text NOT NULL,
    digest_time time without time zone DEFAULT '09:00:00'::time without time zone NOT NULL,
    digest_day text DEFAULT 'monday'::text NOT NULL,
    quiet_hours_enabled boolean DEFAULT false NOT NULL,
    quiet_hours_start time without time zone DEFAULT '22:00:00'::time without time zone NOT NULL,
    quiet_hours_end time without time zone DEFAULT '08:00:00'::time without time zone NOT NULL,
    quiet_hours_timezone text DEFAULT 'America/New_York'::text NOT NULL,
    dnd_enabled boolean DEFAULT false NOT NULL,
    dnd_until timestamp with time zone,
    sound_enabled boolean DEFAULT true NOT NULL,
    email_unsubscribed boolean DEFAULT false NOT NULL,
    email_unsubscribed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT notification_preferences_category_check CHECK (((category = '*'::text) OR (category ~ '^[a-z][a-z0-9_]*$'::text))),
    CONSTRAINT notification_preferences_channels_check CHECK (((jsonb_typeof(channels) = 'array'::text) AND (channels <@ '["in_app", "email", "sms", "push"]'::jsonb))),
    CONSTRAINT notification_preferences_digest_day_check CHECK ((digest_day = ANY (ARRAY['monday'::text, 'tuesday'::text, 'wednesday'::text, 'thursday'::text, 'friday'::text, 'saturday'::text, 'sunday'::text]))),
    CONSTRAINT notification_preferences_frequency_check CHECK ((frequency = ANY (ARRAY['immediate'::text, 'hourly_digest'::text, 'daily_digest'::text, 'weekly_digest'::text, 'never'::text])))
);

ALTER TABLE ONLY app.notification_preferences FORCE ROW LEVEL SECURITY;


ALTER TABLE app.notification_preferences OWNER TO intime_owner;

--
-- Name: set_preference(text, text[], text, time without time zone, text, boolean, time without time zone, time without time zone, text, boolean, timestamp with time zone, boolean, boolean, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.set_preference(p_category text, p_channels text[] DEFAULT NULL::text[], p_frequency text DEFAULT NULL::text, p_digest_time time without time zone DEFAULT NULL::time without time zone, p_digest_day text DEFAULT NULL::text, p_quiet_hours_enabled boolean DEFAULT NULL::boolean, p_quiet_hours_start time without time zone DEFAULT NULL::time without time zone, p_quiet_hours_end time without time zone DEFAULT NULL::time without time zone, p_quiet_hours_timezone text DEFAULT NULL::text, p_dnd_enabled boolean DEFAULT NULL::boolean, p_dnd_until timestamp with time zone DEFAULT NULL::timestamp with time zone, p_sound_enabled boolean DEFAULT NULL::boolean, p_email_unsubscribed boolean DEFAULT NULL::boolean, p_org_default boolean DEFAULT false) RETURNS app.notification_preferences
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_base app.notification_preferences;
    v_row app.notification_preferences;
begin
    if coalesce(p_org_default, false) then
        if not app._is_org_admin() then
            raise exception using
                errcode = 'IT003',
                message = 'only an org admin sets the org''s default preferences';
        end if;
        v_user_id := null;
    elsif v_user_id is null then
        raise exception using errcode = 'IT008', message = 'no user in context';
    end if;
    if p_category is null or (p_category <> '*' and p_category !~ '^[a-z][a-z0-9_]*$') then
        raise exception using
            errcode = 'IT005',
            message = format('invalid category %L (a lower-case name, or * for all)', p_category);
    end if;
    perform app._assert_channels(p_channels);
    if p_frequency is not null and p_frequency not in (
        'immediate', 'hourly_digest', 'daily_digest', 'weekly_digest', 'never'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'invalid frequency %L (immediate, hourly_digest, daily_digest, weekly_digest, '
                || 'never)', p_frequency
            );
    end if;
    if p_digest_day is not null and p_digest_day not in (
        'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid digest day %L (monday .. sunday)', p_digest_day);
    end if;
    if p_quiet_hours_timezone is not null then
        perform app._assert_timezone(p_quiet_hours_timezone);
    end if;
    if p_dnd_until is not null and p_dnd_until <= v_now then
        raise exception using errcode = 'IT005', message = 'p_dnd_until is in the past';
    end if;

    v_base := app._effective_preference(v_org_id, v_user_id, p_category);
    -- Do-not-disturb is copied only into '*' rows: a category row that took
    -- it over would stay silent after the user switched it off at '*'.
    if p_category <> '*' and not (
        v_base.category = p_category and v_base.user_id is not distinct from v_user_id
    ) then
        v_base.dnd_enabled := false;
        v_base.dnd_until := null;
    end if;
    insert into app.notification_preferences as p (
        org_id, user_id, category, channels, frequency, digest_time, digest_day,
        quiet_hours_enabled, quiet_hours_start, quiet_hours_end, quiet_hours_timezone,
        dnd_enabled, dnd_until, sound_enabled, email_unsubscribed, email_unsubscribed_at,
        created_at, updated_at
    )
    values (
        v_org_id, v_user_id, p_category,
        coalesce(to_jsonb(p_channels), v_base.channels),
        coalesce(p_frequency, v_base.frequency),
        coalesce(p_digest_time, v_base.digest_time),
        coalesce(p_digest_day, v_base.digest_day),
        coalesce(p_quiet_hours_enabled, v_base.quiet_hours_enabled),
        coalesce(p_quiet_hours_start, v_base.quiet_hours_start),
        coalesce(p_quiet_hours_end, v_base.quiet_hours_end),
        coalesce(p_quiet_hours_timezone, v_base.quiet_hours_timezone),
        coalesce(p_dnd_enabled, p_dnd_until is not null or v_base.dnd_enabled),
        case
            when p_dnd_enabled is false then null
            when p_dnd_enabled or p_dnd_until is not null then p_dnd_until
            else v_base.dnd_until
        end,
        coalesce(p_sound_enabled, v_base.sound_enabled),
        coalesce(p_email_unsubscribed, v_base.email_unsubscribed),
        case
            when p_email_unsubscribed then coalesce(v_base.email_unsubscribed_at, v_now)
            when p_email_unsubscribed is false then null
            else v_base.email_unsubscribed_at
        end,
        v_now, v_now
    )
    on conflict on constraint unique_user_category do update set
        channels = excluded.channels,
        frequency = excluded.frequency,
        digest_time = excluded.digest_time,
        digest_day = excluded.digest_day,
        quiet_hours_enabled = excluded.quiet_hours_enabled,
        quiet_hours_start = excluded.quiet_hours_start,
        quiet_hours_end = excluded.quiet_hours_end,
        quiet_hours_timezone = excluded.quiet_hours_timezone,
        dnd_enabled = excluded.dnd_enabled,
        dnd_until = excluded.dnd_until,
        sound_enabled = excluded.sound_enabled,
        email_unsubscribed = excluded.email_unsubscribed,
        email_unsubscribed_at = excluded.email_unsubscribed_at,
        updated_at = excluded.updated_at
    returning p.* into v_row;

    -- A window that ended early (do-not-disturb off, quiet hours moved)
    -- releases what it held now, not at the old end: the user's, or with an
    -- org default every user's.
    perform app._release_held(p_org_id => v_org_id, p_user_id => v_user_id, p_limit => 10000);
    return v_row;
end
$_$;


ALTER FUNCTION api.set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean) OWNER TO intime_owner;

--
-- Name: stream_hub_heartbeat(uuid, interval); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_now timestamptz := pg_catalog.clock_timestamp();
begin
    perform app._require_service();
    if p_hub_id is null or p_polling_for is null or p_polling_for < interval '0'
        or p_polling_for > interval '1 minute' then
        raise exception using
            errcode = 'IT005',
            message = 'p_hub_id is required and p_polling_for must be between 0 and 1 minute';
    end if;
    insert into app.stream_hubs as h (hub_id, polling_until, seen_at)
    values (p_hub_id, v_now + p_polling_for, v_now)
    on conflict (hub_id) do update set
        polling_until = excluded.polling_until,
        seen_at = excluded.seen_at;
    delete from app.stream_hubs as h where h.seen_at < v_now - interval '1 minute';
end
$$;


ALTER FUNCTION api.stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval) OWNER TO intime_owner;

--
-- Name: stream_hub_leave(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.stream_hub_leave(p_hub_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    delete from app.stream_hubs as h where h.hub_id = p_hub_id;
end
$$;


ALTER FUNCTION api.stream_hub_leave(p_hub_id uuid) OWNER TO intime_owner;

--
-- Name: unread_count(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.unread_count() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_now timestamptz := app.now();
begin
    return (
        select count(*)
        from app.notifications as n
        where
            n.org_id = v_org_id
            and n.user_id = app.current_user_id()
            and n.read_at is null
            and n.archived_at is null
            and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
    );
end
$$;


ALTER FUNCTION api.unread_count() OWNER TO intime_owner;

--
-- Name: unsubscribe(text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.unsubscribe(p_token text, p_confirm boolean DEFAULT true) RETURNS TABLE(result text, email text, organization text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_send app.email_sends%rowtype;
    v_org_name text;
    v_done boolean;
begin
    perform app._require_service();
    select s.* into v_send
    from app.email_sends as s
    where s.unsubscribe_token = p_token;
    if not found then
        raise exception using errcode = 'IT004', message = 'unknown unsubscribe link';
    end if;
    select o.name into v_org_name from app.organizations as o where o.id = v_send.org_id;
    v_done := exists (
        select from app.suppressions as s
        where
            s.org_id = v_send.org_id and s.email = lower(v_send.to_email)
            and s.reason = 'unsubscribe'
    );
    if p_confirm and not v_done then
        insert into app.suppressions (org_id, email, reason, source_event_id)
        values (v_send.org_id, lower(v_send.to_email), 'unsubscribe', 'one-click:' || v_send.id)
        on conflict (org_id, email, reason) do nothing;
    end if;
    return query select
        case
            when v_done then 'already_unsubscribed'
            when p_confirm then 'unsubscribed'
            else 'subscribed'
        end,
        v_send.to_email,
        v_org_name;
end
$$;


ALTER FUNCTION api.unsubscribe(p_token text, p_confirm boolean) OWNER TO intime_owner;

--
-- Name: user_profiles; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.user_profiles (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    full_name text NOT NULL,
    role text DEFAULT 'member'::text NOT NULL,
    manager_id uuid,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    available boolean DEFAULT true NOT NULL,
    out_of_office_until timestamp with time zone,
    db_role name,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT user_profiles_check CHECK ((manager_id IS DISTINCT FROM id)),
    CONSTRAINT user_profiles_email_check CHECK ((POSITION(('@'::text) IN (email)) > 1)),
    CONSTRAINT user_profiles_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'manager'::text, 'member'::text])))
);

ALTER TABLE ONLY app.user_profiles FORCE ROW LEVEL SECURITY;


ALTER TABLE app.user_profiles OWNER TO intime_owner;

--
-- Name: update_user(uuid, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.update_user(p_user_id uuid, p_changes jsonb) RETURNS app.user_profiles
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_is_admin boolean := app._is_org_admin();
    v_old app.user_profiles%rowtype;
    v_user app.user_profiles%rowtype;
    v_unknown text[];
    v_self_keys constant text[] := array[
        'full_name', 'timezone', 'available', 'out_of_office_until'
    ];
    v_admin_keys constant text[] := array['role', 'manager_id', 'is_active'];
    v_manager_id uuid;
    v_ooo timestamptz;
begin
    if p_changes is null or jsonb_typeof(p_changes) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_changes must be a JSON object';
    end if;
    select array_agg(k order by k) into v_unknown
    from jsonb_object_keys(p_changes) as k
    where k <> all(v_self_keys || v_admin_keys);
    if v_unknown is not null then
        raise exception using
            errcode = 'IT005',
            message = format('cannot change %s', array_to_string(v_unknown, ', ')),
            hint = format('Changeable: %s.', array_to_string(v_self_keys || v_admin_keys, ', '));
    end if;
    if not v_is_admin and (
        p_user_id is distinct from app.current_user_id() or p_changes ?| v_admin_keys
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'members may change only their own name, time zone and availability';
    end if;

    -- Types first, with the field named in the error.
    if p_changes ? 'full_name' and (
        jsonb_typeof(p_changes -> 'full_name') is distinct from 'string'
        or length(btrim(p_changes ->> 'full_name')) = 0
    ) then
        raise exception using errcode = 'IT005', message = 'full_name must be a non-empty string';
    end if;
    if p_changes ? 'timezone' then
        perform app._assert_timezone(p_changes ->> 'timezone');
    end if;
    if p_changes ? 'role' and coalesce(p_changes ->> 'role', '') not in ('admin', 'manager', 'member') then
        raise exception using
            errcode = 'IT005', message = format('invalid role %L', p_changes ->> 'role');
    end if;
    if p_changes ? 'available' and jsonb_typeof(p_changes -> 'available') <> 'boolean' then
        raise exception using errcode = 'IT005', message = 'available must be true or false';
    end if;
    if p_changes ? 'is_active' and jsonb_typeof(p_changes -> 'is_active') <> 'boolean' then
        raise exception using errcode = 'IT005', message = 'is_active must be true or false';
    end if;
    begin
        v_manager_id := (p_changes ->> 'manager_id')::uuid;
        v_ooo := (p_changes ->> 'out_of_office_until')::timestamptz;
    exception
        when invalid_text_representation or invalid_datetime_format or datetime_field_overflow then
            raise exception using
                errcode = 'IT005',
                message = 'manager_id must be a user id and out_of_office_until a timestamp';
    end;

    -- Structure changes (role, activity, reporting lines) are checked against
    -- the whole org, so they run one at a time per org: lock the org row.
    -- Users cannot take this lock (it needs UPDATE on organizations).
    if p_changes ?| v_admin_keys then
        perform from app.organizations as o where o.id = v_org_id for no key update;
    end if;

    select u.* into v_old
    from app.user_profiles as u
    where u.org_id = v_org_id and u.id = p_user_id
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('user %s not found', p_user_id);
    end if;

    if v_manager_id is not null and not exists (
        with recursive chain (id) as (
            select v_manager_id
            union
            select u.manager_id
            from chain
            inner join app.user_profiles as u on u.org_id = v_org_id and u.id = chain.id
            where u.manager_id is not null
        )

        select from app.user_profiles as m
        where
            m.org_id = v_org_id and m.id = v_manager_id
            and not exists (select from chain where chain.id = p_user_id)
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('manager %s is unknown or would make a reporting loop', v_manager_id);
    end if;

    update app.user_profiles as u
    set
        full_name = case
            when p_changes ? 'full_name' then btrim(p_changes ->> 'full_name') else u.full_name
        end,
        timezone = case
            when p_changes ? 'timezone' then p_changes ->> 'timezone' else u.timezone
        end,
        available = case
            when p_changes ? 'available' then (p_changes ->> 'available')::boolean
            else u.available
        end,
        out_of_office_until = case
            when p_changes ? 'out_of_office_until' then v_ooo else u.out_of_office_until
        end,
        role = case when p_changes ? 'role' then p_changes ->> 'role' else u.role end,
        manager_id = case when p_changes ? 'manager_id' then v_manager_id else u.manager_id end,
        is_active = case
            when p_changes ? 'is_active' then (p_changes ->> 'is_active')::boolean
            else u.is_active
        end
    where u.org_id = v_org_id and u.id = p_user_id
    returning u.* into v_user;

    if v_old.role = 'admin' and v_old.is_active
        and not (v_user.role = 'admin' and v_user.is_active)
        and not exists (
            select from app.user_profiles as u
            where u.org_id = v_org_id and u.role = 'admin' and u.is_active
        ) then
        raise exception using
            errcode = 'IT005', message = 'the organization must keep at least one active admin';
    end if;
    return v_user;
end
$$;


ALTER FUNCTION api.update_user(p_user_id uuid, p_changes jsonb) OWNER TO intime_owner;

--
-- Name: whoami(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.whoami() RETURNS TABLE(org_id uuid, user_id uuid, email text, full_name text, role text, via text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app.current_org_id();
    v_user_id uuid := app.current_user_id();
begin
    return query
    select
        v_org_id,
        v_user_id,
        u.email,
        u.full_name,
        u.role,
        case when app._is_service() then 'service' else 'db_role' end
    from (select) as dummy
    left join app.user_profiles as u on u.org_id = v_org_id and u.id = v_user_id;
end
$$;


ALTER FUNCTION api.whoami() OWNER TO intime_owner;

--
-- Name: _actor_setting(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._actor_setting(p_name text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if pg_catalog.current_setting('intime.actor_stamp', true)
        is distinct from app._transaction_stamp() then
        return null;
    end if;
    return nullif(pg_catalog.current_setting(p_name, true), '');
end
$$;


ALTER FUNCTION app._actor_setting(p_name text) OWNER TO intime_owner;

--
-- Name: _apply_email_event(uuid, uuid, text, jsonb, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._apply_email_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION app._apply_email_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) OWNER TO intime_owner;

--
-- Name: _assert_channels(text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._assert_channels(p_channels text[]) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_channels is not null and not (p_channels <@ array['in_app', 'email', 'sms', 'push']) then
        raise exception using
            errcode = 'IT005',
            message = format('unknown channel in %s (known: in_app, email, sms, push)', p_channels);
    end if;
end
$$;


ALTER FUNCTION app._assert_channels(p_channels text[]) OWNER TO intime_owner;

--
-- Name: _assert_timezone(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._assert_timezone(p_timezone text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_timezone is null then
        raise exception using errcode = 'IT005', message = 'time zone must not be null';
    end if;
    perform pg_catalog.timezone(p_timezone, pg_catalog.clock_timestamp());
exception
    when invalid_parameter_value then
        raise exception using
            errcode = 'IT005',
            message = format('unknown time zone %s', p_timezone);
end
$$;


ALTER FUNCTION app._assert_timezone(p_timezone text) OWNER TO intime_owner;

--
-- Name: _auto_reply_reason(jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._auto_reply_reason(p_headers jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when lower(btrim(coalesce(p_headers ->> 'auto-submitted', 'no'))) <> 'no'
            then 'auto-submitted: ' || btrim(p_headers ->> 'auto-submitted')
        when p_headers ? 'x-autoreply' then 'x-autoreply'
        when p_headers ? 'x-autorespond' then 'x-autorespond'
        when lower(btrim(coalesce(p_headers ->> 'precedence', '')))
            in ('bulk', 'junk', 'auto_reply') then 'precedence: ' || lower(btrim(p_headers ->> 'precedence'))
        when btrim(coalesce(p_headers ->> 'return-path', 'x')) = '<>' then 'empty return-path'
    end
$$;


ALTER FUNCTION app._auto_reply_reason(p_headers jsonb) OWNER TO intime_owner;

--
-- Name: _effective_preference(uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._effective_preference(p_org_id uuid, p_user_id uuid, p_category text) RETURNS app.notification_preferences
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_found record;
    v_row app.notification_preferences;
    v_timezone text;
begin
    -- One query: the applying row, and the zones a default would use.
    select x.pref, u.timezone as user_tz, o.timezone as org_tz into v_found
    from app.organizations as o
    left join app.user_profiles as u on u.org_id = o.id and u.id = p_user_id
    left join lateral (
        select p as pref
        from app.notification_preferences as p
        where
            p.org_id = p_org_id
            and (p.user_id = p_user_id or p.user_id is null)
            and p.category in (p_category, '*')
        order by p.user_id is null, p.category = '*'
        limit 1
    ) as x on true
    where o.id = p_org_id;
    v_row := v_found.pref;
    if v_row.id is not null and v_row.user_id is not null then
        return v_row;
    end if;
    v_timezone := coalesce(v_found.user_tz, v_found.org_tz, 'UTC');
    if v_row.id is not null then
        v_row.quiet_hours_timezone := case
            when p_user_id is null then v_row.quiet_hours_timezone else v_timezone
        end;
        return v_row;
    end if;
    v_row.org_id := p_org_id;
    v_row.user_id := p_user_id;
    v_row.category := '*';
    v_row.channels := '["in_app", "email"]';
    v_row.frequency := 'immediate';
    v_row.digest_time := '09:00';
    v_row.digest_day := 'monday';
    v_row.quiet_hours_enabled := false;
    v_row.quiet_hours_start := '22:00';
    v_row.quiet_hours_end := '08:00';
    v_row.quiet_hours_timezone := v_timezone;
    v_row.dnd_enabled := false;
    v_row.sound_enabled := true;
    v_row.email_unsubscribed := false;
    return v_row;
end
$$;


ALTER FUNCTION app._effective_preference(p_org_id uuid, p_user_id uuid, p_category text) OWNER TO intime_owner;

--
-- Name: _email_deliveries(uuid, uuid[], text, text, text, text, text, uuid, uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_send app.email_sends;
    v_skip text := p_skip;
begin
    if v_skip is null then
        begin
            v_send := app._insert_email_send(
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
        exception
            when sqlstate 'IT005' then
                v_skip := 'invalid recipient address';
            when sqlstate 'IT011' then
                v_skip := 'no email provider configured';
        end;
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
$$;


ALTER FUNCTION app._email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text) OWNER TO intime_owner;

--
-- Name: _email_status_rank(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_status_rank(p_status text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case p_status
        when 'queued' then 0
        when 'sending' then 1
        when 'sent' then 2
        when 'delivery_delayed' then 3
        when 'delivered' then 4
        when 'opened' then 5
        when 'clicked' then 6
        else 100  -- bounced, complained, failed, suppressed
    end
$$;


ALTER FUNCTION app._email_status_rank(p_status text) OWNER TO intime_owner;

--
-- Name: _ensure_trigger(regclass, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if exists (
        select from pg_catalog.pg_trigger as t
        where t.tgrelid = p_table and t.tgname = p_name and not t.tgisinternal
    ) then
        return false;
    end if;
    execute format('create trigger %I %s', p_name, format(p_body, p_table));
    return true;
end
$$;


ALTER FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) OWNER TO intime_owner;

--
-- Name: _html_escape(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._html_escape(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select replace(replace(replace(replace(replace(
        p_text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$$;


ALTER FUNCTION app._html_escape(p_text text) OWNER TO intime_owner;

--
-- Name: email_sends; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_sends (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    to_email text NOT NULL,
    from_email text NOT NULL,
    from_name text,
    reply_to text NOT NULL,
    subject text NOT NULL,
    html_body text NOT NULL,
    text_body text,
    category text NOT NULL,
    template_id uuid,
    variables jsonb DEFAULT '{}'::jsonb NOT NULL,
    entity_type text,
    entity_id uuid,
    enrollment_id uuid,
    workflow_action_id uuid,
    notification_id uuid,
    status text DEFAULT 'queued'::text NOT NULL,
    suppression_reason text,
    provider text,
    provider_message_id text,
    message_id text NOT NULL,
    reply_token text NOT NULL,
    unsubscribe_token text NOT NULL,
    send_after timestamp with time zone,
    queued_at timestamp with time zone DEFAULT app.now() NOT NULL,
    sent_at timestamp with time zone,
    delivered_at timestamp with time zone,
    first_opened_at timestamp with time zone,
    first_clicked_at timestamp with time zone,
    bounced_at timestamp with time zone,
    complained_at timestamp with time zone,
    failed_at timestamp with time zone,
    replied_at timestamp with time zone,
    open_count integer DEFAULT 0 NOT NULL,
    click_count integer DEFAULT 0 NOT NULL,
    bounce_type text,
    error text,
    attempts integer DEFAULT 0 NOT NULL,
    created_by uuid DEFAULT app.current_user_id(),
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    recipient_user_id uuid,
    CONSTRAINT email_sends_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT email_sends_category_check CHECK ((category = ANY (ARRAY['transactional'::text, 'marketing'::text, 'campaign'::text]))),
    CONSTRAINT email_sends_check CHECK (((status = 'suppressed'::text) = (suppression_reason IS NOT NULL))),
    CONSTRAINT email_sends_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'sent'::text, 'delivery_delayed'::text, 'delivered'::text, 'opened'::text, 'clicked'::text, 'bounced'::text, 'complained'::text, 'failed'::text, 'suppressed'::text])))
);

ALTER TABLE ONLY app.email_sends FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_sends OWNER TO intime_owner;

--
-- Name: _insert_email_send(uuid, text, text, text, text, text, uuid, jsonb, text, uuid, timestamp with time zone, uuid, uuid, uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._insert_email_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid DEFAULT NULL::uuid, p_variables jsonb DEFAULT '{}'::jsonb, p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_send_after timestamp with time zone DEFAULT NULL::timestamp with time zone, p_enrollment_id uuid DEFAULT NULL::uuid, p_workflow_action_id uuid DEFAULT NULL::uuid, p_notification_id uuid DEFAULT NULL::uuid, p_recipient_user_id uuid DEFAULT NULL::uuid) RETURNS app.email_sends
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_settings app.email_settings%rowtype;
    v_reason text;
    v_row app.email_sends%rowtype;
    v_id uuid := gen_random_uuid();
    v_reply_token text := replace(gen_random_uuid()::text, '-', '');
begin
    -- One plain address: no list separators, quotes, comments or brackets
    -- (a comma would smuggle a second recipient past suppression).
    if p_to is null or p_to !~ '^[^@\s<>,;:"()\[\]\\]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$' then
        raise exception using errcode = 'IT005', message = format('invalid recipient %L', p_to);
    end if;
    if p_category not in ('transactional', 'marketing', 'campaign') then
        raise exception using errcode = 'IT005', message = format('invalid category %L', p_category);
    end if;
    select s.* into v_settings from app.email_settings as s where s.org_id = p_org_id;
    if not found then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;
    v_reason := app._suppression_reason(p_org_id, p_to, p_category);

    insert into app.email_sends (
        org_id, id, to_email, from_email, from_name, reply_to, subject, html_body, text_body,
        category, template_id, variables, entity_type, entity_id, enrollment_id,
        workflow_action_id, notification_id, recipient_user_id, status, suppression_reason,
        provider, message_id, reply_token, unsubscribe_token, send_after
    )
    values (
        p_org_id, v_id, p_to, v_settings.from_email, v_settings.from_name,
        format('reply+%s@%s', v_reply_token, v_settings.reply_domain),
        regexp_replace(p_subject, '[\r\n]+', ' ', 'g'),
        p_html, p_text, p_category, p_template_id, coalesce(p_variables, '{}'),
        p_entity_type, p_entity_id, p_enrollment_id, p_workflow_action_id, p_notification_id,
        p_recipient_user_id,
        case when v_reason is null then 'queued' else 'suppressed' end,
        v_reason, v_settings.provider,
        format('<%s@%s>', v_id, v_settings.reply_domain),
        v_reply_token, replace(gen_random_uuid()::text, '-', ''), p_send_after
    )
    returning * into v_row;

    if v_reason is null then
        -- The queue runs on the real clock: a send_after on the (possibly fake)
        -- application clock becomes the same delay from the real now.
        insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
        values (
            0,
            'email.send',
            convert_to(jsonb_build_object('org_id', p_org_id, 'email_send_id', v_id)::text, 'UTF8'),
            'queued',
            pg_catalog.now() + greatest(coalesce(p_send_after - app.now(), '0'), interval '0'),
            'email.send:' || v_id
        );
    end if;
    return v_row;
end
$_$;


ALTER FUNCTION app._insert_email_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid) OWNER TO intime_owner;

--
-- Name: _is_org_admin(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._is_org_admin() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if app._is_service() and app.current_user_id() is null then
        return true;
    end if;
    return exists (
        select
        from app.user_profiles as u
        where
            u.org_id = app.current_org_id()
            and u.id = app.current_user_id()
            and u.role = 'admin'
            and u.is_active
    );
end
$$;


ALTER FUNCTION app._is_org_admin() OWNER TO intime_owner;

--
-- Name: _is_service(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._is_service() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select pg_catalog.pg_has_role(session_user, 'intime_service', 'member')
$$;


ALTER FUNCTION app._is_service() OWNER TO intime_owner;

--
-- Name: _lock_provider_message(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._lock_provider_message(p_provider_message_id text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('intime.email:' || p_provider_message_id, 0)
    )
$$;


ALTER FUNCTION app._lock_provider_message(p_provider_message_id text) OWNER TO intime_owner;

--
-- Name: _mark_notifications(uuid[], text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._mark_notifications(p_ids uuid[], p_mark text) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_count integer;
begin
    if v_user_id is null then
        raise exception using errcode = 'IT008', message = 'no user in context';
    end if;
    if p_mark <> 'all_read' and p_ids is null then
        raise exception using errcode = 'IT005', message = 'p_ids must not be null';
    end if;
    update app.notifications as n
    set
        read_at = case when p_mark in ('read', 'all_read') then v_now else n.read_at end,
        seen_at = case when p_mark in ('read', 'all_read', 'seen') then v_now else n.seen_at end,
        archived_at = case when p_mark = 'archive' then v_now else n.archived_at end,
        updated_at = v_now
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and (p_mark = 'all_read' or n.id = any(p_ids))
        and case p_mark
            when 'read' then n.read_at is null
            when 'all_read' then n.read_at is null and n.archived_at is null
            when 'seen' then n.seen_at is null
            else n.archived_at is null
        end;
    get diagnostics v_count = row_count;
    if v_count > 0 and p_mark <> 'seen' then
        -- The stream hub recounts this user's badge for their other tabs.
        -- The payload is a keyed hash of the user: any role may LISTEN, and ids
        -- of other tenants' users must not reach it.
        perform pg_catalog.pg_notify(
            'app_notification_reads',
            left(encode(sha256(
                (select k.secret from app.stream_secret as k)
                || convert_to(v_org_id || ':' || v_user_id, 'UTF8')
            ), 'hex'), 32)
        );
    end if;
    return v_count;
end
$$;


ALTER FUNCTION app._mark_notifications(p_ids uuid[], p_mark text) OWNER TO intime_owner;

--
-- Name: _message_id(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._message_id(p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when nullif(btrim(p_value), '') is null then null
        else '<' || btrim(btrim(p_value), '<>') || '>'
    end
$$;


ALTER FUNCTION app._message_id(p_value text) OWNER TO intime_owner;

--
-- Name: _migration_status(text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._migration_status(p_name text, p_checksum text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_applied text;
begin
    select m.checksum into v_applied
    from app.schema_migrations as m
    where m.name = p_name;

    if not found then
        return 'pending';
    end if;
    if v_applied <> p_checksum then
        raise exception using
            errcode = 'IT001',
            message = format('migration %s was changed after it was applied', p_name),
            detail = format('recorded checksum %s, file checksum %s', v_applied, p_checksum),
            hint = 'Applied migrations are immutable: add a new numbered migration instead.';
    end if;
    return 'applied';
end
$$;


ALTER FUNCTION app._migration_status(p_name text, p_checksum text) OWNER TO intime_owner;

--
-- Name: _missing_variables(jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._missing_variables(p_declared jsonb, p_vars jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select coalesce(array_agg(d ->> 'name' order by d ->> 'name'), '{}')
    from jsonb_array_elements(coalesce(p_declared, '[]')) as d
    where
        coalesce((d ->> 'required')::boolean, false)
        and (p_vars #>> string_to_array(d ->> 'name', '.')) is null
$$;


ALTER FUNCTION app._missing_variables(p_declared jsonb, p_vars jsonb) OWNER TO intime_owner;

--
-- Name: _next_digest_at(timestamp with time zone, text, time without time zone, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_local timestamp := p_after at time zone p_timezone;
    v_candidate timestamptz;
    v_dow integer;
begin
    if p_frequency = 'hourly_digest' then
        return (date_trunc('hour', v_local) + interval '1 hour') at time zone p_timezone;
    elsif p_frequency = 'daily_digest' then
        v_candidate := (v_local::date + p_time) at time zone p_timezone;
        if v_candidate <= p_after then
            v_candidate := (v_local::date + 1 + p_time) at time zone p_timezone;
        end if;
        return v_candidate;
    elsif p_frequency = 'weekly_digest' then
        v_dow := array_position(
            array['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
            p_day
        ) - 1;
        for v_i in 0..7 loop
            if extract(dow from v_local::date + v_i) = v_dow then
                v_candidate := (v_local::date + v_i + p_time) at time zone p_timezone;
                if v_candidate > p_after then
                    return v_candidate;
                end if;
            end if;
        end loop;
    end if;
    return null;
end
$$;


ALTER FUNCTION app._next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) OWNER TO intime_owner;

--
-- Name: notifications; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notifications (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    seq bigint NOT NULL,
    user_id uuid NOT NULL,
    title text NOT NULL,
    message text NOT NULL,
    type text DEFAULT 'info'::text NOT NULL,
    category text NOT NULL,
    priority text DEFAULT 'normal'::text NOT NULL,
    entity_type text,
    entity_id uuid,
    action_url text,
    action_label text,
    channels jsonb DEFAULT '["in_app"]'::jsonb NOT NULL,
    template_slug text,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    group_key text,
    group_count integer DEFAULT 1 NOT NULL,
    critical boolean DEFAULT false NOT NULL,
    silent boolean DEFAULT false NOT NULL,
    email_subject text,
    email_html text,
    email_text text,
    expires_at timestamp with time zone,
    read_at timestamp with time zone,
    seen_at timestamp with time zone,
    archived_at timestamp with time zone,
    created_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT notifications_category_check CHECK ((category ~ '^[a-z][a-z0-9_]*$'::text)),
    CONSTRAINT notifications_data_check CHECK ((jsonb_typeof(data) = 'object'::text)),
    CONSTRAINT notifications_group_count_check CHECK ((group_count >= 1)),
    CONSTRAINT notifications_group_key_check CHECK ((length(group_key) <= 200)),
    CONSTRAINT notifications_priority_check CHECK ((priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text]))),
    CONSTRAINT notifications_title_check CHECK ((length(title) <= 500)),
    CONSTRAINT notifications_type_check CHECK ((type = ANY (ARRAY['info'::text, 'success'::text, 'warning'::text, 'error'::text, 'action_required'::text])))
);

ALTER TABLE ONLY app.notifications FORCE ROW LEVEL SECURITY;


ALTER TABLE app.notifications OWNER TO intime_owner;

--
-- Name: _notification_json(app.notifications); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_json(p_row app.notifications) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select jsonb_build_object(
        'id', p_row.id,
        'seq', p_row.seq,
        'title', p_row.title,
        'message', p_row.message,
        'type', p_row.type,
        'category', p_row.category,
        'priority', p_row.priority,
        'entity_type', p_row.entity_type,
        'entity_id', p_row.entity_id,
        'action_url', p_row.action_url,
        'action_label', p_row.action_label,
        'data', p_row.data,
        'group_key', p_row.group_key,
        'group_count', p_row.group_count,
        'critical', p_row.critical,
        'silent', p_row.silent,
        'read_at', p_row.read_at,
        'seen_at', p_row.seen_at,
        'archived_at', p_row.archived_at,
        'expires_at', p_row.expires_at,
        'created_at', p_row.created_at,
        'updated_at', p_row.updated_at
    )
$$;


ALTER FUNCTION app._notification_json(p_row app.notifications) OWNER TO intime_owner;

--
-- Name: _notification_plan(uuid, uuid, text, jsonb, boolean, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone) RETURNS TABLE(channels jsonb, suppressed boolean, hold_until timestamp with time zone, hold_reason text, silent boolean, digest_at timestamp with time zone, email_unsubscribed boolean)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_pref app.notification_preferences;
    v_global app.notification_preferences;
    v_dnd_until timestamptz;
    v_dnd boolean;
    v_pref_dnd boolean;
    v_global_dnd boolean;
    v_quiet_end timestamptz;
begin
    v_pref := app._effective_preference(p_org_id, p_user_id, p_category);
    channels := (
        select coalesce(jsonb_agg(r.c order by r.o), '[]')
        from jsonb_array_elements_text(coalesce(p_requested, v_pref.channels)) with ordinality
            as r (c, o)
        where v_pref.channels ? r.c
    );
    suppressed := v_pref.frequency = 'never' and not p_critical;
    email_unsubscribed := v_pref.email_unsubscribed;
    silent := false;
    hold_until := null;
    hold_reason := null;
    digest_at := null;
    if p_critical then
        return next;
        return;
    end if;

    -- Do-not-disturb is the user's switch: the applying row or the user's
    -- '*' row turns it on for this category.
    select p.* into v_global
    from app.notification_preferences as p
    where p.org_id = p_org_id and p.user_id = p_user_id and p.category = '*';
    v_pref_dnd := v_pref.dnd_enabled and (v_pref.dnd_until is null or v_pref.dnd_until > p_now);
    v_global_dnd := coalesce(
        v_global.dnd_enabled and (v_global.dnd_until is null or v_global.dnd_until > p_now), false
    );
    v_dnd := v_pref_dnd or v_global_dnd;
    if (v_pref_dnd and v_pref.dnd_until is null) or (v_global_dnd and v_global.dnd_until is null) then
        v_dnd_until := null;
    else
        v_dnd_until := greatest(
            case when v_pref_dnd then v_pref.dnd_until end,
            case when v_global_dnd then v_global.dnd_until end
        );
    end if;
    if v_pref.quiet_hours_enabled then
        v_quiet_end := app._quiet_hours_end(
            p_now, v_pref.quiet_hours_start, v_pref.quiet_hours_end, v_pref.quiet_hours_timezone
        );
    end if;

    silent := v_dnd;
    if v_dnd then
        -- Open-ended do-not-disturb is re-checked hourly (and at once when the
        -- user changes it through api.set_preference).
        hold_until := greatest(coalesce(v_dnd_until, p_now + interval '1 hour'), v_quiet_end);
        hold_reason := case
            when v_dnd_until is null then 'do not disturb (no end set)'
            else 'do not disturb'
        end;
    elsif v_quiet_end is not null then
        hold_until := v_quiet_end;
        hold_reason := 'quiet hours';
    end if;
    if v_pref.frequency in ('hourly_digest', 'daily_digest', 'weekly_digest') then
        digest_at := app._next_digest_at(
            p_now, v_pref.frequency, v_pref.digest_time, v_pref.digest_day,
            v_pref.quiet_hours_timezone
        );
    end if;
    return next;
end
$$;


ALTER FUNCTION app._notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone) OWNER TO intime_owner;

--
-- Name: _queue_notification_emails(uuid, uuid[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._queue_notification_emails(p_org_id uuid, p_delivery_ids uuid[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
        v_queued := v_queued + app._email_deliveries(
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
$$;


ALTER FUNCTION app._queue_notification_emails(p_org_id uuid, p_delivery_ids uuid[]) OWNER TO intime_owner;

--
-- Name: _quiet_hours_end(timestamp with time zone, time without time zone, time without time zone, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) RETURNS timestamp with time zone
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when p_start = p_end then null
        when p_start < p_end and l.t >= p_start and l.t < p_end
            then (l.d + p_end) at time zone p_timezone
        when p_start > p_end and l.t >= p_start
            then (l.d + 1 + p_end) at time zone p_timezone
        when p_start > p_end and l.t < p_end
            then (l.d + p_end) at time zone p_timezone
    end
    from (
        select
            (p_now at time zone p_timezone)::date as d,
            (p_now at time zone p_timezone)::time as t
    ) as l
$$;


ALTER FUNCTION app._quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) OWNER TO intime_owner;

--
-- Name: _release_held(uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._release_held(p_org_id uuid DEFAULT NULL::uuid, p_user_id uuid DEFAULT NULL::uuid, p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_now timestamptz := app.now();
    v_ids uuid[];
    v_orgs uuid[];
    v_pending uuid[];
    v_pending_orgs uuid[];
    v_org uuid;
    v_counts jsonb;
begin
    if p_org_id is null then
        select array_agg(c.id), array_agg(c.org_id) into v_ids, v_orgs
        from (
            select d.org_id, d.id
            from app.notification_deliveries as d
            where d.status = 'held' and d.deliver_after <= v_now
            order by d.deliver_after
            limit p_limit
            for update skip locked
        ) as c;
    else
        select array_agg(c.id), array_agg(c.org_id) into v_ids, v_orgs
        from (
            select d.org_id, d.id
            from app.notification_deliveries as d
            where
                d.org_id = p_org_id
                and (p_user_id is null or d.user_id = p_user_id)
                and d.status = 'held'
            order by d.deliver_after
            limit p_limit
            for update skip locked
        ) as c;
    end if;
    if v_ids is null then
        return jsonb_build_object('released', 0, 'rescheduled', 0, 'skipped', 0);
    end if;

    with decided as (
        select
            d.org_id,
            d.id,
            case when r.reason is not null then 'skipped'
                when pl.digest_at is not null then 'digest'
                when pl.hold_until is not null then 'held'
                else 'pending'
            end as status,
            coalesce(r.reason, case when pl.digest_at is null then pl.hold_reason end) as reason,
            coalesce(pl.digest_at, pl.hold_until) as deliver_after
        from app.notification_deliveries as d
        inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        cross join lateral app._notification_plan(
            d.org_id, d.user_id, n.category, n.channels, n.critical, v_now
        ) as pl
        cross join lateral app._skip_reason(n, u.is_active, pl.suppressed, pl.channels,
            pl.email_unsubscribed, d.channel, v_now, 'delivery') as r (reason)
        where (d.org_id, d.id) in (select * from unnest(v_orgs, v_ids))
    ),

    updated as (
        update app.notification_deliveries as d
        set
            status = x.status,
            reason = x.reason,
            deliver_after = case when x.status in ('held', 'digest') then x.deliver_after end,
            updated_at = v_now
        from decided as x
        where d.org_id = x.org_id and d.id = x.id
        returning d.org_id, d.id, d.status
    )

    select
        jsonb_build_object(
            'released', count(*) filter (where u.status = 'pending'),
            'rescheduled', count(*) filter (where u.status in ('held', 'digest')),
            'skipped', count(*) filter (where u.status = 'skipped')
        ),
        array_agg(u.id) filter (where u.status = 'pending'),
        array_agg(u.org_id) filter (where u.status = 'pending')
    into v_counts, v_pending, v_pending_orgs
    from updated as u;

    if v_pending is not null then
        for v_org in select distinct o from unnest(v_pending_orgs) as o loop
            perform app._queue_notification_emails(v_org, v_pending);
        end loop;
    end if;
    return v_counts;
end
$$;


ALTER FUNCTION app._release_held(p_org_id uuid, p_user_id uuid, p_limit integer) OWNER TO intime_owner;

--
-- Name: _render(text, jsonb, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._render(p_template text, p_vars jsonb, p_escape text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    c_pattern constant text := '\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}';
    v_out text := '';
    v_rest text := coalesce(p_template, '');
    v_pos integer;
    v_token text;
    v_value text;
begin
    if p_escape not in ('none', 'html', 'url') then
        raise exception using errcode = 'IT005', message = format('unknown escape %L', p_escape);
    end if;
    loop
        v_pos := regexp_instr(v_rest, c_pattern);
        exit when v_pos = 0;
        v_token := regexp_substr(v_rest, c_pattern);
        v_value := coalesce(
            p_vars #>> string_to_array((regexp_match(v_token, c_pattern))[1], '.'), ''
        );
        v_out := v_out || left(v_rest, v_pos - 1)
            || case p_escape
                when 'html' then app._html_escape(v_value)
                when 'url' then app._url_encode(v_value)
                else v_value
            end;
        v_rest := substr(v_rest, v_pos + length(v_token));
    end loop;
    return v_out || v_rest;
end
$$;


ALTER FUNCTION app._render(p_template text, p_vars jsonb, p_escape text) OWNER TO intime_owner;

--
-- Name: _render_template(text, jsonb, boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._render_template(p_template text, p_vars jsonb, p_html boolean DEFAULT false) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._render(p_template, p_vars, case when p_html then 'html' else 'none' end)
$$;


ALTER FUNCTION app._render_template(p_template text, p_vars jsonb, p_html boolean) OWNER TO intime_owner;

--
-- Name: _require_org(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._require_org() RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app.current_org_id();
begin
    if v_org_id is null then
        raise exception using
            errcode = 'IT008',
            message = 'no organization in context',
            hint = 'The service role calls api.set_actor(p_org_id => ..) in the transaction; '
            || 'a SQL login must be mapped by app.user_profiles.db_role.';
    end if;
    return v_org_id;
end
$$;


ALTER FUNCTION app._require_org() OWNER TO intime_owner;

--
-- Name: _require_service(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._require_service() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if not app._is_service() then
        raise exception using
            errcode = 'IT002',
            message = 'this function is for the intime_service role only';
    end if;
end
$$;


ALTER FUNCTION app._require_service() OWNER TO intime_owner;

--
-- Name: _send_due_digests(integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._send_due_digests(p_limit integer DEFAULT 500) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_now timestamptz := app.now();
    v_user record;
    v_ids uuid[];
    v_count integer;
    v_html text;
    v_text text;
    v_due uuid[];
    v_sent integer := 0;
begin
    for v_user in
        select d.org_id, d.user_id, u.email
        from app.notification_deliveries as d
        inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
        where d.status = 'digest' and d.deliver_after <= v_now
        group by d.org_id, d.user_id, u.email
        order by min(d.deliver_after)
        limit p_limit
    loop
        -- One digest per user even with two ticks at once.
        continue when not pg_try_advisory_xact_lock(
            hashtextextended('intime.digest:' || v_user.org_id || ':' || v_user.user_id, 0)
        );
        select array_agg(c.id) into v_ids
        from (
            select d.id
            from app.notification_deliveries as d
            where
                d.org_id = v_user.org_id
                and d.user_id = v_user.user_id
                and d.status = 'digest'
                and d.deliver_after <= v_now
            for update skip locked
        ) as c;
        continue when v_ids is null;

        -- Decided again now: skip what must not go out any more, and move
        -- what a quiet window or do-not-disturb holds to the window's end.
        with decided as (
            select d.org_id, d.id, r.reason, pl.hold_until
            from app.notification_deliveries as d
            inner join app.notifications as n
                on n.org_id = d.org_id and n.id = d.notification_id
            inner join app.user_profiles as u on u.org_id = d.org_id and u.id = d.user_id
            cross join lateral app._notification_plan(
                d.org_id, d.user_id, n.category, n.channels, n.critical, v_now
            ) as pl
            cross join lateral app._skip_reason(
                n, u.is_active, pl.suppressed, pl.channels, pl.email_unsubscribed, d.channel,
                v_now, 'the digest'
            ) as r (reason)
            where d.org_id = v_user.org_id and d.id = any(v_ids)
        )

        update app.notification_deliveries as d
        set
            status = case when x.reason is not null then 'skipped' else 'digest' end,
            reason = x.reason,
            deliver_after = case when x.reason is null then x.hold_until end,
            updated_at = v_now
        from decided as x
        where
            d.org_id = x.org_id
            and d.id = x.id
            and (x.reason is not null or x.hold_until is not null);

        select
            count(*),
            array_agg(d.id),
            string_agg(
                format(
                    '<li><strong>%s</strong><br>%s%s</li>',
                    app._html_escape(n.title),
                    app._html_escape(n.message),
                    case
                        when n.action_url is not null then format(
                            '<br><a href="%s">%s</a>',
                            app._html_escape(n.action_url),
                            app._html_escape(coalesce(n.action_label, 'Open'))
                        )
                        else ''
                    end
                ),
                '' order by n.seq
            ),
            string_agg(
                '- ' || n.title || ': ' || n.message || coalesce(' (' || n.action_url || ')', ''),
                E'\n' order by n.seq
            )
        into v_count, v_due, v_html, v_text
        from app.notification_deliveries as d
        inner join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id
        where
            d.org_id = v_user.org_id
            and d.id = any(v_ids)
            and d.status = 'digest'
            and d.deliver_after <= v_now;
        continue when v_count = 0;

        v_sent := v_sent + app._email_deliveries(
            p_org_id => v_user.org_id,
            p_delivery_ids => v_due,
            p_to => v_user.email,
            p_subject => format(
                'Your digest: %s new notification%s', v_count, case when v_count > 1 then 's' end
            ),
            p_html => format(
                '<p>Here is what happened since your last digest:</p><ul>%s</ul>', v_html
            ),
            p_text => v_text,
            p_entity_type => 'notification_digest',
            p_entity_id => null,
            p_notification_id => null,
            p_recipient_user_id => v_user.user_id
        )::integer;
    end loop;
    return v_sent;
end
$$;


ALTER FUNCTION app._send_due_digests(p_limit integer) OWNER TO intime_owner;

--
-- Name: _send_notifications(uuid, uuid[], text, text, text, text, jsonb, text, text, text, uuid, text, text, text[], text, timestamp with time zone, boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._send_notifications(p_org_id uuid, p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) RETURNS TABLE(user_id uuid, notification_id uuid, outcome text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
    v_vars jsonb := coalesce(p_variables, '{}');
    v_critical boolean := coalesce(p_critical, false);
    v_tpl record;
    v_missing text[];
    v_unknown uuid[];
    v_category text;
    v_title text;
    v_message text;
    v_type text;
    v_priority text;
    v_action_url text;
    v_action_label text;
    v_requested jsonb;
    v_email_vars jsonb;
    v_email_subject text;
    v_email_html text;
    v_email_text text;
    v_subject_tpl text;
    v_body_tpl text;
    v_text_tpl text;
    v_users uuid[];
    v_ids uuid[];
    v_outcomes text[];
    v_expected bigint;
    v_pending uuid[];
begin
    if p_user_ids is null or cardinality(p_user_ids) = 0 then
        raise exception using errcode = 'IT005', message = 'no recipients given';
    end if;
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;
    perform app._assert_channels(p_channels);
    if p_expires_at is not null and p_expires_at <= v_now then
        raise exception using errcode = 'IT005', message = 'p_expires_at is in the past';
    end if;
    if length(p_group_key) > 200 then
        raise exception using errcode = 'IT005', message = 'p_group_key is longer than 200';
    end if;

    if p_template_slug is not null then
        if p_title is not null or p_message is not null then
            raise exception using
                errcode = 'IT005',
                message = 'give p_template_slug, or p_title with p_message, not both';
        end if;
        -- The org's active template wins over the system one with that slug.
        select t.* into v_tpl
        from (
            select o.category, o.title_template, o.message_template, o.default_type,
                o.default_priority, o.action_url_template, o.action_label,
                o.email_subject_template, o.email_body_template, o.email_body_text_template,
                o.default_channels, o.variables, 0 as rank
            from app.notification_templates as o
            where o.org_id = p_org_id and o.slug = p_template_slug and o.is_active
            union all
            select s.category, s.title_template, s.message_template, s.default_type,
                s.default_priority, s.action_url_template, s.action_label,
                s.email_subject_template, s.email_body_template, s.email_body_text_template,
                s.default_channels, s.variables, 1 as rank
            from app.notification_system_templates as s
            where s.slug = p_template_slug and s.is_active
        ) as t
        order by t.rank
        limit 1;
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format('notification template %s not found', p_template_slug);
        end if;
        v_missing := app._missing_variables(v_tpl.variables, v_vars);
        if cardinality(v_missing) > 0 then
            raise exception using
                errcode = 'IT010',
                message = format(
                    'template %s is missing required variables: %s',
                    p_template_slug, array_to_string(v_missing, ', ')
                );
        end if;
        v_category := coalesce(p_category, v_tpl.category);
        v_title := app._render(v_tpl.title_template, v_vars, 'none');
        v_message := app._render(v_tpl.message_template, v_vars, 'none');
        v_action_url := coalesce(
            p_action_url, nullif(app._render(v_tpl.action_url_template, v_vars, 'url'), '')
        );
        v_action_label := coalesce(p_action_label, v_tpl.action_label);
        v_type := coalesce(p_type, v_tpl.default_type);
        v_priority := coalesce(p_priority, v_tpl.default_priority);
        v_requested := coalesce(to_jsonb(p_channels), v_tpl.default_channels);
        v_subject_tpl := v_tpl.email_subject_template;
        v_body_tpl := v_tpl.email_body_template;
        v_text_tpl := v_tpl.email_body_text_template;
    else
        if p_title is null or p_message is null or p_category is null then
            raise exception using
                errcode = 'IT005',
                message = 'give p_template_slug, or p_category with p_title and p_message';
        end if;
        v_category := p_category;
        v_title := p_title;
        v_message := p_message;
        v_action_url := p_action_url;
        v_action_label := p_action_label;
        v_type := coalesce(p_type, 'info');
        v_priority := coalesce(p_priority, 'normal');
        v_requested := to_jsonb(p_channels);
    end if;

    if length(v_title) > 500 then
        raise exception using
            errcode = 'IT005',
            message = format('the title is %s characters long (at most 500)', length(v_title));
    end if;
    if v_category is null or v_category !~ '^[a-z][a-z0-9_]*$' then
        raise exception using errcode = 'IT005', message = format('invalid category %L', v_category);
    end if;
    if v_type not in ('info', 'success', 'warning', 'error', 'action_required') then
        raise exception using errcode = 'IT005', message = format('invalid type %L', v_type);
    end if;
    if v_priority not in ('low', 'normal', 'high', 'urgent') then
        raise exception using errcode = 'IT005', message = format('invalid priority %L', v_priority);
    end if;
    -- A relative path or an http(s) URL: never javascript:, data: or //host
    -- links, and no whitespace or control characters (browsers drop a tab in
    -- "/\t/evil.example", which would make it //evil.example).
    if v_action_url is not null and v_action_url !~* (
        '^(/([^/\\[:cntrl:][:space:]][^[:cntrl:][:space:]]*)?'
        || '|https?://[^/\\?#[:cntrl:][:space:]]+([/?#][^[:cntrl:][:space:]]*)?)$'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('action URL %L must be a path or an http(s) URL', v_action_url);
    end if;

    -- The email version: the template's email fields (values HTML-escaped),
    -- else the title and message.
    v_email_vars := v_vars || jsonb_build_object('action_url', coalesce(v_action_url, ''));
    v_email_subject := regexp_replace(
        case
            when v_subject_tpl is not null then app._render(v_subject_tpl, v_vars, 'none')
            else v_title
        end,
        '[\r\n]+', ' ', 'g'
    );
    v_email_html := case
        when v_body_tpl is not null then app._render(v_body_tpl, v_email_vars, 'html')
        else '<p>' || app._html_escape(v_message) || '</p>'
            || case
                when v_action_url is not null then format(
                    '<p><a href="%s">%s</a></p>',
                    app._html_escape(v_action_url),
                    app._html_escape(coalesce(v_action_label, 'Open'))
                )
                else ''
            end
    end;
    v_email_text := case
        when v_text_tpl is not null then app._render(v_text_tpl, v_email_vars, 'none')
        else v_message || coalesce(E'\n\n' || v_action_url, '')
    end;
    -- The transaction takes its xid before any seq is drawn: the stream hub
    -- settles a skipped seq once the snapshot's xmin passes the xmax it saw,
    -- and a transaction that drew a seq with no xid yet (an ON CONFLICT
    -- insert waits before it writes) could commit it after that point.
    perform pg_catalog.pg_current_xact_id();

    -- An expired notification still holds its group open (it is unread);
    -- archive it so this one starts a new row instead of reviving it.
    if p_group_key is not null then
        update app.notifications as n
        set archived_at = v_now, updated_at = v_now
        where
            n.org_id = p_org_id
            and n.user_id = any(p_user_ids)
            and n.group_key = p_group_key
            and n.read_at is null
            and n.archived_at is null
            and n.expires_at <= v_now;
    end if;

    with plan as (
        select u.id as user_id, u.is_active, p.*
        from app.user_profiles as u
        cross join lateral app._notification_plan(
            p_org_id, u.id, v_category, v_requested, v_critical, v_now
        ) as p
        where u.org_id = p_org_id and u.id = any(p_user_ids)
    ),

    upserted as (
        insert into app.notifications as n (
            org_id, user_id, title, message, type, category, priority, entity_type, entity_id,
            action_url, action_label, channels, template_slug, data, group_key, critical,
            silent, email_subject, email_html, email_text, expires_at, created_by,
            created_at, updated_at
        )
        select
            p_org_id, pl.user_id, v_title, v_message, v_type, v_category, v_priority,
            p_entity_type, p_entity_id, v_action_url, v_action_label, pl.channels,
            p_template_slug, v_vars, p_group_key, v_critical, pl.silent, v_email_subject,
            v_email_html, v_email_text, p_expires_at, app.current_user_id(), v_now, v_now
        from plan as pl
        where pl.is_active and not pl.suppressed
        on conflict (org_id, user_id, group_key)
        where group_key is not null and read_at is null and archived_at is null
        and channels ? 'in_app'
        do update set
            seq = default,
            group_count = n.group_count + 1,
            title = excluded.title,
            message = excluded.message,
            type = excluded.type,
            priority = excluded.priority,
            entity_type = excluded.entity_type,
            entity_id = excluded.entity_id,
            action_url = excluded.action_url,
            action_label = excluded.action_label,
            data = excluded.data,
            channels = excluded.channels,
            critical = excluded.critical,
            created_by = excluded.created_by,
            silent = excluded.silent,
            email_subject = excluded.email_subject,
            email_html = excluded.email_html,
            email_text = excluded.email_text,
            expires_at = excluded.expires_at,
            seen_at = null,
            updated_at = excluded.updated_at
        returning n.id, n.user_id, n.xmax = 0 as inserted
    ),

    -- A collapsed row keeps its deliveries: a group emails once until it is
    -- read, and a held email goes out with the newest text. Only a critical
    -- send upgrades a waiting (held, digest) delivery to go now.
    deliveries as (
        insert into app.notification_deliveries as d (
            org_id, notification_id, user_id, channel, status, reason, deliver_after,
            created_at, updated_at
        )
        select
            p_org_id, up.id, up.user_id, c.channel, s.status, s.reason,
            case s.status when 'held' then pl.hold_until when 'digest' then pl.digest_at end,
            v_now, v_now
        from upserted as up
        inner join plan as pl on pl.user_id = up.user_id
        cross join lateral jsonb_array_elements_text(pl.channels) as c (channel)
        cross join lateral (
            select
                c.channel <> 'email' or exists (
                    select from app.email_settings as e where e.org_id = p_org_id
                ) as has_email
        ) as cfg
        cross join lateral (
            select
                case
                    when c.channel = 'in_app' then 'delivered'
                    when c.channel in ('sms', 'push') then 'skipped'
                    when pl.email_unsubscribed or not cfg.has_email then 'skipped'
                    when pl.digest_at is not null then 'digest'
                    when pl.hold_until is not null then 'held'
                    else 'pending'
                end as status,
                case
                    when c.channel = 'in_app' and pl.silent then 'silent: do not disturb'
                    when c.channel in ('sms', 'push') then 'no provider configured'
                    when c.channel = 'in_app' then null
                    when pl.email_unsubscribed then 'email unsubscribed'
                    when not cfg.has_email then 'no email provider configured'
                    when pl.digest_at is not null then null
                    else pl.hold_reason
                end as reason
        ) as s
        on conflict (org_id, notification_id, channel) do update set
            status = excluded.status,
            reason = excluded.reason,
            deliver_after = excluded.deliver_after,
            updated_at = excluded.updated_at
        where d.status in ('held', 'digest') and excluded.status = 'pending'
        returning d.id, d.channel, d.status
    )

    select
        array_agg(pl.user_id order by pl.user_id),
        array_agg(up.id order by pl.user_id),
        array_agg(
            case
                when not pl.is_active then 'inactive'
                when pl.suppressed then 'suppressed'
                when up.inserted then 'created'
                else 'collapsed'
            end
            order by pl.user_id
        ),
        (select array_agg(d.id) from deliveries as d where d.channel = 'email' and d.status = 'pending'),
        (select count(distinct r.id) from unnest(p_user_ids) as r (id))
    into v_users, v_ids, v_outcomes, v_pending, v_expected
    from plan as pl
    left join upserted as up on up.user_id = pl.user_id;

    -- A user outside the org: all or nothing (the raise undoes the writes).
    if coalesce(cardinality(v_users), 0) < v_expected then
        select array_agg(r.id order by r.id) into v_unknown
        from (select distinct unnest(p_user_ids) as id) as r
        where r.id <> all(coalesce(v_users, '{}'));
        raise exception using
            errcode = 'IT004',
            message = format(
                'no such user in this organization: %s', array_to_string(v_unknown[1:5], ', ')
            );
    end if;

    if v_pending is not null then
        perform app._queue_notification_emails(p_org_id, v_pending);
    end if;

    return query select * from unnest(v_users, v_ids, v_outcomes);
end
$_$;


ALTER FUNCTION app._send_notifications(p_org_id uuid, p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) OWNER TO intime_owner;

--
-- Name: _skip_reason(app.notifications, boolean, boolean, jsonb, boolean, text, timestamp with time zone, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when p_row.read_at is not null then 'read before ' || p_stage
        when p_row.archived_at is not null then 'archived before ' || p_stage
        when p_row.expires_at is not null and p_row.expires_at <= p_now then 'expired'
        when not p_user_active then 'user inactive'
        when p_suppressed then 'frequency never'
        when not p_channels ? p_channel then 'channel turned off'
        when p_email_unsubscribed and p_channel = 'email' then 'email unsubscribed'
    end
$$;


ALTER FUNCTION app._skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) OWNER TO intime_owner;

--
-- Name: _suppression_reason(uuid, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._suppression_reason(p_org_id uuid, p_email text, p_category text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select s.reason
    from app.suppressions as s
    where
        s.org_id = p_org_id
        and s.email = lower(p_email)
        and (s.reason <> 'unsubscribe' or p_category in ('marketing', 'campaign'))
    order by s.created_at
    limit 1
$$;


ALTER FUNCTION app._suppression_reason(p_org_id uuid, p_email text, p_category text) OWNER TO intime_owner;

--
-- Name: _take_send_token(uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._take_send_token(p_org_id uuid) RETURNS double precision
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settings app.email_settings%rowtype;
    v_now timestamptz := pg_catalog.clock_timestamp();
    v_per_second double precision;
    v_tokens double precision;
begin
    select s.* into v_settings
    from app.email_settings as s
    where s.org_id = p_org_id
    for update;
    if not found then
        return 0;
    end if;
    v_per_second := v_settings.rate_limit_per_minute / 60.0;
    v_tokens := least(
        v_settings.rate_limit_per_minute::double precision,
        coalesce(
            v_settings.rate_tokens
            + extract(epoch from v_now - v_settings.rate_refilled_at) * v_per_second,
            v_settings.rate_limit_per_minute
        )
    );
    if v_tokens < 1 then
        update app.email_settings as s
        set rate_tokens = v_tokens, rate_refilled_at = v_now
        where s.org_id = p_org_id;
        return (1 - v_tokens) / v_per_second;
    end if;
    update app.email_settings as s
    set rate_tokens = v_tokens - 1, rate_refilled_at = v_now
    where s.org_id = p_org_id;
    return 0;
end
$$;


ALTER FUNCTION app._take_send_token(p_org_id uuid) OWNER TO intime_owner;

--
-- Name: _tg_check_entity_refs(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_check_entity_refs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    -- On UPDATE only references that changed are checked, so a row whose
    -- target was deleted since stays editable.
    v_changed text := case when tg_op = 'UPDATE' then
        ' inner join old_rows as o on o.org_id = r.org_id and o.id = r.id where '
        else ' where ' end;
    v_refs text := 'select r.org_id, r.entity_type as ref_type, r.entity_id as ref_id '
        || 'from new_rows as r' || v_changed
        || case when tg_op = 'UPDATE'
            then '(r.entity_type, r.entity_id) is distinct from (o.entity_type, o.entity_id)'
            else 'true' end;
    v_bad text;
    v_missing uuid;
    v_entity_type text;
    v_table_name text;
begin
    if tg_table_name = 'activities' then
        v_refs := v_refs
            || ' union all select r.org_id, r.secondary_entity_type, r.secondary_entity_id '
            || 'from new_rows as r' || v_changed || 'r.secondary_entity_type is not null'
            || case when tg_op = 'UPDATE'
                then ' and (r.secondary_entity_type, r.secondary_entity_id) is distinct from '
                || '(o.secondary_entity_type, o.secondary_entity_id)'
                else '' end;
    end if;

    execute format(
        'select refs.ref_type from (%s) as refs where not exists ('
        || 'select from app.entity_types as e where e.entity_type = refs.ref_type) limit 1',
        v_refs
    ) into v_bad;
    if v_bad is not null then
        raise exception using
            errcode = 'IT005', message = format('unknown entity type %L', v_bad);
    end if;

    for v_entity_type, v_table_name in execute format(
        'select distinct e.entity_type, e.table_name from (%s) as refs '
        || 'inner join app.entity_types as e on e.entity_type = refs.ref_type',
        v_refs
    ) loop
        execute format(
            'select refs.ref_id from (%s) as refs where refs.ref_type = $1 and not exists ('
            || 'select from app.%I as t where t.org_id = refs.org_id and t.id = refs.ref_id) '
            || 'limit 1',
            v_refs, v_table_name
        ) into v_missing using v_entity_type;
        if v_missing is not null then
            raise exception using
                errcode = 'IT004',
                message = format('%s %s not found', v_entity_type, v_missing);
        end if;
    end loop;
    return null;
end
$_$;


ALTER FUNCTION app._tg_check_entity_refs() OWNER TO intime_owner;

--
-- Name: _tg_comment_mentions(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_comment_mentions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_unknown uuid;
begin
    select m.user_id into v_unknown
    from new_rows as c
    cross join lateral unnest(c.mentioned_user_ids) as m (user_id)
    where not exists (
        select
        from app.user_profiles as u
        where u.org_id = c.org_id and u.id = m.user_id
    )
    limit 1;
    if found then
        raise exception using
            errcode = 'IT004',
            message = format('mentioned user %s not found', v_unknown);
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_comment_mentions() OWNER TO intime_owner;

--
-- Name: _tg_deal_stage_history(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_deal_stage_history() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_setting text := coalesce(pg_catalog.current_setting('intime.deal_stage_notes', true), '');
    v_stamp text := app._transaction_stamp() || '|';
    v_notes text;
begin
    if starts_with(v_setting, v_stamp) then
        v_notes := nullif(substr(v_setting, length(v_stamp) + 1), '');
    end if;
    insert into app.deal_stages_history (
        org_id, deal_id, from_stage_id, to_stage_id, from_probability, to_probability,
        days_in_stage, notes, changed_by, changed_at
    )
    select
        n.org_id, n.id, o.stage_id, n.stage_id, o.probability, n.probability,
        greatest(0, extract(day from n.stage_entered_at - o.stage_entered_at))::integer,
        v_notes,
        app.current_user_id(),
        n.stage_entered_at
    from new_rows as n
    inner join old_rows as o on n.org_id = o.org_id and n.id = o.id
    where n.stage_id is distinct from o.stage_id;
    return null;
end
$$;


ALTER FUNCTION app._tg_deal_stage_history() OWNER TO intime_owner;

--
-- Name: _tg_deal_stage_sync(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_deal_stage_sync() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_stage app.deal_stages%rowtype;
    v_now timestamptz := app.now();
begin
    if tg_op = 'UPDATE' and new.stage_id is not distinct from old.stage_id then
        new.status := old.status;
        new.closed_at := old.closed_at;
        new.stage_entered_at := old.stage_entered_at;
        return new;
    end if;
    if tg_op = 'UPDATE' and old.deleted_at is not null and new.deleted_at is not null then
        raise exception using
            errcode = 'IT005', message = format('deal %s is deleted; restore it first', old.id);
    end if;
    select s.* into v_stage
    from app.deal_stages as s
    where s.org_id = new.org_id and s.id = new.stage_id;
    if not found then
        return new;  -- the foreign key reports the bad stage
    end if;
    new.probability := case
        when tg_op = 'INSERT' then coalesce(new.probability, v_stage.probability)
        else v_stage.probability
    end;
    new.status := case when v_stage.is_won then 'won' when v_stage.is_lost then 'lost' else 'open' end;
    new.closed_at := case when v_stage.is_won or v_stage.is_lost then v_now end;
    new.stage_entered_at := v_now;
    return new;
end
$$;


ALTER FUNCTION app._tg_deal_stage_sync() OWNER TO intime_owner;

--
-- Name: _tg_email_send_delivery_status(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_email_send_delivery_status() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION app._tg_email_send_delivery_status() OWNER TO intime_owner;

--
-- Name: _tg_entity_history_delete(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_entity_history_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    -- Skip rows whose organization is being deleted in the same statement.
    insert into app.entity_history (
        org_id, entity_type, entity_id, change_type, old_value, changed_by
    )
    select r.org_id, tg_argv[0], r.id, 'deleted', to_jsonb(r), app.current_user_id()
    from old_rows as r
    where exists (select from app.organizations as o where o.id = r.org_id);
    return null;
end
$$;


ALTER FUNCTION app._tg_entity_history_delete() OWNER TO intime_owner;

--
-- Name: _tg_entity_history_insert(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_entity_history_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    insert into app.entity_history (org_id, entity_type, entity_id, change_type, changed_by)
    select r.org_id, tg_argv[0], r.id, 'created', app.current_user_id()
    from new_rows as r;
    return null;
end
$$;


ALTER FUNCTION app._tg_entity_history_insert() OWNER TO intime_owner;

--
-- Name: _tg_entity_history_update(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_entity_history_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_actor uuid := app.current_user_id();
begin
    -- Materialized CTEs compute each row's jsonb once; a flattened subquery
    -- would recompute to_jsonb() for every field it is compared on.
    with
    n as materialized (
        select r.org_id, r.id, to_jsonb(r) as doc from new_rows as r
    ),

    o as materialized (
        select r.org_id, r.id, to_jsonb(r) as doc from old_rows as r
    )

    insert into app.entity_history (
        org_id, entity_type, entity_id, change_type, field_name, old_value, new_value, changed_by
    )
    select n.org_id, tg_argv[0], n.id, 'updated', f.key, o.doc -> f.key, f.value, v_actor
    from n
    inner join o on n.org_id = o.org_id and n.id = o.id
    cross join lateral jsonb_each(n.doc) as f
    where
        f.key not in ('updated_at', 'updated_by')
        and (o.doc -> f.key) is distinct from f.value;
    return null;
end
$$;


ALTER FUNCTION app._tg_entity_history_update() OWNER TO intime_owner;

--
-- Name: _tg_immutable_keys(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_immutable_keys() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if new.id is distinct from old.id or new.org_id is distinct from old.org_id then
        raise exception using
            errcode = 'IT005',
            message = format('%s.id and org_id cannot change', tg_table_name);
    end if;
    return new;
end
$$;


ALTER FUNCTION app._tg_immutable_keys() OWNER TO intime_owner;

--
-- Name: _tg_notifications_announce(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_notifications_announce() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
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
$$;


ALTER FUNCTION app._tg_notifications_announce() OWNER TO intime_owner;

--
-- Name: _tg_stamp_created(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_stamp_created() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_user_id uuid := app.current_user_id();
begin
    if v_user_id is not null then
        new := jsonb_populate_record(
            new,
            jsonb_build_object(
                'created_by', v_user_id,
                'author_id', v_user_id,
                'submitted_by', v_user_id,
                'placed_by', v_user_id,
                'updated_by', null,
                'created_at', app.now()
            )
        );
    end if;
    return new;
end
$$;


ALTER FUNCTION app._tg_stamp_created() OWNER TO intime_owner;

--
-- Name: _tg_touch(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_touch() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_old jsonb := to_jsonb(old);
begin
    -- A key the table lacks is null here and ignored by jsonb_populate_record.
    new := jsonb_populate_record(
        new,
        jsonb_build_object(
            'updated_at', app.now(),
            'updated_by', app.current_user_id(),
            'created_at', v_old -> 'created_at',
            'created_by', v_old -> 'created_by',
            'author_id', v_old -> 'author_id',
            'submitted_by', v_old -> 'submitted_by',
            'placed_by', v_old -> 'placed_by'
        )
    );
    return new;
end
$$;


ALTER FUNCTION app._tg_touch() OWNER TO intime_owner;

--
-- Name: _transaction_stamp(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._transaction_stamp() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select extract(epoch from pg_catalog.transaction_timestamp())::text
$$;


ALTER FUNCTION app._transaction_stamp() OWNER TO intime_owner;

--
-- Name: _url_encode(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._url_encode(p_text text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    select coalesce(string_agg(
        case
            when c.ch ~ '^[A-Za-z0-9_.~-]$' then c.ch
            else regexp_replace(upper(encode(convert_to(c.ch, 'UTF8'), 'hex')), '(..)', '%\1', 'g')
        end, '' order by c.ord
    ), '')
    from regexp_split_to_table(p_text, '') with ordinality as c (ch, ord)
$_$;


ALTER FUNCTION app._url_encode(p_text text) OWNER TO intime_owner;

--
-- Name: fn_pgqueuer_changed(); Type: FUNCTION; Schema: queue; Owner: intime_owner
--

CREATE FUNCTION queue.fn_pgqueuer_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    to_emit BOOLEAN := false;  -- Flag to decide whether to emit a notification
BEGIN
    -- Check operation type and set the emit flag accordingly
    IF TG_OP = 'UPDATE' AND OLD IS DISTINCT FROM NEW THEN
        to_emit := true;
    ELSIF TG_OP = 'DELETE' THEN
        to_emit := true;
    ELSIF TG_OP = 'INSERT' THEN
        to_emit := true;
    ELSIF TG_OP = 'TRUNCATE' THEN
        to_emit := true;
    END IF;

    -- Perform notification if the emit flag is set
    IF to_emit THEN
        PERFORM pg_notify(
            'ch_pgqueuer',
            json_build_object(
                'channel', 'ch_pgqueuer',
                'operation', lower(TG_OP),
                'sent_at', NOW(),
                'table', TG_TABLE_NAME,
                'type', 'table_changed_event'
            )::text
        );
    END IF;

    -- Return appropriate value based on the operation
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        RETURN OLD;
    ELSE
        RETURN NULL; -- For TRUNCATE and other non-row-specific contexts
    END IF;

END;
$$;


ALTER FUNCTION queue.fn_pgqueuer_changed() OWNER TO intime_owner;

--
-- Name: accounts; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.accounts (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    domain text,
    industry text,
    website text,
    phone text,
    employee_count integer,
    annual_revenue numeric(16,2),
    status text DEFAULT 'prospect'::text NOT NULL,
    owner_id uuid,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT accounts_annual_revenue_check CHECK ((annual_revenue >= (0)::numeric)),
    CONSTRAINT accounts_employee_count_check CHECK ((employee_count >= 0)),
    CONSTRAINT accounts_name_check CHECK ((length(btrim(name)) > 0)),
    CONSTRAINT accounts_status_check CHECK ((status = ANY (ARRAY['prospect'::text, 'customer'::text, 'partner'::text, 'churned'::text, 'inactive'::text])))
);

ALTER TABLE ONLY app.accounts FORCE ROW LEVEL SECURITY;


ALTER TABLE app.accounts OWNER TO intime_owner;

--
-- Name: activities; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.activities (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    secondary_entity_type text,
    secondary_entity_id uuid,
    type text NOT NULL,
    subject text NOT NULL,
    description text,
    status text DEFAULT 'open'::text NOT NULL,
    priority text DEFAULT 'normal'::text NOT NULL,
    due_date timestamp with time zone,
    completed_at timestamp with time zone,
    assignee_id uuid,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT activities_check CHECK (((secondary_entity_type IS NULL) = (secondary_entity_id IS NULL))),
    CONSTRAINT activities_priority_check CHECK ((priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text]))),
    CONSTRAINT activities_status_check CHECK ((status = ANY (ARRAY['open'::text, 'scheduled'::text, 'in_progress'::text, 'completed'::text, 'cancelled'::text]))),
    CONSTRAINT activities_type_check CHECK ((type = ANY (ARRAY['task'::text, 'call'::text, 'email'::text, 'meeting'::text, 'note'::text, 'linkedin'::text])))
);

ALTER TABLE ONLY app.activities FORCE ROW LEVEL SECURITY;


ALTER TABLE app.activities OWNER TO intime_owner;

--
-- Name: api_tokens; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.api_tokens (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    token_prefix text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);

ALTER TABLE ONLY app.api_tokens FORCE ROW LEVEL SECURITY;


ALTER TABLE app.api_tokens OWNER TO intime_owner;

--
-- Name: candidates; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.candidates (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    first_name text NOT NULL,
    last_name text DEFAULT ''::text NOT NULL,
    full_name text GENERATED ALWAYS AS (btrim(((first_name || ' '::text) || last_name))) STORED,
    email text,
    phone text,
    headline text,
    location text,
    timezone text,
    linkedin_url text,
    status text DEFAULT 'active'::text NOT NULL,
    source text,
    owner_id uuid,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT candidates_email_check CHECK (((email IS NULL) OR (POSITION(('@'::text) IN (email)) > 1))),
    CONSTRAINT candidates_status_check CHECK ((status = ANY (ARRAY['active'::text, 'placed'::text, 'inactive'::text, 'do_not_contact'::text])))
);

ALTER TABLE ONLY app.candidates FORCE ROW LEVEL SECURITY;


ALTER TABLE app.candidates OWNER TO intime_owner;

--
-- Name: comments; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.comments (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    parent_id uuid,
    body text NOT NULL,
    author_id uuid DEFAULT app.current_user_id(),
    mentioned_user_ids uuid[] DEFAULT '{}'::uuid[] NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    edited_at timestamp with time zone,
    deleted_at timestamp with time zone,
    CONSTRAINT comments_body_check CHECK ((length(btrim(body)) > 0))
);

ALTER TABLE ONLY app.comments FORCE ROW LEVEL SECURITY;


ALTER TABLE app.comments OWNER TO intime_owner;

--
-- Name: contacts; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.contacts (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    first_name text DEFAULT ''::text NOT NULL,
    last_name text DEFAULT ''::text NOT NULL,
    full_name text GENERATED ALWAYS AS (btrim(((first_name || ' '::text) || last_name))) STORED,
    email text,
    phone text,
    title text,
    company_name text,
    account_id uuid,
    owner_id uuid,
    timezone text,
    linkedin_url text,
    status text DEFAULT 'active'::text NOT NULL,
    source text,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT contacts_email_check CHECK (((email IS NULL) OR (POSITION(('@'::text) IN (email)) > 1))),
    CONSTRAINT contacts_status_check CHECK ((status = ANY (ARRAY['active'::text, 'lead'::text, 'customer'::text, 'inactive'::text, 'do_not_contact'::text])))
);

ALTER TABLE ONLY app.contacts FORCE ROW LEVEL SECURITY;


ALTER TABLE app.contacts OWNER TO intime_owner;

--
-- Name: deal_stages; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.deal_stages (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    "position" integer NOT NULL,
    probability integer NOT NULL,
    is_won boolean DEFAULT false NOT NULL,
    is_lost boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT deal_stages_check CHECK ((NOT (is_won AND is_lost))),
    CONSTRAINT deal_stages_probability_check CHECK (((probability >= 0) AND (probability <= 100)))
);

ALTER TABLE ONLY app.deal_stages FORCE ROW LEVEL SECURITY;


ALTER TABLE app.deal_stages OWNER TO intime_owner;

--
-- Name: deal_stages_history; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.deal_stages_history (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    deal_id uuid NOT NULL,
    from_stage_id uuid,
    to_stage_id uuid NOT NULL,
    from_probability integer,
    to_probability integer NOT NULL,
    days_in_stage integer,
    notes text,
    changed_by uuid,
    changed_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.deal_stages_history FORCE ROW LEVEL SECURITY;


ALTER TABLE app.deal_stages_history OWNER TO intime_owner;

--
-- Name: deal_stages_history_legacy; Type: VIEW; Schema: app; Owner: intime_owner
--

CREATE VIEW app.deal_stages_history_legacy WITH (security_invoker='true') AS
 SELECT h.id,
    h.org_id,
    h.deal_id AS entity_id,
    'deal'::text AS entity_type,
    'stage_change'::text AS change_type,
    'stage_id'::text AS field_name,
    to_jsonb(h.from_stage_id) AS old_value,
    to_jsonb(h.to_stage_id) AS new_value,
    h.changed_by,
    h.changed_at,
    jsonb_build_object('from_probability', h.from_probability, 'to_probability', h.to_probability, 'days_in_stage', h.days_in_stage, 'notes', h.notes) AS metadata
   FROM app.deal_stages_history h;


ALTER TABLE app.deal_stages_history_legacy OWNER TO intime_owner;

--
-- Name: deals_with_company; Type: VIEW; Schema: app; Owner: intime_owner
--

CREATE VIEW app.deals_with_company WITH (security_invoker='true') AS
 SELECT d.org_id,
    d.id,
    d.name,
    d.account_id,
    d.lead_contact_id,
    d.owner_id,
    d.stage_id,
    d.value,
    d.currency,
    d.probability,
    d.status,
    d.expected_close_date,
    d.closed_at,
    d.stage_entered_at,
    d.description,
    d.created_by,
    d.updated_by,
    d.created_at,
    d.updated_at,
    d.deleted_at,
    d.account_id AS company_id
   FROM app.deals d;


ALTER TABLE app.deals_with_company OWNER TO intime_owner;

--
-- Name: email_events; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_events (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    email_send_id uuid NOT NULL,
    provider_event_id text NOT NULL,
    type text NOT NULL,
    payload jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone NOT NULL,
    applied_at timestamp with time zone DEFAULT app.now() NOT NULL,
    recipient_user_id uuid
);

ALTER TABLE ONLY app.email_events FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_events OWNER TO intime_owner;

--
-- Name: email_events_id_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.email_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: email_events_pending; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_events_pending (
    provider_event_id text NOT NULL,
    provider_message_id text NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamp with time zone DEFAULT app.now() NOT NULL
);


ALTER TABLE app.email_events_pending OWNER TO intime_owner;

--
-- Name: email_templates; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_templates (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    category text DEFAULT 'transactional'::text NOT NULL,
    subject_template text NOT NULL,
    html_template text NOT NULL,
    text_template text,
    variables jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    created_by uuid DEFAULT app.current_user_id(),
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT email_templates_category_check CHECK ((category = ANY (ARRAY['transactional'::text, 'marketing'::text]))),
    CONSTRAINT email_templates_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9_-]*$'::text)),
    CONSTRAINT email_templates_variables_check CHECK ((jsonb_typeof(variables) = 'array'::text))
);

ALTER TABLE ONLY app.email_templates FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_templates OWNER TO intime_owner;

--
-- Name: email_threads; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.email_threads (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    root_send_id uuid NOT NULL,
    subject text,
    entity_type text,
    entity_id uuid,
    message_count integer DEFAULT 0 NOT NULL,
    last_message_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.email_threads FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_threads OWNER TO intime_owner;

--
-- Name: entity_history; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.entity_history (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    change_type text NOT NULL,
    field_name text,
    old_value jsonb,
    new_value jsonb,
    changed_by uuid,
    changed_at timestamp with time zone DEFAULT app.now() NOT NULL,
    xact_id xid8 DEFAULT pg_current_xact_id() NOT NULL,
    CONSTRAINT entity_history_change_type_check CHECK ((change_type = ANY (ARRAY['created'::text, 'updated'::text, 'deleted'::text]))),
    CONSTRAINT entity_history_check CHECK (((change_type = 'updated'::text) = (field_name IS NOT NULL)))
);

ALTER TABLE ONLY app.entity_history FORCE ROW LEVEL SECURITY;


ALTER TABLE app.entity_history OWNER TO intime_owner;

--
-- Name: entity_history_id_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

ALTER TABLE app.entity_history ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.entity_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: entity_types; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.entity_types (
    entity_type text NOT NULL,
    table_name text NOT NULL,
    label text NOT NULL,
    name_field text NOT NULL,
    owner_field text,
    status_field text,
    updatable_fields text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT entity_types_entity_type_check CHECK ((entity_type ~ '^[a-z][a-z_]*$'::text))
);


ALTER TABLE app.entity_types OWNER TO intime_owner;

--
-- Name: inbound_emails; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.inbound_emails (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    message_id text NOT NULL,
    in_reply_to text,
    "references" text[] DEFAULT '{}'::text[] NOT NULL,
    from_email text NOT NULL,
    from_name text,
    to_emails text[] DEFAULT '{}'::text[] NOT NULL,
    subject text,
    text_body text,
    html_body text,
    headers jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_auto_reply boolean NOT NULL,
    auto_reply_reason text,
    matched_send_id uuid NOT NULL,
    match_method text NOT NULL,
    thread_id uuid NOT NULL,
    provider text NOT NULL,
    provider_email_id text,
    received_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT inbound_emails_check CHECK (((auto_reply_reason IS NOT NULL) = is_auto_reply)),
    CONSTRAINT inbound_emails_match_method_check CHECK ((match_method = ANY (ARRAY['in_reply_to'::text, 'references'::text, 'reply_token'::text, 'sender'::text])))
);

ALTER TABLE ONLY app.inbound_emails FORCE ROW LEVEL SECURITY;


ALTER TABLE app.inbound_emails OWNER TO intime_owner;

--
-- Name: inbound_unmatched; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.inbound_unmatched (
    message_id text NOT NULL,
    from_email text,
    to_emails text[] DEFAULT '{}'::text[] NOT NULL,
    subject text,
    headers jsonb DEFAULT '{}'::jsonb NOT NULL,
    provider text NOT NULL,
    received_at timestamp with time zone DEFAULT app.now() NOT NULL
);


ALTER TABLE app.inbound_unmatched OWNER TO intime_owner;

--
-- Name: interviews; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.interviews (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    submission_id uuid NOT NULL,
    scheduled_at timestamp with time zone NOT NULL,
    duration_minutes integer DEFAULT 60 NOT NULL,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    interview_type text DEFAULT 'video'::text NOT NULL,
    location text,
    interviewer_id uuid,
    status text DEFAULT 'scheduled'::text NOT NULL,
    feedback text,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT interviews_duration_minutes_check CHECK ((duration_minutes > 0)),
    CONSTRAINT interviews_interview_type_check CHECK ((interview_type = ANY (ARRAY['phone'::text, 'video'::text, 'onsite'::text, 'technical'::text]))),
    CONSTRAINT interviews_status_check CHECK ((status = ANY (ARRAY['scheduled'::text, 'completed'::text, 'cancelled'::text, 'no_show'::text])))
);

ALTER TABLE ONLY app.interviews FORCE ROW LEVEL SECURITY;


ALTER TABLE app.interviews OWNER TO intime_owner;

--
-- Name: jobs; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.jobs (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    title text NOT NULL,
    account_id uuid,
    hiring_contact_id uuid,
    owner_id uuid,
    status text DEFAULT 'open'::text NOT NULL,
    location text,
    employment_type text DEFAULT 'full_time'::text NOT NULL,
    openings integer DEFAULT 1 NOT NULL,
    salary_min numeric(12,2),
    salary_max numeric(12,2),
    currency text DEFAULT 'USD'::text NOT NULL,
    description text,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT jobs_check CHECK (((salary_min IS NULL) OR (salary_max IS NULL) OR (salary_min <= salary_max))),
    CONSTRAINT jobs_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT jobs_employment_type_check CHECK ((employment_type = ANY (ARRAY['full_time'::text, 'part_time'::text, 'contract'::text, 'contract_to_hire'::text]))),
    CONSTRAINT jobs_openings_check CHECK ((openings >= 0)),
    CONSTRAINT jobs_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'open'::text, 'on_hold'::text, 'filled'::text, 'closed'::text]))),
    CONSTRAINT jobs_title_check CHECK ((length(btrim(title)) > 0))
);

ALTER TABLE ONLY app.jobs FORCE ROW LEVEL SECURITY;


ALTER TABLE app.jobs OWNER TO intime_owner;

--
-- Name: notes; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notes (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    title text,
    body text NOT NULL,
    is_pinned boolean DEFAULT false NOT NULL,
    author_id uuid DEFAULT app.current_user_id(),
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone
);

ALTER TABLE ONLY app.notes FORCE ROW LEVEL SECURITY;


ALTER TABLE app.notes OWNER TO intime_owner;

--
-- Name: notification_deliveries; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notification_deliveries (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    notification_id uuid NOT NULL,
    user_id uuid NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    reason text,
    deliver_after timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    email_send_id uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT notification_deliveries_channel_check CHECK ((channel = ANY (ARRAY['in_app'::text, 'email'::text, 'sms'::text, 'push'::text]))),
    CONSTRAINT notification_deliveries_check CHECK (((status = ANY (ARRAY['held'::text, 'digest'::text])) = (deliver_after IS NOT NULL))),
    CONSTRAINT notification_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'held'::text, 'digest'::text, 'sent'::text, 'delivered'::text, 'skipped'::text, 'failed'::text])))
);

ALTER TABLE ONLY app.notification_deliveries FORCE ROW LEVEL SECURITY;


ALTER TABLE app.notification_deliveries OWNER TO intime_owner;

--
-- Name: notification_delivery_status; Type: VIEW; Schema: app; Owner: intime_owner
--

CREATE VIEW app.notification_delivery_status WITH (security_invoker='true') AS
 SELECT d.org_id,
    d.notification_id,
    d.user_id,
    jsonb_object_agg(d.channel, d.status ORDER BY d.channel) AS delivery_status
   FROM app.notification_deliveries d
  GROUP BY d.org_id, d.notification_id, d.user_id;


ALTER TABLE app.notification_delivery_status OWNER TO intime_owner;

--
-- Name: notification_system_templates; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notification_system_templates (
    slug text NOT NULL,
    name text NOT NULL,
    description text,
    category text NOT NULL,
    title_template text NOT NULL,
    message_template text NOT NULL,
    default_type text DEFAULT 'info'::text NOT NULL,
    default_priority text DEFAULT 'normal'::text NOT NULL,
    action_url_template text,
    action_label text,
    email_subject_template text,
    email_body_template text,
    email_body_text_template text,
    sms_template text,
    push_title_template text,
    push_body_template text,
    push_image_url text,
    default_channels jsonb DEFAULT '["in_app"]'::jsonb NOT NULL,
    variables jsonb DEFAULT '[]'::jsonb NOT NULL,
    conditions jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    is_system boolean DEFAULT true NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT notification_system_templates_action_label_check CHECK ((length(action_label) <= 100)),
    CONSTRAINT notification_system_templates_category_check CHECK ((category ~ '^[a-z][a-z0-9_]*$'::text)),
    CONSTRAINT notification_system_templates_conditions_check CHECK ((jsonb_typeof(conditions) = 'object'::text)),
    CONSTRAINT notification_system_templates_default_channels_check CHECK ((default_channels <@ '["in_app", "email", "sms", "push"]'::jsonb)),
    CONSTRAINT notification_system_templates_default_priority_check CHECK ((default_priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text]))),
    CONSTRAINT notification_system_templates_default_type_check CHECK ((default_type = ANY (ARRAY['info'::text, 'success'::text, 'warning'::text, 'error'::text, 'action_required'::text]))),
    CONSTRAINT notification_system_templates_email_subject_template_check CHECK ((length(email_subject_template) <= 500)),
    CONSTRAINT notification_system_templates_is_system_check CHECK (is_system),
    CONSTRAINT notification_system_templates_push_body_template_check CHECK ((length(push_body_template) <= 255)),
    CONSTRAINT notification_system_templates_push_title_template_check CHECK ((length(push_title_template) <= 100)),
    CONSTRAINT notification_system_templates_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9_-]*$'::text)),
    CONSTRAINT notification_system_templates_sms_template_check CHECK ((length(sms_template) <= 500)),
    CONSTRAINT notification_system_templates_title_template_check CHECK ((length(title_template) <= 500)),
    CONSTRAINT notification_system_templates_variables_check CHECK ((jsonb_typeof(variables) = 'array'::text))
);


ALTER TABLE app.notification_system_templates OWNER TO intime_owner;

--
-- Name: notification_templates; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.notification_templates (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    category text NOT NULL,
    title_template text NOT NULL,
    message_template text NOT NULL,
    default_type text DEFAULT 'info'::text NOT NULL,
    default_priority text DEFAULT 'normal'::text NOT NULL,
    action_url_template text,
    action_label text,
    email_subject_template text,
    email_body_template text,
    email_body_text_template text,
    sms_template text,
    push_title_template text,
    push_body_template text,
    push_image_url text,
    default_channels jsonb DEFAULT '["in_app"]'::jsonb NOT NULL,
    variables jsonb DEFAULT '[]'::jsonb NOT NULL,
    conditions jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    created_by uuid DEFAULT app.current_user_id(),
    CONSTRAINT notification_templates_action_label_check CHECK ((length(action_label) <= 100)),
    CONSTRAINT notification_templates_category_check CHECK (((category ~ '^[a-z][a-z0-9_]*$'::text) AND (length(category) <= 100))),
    CONSTRAINT notification_templates_conditions_check CHECK ((jsonb_typeof(conditions) = 'object'::text)),
    CONSTRAINT notification_templates_default_channels_check CHECK (((jsonb_typeof(default_channels) = 'array'::text) AND (default_channels <@ '["in_app", "email", "sms", "push"]'::jsonb))),
    CONSTRAINT notification_templates_default_priority_check CHECK ((default_priority = ANY (ARRAY['low'::text, 'normal'::text, 'high'::text, 'urgent'::text]))),
    CONSTRAINT notification_templates_default_type_check CHECK ((default_type = ANY (ARRAY['info'::text, 'success'::text, 'warning'::text, 'error'::text, 'action_required'::text]))),
    CONSTRAINT notification_templates_email_subject_template_check CHECK ((length(email_subject_template) <= 500)),
    CONSTRAINT notification_templates_name_check CHECK ((length(name) <= 100)),
    CONSTRAINT notification_templates_push_body_template_check CHECK ((length(push_body_template) <= 255)),
    CONSTRAINT notification_templates_push_title_template_check CHECK ((length(push_title_template) <= 100)),
    CONSTRAINT notification_templates_slug_check CHECK (((slug ~ '^[a-z0-9][a-z0-9_-]*$'::text) AND (length(slug) <= 100))),
    CONSTRAINT notification_templates_sms_template_check CHECK ((length(sms_template) <= 500)),
    CONSTRAINT notification_templates_title_template_check CHECK ((length(title_template) <= 500)),
    CONSTRAINT notification_templates_variables_check CHECK ((jsonb_typeof(variables) = 'array'::text))
);

ALTER TABLE ONLY app.notification_templates FORCE ROW LEVEL SECURITY;


ALTER TABLE app.notification_templates OWNER TO intime_owner;

--
-- Name: notification_template_catalog; Type: VIEW; Schema: app; Owner: intime_owner
--

CREATE VIEW app.notification_template_catalog WITH (security_invoker='true') AS
 SELECT t.org_id,
    t.id,
    t.slug,
    t.name,
    t.description,
    t.category,
    t.title_template,
    t.message_template,
    t.default_type,
    t.default_priority,
    t.action_url_template,
    t.action_label,
    t.email_subject_template,
    t.email_body_template,
    t.email_body_text_template,
    t.default_channels,
    t.variables,
    t.is_active,
    false AS is_system,
    false AS is_overridden
   FROM app.notification_templates t
UNION ALL
 SELECT NULL::uuid AS org_id,
    NULL::uuid AS id,
    s.slug,
    s.name,
    s.description,
    s.category,
    s.title_template,
    s.message_template,
    s.default_type,
    s.default_priority,
    s.action_url_template,
    s.action_label,
    s.email_subject_template,
    s.email_body_template,
    s.email_body_text_template,
    s.default_channels,
    s.variables,
    s.is_active,
    true AS is_system,
    (EXISTS ( SELECT
           FROM app.notification_templates o
          WHERE ((o.slug = s.slug) AND o.is_active))) AS is_overridden
   FROM app.notification_system_templates s;


ALTER TABLE app.notification_template_catalog OWNER TO intime_owner;

--
-- Name: notifications_seq_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notifications ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.notifications_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: organizations; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.organizations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT organizations_name_check CHECK ((length(btrim(name)) > 0)),
    CONSTRAINT organizations_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'::text))
);

ALTER TABLE ONLY app.organizations FORCE ROW LEVEL SECURITY;


ALTER TABLE app.organizations OWNER TO intime_owner;

--
-- Name: placements; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.placements (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    submission_id uuid NOT NULL,
    job_id uuid NOT NULL,
    candidate_id uuid NOT NULL,
    start_date date NOT NULL,
    end_date date,
    bill_rate numeric(12,2),
    pay_rate numeric(12,2),
    currency text DEFAULT 'USD'::text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    placed_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT placements_check CHECK (((end_date IS NULL) OR (end_date >= start_date))),
    CONSTRAINT placements_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT placements_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'active'::text, 'completed'::text, 'terminated'::text])))
);

ALTER TABLE ONLY app.placements FORCE ROW LEVEL SECURITY;


ALTER TABLE app.placements OWNER TO intime_owner;

--
-- Name: schema_migrations; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.schema_migrations (
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    applied_by text DEFAULT SESSION_USER NOT NULL
);


ALTER TABLE app.schema_migrations OWNER TO intime_owner;

--
-- Name: settings; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.settings (
    singleton boolean DEFAULT true NOT NULL,
    allow_fake_clock boolean DEFAULT false NOT NULL,
    CONSTRAINT settings_singleton_check CHECK (singleton)
);


ALTER TABLE app.settings OWNER TO intime_owner;

--
-- Name: stream_hubs; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE UNLOGGED TABLE app.stream_hubs (
    hub_id uuid NOT NULL,
    polling_until timestamp with time zone NOT NULL,
    seen_at timestamp with time zone NOT NULL
);


ALTER TABLE app.stream_hubs OWNER TO intime_owner;

--
-- Name: stream_secret; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.stream_secret (
    singleton boolean DEFAULT true NOT NULL,
    secret bytea DEFAULT (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) NOT NULL,
    CONSTRAINT stream_secret_singleton_check CHECK (singleton)
);


ALTER TABLE app.stream_secret OWNER TO intime_owner;

--
-- Name: submissions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.submissions (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    job_id uuid NOT NULL,
    candidate_id uuid NOT NULL,
    submitted_by uuid DEFAULT app.current_user_id(),
    status text DEFAULT 'submitted'::text NOT NULL,
    submitted_at timestamp with time zone DEFAULT app.now() NOT NULL,
    bill_rate numeric(12,2),
    notes text,
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT submissions_status_check CHECK ((status = ANY (ARRAY['submitted'::text, 'client_review'::text, 'interviewing'::text, 'offered'::text, 'placed'::text, 'rejected'::text, 'withdrawn'::text])))
);

ALTER TABLE ONLY app.submissions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.submissions OWNER TO intime_owner;

--
-- Name: suppressions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.suppressions (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    reason text NOT NULL,
    source_event_id text,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT suppressions_email_check CHECK (((email = lower(email)) AND (POSITION(('@'::text) IN (email)) > 1))),
    CONSTRAINT suppressions_reason_check CHECK ((reason = ANY (ARRAY['hard_bounce'::text, 'soft_bounce'::text, 'complaint'::text, 'unsubscribe'::text, 'manual'::text, 'provider'::text])))
);

ALTER TABLE ONLY app.suppressions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.suppressions OWNER TO intime_owner;

--
-- Name: webhook_receipts; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.webhook_receipts (
    provider text NOT NULL,
    event_id text NOT NULL,
    received_at timestamp with time zone DEFAULT app.now() NOT NULL
);


ALTER TABLE app.webhook_receipts OWNER TO intime_owner;

--
-- Name: pgqueuer; Type: TABLE; Schema: queue; Owner: intime_owner
--

CREATE TABLE queue.pgqueuer (
    id bigint NOT NULL,
    priority integer NOT NULL,
    queue_manager_id uuid,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    heartbeat timestamp with time zone DEFAULT now() NOT NULL,
    execute_after timestamp with time zone DEFAULT now() NOT NULL,
    status queue.pgqueuer_status NOT NULL,
    entrypoint text NOT NULL,
    dedupe_key text,
    payload bytea,
    headers jsonb,
    attempts integer DEFAULT 0 NOT NULL,
    slot bigint
);


ALTER TABLE queue.pgqueuer OWNER TO intime_owner;

--
-- Name: pgqueuer_id_seq; Type: SEQUENCE; Schema: queue; Owner: intime_owner
--

CREATE SEQUENCE queue.pgqueuer_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE queue.pgqueuer_id_seq OWNER TO intime_owner;

--
-- Name: pgqueuer_id_seq; Type: SEQUENCE OWNED BY; Schema: queue; Owner: intime_owner
--

ALTER SEQUENCE queue.pgqueuer_id_seq OWNED BY queue.pgqueuer.id;


--
-- Name: pgqueuer_log; Type: TABLE; Schema: queue; Owner: intime_owner
--

CREATE TABLE queue.pgqueuer_log (
    id bigint NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    job_id bigint NOT NULL,
    status queue.pgqueuer_status NOT NULL,
    priority integer NOT NULL,
    entrypoint text NOT NULL,
    traceback jsonb,
    aggregated boolean DEFAULT false
);


ALTER TABLE queue.pgqueuer_log OWNER TO intime_owner;

--
-- Name: pgqueuer_log_id_seq; Type: SEQUENCE; Schema: queue; Owner: intime_owner
--

ALTER TABLE queue.pgqueuer_log ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME queue.pgqueuer_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: pgqueuer_schedules; Type: TABLE; Schema: queue; Owner: intime_owner
--

CREATE TABLE queue.pgqueuer_schedules (
    id bigint NOT NULL,
    expression text NOT NULL,
    entrypoint text NOT NULL,
    heartbeat timestamp with time zone DEFAULT now() NOT NULL,
    created timestamp with time zone DEFAULT now() NOT NULL,
    updated timestamp with time zone DEFAULT now() NOT NULL,
    next_run timestamp with time zone DEFAULT now() NOT NULL,
    last_run timestamp with time zone,
    status queue.pgqueuer_status DEFAULT 'queued'::queue.pgqueuer_status
);


ALTER TABLE queue.pgqueuer_schedules OWNER TO intime_owner;

--
-- Name: pgqueuer_schedules_id_seq; Type: SEQUENCE; Schema: queue; Owner: intime_owner
--

CREATE SEQUENCE queue.pgqueuer_schedules_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE queue.pgqueuer_schedules_id_seq OWNER TO intime_owner;

--
-- Name: pgqueuer_schedules_id_seq; Type: SEQUENCE OWNED BY; Schema: queue; Owner: intime_owner
--

ALTER SEQUENCE queue.pgqueuer_schedules_id_seq OWNED BY queue.pgqueuer_schedules.id;


--
-- Name: pgqueuer_statistics; Type: TABLE; Schema: queue; Owner: intime_owner
--

CREATE TABLE queue.pgqueuer_statistics (
    id bigint NOT NULL,
    created timestamp with time zone DEFAULT date_trunc('sec'::text, now()) NOT NULL,
    count bigint NOT NULL,
    priority integer NOT NULL,
    status queue.pgqueuer_status NOT NULL,
    entrypoint text NOT NULL
);


ALTER TABLE queue.pgqueuer_statistics OWNER TO intime_owner;

--
-- Name: pgqueuer_statistics_id_seq; Type: SEQUENCE; Schema: queue; Owner: intime_owner
--

CREATE SEQUENCE queue.pgqueuer_statistics_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE queue.pgqueuer_statistics_id_seq OWNER TO intime_owner;

--
-- Name: pgqueuer_statistics_id_seq; Type: SEQUENCE OWNED BY; Schema: queue; Owner: intime_owner
--

ALTER SEQUENCE queue.pgqueuer_statistics_id_seq OWNED BY queue.pgqueuer_statistics.id;


--
-- Name: pgqueuer id; Type: DEFAULT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer ALTER COLUMN id SET DEFAULT nextval('queue.pgqueuer_id_seq'::regclass);


--
-- Name: pgqueuer_schedules id; Type: DEFAULT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_schedules ALTER COLUMN id SET DEFAULT nextval('queue.pgqueuer_schedules_id_seq'::regclass);


--
-- Name: pgqueuer_statistics id; Type: DEFAULT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_statistics ALTER COLUMN id SET DEFAULT nextval('queue.pgqueuer_statistics_id_seq'::regclass);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (org_id, id);


--
-- Name: activities activities_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_pkey PRIMARY KEY (org_id, id);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (org_id, id);


--
-- Name: api_tokens api_tokens_token_hash_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: candidates candidates_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.candidates
    ADD CONSTRAINT candidates_pkey PRIMARY KEY (org_id, id);


--
-- Name: comments comments_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.comments
    ADD CONSTRAINT comments_pkey PRIMARY KEY (org_id, id);


--
-- Name: contacts contacts_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_pkey PRIMARY KEY (org_id, id);


--
-- Name: deal_stages_history deal_stages_history_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_pkey PRIMARY KEY (org_id, id);


--
-- Name: deal_stages deal_stages_org_id_name_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages
    ADD CONSTRAINT deal_stages_org_id_name_key UNIQUE (org_id, name);


--
-- Name: deal_stages deal_stages_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages
    ADD CONSTRAINT deal_stages_pkey PRIMARY KEY (org_id, id);


--
-- Name: deals deals_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_events_pending email_events_pending_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_events_pending
    ADD CONSTRAINT email_events_pending_pkey PRIMARY KEY (provider_event_id);


--
-- Name: email_events email_events_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_events
    ADD CONSTRAINT email_events_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_events email_events_provider_event_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_events
    ADD CONSTRAINT email_events_provider_event_id_key UNIQUE (provider_event_id);


--
-- Name: email_sends email_sends_message_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_message_id_key UNIQUE (message_id);


--
-- Name: email_sends email_sends_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_sends email_sends_provider_message_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_provider_message_id_key UNIQUE (provider_message_id);


--
-- Name: email_sends email_sends_reply_token_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_reply_token_key UNIQUE (reply_token);


--
-- Name: email_sends email_sends_unsubscribe_token_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_unsubscribe_token_key UNIQUE (unsubscribe_token);


--
-- Name: email_settings email_settings_org_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_settings
    ADD CONSTRAINT email_settings_org_id_key UNIQUE (org_id);


--
-- Name: email_settings email_settings_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_settings
    ADD CONSTRAINT email_settings_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_templates email_templates_org_id_slug_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_templates
    ADD CONSTRAINT email_templates_org_id_slug_key UNIQUE (org_id, slug);


--
-- Name: email_templates email_templates_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_templates
    ADD CONSTRAINT email_templates_pkey PRIMARY KEY (org_id, id);


--
-- Name: email_threads email_threads_org_id_root_send_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_threads
    ADD CONSTRAINT email_threads_org_id_root_send_id_key UNIQUE (org_id, root_send_id);


--
-- Name: email_threads email_threads_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_threads
    ADD CONSTRAINT email_threads_pkey PRIMARY KEY (org_id, id);


--
-- Name: entity_history entity_history_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.entity_history
    ADD CONSTRAINT entity_history_pkey PRIMARY KEY (org_id, id);


--
-- Name: entity_types entity_types_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.entity_types
    ADD CONSTRAINT entity_types_pkey PRIMARY KEY (entity_type);


--
-- Name: entity_types entity_types_table_name_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.entity_types
    ADD CONSTRAINT entity_types_table_name_key UNIQUE (table_name);


--
-- Name: inbound_emails inbound_emails_org_id_message_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_org_id_message_id_key UNIQUE (org_id, message_id);


--
-- Name: inbound_emails inbound_emails_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_pkey PRIMARY KEY (org_id, id);


--
-- Name: inbound_unmatched inbound_unmatched_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_unmatched
    ADD CONSTRAINT inbound_unmatched_pkey PRIMARY KEY (message_id);


--
-- Name: interviews interviews_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_pkey PRIMARY KEY (org_id, id);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (org_id, id);


--
-- Name: notes notes_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (org_id, id);


--
-- Name: notification_deliveries notification_deliveries_org_id_notification_id_channel_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_org_id_notification_id_channel_key UNIQUE (org_id, notification_id, channel);


--
-- Name: notification_deliveries notification_deliveries_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_pkey PRIMARY KEY (org_id, id);


--
-- Name: notification_preferences notification_preferences_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_preferences
    ADD CONSTRAINT notification_preferences_pkey PRIMARY KEY (org_id, id);


--
-- Name: notification_system_templates notification_system_templates_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_system_templates
    ADD CONSTRAINT notification_system_templates_pkey PRIMARY KEY (slug);


--
-- Name: notification_templates notification_templates_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_templates
    ADD CONSTRAINT notification_templates_pkey PRIMARY KEY (org_id, id);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (org_id, id);


--
-- Name: notifications notifications_seq_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notifications
    ADD CONSTRAINT notifications_seq_key UNIQUE (seq);


--
-- Name: organizations organizations_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.organizations
    ADD CONSTRAINT organizations_pkey PRIMARY KEY (id);


--
-- Name: organizations organizations_slug_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.organizations
    ADD CONSTRAINT organizations_slug_key UNIQUE (slug);


--
-- Name: placements placements_org_id_submission_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_org_id_submission_id_key UNIQUE (org_id, submission_id);


--
-- Name: placements placements_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_pkey PRIMARY KEY (org_id, id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (singleton);


--
-- Name: stream_hubs stream_hubs_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_hubs
    ADD CONSTRAINT stream_hubs_pkey PRIMARY KEY (hub_id);


--
-- Name: stream_secret stream_secret_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_secret
    ADD CONSTRAINT stream_secret_pkey PRIMARY KEY (singleton);


--
-- Name: submissions submissions_org_id_id_job_id_candidate_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_id_job_id_candidate_id_key UNIQUE (org_id, id, job_id, candidate_id);


--
-- Name: submissions submissions_org_id_job_id_candidate_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_job_id_candidate_id_key UNIQUE (org_id, job_id, candidate_id);


--
-- Name: submissions submissions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_pkey PRIMARY KEY (org_id, id);


--
-- Name: suppressions suppressions_org_id_email_reason_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppressions
    ADD CONSTRAINT suppressions_org_id_email_reason_key UNIQUE (org_id, email, reason);


--
-- Name: suppressions suppressions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppressions
    ADD CONSTRAINT suppressions_pkey PRIMARY KEY (org_id, id);


--
-- Name: notification_templates unique_template_slug; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_templates
    ADD CONSTRAINT unique_template_slug UNIQUE (org_id, slug);


--
-- Name: notification_preferences unique_user_category; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_preferences
    ADD CONSTRAINT unique_user_category UNIQUE NULLS NOT DISTINCT (org_id, user_id, category);


--
-- Name: user_profiles user_profiles_db_role_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.user_profiles
    ADD CONSTRAINT user_profiles_db_role_key UNIQUE (db_role);


--
-- Name: user_profiles user_profiles_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.user_profiles
    ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (org_id, id);


--
-- Name: webhook_receipts webhook_receipts_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.webhook_receipts
    ADD CONSTRAINT webhook_receipts_pkey PRIMARY KEY (provider, event_id);


--
-- Name: pgqueuer_log pgqueuer_log_pkey; Type: CONSTRAINT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_log
    ADD CONSTRAINT pgqueuer_log_pkey PRIMARY KEY (id);


--
-- Name: pgqueuer pgqueuer_pkey; Type: CONSTRAINT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer
    ADD CONSTRAINT pgqueuer_pkey PRIMARY KEY (id);


--
-- Name: pgqueuer_schedules pgqueuer_schedules_expression_entrypoint_key; Type: CONSTRAINT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_schedules
    ADD CONSTRAINT pgqueuer_schedules_expression_entrypoint_key UNIQUE (expression, entrypoint);


--
-- Name: pgqueuer_schedules pgqueuer_schedules_pkey; Type: CONSTRAINT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_schedules
    ADD CONSTRAINT pgqueuer_schedules_pkey PRIMARY KEY (id);


--
-- Name: pgqueuer_statistics pgqueuer_statistics_pkey; Type: CONSTRAINT; Schema: queue; Owner: intime_owner
--

ALTER TABLE ONLY queue.pgqueuer_statistics
    ADD CONSTRAINT pgqueuer_statistics_pkey PRIMARY KEY (id);


--
-- Name: accounts_owner_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX accounts_owner_idx ON app.accounts USING btree (org_id, owner_id) WHERE (owner_id IS NOT NULL);


--
-- Name: activities_assignee_open_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX activities_assignee_open_idx ON app.activities USING btree (org_id, assignee_id, due_date) WHERE (status = ANY (ARRAY['open'::text, 'scheduled'::text, 'in_progress'::text]));


--
-- Name: activities_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX activities_entity_idx ON app.activities USING btree (org_id, entity_type, entity_id);


--
-- Name: api_tokens_user_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX api_tokens_user_idx ON app.api_tokens USING btree (org_id, user_id);


--
-- Name: candidates_email_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX candidates_email_key ON app.candidates USING btree (org_id, lower(email)) WHERE (email IS NOT NULL);


--
-- Name: comments_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX comments_entity_idx ON app.comments USING btree (org_id, entity_type, entity_id, created_at);


--
-- Name: comments_mentions_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX comments_mentions_idx ON app.comments USING gin (mentioned_user_ids);


--
-- Name: contacts_account_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX contacts_account_idx ON app.contacts USING btree (org_id, account_id) WHERE (account_id IS NOT NULL);


--
-- Name: contacts_email_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX contacts_email_key ON app.contacts USING btree (org_id, lower(email)) WHERE (email IS NOT NULL);


--
-- Name: deal_stages_history_deal_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX deal_stages_history_deal_idx ON app.deal_stages_history USING btree (org_id, deal_id, changed_at);


--
-- Name: deals_account_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX deals_account_idx ON app.deals USING btree (org_id, account_id) WHERE (deleted_at IS NULL);


--
-- Name: deals_lead_contact_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX deals_lead_contact_idx ON app.deals USING btree (org_id, lead_contact_id) WHERE (deleted_at IS NULL);


--
-- Name: deals_owner_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX deals_owner_idx ON app.deals USING btree (org_id, owner_id) WHERE (deleted_at IS NULL);


--
-- Name: deals_stage_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX deals_stage_idx ON app.deals USING btree (org_id, stage_id) WHERE (deleted_at IS NULL);


--
-- Name: email_events_pending_message_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_events_pending_message_idx ON app.email_events_pending USING btree (provider_message_id);


--
-- Name: email_events_send_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_events_send_idx ON app.email_events USING btree (org_id, email_send_id, occurred_at);


--
-- Name: email_sends_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_entity_idx ON app.email_sends USING btree (org_id, entity_type, entity_id) WHERE (entity_type IS NOT NULL);


--
-- Name: email_sends_notification_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_notification_idx ON app.email_sends USING btree (org_id, notification_id) WHERE (notification_id IS NOT NULL);


--
-- Name: email_sends_template_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_template_idx ON app.email_sends USING btree (org_id, template_id) WHERE (template_id IS NOT NULL);


--
-- Name: email_sends_to_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_to_idx ON app.email_sends USING btree (org_id, lower(to_email), created_at);


--
-- Name: entity_history_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX entity_history_entity_idx ON app.entity_history USING btree (org_id, entity_type, entity_id, changed_at);


--
-- Name: inbound_emails_send_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX inbound_emails_send_idx ON app.inbound_emails USING btree (org_id, matched_send_id);


--
-- Name: interviews_submission_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX interviews_submission_idx ON app.interviews USING btree (org_id, submission_id);


--
-- Name: jobs_account_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX jobs_account_idx ON app.jobs USING btree (org_id, account_id) WHERE (account_id IS NOT NULL);


--
-- Name: notes_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notes_entity_idx ON app.notes USING btree (org_id, entity_type, entity_id);


--
-- Name: notification_deliveries_due_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_deliveries_due_idx ON app.notification_deliveries USING btree (status, deliver_after) WHERE (status = ANY (ARRAY['held'::text, 'digest'::text]));


--
-- Name: notification_deliveries_email_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_deliveries_email_idx ON app.notification_deliveries USING btree (org_id, email_send_id) WHERE (email_send_id IS NOT NULL);


--
-- Name: notification_deliveries_user_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_deliveries_user_idx ON app.notification_deliveries USING btree (org_id, user_id);


--
-- Name: notification_preferences_dnd_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_preferences_dnd_idx ON app.notification_preferences USING btree (org_id, dnd_until) WHERE dnd_enabled;


--
-- Name: notification_templates_category_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_templates_category_idx ON app.notification_templates USING btree (org_id, category) WHERE is_active;


--
-- Name: notifications_expires_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notifications_expires_idx ON app.notifications USING btree (expires_at) WHERE (expires_at IS NOT NULL);


--
-- Name: notifications_group_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX notifications_group_key ON app.notifications USING btree (org_id, user_id, group_key) WHERE ((group_key IS NOT NULL) AND (read_at IS NULL) AND (archived_at IS NULL) AND (channels ? 'in_app'::text));


--
-- Name: notifications_inbox_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notifications_inbox_idx ON app.notifications USING btree (org_id, user_id, seq DESC);


--
-- Name: notifications_unread_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notifications_unread_idx ON app.notifications USING btree (org_id, user_id) WHERE ((read_at IS NULL) AND (archived_at IS NULL));


--
-- Name: submissions_candidate_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX submissions_candidate_idx ON app.submissions USING btree (org_id, candidate_id);


--
-- Name: user_profiles_email_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX user_profiles_email_key ON app.user_profiles USING btree (org_id, lower(email));


--
-- Name: user_profiles_manager_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX user_profiles_manager_idx ON app.user_profiles USING btree (org_id, manager_id) WHERE (manager_id IS NOT NULL);


--
-- Name: pgqueuer_ep_ea_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_ep_ea_idx ON queue.pgqueuer USING btree (entrypoint, execute_after) WHERE (status = 'queued'::queue.pgqueuer_status);


--
-- Name: pgqueuer_ep_prio_id_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_ep_prio_id_idx ON queue.pgqueuer USING btree (entrypoint, priority DESC, id) WHERE (status = 'queued'::queue.pgqueuer_status);


--
-- Name: pgqueuer_log_created; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_log_created ON queue.pgqueuer_log USING btree (created);


--
-- Name: pgqueuer_log_job_id_status; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_log_job_id_status ON queue.pgqueuer_log USING btree (job_id, created DESC);


--
-- Name: pgqueuer_log_not_aggregated; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_log_not_aggregated ON queue.pgqueuer_log USING btree ((1)) WHERE (NOT aggregated);


--
-- Name: pgqueuer_log_status; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_log_status ON queue.pgqueuer_log USING btree (status);


--
-- Name: pgqueuer_picked_heartbeat_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_picked_heartbeat_idx ON queue.pgqueuer USING btree (heartbeat) WHERE (status = 'picked'::queue.pgqueuer_status);


--
-- Name: pgqueuer_picked_slot_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE UNIQUE INDEX pgqueuer_picked_slot_idx ON queue.pgqueuer USING btree (entrypoint, slot) WHERE ((status = 'picked'::queue.pgqueuer_status) AND (slot IS NOT NULL));


--
-- Name: pgqueuer_priority_id_id1_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_priority_id_id1_idx ON queue.pgqueuer USING btree (priority, id DESC) INCLUDE (id) WHERE (status = 'queued'::queue.pgqueuer_status);


--
-- Name: pgqueuer_queue_manager_id_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_queue_manager_id_idx ON queue.pgqueuer USING btree (queue_manager_id) WHERE (queue_manager_id IS NOT NULL);


--
-- Name: pgqueuer_statistics_unique_count; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE UNIQUE INDEX pgqueuer_statistics_unique_count ON queue.pgqueuer_statistics USING btree (priority, date_trunc('sec'::text, timezone('UTC'::text, created)), status, entrypoint);


--
-- Name: pgqueuer_unique_dedupe_key; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE UNIQUE INDEX pgqueuer_unique_dedupe_key ON queue.pgqueuer USING btree (dedupe_key) WHERE ((status = ANY (ARRAY['queued'::queue.pgqueuer_status, 'picked'::queue.pgqueuer_status])) AND (dedupe_key IS NOT NULL));


--
-- Name: pgqueuer_updated_id_id1_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_updated_id_id1_idx ON queue.pgqueuer USING btree (updated, id DESC) INCLUDE (id) WHERE (status = 'picked'::queue.pgqueuer_status);


--
-- Name: comments comment_mentions_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER comment_mentions_insert AFTER INSERT ON app.comments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_comment_mentions();


--
-- Name: comments comment_mentions_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER comment_mentions_update AFTER UPDATE ON app.comments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_comment_mentions();


--
-- Name: deals deal_stage_history; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER deal_stage_history AFTER UPDATE ON app.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_deal_stage_history();


--
-- Name: deals deal_stage_sync; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER deal_stage_sync BEFORE INSERT OR UPDATE ON app.deals FOR EACH ROW EXECUTE FUNCTION app._tg_deal_stage_sync();


--
-- Name: email_sends email_sends_delivery_status; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_sends_delivery_status AFTER UPDATE OF status ON app.email_sends FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) AND ((new.notification_id IS NOT NULL) OR (new.entity_type = 'notification_digest'::text)))) EXECUTE FUNCTION app._tg_email_send_delivery_status();


--
-- Name: activities entity_refs_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_insert AFTER INSERT ON app.activities REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: comments entity_refs_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_insert AFTER INSERT ON app.comments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: notes entity_refs_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_insert AFTER INSERT ON app.notes REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: activities entity_refs_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_update AFTER UPDATE ON app.activities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: comments entity_refs_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_update AFTER UPDATE ON app.comments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: notes entity_refs_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER entity_refs_update AFTER UPDATE ON app.notes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_check_entity_refs();


--
-- Name: accounts history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.accounts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('account');


--
-- Name: activities history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.activities REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('activity');


--
-- Name: candidates history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.candidates REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('candidate');


--
-- Name: contacts history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.contacts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('contact');


--
-- Name: deals history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.deals REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('deal');


--
-- Name: interviews history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.interviews REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('interview');


--
-- Name: jobs history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.jobs REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('job');


--
-- Name: placements history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.placements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('placement');


--
-- Name: submissions history_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_delete AFTER DELETE ON app.submissions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_delete('submission');


--
-- Name: accounts history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.accounts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('account');


--
-- Name: activities history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.activities REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('activity');


--
-- Name: candidates history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.candidates REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('candidate');


--
-- Name: contacts history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('contact');


--
-- Name: deals history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('deal');


--
-- Name: interviews history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.interviews REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('interview');


--
-- Name: jobs history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('job');


--
-- Name: placements history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.placements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('placement');


--
-- Name: submissions history_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_insert AFTER INSERT ON app.submissions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_insert('submission');


--
-- Name: accounts history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.accounts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('account');


--
-- Name: activities history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.activities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('activity');


--
-- Name: candidates history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.candidates REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('candidate');


--
-- Name: contacts history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('contact');


--
-- Name: deals history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('deal');


--
-- Name: interviews history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.interviews REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('interview');


--
-- Name: jobs history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('job');


--
-- Name: placements history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.placements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('placement');


--
-- Name: submissions history_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER history_update AFTER UPDATE ON app.submissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_entity_history_update('submission');


--
-- Name: accounts immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.accounts FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: activities immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.activities FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: candidates immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.candidates FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: contacts immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.contacts FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: deals immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.deals FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: interviews immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.interviews FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: jobs immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.jobs FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: placements immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.placements FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: submissions immutable_keys; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER immutable_keys BEFORE UPDATE OF id, org_id ON app.submissions FOR EACH ROW EXECUTE FUNCTION app._tg_immutable_keys();


--
-- Name: notifications notifications_announce_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER notifications_announce_insert AFTER INSERT ON app.notifications FOR EACH STATEMENT EXECUTE FUNCTION app._tg_notifications_announce();


--
-- Name: accounts stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.accounts FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: activities stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.activities FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: candidates stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.candidates FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: comments stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.comments FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: contacts stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.contacts FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: deals stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.deals FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: interviews stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.interviews FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: jobs stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.jobs FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: notes stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.notes FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: placements stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.placements FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: submissions stamp_created; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER stamp_created BEFORE INSERT ON app.submissions FOR EACH ROW EXECUTE FUNCTION app._tg_stamp_created();


--
-- Name: accounts touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: activities touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.activities FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: candidates touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.candidates FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: comments touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.comments FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: contacts touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.contacts FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: deals touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.deals FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: interviews touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.interviews FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: jobs touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.jobs FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: notes touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.notes FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: organizations touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.organizations FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: placements touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.placements FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: submissions touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.submissions FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: user_profiles touch_updated; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER touch_updated BEFORE UPDATE ON app.user_profiles FOR EACH ROW EXECUTE FUNCTION app._tg_touch();


--
-- Name: pgqueuer tg_pgqueuer_changed; Type: TRIGGER; Schema: queue; Owner: intime_owner
--

CREATE TRIGGER tg_pgqueuer_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON queue.pgqueuer FOR EACH STATEMENT EXECUTE FUNCTION queue.fn_pgqueuer_changed();


--
-- Name: accounts accounts_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.accounts
    ADD CONSTRAINT accounts_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: accounts accounts_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.accounts
    ADD CONSTRAINT accounts_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: accounts accounts_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.accounts
    ADD CONSTRAINT accounts_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (owner_id);


--
-- Name: accounts accounts_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.accounts
    ADD CONSTRAINT accounts_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: activities activities_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: activities activities_org_id_assignee_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_org_id_assignee_id_fkey FOREIGN KEY (org_id, assignee_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (assignee_id);


--
-- Name: activities activities_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: activities activities_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: activities activities_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.activities
    ADD CONSTRAINT activities_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: api_tokens api_tokens_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.api_tokens
    ADD CONSTRAINT api_tokens_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: api_tokens api_tokens_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.api_tokens
    ADD CONSTRAINT api_tokens_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: candidates candidates_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.candidates
    ADD CONSTRAINT candidates_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: candidates candidates_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.candidates
    ADD CONSTRAINT candidates_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: candidates candidates_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.candidates
    ADD CONSTRAINT candidates_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (owner_id);


--
-- Name: candidates candidates_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.candidates
    ADD CONSTRAINT candidates_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: comments comments_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.comments
    ADD CONSTRAINT comments_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: comments comments_org_id_author_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.comments
    ADD CONSTRAINT comments_org_id_author_id_fkey FOREIGN KEY (org_id, author_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (author_id);


--
-- Name: comments comments_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.comments
    ADD CONSTRAINT comments_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: comments comments_org_id_parent_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.comments
    ADD CONSTRAINT comments_org_id_parent_id_fkey FOREIGN KEY (org_id, parent_id) REFERENCES app.comments(org_id, id) ON DELETE CASCADE;


--
-- Name: contacts contacts_org_id_account_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_org_id_account_id_fkey FOREIGN KEY (org_id, account_id) REFERENCES app.accounts(org_id, id) ON DELETE SET NULL (account_id);


--
-- Name: contacts contacts_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: contacts contacts_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: contacts contacts_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (owner_id);


--
-- Name: contacts contacts_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.contacts
    ADD CONSTRAINT contacts_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: deal_stages_history deal_stages_history_org_id_changed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_org_id_changed_by_fkey FOREIGN KEY (org_id, changed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (changed_by);


--
-- Name: deal_stages_history deal_stages_history_org_id_deal_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_org_id_deal_id_fkey FOREIGN KEY (org_id, deal_id) REFERENCES app.deals(org_id, id) ON DELETE CASCADE;


--
-- Name: deal_stages_history deal_stages_history_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: deal_stages_history deal_stages_history_org_id_from_stage_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_org_id_from_stage_id_fkey FOREIGN KEY (org_id, from_stage_id) REFERENCES app.deal_stages(org_id, id) ON DELETE SET NULL (from_stage_id);


--
-- Name: deal_stages_history deal_stages_history_org_id_to_stage_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages_history
    ADD CONSTRAINT deal_stages_history_org_id_to_stage_id_fkey FOREIGN KEY (org_id, to_stage_id) REFERENCES app.deal_stages(org_id, id);


--
-- Name: deal_stages deal_stages_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deal_stages
    ADD CONSTRAINT deal_stages_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: deals deals_org_id_account_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_account_id_fkey FOREIGN KEY (org_id, account_id) REFERENCES app.accounts(org_id, id) ON DELETE SET NULL (account_id);


--
-- Name: deals deals_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: deals deals_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: deals deals_org_id_lead_contact_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_lead_contact_id_fkey FOREIGN KEY (org_id, lead_contact_id) REFERENCES app.contacts(org_id, id) ON DELETE SET NULL (lead_contact_id);


--
-- Name: deals deals_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (owner_id);


--
-- Name: deals deals_org_id_stage_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_stage_id_fkey FOREIGN KEY (org_id, stage_id) REFERENCES app.deal_stages(org_id, id);


--
-- Name: deals deals_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.deals
    ADD CONSTRAINT deals_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: email_events email_events_org_id_email_send_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_events
    ADD CONSTRAINT email_events_org_id_email_send_id_fkey FOREIGN KEY (org_id, email_send_id) REFERENCES app.email_sends(org_id, id) ON DELETE CASCADE;


--
-- Name: email_events email_events_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_events
    ADD CONSTRAINT email_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: email_sends email_sends_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: email_sends email_sends_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: email_sends email_sends_org_id_notification_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_org_id_notification_id_fkey FOREIGN KEY (org_id, notification_id) REFERENCES app.notifications(org_id, id) ON DELETE SET NULL (notification_id);


--
-- Name: email_sends email_sends_org_id_recipient_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_org_id_recipient_user_id_fkey FOREIGN KEY (org_id, recipient_user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (recipient_user_id);


--
-- Name: email_sends email_sends_org_id_template_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_sends
    ADD CONSTRAINT email_sends_org_id_template_id_fkey FOREIGN KEY (org_id, template_id) REFERENCES app.email_templates(org_id, id) ON DELETE SET NULL (template_id);


--
-- Name: email_settings email_settings_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_settings
    ADD CONSTRAINT email_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: email_templates email_templates_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_templates
    ADD CONSTRAINT email_templates_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: email_templates email_templates_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_templates
    ADD CONSTRAINT email_templates_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: email_threads email_threads_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_threads
    ADD CONSTRAINT email_threads_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: email_threads email_threads_org_id_root_send_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_threads
    ADD CONSTRAINT email_threads_org_id_root_send_id_fkey FOREIGN KEY (org_id, root_send_id) REFERENCES app.email_sends(org_id, id) ON DELETE CASCADE;


--
-- Name: entity_history entity_history_org_id_changed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.entity_history
    ADD CONSTRAINT entity_history_org_id_changed_by_fkey FOREIGN KEY (org_id, changed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (changed_by);


--
-- Name: entity_history entity_history_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.entity_history
    ADD CONSTRAINT entity_history_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: inbound_emails inbound_emails_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: inbound_emails inbound_emails_org_id_matched_send_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_org_id_matched_send_id_fkey FOREIGN KEY (org_id, matched_send_id) REFERENCES app.email_sends(org_id, id) ON DELETE CASCADE;


--
-- Name: inbound_emails inbound_emails_org_id_thread_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_org_id_thread_id_fkey FOREIGN KEY (org_id, thread_id) REFERENCES app.email_threads(org_id, id) ON DELETE CASCADE;


--
-- Name: interviews interviews_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: interviews interviews_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: interviews interviews_org_id_interviewer_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_org_id_interviewer_id_fkey FOREIGN KEY (org_id, interviewer_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (interviewer_id);


--
-- Name: interviews interviews_org_id_submission_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_org_id_submission_id_fkey FOREIGN KEY (org_id, submission_id) REFERENCES app.submissions(org_id, id) ON DELETE CASCADE;


--
-- Name: interviews interviews_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.interviews
    ADD CONSTRAINT interviews_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: jobs jobs_org_id_account_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_account_id_fkey FOREIGN KEY (org_id, account_id) REFERENCES app.accounts(org_id, id) ON DELETE SET NULL (account_id);


--
-- Name: jobs jobs_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: jobs jobs_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: jobs jobs_org_id_hiring_contact_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_hiring_contact_id_fkey FOREIGN KEY (org_id, hiring_contact_id) REFERENCES app.contacts(org_id, id) ON DELETE SET NULL (hiring_contact_id);


--
-- Name: jobs jobs_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (owner_id);


--
-- Name: jobs jobs_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.jobs
    ADD CONSTRAINT jobs_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: notes notes_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notes
    ADD CONSTRAINT notes_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: notes notes_org_id_author_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notes
    ADD CONSTRAINT notes_org_id_author_id_fkey FOREIGN KEY (org_id, author_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (author_id);


--
-- Name: notes notes_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notes
    ADD CONSTRAINT notes_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: notification_deliveries notification_deliveries_org_id_email_send_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_org_id_email_send_id_fkey FOREIGN KEY (org_id, email_send_id) REFERENCES app.email_sends(org_id, id) ON DELETE SET NULL (email_send_id);


--
-- Name: notification_deliveries notification_deliveries_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: notification_deliveries notification_deliveries_org_id_notification_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_org_id_notification_id_fkey FOREIGN KEY (org_id, notification_id) REFERENCES app.notifications(org_id, id) ON DELETE CASCADE;


--
-- Name: notification_deliveries notification_deliveries_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_deliveries
    ADD CONSTRAINT notification_deliveries_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: notification_preferences notification_preferences_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_preferences
    ADD CONSTRAINT notification_preferences_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: notification_preferences notification_preferences_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_preferences
    ADD CONSTRAINT notification_preferences_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: notification_templates notification_templates_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_templates
    ADD CONSTRAINT notification_templates_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: notification_templates notification_templates_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notification_templates
    ADD CONSTRAINT notification_templates_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: notifications notifications_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notifications
    ADD CONSTRAINT notifications_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: notifications notifications_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notifications
    ADD CONSTRAINT notifications_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: notifications notifications_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.notifications
    ADD CONSTRAINT notifications_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: placements placements_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: placements placements_org_id_placed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_org_id_placed_by_fkey FOREIGN KEY (org_id, placed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (placed_by);


--
-- Name: placements placements_org_id_submission_id_job_id_candidate_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_org_id_submission_id_job_id_candidate_id_fkey FOREIGN KEY (org_id, submission_id, job_id, candidate_id) REFERENCES app.submissions(org_id, id, job_id, candidate_id) ON DELETE CASCADE;


--
-- Name: placements placements_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.placements
    ADD CONSTRAINT placements_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: submissions submissions_org_id_candidate_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_candidate_id_fkey FOREIGN KEY (org_id, candidate_id) REFERENCES app.candidates(org_id, id) ON DELETE CASCADE;


--
-- Name: submissions submissions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: submissions submissions_org_id_job_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_job_id_fkey FOREIGN KEY (org_id, job_id) REFERENCES app.jobs(org_id, id) ON DELETE CASCADE;


--
-- Name: submissions submissions_org_id_submitted_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_submitted_by_fkey FOREIGN KEY (org_id, submitted_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (submitted_by);


--
-- Name: submissions submissions_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.submissions
    ADD CONSTRAINT submissions_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


--
-- Name: suppressions suppressions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppressions
    ADD CONSTRAINT suppressions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: user_profiles user_profiles_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.user_profiles
    ADD CONSTRAINT user_profiles_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: user_profiles user_profiles_org_id_manager_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.user_profiles
    ADD CONSTRAINT user_profiles_org_id_manager_id_fkey FOREIGN KEY (org_id, manager_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (manager_id);


--
-- Name: accounts; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;

--
-- Name: activities; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.activities ENABLE ROW LEVEL SECURITY;

--
-- Name: api_tokens; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.api_tokens ENABLE ROW LEVEL SECURITY;

--
-- Name: candidates; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.candidates ENABLE ROW LEVEL SECURITY;

--
-- Name: comments; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.comments ENABLE ROW LEVEL SECURITY;

--
-- Name: contacts; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.contacts ENABLE ROW LEVEL SECURITY;

--
-- Name: deal_stages; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.deal_stages ENABLE ROW LEVEL SECURITY;

--
-- Name: deal_stages_history; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.deal_stages_history ENABLE ROW LEVEL SECURITY;

--
-- Name: deals; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.deals ENABLE ROW LEVEL SECURITY;

--
-- Name: email_events; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_events ENABLE ROW LEVEL SECURITY;

--
-- Name: email_sends; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_sends ENABLE ROW LEVEL SECURITY;

--
-- Name: email_settings; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: email_templates; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_templates ENABLE ROW LEVEL SECURITY;

--
-- Name: email_threads; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.email_threads ENABLE ROW LEVEL SECURITY;

--
-- Name: entity_history; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.entity_history ENABLE ROW LEVEL SECURITY;

--
-- Name: inbound_emails; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.inbound_emails ENABLE ROW LEVEL SECURITY;

--
-- Name: interviews; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.interviews ENABLE ROW LEVEL SECURITY;

--
-- Name: jobs; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.jobs ENABLE ROW LEVEL SECURITY;

--
-- Name: notes; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notes ENABLE ROW LEVEL SECURITY;

--
-- Name: notification_deliveries; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notification_deliveries ENABLE ROW LEVEL SECURITY;

--
-- Name: notification_preferences; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notification_preferences ENABLE ROW LEVEL SECURITY;

--
-- Name: notification_templates; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notification_templates ENABLE ROW LEVEL SECURITY;

--
-- Name: notifications; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.notifications ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.organizations ENABLE ROW LEVEL SECURITY;

--
-- Name: organizations organizations_own; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY organizations_own ON app.organizations USING ((id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: placements; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.placements ENABLE ROW LEVEL SECURITY;

--
-- Name: submissions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.submissions ENABLE ROW LEVEL SECURITY;

--
-- Name: suppressions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.suppressions ENABLE ROW LEVEL SECURITY;

--
-- Name: accounts tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.accounts USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: activities tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.activities USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: api_tokens tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.api_tokens USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: candidates tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.candidates USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: comments tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.comments USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: contacts tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.contacts USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: deal_stages tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.deal_stages USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: deal_stages_history tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.deal_stages_history USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: deals tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.deals USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: email_events tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.email_events USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND ((recipient_user_id IS NULL) OR (recipient_user_id = ( SELECT app.current_user_id() AS current_user_id))))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: email_sends tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.email_sends USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND ((recipient_user_id IS NULL) OR (recipient_user_id = ( SELECT app.current_user_id() AS current_user_id))))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: email_settings tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.email_settings USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: email_templates tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.email_templates USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: email_threads tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.email_threads USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: entity_history tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.entity_history USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: inbound_emails tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.inbound_emails USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: interviews tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.interviews USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: jobs tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.jobs USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: notes tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.notes USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: notification_templates tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.notification_templates USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: placements tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.placements USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: submissions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.submissions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: suppressions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.suppressions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: user_profiles tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.user_profiles USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: notification_deliveries user_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY user_isolation ON app.notification_deliveries USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND (user_id = ( SELECT app.current_user_id() AS current_user_id)))) WITH CHECK (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND (user_id = ( SELECT app.current_user_id() AS current_user_id))));


--
-- Name: notification_preferences user_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY user_isolation ON app.notification_preferences USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND ((user_id IS NULL) OR (user_id = ( SELECT app.current_user_id() AS current_user_id))))) WITH CHECK (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND (user_id = ( SELECT app.current_user_id() AS current_user_id))));


--
-- Name: notifications user_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY user_isolation ON app.notifications USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND (user_id = ( SELECT app.current_user_id() AS current_user_id)))) WITH CHECK (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND (user_id = ( SELECT app.current_user_id() AS current_user_id))));


--
-- Name: user_profiles; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.user_profiles ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA api; Type: ACL; Schema: -; Owner: intime_owner
--

GRANT USAGE ON SCHEMA api TO intime_service;
GRANT USAGE ON SCHEMA api TO intime_user;


--
-- Name: SCHEMA app; Type: ACL; Schema: -; Owner: intime_owner
--

GRANT USAGE ON SCHEMA app TO intime_service;
GRANT USAGE ON SCHEMA app TO intime_user;


--
-- Name: SCHEMA queue; Type: ACL; Schema: -; Owner: intime_owner
--

GRANT USAGE ON SCHEMA queue TO intime_service;


--
-- Name: FUNCTION archive(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.archive(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.archive(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.archive(p_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION authenticate(p_token text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.authenticate(p_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.authenticate(p_token text) TO intime_service;
GRANT ALL ON FUNCTION api.authenticate(p_token text) TO intime_user;


--
-- Name: FUNCTION claim_email_send(p_email_send_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) TO intime_user;


--
-- Name: FUNCTION count_unread_for(p_org_ids uuid[], p_user_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.count_unread_for(p_org_ids uuid[], p_user_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.count_unread_for(p_org_ids uuid[], p_user_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.count_unread_for(p_org_ids uuid[], p_user_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) TO intime_service;
GRANT ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) TO intime_user;


--
-- Name: FUNCTION create_organization(p_name text, p_slug text, p_timezone text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) TO intime_service;
GRANT ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) TO intime_user;


--
-- Name: FUNCTION create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) TO intime_service;
GRANT ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) TO intime_user;


--
-- Name: FUNCTION email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) TO intime_user;


--
-- Name: FUNCTION fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) TO intime_service;
GRANT ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) TO intime_user;


--
-- Name: FUNCTION get_preferences(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_preferences() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_preferences() TO intime_service;
GRANT ALL ON FUNCTION api.get_preferences() TO intime_user;


--
-- Name: FUNCTION ingest_email_event(p_provider_event_id text, p_payload jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) TO intime_user;


--
-- Name: FUNCTION list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) TO intime_user;


--
-- Name: FUNCTION mark_all_read(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_all_read() FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_all_read() TO intime_service;
GRANT ALL ON FUNCTION api.mark_all_read() TO intime_user;


--
-- Name: FUNCTION mark_read(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_read(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_read(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.mark_read(p_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION mark_seen(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_seen(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_seen(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.mark_seen(p_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION current_org_id(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app.current_org_id() FROM PUBLIC;
GRANT ALL ON FUNCTION app.current_org_id() TO intime_service;
GRANT ALL ON FUNCTION app.current_org_id() TO intime_user;


--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION app.current_user_id() TO intime_service;
GRANT ALL ON FUNCTION app.current_user_id() TO intime_user;


--
-- Name: FUNCTION now(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app.now() FROM PUBLIC;
GRANT ALL ON FUNCTION app.now() TO intime_service;
GRANT ALL ON FUNCTION app.now() TO intime_user;


--
-- Name: TABLE deals; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.deals TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.deals TO intime_user;


--
-- Name: FUNCTION move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text) TO intime_service;
GRANT ALL ON FUNCTION api.move_deal_stage(p_deal_id uuid, p_stage_id uuid, p_notes text) TO intime_user;


--
-- Name: FUNCTION notification_feed_head(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.notification_feed_head() FROM PUBLIC;
GRANT ALL ON FUNCTION api.notification_feed_head() TO intime_service;
GRANT ALL ON FUNCTION api.notification_feed_head() TO intime_user;


--
-- Name: FUNCTION purge_expired_notifications(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.purge_expired_notifications(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.purge_expired_notifications(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.purge_expired_notifications(p_limit integer) TO intime_user;


--
-- Name: FUNCTION queue_email(p_to text, p_template_slug text, p_variables jsonb, p_subject text, p_html text, p_text text, p_category text, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.queue_email(p_to text, p_template_slug text, p_variables jsonb, p_subject text, p_html text, p_text text, p_category text, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.queue_email(p_to text, p_template_slug text, p_variables jsonb, p_subject text, p_html text, p_text text, p_category text, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.queue_email(p_to text, p_template_slug text, p_variables jsonb, p_subject text, p_html text, p_text text, p_category text, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid) TO intime_user;


--
-- Name: FUNCTION read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[]) TO intime_service;
GRANT ALL ON FUNCTION api.read_notification_feed(p_after_seq bigint, p_limit integer, p_gaps bigint[]) TO intime_user;


--
-- Name: FUNCTION record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) TO intime_service;
GRANT ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) TO intime_user;


--
-- Name: FUNCTION record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text) TO intime_service;
GRANT ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text) TO intime_user;


--
-- Name: FUNCTION replay_notifications(p_after_seq bigint, p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) TO intime_user;


--
-- Name: FUNCTION revoke_api_token(p_token_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) TO intime_user;


--
-- Name: FUNCTION run_notification_tick(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.run_notification_tick(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.run_notification_tick(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.run_notification_tick(p_limit integer) TO intime_user;


--
-- Name: FUNCTION send_notification(p_user_id uuid, p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.send_notification(p_user_id uuid, p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.send_notification(p_user_id uuid, p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) TO intime_service;
GRANT ALL ON FUNCTION api.send_notification(p_user_id uuid, p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) TO intime_user;


--
-- Name: FUNCTION send_notification_bulk(p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.send_notification_bulk(p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.send_notification_bulk(p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) TO intime_service;
GRANT ALL ON FUNCTION api.send_notification_bulk(p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) TO intime_user;


--
-- Name: FUNCTION set_actor(p_org_id uuid, p_user_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.set_actor(p_org_id uuid, p_user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_actor(p_org_id uuid, p_user_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.set_actor(p_org_id uuid, p_user_id uuid) TO intime_user;


--
-- Name: TABLE email_settings; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.email_settings TO intime_service;
GRANT SELECT ON TABLE app.email_settings TO intime_user;


--
-- Name: FUNCTION set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer) TO intime_service;
GRANT ALL ON FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer) TO intime_user;


--
-- Name: TABLE notification_preferences; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notification_preferences TO intime_service;
GRANT SELECT ON TABLE app.notification_preferences TO intime_user;


--
-- Name: FUNCTION set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean) TO intime_service;
GRANT ALL ON FUNCTION api.set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean) TO intime_user;


--
-- Name: FUNCTION stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval) FROM PUBLIC;
GRANT ALL ON FUNCTION api.stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval) TO intime_service;
GRANT ALL ON FUNCTION api.stream_hub_heartbeat(p_hub_id uuid, p_polling_for interval) TO intime_user;


--
-- Name: FUNCTION stream_hub_leave(p_hub_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.stream_hub_leave(p_hub_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.stream_hub_leave(p_hub_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.stream_hub_leave(p_hub_id uuid) TO intime_user;


--
-- Name: FUNCTION unread_count(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.unread_count() FROM PUBLIC;
GRANT ALL ON FUNCTION api.unread_count() TO intime_service;
GRANT ALL ON FUNCTION api.unread_count() TO intime_user;


--
-- Name: FUNCTION unsubscribe(p_token text, p_confirm boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.unsubscribe(p_token text, p_confirm boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.unsubscribe(p_token text, p_confirm boolean) TO intime_service;
GRANT ALL ON FUNCTION api.unsubscribe(p_token text, p_confirm boolean) TO intime_user;


--
-- Name: TABLE user_profiles; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.user_profiles TO intime_service;
GRANT SELECT ON TABLE app.user_profiles TO intime_user;


--
-- Name: FUNCTION update_user(p_user_id uuid, p_changes jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.update_user(p_user_id uuid, p_changes jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_user(p_user_id uuid, p_changes jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.update_user(p_user_id uuid, p_changes jsonb) TO intime_user;


--
-- Name: FUNCTION whoami(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.whoami() FROM PUBLIC;
GRANT ALL ON FUNCTION api.whoami() TO intime_service;
GRANT ALL ON FUNCTION api.whoami() TO intime_user;


--
-- Name: FUNCTION _actor_setting(p_name text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._actor_setting(p_name text) FROM PUBLIC;


--
-- Name: FUNCTION _apply_email_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._apply_email_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION _assert_channels(p_channels text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._assert_channels(p_channels text[]) FROM PUBLIC;


--
-- Name: FUNCTION _assert_timezone(p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._assert_timezone(p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _auto_reply_reason(p_headers jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._auto_reply_reason(p_headers jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _effective_preference(p_org_id uuid, p_user_id uuid, p_category text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._effective_preference(p_org_id uuid, p_user_id uuid, p_category text) FROM PUBLIC;


--
-- Name: FUNCTION _email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text) FROM PUBLIC;


--
-- Name: FUNCTION _email_status_rank(p_status text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_status_rank(p_status text) FROM PUBLIC;


--
-- Name: FUNCTION _ensure_trigger(p_table regclass, p_name text, p_body text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) FROM PUBLIC;


--
-- Name: FUNCTION _html_escape(p_text text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._html_escape(p_text text) FROM PUBLIC;


--
-- Name: TABLE email_sends; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.email_sends TO intime_service;
GRANT SELECT ON TABLE app.email_sends TO intime_user;


--
-- Name: FUNCTION _insert_email_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._insert_email_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _is_org_admin(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._is_org_admin() FROM PUBLIC;


--
-- Name: FUNCTION _is_service(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._is_service() FROM PUBLIC;


--
-- Name: FUNCTION _lock_provider_message(p_provider_message_id text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._lock_provider_message(p_provider_message_id text) FROM PUBLIC;


--
-- Name: FUNCTION _mark_notifications(p_ids uuid[], p_mark text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._mark_notifications(p_ids uuid[], p_mark text) FROM PUBLIC;


--
-- Name: FUNCTION _message_id(p_value text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._message_id(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION _migration_status(p_name text, p_checksum text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._migration_status(p_name text, p_checksum text) FROM PUBLIC;


--
-- Name: FUNCTION _missing_variables(p_declared jsonb, p_vars jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._missing_variables(p_declared jsonb, p_vars jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) FROM PUBLIC;


--
-- Name: TABLE notifications; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notifications TO intime_service;
GRANT SELECT ON TABLE app.notifications TO intime_user;


--
-- Name: FUNCTION _notification_json(p_row app.notifications); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_json(p_row app.notifications) FROM PUBLIC;


--
-- Name: FUNCTION _notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION _queue_notification_emails(p_org_id uuid, p_delivery_ids uuid[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._queue_notification_emails(p_org_id uuid, p_delivery_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION _quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _release_held(p_org_id uuid, p_user_id uuid, p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._release_held(p_org_id uuid, p_user_id uuid, p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _render(p_template text, p_vars jsonb, p_escape text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._render(p_template text, p_vars jsonb, p_escape text) FROM PUBLIC;


--
-- Name: FUNCTION _render_template(p_template text, p_vars jsonb, p_html boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._render_template(p_template text, p_vars jsonb, p_html boolean) FROM PUBLIC;


--
-- Name: FUNCTION _require_org(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._require_org() FROM PUBLIC;


--
-- Name: FUNCTION _require_service(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._require_service() FROM PUBLIC;


--
-- Name: FUNCTION _send_due_digests(p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._send_due_digests(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _send_notifications(p_org_id uuid, p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._send_notifications(p_org_id uuid, p_user_ids uuid[], p_category text, p_template_slug text, p_title text, p_message text, p_variables jsonb, p_type text, p_priority text, p_entity_type text, p_entity_id uuid, p_action_url text, p_action_label text, p_channels text[], p_group_key text, p_expires_at timestamp with time zone, p_critical boolean) FROM PUBLIC;


--
-- Name: FUNCTION _skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) FROM PUBLIC;


--
-- Name: FUNCTION _suppression_reason(p_org_id uuid, p_email text, p_category text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._suppression_reason(p_org_id uuid, p_email text, p_category text) FROM PUBLIC;


--
-- Name: FUNCTION _take_send_token(p_org_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._take_send_token(p_org_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _tg_check_entity_refs(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_check_entity_refs() FROM PUBLIC;


--
-- Name: FUNCTION _tg_comment_mentions(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_comment_mentions() FROM PUBLIC;


--
-- Name: FUNCTION _tg_deal_stage_history(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_deal_stage_history() FROM PUBLIC;


--
-- Name: FUNCTION _tg_deal_stage_sync(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_deal_stage_sync() FROM PUBLIC;


--
-- Name: FUNCTION _tg_email_send_delivery_status(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_email_send_delivery_status() FROM PUBLIC;


--
-- Name: FUNCTION _tg_entity_history_delete(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_entity_history_delete() FROM PUBLIC;


--
-- Name: FUNCTION _tg_entity_history_insert(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_entity_history_insert() FROM PUBLIC;


--
-- Name: FUNCTION _tg_entity_history_update(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_entity_history_update() FROM PUBLIC;


--
-- Name: FUNCTION _tg_immutable_keys(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_immutable_keys() FROM PUBLIC;


--
-- Name: FUNCTION _tg_notifications_announce(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_notifications_announce() FROM PUBLIC;


--
-- Name: FUNCTION _tg_stamp_created(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_stamp_created() FROM PUBLIC;


--
-- Name: FUNCTION _tg_touch(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_touch() FROM PUBLIC;


--
-- Name: FUNCTION _transaction_stamp(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._transaction_stamp() FROM PUBLIC;


--
-- Name: FUNCTION _url_encode(p_text text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._url_encode(p_text text) FROM PUBLIC;


--
-- Name: TABLE accounts; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.accounts TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.accounts TO intime_user;


--
-- Name: TABLE activities; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.activities TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.activities TO intime_user;


--
-- Name: TABLE candidates; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.candidates TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.candidates TO intime_user;


--
-- Name: TABLE comments; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.comments TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.comments TO intime_user;


--
-- Name: TABLE contacts; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.contacts TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.contacts TO intime_user;


--
-- Name: TABLE deal_stages; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.deal_stages TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.deal_stages TO intime_user;


--
-- Name: TABLE deal_stages_history; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.deal_stages_history TO intime_service;
GRANT SELECT ON TABLE app.deal_stages_history TO intime_user;


--
-- Name: TABLE deal_stages_history_legacy; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.deal_stages_history_legacy TO intime_service;
GRANT SELECT ON TABLE app.deal_stages_history_legacy TO intime_user;


--
-- Name: TABLE deals_with_company; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.deals_with_company TO intime_service;
GRANT SELECT ON TABLE app.deals_with_company TO intime_user;


--
-- Name: TABLE email_events; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.email_events TO intime_service;
GRANT SELECT ON TABLE app.email_events TO intime_user;


--
-- Name: TABLE email_templates; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.email_templates TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.email_templates TO intime_user;


--
-- Name: TABLE email_threads; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.email_threads TO intime_service;
GRANT SELECT ON TABLE app.email_threads TO intime_user;


--
-- Name: TABLE entity_history; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.entity_history TO intime_service;
GRANT SELECT ON TABLE app.entity_history TO intime_user;


--
-- Name: TABLE entity_types; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.entity_types TO intime_service;
GRANT SELECT ON TABLE app.entity_types TO intime_user;


--
-- Name: TABLE inbound_emails; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.inbound_emails TO intime_service;
GRANT SELECT ON TABLE app.inbound_emails TO intime_user;


--
-- Name: TABLE interviews; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.interviews TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.interviews TO intime_user;


--
-- Name: TABLE jobs; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.jobs TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.jobs TO intime_user;


--
-- Name: TABLE notes; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.notes TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.notes TO intime_user;


--
-- Name: TABLE notification_deliveries; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notification_deliveries TO intime_service;
GRANT SELECT ON TABLE app.notification_deliveries TO intime_user;


--
-- Name: TABLE notification_delivery_status; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notification_delivery_status TO intime_service;
GRANT SELECT ON TABLE app.notification_delivery_status TO intime_user;


--
-- Name: TABLE notification_system_templates; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notification_system_templates TO intime_service;
GRANT SELECT ON TABLE app.notification_system_templates TO intime_user;


--
-- Name: TABLE notification_templates; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.notification_templates TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.notification_templates TO intime_user;


--
-- Name: TABLE notification_template_catalog; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.notification_template_catalog TO intime_service;
GRANT SELECT ON TABLE app.notification_template_catalog TO intime_user;


--
-- Name: TABLE organizations; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.organizations TO intime_service;
GRANT SELECT ON TABLE app.organizations TO intime_user;


--
-- Name: TABLE placements; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.placements TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.placements TO intime_user;


--
-- Name: TABLE settings; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.settings TO intime_service;
GRANT SELECT ON TABLE app.settings TO intime_user;


--
-- Name: TABLE stream_secret; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.stream_secret TO intime_service;


--
-- Name: TABLE submissions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.submissions TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.submissions TO intime_user;


--
-- Name: TABLE suppressions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.suppressions TO intime_service;
GRANT SELECT ON TABLE app.suppressions TO intime_user;


--
-- Name: TABLE pgqueuer; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE queue.pgqueuer TO intime_service;


--
-- Name: SEQUENCE pgqueuer_id_seq; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,USAGE ON SEQUENCE queue.pgqueuer_id_seq TO intime_service;


--
-- Name: TABLE pgqueuer_log; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE queue.pgqueuer_log TO intime_service;


--
-- Name: SEQUENCE pgqueuer_log_id_seq; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,USAGE ON SEQUENCE queue.pgqueuer_log_id_seq TO intime_service;


--
-- Name: TABLE pgqueuer_schedules; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE queue.pgqueuer_schedules TO intime_service;


--
-- Name: SEQUENCE pgqueuer_schedules_id_seq; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,USAGE ON SEQUENCE queue.pgqueuer_schedules_id_seq TO intime_service;


--
-- Name: TABLE pgqueuer_statistics; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE queue.pgqueuer_statistics TO intime_service;


--
-- Name: SEQUENCE pgqueuer_statistics_id_seq; Type: ACL; Schema: queue; Owner: intime_owner
--

GRANT SELECT,USAGE ON SEQUENCE queue.pgqueuer_statistics_id_seq TO intime_service;


--
-- PostgreSQL database dump complete
--
