"""Workflow jobs: run an execution, deliver a webhook step, sweep, keep the logs.

The engine lives in SQL (docs/workflows.md); these handlers only call it:

- ``workflow.run``: one ``api.run_execution``, one transaction;
- ``webhook.deliver``: ``api.claim_webhook`` (committed before the request), one
  signed POST (``worker.webhooks.deliver``), then ``api.complete_action`` or
  ``api.fail_action``. Retries and their backoff belong to the engine: a failed
  delivery schedules a new run, which queues a new delivery job with the same
  message id. So an HTTP failure never makes this job retry itself;
- ``workflows.sweep`` (every minute) and ``workflows.maintain`` (daily, and once at
  start so a fresh install has its log partitions).

A job whose worker died (killed mid-delivery) is picked again by another worker once
its heartbeat is older than the queue's ``heartbeat_timeout``; the claim still says
``send`` and the request goes out again with the same ``webhook-id``. A lost database
connection asks the queue to retry the job (pgqueuer's ``RetryRequested``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from pgqueuer import PgQueuer
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job, Schedule
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from worker import queries as q
from worker.webhooks import TargetGuard, WebhookRequest, deliver, new_client

log = logging.getLogger("intime.worker.workflows")

SWEEP_CRON = "* * * * *"
MAINTAIN_CRON = "17 3 * * *"
MAX_DB_RETRY_SECONDS = 300.0
BUSY_RETRY = timedelta(seconds=1)


@dataclasses.dataclass
class WorkflowDeps:
    """What the workflow jobs share in one worker process."""

    pool: AsyncConnectionPool
    client: httpx.AsyncClient
    guard: TargetGuard

    async def aclose(self) -> None:
        await self.client.aclose()


@contextlib.contextmanager
def retry_when_the_database_fails(job: Job) -> Iterator[None]:
    """A lost connection (or a deadlock, a pool timeout) re-queues the job with backoff."""
    try:
        yield
    except psycopg.OperationalError as exc:
        delay = min(MAX_DB_RETRY_SECONDS, 5.0 * 2 ** min(job.attempts, 10))
        raise RetryRequested(delay=timedelta(seconds=delay), reason=f"database: {exc}") from exc


async def run_execution(
    pool: AsyncConnectionPool, org_id: uuid.UUID, execution_id: uuid.UUID
) -> str:
    """Advance one execution (its own transaction); returns the engine's outcome."""
    async with pool.connection() as conn:
        cur = await conn.execute(q.RUN_EXECUTION, {"execution_id": execution_id, "org_id": org_id})
        row = await cur.fetchone()
    return str(row[0]) if row else "missing"


def webhook_request(
    url: str | None,
    headers: Any,
    body: str | None,
    msg_id: str | None,
    secrets: Sequence[str] | None,
) -> WebhookRequest:
    """The request a claim describes; ``ValueError`` when the stored step cannot be sent."""
    if not url:
        raise ValueError("the webhook has no URL")
    if body is None:
        raise ValueError("the webhook has no body")
    if not isinstance(headers or {}, Mapping):
        raise ValueError("the webhook headers must be a JSON object")
    extra: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if not isinstance(value, str):
            raise ValueError(f"the value of header {name!r} must be a string")
        extra[str(name)] = value
    return WebhookRequest(url, body.encode(), msg_id or "", tuple(secrets or ()), extra)


