"""Campaign jobs: the minute tick, A/B evaluation and the log archive.

The engine lives in SQL (docs/campaigns.md); these handlers only call it:

- ``campaigns.tick`` (a schedule, every minute, and an entrypoint of the same name):
  ``api.tick_campaigns`` batch after batch, each its own transaction, until nothing
  is due or the time budget is spent; while a backlog remains it queues a
  ``campaigns.tick`` job for itself, so a large campaign keeps every worker busy
  instead of waiting for the next minute. Concurrent ticks share the work
  (``FOR UPDATE SKIP LOCKED``). Emails leave through the ``email.send`` jobs the
  tick queues, so the org's rate limit and the provider circuit breaker apply;
- ``campaigns.wake`` (an entrypoint): the same drain, at the next due time. The SQL
  keeps one such job queued for the earliest due step (``app._campaign_arm_wake``:
  enrolling, a tick moving a step on, a resume arm it; each tick re-arms when it ends),
  so a step runs within seconds of its due time instead of at the next minute's tick,
  which stays as the safety net (docs/campaigns.md, "On time");
- ``campaigns.ab`` (every 15 minutes): ``api.evaluate_ab_tests``;
- ``campaigns.archive`` (daily): step logs older than the retention move to the
  archive, a chunk per transaction.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.domain.models import Job, Schedule
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from worker import queries as q
from worker.jobs import JobRunner

log = logging.getLogger("intime.worker.campaigns")

TICK = "campaigns.tick"
WAKE = "campaigns.wake"
TICK_CRON = "* * * * *"
AB_CRON = "*/15 * * * *"
ARCHIVE_CRON = "41 3 * * *"
BATCH_SIZE = 1000
TIME_BUDGET_SECONDS = 45.0
ARCHIVE_CHUNK = 50000


@dataclasses.dataclass
class TickTotals:
    """What one drain did, summed over its batches."""

    batches: int = 0
    processed: int = 0
    sent: int = 0
    skipped: int = 0
    errored: int = 0
    deferred: int = 0
    completed: int = 0
    stopped: int = 0
    more_due: bool = False

    def add(self, row: dict[str, Any]) -> None:
        self.batches += 1
        for name in ("processed", "sent", "skipped", "errored", "deferred", "completed", "stopped"):
            setattr(self, name, getattr(self, name) + int(row[name]))
        self.more_due = bool(row["more_due"])


async def tick_once(pool: AsyncConnectionPool, batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """One batch, in one transaction; returns the tick's counts."""
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(q.TICK_CAMPAIGNS, {"batch_size": batch_size})
        row = await cur.fetchone()
    if row is None:  # api.tick_campaigns always returns one row
        raise RuntimeError("api.tick_campaigns returned no row")
    return dict(row)


async def drain(
    pool: AsyncConnectionPool,
    *,
    batch_size: int = BATCH_SIZE,
    budget_seconds: float = TIME_BUDGET_SECONDS,
    stopping: Callable[[], bool] = lambda: False,
) -> TickTotals:
    """Batches until none is due or the budget is spent; re-queues itself on a backlog
    (also when the worker is stopping: another worker takes it on)."""
    totals = TickTotals()
    deadline = time.monotonic() + budget_seconds
    while True:
        row = await tick_once(pool, batch_size)
        totals.add(row)
        # A batch that processed nothing while more are "due" means the rest is
        # locked by another tick: leave it to that one.
        if not row["more_due"] or row["processed"] == 0:
            break
        if time.monotonic() >= deadline or stopping():
            async with pool.connection() as conn:
                await conn.execute(q.ENQUEUE_CAMPAIGN_TICK)
            log.info("campaign tick: backlog remains, queued another run")
            break
    if totals.processed:
        log.info("campaign tick: %s", dataclasses.asdict(totals))
    return totals


async def evaluate_ab(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(q.EVALUATE_AB_TESTS)
        row = await cur.fetchone()
    winners = int(row[0]) if row else 0
    if winners:
        log.info("A/B evaluation selected %s winner(s)", winners)
    return winners


async def archive_logs(pool: AsyncConnectionPool, chunk: int = ARCHIVE_CHUNK) -> int:
    """Move expired step logs to the archive, one chunk per transaction."""
    moved = 0
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(q.ARCHIVE_CAMPAIGN_LOGS, {"limit": chunk})
            row = await cur.fetchone()
        n = int(row[0]) if row else 0
        moved += n
        if n < chunk:
            break
    if moved:
        log.info("archived %s campaign step logs", moved)
    return moved


def register(
    pgq: PgQueuer,
    pool: AsyncConnectionPool,
    runner: JobRunner,
    *,
    stopping: Callable[[], bool] = lambda: False,
    schedules: bool = True,
    wake: bool = True,
) -> None:
    """Add the campaign schedules and the tick's continuation entrypoint to a worker.

    ``schedules=False`` leaves the minute tick, the A/B evaluation and the log archive
    to someone else: the demo, which ticks campaigns on its own (fake) clock; the due
    wake-up with them. ``wake=False`` leaves the wake-up alone (a draining worker: a
    wake-up days ahead would keep it from ever finding the queue empty)."""

    # A continuation that fails for good is dropped: the minute schedule covers it.
    @runner.entrypoint(pgq, TICK, on_failure="delete")
    async def tick_job(job: Job) -> None:
        await drain(pool, stopping=stopping)

    if not schedules:
        return

    if wake:
        # The due wake-up: the drain re-arms it (api.tick_campaigns' last call); one
        # that fails is dropped, the minute schedule runs and re-arms instead.
        @runner.entrypoint(pgq, WAKE, on_failure="delete")
        async def wake_job(job: Job) -> None:
            await drain(pool, stopping=stopping)

    @pgq.schedule(TICK, TICK_CRON)
    async def tick_schedule(schedule: Schedule) -> None:
        try:
            await drain(pool, stopping=stopping)
        except psycopg.Error:
            log.exception("campaign tick failed; the next minute tries again")

    @pgq.schedule("campaigns.ab", AB_CRON)
    async def ab_schedule(schedule: Schedule) -> None:
        try:
            await evaluate_ab(pool)
        except psycopg.Error:
            log.exception("A/B evaluation failed")

    @pgq.schedule("campaigns.archive", ARCHIVE_CRON)
    async def archive_schedule(schedule: Schedule) -> None:
        try:
            await archive_logs(pool)
        except psycopg.Error:
            log.exception("campaign log archive failed")
