"""InTime's tables on a Citus database (docs/scale-out.md).

On a database with the ``citus`` extension, ``migrate`` calls :func:`distribute` after the
numbered migrations: one set of migrations serves a single node and a cluster, and what
makes a cluster is read off the catalog, not written twice.

- **Tenant tables** (every table of ``app`` with an ``org_id`` column) are distributed by
  ``org_id``, all co-located with each other, so one org's rows of every table live on one
  node and a join or a foreign key inside an org never leaves it.
- **Global tables** (the rest of ``app``: organizations, the templates catalog, entity
  types, permissions, settings, webhook receipts, and the login map of
  :data:`REFERENCE_WITH_ORG`) become reference tables, copied to every node.
- **Local tables** stay on the coordinator: the migration ledger and the stream hubs'
  registry (:data:`LOCAL_TABLES`).

Citus refuses three shapes the single-node schema uses; on a cluster they are adapted here:

- a policy with a subquery: ``(select app.current_org_id())`` becomes the plain call;
- a unique key without ``org_id`` (random tokens, message ids, the notification ``seq``)
  becomes unique per org, ``(org_id, ...)``;
- ``ON DELETE SET NULL (col)`` on a key that includes ``org_id``: re-added as
  ``NO ACTION``, tagged :data:`SET_NULL_TAG`, with a BEFORE DELETE trigger
  (``app._tg_citus_set_null``) that clears the column first.

Every step is idempotent: a table already distributed is left alone, so a later migration
that adds a table gets it distributed by the same ``migrate`` (Citus first makes a new
table keyed to ``organizations`` a local Citus table; it is distributed from there; one
with a foreign key to another tenant table distributes itself first, with
``app._distribute_tenant_table``, docs/conventions.md). A
later migration that changes a table already distributed runs on Citus as it is written:
it must use the forms above itself (docs/conventions.md).
"""

from __future__ import annotations

import dataclasses
import re

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from intime import queries as q

LOCAL_TABLES = frozenset({"schema_migrations", "stream_hubs"})
# Tables with an org_id that every node must read whole, keyed by something else
# than the org: the login map (who a SQL login is, looked up by login) and the
# verified sending domains (which org owns a domain, looked up by domain).
REFERENCE_WITH_ORG = frozenset({"login_roles", "verified_domains"})
SET_NULL_TAG = "intime:citus on delete set null"
TENANT_COLUMN = "org_id"

IS_CITUS = "select exists (select from pg_catalog.pg_extension where extname = 'citus')"
# Tables of app not yet distributed nor reference tables, with whether they carry org_id.
# A Citus local table (partmethod n, repmodel s) counts: Citus makes one of a new table
# whose foreign key points at a reference table (a later migration's tenant table).
UNDISTRIBUTED = """
select c.relname, exists (
    select from pg_catalog.pg_attribute as a
    where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped
) as tenant
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where
    n.nspname = 'app' and c.relkind in ('r', 'p') and not c.relispartition
    and not exists (
        select from pg_catalog.pg_dist_partition as p
        where p.logicalrelid = c.oid and not (p.partmethod = 'n' and p.repmodel = 's')
    )
order by c.relname
"""
# Foreign keys of app (not a partition's copy): child, name, parent, definition.
FOREIGN_KEYS = """
select cl.relname, k.conname, pl.relname, pg_catalog.pg_get_constraintdef(k.oid)
from pg_catalog.pg_constraint as k
join pg_catalog.pg_class as cl on cl.oid = k.conrelid
join pg_catalog.pg_class as pl on pl.oid = k.confrelid
join pg_catalog.pg_namespace as n on n.oid = cl.relnamespace
where n.nspname = 'app' and k.contype = 'f' and k.conparentid = 0
order by cl.relname, k.conname
"""
# Unique constraints and unique indexes without org_id, on the given tables.
GLOBAL_UNIQUE_CONSTRAINTS = """
select c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid)
from pg_catalog.pg_constraint as k
join pg_catalog.pg_class as c on c.oid = k.conrelid
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where
    n.nspname = 'app' and c.relname = any(%(tables)s) and k.contype in ('u', 'p')
    and not exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = c.oid and a.attname = 'org_id' and a.attnum = any(k.conkey)
    )
order by 1, 2
"""
GLOBAL_UNIQUE_INDEXES = """
select c.relname, i.relname, pg_catalog.pg_get_indexdef(x.indexrelid)
from pg_catalog.pg_index as x
join pg_catalog.pg_class as c on c.oid = x.indrelid
join pg_catalog.pg_class as i on i.oid = x.indexrelid
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where
    n.nspname = 'app' and c.relname = any(%(tables)s) and x.indisunique
    and not exists (select from pg_catalog.pg_constraint as k where k.conindid = x.indexrelid)
    and not exists (
        select from pg_catalog.pg_attribute as a
        where a.attrelid = c.oid and a.attname = 'org_id' and a.attnum = any(x.indkey)
    )
order by 1, 2
"""
POLICIES = """
select p.polname, c.relname,
    pg_catalog.pg_get_expr(p.polqual, p.polrelid),
    pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)
from pg_catalog.pg_policy as p
join pg_catalog.pg_class as c on c.oid = p.polrelid
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where
    n.nspname = 'app'
    and (c.relname = any(%(tables)s) or exists (  -- a partition has policies of its own
        select from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as p on p.oid = i.inhparent
        where i.inhrelid = c.oid and p.relname = any(%(tables)s)
    ))
order by 2, 1
"""
# The keys the distribution re-added as NO ACTION in place of SET NULL (col).
SET_NULL_KEYS = """
select cl.relname, k.conname, pl.relname,
    (select a.attname from pg_catalog.pg_attribute as a
     where a.attrelid = k.conrelid and a.attnum = k.conkey[2]),
    (select a.attname from pg_catalog.pg_attribute as a
     where a.attrelid = k.confrelid and a.attnum = k.confkey[2])
from pg_catalog.pg_constraint as k
join pg_catalog.pg_class as cl on cl.oid = k.conrelid
join pg_catalog.pg_class as pl on pl.oid = k.confrelid
join pg_catalog.pg_namespace as n on n.oid = cl.relnamespace
where
    n.nspname = 'app' and k.contype = 'f' and k.conparentid = 0
    and pg_catalog.obj_description(k.oid, 'pg_constraint') = %(tag)s
order by 1, 2
"""
ENSURE_SET_NULL_TRIGGER = """
select app._ensure_trigger(
    p_table => %(parent)s::regclass,
    p_name => %(name)s,
    p_body => %(body)s
)
"""