async def deliver_webhook(deps: WorkflowDeps, org_id: uuid.UUID, action_id: uuid.UUID) -> str:
    """Run one webhook.deliver job: delivered, retry, permanent, invalid or done."""
    ids = {"action_id": action_id, "org_id": org_id}
    async with deps.pool.connection() as conn:
        cur = await conn.execute(q.CLAIM_WEBHOOK, ids)
        claim = await cur.fetchone()
    if claim is None or claim[0] != "send":
        return "done"  # the action ended already: a duplicate job
    _, url, headers, body, msg_id, secrets, attempt = claim
    try:
        request = webhook_request(url, headers, body, msg_id, secrets)
    except ValueError as exc:
        error = f"invalid webhook: {exc}"
        async with deps.pool.connection() as conn:
            await conn.execute(
                q.FAIL_ACTION,
                {
                    **ids,
                    "error": error,
                    "permanent": True,
                    "retry_after": None,
                    "result": Jsonb({}),
                },
            )
        log.warning("webhook %s not sent: %s", msg_id, error)
        return "invalid"

    outcome = await deliver(deps.client, deps.guard, request)
    result = Jsonb(
        {
            "status_code": outcome.status_code,
            "duration_ms": round(outcome.duration_ms, 1),
            "response_excerpt": outcome.response_excerpt,
        }
    )
    async with deps.pool.connection() as conn:
        if outcome.kind == "delivered":
            await conn.execute(q.COMPLETE_ACTION, {**ids, "result": result})
        else:
            await conn.execute(
                q.FAIL_ACTION,
                {
                    **ids,
                    "error": outcome.error,
                    "permanent": outcome.kind == "permanent",
                    "retry_after": outcome.retry_after,
                    "result": result,
                },
            )
    log.info(
        "webhook %s attempt %s: %s %s",
        msg_id,
        attempt,
        outcome.kind,
        outcome.error or outcome.status_code,
    )
    return outcome.kind


async def sweep(pool: AsyncConnectionPool) -> dict[str, Any]:
    async with pool.connection() as conn:
        cur = await conn.execute(q.SWEEP_WORKFLOWS)
        row = await cur.fetchone()
    counts: dict[str, Any] = row[0] if row else {}
    if any(counts.values()):
        log.info("workflow sweep: %s", counts)
    return counts


async def maintain(pool: AsyncConnectionPool) -> dict[str, Any]:
    async with pool.connection() as conn:
        cur = await conn.execute(q.MAINTAIN_WORKFLOW_LOGS)
        row = await cur.fetchone()
    done: dict[str, Any] = row[0] if row else {}
    if done.get("created") or done.get("expired") or done.get("moved_from_default"):
        log.info("workflow log maintenance: %s", done)
    return done


async def start(deps: WorkflowDeps) -> None:
    """At worker start: the log partitions (a failure is logged; the daily job tries again)."""
    try:
        await maintain(deps.pool)
    except psycopg.Error:
        log.exception("workflow log maintenance failed at start")


def register(pgq: PgQueuer, pool: AsyncConnectionPool, guard: TargetGuard) -> WorkflowDeps:
    """Add the workflow entrypoints and schedules to a worker; ``aclose`` the result
    when the worker stops (it holds the process's one HTTP client)."""
    deps = WorkflowDeps(pool=pool, client=new_client(), guard=guard)

    @pgq.entrypoint("workflow.run", on_failure="hold")
    async def workflow_run(job: Job) -> None:
        payload = json.loads(job.payload or b"{}")
        with retry_when_the_database_fails(job):
            outcome = await run_execution(
                pool, uuid.UUID(payload["org_id"]), uuid.UUID(payload["execution_id"])
            )
        if outcome == "busy":
            # Another transaction holds the execution (a runner, an approval, a
            # report): run again shortly rather than drop the job.
            raise RetryRequested(delay=BUSY_RETRY, reason="execution busy")

    @pgq.entrypoint("webhook.deliver", on_failure="hold")
    async def webhook_deliver(job: Job) -> None:
        payload = json.loads(job.payload or b"{}")
        with retry_when_the_database_fails(job):
            await deliver_webhook(
                deps, uuid.UUID(payload["org_id"]), uuid.UUID(payload["action_id"])
            )

    @pgq.schedule("workflows.sweep", SWEEP_CRON)
    async def sweep_schedule(schedule: Schedule) -> None:
        await sweep(pool)

    @pgq.schedule("workflows.maintain", MAINTAIN_CRON)
    async def maintain_schedule(schedule: Schedule) -> None:
        await maintain(pool)

    return deps
