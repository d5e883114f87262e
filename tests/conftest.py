"""Shared fixtures: one embedded server per session (per xdist worker), two
migrated template databases, and a fresh clone of one for every test.

- ``intime_template``: migrated, nothing else;
- ``intime_seeded``: the same with two organisations seeded (``two_orgs``), made once
  per session; a test that asks for ``two_orgs`` (directly or through another
  fixture) gets a clone of it, so seeding costs nothing per test.

A clone is one ``CREATE DATABASE ... TEMPLATE ... STRATEGY file_copy`` on a session
connection and a drop ``WITH (FORCE)``: no per-test connection set-up besides the
test's own. A test that never commits takes ``tx`` instead: a transaction on one
shared clone of the seeded template (per test process), rolled back after the test
(river's ``TestTx``), with no clone at all. The server is started by
``intime.pgserver`` (as an unprivileged OS user when the tests run as root).

**On a Citus cluster** (``INTIME_TEST_CITUS=1``, ``make pytest-citus``): the server
is the coordinator of a local cluster of three (``intime.pgcluster``), the templates are
Citus databases, and every database statement of these fixtures (a clone, a drop, a
login) runs on each node: a clone of a Citus database on every node is a Citus database
again, its metadata naming the same nodes (docs/scale-out.md, "The SQL suites on the
cluster"). Tests that cannot run there are skipped with their reason
(``tests/citus_exclusions.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from psycopg import sql

from intime import citus_build, migrate, pgcluster, pgserver
from intime_cli.seed import seed_org
from tests.support import (
    TESTDATA,
    CommittedInTestTx,
    Database,
    Mail,
    Queues,
    TwoOrgs,
    rolled_back,
)

TEMPLATE = "intime_template"
SEEDED = "intime_seeded"


def _memory_folder() -> Path | None:
    """Where the test server keeps its data: a tmpfs when there is one. A clone
    creates some 2,000 files; on tmpfs that takes 20 ms, on a disk 400 ms.
    ``INTIME_TEST_TMPDIR`` overrides it (an empty value: the system's temporary folder)."""
    chosen = os.environ.get("INTIME_TEST_TMPDIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private folder inside
    return shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def on_citus() -> bool:
    """Whether this run's server is a Citus cluster's coordinator (INTIME_TEST_CITUS)."""
    return os.environ.get("INTIME_TEST_CITUS", "") not in ("", "0")


class Nodes:
    """Superuser sessions on the ``postgres`` database of every node (one on a single
    server): ``execute`` runs a statement on each, as the database and role statements
    of these fixtures must on a cluster, where the ``postgres`` database has no Citus
    to send them on."""

    def __init__(self, conns: list[psycopg.Connection]) -> None:
        self.conns = conns

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor[Any]:
        cursor: psycopg.Cursor[Any] | None = None
        for conn in self.conns:
            cursor = conn.execute(query, params)
        assert cursor is not None
        return cursor


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[pgcluster.PgCluster | None]:
    """The local Citus cluster of an ``INTIME_TEST_CITUS`` run, else None."""
    if not on_citus():
        yield None
        return
    binaries = citus_build.find_citus_binaries(pgserver.default_home() / "pgbin")
    if binaries is None:
        pytest.fail("INTIME_TEST_CITUS is set but there is no PostgreSQL with Citus (make citus)")
    with pgcluster.temporary_cluster(binaries, workers=2, parent=_memory_folder()) as nodes:
        yield nodes


@pytest.fixture(scope="session")
def pg_server(citus_cluster: pgcluster.PgCluster | None) -> Iterator[pgserver.PgServer]:
    if citus_cluster is not None:
        yield citus_cluster.coordinator
        return
    cache = pgserver.default_home() / "pgbin"
    with pgserver.temporary_server(cache, parent=_memory_folder()) as server:
        yield server


@pytest.fixture(scope="session")
def pg_major(pg_server: pgserver.PgServer) -> int:
    return pg_server.binaries.major_version()


@pytest.fixture(scope="session")
def cluster(
    pg_server: pgserver.PgServer, citus_cluster: pgcluster.PgCluster | None
) -> Iterator[psycopg.Connection]:
    """A superuser session on the ``postgres`` database that creates and drops the
    test databases (on a Citus cluster, one on every node: :class:`Nodes`)."""
    servers = citus_cluster.nodes if citus_cluster is not None else [pg_server]
    with contextlib.ExitStack() as stack:
        conns = [
            stack.enter_context(psycopg.connect(server.dsn(), autocommit=True))
            for server in servers
        ]
        yield conns[0] if citus_cluster is None else cast(psycopg.Connection, Nodes(conns))


def create_database(cluster: psycopg.Connection, name: str, template: str | None = None) -> None:
    """One statement; the database-level grants that a template does not carry."""
    ident = sql.Identifier(name)
    if template is None:
        cluster.execute(sql.SQL("create database {}").format(ident))
        return
    if isinstance(cluster, Nodes):
        # Citus's maintenance daemon keeps a session on each Citus database: the
        # template is closed to it (it retries, in vain) before it is copied.
        cluster.execute(
            sql.SQL("alter database {} with allow_connections false").format(
                sql.Identifier(template)
            )
        )
        cluster.execute(
            "select count(pg_catalog.pg_terminate_backend(pid, 5000)) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            (template,),
        )
    cluster.execute(
        sql.SQL("create database {} template {} strategy file_copy").format(
            ident, sql.Identifier(template)
        )
    )
    for conn in cluster.conns if isinstance(cluster, Nodes) else [cluster]:
        _copy_database_settings(conn, template, name)
    # Database privileges are not copied by CREATE DATABASE ... TEMPLATE
    # (sql/bootstrap.sql grants them at migration).
    cluster.execute(
        sql.SQL(
            "grant connect, create, temporary on database {0} to intime_owner;"
            "grant connect on database {0} to intime_service, intime_user;"
            "revoke temporary on database {0} from public"
        ).format(ident)
    )


DATABASE_SETTINGS = (
    "select unnest(s.setconfig) from pg_catalog.pg_db_role_setting as s"
    " join pg_catalog.pg_database as d on d.oid = s.setdatabase"
    " where d.datname = %s and s.setrole = 0"
)
SETTING = re.compile(r"^([a-z_][a-z0-9_.]*)=(.*)$", re.DOTALL)


def _copy_database_settings(conn: psycopg.Connection, template: str, name: str) -> None:
    """The template's ``ALTER DATABASE ... SET`` settings (sql/bootstrap.sql's), which
    CREATE DATABASE ... TEMPLATE does not copy: on Citus, propagate_set_commands."""
    for (item,) in conn.execute(DATABASE_SETTINGS, (template,)).fetchall():
        found = SETTING.match(item)
        assert found is not None, item
        conn.execute(
            sql.SQL("alter database {} set {} = {}").format(
                sql.Identifier(name), sql.SQL(found.group(1)), sql.Literal(found.group(2))
            )
        )


def drop_database(cluster: psycopg.Connection, name: str) -> None:
    ident = sql.Identifier(name)
    if isinstance(cluster, Nodes):
        # Closed first: a late Citus session (the maintenance daemon, a coordinator's
        # connection) would otherwise come in between FORCE's terminate and the drop.
        exists = (
            cluster.conns[0]
            .execute("select 1 from pg_catalog.pg_database where datname = %s", (name,))
            .fetchone()
        )
        if exists is None:
            return
        cluster.execute(sql.SQL("alter database {} with allow_connections false").format(ident))
        for conn in cluster.conns:
            # FORCE waits 5 s for the sessions it ends; a Citus backend busy with a
            # remote call may take longer, so it is asked again.
            for attempt in range(4):
                try:
                    conn.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 3:
                        raise
        return
    cluster.execute(sql.SQL("drop database if exists {} with (force)").format(ident))


@pytest.fixture(scope="session")
def template_db(
    pg_server: pgserver.PgServer,
    cluster: psycopg.Connection,
    citus_cluster: pgcluster.PgCluster | None,
) -> Iterator[str]:
    if citus_cluster is not None:
        citus_cluster.create_database(TEMPLATE)  # Citus on every node, the workers added
    else:
        create_database(cluster, TEMPLATE)
    dsn = pg_server.dsn(TEMPLATE)
    migrate.migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update app.settings set allow_fake_clock = true")
    yield TEMPLATE
    drop_database(cluster, TEMPLATE)


def _new_login(cluster: psycopg.Connection) -> str:
    name = f"login_{uuid.uuid4().hex[:12]}"
    cluster.execute(
        sql.SQL("create role {} login in role intime_user").format(sql.Identifier(name))
    )
    return name


def _console_session(service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """A console sign-in of the user (app.web_sessions), so every tenant table has a row
    of each org (tests/sql/core/test_tenancy.py probes them all)."""
    with service.transaction():
        service.execute("select api.set_actor(p_org_id => %s)", (org_id,))
        row = service.execute(
            "select token from api.create_api_token(p_name => 'console', p_user_id => %s)",
            (user_id,),
        ).fetchone()
        assert row is not None
        service.execute("select api.create_web_session(p_token => %s)", (row[0],))


@pytest.fixture(scope="session")
def seeded_template(
    pg_server: pgserver.PgServer, cluster: psycopg.Connection, template_db: str
) -> Iterator[TwoOrgs]:
    """``intime_seeded``: the template with two organisations, seeded once."""
    create_database(cluster, SEEDED, template_db)
    login_a, login_b = _new_login(cluster), _new_login(cluster)
    with psycopg.connect(pg_server.dsn(SEEDED, "intime_service"), autocommit=True) as service:
        a = seed_org(service, "Acme Staffing", "acme", login_role=login_a)
        b = seed_org(service, "Globex Sales", "globex", login_role=login_b)
        for org in (a, b):
            _console_session(service, org.org_id, org.rep_ids[0])
    yield TwoOrgs(a, b, login_a, login_b)
    drop_database(cluster, SEEDED)
    for name in (login_a, login_b):
        cluster.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
def db(
    request: pytest.FixtureRequest,
    pg_server: pgserver.PgServer,
    cluster: psycopg.Connection,
    template_db: str,
) -> Iterator[Database]:
    """A fresh, migrated database cloned from a template: the seeded one when the
    test uses ``two_orgs``."""
    template = template_db
    if "two_orgs" in request.fixturenames:
        request.getfixturevalue("seeded_template")
        template = SEEDED
    name = f"t_{uuid.uuid4().hex[:16]}"
    create_database(cluster, name, template)
    try:
        yield Database(pg_server, name)
    finally:
        drop_database(cluster, name)


class SharedDb:
    """The clone that ``tx`` tests share, one per test process, made on first use;
    ``discard`` drops it after a test committed into it, so the next gets a clean one."""

    def __init__(self, server: pgserver.PgServer, cluster: psycopg.Connection) -> None:
        self.server, self.cluster = server, cluster
        self._current: Database | None = None

    def get(self) -> Database:
        if self._current is None:
            name = f"s_{uuid.uuid4().hex[:16]}"
            create_database(self.cluster, name, SEEDED)
            self._current = Database(self.server, name)
        return self._current

    def discard(self) -> None:
        if self._current is not None:
            drop_database(self.cluster, self._current.name)
            self._current = None


@pytest.fixture(scope="session")
def shared_db(
    pg_server: pgserver.PgServer, cluster: psycopg.Connection, seeded_template: TwoOrgs
) -> Iterator[SharedDb]:
    """The clone of the seeded template that ``tx`` tests share: nothing they do is
    ever committed into it."""
    shared = SharedDb(pg_server, cluster)
    yield shared
    shared.discard()


@pytest.fixture
def tx(shared_db: SharedDb) -> Iterator[psycopg.Connection]:
    """A superuser connection inside a transaction on the shared clone (two orgs seeded,
    as ``seeded_template`` describes), rolled back after the test. For tests that never
    commit: one that does fails (``CommittedInTestTx``) and the clone it wrote into is
    dropped, so no later test sees its writes. ``conn.transaction()`` inside is a
    savepoint, so an expected error can be caught and the test go on."""
    database = shared_db.get()
    try:
        with database.connect() as conn, rolled_back(conn):
            yield conn
    except CommittedInTestTx:
        shared_db.discard()
        raise


@pytest.fixture
def empty_db(pg_server: pgserver.PgServer, cluster: psycopg.Connection) -> Iterator[Database]:
    """A fresh database with nothing migrated."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    create_database(cluster, name)
    try:
        yield Database(pg_server, name)
    finally:
        drop_database(cluster, name)


@pytest.fixture
def admin(db: Database) -> Iterator[psycopg.Connection]:
    """A superuser connection to the test database (autocommit)."""
    with db.connect(autocommit=True) as conn:
        yield conn


@pytest.fixture
def queues(
    db: Database, admin: psycopg.Connection, citus_cluster: pgcluster.PgCluster | None
) -> Iterator[Queues]:
    """The test database's job queue: ``admin``'s on one server, every node's on a Citus
    cluster (:class:`tests.support.Queues`)."""
    if citus_cluster is None:
        yield Queues([admin])
        return
    with contextlib.ExitStack() as stack:
        others = [
            stack.enter_context(psycopg.connect(server.dsn(db.name), autocommit=True))
            for server in citus_cluster.worker_nodes
        ]
        yield Queues([admin, *others])


@pytest.fixture
def service(db: Database) -> Iterator[psycopg.Connection]:
    """A connection as intime_service (autocommit; use actor() for transactions)."""
    with db.connect("intime_service", autocommit=True) as conn:
        yield conn


@pytest.fixture
def make_login(cluster: psycopg.Connection) -> Iterator[Callable[[], str]]:
    """Create throwaway login roles that are members of intime_user."""
    created: list[str] = []

    def factory() -> str:
        name = _new_login(cluster)
        created.append(name)
        return name

    yield factory
    for name in created:
        cluster.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
def two_orgs(db: Database, seeded_template: TwoOrgs) -> TwoOrgs:
    """Org A (Acme Staffing) and org B (Globex Sales), as ``intime_cli.seed`` makes
    them, each with a login role mapped to its first rep; ``db`` is a clone of the
    seeded template (when a test asks for ``two_orgs`` only through
    ``request.getfixturevalue``, ``db`` was cloned from the bare one: refused here)."""
    with db.connect() as conn:
        row = conn.execute(
            "select count(*) from app.organizations where id = %s", (seeded_template.a.org_id,)
        ).fetchone()
    assert row == (1,), "request two_orgs as a test argument so that db clones the seeded template"
    return seeded_template


def pytest_report_header() -> list[str]:
    return [f"INTIME_PG_BINDIR={os.environ.get('INTIME_PG_BINDIR', '(discovery order)')}"]


RESEND_EVENTS = TESTDATA / "resend_events.json"


@pytest.fixture
def mail(service: psycopg.Connection, two_orgs: TwoOrgs) -> Mail:
    """Org A, configured for email by the seed (template 'intro' needs contact.first_name)."""
    return Mail(service, two_orgs.a.org_id, two_orgs.a.admin_id)


@pytest.fixture(scope="session")
def resend_events() -> list[dict]:
    return json.loads(RESEND_EVENTS.read_text())["events"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a Citus cluster, the tests tests/citus_exclusions.py names are skipped, each
    with its reason."""
    del config
    if not on_citus() or os.environ.get("INTIME_TEST_CITUS") == "all":
        return  # "all": the named ones too, to see which still fail (the generator's run)
    from tests.citus_exclusions import reason_for

    for item in items:
        reason = reason_for(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"on a Citus cluster: {reason}"))
