"""Who is acting, on every node (docs/scale-out.md, "Who is acting"): a worker runs its
part of a statement in a connection of the coordinator's current role, so the engine
pins the actor (SET LOCAL intime.pin, sent along by Citus) and reads the login map and
its key from the node's own copy of those reference tables."""

from __future__ import annotations

import psycopg
import pytest

from intime import migrate, pgcluster
from intime.db import actor
from tests.citus.conftest import Org, make_org


@pytest.fixture
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> Org:
    return make_org(citus, citus_db[0])


def test_the_service_actor_reaches_the_triggers_on_the_workers(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        actor(service, org.org_id, org.admin_id),
    ):
        row = service.execute(
            "insert into app.accounts (name) values ('Pinned') returning id, created_by"
        ).fetchone()
    assert row is not None
    assert row[1] == org.admin_id
    with psycopg.connect(citus_db[0]) as admin:
        history = admin.execute(
            "select changed_by from app.entity_history where org_id = %s and entity_id = %s",
            (org.org_id, row[0]),
        ).fetchall()
    assert history == [(org.admin_id,)]


def test_a_logins_own_insert_is_stamped_with_its_user(citus: pgcluster.PgCluster, org: Org) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", org.login), autocommit=True) as login:
        row = login.execute(
            "insert into app.accounts (name) values ('Mine') returning org_id, created_by"
        ).fetchone()
    assert row == (org.org_id, org.login_user_id)


def test_a_login_through_an_api_function_is_the_actor_on_the_workers(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", org.login), autocommit=True) as login:
        stages = dict(login.execute("select name, id from app.deal_stages").fetchall())
        # No owner: the built-in stage notification (not yet run on a cluster) stays out.
        deal = login.execute(
            "insert into app.deals (name, stage_id) values ('Deal', %s) returning id",
            (stages["Lead"],),
        ).fetchone()
        assert deal is not None
        login.execute(
            "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s, p_notes => null)",
            (deal[0], stages["Qualified"]),
        )
    with psycopg.connect(citus_db[0]) as admin:
        changed_by = admin.execute(
            "select changed_by from app.deal_stages_history where org_id = %s and deal_id = %s",
            (org.org_id, deal[0]),
        ).fetchall()
    assert changed_by == [(org.login_user_id,)]


def test_a_pin_without_the_engines_hash_is_no_actor_on_a_worker(
    citus: pgcluster.PgCluster, org: Org
) -> None:
    with psycopg.connect(citus.worker_nodes[0].dsn("intime")) as worker:
        good = worker.execute(
            "select app._actor_pin('service', %s, null)", (org.org_id,)
        ).fetchone()
        assert good is not None
        forged = good[0][:-64] + "0" * 64
        seen = []
        for pin in (good[0], forged):
            worker.execute("select set_config('intime.pin', %s, true)", (pin,))
            seen.append(worker.execute("select app._pinned('org')").fetchone())
        worker.rollback()
    assert seen == [(str(org.org_id),), (None,)]


def test_the_coordinator_takes_no_pin_past_the_transaction_that_wrote_it(
    citus: pgcluster.PgCluster, org: Org
) -> None:
    """The service's settings hold in the transaction of api.set_actor only: a pin set
    again at session level afterwards is no actor on the coordinator."""
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        with actor(service, org.org_id, org.admin_id):
            pin = service.execute("select current_setting('intime.pin')").fetchone()
        assert pin is not None
        service.execute("select set_config('intime.pin', %s, false)", (pin[0],))
        row = service.execute("select app.current_org_id()").fetchone()
        service.rollback()
    assert row == (None,)


def test_a_login_stays_one_users_across_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    """user_profiles' key on db_role is per org on a cluster; the login map's is not."""
    other = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus_db[0], autocommit=True) as admin,
        pytest.raises(psycopg.errors.UniqueViolation, match="login_roles_db_role_key"),
    ):
        admin.execute(
            "insert into app.login_roles (org_id, user_id, db_role, is_active)"
            " values (%s, %s, %s, true)",
            (other.org_id, other.admin_id, org.login),
        )
