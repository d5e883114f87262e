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
-- Name: campaign_batch_counts; Type: TYPE; Schema: app; Owner: intime_owner
--

CREATE TYPE app.campaign_batch_counts AS (
	processed integer,
	sent integer,
	skipped integer,
	errored integer,
	deferred integer,
	completed integer,
	stopped integer
);


ALTER TYPE app.campaign_batch_counts OWNER TO intime_owner;

--
-- Name: notification_content; Type: TYPE; Schema: app; Owner: intime_owner
--

CREATE TYPE app.notification_content AS (
	category text,
	title text,
	message text,
	type text,
	priority text,
	action_url text,
	action_label text,
	requested_channels jsonb,
	variables jsonb,
	email_subject text,
	email_html text,
	email_text text
);


ALTER TYPE app.notification_content OWNER TO intime_owner;

--
-- Name: notification_request; Type: TYPE; Schema: app; Owner: intime_owner
--

CREATE TYPE app.notification_request AS (
	org_id uuid,
	user_ids uuid[],
	category text,
	template_slug text,
	title text,
	message text,
	variables jsonb,
	type text,
	priority text,
	entity_type text,
	entity_id uuid,
	action_url text,
	action_label text,
	channels text[],
	group_key text,
	expires_at timestamp with time zone,
	critical boolean
);


ALTER TYPE app.notification_request OWNER TO intime_owner;

--
-- Name: sending_domain_record; Type: TYPE; Schema: app; Owner: intime_owner
--

CREATE TYPE app.sending_domain_record AS (
	domain text,
	record_name text,
	record_value text,
	verified_at timestamp with time zone,
	last_checked_at timestamp with time zone,
	last_error text,
	created_at timestamp with time zone
);


ALTER TYPE app.sending_domain_record OWNER TO intime_owner;

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
-- Name: activate_campaign(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.activate_campaign(p_campaign_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_enrolled integer;
begin
    -- RAISE refuses a null HINT: the paused case has its own statement.
    if v_c.status = 'paused' then
        raise exception using
            errcode = 'IT013',
            message = 'only a draft campaign can be activated (this one is paused)',
            hint = 'Use api.resume_campaign.';
    elsif v_c.status <> 'draft' then
        raise exception using
            errcode = 'IT013',
            message = format('only a draft campaign can be activated (this one is %s)', v_c.status);
    end if;
    perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    update app.campaigns as c
    set status = 'active', activated_at = app.now(), updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    perform app._campaign_release_parked(v_c.org_id, v_c.id);
    select c.total_enrolled into v_enrolled
    from app.campaigns as c
    where c.org_id = v_c.org_id and c.id = v_c.id;
    perform app._campaign_notify(
        p_org_id => v_c.org_id,
        p_user_id => v_c.owner_id,
        p_template => 'campaign_activated',
        p_variables => jsonb_build_object(
            'campaign', jsonb_build_object('name', v_c.name, 'enrolled_count', v_enrolled)
        ),
        p_campaign_id => v_c.id
    );
    return v_enrolled;
end
$$;


ALTER FUNCTION api.activate_campaign(p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: add_sending_domain(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.add_sending_domain(p_domain text) RETURNS SETOF app.sending_domain_record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    perform app._email_assert_domain_free(v_org_id, v_domain);
    insert into app.sending_domains (org_id, domain, token)
    values (v_org_id, v_domain, replace(gen_random_uuid()::text, '-', ''))
    on conflict on constraint sending_domains_org_id_domain_key do nothing;
    return query select * from app._email_domain_records(v_org_id, v_domain);
end
$$;


ALTER FUNCTION api.add_sending_domain(p_domain text) OWNER TO intime_owner;

--
-- Name: add_sequence_step(uuid, text, integer, integer, integer, integer, uuid, text, text, text, jsonb, jsonb, boolean, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer DEFAULT NULL::integer, p_delay_days integer DEFAULT 0, p_delay_hours integer DEFAULT 0, p_delay_minutes integer DEFAULT 0, p_template_id uuid DEFAULT NULL::uuid, p_subject text DEFAULT NULL::text, p_body_html text DEFAULT NULL::text, p_body_text text DEFAULT NULL::text, p_task_config jsonb DEFAULT '{}'::jsonb, p_skip_conditions jsonb DEFAULT '[]'::jsonb, p_stop_on_reply boolean DEFAULT true, p_ab_variants jsonb DEFAULT NULL::jsonb) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(p_campaign_id);
    v_id uuid := gen_random_uuid();
    v_number integer;
begin
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    perform app._campaign_assert_step(
        p_org_id => v_c.org_id,
        p_channel => p_channel,
        p_template_id => p_template_id,
        p_subject => p_subject,
        p_body_html => p_body_html,
        p_body_text => p_body_text,
        p_task_config => coalesce(p_task_config, '{}'),
        p_skip_conditions => coalesce(p_skip_conditions, '[]'),
        p_ab_variants => p_ab_variants,
        p_delays => array[p_delay_days, p_delay_hours, p_delay_minutes]
    );
    v_number := coalesce(
        p_step_number,
        (
            select coalesce(max(s.step_number), 0) + 1
            from app.campaign_sequences as s
            where s.org_id = v_c.org_id and s.campaign_id = v_c.id
        )
    );
    if v_number not between 1 and 1000 then
        raise exception using errcode = 'IT005', message = 'step numbers are 1 to 1000';
    end if;
    if exists (
        select from app.campaign_sequences as s
        where s.org_id = v_c.org_id and s.campaign_id = v_c.id and s.step_number = v_number
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('the campaign already has a step %s', v_number),
            hint = 'Use api.update_sequence_step to change it.';
    end if;
    insert into app.campaign_sequences (
        org_id, id, campaign_id, step_number, channel, delay_days, delay_hours, delay_minutes,
        template_id, subject, body_html, body_text, task_config, skip_conditions, stop_on_reply,
        ab_variants
    )
    values (
        v_c.org_id, v_id, v_c.id, v_number, p_channel, p_delay_days, p_delay_hours,
        p_delay_minutes, p_template_id, app._campaign_normalize(p_subject),
        app._campaign_normalize(p_body_html), app._campaign_normalize(p_body_text),
        coalesce(p_task_config, '{}'), coalesce(p_skip_conditions, '[]'),
        coalesce(p_stop_on_reply, true), app._campaign_normalize_variants(p_ab_variants)
    );
    if v_c.status in ('active', 'paused') then
        perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    end if;
    return v_id;
end
$$;


ALTER FUNCTION api.add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer, p_delay_days integer, p_delay_hours integer, p_delay_minutes integer, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_stop_on_reply boolean, p_ab_variants jsonb) OWNER TO intime_owner;

--
-- Name: approve_approval(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.approve_approval(p_approval_id uuid, p_notes text DEFAULT NULL::text) RETURNS text
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._wf_decide(p_approval_id, 'approved', p_notes)
$$;


ALTER FUNCTION api.approve_approval(p_approval_id uuid, p_notes text) OWNER TO intime_owner;

--
-- Name: archive_campaign_logs(integer, interval); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.archive_campaign_logs(p_limit integer DEFAULT 50000, p_retention interval DEFAULT NULL::interval) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_retention interval;
    v_count integer;
begin
    perform app._require_service();
    select coalesce(p_retention, make_interval(days => s.campaign_log_retention_days))
    into v_retention
    from app.settings as s;
    if v_retention < interval '0' then
        raise exception using errcode = 'IT005', message = 'p_retention must not be negative';
    end if;
    with moved as (
        delete from app.campaign_sequence_logs as l
        where l.ctid in (
            select o.ctid
            from app.campaign_sequence_logs as o
            where o.created_at < app.now() - v_retention
            order by o.created_at
            limit greatest(p_limit, 1)
            for update skip locked
        )
        returning l.*
    )

    insert into app.campaign_sequence_logs_archive (
        org_id, id, campaign_id, enrollment_id, sequence_id, step_number, channel, status,
        detail, ab_variant, email_send_id, activity_id, scheduled_at, sent_at, created_at
    )
    select
        m.org_id, m.id, m.campaign_id, m.enrollment_id, m.sequence_id, m.step_number,
        m.channel, m.status, m.detail, m.ab_variant, m.email_send_id, m.activity_id,
        m.scheduled_at, m.sent_at, m.created_at
    from moved as m;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;


ALTER FUNCTION api.archive_campaign_logs(p_limit integer, p_retention interval) OWNER TO intime_owner;

--
-- Name: archive_notifications(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.archive_notifications(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._notification_mark(p_ids, 'archive')
$$;


ALTER FUNCTION api.archive_notifications(p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: authenticate_stream_ticket(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.authenticate_stream_ticket(p_ticket_id uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select exists (
        select
        from app.stream_tickets as t
        where
            app._is_service()
            and t.id = p_ticket_id
            and app._api_token_is_live(t.org_id, t.token_id)
    )
$$;


ALTER FUNCTION api.authenticate_stream_ticket(p_ticket_id uuid) OWNER TO intime_owner;

--
-- Name: authenticate_token(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.authenticate_token(p_token text) RETURNS TABLE(org_id uuid, user_id uuid, token_id uuid)
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
        t.token_hash = app._secret_hash(p_token)
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


ALTER FUNCTION api.authenticate_token(p_token text) OWNER TO intime_owner;

--
-- Name: cancel_execution(uuid, text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.cancel_execution(p_execution_id uuid, p_reason text DEFAULT NULL::text, p_keep_changes boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status in ('completed', 'failed', 'cancelled') then
        raise exception using
            errcode = 'IT013', message = format('execution %s already ended (%s)', p_execution_id, v_exec.status);
    end if;
    if coalesce(p_keep_changes, false) and not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an admin may cancel an execution keeping its changes';
    end if;
    if not coalesce(p_keep_changes, false) and app._wf_withdraw_approval(
        v_exec, coalesce('cancelled: ' || p_reason, 'cancelled')
    ) then
        perform app._wf_log(
            v_exec.org_id, v_exec.id, 'info', 'approval cancelled: its reject path runs',
            jsonb_build_object('by', app.current_user_id(), 'reason', p_reason)
        );
        return;
    end if;
    update app.workflow_executions as e
    set
        status = 'cancelled', waiting_for = null, wake_at = null, completed_at = app.now(),
        updated_at = app.now(), error_message = coalesce('cancelled: ' || p_reason, 'cancelled')
    where e.org_id = v_exec.org_id and e.id = v_exec.id;
    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where a.org_id = v_exec.org_id and a.execution_id = v_exec.id and a.status in ('pending', 'queued');
    delete from app.workflow_entity_locks as l
    where l.org_id = v_exec.org_id and l.execution_id = v_exec.id;
    perform app._wf_log(
        v_exec.org_id, v_exec.id, 'info', 'execution cancelled',
        jsonb_build_object('by', app.current_user_id(), 'reason', p_reason, 'kept_changes', p_keep_changes)
    );
end
$$;


ALTER FUNCTION api.cancel_execution(p_execution_id uuid, p_reason text, p_keep_changes boolean) OWNER TO intime_owner;

--
-- Name: check_sending_domain(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.check_sending_domain(p_domain text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
    v_verified_at timestamptz;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    select d.verified_at into v_verified_at
    from app.sending_domains as d
    where d.org_id = v_org_id and d.domain = v_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', v_domain);
    end if;
    if v_verified_at is not null then
        return 'verified';
    end if;
    perform app._enqueue_job(
        p_entrypoint => 'domains.verify',
        p_payload => jsonb_build_object('org_id', v_org_id, 'domain', v_domain),
        p_dedupe_key => format('domains.verify:%s:%s', v_org_id, v_domain),
        p_skip_duplicate => true
    );
    return 'queued';
end
$$;


ALTER FUNCTION api.check_sending_domain(p_domain text) OWNER TO intime_owner;

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
    v_campaign_gate text;
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

    -- The send is leased to the worker that claimed it (real clock: the lease
    -- is about real time, fake clock or not). That worker may be cut off from
    -- the database while it holds the provider's answer, and records it when
    -- it is back; a second job for the same send (pgqueuer hands a job whose
    -- heartbeat went stale to another worker) waits for the lease instead of
    -- sending again. Checked before anything that could change the row.
    if v_send.status = 'sending' and v_send.sending_until > pg_catalog.clock_timestamp() then
        return query select 'defer',
            extract(epoch from v_send.sending_until - pg_catalog.clock_timestamp())::double precision,
            v_send.id, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, v_send.attempts;
        return;
    end if;

    -- A campaign step's email waits while its campaign is paused and is not
    -- sent once its enrollment stopped (a reply, a bounce, an unsubscribe,
    -- unenrolled, the campaign completed) after it was queued.
    if v_send.enrollment_id is not null then
        select
            case
                when e.status in ('stopped', 'replied', 'bounced', 'unsubscribed')
                    or c.status in ('completed', 'archived') then 'stop'
                when c.status = 'paused' then 'defer'
            end
        into v_campaign_gate
        from app.campaign_enrollments as e
        inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
        where e.org_id = v_org_id and e.id = v_send.enrollment_id;
        -- The enrollment is gone (its contact was deleted): nothing to send to.
        if not found then
            v_campaign_gate := 'stop';
        end if;
        if v_campaign_gate = 'defer' then
            return query select 'defer', 600::double precision, v_send.id, null::text,
                null::text, null::text, null::text, null::text, null::text, null::text,
                null::text, null::text, null::text, null::text, v_send.attempts;
            return;
        end if;
        if v_campaign_gate = 'stop' then
            update app.email_sends as s
            set status = 'suppressed', suppression_reason = 'enrollment_stopped',
                updated_at = app.now()
            where s.org_id = v_org_id and s.id = v_send.id;
            return query select 'suppressed', 0::double precision, v_send.id, null::text,
                null::text, null::text, null::text, null::text, null::text, null::text,
                null::text, null::text, null::text, null::text, v_send.attempts;
            return;
        end if;
    end if;

    v_reason := app._email_suppression_reason(v_org_id, v_send.to_email, v_send.category);
    if v_reason is not null then
        update app.email_sends as s
        set status = 'suppressed', suppression_reason = v_reason, updated_at = app.now()
        where s.org_id = v_org_id and s.id = v_send.id;
        return query select 'suppressed', 0::double precision, v_send.id, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, null::text, v_send.attempts;
        return;
    end if;

    -- Mail goes out only from a domain the org verified (docs/email.md, "Sending
    -- domains"): one no longer verified (or never: settings older than the
    -- check) ends the send failed, with the reason, and nothing is sent. The
    -- outbox sends nothing out and takes a claimed domain.
    v_reason := coalesce(
        app._email_domain_refusal(
            v_org_id, lower(split_part(v_send.from_email, '@', 2)), v_send.provider
        ),
        -- The reply domain too: Reply-To and the Message-ID are on it.
        case when v_send.reply_to is not null then
            app._email_domain_refusal(
                v_org_id, lower(split_part(v_send.reply_to, '@', 2)), v_send.provider
            )
        end
    );
    if v_reason is not null then
        update app.email_sends as s
        set
            status = 'failed', failed_at = app.now(), updated_at = app.now(),
            error = format('not sent: %s', v_reason)
        where s.org_id = v_org_id and s.id = v_send.id;
        return query select 'failed', 0::double precision, v_send.id, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, null::text, v_send.attempts;
        return;
    end if;

    v_wait := app._email_take_send_token(v_org_id);
    if v_wait > 0 then
        return query select 'defer', v_wait, v_send.id, null::text, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, v_send.attempts;
        return;
    end if;

    -- 'sending' again means an earlier attempt died mid-send and its lease
    -- ran out: send again with the same Message-ID and idempotency key.
    update app.email_sends as s
    set
        status = 'sending', attempts = s.attempts + 1, updated_at = app.now(),
        sending_until = pg_catalog.clock_timestamp() + make_interval(
            secs => (select t.email_send_lease_seconds from app.settings as t)
        )
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
-- Name: claim_stream_ticket(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.claim_stream_ticket(p_ticket text) RETURNS TABLE(org_id uuid, user_id uuid, ticket_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
begin
    perform app._require_service();
    return query
    update app.stream_tickets as t
    set used_at = app.now()
    where
        t.ticket_hash = app._secret_hash(p_ticket)
        and t.used_at is null
        and t.expires_at > app.now()
        and app._api_token_is_live(t.org_id, t.token_id)
    returning t.org_id, t.user_id, t.id;
    if not found then
        raise exception using
            errcode = 'IT007', message = 'invalid, used or expired stream ticket';
    end if;
end
$$;


ALTER FUNCTION api.claim_stream_ticket(p_ticket text) OWNER TO intime_owner;

--
-- Name: claim_webhook(uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.claim_webhook(p_action_id uuid, p_org_id uuid DEFAULT NULL::uuid) RETURNS TABLE(action text, url text, headers jsonb, body text, msg_id text, secrets text[], attempt integer, retry_after_seconds double precision)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid;
    v_action app.workflow_actions%rowtype;
    v_settings app.webhook_settings%rowtype;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select a.* into v_action from app.workflow_actions as a
    where a.org_id = v_org_id and a.id = p_action_id and a.action_type = 'webhook'
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('webhook action %s not found', p_action_id);
    end if;
    if v_action.status not in ('pending', 'running') then
        return query select
            'done', null::text, null::jsonb, null::text, null::text, null::text [], 0,
            0::double precision;
        return;
    end if;
    -- Another worker claimed it and its lease (real clock) is live: it may hold
    -- the receiver's answer while cut off from the database. Not a second POST.
    if v_action.status = 'running' and v_action.sending_until > pg_catalog.clock_timestamp() then
        return query select
            'defer', null::text, null::jsonb, null::text, null::text, null::text [],
            v_action.retry_count + 1,
            extract(epoch from v_action.sending_until - pg_catalog.clock_timestamp())::double precision;
        return;
    end if;
    v_settings := app._wf_webhook_settings(v_org_id);
    update app.workflow_actions as a
    set
        status = 'running', started_at = coalesce(a.started_at, app.now()),
        sending_until = pg_catalog.clock_timestamp() + make_interval(
            secs => (select t.webhook_send_lease_seconds from app.settings as t)
        )
    where a.org_id = v_org_id and a.id = p_action_id;
    return query select
        'send',
        v_action.request ->> 'url',
        v_action.request -> 'headers',
        (v_action.request -> 'body')::text,
        'msg_' || replace(v_action.id::text, '-', ''),
        array_remove(array[
            v_settings.secret,
            case when v_settings.previous_valid_until > app.now() then v_settings.previous_secret end
        ], null),
        v_action.retry_count + 1,
        0::double precision;
end
$$;


ALTER FUNCTION api.claim_webhook(p_action_id uuid, p_org_id uuid) OWNER TO intime_owner;

--
-- Name: complete_action(uuid, jsonb, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.complete_action(p_action_id uuid, p_result jsonb DEFAULT '{}'::jsonb, p_org_id uuid DEFAULT NULL::uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return app._wf_action_finished(
        coalesce(p_org_id, app._require_org()), p_action_id, true, coalesce(p_result, '{}')
    );
end
$$;


ALTER FUNCTION api.complete_action(p_action_id uuid, p_result jsonb, p_org_id uuid) OWNER TO intime_owner;

--
-- Name: complete_campaign(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.complete_campaign(p_campaign_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_count integer;
begin
    if v_c.status not in ('draft', 'active', 'paused') then
        raise exception using
            errcode = 'IT013', message = format('campaign is already %s', v_c.status);
    end if;
    update app.campaigns as c
    set status = 'completed', completed_at = app.now(), updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    with stopped as (
        update app.campaign_enrollments as e
        set
            status = 'stopped', stop_reason = 'campaign_completed', next_step_at = null,
            updated_at = app.now()
        where
            e.org_id = v_c.org_id and e.campaign_id = v_c.id
            and e.status in ('active', 'paused')
        returning e.org_id, e.campaign_id, e.id, e.current_step
    )

    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    select s.org_id, s.campaign_id, s.id, s.current_step, 'none', 'stopped', 'campaign completed'
    from stopped as s;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;


ALTER FUNCTION api.complete_campaign(p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: count_unread_notifications(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.count_unread_notifications() RETURNS bigint
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


ALTER FUNCTION api.count_unread_notifications() OWNER TO intime_owner;

--
-- Name: count_unread_notifications_for(uuid[], uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]) RETURNS TABLE(org_id uuid, user_id uuid, unread bigint)
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


ALTER FUNCTION api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]) OWNER TO intime_owner;

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
        app._secret_hash(v_token), p_expires_at
    )
    returning id into v_token_id;

    return query select v_token_id, v_token;
end
$$;


ALTER FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) OWNER TO intime_owner;

--
-- Name: create_campaign(text, text, uuid, time without time zone, time without time zone, text[], text, boolean, integer, text, integer, numeric, boolean, interval); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_campaign(p_name text, p_description text DEFAULT NULL::text, p_owner_id uuid DEFAULT NULL::uuid, p_send_window_start time without time zone DEFAULT '09:00:00'::time without time zone, p_send_window_end time without time zone DEFAULT '17:00:00'::time without time zone, p_send_days text[] DEFAULT ARRAY['mon'::text, 'tue'::text, 'wed'::text, 'thu'::text, 'fri'::text], p_timezone text DEFAULT 'America/New_York'::text, p_use_contact_timezone boolean DEFAULT false, p_daily_send_limit integer DEFAULT NULL::integer, p_ab_metric text DEFAULT 'reply'::text, p_ab_min_sample_per_variant integer DEFAULT 100, p_ab_alpha numeric DEFAULT 0.05, p_ab_auto_select boolean DEFAULT true, p_ab_metric_window interval DEFAULT '3 days'::interval) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_owner uuid := coalesce(p_owner_id, app.current_user_id());
    v_id uuid := gen_random_uuid();
begin
    if v_owner is null then
        raise exception using
            errcode = 'IT005', message = 'a campaign needs an owner: give p_owner_id';
    end if;
    if p_owner_id is not null and p_owner_id is distinct from app.current_user_id()
        and not app._has_permission('campaigns.manage_any') then
        raise exception using
            errcode = 'IT003',
            message = 'only a holder of campaigns.manage_any may create a campaign for someone else';
    end if;
    if not exists (
        select from app.user_profiles as u
        where u.org_id = v_org_id and u.id = v_owner and u.is_active
    ) then
        raise exception using
            errcode = 'IT004', message = format('user %s not found', v_owner);
    end if;
    if coalesce(length(btrim(p_name)), 0) not between 1 and 200 then
        raise exception using
            errcode = 'IT005', message = 'a campaign name has 1 to 200 characters';
    end if;
    perform app._campaign_assert_send_window(
        p_window_start => p_send_window_start,
        p_window_end => p_send_window_end,
        p_send_days => p_send_days,
        p_timezone => p_timezone
    );
    perform app._campaign_assert_ab_settings(
        p_metric => p_ab_metric,
        p_min_sample => p_ab_min_sample_per_variant,
        p_alpha => p_ab_alpha,
        p_window => p_ab_metric_window,
        p_daily_limit => p_daily_send_limit
    );
    insert into app.campaigns (
        org_id, id, name, description, owner_id, send_window_start, send_window_end, send_days,
        timezone, use_contact_timezone, daily_send_limit, ab_metric, ab_min_sample_per_variant,
        ab_alpha, ab_auto_select, ab_metric_window, created_by
    )
    values (
        v_org_id, v_id, btrim(p_name), p_description, v_owner, p_send_window_start,
        p_send_window_end, p_send_days, p_timezone, coalesce(p_use_contact_timezone, false),
        p_daily_send_limit, p_ab_metric, p_ab_min_sample_per_variant, p_ab_alpha,
        coalesce(p_ab_auto_select, true), p_ab_metric_window, app.current_user_id()
    );
    return v_id;
end
$$;


ALTER FUNCTION api.create_campaign(p_name text, p_description text, p_owner_id uuid, p_send_window_start time without time zone, p_send_window_end time without time zone, p_send_days text[], p_timezone text, p_use_contact_timezone boolean, p_daily_send_limit integer, p_ab_metric text, p_ab_min_sample_per_variant integer, p_ab_alpha numeric, p_ab_auto_select boolean, p_ab_metric_window interval) OWNER TO intime_owner;

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
-- Name: create_stream_ticket(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_stream_ticket(p_token text) RETURNS TABLE(ticket text, expires_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_auth record;
    -- 244 random bits from two v4 UUIDs (pg_strong_random underneath), as api tokens.
    v_ticket text := 'itst_' || replace(gen_random_uuid()::text, '-', '')
        || replace(gen_random_uuid()::text, '-', '');
    v_expires timestamptz := app.now() + interval '60 seconds';
begin
    perform app._require_service();
    select a.* into v_auth from api.authenticate_token(p_token => p_token) as a;
    -- A browser needs one ticket per (re)connect: more than 10 live unused
    -- ones for one token is a loop or abuse, not a client.
    if (
        select count(*) from app.stream_tickets as t
        where
            t.org_id = v_auth.org_id and t.token_id = v_auth.token_id and t.used_at is null
            and t.expires_at > app.now()
    ) >= 10 then
        raise exception using
            errcode = 'IT016',
            message = 'too many unused stream tickets for this token (10 live at most)',
            hint = 'Use or let expire the tickets already made; each lasts 60 seconds.';
    end if;
    insert into app.stream_tickets (org_id, user_id, token_id, ticket_hash, expires_at)
    values (
        v_auth.org_id, v_auth.user_id, v_auth.token_id,
        app._secret_hash(v_ticket), v_expires
    );
    -- Spent and expired tickets go as new ones are made.
    delete from app.stream_tickets as t where t.expires_at < app.now() - interval '1 hour';
    return query select v_ticket, v_expires;
end
$$;


ALTER FUNCTION api.create_stream_ticket(p_token text) OWNER TO intime_owner;

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
-- Name: create_workflow(text, text, jsonb, text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text DEFAULT NULL::text, p_is_active boolean DEFAULT true) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_id uuid := gen_random_uuid();
begin
    perform app._require_permission('workflows.manage');
    perform app._wf_assert_valid(p_entity_type, p_definition);
    insert into app.workflows (
        org_id, id, name, description, entity_type, is_active, definition, created_by
    )
    values (
        v_org_id, v_id, p_name, p_description, p_entity_type, coalesce(p_is_active, true),
        p_definition, app.current_user_id()
    );
    perform app._wf_store_version(v_org_id, v_id);
    return v_id;
end
$$;


ALTER FUNCTION api.create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text, p_is_active boolean) OWNER TO intime_owner;

--
-- Name: delegate_approval(uuid, uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text DEFAULT NULL::text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row app.workflow_approvals%rowtype := app._wf_my_approval(p_approval_id);
    v_id uuid;
begin
    -- Never to a subject of the request: nobody approves their own change.
    if p_to_user is null or p_to_user = v_row.approver_id or exists (
        select from app.workflow_executions as e
        where
            e.org_id = v_row.org_id and e.id = v_row.execution_id
            and p_to_user = any(app._wf_approval_subjects(e))
    ) or not exists (
        select from app.user_profiles as u
        where u.org_id = v_row.org_id and u.id = p_to_user and u.is_active
    ) then
        raise exception using
            errcode = 'IT005', message = format('cannot delegate to %s', coalesce(p_to_user::text, 'nobody'));
    end if;
    update app.workflow_approvals as a
    set
        status = 'delegated', delegated_to = p_to_user, delegated_at = app.now(),
        delegation_reason = p_reason, updated_at = app.now()
    where a.org_id = v_row.org_id and a.id = v_row.id;
    insert into app.workflow_approvals (
        org_id, execution_id, step_id, approver_id, approver_type, status, due_at, slot,
        sequence_order, is_parallel, source_approval_id
    )
    values (
        v_row.org_id, v_row.execution_id, v_row.step_id, p_to_user, 'delegate', 'pending',
        v_row.due_at, v_row.slot, v_row.sequence_order, v_row.is_parallel, v_row.id
    )
    returning id into v_id;
    perform app._wf_log(
        v_row.org_id, v_row.execution_id, 'info',
        format('approval delegated to %s', app._wf_user_name(v_row.org_id, p_to_user)),
        jsonb_build_object('from', v_row.approver_id, 'reason', p_reason, 'approval_id', v_id),
        v_row.step_id
    );
    perform app._wf_notify_approvers(v_row.org_id, array[v_id]);
    return v_id;
end
$$;


ALTER FUNCTION api.delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text) OWNER TO intime_owner;

--
-- Name: delete_workflow(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.delete_workflow(p_workflow_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
begin
    perform app._require_permission('workflows.manage');
    update app.workflows as w
    set deleted_at = app.now(), is_active = false, updated_by = app.current_user_id()
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
end
$$;


ALTER FUNCTION api.delete_workflow(p_workflow_id uuid) OWNER TO intime_owner;

--
-- Name: enroll_contacts(uuid, uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_c app.campaigns%rowtype;
    v_now timestamptz := app.now();
    v_first app.campaign_sequences%rowtype;
    v_needs_email boolean;
    v_ab_variants jsonb;
    v_result jsonb;
    v_repeats integer;
begin
    -- Any member may enroll into a campaign of the org; the lock orders
    -- concurrent enrollments (a contact is enrolled once).
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if v_c.status not in ('draft', 'active', 'paused') then
        raise exception using
            errcode = 'IT013',
            message = format('campaign is %s: no new enrollments', v_c.status);
    end if;
    if cardinality(p_contact_ids) > 100000 then
        raise exception using
            errcode = 'IT005', message = 'enroll at most 100,000 contacts per call';
    end if;
    select s.* into v_first
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
    order by s.step_number
    limit 1;
    v_needs_email := exists (
        select from app.campaign_sequences as s
        where
            s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
            and s.channel = 'email'
    );
    select s.ab_variants into v_ab_variants
    from app.campaign_sequences as s
    where
        s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
        and s.ab_variants is not null
    order by s.step_number
    limit 1;

    -- A contact listed twice is enrolled once; the repeats count as already enrolled.
    select count(i.contact_id) - count(distinct i.contact_id) into v_repeats
    from unnest(coalesce(p_contact_ids, '{}')) as i (contact_id);

    with input as (
        select distinct i.contact_id
        from unnest(coalesce(p_contact_ids, '{}')) as i (contact_id)
        where i.contact_id is not null
    ),

    classified as (
        select
            i.contact_id,
            k.timezone,
            case
                when k.id is null or k.deleted_at is not null then 'not_found'
                -- EXISTS, not a join: a join was planned as a nested loop over
                -- the campaign's enrollments (quadratic as a campaign fills).
                when exists (
                    select
                    from app.campaign_enrollments as e
                    where
                        e.org_id = v_org_id and e.campaign_id = v_c.id
                        and e.contact_id = i.contact_id
                ) then 'already_enrolled'
                when k.status = 'do_not_contact' then 'do_not_contact'
                when v_needs_email and nullif(btrim(k.email), '') is null then 'no_email'
                when v_needs_email and exists (
                    select from app.suppressions as s
                    where
                        s.org_id = v_org_id and s.email = lower(k.email)
                        and s.reason = 'unsubscribe'
                ) then 'unsubscribed'
                when v_needs_email and exists (
                    select from app.suppressions as s
                    where s.org_id = v_org_id and s.email = lower(k.email)
                ) then 'suppressed'
                else 'enrolled'
            end as reason
        from input as i
        left join app.contacts as k on k.org_id = v_org_id and k.id = i.contact_id
    ),

    zones as (
        -- One window computation per distinct zone.
        select
            z.zone,
            app._campaign_next_send_time(
                -- Calendar days in the zone, then elapsed hours and minutes.
                p_ts => ((v_now at time zone z.zone) + make_interval(
                    days => coalesce(v_first.delay_days, 0)
                )) at time zone z.zone + make_interval(
                    hours => coalesce(v_first.delay_hours, 0),
                    mins => coalesce(v_first.delay_minutes, 0)
                ),
                p_timezone => z.zone,
                p_window_start => v_c.send_window_start,
                p_window_end => v_c.send_window_end,
                p_send_days => v_c.send_days
            ) as first_at
        from (
            select distinct
                app._campaign_timezone(
                    p_contact_timezone => c.timezone,
                    p_campaign_timezone => v_c.timezone,
                    p_use_contact => v_c.use_contact_timezone
                ) as zone
            from classified as c
            where c.reason = 'enrolled'
        ) as z
    ),

    fresh as (
        select c.contact_id, gen_random_uuid() as id, c.timezone
        from classified as c
        where c.reason = 'enrolled'
    ),

    inserted as (
        insert into app.campaign_enrollments (
            org_id, id, campaign_id, contact_id, status, stop_reason, next_step_at, ab_variant,
            enrolled_by, enrolled_at
        )
        select
            v_org_id, f.id, v_c.id, f.contact_id,
            case when v_c.status = 'active' then 'active' else 'paused' end,
            case when v_c.status = 'active' then null else 'campaign_paused' end,
            z.first_at,
            app._campaign_ab_pick_variant(f.id, v_ab_variants),
            app.current_user_id(), v_now
        from fresh as f
        inner join zones as z
            on z.zone = app._campaign_timezone(
                p_contact_timezone => f.timezone,
                p_campaign_timezone => v_c.timezone,
                p_use_contact => v_c.use_contact_timezone
            )
        on conflict (org_id, campaign_id, contact_id) do nothing
        returning 1
    )

    select jsonb_build_object(
        'enrolled', (select count(*) from inserted),
        'already_enrolled',
        (select count(*) from classified where reason = 'already_enrolled')
        + (select count(*) from fresh) - (select count(*) from inserted) + v_repeats,
        'not_found', count(*) filter (where c.reason = 'not_found'),
        'do_not_contact', count(*) filter (where c.reason = 'do_not_contact'),
        'no_email', count(*) filter (where c.reason = 'no_email'),
        'unsubscribed', count(*) filter (where c.reason = 'unsubscribed'),
        'suppressed', count(*) filter (where c.reason = 'suppressed')
    ) into v_result
    from classified as c;
    return v_result;
end
$$;


ALTER FUNCTION api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]) OWNER TO intime_owner;

--
-- Name: evaluate_ab_test(uuid, integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
begin
    -- Evaluating may select the winner that every later send uses: the
    -- campaign's owner or a holder of campaigns.manage_any (IT003), like api.select_ab_winner.
    perform app._campaign_for_change(p_campaign_id => p_campaign_id);
    return app._campaign_evaluate_ab_test(v_org_id, p_campaign_id, p_step_number);
end
$$;


ALTER FUNCTION api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer) OWNER TO intime_owner;

--
-- Name: evaluate_ab_tests(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.evaluate_ab_tests() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_campaign record;
    v_step integer;
    v_result jsonb;
    v_winners integer := 0;
    v_message text;
    v_state text;
begin
    perform app._require_service();
    for v_campaign in
        select c.org_id, c.id
        from app.campaigns as c
        where
            c.status = 'active' and c.ab_winner_variant is null
            and exists (
                select from app.campaign_sequences as s
                where
                    s.org_id = c.org_id and s.campaign_id = c.id and s.is_active
                    and jsonb_array_length(s.ab_variants) >= 2
            )
        -- Key order, like every other path that locks campaigns.
        order by c.org_id, c.id
    loop
        -- One campaign's bad data never stops the others.
        begin
            for v_step in
                select s.step_number
                from app.campaign_sequences as s
                where
                    s.org_id = v_campaign.org_id and s.campaign_id = v_campaign.id
                    and s.is_active and jsonb_array_length(s.ab_variants) >= 2
                order by s.step_number
            loop
                v_result := app._campaign_evaluate_ab_test(v_campaign.org_id, v_campaign.id, v_step);
                if (v_result ->> 'already_selected')::boolean then
                    exit;
                end if;
                if v_result ->> 'outcome' = 'winner' then
                    v_winners := v_winners + 1;
                    exit;
                end if;
            end loop;
        exception when others then
            get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
            raise warning 'A/B evaluation of campaign % (org %) failed: % (%)',
                v_campaign.id, v_campaign.org_id, v_message, v_state;
        end;
    end loop;
    return v_winners;
end
$$;


ALTER FUNCTION api.evaluate_ab_tests() OWNER TO intime_owner;

--
-- Name: fail_action(uuid, text, boolean, double precision, jsonb, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.fail_action(p_action_id uuid, p_error text, p_permanent boolean DEFAULT false, p_retry_after_seconds double precision DEFAULT NULL::double precision, p_result jsonb DEFAULT '{}'::jsonb, p_org_id uuid DEFAULT NULL::uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return app._wf_action_finished(
        coalesce(p_org_id, app._require_org()), p_action_id, false, coalesce(p_result, '{}'),
        coalesce(p_error, 'action failed'), coalesce(p_permanent, false),
        make_interval(secs => coalesce(p_retry_after_seconds, 0))
    );
end
$$;


ALTER FUNCTION api.fail_action(p_action_id uuid, p_error text, p_permanent boolean, p_retry_after_seconds double precision, p_result jsonb, p_org_id uuid) OWNER TO intime_owner;

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
-- Name: fail_execution(uuid, text, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.fail_execution(p_execution_id uuid, p_error text, p_org_id uuid DEFAULT NULL::uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid;
    v_exec app.workflow_executions%rowtype;
    v_step_id uuid;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    if v_exec.status in ('completed', 'failed', 'cancelled') then
        return v_exec.status;
    end if;
    select s.id into v_step_id from app.workflow_steps as s
    where s.org_id = v_org_id and s.execution_id = p_execution_id and s.status = 'running'
    order by s.started_at desc nulls last
    limit 1;
    perform app._wf_fail_step(
        v_org_id, p_execution_id, v_step_id,
        coalesce(nullif(btrim(p_error), ''), 'the run failed'), null, true
    );
    return 'failed';
end
$$;


ALTER FUNCTION api.fail_execution(p_execution_id uuid, p_error text, p_org_id uuid) OWNER TO intime_owner;

--
-- Name: get_actor(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_actor() RETURNS TABLE(org_id uuid, user_id uuid, email text, full_name text, role text, via text)
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


ALTER FUNCTION api.get_actor() OWNER TO intime_owner;

--
-- Name: get_campaign_stats(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_campaign_stats(p_campaign_id uuid) RETURNS TABLE(scope text, step_number integer, channel text, ab_variant text, enrolled integer, sent integer, delivered integer, opened integer, clicked integer, replied integer, bounced integer, unsubscribed integer, completed integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_c app.campaigns%rowtype;
begin
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    return query
    with logs as (
        select l.sequence_id, l.status, l.ab_variant, l.email_send_id
        from app.campaign_sequence_logs as l
        where l.org_id = v_org_id and l.campaign_id = p_campaign_id
        union all
        select l.sequence_id, l.status, l.ab_variant, l.email_send_id
        from app.campaign_sequence_logs_archive as l
        where l.org_id = v_org_id and l.campaign_id = p_campaign_id
    ),

    steps as (
        select
            s.step_number, s.channel, l.ab_variant,
            count(*) filter (where l.status = 'sent') as sent,
            count(*) filter (
                where l.status = 'sent' and (
                    m.delivered_at is not null or m.status in ('delivered', 'opened', 'clicked')
                )
            ) as delivered,
            count(*) filter (
                where l.status = 'sent'
                and (m.first_opened_at is not null or m.first_clicked_at is not null)
            ) as opened,
            count(*) filter (where l.status = 'sent' and m.first_clicked_at is not null)
                as clicked,
            count(*) filter (where l.status = 'sent' and m.replied_at is not null) as replied,
            count(*) filter (where l.status = 'sent' and m.status = 'bounced') as bounced,
            count(*) filter (where l.status in ('sent', 'skipped', 'completed')) as completed
        from app.campaign_sequences as s
        -- Only the tick's step runs carry the step's id: the stop lines of
        -- replies, bounces and suppressions don't count as runs.
        left join logs as l
            on l.sequence_id = s.id and l.status in ('sent', 'skipped', 'completed')
        left join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
        where s.org_id = v_org_id and s.campaign_id = p_campaign_id
        group by grouping sets ((s.step_number, s.channel), (s.step_number, s.channel, l.ab_variant))
        having grouping(l.ab_variant) = 1 or l.ab_variant is not null
    ),

    unsubscribed as (
        select e.current_step, e.ab_variant, count(*) as n
        from app.campaign_enrollments as e
        where
            e.org_id = v_org_id and e.campaign_id = p_campaign_id
            and e.status = 'unsubscribed'
        group by grouping sets ((e.current_step), (e.current_step, e.ab_variant))
    )

    select
        'campaign', null::integer, null::text, null::text, v_c.total_enrolled, v_c.total_sent,
        (select count(*)::integer from logs as l
            inner join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
            where l.status = 'sent'
            and (m.delivered_at is not null or m.status in ('delivered', 'opened', 'clicked'))),
        v_c.total_opened, v_c.total_clicked, v_c.total_replied, v_c.total_bounced,
        v_c.total_unsubscribed, v_c.total_completed
    union all
    select
        case when s.ab_variant is null then 'step' else 'variant' end,
        s.step_number, s.channel, s.ab_variant, null::integer, s.sent::integer,
        s.delivered::integer, s.opened::integer, s.clicked::integer, s.replied::integer,
        s.bounced::integer, coalesce(u.n, 0)::integer, s.completed::integer
    from steps as s
    left join unsubscribed as u
        on u.current_step = s.step_number and u.ab_variant is not distinct from s.ab_variant
    order by 2 nulls first, 4 nulls first;
end
$$;


ALTER FUNCTION api.get_campaign_stats(p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: get_email_stats(text, uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_email_stats(p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_template_id uuid DEFAULT NULL::uuid) RETURNS TABLE(sent bigint, delivered bigint, opened bigint, clicked bigint, replied bigint, bounced bigint, complained bigint, open_rate numeric, click_rate numeric, bounce_rate numeric)
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


ALTER FUNCTION api.get_email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) OWNER TO intime_owner;

--
-- Name: get_enrollment_timeline(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_enrollment_timeline(p_enrollment_id uuid) RETURNS TABLE(at timestamp with time zone, step_number integer, channel text, status text, detail text, ab_variant text, email_status text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if not exists (
        select from app.campaign_enrollments as e
        where e.org_id = v_org_id and e.id = p_enrollment_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    return query
    select
        l.created_at, l.step_number, l.channel, l.status, l.detail, l.ab_variant, m.status
    from (
        select
            l.created_at, l.id, l.step_number, l.channel, l.status, l.detail, l.ab_variant,
            l.email_send_id
        from app.campaign_sequence_logs as l
        where l.org_id = v_org_id and l.enrollment_id = p_enrollment_id
        union all
        select
            l.created_at, l.id, l.step_number, l.channel, l.status, l.detail, l.ab_variant,
            l.email_send_id
        from app.campaign_sequence_logs_archive as l
        where l.org_id = v_org_id and l.enrollment_id = p_enrollment_id
    ) as l
    left join app.email_sends as m on m.org_id = v_org_id and m.id = l.email_send_id
    order by l.created_at, l.id;
end
$$;


ALTER FUNCTION api.get_enrollment_timeline(p_enrollment_id uuid) OWNER TO intime_owner;

--
-- Name: get_execution_timeline(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_execution_timeline(p_execution_id uuid) RETURNS TABLE(occurred_at timestamp with time zone, kind text, name text, status text, message text, detail jsonb)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if not exists (
        select from app.workflow_executions as e where e.org_id = v_org_id and e.id = p_execution_id
    ) then
        raise exception using errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    return query
    select x.at, x.kind, x.name, x.status, x.message, x.detail
    from (
        select
            e.created_at as at, 'log' as kind, 'info' as name, null as status,
            'execution queued' as message,
            jsonb_build_object(
                'trigger_type', e.trigger_type, 'trigger', e.trigger_event,
                'version', e.workflow_version, 'depth', e.depth
            ) as detail,
            -1 as rank, 0::bigint as seq
        from app.workflow_executions as e
        where e.org_id = v_org_id and e.id = p_execution_id
        union all
        select
            s.created_at as at, 'step' as kind, s.step_name as name, s.status,
            format('%s #%s', s.step_kind, s.position) as message,
            jsonb_build_object(
                'attempts', s.attempts, 'completed_at', s.completed_at, 'result', s.result,
                'error', s.error_message
            ) as detail,
            0 as rank, 0::bigint as seq
        from app.workflow_steps as s
        where s.org_id = v_org_id and s.execution_id = p_execution_id
        union all
        select
            a.created_at, 'action', a.action_type, a.status, a.error_message,
            jsonb_build_object('retries', a.retry_count, 'result', a.result, 'completed_at', a.completed_at),
            1, 0
        from app.workflow_actions as a
        where a.org_id = v_org_id and a.execution_id = p_execution_id
        union all
        select
            a.created_at, 'approval', u.full_name, a.status, a.response_notes,
            jsonb_build_object(
                'approval_id', a.id, 'slot', a.slot, 'approver_type', a.approver_type,
                'due_at', a.due_at, 'responded_at', a.responded_at,
                'escalated_at', a.escalated_at, 'escalation_reason', a.escalation_reason,
                'delegated_to', a.delegated_to
            ),
            2, 0
        from app.workflow_approvals as a
        inner join app.user_profiles as u on u.org_id = a.org_id and u.id = a.approver_id
        where a.org_id = v_org_id and a.execution_id = p_execution_id
        union all
        select l.occurred_at, 'log', l.level, null, l.message, l.data, 3, l.seq
        from app.workflow_execution_logs as l
        where l.org_id = v_org_id and l.execution_id = p_execution_id
    ) as x
    order by x.at, x.rank, x.seq;
end
$$;


ALTER FUNCTION api.get_execution_timeline(p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: get_notification_feed_head(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_notification_feed_head() RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return coalesce((select max(n.seq) from app.notifications as n), 0);
end
$$;


ALTER FUNCTION api.get_notification_feed_head() OWNER TO intime_owner;

--
-- Name: get_permission(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_permission(p_permission text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._has_permission(p_permission)
$$;


ALTER FUNCTION api.get_permission(p_permission text) OWNER TO intime_owner;

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
    cross join lateral app._notification_effective_preference(v_org_id, v_user_id, c.category) as e
    order by c.category <> '*', c.category;
end
$$;


ALTER FUNCTION api.get_preferences() OWNER TO intime_owner;

--
-- Name: get_webhook_signing_secret(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_webhook_signing_secret() RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
begin
    perform app._require_permission('webhook_settings.manage');
    return (app._wf_webhook_settings(v_org_id)).secret;
end
$$;


ALTER FUNCTION api.get_webhook_signing_secret() OWNER TO intime_owner;

--
-- Name: get_workflow_instance(uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid) RETURNS TABLE(instance_id uuid, state text, status text, locked boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select
        i.id, s.name, i.status,
        exists (
            select from app.workflow_entity_locks as l
            where l.org_id = i.org_id and l.entity_type = i.entity_type and l.entity_id = i.entity_id
        )
    from app.workflow_instances as i
    left join app.workflow_states as s on s.org_id = i.org_id and s.id = i.current_state_id
    where i.org_id = app._require_org() and i.workflow_id = p_workflow_id and i.entity_id = p_entity_id
$$;


ALTER FUNCTION api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid) OWNER TO intime_owner;

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
    perform app._email_lock_provider_message(v_message_id);
    select s.org_id, s.id into v_org_id, v_send_id
    from app.email_sends as s
    where s.provider_message_id = v_message_id;
    if not found then
        insert into app.email_events_pending (provider_event_id, provider_message_id, payload)
        values (p_provider_event_id, v_message_id, p_payload);
        return 'pending';
    end if;
    perform app._email_apply_event(v_org_id, v_send_id, p_provider_event_id, p_payload, app.now());
    return 'applied';
end
$$;


ALTER FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) OWNER TO intime_owner;

--
-- Name: list_my_approvals(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.list_my_approvals() RETURNS TABLE(approval_id uuid, execution_id uuid, title text, entity_type text, entity_id uuid, requested_at timestamp with time zone, due_at timestamp with time zone, approver_type text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select a.id, a.execution_id, s.result ->> 'title', e.entity_type, e.entity_id, a.requested_at,
        a.due_at, a.approver_type
    from app.workflow_approvals as a
    inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
    left join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
    where
        a.org_id = app._require_org() and a.approver_id = app.current_user_id()
        and a.status = 'pending'
    order by a.requested_at
$$;


ALTER FUNCTION api.list_my_approvals() OWNER TO intime_owner;

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
-- Name: list_role_permissions(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.list_role_permissions() RETURNS TABLE(permission text, description text, admin boolean, manager boolean, member boolean, manager_default boolean, member_default boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select
        p.name, p.description, true,
        coalesce(m.granted, 'manager' = any(p.default_roles)),
        coalesce(r.granted, 'member' = any(p.default_roles)),
        'manager' = any(p.default_roles),
        'member' = any(p.default_roles)
    from app.permissions as p
    left join app.role_permissions as m
        on m.org_id = app._require_org() and m.role = 'manager' and m.permission = p.name
    left join app.role_permissions as r
        on r.org_id = app._require_org() and r.role = 'member' and r.permission = p.name
    order by p.name
$$;


ALTER FUNCTION api.list_role_permissions() OWNER TO intime_owner;

--
-- Name: list_sending_domains(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.list_sending_domains() RETURNS SETOF app.sending_domain_record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select * from app._email_domain_records(app._require_org())
$$;


ALTER FUNCTION api.list_sending_domains() OWNER TO intime_owner;

--
-- Name: list_unsettled_work(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.list_unsettled_work() RETURNS TABLE(kind text, org_id uuid, id uuid, status text, job_status text, waiting_until timestamp with time zone, since timestamp with time zone)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
begin
    perform app._require_service();
    return query
    with jobs as materialized (
        -- One row per dedupe key: a live job before a held failed one.
        select distinct on (j.dedupe_key) j.dedupe_key, j.status::text as status
        from queue.pgqueuer as j
        where j.dedupe_key is not null and j.status in ('queued', 'picked', 'failed')
        order by j.dedupe_key, j.status = 'failed', j.id desc
    ),

    actions as materialized (
        select
            a.org_id, a.id, a.execution_id, a.status, a.created_at,
            coalesce(a.scheduled_at, a.started_at, a.created_at) as since,
            case a.action_type when 'webhook' then wj.status else ej.status end as job_status
        from app.workflow_actions as a
        inner join app.workflow_executions as e
            on
                e.org_id = a.org_id and e.id = a.execution_id
                and e.status in ('pending', 'running', 'waiting', 'paused')
        left join jobs as wj
            on
                a.action_type = 'webhook'
                and wj.dedupe_key = format('webhook.deliver:%s:%s', a.id, a.retry_count)
        left join lateral (
            select s.id
            from app.email_sends as s
            where
                a.action_type = 'send_email' and s.org_id = a.org_id
                and s.workflow_action_id = a.id
            order by s.created_at desc
            limit 1
        ) as es on true
        left join jobs as ej on ej.dedupe_key = 'email.send:' || es.id
        where a.status in ('pending', 'running')
    )

    select 'email', s.org_id, s.id, s.status, jb.status,
        case when s.send_after > app.now() then s.send_after end,
        s.updated_at
    from app.email_sends as s
    left join jobs as jb on jb.dedupe_key = 'email.send:' || s.id
    where s.status in ('queued', 'sending')

    union all

    select 'execution', e.org_id, e.id,
        case when e.status = 'waiting' then 'waiting:' || e.waiting_for else e.status end,
        case when e.waiting_for = 'action' then (
            select a.job_status from actions as a
            where a.org_id = e.org_id and a.execution_id = e.id
            order by a.created_at desc
            limit 1
        ) else j.status::text end,
        case
            when e.waiting_for in ('timer', 'retry') then e.wake_at
            when e.waiting_for = 'approval' then (
                select min(p.due_at) from app.workflow_approvals as p
                where
                    p.org_id = e.org_id and p.execution_id = e.id and p.status = 'pending'
                    and p.escalated_at is null
            )
        end,
        e.updated_at
    from app.workflow_executions as e
    left join queue.pgqueuer as j
        on j.id = e.wake_job_id and j.status in ('queued', 'picked', 'failed')
    where e.status in ('pending', 'running', 'waiting', 'paused')

    union all

    select 'action', a.org_id, a.id, a.status, a.job_status, null::timestamptz, a.since
    from actions as a

    union all

    select 'delivery', d.org_id, d.id, d.status, jb.status,
        case when d.status in ('held', 'digest') then d.deliver_after end,
        d.updated_at
    from app.notification_deliveries as d
    left join jobs as jb on d.status = 'pending' and jb.dedupe_key = 'email.send:' || d.email_send_id
    where d.status in ('pending', 'held', 'digest')

    order by 7, 1, 3;
end
$$;


ALTER FUNCTION api.list_unsettled_work() OWNER TO intime_owner;

--
-- Name: maintain_workflow_logs(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.maintain_workflow_logs() RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_settings app.settings%rowtype;
    v_month date;
    v_name text;
    v_made text [] := '{}';
    v_expired text [] := '{}';
    v_busy text [] := '{}';
    v_moved bigint := 0;
    v_count bigint;
    v_part record;
    v_first date;
    v_cutoff date;
begin
    perform app._require_service();
    -- One maintainer at a time; a second (or anyone holding the lock) is
    -- not waited for: maintenance runs again tomorrow.
    if not pg_catalog.pg_try_advisory_xact_lock(444770001) then
        return jsonb_build_object('skipped', 'another maintenance run holds the lock');
    end if;
    -- DETACH and ATTACH lock the log table: never queue every log write
    -- behind a long reader. A lock not had in half a second skips the step.
    perform pg_catalog.set_config('lock_timeout', '500ms', true);
    select s.* into v_settings from app.settings as s;
    v_cutoff := (date_trunc('month', app.now() at time zone 'UTC')
        - make_interval(months => v_settings.workflow_log_retention_months))::date;
    -- From this month (or the oldest month the default partition holds, if
    -- earlier and still within the retention).
    select min(date_trunc('month', l.occurred_at at time zone 'UTC'))::date
    into v_first
    from app.workflow_execution_logs_default as l;
    v_first := greatest(
        least(
            coalesce(v_first, date_trunc('month', app.now() at time zone 'UTC')::date),
            date_trunc('month', app.now() at time zone 'UTC')::date
        ),
        v_cutoff
    );

    for v_month in
        select m::date from generate_series(
            v_first,
            date_trunc('month', app.now() at time zone 'UTC')
            + make_interval(months => v_settings.workflow_log_premake_months),
            interval '1 month'
        ) as m
    loop
        v_name := format('workflow_execution_logs_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        continue when to_regclass(format('app.%I', v_name)) is not null;
        begin
            -- Nothing may land in the default partition between the move and the
            -- attach (the attach would then fail its scan of the default).
            lock table app.workflow_execution_logs_default in share row exclusive mode;
            execute format(
                'create table app.%I (like app.workflow_execution_logs including defaults including constraints)',
                v_name
            );
            execute format(
                'with moved as (delete from app.workflow_execution_logs_default '
                'where occurred_at >= $1 and occurred_at < $2 returning *) '
                'insert into app.%I select * from moved',
                v_name
            ) using (v_month::timestamp at time zone 'UTC'), ((v_month + interval '1 month')::timestamp at time zone 'UTC');
            get diagnostics v_count = row_count;
            v_moved := v_moved + v_count;
            execute format(
                'alter table app.workflow_execution_logs attach partition app.%I '
                'for values from (%L) to (%L)',
                v_name, v_month::timestamp at time zone 'UTC',
                (v_month + interval '1 month')::timestamp at time zone 'UTC'
            );
            execute format('alter table app.%I enable row level security', v_name);
            execute format('alter table app.%I force row level security', v_name);
            execute format(
                'create policy tenant_isolation on app.%I '
                'using (org_id = (select app.current_org_id())) '
                'with check (org_id = (select app.current_org_id()))',
                v_name
            );
            v_made := v_made || v_name;
        exception when lock_not_available then
            v_busy := v_busy || v_name;
        end;
    end loop;

    for v_part in
        select c.relname, to_date(substring(c.relname from 'y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') as month
        from pg_catalog.pg_inherits as i
        inner join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where
            i.inhparent = 'app.workflow_execution_logs'::regclass
            and c.relname ~ '^workflow_execution_logs_y[0-9]{4}m[0-9]{2}$'
    loop
        continue when v_part.month + interval '1 month' > v_cutoff;
        begin
            execute format(
                'alter table app.workflow_execution_logs detach partition app.%I', v_part.relname
            );
            if v_settings.workflow_log_expiry = 'drop' then
                execute format('drop table app.%I', v_part.relname);
            end if;
            v_expired := v_expired || v_part.relname::text;
        exception when lock_not_available then
            v_busy := v_busy || v_part.relname::text;
        end;
    end loop;
    -- Rows older than the retention that sat in the default partition.
    delete from app.workflow_execution_logs_default as l
    where l.occurred_at < (v_cutoff::timestamp at time zone 'UTC');
    return jsonb_build_object(
        'created', to_jsonb(v_made), 'expired', to_jsonb(v_expired),
        'expiry', v_settings.workflow_log_expiry, 'moved_from_default', v_moved,
        'skipped_busy', to_jsonb(v_busy)
    );
end
$_$;


ALTER FUNCTION api.maintain_workflow_logs() OWNER TO intime_owner;

--
-- Name: mark_all_notifications_read(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_all_notifications_read() RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._notification_mark(null, 'all_read')
$$;


ALTER FUNCTION api.mark_all_notifications_read() OWNER TO intime_owner;

--
-- Name: mark_notifications_read(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_notifications_read(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._notification_mark(p_ids, 'read')
$$;


ALTER FUNCTION api.mark_notifications_read(p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: mark_notifications_seen(uuid[]); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.mark_notifications_seen(p_ids uuid[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._notification_mark(p_ids, 'seen')
$$;


ALTER FUNCTION api.mark_notifications_seen(p_ids uuid[]) OWNER TO intime_owner;

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
    -- A human SQL login never moves its clock, even where the fake clock is on.
    if not pg_catalog.pg_has_role(session_user, 'intime_service', 'member') then
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
    discount_percent numeric(5,2) DEFAULT 0 NOT NULL,
    CONSTRAINT deals_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT deals_discount_percent_check CHECK (((discount_percent >= (0)::numeric) AND (discount_percent <= (100)::numeric))),
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
-- Name: pause_campaign(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.pause_campaign(p_campaign_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_count integer;
begin
    if v_c.status <> 'active' then
        raise exception using
            errcode = 'IT013',
            message = format('only an active campaign can be paused (this one is %s)', v_c.status);
    end if;
    update app.campaigns as c
    set status = 'paused', updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    update app.campaign_enrollments as e
    set status = 'paused', stop_reason = 'campaign_paused', updated_at = app.now()
    where e.org_id = v_c.org_id and e.campaign_id = v_c.id and e.status = 'active';
    get diagnostics v_count = row_count;
    return v_count;
end
$$;


ALTER FUNCTION api.pause_campaign(p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: pause_execution(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.pause_execution(p_execution_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status not in ('pending', 'running', 'waiting') then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s; only active ones pause', p_execution_id, v_exec.status);
    end if;
    update app.workflow_executions as e
    set status = 'paused', waiting_for = null, paused_at = app.now(), updated_at = app.now()
    where e.org_id = v_exec.org_id and e.id = v_exec.id;
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution paused',
        jsonb_build_object('by', app.current_user_id(), 'was', v_exec.status));
end
$$;


ALTER FUNCTION api.pause_execution(p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: purge_expired_data(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.purge_expired_data(p_limit integer DEFAULT 10000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settings app.settings%rowtype;
    v_now timestamptz := app.now();
    v_inbound integer;
    v_capped integer := 0;
    v_receipts integer;
    v_pending integer;
    v_history integer;
    v_queue_log integer;
    v_queue_stats integer;
    v_send_log integer;
begin
    perform app._require_service();
    if p_limit is null or p_limit < 1 then
        raise exception using errcode = 'IT005', message = 'p_limit must be at least 1';
    end if;
    select s.* into v_settings from app.settings as s;

    -- Each delete is one bounded statement: at most p_limit rows, oldest
    -- first, found through an index on the age column and deleted by their
    -- tuple ids (a TID scan: never a plan that reads the whole table).
    delete from app.inbound_unmatched as u
    where u.ctid = any(array(
        select x.ctid
        from app.inbound_unmatched as x
        where x.received_at < v_now - make_interval(days => v_settings.inbound_unmatched_retention_days)
        order by x.received_at
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_inbound = row_count;

    -- Any internet sender can add unmatched mail: past the row cap the
    -- oldest go, whatever their age (within the same p_limit).
    if v_inbound < p_limit then
        delete from app.inbound_unmatched as u
        where u.ctid = any(array(
            select x.ctid
            from app.inbound_unmatched as x
            order by x.received_at desc
            offset v_settings.inbound_unmatched_max_rows
            limit p_limit - v_inbound
            for update skip locked
        ));
        get diagnostics v_capped = row_count;
    end if;

    delete from app.webhook_receipts as r
    where r.ctid = any(array(
        select x.ctid
        from app.webhook_receipts as x
        where x.received_at < v_now - make_interval(days => v_settings.webhook_receipt_retention_days)
        order by x.received_at
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_receipts = row_count;

    delete from app.email_events_pending as p
    where p.ctid = any(array(
        select x.ctid
        from app.email_events_pending as x
        where
            x.received_at
            < v_now - make_interval(days => v_settings.email_events_pending_retention_days)
        order by x.received_at
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_pending = row_count;

    -- Per org: its own retention, else the default. Each org's oldest rows
    -- come from entity_history_changed_idx (org_id, changed_at).
    delete from app.entity_history as h
    where h.ctid = any(array(
        select x.ctid
        from app.organizations as o
        cross join lateral (
            select e.ctid
            from app.entity_history as e
            where
                e.org_id = o.id
                and e.changed_at < v_now - make_interval(
                    days => coalesce(
                        o.entity_history_retention_days, v_settings.entity_history_retention_days
                    )
                )
            order by e.changed_at
            limit p_limit
        ) as x
        limit p_limit
    ));
    get diagnostics v_history = row_count;

    -- pgqueuer's history, on the real clock (the queue's own): the log rows
    -- of jobs that left the queue (a held job keeps its traceback, which the
    -- sweep reads), and the per-second statistics buckets.
    delete from queue.pgqueuer_log as l
    where l.ctid = any(array(
        select x.ctid
        from queue.pgqueuer_log as x
        where
            x.created < pg_catalog.now() - make_interval(days => v_settings.queue_log_retention_days)
            and not exists (select from queue.pgqueuer as j where j.id = x.job_id)
        order by x.created
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_queue_log = row_count;

    delete from queue.pgqueuer_statistics as t
    where t.ctid = any(array(
        select x.ctid
        from queue.pgqueuer_statistics as x
        where
            x.created
            < pg_catalog.now() - make_interval(days => v_settings.queue_statistics_retention_days)
        order by x.created
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_queue_stats = row_count;

    -- The per-user send rates read the last minute; an hour is kept.
    delete from app.send_log as l
    where l.ctid = any(array(
        select x.ctid
        from app.send_log as x
        where x.sent_at < v_now - interval '1 hour'
        order by x.sent_at
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_send_log = row_count;

    return jsonb_build_object(
        'inbound_unmatched', v_inbound + v_capped,
        'webhook_receipts', v_receipts,
        'email_events_pending', v_pending,
        'entity_history', v_history,
        'queue_log', v_queue_log,
        'queue_statistics', v_queue_stats,
        'send_log', v_send_log
    );
end
$$;


ALTER FUNCTION api.purge_expired_data(p_limit integer) OWNER TO intime_owner;

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

    -- Campaign step emails are written by the campaign tick itself: a send
    -- tied to an enrollment moves it (a reply stops it, opens score it), so
    -- no caller may tie one here.
    if p_enrollment_id is not null then
        raise exception using
            errcode = 'IT003',
            message = 'p_enrollment_id is set by the campaign engine only';
    end if;

    -- Only the workflow engine, inside the run that owns the action, may tie a
    -- send to a workflow action (the send's status resumes that action).
    if p_workflow_action_id is not null and not exists (
        select
        from app._wf_run_context() as c
        inner join app.workflow_actions as a
            on a.org_id = c.org_id and a.execution_id = c.execution_id
        where
            a.id = p_workflow_action_id and a.action_type = 'send_email'
            and a.status in ('pending', 'running')
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'p_workflow_action_id is set by the workflow engine only';
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

    -- A user's own mail is rate-limited (IT016); the engine's (workflow
    -- actions, and any call with no user in context) is not.
    if p_workflow_action_id is null then
        perform app._require_send_rate('email', 1);
    end if;

    return (
        app._email_insert_send(
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
-- Name: recall_approval(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.recall_approval(p_execution_id uuid, p_reason text DEFAULT NULL::text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    -- An admin, the workflow's owner or whoever started it by hand (IT003);
    -- IT004 when not found.
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'waiting' or v_exec.waiting_for <> 'approval' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is not waiting for an approval', p_execution_id);
    end if;
    perform app._wf_withdraw_approval(v_exec, coalesce('recalled: ' || p_reason, 'recalled'));
    perform app._wf_log(
        v_exec.org_id, p_execution_id, 'info', 'approval recalled: its reject path runs',
        jsonb_build_object('by', app.current_user_id(), 'reason', p_reason)
    );
end
$$;


ALTER FUNCTION api.recall_approval(p_execution_id uuid, p_reason text) OWNER TO intime_owner;

--
-- Name: reconcile_in_flight_work(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.reconcile_in_flight_work(p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settings app.settings%rowtype;
    v_grace interval;
    v_emails jsonb;
    v_flows jsonb;
    v_deliveries jsonb;
begin
    perform app._require_service();
    if p_limit is null or p_limit < 1 then
        raise exception using errcode = 'IT005', message = 'p_limit must be at least 1';
    end if;
    if not app._ops_reconcile_lock() then
        return jsonb_build_object('skipped', 'another reconciliation holds the lock');
    end if;
    select s.* into v_settings from app.settings as s;
    v_grace := make_interval(secs => v_settings.reconcile_grace_seconds);
    v_emails := app._ops_reconcile_emails(p_limit, v_grace, v_settings.reconcile_max_rounds);
    v_flows := app._wf_reconcile(p_limit, v_grace, v_settings.reconcile_max_rounds);
    v_deliveries := app._ops_reconcile_deliveries(p_limit, v_grace, v_settings.reconcile_max_rounds);
    return jsonb_build_object(
        'emails_requeued', (v_emails ->> 'requeued')::integer,
        'emails_failed', (v_emails ->> 'failed')::integer,
        'executions_requeued', (v_flows ->> 'woken')::integer + (v_flows ->> 'stalled')::integer,
        'executions_failed', (v_flows ->> 'poisoned')::integer,
        'actions_requeued', (v_flows ->> 'deliveries_requeued')::integer,
        'actions_failed', (v_flows ->> 'deliveries_failed')::integer,
        'deliveries_settled', (v_deliveries ->> 'settled')::integer,
        'deliveries_redriven', (v_deliveries ->> 'redriven')::integer,
        'deliveries_failed', (v_deliveries ->> 'failed')::integer
    );
end
$$;


ALTER FUNCTION api.reconcile_in_flight_work(p_limit integer) OWNER TO intime_owner;

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
    perform app._email_lock_provider_message(p_provider_message_id);
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
        perform app._email_apply_event(
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
-- Name: record_inbound_email(text, text, text[], text, text, text[], text, text, jsonb, text, text, text, text, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[] DEFAULT '{}'::text[], p_subject text DEFAULT NULL::text, p_in_reply_to text DEFAULT NULL::text, p_references text[] DEFAULT '{}'::text[], p_text text DEFAULT NULL::text, p_html text DEFAULT NULL::text, p_headers jsonb DEFAULT '{}'::jsonb, p_provider text DEFAULT 'smtp'::text, p_provider_email_id text DEFAULT NULL::text, p_from_name text DEFAULT NULL::text, p_reply_text text DEFAULT NULL::text, p_dsn jsonb DEFAULT NULL::jsonb) RETURNS TABLE(result text, inbound_id uuid, org_id uuid, matched_send_id uuid, match_method text, is_auto_reply boolean, auto_reply_kind text, bounce text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
#variable_conflict use_column
declare
    v_message_id text := app._email_message_id(p_message_id);
    v_in_reply_to text := app._email_message_id(p_in_reply_to);
    v_headers jsonb := coalesce(p_headers, '{}');
    v_kind text;
    v_reason text;
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
    select c.kind, c.reason into v_kind, v_reason
    from app._email_classify_auto_reply(
        v_headers, p_subject,
        coalesce(p_text, regexp_replace(left(p_html, 20000), '<[^>]*>', ' ', 'g'))
    ) as c;
    if p_dsn is not null and v_kind is distinct from 'bounce' then
        v_kind := 'bounce';
        v_reason := 'delivery status report (' || coalesce(left(p_dsn ->> 'source', 100), '?') || ')';
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
        inner join app.sending_domains as d
            on d.domain = lower(split_part(t.address, '@', 2)) and d.verified_at is not null
    );

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
        last_message_at = app.now()
    returning id into v_thread_id;

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
        p_provider_email_id,
        (
            select s.recipient_user_id from app.email_sends as s
            where s.org_id = v_org_id and s.id = v_send_id
        )
    )
    returning id into v_inbound_id;

    if v_kind is null then
        -- A human reply. An automatic message (an out-of-office, a bounce report, a
        -- ticket acknowledgement) is never one.
        update app.email_sends as s
        set replied_at = coalesce(s.replied_at, app.now()), updated_at = app.now()
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
$_$;


ALTER FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text, p_reply_text text, p_dsn jsonb) OWNER TO intime_owner;

--
-- Name: record_sending_domain_check(uuid, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.record_sending_domain_check(p_org_id uuid, p_domain text, p_error text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._email_require_platform();
    update app.sending_domains as d
    set last_checked_at = app.now(), last_error = left(p_error, 500)
    where d.org_id = p_org_id and d.domain = lower(p_domain);
end
$$;


ALTER FUNCTION api.record_sending_domain_check(p_org_id uuid, p_domain text, p_error text) OWNER TO intime_owner;

--
-- Name: reject_approval(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.reject_approval(p_approval_id uuid, p_notes text DEFAULT NULL::text) RETURNS text
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select app._wf_decide(p_approval_id, 'rejected', p_notes)
$$;


ALTER FUNCTION api.reject_approval(p_approval_id uuid, p_notes text) OWNER TO intime_owner;

--
-- Name: remove_sending_domain(text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.remove_sending_domain(p_domain text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    if exists (
        select from app.email_settings as s
        where
            s.org_id = v_org_id
            and v_domain in (s.reply_domain, lower(split_part(s.from_email, '@', 2)))
    ) then
        raise exception using
            errcode = 'IT013',
            message = format('the domain %s is in use by the email settings', v_domain),
            hint = 'Change the From address and reply domain first (api.set_email_settings).';
    end if;
    delete from app.sending_domains as d where d.org_id = v_org_id and d.domain = v_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', v_domain);
    end if;
end
$$;


ALTER FUNCTION api.remove_sending_domain(p_domain text) OWNER TO intime_owner;

--
-- Name: remove_stream_hub(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.remove_stream_hub(p_hub_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    delete from app.stream_hubs as h where h.hub_id = p_hub_id;
end
$$;


ALTER FUNCTION api.remove_stream_hub(p_hub_id uuid) OWNER TO intime_owner;

--
-- Name: renew_stream_hub(uuid, interval); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.renew_stream_hub(p_hub_id uuid, p_polling_for interval) RETURNS void
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


ALTER FUNCTION api.renew_stream_hub(p_hub_id uuid, p_polling_for interval) OWNER TO intime_owner;

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
-- Name: resume_campaign(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.resume_campaign(p_campaign_id uuid) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
begin
    if v_c.status <> 'paused' then
        raise exception using
            errcode = 'IT013',
            message = format('only a paused campaign can be resumed (this one is %s)', v_c.status);
    end if;
    perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    update app.campaigns as c
    set status = 'active', updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    return app._campaign_release_parked(v_c.org_id, v_c.id);
end
$$;


ALTER FUNCTION api.resume_campaign(p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: resume_enrollment(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.resume_enrollment(p_enrollment_id uuid) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = v_org_id and e.id = p_enrollment_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    v_c := app._campaign_for_change(v_e.campaign_id);
    if v_e.status <> 'paused' or v_e.stop_reason is distinct from 'errors' then
        return false;
    end if;
    -- In a campaign that is not running the enrollment is parked like the
    -- others (the tick only runs active campaigns; an active enrollment of a
    -- paused one would be locked by every tick and never run).
    update app.campaign_enrollments as e
    set
        status = case when v_c.status = 'active' then 'active' else 'paused' end,
        stop_reason = case when v_c.status = 'active' then null else 'campaign_paused' end,
        error_count = 0,
        next_step_at = greatest(coalesce(e.next_step_at, app.now()), app.now()),
        updated_at = app.now()
    where e.org_id = v_org_id and e.id = p_enrollment_id;
    return true;
end
$$;


ALTER FUNCTION api.resume_enrollment(p_enrollment_id uuid) OWNER TO intime_owner;

--
-- Name: resume_execution(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.resume_execution(p_execution_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'paused' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s, not paused', p_execution_id, v_exec.status);
    end if;
    if v_exec.next_retry_at > app.now() then
        -- Paused during a retry's backoff: the backoff still applies.
        update app.workflow_executions as e
        set
            status = 'waiting', waiting_for = 'retry', wake_at = e.next_retry_at, paused_at = null,
            updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
        perform app._wf_schedule_run(v_exec.org_id, v_exec.id, v_exec.next_retry_at);
    else
        update app.workflow_executions as e
        set status = 'running', paused_at = null, updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
        perform app._wf_schedule_run(v_exec.org_id, v_exec.id);
    end if;
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution resumed',
        jsonb_build_object('by', app.current_user_id()));
end
$$;


ALTER FUNCTION api.resume_execution(p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: retry_execution(uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.retry_execution(p_execution_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_exec app.workflow_executions%rowtype := app._wf_controlled(p_execution_id);
begin
    if v_exec.status <> 'failed' then
        raise exception using
            errcode = 'IT013', message = format('execution %s is %s; only failed ones are retried', p_execution_id, v_exec.status);
    end if;
    begin
        update app.workflow_executions as e
        set
            status = 'running', retry_count = 0, completed_at = null, error_message = null,
            error_stack = null, updated_at = app.now()
        where e.org_id = v_exec.org_id and e.id = v_exec.id;
    exception when unique_violation then
        raise exception using
            errcode = 'IT013',
            message = 'another execution of this workflow is active for the entity; retry it later';
    end;
    perform app._wf_schedule_run(v_exec.org_id, v_exec.id);
    perform app._wf_log(v_exec.org_id, v_exec.id, 'info', 'execution retried from its failed step',
        jsonb_build_object('by', app.current_user_id(), 'step_index', v_exec.current_step_index));
end
$$;


ALTER FUNCTION api.retry_execution(p_execution_id uuid) OWNER TO intime_owner;

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
-- Name: revoke_sending_domain(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.revoke_sending_domain(p_org_id uuid, p_domain text) RETURNS SETOF app.sending_domain_record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_domain text := lower(p_domain);
begin
    perform app._email_require_platform();
    return query select * from app._email_mark_domain(
        p_org_id, v_domain, false, 'verification revoked by the platform'
    );
end
$$;


ALTER FUNCTION api.revoke_sending_domain(p_org_id uuid, p_domain text) OWNER TO intime_owner;

--
-- Name: rotate_webhook_secret(); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.rotate_webhook_secret() RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_secret text := app._wf_new_webhook_secret();
begin
    perform app._require_permission('webhook_settings.manage');
    perform app._wf_webhook_settings(v_org_id);
    update app.webhook_settings as s
    set
        previous_secret = s.secret, previous_valid_until = app.now() + interval '24 hours',
        secret = v_secret, rotated_at = app.now()
    where s.org_id = v_org_id;
    return v_secret;
end
$$;


ALTER FUNCTION api.rotate_webhook_secret() OWNER TO intime_owner;

--
-- Name: run_execution(uuid, uuid); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.run_execution(p_execution_id uuid, p_org_id uuid DEFAULT NULL::uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid;
    v_exec app.workflow_executions%rowtype;
    v_type app.entity_types%rowtype;
    v_wf_name text;
    v_steps jsonb;
    v_step jsonb;
    v_row app.workflow_steps%rowtype;
    v_doc jsonb;
    v_vars jsonb;
    v_out jsonb;
    v_result jsonb;
    v_next integer;
    v_message text;
    v_state text;
    v_detail text;
    v_ran integer := 0;
    v_outcome text;
    v_park text;
    v_action_status text;
begin
    perform app._require_service();
    v_org_id := coalesce(p_org_id, app._require_org());
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update skip locked;
    if not found then
        if exists (
            select from app.workflow_executions as e where e.org_id = v_org_id and e.id = p_execution_id
        ) then
            return 'busy';
        end if;
        raise exception using
            errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    if v_exec.status in ('completed', 'failed', 'cancelled', 'paused') then
        return v_exec.status;
    end if;
    if v_exec.status = 'waiting' and (
        v_exec.waiting_for in ('action', 'approval') or v_exec.wake_at > app.now()
    ) then
        return 'waiting';
    end if;

    -- The engine acts as the org's system user from here on; the matcher
    -- trusts intime.wf_execution because run_xid names this transaction.
    perform api.set_actor(p_org_id => v_org_id);
    perform pg_catalog.set_config('intime.wf_execution', v_org_id || ':' || p_execution_id, true);
    update app.workflow_executions as e
    set
        status = 'running', waiting_for = null, wake_at = null, next_retry_at = null,
        started_at = coalesce(e.started_at, app.now()), run_xid = pg_catalog.pg_current_xact_id(),
        runs = e.runs + 1, updated_at = app.now(), execution_context = e.execution_context - 'requeued'
    where e.org_id = v_org_id and e.id = p_execution_id
    returning * into v_exec;
    if v_exec.runs = 1 then
        perform app._wf_log(v_org_id, v_exec.id, 'info', 'execution started', null);
    end if;

    select e.* into v_type from app.entity_types as e where e.entity_type = v_exec.entity_type;
    select w.name into v_wf_name from app.workflows as w
    where w.org_id = v_org_id and w.id = v_exec.workflow_id;
    v_steps := coalesce(
        v_exec.steps,
        (
            select v.definition -> 'steps' from app.workflow_versions as v
            where
                v.org_id = v_org_id and v.workflow_id = v_exec.workflow_id
                and v.version = v_exec.workflow_version
        ),
        '[]'
    );

    loop
        exit when v_exec.current_step_index >= jsonb_array_length(v_steps) or v_ran >= 1000;
        v_ran := v_ran + 1;
        v_step := v_steps -> v_exec.current_step_index;
        v_row := app._wf_step_row(v_exec, v_exec.current_step_index, v_step);

        if v_row.status = 'waiting' then
            -- Parked before: finished now, or park again (a paused execution
            -- resumed early, a timer job that ran ahead of the clock).
            v_park := null;
            v_result := coalesce(v_row.result, '{}');
            if v_step ->> 'type' = 'wait' and v_row.wait_until > app.now() then
                v_park := 'timer';
            elsif v_step ->> 'type' in ('send_email', 'webhook') then
                select a.status into v_action_status from app.workflow_actions as a
                where a.org_id = v_org_id and a.id = (v_result ->> 'action_id')::uuid;
                if v_action_status = 'failed' then
                    v_outcome := app._wf_fail_step(
                        v_org_id, v_exec.id, v_row.id, 'action failed while the execution was paused'
                    );
                    exit;
                elsif v_action_status is distinct from 'completed' then
                    v_park := 'action';
                end if;
            elsif v_step ->> 'type' = 'approval' and not v_result ? 'decision' then
                v_park := 'approval';
            end if;
            if v_park is not null then
                update app.workflow_executions as e
                set
                    status = 'waiting', waiting_for = v_park,
                    wake_at = case when v_park = 'timer' then v_row.wait_until end,
                    updated_at = app.now()
                where e.org_id = v_org_id and e.id = v_exec.id;
                if v_park = 'timer' then
                    perform app._wf_schedule_run(v_org_id, v_exec.id, v_row.wait_until);
                end if;
                v_outcome := 'waiting';
                exit;
            end if;
        else
            v_doc := app._wf_entity_doc(v_org_id, v_exec.entity_type, v_exec.entity_id);
            if v_doc is null and v_exec.trigger_event ? 'row' then
                v_doc := v_exec.trigger_event -> 'row';
            end if;
            v_vars := app._wf_vars(v_exec, v_doc, v_wf_name);
            begin
                update app.workflow_steps as s
                set
                    status = 'running', attempts = s.attempts + 1,
                    started_at = coalesce(s.started_at, app.now()), error_message = null
                where s.org_id = v_org_id and s.id = v_row.id;
                v_out := app._wf_dispatch(v_exec, v_step, v_row.id, v_doc, v_vars, v_type);
            exception when others then
                get stacked diagnostics
                    v_message = message_text, v_state = returned_sqlstate, v_detail = pg_exception_context;
                v_outcome := app._wf_fail_step(
                    v_org_id, v_exec.id, v_row.id, format('%s (%s)', v_message, v_state), v_detail,
                    -- A vanished entity will not come back.
                    v_state = 'IT004' and v_message like '% no longer exists'
                );
                exit;
            end;
            if v_out ? 'park' then
                update app.workflow_steps as s
                set status = 'waiting', result = v_out -> 'result', wait_until = (v_out ->> 'wake_at')::timestamptz
                where s.org_id = v_org_id and s.id = v_row.id;
                update app.workflow_executions as e
                set
                    status = 'waiting', waiting_for = v_out ->> 'park',
                    wake_at = (v_out ->> 'wake_at')::timestamptz, updated_at = app.now()
                where e.org_id = v_org_id and e.id = v_exec.id;
                perform app._wf_log(
                    v_org_id, v_exec.id, 'info',
                    format('step %s waiting for %s', v_step ->> 'name', v_out ->> 'park'),
                    v_out -> 'result', v_row.id
                );
                if v_out ->> 'park' = 'timer' then
                    perform app._wf_schedule_run(v_org_id, v_exec.id, (v_out ->> 'wake_at')::timestamptz);
                end if;
                v_outcome := 'waiting';
                exit;
            end if;
            v_result := coalesce(v_out -> 'result', '{}');
        end if;

        -- The step is done.
        update app.workflow_steps as s
        set status = 'completed', completed_at = app.now(), result = v_result
        where s.org_id = v_org_id and s.id = v_row.id;
        begin
            v_next := app._wf_next_index(v_steps, v_exec.current_step_index, v_step, v_result);
            if v_next is null then
                raise exception using
                    errcode = 'IT012', message = format('step %s jumps to no step', v_step ->> 'name');
            end if;
        exception when others then
            -- A definition that passed validation but cannot go on (an
            -- ambiguous or unknown jump): fail for good, loudly.
            get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
            v_outcome := app._wf_fail_step(
                v_org_id, v_exec.id, v_row.id, format('%s (%s)', v_message, v_state), null, true
            );
            exit;
        end;
        if v_step ->> 'type' = 'approval' and v_result ->> 'decision' = 'rejected'
            and v_step ->> 'on_reject' is null then
            v_outcome := app._wf_fail_step(
                v_org_id, v_exec.id, v_row.id, 'approval rejected', v_result ->> 'notes', true
            );
            exit;
        end if;
        update app.workflow_executions as e
        set
            current_step_index = v_next, retry_count = 0, error_message = null,
            execution_context = jsonb_set(
                e.execution_context, '{steps}',
                coalesce(e.execution_context -> 'steps', '{}')
                || jsonb_build_object(v_step ->> 'name', v_result)
            )
        where e.org_id = v_org_id and e.id = v_exec.id
        returning * into v_exec;
        perform app._wf_log(
            v_org_id, v_exec.id, 'info', format('step %s completed', v_step ->> 'name'), v_result,
            v_row.id
        );
    end loop;

    if v_outcome is null then
        if v_ran >= 1000 then
            v_outcome := app._wf_fail_step(
                v_org_id, v_exec.id, v_row.id, 'more than 1000 steps in one run (a loop?)', null, true
            );
        else
            update app.workflow_executions as e
            set
                status = 'completed', completed_at = app.now(), waiting_for = null, wake_at = null,
                updated_at = app.now()
            where e.org_id = v_org_id and e.id = v_exec.id;
            delete from app.workflow_entity_locks as l
            where l.org_id = v_org_id and l.execution_id = v_exec.id;
            perform app._wf_log(v_org_id, v_exec.id, 'info', 'execution completed', null);
            v_outcome := 'completed';
        end if;
    end if;
    perform pg_catalog.set_config('intime.wf_execution', '', true);
    return v_outcome;
end
$$;


ALTER FUNCTION api.run_execution(p_execution_id uuid, p_org_id uuid) OWNER TO intime_owner;

--
-- Name: select_ab_winner(uuid, text, integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer DEFAULT NULL::integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_owner_id uuid;
    v_step integer;
begin
    select c.owner_id into v_owner_id
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if not (v_owner_id = app.current_user_id() or app._has_permission('campaigns.manage_any')) then
        raise exception using
            errcode = 'IT003',
            message = 'only the campaign''s owner or a holder of campaigns.manage_any may select an A/B winner';
    end if;
    select s.step_number into v_step
    from app.campaign_sequences as s
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(s.ab_variants) = 'array' then s.ab_variants end
    ) as e (value)
    where
        s.org_id = v_org_id and s.campaign_id = p_campaign_id
        and (p_step_number is null or s.step_number = p_step_number)
        and jsonb_typeof(e.value) = 'object' and e.value ->> 'id' = p_variant
    order by s.step_number
    limit 1;
    if not found then
        raise exception using
            errcode = 'IT005',
            message = case
                when p_step_number is null then format(
                    'variant %s is not a variant of any A/B step of campaign %s',
                    p_variant, p_campaign_id
                )
                else format(
                    'variant %s is not a variant of step %s of campaign %s',
                    p_variant, p_step_number, p_campaign_id
                )
            end;
    end if;
    update app.campaigns as c
    set
        ab_winner_variant = p_variant,
        ab_winner_step = v_step,
        ab_winner_stats = jsonb_build_object('manual', true),
        ab_winner_selected_at = app.now(),
        ab_winner_selected_by = app.current_user_id(),
        updated_at = app.now()
    where c.org_id = v_org_id and c.id = p_campaign_id;
    insert into app.campaign_ab_decisions (
        org_id, campaign_id, step_number, metric, outcome, winner_variant, decided_by
    )
    select v_org_id, c.id, v_step, c.ab_metric, 'manual', p_variant, app.current_user_id()
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
end
$$;


ALTER FUNCTION api.select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer) OWNER TO intime_owner;

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
    v_channels text[];
begin
    if p_user_id is null then
        raise exception using errcode = 'IT005', message = 'p_user_id must not be null';
    end if;
    v_channels := app._notification_check_sender(
        array[p_user_id], p_channels, p_critical, p_action_url
    );
    select s.notification_id, s.outcome into v_id, v_outcome
    from app._notification_send(row(
        v_org_id,  -- org_id
        array[p_user_id],  -- user_ids
        p_category,  -- category
        p_template_slug,  -- template_slug
        p_title,  -- title
        p_message,  -- message
        p_variables,  -- variables
        p_type,  -- type
        p_priority,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        v_channels,  -- channels
        p_group_key,  -- group_key
        p_expires_at,  -- expires_at
        p_critical  -- critical
    )::app.notification_request) as s;
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
    v_channels text[] := app._notification_check_sender(
        array(select distinct u.id from unnest(p_user_ids) as u (id)),
        p_channels, p_critical, p_action_url
    );
begin
    return query
    select s.user_id, s.notification_id, s.outcome
    from app._notification_send(row(
        v_org_id,  -- org_id
        p_user_ids,  -- user_ids
        p_category,  -- category
        p_template_slug,  -- template_slug
        p_title,  -- title
        p_message,  -- message
        p_variables,  -- variables
        p_type,  -- type
        p_priority,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        v_channels,  -- channels
        p_group_key,  -- group_key
        p_expires_at,  -- expires_at
        p_critical  -- critical
    )::app.notification_request) as s;
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
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_settings app.email_settings%rowtype;
    v_refusal text;
begin
    perform app._require_permission('email_settings.manage');
    if not coalesce(app._email_is_plain_address(p_from_email), false) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid from address %L', p_from_email),
            hint = 'One plain address: local@domain.tld, no name, comma or encoded word.';
    end if;
    if not coalesce(app._email_is_domain(lower(p_reply_domain)), false) then
        raise exception using
            errcode = 'IT005', message = format('invalid reply domain %L', p_reply_domain);
    end if;
    if p_from_name ~ '[\r\n]' then
        raise exception using errcode = 'IT005', message = 'the from name must be one line';
    end if;
    -- A display name that looks like an address ("Acme Billing <billing@acme.example>")
    -- shows the reader another org's address beside ours.
    if p_from_name ~ '[<>@"]' or length(p_from_name) > 100 then
        raise exception using
            errcode = 'IT005',
            message = format('invalid from name %L', p_from_name),
            hint = 'A name of at most 100 characters, without <, >, @ or double quotes.';
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
    -- Only the org's own domains (docs/email.md, "Sending domains").
    v_refusal := coalesce(
        app._email_domain_refusal(v_org_id, lower(split_part(p_from_email, '@', 2)), p_provider),
        app._email_domain_refusal(v_org_id, lower(p_reply_domain), p_provider)
    );
    if v_refusal is not null then
        raise exception using
            errcode = 'IT005',
            message = v_refusal,
            hint = 'Claim it with api.add_sending_domain, publish its TXT record and call '
            || 'api.check_sending_domain; provider outbox takes a claimed domain not yet verified.';
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
$$;


ALTER FUNCTION api.set_email_settings(p_from_email text, p_reply_domain text, p_from_name text, p_provider text, p_rate_limit_per_minute integer) OWNER TO intime_owner;

--
-- Name: set_entity_history_retention(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.set_entity_history_retention(p_days integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_days integer;
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may change the history retention';
    end if;
    if p_days is not null and p_days not between 30 and 36500 then
        raise exception using
            errcode = 'IT005',
            message = format('the history retention must be 30 to 36500 days, not %s', p_days);
    end if;
    update app.organizations as o
    set entity_history_retention_days = p_days
    where o.id = v_org_id;
    select coalesce(p_days, s.entity_history_retention_days) into v_days from app.settings as s;
    return v_days;
end
$$;


ALTER FUNCTION api.set_entity_history_retention(p_days integer) OWNER TO intime_owner;

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
    perform app._notification_assert_channels(p_channels);
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

    v_base := app._notification_effective_preference(v_org_id, v_user_id, p_category);
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
    perform app._notification_release_held(p_org_id => v_org_id, p_user_id => v_user_id, p_limit => 10000);
    return v_row;
end
$_$;


ALTER FUNCTION api.set_preference(p_category text, p_channels text[], p_frequency text, p_digest_time time without time zone, p_digest_day text, p_quiet_hours_enabled boolean, p_quiet_hours_start time without time zone, p_quiet_hours_end time without time zone, p_quiet_hours_timezone text, p_dnd_enabled boolean, p_dnd_until timestamp with time zone, p_sound_enabled boolean, p_email_unsubscribed boolean, p_org_default boolean) OWNER TO intime_owner;

--
-- Name: set_role_permission(text, text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.set_role_permission(p_role text, p_permission text, p_granted boolean) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
begin
    if p_role is null or p_role not in ('manager', 'member') then
        raise exception using
            errcode = 'IT005',
            message = format('role must be manager or member, not %L', p_role),
            hint = 'Admins hold every permission.';
    end if;
    if not exists (select from app.permissions as p where p.name = p_permission) then
        raise exception using
            errcode = 'IT005', message = format('unknown permission %L', p_permission);
    end if;
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may change what a role may do';
    end if;
    if p_granted is null then
        delete from app.role_permissions as r
        where r.org_id = v_org_id and r.role = p_role and r.permission = p_permission;
        return;
    end if;
    insert into app.role_permissions as r (org_id, role, permission, granted, changed_by, changed_at)
    values (v_org_id, p_role, p_permission, p_granted, app.current_user_id(), app.now())
    on conflict (org_id, role, permission) do update
    set granted = excluded.granted, changed_by = excluded.changed_by,
        changed_at = excluded.changed_at;
end
$$;


ALTER FUNCTION api.set_role_permission(p_role text, p_permission text, p_granted boolean) OWNER TO intime_owner;

--
-- Name: start_workflow(uuid, uuid, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb DEFAULT '{}'::jsonb) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_org_id uuid := app._require_org();
    v_wf app.workflows%rowtype;
    v_table text;
    v_exists boolean;
    v_id uuid;
begin
    select w.* into v_wf from app.workflows as w
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
    if not v_wf.is_active then
        raise exception using errcode = 'IT013', message = format('workflow %s is not active', v_wf.name);
    end if;
    if not exists (
        select from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
        where t.v ->> 'type' = 'manual'
    ) then
        raise exception using
            errcode = 'IT013',
            message = format('workflow %s has no manual trigger', v_wf.name),
            hint = 'Add {"type": "manual"} to its triggers to allow starting it by hand.';
    end if;
    select e.table_name into v_table from app.entity_types as e where e.entity_type = v_wf.entity_type;
    execute format('select exists (select from app.%I where org_id = $1 and id = $2)', v_table)
    into v_exists using v_org_id, p_entity_id;
    if not v_exists then
        raise exception using
            errcode = 'IT004', message = format('%s %s not found', v_wf.entity_type, p_entity_id);
    end if;
    select s.execution_id into v_id
    from app._wf_start(
        p_org_ids => array[v_org_id],
        p_workflow_ids => array[p_workflow_id],
        p_entity_ids => array[p_entity_id],
        p_trigger_events => array[jsonb_build_object('event', 'manual', 'payload', coalesce(p_payload, '{}'))],
        p_trigger_type => 'manual',
        p_triggered_by => app.current_user_id()
    ) as s;
    if v_id is null then
        raise exception using
            errcode = 'IT013',
            message = format(
                'workflow %s is already running for this %s (re-enrollment: %s)',
                v_wf.name, v_wf.entity_type, v_wf.reenrollment
            );
    end if;
    return v_id;
end
$_$;


ALTER FUNCTION api.start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb) OWNER TO intime_owner;

--
-- Name: stop_enrollment(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.stop_enrollment(p_enrollment_id uuid, p_reason text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_e app.campaign_enrollments%rowtype;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = v_org_id and e.id = p_enrollment_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    if v_e.status not in ('active', 'paused') then
        return false;
    end if;
    update app.campaign_enrollments as e
    set
        status = 'stopped',
        stop_reason = coalesce(nullif(btrim(p_reason), ''), 'unenrolled'),
        next_step_at = null,
        updated_at = app.now()
    where e.org_id = v_org_id and e.id = p_enrollment_id;
    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    values (
        v_org_id, v_e.campaign_id, v_e.id, v_e.current_step, 'none', 'stopped',
        'unenrolled: ' || coalesce(nullif(btrim(p_reason), ''), 'no reason given')
    );
    return true;
end
$$;


ALTER FUNCTION api.stop_enrollment(p_enrollment_id uuid, p_reason text) OWNER TO intime_owner;

--
-- Name: tick_campaigns(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.tick_campaigns(p_batch_size integer DEFAULT 1000) RETURNS TABLE(processed integer, sent integer, skipped integer, errored integer, deferred integer, completed integer, stopped integer, more_due boolean, elapsed_ms numeric)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_started timestamptz := clock_timestamp();
    v_now timestamptz := app.now();
    v_org_ids uuid[];
    v_ids uuid[];
    v_counts app.campaign_batch_counts;
    v_one app.campaign_batch_counts;
    v_error text;
begin
    perform app._require_service();
    if p_batch_size is null or p_batch_size not between 1 and 10000 then
        raise exception using errcode = 'IT005', message = 'p_batch_size: 1 to 10,000';
    end if;
    select array_agg(d.org_id), array_agg(d.id) into v_org_ids, v_ids
    from (
        select e.org_id, e.id
        from app.campaign_enrollments as e
        where e.status = 'active' and e.next_step_at <= v_now
        order by e.next_step_at
        limit p_batch_size
        for update skip locked
    ) as d;

    v_counts := row(0, 0, 0, 0, 0, 0, 0);
    if v_ids is not null then
        begin
            v_counts := app._campaign_run_batch(p_now => v_now, p_org_ids => v_org_ids, p_ids => v_ids);
        exception when others then
            -- Something in the batch raised: run it one enrollment at a time so
            -- that one bad row (a trigger, a template) can't hold up the rest.
            for i in 1 .. cardinality(v_ids) loop
                begin
                    v_one := app._campaign_run_batch(
                        p_now => v_now, p_org_ids => array[v_org_ids[i]], p_ids => array[v_ids[i]]
                    );
                    v_counts := row(
                        v_counts.processed + v_one.processed, v_counts.sent + v_one.sent,
                        v_counts.skipped + v_one.skipped, v_counts.errored + v_one.errored,
                        v_counts.deferred + v_one.deferred, v_counts.completed + v_one.completed,
                        v_counts.stopped + v_one.stopped
                    );
                exception when others then
                    get stacked diagnostics v_error = message_text;
                    perform app._campaign_record_error(
                        p_now => v_now, p_org_id => v_org_ids[i], p_id => v_ids[i], p_error => v_error
                    );
                    v_counts.processed := v_counts.processed + 1;
                    v_counts.errored := v_counts.errored + 1;
                end;
            end loop;
        end;
    end if;

    return query select
        v_counts.processed, v_counts.sent, v_counts.skipped, v_counts.errored, v_counts.deferred,
        v_counts.completed, v_counts.stopped,
        exists (
            select from app.campaign_enrollments as e
            where e.status = 'active' and e.next_step_at <= v_now
        ),
        round(extract(epoch from clock_timestamp() - v_started)::numeric * 1000, 1);
end
$$;


ALTER FUNCTION api.tick_campaigns(p_batch_size integer) OWNER TO intime_owner;

--
-- Name: tick_notifications(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.tick_notifications(p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    return app._notification_release_held(p_limit => p_limit)
        || jsonb_build_object('digests', app._notification_send_due_digests(p_limit => p_limit));
end
$$;


ALTER FUNCTION api.tick_notifications(p_limit integer) OWNER TO intime_owner;

--
-- Name: tick_workflows(integer); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.tick_workflows(p_limit integer DEFAULT 1000) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settings app.settings%rowtype;
    v_reconciled jsonb := jsonb_build_object(
        'woken', 0, 'stalled', 0, 'poisoned', 0, 'deliveries_requeued', 0, 'deliveries_failed', 0
    );
    v_escalated integer;
    v_scheduled integer;
begin
    perform app._require_service();
    select s.* into v_settings from app.settings as s;
    -- A reconciliation running at the same time (api.reconcile_in_flight_work, or
    -- another sweep) does this part: skip it rather than queue twice.
    if app._ops_reconcile_lock() then
        v_reconciled := app._wf_reconcile(
            p_limit, make_interval(secs => v_settings.reconcile_grace_seconds),
            v_settings.reconcile_max_rounds
        );
    end if;
    v_escalated := app._wf_escalate_due(p_limit);
    v_scheduled := app._wf_fire_schedules(p_limit);
    return jsonb_build_object(
        'woken', (v_reconciled ->> 'woken')::integer,
        'stalled',
        (v_reconciled ->> 'stalled')::integer + (v_reconciled ->> 'deliveries_requeued')::integer,
        'poisoned',
        (v_reconciled ->> 'poisoned')::integer + (v_reconciled ->> 'deliveries_failed')::integer,
        'escalated', v_escalated,
        'scheduled', v_scheduled
    );
end
$$;


ALTER FUNCTION api.tick_workflows(p_limit integer) OWNER TO intime_owner;

--
-- Name: transition_entity(uuid, text, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.transition_entity(p_instance_id uuid, p_to_state text, p_notes text DEFAULT NULL::text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_user uuid := app.current_user_id();
    v_inst app.workflow_instances%rowtype;
    v_tr app.workflow_transitions%rowtype;
    v_from text;
    v_role text;
    v_steps jsonb;
    v_exec_id uuid;
    v_moved jsonb;
    v_final boolean;
begin
    select i.* into v_inst from app.workflow_instances as i
    where i.org_id = v_org_id and i.id = p_instance_id
    for no key update;
    if not found then
        raise exception using errcode = 'IT004', message = format('instance %s not found', p_instance_id);
    end if;
    select s.name, s.state_type = 'final' into v_from, v_final from app.workflow_states as s
    where s.org_id = v_org_id and s.id = v_inst.current_state_id;
    if v_final then
        raise exception using
            errcode = 'IT015', message = format('%s is a final state: no transition leaves it', v_from);
    end if;
    select t.* into v_tr
    from app.workflow_transitions as t
    inner join app.workflow_states as s on s.org_id = t.org_id and s.id = t.to_state_id
    where
        t.org_id = v_org_id and t.workflow_id = v_inst.workflow_id and s.name = p_to_state
        and (t.from_state_id = v_inst.current_state_id or t.from_state_id is null)
    order by t.from_state_id nulls last
    limit 1;
    if not found then
        raise exception using
            errcode = 'IT015',
            message = format('no transition from %s to %s', coalesce(v_from, '(no state)'), p_to_state);
    end if;
    if v_tr.required_role is not null and v_user is not null then
        select u.role into v_role from app.user_profiles as u where u.org_id = v_org_id and u.id = v_user;
        if array_position(array['member', 'manager', 'admin'], v_role)
            < array_position(array['member', 'manager', 'admin'], v_tr.required_role) then
            raise exception using
                errcode = 'IT003',
                message = format('transition %s needs the %s role', v_tr.name, v_tr.required_role);
        end if;
    end if;
    perform app._wf_assert_unlocked(v_org_id, v_inst.entity_type, v_inst.entity_id, null);

    if v_tr.approval is null then
        v_moved := app._wf_move_state(v_org_id, p_instance_id, v_tr.id, p_notes, v_user);
        v_steps := v_tr.steps;
    else
        -- The approval gates the move: an execution asks, then moves, then
        -- runs the transition's steps. A rejection ends it where it is.
        v_steps := jsonb_build_array(
            v_tr.approval || jsonb_build_object(
                'name', 'approval', 'type', 'approval', 'on_reject', 'end',
                'title', coalesce(v_tr.approval ->> 'title', format('%s → %s', coalesce(v_from, '?'), p_to_state))
            ),
            jsonb_build_object('name', 'move', 'type', 'set_state', 'transition_id', v_tr.id, 'notes', p_notes)
        ) || v_tr.steps;
    end if;

    if jsonb_array_length(v_steps) > 0 then
        insert into app.workflow_executions (
            org_id, instance_id, workflow_id, workflow_version, entity_type, entity_id,
            triggered_by, trigger_type, trigger_event, steps, total_steps, max_retries, exclusive,
            transition_id
        )
        select
            v_org_id, v_inst.id, w.id, w.version, v_inst.entity_type, v_inst.entity_id, v_user,
            'transition',
            jsonb_build_object('event', 'transition', 'transition', v_tr.name, 'from', v_from,
                'to', p_to_state, 'notes', p_notes),
            v_steps, jsonb_array_length(v_steps), w.max_retries, false, v_tr.id
        from app.workflows as w
        where w.org_id = v_org_id and w.id = v_inst.workflow_id
        returning id into v_exec_id;
        perform app._wf_log(v_org_id, v_exec_id, 'info', format('transition %s requested', v_tr.name),
            jsonb_build_object('from', v_from, 'to', p_to_state, 'by', v_user));
        perform app._wf_schedule_run(v_org_id, v_exec_id);
    end if;
    if v_tr.approval is not null then
        -- Lock the entity now, so nothing moves it before the approval asks.
        insert into app.workflow_entity_locks (org_id, entity_type, entity_id, execution_id, reason)
        values (
            v_org_id, v_inst.entity_type, v_inst.entity_id, v_exec_id,
            format('transition %s awaits approval', v_tr.name)
        );
        return jsonb_build_object(
            'status', 'pending_approval', 'transition', v_tr.name, 'execution_id', v_exec_id
        );
    end if;
    return v_moved || jsonb_build_object('status', 'moved', 'execution_id', v_exec_id);
end
$$;


ALTER FUNCTION api.transition_entity(p_instance_id uuid, p_to_state text, p_notes text) OWNER TO intime_owner;

--
-- Name: unsubscribe_recipient(text, boolean); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.unsubscribe_recipient(p_token text, p_confirm boolean DEFAULT true) RETURNS TABLE(result text, email text, organization text)
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


ALTER FUNCTION api.unsubscribe_recipient(p_token text, p_confirm boolean) OWNER TO intime_owner;

--
-- Name: update_campaign(uuid, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.update_campaign(p_campaign_id uuid, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(p_campaign_id);
begin
    perform app._assert_changes(
        p_changes,
        array[
            'name', 'description', 'send_window_start', 'send_window_end', 'send_days',
            'timezone', 'use_contact_timezone', 'daily_send_limit', 'ab_metric',
            'ab_min_sample_per_variant', 'ab_alpha', 'ab_auto_select', 'ab_metric_window',
            'owner_id'
        ],
        array[
            'name', 'send_window_start', 'send_window_end', 'send_days', 'timezone',
            'use_contact_timezone', 'ab_metric', 'ab_min_sample_per_variant', 'ab_alpha',
            'ab_auto_select', 'ab_metric_window', 'owner_id'
        ]
    );
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    v_c := app._apply_changes(v_c, p_changes);
    -- A new owner (an active user of the org) gets the tasks, the replies and
    -- the notifications from now on; the current owner or a holder of campaigns.manage_any hands over.
    if p_changes ? 'owner_id' and not exists (
        select from app.user_profiles as u
        where u.org_id = v_c.org_id and u.id = v_c.owner_id and u.is_active
    ) then
        raise exception using
            errcode = 'IT004', message = format('user %s not found', v_c.owner_id);
    end if;
    v_c.name := btrim(v_c.name);
    if length(v_c.name) not between 1 and 200 then
        raise exception using
            errcode = 'IT005', message = 'a campaign name has 1 to 200 characters';
    end if;
    perform app._campaign_assert_send_window(
        p_window_start => v_c.send_window_start,
        p_window_end => v_c.send_window_end,
        p_send_days => v_c.send_days,
        p_timezone => v_c.timezone
    );
    perform app._campaign_assert_ab_settings(
        p_metric => v_c.ab_metric,
        p_min_sample => v_c.ab_min_sample_per_variant,
        p_alpha => v_c.ab_alpha,
        p_window => v_c.ab_metric_window,
        p_daily_limit => v_c.daily_send_limit
    );
    update app.campaigns as c
    set
        name = v_c.name,
        description = v_c.description,
        send_window_start = v_c.send_window_start,
        send_window_end = v_c.send_window_end,
        send_days = v_c.send_days,
        timezone = v_c.timezone,
        use_contact_timezone = v_c.use_contact_timezone,
        daily_send_limit = v_c.daily_send_limit,
        ab_metric = v_c.ab_metric,
        ab_min_sample_per_variant = v_c.ab_min_sample_per_variant,
        ab_alpha = v_c.ab_alpha,
        ab_auto_select = v_c.ab_auto_select,
        ab_metric_window = v_c.ab_metric_window,
        owner_id = v_c.owner_id,
        updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
end
$$;


ALTER FUNCTION api.update_campaign(p_campaign_id uuid, p_changes jsonb) OWNER TO intime_owner;

--
-- Name: update_sequence_step(uuid, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.update_sequence_step(p_step_id uuid, p_changes jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_s app.campaign_sequences%rowtype;
    v_c app.campaigns%rowtype;
begin
    perform app._assert_changes(
        p_changes,
        array[
            'channel', 'delay_days', 'delay_hours', 'delay_minutes', 'template_id', 'subject',
            'body_html', 'body_text', 'task_config', 'skip_conditions', 'stop_on_reply',
            'ab_variants', 'is_active'
        ],
        array[
            'channel', 'delay_days', 'delay_hours', 'delay_minutes', 'stop_on_reply', 'is_active'
        ]
    );
    select s.* into v_s
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.id = p_step_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign step %s not found', p_step_id);
    end if;
    v_c := app._campaign_for_change(v_s.campaign_id);
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    select s.* into v_s
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.id = p_step_id
    for update;
    v_s := app._apply_changes(v_s, p_changes);
    perform app._campaign_assert_step(
        p_org_id => v_org_id,
        p_channel => v_s.channel,
        p_template_id => v_s.template_id,
        p_subject => v_s.subject,
        p_body_html => v_s.body_html,
        p_body_text => v_s.body_text,
        p_task_config => v_s.task_config,
        p_skip_conditions => v_s.skip_conditions,
        p_ab_variants => v_s.ab_variants,
        p_delays => array[v_s.delay_days, v_s.delay_hours, v_s.delay_minutes]
    );
    update app.campaign_sequences as s
    set
        channel = v_s.channel,
        delay_days = v_s.delay_days,
        delay_hours = v_s.delay_hours,
        delay_minutes = v_s.delay_minutes,
        template_id = v_s.template_id,
        subject = app._campaign_normalize(v_s.subject),
        body_html = app._campaign_normalize(v_s.body_html),
        body_text = app._campaign_normalize(v_s.body_text),
        task_config = v_s.task_config,
        skip_conditions = v_s.skip_conditions,
        stop_on_reply = v_s.stop_on_reply,
        ab_variants = app._campaign_normalize_variants(v_s.ab_variants),
        is_active = v_s.is_active,
        updated_at = app.now()
    where s.org_id = v_org_id and s.id = p_step_id;
    if v_c.status = 'active' then
        perform app._campaign_assert_runnable(v_org_id, v_c.id);
    end if;
end
$$;


ALTER FUNCTION api.update_sequence_step(p_step_id uuid, p_changes jsonb) OWNER TO intime_owner;

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
    v_self_keys constant text[] := array[
        'full_name', 'timezone', 'available', 'out_of_office_until'
    ];
    v_admin_keys constant text[] := array['role', 'manager_id', 'is_active'];
    v_manager_id uuid;
    v_ooo timestamptz;
begin
    perform app._assert_changes(p_changes, v_self_keys || v_admin_keys);
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
-- Name: update_workflow(uuid, jsonb); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.update_workflow(p_workflow_id uuid, p_changes jsonb) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_wf app.workflows%rowtype;
    v_new_definition boolean := p_changes ? 'definition';
begin
    perform app._assert_changes(
        p_changes,
        array['definition', 'name', 'description', 'is_active'],
        array['definition', 'name', 'is_active']
    );
    perform app._require_permission('workflows.manage');
    select w.* into v_wf from app.workflows as w
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
    v_wf := app._apply_changes(v_wf, p_changes);
    if length(btrim(v_wf.name)) not between 1 and 200 then
        raise exception using errcode = 'IT005', message = 'a workflow name has 1 to 200 characters';
    end if;
    if v_new_definition then
        perform app._wf_assert_valid(v_wf.entity_type, v_wf.definition);
    end if;
    update app.workflows as w
    set
        name = v_wf.name,
        description = v_wf.description,
        is_active = v_wf.is_active,
        definition = v_wf.definition,
        version = w.version + case when v_new_definition then 1 else 0 end,
        updated_by = app.current_user_id()
    where w.org_id = v_org_id and w.id = p_workflow_id
    returning w.* into v_wf;
    if v_new_definition then
        perform app._wf_store_version(v_org_id, p_workflow_id);
    end if;
    return v_wf.version;
end
$$;


ALTER FUNCTION api.update_workflow(p_workflow_id uuid, p_changes jsonb) OWNER TO intime_owner;

--
-- Name: validate_workflow_definition(jsonb, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.validate_workflow_definition(p_definition jsonb, p_entity_type text DEFAULT 'deal'::text) RETURNS TABLE(path text, problem text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select p.path, p.problem from app._wf_problems(p_entity_type, p_definition) as p
$$;


ALTER FUNCTION api.validate_workflow_definition(p_definition jsonb, p_entity_type text) OWNER TO intime_owner;

--
-- Name: verify_sending_domain(uuid, text); Type: FUNCTION; Schema: api; Owner: intime_owner
--

CREATE FUNCTION api.verify_sending_domain(p_org_id uuid, p_domain text) RETURNS SETOF app.sending_domain_record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_domain text;
begin
    perform app._email_require_platform();
    v_domain := app._email_domain_argument(p_domain);
    -- Two orgs verifying one domain at once: the second waits, then sees the
    -- first's verification (IT006), never the index's unique violation.
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('intime.sending_domain:' || v_domain, 0)
    );
    perform app._email_assert_domain_free(p_org_id, v_domain);
    return query select * from app._email_mark_domain(p_org_id, v_domain, true, null);
end
$$;


ALTER FUNCTION api.verify_sending_domain(p_org_id uuid, p_domain text) OWNER TO intime_owner;

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
-- Name: _api_token_is_live(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._api_token_is_live(p_org_id uuid, p_token_id uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select exists (
        select
        from app.api_tokens as k
        inner join app.user_profiles as u on u.org_id = k.org_id and u.id = k.user_id
        where
            k.org_id = p_org_id and k.id = p_token_id
            and k.revoked_at is null
            and (k.expires_at is null or k.expires_at > app.now())
            and u.is_active
    )
$$;


ALTER FUNCTION app._api_token_is_live(p_org_id uuid, p_token_id uuid) OWNER TO intime_owner;

--
-- Name: _apply_changes(anyelement, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._apply_changes(p_row anyelement, p_changes jsonb) RETURNS anyelement
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return jsonb_populate_record(p_row, p_changes);
exception when data_exception or program_limit_exceeded then
    raise exception using errcode = 'IT005', message = format('p_changes: %s', sqlerrm);
end
$$;


ALTER FUNCTION app._apply_changes(p_row anyelement, p_changes jsonb) OWNER TO intime_owner;

--
-- Name: _assert_changes(jsonb, text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._assert_changes(p_changes jsonb, p_keys text[], p_not_null text[] DEFAULT '{}'::text[]) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_bad text[];
begin
    if p_changes is null or jsonb_typeof(p_changes) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_changes must be a JSON object';
    end if;
    select array_agg(k order by k) into v_bad
    from jsonb_object_keys(p_changes) as k
    where k <> all(p_keys);
    if v_bad is not null then
        raise exception using
            errcode = 'IT005',
            message = format('cannot change %s', array_to_string(v_bad, ', ')),
            hint = format('Changeable: %s.', array_to_string(p_keys, ', '));
    end if;
    select array_agg(k order by k) into v_bad
    from unnest(p_not_null) as k
    where jsonb_typeof(p_changes -> k) = 'null';
    if v_bad is not null then
        raise exception using
            errcode = 'IT005', message = format('%s cannot be null', array_to_string(v_bad, ', '));
    end if;
end
$$;


ALTER FUNCTION app._assert_changes(p_changes jsonb, p_keys text[], p_not_null text[]) OWNER TO intime_owner;

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
-- Name: _campaign_ab_arm_ids(jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_ab_arm_ids(p_variants jsonb) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_element jsonb;
    v_position bigint;
    v_id text;
    v_ids text [] := '{}'::text [];
begin
    if p_variants is null or jsonb_typeof(p_variants) <> 'array'
        or jsonb_array_length(p_variants) = 0 then
        raise exception using
            errcode = 'IT005', message = 'ab_variants must be a non-empty JSON array';
    end if;
    for v_element, v_position in
        select e.value, e.i - 1 from jsonb_array_elements(p_variants) with ordinality as e (value, i)
    loop
        if jsonb_typeof(v_element) <> 'object' then
            raise exception using
                errcode = 'IT005', message = format('ab_variants[%s] is not an object', v_position);
        end if;
        if jsonb_typeof(v_element -> 'id') is distinct from 'string'
            or length(btrim(v_element ->> 'id')) = 0 then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].id must be a non-empty string', v_position);
        end if;
        v_id := v_element ->> 'id';
        if v_id = any(v_ids) then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].id %s is repeated', v_position, v_id);
        end if;
        if coalesce(v_element -> 'weight', 'null'::jsonb) <> 'null'::jsonb
            and (
                jsonb_typeof(v_element -> 'weight') <> 'number'
                or (v_element ->> 'weight')::numeric <= 0
            ) then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].weight must be a positive number', v_position);
        end if;
        v_ids := v_ids || v_id;
    end loop;
    return v_ids;
end
$$;


ALTER FUNCTION app._campaign_ab_arm_ids(p_variants jsonb) OWNER TO intime_owner;

--
-- Name: _campaign_ab_notify_winner(uuid, uuid, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_ab_notify_winner(p_org_id uuid, p_campaign_id uuid, p_result jsonb) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_name text;
    v_owner uuid;
    v_winner jsonb;
    v_runner_up jsonb;
    v_p double precision;
begin
    select c.name, c.owner_id into v_name, v_owner
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = p_campaign_id;
    select a.value into v_winner
    from jsonb_array_elements(p_result -> 'arms') as a (value)
    where a.value ->> 'variant' = p_result ->> 'winner_variant';
    -- The strongest of the others: highest rate, the first in array order on ties.
    select a.value into v_runner_up
    from jsonb_array_elements(p_result -> 'arms') with ordinality as a (value, i)
    where a.value ->> 'variant' <> p_result ->> 'winner_variant'
    order by (a.value ->> 'rate')::double precision desc nulls last, a.i
    limit 1;
    v_p := (v_runner_up ->> 'p_value')::double precision;
    return app._campaign_notify(
        p_org_id => p_org_id,
        p_user_id => v_owner,
        p_template => 'campaign_ab_winner',
        p_variables => jsonb_build_object(
            'campaign', jsonb_build_object('id', p_campaign_id, 'name', v_name),
            'variant', p_result ->> 'winner_variant',
            'step_number', p_result -> 'step_number',
            'metric', p_result ->> 'metric',
            'rate', to_char((v_winner ->> 'rate')::double precision * 100, 'FM990.0') || '%',
            'runner_up_rate',
            to_char((v_runner_up ->> 'rate')::double precision * 100, 'FM990.0') || '%',
            'p', case
                when v_p >= 0.001 then to_char(v_p, 'FM0.0000')
                else btrim(to_char(v_p, '9.9EEEE'))
            end
        ),
        p_campaign_id => p_campaign_id
    );
end
$$;


ALTER FUNCTION app._campaign_ab_notify_winner(p_org_id uuid, p_campaign_id uuid, p_result jsonb) OWNER TO intime_owner;

--
-- Name: _campaign_ab_pick_variant(uuid, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_ab_pick_variant(p_enrollment_id uuid, p_variants jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select w.id
    from (
        select
            v.id,
            v.i,
            v.weight,
            sum(v.weight) over (order by v.i) as cumulative,
            sum(v.weight) over () as total
        from (
            select
                e.value ->> 'id' as id,
                e.i,
                case
                    when e.value ->> 'id' is null then 0
                    when coalesce(e.value -> 'weight', 'null'::jsonb) = 'null'::jsonb then 1
                    when jsonb_typeof(e.value -> 'weight') = 'number'
                        then greatest((e.value ->> 'weight')::numeric, 0)
                    else 0
                end as weight
            from jsonb_array_elements(
                case when jsonb_typeof(p_variants) = 'array' then p_variants end
            ) with ordinality as e (value, i)
        ) as v
    ) as w
    where
        w.weight > 0
        and w.cumulative / w.total
        > ('x' || left(md5(p_enrollment_id::text), 8))::bit(32)::bigint / 4294967296.0
    order by w.i
    limit 1
$$;


ALTER FUNCTION app._campaign_ab_pick_variant(p_enrollment_id uuid, p_variants jsonb) OWNER TO intime_owner;

--
-- Name: _campaign_assert_ab_settings(text, integer, numeric, interval, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_assert_ab_settings(p_metric text, p_min_sample integer, p_alpha numeric, p_window interval, p_daily_limit integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_metric is null or p_metric not in ('reply', 'click', 'open') then
        raise exception using
            errcode = 'IT005', message = format('A/B metric %L: use reply, click or open', p_metric);
    end if;
    if p_min_sample is null or p_min_sample < 1 then
        raise exception using
            errcode = 'IT005', message = 'the A/B minimum sample per variant must be at least 1';
    end if;
    if p_alpha is null or p_alpha <= 0 or p_alpha >= 0.5 then
        raise exception using
            errcode = 'IT005', message = 'the A/B significance level must be in (0, 0.5)';
    end if;
    if p_window is null or p_window < interval '0' or p_window > interval '365 days' then
        raise exception using
            errcode = 'IT005', message = 'the A/B metric window is 0 to 365 days';
    end if;
    if p_daily_limit is not null and p_daily_limit < 1 then
        raise exception using
            errcode = 'IT005', message = 'the daily send limit must be at least 1 (or null)';
    end if;
end
$$;


ALTER FUNCTION app._campaign_assert_ab_settings(p_metric text, p_min_sample integer, p_alpha numeric, p_window interval, p_daily_limit integer) OWNER TO intime_owner;

--
-- Name: _campaign_assert_runnable(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_assert_runnable(p_org_id uuid, p_campaign_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_count integer;
    v_max integer;
    v_bad integer;
begin
    select count(*), max(s.step_number) into v_count, v_max
    from app.campaign_sequences as s
    where s.org_id = p_org_id and s.campaign_id = p_campaign_id;
    if v_count = 0 or not exists (
        select from app.campaign_sequences as s
        where s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
    ) then
        raise exception using errcode = 'IT005', message = 'the campaign has no active steps';
    end if;
    if v_max <> v_count then
        raise exception using
            errcode = 'IT005',
            message = format(
                'steps must be numbered 1 to %s without gaps (found %s)',
                v_count,
                (
                    select string_agg(s.step_number::text, ', ' order by s.step_number)
                    from app.campaign_sequences as s
                    where s.org_id = p_org_id and s.campaign_id = p_campaign_id
                )
            );
    end if;
    select s.step_number into v_bad
    from app.campaign_sequences as s
    where
        s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
        and s.channel = 'email'
        and s.template_id is null
        and (
            case
                when s.ab_variants is not null then exists (
                    select from jsonb_array_elements(s.ab_variants) as v (variant)
                    where
                        coalesce(v.variant ->> 'subject', s.subject, '') = ''
                        or coalesce(
                            v.variant ->> 'body_html', v.variant ->> 'body_text',
                            s.body_html, s.body_text, ''
                        ) = ''
                )
                else coalesce(s.subject, '') = ''
                or coalesce(s.body_html, s.body_text, '') = ''
            end
        )
    order by s.step_number
    limit 1;
    if v_bad is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                'email step %s has no content: give a template, or a subject and a body '
                || '(for every A/B variant)',
                v_bad
            );
    end if;
    if not exists (select from app.email_settings as s where s.org_id = p_org_id)
        and exists (
            select from app.campaign_sequences as s
            where
                s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
                and s.channel = 'email'
        ) then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;
end
$$;


ALTER FUNCTION app._campaign_assert_runnable(p_org_id uuid, p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: _campaign_assert_send_window(time without time zone, time without time zone, text[], text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_assert_send_window(p_window_start time without time zone, p_window_end time without time zone, p_send_days text[], p_timezone text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_day_names constant text [] := array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_unknown text [];
begin
    if p_window_start is null or p_window_end is null then
        raise exception using
            errcode = 'IT005', message = 'send window start and end must not be null';
    end if;
    if p_window_end <= p_window_start then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send window must end after it starts (overnight windows are not supported): %s-%s',
                regexp_replace(p_window_start::text, ':00$', ''),
                regexp_replace(p_window_end::text, ':00$', '')
            );
    end if;
    if p_send_days is null or cardinality(p_send_days) = 0 or array_ndims(p_send_days) <> 1 then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send days must be a list naming at least one day (valid: %s)',
                array_to_string(v_day_names, ', ')
            );
    end if;
    select array_agg(distinct coalesce(d.name, 'null') order by coalesce(d.name, 'null'))
    into v_unknown
    from unnest(p_send_days) as d (name)
    where d.name is null or not d.name = any(v_day_names);
    if v_unknown is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                'unknown send day %s (valid: %s)',
                array_to_string(v_unknown, ', '), array_to_string(v_day_names, ', ')
            );
    end if;
    if cardinality(p_send_days) <> (
        select count(distinct d.name) from unnest(p_send_days) as d (name)
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send days must not repeat a day: %s', array_to_string(p_send_days, ', ')
            );
    end if;
    if not app._valid_timezone(p_timezone) then
        raise exception using
            errcode = 'IT005',
            message = format('unknown time zone %s', coalesce(p_timezone, 'null'));
    end if;
end
$_$;


ALTER FUNCTION app._campaign_assert_send_window(p_window_start time without time zone, p_window_end time without time zone, p_send_days text[], p_timezone text) OWNER TO intime_owner;

--
-- Name: _campaign_assert_step(uuid, text, uuid, text, text, text, jsonb, jsonb, jsonb, integer[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_assert_step(p_org_id uuid, p_channel text, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_ab_variants jsonb, p_delays integer[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_variant jsonb;
    v_problems text;
    v_ids text[] := '{}';
    v_id text;
begin
    if p_channel is null
        or p_channel not in ('email', 'linkedin', 'phone', 'sms', 'task', 'wait') then
        raise exception using
            errcode = 'IT005',
            message = format(
                'channel %L: use email, linkedin, phone, sms, task or wait', p_channel
            );
    end if;
    if p_delays[1] not between 0 and 365 or p_delays[2] not between 0 and 1000
        or p_delays[3] not between 0 and 100000 or array_position(p_delays, null) is not null then
        raise exception using
            errcode = 'IT005',
            message = 'delays: days 0-365, hours 0-1000, minutes 0-100000';
    end if;
    if p_channel <> 'email' and (
        p_template_id is not null or p_subject is not null or p_body_html is not null
        or p_ab_variants is not null
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'a %s step has no email content (template, subject, body, A/B variants)',
                p_channel
            );
    end if;
    if p_template_id is not null and not exists (
        select from app.email_templates as t
        where t.org_id = p_org_id and t.id = p_template_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('email template %s not found', p_template_id);
    end if;
    perform app._campaign_assert_tokens(p_subject, 'subject');
    perform app._campaign_assert_tokens(p_body_html, 'body_html');
    perform app._campaign_assert_tokens(p_body_text, 'body_text');

    if jsonb_typeof(p_task_config) is distinct from 'object' then
        raise exception using errcode = 'IT005', message = 'task_config must be a JSON object';
    end if;
    if exists (
        select from jsonb_object_keys(p_task_config) as k
        where k not in ('title', 'description', 'priority', 'due_hours')
    ) then
        raise exception using
            errcode = 'IT005',
            message = 'task_config keys: title, description, priority, due_hours';
    end if;
    if p_task_config ? 'priority'
        and p_task_config ->> 'priority' not in ('low', 'normal', 'high', 'urgent') then
        raise exception using
            errcode = 'IT005', message = 'task_config.priority: low, normal, high or urgent';
    end if;
    if p_task_config ? 'due_hours' and (
        jsonb_typeof(p_task_config -> 'due_hours') <> 'number'
        or (p_task_config ->> 'due_hours')::numeric not between 0 and 8760
    ) then
        raise exception using
            errcode = 'IT005', message = 'task_config.due_hours: a number of hours, 0-8760';
    end if;
    if length(p_task_config ->> 'title') > 200 then
        raise exception using
            errcode = 'IT005', message = 'task_config.title: at most 200 characters';
    end if;

    if jsonb_typeof(p_skip_conditions) is distinct from 'array' then
        raise exception using
            errcode = 'IT005', message = 'skip_conditions must be a JSON array of conditions';
    end if;
    -- The workflow engine's checker, over the enrollment's columns plus
    -- contact.* and campaign.*.
    select string_agg(format('%s: %s', x.path, x.problem), '; ') into v_problems
    from jsonb_array_elements(p_skip_conditions) with ordinality as e (v, i)
    cross join lateral app._wf_condition_problems(
        p_cond => e.v,
        p_path => format('skip_conditions[%s]', e.i - 1),
        p_columns => app._campaign_condition_fields(),
        p_org_columns => '{}'::text[],
        p_depth => 0
    ) as x;
    if v_problems is not null then
        raise exception using
            errcode = 'IT005', message = 'invalid skip conditions: ' || v_problems;
    end if;

    if p_ab_variants is not null then
        if jsonb_typeof(p_ab_variants) <> 'array' or jsonb_array_length(p_ab_variants) < 2 then
            raise exception using
                errcode = 'IT005', message = 'ab_variants is an array of at least 2 variants';
        end if;
        for v_variant in select e.v from jsonb_array_elements(p_ab_variants) as e (v) loop
            v_id := v_variant ->> 'id';
            if jsonb_typeof(v_variant) <> 'object' or v_id is null
                or v_id !~ '^[A-Za-z0-9_-]{1,32}$' then
                raise exception using
                    errcode = 'IT005',
                    message = 'each A/B variant has an "id" of 1-32 letters, digits, _ or -';
            end if;
            if v_id = any(v_ids) then
                raise exception using
                    errcode = 'IT005', message = format('A/B variant id %L is repeated', v_id);
            end if;
            v_ids := v_ids || v_id;
            if exists (
                select from jsonb_object_keys(v_variant) as k
                where k not in ('id', 'subject', 'body_html', 'body_text', 'weight')
            ) then
                raise exception using
                    errcode = 'IT005',
                    message = 'A/B variant keys: id, subject, body_html, body_text, weight';
            end if;
            if jsonb_typeof(coalesce(v_variant -> 'weight', '1')) <> 'number'
                or coalesce((v_variant ->> 'weight')::numeric, 1) <= 0 then
                raise exception using
                    errcode = 'IT005',
                    message = format('A/B variant %s: weight must be a positive number', v_id);
            end if;
            perform app._campaign_assert_tokens(
                v_variant ->> 'subject', format('variant %s subject', v_id)
            );
            perform app._campaign_assert_tokens(
                v_variant ->> 'body_html', format('variant %s body_html', v_id)
            );
            perform app._campaign_assert_tokens(
                v_variant ->> 'body_text', format('variant %s body_text', v_id)
            );
        end loop;
    end if;
end
$_$;


ALTER FUNCTION app._campaign_assert_step(p_org_id uuid, p_channel text, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_ab_variants jsonb, p_delays integer[]) OWNER TO intime_owner;

--
-- Name: _campaign_assert_tokens(text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_assert_tokens(p_text text, p_where text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_unknown text[];
begin
    select array_agg(distinct m[1] order by m[1]) into v_unknown
    from regexp_matches(
        coalesce(p_text, ''), '\{\{\s*([^}]*?)\s*\}\}', 'g'
    ) as m
    where m[1] <> all(app._campaign_variables());
    if v_unknown is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                '%s uses unknown variables: %s (known: %s)',
                p_where, array_to_string(v_unknown, ', '),
                array_to_string(app._campaign_variables(), ', ')
            );
    end if;
end
$$;


ALTER FUNCTION app._campaign_assert_tokens(p_text text, p_where text) OWNER TO intime_owner;

--
-- Name: _campaign_condition_fields(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_condition_fields() RETURNS text[]
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return (
        select array_agg(a.attname::text order by a.attnum) || array['contact', 'campaign']
        from pg_catalog.pg_attribute as a
        where
            a.attrelid = 'app.campaign_enrollments'::regclass and a.attnum > 0
            and not a.attisdropped
    );
end
$$;


ALTER FUNCTION app._campaign_condition_fields() OWNER TO intime_owner;

--
-- Name: _campaign_evaluate_ab_test(uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_evaluate_ab_test(p_org_id uuid, p_campaign_id uuid, p_step_number integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_campaign app.campaigns%rowtype;
    v_variants jsonb;
    v_found boolean;
    v_ids text [];
    v_n bigint [];
    v_s bigint [];
    v_rate double precision [];
    v_z double precision;
    v_p double precision;
    v_significant boolean;
    v_arm jsonb;
    v_arms jsonb := '[]'::jsonb;
    v_count integer;
    v_k integer;
    v_alpha_corrected numeric;
    v_best integer;
    v_all_significant boolean := true;
    v_insufficient boolean;
    v_outcome text;
    v_winner text;
    v_decision_id uuid;
    v_already boolean;
    v_result jsonb;
    v_cutoff timestamptz;
    v_unchanged boolean := false;
begin
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if p_step_number is null then
        raise exception using errcode = 'IT005', message = 'p_step_number must not be null';
    end if;
    select s.ab_variants, true into v_variants, v_found
    from app.campaign_sequences as s
    where s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.step_number = p_step_number;
    if v_found is null then
        raise exception using
            errcode = 'IT005',
            message = format('campaign %s has no step %s', p_campaign_id, p_step_number);
    end if;
    if v_variants is null then
        raise exception using
            errcode = 'IT005',
            message = format('step %s of campaign %s has no A/B variants', p_step_number, p_campaign_id);
    end if;
    v_ids := app._campaign_ab_arm_ids(v_variants);
    v_count := cardinality(v_ids);
    v_already := v_campaign.ab_winner_variant is not null;
    v_cutoff := app.now() - v_campaign.ab_metric_window;

    -- Per arm: the step's sent emails (archived logs too) whose window
    -- closed, counting from the later of the log's and the send's sent_at,
    -- and leaving out sends that never reached anyone.
    with
    logs as (
        select l.ab_variant, l.email_send_id, l.sent_at
        from app.campaign_sequence_logs as l
        where
            l.org_id = p_org_id and l.campaign_id = p_campaign_id
            and l.step_number = p_step_number and l.status = 'sent'
            and l.email_send_id is not null
        union all
        select l.ab_variant, l.email_send_id, l.sent_at
        from app.campaign_sequence_logs_archive as l
        where
            l.org_id = p_org_id and l.campaign_id = p_campaign_id
            and l.step_number = p_step_number and l.status = 'sent'
            and l.email_send_id is not null
    ),

    closed as (
        select
            l.ab_variant,
            e.id,
            case v_campaign.ab_metric
                when 'reply' then e.replied_at is not null
                when 'click' then e.first_clicked_at is not null
                else e.first_opened_at is not null or e.first_clicked_at is not null
            end as success
        from logs as l
        inner join app.email_sends as e on e.org_id = p_org_id and e.id = l.email_send_id
        where
            greatest(l.sent_at, e.sent_at) <= v_cutoff
            and e.status not in ('queued', 'sending', 'failed', 'suppressed', 'bounced')
    ),

    counts as (
        select
            c.ab_variant,
            count(distinct c.id) as n,
            count(distinct c.id) filter (where c.success) as successes
        from closed as c
        group by c.ab_variant
    )

    select
        array_agg(coalesce(c.n, 0) order by a.i),
        array_agg(coalesce(c.successes, 0) order by a.i)
    into v_n, v_s
    from unnest(v_ids) with ordinality as a (variant, i)
    left join counts as c on c.ab_variant = a.variant;

    v_rate := array(
        select case when x.n > 0 then x.s::double precision / x.n end
        from unnest(v_n, v_s) with ordinality as x (n, s, i)
        order by x.i
    );
    v_insufficient := exists (
        select from unnest(v_n) as x (n) where x.n < v_campaign.ab_min_sample_per_variant
    );
    v_k := v_count - 1;
    v_alpha_corrected := case when v_k > 0 then trim_scale(v_campaign.ab_alpha / v_k) end;

    if not v_insufficient then
        v_best := 1;
        for i in 2..v_count loop
            if v_rate[i] > v_rate[v_best] then
                v_best := i;
            end if;
        end loop;
    end if;

    for i in 1..v_count loop
        v_z := null;
        v_p := null;
        v_significant := null;
        if not v_insufficient and i <> v_best then
            select t.z, t.p_value into v_z, v_p
            from app._campaign_two_proportion_z(v_s[v_best], v_n[v_best], v_s[i], v_n[i]) as t;
            v_significant := v_z > 0 and v_p < v_alpha_corrected;
            v_all_significant := v_all_significant and v_significant;
        end if;
        v_arm := jsonb_build_object(
            'variant', v_ids[i], 'n', v_n[i], 'successes', v_s[i], 'rate', v_rate[i],
            'z', v_z, 'p_value', v_p, 'significant', v_significant
        );
        v_arms := v_arms || jsonb_build_array(v_arm);
    end loop;

    if v_insufficient then
        v_outcome := 'insufficient_sample';
    elsif v_k >= 1 and v_all_significant then
        v_winner := v_ids[v_best];
        v_outcome := case when v_campaign.ab_auto_select then 'winner' else 'significant' end;
    else
        v_outcome := 'inconclusive';
    end if;

    -- An evaluation identical to the step's last recorded one (same outcome,
    -- same arms: nothing new closed) is not recorded again, so the job that
    -- evaluates every 15 minutes leaves one row per change, not one per run.
    if not v_already and exists (
        select
        from (
            select d.outcome, d.arms
            from app.campaign_ab_decisions as d
            where
                d.org_id = p_org_id and d.campaign_id = p_campaign_id
                and d.step_number = p_step_number
            order by d.created_at desc, d.id
            limit 1
        ) as last
        where last.outcome = v_outcome and last.arms = v_arms
    ) then
        v_unchanged := true;
    end if;

    if not v_already and not v_unchanged then
        insert into app.campaign_ab_decisions (
            org_id, campaign_id, step_number, metric, outcome, winner_variant, best_variant,
            arms, alpha, alpha_corrected, min_sample, decided_by
        ) values (
            p_org_id, p_campaign_id, p_step_number, v_campaign.ab_metric, v_outcome, v_winner,
            v_ids[v_best], v_arms, v_campaign.ab_alpha, v_alpha_corrected,
            v_campaign.ab_min_sample_per_variant, app.current_user_id()
        )
        returning id into v_decision_id;
    end if;

    v_result := jsonb_build_object(
        'campaign_id', p_campaign_id,
        'outcome', v_outcome,
        'metric', v_campaign.ab_metric,
        'step_number', p_step_number,
        'alpha', v_campaign.ab_alpha,
        'alpha_corrected', v_alpha_corrected,
        'min_sample', v_campaign.ab_min_sample_per_variant,
        'metric_window', v_campaign.ab_metric_window,
        'best_variant', v_ids[v_best],
        'winner_variant', v_winner,
        'arms', v_arms,
        'decision_id', v_decision_id,
        'already_selected', v_already,
        'unchanged', v_unchanged,
        'evaluated_at', app.now()
    );
    if v_already then
        return v_result || jsonb_build_object('selected_variant', v_campaign.ab_winner_variant);
    end if;

    if v_outcome = 'winner' then
        v_result := v_result || jsonb_build_object(
            'notified', app._campaign_ab_notify_winner(p_org_id, p_campaign_id, v_result)
        );
        update app.campaigns as c
        set
            ab_winner_variant = v_winner,
            ab_winner_step = p_step_number,
            ab_winner_stats = v_result,
            ab_winner_selected_at = app.now(),
            ab_winner_selected_by = null,
            updated_at = app.now()
        where c.org_id = p_org_id and c.id = p_campaign_id;
    end if;
    return v_result;
end
$$;


ALTER FUNCTION app._campaign_evaluate_ab_test(p_org_id uuid, p_campaign_id uuid, p_step_number integer) OWNER TO intime_owner;

--
-- Name: _campaign_fill(text, text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_fill(p_template text, p_values text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_out text;
begin
    if p_template is null or strpos(p_template, '{{') = 0 then
        return p_template;
    end if;
    v_out := replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(
            p_template,
            '{{contact.first_name}}', p_values[1]),
        '{{contact.last_name}}', p_values[2]),
        '{{contact.full_name}}', p_values[3]),
        '{{contact.name}}', p_values[4]),
        '{{contact.email}}', p_values[5]),
        '{{contact.company}}', p_values[6]),
        '{{contact.title}}', p_values[7]),
        '{{campaign.name}}', p_values[8]),
        '{{sender.name}}', p_values[9]),
        '{{sender.first_name}}', p_values[10]),
        '{{sender.email}}', p_values[11]);
    if strpos(v_out, '{{') > 0 then
        v_out := regexp_replace(
            v_out, '\{\{\s*[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*\s*\}\}', '', 'g'
        );
    end if;
    return replace(v_out, chr(1), '{');
end
$$;


ALTER FUNCTION app._campaign_fill(p_template text, p_values text[]) OWNER TO intime_owner;

--
-- Name: campaigns; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaigns (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    description text,
    status text DEFAULT 'draft'::text NOT NULL,
    owner_id uuid NOT NULL,
    send_window_start time without time zone DEFAULT '09:00:00'::time without time zone NOT NULL,
    send_window_end time without time zone DEFAULT '17:00:00'::time without time zone NOT NULL,
    send_days text[] DEFAULT ARRAY['mon'::text, 'tue'::text, 'wed'::text, 'thu'::text, 'fri'::text] NOT NULL,
    timezone text DEFAULT 'America/New_York'::text NOT NULL,
    use_contact_timezone boolean DEFAULT false NOT NULL,
    daily_send_limit integer,
    ab_metric text DEFAULT 'reply'::text NOT NULL,
    ab_min_sample_per_variant integer DEFAULT 100 NOT NULL,
    ab_alpha numeric DEFAULT 0.05 NOT NULL,
    ab_metric_window interval DEFAULT '3 days'::interval NOT NULL,
    ab_auto_select boolean DEFAULT true NOT NULL,
    ab_winner_variant text,
    ab_winner_step integer,
    ab_winner_stats jsonb,
    ab_winner_selected_at timestamp with time zone,
    ab_winner_selected_by uuid,
    total_enrolled integer DEFAULT 0 NOT NULL,
    total_active integer DEFAULT 0 NOT NULL,
    total_completed integer DEFAULT 0 NOT NULL,
    total_replied integer DEFAULT 0 NOT NULL,
    total_bounced integer DEFAULT 0 NOT NULL,
    total_unsubscribed integer DEFAULT 0 NOT NULL,
    total_stopped integer DEFAULT 0 NOT NULL,
    total_paused integer DEFAULT 0 NOT NULL,
    total_sent integer DEFAULT 0 NOT NULL,
    total_opened integer DEFAULT 0 NOT NULL,
    total_clicked integer DEFAULT 0 NOT NULL,
    total_tasks integer DEFAULT 0 NOT NULL,
    activated_at timestamp with time zone,
    completed_at timestamp with time zone,
    created_by uuid DEFAULT app.current_user_id(),
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    out_of_office_resume_days integer DEFAULT 7 NOT NULL,
    CONSTRAINT campaigns_ab_alpha_check CHECK (((ab_alpha > (0)::numeric) AND (ab_alpha < 0.5))),
    CONSTRAINT campaigns_ab_metric_check CHECK ((ab_metric = ANY (ARRAY['reply'::text, 'click'::text, 'open'::text]))),
    CONSTRAINT campaigns_ab_metric_window_check CHECK ((ab_metric_window >= '00:00:00'::interval)),
    CONSTRAINT campaigns_ab_min_sample_per_variant_check CHECK ((ab_min_sample_per_variant >= 1)),
    CONSTRAINT campaigns_check CHECK ((send_window_end > send_window_start)),
    CONSTRAINT campaigns_check1 CHECK (((ab_winner_variant IS NULL) = (ab_winner_selected_at IS NULL))),
    CONSTRAINT campaigns_daily_send_limit_check CHECK ((daily_send_limit > 0)),
    CONSTRAINT campaigns_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 200))),
    CONSTRAINT campaigns_out_of_office_resume_days_check CHECK (((out_of_office_resume_days >= 1) AND (out_of_office_resume_days <= 90))),
    CONSTRAINT campaigns_send_days_check CHECK ((((cardinality(send_days) >= 1) AND (cardinality(send_days) <= 7)) AND (send_days <@ ARRAY['mon'::text, 'tue'::text, 'wed'::text, 'thu'::text, 'fri'::text, 'sat'::text, 'sun'::text]))),
    CONSTRAINT campaigns_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'active'::text, 'paused'::text, 'completed'::text, 'archived'::text])))
);

ALTER TABLE ONLY app.campaigns FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaigns OWNER TO intime_owner;

--
-- Name: _campaign_for_change(uuid, boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_for_change(p_campaign_id uuid, p_lock_enrollments boolean DEFAULT false) RETURNS app.campaigns
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_campaign app.campaigns%rowtype;
begin
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if not (
        v_campaign.owner_id is not distinct from app.current_user_id()
        or app._has_permission('campaigns.manage_any')
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'only the campaign''s owner or a holder of campaigns.manage_any may change it';
    end if;
    -- Lock order everywhere: enrollments (in key order), then the campaign.
    -- The tick and the stop-rule triggers lock enrollments and then, through
    -- the totals trigger, the campaign; taking the campaign first here while
    -- changing its enrollments would deadlock with them.
    if p_lock_enrollments then
        perform
        from app.campaign_enrollments as e
        where
            e.org_id = v_org_id and e.campaign_id = p_campaign_id
            and e.status in ('active', 'paused')
        order by e.id
        for update;
    end if;
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    return v_campaign;
end
$$;


ALTER FUNCTION app._campaign_for_change(p_campaign_id uuid, p_lock_enrollments boolean) OWNER TO intime_owner;

--
-- Name: _campaign_next_send_time(timestamp with time zone, text, time without time zone, time without time zone, text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_next_send_time(p_ts timestamp with time zone, p_timezone text, p_window_start time without time zone, p_window_end time without time zone, p_send_days text[]) RETURNS timestamp with time zone
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_day_names constant text [] := array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_first date;
    v_first_dow integer;
    v_dow integer;
    v_day date;
    v_open timestamptz;
    v_close timestamptz;
begin
    if p_ts is null then
        return null;
    end if;
    if p_timezone is null or p_window_start is null or p_window_end is null
        or p_send_days is null then
        raise exception using
            errcode = 'IT005',
            message = 'send window: time zone, start, end and days must not be null';
    end if;
    if p_window_end <= p_window_start then
        raise exception using
            errcode = 'IT005',
            message = format(
                'send window must end after it starts (overnight windows are not supported): %s-%s',
                regexp_replace(p_window_start::text, ':00$', ''),
                regexp_replace(p_window_end::text, ':00$', '')
            );
    end if;
    v_first := (p_ts at time zone p_timezone)::date;
    v_first_dow := extract(isodow from v_first)::integer;
    -- Eight days: today's window may be over and today the only send day.
    for v_offset in 0..7 loop
        -- A null in p_send_days makes `= any` null for the other days: not send days.
        v_dow := (v_first_dow - 1 + v_offset) % 7 + 1;
        continue when (v_day_names[v_dow] = any(p_send_days)) is not true;
        v_day := v_first + v_offset;
        v_open := (v_day + p_window_start) at time zone p_timezone;
        v_close := (v_day + p_window_end) at time zone p_timezone;
        if greatest(p_ts, v_open) < v_close then
            return greatest(p_ts, v_open);
        end if;
    end loop;
    raise exception using
        errcode = 'IT005',
        message = format(
            'send days %s name no day of the week (valid: %s)',
            p_send_days, array_to_string(v_day_names, ', ')
        );
exception
    when invalid_parameter_value then
        raise exception using
            errcode = 'IT005',
            message = format('unknown time zone %s', p_timezone);
end
$_$;


ALTER FUNCTION app._campaign_next_send_time(p_ts timestamp with time zone, p_timezone text, p_window_start time without time zone, p_window_end time without time zone, p_send_days text[]) OWNER TO intime_owner;

--
-- Name: _campaign_normal_cdf(double precision); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_normal_cdf(p_x double precision) RETURNS double precision
    LANGUAGE plpgsql IMMUTABLE STRICT
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_y double precision := abs(p_x);
    v_xsq double precision;
    v_xnum double precision;
    v_xden double precision;
    v_temp double precision;
    v_del double precision;
    v_small double precision;
begin
    if p_x = 'NaN'::double precision then
        return p_x;
    end if;
    if v_y <= 0.67448975 then
        v_xsq := p_x * p_x;
        v_xnum := 0.065682337918207449113 * v_xsq;
        v_xden := v_xsq;
        v_xnum := (v_xnum + 2.2352520354606839287) * v_xsq;
        v_xden := (v_xden + 47.20258190468824187) * v_xsq;
        v_xnum := (v_xnum + 161.02823106855587881) * v_xsq;
        v_xden := (v_xden + 976.09855173777669322) * v_xsq;
        v_xnum := (v_xnum + 1067.6894854603709582) * v_xsq;
        v_xden := (v_xden + 10260.932208618978205) * v_xsq;
        return 0.5 + p_x * (v_xnum + 18154.981253343561249)
            / (v_xden + 45507.789335026729956);
    end if;
    if p_x <= -37.5193 then
        return 0.0::double precision;
    end if;
    if p_x >= 8.2924 then
        return 1.0::double precision;
    end if;
    if v_y <= 5.656854249492380195206754896838 then
        v_xnum := 1.0765576773720192317e-8 * v_y;
        v_xden := v_y;
        v_xnum := (v_xnum + 0.39894151208813466764) * v_y;
        v_xden := (v_xden + 22.266688044328115691) * v_y;
        v_xnum := (v_xnum + 8.8831497943883759412) * v_y;
        v_xden := (v_xden + 235.38790178262499861) * v_y;
        v_xnum := (v_xnum + 93.506656132177855979) * v_y;
        v_xden := (v_xden + 1519.377599407554805) * v_y;
        v_xnum := (v_xnum + 597.27027639480026226) * v_y;
        v_xden := (v_xden + 6485.558298266760755) * v_y;
        v_xnum := (v_xnum + 2494.5375852903726711) * v_y;
        v_xden := (v_xden + 18615.571640885098091) * v_y;
        v_xnum := (v_xnum + 6848.1904505362823326) * v_y;
        v_xden := (v_xden + 34900.952721145977266) * v_y;
        v_xnum := (v_xnum + 11602.651437647350124) * v_y;
        v_xden := (v_xden + 38912.003286093271411) * v_y;
        v_temp := (v_xnum + 9842.7148383839780218) / (v_xden + 19685.429676859990727);
    else
        v_xsq := 1.0 / (p_x * p_x);
        v_xnum := 0.02307344176494017303 * v_xsq;
        v_xden := v_xsq;
        v_xnum := (v_xnum + 0.21589853405795699) * v_xsq;
        v_xden := (v_xden + 1.28426009614491121) * v_xsq;
        v_xnum := (v_xnum + 0.1274011611602473639) * v_xsq;
        v_xden := (v_xden + 0.468238212480865118) * v_xsq;
        v_xnum := (v_xnum + 0.022235277870649807) * v_xsq;
        v_xden := (v_xden + 0.0659881378689285515) * v_xsq;
        v_xnum := (v_xnum + 0.001421619193227893466) * v_xsq;
        v_xden := (v_xden + 0.00378239633202758244) * v_xsq;
        v_temp := v_xsq * (v_xnum + 2.9112874951168792e-5) / (v_xden + 7.29751555083966205e-5);
        v_temp := (0.398942280401432677939946059934 - v_temp) / v_y;
    end if;
    -- exp(-y^2/2) as exp(-xsq^2/2) * exp(-del/2), xsq = y truncated to 1/16:
    -- xsq^2 is exact, so the large exponent loses nothing to rounding.
    v_xsq := trunc(v_y * 16) / 16;
    v_del := (v_y - v_xsq) * (v_y + v_xsq);
    v_small := exp(-v_xsq * v_xsq * 0.5) * exp(-v_del * 0.5) * v_temp;
    if p_x < 0 then
        return v_small;
    end if;
    return 1.0 - v_small;
end
$$;


ALTER FUNCTION app._campaign_normal_cdf(p_x double precision) OWNER TO intime_owner;

--
-- Name: _campaign_normalize(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_normalize(p_text text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return regexp_replace(
        p_text, '\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}', '{{\1}}', 'g'
    );
end
$$;


ALTER FUNCTION app._campaign_normalize(p_text text) OWNER TO intime_owner;

--
-- Name: _campaign_normalize_variants(jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_normalize_variants(p_variants jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_variants is null then
        return null;
    end if;
    return (
        select jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'id', v ->> 'id',
                'subject', app._campaign_normalize(v ->> 'subject'),
                'body_html', app._campaign_normalize(v ->> 'body_html'),
                'body_text', app._campaign_normalize(v ->> 'body_text'),
                'weight', coalesce(v -> 'weight', '1')
            ))
            order by o
        )
        from jsonb_array_elements(p_variants) with ordinality as e (v, o)
    );
end
$$;


ALTER FUNCTION app._campaign_normalize_variants(p_variants jsonb) OWNER TO intime_owner;

--
-- Name: _campaign_notify(uuid, uuid, text, jsonb, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_notify(p_org_id uuid, p_user_id uuid, p_template text, p_variables jsonb, p_campaign_id uuid) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_message text;
begin
    if p_user_id is null then
        return false;
    end if;
    perform from app._notification_send(row(
        p_org_id,  -- org_id
        array[p_user_id],  -- user_ids
        null,  -- category
        p_template,  -- template_slug
        null,  -- title
        null,  -- message
        p_variables,  -- variables
        null,  -- type
        null,  -- priority
        'campaign',  -- entity_type
        p_campaign_id,  -- entity_id
        format('/campaigns/%s', p_campaign_id),  -- action_url
        'Open campaign',  -- action_label
        null,  -- channels
        null,  -- group_key
        null,  -- expires_at
        false  -- critical
    )::app.notification_request);
    return true;
exception when others then
    get stacked diagnostics v_message = message_text;
    raise warning 'campaign notification % not sent: %', p_template, v_message;
    return false;
end
$$;


ALTER FUNCTION app._campaign_notify(p_org_id uuid, p_user_id uuid, p_template text, p_variables jsonb, p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: _campaign_pause_out_of_office(uuid, uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_pause_out_of_office(p_org_id uuid, p_send_id uuid, p_inbound_id uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform p_org_id, p_send_id, p_inbound_id;
    return null;
end
$$;


ALTER FUNCTION app._campaign_pause_out_of_office(p_org_id uuid, p_send_id uuid, p_inbound_id uuid) OWNER TO intime_owner;

--
-- Name: _campaign_plan_batch(timestamp with time zone, uuid[], uuid[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_plan_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) RETURNS TABLE(org_id uuid, id uuid, campaign_id uuid, contact_id uuid, owner_id uuid, email text, contact_gone boolean, current_step integer, next_step_at timestamp with time zone, error_count integer, local_date date, daily_send_limit integer, zone text, send_window_start time without time zone, send_window_end time without time zone, send_days text[], open_at timestamp with time zone, step_id uuid, step_number integer, channel text, task_config jsonb, next_number integer, variant text, act text, pauses boolean, due_at timestamp with time zone, template_id uuid, subject text, body_html text, body_text text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    with b as materialized (
        select
            e.org_id, e.id, e.campaign_id, e.contact_id, e.current_step, e.next_step_at,
            e.ab_variant, e.error_count, e as e_row,
            c.name as campaign_name, c.owner_id, c.timezone as campaign_zone,
            c.use_contact_timezone, c.send_window_start, c.send_window_end, c.send_days,
            c.daily_send_limit, c.ab_winner_variant,
            (p_now at time zone c.timezone)::date as local_date,
            k.id as k_id, k.deleted_at, k.status as contact_status, k.email, k.first_name,
            k.last_name, k.full_name, k.company_name, k.title, k as k_row,
            coalesce(k.timezone, '') as contact_zone,
            u.full_name as sender_name, u.email as sender_email
        from unnest(p_org_ids, p_ids) as x (org_id, id)
        inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
        inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
        left join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id
        left join app.user_profiles as u on u.org_id = c.org_id and u.id = c.owner_id
        where e.status = 'active' and c.status = 'active'
    ),

    zones as materialized (
        -- One zone decision and window check per distinct (campaign, zone).
        select
            z.org_id, z.campaign_id, z.contact_zone, z.zone,
            app._campaign_next_send_time(
                p_ts => p_now, p_timezone => z.zone, p_window_start => z.send_window_start,
                p_window_end => z.send_window_end, p_send_days => z.send_days
            ) as open_at
        from (
            select
                d.org_id, d.campaign_id, d.contact_zone, d.send_window_start, d.send_window_end,
                d.send_days,
                app._campaign_timezone(
                    p_contact_timezone => nullif(d.contact_zone, ''),
                    p_campaign_timezone => d.campaign_zone,
                    p_use_contact => d.use_contact_timezone
                ) as zone
            from (
                select distinct
                    b.org_id, b.campaign_id, b.contact_zone, b.campaign_zone,
                    b.use_contact_timezone, b.send_window_start, b.send_window_end, b.send_days
                from b
            ) as d
        ) as z
    ),

    seq as materialized (
        -- The batch's campaigns' active steps with their neighbours.
        select
            s.org_id, s.campaign_id, s.id, s.step_number, s.channel, s.template_id,
            s.subject, s.body_html, s.body_text, s.task_config, s.skip_conditions,
            s.ab_variants,
            coalesce(lag(s.step_number) over w, 0) as prev_number,
            lead(s.step_number) over w as next_number,
            lead(s.delay_days) over w as next_delay_days,
            lead(make_interval(hours => s.delay_hours, mins => s.delay_minutes)) over w
                as next_delay_hm
        from app.campaign_sequences as s
        where
            s.is_active
            and (s.org_id, s.campaign_id) in (select b.org_id, b.campaign_id from b)
        window w as (partition by s.org_id, s.campaign_id order by s.step_number)
    ),

    contents as materialized (
        -- Each email step's content per A/B arm ('' without a test):
        -- the variant's fields, else the step's, else its template's. One row
        -- per arm id, the first in the array, even where a row written past
        -- the API repeats an id: the plan stays one row per enrollment.
        select distinct on (s.id, coalesce(v.variant ->> 'id', ''))
            s.id as step_id, coalesce(v.variant ->> 'id', '') as variant_id,
            coalesce(
                v.variant ->> 'subject', s.subject, app._campaign_normalize(t.subject_template)
            ) as subject,
            coalesce(
                v.variant ->> 'body_html', s.body_html, app._campaign_normalize(t.html_template),
                app._html_escape(coalesce(
                    v.variant ->> 'body_text', s.body_text, app._campaign_normalize(t.text_template)
                ))
            ) as body_html,
            coalesce(
                v.variant ->> 'body_text', s.body_text, app._campaign_normalize(t.text_template)
            ) as body_text,
            s.template_id
        from seq as s
        left join app.email_templates as t on t.org_id = s.org_id and t.id = s.template_id
        left join lateral jsonb_array_elements(s.ab_variants) with ordinality as v (variant, n)
            on true
        where s.channel = 'email'
        order by s.id, coalesce(v.variant ->> 'id', ''), v.n
    ),

    classified as materialized (
        select
            b.*, z.zone, z.open_at, s.id as step_id, s.step_number, s.channel,
            s.task_config, s.next_number, s.next_delay_days, s.next_delay_hm,
            case
                when s.ab_variants is null then null
                when b.ab_winner_variant is not null
                    and s.ab_variants @> jsonb_build_array(
                        jsonb_build_object('id', b.ab_winner_variant)
                    ) then b.ab_winner_variant
                when b.ab_variant is not null
                    and s.ab_variants @> jsonb_build_array(jsonb_build_object('id', b.ab_variant))
                    then b.ab_variant
                else app._campaign_ab_pick_variant(b.id, s.ab_variants)
            end as variant,
            case
                when b.k_id is null or b.deleted_at is not null then 'stop_contact'
                when s.id is null then 'complete'
                when z.open_at > p_now then 'defer_window'
                when b.contact_status = 'do_not_contact' then 'stop_contact'
                when sk.skip then 'skip'
                when sk.skip is null then 'error_condition'
                when s.channel = 'email' and (
                    not coalesce(app._email_is_plain_address(b.email), false)
                ) then 'error_address'
                when s.channel = 'email' and not exists (
                    select from app.email_settings as st where st.org_id = b.org_id
                ) then 'error_settings'
                when s.channel = 'email' and exists (
                    select from app.suppressions as sp
                    where sp.org_id = b.org_id and sp.email = lower(b.email)
                ) then 'suppressed'
                when s.channel = 'sms' then 'skip_sms'
                else 'run'
            end as act
        from b
        inner join zones as z
            on
                z.org_id = b.org_id and z.campaign_id = b.campaign_id
                and z.contact_zone = b.contact_zone
        left join seq as s
            on
                s.org_id = b.org_id and s.campaign_id = b.campaign_id
                and b.current_step >= s.prev_number and b.current_step < s.step_number
        cross join lateral (
            select case
                when s.id is null or jsonb_array_length(s.skip_conditions) = 0 then false
                else app._campaign_skip_holds(
                    p_conditions => s.skip_conditions,
                    p_doc => to_jsonb(b.e_row) || jsonb_build_object(
                        'contact', to_jsonb(b.k_row),
                        'campaign', jsonb_build_object('id', b.campaign_id, 'name', b.campaign_name)
                    )
                )
            end as skip
        ) as sk
    ),

    limited as materialized (
        -- Email sends beyond the campaign's daily limit roll to the next day.
        select
            c.*,
            case
                when c.act = 'run' and c.channel = 'email' and c.daily_send_limit is not null
                    and row_number() over (
                        partition by c.org_id, c.campaign_id, (c.act = 'run' and c.channel = 'email')
                        order by c.next_step_at, c.id
                    ) > c.daily_send_limit - coalesce(d.sent, 0)
                    then 'defer_limit'
                else c.act
            end as final_act
        from classified as c
        left join app.campaign_daily_sends as d
            on
                d.org_id = c.org_id and d.campaign_id = c.campaign_id
                and d.local_date = c.local_date
    ),

    timing as materialized (
        -- When each enrollment's next step is due: one window computation
        -- per distinct (campaign, zone, delay).
        select
            g.org_id, g.campaign_id, g.zone, g.next_delay_days, g.next_delay_hm, g.final_act,
            app._campaign_next_send_time(
                p_ts => case
                    when g.final_act = 'defer_limit'
                        then (g.local_date + 1)::timestamp at time zone g.campaign_zone
                    -- Days are calendar days in the zone (a day across a DST
                    -- change is 23 or 25 hours); hours and minutes elapse.
                    else ((p_now at time zone g.zone) + make_interval(days => g.next_delay_days))
                        at time zone g.zone + g.next_delay_hm
                end,
                p_timezone => g.zone, p_window_start => g.send_window_start,
                p_window_end => g.send_window_end, p_send_days => g.send_days
            ) as due_at
        from (
            select distinct
                l.org_id, l.campaign_id, l.zone, l.next_delay_days, l.next_delay_hm,
                l.final_act, l.local_date, l.campaign_zone, l.send_window_start,
                l.send_window_end, l.send_days
            from limited as l
            where
                l.final_act = 'defer_limit'
                or (l.final_act in ('run', 'skip', 'skip_sms') and l.next_number is not null)
        ) as g
    )

    select
        l.org_id, l.id, l.campaign_id, l.contact_id, l.owner_id, l.email,
        l.k_id is null or l.deleted_at is not null, l.current_step, l.next_step_at,
        l.error_count, l.local_date, l.daily_send_limit, l.zone, l.send_window_start,
        l.send_window_end, l.send_days, l.open_at, l.step_id, l.step_number, l.channel,
        l.task_config, l.next_number, l.variant, l.final_act, l.error_count + 1 >= 3, t.due_at,
        ct.template_id,
        regexp_replace(app._campaign_fill(ct.subject, r.vars), '[\r\n]+', ' ', 'g'),
        app._campaign_fill(ct.body_html, r.vars_html),
        app._campaign_fill(ct.body_text, r.vars)
    from limited as l
    left join timing as t
        on
            t.org_id = l.org_id and t.campaign_id = l.campaign_id and t.zone = l.zone
            and t.final_act = l.final_act
            -- Days and hours apart: interval '1 day' = '24 hours' in SQL,
            -- but not across a DST change.
            and t.next_delay_days is not distinct from l.next_delay_days
            and t.next_delay_hm is not distinct from l.next_delay_hm
    left join contents as ct
        on
            l.final_act = 'run' and l.channel = 'email'
            and ct.step_id = l.step_id and ct.variant_id = coalesce(l.variant, '')
    -- The recipient's values, in the order of app._campaign_variables().
    left join lateral (
        select
            app._campaign_values(v.raw, false) as vars,
            app._campaign_values(v.raw, true) as vars_html
        from (
            select array[
                l.first_name, l.last_name, l.full_name, l.full_name, l.email, l.company_name,
                l.title, l.campaign_name, l.sender_name, split_part(l.sender_name, ' ', 1),
                l.sender_email
            ] as raw
        ) as v
        where ct.step_id is not null
    ) as r on true
$$;


ALTER FUNCTION app._campaign_plan_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: _campaign_record_error(timestamp with time zone, uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_record_error(p_now timestamp with time zone, p_org_id uuid, p_id uuid, p_error text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_zone text;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = p_org_id and e.id = p_id;
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = v_e.campaign_id;
    select app._campaign_timezone(
        p_contact_timezone => k.timezone,
        p_campaign_timezone => v_c.timezone,
        p_use_contact => v_c.use_contact_timezone
    ) into v_zone
    from app.contacts as k
    where k.org_id = p_org_id and k.id = v_e.contact_id;
    v_zone := coalesce(v_zone, v_c.timezone);
    update app.campaign_enrollments as e
    set
        error_count = e.error_count + 1,
        last_error = left(p_error, 1000),
        last_error_at = p_now,
        status = case when e.error_count + 1 >= 3 then 'paused' else e.status end,
        stop_reason = case when e.error_count + 1 >= 3 then 'errors' else e.stop_reason end,
        next_step_at = case
            when e.error_count + 1 >= 3 then e.next_step_at
            else app._campaign_next_send_time(
                p_ts => p_now + interval '5 minutes' * (e.error_count + 1),
                p_timezone => v_zone, p_window_start => v_c.send_window_start,
                p_window_end => v_c.send_window_end, p_send_days => v_c.send_days
            )
        end,
        updated_at = p_now
    where e.org_id = p_org_id and e.id = p_id;
    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail, scheduled_at
    )
    values (
        p_org_id, v_e.campaign_id, p_id, v_e.current_step + 1, 'none', 'failed',
        left(p_error, 1000)
        || case when v_e.error_count + 1 >= 3 then ' (3 errors in a row: paused)' else '' end,
        v_e.next_step_at
    );
    if v_e.error_count + 1 >= 3 then
        perform app._campaign_notify(
            p_org_id => p_org_id,
            p_user_id => v_c.owner_id,
            p_template => 'campaign_enrollment_paused',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_c.name),
                'contact', jsonb_build_object(
                    'name',
                    (
                        select k.full_name from app.contacts as k
                        where k.org_id = p_org_id and k.id = v_e.contact_id
                    )
                ),
                'error', left(p_error, 200)
            ),
            p_campaign_id => v_c.id
        );
    end if;
end
$$;


ALTER FUNCTION app._campaign_record_error(p_now timestamp with time zone, p_org_id uuid, p_id uuid, p_error text) OWNER TO intime_owner;

--
-- Name: _campaign_release_parked(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_release_parked(p_org_id uuid, p_campaign_id uuid) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_count integer;
begin
    update app.campaign_enrollments as e
    set
        status = 'active',
        stop_reason = null,
        next_step_at = greatest(e.next_step_at, app.now()),
        updated_at = app.now()
    where
        e.org_id = p_org_id and e.campaign_id = p_campaign_id and e.status = 'paused'
        and e.stop_reason = 'campaign_paused';
    get diagnostics v_count = row_count;
    return v_count;
end
$$;


ALTER FUNCTION app._campaign_release_parked(p_org_id uuid, p_campaign_id uuid) OWNER TO intime_owner;

--
-- Name: _campaign_run_batch(timestamp with time zone, uuid[], uuid[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_run_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) RETURNS app.campaign_batch_counts
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_counts app.campaign_batch_counts;
    v_paused record;
begin
    -- Daily send limits: one counter row per campaign and local day, locked
    -- so that concurrent ticks of one campaign never exceed it.
    insert into app.campaign_daily_sends as d (org_id, campaign_id, local_date, sent)
    select distinct e.org_id, e.campaign_id, (p_now at time zone c.timezone)::date, 0
    from unnest(p_org_ids, p_ids) as x (org_id, id)
    inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
    inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
    where c.daily_send_limit is not null
    order by 1, 2
    on conflict (org_id, campaign_id, local_date) do update set sent = d.sent;

    -- What to do is decided read-only (app._campaign_plan_batch); this
    -- statement adds the new rows' ids and tokens and carries it out.
    with plan as materialized (
        select
            d.*,
            case when d.act = 'run' and d.channel = 'email' then gen_random_uuid() end
                as send_id,
            case when d.act = 'run' and d.channel in ('linkedin', 'phone', 'task')
                    then gen_random_uuid() end as activity_id,
            case when d.act = 'run' and d.channel = 'email'
                    then replace(gen_random_uuid()::text, '-', '') end as reply_token
        from app._campaign_plan_batch(p_now => p_now, p_org_ids => p_org_ids, p_ids => p_ids) as d
    ),

    sends as (
        insert into app.email_sends (
            org_id, id, to_email, from_email, from_name, reply_to, subject, html_body, text_body,
            category, template_id, variables, entity_type, entity_id, enrollment_id, status,
            provider, message_id, reply_token, unsubscribe_token, queued_at, created_by,
            created_at, updated_at
        )
        select
            p.org_id, p.send_id, p.email, st.from_email, st.from_name,
            format('reply+%s@%s', p.reply_token, st.reply_domain),
            p.subject, p.body_html, p.body_text, 'campaign', p.template_id,
            jsonb_build_object(
                'campaign_id', p.campaign_id, 'step_number', p.step_number,
                'ab_variant', p.variant
            ),
            'contact', p.contact_id, p.id, 'queued', st.provider,
            format('<%s@%s>', p.send_id, st.reply_domain), p.reply_token,
            replace(gen_random_uuid()::text, '-', ''),
            -- The batch's clock, not a column default per row (app.now() per
            -- row and column was a fifth of the tick's time).
            p_now, null, p_now, p_now
        from plan as p
        inner join app.email_settings as st on st.org_id = p.org_id
        where p.send_id is not null
        returning email_sends.org_id, email_sends.id
    ),

    jobs as (
        insert into queue.pgqueuer (
            priority, entrypoint, payload, status, execute_after, dedupe_key
        )
        select
            0, 'email.send',
            convert_to(
                format('{"org_id": "%s", "email_send_id": "%s"}', s.org_id, s.id), 'UTF8'
            ),
            'queued', pg_catalog.now(), 'email.send:' || s.id
        from sends as s
    ),

    activities as (
        insert into app.activities (
            org_id, id, entity_type, entity_id, type, subject, description, status, priority,
            due_date, assignee_id, metadata
        )
        select
            p.org_id, p.activity_id, 'contact', p.contact_id,
            case p.channel when 'phone' then 'call' else 'task' end,
            case p.channel
                when 'linkedin'
                    then 'LinkedIn: ' || coalesce(p.task_config ->> 'title', 'Send LinkedIn message')
                when 'phone'
                    then 'Call: ' || coalesce(p.task_config ->> 'title', 'Campaign follow-up call')
                else coalesce(p.task_config ->> 'title', 'Campaign task')
            end,
            p.task_config ->> 'description',
            case p.channel when 'phone' then 'scheduled' else 'open' end,
            coalesce(p.task_config ->> 'priority', 'normal'),
            p_now + make_interval(
                secs => coalesce((p.task_config ->> 'due_hours')::numeric, 24) * 3600
            ),
            p.owner_id,
            jsonb_build_object(
                'campaign_id', p.campaign_id, 'enrollment_id', p.id,
                'sequence_step', p.step_number, 'channel', p.channel
            )
        from plan as p
        where p.activity_id is not null
    ),

    daily as (
        update app.campaign_daily_sends as d
        set sent = d.sent + n.sends
        from (
            select p.org_id, p.campaign_id, p.local_date, count(*) as sends
            from plan as p
            where p.send_id is not null and p.daily_send_limit is not null
            group by p.org_id, p.campaign_id, p.local_date
        ) as n
        where
            d.org_id = n.org_id and d.campaign_id = n.campaign_id
            and d.local_date = n.local_date
    ),

    moved as (
        update app.campaign_enrollments as e
        set
            status = case
                when p.act in ('run', 'skip', 'skip_sms') and p.next_number is null
                    then 'completed'
                when p.act = 'complete' then 'completed'
                when p.act = 'stop_contact' then 'stopped'
                when p.act = 'suppressed' then 'stopped'
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses then 'paused'
                else e.status
            end,
            stop_reason = case
                when p.act = 'stop_contact' then case
                    when p.contact_gone then 'contact_deleted'
                    else 'do_not_contact'
                end
                when p.act = 'suppressed' then 'suppressed'
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses
                    then 'errors'
                else e.stop_reason
            end,
            current_step = case
                when p.act in ('run', 'skip', 'skip_sms') then p.step_number
                else e.current_step
            end,
            steps_completed = e.steps_completed
            + (p.act in ('run', 'skip', 'skip_sms'))::integer,
            last_step_at = case
                when p.act in ('run', 'skip', 'skip_sms') then p_now
                else e.last_step_at
            end,
            next_step_at = case
                when p.act in ('run', 'skip', 'skip_sms', 'defer_limit') then p.due_at
                when p.act = 'defer_window' then p.open_at
                when p.act in ('error_address', 'error_settings', 'error_condition') and not p.pauses
                    then app._campaign_next_send_time(
                        p_ts => p_now + interval '5 minutes' * (e.error_count + 1),
                        p_timezone => p.zone, p_window_start => p.send_window_start,
                        p_window_end => p.send_window_end, p_send_days => p.send_days
                    )
                when p.act in ('error_address', 'error_settings', 'error_condition') then e.next_step_at
            end,
            emails_sent = e.emails_sent + (p.send_id is not null)::integer,
            linkedin_sent = e.linkedin_sent
            + (p.activity_id is not null and p.channel = 'linkedin')::integer,
            calls_made = e.calls_made + (p.activity_id is not null and p.channel = 'phone')::integer,
            tasks_created = e.tasks_created
            + (p.activity_id is not null and p.channel = 'task')::integer,
            ab_variant = coalesce(e.ab_variant, p.variant),
            error_count = case
                when p.act in ('error_address', 'error_settings', 'error_condition') then e.error_count + 1
                when p.act in ('run', 'skip', 'skip_sms') then 0
                else e.error_count
            end,
            last_error = case
                when p.act = 'error_address'
                    then format('invalid or missing email address %L', p.email)
                when p.act = 'error_settings'
                    then 'email is not configured for this organization'
                when p.act = 'error_condition'
                    then 'a skip condition could not be evaluated'
                else e.last_error
            end,
            last_error_at = case
                when p.act in ('error_address', 'error_settings', 'error_condition') then p_now
                else e.last_error_at
            end,
            completed_at = case
                when (p.act in ('run', 'skip', 'skip_sms') and p.next_number is null)
                    or p.act = 'complete' then p_now
                else e.completed_at
            end,
            updated_at = p_now
        from plan as p
        where e.org_id = p.org_id and e.id = p.id
    ),

    logged as (
        insert into app.campaign_sequence_logs (
            org_id, campaign_id, enrollment_id, sequence_id, step_number, channel, status,
            detail, ab_variant, email_send_id, activity_id, scheduled_at, sent_at, created_at
        )
        select
            p.org_id, p.campaign_id, p.id, p.step_id, coalesce(p.step_number, p.current_step),
            coalesce(p.channel, 'none'),
            case p.act
                when 'run' then case when p.channel = 'wait' then 'completed' else 'sent' end
                when 'skip' then 'skipped'
                when 'skip_sms' then 'skipped'
                when 'defer_window' then 'deferred'
                when 'defer_limit' then 'deferred'
                when 'error_address' then 'failed'
                when 'error_settings' then 'failed'
                when 'error_condition' then 'failed'
                when 'suppressed' then 'suppressed'
                when 'stop_contact' then 'stopped'
                when 'complete' then 'completed'
            end,
            case p.act
                when 'run' then case when p.channel = 'wait' then 'wait elapsed' end
                when 'skip' then 'skipped: a skip condition holds'
                when 'skip_sms' then 'skipped: no sms provider configured'
                when 'defer_window' then 'outside the send window until ' || p.open_at
                when 'defer_limit' then 'daily send limit reached'
                when 'error_address' then format('invalid or missing email address %L', p.email)
                when 'error_settings' then 'email is not configured for this organization'
                when 'error_condition' then 'a skip condition could not be evaluated'
                when 'suppressed' then 'recipient is suppressed'
                when 'stop_contact' then case
                    when p.contact_gone then 'contact deleted'
                    else 'contact is do not contact'
                end
                when 'complete' then 'no steps left'
            end
            || case
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses
                    then ' (3 errors in a row: paused)'
                else ''
            end,
            p.variant, p.send_id, p.activity_id, p.next_step_at,
            case when p.act = 'run' then p_now end, p_now
        from plan as p
    )

    select
        count(*)::integer,
        (count(*) filter (where p.act = 'run'))::integer,
        (count(*) filter (where p.act in ('skip', 'skip_sms')))::integer,
        (count(*) filter (where p.act in ('error_address', 'error_settings', 'error_condition')))::integer,
        (count(*) filter (where p.act in ('defer_window', 'defer_limit')))::integer,
        (
            count(*) filter (
                where p.act = 'complete'
                or (p.act in ('run', 'skip', 'skip_sms') and p.next_number is null)
            )
        )::integer,
        (count(*) filter (where p.act in ('stop_contact', 'suppressed')))::integer
    into
        v_counts.processed, v_counts.sent, v_counts.skipped, v_counts.errored,
        v_counts.deferred, v_counts.completed, v_counts.stopped
    from plan as p;

    -- The owner hears about enrollments the third error in a row paused.
    for v_paused in
        select e.org_id, e.campaign_id, c.name as campaign_name, c.owner_id, e.last_error,
            k.full_name
        from unnest(p_org_ids, p_ids) as x (org_id, id)
        inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
        inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
        left join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id
        where e.status = 'paused' and e.stop_reason = 'errors' and e.last_error_at = p_now
    loop
        perform app._campaign_notify(
            p_org_id => v_paused.org_id,
            p_user_id => v_paused.owner_id,
            p_template => 'campaign_enrollment_paused',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_paused.campaign_name),
                'contact', jsonb_build_object('name', v_paused.full_name),
                'error', v_paused.last_error
            ),
            p_campaign_id => v_paused.campaign_id
        );
    end loop;
    return v_counts;
end
$$;


ALTER FUNCTION app._campaign_run_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) OWNER TO intime_owner;

--
-- Name: _campaign_skip_holds(jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_skip_holds(p_conditions jsonb, p_doc jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return exists (
        select
        from jsonb_array_elements(p_conditions) as c (condition)
        where app._wf_holds(c.condition, p_doc, null, null)
    );
exception when others then
    return null;
end
$$;


ALTER FUNCTION app._campaign_skip_holds(p_conditions jsonb, p_doc jsonb) OWNER TO intime_owner;

--
-- Name: _campaign_timezone(text, text, boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_timezone(p_contact_timezone text, p_campaign_timezone text, p_use_contact boolean) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_use_contact and app._valid_timezone(p_contact_timezone) then
        return p_contact_timezone;
    end if;
    return p_campaign_timezone;
end
$$;


ALTER FUNCTION app._campaign_timezone(p_contact_timezone text, p_campaign_timezone text, p_use_contact boolean) OWNER TO intime_owner;

--
-- Name: _campaign_two_proportion_z(bigint, bigint, bigint, bigint); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_two_proportion_z(p_success_a bigint, p_n_a bigint, p_success_b bigint, p_n_b bigint) RETURNS TABLE(z double precision, p_value double precision)
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_pool double precision;
    v_se double precision;
    v_z double precision;
begin
    if p_n_a is null or p_n_b is null or p_success_a is null or p_success_b is null
        or p_n_a <= 0 or p_n_b <= 0 then
        return query select null::double precision, null::double precision;
        return;
    end if;
    if p_success_a < 0 or p_success_b < 0 or p_success_a > p_n_a or p_success_b > p_n_b then
        raise exception using
            errcode = 'IT005',
            message = format(
                'successes must be between 0 and the trials (%s/%s, %s/%s)',
                p_success_a, p_n_a, p_success_b, p_n_b
            );
    end if;
    v_pool := (p_success_a + p_success_b)::double precision / (p_n_a + p_n_b);
    v_se := sqrt(v_pool * (1 - v_pool) * (1.0 / p_n_a + 1.0 / p_n_b));
    if v_se = 0 then
        return query select 0::double precision, 1::double precision;
        return;
    end if;
    v_z := (p_success_a::double precision / p_n_a - p_success_b::double precision / p_n_b) / v_se;
    return query select v_z, least(1.0, 2 * app._campaign_normal_cdf(-abs(v_z)));
end
$$;


ALTER FUNCTION app._campaign_two_proportion_z(p_success_a bigint, p_n_a bigint, p_success_b bigint, p_n_b bigint) OWNER TO intime_owner;

--
-- Name: _campaign_values(text[], boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_values(p_values text[], p_html boolean) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_html then
        return array(
            select replace(replace(replace(replace(replace(replace(
                coalesce(v.value, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'),
                '''', '&#39;'), '{', chr(1))
            from unnest(p_values) with ordinality as v (value, i)
            order by v.i
        );
    end if;
    return array(
        select replace(coalesce(v.value, ''), '{', chr(1))
        from unnest(p_values) with ordinality as v (value, i)
        order by v.i
    );
end
$$;


ALTER FUNCTION app._campaign_values(p_values text[], p_html boolean) OWNER TO intime_owner;

--
-- Name: _campaign_variables(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._campaign_variables() RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return array[
        'contact.first_name', 'contact.last_name', 'contact.full_name', 'contact.name',
        'contact.email', 'contact.company', 'contact.title', 'campaign.name',
        'sender.name', 'sender.first_name', 'sender.email'
    ];
end
$$;


ALTER FUNCTION app._campaign_variables() OWNER TO intime_owner;

--
-- Name: _email_apply_bounce_report(uuid, uuid, text, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_apply_bounce_report(p_org_id uuid, p_send_id uuid, p_message_id text, p_dsn jsonb) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_event_id text := 'dsn:' || p_message_id;
    v_recipients jsonb := case
        when jsonb_typeof(p_dsn -> 'recipients') = 'array' then p_dsn -> 'recipients'
        else '[]'
    end;
    v_to text;
    v_recipient jsonb;
    v_action text;
    v_status text;
    v_diagnostic text;
    v_kind text;
    v_data jsonb;
begin
    if exists (select from app.email_events as e where e.provider_event_id = v_event_id) then
        return null;
    end if;
    select s.to_email into v_to
    from app.email_sends as s
    where s.org_id = p_org_id and s.id = p_send_id;

    select r.value into v_recipient
    from jsonb_array_elements(v_recipients) with ordinality as r (value, n)
    where jsonb_typeof(r.value) = 'object' and r.value ->> 'action' in ('failed', 'delayed')
    order by
        coalesce(lower(r.value ->> 'recipient') = lower(v_to), false) desc,
        r.value ->> 'action' = 'failed' desc,
        r.n
    limit 1;
    if v_recipient is null and jsonb_array_length(v_recipients) > 0 then
        return null;  -- every recipient delivered, relayed or expanded
    end if;

    v_action := coalesce(v_recipient ->> 'action', 'failed');
    v_status := substring(v_recipient ->> 'status' from '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$');
    v_diagnostic := left(coalesce(
        v_recipient ->> 'diagnostic',
        case when v_recipient is null then 'bounce report without a delivery status' end
    ), 1000);
    v_kind := case
        when v_action = 'delayed' then 'delayed'
        -- A report the parser could not read: a soft bounce, three suppress.
        when v_recipient is null then 'soft'
        when v_status like '4.%' then 'soft'
        else 'hard'
    end;
    v_data := jsonb_build_object(
        'to', jsonb_build_array(v_to),
        'dsn', jsonb_strip_nulls(jsonb_build_object(
            'message_id', p_message_id,
            'source', left(p_dsn ->> 'source', 100),
            'recipient', left(v_recipient ->> 'recipient', 320),
            'action', v_action,
            'status', v_status,
            'diagnostic', v_diagnostic,
            'remote_mta', left(v_recipient ->> 'remote_mta', 1000),
            'reporting_mta', left(p_dsn ->> 'reporting_mta', 1000)
        ))
    );
    if v_kind <> 'delayed' then
        v_data := v_data || jsonb_build_object('bounce', jsonb_strip_nulls(jsonb_build_object(
            'type', case when v_kind = 'hard' then 'Permanent' else 'Transient' end,
            'subType', 'dsn',
            'message', v_diagnostic,
            'status', v_status
        )));
    end if;
    perform app._email_apply_event(
        p_org_id, p_send_id, v_event_id,
        jsonb_build_object(
            'type', case when v_kind = 'delayed' then 'email.delivery_delayed' else 'email.bounced' end,
            'data', v_data
        ),
        app.now()
    );
    return v_kind;
end
$_$;


ALTER FUNCTION app._email_apply_bounce_report(p_org_id uuid, p_send_id uuid, p_message_id text, p_dsn jsonb) OWNER TO intime_owner;

--
-- Name: _email_apply_event(uuid, uuid, text, jsonb, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_apply_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
        -- The enhanced status code of a bounce report (app._email_apply_bounce_report).
        bounce_status = case
            when v_type = 'email.bounced' then coalesce(
                substring(v_data -> 'bounce' ->> 'status' from '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$'),
                s.bounce_status
            )
            else s.bounce_status
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
$_$;


ALTER FUNCTION app._email_apply_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) OWNER TO intime_owner;

--
-- Name: _email_assert_domain_free(uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_assert_domain_free(p_org_id uuid, p_domain text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if app._email_domain_owner(p_domain) <> p_org_id then
        raise exception using
            errcode = 'IT006',
            message = format('the domain %s is verified by another organization', p_domain);
    end if;
end
$$;


ALTER FUNCTION app._email_assert_domain_free(p_org_id uuid, p_domain text) OWNER TO intime_owner;

--
-- Name: _email_auto_reply_rules(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_auto_reply_rules() RETURNS TABLE(priority integer, signal text, pattern text, also_signal text, also_pattern text, kind text, reason text)
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    values
    -- Bounce reports first: a DSN may say Auto-Submitted: auto-replied and still is
    -- no out-of-office.
    (
        10, 'header:content-type',
        '^\s*multipart/report\M.*\mreport-type\s*=\s*"?(global-)?delivery-status', null, null,
        'bounce', 'content-type: multipart/report (delivery status)'
    ),
    (11, 'header:x-failed-recipients', '\S', null, null, 'bounce', 'x-failed-recipients'),
    (
        12, 'header:auto-submitted', '^\s*auto-generated\s*\(\s*failure\s*\)', null, null,
        'bounce', 'auto-submitted: %s'
    ),
    (
        13, 'header:from', '(^|[<\s"])(mailer-daemon|mailer_daemon|mail-daemon|postmaster)@',
        'subject',
        '(undeliver|not (been )?delivered|delivery (status notification|failure|failed'
        || '|has failed|problem)|failure notice|returned mail|mail delivery (failed|failure'
        || '|subsystem|system)|non[- ]?delivery|could not be delivered|unzustellbar'
        || '|nicht zugestellt|non remis|non distribu|no (se )?(pudo|puede) (ser )?entregar'
        || '|onbestelbaar|niet (be)?zorgd|non recapitat|mancato recapito|n[ãa]o (foi )?entregue'
        || '|falha na entrega)',
        'bounce', 'mailer-daemon or postmaster sender with a delivery failure subject'
    ),
    -- Out of office: a vacation header, or a localized subject prefix.
    (20, 'header:x-apple-action', '^\s*vacation\M', null, null,
        'out_of_office', 'x-apple-action: %s'),
    (
        21, 'subject',
        '^\s*(auto(matic)?[ -]?reply|auto[ -]?response|out of (the )?office|ooo\s*[:-]'
        || '|away until\M|on (vacation|holiday|leave)\M)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (en)'
    ),
    (
        22, 'subject',
        '^\s*(abwesenheitsnotiz|automatische antwort|abwesend\s*:|nicht im b(ü|ue)ro'
        || '|urlaubsantwort|abwesenheit\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (de)'
    ),
    (
        23, 'subject',
        '^\s*(r[ée]ponse automatique|absence\s*:|absent(e)?\s*:|absent(e)? du bureau'
        || '|message d.absence)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (fr)'
    ),
    (
        24, 'subject',
        '^\s*(respuesta autom[áa]tica|fuera de (la )?oficina|mensaje de ausencia)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (es)'
    ),
    (
        25, 'subject',
        '^\s*(automatisch antwoord|afwezig\s*:|afwezigheidsbericht|niet aanwezig'
        || '|buiten kantoor)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (nl)'
    ),
    (
        26, 'subject',
        '^\s*(risposta automatica|fuori (sede|ufficio)|assente\s*:|risposta di assenza)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (it)'
    ),
    (
        27, 'subject',
        '^\s*(resposta autom[áa]tica|fora do escrit[óo]rio|mensagem de aus[êe]ncia'
        || '|aus[êe]ncia\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (pt)'
    ),
    (28, 'subject', '^\s*ausente\s*:', null, null, 'out_of_office', 'subject: absent (es, pt)'),
    -- An absence phrase in the body of a message an automatic header marks.
    (
        40, 'body',
        '(out of (the )?office|\mi am (currently )?(away|out|on (vacation|holiday|leave))'
        || '|\mi''m (currently )?(away|out|on (vacation|holiday|leave))'
        || '|on (annual|parental|maternity|paternity|sick) leave'
        || '|limited access to (e-?mail|my (e-?mail|inbox))|\mback (in the office )?on\M'
        || '|returning to the office|will (be back|return) on\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (en)'
    ),
    (
        41, 'body',
        '(nicht im b(ü|ue)ro|\mabwesend\M|im urlaub|au(ß|ss)er haus|zur(ü|ue)ck am'
        || '|wieder erreichbar|wieder im b(ü|ue)ro)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (de)'
    ),
    (
        42, 'body',
        '(absente? du bureau|je suis absente?|en cong[ée]s?\M|en vacances|de retour le'
        || '|hors du bureau)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (fr)'
    ),
    (
        43, 'body',
        '(fuera de (la )?oficina|de vacaciones|estoy ausente|estar[ée] (de vuelta|fuera)'
        || '|regreso el|volver[ée] el)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (es)'
    ),
    (
        44, 'body',
        '(\mafwezig\M|met vakantie|niet op kantoor|ben ik weer|weer aanwezig|terug op)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (nl)'
    ),
    (
        45, 'body',
        '(fuori (sede|ufficio)|in ferie|sono assente|in vacanza|rientrer[òo]|di ritorno il)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (it)'
    ),
    (
        46, 'body',
        '(fora do escrit[óo]rio|de f[ée]rias|em f[ée]rias|estou ausente|estarei de volta'
        || '|retorno (em|no dia))',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (pt)'
    ),
    -- Other automatic mail (RFC 3834 and common practice): ticket acknowledgements,
    -- notifications, list mail.
    (60, 'header:auto-submitted', '^(?!\s*no\s*$)\s*\S', null, null,
        'automatic', 'auto-submitted: %s'),
    (61, 'header:x-autoreply', '^', null, null, 'automatic', 'x-autoreply'),
    (62, 'header:x-autorespond', '^', null, null, 'automatic', 'x-autorespond'),
    (63, 'header:precedence', '^\s*(bulk|junk|list|auto_reply)\s*$', null, null,
        'automatic', 'precedence: %s'),
    (64, 'header:return-path', '^\s*<\s*>\s*$', null, null, 'automatic', 'empty return-path'),
    (65, 'header:list-id', '\S', null, null, 'automatic', 'list-id: mailing list'),
    (66, 'header:list-unsubscribe', '\S', null, null,
        'automatic', 'list-unsubscribe: list or bulk mail'),
    -- Asks others not to auto-reply: a human message may carry it too (Outlook), so
    -- it only supports an absence phrase.
    (80, 'header:x-auto-response-suppress', '\S', null, null, null,
        'x-auto-response-suppress: %s')
$_$;


ALTER FUNCTION app._email_auto_reply_rules() OWNER TO intime_owner;

--
-- Name: _email_classify_auto_reply(jsonb, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_classify_auto_reply(p_headers jsonb, p_subject text, p_body text) RETURNS TABLE(kind text, reason text)
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    with input as (
        select coalesce(p_headers, '{}') as headers, left(p_body, 8000) as body
    ),
    valued as (
        select
            r.*,
            case
                when r.signal like 'header:%' then i.headers ->> substr(r.signal, 8)
                when r.signal = 'subject' then p_subject
                when r.signal = 'body' then i.body
            end as value,
            case
                when r.also_signal like 'header:%' then i.headers ->> substr(r.also_signal, 8)
                when r.also_signal = 'subject' then p_subject
                when r.also_signal = 'body' then i.body
            end as also_value
        from app._email_auto_reply_rules() as r
        cross join input as i
    ),
    hits as (
        select
            v.*,
            replace(v.reason, '%s', lower(btrim(left(v.value, 200)))) as said
        from valued as v
        where
            v.value ~* v.pattern
            and (
                v.also_signal is null or v.also_signal = 'automatic'
                or v.also_value ~* v.also_pattern
            )
    ),
    automatic as (
        select h.said
        from hits as h
        where h.kind is null or h.kind = 'automatic'
        order by h.priority
        limit 1
    )
    select
        h.kind,
        h.said || case when h.also_signal = 'automatic' then '; ' || a.said else '' end
    from hits as h
    left join automatic as a on true
    where
        h.kind is not null
        and (h.also_signal is distinct from 'automatic' or a.said ~* h.also_pattern)
    order by h.priority
    limit 1
$$;


ALTER FUNCTION app._email_classify_auto_reply(p_headers jsonb, p_subject text, p_body text) OWNER TO intime_owner;

--
-- Name: _email_domain_argument(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_domain_argument(p_domain text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_domain text := lower(p_domain);
begin
    if not coalesce(app._email_is_domain(v_domain), false) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid domain %L', p_domain),
            hint = 'A domain name such as mail.example.com: letters, digits and hyphens, '
            || 'labels of 1 to 63 characters, no trailing dot.';
    end if;
    return v_domain;
end
$$;


ALTER FUNCTION app._email_domain_argument(p_domain text) OWNER TO intime_owner;

--
-- Name: _email_domain_owner(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_domain_owner(p_domain text) RETURNS uuid
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select d.org_id from app.sending_domains as d
    where d.domain = p_domain and d.verified_at is not null
$$;


ALTER FUNCTION app._email_domain_owner(p_domain text) OWNER TO intime_owner;

--
-- Name: _email_domain_records(uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_domain_records(p_org_id uuid, p_domain text DEFAULT NULL::text) RETURNS SETOF app.sending_domain_record
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select
        d.domain,
        '_intime-verify.' || d.domain,
        'intime-verification=' || d.token,
        d.verified_at,
        d.last_checked_at,
        d.last_error,
        d.created_at
    from app.sending_domains as d
    where d.org_id = p_org_id and (p_domain is null or d.domain = p_domain)
    order by d.domain
$$;


ALTER FUNCTION app._email_domain_records(p_org_id uuid, p_domain text) OWNER TO intime_owner;

--
-- Name: _email_domain_refusal(uuid, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_domain_refusal(p_org_id uuid, p_domain text, p_provider text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when app._email_domain_owner(p_domain) <> p_org_id
            then format('the domain %s is verified by another organization', p_domain)
        when not exists (
            select from app.sending_domains as d
            where d.domain = p_domain and d.org_id = p_org_id
        ) then format('the domain %s is not claimed by this organization', p_domain)
        when p_provider <> 'outbox' and not exists (
            select from app.sending_domains as d
            where d.domain = p_domain and d.org_id = p_org_id and d.verified_at is not null
        ) then format('the domain %s is not verified (needed for %s)', p_domain, p_provider)
    end
$$;


ALTER FUNCTION app._email_domain_refusal(p_org_id uuid, p_domain text, p_provider text) OWNER TO intime_owner;

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
    sending_until timestamp with time zone,
    reconciled integer DEFAULT 0 NOT NULL,
    is_test boolean DEFAULT false NOT NULL,
    bounce_status text,
    CONSTRAINT email_sends_bounce_status_check CHECK ((bounce_status ~ '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$'::text)),
    CONSTRAINT email_sends_bounce_type_check CHECK ((bounce_type = ANY (ARRAY['hard'::text, 'soft'::text]))),
    CONSTRAINT email_sends_category_check CHECK ((category = ANY (ARRAY['transactional'::text, 'marketing'::text, 'campaign'::text]))),
    CONSTRAINT email_sends_check CHECK (((status = 'suppressed'::text) = (suppression_reason IS NOT NULL))),
    CONSTRAINT email_sends_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sending'::text, 'sent'::text, 'delivery_delayed'::text, 'delivered'::text, 'opened'::text, 'clicked'::text, 'bounced'::text, 'complained'::text, 'failed'::text, 'suppressed'::text])))
);

ALTER TABLE ONLY app.email_sends FORCE ROW LEVEL SECURITY;


ALTER TABLE app.email_sends OWNER TO intime_owner;

--
-- Name: _email_insert_send(uuid, text, text, text, text, text, uuid, jsonb, text, uuid, timestamp with time zone, uuid, uuid, uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_insert_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid DEFAULT NULL::uuid, p_variables jsonb DEFAULT '{}'::jsonb, p_entity_type text DEFAULT NULL::text, p_entity_id uuid DEFAULT NULL::uuid, p_send_after timestamp with time zone DEFAULT NULL::timestamp with time zone, p_enrollment_id uuid DEFAULT NULL::uuid, p_workflow_action_id uuid DEFAULT NULL::uuid, p_notification_id uuid DEFAULT NULL::uuid, p_recipient_user_id uuid DEFAULT NULL::uuid) RETURNS app.email_sends
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settings app.email_settings%rowtype;
    v_reason text;
    v_row app.email_sends%rowtype;
    v_id uuid := gen_random_uuid();
    v_reply_token text := replace(gen_random_uuid()::text, '-', '');
begin
    if not coalesce(app._email_is_plain_address(p_to), false) then
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
    v_reason := app._email_suppression_reason(p_org_id, p_to, p_category);

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
        perform app._enqueue_job(
            p_entrypoint => 'email.send',
            p_payload => jsonb_build_object('org_id', p_org_id, 'email_send_id', v_id),
            p_at => p_send_after,
            p_dedupe_key => 'email.send:' || v_id
        );
    end if;
    return v_row;
end
$$;


ALTER FUNCTION app._email_insert_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid) OWNER TO intime_owner;

--
-- Name: _email_is_domain(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_is_domain(p_domain text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    select
        p_domain ~ '^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+([a-z][a-z]+|xn--[a-z0-9-]+)$'
        -- 238: the TXT record's name, _intime-verify.<domain>, must fit in 253.
        and length(p_domain) <= 238
        and p_domain !~ '[^.]{64}'
$_$;


ALTER FUNCTION app._email_is_domain(p_domain text) OWNER TO intime_owner;

--
-- Name: _email_is_plain_address(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_is_plain_address(p_address text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    -- No bounded repetition ({0,61}) in the pattern: PostgreSQL's regex engine
    -- pays for it on every call (17x here), and the campaign tick checks every
    -- recipient. Label lengths are checked apart.
    select
        p_address ~ (
            '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*'
            || '@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+'
            || '([A-Za-z][A-Za-z]+|xn--[A-Za-z0-9-]+)$'
        )
        and strpos(p_address, '=?') = 0
        and length(p_address) <= 254
        and length(split_part(p_address, '@', 1)) <= 64
        and split_part(p_address, '@', 2) !~ '[^.]{64}'
$_$;


ALTER FUNCTION app._email_is_plain_address(p_address text) OWNER TO intime_owner;

--
-- Name: _email_lock_provider_message(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_lock_provider_message(p_provider_message_id text) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('intime.email:' || p_provider_message_id, 0)
    )
$$;


ALTER FUNCTION app._email_lock_provider_message(p_provider_message_id text) OWNER TO intime_owner;

--
-- Name: _email_mark_domain(uuid, text, boolean, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_mark_domain(p_org_id uuid, p_domain text, p_verified boolean, p_error text) RETURNS SETOF app.sending_domain_record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    update app.sending_domains as d
    set
        verified_at = case when p_verified then coalesce(d.verified_at, app.now()) end,
        last_checked_at = app.now(),
        last_error = p_error
    where d.org_id = p_org_id and d.domain = p_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', p_domain);
    end if;
    return query select * from app._email_domain_records(p_org_id, p_domain);
end
$$;


ALTER FUNCTION app._email_mark_domain(p_org_id uuid, p_domain text, p_verified boolean, p_error text) OWNER TO intime_owner;

--
-- Name: _email_message_id(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_message_id(p_value text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when nullif(btrim(p_value), '') is null then null
        else '<' || btrim(btrim(p_value), '<>') || '>'
    end
$$;


ALTER FUNCTION app._email_message_id(p_value text) OWNER TO intime_owner;

--
-- Name: _email_require_platform(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_require_platform() RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_service();
    if app.current_user_id() is not null then
        raise exception using
            errcode = 'IT002',
            message = 'this function is for the platform: the service role acting for no user';
    end if;
end
$$;


ALTER FUNCTION app._email_require_platform() OWNER TO intime_owner;

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
-- Name: _email_suppression_reason(uuid, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_suppression_reason(p_org_id uuid, p_email text, p_category text) RETURNS text
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


ALTER FUNCTION app._email_suppression_reason(p_org_id uuid, p_email text, p_category text) OWNER TO intime_owner;

--
-- Name: _email_take_send_token(uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._email_take_send_token(p_org_id uuid) RETURNS double precision
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


ALTER FUNCTION app._email_take_send_token(p_org_id uuid) OWNER TO intime_owner;

--
-- Name: _enable_tenant_rls(regclass); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._enable_tenant_rls(p_table regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    execute format('alter table %s enable row level security', p_table);
    execute format('alter table %s force row level security', p_table);
    if not exists (
        select from pg_catalog.pg_policy as p
        where p.polrelid = p_table and p.polname = 'tenant_isolation'
    ) then
        execute format(
            'create policy tenant_isolation on %s '
            'using (org_id = (select app.current_org_id())) '
            'with check (org_id = (select app.current_org_id()))',
            p_table
        );
    end if;
end
$$;


ALTER FUNCTION app._enable_tenant_rls(p_table regclass) OWNER TO intime_owner;

--
-- Name: _enqueue_job(text, jsonb, timestamp with time zone, text, boolean); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._enqueue_job(p_entrypoint text, p_payload jsonb, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone, p_dedupe_key text DEFAULT NULL::text, p_skip_duplicate boolean DEFAULT false) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_job_id bigint;
    -- clock_timestamp, not now(): app.now() is the clock's time too, and a job due
    -- at the transaction's start would run a few milliseconds before p_at (a
    -- runner finding its timer not yet due drops the job; the sweeper then wakes
    -- the execution up to a minute late).
    v_after timestamptz := pg_catalog.clock_timestamp()
        + greatest(coalesce(p_at - app.now(), '0'), interval '0');
    v_payload bytea := convert_to(p_payload::text, 'UTF8');
begin
    if p_skip_duplicate then
        insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
        values (0, p_entrypoint, v_payload, 'queued', v_after, p_dedupe_key)
        on conflict do nothing
        returning id into v_job_id;
    else
        insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after, dedupe_key)
        values (0, p_entrypoint, v_payload, 'queued', v_after, p_dedupe_key)
        returning id into v_job_id;
    end if;
    return v_job_id;
end
$$;


ALTER FUNCTION app._enqueue_job(p_entrypoint text, p_payload jsonb, p_at timestamp with time zone, p_dedupe_key text, p_skip_duplicate boolean) OWNER TO intime_owner;

--
-- Name: _ensure_trigger(regclass, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_statement text := format('create trigger %I %s', p_name, format(p_body, p_table));
    v_tag text := 'intime:' || md5(v_statement);
    v_comment text;
begin
    perform set_config(
        'intime.ensured_triggers',
        coalesce(current_setting('intime.ensured_triggers', true), '')
        || p_table::oid::bigint || '/' || p_name || ',',
        true
    );
    select pg_catalog.obj_description(t.oid, 'pg_trigger') into v_comment
    from pg_catalog.pg_trigger as t
    where t.tgrelid = p_table and t.tgname = p_name and not t.tgisinternal;
    if found then
        if v_comment is not distinct from v_tag then
            return false;
        end if;
        execute format('drop trigger %I on %s', p_name, p_table);
    end if;
    execute v_statement;
    execute format('comment on trigger %I on %s is %L', p_name, p_table, v_tag);
    return true;
end
$$;


ALTER FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) OWNER TO intime_owner;

--
-- Name: _has_permission(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._has_permission(p_permission text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_role text;
    v_default text[];
    v_granted boolean;
begin
    select p.default_roles into v_default from app.permissions as p where p.name = p_permission;
    if not found then
        raise exception using
            errcode = 'IT005', message = format('unknown permission %L', p_permission);
    end if;
    if app.current_user_id() is null then
        return app._is_service();
    end if;
    select u.role into v_role
    from app.user_profiles as u
    where u.org_id = app.current_org_id() and u.id = app.current_user_id() and u.is_active;
    if v_role is null then
        return false;
    end if;
    if v_role = 'admin' then
        return true;
    end if;
    select r.granted into v_granted
    from app.role_permissions as r
    where r.org_id = app.current_org_id() and r.role = v_role and r.permission = p_permission;
    return coalesce(v_granted, v_role = any(v_default));
end
$$;


ALTER FUNCTION app._has_permission(p_permission text) OWNER TO intime_owner;

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
-- Name: _notification_assert_channels(text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_assert_channels(p_channels text[]) RETURNS void
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


ALTER FUNCTION app._notification_assert_channels(p_channels text[]) OWNER TO intime_owner;

--
-- Name: _notification_check_sender(uuid[], text[], boolean, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_check_sender(p_user_ids uuid[], p_channels text[], p_critical boolean, p_action_url text) RETURNS text[]
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_user_id uuid := app.current_user_id();
    v_count integer := coalesce(cardinality(p_user_ids), 0);
    v_channels text[] := p_channels;
begin
    if v_user_id is null then
        return v_channels;
    end if;
    if coalesce(p_critical, false) then
        perform app._require_permission('notifications.send_critical');
    end if;
    if p_action_url ~* '^https?://' then
        perform app._require_permission('notifications.link_external');
    end if;
    if exists (select from unnest(p_user_ids) as u (id) where u.id is distinct from v_user_id)
        and not app._has_permission('notifications.send_email') then
        if 'email' = any(v_channels) then
            perform app._require_permission('notifications.send_email');
        end if;
        v_channels := coalesce(v_channels, array['in_app']);
    end if;
    perform app._require_send_rate('notification', v_count);
    return v_channels;
end
$$;


ALTER FUNCTION app._notification_check_sender(p_user_ids uuid[], p_channels text[], p_critical boolean, p_action_url text) OWNER TO intime_owner;

--
-- Name: _notification_content(app.notification_request); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_content(p_request app.notification_request) RETURNS app.notification_content
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_now timestamptz := app.now();
    v_vars jsonb := coalesce(p_request.variables, '{}');
    v_tpl record;
    v_missing text[];
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
begin
    if p_request.user_ids is null or cardinality(p_request.user_ids) = 0 then
        raise exception using errcode = 'IT005', message = 'no recipients given';
    end if;
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;
    perform app._notification_assert_channels(p_request.channels);
    if p_request.expires_at is not null and p_request.expires_at <= v_now then
        raise exception using errcode = 'IT005', message = 'p_expires_at is in the past';
    end if;
    if length(p_request.group_key) > 200 then
        raise exception using errcode = 'IT005', message = 'p_group_key is longer than 200';
    end if;

    if p_request.template_slug is not null then
        if p_request.title is not null or p_request.message is not null then
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
            where o.org_id = p_request.org_id and o.slug = p_request.template_slug and o.is_active
            union all
            select s.category, s.title_template, s.message_template, s.default_type,
                s.default_priority, s.action_url_template, s.action_label,
                s.email_subject_template, s.email_body_template, s.email_body_text_template,
                s.default_channels, s.variables, 1 as rank
            from app.notification_system_templates as s
            where s.slug = p_request.template_slug and s.is_active
        ) as t
        order by t.rank
        limit 1;
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format('notification template %s not found', p_request.template_slug);
        end if;
        v_missing := app._missing_variables(v_tpl.variables, v_vars);
        if cardinality(v_missing) > 0 then
            raise exception using
                errcode = 'IT010',
                message = format(
                    'template %s is missing required variables: %s',
                    p_request.template_slug, array_to_string(v_missing, ', ')
                );
        end if;
        v_category := coalesce(p_request.category, v_tpl.category);
        v_title := app._render(v_tpl.title_template, v_vars, 'none');
        v_message := app._render(v_tpl.message_template, v_vars, 'none');
        v_action_url := coalesce(
            p_request.action_url, nullif(app._render(v_tpl.action_url_template, v_vars, 'url'), '')
        );
        v_action_label := coalesce(p_request.action_label, v_tpl.action_label);
        v_type := coalesce(p_request.type, v_tpl.default_type);
        v_priority := coalesce(p_request.priority, v_tpl.default_priority);
        v_requested := coalesce(to_jsonb(p_request.channels), v_tpl.default_channels);
        v_subject_tpl := v_tpl.email_subject_template;
        v_body_tpl := v_tpl.email_body_template;
        v_text_tpl := v_tpl.email_body_text_template;
    else
        if p_request.title is null or p_request.message is null or p_request.category is null then
            raise exception using
                errcode = 'IT005',
                message = 'give p_template_slug, or p_category with p_title and p_message';
        end if;
        v_category := p_request.category;
        v_title := p_request.title;
        v_message := p_request.message;
        v_action_url := p_request.action_url;
        v_action_label := p_request.action_label;
        v_type := coalesce(p_request.type, 'info');
        v_priority := coalesce(p_request.priority, 'normal');
        v_requested := to_jsonb(p_request.channels);
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
    return row(
        v_category, v_title, v_message, v_type, v_priority, v_action_url, v_action_label,
        v_requested, v_vars, v_email_subject, v_email_html, v_email_text
    )::app.notification_content;
end
$_$;


ALTER FUNCTION app._notification_content(p_request app.notification_request) OWNER TO intime_owner;

--
-- Name: _notification_effective_preference(uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_effective_preference(p_org_id uuid, p_user_id uuid, p_category text) RETURNS app.notification_preferences
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


ALTER FUNCTION app._notification_effective_preference(p_org_id uuid, p_user_id uuid, p_category text) OWNER TO intime_owner;

--
-- Name: _notification_email_deliveries(uuid, uuid[], text, text, text, text, text, uuid, uuid, uuid, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text DEFAULT NULL::text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_send app.email_sends;
    v_skip text := p_skip;
begin
    if v_skip is null then
        begin
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


ALTER FUNCTION app._notification_email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text) OWNER TO intime_owner;

--
-- Name: _notification_email_outcome(text, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_email_outcome(p_email_status text, p_error text, p_suppression_reason text, OUT status text, OUT reason text) RETURNS record
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
$$;


ALTER FUNCTION app._notification_email_outcome(p_email_status text, p_error text, p_suppression_reason text, OUT status text, OUT reason text) OWNER TO intime_owner;

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
-- Name: _notification_mark(uuid[], text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_mark(p_ids uuid[], p_mark text) RETURNS integer
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


ALTER FUNCTION app._notification_mark(p_ids uuid[], p_mark text) OWNER TO intime_owner;

--
-- Name: _notification_next_digest_at(timestamp with time zone, text, time without time zone, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) RETURNS timestamp with time zone
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


ALTER FUNCTION app._notification_next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) OWNER TO intime_owner;

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
    v_pref := app._notification_effective_preference(p_org_id, p_user_id, p_category);
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
        v_quiet_end := app._notification_quiet_hours_end(
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
        digest_at := app._notification_next_digest_at(
            p_now, v_pref.frequency, v_pref.digest_time, v_pref.digest_day,
            v_pref.quiet_hours_timezone
        );
    end if;
    return next;
end
$$;


ALTER FUNCTION app._notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone) OWNER TO intime_owner;

--
-- Name: _notification_queue_emails(uuid, uuid[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[]) RETURNS integer
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
$$;


ALTER FUNCTION app._notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[]) OWNER TO intime_owner;

--
-- Name: _notification_quiet_hours_end(timestamp with time zone, time without time zone, time without time zone, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) RETURNS timestamp with time zone
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


ALTER FUNCTION app._notification_quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) OWNER TO intime_owner;

--
-- Name: _notification_release_held(uuid, uuid, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_release_held(p_org_id uuid DEFAULT NULL::uuid, p_user_id uuid DEFAULT NULL::uuid, p_limit integer DEFAULT 1000) RETURNS jsonb
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
        cross join lateral app._notification_skip_reason(n, u.is_active, pl.suppressed, pl.channels,
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
            perform app._notification_queue_emails(v_org, v_pending);
        end loop;
    end if;
    return v_counts;
end
$$;


ALTER FUNCTION app._notification_release_held(p_org_id uuid, p_user_id uuid, p_limit integer) OWNER TO intime_owner;

--
-- Name: _notification_send(app.notification_request); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_send(p_request app.notification_request) RETURNS TABLE(user_id uuid, notification_id uuid, outcome text)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
    v_content app.notification_content := app._notification_content(p_request);
    v_critical boolean := coalesce(p_request.critical, false);
    v_unknown uuid[];
    v_users uuid[];
    v_ids uuid[];
    v_outcomes text[];
    v_expected bigint;
    v_pending uuid[];
begin
    -- A user's notification may not link off the app without the permission,
    -- whether the URL came as a parameter or out of a template and its variables.
    if v_content.action_url ~* '^https?://' and app.current_user_id() is not null then
        perform app._require_permission('notifications.link_external');
    end if;

    -- The transaction takes its xid before any seq is drawn: the stream hub
    -- settles a skipped seq once a snapshot's xmin passes an xid it drew after
    -- the read that skipped it (web/hub.py), and a transaction that drew a seq
    -- with no xid yet (an ON CONFLICT insert waits before it writes) could
    -- take an xid above that and commit the seq after that point.
    perform pg_catalog.pg_current_xact_id();

    -- An expired notification still holds its group open (it is unread);
    -- archive it so this one starts a new row instead of reviving it.
    if p_request.group_key is not null then
        update app.notifications as n
        set archived_at = v_now, updated_at = v_now
        where
            n.org_id = p_request.org_id
            and n.user_id = any(p_request.user_ids)
            and n.group_key = p_request.group_key
            and n.created_by is not distinct from app.current_user_id()
            and n.read_at is null
            and n.archived_at is null
            and n.expires_at <= v_now;
    end if;

    with plan as (
        select u.id as user_id, u.is_active, p.*
        from app.user_profiles as u
        cross join lateral app._notification_plan(
            p_request.org_id, u.id, v_content.category, v_content.requested_channels, v_critical, v_now
        ) as p
        where u.org_id = p_request.org_id and u.id = any(p_request.user_ids)
    ),

    upserted as (
        insert into app.notifications as n (
            org_id, user_id, title, message, type, category, priority, entity_type, entity_id,
            action_url, action_label, channels, template_slug, data, group_key, critical,
            silent, email_subject, email_html, email_text, expires_at, created_by,
            created_at, updated_at
        )
        select
            p_request.org_id, pl.user_id, v_content.title, v_content.message, v_content.type, v_content.category, v_content.priority,
            p_request.entity_type, p_request.entity_id, v_content.action_url, v_content.action_label, pl.channels,
            p_request.template_slug, v_content.variables, p_request.group_key, v_critical, pl.silent, v_content.email_subject,
            v_content.email_html, v_content.email_text, p_request.expires_at, app.current_user_id(), v_now, v_now
        from plan as pl
        where pl.is_active and not pl.suppressed
        on conflict (org_id, user_id, group_key, created_by)
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
            p_request.org_id, up.id, up.user_id, c.channel, s.status, s.reason,
            case s.status when 'held' then pl.hold_until when 'digest' then pl.digest_at end,
            v_now, v_now
        from upserted as up
        inner join plan as pl on pl.user_id = up.user_id
        cross join lateral jsonb_array_elements_text(pl.channels) as c (channel)
        cross join lateral (
            select
                c.channel <> 'email' or exists (
                    select from app.email_settings as e where e.org_id = p_request.org_id
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
        (select count(distinct r.id) from unnest(p_request.user_ids) as r (id))
    into v_users, v_ids, v_outcomes, v_pending, v_expected
    from plan as pl
    left join upserted as up on up.user_id = pl.user_id;

    -- A user outside the org: all or nothing (the raise undoes the writes).
    if coalesce(cardinality(v_users), 0) < v_expected then
        select array_agg(r.id order by r.id) into v_unknown
        from (select distinct unnest(p_request.user_ids) as id) as r
        where r.id <> all(coalesce(v_users, '{}'));
        raise exception using
            errcode = 'IT004',
            message = format(
                'no such user in this organization: %s', array_to_string(v_unknown[1:5], ', ')
            );
    end if;

    if v_pending is not null then
        perform app._notification_queue_emails(p_request.org_id, v_pending);
    end if;

    return query select * from unnest(v_users, v_ids, v_outcomes);
end
$$;


ALTER FUNCTION app._notification_send(p_request app.notification_request) OWNER TO intime_owner;

--
-- Name: _notification_send_due_digests(integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_send_due_digests(p_limit integer DEFAULT 500) RETURNS integer
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
            cross join lateral app._notification_skip_reason(
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

        v_sent := v_sent + app._notification_email_deliveries(
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


ALTER FUNCTION app._notification_send_due_digests(p_limit integer) OWNER TO intime_owner;

--
-- Name: _notification_skip_reason(app.notifications, boolean, boolean, jsonb, boolean, text, timestamp with time zone, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._notification_skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) RETURNS text
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


ALTER FUNCTION app._notification_skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) OWNER TO intime_owner;

--
-- Name: _ops_job_error(bigint); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ops_job_error(p_job_id bigint) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select t.traceback ->> 'exception_message'
    from queue.pgqueuer_log as t
    where t.job_id = p_job_id and t.traceback is not null
    order by t.id desc
    limit 1
$$;


ALTER FUNCTION app._ops_job_error(p_job_id bigint) OWNER TO intime_owner;

--
-- Name: _ops_reconcile_deliveries(integer, interval, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ops_reconcile_deliveries(p_limit integer, p_grace interval, p_max_rounds integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_settled integer;
    v_redriven integer;
    v_failed integer;
begin
    with settled as (
        select d.org_id, d.id, o.status, o.reason
        from app.notification_deliveries as d
        inner join app.email_sends as s on s.org_id = d.org_id and s.id = d.email_send_id
        cross join lateral app._notification_email_outcome(
            s.status, s.error, s.suppression_reason
        ) as o
        where
            d.status = 'pending' and d.updated_at < app.now() - p_grace
            and s.status not in ('queued', 'sending')
        order by d.updated_at
        limit p_limit
        for no key update of d skip locked
    )

    update app.notification_deliveries as d
    set status = x.status, reason = x.reason, updated_at = app.now()
    from settled as x
    where d.org_id = x.org_id and d.id = x.id;
    get diagnostics v_settled = row_count;

    with lost as (
        select d.org_id, d.id, d.attempts > p_max_rounds as poison
        from app.notification_deliveries as d
        where
            d.status = 'pending' and d.channel = 'email' and d.email_send_id is null
            and d.updated_at < app.now() - p_grace
        order by d.updated_at
        limit p_limit
        for no key update of d skip locked
    ),

    changed as (
        update app.notification_deliveries as d
        set
            status = case when l.poison then 'failed' else 'held' end,
            reason = case
                when l.poison then format('its email was lost %s times', d.attempts)
                else 'its email was lost: decided again by the next tick'
            end,
            deliver_after = case when not l.poison then app.now() end,
            updated_at = app.now()
        from lost as l
        where d.org_id = l.org_id and d.id = l.id
        returning l.poison
    )

    select count(*) filter (where not c.poison), count(*) filter (where c.poison)
    into v_redriven, v_failed
    from changed as c;

    return jsonb_build_object('settled', v_settled, 'redriven', v_redriven, 'failed', v_failed);
end
$$;


ALTER FUNCTION app._ops_reconcile_deliveries(p_limit integer, p_grace interval, p_max_rounds integer) OWNER TO intime_owner;

--
-- Name: _ops_reconcile_emails(integer, interval, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ops_reconcile_emails(p_limit integer, p_grace interval, p_max_rounds integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row record;
    v_requeued integer := 0;
    v_failed integer := 0;
begin
    for v_row in
        with stuck as (
            select
                s.org_id, s.id, s.status, s.send_after, s.reconciled,
                'email.send:' || s.id as dedupe_key
            from app.email_sends as s
            where
                s.status in ('queued', 'sending')
                and s.updated_at < app.now() - p_grace
                and (
                    s.status = 'queued'
                    or s.sending_until is null
                    or s.sending_until <= pg_catalog.clock_timestamp()
                )
                and not exists (
                    select from queue.pgqueuer as j
                    where j.dedupe_key = 'email.send:' || s.id and j.status in ('queued', 'picked')
                )
            order by s.updated_at
            limit p_limit
            for no key update of s skip locked
        ),

        -- Held jobs have no index on their dedupe key: one pass over the
        -- queue's failed email jobs for the whole batch.
        held as (
            select distinct on (j.dedupe_key) j.dedupe_key, j.id
            from queue.pgqueuer as j
            where
                j.entrypoint = 'email.send' and j.status = 'failed'
                and j.dedupe_key in (select s.dedupe_key from stuck as s)
            order by j.dedupe_key, j.id desc
        )

        select s.org_id, s.id, s.status, s.send_after, s.reconciled, s.dedupe_key, h.id as held_job_id
        from stuck as s
        left join held as h on h.dedupe_key = s.dedupe_key
    loop
        if v_row.reconciled >= p_max_rounds then
            update app.email_sends as s
            set
                status = 'failed',
                failed_at = app.now(),
                updated_at = app.now(),
                error = left(
                    format(
                        'left %s without a live job after %s re-queues by the reconciliation '
                        'sweep%s',
                        v_row.status, v_row.reconciled,
                        coalesce('; the job last failed with: ' || app._ops_job_error(v_row.held_job_id), '')
                    ),
                    2000
                )
            where s.org_id = v_row.org_id and s.id = v_row.id;
            v_failed := v_failed + 1;
        else
            update app.email_sends as s
            set reconciled = s.reconciled + 1, updated_at = app.now()
            where s.org_id = v_row.org_id and s.id = v_row.id;
            perform app._ops_revive_held_job(v_row.held_job_id, v_row.send_after);
            -- Queues a job unless the revived one holds the dedupe key.
            perform app._enqueue_job(
                p_entrypoint => 'email.send',
                p_payload => jsonb_build_object('org_id', v_row.org_id, 'email_send_id', v_row.id),
                p_at => v_row.send_after,
                p_dedupe_key => v_row.dedupe_key,
                p_skip_duplicate => true
            );
            v_requeued := v_requeued + 1;
        end if;
    end loop;
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end
$$;


ALTER FUNCTION app._ops_reconcile_emails(p_limit integer, p_grace interval, p_max_rounds integer) OWNER TO intime_owner;

--
-- Name: _ops_reconcile_lock(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ops_reconcile_lock() RETURNS boolean
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select pg_catalog.pg_try_advisory_xact_lock(444770002)
$$;


ALTER FUNCTION app._ops_reconcile_lock() OWNER TO intime_owner;

--
-- Name: _ops_revive_held_job(bigint, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._ops_revive_held_job(p_job_id bigint, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_job_id is null then
        return false;
    end if;
    begin
        update queue.pgqueuer as j
        set
            status = 'queued',
            execute_after = pg_catalog.now()
            + greatest(coalesce(p_at - app.now(), '0'), interval '0'),
            updated = pg_catalog.now(),
            attempts = 0,
            queue_manager_id = null
        where j.id = p_job_id and j.status = 'failed';
        return found;
    exception when unique_violation then
        return false;
    end;
end
$$;


ALTER FUNCTION app._ops_revive_held_job(p_job_id bigint, p_at timestamp with time zone) OWNER TO intime_owner;

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
-- Name: _require_permission(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._require_permission(p_permission text) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if not app._has_permission(p_permission) then
        raise exception using
            errcode = 'IT003',
            message = format('permission %s required', p_permission),
            hint = 'An org admin grants it to a role with api.set_role_permission.';
    end if;
end
$$;


ALTER FUNCTION app._require_permission(p_permission text) OWNER TO intime_owner;

--
-- Name: _require_send_rate(text, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._require_send_rate(p_kind text, p_sent integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app.current_org_id();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_rate integer;
    v_recent integer;
    v_oldest timestamptz;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
begin
    if v_user_id is null or coalesce(p_sent, 0) < 1 then
        return;
    end if;
    if v_lock_timeout = '0' then
        perform pg_catalog.set_config('lock_timeout', '5s', true);
    end if;
    begin
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('intime.send_rate:' || v_org_id || ':' || v_user_id, 0)
        );
    exception when lock_not_available then
        raise exception using
            errcode = 'IT016',
            message = 'another transaction of this user is sending and has not ended',
            hint = 'Retry in 5 seconds.';
    end;
    perform pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    select case p_kind
        when 'notification' then s.notification_rate_per_minute
        when 'email' then s.email_rate_per_minute
    end
    into v_rate
    from app.settings as s;
    if v_rate is null then
        raise exception using errcode = 'IT005', message = format('unknown send kind %L', p_kind);
    end if;
    select coalesce(sum(l.sent), 0), min(l.sent_at) into v_recent, v_oldest
    from app.send_log as l
    where
        l.org_id = v_org_id and l.user_id = v_user_id and l.kind = p_kind
        and l.sent_at > v_now - interval '1 minute';
    if v_recent + p_sent > v_rate then
        raise exception using
            errcode = 'IT016',
            message = format(
                'sending rate exceeded: %s %ss asked, %s left of %s a minute',
                p_sent, p_kind, greatest(v_rate - v_recent, 0), v_rate
            ),
            hint = format(
                'Retry in %s seconds.',
                ceil(extract(epoch from coalesce(v_oldest, v_now) + interval '1 minute' - v_now))
            );
    end if;
    insert into app.send_log (org_id, user_id, kind, sent_at, sent)
    values (v_org_id, v_user_id, p_kind, v_now, p_sent);
end
$$;


ALTER FUNCTION app._require_send_rate(p_kind text, p_sent integer) OWNER TO intime_owner;

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
-- Name: _secret_hash(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._secret_hash(p_secret text) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select sha256(convert_to(coalesce(p_secret, ''), 'UTF8'))
$$;


ALTER FUNCTION app._secret_hash(p_secret text) OWNER TO intime_owner;

--
-- Name: _tg_approval_field_lock(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_approval_field_lock() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_hit record;
begin
    if not exists (
        select from app.workflow_executions as e
        where
            e.approval_requested_at is not null
            and e.status in ('pending', 'running', 'waiting', 'paused')
    ) then
        return null;
    end if;
    select n.id, f.field, w.name as workflow, e.waiting_for into v_hit
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    inner join app.workflow_executions as e
        on
            e.org_id = n.org_id and e.entity_type = tg_argv[0] and e.entity_id = n.id
            and e.approval_requested_at is not null
            and e.status in ('pending', 'running', 'waiting', 'paused')
    inner join app.workflow_versions as v
        on v.org_id = e.org_id and v.workflow_id = e.workflow_id and v.version = e.workflow_version
    inner join app.workflows as w on w.org_id = e.org_id and w.id = e.workflow_id
    inner join app.entity_types as t on t.entity_type = tg_argv[0]
    cross join lateral unnest(
        app._wf_locked_fields(v.definition, t.status_field, t.owner_field)
    ) as f (field)
    where
        e.run_xid is distinct from pg_catalog.pg_current_xact_id_if_assigned()
        and to_jsonb(n) -> f.field is distinct from to_jsonb(o) -> f.field
    limit 1;
    if found then
        raise exception using
            errcode = 'IT014',
            message = format(
                '%s %s: %s is locked while workflow %L %s',
                tg_argv[0], v_hit.id, v_hit.field, v_hit.workflow,
                case
                    when v_hit.waiting_for = 'approval' then 'waits for its approval'
                    else 'carries out its approval'
                end
            ),
            hint = 'Change it when the workflow has ended, or ask an admin or the workflow''s '
            || 'owner to recall or cancel it.';
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_approval_field_lock() OWNER TO intime_owner;

--
-- Name: _tg_campaign_enrollment_totals(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_campaign_enrollment_totals() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_rows text;
begin
    -- Signed rows: +1 for the new image, -1 for the old one. The cumulative
    -- totals (enrolled, sent, opened, clicked, tasks) use csign, 0 for a
    -- deleted enrollment (its contact deleted): what was sent stays sent, as
    -- in the logs; the status totals count the enrollments that exist. Planned per
    -- statement (EXECUTE): a plan kept from a one-row statement would join a
    -- 10,000-row batch with nested loops.
    v_rows := case tg_op
        when 'INSERT' then 'select 1 as sign, 1 as csign, n.* from new_rows as n'
        when 'DELETE' then 'select -1 as sign, 0 as csign, o.* from old_rows as o'
        else 'select 1 as sign, 1 as csign, n.* from new_rows as n '
            || 'union all select -1 as sign, -1 as csign, o.* from old_rows as o'
    end;
    -- Lock the campaigns in key order first: concurrent ticks over the same
    -- campaigns then queue instead of deadlocking.
    execute format(
        'select from app.campaigns as c where (c.org_id, c.id) in '
        || '(select r.org_id, r.campaign_id from (%s) as r) '
        || 'order by c.org_id, c.id for update of c',
        v_rows
    );
    execute format(
        $sql$
        update app.campaigns as c
        set
            total_enrolled = c.total_enrolled + d.enrolled,
            total_active = c.total_active + d.active,
            total_completed = c.total_completed + d.completed,
            total_replied = c.total_replied + d.replied,
            total_bounced = c.total_bounced + d.bounced,
            total_unsubscribed = c.total_unsubscribed + d.unsubscribed,
            total_stopped = c.total_stopped + d.stopped,
            total_paused = c.total_paused + d.paused,
            total_sent = c.total_sent + d.sent,
            total_opened = c.total_opened + d.opened,
            total_clicked = c.total_clicked + d.clicked,
            total_tasks = c.total_tasks + d.tasks
        from (
            select
                r.org_id, r.campaign_id,
                coalesce(sum(r.csign) filter (where %1$s), 0) as enrolled,
                coalesce(sum(r.sign) filter (where r.status = 'active'), 0) as active,
                coalesce(sum(r.sign) filter (where r.status = 'completed'), 0) as completed,
                coalesce(sum(r.sign) filter (where r.status = 'replied'), 0) as replied,
                coalesce(sum(r.sign) filter (where r.status = 'bounced'), 0) as bounced,
                coalesce(sum(r.sign) filter (where r.status = 'unsubscribed'), 0) as unsubscribed,
                coalesce(sum(r.sign) filter (where r.status = 'stopped'), 0) as stopped,
                coalesce(sum(r.sign) filter (where r.status = 'paused'), 0) as paused,
                coalesce(sum(r.csign * r.emails_sent), 0) as sent,
                coalesce(
                    sum(r.csign) filter (
                        where r.first_opened_at is not null or r.first_clicked_at is not null
                    ),
                    0
                ) as opened,
                coalesce(sum(r.csign) filter (where r.first_clicked_at is not null), 0) as clicked,
                coalesce(
                    sum(r.csign * (r.linkedin_sent + r.calls_made + r.tasks_created)), 0
                ) as tasks
            from (%2$s) as r
            group by r.org_id, r.campaign_id
        ) as d
        where c.org_id = d.org_id and c.id = d.campaign_id
        $sql$,
        case tg_op when 'UPDATE' then 'false' else 'true' end,
        v_rows
    );
    return null;
end
$_$;


ALTER FUNCTION app._tg_campaign_enrollment_totals() OWNER TO intime_owner;

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
-- Name: _tg_email_send_campaign(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_email_send_campaign() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_stop_on_reply boolean;
    v_step integer;
    v_contact text;
    v_replied boolean := new.replied_at is not null and old.replied_at is null;
    v_bounced boolean := new.status = 'bounced' and old.status <> 'bounced';
    v_complained boolean := new.status = 'complained' and old.status <> 'complained';
    v_opens integer := greatest(new.open_count - old.open_count, 0);
    v_clicks integer := greatest(new.click_count - old.click_count, 0);
begin
    if not (v_replied or v_bounced or v_complained or v_opens > 0 or v_clicks > 0) then
        return null;
    end if;
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = new.org_id and e.id = new.enrollment_id
    for update;
    if not found then
        return null;
    end if;

    if v_opens > 0 or v_clicks > 0 then
        update app.campaign_enrollments as e
        set
            engagement_score = least(100, e.engagement_score + 10 * v_opens + 25 * v_clicks),
            first_opened_at = coalesce(
                e.first_opened_at, case when v_opens > 0 then new.first_opened_at end
            ),
            first_clicked_at = coalesce(
                e.first_clicked_at, case when v_clicks > 0 then new.first_clicked_at end
            ),
            updated_at = app.now()
        where e.org_id = v_e.org_id and e.id = v_e.id;
    end if;

    if v_bounced or v_complained then
        update app.campaign_enrollments as e
        set
            status = case
                when e.status in ('active', 'paused', 'completed')
                    then case when v_bounced then 'bounced' else 'unsubscribed' end
                else e.status
            end,
            stop_reason = case
                when e.status in ('active', 'paused', 'completed')
                    then case when v_bounced then 'bounce' else 'complaint' end
                else e.stop_reason
            end,
            next_step_at = case
                when e.status in ('active', 'paused', 'completed') then null
                else e.next_step_at
            end,
            bounced_at = case when v_bounced then coalesce(e.bounced_at, app.now()) else e.bounced_at end,
            unsubscribed_at = case
                when v_complained then coalesce(e.unsubscribed_at, app.now())
                else e.unsubscribed_at
            end,
            updated_at = app.now()
        where e.org_id = v_e.org_id and e.id = v_e.id;
        if v_e.status in ('active', 'paused', 'completed') then
            insert into app.campaign_sequence_logs (
                org_id, campaign_id, enrollment_id, step_number, channel, status, detail,
                email_send_id
            )
            values (
                v_e.org_id, v_e.campaign_id, v_e.id, v_e.current_step, 'email', 'stopped',
                case when v_bounced then 'bounced' else 'complaint' end, new.id
            );
        end if;
    end if;

    if v_replied then
        -- The step that sent this email decides (stop_on_reply, default on).
        -- The send carries its step (variables.step_number), so this holds
        -- after its log line was archived too.
        select s.stop_on_reply, s.step_number into v_stop_on_reply, v_step
        from app.campaign_sequences as s
        where
            s.org_id = v_e.org_id and s.campaign_id = v_e.campaign_id
            and s.step_number = case
                when new.variables ->> 'step_number' ~ '^[0-9]{1,9}$'
                    then (new.variables ->> 'step_number')::integer
            end;
        v_stop_on_reply := coalesce(v_stop_on_reply, true);
        update app.campaign_enrollments as e
        set
            replied_at = coalesce(e.replied_at, new.replied_at),
            status = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed')
                    then 'replied'
                else e.status
            end,
            stop_reason = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed')
                    then 'reply'
                else e.stop_reason
            end,
            next_step_at = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed') then null
                else e.next_step_at
            end,
            updated_at = app.now()
        where e.org_id = v_e.org_id and e.id = v_e.id;
        insert into app.campaign_sequence_logs (
            org_id, campaign_id, enrollment_id, step_number, channel, status, detail,
            email_send_id
        )
        values (
            v_e.org_id, v_e.campaign_id, v_e.id, coalesce(v_step, v_e.current_step), 'email',
            case
                when v_stop_on_reply and v_e.status in ('active', 'paused', 'completed')
                    then 'stopped'
                else 'completed'
            end,
            case
                when v_stop_on_reply and v_e.status in ('active', 'paused', 'completed')
                    then 'replied: sequence stopped'
                when v_e.status in ('active', 'paused', 'completed')
                    then 'replied (this step does not stop on reply)'
                else 'replied after the enrollment ended (' || v_e.status || ')'
            end,
            new.id
        );
        select c.* into v_c from app.campaigns as c where c.org_id = v_e.org_id and c.id = v_e.campaign_id;
        select k.full_name into v_contact
        from app.contacts as k
        where k.org_id = v_e.org_id and k.id = v_e.contact_id;
        perform app._campaign_notify(
            p_org_id => v_e.org_id,
            p_user_id => v_c.owner_id,
            p_template => 'campaign_reply',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_c.name),
                'contact', jsonb_build_object('name', coalesce(v_contact, new.to_email)),
                'step_number', coalesce(v_step, v_e.current_step),
                'outcome', case
                    when v_stop_on_reply and v_e.status in ('active', 'paused')
                        then 'the sequence stopped'
                    when v_e.status in ('active', 'paused') then 'the sequence goes on'
                    else 'after the sequence ended'
                end
            ),
            p_campaign_id => v_c.id
        );
    end if;
    return null;
end
$_$;


ALTER FUNCTION app._tg_email_send_campaign() OWNER TO intime_owner;

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
        status = o.status,
        reason = o.reason,
        updated_at = app.now()
    from app._notification_email_outcome(new.status, new.error, new.suppression_reason) as o
    where
        d.org_id = new.org_id
        and d.email_send_id = new.id
        and d.status not in ('held', 'digest');
    return null;
end
$$;


ALTER FUNCTION app._tg_email_send_delivery_status() OWNER TO intime_owner;

--
-- Name: _tg_email_send_workflow_action(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_email_send_workflow_action() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if exists (
        select from app.workflow_actions as a
        where
            a.org_id = new.org_id and a.id = new.workflow_action_id
            and a.action_type = 'send_email' and a.status in ('pending', 'running')
    ) then
        perform app._wf_action_finished(
            new.org_id, new.workflow_action_id, new.status <> 'failed',
            jsonb_build_object(
                'email_send_id', new.id, 'status', new.status,
                'provider_message_id', new.provider_message_id,
                'suppression_reason', new.suppression_reason
            ),
            case when new.status = 'failed' then coalesce(new.error, 'email failed') end,
            true
        );
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_email_send_workflow_action() OWNER TO intime_owner;

--
-- Name: _tg_email_template_in_campaign(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_email_template_in_campaign() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_step integer;
    v_campaign text;
begin
    select s.step_number, c.name into v_step, v_campaign
    from app.campaign_sequences as s
    inner join app.campaigns as c on c.org_id = s.org_id and c.id = s.campaign_id
    where s.org_id = old.org_id and s.template_id = old.id
    order by c.name, s.step_number
    limit 1;
    if found then
        raise exception using
            errcode = 'IT013',
            message = format(
                'email template %s is used by step %s of campaign %s', old.slug, v_step, v_campaign
            ),
            hint = 'Point the step at other content with api.update_sequence_step first.';
    end if;
    return old;
end
$$;


ALTER FUNCTION app._tg_email_template_in_campaign() OWNER TO intime_owner;

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
    AS $_$
declare
    v_actor uuid := app.current_user_id();
begin
    -- Materialized CTEs compute each row's jsonb once; a flattened subquery
    -- would recompute to_jsonb() for every field it is compared on.
    -- EXECUTE: planned for this statement's row counts. A static query's plan
    -- is kept per connection with the row count it first saw, so a bulk
    -- UPDATE after a single-row one would join with nested loops (quadratic).
    execute '
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
    select n.org_id, $1, n.id, ''updated'', f.key, o.doc -> f.key, f.value, $2
    from n
    inner join o on n.org_id = o.org_id and n.id = o.id
    cross join lateral jsonb_each(n.doc) as f
    where
        f.key not in (''updated_at'', ''updated_by'')
        and (o.doc -> f.key) is distinct from f.value'
    using tg_argv[0], v_actor;
    return null;
end
$_$;


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
-- Name: _tg_notification_announce(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_notification_announce() RETURNS trigger
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


ALTER FUNCTION app._tg_notification_announce() OWNER TO intime_owner;

--
-- Name: _tg_require_permission(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_require_permission() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    perform app._require_permission(tg_argv[0]);
    return null;
end
$$;


ALTER FUNCTION app._tg_require_permission() OWNER TO intime_owner;

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
-- Name: _tg_suppression_campaign(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_suppression_campaign() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    with stopped as (
        update app.campaign_enrollments as e
        set
            status = case
                when new.reason in ('unsubscribe', 'complaint') then 'unsubscribed'
                when new.reason in ('hard_bounce', 'soft_bounce') then 'bounced'
                else 'stopped'
            end,
            stop_reason = new.reason,
            next_step_at = null,
            unsubscribed_at = case
                when new.reason in ('unsubscribe', 'complaint') then app.now()
                else e.unsubscribed_at
            end,
            bounced_at = case
                when new.reason in ('hard_bounce', 'soft_bounce') then coalesce(e.bounced_at, app.now())
                else e.bounced_at
            end,
            updated_at = app.now()
        from app.contacts as k
        where
            k.org_id = new.org_id and lower(k.email) = new.email
            and e.org_id = k.org_id and e.contact_id = k.id
            and e.status in ('active', 'paused')
        returning e.org_id, e.campaign_id, e.id, e.current_step
    )

    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    select s.org_id, s.campaign_id, s.id, s.current_step, 'none', 'stopped', 'suppressed: ' || new.reason
    from stopped as s;
    return null;
end
$$;


ALTER FUNCTION app._tg_suppression_campaign() OWNER TO intime_owner;

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
-- Name: _tg_workflow_delete(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_workflow_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if exists (
        select from app.workflows as w
        where
            w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
            and 'delete' = any(w.trigger_events)
            and w.org_id in (select r.org_id from old_rows as r)
    ) then
        perform app._wf_match_rows(
            tg_argv[0], 'delete',
            array_fill(null::jsonb, array[(select count(*)::integer from old_rows)]),
            array(
                select to_jsonb(r) from old_rows as r
                where exists (select from app.organizations as o where o.id = r.org_id)
            )
        );
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_workflow_delete() OWNER TO intime_owner;

--
-- Name: _tg_workflow_insert(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_workflow_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if exists (
        select from app.workflows as w
        where
            w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
            and 'insert' = any(w.trigger_events)
            and w.org_id in (select r.org_id from new_rows as r)
    ) then
        perform app._wf_match_rows(
            tg_argv[0], 'insert', array(select to_jsonb(r) from new_rows as r),
            array_fill(null::jsonb, array[(select count(*)::integer from new_rows)])
        );
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_workflow_insert() OWNER TO intime_owner;

--
-- Name: _tg_workflow_update(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._tg_workflow_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_new jsonb [];
    v_old jsonb [];
begin
    if exists (
        select from app.workflows as w
        where
            w.entity_type = tg_argv[0] and w.is_active and w.deleted_at is null
            and 'update' = any(w.trigger_events)
            and w.org_id in (select r.org_id from new_rows as r)
    ) then
        -- EXECUTE: planned for this statement's row counts. A static query's
        -- plan is kept per connection with the row count it first saw, so a
        -- bulk UPDATE after a single-row one would join with nested loops.
        execute 'select array_agg(to_jsonb(n)), array_agg(to_jsonb(o)) '
            'from new_rows as n inner join old_rows as o on o.org_id = n.org_id and o.id = n.id'
        into v_new, v_old;
        perform app._wf_match_rows(tg_argv[0], 'update', v_new, v_old);
    end if;
    return null;
end
$$;


ALTER FUNCTION app._tg_workflow_update() OWNER TO intime_owner;

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
-- Name: _valid_timezone(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._valid_timezone(p_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_name is null or p_name = '' then
        return false;
    end if;
    perform pg_catalog.timezone(p_name, '2000-01-01 00:00:00+00'::timestamptz);
    return true;
exception
    when invalid_parameter_value then
        return false;
end
$$;


ALTER FUNCTION app._valid_timezone(p_name text) OWNER TO intime_owner;

--
-- Name: _wf_action_finished(uuid, uuid, boolean, jsonb, text, boolean, interval); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_action_finished(p_org_id uuid, p_action_id uuid, p_ok boolean, p_result jsonb, p_error text DEFAULT NULL::text, p_permanent boolean DEFAULT false, p_retry_after interval DEFAULT NULL::interval) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_action app.workflow_actions%rowtype;
    v_exec app.workflow_executions%rowtype;
begin
    -- Lock order everywhere: execution, then its action.
    select e.* into v_exec from app.workflow_executions as e
    where
        e.org_id = p_org_id
        and e.id = (
            select a.execution_id from app.workflow_actions as a
            where a.org_id = p_org_id and a.id = p_action_id
        )
    for no key update;
    select a.* into v_action from app.workflow_actions as a
    where a.org_id = p_org_id and a.id = p_action_id
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('action %s not found', p_action_id);
    end if;
    if v_action.status in ('completed', 'failed', 'skipped') then
        return 'duplicate';
    end if;
    update app.workflow_actions as a
    set
        status = case when p_ok then 'completed' else 'failed' end,
        completed_at = app.now(),
        result = p_result,
        error_message = left(p_error, 2000),
        error_code = case when not p_ok then case when p_permanent then 'permanent' else 'transient' end end
    where a.org_id = p_org_id and a.id = p_action_id;
    perform app._wf_log(
        p_org_id, v_action.execution_id, case when p_ok then 'info' else 'warning' end,
        format('%s action %s', v_action.action_type, case when p_ok then 'succeeded' else 'failed' end),
        coalesce(p_result, '{}') || jsonb_build_object('error', p_error), v_action.step_id, p_action_id
    );
    if p_ok then
        update app.workflow_steps as s
        set result = coalesce(s.result, '{}') || coalesce(p_result, '{}')
        where s.org_id = p_org_id and s.id = v_action.step_id;
    end if;
    if v_exec.status <> 'waiting' or v_exec.waiting_for <> 'action' then
        -- Cancelled or paused meanwhile: the outcome is recorded, nothing resumes.
        return 'recorded';
    end if;
    if not p_ok then
        return app._wf_fail_step(
            p_org_id, v_exec.id, v_action.step_id, coalesce(p_error, 'action failed'), null,
            p_permanent, p_retry_after
        );
    end if;
    update app.workflow_executions as e
    set status = 'running', waiting_for = null, updated_at = app.now()
    where e.org_id = p_org_id and e.id = v_exec.id;
    -- The step row stays 'waiting' with its result; run_execution completes it.
    update app.workflow_steps as s set status = 'waiting'
    where s.org_id = p_org_id and s.id = v_action.step_id;
    perform app._wf_schedule_run(p_org_id, v_exec.id);
    return 'resumed';
end
$$;


ALTER FUNCTION app._wf_action_finished(p_org_id uuid, p_action_id uuid, p_ok boolean, p_result jsonb, p_error text, p_permanent boolean, p_retry_after interval) OWNER TO intime_owner;

--
-- Name: _wf_approval_problems(jsonb, text, text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_approval_problems(p_step jsonb, p_at text, p_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_mode text := coalesce(p_step ->> 'mode', 'sequential');
    v_count integer;
    v_i integer;
    v_ref jsonb;
begin
    if jsonb_typeof(p_step -> 'approvers') is distinct from 'array'
        or jsonb_array_length(p_step -> 'approvers') = 0 then
        return query select p_at || '.approvers', 'a non-empty array of approvers';
        return;
    end if;
    v_count := jsonb_array_length(p_step -> 'approvers');
    -- A transition's gate takes no step keys (name, type, next, on_reject).
    if p_at ~ '\.approval$' then
        return query
        select p_at || '.' || k.key, format('an approval gate takes no %L', k.key)
        from jsonb_object_keys(p_step) as k (key)
        where k.key not in ('approvers', 'mode', 'quorum', 'due_in', 'escalate_to', 'lock_entity', 'title');
    end if;
    for v_i in 0 .. v_count - 1 loop
        v_ref := p_step -> 'approvers' -> v_i;
        if not (
            (v_ref ? 'user' and app._wf_is_user_ref(v_ref -> 'user', '{}'))
            or (v_ref ->> 'role') in ('admin', 'manager', 'member')
            or v_ref = '{"manager": true}'
            or v_ref = '{"owner": true}'
            or (v_ref ? 'field' and v_ref ->> 'field' = any(p_columns))
        ) then
            return query select format('%s.approvers[%s]', p_at, v_i),
                'one of {"user": id}, {"role": "manager"}, {"manager": true}, {"owner": true}, '
                || '{"field": "<user id column>"}';
        end if;
    end loop;
    if v_mode not in ('sequential', 'any', 'all', 'quorum') then
        return query select p_at || '.mode', 'sequential, any, all or quorum';
    end if;
    if v_mode = 'quorum' and coalesce(p_step ->> 'quorum', '') !~ '^[1-9][0-9]*$' then
        return query select p_at || '.quorum', 'how many approvals are needed (1 or more)';
    end if;
    if p_step ? 'quorum' and v_mode <> 'quorum' then
        return query select p_at || '.quorum', 'only with mode quorum';
    end if;
    if p_step ? 'due_in' and (
        app._wf_try_interval(p_step ->> 'due_in') is null
        or app._wf_try_interval(p_step ->> 'due_in') <= interval '0'
    ) then
        return query select p_at || '.due_in', 'a positive interval, like "P1D"';
    end if;
    if p_step ? 'escalate_to' and not app._wf_is_user_ref(p_step -> 'escalate_to', p_columns) then
        return query select p_at || '.escalate_to', 'a user';
    end if;
    if p_step ? 'lock_entity' and jsonb_typeof(p_step -> 'lock_entity') <> 'boolean' then
        return query select p_at || '.lock_entity', 'true or false';
    end if;
end
$_$;


ALTER FUNCTION app._wf_approval_problems(p_step jsonb, p_at text, p_columns text[]) OWNER TO intime_owner;

--
-- Name: workflow_executions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_executions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    instance_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    workflow_version integer NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    waiting_for text,
    wake_at timestamp with time zone,
    wake_job_id bigint,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    paused_at timestamp with time zone,
    triggered_by uuid,
    trigger_type text DEFAULT 'event'::text NOT NULL,
    trigger_event jsonb,
    steps jsonb,
    current_step_index integer DEFAULT 0 NOT NULL,
    total_steps integer DEFAULT 0 NOT NULL,
    error_message text,
    error_stack text,
    retry_count integer DEFAULT 0 NOT NULL,
    max_retries integer DEFAULT 3 NOT NULL,
    next_retry_at timestamp with time zone,
    execution_context jsonb DEFAULT '{}'::jsonb NOT NULL,
    depth integer DEFAULT 0 NOT NULL,
    chain uuid[] DEFAULT '{}'::uuid[] NOT NULL,
    parent_execution_id uuid,
    exclusive boolean DEFAULT true NOT NULL,
    transition_id uuid,
    run_xid xid8,
    runs integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    approval_requested_at timestamp with time zone,
    CONSTRAINT workflow_executions_check CHECK (((status = 'waiting'::text) = (waiting_for IS NOT NULL))),
    CONSTRAINT workflow_executions_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'waiting'::text, 'completed'::text, 'failed'::text, 'cancelled'::text, 'paused'::text]))),
    CONSTRAINT workflow_executions_steps_check CHECK (((steps IS NULL) OR (jsonb_typeof(steps) = 'array'::text))),
    CONSTRAINT workflow_executions_trigger_type_check CHECK ((trigger_type = ANY (ARRAY['manual'::text, 'automatic'::text, 'scheduled'::text, 'event'::text, 'api'::text, 'transition'::text]))),
    CONSTRAINT workflow_executions_waiting_for_check CHECK ((waiting_for = ANY (ARRAY['timer'::text, 'action'::text, 'approval'::text, 'retry'::text])))
);

ALTER TABLE ONLY app.workflow_executions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_executions OWNER TO intime_owner;

--
-- Name: _wf_approval_subjects(app.workflow_executions); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_approval_subjects(p_exec app.workflow_executions) RETURNS uuid[]
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select coalesce(array_agg(distinct x.id), '{}')
    from (
        select p_exec.triggered_by as id
        union all
        select h.changed_by
        from app.entity_history as h
        inner join app.entity_types as t on t.entity_type = p_exec.entity_type
        inner join app.workflow_versions as v
            on
                v.org_id = p_exec.org_id and v.workflow_id = p_exec.workflow_id
                and v.version = p_exec.workflow_version
        where
            h.org_id = p_exec.org_id and h.entity_type = p_exec.entity_type
            and h.entity_id = p_exec.entity_id and h.changed_at >= p_exec.created_at
            and h.field_name = any(app._wf_locked_fields(v.definition, t.status_field, t.owner_field))
    ) as x
    where x.id is not null
$$;


ALTER FUNCTION app._wf_approval_subjects(p_exec app.workflow_executions) OWNER TO intime_owner;

--
-- Name: _wf_assert_unlocked(uuid, text, uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_assert_unlocked(p_org_id uuid, p_entity_type text, p_entity_id uuid, p_execution_id uuid) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_lock app.workflow_entity_locks%rowtype;
begin
    select l.* into v_lock from app.workflow_entity_locks as l
    where
        l.org_id = p_org_id and l.entity_type = p_entity_type and l.entity_id = p_entity_id
        and l.execution_id is distinct from p_execution_id
    limit 1;
    if found then
        raise exception using
            errcode = 'IT014',
            message = format('%s %s is locked: %s', p_entity_type, p_entity_id, v_lock.reason),
            hint = 'It unlocks when the approval is decided or recalled.';
    end if;
end
$$;


ALTER FUNCTION app._wf_assert_unlocked(p_org_id uuid, p_entity_type text, p_entity_id uuid, p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_assert_valid(text, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_assert_valid(p_entity_type text, p_definition jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_problems text;
begin
    select string_agg(format('%s: %s', p.path, p.problem), '; ' order by p.path)
    into v_problems
    from app._wf_problems(p_entity_type, p_definition) as p;
    if v_problems is not null then
        raise exception using
            errcode = 'IT012',
            message = 'invalid workflow definition: ' || v_problems,
            hint = 'api.validate_workflow_definition lists the problems with their JSON paths.';
    end if;
end
$$;


ALTER FUNCTION app._wf_assert_valid(p_entity_type text, p_definition jsonb) OWNER TO intime_owner;

--
-- Name: _wf_backoff(integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_backoff(p_attempt integer) RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select least(interval '1 hour', interval '10 seconds' * power(2, greatest(p_attempt - 1, 0)))
$$;


ALTER FUNCTION app._wf_backoff(p_attempt integer) OWNER TO intime_owner;

--
-- Name: _wf_columns(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_columns(p_table text) RETURNS TABLE(column_name text, column_type text)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select a.attname::text, format_type(a.atttypid, a.atttypmod)
    from pg_catalog.pg_attribute as a
    where
        a.attrelid = format('app.%I', p_table)::regclass
        and a.attnum > 0
        and not a.attisdropped
$$;


ALTER FUNCTION app._wf_columns(p_table text) OWNER TO intime_owner;

--
-- Name: _wf_compare(jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_compare(p_a jsonb, p_b jsonb) RETURNS integer
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET "TimeZone" TO 'UTC'
    AS $_$
declare
    c_number constant text := '^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$';
    c_time constant text := '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?$';
    v_ta text := jsonb_typeof(p_a);
    v_tb text := jsonb_typeof(p_b);
    v_sa text := p_a #>> '{}';
    v_sb text := p_b #>> '{}';
    v_na numeric;
    v_nb numeric;
    v_xa timestamptz;
    v_xb timestamptz;
begin
    if v_ta is null or v_tb is null or v_ta = 'null' or v_tb = 'null' then
        return null;
    end if;
    if v_ta in ('object', 'array') or v_tb in ('object', 'array') then
        return case when p_a = p_b then 0 end;
    end if;
    if (v_ta = 'number' or v_sa ~ c_number) and (v_tb = 'number' or v_sb ~ c_number)
        and 'number' in (v_ta, v_tb) then
        begin
            v_na := v_sa::numeric;
            v_nb := v_sb::numeric;
            return sign(v_na - v_nb)::integer;
        exception when others then
            null;  -- out of numeric's range: compare as text
        end;
    end if;
    if v_ta = 'boolean' and v_tb = 'boolean' then
        return case when v_sa = v_sb then 0 when v_sa < v_sb then -1 else 1 end;
    end if;
    if v_ta = 'string' and v_tb = 'string' and v_sa ~ c_time and v_sb ~ c_time then
        begin
            v_xa := v_sa::timestamptz;
            v_xb := v_sb::timestamptz;
            return case when v_xa = v_xb then 0 when v_xa < v_xb then -1 else 1 end;
        exception when others then
            null;  -- not a real date after all (or out of range): compare as text
        end;
    end if;
    return case when v_sa = v_sb then 0 when v_sa < v_sb then -1 else 1 end;
end
$_$;


ALTER FUNCTION app._wf_compare(p_a jsonb, p_b jsonb) OWNER TO intime_owner;

--
-- Name: _wf_condition_problems(jsonb, text, text[], text[], integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_condition_problems(p_cond jsonb, p_path text, p_columns text[], p_org_columns text[], p_depth integer) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    c_ops constant text[] := array[
        'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'not_contains', 'in', 'not_in',
        'is_null', 'is_not_null', 'changed'
    ];
    v_key text;
    v_field text;
    v_root text;
    v_op text;
    v_i integer;
begin
    if jsonb_typeof(p_cond) is distinct from 'object' then
        return query select p_path, 'a condition must be an object';
        return;
    end if;
    if p_depth > 10 then
        return query select p_path, 'conditions nest at most 10 deep';
        return;
    end if;
    if p_cond ? 'all' or p_cond ? 'any' then
        v_key := case when p_cond ? 'all' then 'all' else 'any' end;
        if (select count(*) from jsonb_object_keys(p_cond)) <> 1 then
            return query select p_path, 'a group has exactly one key, "all" or "any"';
        end if;
        if jsonb_typeof(p_cond -> v_key) is distinct from 'array'
            or jsonb_array_length(p_cond -> v_key) = 0 then
            return query select p_path || '.' || v_key, 'must be a non-empty array';
            return;
        end if;
        for v_i in 0 .. jsonb_array_length(p_cond -> v_key) - 1 loop
            return query select * from app._wf_condition_problems(
                p_cond -> v_key -> v_i, format('%s.%s[%s]', p_path, v_key, v_i),
                p_columns, p_org_columns, p_depth + 1
            );
        end loop;
        return;
    end if;
    if exists (
        select from jsonb_object_keys(p_cond) as k (key)
        where k.key not in ('field', 'operator', 'value')
    ) then
        return query select p_path, 'a condition has only "field", "operator" and "value"';
    end if;
    v_field := p_cond ->> 'field';
    v_op := p_cond ->> 'operator';
    if v_field is null or v_field !~ '^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_]+)*$' then
        return query select p_path || '.field', 'must name a field, like "value" or "old.status"';
    else
        v_root := split_part(v_field, '.', 1);
        if v_root = 'org' then
            if split_part(v_field, '.', 2) <> all(p_org_columns) then
                return query select p_path || '.field',
                    format('organizations has no column %L', split_part(v_field, '.', 2));
            end if;
        else
            if v_root in ('new', 'old') then
                v_root := split_part(v_field, '.', 2);
            end if;
            if v_root <> all(p_columns) then
                return query select p_path || '.field', format('unknown field %L', v_root);
            end if;
        end if;
    end if;
    if v_op is null or v_op <> all(c_ops) then
        return query select p_path || '.operator',
            format('unknown operator %L; one of %s', v_op, array_to_string(c_ops, ', '));
    elsif v_op in ('is_null', 'is_not_null', 'changed') then
        if p_cond ? 'value' then
            return query select p_path || '.value', format('%s takes no value', v_op);
        end if;
        if v_op = 'changed' and v_field ~ '^(old|org)\.' then
            return query select p_path || '.field', 'changed compares the old and new row';
        end if;
    elsif not p_cond ? 'value' then
        return query select p_path || '.value', format('%s needs a value', v_op);
    elsif v_op in ('in', 'not_in') and jsonb_typeof(p_cond -> 'value') <> 'array' then
        return query select p_path || '.value', format('%s needs an array', v_op);
    elsif v_op in ('gt', 'gte', 'lt', 'lte')
        and jsonb_typeof(p_cond -> 'value') not in ('number', 'string') then
        return query select p_path || '.value', format('%s needs a number, date or text', v_op);
    end if;
end
$_$;


ALTER FUNCTION app._wf_condition_problems(p_cond jsonb, p_path text, p_columns text[], p_org_columns text[], p_depth integer) OWNER TO intime_owner;

--
-- Name: _wf_controlled(uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_controlled(p_execution_id uuid) RETURNS app.workflow_executions
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_exec app.workflow_executions%rowtype;
begin
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = v_org_id and e.id = p_execution_id
    for no key update;
    if not found then
        raise exception using errcode = 'IT004', message = format('execution %s not found', p_execution_id);
    end if;
    if not (
        app._is_org_admin()
        or exists (
            select from app.workflows as w
            where
                w.org_id = v_exec.org_id and w.id = v_exec.workflow_id
                and w.created_by = app.current_user_id()
        )
        or (
            v_exec.trigger_type in ('manual', 'api', 'transition')
            and v_exec.triggered_by = app.current_user_id()
        )
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'only an admin, the workflow''s owner, or whoever started it by hand '
            || 'may control an execution';
    end if;
    return v_exec;
end
$$;


ALTER FUNCTION app._wf_controlled(p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_cron_field_matches(text, integer, integer, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_cron_field_matches(p_field text, p_value integer, p_min integer, p_max integer) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_part text;
    v_range text;
    v_step integer;
    v_lo integer;
    v_hi integer;
begin
    foreach v_part in array string_to_array(p_field, ',') loop
        v_range := split_part(v_part, '/', 1);
        v_step := coalesce(nullif(split_part(v_part, '/', 2), '')::integer, 1);
        if v_range = '*' then
            v_lo := p_min;
            v_hi := p_max;
        elsif v_range like '%-%' then
            v_lo := split_part(v_range, '-', 1)::integer;
            v_hi := split_part(v_range, '-', 2)::integer;
        else
            v_lo := v_range::integer;
            v_hi := case when v_part like '%/%' then p_max else v_lo end;
        end if;
        if p_value between v_lo and v_hi and (p_value - v_lo) % v_step = 0 then
            return true;
        end if;
    end loop;
    return false;
end
$$;


ALTER FUNCTION app._wf_cron_field_matches(p_field text, p_value integer, p_min integer, p_max integer) OWNER TO intime_owner;

--
-- Name: _wf_cron_matches(text, timestamp without time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_cron_matches(p_expr text, p_local timestamp without time zone) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_f text[] := regexp_split_to_array(btrim(p_expr), '\s+');
    v_dow integer := extract(dow from p_local)::integer;
    v_dom_ok boolean;
    v_dow_ok boolean;
begin
    if not (
        app._wf_cron_field_matches(v_f[1], extract(minute from p_local)::integer, 0, 59)
        and app._wf_cron_field_matches(v_f[2], extract(hour from p_local)::integer, 0, 23)
        and app._wf_cron_field_matches(v_f[4], extract(month from p_local)::integer, 1, 12)
    ) then
        return false;
    end if;
    v_dom_ok := app._wf_cron_field_matches(v_f[3], extract(day from p_local)::integer, 1, 31);
    v_dow_ok := app._wf_cron_field_matches(v_f[5], v_dow, 0, 7)
        or (v_dow = 0 and app._wf_cron_field_matches(v_f[5], 7, 0, 7));
    -- Vixie cron: a day field that starts with * does not restrict; when
    -- both are restricted, either may match.
    if v_f[3] like '*%' or v_f[5] like '*%' then
        return v_dom_ok and v_dow_ok;
    end if;
    return v_dom_ok or v_dow_ok;
end
$$;


ALTER FUNCTION app._wf_cron_matches(p_expr text, p_local timestamp without time zone) OWNER TO intime_owner;

--
-- Name: _wf_cron_valid(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_cron_valid(p_expr text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    c_min constant integer[] := array[0, 0, 1, 1, 0];
    c_max constant integer[] := array[59, 23, 31, 12, 7];
    v_fields text[] := regexp_split_to_array(btrim(coalesce(p_expr, '')), '\s+');
    v_i integer;
    v_part text;
    v_n text;
begin
    if cardinality(v_fields) <> 5 then
        return false;
    end if;
    for v_i in 1 .. 5 loop
        foreach v_part in array string_to_array(v_fields[v_i], ',') loop
            if v_part !~ '^(\*|[0-9]{1,2}(-[0-9]{1,2})?)(/[1-9][0-9]?)?$' then
                return false;
            end if;
            foreach v_n in array regexp_split_to_array(split_part(v_part, '/', 1), '-') loop
                if v_n <> '*' and v_n::integer not between c_min[v_i] and c_max[v_i] then
                    return false;
                end if;
            end loop;
        end loop;
    end loop;
    return true;
end
$_$;


ALTER FUNCTION app._wf_cron_valid(p_expr text) OWNER TO intime_owner;

--
-- Name: _wf_decide(uuid, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_decide(p_approval_id uuid, p_decision text, p_notes text) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row app.workflow_approvals%rowtype := app._wf_my_approval(p_approval_id);
begin
    update app.workflow_approvals as a
    set
        status = p_decision, responded_at = app.now(), responded_by = app.current_user_id(),
        response_notes = p_notes, updated_at = app.now()
    where a.org_id = v_row.org_id and a.id = v_row.id;
    -- The slot is settled: its other rows (a delegator's, an escalation's) close.
    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where
        a.org_id = v_row.org_id and a.step_id = v_row.step_id and a.slot = v_row.slot
        and a.status = 'pending' and a.id <> v_row.id;
    perform app._wf_log(
        v_row.org_id, v_row.execution_id, 'info',
        format('approval %s by %s', p_decision, app._wf_user_name(v_row.org_id, v_row.approver_id)),
        jsonb_build_object('approval_id', v_row.id, 'notes', p_notes), v_row.step_id
    );
    return app._wf_settle_approval(v_row.org_id, v_row.step_id);
end
$$;


ALTER FUNCTION app._wf_decide(p_approval_id uuid, p_decision text, p_notes text) OWNER TO intime_owner;

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
-- Name: _wf_dispatch(app.workflow_executions, jsonb, uuid, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_dispatch(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_doc is null and p_step ->> 'type' not in ('wait', 'webhook', 'send_notification') then
        raise exception using
            errcode = 'IT004',
            message = format('%s %s no longer exists', p_exec.entity_type, p_exec.entity_id);
    end if;
    return case p_step ->> 'type'
        when 'create_task' then app._wf_step_activity(p_exec, p_step, p_doc, p_vars, p_type)
        when 'create_activity' then app._wf_step_activity(p_exec, p_step, p_doc, p_vars, p_type)
        when 'update_field' then app._wf_step_update_field(p_exec, p_step, p_doc, p_vars, p_type)
        when 'assign' then app._wf_step_assign(p_exec, p_step, p_doc, p_type)
        when 'send_notification' then app._wf_step_notify(p_exec, p_step, p_doc, p_vars, p_type)
        when 'send_email' then app._wf_step_email(p_exec, p_step, p_step_id, p_doc, p_vars, p_type)
        when 'webhook' then app._wf_step_webhook(p_exec, p_step, p_step_id, p_doc, p_vars)
        when 'wait' then app._wf_step_wait(p_exec, p_step, p_doc, p_type)
        when 'condition' then jsonb_build_object('result', jsonb_build_object(
            'holds', app._wf_holds(p_step -> 'if', p_doc, null, p_vars -> 'org')
        ))
        when 'approval' then app._wf_request_approval(p_exec, p_step, p_step_id, p_doc, p_vars, p_type)
        when 'escalate' then app._wf_step_escalate(p_exec, p_step, p_doc, p_vars, p_type)
        when 'set_state' then jsonb_build_object('result', app._wf_set_state(p_exec, p_step))
    end;
end
$$;


ALTER FUNCTION app._wf_dispatch(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_entity_doc(uuid, text, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_entity_doc(p_org_id uuid, p_entity_type text, p_entity_id uuid) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_table text;
    v_doc jsonb;
begin
    select e.table_name into v_table from app.entity_types as e where e.entity_type = p_entity_type;
    execute format('select to_jsonb(t) from app.%I as t where t.org_id = $1 and t.id = $2', v_table)
    into v_doc using p_org_id, p_entity_id;
    return v_doc;
end
$_$;


ALTER FUNCTION app._wf_entity_doc(p_org_id uuid, p_entity_type text, p_entity_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_equals(jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_equals(p_a jsonb, p_b jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select coalesce(app._wf_compare(p_a, p_b) = 0, coalesce(p_a, 'null') = coalesce(p_b, 'null'))
$$;


ALTER FUNCTION app._wf_equals(p_a jsonb, p_b jsonb) OWNER TO intime_owner;

--
-- Name: _wf_escalate_due(integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_escalate_due(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row record;
    v_target uuid;
    v_count integer := 0;
    v_new uuid;
    v_asked boolean;
    v_error text;
begin
    for v_row in
        select a.*, s.step_config, e.entity_type, e.entity_id, e.triggered_by
        from app.workflow_approvals as a
        inner join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
        inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
        where
            a.status = 'pending' and a.escalated_at is null and a.due_at <= app.now()
            and not coalesce(s.result ? 'decision', false)
        order by a.due_at
        limit p_limit
        for update of a skip locked
    loop
        begin
            v_target := null;
            if v_row.step_config ? 'escalate_to' then
                v_target := app._wf_resolve_user(
                    v_row.org_id, v_row.step_config ->> 'escalate_to',
                    app._wf_entity_doc(v_row.org_id, v_row.entity_type, v_row.entity_id),
                    (select t.owner_field from app.entity_types as t where t.entity_type = v_row.entity_type),
                    v_row.triggered_by
                );
            end if;
            if v_target is null then
                select u.manager_id into v_target from app.user_profiles as u
                where u.org_id = v_row.org_id and u.id = v_row.approver_id;
            end if;
            -- Not to a subject of the request either.
            if v_target = any(app._wf_approval_subjects((
                select e from app.workflow_executions as e
                where e.org_id = v_row.org_id and e.id = v_row.execution_id
            ))) then
                v_target := null;
            end if;
            v_asked := v_target is not null and exists (
                select from app.workflow_approvals as a
                where a.org_id = v_row.org_id and a.step_id = v_row.step_id and a.slot = v_row.slot
                    and a.approver_id = v_target and a.status = 'pending'
            );
            update app.workflow_approvals as a
            set
                escalated_at = app.now(), escalated_to = v_target, updated_at = app.now(),
                escalation_reason = case
                    when v_target is null then format('not decided by %s; no escalation target', v_row.due_at)
                    when v_asked then format('not decided by %s; %s already has it', v_row.due_at, v_target)
                    else format('not decided by %s', v_row.due_at)
                end
            where a.org_id = v_row.org_id and a.id = v_row.id;
            if v_target is not null and not v_asked then
                insert into app.workflow_approvals (
                    org_id, execution_id, step_id, approver_id, approver_type, status, slot,
                    sequence_order, is_parallel, source_approval_id
                )
                values (
                    v_row.org_id, v_row.execution_id, v_row.step_id, v_target, 'escalation', 'pending',
                    v_row.slot, v_row.sequence_order, v_row.is_parallel, v_row.id
                )
                returning id into v_new;
                perform app._wf_notify(
                    p_org_id => v_row.org_id,
                    p_user_ids => array[v_target],
                    p_template => 'approval_escalated',
                    p_variables => jsonb_build_object(
                        'item', jsonb_build_object('title', (
                            select s.result ->> 'title' from app.workflow_steps as s
                            where s.org_id = v_row.org_id and s.id = v_row.step_id
                        )),
                        'approver', jsonb_build_object('name', (
                            select u.full_name from app.user_profiles as u
                            where u.org_id = v_row.org_id and u.id = v_row.approver_id
                        )),
                        'due_at', v_row.due_at::text
                    ),
                    p_entity_type => v_row.entity_type,
                    p_entity_id => v_row.entity_id,
                    p_type => 'action_required',
                    p_action_url => '/approvals/' || v_new,
                    p_action_label => 'Review',
                    p_execution_id => v_row.execution_id
                );
            end if;
            perform app._wf_log(
                v_row.org_id, v_row.execution_id, 'warning',
                case when v_target is null then 'approval overdue; no one to escalate to'
                    else format('approval escalated to %s', app._wf_user_name(v_row.org_id, v_target)) end,
                jsonb_build_object('approval_id', v_row.id, 'due_at', v_row.due_at, 'escalated_to', v_target),
                v_row.step_id
            );
        exception when others then
            -- One approval's trouble (a user who left the org, say) never
            -- stops the sweep for everyone: record it and move on.
            get stacked diagnostics v_error = message_text;
            update app.workflow_approvals as a
            set
                escalated_at = app.now(), updated_at = app.now(),
                escalation_reason = left('escalation failed: ' || v_error, 500)
            where a.org_id = v_row.org_id and a.id = v_row.id;
            perform app._wf_log(
                v_row.org_id, v_row.execution_id, 'error', 'approval escalation failed: ' || v_error,
                jsonb_build_object('approval_id', v_row.id), v_row.step_id
            );
        end;
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;


ALTER FUNCTION app._wf_escalate_due(p_limit integer) OWNER TO intime_owner;

--
-- Name: _wf_fail_step(uuid, uuid, uuid, text, text, boolean, interval); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_fail_step(p_org_id uuid, p_execution_id uuid, p_step_id uuid, p_error text, p_detail text DEFAULT NULL::text, p_permanent boolean DEFAULT false, p_retry_after interval DEFAULT NULL::interval) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_exec app.workflow_executions%rowtype;
    v_step app.workflow_steps%rowtype;
    v_at timestamptz;
    v_notify uuid;
    v_wf app.workflows%rowtype;
    v_doc jsonb;
begin
    select e.* into v_exec from app.workflow_executions as e
    where e.org_id = p_org_id and e.id = p_execution_id;
    update app.workflow_steps as s
    set status = 'failed', error_message = left(p_error, 2000), completed_at = app.now()
    where s.org_id = p_org_id and s.id = p_step_id
    returning * into v_step;

    if not p_permanent and v_exec.retry_count < v_exec.max_retries then
        v_at := app.now() + greatest(app._wf_backoff(v_exec.retry_count + 1), coalesce(p_retry_after, '0'));
        update app.workflow_executions as e
        set
            status = 'waiting', waiting_for = 'retry', wake_at = v_at, next_retry_at = v_at,
            retry_count = e.retry_count + 1, error_message = left(p_error, 2000),
            error_stack = p_detail, updated_at = app.now()
        where e.org_id = p_org_id and e.id = p_execution_id;
        perform app._wf_log(
            p_org_id, p_execution_id, 'warning',
            format('step %s failed; retry %s of %s at %s', v_step.step_name, v_exec.retry_count + 1,
                v_exec.max_retries, v_at),
            jsonb_build_object('error', p_error), p_step_id
        );
        perform app._wf_schedule_run(p_org_id, p_execution_id, v_at);
        return 'retrying';
    end if;

    update app.workflow_executions as e
    set
        status = 'failed', waiting_for = null, wake_at = null, next_retry_at = null,
        completed_at = app.now(), error_message = left(p_error, 2000), error_stack = p_detail,
        updated_at = app.now()
    where e.org_id = p_org_id and e.id = p_execution_id;
    delete from app.workflow_entity_locks as l
    where l.org_id = p_org_id and l.execution_id = p_execution_id;
    perform app._wf_log(
        p_org_id, p_execution_id, 'error',
        format('execution failed at step %s: %s', v_step.step_name, p_error),
        jsonb_build_object('error', p_error, 'permanent', p_permanent, 'retries', v_exec.retry_count),
        p_step_id
    );
    -- The workflow's owner hears of it (else the entity's owner).
    select w.* into v_wf from app.workflows as w
    where w.org_id = p_org_id and w.id = v_exec.workflow_id;
    v_doc := app._wf_entity_doc(p_org_id, v_exec.entity_type, v_exec.entity_id);
    v_notify := coalesce(
        v_wf.created_by,
        (
            select (v_doc ->> e.owner_field)::uuid from app.entity_types as e
            where e.entity_type = v_exec.entity_type
        )
    );
    if v_notify is not null and exists (
        select from app.user_profiles as u where u.org_id = p_org_id and u.id = v_notify and u.is_active
    ) then
        perform app._wf_notify(
            p_org_id => p_org_id,
            p_user_ids => array[v_notify],
            p_template => 'workflow_failed',
            p_variables => jsonb_build_object(
                'workflow', jsonb_build_object('name', v_wf.name),
                'step', jsonb_build_object('name', coalesce(v_step.step_name, '?')),
                'error', left(p_error, 500)
            ),
            p_entity_type => v_exec.entity_type,
            p_entity_id => v_exec.entity_id,
            p_execution_id => p_execution_id
        );
    end if;
    return 'failed';
end
$$;


ALTER FUNCTION app._wf_fail_step(p_org_id uuid, p_execution_id uuid, p_step_id uuid, p_error text, p_detail text, p_permanent boolean, p_retry_after interval) OWNER TO intime_owner;

--
-- Name: _wf_field_value(text, jsonb, jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_field_value(p_field text, p_new jsonb, p_old jsonb, p_org jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case split_part(p_field, '.', 1)
        when 'new' then p_new #> (string_to_array(p_field, '.'))[2:]
        when 'old' then p_old #> (string_to_array(p_field, '.'))[2:]
        when 'org' then p_org #> (string_to_array(p_field, '.'))[2:]
        else p_new #> string_to_array(p_field, '.')
    end
$$;


ALTER FUNCTION app._wf_field_value(p_field text, p_new jsonb, p_old jsonb, p_org jsonb) OWNER TO intime_owner;

--
-- Name: _wf_fire_schedules(integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_fire_schedules(p_limit integer) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_wf record;
    v_now timestamptz := date_trunc('minute', app.now());
    v_table text;
    v_soft boolean;
    v_docs jsonb [];
    v_ids uuid [];
    v_filter jsonb;
    v_org jsonb;
    v_started integer := 0;
    v_count integer;
    v_error text;
begin
    for v_wf in
        select w.* from app.workflows as w
        where
            w.schedule_cron is not null and w.is_active and w.deleted_at is null
            and w.schedule_fired_at < v_now
        order by w.schedule_fired_at
        limit p_limit
        for update skip locked
    loop
        begin
            if exists (
                select from generate_series(
                    greatest(date_trunc('minute', v_wf.schedule_fired_at) + interval '1 minute', v_now - interval '1 day'),
                    v_now, interval '1 minute'
                ) as m (at)
                where app._wf_cron_matches(v_wf.schedule_cron, m.at at time zone v_wf.schedule_timezone)
            ) then
                select e.table_name into v_table from app.entity_types as e where e.entity_type = v_wf.entity_type;
                select exists (select from app._wf_columns(v_table) as c where c.column_name = 'deleted_at')
                into v_soft;
                execute format(
                    'select array_agg(to_jsonb(t)) from app.%I as t where t.org_id = $1 %s',
                    v_table, case when v_soft then 'and t.deleted_at is null' else '' end
                ) into v_docs using v_wf.org_id;
                select t.v -> 'filter' into v_filter
                from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
                where t.v ->> 'type' = 'scheduled';
                select to_jsonb(o) into v_org from app.organizations as o where o.id = v_wf.org_id;
                select array_agg((d.doc ->> 'id')::uuid) into v_ids
                from unnest(v_docs) as d (doc)
                where
                    app._wf_holds(v_filter, d.doc, null, v_org)
                    and app._wf_holds(v_wf.definition -> 'conditions', d.doc, null, v_org);
                if v_ids is not null then
                    select count(*) into v_count from app._wf_start(
                        p_org_ids => array_fill(v_wf.org_id, array[cardinality(v_ids)]),
                        p_workflow_ids => array_fill(v_wf.id, array[cardinality(v_ids)]),
                        p_entity_ids => v_ids,
                        p_trigger_events => array_fill(
                            jsonb_build_object('event', 'scheduled', 'at', v_now), array[cardinality(v_ids)]
                        ),
                        p_trigger_type => 'scheduled'
                    );
                    v_started := v_started + v_count;
                end if;
            end if;
        exception when others then
            -- One workflow's trouble never stops another org's schedules.
            get stacked diagnostics v_error = message_text;
            raise warning 'scheduled workflow % (org %) failed: %', v_wf.id, v_wf.org_id, v_error;
        end;
        update app.workflows as w set schedule_fired_at = v_now
        where w.org_id = v_wf.org_id and w.id = v_wf.id;
    end loop;
    return v_started;
end
$_$;


ALTER FUNCTION app._wf_fire_schedules(p_limit integer) OWNER TO intime_owner;

--
-- Name: _wf_holds(jsonb, jsonb, jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_holds(p_condition jsonb, p_new jsonb, p_old jsonb, p_org jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_child jsonb;
begin
    if p_condition is null or p_condition = '{}'::jsonb then
        return true;
    end if;
    if p_condition ? 'all' then
        for v_child in select e.v from jsonb_array_elements(p_condition -> 'all') as e (v) loop
            if not app._wf_holds(v_child, p_new, p_old, p_org) then
                return false;
            end if;
        end loop;
        return true;
    end if;
    if p_condition ? 'any' then
        for v_child in select e.v from jsonb_array_elements(p_condition -> 'any') as e (v) loop
            if app._wf_holds(v_child, p_new, p_old, p_org) then
                return true;
            end if;
        end loop;
        return false;
    end if;
    return app._wf_leaf_holds(p_condition, p_new, p_old, p_org);
end
$$;


ALTER FUNCTION app._wf_holds(p_condition jsonb, p_new jsonb, p_old jsonb, p_org jsonb) OWNER TO intime_owner;

--
-- Name: _wf_interval(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_interval(p_value text) RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case
        when p_value ~ '^\s*-\s*P' then -(regexp_replace(p_value, '^\s*-\s*', '')::interval)
        else p_value::interval
    end
$$;


ALTER FUNCTION app._wf_interval(p_value text) OWNER TO intime_owner;

--
-- Name: _wf_is_user_ref(jsonb, text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_is_user_ref(p_ref jsonb, p_user_columns text[]) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    select jsonb_typeof(p_ref) = 'string' and (
        p_ref #>> '{}' in ('owner', 'manager', 'triggered_by')
        or (
            p_ref #>> '{}' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            and exists (
                select from app.user_profiles as u
                where
                    u.org_id = app.current_org_id() and u.id = (p_ref #>> '{}')::uuid
                    and u.is_active
            )
        )
        or (p_ref #>> '{}' like 'field:%' and substr(p_ref #>> '{}', 7) = any(p_user_columns))
    )
$_$;


ALTER FUNCTION app._wf_is_user_ref(p_ref jsonb, p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_leaf_holds(jsonb, jsonb, jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_leaf_holds(p_leaf jsonb, p_new jsonb, p_old jsonb, p_org jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_field text := p_leaf ->> 'field';
    v_op text := p_leaf ->> 'operator';
    v_want jsonb := p_leaf -> 'value';
    v_have jsonb := app._wf_field_value(v_field, p_new, p_old, p_org);
    v_null boolean := v_have is null or jsonb_typeof(v_have) = 'null';
    v_bare text;
    v_contains boolean;
begin
    case v_op
        when 'is_null' then
            return v_null;
        when 'is_not_null' then
            return not v_null;
        when 'changed' then
            v_bare := regexp_replace(v_field, '^new\.', '');
            -- A missing row or key counts as a JSON null.
            return coalesce(p_new #> string_to_array(v_bare, '.'), 'null')
                is distinct from coalesce(p_old #> string_to_array(v_bare, '.'), 'null');
        when 'eq' then
            return case when v_want is null or jsonb_typeof(v_want) = 'null' then v_null
                else not v_null and app._wf_equals(v_have, v_want) end;
        when 'neq' then
            return case when v_want is null or jsonb_typeof(v_want) = 'null' then not v_null
                else v_null or not app._wf_equals(v_have, v_want) end;
        when 'gt' then
            return coalesce(app._wf_compare(v_have, v_want) > 0, false);
        when 'gte' then
            return coalesce(app._wf_compare(v_have, v_want) >= 0, false);
        when 'lt' then
            return coalesce(app._wf_compare(v_have, v_want) < 0, false);
        when 'lte' then
            return coalesce(app._wf_compare(v_have, v_want) <= 0, false);
        when 'in', 'not_in' then
            v_contains := not v_null and exists (
                select from jsonb_array_elements(v_want) as e (v) where app._wf_equals(v_have, e.v)
            );
            return case when v_op = 'in' then v_contains else not v_contains end;
        when 'contains', 'not_contains' then
            v_contains := case jsonb_typeof(v_have)
                when 'array' then exists (
                    select from jsonb_array_elements(v_have) as e (v) where app._wf_equals(e.v, v_want)
                )
                when 'object' then v_have ? (v_want #>> '{}')
                when 'string' then
                    strpos(lower(v_have #>> '{}'), lower(v_want #>> '{}')) > 0
                else false
            end;
            return case when v_op = 'contains' then v_contains else not v_contains end;
        else
            raise exception using
                errcode = 'IT005', message = format('unknown condition operator %L', v_op);
    end case;
end
$$;


ALTER FUNCTION app._wf_leaf_holds(p_leaf jsonb, p_new jsonb, p_old jsonb, p_org jsonb) OWNER TO intime_owner;

--
-- Name: _wf_locked_fields(jsonb, text, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_locked_fields(p_definition jsonb, p_status_field text, p_owner_field text) RETURNS text[]
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
    with
    paths as (
        select regexp_replace(v.value #>> '{}', '^new\.', '') as path
        from jsonb_path_query(
            p_definition,
            'lax $.triggers[*].field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.triggers[*].filter.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.conditions.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.steps[*].if.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select p_status_field
        where
            p_status_field is not null
            and jsonb_path_exists(p_definition, 'lax $.triggers[*] ? (@.type == "status_change")')
        union all
        select v.value #>> '{}'
        from jsonb_path_query(
            p_definition,
            'lax $.steps[*] ? (@.type == "approval").approvers[*].field ? (@.type() == "string")'
        ) as v (value)
        union all
        select p_owner_field
        where
            p_owner_field is not null
            and jsonb_path_exists(
                p_definition,
                (
                    'lax $.steps[*] ? (@.type == "approval").approvers[*] ? '
                    || '(exists (@.owner) || exists (@.manager))'
                )::jsonpath
            )
    ),

    roots as (
        select split_part(p.path, '.', 1) as root, p.path ~ '\.' as dotted
        from paths as p
        where p.path is not null and p.path !~ '^(old|org)\.'
    )

    select coalesce(array_agg(distinct f.name order by f.name), '{}')
    from (
        select r.root as name from roots as r
        union all
        select r.root || '_id' from roots as r where r.dotted
    ) as f
$_$;


ALTER FUNCTION app._wf_locked_fields(p_definition jsonb, p_status_field text, p_owner_field text) OWNER TO intime_owner;

--
-- Name: _wf_log(uuid, uuid, text, text, jsonb, uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_log(p_org_id uuid, p_execution_id uuid, p_level text, p_message text, p_data jsonb DEFAULT NULL::jsonb, p_step_id uuid DEFAULT NULL::uuid, p_action_id uuid DEFAULT NULL::uuid) RETURNS void
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    insert into app.workflow_execution_logs (
        org_id, execution_id, step_id, action_id, level, message, data
    )
    values (p_org_id, p_execution_id, p_step_id, p_action_id, p_level, p_message, p_data)
$$;


ALTER FUNCTION app._wf_log(p_org_id uuid, p_execution_id uuid, p_level text, p_message text, p_data jsonb, p_step_id uuid, p_action_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_match_rows(text, text, jsonb[], jsonb[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_match_rows(p_entity_type text, p_event text, p_new jsonb[], p_old jsonb[]) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_ctx record;
    v_max_depth integer;
    v_org_ids uuid [];
    v_workflow_ids uuid [];
    v_entity_ids uuid [];
    v_events jsonb [];
    v_started integer;
    v_status_field text;
begin
    select e.status_field into v_status_field
    from app.entity_types as e where e.entity_type = p_entity_type;
    select c.* into v_ctx from app._wf_run_context() as c;

    with
    changed as materialized (
        select
            x.new_doc, x.old_doc, coalesce(x.new_doc, x.old_doc) as doc,
            (coalesce(x.new_doc, x.old_doc) ->> 'org_id')::uuid as org_id,
            (coalesce(x.new_doc, x.old_doc) ->> 'id')::uuid as entity_id
        from unnest(p_new, p_old) as x (new_doc, old_doc)
    ),

    orgs as materialized (
        select o.id, to_jsonb(o) as doc
        from app.organizations as o
        where o.id in (select c.org_id from changed as c)
    )

    select
        array_agg(c.org_id), array_agg(w.id), array_agg(c.entity_id),
        array_agg(
            jsonb_build_object('event', p_event, 'trigger', t.v)
            -- A deleted row is gone by the time the steps run: keep it.
            || case when p_event = 'delete' then jsonb_build_object('row', c.old_doc) else '{}' end
        )
    into v_org_ids, v_workflow_ids, v_entity_ids, v_events
    from changed as c
    inner join orgs as o on o.id = c.org_id
    inner join app.workflows as w
        on
            w.org_id = c.org_id and w.entity_type = p_entity_type and w.is_active
            and w.deleted_at is null and p_event = any(w.trigger_events)
    cross join lateral (
        select tr.v
        from jsonb_array_elements(w.definition -> 'triggers') as tr (v)
        where app._wf_trigger_fires(tr.v, p_event, c.new_doc, c.old_doc, v_status_field)
        limit 1
    ) as t
    where app._wf_holds(
        w.definition -> 'conditions',
        c.doc,
        c.old_doc,
        o.doc
    );

    if v_org_ids is null then
        return 0;
    end if;

    if v_ctx.execution_id is not null then
        select s.workflow_max_depth into v_max_depth from app.settings as s;
        -- The recursion guard: a workflow never re-fires itself through its
        -- own chain, and chains stop at the depth limit. Both are logged on
        -- the execution whose step made the change.
        insert into app.workflow_execution_logs (org_id, execution_id, level, message, data)
        select
            v_ctx.org_id, v_ctx.execution_id, 'warning',
            case
                when x.workflow_id = any(v_ctx.chain)
                    then 'recursion guard: workflow not re-fired by its own chain'
                else format('recursion guard: depth limit %s reached', v_max_depth)
            end,
            jsonb_build_object(
                'workflow_id', x.workflow_id, 'entity_id', x.entity_id,
                'depth', v_ctx.depth + 1, 'chain', to_jsonb(v_ctx.chain)
            )
        from unnest(v_workflow_ids, v_entity_ids) as x (workflow_id, entity_id)
        where x.workflow_id = any(v_ctx.chain) or v_ctx.depth + 1 > v_max_depth;

        select array_agg(x.org_id), array_agg(x.workflow_id), array_agg(x.entity_id), array_agg(x.ev)
        into v_org_ids, v_workflow_ids, v_entity_ids, v_events
        from unnest(v_org_ids, v_workflow_ids, v_entity_ids, v_events)
            as x (org_id, workflow_id, entity_id, ev)
        where x.workflow_id <> all(v_ctx.chain) and v_ctx.depth + 1 <= v_max_depth;
        if v_org_ids is null then
            return 0;
        end if;
    end if;

    select count(*) into v_started
    from app._wf_start(
        p_org_ids => v_org_ids,
        p_workflow_ids => v_workflow_ids,
        p_entity_ids => v_entity_ids,
        p_trigger_events => v_events,
        p_trigger_type => 'event',
        p_triggered_by => app.current_user_id(),
        p_depth => coalesce(v_ctx.depth + 1, 0),
        p_chain => coalesce(v_ctx.chain, '{}'),
        p_parent_execution_id => v_ctx.execution_id
    );
    return v_started;
end
$$;


ALTER FUNCTION app._wf_match_rows(p_entity_type text, p_event text, p_new jsonb[], p_old jsonb[]) OWNER TO intime_owner;

--
-- Name: _wf_move_state(uuid, uuid, uuid, text, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_move_state(p_org_id uuid, p_instance_id uuid, p_transition_id uuid, p_notes text, p_actor uuid) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_inst app.workflow_instances%rowtype;
    v_tr app.workflow_transitions%rowtype;
    v_from text;
    v_to text;
    v_wf_name text;
begin
    select i.* into v_inst from app.workflow_instances as i
    where i.org_id = p_org_id and i.id = p_instance_id
    for no key update;
    select t.* into v_tr from app.workflow_transitions as t
    where t.org_id = p_org_id and t.id = p_transition_id;
    if not found then
        raise exception using
            errcode = 'IT015', message = 'the transition no longer exists (the workflow changed)';
    end if;
    if v_tr.from_state_id is not null and v_tr.from_state_id is distinct from v_inst.current_state_id then
        raise exception using
            errcode = 'IT015', message = 'the entity left the transition''s from state meanwhile';
    end if;
    select s.name into v_from from app.workflow_states as s
    where s.org_id = p_org_id and s.id = v_inst.current_state_id;
    select s.name into v_to from app.workflow_states as s
    where s.org_id = p_org_id and s.id = v_tr.to_state_id;
    select w.name into v_wf_name from app.workflows as w
    where w.org_id = p_org_id and w.id = v_inst.workflow_id;
    update app.workflow_instances as i
    set
        current_state_id = v_tr.to_state_id, updated_at = app.now(),
        status = case
            when exists (
                select from app.workflow_states as s
                where s.org_id = p_org_id and s.id = v_tr.to_state_id and s.state_type = 'final'
            ) then 'completed'
            else 'active'
        end
    where i.org_id = p_org_id and i.id = p_instance_id;
    insert into app.entity_history (
        org_id, entity_type, entity_id, change_type, field_name, old_value, new_value, changed_by
    )
    values (
        p_org_id, v_inst.entity_type, v_inst.entity_id, 'updated', 'workflow_state',
        jsonb_build_object('workflow', v_wf_name, 'state', v_from),
        jsonb_build_object(
            'workflow', v_wf_name, 'state', v_to, 'transition', v_tr.name, 'notes', p_notes
        ),
        p_actor
    );
    return jsonb_build_object('from', v_from, 'to', v_to, 'transition', v_tr.name);
end
$$;


ALTER FUNCTION app._wf_move_state(p_org_id uuid, p_instance_id uuid, p_transition_id uuid, p_notes text, p_actor uuid) OWNER TO intime_owner;

--
-- Name: workflow_approvals; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_approvals (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_id uuid NOT NULL,
    step_id uuid,
    approver_id uuid NOT NULL,
    approver_type text,
    approver_role text,
    status text DEFAULT 'pending'::text NOT NULL,
    requested_at timestamp with time zone DEFAULT app.now() NOT NULL,
    due_at timestamp with time zone,
    responded_at timestamp with time zone,
    responded_by uuid,
    response_notes text,
    delegated_to uuid,
    delegated_at timestamp with time zone,
    delegation_reason text,
    escalated_to uuid,
    escalated_at timestamp with time zone,
    escalation_reason text,
    slot integer DEFAULT 1 NOT NULL,
    sequence_order integer DEFAULT 1 NOT NULL,
    is_parallel boolean DEFAULT false NOT NULL,
    source_approval_id uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT workflow_approvals_approver_type_check CHECK ((approver_type = ANY (ARRAY['user'::text, 'role'::text, 'manager'::text, 'owner'::text, 'field'::text, 'delegate'::text, 'escalation'::text]))),
    CONSTRAINT workflow_approvals_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'pending'::text, 'approved'::text, 'rejected'::text, 'delegated'::text, 'escalated'::text, 'expired'::text, 'cancelled'::text])))
);

ALTER TABLE ONLY app.workflow_approvals FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_approvals OWNER TO intime_owner;

--
-- Name: _wf_my_approval(uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_my_approval(p_approval_id uuid) RETURNS app.workflow_approvals
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_row app.workflow_approvals%rowtype;
begin
    -- Lock order everywhere: execution, then its approvals (recall and
    -- cancel take them in that order too).
    perform from app.workflow_executions as e
    where
        e.org_id = v_org_id
        and e.id = (
            select a.execution_id from app.workflow_approvals as a
            where a.org_id = v_org_id and a.id = p_approval_id
        )
    for no key update;
    select a.* into v_row from app.workflow_approvals as a
    where a.org_id = v_org_id and a.id = p_approval_id
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('approval %s not found', p_approval_id);
    end if;
    if v_user_id is null or v_row.approver_id <> v_user_id then
        raise exception using
            errcode = 'IT003', message = 'only the approver (or their delegate) may act on this approval';
    end if;
    if v_row.status <> 'pending' then
        raise exception using
            errcode = 'IT013', message = format('approval %s is %s, not pending', p_approval_id, v_row.status);
    end if;
    return v_row;
end
$$;


ALTER FUNCTION app._wf_my_approval(p_approval_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_new_webhook_secret(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_new_webhook_secret() RETURNS text
    LANGUAGE sql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select 'whsec_' || encode(
        decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'
    )
$$;


ALTER FUNCTION app._wf_new_webhook_secret() OWNER TO intime_owner;

--
-- Name: _wf_next_index(jsonb, integer, jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_next_index(p_steps jsonb, p_index integer, p_step jsonb, p_result jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    with target as (
        select case
            when p_step ->> 'type' = 'condition' then
                case when (p_result ->> 'holds')::boolean then p_step ->> 'then' else p_step ->> 'else' end
            when p_step ->> 'type' = 'approval' and p_result ->> 'decision' = 'rejected' then
                p_step ->> 'on_reject'
            else p_step ->> 'next'
        end as name
    )
    select case
        when t.name is null then p_index + 1
        when t.name = 'end' then jsonb_array_length(p_steps)
        else (
            select s.i::integer - 1 from jsonb_array_elements(p_steps) with ordinality as s (v, i)
            where s.v ->> 'name' = t.name
        )
    end
    from target as t
$$;


ALTER FUNCTION app._wf_next_index(p_steps jsonb, p_index integer, p_step jsonb, p_result jsonb) OWNER TO intime_owner;

--
-- Name: _wf_notify(uuid, uuid[], text, jsonb, text, uuid, text, text, text, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_notify(p_org_id uuid, p_user_ids uuid[], p_template text, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_type text DEFAULT NULL::text, p_action_url text DEFAULT NULL::text, p_action_label text DEFAULT NULL::text, p_execution_id uuid DEFAULT NULL::uuid) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_message text;
    v_state text;
begin
    perform from app._notification_send(row(
        p_org_id,  -- org_id
        p_user_ids,  -- user_ids
        null,  -- category
        p_template,  -- template_slug
        null,  -- title
        null,  -- message
        p_variables,  -- variables
        p_type,  -- type
        null,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        null,  -- channels
        null,  -- group_key
        null,  -- expires_at
        false  -- critical
    )::app.notification_request);
    return true;
exception when others then
    get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
    if p_execution_id is not null then
        perform app._wf_log(
            p_org_id, p_execution_id, 'warning',
            format('notification %s not sent: %s (%s)', p_template, v_message, v_state),
            jsonb_build_object('users', to_jsonb(p_user_ids))
        );
    end if;
    return false;
end
$$;


ALTER FUNCTION app._wf_notify(p_org_id uuid, p_user_ids uuid[], p_template text, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_type text, p_action_url text, p_action_label text, p_execution_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_notify_approvers(uuid, uuid[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_notify_approvers(p_org_id uuid, p_approval_ids uuid[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row record;
begin
    for v_row in
        select
            a.id, a.approver_id, e.id as execution_id, e.entity_type, e.entity_id,
            coalesce(s.result ->> 'title', w.name) as title,
            coalesce(req.full_name, 'Workflow ' || w.name) as requester
        from app.workflow_approvals as a
        inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
        inner join app.workflows as w on w.org_id = e.org_id and w.id = e.workflow_id
        left join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
        left join app.user_profiles as req on req.org_id = e.org_id and req.id = e.triggered_by
        where a.org_id = p_org_id and a.id = any(p_approval_ids)
    loop
        perform app._wf_notify(
            p_org_id => p_org_id,
            p_user_ids => array[v_row.approver_id],
            p_template => 'approval_required',
            p_variables => jsonb_build_object(
                'item', jsonb_build_object('title', v_row.title),
                'requester', jsonb_build_object('name', v_row.requester),
                'approval', jsonb_build_object('id', v_row.id),
                'action_url', '/approvals/' || v_row.id
            ),
            p_entity_type => v_row.entity_type,
            p_entity_id => v_row.entity_id,
            p_type => 'action_required',
            p_execution_id => v_row.execution_id
        );
    end loop;
end
$$;


ALTER FUNCTION app._wf_notify_approvers(p_org_id uuid, p_approval_ids uuid[]) OWNER TO intime_owner;

--
-- Name: _wf_problems(text, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_problems(p_entity_type text, p_definition jsonb) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    c_trigger_types constant text[] := array[
        'created', 'updated', 'deleted', 'status_change', 'field_change', 'manual', 'scheduled'
    ];
    v_type app.entity_types%rowtype;
    v_columns text[];
    v_org_columns text[];
    v_trigger jsonb;
    v_at text;
    v_i integer;
    v_states text[];
    v_transition jsonb;
begin
    select e.* into v_type from app.entity_types as e where e.entity_type = p_entity_type;
    if not found then
        return query select '$', format('unknown entity type %L', p_entity_type);
        return;
    end if;
    if jsonb_typeof(p_definition) is distinct from 'object' then
        return query select '$', 'a definition is a JSON object';
        return;
    end if;
    select array_agg(c.column_name) into v_columns from app._wf_columns(v_type.table_name) as c;
    select array_agg(c.column_name) into v_org_columns from app._wf_columns('organizations') as c;

    return query
    select '$.' || k.key, format('unknown key %L', k.key)
    from jsonb_object_keys(p_definition) as k (key)
    where k.key not in (
        'triggers', 'conditions', 'steps', 'states', 'transitions', 'reenrollment', 'max_retries'
    );

    if jsonb_typeof(p_definition -> 'triggers') is distinct from 'array'
        or jsonb_array_length(p_definition -> 'triggers') = 0 then
        return query select '$.triggers', 'a non-empty array of triggers';
    else
        for v_i in 0 .. jsonb_array_length(p_definition -> 'triggers') - 1 loop
            v_trigger := p_definition -> 'triggers' -> v_i;
            v_at := format('$.triggers[%s]', v_i);
            if jsonb_typeof(v_trigger) <> 'object' or v_trigger ->> 'type' <> all(c_trigger_types)
                or v_trigger ->> 'type' is null then
                return query select v_at || '.type', format(
                    'unknown trigger %L; one of %s', v_trigger ->> 'type',
                    array_to_string(c_trigger_types, ', ')
                );
                continue;
            end if;
            return query
            select v_at || '.' || k.key, format('%s takes no %L', v_trigger ->> 'type', k.key)
            from jsonb_object_keys(v_trigger) as k (key)
            where k.key <> 'type' and k.key <> all(
                case v_trigger ->> 'type'
                    when 'status_change' then array['from', 'to']
                    when 'field_change' then array['field', 'from', 'to']
                    when 'scheduled' then array['cron', 'timezone', 'filter']
                    else array[]::text[]
                end
            );
            if v_trigger ->> 'type' = 'status_change' and v_type.status_field is null then
                return query select v_at, format('%s has no status field', p_entity_type);
            end if;
            if v_trigger ->> 'type' = 'field_change'
                and coalesce(v_trigger ->> 'field', '') <> all(v_columns) then
                return query select v_at || '.field', format('unknown field %L', v_trigger ->> 'field');
            end if;
            if v_trigger ->> 'type' = 'scheduled' then
                if not app._wf_cron_valid(v_trigger ->> 'cron') then
                    return query select v_at || '.cron',
                        'a five-field cron expression, like "0 9 * * 1-5"';
                end if;
                if not exists (
                    select from pg_catalog.pg_timezone_names as z
                    where z.name = coalesce(v_trigger ->> 'timezone', 'UTC')
                ) then
                    return query select v_at || '.timezone', 'an IANA time zone name';
                end if;
                if v_trigger ? 'filter' then
                    return query select * from app._wf_condition_problems(
                        v_trigger -> 'filter', v_at || '.filter', v_columns, v_org_columns, 1
                    );
                end if;
            end if;
        end loop;
        if (
            select count(*) from jsonb_array_elements(p_definition -> 'triggers') as t (v)
            where t.v ->> 'type' = 'scheduled'
        ) > 1 then
            return query select '$.triggers', 'at most one scheduled trigger';
        end if;
    end if;

    if p_definition ? 'conditions' then
        return query select * from app._wf_condition_problems(
            p_definition -> 'conditions', '$.conditions', v_columns, v_org_columns, 1
        );
    end if;

    if not p_definition ? 'steps' and not p_definition ? 'transitions' then
        return query select '$.steps', 'a workflow needs steps (or a state machine''s transitions)';
    elsif p_definition ? 'steps' then
        return query select * from app._wf_steps_problems(
            p_definition -> 'steps', '$.steps', p_entity_type, v_columns, v_org_columns
        );
        if jsonb_typeof(p_definition -> 'steps') = 'array'
            and jsonb_array_length(p_definition -> 'steps') > 200 then
            return query select '$.steps', 'at most 200 steps';
        end if;
    end if;

    if p_definition ? 'reenrollment'
        and p_definition ->> 'reenrollment' not in ('never', 'after_exit', 'concurrent') then
        return query select '$.reenrollment', 'never, after_exit or concurrent';
    end if;
    if p_definition ? 'max_retries'
        and coalesce(p_definition ->> 'max_retries', '') !~ '^([0-9]|1[0-9]|2[0-5])$' then
        return query select '$.max_retries', 'a whole number from 0 to 25';
    end if;

    -- The state machine.
    if p_definition ? 'states' then
        if jsonb_typeof(p_definition -> 'states') <> 'array'
            or jsonb_array_length(p_definition -> 'states') = 0 then
            return query select '$.states', 'a non-empty array of states';
        else
            select array_agg(s.v ->> 'name') into v_states
            from jsonb_array_elements(p_definition -> 'states') as s (v);
            return query
            select format('$.states[%s].name', s.i - 1), 'a unique name: lowercase letters, digits and _'
            from jsonb_array_elements(p_definition -> 'states') with ordinality as s (v, i)
            where
                coalesce(s.v ->> 'name', '') !~ '^[a-z][a-z0-9_]{0,62}$'
                or (select count(*) from unnest(v_states) as n where n = s.v ->> 'name') > 1;
            return query
            select format('$.states[%s].type', s.i - 1), 'initial, intermediate or final'
            from jsonb_array_elements(p_definition -> 'states') with ordinality as s (v, i)
            where coalesce(s.v ->> 'type', 'intermediate') not in ('initial', 'intermediate', 'final');
            if (
                select count(*) from jsonb_array_elements(p_definition -> 'states') as s (v)
                where s.v ->> 'type' = 'initial'
            ) <> 1 then
                return query select '$.states', 'exactly one state has type initial';
            end if;
        end if;
    end if;
    if p_definition ? 'transitions' then
        if not p_definition ? 'states' then
            return query select '$.transitions', 'transitions need states';
        elsif jsonb_typeof(p_definition -> 'transitions') <> 'array' then
            return query select '$.transitions', 'an array of transitions';
        else
            for v_i in 0 .. jsonb_array_length(p_definition -> 'transitions') - 1 loop
                v_transition := p_definition -> 'transitions' -> v_i;
                v_at := format('$.transitions[%s]', v_i);
                if coalesce(v_transition ->> 'name', '') !~ '^[a-z][a-z0-9_]{0,62}$'
                    or (
                        select count(*) from jsonb_array_elements(p_definition -> 'transitions') as t (v)
                        where t.v ->> 'name' = v_transition ->> 'name'
                    ) > 1 then
                    return query select v_at || '.name', 'a unique name: lowercase letters, digits and _';
                end if;
                if v_transition ? 'from' and v_transition ->> 'from' <> all(coalesce(v_states, '{}')) then
                    return query select v_at || '.from', format('no state %L', v_transition ->> 'from');
                end if;
                if coalesce(v_transition ->> 'to', '') <> all(coalesce(v_states, '{}')) then
                    return query select v_at || '.to', format('no state %L', v_transition ->> 'to');
                end if;
                if v_transition ? 'required_role'
                    and v_transition ->> 'required_role' not in ('admin', 'manager', 'member') then
                    return query select v_at || '.required_role', 'admin, manager or member';
                end if;
                if v_transition ? 'approval' then
                    return query select * from app._wf_approval_problems(
                        v_transition -> 'approval', v_at || '.approval',
                        app._wf_user_columns(v_type.table_name)
                    );
                end if;
                if v_transition ? 'steps' then
                    return query select * from app._wf_steps_problems(
                        v_transition -> 'steps', v_at || '.steps', p_entity_type, v_columns,
                        v_org_columns
                    );
                end if;
            end loop;
        end if;
    end if;
end
$_$;


ALTER FUNCTION app._wf_problems(p_entity_type text, p_definition jsonb) OWNER TO intime_owner;

--
-- Name: _wf_queue_delivery(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_queue_delivery(p_org_id uuid, p_action_id uuid) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_attempt integer;
begin
    update app.workflow_actions as a set scheduled_at = app.now()
    where a.org_id = p_org_id and a.id = p_action_id
    returning a.retry_count into v_attempt;
    perform app._enqueue_job(
        p_entrypoint => 'webhook.deliver',
        p_payload => jsonb_build_object('org_id', p_org_id, 'action_id', p_action_id),
        p_dedupe_key => format('webhook.deliver:%s:%s', p_action_id, v_attempt),
        p_skip_duplicate => true
    );
    return true;
end
$$;


ALTER FUNCTION app._wf_queue_delivery(p_org_id uuid, p_action_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_reconcile(integer, interval, integer); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_reconcile(p_limit integer, p_grace interval, p_max_rounds integer) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_woken integer;
    v_stalled integer;
    v_poisoned integer;
    v_deliveries integer := 0;
    v_deliveries_failed integer := 0;
    v_row record;
begin
    -- A run that itself fails (its job held as failed by the worker, or
    -- re-queued here p_max_rounds times already) would fail forever: fail
    -- the execution for good instead, so its owner hears of it. That holds
    -- for a waiting execution whose due timer's run was held failed too (the
    -- run rolled back, so it is still waiting): no failed job stays behind
    -- an execution that is not over.
    select count(
        app._wf_fail_step(
            e.org_id, e.id, null,
            coalesce('the run failed: ' || app._ops_job_error(e.wake_job_id), 'the run failed repeatedly'),
            null, true
        )
    ) into v_poisoned
    from (
        (
            select e.org_id, e.id, e.wake_job_id
            from app.workflow_executions as e
            where
                e.status in ('pending', 'running') and e.updated_at < app.now() - p_grace
                and (
                    exists (
                        select from queue.pgqueuer as j
                        where j.id = e.wake_job_id and j.status = 'failed'
                    )
                    or coalesce((e.execution_context ->> 'requeued')::integer, 0) >= p_max_rounds
                )
            limit p_limit
        )
        union all
        (
            select e.org_id, e.id, e.wake_job_id
            from app.workflow_executions as e
            where
                e.status = 'waiting' and e.wake_at <= app.now()
                and exists (
                    select from queue.pgqueuer as j
                    where j.id = e.wake_job_id and j.status = 'failed'
                )
            limit p_limit
        )
    ) as e;

    -- Due timers and retries whose job is not queued (lost, or queued for a
    -- later real time than the application clock says): queue them now.
    -- No row locks: a runner that meets one would skip the execution, and
    -- a duplicate job is harmless (the runner locks, then checks the state).
    with due as (
        select e.org_id, e.id, e.wake_job_id
        from app.workflow_executions as e
        where e.status = 'waiting' and e.wake_at <= app.now()
        order by e.wake_at
        limit p_limit
    ),

    moved as (
        update queue.pgqueuer as j set execute_after = pg_catalog.now()
        from due as d
        where j.id = d.wake_job_id and j.status = 'queued' and j.execute_after > pg_catalog.now()
        returning j.id
    )

    select count(app._wf_schedule_run(d.org_id, d.id)) into v_woken
    from due as d
    where not exists (
        select from queue.pgqueuer as j
        where j.id = d.wake_job_id and j.status in ('queued', 'picked')
    ) and not exists (select from moved as m where m.id = d.wake_job_id);

    -- Pending or running executions with no job left (a crash between the
    -- job and its execution): p_grace of silence, then queue them.
    with stalled as (
        select e.org_id, e.id
        from app.workflow_executions as e
        where
            e.status in ('pending', 'running') and e.updated_at < app.now() - p_grace
            and not exists (
                select from queue.pgqueuer as j
                where j.id = e.wake_job_id and j.status in ('queued', 'picked', 'failed')
            )
        limit p_limit
    ),

    counted as (
        update app.workflow_executions as e
        set execution_context = jsonb_set(
            e.execution_context, '{requeued}',
            to_jsonb(coalesce((e.execution_context ->> 'requeued')::integer, 0) + 1)
        )
        from stalled as s
        where e.org_id = s.org_id and e.id = s.id
        returning e.org_id, e.id
    )

    select count(app._wf_schedule_run(c.org_id, c.id)) into v_stalled from counted as c;

    -- Webhook deliveries of waiting executions whose job is gone or held
    -- failed (a job lost with its worker's queue row, a delivery that
    -- crashed the worker): queued again with the same message id (a held
    -- job is put back itself, so no failed job stays behind), until they were
    -- re-queued p_max_rounds times; then the delivery fails for good, which
    -- fails its step (and the execution, with its owner notified).
    for v_row in
        with stuck as (
            select
                a.org_id, a.id, a.reconciled,
                format('webhook.deliver:%s:%s', a.id, a.retry_count) as dedupe_key
            from app.workflow_actions as a
            inner join app.workflow_executions as e
                on e.org_id = a.org_id and e.id = a.execution_id
            where
                a.action_type = 'webhook' and a.status in ('pending', 'running')
                and e.status = 'waiting' and e.waiting_for = 'action'
                and coalesce(a.scheduled_at, a.created_at) < app.now() - p_grace
                and not exists (
                    select from queue.pgqueuer as j
                    where
                        j.dedupe_key = format('webhook.deliver:%s:%s', a.id, a.retry_count)
                        and j.status in ('queued', 'picked')
                )
            order by coalesce(a.scheduled_at, a.created_at)
            limit p_limit
        ),

        held as (
            select distinct on (j.dedupe_key) j.dedupe_key, j.id
            from queue.pgqueuer as j
            where
                j.entrypoint = 'webhook.deliver' and j.status = 'failed'
                and j.dedupe_key in (select s.dedupe_key from stuck as s)
            order by j.dedupe_key, j.id desc
        )

        select s.org_id, s.id, s.reconciled, h.id as held_job_id
        from stuck as s
        left join held as h on h.dedupe_key = s.dedupe_key
    loop
        if v_row.reconciled >= p_max_rounds then
            perform app._wf_action_finished(
                v_row.org_id, v_row.id, false, '{}',
                format(
                    'the delivery was re-queued %s times without an outcome%s', v_row.reconciled,
                    coalesce(': ' || app._ops_job_error(v_row.held_job_id), '')
                ),
                true
            );
            v_deliveries_failed := v_deliveries_failed + 1;
        else
            update app.workflow_actions as a set reconciled = a.reconciled + 1
            where a.org_id = v_row.org_id and a.id = v_row.id;
            perform app._ops_revive_held_job(v_row.held_job_id);
            -- Queues a job unless the revived one holds the dedupe key.
            perform app._wf_queue_delivery(v_row.org_id, v_row.id);
            v_deliveries := v_deliveries + 1;
        end if;
    end loop;

    return jsonb_build_object(
        'woken', v_woken, 'stalled', v_stalled, 'poisoned', v_poisoned,
        'deliveries_requeued', v_deliveries, 'deliveries_failed', v_deliveries_failed
    );
end
$$;


ALTER FUNCTION app._wf_reconcile(p_limit integer, p_grace interval, p_max_rounds integer) OWNER TO intime_owner;

--
-- Name: _wf_render_json(jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_render_json(p_value jsonb, p_vars jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case jsonb_typeof(p_value)
        when 'string' then to_jsonb(app._render(p_value #>> '{}', p_vars, 'none'))
        when 'object' then coalesce(
            (select jsonb_object_agg(e.key, app._wf_render_json(e.value, p_vars))
            from jsonb_each(p_value) as e),
            '{}'
        )
        when 'array' then coalesce(
            (select jsonb_agg(app._wf_render_json(e.value, p_vars) order by e.i)
            from jsonb_array_elements(p_value) with ordinality as e (value, i)),
            '[]'
        )
        else p_value
    end
$$;


ALTER FUNCTION app._wf_render_json(p_value jsonb, p_vars jsonb) OWNER TO intime_owner;

--
-- Name: _wf_request_approval(app.workflow_executions, jsonb, uuid, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_request_approval(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_mode text := coalesce(p_step ->> 'mode', 'sequential');
    v_slots integer;
    v_needed integer;
    v_due timestamptz := app.now() + app._wf_interval(p_step ->> 'due_in');
    v_ids uuid [];
    v_subjects uuid [] := app._wf_approval_subjects(p_exec);
    v_configured integer := jsonb_array_length(p_step -> 'approvers');
    v_title text := coalesce(
        app._wf_text(p_step ->> 'title', p_vars),
        format('%s: %s', p_type.label, p_doc ->> p_type.name_field)
    );
begin
    -- A retried step starts its chain again: open rows are cancelled, the
    -- earlier attempt's decisions expire (kept for the record, not counted).
    update app.workflow_approvals as a
    set
        status = case when a.status in ('pending', 'queued') then 'cancelled' else 'expired' end,
        updated_at = app.now()
    where
        a.org_id = p_exec.org_id and a.step_id = p_step_id
        and a.status not in ('cancelled', 'expired');

    with
    specs as (
        select s.v as spec, s.i::integer as slot
        from jsonb_array_elements(p_step -> 'approvers') with ordinality as s (v, i)
    ),

    resolved as (
        select
            sp.slot,
            u.id as approver_id,
            case
                when sp.spec ? 'role' then 'role'
                when sp.spec ? 'manager' then 'manager'
                when sp.spec ? 'owner' then 'owner'
                when sp.spec ? 'field' then 'field'
                else 'user'
            end as approver_type,
            sp.spec ->> 'role' as approver_role
        from specs as sp
        cross join lateral (
            select p.id from app.user_profiles as p
            where
                p.org_id = p_exec.org_id and p.is_active
                and (
                    (
                        sp.spec ? 'role' and p.role = sp.spec ->> 'role'
                        -- A role slot never counts a subject of the request.
                        and p.id <> all(v_subjects)
                    )
                    or (
                        not sp.spec ? 'role'
                        -- Nor does any other slot: it falls back (below).
                        and p.id <> all(v_subjects)
                        and p.id = app._wf_resolve_user(
                            p_exec.org_id,
                            case
                                when sp.spec ? 'manager' then 'manager'
                                when sp.spec ? 'owner' then 'owner'
                                when sp.spec ? 'field' then 'field:' || (sp.spec ->> 'field')
                                else sp.spec ->> 'user'
                            end,
                            p_doc, p_type.owner_field, p_exec.triggered_by
                        )
                    )
                )
        ) as u
    ),

    -- A slot that resolves to nobody (no manager, an empty field, an inactive
    -- user, or only the subject) goes to the org's active admins, the
    -- subject left out: the approval is never skipped because whoever asked
    -- for it chose an owner with no manager.
    fallback as (
        select sp.slot, p.id as approver_id, 'role' as approver_type, 'admin' as approver_role
        from specs as sp
        inner join app.user_profiles as p
            on
                p.org_id = p_exec.org_id and p.is_active and p.role = 'admin'
                and p.id <> all(v_subjects)
        where not exists (select from resolved as r where r.slot = sp.slot)
    ),

    numbered as (
        select r.*, dense_rank() over (order by r.slot) as slot_no
        from (select * from resolved union all select * from fallback) as r
    ),

    inserted as (
        insert into app.workflow_approvals (
            org_id, execution_id, step_id, approver_id, approver_type, approver_role, status,
            due_at, slot, sequence_order, is_parallel
        )
        select
            p_exec.org_id, p_exec.id, p_step_id, n.approver_id, n.approver_type, n.approver_role,
            case when v_mode = 'sequential' and n.slot_no > 1 then 'queued' else 'pending' end,
            case when v_mode = 'sequential' and n.slot_no > 1 then null else v_due end,
            n.slot_no, n.slot_no, v_mode <> 'sequential'
        from numbered as n
        returning id, status
    )

    select array_agg(i.id) filter (where i.status = 'pending'), count(*)
    into v_ids, v_slots
    from inserted as i;

    select count(distinct a.slot) into v_slots from app.workflow_approvals as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id and a.status in ('pending', 'queued');
    -- A slot nobody may fill (not even an admin who is not a subject) would
    -- lower what the step needs: with none left, or fewer than an all or
    -- sequential chain names, or than a quorum, the approval is refused and
    -- the step's on_reject branch (its undo) runs.
    if v_slots = 0
        or (v_mode in ('all', 'sequential') and v_slots < v_configured)
        or (v_mode = 'quorum' and v_slots < (p_step ->> 'quorum')::integer) then
        update app.workflow_approvals as a
        set status = 'cancelled', updated_at = app.now()
        where
            a.org_id = p_exec.org_id and a.step_id = p_step_id
            and a.status in ('pending', 'queued');
        perform app._wf_log(
            p_exec.org_id, p_exec.id, 'warning',
            format('approval %s rejected: no approver could be resolved', p_step ->> 'name'),
            null, p_step_id
        );
        return jsonb_build_object('result', jsonb_build_object(
            'mode', v_mode, 'slots', v_slots, 'needed', null, 'title', v_title,
            'decision', 'rejected', 'decided_at', app.now(),
            'notes', 'no approver could be resolved'
        ));
    end if;
    v_needed := case v_mode
        when 'any' then 1
        when 'quorum' then least((p_step ->> 'quorum')::integer, v_slots)
        else v_slots
    end;
    if coalesce((p_step ->> 'lock_entity')::boolean, true) then
        insert into app.workflow_entity_locks (org_id, entity_type, entity_id, execution_id, reason)
        values (
            p_exec.org_id, p_exec.entity_type, p_exec.entity_id, p_exec.id,
            format('approval %L is pending', p_step ->> 'name')
        )
        on conflict do nothing;
    end if;
    -- The step row carries the rule the decisions are counted by.
    update app.workflow_steps as s
    set result = jsonb_build_object(
        'mode', v_mode, 'slots', v_slots, 'needed', v_needed, 'title', v_title
    )
    where s.org_id = p_exec.org_id and s.id = p_step_id;
    -- The fields the workflow reads stay locked until this execution ends
    -- (app._tg_approval_field_lock).
    update app.workflow_executions as e
    set approval_requested_at = coalesce(e.approval_requested_at, app.now())
    where e.org_id = p_exec.org_id and e.id = p_exec.id;
    perform app._wf_notify_approvers(p_exec.org_id, v_ids);
    return jsonb_build_object('park', 'approval', 'result', jsonb_build_object(
        'mode', v_mode, 'slots', v_slots, 'needed', v_needed, 'title', v_title
    ));
end
$$;


ALTER FUNCTION app._wf_request_approval(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_resolve_path(uuid, text, jsonb, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_resolve_path(p_org_id uuid, p_table text, p_doc jsonb, p_path text) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_doc jsonb := p_doc;
    v_rel regclass := format('app.%I', p_table)::regclass;
    v_segment text;
    v_target regclass;
begin
    foreach v_segment in array string_to_array(p_path, '.') loop
        if v_doc is null then
            return null;
        end if;
        if v_doc ? v_segment then
            v_doc := v_doc -> v_segment;
            v_rel := null;
            continue;
        end if;
        if v_rel is null or not v_doc ? (v_segment || '_id') then
            return null;
        end if;
        select c.confrelid::regclass into v_target
        from pg_catalog.pg_constraint as c
        inner join pg_catalog.pg_attribute as a
            on a.attrelid = c.conrelid and a.attnum = c.conkey[2]
        inner join pg_catalog.pg_class as t on t.oid = c.confrelid
        inner join pg_catalog.pg_namespace as n on n.oid = t.relnamespace
        where
            c.conrelid = v_rel and c.contype = 'f' and cardinality(c.conkey) = 2
            and a.attname = v_segment || '_id' and n.nspname = 'app';
        if v_target is null then
            return null;
        end if;
        execute format('select to_jsonb(t) from %s as t where t.org_id = $1 and t.id = $2', v_target)
        into v_doc using p_org_id, (v_doc ->> (v_segment || '_id'))::uuid;
        v_rel := v_target;
    end loop;
    return v_doc;
end
$_$;


ALTER FUNCTION app._wf_resolve_path(p_org_id uuid, p_table text, p_doc jsonb, p_path text) OWNER TO intime_owner;

--
-- Name: _wf_resolve_user(uuid, text, jsonb, text, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_resolve_user(p_org_id uuid, p_ref text, p_doc jsonb, p_owner_field text, p_triggered_by uuid) RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_id uuid;
begin
    if p_ref is null then
        return null;
    end if;
    v_id := case
        when p_ref = 'owner' then (p_doc ->> p_owner_field)::uuid
        when p_ref = 'triggered_by' then p_triggered_by
        when p_ref = 'manager' then (
            select u.manager_id from app.user_profiles as u
            where u.org_id = p_org_id and u.id = (p_doc ->> p_owner_field)::uuid
        )
        when p_ref like 'field:%' then (p_doc ->> substr(p_ref, 7))::uuid
        else p_ref::uuid
    end;
    if v_id is not null and not exists (
        select from app.user_profiles as u where u.org_id = p_org_id and u.id = v_id
    ) then
        raise exception using errcode = 'IT004', message = format('user %s not found', v_id);
    end if;
    return v_id;
end
$$;


ALTER FUNCTION app._wf_resolve_user(p_org_id uuid, p_ref text, p_doc jsonb, p_owner_field text, p_triggered_by uuid) OWNER TO intime_owner;

--
-- Name: _wf_run_context(); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_run_context() RETURNS TABLE(org_id uuid, execution_id uuid, depth integer, chain uuid[])
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_setting text := nullif(pg_catalog.current_setting('intime.wf_execution', true), '');
begin
    if v_setting is null then
        return;
    end if;
    return query
    select e.org_id, e.id, e.depth, e.chain
    from app.workflow_executions as e
    where
        e.org_id = split_part(v_setting, ':', 1)::uuid
        and e.id = split_part(v_setting, ':', 2)::uuid
        and e.run_xid = pg_catalog.pg_current_xact_id();
end
$$;


ALTER FUNCTION app._wf_run_context() OWNER TO intime_owner;

--
-- Name: _wf_schedule_run(uuid, uuid, timestamp with time zone); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_schedule_run(p_org_id uuid, p_execution_id uuid, p_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_job_id bigint;
begin
    v_job_id := app._enqueue_job(
        p_entrypoint => 'workflow.run',
        p_payload => jsonb_build_object('org_id', p_org_id, 'execution_id', p_execution_id),
        p_at => p_at
    );
    update app.workflow_executions as e set wake_job_id = v_job_id
    where e.org_id = p_org_id and e.id = p_execution_id;
    return v_job_id;
end
$$;


ALTER FUNCTION app._wf_schedule_run(p_org_id uuid, p_execution_id uuid, p_at timestamp with time zone) OWNER TO intime_owner;

--
-- Name: _wf_set_field(app.workflow_executions, app.entity_types, text, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_set_field(p_exec app.workflow_executions, p_type app.entity_types, p_field text, p_value jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_count integer;
begin
    if p_field <> all(p_type.updatable_fields) then
        raise exception using
            errcode = 'IT005', message = format('%L is not updatable on %s', p_field, p_type.entity_type);
    end if;
    perform app._wf_assert_unlocked(p_exec.org_id, p_exec.entity_type, p_exec.entity_id, p_exec.id);
    execute format(
        'update app.%1$I as t set %2$I = (jsonb_populate_record(null::app.%1$I, $1)).%2$I '
        'where t.org_id = $2 and t.id = $3',
        p_type.table_name, p_field
    ) using jsonb_build_object(p_field, p_value), p_exec.org_id, p_exec.entity_id;
    get diagnostics v_count = row_count;
    if v_count = 0 then
        raise exception using
            errcode = 'IT004',
            message = format('%s %s no longer exists', p_exec.entity_type, p_exec.entity_id);
    end if;
end
$_$;


ALTER FUNCTION app._wf_set_field(p_exec app.workflow_executions, p_type app.entity_types, p_field text, p_value jsonb) OWNER TO intime_owner;

--
-- Name: _wf_set_state(app.workflow_executions, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_set_state(p_exec app.workflow_executions, p_step jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_moved jsonb;
begin
    v_moved := app._wf_move_state(
        p_exec.org_id, p_exec.instance_id, (p_step ->> 'transition_id')::uuid, p_step ->> 'notes',
        p_exec.triggered_by
    );
    delete from app.workflow_entity_locks as l
    where l.org_id = p_exec.org_id and l.execution_id = p_exec.id;
    return v_moved;
end
$$;


ALTER FUNCTION app._wf_set_state(p_exec app.workflow_executions, p_step jsonb) OWNER TO intime_owner;

--
-- Name: _wf_settle_approval(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_settle_approval(p_org_id uuid, p_step_id uuid) RETURNS text
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_step app.workflow_steps%rowtype;
    v_approved integer;
    v_rejected integer;
    v_open integer;
    v_needed integer;
    v_decision text;
    v_next integer;
    v_ids uuid [];
begin
    select s.* into v_step from app.workflow_steps as s
    where s.org_id = p_org_id and s.id = p_step_id
    for update;
    if v_step.result ? 'decision' then
        return v_step.result ->> 'decision';
    end if;
    v_needed := (v_step.result ->> 'needed')::integer;
    select
        count(*) filter (where x.state = 'approved'),
        count(*) filter (where x.state = 'rejected'),
        count(*) filter (where x.state = 'open')
    into v_approved, v_rejected, v_open
    from (
        select
            a.slot,
            case
                when bool_or(a.status = 'approved') then 'approved'
                when bool_or(a.status = 'rejected') then 'rejected'
                when bool_or(a.status in ('pending', 'queued')) then 'open'
                else 'dead'
            end as state
        from app.workflow_approvals as a
        where a.org_id = p_org_id and a.step_id = p_step_id and a.status not in ('cancelled', 'expired')
        group by a.slot
    ) as x;

    if v_approved >= v_needed then
        v_decision := 'approved';
    elsif v_approved + v_open < v_needed then
        v_decision := 'rejected';
    end if;

    if v_decision is null then
        if v_step.result ->> 'mode' = 'sequential' and not exists (
            select from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.status = 'pending'
        ) then
            select min(a.slot) into v_next from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.status = 'queued';
            with opened as (
                update app.workflow_approvals as a
                set
                    status = 'pending', requested_at = app.now(), updated_at = app.now(),
                    due_at = app.now() + app._wf_interval(v_step.step_config ->> 'due_in')
                where a.org_id = p_org_id and a.step_id = p_step_id and a.slot = v_next
                    and a.status = 'queued'
                returning a.id
            )

            select array_agg(o.id) into v_ids from opened as o;
            perform app._wf_notify_approvers(p_org_id, v_ids);
        end if;
        return 'open';
    end if;

    update app.workflow_approvals as a set status = 'cancelled', updated_at = app.now()
    where a.org_id = p_org_id and a.step_id = p_step_id and a.status in ('pending', 'queued');
    update app.workflow_steps as s
    set result = s.result || jsonb_build_object(
        'decision', v_decision, 'decided_at', app.now(), 'approved', v_approved,
        'rejected', v_rejected,
        'notes', (
            select string_agg(a.response_notes, '; ' order by a.responded_at)
            from app.workflow_approvals as a
            where a.org_id = p_org_id and a.step_id = p_step_id and a.response_notes is not null
        )
    )
    where s.org_id = p_org_id and s.id = p_step_id;
    -- An approved transition keeps the entity locked until its move step ran.
    delete from app.workflow_entity_locks as l
    where
        l.org_id = p_org_id and l.execution_id = v_step.execution_id
        and not (
            v_decision = 'approved' and exists (
                select from app.workflow_executions as e
                where e.org_id = p_org_id and e.id = v_step.execution_id and e.transition_id is not null
            )
        );
    perform app._wf_log(
        p_org_id, v_step.execution_id, 'info',
        format('approval %s %s (%s approved, %s rejected, %s needed)',
            v_step.step_name, v_decision, v_approved, v_rejected, v_needed),
        null, p_step_id
    );
    update app.workflow_executions as e
    set status = 'running', waiting_for = null, updated_at = app.now()
    where e.org_id = p_org_id and e.id = v_step.execution_id and e.status = 'waiting';
    if found then
        perform app._wf_schedule_run(p_org_id, v_step.execution_id);
    end if;
    return v_decision;
end
$$;


ALTER FUNCTION app._wf_settle_approval(p_org_id uuid, p_step_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_start(uuid[], uuid[], uuid[], jsonb[], text, uuid, integer, uuid[], uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_start(p_org_ids uuid[], p_workflow_ids uuid[], p_entity_ids uuid[], p_trigger_events jsonb[], p_trigger_type text, p_triggered_by uuid DEFAULT NULL::uuid, p_depth integer DEFAULT 0, p_chain uuid[] DEFAULT '{}'::uuid[], p_parent_execution_id uuid DEFAULT NULL::uuid) RETURNS TABLE(execution_id uuid, org_id uuid, workflow_id uuid, entity_id uuid)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
declare
    v_ids uuid [];
    v_orgs uuid [];
    v_instances uuid [];
    v_new_instances uuid [];
begin
    -- A new instance has had no execution, so the one about to start is
    -- certain: count it now (updating the rows just inserted would pay every
    -- foreign-key check again, a third of a bulk statement's time).
    with made as (
        insert into app.workflow_instances (
            org_id, workflow_id, entity_type, entity_id, current_state_id, created_by,
            executions_started, last_execution_at
        )
        select distinct on (i.org_id, i.workflow_id, i.entity_id)
            i.org_id, i.workflow_id, w.entity_type, i.entity_id, s.id, p_triggered_by, 1, app.now()
        from unnest(p_org_ids, p_workflow_ids, p_entity_ids) as i (org_id, workflow_id, entity_id)
        inner join app.workflows as w on w.org_id = i.org_id and w.id = i.workflow_id
        left join app.workflow_states as s
            on s.org_id = i.org_id and s.workflow_id = i.workflow_id and s.state_type = 'initial'
        on conflict (org_id, workflow_id, entity_id) do nothing
        returning workflow_instances.id
    )

    select array_agg(m.id) into v_new_instances from made as m;

    with
    input as (
        select i.*
        from unnest(p_org_ids, p_workflow_ids, p_entity_ids, p_trigger_events)
            as i (org_id, workflow_id, entity_id, trigger_event)
    ),

    candidates as (
        select
            i.org_id, i.workflow_id, i.entity_id, i.trigger_event, w.entity_type, w.version,
            w.max_retries, w.reenrollment, inst.id as instance_id,
            jsonb_array_length(w.definition -> 'steps') as total_steps
        from input as i
        inner join app.workflows as w on w.org_id = i.org_id and w.id = i.workflow_id
        inner join app.workflow_instances as inst
            on
                inst.org_id = i.org_id and inst.workflow_id = i.workflow_id
                and inst.entity_id = i.entity_id
        where
            w.reenrollment <> 'never'
            or not exists (
                select from app.workflow_executions as e
                where e.org_id = inst.org_id and e.instance_id = inst.id
            )
    ),

    inserted as (
        insert into app.workflow_executions (
            org_id, instance_id, workflow_id, workflow_version, entity_type, entity_id,
            triggered_by, trigger_type, trigger_event, total_steps, max_retries, depth, chain,
            parent_execution_id, exclusive, wake_job_id
        )
        select
            c.org_id, c.instance_id, c.workflow_id, c.version, c.entity_type, c.entity_id,
            p_triggered_by, p_trigger_type, c.trigger_event, coalesce(c.total_steps, 0),
            c.max_retries, p_depth, p_chain || c.workflow_id, p_parent_execution_id,
            c.reenrollment <> 'concurrent', nextval('queue.pgqueuer_id_seq')
        from candidates as c
        on conflict (org_id, workflow_id, entity_id)
        where exclusive and status in ('pending', 'running', 'waiting', 'paused')
        do nothing
        returning
            workflow_executions.id, workflow_executions.org_id, workflow_executions.instance_id,
            workflow_executions.wake_job_id
    ),

    jobs as (
        insert into queue.pgqueuer (id, priority, entrypoint, payload, status, execute_after)
        select
            x.wake_job_id, 0, 'workflow.run',
            convert_to(format('{"org_id": "%s", "execution_id": "%s"}', x.org_id, x.id), 'UTF8'),
            'queued', pg_catalog.now()
        from inserted as x
    )

    select array_agg(x.id), array_agg(x.org_id), array_agg(x.instance_id)
    into v_ids, v_orgs, v_instances
    from inserted as x;

    if v_ids is null then
        return;
    end if;

    update app.workflow_instances as i
    set
        executions_started = i.executions_started + n.started,
        last_execution_at = app.now(),
        updated_at = app.now()
    from (
        select x.org_id, x.instance_id, count(*)::integer as started
        from unnest(v_orgs, v_instances) as x (org_id, instance_id)
        where x.instance_id <> all(coalesce(v_new_instances, '{}'))
        group by 1, 2
    ) as n
    where i.org_id = n.org_id and i.id = n.instance_id;

    -- No "queued" log line per execution: the execution row says it
    -- (api.get_execution_timeline shows it first), and a bulk statement would
    -- otherwise write one more partitioned row, with its checks, per row.
    return query
    select e.id, e.org_id, e.workflow_id, e.entity_id
    from app.workflow_executions as e
    inner join unnest(v_orgs, v_ids) as x (org_id, id) on e.org_id = x.org_id and e.id = x.id;
end
$$;


ALTER FUNCTION app._wf_start(p_org_ids uuid[], p_workflow_ids uuid[], p_entity_ids uuid[], p_trigger_events jsonb[], p_trigger_type text, p_triggered_by uuid, p_depth integer, p_chain uuid[], p_parent_execution_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_step_activity(app.workflow_executions, jsonb, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_activity(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_task boolean := p_step ->> 'type' = 'create_task';
    v_assignee uuid;
    v_id uuid;
begin
    v_assignee := app._wf_resolve_user(
        p_exec.org_id, coalesce(p_step ->> 'assignee', case when v_task then 'owner' end), p_doc,
        p_type.owner_field, p_exec.triggered_by
    );
    insert into app.activities (
        org_id, entity_type, entity_id, type, subject, description, status, priority, due_date,
        completed_at, assignee_id, metadata
    )
    values (
        p_exec.org_id, p_exec.entity_type, p_exec.entity_id,
        coalesce(p_step ->> 'activity_type', case when v_task then 'task' else 'note' end),
        app._render(coalesce(p_step ->> 'title', p_step ->> 'subject'), p_vars, 'none'),
        app._wf_text(p_step ->> 'description', p_vars),
        case when v_task then 'open' else coalesce(p_step ->> 'status', 'completed') end,
        coalesce(p_step ->> 'priority', 'normal'),
        app.now() + app._wf_interval(p_step ->> 'due_in'),
        case when not v_task and coalesce(p_step ->> 'status', 'completed') = 'completed' then app.now() end,
        v_assignee,
        jsonb_build_object('workflow_id', p_exec.workflow_id, 'execution_id', p_exec.id)
    )
    returning id into v_id;
    return jsonb_build_object(
        'result', jsonb_build_object('activity_id', v_id, 'assignee_id', v_assignee)
    );
end
$$;


ALTER FUNCTION app._wf_step_activity(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_assign(app.workflow_executions, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_assign(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_field text := coalesce(p_step ->> 'field', p_type.owner_field);
    v_mode text := p_step ->> 'mode';
    v_user uuid;
    v_users uuid [];
    v_weights integer [];
    v_step_name text := p_step ->> 'name';
begin
    if v_mode = 'user' then
        v_user := app._wf_resolve_user(
            p_exec.org_id, p_step ->> 'user', p_doc, p_type.owner_field, p_exec.triggered_by
        );
    elsif v_mode = 'manager' then
        v_user := app._wf_resolve_user(
            p_exec.org_id, 'manager', p_doc, p_type.owner_field, p_exec.triggered_by
        );
        if v_user is null then
            return jsonb_build_object('result', jsonb_build_object(
                'skipped', 'the owner has no manager'
            ));
        end if;
    else
        select
            array_agg(coalesce(u.v ->> 'user', u.v #>> '{}')::uuid order by u.i),
            array_agg(coalesce((u.v ->> 'weight')::integer, 1) order by u.i)
        into v_users, v_weights
        from jsonb_array_elements(p_step -> 'users') with ordinality as u (v, i);
        insert into app.workflow_round_robin (org_id, workflow_id, step_name, user_id, weight)
        select p_exec.org_id, p_exec.workflow_id, v_step_name, x.user_id, x.weight
        from unnest(v_users, v_weights) as x (user_id, weight)
        where exists (
            select from app.user_profiles as p where p.org_id = p_exec.org_id and p.id = x.user_id
        )
        on conflict (org_id, workflow_id, step_name, user_id) do update set weight = excluded.weight;
        -- One rotation at a time: lock it whole, then pick.
        perform from app.workflow_round_robin as r
        where r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id and r.step_name = v_step_name
        for update;
        select r.user_id into v_user
        from app.workflow_round_robin as r
        inner join app.user_profiles as u on u.org_id = r.org_id and u.id = r.user_id
        where
            r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id
            and r.step_name = v_step_name and r.user_id = any(v_users)
            and u.is_active and u.available
            and (u.out_of_office_until is null or u.out_of_office_until <= app.now())
        order by
            (r.assigned_count + 1)::numeric / r.weight, r.last_assigned_at nulls first,
            array_position(v_users, r.user_id)
        limit 1;
        if v_user is null then
            raise exception using
                errcode = 'IT013', message = 'no available user in the round robin';
        end if;
        update app.workflow_round_robin as r
        set assigned_count = r.assigned_count + 1, last_assigned_at = app.now()
        where
            r.org_id = p_exec.org_id and r.workflow_id = p_exec.workflow_id
            and r.step_name = v_step_name and r.user_id = v_user;
    end if;
    perform app._wf_set_field(p_exec, p_type, v_field, to_jsonb(v_user));
    return jsonb_build_object('result', jsonb_build_object(
        'field', v_field, 'user_id', v_user, 'previous', p_doc -> v_field
    ));
end
$$;


ALTER FUNCTION app._wf_step_assign(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_email(app.workflow_executions, jsonb, uuid, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_email(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_to_spec text := p_step ->> 'to';
    v_to text;
    v_action_id uuid;
    v_send app.email_sends%rowtype;
    v_send_id uuid;
begin
    -- A retried step reuses its action (and its email, if one was made).
    select a.id into v_action_id from app.workflow_actions as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id
    order by a.created_at desc limit 1;
    if v_action_id is not null then
        select s.* into v_send from app.email_sends as s
        where s.org_id = p_exec.org_id and s.workflow_action_id = v_action_id
        order by s.created_at desc limit 1;
        if found and v_send.status not in ('failed') then
            update app.workflow_actions as a set status = 'running', retry_count = a.retry_count + 1
            where a.org_id = p_exec.org_id and a.id = v_action_id;
            return jsonb_build_object('park', 'action', 'result', jsonb_build_object(
                'action_id', v_action_id, 'email_send_id', v_send.id
            ));
        end if;
    end if;

    v_to := case
        when v_to_spec like '%{{%' then app._render(v_to_spec, p_vars, 'none')
        when v_to_spec like '%@%' then v_to_spec
        else app._wf_resolve_path(p_exec.org_id, p_type.table_name, p_doc, v_to_spec) #>> '{}'
    end;
    if v_to is null or btrim(v_to) = '' then
        raise exception using
            errcode = 'IT005', message = format('no recipient address at %L', v_to_spec);
    end if;
    if v_action_id is null then
        insert into app.workflow_actions (
            org_id, execution_id, step_id, action_type, action_config, status, started_at
        )
        values (p_exec.org_id, p_exec.id, p_step_id, 'send_email', p_step, 'running', app.now())
        returning id into v_action_id;
    else
        update app.workflow_actions as a
        set status = 'running', retry_count = a.retry_count + 1, error_message = null
        where a.org_id = p_exec.org_id and a.id = v_action_id;
    end if;
    v_send_id := api.queue_email(
        p_to => btrim(v_to),
        p_template_slug => p_step ->> 'template',
        p_variables => p_vars || app._wf_render_json(coalesce(p_step -> 'variables', '{}'), p_vars),
        p_subject => p_step ->> 'subject',  -- queue_email renders it, once
        p_html => p_step ->> 'html',
        p_text => p_step ->> 'text',
        p_category => coalesce(p_step ->> 'category', 'transactional'),
        p_entity_type => p_exec.entity_type,
        p_entity_id => p_exec.entity_id,
        p_workflow_action_id => v_action_id
    );
    select s.* into v_send from app.email_sends as s
    where s.org_id = p_exec.org_id and s.id = v_send_id;
    if v_send.status = 'suppressed' then
        update app.workflow_actions as a
        set
            status = 'completed', completed_at = app.now(),
            result = jsonb_build_object(
                'email_send_id', v_send_id, 'status', 'suppressed', 'reason', v_send.suppression_reason
            )
        where a.org_id = p_exec.org_id and a.id = v_action_id;
        return jsonb_build_object('result', jsonb_build_object(
            'action_id', v_action_id, 'email_send_id', v_send_id, 'to', v_to,
            'skipped', 'suppressed: ' || v_send.suppression_reason
        ));
    end if;
    return jsonb_build_object('park', 'action', 'result', jsonb_build_object(
        'action_id', v_action_id, 'email_send_id', v_send_id, 'to', v_to
    ));
end
$$;


ALTER FUNCTION app._wf_step_email(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_escalate(app.workflow_executions, jsonb, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_escalate(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_target uuid;
    v_notified boolean;
begin
    if coalesce(p_step ->> 'to', 'manager') = 'manager' then
        v_target := (p_doc ->> p_type.owner_field)::uuid;
        for v_level in 1 .. coalesce((p_step ->> 'levels')::integer, 1) loop
            select u.manager_id into v_target from app.user_profiles as u
            where u.org_id = p_exec.org_id and u.id = v_target;
            exit when v_target is null;
        end loop;
    else
        v_target := app._wf_resolve_user(
            p_exec.org_id, p_step ->> 'to', p_doc, p_type.owner_field, p_exec.triggered_by
        );
    end if;
    if v_target is null then
        return jsonb_build_object('result', jsonb_build_object('skipped', 'no one to escalate to'));
    end if;
    if coalesce(p_step ->> 'action', 'notify') = 'reassign' then
        perform app._wf_set_field(p_exec, p_type, p_type.owner_field, to_jsonb(v_target));
    end if;
    v_notified := app._wf_notify(
        p_org_id => p_exec.org_id,
        p_user_ids => array[v_target],
        p_template => 'workflow_escalation',
        p_variables => p_vars || jsonb_build_object(
            'item', jsonb_build_object('title', p_doc ->> p_type.name_field),
            'message', coalesce(
                app._wf_text(p_step ->> 'message', p_vars),
                format('%s needs your attention.', p_doc ->> p_type.name_field)
            )
        ),
        p_entity_type => p_exec.entity_type,
        p_entity_id => p_exec.entity_id,
        p_execution_id => p_exec.id
    );
    return jsonb_build_object('result', jsonb_build_object(
        'escalated_to', v_target, 'action', coalesce(p_step ->> 'action', 'notify'),
        'notified', v_notified
    ));
end
$$;


ALTER FUNCTION app._wf_step_escalate(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_notify(app.workflow_executions, jsonb, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_notify(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_users uuid [];
    v_vars jsonb := p_vars || app._wf_render_json(coalesce(p_step -> 'variables', '{}'), p_vars);
    v_result jsonb;
begin
    select array_agg(distinct u.id) into v_users
    from jsonb_array_elements_text(coalesce(p_step -> 'to', '["owner"]')) as r (ref)
    cross join lateral (
        select app._wf_resolve_user(
            p_exec.org_id, r.ref, p_doc, p_type.owner_field, p_exec.triggered_by
        ) as id
    ) as u
    where u.id is not null;
    if v_users is null then
        return jsonb_build_object('result', jsonb_build_object('skipped', 'no recipient'));
    end if;
    select jsonb_build_object(
        'notifications', jsonb_agg(jsonb_build_object(
            'user_id', s.user_id, 'notification_id', s.notification_id, 'outcome', s.outcome
        ))
    )
    into v_result
    from app._notification_send(row(
        p_exec.org_id,  -- org_id
        v_users,  -- user_ids
        coalesce(p_step ->> 'category', case when p_step ? 'template' then null else 'workflow' end),  -- category
        p_step ->> 'template',  -- template_slug
        app._wf_text(p_step ->> 'title', p_vars),  -- title
        app._wf_text(p_step ->> 'message', p_vars),  -- message
        v_vars,  -- variables
        p_step ->> 'notification_type',  -- type
        p_step ->> 'priority',  -- priority
        p_exec.entity_type,  -- entity_type
        p_exec.entity_id,  -- entity_id
        app._wf_text(p_step ->> 'action_url', p_vars),  -- action_url
        p_step ->> 'action_label',  -- action_label
        (select array_agg(c) from jsonb_array_elements_text(p_step -> 'channels') as c),  -- channels
        p_step ->> 'group_key',  -- group_key
        null,  -- expires_at
        coalesce((p_step ->> 'critical')::boolean, false)  -- critical
    )::app.notification_request) as s;
    return jsonb_build_object('result', v_result);
end
$$;


ALTER FUNCTION app._wf_step_notify(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_assign(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_assign(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_j integer;
    v_ref jsonb;
begin
    if coalesce(p_step ->> 'mode', '') not in ('user', 'round_robin', 'manager') then
        return query select p_at || '.mode', 'user, round_robin or manager';
    end if;
    if coalesce(p_step ->> 'field', p_type.owner_field) <> all(p_type.updatable_fields) then
        return query select p_at || '.field', format(
            '%L is not an updatable user field of %s',
            coalesce(p_step ->> 'field', p_type.owner_field), p_type.entity_type
        );
    end if;
    if p_step ->> 'mode' = 'user' and not app._wf_is_user_ref(p_step -> 'user', p_user_columns) then
        return query select p_at || '.user', 'the user to assign';
    end if;
    if p_step ->> 'mode' = 'round_robin' then
        if jsonb_typeof(p_step -> 'users') is distinct from 'array'
            or jsonb_array_length(p_step -> 'users') = 0 then
            return query select p_at || '.users', 'a non-empty array of users';
        else
            for v_j in 0 .. jsonb_array_length(p_step -> 'users') - 1 loop
                v_ref := p_step -> 'users' -> v_j;
                if not (
                    (
                        app._wf_is_user_ref(v_ref, '{}')
                        and v_ref #>> '{}' not in ('owner', 'manager', 'triggered_by')
                    )
                    or (
                        jsonb_typeof(v_ref) = 'object'
                        and app._wf_is_user_ref(v_ref -> 'user', '{}')
                        and coalesce(v_ref ->> 'weight', '1') ~ '^[1-9][0-9]?$'
                    )
                ) then
                    return query select format('%s.users[%s]', p_at, v_j),
                        'a user id, or {"user": id, "weight": 1-99}';
                end if;
            end loop;
        end if;
    end if;
end
$_$;


ALTER FUNCTION app._wf_step_problems_assign(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_condition(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_condition(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if not p_step ? 'if' then
        return query select p_at || '.if', 'a condition';
    else
        return query select * from app._wf_condition_problems(
            p_step -> 'if', p_at || '.if', p_columns, p_org_columns, 1
        );
    end if;
end
$$;


ALTER FUNCTION app._wf_step_problems_condition(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_escalate(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_escalate(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
    if p_step ? 'to' and p_step ->> 'to' <> 'manager'
        and not app._wf_is_user_ref(p_step -> 'to', p_user_columns) then
        return query select p_at || '.to', 'manager or a user';
    end if;
    if coalesce(p_step ->> 'action', 'notify') not in ('notify', 'reassign') then
        return query select p_at || '.action', 'notify or reassign';
    elsif p_step ->> 'action' = 'reassign'
        and coalesce(p_type.owner_field, '') <> all(p_type.updatable_fields) then
        return query select p_at || '.action', format(
            'the owner field of %s is not updatable: reassign cannot work',
            p_type.entity_type
        );
    end if;
    if coalesce(p_step ->> 'levels', '1') !~ '^[1-9]$' then
        return query select p_at || '.levels', 'how many managers up: 1-9';
    end if;
end
$_$;


ALTER FUNCTION app._wf_step_problems_escalate(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_send_email(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_send_email(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_step ->> 'to' is null then
        return query select p_at || '.to',
            'an address, a field path like "lead_contact.email", or a {{template}}';
    end if;
    if p_step ->> 'template' is null and p_step ->> 'subject' is null then
        return query select p_at, 'needs a template, or a subject and html or text';
    end if;
    if p_step ->> 'template' is not null and not exists (
        select from app.email_templates as t
        where t.slug = p_step ->> 'template' and t.org_id = app.current_org_id()
    ) then
        return query select p_at || '.template',
            format('no email template %L', p_step ->> 'template');
    end if;
    if p_step ? 'category'
        and p_step ->> 'category' not in ('transactional', 'marketing', 'campaign') then
        return query select p_at || '.category', 'transactional, marketing or campaign';
    end if;
end
$$;


ALTER FUNCTION app._wf_step_problems_send_email(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_send_notification(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_send_notification(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_step ? 'to' and (
        jsonb_typeof(p_step -> 'to') <> 'array'
        or exists (
            select from jsonb_array_elements(p_step -> 'to') as r (v)
            where not app._wf_is_user_ref(r.v, p_user_columns)
        )
    ) then
        return query select p_at || '.to', 'an array of users';
    end if;
    if p_step ->> 'template' is null and p_step ->> 'title' is null then
        return query select p_at, 'needs a template or a title';
    end if;
    if p_step ->> 'template' is not null and not exists (
        select from app.notification_system_templates as t where t.slug = p_step ->> 'template'
    ) and not exists (
        select from app.notification_templates as t
        where t.slug = p_step ->> 'template' and t.org_id = app.current_org_id()
    ) then
        return query select p_at || '.template',
            format('no notification template %L', p_step ->> 'template');
    end if;
    if p_step ? 'variables' and jsonb_typeof(p_step -> 'variables') <> 'object' then
        return query select p_at || '.variables', 'an object';
    end if;
end
$$;


ALTER FUNCTION app._wf_step_problems_send_notification(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_task(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_task(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if coalesce(p_step ->> 'title', p_step ->> 'subject') is null then
        return query select p_at || '.title', 'needs a title';
    end if;
    if p_step ? 'assignee' and not app._wf_is_user_ref(p_step -> 'assignee', p_user_columns) then
        return query select p_at || '.assignee',
            'a user: owner, manager, triggered_by, a user id or field:<column>';
    end if;
    if p_step ? 'due_in' and app._wf_try_interval(p_step ->> 'due_in') is null then
        return query select p_at || '.due_in', 'an interval, like "P2D" or "2 days"';
    end if;
    if p_step ? 'priority'
        and p_step ->> 'priority' not in ('low', 'normal', 'high', 'urgent') then
        return query select p_at || '.priority', 'low, normal, high or urgent';
    end if;
    if p_step ? 'activity_type' and p_step ->> 'activity_type'
        not in ('task', 'call', 'email', 'meeting', 'note', 'linkedin') then
        return query select p_at || '.activity_type',
            'task, call, email, meeting, note or linkedin';
    end if;
end
$$;


ALTER FUNCTION app._wf_step_problems_task(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_update_field(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_update_field(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    if p_step ->> 'field' is null or p_step ->> 'field' <> all(p_type.updatable_fields) then
        return query select p_at || '.field', format(
            '%L is not updatable on %s; allowed: %s', p_step ->> 'field', p_type.entity_type,
            array_to_string(p_type.updatable_fields, ', ')
        );
    end if;
    if not p_step ? 'value' then
        return query select p_at || '.value', 'needs a value (null clears the field)';
    end if;
end
$$;


ALTER FUNCTION app._wf_step_problems_update_field(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_wait(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_wait(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
begin
    if (p_step ? 'duration')::integer + (p_step ? 'until_field')::integer
        + (p_step ? 'until')::integer <> 1 then
        return query select p_at, 'give exactly one of duration, until_field or until';
    elsif p_step ? 'duration' and (
        app._wf_try_interval(p_step ->> 'duration') is null
        or app._wf_try_interval(p_step ->> 'duration') < interval '0'
    ) then
        return query select p_at || '.duration', 'a positive interval, like "PT2H" or "3 days"';
    elsif p_step ? 'until_field' and p_step ->> 'until_field' <> all(p_columns) then
        return query select p_at || '.until_field',
            format('unknown field %L', p_step ->> 'until_field');
    elsif p_step ? 'offset' and app._wf_try_interval(p_step ->> 'offset') is null then
        return query select p_at || '.offset', 'an interval, like "-P1D"';
    elsif p_step ? 'until' then
        if jsonb_typeof(p_step -> 'until') <> 'object'
            or coalesce(p_step #>> '{until,time}', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' then
            return query select p_at || '.until.time', 'a time of day, "HH:MM"';
        end if;
        if p_step #> '{until,weekdays}' is not null and (
            jsonb_typeof(p_step #> '{until,weekdays}') <> 'array'
            or not (p_step #> '{until,weekdays}') <@ '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
            or jsonb_array_length(p_step #> '{until,weekdays}') = 0
        ) then
            return query select p_at || '.until.weekdays',
                'an array of mon, tue, wed, thu, fri, sat, sun';
        end if;
        if coalesce(p_step #>> '{until,timezone}', 'org') not in ('org', 'owner')
            and not exists (
                select from pg_catalog.pg_timezone_names as z
                where z.name = p_step #>> '{until,timezone}'
            ) then
            return query select p_at || '.until.timezone',
                'org, owner or an IANA time zone name';
        end if;
    end if;
end
$_$;


ALTER FUNCTION app._wf_step_problems_wait(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_step_problems_webhook(jsonb, text, app.entity_types, text[], text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_problems_webhook(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_url text;
begin
    v_url := p_step ->> 'url';
    if v_url is null or v_url !~ '^https?://[^/\s@]+(/\S*)?$' then
        return query select p_at || '.url', 'an http(s) URL without credentials';
    end if;
    if p_step ? 'headers' and (
        jsonb_typeof(p_step -> 'headers') <> 'object'
        or exists (
            select from jsonb_each(p_step -> 'headers') as h (k, v)
            where jsonb_typeof(h.v) <> 'string' or h.k !~ '^[A-Za-z0-9-]{1,64}$'
                or h.v #>> '{}' !~ '^[ -~]*$'
                or lower(h.k) like 'webhook-%'
                or lower(h.k) in (
                    'host', 'content-type', 'content-length', 'idempotency-key',
                    'transfer-encoding', 'connection', 'user-agent'
                )
        )
    ) then
        return query select p_at || '.headers',
            'an object of extra headers with printable ASCII values (not Host, Content-Type, '
            || 'Content-Length, Connection, Transfer-Encoding, User-Agent, Idempotency-Key '
            || 'or webhook-*)';
    end if;
end
$_$;


ALTER FUNCTION app._wf_step_problems_webhook(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) OWNER TO intime_owner;

--
-- Name: workflow_steps; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_steps (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_id uuid NOT NULL,
    state_id uuid,
    transition_id uuid,
    step_type text NOT NULL,
    step_kind text NOT NULL,
    step_name text,
    step_config jsonb DEFAULT '{}'::jsonb NOT NULL,
    "position" integer NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    wait_until timestamp with time zone,
    wait_condition jsonb,
    result jsonb,
    error_message text,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT workflow_steps_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'completed'::text, 'failed'::text, 'skipped'::text, 'waiting'::text]))),
    CONSTRAINT workflow_steps_step_type_check CHECK ((step_type = ANY (ARRAY['state'::text, 'transition'::text, 'action'::text, 'condition'::text, 'wait'::text, 'approval'::text])))
);

ALTER TABLE ONLY app.workflow_steps FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_steps OWNER TO intime_owner;

--
-- Name: _wf_step_row(app.workflow_executions, integer, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_row(p_exec app.workflow_executions, p_index integer, p_step jsonb) RETURNS app.workflow_steps
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row app.workflow_steps%rowtype;
begin
    select s.* into v_row from app.workflow_steps as s
    where
        s.org_id = p_exec.org_id and s.execution_id = p_exec.id and s.position = p_index
        and s.status in ('pending', 'running', 'waiting', 'failed')
    order by s.created_at desc
    limit 1;
    if found then
        return v_row;
    end if;
    insert into app.workflow_steps (
        org_id, execution_id, transition_id, step_type, step_kind, step_name, step_config,
        position, status
    )
    values (
        p_exec.org_id, p_exec.id, p_exec.transition_id,
        case p_step ->> 'type'
            when 'wait' then 'wait' when 'condition' then 'condition' when 'approval' then 'approval'
            when 'set_state' then 'transition'
            else 'action'
        end,
        p_step ->> 'type', p_step ->> 'name', p_step, p_index, 'pending'
    )
    returning * into v_row;
    return v_row;
end
$$;


ALTER FUNCTION app._wf_step_row(p_exec app.workflow_executions, p_index integer, p_step jsonb) OWNER TO intime_owner;

--
-- Name: _wf_step_update_field(app.workflow_executions, jsonb, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_update_field(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_value jsonb := app._wf_render_json(p_step -> 'value', p_vars);
begin
    perform app._wf_set_field(p_exec, p_type, p_step ->> 'field', v_value);
    return jsonb_build_object('result', jsonb_build_object(
        'field', p_step ->> 'field', 'old', p_doc -> (p_step ->> 'field'), 'new', v_value
    ));
end
$$;


ALTER FUNCTION app._wf_step_update_field(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_wait(app.workflow_executions, jsonb, jsonb, app.entity_types); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_wait(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    v_now timestamptz := app.now();
    v_at timestamptz;
    v_tz text;
    v_local timestamp;
    v_days text[];
    v_day integer;
    v_candidate timestamp;
begin
    if p_step ? 'duration' then
        v_at := v_now + app._wf_interval(p_step ->> 'duration');
    elsif p_step ? 'until_field' then
        if p_doc ->> (p_step ->> 'until_field') is null then
            return jsonb_build_object('result', jsonb_build_object(
                'skipped', format('%s is empty', p_step ->> 'until_field')
            ));
        end if;
        -- A date (no time) means midnight in the org's time zone.
        v_at := case
            when p_doc ->> (p_step ->> 'until_field') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
                (p_doc ->> (p_step ->> 'until_field'))::date::timestamp at time zone (
                    select o.timezone from app.organizations as o where o.id = p_exec.org_id
                )
            else (p_doc ->> (p_step ->> 'until_field'))::timestamptz
        end + coalesce(app._wf_interval(p_step ->> 'offset'), interval '0');
    else
        v_tz := case coalesce(p_step #>> '{until,timezone}', 'org')
            when 'org' then (select o.timezone from app.organizations as o where o.id = p_exec.org_id)
            when 'owner' then coalesce(
                (
                    select u.timezone from app.user_profiles as u
                    where u.org_id = p_exec.org_id and u.id = (p_doc ->> p_type.owner_field)::uuid
                ),
                (select o.timezone from app.organizations as o where o.id = p_exec.org_id)
            )
            else p_step #>> '{until,timezone}'
        end;
        v_days := coalesce(
            (select array_agg(d) from jsonb_array_elements_text(p_step #> '{until,weekdays}') as d),
            array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
        );
        v_local := v_now at time zone v_tz;
        for v_day in 0 .. 7 loop
            v_candidate := v_local::date + v_day + (p_step #>> '{until,time}')::time;
            if v_candidate > v_local
                and (array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'])[
                    extract(dow from v_candidate)::integer + 1
                ] = any(v_days) then
                v_at := v_candidate at time zone v_tz;
                exit;
            end if;
        end loop;
    end if;
    if v_at <= v_now then
        return jsonb_build_object('result', jsonb_build_object('until', v_at, 'waited', false));
    end if;
    return jsonb_build_object(
        'park', 'timer', 'wake_at', v_at, 'result', jsonb_build_object('until', v_at)
    );
end
$_$;


ALTER FUNCTION app._wf_step_wait(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) OWNER TO intime_owner;

--
-- Name: _wf_step_webhook(app.workflow_executions, jsonb, uuid, jsonb, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_step_webhook(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_action_id uuid;
    v_body jsonb;
begin
    select a.id into v_action_id from app.workflow_actions as a
    where a.org_id = p_exec.org_id and a.step_id = p_step_id
    order by a.created_at desc limit 1;
    v_body := coalesce(
        app._wf_render_json(p_step -> 'body', p_vars),
        jsonb_build_object(
            'type', 'workflow.step',
            'timestamp', app.now(),
            'data', jsonb_build_object(
                'workflow', p_vars -> 'workflow',
                'execution_id', p_exec.id,
                'step', p_step ->> 'name',
                'entity_type', p_exec.entity_type,
                'entity_id', p_exec.entity_id,
                'entity', p_doc,
                'trigger', p_exec.trigger_event
            )
        )
    );
    if v_action_id is null then
        insert into app.workflow_actions (
            org_id, execution_id, step_id, action_type, action_config, status, started_at, request
        )
        values (
            p_exec.org_id, p_exec.id, p_step_id, 'webhook', p_step, 'pending', app.now(),
            jsonb_build_object(
                'url', app._render(p_step ->> 'url', p_vars, 'url'),
                'headers', coalesce(p_step -> 'headers', '{}'),
                'body', v_body
            )
        )
        returning id into v_action_id;
    else
        -- A retry delivers the same message again (same id, same body).
        update app.workflow_actions as a
        set status = 'pending', retry_count = a.retry_count + 1, error_message = null, error_code = null
        where a.org_id = p_exec.org_id and a.id = v_action_id;
    end if;
    perform app._wf_queue_delivery(p_exec.org_id, v_action_id);
    return jsonb_build_object('park', 'action', 'result', jsonb_build_object('action_id', v_action_id));
end
$$;


ALTER FUNCTION app._wf_step_webhook(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb) OWNER TO intime_owner;

--
-- Name: _wf_steps_problems(jsonb, text, text, text[], text[]); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_steps_problems(p_steps jsonb, p_path text, p_entity_type text, p_columns text[], p_org_columns text[]) RETURNS TABLE(path text, problem text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
    c_kinds constant text[] := array[
        'create_task', 'create_activity', 'update_field', 'assign', 'send_notification',
        'send_email', 'webhook', 'wait', 'condition', 'approval', 'escalate'
    ];
    v_type app.entity_types%rowtype;
    v_names text[];
    v_step jsonb;
    v_kind text;
    v_at text;
    v_i integer;
    v_target text;
    v_user_columns text [];
    v_allowed text [];
begin
    select e.* into v_type from app.entity_types as e where e.entity_type = p_entity_type;
    v_user_columns := app._wf_user_columns(v_type.table_name);
    if jsonb_typeof(p_steps) is distinct from 'array' then
        return query select p_path, 'must be an array of steps';
        return;
    end if;
    select array_agg(s.v ->> 'name') into v_names from jsonb_array_elements(p_steps) as s (v);
    for v_i in 0 .. jsonb_array_length(p_steps) - 1 loop
        v_step := p_steps -> v_i;
        v_at := format('%s[%s]', p_path, v_i);
        if jsonb_typeof(v_step) <> 'object' then
            return query select v_at, 'a step must be an object';
            continue;
        end if;
        v_kind := v_step ->> 'type';
        if v_step ->> 'name' is null or v_step ->> 'name' !~ '^[a-z][a-z0-9_]{0,62}$' then
            return query select v_at || '.name',
                'every step needs a name: lowercase letters, digits and _';
        elsif v_step ->> 'name' = 'end' then
            return query select v_at || '.name', '"end" is reserved';
        elsif (select count(*) from unnest(v_names) as n where n = v_step ->> 'name') > 1 then
            return query select v_at || '.name', format('duplicate step name %L', v_step ->> 'name');
        end if;
        if v_kind is null or v_kind <> all(c_kinds) then
            return query select v_at || '.type',
                format('unknown step type %L; one of %s', v_kind, array_to_string(c_kinds, ', '));
            continue;
        end if;
        v_allowed := array['name', 'type', 'next'] || case v_kind
            when 'create_task' then array['title', 'description', 'assignee', 'due_in', 'priority']
            when 'create_activity' then array[
                'subject', 'title', 'activity_type', 'description', 'status', 'assignee', 'due_in',
                'priority'
            ]
            when 'update_field' then array['field', 'value']
            when 'assign' then array['mode', 'user', 'users', 'field']
            when 'send_notification' then array[
                'to', 'template', 'title', 'message', 'variables', 'category', 'channels',
                'priority', 'critical', 'action_url', 'action_label', 'notification_type',
                'group_key'
            ]
            when 'send_email' then array[
                'to', 'template', 'subject', 'html', 'text', 'variables', 'category'
            ]
            when 'webhook' then array['url', 'body', 'headers']
            when 'wait' then array['duration', 'until_field', 'offset', 'until']
            when 'condition' then array['if', 'then', 'else']
            when 'approval' then array[
                'approvers', 'mode', 'quorum', 'due_in', 'escalate_to', 'on_reject', 'lock_entity',
                'title'
            ]
            when 'escalate' then array['to', 'levels', 'action', 'message']
        end;
        return query
        select v_at || '.' || k.key, format('%s takes no %L', v_kind, k.key)
        from jsonb_object_keys(v_step) as k (key)
        where k.key <> all(v_allowed);
        if p_path like '%.steps' and p_path <> '$.steps'
            and v_step ->> 'name' in ('approval', 'move') then
            return query select v_at || '.name',
                'approval and move are reserved in a transition''s steps';
        end if;
        -- Jumps: next (any step), then/else (condition), on_reject (approval).
        foreach v_target in array array['next', 'then', 'else', 'on_reject'] loop
            if v_step ? v_target and (
                jsonb_typeof(v_step -> v_target) <> 'string'
                or (v_step ->> v_target <> 'end' and v_step ->> v_target <> all(v_names))
            ) then
                return query select v_at || '.' || v_target,
                    format('no step named %L (use a step name or "end")', v_step ->> v_target);
            end if;
        end loop;
        case v_kind
            when 'create_task', 'create_activity' then
                return query select * from app._wf_step_problems_task(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'update_field' then
                return query select * from app._wf_step_problems_update_field(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'assign' then
                return query select * from app._wf_step_problems_assign(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'send_notification' then
                return query select * from app._wf_step_problems_send_notification(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'send_email' then
                return query select * from app._wf_step_problems_send_email(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'webhook' then
                return query select * from app._wf_step_problems_webhook(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'wait' then
                return query select * from app._wf_step_problems_wait(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'condition' then
                return query select * from app._wf_step_problems_condition(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'approval' then
                return query select * from app._wf_approval_problems(v_step, v_at, v_user_columns);
            when 'escalate' then
                return query select * from app._wf_step_problems_escalate(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
        end case;
    end loop;
end
$_$;


ALTER FUNCTION app._wf_steps_problems(p_steps jsonb, p_path text, p_entity_type text, p_columns text[], p_org_columns text[]) OWNER TO intime_owner;

--
-- Name: _wf_store_version(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_store_version(p_org_id uuid, p_workflow_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_wf app.workflows%rowtype;
    v_scheduled jsonb;
    v_busy text;
begin
    select w.* into v_wf from app.workflows as w where w.org_id = p_org_id and w.id = p_workflow_id;
    select t.v into v_scheduled
    from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
    where t.v ->> 'type' = 'scheduled';

    update app.workflows as w
    set
        reenrollment = coalesce(v_wf.definition ->> 'reenrollment', 'after_exit'),
        max_retries = coalesce((v_wf.definition ->> 'max_retries')::integer, 3),
        trigger_events = array(
            select distinct case t.v ->> 'type'
                when 'created' then 'insert' when 'deleted' then 'delete' else 'update'
            end
            from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
            where t.v ->> 'type' in ('created', 'updated', 'deleted', 'status_change', 'field_change')
            order by 1
        ),
        schedule_cron = v_scheduled ->> 'cron',
        schedule_timezone = case
            when v_scheduled is not null then coalesce(v_scheduled ->> 'timezone', 'UTC')
        end,
        schedule_fired_at = case
            when v_scheduled is null then null
            else coalesce(w.schedule_fired_at, app.now())
        end
    where w.org_id = p_org_id and w.id = p_workflow_id;

    insert into app.workflow_versions (org_id, workflow_id, version, definition, created_by)
    values (p_org_id, p_workflow_id, v_wf.version, v_wf.definition, app.current_user_id());

    -- States: removed ones must be empty.
    select string_agg(s.name, ', ') into v_busy
    from app.workflow_states as s
    where
        s.org_id = p_org_id and s.workflow_id = p_workflow_id
        and not exists (
            select from jsonb_array_elements(v_wf.definition -> 'states') as d (v)
            where d.v ->> 'name' = s.name
        )
        and exists (
            select from app.workflow_instances as i
            where i.org_id = p_org_id and i.current_state_id = s.id
        );
    if v_busy is not null then
        raise exception using
            errcode = 'IT012',
            message = format('states still hold entities and cannot be removed: %s', v_busy);
    end if;
    -- Transitions are kept by name (a pending transition execution refers
    -- to its row); those no longer defined go.
    delete from app.workflow_transitions as t
    where
        t.org_id = p_org_id and t.workflow_id = p_workflow_id
        and not exists (
            select from jsonb_array_elements(v_wf.definition -> 'transitions') as d (v)
            where d.v ->> 'name' = t.name
        );
    delete from app.workflow_states as s
    where
        s.org_id = p_org_id and s.workflow_id = p_workflow_id
        and not exists (
            select from jsonb_array_elements(v_wf.definition -> 'states') as d (v)
            where d.v ->> 'name' = s.name
        );
    -- Demote first, so that a new initial state never meets the old one.
    update app.workflow_states as s set state_type = 'intermediate'
    where s.org_id = p_org_id and s.workflow_id = p_workflow_id;
    insert into app.workflow_states (org_id, workflow_id, name, label, state_type, position)
    select
        p_org_id, p_workflow_id, d.v ->> 'name', coalesce(d.v ->> 'label', d.v ->> 'name'),
        coalesce(d.v ->> 'type', 'intermediate'), d.i::integer
    from jsonb_array_elements(v_wf.definition -> 'states') with ordinality as d (v, i)
    on conflict (org_id, workflow_id, name) do update
    set label = excluded.label, state_type = excluded.state_type, position = excluded.position;
    insert into app.workflow_transitions (
        org_id, workflow_id, name, from_state_id, to_state_id, required_role, approval, steps
    )
    select
        p_org_id, p_workflow_id, d.v ->> 'name', f.id, t.id, d.v ->> 'required_role',
        d.v -> 'approval', coalesce(d.v -> 'steps', '[]')
    from jsonb_array_elements(v_wf.definition -> 'transitions') as d (v)
    inner join app.workflow_states as t
        on t.org_id = p_org_id and t.workflow_id = p_workflow_id and t.name = d.v ->> 'to'
    left join app.workflow_states as f
        on f.org_id = p_org_id and f.workflow_id = p_workflow_id and f.name = d.v ->> 'from'
    on conflict (org_id, workflow_id, name) do update
    set
        from_state_id = excluded.from_state_id, to_state_id = excluded.to_state_id,
        required_role = excluded.required_role, approval = excluded.approval,
        steps = excluded.steps;
end
$$;


ALTER FUNCTION app._wf_store_version(p_org_id uuid, p_workflow_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_text(text, jsonb); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_text(p_template text, p_vars jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select case when p_template is not null then app._render(p_template, p_vars, 'none') end
$$;


ALTER FUNCTION app._wf_text(p_template text, p_vars jsonb) OWNER TO intime_owner;

--
-- Name: _wf_trigger_fires(jsonb, text, jsonb, jsonb, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_trigger_fires(p_trigger jsonb, p_event text, p_new jsonb, p_old jsonb, p_status_field text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_field text;
begin
    case p_trigger ->> 'type'
        when 'created' then
            return p_event = 'insert';
        when 'deleted' then
            return p_event = 'delete';
        when 'updated' then
            return p_event = 'update'
                and (p_new - 'updated_at' - 'updated_by') <> (p_old - 'updated_at' - 'updated_by');
        when 'status_change', 'field_change' then
            if p_event <> 'update' then
                return false;
            end if;
            v_field := case p_trigger ->> 'type'
                when 'status_change' then p_status_field else p_trigger ->> 'field'
            end;
            return (p_new -> v_field) is distinct from (p_old -> v_field)
                and (not p_trigger ? 'from' or app._wf_equals(p_old -> v_field, p_trigger -> 'from'))
                and (not p_trigger ? 'to' or app._wf_equals(p_new -> v_field, p_trigger -> 'to'));
        else
            return false;  -- manual and scheduled start elsewhere
    end case;
end
$$;


ALTER FUNCTION app._wf_trigger_fires(p_trigger jsonb, p_event text, p_new jsonb, p_old jsonb, p_status_field text) OWNER TO intime_owner;

--
-- Name: _wf_try_interval(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_try_interval(p_value text) RETURNS interval
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
begin
    return app._wf_interval(p_value);
exception when others then
    return null;
end
$$;


ALTER FUNCTION app._wf_try_interval(p_value text) OWNER TO intime_owner;

--
-- Name: _wf_user_columns(text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_user_columns(p_table text) RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select coalesce(array_agg(a.attname::text order by a.attname), '{}')
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_attribute as a on a.attrelid = c.conrelid and a.attnum = c.conkey[2]
    where
        c.conrelid = format('app.%I', p_table)::regclass and c.contype = 'f'
        and c.confrelid = 'app.user_profiles'::regclass and cardinality(c.conkey) = 2
$$;


ALTER FUNCTION app._wf_user_columns(p_table text) OWNER TO intime_owner;

--
-- Name: _wf_user_name(uuid, uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_user_name(p_org_id uuid, p_user_id uuid) RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select coalesce(
        (select u.full_name from app.user_profiles as u where u.org_id = p_org_id and u.id = p_user_id),
        p_user_id::text
    )
$$;


ALTER FUNCTION app._wf_user_name(p_org_id uuid, p_user_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_vars(app.workflow_executions, jsonb, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_vars(p_exec app.workflow_executions, p_doc jsonb, p_workflow_name text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    select jsonb_build_object(
        'entity', p_doc,
        p_exec.entity_type, p_doc,
        'owner', (
            select jsonb_build_object('id', u.id, 'name', u.full_name, 'email', u.email)
            from app.user_profiles as u
            inner join app.entity_types as e on e.entity_type = p_exec.entity_type
            where u.org_id = p_exec.org_id and u.id = (p_doc ->> e.owner_field)::uuid
        ),
        'org', (
            select jsonb_build_object('id', o.id, 'name', o.name, 'timezone', o.timezone)
            from app.organizations as o where o.id = p_exec.org_id
        ),
        'workflow', jsonb_build_object(
            'id', p_exec.workflow_id, 'name', p_workflow_name, 'version', p_exec.workflow_version
        ),
        'execution', jsonb_build_object('id', p_exec.id, 'started_at', p_exec.started_at),
        'trigger', p_exec.trigger_event,
        'steps', coalesce(p_exec.execution_context -> 'steps', '{}'),
        'now', app.now()
    )
$$;


ALTER FUNCTION app._wf_vars(p_exec app.workflow_executions, p_doc jsonb, p_workflow_name text) OWNER TO intime_owner;

--
-- Name: webhook_settings; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.webhook_settings (
    org_id uuid NOT NULL,
    secret text NOT NULL,
    previous_secret text,
    previous_valid_until timestamp with time zone,
    rotated_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.webhook_settings FORCE ROW LEVEL SECURITY;


ALTER TABLE app.webhook_settings OWNER TO intime_owner;

--
-- Name: _wf_webhook_settings(uuid); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_webhook_settings(p_org_id uuid) RETURNS app.webhook_settings
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_row app.webhook_settings%rowtype;
begin
    insert into app.webhook_settings (org_id, secret)
    values (p_org_id, app._wf_new_webhook_secret())
    on conflict (org_id) do nothing;
    select s.* into v_row from app.webhook_settings as s where s.org_id = p_org_id;
    return v_row;
end
$$;


ALTER FUNCTION app._wf_webhook_settings(p_org_id uuid) OWNER TO intime_owner;

--
-- Name: _wf_withdraw_approval(app.workflow_executions, text); Type: FUNCTION; Schema: app; Owner: intime_owner
--

CREATE FUNCTION app._wf_withdraw_approval(p_exec app.workflow_executions, p_note text) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
    v_step_id uuid;
begin
    select a.step_id into v_step_id from app.workflow_approvals as a
    where a.org_id = p_exec.org_id and a.execution_id = p_exec.id and a.status in ('pending', 'queued')
    order by a.created_at
    limit 1;
    if v_step_id is null then
        return false;
    end if;
    update app.workflow_approvals as a
    set status = 'cancelled', response_notes = p_note, updated_at = app.now()
    where a.org_id = p_exec.org_id and a.step_id = v_step_id and a.status in ('pending', 'queued');
    if p_exec.status = 'paused' then
        update app.workflow_executions as e
        set status = 'waiting', waiting_for = 'approval', paused_at = null, updated_at = app.now()
        where e.org_id = p_exec.org_id and e.id = p_exec.id;
    end if;
    perform app._wf_settle_approval(p_exec.org_id, v_step_id);
    return true;
end
$$;


ALTER FUNCTION app._wf_withdraw_approval(p_exec app.workflow_executions, p_note text) OWNER TO intime_owner;

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
-- Name: builtin_notification_settings; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.builtin_notification_settings (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    slug text NOT NULL,
    enabled boolean NOT NULL,
    changed_by uuid DEFAULT app.current_user_id(),
    changed_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.builtin_notification_settings FORCE ROW LEVEL SECURITY;


ALTER TABLE app.builtin_notification_settings OWNER TO intime_owner;

--
-- Name: campaign_ab_decisions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_ab_decisions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    campaign_id uuid NOT NULL,
    step_number integer NOT NULL,
    metric text NOT NULL,
    outcome text NOT NULL,
    winner_variant text,
    best_variant text,
    arms jsonb DEFAULT '[]'::jsonb NOT NULL,
    alpha numeric,
    alpha_corrected numeric,
    min_sample integer,
    decided_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT campaign_ab_decisions_outcome_check CHECK ((outcome = ANY (ARRAY['winner'::text, 'significant'::text, 'inconclusive'::text, 'insufficient_sample'::text, 'manual'::text])))
);

ALTER TABLE ONLY app.campaign_ab_decisions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_ab_decisions OWNER TO intime_owner;

--
-- Name: campaign_daily_sends; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_daily_sends (
    org_id uuid NOT NULL,
    campaign_id uuid NOT NULL,
    local_date date NOT NULL,
    sent integer DEFAULT 0 NOT NULL,
    CONSTRAINT campaign_daily_sends_sent_check CHECK ((sent >= 0))
);

ALTER TABLE ONLY app.campaign_daily_sends FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_daily_sends OWNER TO intime_owner;

--
-- Name: campaign_enrollments; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_enrollments (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    campaign_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    stop_reason text,
    current_step integer DEFAULT 0 NOT NULL,
    steps_completed integer DEFAULT 0 NOT NULL,
    next_step_at timestamp with time zone,
    last_step_at timestamp with time zone,
    ab_variant text,
    emails_sent integer DEFAULT 0 NOT NULL,
    linkedin_sent integer DEFAULT 0 NOT NULL,
    calls_made integer DEFAULT 0 NOT NULL,
    sms_sent integer DEFAULT 0 NOT NULL,
    tasks_created integer DEFAULT 0 NOT NULL,
    first_opened_at timestamp with time zone,
    first_clicked_at timestamp with time zone,
    replied_at timestamp with time zone,
    bounced_at timestamp with time zone,
    unsubscribed_at timestamp with time zone,
    engagement_score integer DEFAULT 0 NOT NULL,
    error_count integer DEFAULT 0 NOT NULL,
    last_error text,
    last_error_at timestamp with time zone,
    enrolled_by uuid,
    enrolled_at timestamp with time zone DEFAULT app.now() NOT NULL,
    completed_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    resume_at timestamp with time zone,
    CONSTRAINT campaign_enrollments_check CHECK (((status <> 'active'::text) OR (next_step_at IS NOT NULL))),
    CONSTRAINT campaign_enrollments_current_step_check CHECK ((current_step >= 0)),
    CONSTRAINT campaign_enrollments_engagement_score_check CHECK (((engagement_score >= 0) AND (engagement_score <= 100))),
    CONSTRAINT campaign_enrollments_status_check CHECK ((status = ANY (ARRAY['active'::text, 'paused'::text, 'completed'::text, 'replied'::text, 'bounced'::text, 'unsubscribed'::text, 'stopped'::text])))
);

ALTER TABLE ONLY app.campaign_enrollments FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_enrollments OWNER TO intime_owner;

--
-- Name: campaign_sequence_logs; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_sequence_logs (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    campaign_id uuid NOT NULL,
    enrollment_id uuid NOT NULL,
    sequence_id uuid,
    step_number integer NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    detail text,
    ab_variant text,
    email_send_id uuid,
    activity_id uuid,
    scheduled_at timestamp with time zone,
    sent_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT campaign_sequence_logs_status_check CHECK ((status = ANY (ARRAY['sent'::text, 'skipped'::text, 'failed'::text, 'suppressed'::text, 'deferred'::text, 'stopped'::text, 'completed'::text])))
);

ALTER TABLE ONLY app.campaign_sequence_logs FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_sequence_logs OWNER TO intime_owner;

--
-- Name: campaign_sequence_logs_archive; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_sequence_logs_archive (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    campaign_id uuid NOT NULL,
    enrollment_id uuid NOT NULL,
    sequence_id uuid,
    step_number integer NOT NULL,
    channel text NOT NULL,
    status text NOT NULL,
    detail text,
    ab_variant text,
    email_send_id uuid,
    activity_id uuid,
    scheduled_at timestamp with time zone,
    sent_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    archived_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.campaign_sequence_logs_archive FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_sequence_logs_archive OWNER TO intime_owner;

--
-- Name: campaign_sequence_logs_id_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_sequence_logs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.campaign_sequence_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: campaign_sequences; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.campaign_sequences (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    campaign_id uuid NOT NULL,
    step_number integer NOT NULL,
    channel text NOT NULL,
    delay_days integer DEFAULT 0 NOT NULL,
    delay_hours integer DEFAULT 0 NOT NULL,
    delay_minutes integer DEFAULT 0 NOT NULL,
    template_id uuid,
    subject text,
    body_html text,
    body_text text,
    task_config jsonb DEFAULT '{}'::jsonb NOT NULL,
    skip_conditions jsonb DEFAULT '[]'::jsonb NOT NULL,
    stop_on_reply boolean DEFAULT true NOT NULL,
    ab_variants jsonb,
    is_active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT campaign_sequences_ab_variants_check CHECK (((ab_variants IS NULL) OR (jsonb_typeof(ab_variants) = 'array'::text))),
    CONSTRAINT campaign_sequences_channel_check CHECK ((channel = ANY (ARRAY['email'::text, 'linkedin'::text, 'phone'::text, 'sms'::text, 'task'::text, 'wait'::text]))),
    CONSTRAINT campaign_sequences_delay_days_check CHECK (((delay_days >= 0) AND (delay_days <= 365))),
    CONSTRAINT campaign_sequences_delay_hours_check CHECK (((delay_hours >= 0) AND (delay_hours <= 1000))),
    CONSTRAINT campaign_sequences_delay_minutes_check CHECK (((delay_minutes >= 0) AND (delay_minutes <= 100000))),
    CONSTRAINT campaign_sequences_skip_conditions_check CHECK ((jsonb_typeof(skip_conditions) = 'array'::text)),
    CONSTRAINT campaign_sequences_step_number_check CHECK ((step_number >= 1)),
    CONSTRAINT campaign_sequences_task_config_check CHECK ((jsonb_typeof(task_config) = 'object'::text))
);

ALTER TABLE ONLY app.campaign_sequences FORCE ROW LEVEL SECURITY;


ALTER TABLE app.campaign_sequences OWNER TO intime_owner;

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
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    recipient_user_id uuid
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
    recipient_user_id uuid,
    auto_reply_kind text,
    reply_text text,
    CONSTRAINT inbound_emails_auto_reply_kind_check CHECK ((auto_reply_kind = ANY (ARRAY['out_of_office'::text, 'bounce'::text, 'automatic'::text]))),
    CONSTRAINT inbound_emails_auto_reply_kind_matches_check CHECK (((auto_reply_kind IS NOT NULL) = is_auto_reply)),
    CONSTRAINT inbound_emails_check CHECK (((auto_reply_reason IS NOT NULL) = is_auto_reply)),
    CONSTRAINT inbound_emails_match_method_check CHECK ((match_method = ANY (ARRAY['in_reply_to'::text, 'references'::text, 'reply_token'::text, 'sender'::text, 'verp'::text, 'returned_message_id'::text])))
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
    received_at timestamp with time zone DEFAULT app.now() NOT NULL,
    reason text
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
    entity_history_retention_days integer,
    CONSTRAINT organizations_entity_history_retention_days_check CHECK (((entity_history_retention_days >= 30) AND (entity_history_retention_days <= 36500))),
    CONSTRAINT organizations_name_check CHECK ((length(btrim(name)) > 0)),
    CONSTRAINT organizations_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'::text))
);

ALTER TABLE ONLY app.organizations FORCE ROW LEVEL SECURITY;


ALTER TABLE app.organizations OWNER TO intime_owner;

--
-- Name: permissions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.permissions (
    name text NOT NULL,
    description text NOT NULL,
    default_roles text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT permissions_default_roles_check CHECK ((default_roles <@ ARRAY['manager'::text, 'member'::text])),
    CONSTRAINT permissions_description_check CHECK (((length(description) >= 1) AND (length(description) <= 300))),
    CONSTRAINT permissions_name_check CHECK ((name ~ '^[a-z_]+\.[a-z_]+$'::text))
);


ALTER TABLE app.permissions OWNER TO intime_owner;

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
-- Name: role_permissions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.role_permissions (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    role text NOT NULL,
    permission text NOT NULL,
    granted boolean NOT NULL,
    changed_by uuid,
    changed_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT role_permissions_role_check CHECK ((role = ANY (ARRAY['manager'::text, 'member'::text])))
);

ALTER TABLE ONLY app.role_permissions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.role_permissions OWNER TO intime_owner;

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
-- Name: send_log; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.send_log (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    sent_at timestamp with time zone NOT NULL,
    sent integer NOT NULL,
    CONSTRAINT send_log_kind_check CHECK ((kind = ANY (ARRAY['notification'::text, 'email'::text]))),
    CONSTRAINT send_log_sent_check CHECK ((sent > 0))
);

ALTER TABLE ONLY app.send_log FORCE ROW LEVEL SECURITY;


ALTER TABLE app.send_log OWNER TO intime_owner;

--
-- Name: sending_domains; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.sending_domains (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    domain text NOT NULL,
    token text NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    verified_at timestamp with time zone,
    last_checked_at timestamp with time zone,
    last_error text,
    CONSTRAINT sending_domains_domain_check CHECK (((domain = lower(domain)) AND ((length(domain) >= 4) AND (length(domain) <= 253)))),
    CONSTRAINT sending_domains_last_error_check CHECK ((length(last_error) <= 500)),
    CONSTRAINT sending_domains_token_check CHECK ((token ~ '^[0-9a-f]{32,64}$'::text))
);

ALTER TABLE ONLY app.sending_domains FORCE ROW LEVEL SECURITY;


ALTER TABLE app.sending_domains OWNER TO intime_owner;

--
-- Name: settings; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.settings (
    singleton boolean DEFAULT true NOT NULL,
    allow_fake_clock boolean DEFAULT false NOT NULL,
    workflow_max_depth integer DEFAULT 5 NOT NULL,
    workflow_log_retention_months integer DEFAULT 6 NOT NULL,
    workflow_log_premake_months integer DEFAULT 3 NOT NULL,
    workflow_log_expiry text DEFAULT 'drop'::text NOT NULL,
    campaign_log_retention_days integer DEFAULT 90 NOT NULL,
    inbound_unmatched_retention_days integer DEFAULT 30 NOT NULL,
    inbound_unmatched_max_rows integer DEFAULT 100000 NOT NULL,
    webhook_receipt_retention_days integer DEFAULT 30 NOT NULL,
    email_events_pending_retention_days integer DEFAULT 7 NOT NULL,
    entity_history_retention_days integer DEFAULT 1095 NOT NULL,
    email_send_lease_seconds integer DEFAULT 120 NOT NULL,
    reconcile_grace_seconds integer DEFAULT 300 NOT NULL,
    reconcile_max_rounds integer DEFAULT 3 NOT NULL,
    queue_log_retention_days integer DEFAULT 14 NOT NULL,
    queue_statistics_retention_days integer DEFAULT 90 NOT NULL,
    webhook_send_lease_seconds integer DEFAULT 120 NOT NULL,
    notification_rate_per_minute integer DEFAULT 60 NOT NULL,
    email_rate_per_minute integer DEFAULT 30 NOT NULL,
    CONSTRAINT settings_campaign_log_retention_days_check CHECK (((campaign_log_retention_days >= 1) AND (campaign_log_retention_days <= 3650))),
    CONSTRAINT settings_email_events_pending_retention_days_check CHECK (((email_events_pending_retention_days >= 1) AND (email_events_pending_retention_days <= 365))),
    CONSTRAINT settings_email_rate_per_minute_check CHECK ((email_rate_per_minute > 0)),
    CONSTRAINT settings_email_send_lease_seconds_check CHECK (((email_send_lease_seconds >= 10) AND (email_send_lease_seconds <= 3600))),
    CONSTRAINT settings_entity_history_retention_days_check CHECK (((entity_history_retention_days >= 30) AND (entity_history_retention_days <= 36500))),
    CONSTRAINT settings_inbound_unmatched_max_rows_check CHECK (((inbound_unmatched_max_rows >= 1000) AND (inbound_unmatched_max_rows <= 100000000))),
    CONSTRAINT settings_inbound_unmatched_retention_days_check CHECK (((inbound_unmatched_retention_days >= 1) AND (inbound_unmatched_retention_days <= 3650))),
    CONSTRAINT settings_notification_rate_per_minute_check CHECK ((notification_rate_per_minute > 0)),
    CONSTRAINT settings_queue_log_retention_days_check CHECK (((queue_log_retention_days >= 1) AND (queue_log_retention_days <= 3650))),
    CONSTRAINT settings_queue_statistics_retention_days_check CHECK (((queue_statistics_retention_days >= 1) AND (queue_statistics_retention_days <= 3650))),
    CONSTRAINT settings_reconcile_grace_seconds_check CHECK (((reconcile_grace_seconds >= 60) AND (reconcile_grace_seconds <= 86400))),
    CONSTRAINT settings_reconcile_max_rounds_check CHECK (((reconcile_max_rounds >= 1) AND (reconcile_max_rounds <= 100))),
    CONSTRAINT settings_singleton_check CHECK (singleton),
    CONSTRAINT settings_webhook_receipt_retention_days_check CHECK (((webhook_receipt_retention_days >= 2) AND (webhook_receipt_retention_days <= 3650))),
    CONSTRAINT settings_webhook_send_lease_seconds_check CHECK (((webhook_send_lease_seconds >= 10) AND (webhook_send_lease_seconds <= 3600))),
    CONSTRAINT settings_workflow_log_expiry_check CHECK ((workflow_log_expiry = ANY (ARRAY['drop'::text, 'detach'::text]))),
    CONSTRAINT settings_workflow_log_premake_months_check CHECK (((workflow_log_premake_months >= 1) AND (workflow_log_premake_months <= 24))),
    CONSTRAINT settings_workflow_log_retention_months_check CHECK (((workflow_log_retention_months >= 1) AND (workflow_log_retention_months <= 120))),
    CONSTRAINT settings_workflow_max_depth_check CHECK (((workflow_max_depth >= 1) AND (workflow_max_depth <= 20)))
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
-- Name: stream_tickets; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.stream_tickets (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    token_id uuid NOT NULL,
    ticket_hash bytea NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.stream_tickets FORCE ROW LEVEL SECURITY;


ALTER TABLE app.stream_tickets OWNER TO intime_owner;

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
-- Name: suppression_changes; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.suppression_changes (
    org_id uuid NOT NULL,
    id bigint NOT NULL,
    email text NOT NULL,
    reason text NOT NULL,
    action text NOT NULL,
    note text,
    changed_by uuid,
    changed_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT suppression_changes_action_check CHECK ((action = ANY (ARRAY['added'::text, 'removed'::text])))
);

ALTER TABLE ONLY app.suppression_changes FORCE ROW LEVEL SECURITY;


ALTER TABLE app.suppression_changes OWNER TO intime_owner;

--
-- Name: suppression_changes_id_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

ALTER TABLE app.suppression_changes ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.suppression_changes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


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
    note text,
    created_by uuid,
    CONSTRAINT suppressions_email_check CHECK (((email = lower(email)) AND (POSITION(('@'::text) IN (email)) > 1))),
    CONSTRAINT suppressions_note_check CHECK ((length(note) <= 1000)),
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
-- Name: workflow_actions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_actions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_id uuid NOT NULL,
    step_id uuid,
    action_type text NOT NULL,
    action_config jsonb NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    scheduled_at timestamp with time zone,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    result jsonb,
    error_message text,
    error_code text,
    retry_count integer DEFAULT 0 NOT NULL,
    request jsonb,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    reconciled integer DEFAULT 0 NOT NULL,
    sending_until timestamp with time zone,
    CONSTRAINT workflow_actions_action_type_check CHECK ((action_type = ANY (ARRAY['send_email'::text, 'send_notification'::text, 'create_task'::text, 'create_activity'::text, 'update_field'::text, 'webhook'::text, 'wait'::text, 'condition'::text, 'assign'::text, 'escalate'::text]))),
    CONSTRAINT workflow_actions_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'running'::text, 'completed'::text, 'failed'::text, 'skipped'::text])))
);

ALTER TABLE ONLY app.workflow_actions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_actions OWNER TO intime_owner;

--
-- Name: workflow_entity_locks; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_entity_locks (
    org_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    execution_id uuid NOT NULL,
    reason text NOT NULL,
    locked_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.workflow_entity_locks FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_entity_locks OWNER TO intime_owner;

--
-- Name: workflow_execution_logs_seq; Type: SEQUENCE; Schema: app; Owner: intime_owner
--

CREATE SEQUENCE app.workflow_execution_logs_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE app.workflow_execution_logs_seq OWNER TO intime_owner;

--
-- Name: workflow_execution_logs; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_execution_logs (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_id uuid NOT NULL,
    step_id uuid,
    action_id uuid,
    level text DEFAULT 'info'::text NOT NULL,
    message text NOT NULL,
    data jsonb,
    occurred_at timestamp with time zone DEFAULT app.now() NOT NULL,
    seq bigint DEFAULT nextval('app.workflow_execution_logs_seq'::regclass) NOT NULL,
    CONSTRAINT workflow_execution_logs_level_check CHECK ((level = ANY (ARRAY['debug'::text, 'info'::text, 'warning'::text, 'error'::text])))
)
PARTITION BY RANGE (occurred_at);

ALTER TABLE ONLY app.workflow_execution_logs FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_execution_logs OWNER TO intime_owner;

--
-- Name: workflow_execution_logs_default; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_execution_logs_default (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    execution_id uuid NOT NULL,
    step_id uuid,
    action_id uuid,
    level text DEFAULT 'info'::text NOT NULL,
    message text NOT NULL,
    data jsonb,
    occurred_at timestamp with time zone DEFAULT app.now() NOT NULL,
    seq bigint DEFAULT nextval('app.workflow_execution_logs_seq'::regclass) NOT NULL,
    CONSTRAINT workflow_execution_logs_level_check CHECK ((level = ANY (ARRAY['debug'::text, 'info'::text, 'warning'::text, 'error'::text])))
);

ALTER TABLE ONLY app.workflow_execution_logs_default FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_execution_logs_default OWNER TO intime_owner;

--
-- Name: workflow_instances; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_instances (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    workflow_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    current_state_id uuid,
    status text DEFAULT 'active'::text NOT NULL,
    executions_started integer DEFAULT 0 NOT NULL,
    last_execution_at timestamp with time zone,
    created_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT workflow_instances_status_check CHECK ((status = ANY (ARRAY['active'::text, 'completed'::text, 'cancelled'::text])))
);

ALTER TABLE ONLY app.workflow_instances FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_instances OWNER TO intime_owner;

--
-- Name: workflow_round_robin; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_round_robin (
    org_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    step_name text NOT NULL,
    user_id uuid NOT NULL,
    weight integer DEFAULT 1 NOT NULL,
    assigned_count bigint DEFAULT 0 NOT NULL,
    last_assigned_at timestamp with time zone,
    CONSTRAINT workflow_round_robin_weight_check CHECK (((weight >= 1) AND (weight <= 100)))
);

ALTER TABLE ONLY app.workflow_round_robin FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_round_robin OWNER TO intime_owner;

--
-- Name: workflow_states; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_states (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    workflow_id uuid NOT NULL,
    name text NOT NULL,
    label text NOT NULL,
    state_type text DEFAULT 'intermediate'::text NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT workflow_states_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT workflow_states_state_type_check CHECK ((state_type = ANY (ARRAY['initial'::text, 'intermediate'::text, 'final'::text])))
);

ALTER TABLE ONLY app.workflow_states FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_states OWNER TO intime_owner;

--
-- Name: workflow_transitions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_transitions (
    org_id uuid NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    workflow_id uuid NOT NULL,
    name text NOT NULL,
    from_state_id uuid,
    to_state_id uuid NOT NULL,
    required_role text,
    approval jsonb,
    steps jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    CONSTRAINT workflow_transitions_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT workflow_transitions_required_role_check CHECK ((required_role = ANY (ARRAY['admin'::text, 'manager'::text, 'member'::text]))),
    CONSTRAINT workflow_transitions_steps_check CHECK ((jsonb_typeof(steps) = 'array'::text))
);

ALTER TABLE ONLY app.workflow_transitions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_transitions OWNER TO intime_owner;

--
-- Name: workflow_versions; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflow_versions (
    org_id uuid NOT NULL,
    workflow_id uuid NOT NULL,
    version integer NOT NULL,
    definition jsonb NOT NULL,
    created_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL
);

ALTER TABLE ONLY app.workflow_versions FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflow_versions OWNER TO intime_owner;

--
-- Name: workflows; Type: TABLE; Schema: app; Owner: intime_owner
--

CREATE TABLE app.workflows (
    org_id uuid DEFAULT app.current_org_id() NOT NULL,
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    description text,
    entity_type text NOT NULL,
    is_active boolean DEFAULT true NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    definition jsonb NOT NULL,
    reenrollment text DEFAULT 'after_exit'::text NOT NULL,
    max_retries integer DEFAULT 3 NOT NULL,
    trigger_events text[] DEFAULT '{}'::text[] NOT NULL,
    schedule_cron text,
    schedule_timezone text,
    schedule_fired_at timestamp with time zone,
    created_by uuid DEFAULT app.current_user_id(),
    updated_by uuid,
    created_at timestamp with time zone DEFAULT app.now() NOT NULL,
    updated_at timestamp with time zone DEFAULT app.now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT workflows_check CHECK (((schedule_cron IS NULL) = (schedule_timezone IS NULL))),
    CONSTRAINT workflows_definition_check CHECK ((jsonb_typeof(definition) = 'object'::text)),
    CONSTRAINT workflows_max_retries_check CHECK (((max_retries >= 0) AND (max_retries <= 25))),
    CONSTRAINT workflows_name_check CHECK (((length(btrim(name)) >= 1) AND (length(btrim(name)) <= 200))),
    CONSTRAINT workflows_reenrollment_check CHECK ((reenrollment = ANY (ARRAY['never'::text, 'after_exit'::text, 'concurrent'::text]))),
    CONSTRAINT workflows_trigger_events_check CHECK ((trigger_events <@ ARRAY['insert'::text, 'update'::text, 'delete'::text])),
    CONSTRAINT workflows_version_check CHECK ((version >= 1))
);

ALTER TABLE ONLY app.workflows FORCE ROW LEVEL SECURITY;


ALTER TABLE app.workflows OWNER TO intime_owner;

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
-- Name: workflow_execution_logs_default; Type: TABLE ATTACH; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_execution_logs ATTACH PARTITION app.workflow_execution_logs_default DEFAULT;


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
-- Name: builtin_notification_settings builtin_notification_settings_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.builtin_notification_settings
    ADD CONSTRAINT builtin_notification_settings_pkey PRIMARY KEY (org_id, slug);


--
-- Name: campaign_ab_decisions campaign_ab_decisions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_ab_decisions
    ADD CONSTRAINT campaign_ab_decisions_pkey PRIMARY KEY (org_id, id);


--
-- Name: campaign_daily_sends campaign_daily_sends_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_daily_sends
    ADD CONSTRAINT campaign_daily_sends_pkey PRIMARY KEY (org_id, campaign_id, local_date);


--
-- Name: campaign_enrollments campaign_enrollments_org_id_campaign_id_contact_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_enrollments
    ADD CONSTRAINT campaign_enrollments_org_id_campaign_id_contact_id_key UNIQUE (org_id, campaign_id, contact_id);


--
-- Name: campaign_enrollments campaign_enrollments_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_enrollments
    ADD CONSTRAINT campaign_enrollments_pkey PRIMARY KEY (org_id, id);


--
-- Name: campaign_sequence_logs_archive campaign_sequence_logs_archive_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequence_logs_archive
    ADD CONSTRAINT campaign_sequence_logs_archive_pkey PRIMARY KEY (org_id, id);


--
-- Name: campaign_sequence_logs campaign_sequence_logs_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequence_logs
    ADD CONSTRAINT campaign_sequence_logs_pkey PRIMARY KEY (org_id, id);


--
-- Name: campaign_sequences campaign_sequences_org_id_campaign_id_step_number_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequences
    ADD CONSTRAINT campaign_sequences_org_id_campaign_id_step_number_key UNIQUE (org_id, campaign_id, step_number);


--
-- Name: campaign_sequences campaign_sequences_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequences
    ADD CONSTRAINT campaign_sequences_pkey PRIMARY KEY (org_id, id);


--
-- Name: campaigns campaigns_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaigns
    ADD CONSTRAINT campaigns_pkey PRIMARY KEY (org_id, id);


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
-- Name: permissions permissions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.permissions
    ADD CONSTRAINT permissions_pkey PRIMARY KEY (name);


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
-- Name: role_permissions role_permissions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.role_permissions
    ADD CONSTRAINT role_permissions_pkey PRIMARY KEY (org_id, role, permission);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);


--
-- Name: send_log send_log_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.send_log
    ADD CONSTRAINT send_log_pkey PRIMARY KEY (org_id, id);


--
-- Name: sending_domains sending_domains_org_id_domain_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.sending_domains
    ADD CONSTRAINT sending_domains_org_id_domain_key UNIQUE (org_id, domain);


--
-- Name: sending_domains sending_domains_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.sending_domains
    ADD CONSTRAINT sending_domains_pkey PRIMARY KEY (org_id, id);


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
-- Name: stream_tickets stream_tickets_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_tickets
    ADD CONSTRAINT stream_tickets_pkey PRIMARY KEY (org_id, id);


--
-- Name: stream_tickets stream_tickets_ticket_hash_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_tickets
    ADD CONSTRAINT stream_tickets_ticket_hash_key UNIQUE (ticket_hash);


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
-- Name: suppression_changes suppression_changes_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppression_changes
    ADD CONSTRAINT suppression_changes_pkey PRIMARY KEY (org_id, id);


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
-- Name: webhook_settings webhook_settings_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.webhook_settings
    ADD CONSTRAINT webhook_settings_pkey PRIMARY KEY (org_id);


--
-- Name: workflow_actions workflow_actions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_actions
    ADD CONSTRAINT workflow_actions_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_approvals workflow_approvals_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_entity_locks workflow_entity_locks_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_entity_locks
    ADD CONSTRAINT workflow_entity_locks_pkey PRIMARY KEY (org_id, entity_type, entity_id, execution_id);


--
-- Name: workflow_execution_logs workflow_execution_logs_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_execution_logs
    ADD CONSTRAINT workflow_execution_logs_pkey PRIMARY KEY (org_id, id, occurred_at);


--
-- Name: workflow_execution_logs_default workflow_execution_logs_default_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_execution_logs_default
    ADD CONSTRAINT workflow_execution_logs_default_pkey PRIMARY KEY (org_id, id, occurred_at);


--
-- Name: workflow_executions workflow_executions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_instances workflow_instances_org_id_workflow_id_entity_id_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_org_id_workflow_id_entity_id_key UNIQUE (org_id, workflow_id, entity_id);


--
-- Name: workflow_instances workflow_instances_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_round_robin workflow_round_robin_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_round_robin
    ADD CONSTRAINT workflow_round_robin_pkey PRIMARY KEY (org_id, workflow_id, step_name, user_id);


--
-- Name: workflow_states workflow_states_org_id_workflow_id_name_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_states
    ADD CONSTRAINT workflow_states_org_id_workflow_id_name_key UNIQUE (org_id, workflow_id, name);


--
-- Name: workflow_states workflow_states_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_states
    ADD CONSTRAINT workflow_states_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_steps workflow_steps_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_steps
    ADD CONSTRAINT workflow_steps_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_transitions workflow_transitions_org_id_workflow_id_name_key; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_org_id_workflow_id_name_key UNIQUE (org_id, workflow_id, name);


--
-- Name: workflow_transitions workflow_transitions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_pkey PRIMARY KEY (org_id, id);


--
-- Name: workflow_versions workflow_versions_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_versions
    ADD CONSTRAINT workflow_versions_pkey PRIMARY KEY (org_id, workflow_id, version);


--
-- Name: workflows workflows_pkey; Type: CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflows
    ADD CONSTRAINT workflows_pkey PRIMARY KEY (org_id, id);


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
-- Name: campaign_ab_decisions_campaign_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_ab_decisions_campaign_idx ON app.campaign_ab_decisions USING btree (org_id, campaign_id, created_at);


--
-- Name: campaign_enrollments_campaign_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_enrollments_campaign_idx ON app.campaign_enrollments USING btree (org_id, campaign_id, status);


--
-- Name: campaign_enrollments_contact_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_enrollments_contact_idx ON app.campaign_enrollments USING btree (org_id, contact_id);


--
-- Name: campaign_enrollments_due_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_enrollments_due_idx ON app.campaign_enrollments USING btree (next_step_at) WHERE (status = 'active'::text);


--
-- Name: campaign_enrollments_resume_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_enrollments_resume_idx ON app.campaign_enrollments USING btree (resume_at) WHERE ((status = 'paused'::text) AND (resume_at IS NOT NULL));


--
-- Name: campaign_sequence_logs_archive_campaign_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_sequence_logs_archive_campaign_idx ON app.campaign_sequence_logs_archive USING btree (org_id, campaign_id, step_number);


--
-- Name: campaign_sequence_logs_campaign_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_sequence_logs_campaign_idx ON app.campaign_sequence_logs USING btree (org_id, campaign_id, step_number);


--
-- Name: campaign_sequence_logs_created_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_sequence_logs_created_idx ON app.campaign_sequence_logs USING btree (created_at);


--
-- Name: campaign_sequence_logs_enrollment_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_sequence_logs_enrollment_idx ON app.campaign_sequence_logs USING btree (org_id, enrollment_id, id);


--
-- Name: campaign_sequence_logs_send_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaign_sequence_logs_send_idx ON app.campaign_sequence_logs USING btree (org_id, email_send_id) WHERE (email_send_id IS NOT NULL);


--
-- Name: campaigns_active_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX campaigns_active_idx ON app.campaigns USING btree (org_id, id) WHERE (status = 'active'::text);


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
-- Name: email_events_pending_received_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_events_pending_received_idx ON app.email_events_pending USING btree (received_at);


--
-- Name: email_events_send_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_events_send_idx ON app.email_events USING btree (org_id, email_send_id, occurred_at);


--
-- Name: email_sends_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_entity_idx ON app.email_sends USING btree (org_id, entity_type, entity_id) WHERE (entity_type IS NOT NULL);


--
-- Name: email_sends_in_flight_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_in_flight_idx ON app.email_sends USING btree (updated_at) WHERE (status = ANY (ARRAY['queued'::text, 'sending'::text]));


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
-- Name: email_sends_workflow_action_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX email_sends_workflow_action_idx ON app.email_sends USING btree (org_id, workflow_action_id) WHERE (workflow_action_id IS NOT NULL);


--
-- Name: entity_history_changed_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX entity_history_changed_idx ON app.entity_history USING btree (org_id, changed_at);


--
-- Name: entity_history_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX entity_history_entity_idx ON app.entity_history USING btree (org_id, entity_type, entity_id, changed_at);


--
-- Name: inbound_emails_send_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX inbound_emails_send_idx ON app.inbound_emails USING btree (org_id, matched_send_id);


--
-- Name: inbound_unmatched_received_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX inbound_unmatched_received_idx ON app.inbound_unmatched USING btree (received_at);


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
-- Name: notification_deliveries_pending_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notification_deliveries_pending_idx ON app.notification_deliveries USING btree (updated_at) WHERE (status = 'pending'::text);


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
-- Name: notifications_group_sender_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX notifications_group_sender_key ON app.notifications USING btree (org_id, user_id, group_key, created_by) NULLS NOT DISTINCT WHERE ((group_key IS NOT NULL) AND (read_at IS NULL) AND (archived_at IS NULL) AND (channels ? 'in_app'::text));


--
-- Name: notifications_inbox_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notifications_inbox_idx ON app.notifications USING btree (org_id, user_id, seq DESC);


--
-- Name: notifications_unread_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX notifications_unread_idx ON app.notifications USING btree (org_id, user_id) WHERE ((read_at IS NULL) AND (archived_at IS NULL));


--
-- Name: send_log_sent_at_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX send_log_sent_at_idx ON app.send_log USING btree (sent_at);


--
-- Name: send_log_user_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX send_log_user_idx ON app.send_log USING btree (org_id, user_id, kind, sent_at);


--
-- Name: sending_domains_verified_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX sending_domains_verified_idx ON app.sending_domains USING btree (domain) WHERE (verified_at IS NOT NULL);


--
-- Name: stream_tickets_expires_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX stream_tickets_expires_idx ON app.stream_tickets USING btree (expires_at);


--
-- Name: submissions_candidate_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX submissions_candidate_idx ON app.submissions USING btree (org_id, candidate_id);


--
-- Name: suppression_changes_email_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX suppression_changes_email_idx ON app.suppression_changes USING btree (org_id, email, id);


--
-- Name: user_profiles_email_key; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX user_profiles_email_key ON app.user_profiles USING btree (org_id, lower(email));


--
-- Name: user_profiles_manager_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX user_profiles_manager_idx ON app.user_profiles USING btree (org_id, manager_id) WHERE (manager_id IS NOT NULL);


--
-- Name: webhook_receipts_received_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX webhook_receipts_received_idx ON app.webhook_receipts USING btree (received_at);


--
-- Name: workflow_actions_execution_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_actions_execution_idx ON app.workflow_actions USING btree (org_id, execution_id);


--
-- Name: workflow_actions_in_flight_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_actions_in_flight_idx ON app.workflow_actions USING btree (COALESCE(scheduled_at, created_at)) WHERE (status = ANY (ARRAY['pending'::text, 'running'::text]));


--
-- Name: workflow_actions_scheduled_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_actions_scheduled_idx ON app.workflow_actions USING btree (scheduled_at) WHERE ((status = 'pending'::text) AND (scheduled_at IS NOT NULL));


--
-- Name: workflow_actions_step_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_actions_step_idx ON app.workflow_actions USING btree (org_id, step_id);


--
-- Name: workflow_approvals_approver_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_approvals_approver_idx ON app.workflow_approvals USING btree (org_id, approver_id, status);


--
-- Name: workflow_approvals_due_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_approvals_due_idx ON app.workflow_approvals USING btree (due_at) WHERE ((status = 'pending'::text) AND (escalated_at IS NULL));


--
-- Name: workflow_approvals_execution_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_approvals_execution_idx ON app.workflow_approvals USING btree (org_id, execution_id);


--
-- Name: workflow_execution_logs_execution_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_execution_logs_execution_idx ON ONLY app.workflow_execution_logs USING btree (org_id, execution_id, occurred_at, seq);


--
-- Name: workflow_execution_logs_defau_org_id_execution_id_occurred__idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_execution_logs_defau_org_id_execution_id_occurred__idx ON app.workflow_execution_logs_default USING btree (org_id, execution_id, occurred_at, seq);


--
-- Name: workflow_execution_logs_level_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_execution_logs_level_idx ON ONLY app.workflow_execution_logs USING btree (org_id, level, occurred_at DESC) WHERE (level = ANY (ARRAY['warning'::text, 'error'::text]));


--
-- Name: workflow_execution_logs_default_org_id_level_occurred_at_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_execution_logs_default_org_id_level_occurred_at_idx ON app.workflow_execution_logs_default USING btree (org_id, level, occurred_at DESC) WHERE (level = ANY (ARRAY['warning'::text, 'error'::text]));


--
-- Name: workflow_executions_approval_lock_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_executions_approval_lock_idx ON app.workflow_executions USING btree (org_id, entity_type, entity_id) WHERE ((approval_requested_at IS NOT NULL) AND (status = ANY (ARRAY['pending'::text, 'running'::text, 'waiting'::text, 'paused'::text])));


--
-- Name: workflow_executions_instance_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_executions_instance_idx ON app.workflow_executions USING btree (org_id, instance_id, status);


--
-- Name: workflow_executions_one_active; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX workflow_executions_one_active ON app.workflow_executions USING btree (org_id, workflow_id, entity_id) WHERE (exclusive AND (status = ANY (ARRAY['pending'::text, 'running'::text, 'waiting'::text, 'paused'::text])));


--
-- Name: workflow_executions_org_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_executions_org_idx ON app.workflow_executions USING btree (org_id, status, created_at DESC);


--
-- Name: workflow_executions_stalled_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_executions_stalled_idx ON app.workflow_executions USING btree (updated_at) WHERE (status = ANY (ARRAY['pending'::text, 'running'::text]));


--
-- Name: workflow_executions_wake_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_executions_wake_idx ON app.workflow_executions USING btree (wake_at) WHERE ((status = 'waiting'::text) AND (wake_at IS NOT NULL));


--
-- Name: workflow_instances_entity_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_instances_entity_idx ON app.workflow_instances USING btree (org_id, entity_type, entity_id);


--
-- Name: workflow_states_one_initial; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE UNIQUE INDEX workflow_states_one_initial ON app.workflow_states USING btree (org_id, workflow_id) WHERE (state_type = 'initial'::text);


--
-- Name: workflow_steps_execution_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_steps_execution_idx ON app.workflow_steps USING btree (org_id, execution_id, "position");


--
-- Name: workflow_steps_waiting_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflow_steps_waiting_idx ON app.workflow_steps USING btree (wait_until) WHERE (status = 'waiting'::text);


--
-- Name: workflows_match_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflows_match_idx ON app.workflows USING btree (org_id, entity_type) INCLUDE (trigger_events) WHERE (is_active AND (deleted_at IS NULL));


--
-- Name: workflows_scheduled_idx; Type: INDEX; Schema: app; Owner: intime_owner
--

CREATE INDEX workflows_scheduled_idx ON app.workflows USING btree (schedule_fired_at) WHERE ((schedule_cron IS NOT NULL) AND is_active AND (deleted_at IS NULL));


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
-- Name: pgqueuer_statistics_created_idx; Type: INDEX; Schema: queue; Owner: intime_owner
--

CREATE INDEX pgqueuer_statistics_created_idx ON queue.pgqueuer_statistics USING btree (created);


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
-- Name: workflow_execution_logs_defau_org_id_execution_id_occurred__idx; Type: INDEX ATTACH; Schema: app; Owner: intime_owner
--

ALTER INDEX app.workflow_execution_logs_execution_idx ATTACH PARTITION app.workflow_execution_logs_defau_org_id_execution_id_occurred__idx;


--
-- Name: workflow_execution_logs_default_org_id_level_occurred_at_idx; Type: INDEX ATTACH; Schema: app; Owner: intime_owner
--

ALTER INDEX app.workflow_execution_logs_level_idx ATTACH PARTITION app.workflow_execution_logs_default_org_id_level_occurred_at_idx;


--
-- Name: workflow_execution_logs_default_pkey; Type: INDEX ATTACH; Schema: app; Owner: intime_owner
--

ALTER INDEX app.workflow_execution_logs_pkey ATTACH PARTITION app.workflow_execution_logs_default_pkey;


--
-- Name: campaign_enrollments campaign_totals_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER campaign_totals_delete AFTER DELETE ON app.campaign_enrollments REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_campaign_enrollment_totals();


--
-- Name: campaign_enrollments campaign_totals_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER campaign_totals_insert AFTER INSERT ON app.campaign_enrollments REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_campaign_enrollment_totals();


--
-- Name: campaign_enrollments campaign_totals_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER campaign_totals_update AFTER UPDATE ON app.campaign_enrollments REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_campaign_enrollment_totals();


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
-- Name: deal_stages deal_stages_permission; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER deal_stages_permission BEFORE INSERT OR DELETE OR UPDATE ON app.deal_stages FOR EACH STATEMENT EXECUTE FUNCTION app._tg_require_permission('pipeline.manage');


--
-- Name: email_sends email_sends_campaign; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_sends_campaign AFTER UPDATE OF replied_at, status, open_count, click_count ON app.email_sends FOR EACH ROW WHEN (((new.enrollment_id IS NOT NULL) AND (((old.replied_at IS NULL) AND (new.replied_at IS NOT NULL)) OR ((old.status IS DISTINCT FROM new.status) AND (new.status = ANY (ARRAY['bounced'::text, 'complained'::text]))) OR (new.open_count > old.open_count) OR (new.click_count > old.click_count)))) EXECUTE FUNCTION app._tg_email_send_campaign();


--
-- Name: email_sends email_sends_delivery_status; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_sends_delivery_status AFTER UPDATE OF status ON app.email_sends FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) AND ((new.notification_id IS NOT NULL) OR (new.entity_type = 'notification_digest'::text)))) EXECUTE FUNCTION app._tg_email_send_delivery_status();


--
-- Name: email_sends email_sends_workflow_action; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_sends_workflow_action AFTER UPDATE OF status ON app.email_sends FOR EACH ROW WHEN (((new.workflow_action_id IS NOT NULL) AND (old.status IS DISTINCT FROM new.status) AND (old.status = ANY (ARRAY['queued'::text, 'sending'::text])) AND (new.status <> ALL (ARRAY['queued'::text, 'sending'::text])))) EXECUTE FUNCTION app._tg_email_send_workflow_action();


--
-- Name: email_templates email_templates_campaign_steps; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_templates_campaign_steps BEFORE DELETE ON app.email_templates FOR EACH ROW EXECUTE FUNCTION app._tg_email_template_in_campaign();


--
-- Name: email_templates email_templates_permission; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER email_templates_permission BEFORE INSERT OR DELETE OR UPDATE ON app.email_templates FOR EACH STATEMENT EXECUTE FUNCTION app._tg_require_permission('templates.manage');


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
-- Name: notification_templates notification_templates_permission; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER notification_templates_permission BEFORE INSERT OR DELETE OR UPDATE ON app.notification_templates FOR EACH STATEMENT EXECUTE FUNCTION app._tg_require_permission('templates.manage');


--
-- Name: notifications notifications_announce_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER notifications_announce_insert AFTER INSERT ON app.notifications FOR EACH STATEMENT EXECUTE FUNCTION app._tg_notification_announce();


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
-- Name: suppressions suppressions_campaign; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER suppressions_campaign AFTER INSERT ON app.suppressions FOR EACH ROW EXECUTE FUNCTION app._tg_suppression_campaign();


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
-- Name: accounts workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.accounts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('account');


--
-- Name: activities workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.activities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('activity');


--
-- Name: candidates workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.candidates REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('candidate');


--
-- Name: contacts workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('contact');


--
-- Name: deals workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('deal');


--
-- Name: interviews workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.interviews REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('interview');


--
-- Name: jobs workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('job');


--
-- Name: placements workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.placements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('placement');


--
-- Name: submissions workflow_approval_field_lock; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_approval_field_lock AFTER UPDATE ON app.submissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_approval_field_lock('submission');


--
-- Name: accounts workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.accounts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('account');


--
-- Name: activities workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.activities REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('activity');


--
-- Name: candidates workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.candidates REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('candidate');


--
-- Name: contacts workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.contacts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('contact');


--
-- Name: deals workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.deals REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('deal');


--
-- Name: interviews workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.interviews REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('interview');


--
-- Name: jobs workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.jobs REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('job');


--
-- Name: placements workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.placements REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('placement');


--
-- Name: submissions workflow_delete; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_delete AFTER DELETE ON app.submissions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_delete('submission');


--
-- Name: accounts workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.accounts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('account');


--
-- Name: activities workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.activities REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('activity');


--
-- Name: candidates workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.candidates REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('candidate');


--
-- Name: contacts workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.contacts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('contact');


--
-- Name: deals workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.deals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('deal');


--
-- Name: interviews workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.interviews REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('interview');


--
-- Name: jobs workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.jobs REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('job');


--
-- Name: placements workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.placements REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('placement');


--
-- Name: submissions workflow_insert; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_insert AFTER INSERT ON app.submissions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_insert('submission');


--
-- Name: accounts workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.accounts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('account');


--
-- Name: activities workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.activities REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('activity');


--
-- Name: candidates workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.candidates REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('candidate');


--
-- Name: contacts workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.contacts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('contact');


--
-- Name: deals workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.deals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('deal');


--
-- Name: interviews workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.interviews REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('interview');


--
-- Name: jobs workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('job');


--
-- Name: placements workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.placements REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('placement');


--
-- Name: submissions workflow_update; Type: TRIGGER; Schema: app; Owner: intime_owner
--

CREATE TRIGGER workflow_update AFTER UPDATE ON app.submissions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app._tg_workflow_update('submission');


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
-- Name: builtin_notification_settings builtin_notification_settings_org_id_changed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.builtin_notification_settings
    ADD CONSTRAINT builtin_notification_settings_org_id_changed_by_fkey FOREIGN KEY (org_id, changed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (changed_by);


--
-- Name: builtin_notification_settings builtin_notification_settings_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.builtin_notification_settings
    ADD CONSTRAINT builtin_notification_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: builtin_notification_settings builtin_notification_settings_slug_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.builtin_notification_settings
    ADD CONSTRAINT builtin_notification_settings_slug_fkey FOREIGN KEY (slug) REFERENCES app.notification_system_templates(slug) ON DELETE CASCADE;


--
-- Name: campaign_ab_decisions campaign_ab_decisions_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_ab_decisions
    ADD CONSTRAINT campaign_ab_decisions_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES app.campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: campaign_ab_decisions campaign_ab_decisions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_ab_decisions
    ADD CONSTRAINT campaign_ab_decisions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_daily_sends campaign_daily_sends_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_daily_sends
    ADD CONSTRAINT campaign_daily_sends_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES app.campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: campaign_daily_sends campaign_daily_sends_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_daily_sends
    ADD CONSTRAINT campaign_daily_sends_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_enrollments campaign_enrollments_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_enrollments
    ADD CONSTRAINT campaign_enrollments_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES app.campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: campaign_enrollments campaign_enrollments_org_id_contact_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_enrollments
    ADD CONSTRAINT campaign_enrollments_org_id_contact_id_fkey FOREIGN KEY (org_id, contact_id) REFERENCES app.contacts(org_id, id) ON DELETE CASCADE;


--
-- Name: campaign_enrollments campaign_enrollments_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_enrollments
    ADD CONSTRAINT campaign_enrollments_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_sequence_logs_archive campaign_sequence_logs_archive_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequence_logs_archive
    ADD CONSTRAINT campaign_sequence_logs_archive_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_sequence_logs campaign_sequence_logs_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequence_logs
    ADD CONSTRAINT campaign_sequence_logs_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_sequences campaign_sequences_org_id_campaign_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequences
    ADD CONSTRAINT campaign_sequences_org_id_campaign_id_fkey FOREIGN KEY (org_id, campaign_id) REFERENCES app.campaigns(org_id, id) ON DELETE CASCADE;


--
-- Name: campaign_sequences campaign_sequences_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequences
    ADD CONSTRAINT campaign_sequences_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaign_sequences campaign_sequences_org_id_template_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaign_sequences
    ADD CONSTRAINT campaign_sequences_org_id_template_id_fkey FOREIGN KEY (org_id, template_id) REFERENCES app.email_templates(org_id, id);


--
-- Name: campaigns campaigns_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaigns
    ADD CONSTRAINT campaigns_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: campaigns campaigns_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaigns
    ADD CONSTRAINT campaigns_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: campaigns campaigns_org_id_owner_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.campaigns
    ADD CONSTRAINT campaigns_org_id_owner_id_fkey FOREIGN KEY (org_id, owner_id) REFERENCES app.user_profiles(org_id, id);


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
-- Name: email_threads email_threads_org_id_recipient_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.email_threads
    ADD CONSTRAINT email_threads_org_id_recipient_user_id_fkey FOREIGN KEY (org_id, recipient_user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (recipient_user_id);


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
-- Name: inbound_emails inbound_emails_org_id_recipient_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.inbound_emails
    ADD CONSTRAINT inbound_emails_org_id_recipient_user_id_fkey FOREIGN KEY (org_id, recipient_user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (recipient_user_id);


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
-- Name: role_permissions role_permissions_org_id_changed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.role_permissions
    ADD CONSTRAINT role_permissions_org_id_changed_by_fkey FOREIGN KEY (org_id, changed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (changed_by);


--
-- Name: role_permissions role_permissions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.role_permissions
    ADD CONSTRAINT role_permissions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: role_permissions role_permissions_permission_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.role_permissions
    ADD CONSTRAINT role_permissions_permission_fkey FOREIGN KEY (permission) REFERENCES app.permissions(name) ON DELETE CASCADE;


--
-- Name: send_log send_log_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.send_log
    ADD CONSTRAINT send_log_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: send_log send_log_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.send_log
    ADD CONSTRAINT send_log_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: sending_domains sending_domains_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.sending_domains
    ADD CONSTRAINT sending_domains_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: stream_tickets stream_tickets_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_tickets
    ADD CONSTRAINT stream_tickets_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: stream_tickets stream_tickets_org_id_token_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_tickets
    ADD CONSTRAINT stream_tickets_org_id_token_id_fkey FOREIGN KEY (org_id, token_id) REFERENCES app.api_tokens(org_id, id) ON DELETE CASCADE;


--
-- Name: stream_tickets stream_tickets_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.stream_tickets
    ADD CONSTRAINT stream_tickets_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


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
-- Name: suppression_changes suppression_changes_org_id_changed_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppression_changes
    ADD CONSTRAINT suppression_changes_org_id_changed_by_fkey FOREIGN KEY (org_id, changed_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (changed_by);


--
-- Name: suppression_changes suppression_changes_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppression_changes
    ADD CONSTRAINT suppression_changes_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: suppressions suppressions_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.suppressions
    ADD CONSTRAINT suppressions_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


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
-- Name: webhook_settings webhook_settings_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.webhook_settings
    ADD CONSTRAINT webhook_settings_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_actions workflow_actions_org_id_execution_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_actions
    ADD CONSTRAINT workflow_actions_org_id_execution_id_fkey FOREIGN KEY (org_id, execution_id) REFERENCES app.workflow_executions(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_actions workflow_actions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_actions
    ADD CONSTRAINT workflow_actions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_actions workflow_actions_org_id_step_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_actions
    ADD CONSTRAINT workflow_actions_org_id_step_id_fkey FOREIGN KEY (org_id, step_id) REFERENCES app.workflow_steps(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_approvals workflow_approvals_org_id_approver_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_approver_id_fkey FOREIGN KEY (org_id, approver_id) REFERENCES app.user_profiles(org_id, id);


--
-- Name: workflow_approvals workflow_approvals_org_id_delegated_to_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_delegated_to_fkey FOREIGN KEY (org_id, delegated_to) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (delegated_to);


--
-- Name: workflow_approvals workflow_approvals_org_id_escalated_to_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_escalated_to_fkey FOREIGN KEY (org_id, escalated_to) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (escalated_to);


--
-- Name: workflow_approvals workflow_approvals_org_id_execution_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_execution_id_fkey FOREIGN KEY (org_id, execution_id) REFERENCES app.workflow_executions(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_approvals workflow_approvals_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_approvals workflow_approvals_org_id_responded_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_responded_by_fkey FOREIGN KEY (org_id, responded_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (responded_by);


--
-- Name: workflow_approvals workflow_approvals_org_id_source_approval_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_source_approval_id_fkey FOREIGN KEY (org_id, source_approval_id) REFERENCES app.workflow_approvals(org_id, id) ON DELETE SET NULL (source_approval_id);


--
-- Name: workflow_approvals workflow_approvals_org_id_step_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_approvals
    ADD CONSTRAINT workflow_approvals_org_id_step_id_fkey FOREIGN KEY (org_id, step_id) REFERENCES app.workflow_steps(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_entity_locks workflow_entity_locks_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_entity_locks
    ADD CONSTRAINT workflow_entity_locks_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: workflow_entity_locks workflow_entity_locks_org_id_execution_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_entity_locks
    ADD CONSTRAINT workflow_entity_locks_org_id_execution_id_fkey FOREIGN KEY (org_id, execution_id) REFERENCES app.workflow_executions(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_entity_locks workflow_entity_locks_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_entity_locks
    ADD CONSTRAINT workflow_entity_locks_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_execution_logs workflow_execution_logs_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_execution_logs
    ADD CONSTRAINT workflow_execution_logs_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_executions workflow_executions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_executions workflow_executions_org_id_instance_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_org_id_instance_id_fkey FOREIGN KEY (org_id, instance_id) REFERENCES app.workflow_instances(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_executions workflow_executions_org_id_transition_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_org_id_transition_id_fkey FOREIGN KEY (org_id, transition_id) REFERENCES app.workflow_transitions(org_id, id) ON DELETE SET NULL (transition_id);


--
-- Name: workflow_executions workflow_executions_org_id_triggered_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_org_id_triggered_by_fkey FOREIGN KEY (org_id, triggered_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (triggered_by);


--
-- Name: workflow_executions workflow_executions_org_id_workflow_id_workflow_version_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_executions
    ADD CONSTRAINT workflow_executions_org_id_workflow_id_workflow_version_fkey FOREIGN KEY (org_id, workflow_id, workflow_version) REFERENCES app.workflow_versions(org_id, workflow_id, version) ON DELETE CASCADE;


--
-- Name: workflow_instances workflow_instances_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: workflow_instances workflow_instances_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: workflow_instances workflow_instances_org_id_current_state_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_org_id_current_state_id_fkey FOREIGN KEY (org_id, current_state_id) REFERENCES app.workflow_states(org_id, id) ON DELETE SET NULL (current_state_id);


--
-- Name: workflow_instances workflow_instances_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_instances workflow_instances_org_id_workflow_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_instances
    ADD CONSTRAINT workflow_instances_org_id_workflow_id_fkey FOREIGN KEY (org_id, workflow_id) REFERENCES app.workflows(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_round_robin workflow_round_robin_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_round_robin
    ADD CONSTRAINT workflow_round_robin_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_round_robin workflow_round_robin_org_id_user_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_round_robin
    ADD CONSTRAINT workflow_round_robin_org_id_user_id_fkey FOREIGN KEY (org_id, user_id) REFERENCES app.user_profiles(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_round_robin workflow_round_robin_org_id_workflow_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_round_robin
    ADD CONSTRAINT workflow_round_robin_org_id_workflow_id_fkey FOREIGN KEY (org_id, workflow_id) REFERENCES app.workflows(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_states workflow_states_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_states
    ADD CONSTRAINT workflow_states_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_states workflow_states_org_id_workflow_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_states
    ADD CONSTRAINT workflow_states_org_id_workflow_id_fkey FOREIGN KEY (org_id, workflow_id) REFERENCES app.workflows(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_steps workflow_steps_org_id_execution_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_steps
    ADD CONSTRAINT workflow_steps_org_id_execution_id_fkey FOREIGN KEY (org_id, execution_id) REFERENCES app.workflow_executions(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_steps workflow_steps_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_steps
    ADD CONSTRAINT workflow_steps_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_steps workflow_steps_org_id_state_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_steps
    ADD CONSTRAINT workflow_steps_org_id_state_id_fkey FOREIGN KEY (org_id, state_id) REFERENCES app.workflow_states(org_id, id) ON DELETE SET NULL (state_id);


--
-- Name: workflow_steps workflow_steps_org_id_transition_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_steps
    ADD CONSTRAINT workflow_steps_org_id_transition_id_fkey FOREIGN KEY (org_id, transition_id) REFERENCES app.workflow_transitions(org_id, id) ON DELETE SET NULL (transition_id);


--
-- Name: workflow_transitions workflow_transitions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_transitions workflow_transitions_org_id_from_state_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_org_id_from_state_id_fkey FOREIGN KEY (org_id, from_state_id) REFERENCES app.workflow_states(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_transitions workflow_transitions_org_id_to_state_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_org_id_to_state_id_fkey FOREIGN KEY (org_id, to_state_id) REFERENCES app.workflow_states(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_transitions workflow_transitions_org_id_workflow_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_transitions
    ADD CONSTRAINT workflow_transitions_org_id_workflow_id_fkey FOREIGN KEY (org_id, workflow_id) REFERENCES app.workflows(org_id, id) ON DELETE CASCADE;


--
-- Name: workflow_versions workflow_versions_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_versions
    ADD CONSTRAINT workflow_versions_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: workflow_versions workflow_versions_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_versions
    ADD CONSTRAINT workflow_versions_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflow_versions workflow_versions_org_id_workflow_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflow_versions
    ADD CONSTRAINT workflow_versions_org_id_workflow_id_fkey FOREIGN KEY (org_id, workflow_id) REFERENCES app.workflows(org_id, id) ON DELETE CASCADE;


--
-- Name: workflows workflows_entity_type_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflows
    ADD CONSTRAINT workflows_entity_type_fkey FOREIGN KEY (entity_type) REFERENCES app.entity_types(entity_type);


--
-- Name: workflows workflows_org_id_created_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflows
    ADD CONSTRAINT workflows_org_id_created_by_fkey FOREIGN KEY (org_id, created_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (created_by);


--
-- Name: workflows workflows_org_id_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflows
    ADD CONSTRAINT workflows_org_id_fkey FOREIGN KEY (org_id) REFERENCES app.organizations(id) ON DELETE CASCADE;


--
-- Name: workflows workflows_org_id_updated_by_fkey; Type: FK CONSTRAINT; Schema: app; Owner: intime_owner
--

ALTER TABLE ONLY app.workflows
    ADD CONSTRAINT workflows_org_id_updated_by_fkey FOREIGN KEY (org_id, updated_by) REFERENCES app.user_profiles(org_id, id) ON DELETE SET NULL (updated_by);


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
-- Name: builtin_notification_settings; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.builtin_notification_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_ab_decisions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_ab_decisions ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_daily_sends; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_daily_sends ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_enrollments; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_enrollments ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_sequence_logs; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_sequence_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_sequence_logs_archive; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_sequence_logs_archive ENABLE ROW LEVEL SECURITY;

--
-- Name: campaign_sequences; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaign_sequences ENABLE ROW LEVEL SECURITY;

--
-- Name: campaigns; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.campaigns ENABLE ROW LEVEL SECURITY;

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
-- Name: role_permissions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.role_permissions ENABLE ROW LEVEL SECURITY;

--
-- Name: send_log; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.send_log ENABLE ROW LEVEL SECURITY;

--
-- Name: sending_domains; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.sending_domains ENABLE ROW LEVEL SECURITY;

--
-- Name: stream_tickets; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.stream_tickets ENABLE ROW LEVEL SECURITY;

--
-- Name: submissions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.submissions ENABLE ROW LEVEL SECURITY;

--
-- Name: suppression_changes; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.suppression_changes ENABLE ROW LEVEL SECURITY;

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
-- Name: builtin_notification_settings tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.builtin_notification_settings USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_ab_decisions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_ab_decisions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_daily_sends tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_daily_sends USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_enrollments tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_enrollments USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_sequence_logs tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_sequence_logs USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_sequence_logs_archive tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_sequence_logs_archive USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaign_sequences tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaign_sequences USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: campaigns tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.campaigns USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


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

CREATE POLICY tenant_isolation ON app.email_threads USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND ((recipient_user_id IS NULL) OR (recipient_user_id = ( SELECT app.current_user_id() AS current_user_id))))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: entity_history tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.entity_history USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: inbound_emails tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.inbound_emails USING (((org_id = ( SELECT app.current_org_id() AS current_org_id)) AND ((recipient_user_id IS NULL) OR (recipient_user_id = ( SELECT app.current_user_id() AS current_user_id))))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


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
-- Name: role_permissions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.role_permissions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: send_log tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.send_log USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: sending_domains tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.sending_domains USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: stream_tickets tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.stream_tickets USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: submissions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.submissions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: suppression_changes tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.suppression_changes USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: suppressions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.suppressions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: user_profiles tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.user_profiles USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: webhook_settings tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.webhook_settings USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_actions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_actions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_approvals tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_approvals USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_entity_locks tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_entity_locks USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_execution_logs tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_execution_logs USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_execution_logs_default tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_execution_logs_default USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_executions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_executions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_instances tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_instances USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_round_robin tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_round_robin USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_states tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_states USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_steps tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_steps USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_transitions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_transitions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflow_versions tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflow_versions USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


--
-- Name: workflows tenant_isolation; Type: POLICY; Schema: app; Owner: intime_owner
--

CREATE POLICY tenant_isolation ON app.workflows USING ((org_id = ( SELECT app.current_org_id() AS current_org_id))) WITH CHECK ((org_id = ( SELECT app.current_org_id() AS current_org_id)));


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
-- Name: webhook_settings; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.webhook_settings ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_actions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_actions ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_approvals; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_approvals ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_entity_locks; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_entity_locks ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_execution_logs; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_execution_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_execution_logs_default; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_execution_logs_default ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_executions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_executions ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_instances; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_instances ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_round_robin; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_round_robin ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_states; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_states ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_steps; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_steps ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_transitions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_transitions ENABLE ROW LEVEL SECURITY;

--
-- Name: workflow_versions; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflow_versions ENABLE ROW LEVEL SECURITY;

--
-- Name: workflows; Type: ROW SECURITY; Schema: app; Owner: intime_owner
--

ALTER TABLE app.workflows ENABLE ROW LEVEL SECURITY;

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
-- Name: FUNCTION activate_campaign(p_campaign_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.activate_campaign(p_campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.activate_campaign(p_campaign_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.activate_campaign(p_campaign_id uuid) TO intime_user;


--
-- Name: FUNCTION add_sending_domain(p_domain text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.add_sending_domain(p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.add_sending_domain(p_domain text) TO intime_service;
GRANT ALL ON FUNCTION api.add_sending_domain(p_domain text) TO intime_user;


--
-- Name: FUNCTION add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer, p_delay_days integer, p_delay_hours integer, p_delay_minutes integer, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_stop_on_reply boolean, p_ab_variants jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer, p_delay_days integer, p_delay_hours integer, p_delay_minutes integer, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_stop_on_reply boolean, p_ab_variants jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer, p_delay_days integer, p_delay_hours integer, p_delay_minutes integer, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_stop_on_reply boolean, p_ab_variants jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.add_sequence_step(p_campaign_id uuid, p_channel text, p_step_number integer, p_delay_days integer, p_delay_hours integer, p_delay_minutes integer, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_stop_on_reply boolean, p_ab_variants jsonb) TO intime_user;


--
-- Name: FUNCTION approve_approval(p_approval_id uuid, p_notes text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.approve_approval(p_approval_id uuid, p_notes text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.approve_approval(p_approval_id uuid, p_notes text) TO intime_service;
GRANT ALL ON FUNCTION api.approve_approval(p_approval_id uuid, p_notes text) TO intime_user;


--
-- Name: FUNCTION archive_campaign_logs(p_limit integer, p_retention interval); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.archive_campaign_logs(p_limit integer, p_retention interval) FROM PUBLIC;
GRANT ALL ON FUNCTION api.archive_campaign_logs(p_limit integer, p_retention interval) TO intime_service;
GRANT ALL ON FUNCTION api.archive_campaign_logs(p_limit integer, p_retention interval) TO intime_user;


--
-- Name: FUNCTION archive_notifications(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.archive_notifications(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.archive_notifications(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.archive_notifications(p_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION authenticate_stream_ticket(p_ticket_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.authenticate_stream_ticket(p_ticket_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.authenticate_stream_ticket(p_ticket_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.authenticate_stream_ticket(p_ticket_id uuid) TO intime_user;


--
-- Name: FUNCTION authenticate_token(p_token text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.authenticate_token(p_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.authenticate_token(p_token text) TO intime_service;
GRANT ALL ON FUNCTION api.authenticate_token(p_token text) TO intime_user;


--
-- Name: FUNCTION cancel_execution(p_execution_id uuid, p_reason text, p_keep_changes boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.cancel_execution(p_execution_id uuid, p_reason text, p_keep_changes boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.cancel_execution(p_execution_id uuid, p_reason text, p_keep_changes boolean) TO intime_service;
GRANT ALL ON FUNCTION api.cancel_execution(p_execution_id uuid, p_reason text, p_keep_changes boolean) TO intime_user;


--
-- Name: FUNCTION check_sending_domain(p_domain text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.check_sending_domain(p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.check_sending_domain(p_domain text) TO intime_service;
GRANT ALL ON FUNCTION api.check_sending_domain(p_domain text) TO intime_user;


--
-- Name: FUNCTION claim_email_send(p_email_send_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.claim_email_send(p_email_send_id uuid) TO intime_user;


--
-- Name: FUNCTION claim_stream_ticket(p_ticket text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.claim_stream_ticket(p_ticket text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_stream_ticket(p_ticket text) TO intime_service;
GRANT ALL ON FUNCTION api.claim_stream_ticket(p_ticket text) TO intime_user;


--
-- Name: FUNCTION claim_webhook(p_action_id uuid, p_org_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.claim_webhook(p_action_id uuid, p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.claim_webhook(p_action_id uuid, p_org_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.claim_webhook(p_action_id uuid, p_org_id uuid) TO intime_user;


--
-- Name: FUNCTION complete_action(p_action_id uuid, p_result jsonb, p_org_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.complete_action(p_action_id uuid, p_result jsonb, p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.complete_action(p_action_id uuid, p_result jsonb, p_org_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.complete_action(p_action_id uuid, p_result jsonb, p_org_id uuid) TO intime_user;


--
-- Name: FUNCTION complete_campaign(p_campaign_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.complete_campaign(p_campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.complete_campaign(p_campaign_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.complete_campaign(p_campaign_id uuid) TO intime_user;


--
-- Name: FUNCTION count_unread_notifications(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.count_unread_notifications() FROM PUBLIC;
GRANT ALL ON FUNCTION api.count_unread_notifications() TO intime_service;
GRANT ALL ON FUNCTION api.count_unread_notifications() TO intime_user;


--
-- Name: FUNCTION count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) TO intime_service;
GRANT ALL ON FUNCTION api.create_api_token(p_name text, p_user_id uuid, p_expires_at timestamp with time zone) TO intime_user;


--
-- Name: FUNCTION create_campaign(p_name text, p_description text, p_owner_id uuid, p_send_window_start time without time zone, p_send_window_end time without time zone, p_send_days text[], p_timezone text, p_use_contact_timezone boolean, p_daily_send_limit integer, p_ab_metric text, p_ab_min_sample_per_variant integer, p_ab_alpha numeric, p_ab_auto_select boolean, p_ab_metric_window interval); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_campaign(p_name text, p_description text, p_owner_id uuid, p_send_window_start time without time zone, p_send_window_end time without time zone, p_send_days text[], p_timezone text, p_use_contact_timezone boolean, p_daily_send_limit integer, p_ab_metric text, p_ab_min_sample_per_variant integer, p_ab_alpha numeric, p_ab_auto_select boolean, p_ab_metric_window interval) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_campaign(p_name text, p_description text, p_owner_id uuid, p_send_window_start time without time zone, p_send_window_end time without time zone, p_send_days text[], p_timezone text, p_use_contact_timezone boolean, p_daily_send_limit integer, p_ab_metric text, p_ab_min_sample_per_variant integer, p_ab_alpha numeric, p_ab_auto_select boolean, p_ab_metric_window interval) TO intime_service;
GRANT ALL ON FUNCTION api.create_campaign(p_name text, p_description text, p_owner_id uuid, p_send_window_start time without time zone, p_send_window_end time without time zone, p_send_days text[], p_timezone text, p_use_contact_timezone boolean, p_daily_send_limit integer, p_ab_metric text, p_ab_min_sample_per_variant integer, p_ab_alpha numeric, p_ab_auto_select boolean, p_ab_metric_window interval) TO intime_user;


--
-- Name: FUNCTION create_organization(p_name text, p_slug text, p_timezone text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) TO intime_service;
GRANT ALL ON FUNCTION api.create_organization(p_name text, p_slug text, p_timezone text) TO intime_user;


--
-- Name: FUNCTION create_stream_ticket(p_token text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_stream_ticket(p_token text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_stream_ticket(p_token text) TO intime_service;
GRANT ALL ON FUNCTION api.create_stream_ticket(p_token text) TO intime_user;


--
-- Name: FUNCTION create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) TO intime_service;
GRANT ALL ON FUNCTION api.create_user(p_email text, p_full_name text, p_role text, p_manager_id uuid, p_timezone text, p_db_role text) TO intime_user;


--
-- Name: FUNCTION create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text, p_is_active boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text, p_is_active boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text, p_is_active boolean) TO intime_service;
GRANT ALL ON FUNCTION api.create_workflow(p_name text, p_entity_type text, p_definition jsonb, p_description text, p_is_active boolean) TO intime_user;


--
-- Name: FUNCTION delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text) TO intime_service;
GRANT ALL ON FUNCTION api.delegate_approval(p_approval_id uuid, p_to_user uuid, p_reason text) TO intime_user;


--
-- Name: FUNCTION delete_workflow(p_workflow_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.delete_workflow(p_workflow_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.delete_workflow(p_workflow_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.delete_workflow(p_workflow_id uuid) TO intime_user;


--
-- Name: FUNCTION enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION evaluate_ab_test(p_campaign_id uuid, p_step_number integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer) TO intime_service;
GRANT ALL ON FUNCTION api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer) TO intime_user;


--
-- Name: FUNCTION evaluate_ab_tests(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.evaluate_ab_tests() FROM PUBLIC;
GRANT ALL ON FUNCTION api.evaluate_ab_tests() TO intime_service;
GRANT ALL ON FUNCTION api.evaluate_ab_tests() TO intime_user;


--
-- Name: FUNCTION fail_action(p_action_id uuid, p_error text, p_permanent boolean, p_retry_after_seconds double precision, p_result jsonb, p_org_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.fail_action(p_action_id uuid, p_error text, p_permanent boolean, p_retry_after_seconds double precision, p_result jsonb, p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.fail_action(p_action_id uuid, p_error text, p_permanent boolean, p_retry_after_seconds double precision, p_result jsonb, p_org_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.fail_action(p_action_id uuid, p_error text, p_permanent boolean, p_retry_after_seconds double precision, p_result jsonb, p_org_id uuid) TO intime_user;


--
-- Name: FUNCTION fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) TO intime_service;
GRANT ALL ON FUNCTION api.fail_email_send(p_email_send_id uuid, p_error text, p_permanent boolean) TO intime_user;


--
-- Name: FUNCTION fail_execution(p_execution_id uuid, p_error text, p_org_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.fail_execution(p_execution_id uuid, p_error text, p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.fail_execution(p_execution_id uuid, p_error text, p_org_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.fail_execution(p_execution_id uuid, p_error text, p_org_id uuid) TO intime_user;


--
-- Name: FUNCTION get_actor(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_actor() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_actor() TO intime_service;
GRANT ALL ON FUNCTION api.get_actor() TO intime_user;


--
-- Name: FUNCTION get_campaign_stats(p_campaign_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_campaign_stats(p_campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_campaign_stats(p_campaign_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.get_campaign_stats(p_campaign_id uuid) TO intime_user;


--
-- Name: FUNCTION get_email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.get_email_stats(p_entity_type text, p_entity_id uuid, p_template_id uuid) TO intime_user;


--
-- Name: FUNCTION get_enrollment_timeline(p_enrollment_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_enrollment_timeline(p_enrollment_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_enrollment_timeline(p_enrollment_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.get_enrollment_timeline(p_enrollment_id uuid) TO intime_user;


--
-- Name: FUNCTION get_execution_timeline(p_execution_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_execution_timeline(p_execution_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_execution_timeline(p_execution_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.get_execution_timeline(p_execution_id uuid) TO intime_user;


--
-- Name: FUNCTION get_notification_feed_head(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_notification_feed_head() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_notification_feed_head() TO intime_service;
GRANT ALL ON FUNCTION api.get_notification_feed_head() TO intime_user;


--
-- Name: FUNCTION get_permission(p_permission text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_permission(p_permission text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_permission(p_permission text) TO intime_service;
GRANT ALL ON FUNCTION api.get_permission(p_permission text) TO intime_user;


--
-- Name: FUNCTION get_preferences(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_preferences() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_preferences() TO intime_service;
GRANT ALL ON FUNCTION api.get_preferences() TO intime_user;


--
-- Name: FUNCTION get_webhook_signing_secret(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_webhook_signing_secret() FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_webhook_signing_secret() TO intime_service;
GRANT ALL ON FUNCTION api.get_webhook_signing_secret() TO intime_user;


--
-- Name: FUNCTION get_workflow_instance(p_workflow_id uuid, p_entity_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.get_workflow_instance(p_workflow_id uuid, p_entity_id uuid) TO intime_user;


--
-- Name: FUNCTION ingest_email_event(p_provider_event_id text, p_payload jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.ingest_email_event(p_provider_event_id text, p_payload jsonb) TO intime_user;


--
-- Name: FUNCTION list_my_approvals(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_my_approvals() FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_my_approvals() TO intime_service;
GRANT ALL ON FUNCTION api.list_my_approvals() TO intime_user;


--
-- Name: FUNCTION list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.list_notifications(p_unread_only boolean, p_archived boolean, p_before_seq bigint, p_limit integer) TO intime_user;


--
-- Name: FUNCTION list_role_permissions(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_role_permissions() FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_role_permissions() TO intime_service;
GRANT ALL ON FUNCTION api.list_role_permissions() TO intime_user;


--
-- Name: FUNCTION list_sending_domains(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_sending_domains() FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_sending_domains() TO intime_service;
GRANT ALL ON FUNCTION api.list_sending_domains() TO intime_user;


--
-- Name: FUNCTION list_unsettled_work(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.list_unsettled_work() FROM PUBLIC;
GRANT ALL ON FUNCTION api.list_unsettled_work() TO intime_service;
GRANT ALL ON FUNCTION api.list_unsettled_work() TO intime_user;


--
-- Name: FUNCTION maintain_workflow_logs(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.maintain_workflow_logs() FROM PUBLIC;
GRANT ALL ON FUNCTION api.maintain_workflow_logs() TO intime_service;
GRANT ALL ON FUNCTION api.maintain_workflow_logs() TO intime_user;


--
-- Name: FUNCTION mark_all_notifications_read(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_all_notifications_read() FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_all_notifications_read() TO intime_service;
GRANT ALL ON FUNCTION api.mark_all_notifications_read() TO intime_user;


--
-- Name: FUNCTION mark_notifications_read(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_notifications_read(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_notifications_read(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.mark_notifications_read(p_ids uuid[]) TO intime_user;


--
-- Name: FUNCTION mark_notifications_seen(p_ids uuid[]); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.mark_notifications_seen(p_ids uuid[]) FROM PUBLIC;
GRANT ALL ON FUNCTION api.mark_notifications_seen(p_ids uuid[]) TO intime_service;
GRANT ALL ON FUNCTION api.mark_notifications_seen(p_ids uuid[]) TO intime_user;


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
-- Name: FUNCTION pause_campaign(p_campaign_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.pause_campaign(p_campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.pause_campaign(p_campaign_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.pause_campaign(p_campaign_id uuid) TO intime_user;


--
-- Name: FUNCTION pause_execution(p_execution_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.pause_execution(p_execution_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.pause_execution(p_execution_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.pause_execution(p_execution_id uuid) TO intime_user;


--
-- Name: FUNCTION purge_expired_data(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.purge_expired_data(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.purge_expired_data(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.purge_expired_data(p_limit integer) TO intime_user;


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
-- Name: FUNCTION recall_approval(p_execution_id uuid, p_reason text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.recall_approval(p_execution_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.recall_approval(p_execution_id uuid, p_reason text) TO intime_service;
GRANT ALL ON FUNCTION api.recall_approval(p_execution_id uuid, p_reason text) TO intime_user;


--
-- Name: FUNCTION reconcile_in_flight_work(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.reconcile_in_flight_work(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.reconcile_in_flight_work(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.reconcile_in_flight_work(p_limit integer) TO intime_user;


--
-- Name: FUNCTION record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) TO intime_service;
GRANT ALL ON FUNCTION api.record_email_sent(p_email_send_id uuid, p_provider text, p_provider_message_id text) TO intime_user;


--
-- Name: FUNCTION record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text, p_reply_text text, p_dsn jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text, p_reply_text text, p_dsn jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text, p_reply_text text, p_dsn jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.record_inbound_email(p_message_id text, p_from text, p_to text[], p_subject text, p_in_reply_to text, p_references text[], p_text text, p_html text, p_headers jsonb, p_provider text, p_provider_email_id text, p_from_name text, p_reply_text text, p_dsn jsonb) TO intime_user;


--
-- Name: FUNCTION record_sending_domain_check(p_org_id uuid, p_domain text, p_error text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.record_sending_domain_check(p_org_id uuid, p_domain text, p_error text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.record_sending_domain_check(p_org_id uuid, p_domain text, p_error text) TO intime_service;
GRANT ALL ON FUNCTION api.record_sending_domain_check(p_org_id uuid, p_domain text, p_error text) TO intime_user;


--
-- Name: FUNCTION reject_approval(p_approval_id uuid, p_notes text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.reject_approval(p_approval_id uuid, p_notes text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.reject_approval(p_approval_id uuid, p_notes text) TO intime_service;
GRANT ALL ON FUNCTION api.reject_approval(p_approval_id uuid, p_notes text) TO intime_user;


--
-- Name: FUNCTION remove_sending_domain(p_domain text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.remove_sending_domain(p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.remove_sending_domain(p_domain text) TO intime_service;
GRANT ALL ON FUNCTION api.remove_sending_domain(p_domain text) TO intime_user;


--
-- Name: FUNCTION remove_stream_hub(p_hub_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.remove_stream_hub(p_hub_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.remove_stream_hub(p_hub_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.remove_stream_hub(p_hub_id uuid) TO intime_user;


--
-- Name: FUNCTION renew_stream_hub(p_hub_id uuid, p_polling_for interval); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.renew_stream_hub(p_hub_id uuid, p_polling_for interval) FROM PUBLIC;
GRANT ALL ON FUNCTION api.renew_stream_hub(p_hub_id uuid, p_polling_for interval) TO intime_service;
GRANT ALL ON FUNCTION api.renew_stream_hub(p_hub_id uuid, p_polling_for interval) TO intime_user;


--
-- Name: FUNCTION replay_notifications(p_after_seq bigint, p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.replay_notifications(p_after_seq bigint, p_limit integer) TO intime_user;


--
-- Name: FUNCTION resume_campaign(p_campaign_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.resume_campaign(p_campaign_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resume_campaign(p_campaign_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.resume_campaign(p_campaign_id uuid) TO intime_user;


--
-- Name: FUNCTION resume_enrollment(p_enrollment_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.resume_enrollment(p_enrollment_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resume_enrollment(p_enrollment_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.resume_enrollment(p_enrollment_id uuid) TO intime_user;


--
-- Name: FUNCTION resume_execution(p_execution_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.resume_execution(p_execution_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.resume_execution(p_execution_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.resume_execution(p_execution_id uuid) TO intime_user;


--
-- Name: FUNCTION retry_execution(p_execution_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.retry_execution(p_execution_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.retry_execution(p_execution_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.retry_execution(p_execution_id uuid) TO intime_user;


--
-- Name: FUNCTION revoke_api_token(p_token_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.revoke_api_token(p_token_id uuid) TO intime_user;


--
-- Name: FUNCTION revoke_sending_domain(p_org_id uuid, p_domain text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.revoke_sending_domain(p_org_id uuid, p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.revoke_sending_domain(p_org_id uuid, p_domain text) TO intime_service;
GRANT ALL ON FUNCTION api.revoke_sending_domain(p_org_id uuid, p_domain text) TO intime_user;


--
-- Name: FUNCTION rotate_webhook_secret(); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.rotate_webhook_secret() FROM PUBLIC;
GRANT ALL ON FUNCTION api.rotate_webhook_secret() TO intime_service;
GRANT ALL ON FUNCTION api.rotate_webhook_secret() TO intime_user;


--
-- Name: FUNCTION run_execution(p_execution_id uuid, p_org_id uuid); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.run_execution(p_execution_id uuid, p_org_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION api.run_execution(p_execution_id uuid, p_org_id uuid) TO intime_service;
GRANT ALL ON FUNCTION api.run_execution(p_execution_id uuid, p_org_id uuid) TO intime_user;


--
-- Name: FUNCTION select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer) TO intime_service;
GRANT ALL ON FUNCTION api.select_ab_winner(p_campaign_id uuid, p_variant text, p_step_number integer) TO intime_user;


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
-- Name: FUNCTION set_entity_history_retention(p_days integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.set_entity_history_retention(p_days integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_entity_history_retention(p_days integer) TO intime_service;
GRANT ALL ON FUNCTION api.set_entity_history_retention(p_days integer) TO intime_user;


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
-- Name: FUNCTION set_role_permission(p_role text, p_permission text, p_granted boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.set_role_permission(p_role text, p_permission text, p_granted boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.set_role_permission(p_role text, p_permission text, p_granted boolean) TO intime_service;
GRANT ALL ON FUNCTION api.set_role_permission(p_role text, p_permission text, p_granted boolean) TO intime_user;


--
-- Name: FUNCTION start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.start_workflow(p_workflow_id uuid, p_entity_id uuid, p_payload jsonb) TO intime_user;


--
-- Name: FUNCTION stop_enrollment(p_enrollment_id uuid, p_reason text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.stop_enrollment(p_enrollment_id uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.stop_enrollment(p_enrollment_id uuid, p_reason text) TO intime_service;
GRANT ALL ON FUNCTION api.stop_enrollment(p_enrollment_id uuid, p_reason text) TO intime_user;


--
-- Name: FUNCTION tick_campaigns(p_batch_size integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.tick_campaigns(p_batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.tick_campaigns(p_batch_size integer) TO intime_service;
GRANT ALL ON FUNCTION api.tick_campaigns(p_batch_size integer) TO intime_user;


--
-- Name: FUNCTION tick_notifications(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.tick_notifications(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.tick_notifications(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.tick_notifications(p_limit integer) TO intime_user;


--
-- Name: FUNCTION tick_workflows(p_limit integer); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.tick_workflows(p_limit integer) FROM PUBLIC;
GRANT ALL ON FUNCTION api.tick_workflows(p_limit integer) TO intime_service;
GRANT ALL ON FUNCTION api.tick_workflows(p_limit integer) TO intime_user;


--
-- Name: FUNCTION transition_entity(p_instance_id uuid, p_to_state text, p_notes text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.transition_entity(p_instance_id uuid, p_to_state text, p_notes text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.transition_entity(p_instance_id uuid, p_to_state text, p_notes text) TO intime_service;
GRANT ALL ON FUNCTION api.transition_entity(p_instance_id uuid, p_to_state text, p_notes text) TO intime_user;


--
-- Name: FUNCTION unsubscribe_recipient(p_token text, p_confirm boolean); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.unsubscribe_recipient(p_token text, p_confirm boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION api.unsubscribe_recipient(p_token text, p_confirm boolean) TO intime_service;
GRANT ALL ON FUNCTION api.unsubscribe_recipient(p_token text, p_confirm boolean) TO intime_user;


--
-- Name: FUNCTION update_campaign(p_campaign_id uuid, p_changes jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.update_campaign(p_campaign_id uuid, p_changes jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_campaign(p_campaign_id uuid, p_changes jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.update_campaign(p_campaign_id uuid, p_changes jsonb) TO intime_user;


--
-- Name: FUNCTION update_sequence_step(p_step_id uuid, p_changes jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.update_sequence_step(p_step_id uuid, p_changes jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_sequence_step(p_step_id uuid, p_changes jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.update_sequence_step(p_step_id uuid, p_changes jsonb) TO intime_user;


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
-- Name: FUNCTION update_workflow(p_workflow_id uuid, p_changes jsonb); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.update_workflow(p_workflow_id uuid, p_changes jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION api.update_workflow(p_workflow_id uuid, p_changes jsonb) TO intime_service;
GRANT ALL ON FUNCTION api.update_workflow(p_workflow_id uuid, p_changes jsonb) TO intime_user;


--
-- Name: FUNCTION validate_workflow_definition(p_definition jsonb, p_entity_type text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.validate_workflow_definition(p_definition jsonb, p_entity_type text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.validate_workflow_definition(p_definition jsonb, p_entity_type text) TO intime_service;
GRANT ALL ON FUNCTION api.validate_workflow_definition(p_definition jsonb, p_entity_type text) TO intime_user;


--
-- Name: FUNCTION verify_sending_domain(p_org_id uuid, p_domain text); Type: ACL; Schema: api; Owner: intime_owner
--

REVOKE ALL ON FUNCTION api.verify_sending_domain(p_org_id uuid, p_domain text) FROM PUBLIC;
GRANT ALL ON FUNCTION api.verify_sending_domain(p_org_id uuid, p_domain text) TO intime_service;
GRANT ALL ON FUNCTION api.verify_sending_domain(p_org_id uuid, p_domain text) TO intime_user;


--
-- Name: FUNCTION _actor_setting(p_name text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._actor_setting(p_name text) FROM PUBLIC;


--
-- Name: FUNCTION _api_token_is_live(p_org_id uuid, p_token_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._api_token_is_live(p_org_id uuid, p_token_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _apply_changes(p_row anyelement, p_changes jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._apply_changes(p_row anyelement, p_changes jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _assert_changes(p_changes jsonb, p_keys text[], p_not_null text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._assert_changes(p_changes jsonb, p_keys text[], p_not_null text[]) FROM PUBLIC;


--
-- Name: FUNCTION _assert_timezone(p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._assert_timezone(p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_ab_arm_ids(p_variants jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_ab_arm_ids(p_variants jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_ab_notify_winner(p_org_id uuid, p_campaign_id uuid, p_result jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_ab_notify_winner(p_org_id uuid, p_campaign_id uuid, p_result jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_ab_pick_variant(p_enrollment_id uuid, p_variants jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_ab_pick_variant(p_enrollment_id uuid, p_variants jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_assert_ab_settings(p_metric text, p_min_sample integer, p_alpha numeric, p_window interval, p_daily_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_assert_ab_settings(p_metric text, p_min_sample integer, p_alpha numeric, p_window interval, p_daily_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_assert_runnable(p_org_id uuid, p_campaign_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_assert_runnable(p_org_id uuid, p_campaign_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_assert_send_window(p_window_start time without time zone, p_window_end time without time zone, p_send_days text[], p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_assert_send_window(p_window_start time without time zone, p_window_end time without time zone, p_send_days text[], p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_assert_step(p_org_id uuid, p_channel text, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_ab_variants jsonb, p_delays integer[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_assert_step(p_org_id uuid, p_channel text, p_template_id uuid, p_subject text, p_body_html text, p_body_text text, p_task_config jsonb, p_skip_conditions jsonb, p_ab_variants jsonb, p_delays integer[]) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_assert_tokens(p_text text, p_where text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_assert_tokens(p_text text, p_where text) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_condition_fields(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_condition_fields() FROM PUBLIC;


--
-- Name: FUNCTION _campaign_evaluate_ab_test(p_org_id uuid, p_campaign_id uuid, p_step_number integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_evaluate_ab_test(p_org_id uuid, p_campaign_id uuid, p_step_number integer) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_fill(p_template text, p_values text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_fill(p_template text, p_values text[]) FROM PUBLIC;


--
-- Name: TABLE campaigns; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaigns TO intime_service;
GRANT SELECT ON TABLE app.campaigns TO intime_user;


--
-- Name: FUNCTION _campaign_for_change(p_campaign_id uuid, p_lock_enrollments boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_for_change(p_campaign_id uuid, p_lock_enrollments boolean) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_next_send_time(p_ts timestamp with time zone, p_timezone text, p_window_start time without time zone, p_window_end time without time zone, p_send_days text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_next_send_time(p_ts timestamp with time zone, p_timezone text, p_window_start time without time zone, p_window_end time without time zone, p_send_days text[]) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_normal_cdf(p_x double precision); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_normal_cdf(p_x double precision) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_normalize(p_text text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_normalize(p_text text) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_normalize_variants(p_variants jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_normalize_variants(p_variants jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_notify(p_org_id uuid, p_user_id uuid, p_template text, p_variables jsonb, p_campaign_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_notify(p_org_id uuid, p_user_id uuid, p_template text, p_variables jsonb, p_campaign_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_pause_out_of_office(p_org_id uuid, p_send_id uuid, p_inbound_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_pause_out_of_office(p_org_id uuid, p_send_id uuid, p_inbound_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_plan_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_plan_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_record_error(p_now timestamp with time zone, p_org_id uuid, p_id uuid, p_error text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_record_error(p_now timestamp with time zone, p_org_id uuid, p_id uuid, p_error text) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_release_parked(p_org_id uuid, p_campaign_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_release_parked(p_org_id uuid, p_campaign_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_run_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_run_batch(p_now timestamp with time zone, p_org_ids uuid[], p_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_skip_holds(p_conditions jsonb, p_doc jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_skip_holds(p_conditions jsonb, p_doc jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_timezone(p_contact_timezone text, p_campaign_timezone text, p_use_contact boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_timezone(p_contact_timezone text, p_campaign_timezone text, p_use_contact boolean) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_two_proportion_z(p_success_a bigint, p_n_a bigint, p_success_b bigint, p_n_b bigint); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_two_proportion_z(p_success_a bigint, p_n_a bigint, p_success_b bigint, p_n_b bigint) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_values(p_values text[], p_html boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_values(p_values text[], p_html boolean) FROM PUBLIC;


--
-- Name: FUNCTION _campaign_variables(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._campaign_variables() FROM PUBLIC;


--
-- Name: FUNCTION _email_apply_bounce_report(p_org_id uuid, p_send_id uuid, p_message_id text, p_dsn jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_apply_bounce_report(p_org_id uuid, p_send_id uuid, p_message_id text, p_dsn jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _email_apply_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_apply_event(p_org_id uuid, p_send_id uuid, p_event_id text, p_payload jsonb, p_received_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION _email_assert_domain_free(p_org_id uuid, p_domain text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_assert_domain_free(p_org_id uuid, p_domain text) FROM PUBLIC;


--
-- Name: FUNCTION _email_auto_reply_rules(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_auto_reply_rules() FROM PUBLIC;


--
-- Name: FUNCTION _email_classify_auto_reply(p_headers jsonb, p_subject text, p_body text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_classify_auto_reply(p_headers jsonb, p_subject text, p_body text) FROM PUBLIC;


--
-- Name: FUNCTION _email_domain_argument(p_domain text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_domain_argument(p_domain text) FROM PUBLIC;


--
-- Name: FUNCTION _email_domain_owner(p_domain text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_domain_owner(p_domain text) FROM PUBLIC;


--
-- Name: FUNCTION _email_domain_records(p_org_id uuid, p_domain text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_domain_records(p_org_id uuid, p_domain text) FROM PUBLIC;


--
-- Name: FUNCTION _email_domain_refusal(p_org_id uuid, p_domain text, p_provider text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_domain_refusal(p_org_id uuid, p_domain text, p_provider text) FROM PUBLIC;


--
-- Name: TABLE email_sends; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.email_sends TO intime_service;
GRANT SELECT ON TABLE app.email_sends TO intime_user;


--
-- Name: FUNCTION _email_insert_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_insert_send(p_org_id uuid, p_to text, p_subject text, p_html text, p_text text, p_category text, p_template_id uuid, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_send_after timestamp with time zone, p_enrollment_id uuid, p_workflow_action_id uuid, p_notification_id uuid, p_recipient_user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _email_is_domain(p_domain text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_is_domain(p_domain text) FROM PUBLIC;


--
-- Name: FUNCTION _email_is_plain_address(p_address text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_is_plain_address(p_address text) FROM PUBLIC;


--
-- Name: FUNCTION _email_lock_provider_message(p_provider_message_id text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_lock_provider_message(p_provider_message_id text) FROM PUBLIC;


--
-- Name: FUNCTION _email_mark_domain(p_org_id uuid, p_domain text, p_verified boolean, p_error text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_mark_domain(p_org_id uuid, p_domain text, p_verified boolean, p_error text) FROM PUBLIC;


--
-- Name: FUNCTION _email_message_id(p_value text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_message_id(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION _email_require_platform(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_require_platform() FROM PUBLIC;


--
-- Name: FUNCTION _email_status_rank(p_status text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_status_rank(p_status text) FROM PUBLIC;


--
-- Name: FUNCTION _email_suppression_reason(p_org_id uuid, p_email text, p_category text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_suppression_reason(p_org_id uuid, p_email text, p_category text) FROM PUBLIC;


--
-- Name: FUNCTION _email_take_send_token(p_org_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._email_take_send_token(p_org_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _enable_tenant_rls(p_table regclass); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._enable_tenant_rls(p_table regclass) FROM PUBLIC;


--
-- Name: FUNCTION _enqueue_job(p_entrypoint text, p_payload jsonb, p_at timestamp with time zone, p_dedupe_key text, p_skip_duplicate boolean); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._enqueue_job(p_entrypoint text, p_payload jsonb, p_at timestamp with time zone, p_dedupe_key text, p_skip_duplicate boolean) FROM PUBLIC;


--
-- Name: FUNCTION _ensure_trigger(p_table regclass, p_name text, p_body text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ensure_trigger(p_table regclass, p_name text, p_body text) FROM PUBLIC;


--
-- Name: FUNCTION _has_permission(p_permission text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._has_permission(p_permission text) FROM PUBLIC;


--
-- Name: FUNCTION _html_escape(p_text text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._html_escape(p_text text) FROM PUBLIC;


--
-- Name: FUNCTION _is_org_admin(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._is_org_admin() FROM PUBLIC;


--
-- Name: FUNCTION _is_service(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._is_service() FROM PUBLIC;


--
-- Name: FUNCTION _migration_status(p_name text, p_checksum text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._migration_status(p_name text, p_checksum text) FROM PUBLIC;


--
-- Name: FUNCTION _missing_variables(p_declared jsonb, p_vars jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._missing_variables(p_declared jsonb, p_vars jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _notification_assert_channels(p_channels text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_assert_channels(p_channels text[]) FROM PUBLIC;


--
-- Name: FUNCTION _notification_check_sender(p_user_ids uuid[], p_channels text[], p_critical boolean, p_action_url text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_check_sender(p_user_ids uuid[], p_channels text[], p_critical boolean, p_action_url text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_content(p_request app.notification_request); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_content(p_request app.notification_request) FROM PUBLIC;


--
-- Name: FUNCTION _notification_effective_preference(p_org_id uuid, p_user_id uuid, p_category text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_effective_preference(p_org_id uuid, p_user_id uuid, p_category text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_email_deliveries(p_org_id uuid, p_delivery_ids uuid[], p_to text, p_subject text, p_html text, p_text text, p_entity_type text, p_entity_id uuid, p_notification_id uuid, p_recipient_user_id uuid, p_skip text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_email_outcome(p_email_status text, p_error text, p_suppression_reason text, OUT status text, OUT reason text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_email_outcome(p_email_status text, p_error text, p_suppression_reason text, OUT status text, OUT reason text) FROM PUBLIC;


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
-- Name: FUNCTION _notification_mark(p_ids uuid[], p_mark text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_mark(p_ids uuid[], p_mark text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_next_digest_at(p_after timestamp with time zone, p_frequency text, p_time time without time zone, p_day text, p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_plan(p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean, p_now timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION _notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_queue_emails(p_org_id uuid, p_delivery_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION _notification_quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_quiet_hours_end(p_now timestamp with time zone, p_start time without time zone, p_end time without time zone, p_timezone text) FROM PUBLIC;


--
-- Name: FUNCTION _notification_release_held(p_org_id uuid, p_user_id uuid, p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_release_held(p_org_id uuid, p_user_id uuid, p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _notification_send(p_request app.notification_request); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_send(p_request app.notification_request) FROM PUBLIC;


--
-- Name: FUNCTION _notification_send_due_digests(p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_send_due_digests(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _notification_skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._notification_skip_reason(p_row app.notifications, p_user_active boolean, p_suppressed boolean, p_channels jsonb, p_email_unsubscribed boolean, p_channel text, p_now timestamp with time zone, p_stage text) FROM PUBLIC;


--
-- Name: FUNCTION _ops_job_error(p_job_id bigint); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ops_job_error(p_job_id bigint) FROM PUBLIC;


--
-- Name: FUNCTION _ops_reconcile_deliveries(p_limit integer, p_grace interval, p_max_rounds integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ops_reconcile_deliveries(p_limit integer, p_grace interval, p_max_rounds integer) FROM PUBLIC;


--
-- Name: FUNCTION _ops_reconcile_emails(p_limit integer, p_grace interval, p_max_rounds integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ops_reconcile_emails(p_limit integer, p_grace interval, p_max_rounds integer) FROM PUBLIC;


--
-- Name: FUNCTION _ops_reconcile_lock(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ops_reconcile_lock() FROM PUBLIC;


--
-- Name: FUNCTION _ops_revive_held_job(p_job_id bigint, p_at timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._ops_revive_held_job(p_job_id bigint, p_at timestamp with time zone) FROM PUBLIC;


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
-- Name: FUNCTION _require_permission(p_permission text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._require_permission(p_permission text) FROM PUBLIC;


--
-- Name: FUNCTION _require_send_rate(p_kind text, p_sent integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._require_send_rate(p_kind text, p_sent integer) FROM PUBLIC;


--
-- Name: FUNCTION _require_service(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._require_service() FROM PUBLIC;


--
-- Name: FUNCTION _secret_hash(p_secret text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._secret_hash(p_secret text) FROM PUBLIC;


--
-- Name: FUNCTION _tg_approval_field_lock(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_approval_field_lock() FROM PUBLIC;


--
-- Name: FUNCTION _tg_campaign_enrollment_totals(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_campaign_enrollment_totals() FROM PUBLIC;


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
-- Name: FUNCTION _tg_email_send_campaign(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_email_send_campaign() FROM PUBLIC;


--
-- Name: FUNCTION _tg_email_send_delivery_status(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_email_send_delivery_status() FROM PUBLIC;


--
-- Name: FUNCTION _tg_email_send_workflow_action(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_email_send_workflow_action() FROM PUBLIC;


--
-- Name: FUNCTION _tg_email_template_in_campaign(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_email_template_in_campaign() FROM PUBLIC;


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
-- Name: FUNCTION _tg_notification_announce(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_notification_announce() FROM PUBLIC;


--
-- Name: FUNCTION _tg_require_permission(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_require_permission() FROM PUBLIC;


--
-- Name: FUNCTION _tg_stamp_created(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_stamp_created() FROM PUBLIC;


--
-- Name: FUNCTION _tg_suppression_campaign(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_suppression_campaign() FROM PUBLIC;


--
-- Name: FUNCTION _tg_touch(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_touch() FROM PUBLIC;


--
-- Name: FUNCTION _tg_workflow_delete(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_workflow_delete() FROM PUBLIC;


--
-- Name: FUNCTION _tg_workflow_insert(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_workflow_insert() FROM PUBLIC;


--
-- Name: FUNCTION _tg_workflow_update(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._tg_workflow_update() FROM PUBLIC;


--
-- Name: FUNCTION _transaction_stamp(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._transaction_stamp() FROM PUBLIC;


--
-- Name: FUNCTION _url_encode(p_text text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._url_encode(p_text text) FROM PUBLIC;


--
-- Name: FUNCTION _valid_timezone(p_name text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._valid_timezone(p_name text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_action_finished(p_org_id uuid, p_action_id uuid, p_ok boolean, p_result jsonb, p_error text, p_permanent boolean, p_retry_after interval); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_action_finished(p_org_id uuid, p_action_id uuid, p_ok boolean, p_result jsonb, p_error text, p_permanent boolean, p_retry_after interval) FROM PUBLIC;


--
-- Name: FUNCTION _wf_approval_problems(p_step jsonb, p_at text, p_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_approval_problems(p_step jsonb, p_at text, p_columns text[]) FROM PUBLIC;


--
-- Name: TABLE workflow_executions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_executions TO intime_service;
GRANT SELECT ON TABLE app.workflow_executions TO intime_user;


--
-- Name: FUNCTION _wf_approval_subjects(p_exec app.workflow_executions); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_approval_subjects(p_exec app.workflow_executions) FROM PUBLIC;


--
-- Name: FUNCTION _wf_assert_unlocked(p_org_id uuid, p_entity_type text, p_entity_id uuid, p_execution_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_assert_unlocked(p_org_id uuid, p_entity_type text, p_entity_id uuid, p_execution_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_assert_valid(p_entity_type text, p_definition jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_assert_valid(p_entity_type text, p_definition jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_backoff(p_attempt integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_backoff(p_attempt integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_columns(p_table text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_columns(p_table text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_compare(p_a jsonb, p_b jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_compare(p_a jsonb, p_b jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_condition_problems(p_cond jsonb, p_path text, p_columns text[], p_org_columns text[], p_depth integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_condition_problems(p_cond jsonb, p_path text, p_columns text[], p_org_columns text[], p_depth integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_controlled(p_execution_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_controlled(p_execution_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_cron_field_matches(p_field text, p_value integer, p_min integer, p_max integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_cron_field_matches(p_field text, p_value integer, p_min integer, p_max integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_cron_matches(p_expr text, p_local timestamp without time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_cron_matches(p_expr text, p_local timestamp without time zone) FROM PUBLIC;


--
-- Name: FUNCTION _wf_cron_valid(p_expr text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_cron_valid(p_expr text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_decide(p_approval_id uuid, p_decision text, p_notes text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_decide(p_approval_id uuid, p_decision text, p_notes text) FROM PUBLIC;


--
-- Name: TABLE entity_types; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.entity_types TO intime_service;
GRANT SELECT ON TABLE app.entity_types TO intime_user;


--
-- Name: FUNCTION _wf_dispatch(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_dispatch(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_entity_doc(p_org_id uuid, p_entity_type text, p_entity_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_entity_doc(p_org_id uuid, p_entity_type text, p_entity_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_equals(p_a jsonb, p_b jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_equals(p_a jsonb, p_b jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_escalate_due(p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_escalate_due(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_fail_step(p_org_id uuid, p_execution_id uuid, p_step_id uuid, p_error text, p_detail text, p_permanent boolean, p_retry_after interval); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_fail_step(p_org_id uuid, p_execution_id uuid, p_step_id uuid, p_error text, p_detail text, p_permanent boolean, p_retry_after interval) FROM PUBLIC;


--
-- Name: FUNCTION _wf_field_value(p_field text, p_new jsonb, p_old jsonb, p_org jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_field_value(p_field text, p_new jsonb, p_old jsonb, p_org jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_fire_schedules(p_limit integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_fire_schedules(p_limit integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_holds(p_condition jsonb, p_new jsonb, p_old jsonb, p_org jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_holds(p_condition jsonb, p_new jsonb, p_old jsonb, p_org jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_interval(p_value text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_interval(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_is_user_ref(p_ref jsonb, p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_is_user_ref(p_ref jsonb, p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_leaf_holds(p_leaf jsonb, p_new jsonb, p_old jsonb, p_org jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_leaf_holds(p_leaf jsonb, p_new jsonb, p_old jsonb, p_org jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_locked_fields(p_definition jsonb, p_status_field text, p_owner_field text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_locked_fields(p_definition jsonb, p_status_field text, p_owner_field text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_log(p_org_id uuid, p_execution_id uuid, p_level text, p_message text, p_data jsonb, p_step_id uuid, p_action_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_log(p_org_id uuid, p_execution_id uuid, p_level text, p_message text, p_data jsonb, p_step_id uuid, p_action_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_match_rows(p_entity_type text, p_event text, p_new jsonb[], p_old jsonb[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_match_rows(p_entity_type text, p_event text, p_new jsonb[], p_old jsonb[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_move_state(p_org_id uuid, p_instance_id uuid, p_transition_id uuid, p_notes text, p_actor uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_move_state(p_org_id uuid, p_instance_id uuid, p_transition_id uuid, p_notes text, p_actor uuid) FROM PUBLIC;


--
-- Name: TABLE workflow_approvals; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_approvals TO intime_service;
GRANT SELECT ON TABLE app.workflow_approvals TO intime_user;


--
-- Name: FUNCTION _wf_my_approval(p_approval_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_my_approval(p_approval_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_new_webhook_secret(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_new_webhook_secret() FROM PUBLIC;


--
-- Name: FUNCTION _wf_next_index(p_steps jsonb, p_index integer, p_step jsonb, p_result jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_next_index(p_steps jsonb, p_index integer, p_step jsonb, p_result jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_notify(p_org_id uuid, p_user_ids uuid[], p_template text, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_type text, p_action_url text, p_action_label text, p_execution_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_notify(p_org_id uuid, p_user_ids uuid[], p_template text, p_variables jsonb, p_entity_type text, p_entity_id uuid, p_type text, p_action_url text, p_action_label text, p_execution_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_notify_approvers(p_org_id uuid, p_approval_ids uuid[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_notify_approvers(p_org_id uuid, p_approval_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_problems(p_entity_type text, p_definition jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_problems(p_entity_type text, p_definition jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_queue_delivery(p_org_id uuid, p_action_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_queue_delivery(p_org_id uuid, p_action_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_reconcile(p_limit integer, p_grace interval, p_max_rounds integer); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_reconcile(p_limit integer, p_grace interval, p_max_rounds integer) FROM PUBLIC;


--
-- Name: FUNCTION _wf_render_json(p_value jsonb, p_vars jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_render_json(p_value jsonb, p_vars jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_request_approval(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_request_approval(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_resolve_path(p_org_id uuid, p_table text, p_doc jsonb, p_path text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_resolve_path(p_org_id uuid, p_table text, p_doc jsonb, p_path text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_resolve_user(p_org_id uuid, p_ref text, p_doc jsonb, p_owner_field text, p_triggered_by uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_resolve_user(p_org_id uuid, p_ref text, p_doc jsonb, p_owner_field text, p_triggered_by uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_run_context(); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_run_context() FROM PUBLIC;


--
-- Name: FUNCTION _wf_schedule_run(p_org_id uuid, p_execution_id uuid, p_at timestamp with time zone); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_schedule_run(p_org_id uuid, p_execution_id uuid, p_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION _wf_set_field(p_exec app.workflow_executions, p_type app.entity_types, p_field text, p_value jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_set_field(p_exec app.workflow_executions, p_type app.entity_types, p_field text, p_value jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_set_state(p_exec app.workflow_executions, p_step jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_set_state(p_exec app.workflow_executions, p_step jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_settle_approval(p_org_id uuid, p_step_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_settle_approval(p_org_id uuid, p_step_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_start(p_org_ids uuid[], p_workflow_ids uuid[], p_entity_ids uuid[], p_trigger_events jsonb[], p_trigger_type text, p_triggered_by uuid, p_depth integer, p_chain uuid[], p_parent_execution_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_start(p_org_ids uuid[], p_workflow_ids uuid[], p_entity_ids uuid[], p_trigger_events jsonb[], p_trigger_type text, p_triggered_by uuid, p_depth integer, p_chain uuid[], p_parent_execution_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_activity(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_activity(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_assign(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_assign(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_email(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_email(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_escalate(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_escalate(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_notify(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_notify(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_assign(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_assign(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_condition(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_condition(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_escalate(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_escalate(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_send_email(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_send_email(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_send_notification(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_send_notification(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_task(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_task(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_update_field(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_update_field(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_wait(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_wait(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_problems_webhook(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_problems_webhook(p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[], p_user_columns text[]) FROM PUBLIC;


--
-- Name: TABLE workflow_steps; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_steps TO intime_service;
GRANT SELECT ON TABLE app.workflow_steps TO intime_user;


--
-- Name: FUNCTION _wf_step_row(p_exec app.workflow_executions, p_index integer, p_step jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_row(p_exec app.workflow_executions, p_index integer, p_step jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_update_field(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_update_field(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_vars jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_wait(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_wait(p_exec app.workflow_executions, p_step jsonb, p_doc jsonb, p_type app.entity_types) FROM PUBLIC;


--
-- Name: FUNCTION _wf_step_webhook(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_step_webhook(p_exec app.workflow_executions, p_step jsonb, p_step_id uuid, p_doc jsonb, p_vars jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_steps_problems(p_steps jsonb, p_path text, p_entity_type text, p_columns text[], p_org_columns text[]); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_steps_problems(p_steps jsonb, p_path text, p_entity_type text, p_columns text[], p_org_columns text[]) FROM PUBLIC;


--
-- Name: FUNCTION _wf_store_version(p_org_id uuid, p_workflow_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_store_version(p_org_id uuid, p_workflow_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_text(p_template text, p_vars jsonb); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_text(p_template text, p_vars jsonb) FROM PUBLIC;


--
-- Name: FUNCTION _wf_trigger_fires(p_trigger jsonb, p_event text, p_new jsonb, p_old jsonb, p_status_field text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_trigger_fires(p_trigger jsonb, p_event text, p_new jsonb, p_old jsonb, p_status_field text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_try_interval(p_value text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_try_interval(p_value text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_user_columns(p_table text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_user_columns(p_table text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_user_name(p_org_id uuid, p_user_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_user_name(p_org_id uuid, p_user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_vars(p_exec app.workflow_executions, p_doc jsonb, p_workflow_name text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_vars(p_exec app.workflow_executions, p_doc jsonb, p_workflow_name text) FROM PUBLIC;


--
-- Name: FUNCTION _wf_webhook_settings(p_org_id uuid); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_webhook_settings(p_org_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION _wf_withdraw_approval(p_exec app.workflow_executions, p_note text); Type: ACL; Schema: app; Owner: intime_owner
--

REVOKE ALL ON FUNCTION app._wf_withdraw_approval(p_exec app.workflow_executions, p_note text) FROM PUBLIC;


--
-- Name: FUNCTION lo_close(integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_close(integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_creat(integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_creat(integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_create(oid); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_create(oid) FROM PUBLIC;


--
-- Name: FUNCTION lo_from_bytea(oid, bytea); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_from_bytea(oid, bytea) FROM PUBLIC;


--
-- Name: FUNCTION lo_get(oid); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_get(oid) FROM PUBLIC;


--
-- Name: FUNCTION lo_get(oid, bigint, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_get(oid, bigint, integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_lseek(integer, integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_lseek(integer, integer, integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_lseek64(integer, bigint, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_lseek64(integer, bigint, integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_open(oid, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_open(oid, integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_put(oid, bigint, bytea); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_put(oid, bigint, bytea) FROM PUBLIC;


--
-- Name: FUNCTION lo_tell(integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_tell(integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_tell64(integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_tell64(integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_truncate(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_truncate(integer, integer) FROM PUBLIC;


--
-- Name: FUNCTION lo_truncate64(integer, bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_truncate64(integer, bigint) FROM PUBLIC;


--
-- Name: FUNCTION lo_unlink(oid); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lo_unlink(oid) FROM PUBLIC;


--
-- Name: FUNCTION loread(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.loread(integer, integer) FROM PUBLIC;


--
-- Name: FUNCTION lowrite(integer, bytea); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.lowrite(integer, bytea) FROM PUBLIC;


--
-- Name: FUNCTION pg_advisory_lock(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_lock(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_lock(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_lock(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_advisory_lock_shared(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_lock_shared(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_lock_shared(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_advisory_unlock(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_unlock(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_unlock(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_unlock(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_advisory_unlock_all(); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_unlock_all() FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_all() TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_all() TO intime_service;


--
-- Name: FUNCTION pg_advisory_unlock_shared(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_unlock_shared(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_unlock_shared(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_advisory_xact_lock(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_xact_lock(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_advisory_xact_lock_shared(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(bigint) TO intime_service;


--
-- Name: FUNCTION pg_advisory_xact_lock_shared(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_advisory_xact_lock_shared(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_lock(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(bigint) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_lock(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_lock_shared(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(bigint) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_lock_shared(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_lock_shared(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_xact_lock(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_xact_lock(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(integer, integer) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_xact_lock_shared(bigint); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(bigint) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(bigint) TO intime_service;


--
-- Name: FUNCTION pg_try_advisory_xact_lock_shared(integer, integer); Type: ACL; Schema: pg_catalog; Owner: postgres
--

REVOKE ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(integer, integer) FROM PUBLIC;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(integer, integer) TO intime_owner;
GRANT ALL ON FUNCTION pg_catalog.pg_try_advisory_xact_lock_shared(integer, integer) TO intime_service;


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
-- Name: TABLE builtin_notification_settings; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.builtin_notification_settings TO intime_service;
GRANT SELECT ON TABLE app.builtin_notification_settings TO intime_user;


--
-- Name: TABLE campaign_ab_decisions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_ab_decisions TO intime_service;
GRANT SELECT ON TABLE app.campaign_ab_decisions TO intime_user;


--
-- Name: TABLE campaign_daily_sends; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_daily_sends TO intime_service;
GRANT SELECT ON TABLE app.campaign_daily_sends TO intime_user;


--
-- Name: TABLE campaign_enrollments; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_enrollments TO intime_service;
GRANT SELECT ON TABLE app.campaign_enrollments TO intime_user;


--
-- Name: TABLE campaign_sequence_logs; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_sequence_logs TO intime_service;
GRANT SELECT ON TABLE app.campaign_sequence_logs TO intime_user;


--
-- Name: TABLE campaign_sequence_logs_archive; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_sequence_logs_archive TO intime_service;
GRANT SELECT ON TABLE app.campaign_sequence_logs_archive TO intime_user;


--
-- Name: TABLE campaign_sequences; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.campaign_sequences TO intime_service;
GRANT SELECT ON TABLE app.campaign_sequences TO intime_user;


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
-- Name: TABLE permissions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.permissions TO intime_service;
GRANT SELECT ON TABLE app.permissions TO intime_user;


--
-- Name: TABLE placements; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.placements TO intime_service;
GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE app.placements TO intime_user;


--
-- Name: TABLE role_permissions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.role_permissions TO intime_service;
GRANT SELECT ON TABLE app.role_permissions TO intime_user;


--
-- Name: TABLE sending_domains; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.sending_domains TO intime_service;
GRANT SELECT ON TABLE app.sending_domains TO intime_user;


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
-- Name: TABLE suppression_changes; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.suppression_changes TO intime_service;
GRANT SELECT ON TABLE app.suppression_changes TO intime_user;


--
-- Name: TABLE suppressions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.suppressions TO intime_service;
GRANT SELECT ON TABLE app.suppressions TO intime_user;


--
-- Name: TABLE workflow_actions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_actions TO intime_service;
GRANT SELECT ON TABLE app.workflow_actions TO intime_user;


--
-- Name: TABLE workflow_entity_locks; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_entity_locks TO intime_service;
GRANT SELECT ON TABLE app.workflow_entity_locks TO intime_user;


--
-- Name: TABLE workflow_execution_logs; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_execution_logs TO intime_service;
GRANT SELECT ON TABLE app.workflow_execution_logs TO intime_user;


--
-- Name: TABLE workflow_instances; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_instances TO intime_service;
GRANT SELECT ON TABLE app.workflow_instances TO intime_user;


--
-- Name: TABLE workflow_round_robin; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_round_robin TO intime_service;
GRANT SELECT ON TABLE app.workflow_round_robin TO intime_user;


--
-- Name: TABLE workflow_states; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_states TO intime_service;
GRANT SELECT ON TABLE app.workflow_states TO intime_user;


--
-- Name: TABLE workflow_transitions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_transitions TO intime_service;
GRANT SELECT ON TABLE app.workflow_transitions TO intime_user;


--
-- Name: TABLE workflow_versions; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflow_versions TO intime_service;
GRANT SELECT ON TABLE app.workflow_versions TO intime_user;


--
-- Name: TABLE workflows; Type: ACL; Schema: app; Owner: intime_owner
--

GRANT SELECT ON TABLE app.workflows TO intime_service;
GRANT SELECT ON TABLE app.workflows TO intime_user;


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
