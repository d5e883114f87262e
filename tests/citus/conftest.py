"""The Citus leg (``make pytest-citus``): one local cluster per test process, a
coordinator and two workers of PostgreSQL 18 with Citus (docs/scale-out.md).

The leg runs on binaries with Citus (``INTIME_PG_BINDIR`` when it has Citus, else the
wheel after ``make citus``). Without them it is skipped with the reason, unless
``INTIME_REQUIRE_CITUS`` is set (``.ci/run``): then it fails. A Citus database cannot
be cloned from a template, so tests share the session's migrated database and stay
apart by working in organisations of their own.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from intime import citus_build, migrate, pgcluster, pgserver
from intime.db import actor
from tests.peers import smtp_server

__all__ = ["smtp_server"]


@pytest.fixture(scope="session")
def citus_binaries() -> pgserver.PgBinaries:
    found = citus_build.find_citus_binaries(pgserver.default_home() / "pgbin")
    if found is None:
        reason = "no PostgreSQL with Citus (make citus builds it)"
        if os.environ.get("INTIME_REQUIRE_CITUS"):
            pytest.fail(f"INTIME_REQUIRE_CITUS is set but there is {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def citus(citus_binaries: pgserver.PgBinaries) -> Iterator[pgcluster.PgCluster]:
    """A running coordinator and two workers (no database of ours yet)."""
    shm = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private folder inside
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None
    with pgcluster.temporary_cluster(citus_binaries, workers=2, parent=parent) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def citus_db(citus: pgcluster.PgCluster) -> tuple[str, migrate.MigrateResult]:
    """The admin DSN of database ``intime`` on the coordinator, migrated, and what the
    migration did."""
    citus.create_database("intime")
    dsn = citus.coordinator.dsn("intime")
    return dsn, migrate.migrate(dsn)


@dataclasses.dataclass(frozen=True)
class Org:
    org_id: uuid.UUID
    admin_id: uuid.UUID
    login: str
    login_user_id: uuid.UUID


def make_org(citus: pgcluster.PgCluster, admin_dsn: str, dbname: str = "intime") -> Org:
    """An org made through the API (one transaction per call), with an admin and a user
    mapped to a new SQL login."""
    service_dsn = citus.coordinator.dsn(dbname, "intime_service")
    login = f"login_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(
            sql.SQL("create role {} login in role intime_user").format(sql.Identifier(login))
        )
    slug = f"org-{uuid.uuid4().hex[:10]}"
    with psycopg.connect(service_dsn) as service:
        row = service.execute(
            "select api.create_organization(p_name => 'Citus Org', p_slug => %s,"
            " p_timezone => 'UTC')",
            (slug,),
        ).fetchone()
        service.commit()
        assert row is not None
        org_id = row[0]
        ids = []
        for email, role, db_role in (
            (f"admin@{slug}.example", "admin", None),
            (f"rep@{slug}.example", "member", login),
        ):
            with actor(service, org_id):
                made = service.execute(
                    "select api.create_user(p_email => %s, p_full_name => 'Person',"
                    " p_role => %s, p_db_role => %s)",
                    (email, role, db_role),
                ).fetchone()
            assert made is not None
            ids.append(made[0])
    return Org(org_id, ids[0], login, ids[1])
