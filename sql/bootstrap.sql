-- Bootstrap: re-applied by the migration runner, as the connecting (admin)
-- role, before any numbered migration. Everything here is idempotent.
--
-- Roles are cluster-wide, so they are created only when missing. Numbered
-- migrations and the re-applied function files then run as intime_owner, so
-- that role owns every object (ARCHITECTURE.md section 2).

do $bootstrap$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'intime_owner') then
        create role intime_owner nologin bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'intime_service') then
        create role intime_service login;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'intime_user') then
        create role intime_user nologin;
    end if;
    if not pg_catalog.pg_has_role(current_user, 'intime_owner', 'member') then
        execute format('grant intime_owner to %I', current_user);
    end if;
    execute format(
        'grant connect, create, temporary on database %I to intime_owner',
        current_database()
    );
    execute format(
        'grant connect on database %I to intime_service, intime_user', current_database()
    );
end
$bootstrap$;

create schema if not exists app authorization intime_owner;

create table if not exists app.schema_migrations (
    name text primary key,
    checksum text not null,
    applied_at timestamptz not null default clock_timestamp(),
    applied_by text not null default session_user
);

alter table app.schema_migrations owner to intime_owner;

-- Decide whether a numbered migration must run. A file that was applied with
-- another checksum is refused: applied migrations are immutable.
create or replace function app._migration_status(p_name text, p_checksum text)
returns text
language plpgsql
stable
set search_path = ''
as $function$
declare
    v_applied text;
begin
    select m.checksum into v_applied
    from app.schema_migrations as m
    where m.name = p_name;

    if not found then
        return 'pending';
    end if;
    if v_applied <> p_checksum then
        raise exception using
            errcode = 'IT001',
            message = format('migration %s was changed after it was applied', p_name),
            detail = format('recorded checksum %s, file checksum %s', v_applied, p_checksum),
            hint = 'Applied migrations are immutable: add a new numbered migration instead.';
    end if;
    return 'applied';
end
$function$;

alter function app._migration_status(text, text) owner to intime_owner;
