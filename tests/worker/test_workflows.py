"""Workflows through the real worker: workflow.run and webhook.deliver jobs against real
PostgreSQL, real SMTP and a loopback webhook receiver that verifies every request with
the ``standardwebhooks`` library and the org's own signing secret."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, open_pool
from intime_cli.serving import free_port, serve_in_thread
from tests.peers import BLOCK, Receiver, SmtpServer, receiver_app
from tests.sql.workflows.conftest import Flows
from tests.support import Database, TwoOrgs
from worker import workflows
from worker.app import WorkerOptions, run_worker, start_worker
from worker.transports import OutboxTransport, SmtpTransport, Transport

PUBLIC = "https://crm.example"
LOOPBACK = ("127.0.0.0/8",)
ON_VALUE_CHANGE = [{"type": "field_change", "field": "value"}]


@pytest.fixture(scope="module")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    with serve_in_thread(receiver_app(receiver), port=receiver.port):
        yield receiver


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def flows(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Flows:
    admin.execute("delete from queue.pgqueuer")  # only this test's jobs
    return Flows(service, admin, two_orgs)


@pytest.fixture
def receiver(_receiver_server: Receiver, flows: Flows) -> Iterator[Receiver]:
    """The receiver, verifying with org A's secret (read as its admin)."""
    with actor(flows.conn, flows.org_id, flows.admin_id):
        row = flows.conn.execute("select api.get_webhook_signing_secret()").fetchone()
    assert row is not None
    receiver = _receiver_server
    receiver.hits.clear()
    receiver.script.clear()
    receiver.default = 200
    receiver.release.clear()
    receiver.secret = row[0]
    yield receiver
    receiver.release.set()  # a blocked request ends


@dataclasses.dataclass
class Worker:
    """Runs the real worker (build_worker / run_worker) in this process."""

    db: Database
    outbox: Path
    smtp: SmtpServer | None = None

    def transports(self) -> dict[str, Transport]:
        found: dict[str, Transport] = {"outbox": OutboxTransport(self.outbox)}
        if self.smtp is not None:
            found["smtp"] = SmtpTransport(self.smtp.host, self.smtp.port)
        return found

    def drain(self, *, allow: tuple[str, ...] = LOOPBACK, **options: Any) -> None:
        """Until the queue is empty (deferred jobs included)."""
        service = self.db.dsn("intime_service")
        worker = run_worker(
            service, self.transports(), PUBLIC, drain=True, webhook_allow=allow, **options
        )
        asyncio.run(asyncio.wait_for(worker, timeout=60))

    def run_until(
        self, done: Callable[[], bool], *, allow: tuple[str, ...] = LOOPBACK, timeout: float = 30
    ) -> None:
        """Until ``done()`` holds; then the worker stops the way it does on SIGTERM."""

        async def scenario() -> None:
            worker = await start_worker(
                self.db.dsn("intime_service"),
                self.transports(),
                PUBLIC,
                webhook_allow=allow,
                options=WorkerOptions(dequeue_timeout=timedelta(seconds=1)),
            )
            task = asyncio.create_task(worker.run())
            try:
                deadline = time.monotonic() + timeout
                while not await asyncio.to_thread(done):
                    assert not task.done(), "the worker stopped"
                    assert time.monotonic() < deadline, "timed out waiting for the worker"
                    await asyncio.sleep(0.05)
            finally:
                await asyncio.wait_for(worker.stop(), timeout=30)
                await worker.close()

        asyncio.run(scenario())

    def sweep(self) -> dict[str, Any]:
        """One run of the worker's minute job (workflows.sweep)."""

        async def once() -> dict[str, Any]:
            pool = await open_pool(self.db.dsn("intime_service"), max_size=1)
            try:
                return await workflows.sweep(pool)
            finally:
                await pool.close()

        return asyncio.run(once())


@pytest.fixture
def worker(db: Database, flows: Flows, tmp_path: Path) -> Worker:
    return Worker(db, tmp_path / "outbox")


def start(flows: Flows, steps: list[dict[str, Any]], **definition: Any) -> uuid.UUID:
    """Create a workflow on deal value changes; a rep changes a deal; the execution's id."""
    workflow_id = flows.create({"triggers": ON_VALUE_CHANGE, "steps": steps, **definition})
    a = flows.orgs.a
    flows.write(
        "update app.deals set value = value + 5000 where id = %s",
        (a.deal_ids[0],),
        user=a.rep_ids[0],
    )
    [execution] = flows.executions(workflow_id)
    return execution["id"]


