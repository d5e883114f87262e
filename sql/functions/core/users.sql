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
set search_path = ''
as $function$
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
            or pg_catalog.pg_has_role(p_db_role, 'intime_owner', 'member') then
            raise exception using
                errcode = 'IT005',
                message = format(
                    'database role %s must be a member of intime_user and of no privileged role',
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
end
$function$;

comment on function api.create_user(text, text, text, uuid, text, text) is
$$Creates a user in the caller's organization and returns its id. Callers: the service role
with an actor set, or an org admin. p_db_role optionally maps an existing login role (a member
of intime_user, of no privileged role) so that SQL sessions of that role act as this user.
Errors: IT003 not an admin, IT005 invalid input, IT004 unknown manager, IT006 duplicate email
or role.$$;
