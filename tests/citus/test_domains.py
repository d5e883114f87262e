"""A verified sending domain belongs to one org across the cluster (migration 0028): on
Citus app.sending_domains is spread over the workers by org and its unique keys are per
org, so app.verified_domains, a reference table copied to every node, holds the domain to
one org, whichever node the verification runs on."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime import migrate, pgcluster
from intime.db import actor
from tests.citus.conftest import Org, make_org


def _claim(service: psycopg.Connection, org: Org, domain: str) -> None:
    with actor(service, org.org_id, org.admin_id):
        service.execute("select * from api.add_sending_domain(p_domain => %s)", (domain,))


def _verify(dsn: str, org: Org, domain: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as service:
        service.execute(
            "select * from api.verify_sending_domain(p_org_id => %s, p_domain => %s)",
            (org.org_id, domain),
        )


def test_a_domain_one_org_verified_cannot_be_verified_by_another_on_any_node(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    a, b = make_org(citus, citus_db[0]), make_org(citus, citus_db[0])
    domain = f"mail-{uuid.uuid4().hex[:8]}.example"
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        _claim(service, a, domain)
        _claim(service, b, domain)
    _verify(citus.coordinator.dsn("intime", "intime_service"), a, domain)
    # The worker process of each node verifies what its queue holds: on a worker too.
    for node in (citus.coordinator, *citus.worker_nodes):
        with pytest.raises(psycopg.Error) as refused:
            _verify(node.dsn("intime", "intime_service"), b, domain)
        assert refused.value.sqlstate == "IT006"
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        owners = admin.execute(
            "select org_id from app.verified_domains where domain = %s", (domain,)
        ).fetchall()
        # The key holds on its own too, whatever writes the table.
        with pytest.raises(psycopg.errors.UniqueViolation, match="verified_domains_domain_key"):
            admin.execute(
                "insert into app.verified_domains (org_id, domain, verified_at)"
                " values (%s, %s, now())",
                (b.org_id, domain),
            )
    assert owners == [(a.org_id,)]
