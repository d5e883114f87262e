"""Shared fixtures: one embedded server per session, a migrated template
database, and a fresh clone of it for every test.

The server is started by ``intime.pgserver`` (as an unprivileged OS user when
the tests run as root); pytest-postgresql's DatabaseJanitor creates and drops
the per-test clones against it.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from intime import migrate, pgserver
from intime.seed import seed_org
from tests.support import TESTDATA, Database, Mail, TwoOrgs, janitor_for

TEMPLATE = "intime_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pgserver.PgServer]:
    cache = pgserver.default_home() / "pgbin"
    with pgserver.temporary_server(cache) as server:
        yield server


@pytest.fixture(scope="session")
def pg_major(pg_server: pgserver.PgServer) -> int:
    return pg_server.binaries.major_version()


@pytest.fixture(scope="session")
def template_db(pg_server: pgserver.PgServer) -> Iterator[str]:
    janitor = janitor_for(pg_server, TEMPLATE)
    janitor.init()
    dsn = pg_server.dsn(TEMPLATE)
    migrate.migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("update app.settings set allow_fake_clock = true")
    yield TEMPLATE
    janitor.drop()


@pytest.fixture
def db(pg_server: pgserver.PgServer, template_db: str) -> Iterator[Database]:
    """A fresh, migrated database cloned from the template."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    janitor = janitor_for(pg_server, name, template_db)
    janitor.init()
    try:
        migrate.bootstrap(pg_server.dsn(name))  # database privileges are not cloned
        yield Database(pg_server, name)
    finally:
        janitor.drop()


@pytest.fixture
def empty_db(pg_server: pgserver.PgServer) -> Iterator[Database]:
    """A fresh database with nothing migrated."""
    name = f"e_{uuid.uuid4().hex[:16]}"
    janitor = janitor_for(pg_server, name)
    janitor.init()
    try:
        yield Database(pg_server, name)
    finally:
        janitor.drop()


@pytest.fixture
def admin(db: Database) -> Iterator[psycopg.Connection]:
    """A superuser connection to the test database (autocommit)."""
    with db.connect(autocommit=True) as conn:
        yield conn


@pytest.fixture
def service(db: Database) -> Iterator[psycopg.Connection]:
    """A connection as intime_service (autocommit; use actor() for transactions)."""
    with db.connect("intime_service", autocommit=True) as conn:
        yield conn


@pytest.fixture
def make_login(pg_server: pgserver.PgServer) -> Iterator[Callable[[], str]]:
    """Create throwaway login roles that are members of intime_user."""
    created: list[str] = []

    def factory() -> str:
        name = f"login_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("create role {} login in role intime_user").format(sql.Identifier(name))
            )
        created.append(name)
        return name

    yield factory
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        for name in created:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
def two_orgs(db: Database, service: psycopg.Connection, make_login: Callable[[], str]) -> TwoOrgs:
    login_a, login_b = make_login(), make_login()
    a = seed_org(service, "Acme Staffing", "acme", login_role=login_a)
    b = seed_org(service, "Globex Sales", "globex", login_role=login_b)
    return TwoOrgs(a, b, login_a, login_b)


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
