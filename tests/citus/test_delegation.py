"""Function delegation on the cluster (docs/scale-out.md, "Function delegation"): an
org-first ``api`` call made alone, outside a transaction block, runs on the node that
holds the org; its statements are local there, and the jobs it enqueues go to that
node's queue."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime import citus as intime_citus
from intime import migrate, pgcluster, pgserver
from intime.db import actor
from tests.citus.conftest import Org, make_org

PUSHED = "pushing down the function call"
SEND = (
    "select api.send_notification(p_org_id => %s, p_user_id => %s, p_category => 'system',"
    " p_title => %s, p_message => 'Hi', p_channels => %s, p_critical => true)"
)


@pytest.fixture(scope="module")
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> Org:
    """An org with email settings (so a send with email enqueues a job)."""
    made = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        actor(service, made.org_id, made.admin_id),
    ):
        domain = f"d{uuid.uuid4().hex[:10]}.example"
        service.execute("select api.add_sending_domain(p_domain => %s)", (domain,))
        service.execute(
            "select api.set_email_settings(p_from_email => %s, p_reply_domain => %s)",
            (f"crm@{domain}", domain),
        )
    return made


def _holder(citus: pgcluster.PgCluster, admin_dsn: str, org_id: uuid.UUID) -> pgserver.PgServer:
    """The node that holds the org's shards."""
    with psycopg.connect(admin_dsn) as conn:
        row = conn.execute(
            "select n.nodeport from pg_dist_placement as p"
            " join pg_dist_node as n on n.groupid = p.groupid"
            " where p.shardid = get_shard_id_for_distribution_column('app.user_profiles', %s)",
            (org_id,),
        ).fetchone()
    assert row is not None
    return next(node for node in citus.nodes if node.port == row[0])


def _service(node: pgserver.PgServer, messages: list[str]) -> psycopg.Connection:
    """An autocommit connection of the service to ``node`` that keeps Citus's DEBUG1 lines."""
    conn = psycopg.connect(node.dsn("intime", "intime_service"), autocommit=True)
    conn.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
    conn.execute("set client_min_messages = debug1")
    return conn


def _email_jobs(node: pgserver.PgServer) -> int:
    """The email jobs in ``node``'s own queue."""
    with psycopg.connect(node.dsn("intime")) as conn:
        row = conn.execute(
            "select count(*) from queue.pgqueuer where entrypoint = 'email.send'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_every_org_first_api_function_but_set_actor_is_delegated_by_its_org(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0]) as conn:
        rows = conn.execute(
            intime_citus.DELEGABLE_ROUTINES, {"arg": intime_citus.DELEGATION_ARG}
        ).fetchall()
        tenant = conn.execute(intime_citus.TENANT_COLOCATION).fetchone()
    assert tenant is not None
    delegated = {r[0] for r in rows if r[3] == r[2] - 1 and r[4] == tenant[0]}
    assert {r[0] for r in rows} - delegated == {"api.set_actor(uuid,uuid)"}
    assert {
        "api.run_execution(uuid,uuid)",
        "api.claim_email_send(uuid,uuid)",
        "api.claim_webhook(uuid,uuid)",
        "api.send_notification(uuid,text,text,text,text,jsonb,text,text,text,uuid,text,text,"
        "text[],text,timestamp with time zone,boolean,uuid)",
    } <= delegated


def test_a_later_migrate_keeps_every_delegation(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    """The files' CREATE OR REPLACE keeps a function's catalog row, so nothing is
    delegated again."""
    dsn, _ = citus_db
    migrate.migrate(dsn)
    with psycopg.connect(dsn) as conn, conn.transaction():
        again = intime_citus.delegate_routines(conn)
    assert again == []


@pytest.mark.parametrize("entry", ["coordinator", "other worker"])
def test_an_org_first_send_runs_on_the_node_that_holds_the_org(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    org: Org,
    entry: str,
) -> None:
    """Made on the coordinator or on the worker that does not hold the org, the call is
    pushed down, and the email job it enqueues is in the holder's queue, announced."""
    holder = _holder(citus, citus_db[0], org.org_id)
    start = (
        citus.coordinator
        if entry == "coordinator"
        else next(n for n in citus.worker_nodes if n.port != holder.port)
    )
    messages: list[str] = []
    before = _email_jobs(holder)
    listener = psycopg.connect(holder.dsn("intime"), autocommit=True)
    listener.execute("listen ch_pgqueuer")
    with _service(start, messages) as conn:
        row = conn.execute(
            SEND, (org.org_id, org.login_user_id, "Delegated", ["in_app", "email"])
        ).fetchone()
    assert row is not None
    assert PUSHED in messages
    assert _email_jobs(holder) == before + 1
    # Begun on the holder, the call's transaction is the holder's own: it wakes the
    # node's worker at once (app._may_notify()).
    with listener:
        woke = [n.channel for n in listener.notifies(timeout=5, stop_after=1)]
    assert woke == ["ch_pgqueuer"]
    with psycopg.connect(citus_db[0]) as admin:
        stored = admin.execute(
            "select title from app.notifications where org_id = %s and id = %s",
            (org.org_id, row[0]),
        ).fetchone()
    assert stored == ("Delegated",)


def test_a_call_in_a_transaction_block_is_not_pushed_down_and_still_works(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    messages: list[str] = []
    with _service(citus.coordinator, messages) as conn, conn.transaction():
        row = conn.execute(
            SEND, (org.org_id, org.login_user_id, "In a block", ["in_app"])
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    assert PUSHED not in messages


def test_a_pushed_down_error_keeps_its_sqlstate(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    messages: list[str] = []
    with (
        _service(citus.coordinator, messages) as conn,
        pytest.raises(psycopg.Error) as caught,
    ):
        conn.execute(
            "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
            (uuid.uuid4(), org.org_id),
        )
    assert caught.value.sqlstate == "IT004"
    assert PUSHED in messages


def test_an_org_first_call_by_a_login_is_refused_on_the_node_that_holds_the_org(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    """The org as an argument is the service's: a login naming its own org is refused
    (IT002), after the push-down as before it."""
    login = psycopg.connect(citus.coordinator.dsn("intime", org.login), autocommit=True)
    with login, pytest.raises(psycopg.Error) as caught:
        login.execute(SEND, (org.org_id, org.login_user_id, "Nope", ["in_app"]))
    assert caught.value.sqlstate == "IT002"
    with psycopg.connect(citus_db[0]) as admin:
        stored = admin.execute(
            "select count(*) from app.notifications where org_id = %s and title = 'Nope'",
            (org.org_id,),
        ).fetchone()
    assert stored == (0,)


def test_the_service_with_another_orgs_actor_is_refused(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    other = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as conn,
        actor(conn, other.org_id),
        pytest.raises(psycopg.Error) as caught,
    ):
        conn.execute(SEND, (org.org_id, org.login_user_id, "Crossed", ["in_app"]))
    assert caught.value.sqlstate == "IT005"
