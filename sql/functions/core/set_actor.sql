create or replace function api.set_actor(p_org_id uuid, p_user_id uuid default null)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    if p_org_id is null then
        raise exception using errcode = 'IT005', message = 'p_org_id must not be null';
    end if;
    if not exists (select 1 from app.organizations as o where o.id = p_org_id) then
        raise exception using
            errcode = 'IT004', message = format('organization %s not found', p_org_id),
            hint = 'select id, slug from app.organizations lists them.';
    end if;
    if p_user_id is not null and not exists (
        select 1
        from app.user_profiles as u
        where u.org_id = p_org_id and u.id = p_user_id and u.is_active
    ) then
        raise exception using
            errcode = 'IT004',
            message = format('user %s not found in organization %s', p_user_id, p_org_id),
            hint = 'A user acts only in its own organization: select id, email from '
            || 'app.user_profiles where org_id = .. lists them.';
    end if;
    -- One statement for the three (every api call of the service starts here).
    perform
        pg_catalog.set_config('intime.actor_stamp', app._transaction_stamp(), true),
        pg_catalog.set_config('intime.org_id', p_org_id::text, true),
        pg_catalog.set_config('intime.user_id', coalesce(p_user_id::text, ''), true);
    -- The same actor for the workers of a Citus cluster (a no-op elsewhere).
    perform app._pin_actor('service', p_org_id, p_user_id);
end
$function$;

comment on function api.set_actor(uuid, uuid) is
$$Service role only. Sets the organization (and optionally the user) that the rest of the
current transaction acts for. The setting is transaction-local, so a pooled connection never
carries it into the next transaction. Raises IT002 for other roles and IT004 for an unknown
org or a user outside it.$$;

create or replace function api.get_actor()
returns table (org_id uuid, user_id uuid, email text, full_name text, role text, via text)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

comment on function api.get_actor() is
$$The caller's organization and user as InTime sees them, and how they were resolved:
'service' (api.set_actor) or 'db_role' (app.login_roles.db_role = session_user).$$;
