"""Group commit for ``POST /webhooks/resend``: the events that arrive together are
recorded together.

Each request hands its verified event to the app's ``EventBatcher`` and waits for its
outcome. The batcher keeps ``in_flight`` statements running at once on the event pool
(web/pools.py); the events that arrive while they run wait and go together, up to
``max_batch``, in one call of ``api.ingest_email_events``: one round trip and one commit
for all of them. A request is answered only after the commit that recorded its event, so
an answered event is durable as before; an idle server sends a lone event at once, in
its own call (no added wait).

- **A batch refused as a whole** (one event that cannot be stored: a NUL in a string, an
  id over an index's size limit; a send locked past the lock timeout) is tried again event
  by event, so each request gets the outcome its own event would have had alone: the one
  bad event its 422, the others recorded. The events of one message go in order, the
  messages side by side, at most ``max_in_flight - in_flight`` at once (new batches still
  find connections); a message that gave up on a lock (55P03: its send, its campaign)
  answers its remaining events at once, and after ``LOCKED_MESSAGES`` such messages (most
  likely one lock they share) the whole rest of the batch does.
  ``api.ingest_email_event(s)`` is idempotent by svix-id, so trying again is safe; a
  deadlock or serialization failure of one event is tried once more.
- **An unreachable database** (no connection in time, a lost connection, a server shutting
  down) answers every event of the batch at once (503, the provider retries), without
  trying each again.
- **A statement that waits** (a send row locked by a long transaction; the functions give
  up on a lock after 2 s) does not hold up the rest: a statement running for longer than
  ``STALLED`` seconds no longer counts against ``in_flight``, up to ``max_in_flight``.
- **Bounds.** A request waits at most ``timeout`` seconds for its outcome, and at most
  ``MAX_WAITING`` events wait for a statement; past either the request is answered 503
  (``PoolTimeout``) and the provider retries. An event whose request gave up is not sent
  if it still waits, nor tried alone.

Batches lock their rows in one order (docs/email.md, "Webhook ingestion").
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from intime.db import is_node_failure
from web import queries as q
from web.pools import RecentlyChecked

__all__ = ["EventBatcher"]

MAX_BATCH = 100
IN_FLIGHT = 2
MAX_IN_FLIGHT = 8  # the event pool's size (create_app's event_pool_size)
MAX_WAITING = 2000
STALLED = 0.25  # seconds
LOCKED_MESSAGES = 3  # messages of one retried batch that gave up on a lock

Item = tuple[str, str, "asyncio.Future[str | None]"]


def unreachable(exc: BaseException) -> bool:
    """The database could not be asked (no connection, a lost one, a server shutting
    down, a Citus node away), as opposed to an answer about this statement."""
    if is_node_failure(exc):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}


def retryable(exc: BaseException) -> bool:
    """A deadlock or a serialization failure: the same statement may pass at once."""
    return isinstance(exc, psycopg.Error) and exc.sqlstate in {"40P01", "40001"}


class EventBatcher:
    """Records verified Resend events, the concurrent ones in one statement."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        check: RecentlyChecked,
        *,
        max_batch: int = MAX_BATCH,
        in_flight: int = IN_FLIGHT,
        max_in_flight: int = MAX_IN_FLIGHT,
        timeout: float = 10.0,
    ) -> None:
        if max_batch < 1 or in_flight < 1:
            raise ValueError("max_batch and in_flight are at least 1")
        self._pool = pool
        self._check = check
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._max_in_flight = max(in_flight, max_in_flight)
        self._timeout = timeout
        self._waiting: list[Item] = []
        self._tasks: dict[asyncio.Task[None], float] = {}  # task -> when it started
        self._timer: asyncio.TimerHandle | None = None
        # The event-by-event retries' share of the pool (web/ingest.py, _each).
        self._retries = asyncio.Semaphore(max(1, self._max_in_flight - in_flight))
        self.calls = 0  # statements sent, one per batch or per event tried alone
        self.events = 0  # events recorded in a batch of more than one

    async def ingest(self, event_id: str, payload: str) -> str | None:
        """The outcome of ``api.ingest_email_event`` for this event, once committed; its
        error (``psycopg.Error``) when it alone cannot be recorded; ``PoolTimeout`` when
        too many wait or it waited ``timeout`` seconds (it may still be recorded: a retry
        of the provider then says 'duplicate')."""
        if len(self._waiting) >= MAX_WAITING:
            raise PoolTimeout(f"{MAX_WAITING} webhook events are waiting for the database")
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a request that gave up leaves no warning
        self._waiting.append((event_id, payload, future))
        self._dispatch()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self._timeout)
        except TimeoutError:
            future.cancel()  # given up: not tried alone any more, nor sent if still waiting
            raise PoolTimeout(f"the event was not recorded within {self._timeout:g} s") from None
        except asyncio.CancelledError:
            future.cancel()
            raise

    async def close(self) -> None:
        """Waits for the batches in flight (their requests are still being answered)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _dispatch(self) -> None:
        while self._waiting:
            now = time.monotonic()
            fresh = [started for started in self._tasks.values() if now - started < STALLED]
            if len(fresh) >= self._in_flight or len(self._tasks) >= self._max_in_flight:
                if self._timer is None and len(self._tasks) < self._max_in_flight:
                    # Look again when the oldest running statement counts as stalled.
                    self._timer = asyncio.get_running_loop().call_later(
                        max(0.0, min(fresh) + STALLED - now) + 0.001, self._look_again
                    )
                return
            batch = [item for item in self._waiting[: self._max_batch] if not item[2].done()]
            del self._waiting[: self._max_batch]
            if not batch:
                continue
            task = asyncio.create_task(self._run(batch))
            self._tasks[task] = now
            task.add_done_callback(self._finished)

    def _look_again(self) -> None:
        self._timer = None
        self._dispatch()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._dispatch()

    async def _run(self, batch: list[Item]) -> None:
        try:
            if len(batch) == 1 or not await self._together(batch):
                await self._each(batch)
        except BaseException as exc:  # cancelled at shutdown, or a bug: no request hangs
            answer = (
                PoolClosed("the web process is stopping")
                if isinstance(exc, asyncio.CancelledError)
                else exc
            )
            for _, _, future in batch:
                _settle(future, answer)
            raise

    async def _together(self, batch: list[Item]) -> bool:
        """The batch in one statement; False when each must be tried alone."""
        try:
            outcomes = await self._statement(
                q.INGEST_EMAIL_EVENTS,
                {
                    "event_ids": [event_id for event_id, _, _ in batch],
                    "payloads": [payload for _, payload, _ in batch],
                },
            )
        except psycopg.Error as exc:
            if not unreachable(exc):
                return False
            for _, _, future in batch:
                _settle(future, exc)
            return True
        self.events += len(batch)
        for (_, _, future), outcome in zip(batch, outcomes, strict=True):
            _settle(future, outcome)
        return True

    async def _each(self, batch: list[Item]) -> None:
        """Each event alone: the events of one message in order, the messages side by
        side (at most ``max_in_flight - in_flight`` at once, so that new batches still
        find connections), so that events held up by a lock on one send do not hold up
        the rest. After ``LOCKED_MESSAGES`` messages gave up on a lock (most likely one
        lock they share, a campaign's), the rest of the batch gets the same answer."""
        by_message: dict[str | None, list[Item]] = {}
        for item in batch:
            by_message.setdefault(_message_id(item[1]), []).append(item)
        locked: list[psycopg.Error] = []
        await asyncio.gather(*(self._in_order(items, locked) for items in by_message.values()))

    async def _in_order(self, items: list[Item], locked: list[psycopg.Error]) -> None:
        async with self._retries:
            for i, (event_id, payload, future) in enumerate(items):
                if future.done():
                    continue  # its request gave up; a retry of the provider records it
                if len(locked) >= LOCKED_MESSAGES:
                    for _, _, rest in items[i:]:
                        _settle(rest, locked[0])
                    return
                params = {"event_id": event_id, "payload": payload}
                try:
                    try:
                        row = await self._statement(q.INGEST_EMAIL_EVENT, params)
                    except psycopg.Error as exc:
                        if not retryable(exc):
                            raise
                        row = await self._statement(q.INGEST_EMAIL_EVENT, params)
                except psycopg.Error as exc:
                    if unreachable(exc) or exc.sqlstate == "55P03":
                        # No database, or a lock this message's events need is held
                        # (its send, its campaign): the same answer for the rest of
                        # its events, without waiting for it once more each.
                        if exc.sqlstate == "55P03":
                            locked.append(exc)
                        for _, _, rest in items[i:]:
                            _settle(rest, exc)
                        return
                    _settle(future, exc)
                else:
                    _settle(future, row)

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


def _message_id(payload: str) -> str | None:
    """The provider message id an event is about (its send), or None (not a string:
    the database parks or ignores such an event; the payload was checked as JSON)."""
    try:
        data = json.loads(payload).get("data")
    except (ValueError, AttributeError):
        return None
    message_id = data.get("email_id") if isinstance(data, dict) else None
    return message_id if isinstance(message_id, str) else None


def _retrieved(future: asyncio.Future[str | None]) -> None:
    if not future.cancelled():
        future.exception()


def _settle(future: asyncio.Future[str | None], outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
