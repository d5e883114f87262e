"""Function delegation on the cluster (docs/scale-out.md, "Function delegation"): an
org-first ``api`` call made alone, outside a transaction block, runs on the node that
holds the org; its statements are local there, and the jobs it enqueues go to that
node's queue."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime import citus as intime_citus
from intime import migrate, pgcluster, pgserver
from intime.db import actor
from tests.citus.conftest import Org, make_org

PUSHED = "pushing down the function call"
SEND = (
    "select api.send_notification(p_org_id => %s, p_user_id => %s, p_category => 'system',"
    " p_title => %s, p_message => 'Hi', p_channels => array['in_app'])"
)
RUN = "select api.run_execution(p_execution_id => %s, p_org_id => %s)"
MAIL_ON_VALUE = {
    "triggers": [{"type": "field_change", "field": "value"}],
    "steps": [
        {"name": "mail", "type": "send_email", "to": "x@nowhere.example", "subject": "S",
         "text": "T"}
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> Org:
    """An org with email settings and a workflow that emails when a deal's value
    changes (so a run enqueues an email job)."""
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
        service.execute(
            "select api.create_workflow(p_name => 'mail', p_entity_type => 'deal',"
            " p_definition => %s)",
            (Jsonb(MAIL_ON_VALUE),),
        )
    return made


def _pending_execution(admin_dsn: str, org: Org) -> uuid.UUID:
    """A deal's value changed: the org's workflow's new execution."""
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        row = admin.execute(
            "insert into app.deals (org_id, name, value, stage_id)"
            " select %(org)s, 'Deal', 1, s.id from app.deal_stages as s"
            " where s.org_id = %(org)s and s.name = 'Lead' returning id",
            {"org": org.org_id},
        ).fetchone()
        assert row is not None
        admin.execute(
            "update app.deals set value = 2 where org_id = %s and id = %s", (org.org_id, row[0])
        )
        made = admin.execute(
            "select id from app.workflow_executions"
            " where org_id = %s and entity_id = %s and status = 'pending'",
            (org.org_id, row[0]),
        ).fetchone()
    assert made is not None
    return made[0]


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


def test_every_org_first_api_function_is_delegated_by_its_org_but_the_named_ones(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0]) as conn:
        rows = conn.execute(
            intime_citus.DELEGABLE_ROUTINES, {"arg": intime_citus.DELEGATION_ARG}
        ).fetchall()
        tenant = conn.execute(intime_citus.TENANT_COLOCATION).fetchone()
    assert tenant is not None
    delegated = {r[0] for r in rows if r[3] == r[2] - 1 and r[4] == tenant[0]}
    plain = {r[0] for r in rows if r[3] is None}
    assert {r[0] for r in rows} - delegated == set(intime_citus.NOT_DELEGATED) == plain
    assert {
        "api.run_execution(uuid,uuid)",
        "api.claim_email_send(uuid,uuid)",
        "api.record_email_sent(uuid,text,text,uuid)",
        "api.fail_email_send(uuid,text,boolean,uuid)",
        "api.claim_webhook(uuid,uuid)",
        "api.complete_action(uuid,jsonb,uuid)",
    } <= delegated


def test_a_later_migrate_changes_no_delegation(
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
def test_an_org_first_run_runs_on_the_node_that_holds_the_org(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    org: Org,
    entry: str,
) -> None:
    """Made on the coordinator or on the worker that does not hold the org, the call is
    pushed down, and the email job its step enqueues is in the holder's queue,
    announced there at once."""
    holder = _holder(citus, citus_db[0], org.org_id)
    start = (
        citus.coordinator
        if entry == "coordinator"
        else next(n for n in citus.worker_nodes if n.port != holder.port)
    )
    execution = _pending_execution(citus_db[0], org)
    messages: list[str] = []
    before = _email_jobs(holder)
    listener = psycopg.connect(holder.dsn("intime"), autocommit=True)
    listener.execute("listen ch_pgqueuer")
    with _service(start, messages) as conn:
        row = conn.execute(RUN, (execution, org.org_id)).fetchone()
    assert row == ("waiting",)  # on its email
    assert PUSHED in messages
    assert _email_jobs(holder) == before + 1
    # Begun on the holder, the call's transaction is the holder's own: it wakes the
    # node's worker at once (app._may_notify()).
    with listener:
        woke = [n.channel for n in listener.notifies(timeout=5, stop_after=1)]
    assert woke == ["ch_pgqueuer"]


def test_a_run_in_a_transaction_block_stays_on_the_coordinator_and_its_email_step_works(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    """Not pushed down, the run's steps work from the coordinator too: the send_email
    step may tie its email to its action, as the run's transaction id is read on the
    node that runs it (it was the holder's before, and the step failed with IT003)."""
    execution = _pending_execution(citus_db[0], org)
    messages: list[str] = []
    with _service(citus.coordinator, messages) as conn, conn.transaction():
        row = conn.execute(RUN, (execution, org.org_id)).fetchone()
    assert row == ("waiting",)
    assert PUSHED not in messages


def test_an_org_first_send_notification_runs_where_it_is_called(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    """Not delegated (intime.citus.NOT_DELEGATED says why), it still acts for the org."""
    messages: list[str] = []
    with _service(citus.coordinator, messages) as conn:
        row = conn.execute(SEND, (org.org_id, org.login_user_id, "Here")).fetchone()
    assert row is not None
    assert PUSHED not in messages
    with psycopg.connect(citus_db[0]) as admin:
        stored = admin.execute(
            "select title from app.notifications where org_id = %s and id = %s",
            (org.org_id, row[0]),
        ).fetchone()
    assert stored == ("Here",)


def test_a_pushed_down_error_keeps_its_sqlstate(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    messages: list[str] = []
    with (
        _service(citus.coordinator, messages) as conn,
        pytest.raises(psycopg.Error) as caught,
    ):
        conn.execute(RUN, (uuid.uuid4(), org.org_id))
    assert caught.value.sqlstate == "IT004"
    assert PUSHED in messages


def test_an_org_first_call_by_a_login_is_refused_on_the_node_that_holds_the_org(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    """The org as an argument is the service's: a login naming its own org is refused
    (IT002) after the push-down as before it."""
    login = psycopg.connect(citus.coordinator.dsn("intime", org.login), autocommit=True)
    login.add_notice_handler(lambda diag: messages.append(diag.message_primary or ""))
    messages: list[str] = []
    login.execute("set client_min_messages = debug1")
    with login, pytest.raises(psycopg.Error) as caught:
        login.execute(
            "select action from api.claim_email_send(p_email_send_id => %s, p_org_id => %s)",
            (uuid.uuid4(), org.org_id),
        )
    assert caught.value.sqlstate == "IT002"
    assert PUSHED in messages


def test_the_service_with_another_orgs_actor_is_refused(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: Org
) -> None:
    other = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as conn,
        actor(conn, other.org_id),
        pytest.raises(psycopg.Error) as caught,
    ):
        conn.execute(SEND, (org.org_id, org.login_user_id, "Crossed"))
    assert caught.value.sqlstate == "IT005"
