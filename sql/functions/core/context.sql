-- Who is calling. For the service role (and superusers, who are members of
-- every role) the org and user come from the transaction-local settings
-- that api.set_actor writes, and only in the transaction that wrote them.
-- For everyone else they come from the mapping
-- app.user_profiles.db_role = session_user, so a GUC such a role sets
-- itself is ignored. SECURITY DEFINER so the mapping is read past RLS.

create or replace function app._is_service()
returns boolean
language sql
stable
as $function$
    select pg_catalog.pg_has_role(session_user, 'intime_service', 'member')
$function$;

-- The epoch of the current transaction's start: api.set_actor stamps it next
-- to the actor, and an actor whose stamp differs (a session-level SET, or a
-- setting left from an earlier transaction) is ignored. Deliberately the real
-- transaction clock, not app.now(): it identifies a transaction, not a time.
create or replace function app._transaction_stamp()
returns text
language sql
stable
as $function$
    select extract(epoch from pg_catalog.transaction_timestamp())::text
$function$;

-- An actor setting written by api.set_actor in this transaction, else null.
create or replace function app._actor_setting(p_name text)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if pg_catalog.current_setting('intime.actor_stamp', true)
        is distinct from app._transaction_stamp() then
        return null;
    end if;
    return nullif(pg_catalog.current_setting(p_name, true), '');
end
$function$;

create or replace function app.current_org_id()
returns uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

create or replace function app.current_user_id()
returns uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

-- Raise IT002 unless the caller is the service role.
create or replace function app._require_service()
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if not app._is_service() then
        raise exception using
            errcode = 'IT002',
            message = 'this function is for the intime_service role only',
            hint = 'The web app and the worker connect as intime_service; a person calls the '
            || 'api functions as a SQL login mapped to a user, or through a token.';
    end if;
end
$function$;

-- The caller's org, or IT008 when there is none.
create or replace function app._require_org()
returns uuid
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app.current_org_id();
begin
    if v_org_id is null then
        raise exception using
            errcode = 'IT008',
            message = 'no organization in context',
            hint = 'As intime_service, call select api.set_actor(p_org_id => ''<org id>'', '
            || 'p_user_id => ''<user id>'') in the same transaction; a SQL login acts once '
            || 'it is mapped to a user (api.create_user(p_db_role => ..) or '
            || 'intime user create --db-role).';
    end if;
    return v_org_id;
end
$function$;

-- True when the caller may administer the org: the service role acting as
-- the system (no user set), or a user whose profile role is admin. When the
-- service acts for a user, that user's role decides.
create or replace function app._is_org_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;
