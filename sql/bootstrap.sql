-- Bootstrap: re-applied by the migration runner, as the connecting (admin)
-- role, before any numbered migration. Everything here is idempotent.
--
-- Roles are cluster-wide, so they are created only when missing. Numbered
-- migrations and the re-applied function files then run as intime_owner, so
-- that role owns every object (docs/architecture.md).

do $bootstrap$
declare
    v_role record;
begin
    -- Roles are cluster-wide and the migration lock is per database, so two
    -- databases migrating at once may race here: the loser ignores the error.
    for v_role in
        select r.name, r.options
        from (values
            ('intime_owner', 'nologin bypassrls'),
            ('intime_service', 'login'),
            ('intime_user', 'nologin')
        ) as r (name, options)
    loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role.name) then
            begin
                execute format('create role %I %s', v_role.name, v_role.options);
            exception when duplicate_object or unique_violation then
                null;
            end;
        end if;
    end loop;
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
    -- Nobody but the owner may create temporary objects: a pg_temp type or
    -- table could otherwise shadow a name inside a SECURITY DEFINER function.
    execute format('revoke temporary on database %I from public', current_database());
end
$bootstrap$;

-- No JIT in this database unless an operator chose otherwise (docs/operations.md,
-- "JIT"). InTime's statements are short OLTP work, but the planner's estimates over
-- transition tables and set-returning functions pass jit_above_cost, and compiling
-- then costs milliseconds per statement (a notification send took seconds). A jit
-- value already set on the database is kept; without the privilege to set it, a
-- warning says so and the migration goes on.
do $jit$
begin
    if not exists (
        select 1 from pg_catalog.pg_db_role_setting as s
        inner join pg_catalog.pg_database as d on d.oid = s.setdatabase
        where
            d.datname = current_database() and s.setrole = 0
            and exists (select 1 from unnest(s.setconfig) as c (v) where c.v like 'jit=%')
    ) then
        execute format('alter database %I set jit = off', current_database());
    end if;
exception when insufficient_privilege then
    raise warning using message = format(
        'jit stays as the server sets it in database %s: only its owner may set it off',
        current_database()
    );
end
$jit$;

-- On a Citus cluster (docs/scale-out.md) a node opens its connections to the others as
-- the current role: the owner (migrations, SECURITY DEFINER functions) must log in there.
-- The cluster's own authentication decides how (a socket, a password in pg_dist_authinfo).
-- SET LOCAL commands are sent along, so that the workers know the actor
-- (sql/functions/core/context.sql).
do $citus$
begin
    if exists (select 1 from pg_catalog.pg_extension where extname = 'citus') then
        alter role intime_owner login;
        -- The actor's pin (SET LOCAL intime.pin) travels to the workers.
        execute format(
            'alter database %I set citus.propagate_set_commands = local', current_database()
        );
    end if;
end
$citus$;

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
set search_path = pg_catalog, pg_temp
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

-- Row-level security for a new tenant table (org_id uuid not null): enabled, forced
-- (the owner too) and the tenant_isolation policy on app.current_org_id(). Numbered
-- migrations from 0013 on call it instead of pasting the block 0002-0009 carry; it is
-- here because migrations run before the re-applied function files. Idempotent.
create or replace function app._enable_tenant_rls(p_table regclass)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- The initplan form on one node; on Citus, whose policies take no subquery, the
    -- plain call (docs/scale-out.md).
    v_org text := case
        when pg_catalog.to_regclass('pg_catalog.pg_dist_shard') is null
            then '(select app.current_org_id())'
        else 'app.current_org_id()'
    end;
begin
    execute format('alter table %s enable row level security', p_table);
    execute format('alter table %s force row level security', p_table);
    if not exists (
        select 1 from pg_catalog.pg_policy as p
        where p.polrelid = p_table and p.polname = 'tenant_isolation'
    ) then
        execute format(
            'create policy tenant_isolation on %s using (org_id = %s) with check (org_id = %s)',
            p_table, v_org, v_org
        );
    end if;
end
$function$;

alter function app._enable_tenant_rls(regclass) owner to intime_owner;

-- A new tenant table on a Citus database (docs/scale-out.md): distributed by org_id,
-- co-located with the others, now, so that the migration's next statement may give it
-- a foreign key to another tenant table (Citus refuses one from a table it has not
-- distributed). Nothing on a single node. A migration that adds a tenant table calls it
-- after CREATE TABLE and before such keys (docs/conventions.md). Idempotent.
create or replace function app._distribute_tenant_table(p_table regclass)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_anchor text;
begin
    if pg_catalog.to_regclass('pg_catalog.pg_dist_shard') is null then
        return;
    end if;
    -- A tenant table already distributed, to be co-located with; none on a cluster's
    -- first migrate, whose distribution step then takes this table with the others.
    execute format(
        'select p.logicalrelid::regclass::text from %I as p where p.partmethod = %L '
        'and p.logicalrelid <> $1 order by p.colocationid, p.logicalrelid limit 1',
        'pg_dist_partition', 'h'
    )
    into v_anchor
    using p_table;
    if v_anchor is null then
        return;
    end if;
    perform set_config('citus.enable_unsafe_triggers', 'on', true);
    execute format(
        'select create_distributed_table(%L, %L, colocate_with => %L) where not exists '
        '(select 1 from %I where logicalrelid = %L::regclass and partmethod = %L)',
        p_table, 'org_id', v_anchor, 'pg_dist_partition', p_table, 'h'
    );
end
$function$;

alter function app._distribute_tenant_table(regclass) owner to intime_owner;
revoke all on function app._distribute_tenant_table(regclass) from public;
revoke all on function app._enable_tenant_rls(regclass) from public;

-- A human SQL login (intime_user) gets no advisory lock functions: holding the
-- engine's keys in an idle session would stall maintenance for every org and
-- `intime db migrate` (IT009). The engine takes its locks as intime_owner
-- (inside its functions) or intime_service. No role of ours gets the large
-- object functions: storage outside row-level security and any quota.
-- Function privileges live in each database's catalog, so this runs per
-- database, as the superuser that bootstrap needs anyway.
do $reach$
declare
    v_function regprocedure;
begin
    for v_function in
        select p.oid::regprocedure
        from pg_catalog.pg_proc as p
        where
            p.pronamespace = 'pg_catalog'::regnamespace
            and (p.proname like 'pg\_advisory\_%' or p.proname like 'pg\_try\_advisory\_%')
        order by 1
    loop
        execute format('revoke execute on function %s from public', v_function);
        execute format(
            'grant execute on function %s to intime_owner, intime_service', v_function
        );
    end loop;
    for v_function in
        select p.oid::regprocedure
        from pg_catalog.pg_proc as p
        where
            p.pronamespace = 'pg_catalog'::regnamespace
            and (p.proname like 'lo\_%' or p.proname in ('loread', 'lowrite'))
        order by 1
    loop
        execute format('revoke execute on function %s from public', v_function);
    end loop;
end
$reach$;
