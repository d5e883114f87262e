"""Workflow jobs: run an execution, deliver a webhook step, sweep, keep the logs.

The engine lives in SQL (docs/workflows.md); these handlers only call it:

- ``workflow.run``: one ``api.run_execution``, one transaction;
- ``workflow.run_due``: the wake-up of a statement that started many executions:
  ``api.run_executions`` (a batch of due executions of every org, one transaction,
  one subtransaction each) again and again until a batch comes back short. At most
  ``RUN_DUE_CONCURRENCY`` such loops at once per worker process (an in-process
  semaphore: pgqueuer's concurrency_limit counts across all workers). An error in
  one execution ends that execution (in SQL), not the batch; a lost connection
  retries the job; should the batch itself fail otherwise (a bug), the job still
  completes and the sweeper re-queues the executions left pending one by one
  (``workflow.run``), so none is stranded. A worker that stops taking jobs ends the
  loop after the batch in flight and re-queues the job for another worker;
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

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import httpx
import psycopg
from pgqueuer import PgQueuer
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job, Schedule
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from intime.netguard import TargetGuard
from worker import journal
from worker import queries as q
from worker.jobs import (
    Durability,
    JobRunner,
    Transient,
    database_retry_delay,
    is_transient_db_error,
    one_line,
    payload_ids,
)
from worker.webhooks import WebhookRequest, deliver, new_client

log = logging.getLogger("intime.worker.workflows")

SWEEP_CRON = "* * * * *"
MAINTAIN_CRON = "17 3 * * *"
BUSY_RETRY = timedelta(seconds=1)
# api.run_executions: executions per transaction, how many batches one workflow.run_due
# job runs at most, and how many such jobs a worker runs at once. Groups of fresh
# executions run as sets (one statement per step for the group: the more per batch, the
# fewer statements); at most 20 of a batch run one by one, within the 64 subtransaction
# ids a backend caches (docs/workflows.md, "Batched running"), the others stay due for
# the next batch.
RUN_DUE_BATCH = 100
RUN_DUE_ROUNDS = 200
RUN_DUE_CONCURRENCY = 2
RECORD_TIMEOUT = 5.0


@dataclasses.dataclass
class WorkflowDeps:
    """What the workflow jobs share in one worker process."""

    pool: AsyncConnectionPool
    client: httpx.AsyncClient
    guard: TargetGuard
    durability: Durability = dataclasses.field(default_factory=Durability)
    # workflow.run_due loops running at once in this process (RUN_DUE_CONCURRENCY).
    batches: asyncio.Semaphore = dataclasses.field(
        default_factory=lambda: asyncio.Semaphore(RUN_DUE_CONCURRENCY)
    )

    async def aclose(self) -> None:
        await self.client.aclose()


@contextlib.contextmanager
def retry_when_the_database_fails(job: Job) -> Iterator[None]:
    """A lost connection (or a deadlock, a pool timeout) re-queues the job with backoff."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise RetryRequested(
            delay=timedelta(seconds=database_retry_delay(job.attempts)), reason=f"database: {exc}"
        ) from exc


async def run_execution(
    pool: AsyncConnectionPool, org_id: uuid.UUID, execution_id: uuid.UUID
) -> str:
    """Advance one execution (its own transaction); returns the engine's outcome."""
    async with pool.connection() as conn:
        cur = await conn.execute(q.RUN_EXECUTION, {"execution_id": execution_id, "org_id": org_id})
        row = await cur.fetchone()
    return str(row[0]) if row else "missing"


@dataclasses.dataclass
class DueRun:
    """What a workflow.run_due job did: batches and executions by outcome."""

    batches: int = 0
    picked: int = 0
    completed: int = 0
    waiting: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    # Ended early because the worker is stopping, with more perhaps due.
    handed_back: bool = False


