"""Scheduled notification work: the minute tick and the expiry purge.

The decisions live in SQL (``api.tick_notifications``): it releases held
deliveries whose window ended and queues due digests as ``email.send`` jobs,
which the email entrypoint then sends. These handlers only call it.
"""

from __future__ import annotations

import logging
from typing import Any

from pgqueuer import PgQueuer
from pgqueuer.domain.models import Schedule
from psycopg_pool import AsyncConnectionPool

from worker import queries as q

log = logging.getLogger("intime.worker.notifications")

TICK_CRON = "* * * * *"
PURGE_CRON = "17 * * * *"


async def run_tick(pool: AsyncConnectionPool) -> dict[str, Any]:
    """One tick, in one transaction; returns its counts."""
    async with pool.connection() as conn:
        cur = await conn.execute(q.TICK_NOTIFICATIONS)
        row = await cur.fetchone()
    counts: dict[str, Any] = row[0] if row else {}
    if any(counts.values()):
        log.info("notification tick: %s", counts)
    return counts


async def purge_expired(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute(q.PURGE_EXPIRED_NOTIFICATIONS)
        row = await cur.fetchone()
    return int(row[0]) if row else 0


def register(pgq: PgQueuer, pool: AsyncConnectionPool) -> None:
    """Add the notification schedules to a worker."""

    @pgq.schedule("notifications.tick", TICK_CRON)
    async def tick(schedule: Schedule) -> None:
        await run_tick(pool)

    @pgq.schedule("notifications.purge", PURGE_CRON)
    async def purge(schedule: Schedule) -> None:
        purged = await purge_expired(pool)
        if purged:
            log.info("purged %s expired notifications", purged)
