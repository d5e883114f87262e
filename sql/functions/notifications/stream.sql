-- The stream hubs' registration (web/hub.py), on the real clock.

create or replace function api.renew_stream_hub(p_hub_id uuid, p_polling_for interval)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

comment on function api.renew_stream_hub(uuid, interval) is
$$Service role only (the web process's stream hub). Records that hub p_hub_id is alive and
reads the notifications table by itself for the next p_polling_for (0 when idle: then
every write wakes it with NOTIFY). While every hub seen in the last 5 seconds is polling,
writes skip their NOTIFY. Hubs not seen for a minute are forgotten.$$;

create or replace function api.remove_stream_hub(p_hub_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    delete from app.stream_hubs as h where h.hub_id = p_hub_id;
end
$function$;

comment on function api.remove_stream_hub(uuid) is
$$Service role only. Forgets hub p_hub_id (a web process shutting down).$$;

-- Stream tickets (0017): a browser's EventSource cannot send a header, and a
-- long-lived API token in a URL ends up in access logs and browser history.
create or replace function api.create_stream_ticket(p_token text)
returns table (ticket text, expires_at timestamptz)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

comment on function api.create_stream_ticket(text) is
$$Service role only. For the API token p_token (IT007 when it is invalid), a stream ticket:
itst_ and 64 hex digits, valid for 60 seconds, once, for /notifications/stream?ticket=. Only
its SHA-256 is stored; at most 10 live unused tickets per token (IT016). The web app's POST
/notifications/stream-ticket calls it.$$;

-- Its result gained token_id (the stream's re-checks, web/rechecks.py): a result type
-- cannot change in place.
drop function if exists api.claim_stream_ticket(text);
create or replace function api.claim_stream_ticket(p_ticket text)
returns table (org_id uuid, user_id uuid, ticket_id uuid, token_id uuid)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_hash bytea;
    v_now timestamptz;
    v_org_id uuid;
    v_id uuid;
    v_token_id uuid;
    v_spent boolean := false;
begin
    perform app._require_service();
    -- Found by its hash, its token checked, then spent by key, once (the update
    -- checks it unused again under the row lock): each in a statement of its own
    -- (on Citus a lookup not by org reaches every shard, where the values must be
    -- known and a helper that reads tables is refused).
    v_hash := app._secret_hash(p_ticket);
    v_now := app.now();
    select t.org_id, t.id, t.token_id into v_org_id, v_id, v_token_id
    from app.stream_tickets as t
    where t.ticket_hash = v_hash and t.used_at is null and t.expires_at > v_now;
    if v_id is not null and app._api_token_is_live(v_org_id, v_token_id) then
        return query
        update app.stream_tickets as t
        set used_at = v_now
        where
            t.org_id = v_org_id and t.id = v_id
            and t.used_at is null and t.expires_at > v_now
        returning t.org_id, t.user_id, t.id, t.token_id;
        v_spent := found;
    end if;
    if not v_spent then
        raise exception using
            errcode = 'IT007', message = 'invalid, used or expired stream ticket';
    end if;
end
$function$;

comment on function api.claim_stream_ticket(text) is
$$Service role only. Spends a stream ticket: its org, user and id, and the API token that
made it, once, within its 60 seconds, while that token is valid and its user active; IT007
otherwise. The stream then lives while the token does (api.check_stream_credentials).$$;

create or replace function api.authenticate_stream_ticket(p_ticket_id uuid)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select exists (
        select 1
        from app.stream_tickets as t
        where
            app._is_service()
            and t.id = p_ticket_id
            and app._api_token_is_live(t.org_id, t.token_id)
    )
$function$;

comment on function api.authenticate_stream_ticket(uuid) is
$$Service role only (false otherwise). Whether a stream opened with the ticket may go on: the
API token that made it is neither revoked nor expired and its user is active. False once the
spent ticket is purged (an hour after it expired): the web app's streams check the ticket's
token instead, many at once (api.check_stream_credentials).$$;

-- Open streams' credentials re-checked many at once (web/rechecks.py): one call
-- for a batch of streams instead of a query each, about 200 a second at 10,000
-- streams. A stream stands on an API token, and on a console session when it
-- was opened with the session cookie.
create or replace function api.check_stream_credentials(
    p_org_ids uuid[], p_token_ids uuid[], p_session_ids uuid[]
)
returns boolean[]
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_live boolean[];
    v_now timestamptz;
    v_session_orgs uuid [];
    v_session_ids uuid [];
    v_session_tokens uuid [];
    v_org_id uuid;
begin
    perform app._require_service();
    if p_org_ids is null or p_token_ids is null or p_session_ids is null
        or cardinality(p_token_ids) <> cardinality(p_org_ids)
        or cardinality(p_session_ids) <> cardinality(p_org_ids)
        or cardinality(p_org_ids) > 1000
        or array_position(p_org_ids, null) is not null
        or array_position(p_token_ids, null) is not null then
        raise exception using
            errcode = 'IT005',
            message = 'p_org_ids, p_token_ids and p_session_ids must be arrays of one length '
            || '(at most 1,000), the first two without nulls';
    end if;

    v_now := app.now();
    -- The sessions that hold, read by key (a join on the arrays, no correlated probe:
    -- on Citus a subquery beside unnest is not planned), then each stream decided on
    -- arrays alone.
    select array_agg(s.org_id), array_agg(s.id), array_agg(s.token_id)
    into v_session_orgs, v_session_ids, v_session_tokens
    from app.web_sessions as s
    inner join unnest(p_org_ids, p_token_ids, p_session_ids) as c (org_id, token_id, session_id)
        on s.org_id = c.org_id and s.id = c.session_id
    where s.token_id = c.token_id and s.ended_at is null and s.expires_at > v_now;
    select coalesce(array_agg(
        app._api_token_is_live(c.org_id, c.token_id)
        and (
            c.session_id is null
            -- The session with the stream's own token (the same session named with
            -- another token does not hold).
            or (c.org_id, c.session_id, c.token_id) in (
                select * from unnest(v_session_orgs, v_session_ids, v_session_tokens)
            )
        )
        order by c.n
    ), '{}')
    into v_live
    from unnest(p_org_ids, p_token_ids, p_session_ids) with ordinality as c (org_id, token_id, session_id, n);

    -- An open stream is a use of its token and session, recorded at most once a
    -- minute as api.authenticate_token and api.authenticate_web_session do: a token
    -- that only feeds a stream does not look unused. Rows another transaction holds
    -- are skipped, never waited for: the call answers for up to 1,000 streams of
    -- every org, and one login's open transaction on its own token must not hold
    -- them all (nor two web processes' calls deadlock on rows in opposite orders).
    -- On Citus a row lock holds one org's rows: one org at a time, in key order.
    for v_org_id in
        select distinct c.org_id from unnest(p_org_ids, v_live) as c (org_id, live)
        where c.live and app._on_citus()
        union all
        select null::uuid where not app._on_citus()
        order by 1
    loop
        update app.api_tokens as t
        set last_used_at = v_now
        from (
            select k.org_id, k.id
            from app.api_tokens as k
            inner join unnest(p_org_ids, p_token_ids, v_live) as c (org_id, token_id, live)
                on k.org_id = c.org_id and k.id = c.token_id
            where
                c.live and (k.last_used_at is null or k.last_used_at < v_now - interval '1 minute')
                and (v_org_id is null or k.org_id = v_org_id)
            for no key update of k skip locked
        ) as u
        where t.org_id = u.org_id and t.id = u.id and (v_org_id is null or t.org_id = v_org_id);
        update app.web_sessions as s
        set last_seen_at = v_now
        from (
            select w.org_id, w.id
            from app.web_sessions as w
            inner join unnest(p_org_ids, p_session_ids, v_live) as c (org_id, session_id, live)
                on w.org_id = c.org_id and w.id = c.session_id
            where
                c.live and (w.last_seen_at is null or w.last_seen_at < v_now - interval '1 minute')
                and (v_org_id is null or w.org_id = v_org_id)
            for no key update of w skip locked
        ) as u
        where s.org_id = u.org_id and s.id = u.id and (v_org_id is null or s.org_id = v_org_id);
    end loop;
    return v_live;
end
$function$;

comment on function api.check_stream_credentials(uuid[], uuid[], uuid[]) is
$$Service role only. Whether each open notification stream may go on, for many streams in
one call (at most 1,000; IT005 for arrays of different lengths or a null org or token): the
stream's API token (p_token_ids, in org p_org_ids) is neither revoked nor expired and its
user is active, and its console session (p_session_ids; null for a stream opened with a
token or a ticket) is neither ended nor expired. Records the token's last use and the
session's last sight at most once a minute, as signing in with them does, except on rows
another transaction holds: it never waits for a lock.$$;
