-- Who is calling. For the service role (and superusers, who are members of
-- every role) the org and user come from the transaction-local settings
-- that api.set_actor writes, and only in the transaction that wrote them.
-- For everyone else they come from the login map
-- app.login_roles.db_role = session_user, so a GUC such a role sets
-- itself is ignored. SECURITY DEFINER so the mapping is read past RLS.
--
-- On a Citus cluster (docs/scale-out.md) a worker runs its part of a statement
-- in a connection of the coordinator's current role: inside a SECURITY DEFINER
-- function that is intime_owner, not the caller, and set_config values do not
-- travel. There the caller is the pinned actor: api.set_actor and
-- app._require_org write it on the coordinator with SET LOCAL, which Citus
-- sends to the workers, and a keyed hash makes a pin that nobody but the
-- engine (and the service, which may act for any org anyway) can write
-- (app._pinned). A single node never reads a pin.

-- Whether this database runs Citus: only then are pins written and read. Read
-- off the catalog (Citus's shard table), not a setting: anyone may set a
-- setting named citus.version where Citus is not loaded.
create or replace function app._on_citus()
returns boolean
language sql
stable
as $function$
    select pg_catalog.to_regclass('pg_catalog.pg_dist_shard') is not null
$function$;

-- Whether this transaction may NOTIFY. On a Citus node that runs its part of
-- a transaction begun on another node, no: the initiator may commit it in two
-- phases, and PostgreSQL refuses PREPARE TRANSACTION after a NOTIFY, so one
-- wake-up would fail a whole multi-shard statement. Listeners there poll
-- (docs/scale-out.md, "Wake-ups on a cluster"). Elsewhere, and on a single
-- node, yes. Dynamic: Citus's functions exist only on a Citus node.
create or replace function app._may_notify()
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_participant boolean;
begin
    if not app._on_citus() then
        return true;
    end if;
    execute format(
        'select t.transaction_number <> 0 and t.initiator_node_identifier <> l.groupid '
        'from %I() as t cross join %I as l',
        'get_current_transaction_id', 'pg_dist_local_group'
    )
    into v_participant;
    return not coalesce(v_participant, false);
end
$function$;

-- On a Citus node, the name of this node's copy of a reference table (its one
-- shard, on every node), else the table's own name. The context functions read
-- the login map and the key there: they run inside statements that Citus sends
-- to a shard, where a query on a Citus table is refused ("cannot execute a
-- distributed query from a query on a shard"), and a shard is a plain table.
-- Dynamic: Citus's catalog and shard_name() exist only on a Citus node.
create or replace function app._citus_placement(p_table regclass)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_name text;
begin
    -- (format: so that a check on a single node does not look for Citus's catalog.)
    execute format(
        'select shard_name($1, s.shardid) from %I as s where s.logicalrelid = $1', 'pg_dist_shard'
    )
    into v_name
    using p_table;
    -- Not (yet) a reference table, as between CREATE EXTENSION citus and the
    -- migration that distributes (docs/scale-out.md): the table itself.
    return coalesce(v_name, p_table::text);
end
$function$;

-- On a Citus node that holds it, the name of the shard of a tenant table (any
-- table distributed by org_id) that holds p_org_id's rows; else null (a single
-- node, the coordinator, a node without that org). A trigger on a shard may read
-- the shards of its own node (Citus runs such reads locally), not another node's:
-- whether the org's rows are here tells which. Dynamic: Citus's functions exist
-- only on a Citus node.
create or replace function app._citus_local_shard(p_table regclass, p_org_id uuid)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_name text;
begin
    if p_org_id is null or not app._on_citus() then
        return null;
    end if;
    execute format('select shard_name($1, %I($1, $2))', 'get_shard_id_for_distribution_column')
    into v_name
    using p_table, p_org_id;
    -- A shard is a table of this node only where it is placed here.
    if v_name is null or pg_catalog.to_regclass(v_name) is null then
        return null;
    end if;
    return v_name;
end
$function$;

-- The table a trigger fires on, by the name of its logical table: on a Citus node a
-- trigger fires on a shard, whose name is the table's with _<shard id> after it
-- (tg_table_name is then deals_102008). Elsewhere the name as it is.
create or replace function app._citus_logical_name(p_name text)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when app._on_citus() then regexp_replace(p_name, '_[0-9]+$', '')
        else p_name
    end
$function$;

-- The caller's row of the login map (app.login_roles.db_role = session_user, and
-- active): its org and user, else nulls.
create or replace function app._login_actor(out org_id uuid, out user_id uuid)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    if app._on_citus() then
        execute format(
            'select l.org_id, l.user_id from %s as l where l.db_role = $1 and l.is_active',
            app._citus_placement('app.login_roles')
        )
        into org_id, user_id
        using session_user::text;
        return;
    end if;
    select l.org_id, l.user_id into org_id, user_id
    from app.login_roles as l
    where l.db_role = session_user and l.is_active;