# ``( SELECT app.current_org_id() AS current_org_id)`` as pg_get_expr prints it.
_SUBQUERY_CALL = re.compile(r"\( SELECT (app\.\w+\(\)) AS \w+\)")
# ``FOREIGN KEY (org_id, x) REFERENCES app.t(org_id, id) ON DELETE SET NULL (x)``
_SET_NULL = re.compile(r"^FOREIGN KEY \(org_id, (\w+)\) REFERENCES (\S+)\(org_id, (\w+)\)(.*)$")


class CitusDistributionError(RuntimeError):
    """A table has a shape the distribution cannot adapt (named in the message)."""


@dataclasses.dataclass
class Distribution:
    """What one :func:`distribute` run did."""

    reference: list[str] = dataclasses.field(default_factory=list)
    distributed: list[str] = dataclasses.field(default_factory=list)
    per_org_unique: list[str] = dataclasses.field(default_factory=list)
    set_null_keys: list[str] = dataclasses.field(default_factory=list)
    policies: list[str] = dataclasses.field(default_factory=list)


WORKER_NODES = """
select nodename, nodeport from pg_catalog.pg_dist_node
where groupid <> 0 and isactive and noderole = 'primary'
order by groupid
"""


def worker_dsns(conn: psycopg.Connection, dsn: str) -> list[str]:
    """``dsn`` (the coordinator's) pointed at each active worker node instead."""
    return [
        make_conninfo(dsn, host=host, port=str(port))
        for host, port in conn.execute(WORKER_NODES).fetchall()
    ]


GENERIC_PLAN_ROUTINES = """
select p.oid::regprocedure::text
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('app', 'api') and 'plan_cache_mode=force_generic_plan' = any(p.proconfig)
order by 1
"""
# SQL functions that PostgreSQL may inline (no SET clause) and that read a table of app.
INLINED_TABLE_READERS = r"""
select p.oid::regprocedure::text
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
inner join pg_catalog.pg_language as l on l.oid = p.prolang
where
    n.nspname in ('app', 'api') and l.lanname = 'sql' and p.proconfig is null
    and p.prosrc ~ '(from|join)\s+app\.'
order by 1
"""


@dataclasses.dataclass
class RoutineAdaptations:
    custom_plans: list[str]
    not_inlined: list[str]


