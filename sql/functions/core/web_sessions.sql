-- Console sign-in sessions (0022, docs/console.md "Sessions and approval links"): an API
-- token is exchanged for a random server-side secret that the browser keeps in an
-- HttpOnly cookie. Only the secret's SHA-256 is stored; a session lives 12 hours, until
-- it is ended, or until its token stops authorizing (revoked, expired, user deactivated).

create or replace function api.create_web_session(p_token text)
returns table (session text, csrf_token text, expires_at timestamptz)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_auth record;
    -- 244 random bits from two v4 UUIDs (pg_strong_random underneath), as api tokens.
    v_session text := 'itws_' || replace(gen_random_uuid()::text, '-', '')
        || replace(gen_random_uuid()::text, '-', '');
    v_csrf text := replace(gen_random_uuid()::text, '-', '')
        || replace(gen_random_uuid()::text, '-', '');
    v_expires timestamptz := app.now() + interval '12 hours';
begin
    perform app._require_service();
    select a.* into v_auth from api.authenticate_token(p_token => p_token) as a;
    insert into app.web_sessions (
        org_id, user_id, token_id, secret_hash, csrf_token, expires_at, last_seen_at
    )
    values (
        v_auth.org_id, v_auth.user_id, v_auth.token_id,
        app._secret_hash(v_session), v_csrf, v_expires, app.now()
    );
    -- Ended and expired sessions go as new ones are made.
    delete from app.web_sessions as s
    where s.expires_at < app.now() - interval '1 day' or s.ended_at < app.now() - interval '1 day';
    return query select v_session, v_csrf, v_expires;
end
$function$;

comment on function api.create_web_session(text) is
$$Service role only. Signs in to the console with the API token p_token (IT007 when it is
invalid, revoked or expired): a session secret (itws_ and 64 hex digits, for the cookie), the
session's CSRF token and when it expires (12 hours). Only the secret's SHA-256 is stored.$$;

create or replace function api.authenticate_web_session(p_session text)
returns table (
    org_id uuid, user_id uuid, token_id uuid, session_id uuid, csrf_token text
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_session app.web_sessions%rowtype;
    v_hash bytea;
    v_now timestamptz;
begin
    perform app._require_service();
    -- Lookup by hash: a timing difference can only reveal bits of a SHA-256 digest.
    -- The hash and the clock read first, the token's liveness checked after, in
    -- statements of their own (on Citus a lookup not by org reaches every shard, where
    -- the values must be known and a helper that reads tables is refused).
    v_hash := app._secret_hash(p_session);
    v_now := app.now();
    select s.* into v_session
    from app.web_sessions as s
    where
        s.secret_hash = v_hash
        and s.ended_at is null
        and s.expires_at > v_now;

    if v_session.id is null or not app._api_token_is_live(v_session.org_id, v_session.token_id) then
        raise exception using
            errcode = 'IT007', message = 'invalid, ended or expired console session';
    end if;

    if v_session.last_seen_at is null
        or v_session.last_seen_at < app.now() - interval '1 minute' then
        update app.web_sessions as s
        set last_seen_at = app.now()
        where s.org_id = v_session.org_id and s.id = v_session.id;
    end if;

    return query select
        v_session.org_id, v_session.user_id, v_session.token_id, v_session.id,
        v_session.csrf_token;
end
$function$;

comment on function api.authenticate_web_session(text) is
$$Service role only. Resolves a console session secret to its org, user, API token, session id
and CSRF token, or raises IT007 when it is unknown, ended, expired, or its API token no longer
authorizes (revoked, expired, user deactivated). Records the session's last use at most once a
minute.$$;

create or replace function api.end_web_session(p_session text)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    update app.web_sessions as s
    set ended_at = app.now()
    where s.secret_hash = app._secret_hash(p_session) and s.ended_at is null;
    return found;
end
$function$;

comment on function api.end_web_session(text) is
$$Service role only. Signs out: ends the console session whose secret is p_session. Returns
true when this call ended it, false when it was unknown or already ended.$$;
