-- Permissions inside an org (docs/permissions.md, tables in 0014_permissions.sql).

-- Whether the caller holds p_permission in its org. The service role with no
-- user in context (the engine, the platform; the owner and superusers count
-- as it) holds every permission; a SQL login is always mapped to a user. An
-- inactive or unknown user holds none, an admin every one, a manager or
-- member what the org set for its role, else the permission's default. An
-- unknown permission name is IT005 (a typo must not read as "refused").
create or replace function app._has_permission(p_permission text)
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_role text;
    v_default text[];
    v_granted boolean;
    -- Variables, not calls, in the filters: Citus routes a query to one shard by
    -- a value it knows before running it (docs/scale-out.md).
    v_org_id uuid;
    v_user_id uuid;
begin
    select p.default_roles into v_default from app.permissions as p where p.name = p_permission;
    if not found then
        raise exception using
            errcode = 'IT005', message = format('unknown permission %L', p_permission);
    end if;
    v_user_id := app.current_user_id();
    if v_user_id is null then
        return app._is_service();
    end if;
    v_org_id := app.current_org_id();
    select u.role into v_role
    from app.user_profiles as u
    where u.org_id = v_org_id and u.id = v_user_id and u.is_active;
    if v_role is null then
        return false;
    end if;
    if v_role = 'admin' then
        return true;
    end if;
    select r.granted into v_granted
    from app.role_permissions as r
    where r.org_id = v_org_id and r.role = v_role and r.permission = p_permission;
    return coalesce(v_granted, v_role = any(v_default));
end
$function$;

-- IT003 unless the caller holds p_permission.
create or replace function app._require_permission(p_permission text)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if not app._has_permission(p_permission) then
        raise exception using
            errcode = 'IT003',
            message = format('permission %s required', p_permission),
            hint = format(
                'An org admin grants it to a role: select api.set_role_permission(p_role => '
                || '''member'', p_permission => %L, p_granted => true); admins hold every '
                || 'permission.',
                p_permission
            );
    end if;
end
$function$;

-- Statement trigger on a configuration table that clients may write with
-- plain DML: the statement needs the permission named by the trigger's
-- argument, whatever rows it touches (none included), so a refused UPDATE
-- or DELETE is IT003 rather than "0 rows". On a Citus cluster the check is made
-- on the node that holds the caller's org: a statement that reaches only other
-- nodes (aimed at another org's rows by org_id) changes nothing there, and is
-- 0 rows (an INSERT meets row-level security).
create or replace function app._tg_require_permission()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_worker boolean;
begin
    -- On Citus the trigger fires on every shard the statement visits. On a worker
    -- that does not hold the caller's org no row of the caller's can change (RLS),
    -- and reading the permission would be a query on another node, which Citus
    -- refuses inside a trigger on a shard: the node that holds the org checks (there
    -- the reads are local, which a trigger may do).
    if app._on_citus()
        and app._citus_local_shard('app.user_profiles', app.current_org_id()) is null then
        execute format('select l.groupid <> 0 from %I as l', 'pg_dist_local_group')
        into v_worker;
        if v_worker then
            return null;
        end if;
    end if;
    perform app._require_permission(tg_argv[0]);
    return null;
end
$function$;

create or replace function api.set_role_permission(
    p_role text, p_permission text, p_granted boolean
)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    if p_role is null or p_role not in ('manager', 'member') then
        raise exception using
            errcode = 'IT005',
            message = format('role must be manager or member, not %L', p_role),
            hint = 'Admins hold every permission.';
    end if;
    if not exists (select 1 from app.permissions as p where p.name = p_permission) then
        raise exception using
            errcode = 'IT005', message = format('unknown permission %L', p_permission);
    end if;
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may change what a role may do',
            hint = 'Act as a user with role admin.';
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
$function$;

comment on function api.set_role_permission(text, text, boolean) is
$$Org admins. Grants (p_granted true) or withholds (false) a permission from a role of the
caller's org, or puts the role back on the permission's default (null). p_role is manager or
member: admins hold every permission (IT005 otherwise, and for an unknown permission; IT003
for a caller who is not an admin). docs/permissions.md lists the permissions.$$;

create or replace function api.list_role_permissions()
returns table (
    permission text,
    description text,
    admin boolean,
    manager boolean,
    member boolean,
    manager_default boolean,
    member_default boolean
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
$function$;

comment on function api.list_role_permissions() is
$$Every permission with what each role of the caller's org holds (admin always), and the
platform's default for manager and member. Any user of the org may read it.$$;

-- Whether the caller holds a permission (the app shows or hides actions by it).
create or replace function api.get_permission(p_permission text)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._has_permission(p_permission)
$function$;

comment on function api.get_permission(text) is
$$Whether the caller holds the named permission in its org (IT005 for an unknown name).$$;