def adapt_routines(conn: psycopg.Connection) -> RoutineAdaptations:
    """Two single-node tunings of the function files that Citus cannot plan, undone.
    Runs in the migration's repeatable-files transaction, after the files.

    - ``plan_cache_mode = force_generic_plan`` is reset: Citus routes a query by its
      distribution column's value, and in a generic plan a PL/pgSQL variable is an
      unresolved parameter; a query with a data-modifying CTE is then refused ("could
      not create distributed plan").
    - A SQL function that reads a table of ``app`` and may be inlined gets a pinned
      ``search_path``, which stops inlining: Citus cannot plan the tables an inlined
      function brings into a query ("parameterized queries for SQL functions
      referencing distributed tables are not supported"). Called on its own, in a
      statement on arrays, it is planned like PL/pgSQL."""
    done = RoutineAdaptations(
        custom_plans=[row[0] for row in conn.execute(GENERIC_PLAN_ROUTINES).fetchall()],
        not_inlined=[row[0] for row in conn.execute(INLINED_TABLE_READERS).fetchall()],
    )
    for routine in done.custom_plans:
        conn.execute(sql.SQL("alter routine {} reset plan_cache_mode").format(sql.SQL(routine)))
    for routine in done.not_inlined:
        conn.execute(
            sql.SQL("alter routine {} set search_path = pg_catalog, pg_temp").format(
                sql.SQL(routine)
            )
        )
    return done


# The api functions an org-first call can run on the node that holds the org: every one
# with an argument named DELEGATION_ARG, but NOT_DELEGATED.
DELEGATION_ARG = "p_org_id"
NOT_DELEGATED = {
    # It sets the actor of the caller's transaction for the statements after it. Citus
    # delegates a call made outside a transaction block only, where it would set nothing.
    "api.set_actor(uuid,uuid)": "it sets its transaction's actor",
    # Its statement sends intermediate results to every node (Citus plans its CTEs
    # apart), and a delegated call's backend caches no connection (Citus: internal
    # backends), so it would open one per node per call and commit in two phases:
    # measured 56 sends/s delegated against 98/s made on the coordinator (bench cluster,
    # 8 writers, docs/scale-out.md). Org-first, it runs where it is called.
    "api.send_notification(uuid,text,text,text,text,jsonb,text,text,text,uuid,text,text,"
    "text[],text,timestamp with time zone,boolean,uuid)": "its statement reaches every node",
}
DELEGABLE_ROUTINES = """
select
    p.oid::regprocedure::text,
    p.oid,
    array_position(p.proargnames, %(arg)s) as arg_position,
    o.distribution_argument_index,
    o.colocationid
from pg_catalog.pg_proc as p
inner join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
left join pg_catalog.pg_dist_object as o
    on o.classid = 'pg_catalog.pg_proc'::regclass and o.objid = p.oid
where
    n.nspname = 'api' and p.prokind = 'f'
    and p.proargtypes[array_position(p.proargnames, %(arg)s) - 1] = 'uuid'::regtype
order by 1
"""
TENANT_COLOCATION = """
select colocationid from pg_catalog.pg_dist_partition
where logicalrelid = 'app.user_profiles'::regclass
"""
UNDELEGATE_ROUTINE = "select create_distributed_function(%(routine)s::regprocedure)"
DELEGATE_ROUTINE = """
select create_distributed_function(
    %(routine)s::regprocedure, %(arg)s, colocate_with => 'app.user_profiles'
)
"""


def delegate_routines(conn: psycopg.Connection) -> list[str]:
    """Every ``api`` function that takes the org as :data:`DELEGATION_ARG` (but
    :data:`NOT_DELEGATED`) made a distributed function co-located with the tenant
    tables: a lone ``select api.f(p_org_id => ...)`` outside a transaction block then
    runs on the node that holds the org, whose statements are local there. Runs after
    the function files, in their transaction; a function already delegated is left
    alone (the files' ``CREATE OR REPLACE`` keeps its catalog row), and one in
    :data:`NOT_DELEGATED` that an earlier version delegated is made plain again. Returns
    what it changed this run."""
    row = conn.execute(TENANT_COLOCATION).fetchone()
    if row is None:
        return []
    colocation = row[0]
    done: list[str] = []
    for routine, _oid, position, index, colocationid in conn.execute(
        DELEGABLE_ROUTINES, {"arg": DELEGATION_ARG}
    ).fetchall():
        if routine in NOT_DELEGATED:
            if index is not None:  # delegated by an earlier version: undone
                conn.execute(UNDELEGATE_ROUTINE, {"routine": routine})
                done.append(f"{routine} (no longer)")
            continue
        if index == position - 1 and colocationid == colocation:
            continue
        conn.execute(DELEGATE_ROUTINE, {"routine": routine, "arg": DELEGATION_ARG})
        done.append(routine)
    return done