def webhook_steps(url: str) -> list[dict[str, Any]]:
    return [{"name": "hook", "type": "webhook", "url": url}]


def actions(flows: Flows, execution_id: uuid.UUID) -> list[dict[str, Any]]:
    cur = flows.owner.cursor(row_factory=dict_row)
    return cur.execute(
        "select * from app.workflow_actions where execution_id = %s order by created_at",
        (execution_id,),
    ).fetchall()


def waiting_for_retry(flows: Flows, execution_id: uuid.UUID) -> Callable[[], bool]:
    return lambda: flows.execution(execution_id)["waiting_for"] == "retry"


def make_the_retry_due(flows: Flows, worker: Worker, execution_id: uuid.UUID) -> None:
    """As if the backoff had passed: the execution's wake time is now, and the sweeper
    (the worker's minute job) moves its deferred workflow.run job forward to now."""
    flows.owner.execute(
        "update app.workflow_executions set wake_at = now() - interval '1 second' where id = %s",
        (execution_id,),
    )
    worker.sweep()
    [job] = flows.jobs()
    assert flows.owner.execute("select %s <= now()", (job["execute_after"],)).fetchone() == (True,)


def step_states(flows: Flows, execution_id: uuid.UUID) -> list[tuple[str, str]]:
    return [(s["step_name"], s["status"]) for s in flows.steps(execution_id)]


# -- the tests -----------------------------------------------------------------------------


def test_a_matching_deal_update_runs_three_steps_to_completion(
    flows: Flows, worker: Worker
) -> None:
    a = flows.orgs.a
    execution_id = start(
        flows,
        [
            {"name": "task", "type": "create_task", "title": "Follow up {{deal.name}}"},
            {"name": "bump", "type": "update_field", "field": "description", "value": "checked"},
            {
                "name": "tell",
                "type": "send_notification",
                "title": "Deal {{deal.name}}",
                "message": "checked",
            },
        ],
        conditions={"all": [{"field": "value", "operator": "gt", "value": 1000}]},
    )
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    assert step_states(flows, execution_id) == [
        ("task", "completed"),
        ("bump", "completed"),
        ("tell", "completed"),
    ]
    deal = flows.deal(a.deal_ids[0])
    assert deal["description"] == "checked"
    [[subject, entity_id]] = flows.owner.execute(
        "select subject, entity_id from app.activities where metadata ->> 'execution_id' = %s",
        (str(execution_id),),
    ).fetchall()
    assert (subject, entity_id) == (f"Follow up {deal['name']}", deal["id"])
    [tell] = [s for s in flows.steps(execution_id) if s["step_name"] == "tell"]
    [sent] = tell["result"]["notifications"]
    assert flows.owner.execute(
        "select title from app.notifications where id = %s", (sent["notification_id"],)
    ).fetchone() == (f"Deal {deal['name']}",)


def test_a_bulk_update_runs_through_batch_jobs_of_both_orgs(flows: Flows, worker: Worker) -> None:
    """One UPDATE per org starting several executions: their workflow.run_due jobs run
    them in batches (api.run_executions), each as its own org."""
    a, b = flows.orgs.a, flows.orgs.b
    steps = [
        {"name": "task", "type": "create_task", "title": "Call {{deal.name}}"},
        {"name": "bump", "type": "update_field", "field": "description", "value": "batched"},
    ]
    ours = flows.create({"triggers": ON_VALUE_CHANGE, "steps": steps})
    theirs = flows.create(
        {"triggers": ON_VALUE_CHANGE, "steps": steps}, org_id=b.org_id, admin_id=b.admin_id
    )
    # Not the deal the seed's pending approval locks.
    locked = [r[0] for r in flows.owner.execute("select entity_id from app.workflow_entity_locks")]
    touch = "update app.deals set value = value + 1 where id <> all(%s)"
    flows.write(touch, (locked,), user=a.rep_ids[0])
    flows.write(touch, (locked,), org_id=b.org_id, user=b.admin_id)
    started = flows.executions(ours) + flows.executions(theirs)
    assert len(flows.jobs("workflow.run_due")) == 2

    def ended() -> bool:
        return all(flows.execution(e["id"])["status"] != "pending" for e in started)

    worker.run_until(ended)
    for execution in started:
        row = flows.execution(execution["id"])
        assert row["status"] == "completed", row["error_message"]
        assert flows.deal(row["entity_id"])["description"] == "batched"
        assert flows.deal(row["entity_id"])["org_id"] == row["org_id"]
    assert flows.owner.execute(
        "select count(*) from queue.pgqueuer_log where entrypoint = 'workflow.run_due' "
        "and status = 'successful'"
    ).fetchone() == (2,)


