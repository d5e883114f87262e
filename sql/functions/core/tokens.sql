-- What is stored of a secret (an API token, a stream ticket): its SHA-256. Null
-- reads as the empty string, which matches nothing.
create or replace function app._secret_hash(p_secret text)
returns bytea
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select sha256(convert_to(coalesce(p_secret, ''), 'UTF8'))
$function$;

-- Whether API token p_token_id of org p_org_id still authorizes: not revoked, not
-- expired, its user active. A stream opened with a ticket lives as long as this holds
-- for the token that made the ticket.
create or replace function app._api_token_is_live(p_org_id uuid, p_token_id uuid)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select exists (
        select 1
        from app.api_tokens as k
        inner join app.user_profiles as u on u.org_id = k.org_id and u.id = k.user_id
        where
            k.org_id = p_org_id and k.id = p_token_id
            and k.revoked_at is null
            and (k.expires_at is null or k.expires_at > app.now())
            and u.is_active
    )
$function$;

create or replace function api.create_api_token(
    p_name text,
    p_user_id uuid default null,
    p_expires_at timestamptz default null
)
returns table (token_id uuid, token text)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
            errcode = 'IT003', message = 'only an org admin may create tokens for another user',
            hint = 'Leave p_user_id out to create a token for yourself.';
    end if;
    if not exists (
        select 1 from app.user_profiles as u
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
$function$;

comment on function api.create_api_token(text, uuid, timestamptz) is
$$Creates an API token for a user of the caller's org (default: the caller) and returns its id
and clear text. The clear text is shown only here: the table keeps its SHA-256 hash and a
12-character prefix. Only an org admin or the service role may create tokens for another
user (IT003).$$;

create or replace function api.revoke_api_token(p_token_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_owner uuid;
begin
    select t.user_id into v_owner
    from app.api_tokens as t
    where t.org_id = v_org_id and t.id = p_token_id;

    if not found then
        raise exception using
            errcode = 'IT004', message = format('token %s not found', p_token_id),
            hint = 'Ids are looked up in the caller''s organization only (api.get_actor).';
    end if;
    if v_owner is distinct from app.current_user_id() and not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only the owner or an org admin may revoke a token',
            hint = 'Ask an admin of the organization to revoke it.';
    end if;

    update app.api_tokens as t
    set revoked_at = app.now()
    where t.org_id = v_org_id and t.id = p_token_id and t.revoked_at is null;
    return found;
end
$function$;

comment on function api.revoke_api_token(uuid) is
$$Revokes a token of the caller's org. Returns true when this call revoked it, false when it
was already revoked. Its owner, an org admin or the service role may revoke it.$$;

create or replace function api.authenticate_token(p_token text)
returns table (org_id uuid, user_id uuid, token_id uuid)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

comment on function api.authenticate_token(text) is
$$Service role only. Resolves a clear-text API token to its org, user and token id, or raises
IT007 when it is unknown, revoked, expired or its user is inactive. Records last use at most
once a minute. The web app calls it for bearer tokens, then api.set_actor.$$;

create or replace function api.list_api_tokens(p_user_id uuid default null)
returns table (
    token_id uuid,
    user_id uuid,
    user_email text,
    name text,
    token_prefix text,
    created_at timestamptz,
    last_used_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_admin boolean := app._is_org_admin();
    v_caller uuid := app.current_user_id();
begin
    if not v_admin and p_user_id is distinct from null and p_user_id is distinct from v_caller then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may list another user''s tokens';
    end if;
    return query
    select t.id, t.user_id, u.email::text, t.name, t.token_prefix, t.created_at,
        t.last_used_at, t.expires_at, t.revoked_at
    from app.api_tokens as t
    inner join app.user_profiles as u on u.org_id = t.org_id and u.id = t.user_id
    where
        t.org_id = v_org_id
        and (v_admin or t.user_id = v_caller)
        and (p_user_id is null or t.user_id = p_user_id)
    order by t.created_at desc, t.id desc;
end
$function$;

comment on function api.list_api_tokens(uuid) is
$$The API tokens of the caller's org without their secrets (the clear text is shown only
once, by api.create_api_token): id, user, name, the 12-character prefix, when it was made,
last used (to the minute), expires and was revoked. A member sees their own tokens (another
user's p_user_id: IT003); an org admin or the service role sees every user's, p_user_id
filters.$$;
