"""Group commit for ``POST /webhooks/resend``: the events that arrive together are
recorded together.

Each request hands its verified event to the app's ``EventBatcher`` and waits for its
outcome. The batcher runs at most ``in_flight`` statements at once on the event pool
(web/pools.py); the events that arrive while they run wait and go together, up to
``max_batch``, in one call of ``api.ingest_email_events``: one round trip and one commit
for all of them. A request is answered only after the commit that recorded its event, so
an answered event is durable as before; an idle server sends a lone event at once, in
its own call (no added wait).

A batch the database refuses as a whole (one event that cannot be stored, such as a NUL
in a string; an outage) is tried again event by event, so each request gets the outcome
its own event would have had alone: the one bad event its 422, the others recorded.
``api.ingest_email_events`` is idempotent by svix-id, so trying again is safe. Two
batches in flight lock their rows in one order (docs/email.md, "Webhook ingestion").
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from web import queries as q
from web.pools import RecentlyChecked

__all__ = ["EventBatcher"]

MAX_BATCH = 100
IN_FLIGHT = 2

Item = tuple[str, str, "asyncio.Future[str | None]"]


class EventBatcher:
    """Records verified Resend events, the concurrent ones in one statement."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        check: RecentlyChecked,
        *,
        max_batch: int = MAX_BATCH,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        if max_batch < 1 or in_flight < 1:
            raise ValueError("max_batch and in_flight are at least 1")
        self._pool = pool
        self._check = check
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._waiting: list[Item] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.calls = 0  # statements sent, one per batch or per event tried alone
        self.events = 0  # events recorded in a batch of more than one

    async def ingest(self, event_id: str, payload: str) -> str | None:
        """The outcome of ``api.ingest_email_event`` for this event, once committed; its
        error (``psycopg.Error``) when it alone cannot be recorded."""
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((event_id, payload, future))
        self._dispatch()
        return await future

    async def close(self) -> None:
        """Waits for the batches in flight (their requests are still being answered)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _dispatch(self) -> None:
        while self._waiting and len(self._tasks) < self._in_flight:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._dispatch()

    async def _run(self, batch: list[Item]) -> None:
        try:
            if len(batch) > 1:
                try:
                    outcomes = await self._statement(
                        q.INGEST_EMAIL_EVENTS,
                        {
                            "event_ids": [event_id for event_id, _, _ in batch],
                            "payloads": [payload for _, payload, _ in batch],
                        },
                    )
                except psycopg.Error:
                    pass  # each alone below, for each one's own outcome
                else:
                    self.events += len(batch)
                    for (_, _, future), outcome in zip(batch, outcomes, strict=True):
                        _settle(future, outcome)
                    return
            for i, (event_id, payload, future) in enumerate(batch):
                if future.done():
                    continue  # its request is gone; a retry of the provider records it
                try:
                    row = await self._statement(
                        q.INGEST_EMAIL_EVENT, {"event_id": event_id, "payload": payload}
                    )
                except psycopg.OperationalError as exc:
                    # The database is unreachable or refused in time: the rest would wait
                    # for the same answer one by one (each request's 503).
                    for _, _, rest in batch[i:]:
                        _settle(rest, exc)
                    return
                except psycopg.Error as exc:
                    _settle(future, exc)
                else:
                    _settle(future, row)
        except BaseException as exc:  # cancelled at shutdown, or a bug: no request hangs
            for _, _, future in batch:
                _settle(future, exc)
            raise

    async def _statement(self, query: str, params: dict[str, Any]) -> Any:
        """The statement's one value: one round trip on the event pool. A connection found
        broken by the statement (it was not checked: recently used) is discarded and the
        statement tried once more on a checked one (idempotent by svix-id)."""
        self.calls += 1
        async with self._pool.connection() as conn:
            try:
                cur = await conn.execute(query, params)
                row = await cur.fetchone()
                return row[0] if row else None
            except psycopg.OperationalError:
                if not conn.broken:
                    raise
        self._check.distrust()
        async with self._pool.connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
            return row[0] if row else None


def _settle(future: asyncio.Future[str | None], outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
