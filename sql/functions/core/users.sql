create or replace function api.create_user(
    p_email text,
    p_full_name text,
    p_role text default 'member',
    p_manager_id uuid default null,
    p_timezone text default 'UTC',
    p_db_role text default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid;
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin or the service role may create users',
            hint = 'Act as an admin of the organization (a user with role admin).';
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
    perform app._assert_time_zone(p_timezone, 'the user');
    if p_manager_id is not null and not exists (
        select 1 from app.user_profiles as u where u.org_id = v_org_id and u.id = p_manager_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('manager %s not found', p_manager_id);
    end if;
    if exists (
        select 1 from app.user_profiles as u
        where u.org_id = v_org_id and lower(u.email) = lower(p_email)
    ) then
        raise exception using
            errcode = 'IT006', message = format('a user with email %s exists', p_email);
    end if;
    if p_db_role is not null then
        if not exists (select 1 from pg_catalog.pg_roles as r where r.rolname = p_db_role) then
            raise exception using
                errcode = 'IT005', message = format('database role %s does not exist', p_db_role);
        end if;
        if not pg_catalog.pg_has_role(p_db_role, 'intime_user', 'member')
            or pg_catalog.pg_has_role(p_db_role, 'intime_service', 'member')
            or pg_catalog.pg_has_role(p_db_role, 'intime_owner', 'member')
            or exists (
                select 1
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
        if exists (select 1 from app.login_roles as l where l.db_role = p_db_role) then
            raise exception using
                errcode = 'IT006',
                message = format('database role %s is already mapped to a user', p_db_role);
        end if;
    end if;

    v_user_id := gen_random_uuid();
    -- The login map first: user_profiles' trigger checks that it agrees (migration 0025).
    if p_db_role is not null then
        insert into app.login_roles (org_id, user_id, db_role, is_active)
        values (v_org_id, v_user_id, p_db_role, true);
    end if;
    insert into app.user_profiles (
        org_id, id, email, full_name, role, manager_id, timezone, db_role
    )
    values (
        v_org_id, v_user_id, p_email, btrim(p_full_name), p_role, p_manager_id, p_timezone,
        p_db_role
    );
    return v_user_id;
exception
    when unique_violation then
        -- A concurrent create_user took the email or the login first.
        raise exception using
            errcode = 'IT006',
            message = format('a user with email %s or database role %s exists', p_email, p_db_role);
end
$function$;

comment on function api.create_user(text, text, text, uuid, text, text) is
$$Creates a user in the caller's organization and returns its id. Callers: the service role
with an actor set, or an org admin. p_db_role optionally maps an existing login role (a member
of intime_user, of no privileged role) so that SQL sessions of that role act as this user.
Errors: IT003 not an admin, IT005 invalid input, IT004 unknown manager, IT006 duplicate email
or role.$$;

create or replace function api.update_user(p_user_id uuid, p_changes jsonb)
returns app.user_profiles
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
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
            message = 'members may change only their own name, time zone and availability',
            hint = 'An org admin changes role, manager, email, is_active and other users.';
    end if;

    -- Types first, with the field named in the error.
    if p_changes ? 'full_name' and (
        jsonb_typeof(p_changes -> 'full_name') is distinct from 'string'
        or length(btrim(p_changes ->> 'full_name')) = 0
    ) then
        raise exception using errcode = 'IT005', message = 'full_name must be a non-empty string';
    end if;
    if p_changes ? 'timezone' then
        perform app._assert_time_zone(p_changes ->> 'timezone', 'the user');
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
        raise exception using
            errcode = 'IT004', message = format('user %s not found', p_user_id),
            hint = 'Ids are looked up in the caller''s organization only (api.get_actor).';
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
            and not exists (select 1 from chain where chain.id = p_user_id)
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('manager %s is unknown or would make a reporting loop', v_manager_id);
    end if;

    if p_changes ? 'is_active' then
        -- The login map first (migration 0025).
        update app.login_roles as l
        set is_active = (p_changes ->> 'is_active')::boolean
        where l.org_id = v_org_id and l.user_id = p_user_id;
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
            select 1 from app.user_profiles as u
            where u.org_id = v_org_id and u.role = 'admin' and u.is_active
        ) then
        raise exception using
            errcode = 'IT005', message = 'the organization must keep at least one active admin';
    end if;
    return v_user;
end
$function$;

comment on function api.update_user(uuid, jsonb) is
$$Changes a user of the caller's org. p_changes is a JSON object of the fields to change (a JSON
null clears a nullable one): full_name, timezone, available and out_of_office_until, which
users may change on themselves; role, manager_id and is_active, which only an org admin (or
the service role acting as the system) may change. A manager must be in the org and must not
create a reporting loop, and the last active admin cannot be demoted or deactivated; such
structure changes are serialized per org. db_role is not changeable here. Errors: IT003,
IT004, IT005. Returns the updated profile.$$;
