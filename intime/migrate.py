"""The migration runner.

One ``migrate`` run, under a session advisory lock so that concurrent runners
queue behind each other:

1. ``sql/bootstrap.sql`` as the connecting admin role (roles, the ``app``
   schema, the migration ledger);
2. each pending ``sql/schema/NNNN_*.sql`` in its own transaction, as
   ``intime_owner``, one statement at a time (``_statements``), recorded with its
   SHA-256 checksum; an applied file whose checksum changed is refused with SQLSTATE
   IT001;
3. pgqueuer's schema in ``queue``, installed or upgraded by pgqueuer itself;
4. ``sql/functions/**`` then ``sql/triggers/**`` (sorted by path), then
   ``sql/grants.sql``, all in one transaction, as ``intime_owner``, with function
   bodies unchecked while the files load (so no file's order matters: a SQL
   function may call one a later file defines) and every SQL and PL/pgSQL routine
   of ``app`` and ``api`` validated once they all have, under the search path they
   pin (an error rolls it back; a ``BEGIN ATOMIC`` body is still checked as it is
   created);
5. in that same transaction, before ``grants.sql``, the triggers and routines of
   ``app`` and ``api`` that no file defines any more are dropped
   (``MigrateResult.dropped`` names them): a trigger that ``app._ensure_trigger`` did
   not name, a routine that no ``CREATE OR REPLACE`` rewrote. Something else that
   still depends on such a routine makes the whole step fail (``2BP01``) and roll back.
   Hence numbered migrations define no routine or trigger of their own (a test checks
   it). A stale routine whose row a migration of the same run rewrote (a ``GRANT ... ON
   ALL FUNCTIONS``) goes at the next run.

pgqueuer comes before the function files so that SQL-language functions may
refer to queue tables. On a database with the ``citus`` extension, the tables of ``app``
are then distributed (``intime.citus``, docs/scale-out.md) before the function files,
which then create triggers on distributed tables; after them, in their transaction, the
routines are adapted to Citus and the org-first ``api`` functions delegated by their
``p_org_id`` (``citus.adapt_routines``, ``citus.delegate_routines``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

from intime import citus
from intime import queries as q
from intime.errors import MigrationLockTimeoutError, translate
from intime.paths import sql_dir

LOCK_KEY = 0x1A7E_0001  # pg_advisory_lock key for migrations
QUEUE_SCHEMA = "queue"
MIGRATION_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")


@dataclasses.dataclass(frozen=True)
class Migration:
    name: str
    path: Path
    checksum: str

    @classmethod
    def load(cls, path: Path) -> Migration:
        return cls(path.name, path, hashlib.sha256(path.read_bytes()).hexdigest())


@dataclasses.dataclass
class MigrationStatus:
    applied: list[tuple[str, str]]  # (name, applied_at)
    pending: list[str]


@dataclasses.dataclass
class MigrateResult:
    applied: list[str]
    repeatable_files: int
    queue: str
    dropped: list[str] = dataclasses.field(default_factory=list)  # 'trigger x on t', 'f(args)'
    # On a Citus database: the tables this run made distributed or reference tables.
    distributed: list[str] = dataclasses.field(default_factory=list)


def schema_migrations(root: Path | None = None) -> list[Migration]:
    directory = (root or sql_dir()) / "schema"
    files = sorted(p for p in directory.glob("*.sql"))
    bad = [p.name for p in files if not MIGRATION_NAME.match(p.name)]
    if bad:
        raise ValueError(f"migration files must be named NNNN_name.sql: {bad}")
    return [Migration.load(p) for p in files]


def repeatable_files(root: Path | None = None) -> list[Path]:
    base = root or sql_dir()
    functions = sorted((base / "functions").rglob("*.sql"))
    triggers = sorted((base / "triggers").rglob("*.sql"))
    return [*functions, *triggers, base / "grants.sql"]


def _read(path: Path) -> sql.SQL:
    # Files are trusted project SQL executed without parameters.
    return sql.SQL(path.read_text())


def _statements(path: Path) -> list[sql.SQL]:
    """A migration's statements, one by one, as PostgreSQL's own parser splits them
    (pglast). Citus forwards some DDL on a distributed table (``CREATE INDEX``, ``ALTER
    TABLE ... ADD COLUMN``) to the shards as the text of the query that carried it: a
    file sent whole fails there with "cannot insert multiple commands into a prepared
    statement" (citusdata/citus#6608), so a migration that changes a table an existing
    cluster already distributed must go one statement at a time.

    pglast parses with the grammar of its own PostgreSQL (pglast 8: 18's), which reserves
    words older servers take (``system_user``, ``json_value``): a file it cannot parse goes
    whole, as before, and the server says what it thinks of it."""
    import pglast
    from pglast.parser import ParseError

    text = path.read_text()
    try:
        return [sql.SQL(statement) for statement in pglast.split(text)]
    except ParseError:
        return [sql.SQL(text)]


async def _install_queue(dsn: str) -> str:
    from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
    from pgqueuer.adapters.persistence import qb
    from pgqueuer.adapters.persistence.queries import Queries

    settings = qb.DBSettings(db_schema=QUEUE_SCHEMA)
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        await conn.execute(q.SET_SESSION_OWNER_ROLE)
        queries = Queries(
            PsycopgDriver(conn),
            qbe=qb.QueryBuilderEnvironment(settings=settings),
            qbq=qb.QueryQueueBuilder(settings=settings),
            qbs=qb.QuerySchedulerBuilder(settings=settings),
        )
        if await queries.schema_is_installed():
            plan = await queries.apply_upgrade()
            return "upgraded" if plan.statements else "current"
        await queries.install()
        return "installed"


def _acquire_lock(conn: psycopg.Connection, timeout: float) -> None:
    """Take the migration lock, or fail naming whoever holds it.

    Advisory locks are open to every role, so a stuck (or hostile) session
    could hold ours: waiting forever would hide it, this names it.
    """
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(q.TRY_ADVISORY_LOCK, {"key": LOCK_KEY}).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            holder = conn.execute(q.ADVISORY_LOCK_HOLDER, {"key": LOCK_KEY}).fetchone()
            who = f"pid {holder[0]}, role {holder[1]}, app {holder[2]!r}" if holder else "unknown"
            raise MigrationLockTimeoutError(
                f"the migration lock is held by another session ({who}) after {timeout:.0f} s"
            )
        time.sleep(0.1)


def bootstrap(dsn: str, root: Path | None = None) -> None:
    """Apply only ``sql/bootstrap.sql``: roles and database-level privileges.

    Database privileges are not copied by ``CREATE DATABASE ... TEMPLATE``,
    so a clone of a migrated database needs this (``migrate`` runs it too).
    """
    base = root or sql_dir()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            conn.execute(_read(base / "bootstrap.sql"))
    except psycopg.Error as exc:
        raise translate(exc) from exc


def migrate(
    dsn: str,
    root: Path | None = None,
    *,
    lock_timeout: float = 600,
    progress: Callable[[str, int, int], None] | None = None,
) -> MigrateResult:
    """Bring the database at ``dsn`` up to date. Safe to run concurrently.

    Waits up to ``lock_timeout`` seconds for another migrator, then raises IT009.
    ``progress(label, done, total)`` is called before each step (a progress bar).
    """
    base = root or sql_dir()
    migrations = schema_migrations(base)
    applied: list[str] = []
    distributed: list[str] = []
    files = repeatable_files(base)
    steps = iter(range(1_000_000))
    total = len(migrations) + len(files) + 3

    def step(label: str) -> None:
        if progress is not None:
            progress(label, next(steps), total)

    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            _acquire_lock(conn, lock_timeout)
            # One more step on Citus: the node queues (its extension comes before us).
            total += int(citus.is_citus(conn))
            try:
                before = _routines(conn)
                step("bootstrap.sql")
                with conn.transaction():
                    conn.execute(_read(base / "bootstrap.sql"))
                for migration in migrations:
                    step(migration.name)
                    with conn.transaction():
                        row = conn.execute(
                            q.MIGRATION_STATUS,
                            {"name": migration.name, "checksum": migration.checksum},
                        ).fetchone()
                        if row is None or row[0] == "applied":
                            continue
                        conn.execute(q.SET_OWNER_ROLE)
                        for statement in _statements(migration.path):
                            conn.execute(statement)
                        conn.execute(q.RESET_ROLE)
                        conn.execute(
                            q.RECORD_MIGRATION,
                            {"name": migration.name, "checksum": migration.checksum},
                        )
                        applied.append(migration.name)
                step("queue schema")
                queue = asyncio.run(_install_queue(dsn))
                on_citus = citus.is_citus(conn)
                nodes = [dsn, *citus.worker_dsns(conn, dsn)] if on_citus else []
                if on_citus:
                    # A queue on every node (docs/scale-out.md): a trigger enqueues on
                    # the node it runs on.
                    for node_dsn in nodes[1:]:
                        asyncio.run(_install_queue(node_dsn))
                    done = citus.distribute(conn)
                    distributed = [*done.reference, *done.distributed]
                dropped = _apply_repeatable(conn, base, files, before, step, on_citus=on_citus)
                if on_citus:
                    step("node queues")
                    citus.set_up_node_queues(nodes)
            finally:
                conn.execute(q.ADVISORY_UNLOCK, {"key": LOCK_KEY})
    except psycopg.Error as exc:
        raise translate(exc) from exc
    return MigrateResult(
        applied=applied,
        repeatable_files=len(files),
        queue=queue,
        dropped=dropped,
        distributed=distributed,
    )


def _apply_repeatable(
    conn: psycopg.Connection,
    base: Path,
    files: list[Path],
    before: dict[int, tuple[str, str]],
    step: Callable[[str], None],
    *,
    on_citus: bool,
) -> list[str]:
    """Steps 4 and 5 of the module: the function, trigger and grant files in one
    transaction, the stale routines and triggers dropped, every routine validated."""
    with conn.transaction():
        conn.execute(q.SET_OWNER_ROLE)
        conn.execute(q.CHECK_BODIES_OFF)
        if on_citus:
            # Triggers on distributed tables (docs/scale-out.md).
            conn.execute(q.CITUS_UNSAFE_TRIGGERS)
        grants = base / "grants.sql"
        dropped: list[str] = []
        for path in files:
            if path == grants:
                # Before the grants: GRANT ... ON ALL FUNCTIONS rewrites
                # every routine's catalog row, stale ones too.
                if on_citus:
                    citus.ensure_set_null_triggers(conn)
                dropped = _drop_stale(conn, before)
            step(str(path.relative_to(base)))
            conn.execute(_read(path))
        if on_citus:
            citus.adapt_routines(conn)
            citus.delegate_routines(conn)
        step("validating routines")
        conn.execute(q.CHECK_BODIES_ON)
        conn.execute(q.PINNED_SEARCH_PATH)
        conn.execute(q.VALIDATE_ROUTINES)
    return dropped


def _routines(conn: psycopg.Connection) -> dict[int, tuple[str, str]]:
    """oid -> (xmin, signature) of every routine of app and api."""
    return {oid: (xmin, sig) for oid, xmin, sig in conn.execute(q.ROUTINES).fetchall()}


def _drop_stale(conn: psycopg.Connection, before: dict[int, tuple[str, str]]) -> list[str]:
    """Drop what no file defines any more (triggers first: they use the routines)."""
    dropped: list[str] = []
    for schema, table, name in conn.execute(q.STALE_TRIGGERS).fetchall():
        conn.execute(
            sql.SQL("drop trigger {} on {}").format(
                sql.Identifier(name), sql.Identifier(schema, table)
            )
        )
        dropped.append(f"trigger {name} on {schema}.{table}")
    after = _routines(conn)
    for oid, (xmin, signature) in sorted(before.items(), key=lambda item: item[1][1]):
        if after.get(oid) == (xmin, signature):
            # The signature is the catalog's own regprocedure output, quoted by it.
            conn.execute(sql.SQL("drop routine {}").format(sql.SQL(signature)))
            dropped.append(signature)
    return dropped


def status(dsn: str, root: Path | None = None) -> MigrationStatus:
    """What is applied and what is pending. Raises IT001 on a changed file."""
    migrations = schema_migrations(root)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            exists = conn.execute(q.LEDGER_EXISTS).fetchone()
            if exists is None or exists[0] is None:
                return MigrationStatus(applied=[], pending=[m.name for m in migrations])
            rows = conn.execute(q.LEDGER).fetchall()
            recorded = {name: (checksum, at) for name, checksum, at in rows}
            for migration in migrations:
                # Let the database raise IT001 the same way migrate would.
                conn.execute(
                    q.MIGRATION_STATUS, {"name": migration.name, "checksum": migration.checksum}
                )
    except psycopg.Error as exc:
        raise translate(exc) from exc
    return MigrationStatus(
        applied=[(name, at) for name, (_, at) in recorded.items()],
        pending=[m.name for m in migrations if m.name not in recorded],
    )
