-- The worker's side of sending: claim a send (suppression checked again, the
-- org's rate limit applied), then report the outcome.

-- Take one token from the org's bucket (capacity and refill per minute from
-- email_settings). Returns 0 when a token was taken, else the seconds until
-- one is due. Real clock: a rate limit is about real time, fake clock or not.
create or replace function app._email_take_send_token(p_org_id uuid)
returns double precision
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

create or replace function api.claim_email_send(p_email_send_id uuid, p_org_id uuid default null)
returns table (
    action text,
    retry_after_seconds double precision,
    email_send_id uuid,
    to_email text,
    from_email text,
    from_name text,
    reply_to text,
    subject text,
    html_body text,
    text_body text,
    category text,
    message_id text,
    unsubscribe_token text,
    provider text,
    attempts integer,
    return_path text
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_lease_until timestamptz;
    v_org_id uuid := app._act_for_org(p_org_id);
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
            null::text, null::text, v_send.attempts, null::text;
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
            null::text, null::text, null::text, null::text, null::text, v_send.attempts,
            null::text;
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
                null::text, null::text, null::text, null::text, v_send.attempts, null::text;
            return;
        end if;
        if v_campaign_gate = 'stop' then
            update app.email_sends as s
            set status = 'suppressed', suppression_reason = 'enrollment_stopped',
                updated_at = app.now()
            where s.org_id = v_org_id and s.id = v_send.id;
            return query select 'suppressed', 0::double precision, v_send.id, null::text,
                null::text, null::text, null::text, null::text, null::text, null::text,
                null::text, null::text, null::text, null::text, v_send.attempts, null::text;
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
            null::text, null::text, v_send.attempts, null::text;
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
            null::text, null::text, v_send.attempts, null::text;
        return;
    end if;

    v_wait := app._email_take_send_token(v_org_id);
    if v_wait > 0 then
        return query select 'defer', v_wait, v_send.id, null::text, null::text, null::text,
            null::text, null::text, null::text, null::text, null::text, null::text, null::text,
            null::text, v_send.attempts, null::text;
        return;
    end if;

    -- 'sending' again means an earlier attempt died mid-send and its lease
    -- ran out: send again with the same Message-ID and idempotency key.
    -- The lease's end first: Citus takes no volatile call (clock_timestamp) and
    -- no subquery in an UPDATE's SET (docs/scale-out.md, "SQL shapes").
    select pg_catalog.clock_timestamp() + make_interval(secs => t.email_send_lease_seconds)
    into v_lease_until
    from app.settings as t;
    update app.email_sends as s
    set
        status = 'sending', attempts = s.attempts + 1, updated_at = app.now(),
        sending_until = v_lease_until
    where s.org_id = v_org_id and s.id = v_send.id
    returning s.* into v_send;
    return query select 'send', 0::double precision, v_send.id, v_send.to_email,
        v_send.from_email, v_send.from_name, v_send.reply_to, v_send.subject, v_send.html_body,
        v_send.text_body, v_send.category, v_send.message_id, v_send.unsubscribe_token,
        v_send.provider, v_send.attempts,
        -- VERP (docs/email.md, "Bounces"): the envelope sender names the send, on
        -- the reply domain, so a bounce report that comes back to it names the send.
        format('bounce+%s@%s', v_send.reply_token, lower(split_part(v_send.reply_to, '@', 2)));
end
$function$;

comment on function api.claim_email_send(uuid, uuid) is
$$Service role only, with the send's org as actor or as p_org_id (an org-first call, which a
Citus cluster runs on the org's node): the email.send job's first step. Returns
action 'send' with what to send (status becomes sending, attempts + 1, and the send is leased
to this worker for app.settings.email_send_lease_seconds of real time, default 120), 'defer'
with retry_after_seconds = the lease left when another claim's lease has not run out (that
worker may still record the outcome; nothing changes), 'send' again once the lease ran out
(a worker that died mid-send: same Message-ID and idempotency key), 'suppressed' when the
recipient was suppressed since queueing, or the campaign enrollment the email belongs to has
stopped (status becomes suppressed, reason enrollment_stopped), 'defer' with
retry_after_seconds when the org's per-minute limit has no token left or the email's campaign
is paused (nothing changes; never dropped), 'failed' when the From address's domain is not
a sending domain the org verified (claimed, for the outbox): the send ends failed with the
reason and nothing is sent, or 'done' when the send is already past sending (a duplicate
job). With 'send', return_path is the envelope sender (SMTP MAIL FROM, Return-Path) to use:
bounce+<reply token>@<reply domain> (VERP), so a bounce report names its send; null
otherwise.$$;

create or replace function api.fail_email_send(
    p_email_send_id uuid,
    p_error text,
    p_permanent boolean,
    p_org_id uuid default null
)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._act_for_org(p_org_id);
    v_status text;
    v_stamp timestamptz;
begin
    perform app._require_service();
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.email_sends as s
    set
        status = case when p_permanent then 'failed' else 'queued' end,
        failed_at = case when p_permanent then v_stamp else s.failed_at end,
        error = left(p_error, 2000),
        updated_at = v_stamp
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
$function$;

comment on function api.fail_email_send(uuid, text, boolean, uuid) is
$$Service role only, with the send's org as actor or as p_org_id (an org-first call).
Records a failed attempt: permanent
(a 4xx from the provider, a 5xx SMTP reply) ends the send as failed with the error;
transient (429, 5xx, 4xx SMTP, a timeout) puts it back to queued for the job's retry.
Returns the resulting status; a send already past sending is left as it is.$$;