async def run_due(
    pool: AsyncConnectionPool,
    limit: int = RUN_DUE_BATCH,
    rounds: int = RUN_DUE_ROUNDS,
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> DueRun:
    """Run due executions in batches (one transaction each) until a batch finds none, or
    made no progress (every execution in it deferred), or ``rounds`` ran; or, between
    batches, ``stopping()`` (``handed_back`` when more may be due). A batch may run fewer
    than ``limit`` and leave more due (at most 20 run one by one), so only an empty
    batch says that nothing is left."""
    done = DueRun()
    # One connection for the whole loop: behind jobs that wait on a row lock with
    # theirs (email claims of one org), a batch would queue for each connection anew.
    async with pool.connection() as conn:
        for _ in range(rounds):
            cur = await conn.execute(q.RUN_EXECUTIONS, {"limit": limit})
            row = await cur.fetchone()
            await conn.commit()
            if row is None or not _count(done, row, limit):
                break
            if stopping():
                done.handed_back = True
                break
    return done


def _count(done: DueRun, row: Sequence[Any], limit: int) -> bool:
    """Add a batch's counts; whether another batch may find more (it ran some, not all
    deferred)."""
    picked, completed, waiting, retrying, failed, deferred = (int(x) for x in row)
    done.batches += 1
    done.picked += picked
    done.completed += completed
    done.waiting += waiting
    done.retrying += retrying
    done.failed += failed
    done.deferred += deferred
    return 0 < picked <= limit and deferred < picked


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


async def _execute(pool: AsyncConnectionPool, query: str, params: Mapping[str, Any]) -> None:
    async with pool.connection(timeout=RECORD_TIMEOUT) as conn:
        await conn.execute(query, params)


async def deliver_webhook(deps: WorkflowDeps, org_id: uuid.UUID, action_id: uuid.UUID) -> str:
    """Run one webhook.deliver job: delivered, retry, permanent, invalid or done.

    The outcome of a request that went out is recorded durably (``settle_durably``):
    a database outage after the receiver answered delays the record, it does not
    lose it (which would send the same message again)."""
    ids = {"action_id": action_id, "org_id": org_id}
    async with deps.pool.connection() as conn:
        cur = await conn.execute(q.CLAIM_WEBHOOK, ids)
        claim = await cur.fetchone()
    if claim is None:
        return "done"
    if claim[0] == "defer":
        # Another worker holds the delivery (its lease is live): not a second send.
        raise Transient("webhook held by another worker", max(1.0, float(claim[7] or 0)))
    if claim[0] != "send":
        return "done"  # the action ended already: a duplicate job
    _, url, headers, body, msg_id, secrets, attempt, _ = claim
    try:
        request = webhook_request(url, headers, body, msg_id, secrets)
    except ValueError as exc:
        error = f"invalid webhook: {exc}"
        params: dict[str, object] = {
            **ids,
            "error": error,
            "permanent": True,
            "retry_after": None,
            "result": Jsonb({}),
        }
        await deps.durability.settle(
            lambda: _execute(deps.pool, q.FAIL_ACTION, params),
            f"the failure of webhook {msg_id}",
        )
        log.warning("webhook %s not sent: %s", msg_id, error)
        return "invalid"

    with deps.durability.critical():
        return await _deliver_and_record(deps, ids, request, attempt)


async def _deliver_and_record(
    deps: WorkflowDeps, ids: dict[str, uuid.UUID], request: WebhookRequest, attempt: int
) -> str:
    msg_id = request.msg_id
    outcome = await deliver(deps.client, deps.guard, request)
    result = Jsonb(
        {
            "status_code": outcome.status_code,
            "duration_ms": round(outcome.duration_ms, 1),
            "response_excerpt": outcome.response_excerpt,
        }
    )
    if outcome.kind == "delivered":
        query, params = q.COMPLETE_ACTION, {**ids, "result": result}
    else:
        query = q.FAIL_ACTION
        params = {
            **ids,
            "error": outcome.error,
            "permanent": outcome.kind == "permanent",
            "retry_after": outcome.retry_after,
            "result": result,
        }
    await deps.durability.settle(
        lambda: _execute(deps.pool, query, params),
        f"the outcome of webhook {msg_id} ({outcome.kind})",
        journal.entry("COMPLETE_ACTION", params) if outcome.kind == "delivered" else None,
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
        cur = await conn.execute(q.TICK_WORKFLOWS)
        row = await cur.fetchone()
    counts: dict[str, Any] = row[0] if row else {}
    skipped = str(counts.get("reconcile") or "")
    if "did not answer" in skipped:
        # A node of the cluster is silent: its rows are not reconciled until it answers.
        log.warning("workflow sweep: %s", counts)
    elif any(isinstance(v, int) and v for v in counts.values()):
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


async def fail_execution(
    pool: AsyncConnectionPool, org_id: uuid.UUID, execution_id: uuid.UUID, error: str
) -> None:
    """End an execution whose run cannot succeed (best effort: already handling an error)."""
    try:
        await _execute(
            pool,
            q.FAIL_EXECUTION,
            {"execution_id": execution_id, "org_id": org_id, "error": error},
        )
    except Exception as exc:
        log.error("execution %s could not be marked failed: %s", execution_id, one_line(exc))


def register(
    pgq: PgQueuer,
    pool: AsyncConnectionPool,
    guard: TargetGuard,
    runner: JobRunner,
    durability: Durability | None = None,
) -> WorkflowDeps:
    """Add the workflow entrypoints and schedules to a worker; ``aclose`` the result
    when the worker stops (it holds the process's one HTTP client)."""
    deps = WorkflowDeps(
        pool=pool, client=new_client(), guard=guard, durability=durability or Durability()
    )

    @runner.entrypoint(pgq, "workflow.run")
    async def workflow_run(job: Job) -> None:
        org_id, execution_id = payload_ids(job, "org_id", "execution_id")
        try:
            outcome = await run_execution(pool, org_id, execution_id)
        except Exception as exc:
            if not is_transient_db_error(exc):
                # No retry cures it: the execution ends now, with the reason.
                await fail_execution(pool, org_id, execution_id, f"the run failed: {one_line(exc)}")
            raise
        if outcome == "busy":
            # Another transaction holds the execution (a runner, an approval, a
            # report): run again shortly rather than drop the job.
            raise Transient("execution busy", BUSY_RETRY.total_seconds())

    @runner.entrypoint(pgq, "workflow.run_due")
    async def workflow_run_due(job: Job) -> None:
        try:
            # More batch transactions than cores only queue on the CPU: the job
            # waits for a loop's turn (never skips it, lest its executions wait
            # for the sweeper), and then usually finds them run already.
            async with deps.batches:
                done = await run_due(pool, stopping=lambda: runner.stopping)
        except Exception as exc:
            if is_transient_db_error(exc):
                raise
            # A bug in the batch itself: the executions it left pending are the
            # sweeper's (one workflow.run job each), not a failed job's.
            log.error("workflow batch %s failed: %s", job.id, one_line(exc), exc_info=exc)
            return
        if done.failed or done.deferred:
            log.info("workflow batch %s: %s", job.id, dataclasses.asdict(done))
        if done.handed_back:
            # The worker is stopping: the rest goes back to the queue now (another
            # worker goes on), not after the grace period, nor to the sweeper.
            raise RetryRequested(timedelta(0), "the worker is stopping: the rest of the batches")

    @runner.entrypoint(pgq, "webhook.deliver")
    async def webhook_deliver(job: Job) -> None:
        org_id, action_id = payload_ids(job, "org_id", "action_id")
        await deliver_webhook(deps, org_id, action_id)

    @pgq.schedule("workflows.sweep", SWEEP_CRON)
    async def sweep_schedule(schedule: Schedule) -> None:
        await sweep(pool)

    @pgq.schedule("workflows.maintain", MAINTAIN_CRON)
    async def maintain_schedule(schedule: Schedule) -> None:
        await maintain(pool)

    return deps