NODE_QUEUE_SETUP = """
grant select, insert, update, delete on all tables in schema queue to intime_service;
grant usage, select on all sequences in schema queue to intime_service;
alter table queue.pgqueuer disable trigger tg_pgqueuer_changed;
create or replace trigger tg_pgqueuer_changed_intime
    after insert or update or delete or truncate on queue.pgqueuer
    for each statement execute function app._tg_queue_changed();
"""


def set_up_node_queues(dsns: list[str]) -> None:
    """On each node's queue: the service's grants on its tables (sql/grants.sql runs on
    the coordinator: Citus sends the schema's grant to the nodes, not a grant on a
    node-local table), and pgqueuer's
    NOTIFY trigger gives way to
    ``app._tg_queue_changed``, which sends no wake-up from a node's part of a
    transaction begun elsewhere: the initiator may commit it in two phases, and
    PostgreSQL refuses PREPARE TRANSACTION after a NOTIFY (docs/scale-out.md). Run after
    the function files, whose functions Citus has sent to every node by then; again on
    every migrate, as pgqueuer's upgrade may re-create its trigger."""
    for node_dsn in dsns:
        with psycopg.connect(node_dsn, autocommit=True) as node:
            node.execute(NODE_QUEUE_SETUP)


def is_citus(conn: psycopg.Connection) -> bool:
    row = conn.execute(IS_CITUS).fetchone()
    return bool(row and row[0])


def _ident(table: str) -> sql.Composable:
    return sql.Identifier("app", table)


def _fk_order(tables: list[str], keys: list[tuple[str, str, str, str]]) -> list[str]:
    """``tables`` with every referenced table before the tables that reference it."""
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, _, parent, _ in keys:
        if child in parents and parent in parents and parent != child:
            parents[child].add(parent)
    order: list[str] = []
    while len(order) < len(tables):
        ready = [t for t in tables if t not in order and parents[t] <= set(order)]
        if not ready:
            raise CitusDistributionError(f"foreign keys form a cycle among {parents}")
        order.extend(ready)
    return order


def distribute(conn: psycopg.Connection) -> Distribution:
    """Make every table of ``app`` a Citus table (see the module). ``conn`` is an
    autocommit connection of the admin role on the coordinator; the caller holds the
    migration lock. Runs in one transaction: it all happens, or none of it."""
    done = Distribution()
    rows = [(t, tenant) for t, tenant in conn.execute(UNDISTRIBUTED).fetchall()]
    pending = [t for t, _ in rows if t not in LOCAL_TABLES]
    if not pending:
        return done
    tenant = {t for t, is_tenant in rows if is_tenant and t not in REFERENCE_WITH_ORG}
    with conn.transaction():
        conn.execute(q.CITUS_UNSAFE_TRIGGERS)
        # DDL on shards of co-located tables and reference tables in one transaction.
        conn.execute("set local citus.multi_shard_modify_mode = 'sequential'")
        conn.execute("set local role intime_owner")
        _policies_without_subqueries(conn, pending, done)
        keys = [
            k for k in conn.execute(FOREIGN_KEYS).fetchall() if k[0] in pending or k[2] in pending
        ]
        for child, name, _, _ in keys:
            conn.execute(
                sql.SQL("alter table {} drop constraint {}").format(
                    _ident(child), sql.Identifier(name)
                )
            )
        _unique_per_org(conn, [t for t in pending if t in tenant], done)
        for table in _fk_order([t for t in pending if t not in tenant], keys):
            conn.execute("select create_reference_table(%(t)s)", {"t": f"app.{table}"})
            done.reference.append(table)
        colocate = _colocation_anchor(conn)
        for table in _fk_order([t for t in pending if t in tenant], keys):
            conn.execute(
                "select create_distributed_table(%(t)s, %(col)s, colocate_with => %(with)s)",
                {"t": f"app.{table}", "col": TENANT_COLUMN, "with": colocate or "default"},
            )
            colocate = colocate or f"app.{table}"
            done.distributed.append(table)
        for child, name, _, definition in keys:
            _add_key(conn, child, name, definition, done)
    return done


def _colocation_anchor(conn: psycopg.Connection) -> str | None:
    """An already-distributed tenant table, for a new one to be co-located with."""
    row = conn.execute(
        "select logicalrelid::regclass::text from pg_catalog.pg_dist_partition"
        " where partmethod = 'h' order by colocationid, logicalrelid limit 1"
    ).fetchone()
    return str(row[0]) if row else None