def test_a_batch_loop_hands_the_rest_back_between_batches_when_the_worker_stops(
    flows: Flows, db: Database
) -> None:
    """A worker that stops taking jobs ends a workflow.run_due loop after the batch in
    flight (its handler then re-queues the job for another worker), not after up to
    RUN_DUE_ROUNDS more batches."""
    wf = flows.create({"triggers": ON_VALUE_CHANGE, "steps": [
        {"name": "bump", "type": "update_field", "field": "description", "value": "x"}
    ]})  # fmt: skip
    # Not the deal the seed's pending approval locks.
    locked = [r[0] for r in flows.owner.execute("select entity_id from app.workflow_entity_locks")]
    flows.write("update app.deals set value = value + 1 where id <> all(%s)", (locked,))
    started = flows.executions(wf)
    assert len(started) >= 2

    async def loop(stopping: bool) -> workflows.DueRun:
        pool = await open_pool(db.dsn("intime_service"), max_size=1)
        try:
            return await workflows.run_due(pool, limit=1, stopping=lambda: stopping)
        finally:
            await pool.close()

    done = asyncio.run(loop(stopping=True))
    assert (done.batches, done.picked, done.handed_back) == (1, 1, True)
    assert [e["status"] for e in flows.executions(wf)].count("pending") >= len(started) - 1
    rest = asyncio.run(loop(stopping=False))
    assert not rest.handed_back
    assert {e["status"] for e in flows.executions(wf)} == {"completed"}


def test_the_worker_makes_the_log_partitions_when_it_starts(flows: Flows, worker: Worker) -> None:
    three_months_ahead = (
        "select to_regclass('app.workflow_execution_logs_y' "
        "|| to_char(now() at time zone 'UTC' + interval '3 months', 'YYYY\"m\"MM'))"
    )
    assert flows.owner.execute(three_months_ahead).fetchone() == (None,)
    worker.drain()
    assert flows.owner.execute(three_months_ahead).fetchone() != (None,)


def test_a_send_email_step_completes_after_the_smtp_server_got_the_mail(
    flows: Flows, worker: Worker, smtp_server: SmtpServer
) -> None:
    flows.owner.execute(
        "update app.email_settings set provider = 'smtp' where org_id = %s", (flows.org_id,)
    )
    worker.smtp = smtp_server
    execution_id = start(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "buyer@example.com",
                "subject": "About {{deal.name}}",
                "text": "Hello",
            }
        ],
    )
    worker.drain()
    [message] = [m for m in smtp_server.messages if m["To"] == "buyer@example.com"]
    deal = flows.deal(flows.orgs.a.deal_ids[0])
    assert message["Subject"] == f"About {deal['name']}"
    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    [step] = flows.steps(execution_id)
    send = flows.owner.execute(
        "select status, sent_at from app.email_sends where id = %s",
        (step["result"]["email_send_id"],),
    ).fetchone()
    assert send is not None
    status, sent_at = send
    assert status == "sent"
    assert step["result"]["status"] == "sent"
    assert step["completed_at"] >= sent_at
    assert execution["completed_at"] >= sent_at


