"""Cross-tenant probe, generated from the catalog.

Every table in schema ``app`` with an ``org_id`` column is a tenant table, so
a new table is probed without anyone listing it. For each one, a connection
acting for org A tries to read, update, delete and insert org B's rows. Each
attempt runs in a savepoint and the whole probe is rolled back, so even a
write that got through leaves nothing behind; it is counted instead.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable

import psycopg
from psycopg import sql

from intime_cli import queries as q


def tenant_tables(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(q.TENANT_TABLES).fetchall()]


def tenant_views(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(q.TENANT_VIEWS).fetchall()]


@dataclasses.dataclass
class ProbeReport:
    tables: list[str] = dataclasses.field(default_factory=list)
    views: list[str] = dataclasses.field(default_factory=list)
    leaked_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    allowed_writes: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    blocked_by: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    missing_seed: list[str] = dataclasses.field(default_factory=list)

    @property
    def total_leaked(self) -> int:
        return sum(self.leaked_rows.values())

    @property
    def total_allowed_writes(self) -> int:
        return sum(len(v) for v in self.allowed_writes.values())


def _attempt(
    conn: psycopg.Connection,
    report: ProbeReport,
    table: str,
    action: str,
    query: sql.Composed,
    params: tuple[object, ...],
) -> int:
    """Run one probe statement in a savepoint; return the rows it read or wrote."""
    try:
        with conn.transaction():
            cur = conn.execute(query, params)
            row = cur.fetchone() if action == "select" else None
            count = int(row[0]) if row else max(cur.rowcount, 0)
    except psycopg.Error as exc:
        report.blocked_by.setdefault(table, set()).add(f"{action}:{exc.sqlstate}")
        return 0
    if action != "select" and count > 0:
        report.allowed_writes.setdefault(table, []).append(action)
    return count


def _probe_rows(
    attacker: psycopg.Connection,
    admin: psycopg.Connection,
    report: ProbeReport,
    table: str,
    where: sql.Composable,
    params: tuple[object, ...],
    column: sql.Identifier,
) -> None:
    """Read, update (``column`` to itself), delete and re-insert the rows of
    ``table`` matching ``where`` from ``attacker``; count what got through."""
    ident = sql.Identifier("app", table)
    sample = admin.execute(
        sql.SQL("select to_jsonb(t) from {} as t where {} limit 1").format(ident, where), params
    ).fetchone()
    if sample is None:
        report.missing_seed.append(table)
        return
    report.leaked_rows[table] = _attempt(
        attacker,
        report,
        table,
        "select",
        sql.SQL("select count(*) from {} where {}").format(ident, where),
        params,
    )
    update = sql.SQL("update {} set {} = {} where {}").format(ident, column, column, where)
    _attempt(attacker, report, table, "update", update, params)
    delete = sql.SQL("delete from {} where {}").format(ident, where)
    _attempt(attacker, report, table, "delete", delete, params)
    columns = [r[0] for r in admin.execute(q.INSERTABLE_COLUMNS, {"table": f"app.{table}"})]
    row = dict(sample[0])
    if table == "organizations":
        row["slug"] = f"probe-{uuid.uuid4().hex[:12]}"
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    insert = sql.SQL(
        "insert into {} ({}) select {} from jsonb_populate_record(null::{}, %s::jsonb)"
    ).format(ident, cols, cols, ident)
    _attempt(attacker, report, table, "insert", insert, (json.dumps(row),))


def probe(
    attacker: psycopg.Connection,
    admin: psycopg.Connection,
    victim_org: uuid.UUID,
    *,
    before: Callable[[psycopg.Connection], object] | None = None,
) -> ProbeReport:
    """Probe every tenant table and view from ``attacker`` against ``victim_org``.

    ``admin`` (a superuser connection to the same database) reads the catalog
    and a sample row per table to build realistic inserts. ``before`` runs at
    the start of the attacker's transaction (the service role sets its actor
    there).
    """
    report = ProbeReport(tables=tenant_tables(admin), views=tenant_views(admin))
    victim = (victim_org,)
    with attacker.transaction(force_rollback=True):
        if before:
            before(attacker)
        for table in ["organizations", *report.tables]:
            key = sql.Identifier("id" if table == "organizations" else "org_id")
            where = sql.SQL("{} = %s").format(key)
            _probe_rows(attacker, admin, report, table, where, victim, key)
        for view in report.views:
            query = sql.SQL("select count(*) from {} where org_id = %s").format(
                sql.Identifier("app", view)
            )
            report.leaked_rows[view] = _attempt(attacker, report, view, "select", query, victim)
    return report


def user_private_tables(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute(q.USER_PRIVATE_TABLES).fetchall()]


def _user_column(conn: psycopg.Connection, table: str) -> str:
    """The column naming the owning user: user_id, or recipient_user_id (email)."""
    columns = {r[0] for r in conn.execute(q.INSERTABLE_COLUMNS, {"table": f"app.{table}"})}
    return "user_id" if "user_id" in columns else "recipient_user_id"


def probe_users(
    attacker: psycopg.Connection,
    admin: psycopg.Connection,
    org_id: uuid.UUID,
    own_user: uuid.UUID,
    *,
    before: Callable[[psycopg.Connection], object] | None = None,
) -> ProbeReport:
    """Probe the user-private tables from ``attacker`` (acting as ``own_user``)
    against the other users of the same org: read, update, delete and insert.
    Rows with a null user_id (an org's defaults) are shared on purpose.
    """
    report = ProbeReport(tables=user_private_tables(admin))
    with attacker.transaction(force_rollback=True):
        if before:
            before(attacker)
        for table in report.tables:
            user_col = sql.Identifier(_user_column(admin, table))
            where = sql.SQL("org_id = %s and {} <> %s").format(user_col)
            _probe_rows(attacker, admin, report, table, where, (org_id, own_user), user_col)
    return report
