"""The Citus leg (``make pytest-citus``): one local cluster per test process, a
coordinator and two workers of PostgreSQL 18 with Citus (docs/scale-out.md).

The leg runs on binaries with Citus (``INTIME_PG_BINDIR`` when it has Citus, else the
wheel after ``make citus``). Without them it is skipped with the reason, unless
``INTIME_REQUIRE_CITUS`` is set (``.ci/run``): then it fails. A Citus database cannot
be cloned from a template, so tests share the session's migrated database and stay
apart by working in organisations of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from intime import citus_build, migrate, pgcluster, pgserver


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
