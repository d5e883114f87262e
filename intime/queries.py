"""Every SQL statement of the shared package, in one place.

Parameters are named (``%(name)s``) and ``api`` functions are called with named
arguments. Identifiers that vary (tables in the probe) are composed with
``psycopg.sql`` where they are used, never formatted into these strings.
"""

from __future__ import annotations

# -- context (db.py) ------------------------------------------------------------
SET_ACTOR = "select api.set_actor(p_org_id => %(org_id)s, p_user_id => %(user_id)s)"

# -- migrations (migrate.py) ----------------------------------------------------
TRY_ADVISORY_LOCK = "select pg_try_advisory_lock(%(key)s)"
# Who holds our advisory lock (a bigint key below 2^32 is classid 0, objid key).
ADVISORY_LOCK_HOLDER = """
select a.pid, a.usename, a.application_name
from pg_catalog.pg_locks as l
join pg_catalog.pg_stat_activity as a on a.pid = l.pid
where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = %(key)s
  and l.database = (select oid from pg_catalog.pg_database where datname = current_database())
limit 1
"""
ADVISORY_UNLOCK = "select pg_advisory_unlock(%(key)s)"
MIGRATION_STATUS = "select app._migration_status(%(name)s, %(checksum)s)"
SET_OWNER_ROLE = "set local role intime_owner"
SET_SESSION_OWNER_ROLE = "set role intime_owner"
RESET_ROLE = "reset role"
CITUS_UNSAFE_TRIGGERS = "set local citus.enable_unsafe_triggers = on"
# Function files are applied with bodies unchecked (a SQL function may call one
# that a later file defines), then every SQL and PL/pgSQL routine of app and api
# is validated with the checks back on: the language's own validator, as CREATE
# FUNCTION would have run it, under the search path the routines pin.
CHECK_BODIES_OFF = "set local check_function_bodies = off"
CHECK_BODIES_ON = "set local check_function_bodies = on"
# The path every app/api routine pins (tests/sql/core/test_definer_safety.py): a body
# is validated against it, not against the migrating session's path.
PINNED_SEARCH_PATH = "set local search_path = pg_catalog, pg_temp"
VALIDATE_ROUTINES = """
select
    count(
        case l.lanname
            when 'sql' then pg_catalog.fmgr_sql_validator(p.oid)::text
            when 'plpgsql' then pg_catalog.plpgsql_validator(p.oid)::text
        end
    )
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
inner join pg_catalog.pg_language as l on l.oid = p.prolang
where n.nspname in ('app', 'api') and l.lanname in ('sql', 'plpgsql')
"""
RECORD_MIGRATION = (
    "insert into app.schema_migrations (name, checksum) values (%(name)s, %(checksum)s)"
)
LEDGER_EXISTS = "select to_regclass('app.schema_migrations')"
LEDGER = "select name, checksum, applied_at::text from app.schema_migrations order by name"
# Every routine of app and api (not an extension's) with the xmin of its catalog row:
# CREATE OR REPLACE always rewrites that row, so a routine whose row is unchanged after
# the function files ran was defined by no file.
ROUTINES = """
select p.oid::bigint, p.xmin::text, p.oid::regprocedure::text
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where
    n.nspname in ('app', 'api')
    and not exists (
        select from pg_catalog.pg_depend as d
        -- an extension's (e), or made with another object (i: a range type's constructors)
        where
            d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
            and d.deptype in ('e', 'i')
    )
"""
# Triggers on app and api tables that app._ensure_trigger did not name in this
# transaction (it lists each one in the transaction-local setting intime.ensured_triggers).
STALE_TRIGGERS = """
select n.nspname, c.relname, t.tgname
from pg_catalog.pg_trigger as t
inner join pg_catalog.pg_class as c on c.oid = t.tgrelid
inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where
    n.nspname in ('app', 'api') and not t.tgisinternal
    and t.tgparentid = 0  -- a partition's copy goes with its parent's trigger
    and not (t.tgrelid::bigint || '/' || t.tgname) = any(
        string_to_array(coalesce(current_setting('intime.ensured_triggers', true), ''), ',')
    )
order by 1, 2, 3
"""
