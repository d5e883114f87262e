"""Housekeeping schedules: the reconciliation sweep and the retention purge.

- ``maintenance.reconcile`` (every minute): ``api.reconcile_in_flight_work``
  re-queues or settles every domain row left in flight with no live job past
  its lease (an email ``queued``/``sending``, a workflow action or execution
  ``running``, a notification delivery ``pending``): what a worker killed at
  the wrong moment, or a job lost with its queue row, leaves behind;
- ``maintenance.retention`` (hourly): ``api.purge_expired_data`` deletes rows
  past their retention (docs/operations.md), a bounded chunk per transaction.

The decisions live in SQL; these handlers only call it and log what it did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pgqueuer import PgQueuer
from pgqueuer.domain.models import Schedule
from psycopg_pool import AsyncConnectionPool

from worker import queries as q

log = logging.getLogger("intime.worker.maintenance")

RECONCILE_CRON = "* * * * *"
RETENTION_CRON = "23 * * * *"
RECONCILE_LIMIT = 1000
PURGE_CHUNK = 10000


def _counted(counts: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in counts.items() if isinstance(v, int | float) and v}


async def reconcile(pool: AsyncConnectionPool, limit: int = RECONCILE_LIMIT) -> dict[str, Any]:
    """One reconciliation pass, in one transaction; returns its counts."""
    async with pool.connection() as conn:
        cur = await conn.execute(q.RECONCILE_IN_FLIGHT_WORK, {"limit": limit})
        row = await cur.fetchone()
    counts: dict[str, Any] = row[0] if row and row[0] else {}
    if "did not answer" in str(counts.get("skipped") or ""):
        # A node of the cluster is silent: that part of the sweep waits for it.
        log.warning(
            "reconciliation skipped in part: %s",
            counts["skipped"],
            extra={"event": "reconcile_skipped"},
        )
    if _counted(counts):
        log.warning(
            "reconciled work left in flight: %s",
            _counted(counts),
            extra={"event": "reconciled", **_counted(counts)},
        )
    return counts


async def purge(
    pool: AsyncConnectionPool,
    chunk: int = PURGE_CHUNK,
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Purge expired rows, a chunk per transaction, until no table has a full chunk."""
    total: dict[str, int] = {}
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(q.PURGE_EXPIRED_DATA, {"limit": chunk})
            row = await cur.fetchone()
        counts: dict[str, Any] = row[0] if row and row[0] else {}
        for table, n in counts.items():
            if isinstance(n, int):
                total[table] = total.get(table, 0) + n
        if stopping() or not any(isinstance(n, int) and n >= chunk for n in counts.values()):
            break
    if any(total.values()):
        log.info("purged expired rows: %s", {k: v for k, v in total.items() if v})
    return total


def register(
    pgq: PgQueuer, pool: AsyncConnectionPool, *, stopping: Callable[[], bool] = lambda: False
) -> None:
    @pgq.schedule("maintenance.reconcile", RECONCILE_CRON)
    async def reconcile_schedule(schedule: Schedule) -> None:
        await reconcile(pool)

    @pgq.schedule("maintenance.retention", RETENTION_CRON)
    async def retention_schedule(schedule: Schedule) -> None:
        await purge(pool, stopping=stopping)
