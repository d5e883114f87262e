"""The cross-tenant probe on the cluster: two orgs made by the seed (each statement in a
transaction of its own, as on a single node), probed from a mapped login of org A and
from the service acting for org A, against org B's rows in every tenant table
(docs/scale-out.md)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from intime import migrate, pgcluster
from intime_cli.probe import ProbeReport, probe, tenant_tables
from intime_cli.seed import SeededOrg, seed_org


@pytest.fixture(scope="module")
def seeded(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> tuple[SeededOrg, SeededOrg, str]:
    """Two seeded orgs, A with its first rep mapped to a new login."""
    login = f"login_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        admin.execute(
            sql.SQL("create role {} login in role intime_user").format(sql.Identifier(login))
        )
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        a = seed_org(service, "Acme Staffing", f"acme-{tag}", login_role=login)
        b = seed_org(service, "Globex Sales", f"globex-{tag}")
    return a, b, login


def _assert_clean(report: ProbeReport, admin: psycopg.Connection) -> None:
    assert report.missing_seed == [], "the seed left these tenant tables empty for org B"
    assert sorted(report.tables) == sorted(tenant_tables(admin))
    assert report.total_leaked == 0, report.leaked_rows
    assert report.total_allowed_writes == 0, report.allowed_writes


def test_the_seed_puts_a_row_of_the_probed_org_in_every_tenant_table(
    seeded: tuple[SeededOrg, SeededOrg, str], citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """As on a single node (tests/sql/core/test_tenancy.py): org B, seeded last, has a row
    in every tenant table; org A's campaign logs went to the archive with B's seed."""
    _, b, _ = seeded
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        empty = [
            table
            for table in tenant_tables(admin)
            if admin.execute(
                sql.SQL("select count(*) from {} where org_id = %s").format(
                    sql.Identifier("app", table)
                ),
                (b.org_id,),
            ).fetchone()
            == (0,)
        ]
    assert empty == []


def test_a_mapped_login_reads_and_writes_nothing_of_another_org(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    seeded: tuple[SeededOrg, SeededOrg, str],
) -> None:
    a, b, login = seeded
    with (
        psycopg.connect(citus.coordinator.dsn("intime", login)) as attacker,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        # The login sees its own org's rows, so the probe is not vacuous.
        own = attacker.execute("select count(*) from app.deals").fetchone()
        attacker.rollback()
        report = probe(attacker, admin, b.org_id)
        _assert_clean(report, admin)
    assert own == (len(a.deal_ids),)


def test_the_service_acting_for_one_org_reads_and_writes_nothing_of_another(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    seeded: tuple[SeededOrg, SeededOrg, str],
) -> None:
    a, b, _ = seeded

    def set_actor(conn: psycopg.Connection) -> None:
        conn.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)", (a.org_id, a.admin_id)
        )

    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as attacker,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        report = probe(attacker, admin, b.org_id, before=set_actor)
        _assert_clean(report, admin)
