"""The webhook event pool: connections for one statement each, without two extra round trips.

The app's main pool (``intime.db.open_pool``) checks every connection with an empty
query before handing it out and runs ``RESET ALL`` when it comes back: three round
trips for a route that needs one. ``POST /webhooks/resend`` runs a single autocommit
statement (``api.ingest_email_event(s)``, web/ingest.py, which changes no session
setting: its ``set_config`` calls are transaction-local), so its own pool skips both:

- no reset: nothing can be left behind (psycopg_pool still rolls back a connection
  returned inside a transaction and discards a broken one);
- the check is a round trip only for a connection not handed out within
  ``fresh`` seconds (``RecentlyChecked``). A connection that broke in that window
  (a terminated backend, a restarted server) fails its statement; the route then
  distrusts every connection (the next hand-outs are checked, which discards the
  dead ones) and tries once more (``api.ingest_email_event(s)`` is idempotent by
  svix-id, so a retry is safe).
"""

from __future__ import annotations

import time
import weakref
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from intime.db import with_tcp_options

FRESH_SECONDS = 1.0


class RecentlyChecked:
    """A pool ``check``: an empty query, unless the connection was handed out (and so
    worked, or was discarded) within ``fresh`` seconds."""

    def __init__(self, fresh: float = FRESH_SECONDS) -> None:
        self.fresh = fresh
        self._handed: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self.round_trips = 0

    async def __call__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        now = time.monotonic()
        last = self._handed.get(conn)
        if last is None or now - last > self.fresh:
            self.round_trips += 1
            await AsyncConnectionPool.check_connection(conn)
        self._handed[conn] = now

    def distrust(self) -> None:
        """Check every connection on its next hand-out."""
        self._handed.clear()


async def open_event_pool(
    dsn: str, *, min_size: int, max_size: int, timeout: float, name: str = "events"
) -> tuple[AsyncConnectionPool, RecentlyChecked]:
    """An open autocommit pool for single-statement routes, and its check."""
    check = RecentlyChecked()
    pool = AsyncConnectionPool(
        with_tcp_options(dsn),
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": True},
        check=check,
        timeout=timeout,
        name=name,
    )
    await pool.open(wait=True, timeout=timeout)
    return pool, check