def _policies_without_subqueries(
    conn: psycopg.Connection, tables: list[str], done: Distribution
) -> None:
    for name, table, using, check in conn.execute(POLICIES, {"tables": tables}).fetchall():
        new_using = _SUBQUERY_CALL.sub(r"\1", using) if using else None
        new_check = _SUBQUERY_CALL.sub(r"\1", check) if check else None
        if new_using == using and new_check == check:
            continue
        parts: list[sql.Composable] = []
        if new_using is not None:
            parts.append(sql.SQL("using ({})").format(sql.SQL(new_using)))
        if new_check is not None:
            parts.append(sql.SQL("with check ({})").format(sql.SQL(new_check)))
        # The expressions are the catalog's own text of our policies, not input.
        conn.execute(
            sql.SQL("alter policy {} on {} {}").format(
                sql.Identifier(name), _ident(table), sql.SQL(" ").join(parts)
            )
        )
        done.policies.append(f"{table}.{name}")


def _unique_per_org(conn: psycopg.Connection, tables: list[str], done: Distribution) -> None:
    for table, name, definition in conn.execute(
        GLOBAL_UNIQUE_CONSTRAINTS, {"tables": tables}
    ).fetchall():
        per_org = re.sub(r"^(UNIQUE|PRIMARY KEY) \(", r"\1 (org_id, ", definition)
        conn.execute(
            sql.SQL("alter table {} drop constraint {}").format(_ident(table), sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("alter table {} add constraint {} {}").format(
                _ident(table), sql.Identifier(name), sql.SQL(per_org)
            )
        )
        done.per_org_unique.append(f"{table}.{name}")
    for table, name, definition in conn.execute(
        GLOBAL_UNIQUE_INDEXES, {"tables": tables}
    ).fetchall():
        per_org = re.sub(r" USING (\w+) \(", r" USING \1 (org_id, ", definition, count=1)
        conn.execute(sql.SQL("drop index {}").format(sql.Identifier("app", name)))
        conn.execute(sql.SQL(per_org))
        done.per_org_unique.append(f"{table}.{name}")


def _add_key(
    conn: psycopg.Connection, child: str, name: str, definition: str, done: Distribution
) -> None:
    match = _SET_NULL.match(definition)
    set_null = match is not None and re.search(r"ON DELETE SET NULL", match.group(4))
    if match is None or not set_null:
        conn.execute(
            sql.SQL("alter table {} add constraint {} {}").format(
                _ident(child), sql.Identifier(name), sql.SQL(definition)
            )
        )
        return
    column, parent, key, rest = match.groups()
    key_type = conn.execute(
        "select format_type(a.atttypid, a.atttypmod) from pg_catalog.pg_attribute as a"
        " where a.attrelid = %(parent)s::regclass and a.attname = %(key)s",
        {"parent": parent, "key": key},
    ).fetchone()
    if key_type is None or key_type[0] != "uuid":
        raise CitusDistributionError(
            f"{child}.{name}: ON DELETE SET NULL on a key of type {key_type} (only uuid keys"
            " are adapted, app._tg_citus_set_null)"
        )
    rest = re.sub(r"\s*ON DELETE SET NULL( \([^)]*\))?", "", rest)
    no_action = f"FOREIGN KEY (org_id, {column}) REFERENCES {parent}(org_id, {key}){rest}"
    conn.execute(
        sql.SQL("alter table {} add constraint {} {}").format(
            _ident(child), sql.Identifier(name), sql.SQL(no_action)
        )
    )
    conn.execute(
        sql.SQL("comment on constraint {} on {} is {}").format(
            sql.Identifier(name), _ident(child), sql.Literal(SET_NULL_TAG)
        )
    )
    done.set_null_keys.append(f"{child}.{name}")


def ensure_set_null_triggers(conn: psycopg.Connection) -> int:
    """The BEFORE DELETE triggers that stand for the keys re-added as NO ACTION, made or
    kept through ``app._ensure_trigger`` (so the stale-trigger sweep keeps them). Runs in
    the migration's repeatable-files transaction, as the owner. Returns their number."""
    keys = conn.execute(SET_NULL_KEYS, {"tag": SET_NULL_TAG}).fetchall()
    for child, name, parent, column, key in keys:
        body = (
            "before delete on %s for each row execute function "
            f"app._tg_citus_set_null('app.{child}', '{column}', '{key}')"
        )
        conn.execute(
            ENSURE_SET_NULL_TRIGGER, {"parent": f"app.{parent}", "name": name, "body": body}
        )
    return len(keys)