end
$function$;

-- A keyed hash of p_body, tagged p_tag ('intime-actor', 'intime-run') so that no other
-- hash of the key stands for it: hex of sha256(k || sha256(k || '<tag>:<body>')), the
-- key app.stream_secret's, read from the node's copy (a trigger on a Citus shard reads
-- it too). Marks what only the engine may write (the actor's pin, a workflow run).
create or replace function app._keyed_mark(p_tag text, p_body text)
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_secret bytea;
begin
    execute format('select k.secret from %s as k', app._citus_placement('app.stream_secret'))
    into v_secret;
    return encode(
        sha256(v_secret || sha256(v_secret || convert_to(p_tag || ':' || p_body, 'UTF8'))),
        'hex'
    );
end
$function$;

-- The pin of an actor: 'v1:<kind>:<org>:<user>:<mac>', kind service or user,
-- the mac a keyed hash (the key is app.stream_secret's, the message tagged
-- 'intime-actor:' so that no other hash of that key can stand for it). Citus only.
create or replace function app._actor_pin(p_kind text, p_org_id uuid, p_user_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_body text := 'v1:' || p_kind || ':' || p_org_id || ':' || coalesce(p_user_id::text, '');
begin
    return v_body || ':' || app._keyed_mark('intime-actor', v_body);
end
$function$;

-- Pin the actor for the workers of a Citus cluster (a no-op elsewhere). Volatile:
-- its SET LOCAL is a statement, which a stable caller may not run itself.
create or replace function app._pin_actor(p_kind text, p_org_id uuid, p_user_id uuid)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_pin text;
begin
    if not app._on_citus() or p_org_id is null then
        return;
    end if;
    v_pin := app._actor_pin(p_kind, p_org_id, p_user_id);
    if pg_catalog.current_setting('intime.pin', true) is distinct from v_pin then
        execute format('set local intime.pin = %L', v_pin);
    end if;
end
$function$;

-- A field (kind, org or user) of the pinned actor, on a Citus worker, when the
-- pin's hash is the engine's and, for a user, the login is still mapped and
-- active; else null. Read in a connection of the owner or the service.
create or replace function app._pinned(p_field text)
returns text
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_pin text := pg_catalog.current_setting('intime.pin', true);
    v_parts text [];
    v_active boolean;
    v_group integer;
begin
    if v_pin is null then
        return null;
    end if;
    -- Only a worker takes a pin: on the coordinator the caller is known, and the
    -- service's settings hold only in the transaction that wrote them.
    execute format('select l.groupid from %I as l', 'pg_dist_local_group') into v_group;
    if v_group = 0
        or v_pin !~ '^v1:(service|user):[0-9a-f-]{36}:([0-9a-f-]{36})?:[0-9a-f]{64}$' then
        return null;
    end if;
    v_parts := string_to_array(v_pin, ':');
    if app._actor_pin(v_parts[2], v_parts[3]::uuid, nullif(v_parts[4], '')::uuid)
        is distinct from v_pin then
        return null;
    end if;
    if v_parts[2] = 'user' then
        execute format(
            'select exists (select 1 from %s as l '
            'where l.org_id = $1 and l.user_id = $2 and l.is_active)',
            app._citus_placement('app.login_roles')
        )
        into v_active
        using v_parts[3]::uuid, v_parts[4]::uuid;
        if not v_active then
            return null;
        end if;
    end if;
    return case p_field
        when 'kind' then v_parts[2]
        when 'org' then v_parts[3]
        when 'user' then nullif(v_parts[4], '')
    end;
end
$function$;

create or replace function app._is_service()
returns boolean
language sql
stable
as $function$
    select
        pg_catalog.pg_has_role(session_user, 'intime_service', 'member')
        or (
            session_user = 'intime_owner' and app._on_citus()
            and app._pinned('kind') = 'service'
        )
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
        -- A Citus worker: the service's pin stands for its settings.
        if app._on_citus() and app._pinned('kind') = 'service' then
            return case p_name
                when 'intime.org_id' then app._pinned('org')
                when 'intime.user_id' then app._pinned('user')
            end;
        end if;
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
declare
    v_org_id uuid;
begin
    if app._is_service() then
        return app._actor_setting('intime.org_id')::uuid;
    end if;
    v_org_id := (app._login_actor()).org_id;
    if v_org_id is null and session_user = 'intime_owner' and app._on_citus() then
        return app._pinned('org')::uuid;
    end if;
    return v_org_id;
end
$function$;

create or replace function app.current_user_id()
returns uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_user_id uuid;
begin
    if app._is_service() then
        return app._actor_setting('intime.user_id')::uuid;
    end if;
    v_user_id := (app._login_actor()).user_id;
    if v_user_id is null and session_user = 'intime_owner' and app._on_citus() then
        return app._pinned('user')::uuid;
    end if;
    return v_user_id;
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

-- The org of an org-first call (an api function's p_org_id): when given, the
-- caller must be the service (IT002), and the transaction acts as that org's
-- service unless its actor is already of that org (another org's is IT005); when
-- null, the actor's org (IT008 without one). On a Citus cluster such a call, made
-- outside a transaction block, runs on the node that holds the org
-- (docs/scale-out.md, "Function delegation").
create or replace function app._act_for_org(p_org_id uuid)
returns uuid
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_current uuid;
begin
    if p_org_id is null then
        return app._require_org();
    end if;
    perform app._require_service();
    v_current := app.current_org_id();
    if v_current is null then
        perform api.set_actor(p_org_id => p_org_id);
    elsif v_current <> p_org_id then
        raise exception using
            errcode = 'IT005',
            message = 'p_org_id is not the org of the actor this transaction set';
    end if;
    return p_org_id;
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
    if app._on_citus() then
        -- A login's actor, for the workers of a Citus cluster (the service's is
        -- pinned by api.set_actor). Tested first: on a single node the user is
        -- not looked up for a pin that is never written.
        if v_org_id is not null and not app._is_service() then
            perform app._pin_actor('user', v_org_id, app.current_user_id());
        end if;
    end if;
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
declare
    -- Variables, not calls, in the filter (see app._has_permission).
    v_org_id uuid := app.current_org_id();
    v_user_id uuid := app.current_user_id();
begin
    if app._is_service() and v_user_id is null then
        return true;
    end if;
    return exists (
        select 1
        from app.user_profiles as u
        where
            u.org_id = v_org_id
            and u.id = v_user_id
            and u.role = 'admin'
            and u.is_active
    );
end
$function$;

-- On a Citus cluster: p_command run on every node (coordinator and workers), each
-- in a transaction of its own there, with the node's group (the high bits of the
-- seqs it draws) and its one-value result as text; a node that failed has a null
-- result. Dynamic: Citus's functions exist only on a Citus node.
create or replace function app._on_every_node(p_command text)
returns table (node_group integer, succeeded boolean, result text)
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $function$
begin
    return query execute format(
        'select n.groupid, r.success, case when r.success then r.result end '
        'from %I($1) as r inner join %I as n on n.nodeid = r.nodeid',
        'run_command_on_all_nodes', 'pg_dist_node'
    )
    using p_command;
end
$function$;
