"""Moving an existing single-node database onto Citus (docs/scale-out.md): the engine keeps
working on a server that preloads Citus, before and after CREATE EXTENSION citus, until
the migration distributes its tables."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from intime import migrate, pgcluster
from intime.db import actor


def _acts(dsn_service: str, org_id: uuid.UUID) -> object:
    with psycopg.connect(dsn_service) as service, actor(service, org_id):
        row = service.execute("select (api.get_actor()).org_id").fetchone()
    return row[0] if row else None


def test_a_single_node_database_works_on_a_citus_server_before_and_after_the_extension(
    citus: pgcluster.PgCluster,
) -> None:
    coordinator = citus.coordinator
    name = f"single_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(coordinator.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    admin_dsn = coordinator.dsn(name)
    migrate.migrate(admin_dsn)
    with psycopg.connect(coordinator.dsn(name, "intime_service"), autocommit=True) as service:
        row = service.execute(
            "select api.create_organization(p_name => 'Solo', p_slug => %s, p_timezone => 'UTC')",
            (f"solo-{name.replace('_', '-')}",),
        ).fetchone()
    assert row is not None
    org_id = row[0]
    before = _acts(coordinator.dsn(name, "intime_service"), org_id)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("create extension citus")
    after = _acts(coordinator.dsn(name, "intime_service"), org_id)
    assert (before, after) == (org_id, org_id)
