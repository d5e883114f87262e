-- The login map (app.login_roles, migration 0025), read where the context
-- functions can read it: on a Citus node its own copy (a query on a Citus table
-- is refused inside a statement sent to a shard, docs/scale-out.md).
create or replace function app._login_row(p_org_id uuid, p_user_id uuid)
returns app.login_roles
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row app.login_roles;
begin
    if app._on_citus() then
        execute format(
            'select l.* from %s as l where l.org_id = $1 and l.user_id = $2',
            app._citus_placement('app.login_roles')
        )
        into v_row
        using p_org_id, p_user_id;
        return v_row;
    end if;
    select l.* into v_row from app.login_roles as l where l.org_id = p_org_id and l.user_id = p_user_id;
    return v_row;
end
$function$;

-- AFTER INSERT, UPDATE OF db_role, is_active, DELETE on user_profiles, per row:
-- the login map must say what the row says. api.create_user and api.update_user
-- write the map first; a change past them (a superuser's UPDATE) is refused
-- rather than leave a login acting as a user that is gone or deactivated. A
-- mapped user is deactivated, not deleted, except with its organization (whose
-- delete takes the map's rows along, by its foreign key).
create or replace function app._tg_login_roles_guard()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_map app.login_roles;
begin
    if tg_op = 'DELETE' then
        if old.db_role is not null and (app._login_row(old.org_id, old.id)).db_role is not null then
            raise exception using
                errcode = 'IT005',
                message = format('user %s is mapped to login %s: deactivate it instead', old.id, old.db_role),
                hint = 'api.update_user(p_user_id => .., p_changes => ''{"is_active": false}'')';
        end if;
        return null;
    end if;
    v_map := app._login_row(new.org_id, new.id);
    if (v_map.db_role, v_map.is_active) is distinct from (new.db_role, case when new.db_role is not null then new.is_active end) then
        raise exception using
            errcode = 'IT005',
            message = format('user %s: db_role and is_active change through api.create_user and api.update_user', new.id),
            hint = 'They keep the login map (app.login_roles) beside the user.';
    end if;
    return null;
end
$function$;
