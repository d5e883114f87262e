"""Two of the seed's three criteria on the cluster, with a worker process per node (the
queue is per node: docs/scale-out.md) and real SMTP on loopback:

- a deal won runs a 3-step workflow (a task, an email, a notification) to completion;
- 10 contacts go through a 3-step sequence (an email, a task, an email).

The third, a notification live on the stream, is tests/citus/test_stream.py."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import LiteralString

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime import migrate, pgcluster, pgserver
from intime.db import actor
from intime_cli import queries as q
from intime_cli.demo_workflows import WON_FOLLOW_UP
from intime_cli.seed import SeededOrg, seed_org
from tests.peers import SmtpServer
from worker.app import CLUSTER_DEQUEUE_TIMEOUT, start_worker
from worker.transports import OutboxTransport, SmtpTransport, Transport

PUBLIC = "https://crm.example"

pytestmark = pytest.mark.usefixtures("smtp_server")


@pytest.fixture(scope="module")
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> SeededOrg:
    """A seeded org whose email goes out over SMTP."""
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        seeded = seed_org(service, "Criteria Co", f"criteria-{uuid.uuid4().hex[:8]}")
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        admin.execute(
            "update app.email_settings set provider = 'smtp' where org_id = %s", (seeded.org_id,)
        )
    return seeded


def _one(conn: psycopg.Connection, query: LiteralString, params: dict[str, object]) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _run_every_node_until(
    citus: pgcluster.PgCluster,
    smtp: SmtpServer,
    outbox: Path,
    done: Callable[[], bool],
    timeout: float = 60,
) -> None:
    """A worker on each node, the way production runs them, until ``done()`` holds;
    then each stops as on SIGTERM."""
    nodes: list[pgserver.PgServer] = [citus.coordinator, *citus.worker_nodes]

    def transports() -> dict[str, Transport]:
        return {"outbox": OutboxTransport(outbox), "smtp": SmtpTransport(smtp.host, smtp.port)}

    async def scenario() -> None:
        workers = [
            await start_worker(node.dsn("intime", "intime_service"), transports(), PUBLIC)
            for node in nodes
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            deadline = time.monotonic() + timeout
            while not await asyncio.to_thread(done):
                assert not any(t.done() for t in tasks), "a worker stopped"
                assert time.monotonic() < deadline, "timed out waiting for the workers"
                await asyncio.sleep(0.2)
        finally:
            for w in workers:
                await asyncio.wait_for(w.stop(), timeout=30)
                await w.close()

    asyncio.run(scenario())


def test_a_won_deal_runs_its_three_step_workflow_with_an_email_through_the_node_workers(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    org: SeededOrg,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        with actor(service, org.org_id, org.admin_id):
            workflow = service.execute(
                "select api.create_workflow(p_name => 'won follow-up', p_entity_type => 'deal',"
                " p_definition => %s)",
                (Jsonb(WON_FOLLOW_UP),),
            ).fetchone()
        deal = org.deal_ids[1]
        with actor(service, org.org_id, org.rep_ids[1]):
            service.execute(
                q.MOVE_DEAL_STAGE,
                {"deal_id": deal, "stage_id": org.stage_ids["Closed Won"], "notes": "won"},
            )
    assert workflow is not None

    def finished() -> bool:
        with psycopg.connect(citus_db[0], autocommit=True) as admin:
            row = admin.execute(
                "select bool_and(status in ('completed', 'failed')) from app.workflow_executions"
                " where org_id = %s and workflow_id = %s",
                (org.org_id, workflow[0]),
            ).fetchone()
        return bool(row and row[0])

    _run_every_node_until(citus, smtp_server, tmp_path, finished)
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        execution = admin.execute(
            "select status, error_message from app.workflow_executions"
            " where org_id = %s and workflow_id = %s",
            (org.org_id, workflow[0]),
        ).fetchall()
        steps = admin.execute(
            "select s.step_name, s.status from app.workflow_steps as s"
            " inner join app.workflow_executions as e on e.org_id = s.org_id"
            "  and e.id = s.execution_id"
            " where e.org_id = %s and e.workflow_id = %s order by s.position",
            (org.org_id, workflow[0]),
        ).fetchall()
        task = admin.execute(
            "select count(*) from app.activities where org_id = %s and entity_id = %s"
            " and subject like 'Kick-off call for %%'",
            (org.org_id, deal),
        ).fetchone()
    assert execution == [("completed", None)]
    assert steps == [
        ("kickoff_task", "completed"),
        ("thank_contact", "completed"),
        ("celebrate", "completed"),
    ]
    assert task == (1,)
    assert [m["Subject"] for m in smtp_server.messages if "Thank you" in m["Subject"]] != []


def test_ten_contacts_go_through_a_three_step_sequence_on_the_cluster(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    org: SeededOrg,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        with actor(service, org.org_id, org.admin_id):
            contacts = [
                _one(
                    service,
                    q.INSERT_CONTACT,
                    {
                        "first_name": f"C{i}",
                        "last_name": tag,
                        "email": f"c{i}.{tag}@client.{org.slug}.example",
                        "account_id": None,
                        "owner_id": org.rep_ids[0],
                        "timezone": "UTC",
                    },
                )
                for i in range(10)
            ]
        with actor(service, org.org_id, org.admin_id):
            campaign = service.execute(
                q.CREATE_CAMPAIGN,
                {
                    "name": f"Three steps {tag}",
                    "start": "00:00",
                    "end": "23:59:59",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    "timezone": "UTC",
                    "daily_limit": None,
                    "min_sample": 100,
                },
            ).fetchone()
            assert campaign is not None
            ids = {"campaign_id": campaign[0]}
            for step in (
                {"subject": "Hello {{contact.first_name}}", "body_html": "<p>One</p>"},
                None,
                {"subject": "Again, {{contact.first_name}}", "body_html": "<p>Three</p>"},
            ):
                if step is None:
                    service.execute(
                        q.ADD_TASK_STEP,
                        {**ids, "channel": "task", "delay_minutes": 0, "task_config": Jsonb({})},
                    )
                else:
                    service.execute(
                        q.ADD_EMAIL_STEP,
                        {**ids, "delay_minutes": 0, "ab_variants": None, **step},
                    )
            enrolled = service.execute(
                q.ENROLL_CONTACTS, {**ids, "contact_ids": contacts}
            ).fetchone()
            service.execute(q.ACTIVATE_CAMPAIGN, ids)
        for _ in range(3):
            with service.transaction():
                service.execute(q.TICK_CAMPAIGNS, {"batch_size": 100})

    def sent() -> bool:
        return len([m for m in smtp_server.messages if f".{tag}@" in m["To"]]) >= 20

    _run_every_node_until(citus, smtp_server, tmp_path, sent)
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        enrollments = admin.execute(
            "select status, steps_completed, emails_sent, tasks_created"
            " from app.campaign_enrollments where org_id = %s and campaign_id = %s",
            (org.org_id, campaign[0]),
        ).fetchall()
        sends = admin.execute(
            "select status, count(*) from app.email_sends"
            " where org_id = %s and enrollment_id is not null and to_email like %s group by 1",
            (org.org_id, f"%.{tag}@%"),
        ).fetchall()
    assert enrolled is not None
    assert enrolled[0]["enrolled"] == 10
    assert enrollments == [("completed", 3, 2, 1)] * 10
    assert sends == [("sent", 20)]
    assert len([m for m in smtp_server.messages if f".{tag}@" in m["To"]]) == 20


def test_a_worker_on_a_citus_node_polls_its_queue_every_second(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], tmp_path: Path
) -> None:
    """A job a participant enqueues comes with no NOTIFY (app._may_notify): the worker
    looks at its node's queue every second instead of every 30."""

    async def timeout() -> object:
        worker = await start_worker(
            citus.worker_nodes[0].dsn("intime", "intime_service"),
            {"outbox": OutboxTransport(tmp_path)},
            PUBLIC,
        )
        try:
            return worker.options.dequeue_timeout
        finally:
            await worker.close()

    assert asyncio.run(timeout()) == CLUSTER_DEQUEUE_TIMEOUT