def test_a_webhook_step_is_delivered_signed_and_completes(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    execution_id = start(flows, webhook_steps(receiver.url()))
    worker.drain()
    [hit] = receiver.hits
    assert hit.verified
    [action] = actions(flows, execution_id)
    assert hit.msg_id == f"msg_{action['id'].hex}"
    assert hit.headers["idempotency-key"] == hit.msg_id
    assert json.loads(hit.body)["data"]["execution_id"] == str(execution_id)
    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    assert action["status"] == "completed"
    assert action["result"]["status_code"] == 200
    assert action["result"]["response_excerpt"] == "answer 200"
    [step] = flows.steps(execution_id)
    assert (step["status"], step["result"]["status_code"]) == ("completed", 200)


def test_a_webhook_500_waits_for_a_retry_that_delivers_the_same_message(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    receiver.script.append(500)
    execution_id = start(flows, webhook_steps(receiver.url()))
    worker.run_until(waiting_for_retry(flows, execution_id))
    execution = flows.execution(execution_id)
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "retry")
    assert execution["next_retry_at"] is not None
    assert execution["retry_count"] == 1
    assert "HTTP 500" in execution["error_message"]
    assert len(receiver.hits) == 1

    make_the_retry_due(flows, worker, execution_id)
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    first, second = receiver.hits
    assert first.verified
    assert second.verified
    assert first.msg_id == second.msg_id
    assert [a["result"]["status_code"] for a in actions(flows, execution_id)] == [200]


def test_a_webhook_429_retries_no_sooner_than_its_retry_after(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    receiver.script.append((429, {"Retry-After": "120"}))
    execution_id = start(flows, webhook_steps(receiver.url()))
    worker.run_until(waiting_for_retry(flows, execution_id))
    execution = flows.execution(execution_id)
    [job] = flows.jobs()
    [[wait, job_wait]] = flows.owner.execute(
        "select extract(epoch from %s - now()), extract(epoch from %s - now())",
        (execution["next_retry_at"], job["execute_after"]),
    ).fetchall()
    assert 100 < wait <= 120  # not the 10 s backoff of a first retry
    assert 100 < job_wait <= 120
    assert "HTTP 429" in execution["error_message"]


def test_a_webhook_failing_past_max_retries_fails_and_retry_execution_finishes_it(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    receiver.default = 500
    execution_id = start(flows, webhook_steps(receiver.url()), max_retries=1)
    worker.run_until(waiting_for_retry(flows, execution_id))
    make_the_retry_due(flows, worker, execution_id)
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "failed"
    assert "HTTP 500" in execution["error_message"]
    assert len(receiver.hits) == 2

    receiver.default = 200
    flows.write("select api.retry_execution(p_execution_id => %s)", (execution_id,))
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    assert len(receiver.hits) == 3
    assert len({hit.msg_id for hit in receiver.hits}) == 1
    assert all(hit.verified for hit in receiver.hits)


def test_a_webhook_4xx_fails_the_execution_without_a_retry(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    receiver.script.append(400)
    execution_id = start(flows, webhook_steps(receiver.url()))
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "failed"
    assert execution["retry_count"] == 0
    assert "HTTP 400" in execution["error_message"]
    assert len(receiver.hits) == 1
    [action] = actions(flows, execution_id)
    assert (action["status"], action["error_code"]) == ("failed", "permanent")
    assert action["result"]["status_code"] == 400


def test_a_webhook_to_a_loopback_target_not_allow_listed_is_refused_unsent(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    execution_id = start(flows, webhook_steps(receiver.url()))
    worker.drain(allow=())
    execution = flows.execution(execution_id)
    assert execution["status"] == "failed"
    assert execution["retry_count"] == 0
    assert "refused" in execution["error_message"]
    assert "loopback" in execution["error_message"]
    assert receiver.hits == []


def test_a_worker_killed_mid_delivery_leaves_the_execution_resumable_without_rerunning_steps(
    db: Database, flows: Flows, worker: Worker, receiver: Receiver, tmp_path: Path
) -> None:
    """kill -9 while the webhook request is in flight: the webhook.deliver job stays
    picked with a heartbeat nobody renews; a fresh worker picks it again once the
    heartbeat is stale and the send lease ran out, delivers the same message once more,
    and the execution goes on. Nothing that committed is run again."""
    receiver.script.append(BLOCK)
    execution_id = start(
        flows,
        [
            {"name": "task", "type": "create_task", "title": "Call {{deal.name}}"},
            {"name": "hook", "type": "webhook", "url": receiver.url()},
            {"name": "tell", "type": "send_notification", "title": "Hooked", "message": "ok"},
        ],
    )
    env = {
        **os.environ,
        "DATABASE_URL": db.dsn(),
        "INTIME_HOME": str(tmp_path),
        "INTIME_WEBHOOK_ALLOW": ",".join(LOOPBACK),
    }
    env.pop("INTIME_SERVICE_URL", None)
    with (tmp_path / "worker.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intime_cli.cli", "worker"], env=env, stdout=log, stderr=log
        )
        try:
            receiver.wait_for_hits(1, timeout=60, alive=lambda: proc.poll() is None)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    receiver.release.set()

    execution = flows.execution(execution_id)
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "action")
    [[job_status]] = flows.owner.execute(
        "select status from queue.pgqueuer where entrypoint = 'webhook.deliver'"
    ).fetchall()
    assert job_status == "picked"  # ... by a worker that is gone

    stale_after = timedelta(seconds=1)
    deadline = time.monotonic() + 30
    while not flows.owner.execute(
        "select bool_and(heartbeat < now() - %s) from queue.pgqueuer "
        "where entrypoint = 'webhook.deliver'",
        (stale_after,),
    ).fetchone()[0]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # ... and its send lease runs out (a live lease defers: docs/operations.md, rule 4).
    flows.owner.execute(
        "update app.workflow_actions set sending_until = clock_timestamp() where execution_id = %s",
        (execution_id,),
    )
    # So does the lease of an email the killed worker was sending: the task step's
    # built-in task_assigned notification emails the assignee, and under load the kill
    # can land mid-send (its 120 s lease outlived the drain's 60 s).
    flows.owner.execute(
        "update app.email_sends set sending_until = clock_timestamp() where status = 'sending'"
    )
    worker.drain(heartbeat_timeout=stale_after)

    execution = flows.execution(execution_id)
    assert execution["status"] == "completed", execution["error_message"]
    assert [hit.msg_id for hit in receiver.hits] == [receiver.hits[0].msg_id] * 2
    assert all(hit.verified for hit in receiver.hits)
    steps = flows.steps(execution_id)
    assert [(s["step_name"], s["status"], s["attempts"]) for s in steps] == [
        ("task", "completed", 1),
        ("hook", "completed", 1),
        ("tell", "completed", 1),
    ]
    [[activities]] = flows.owner.execute(
        "select count(*) from app.activities where metadata ->> 'execution_id' = %s",
        (str(execution_id),),
    ).fetchall()
    assert activities == 1
    [action] = actions(flows, execution_id)
    assert (action["status"], action["result"]["status_code"]) == ("completed", 200)


def test_a_webhook_header_the_sender_owns_fails_the_step_permanently_unsent(
    flows: Flows, worker: Worker, receiver: Receiver
) -> None:
    steps = [{"name": "hook", "type": "webhook", "url": receiver.url(), "headers": {"X": "y"}}]
    execution_id = start(flows, steps)
    # A definition stored before the definition check refused such headers (the
    # check is tested below): the worker refuses them again, at delivery time.
    flows.owner.execute(
        "update app.workflow_versions "
        "set definition = jsonb_set(definition, '{steps,0,headers}', '{\"User-Agent\": \"x\"}')"
    )
    worker.drain()
    execution = flows.execution(execution_id)
    assert execution["status"] == "failed"
    assert execution["retry_count"] == 0
    assert (
        "invalid webhook: header 'User-Agent' is set by the webhook sender"
        in (execution["error_message"])
    )
    assert receiver.hits == []


# Headers worker.webhooks.WebhookRequest refuses at delivery time: the definition check
# refuses them first, so a workflow is never saved to fail on its first run.
WORKER_REFUSED_HEADERS = [
    {"User-Agent": "x"},
    {"Connection": "close"},
    {"Transfer-Encoding": "chunked"},
    {"webhook-version": "2"},
    {"X-Note": "café"},
    {"X-Note": "two\nlines"},
]


@pytest.mark.parametrize("headers", WORKER_REFUSED_HEADERS)
def test_the_definition_check_refuses_headers_the_worker_would_refuse(
    flows: Flows, headers: dict[str, str]
) -> None:
    definition = {
        "triggers": ON_VALUE_CHANGE,
        "steps": [
            {"name": "hook", "type": "webhook", "url": "https://h.example/", "headers": headers}
        ],
    }
    problems = flows.call(
        "select path, problem from api.validate_workflow_definition("
        "p_definition => %s, p_entity_type => 'deal')",
        (Jsonb(definition),),
    )
    assert [p["path"] for p in problems] == ["$.steps[0].headers"]
