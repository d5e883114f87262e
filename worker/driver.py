"""pgqueuer's psycopg driver, made to outlive its connections.

Two things on top of pgqueuer 1.6's ``PsycopgDriver``:

- **LISTEN on a connection of its own.** The stock driver LISTENs on the
  connection it queries with, and its watcher holds that connection's lock
  inside ``notifies(timeout=1.0)``: every dequeue, status flush and heartbeat
  then waits up to a second for a NOTIFY. Measured in ``bench/workflows.py``:
  80 workflow executions/s with two workers as shipped, 193/s with the watcher
  on its own connection (and the in-flight cap in ``worker.app``).
- **Reconnection.** A query that fails because its connection broke (a
  terminated backend, a PostgreSQL restart) waits for a new connection, with
  backoff and jitter, and runs again on it; the listener reconnects the same
  way, LISTENs again and wakes the dequeue loop (a NOTIFY sent while it was
  away is lost, the rows are not). pgqueuer's own loops never see the outage,
  so a running job keeps its heartbeat, its retry and its final status; they
  are all written once the database is back. Every pgqueuer statement is one
  autocommit statement whose repetition is harmless: a dequeue whose answer
  was lost leaves its jobs picked until their heartbeat is stale, when they
  are picked again.

An error on a connection that is still usable (a deadlock, a statement
timeout) is raised as before. ``close()`` makes a reconnect in progress give
up; the caller owns and closes the connections it passed in, and the driver
closes the ones it opened itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.core.tm import cancel_and_wait
from pgqueuer.ports.driver import NotifyCallback
from psycopg import sql
from psycopg.rows import dict_row

from intime.aio import wait_event
from intime.db import is_transient

log = logging.getLogger("intime.worker")

T = TypeVar("T")
Connect = Callable[[], Awaitable[psycopg.AsyncConnection]]

BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
LISTEN_PROBE_SECONDS = 30.0
LISTEN_PROBE_TIMEOUT = 10.0


def backoff_delays(first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> Iterator[float]:
    """0.25 s, 0.5 s, 1 s ... capped at ``cap``, each with ±20 % jitter."""
    delay = first
    while True:
        yield delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
        delay = min(cap, delay * 2)


def connection_lost(conn: psycopg.AsyncConnection) -> bool:
    return bool(conn.closed or conn.broken)


class ReconnectingConnection:
    """One autocommit connection that is replaced when it breaks.

    ``run`` gives every statement ``deadline`` seconds: a peer that stopped
    answering (no FIN, no RST) counts as a lost connection. A statement that
    failed for a passing reason (a deadlock, a lock or statement timeout, a
    cancel) runs again after a backoff; pgqueuer's statements are single
    autocommit statements, so a failed one changed nothing.
    """

    def __init__(
        self, connect: Connect, conn: psycopg.AsyncConnection, name: str, deadline: float = 60.0
    ) -> None:
        self._connect = connect
        self.conn = conn
        self.name = name
        self.deadline = deadline
        self._lock = asyncio.Lock()
        self._closing = asyncio.Event()
        self.reconnects = 0

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    def close(self) -> None:
        """A reconnect or retry in progress gives up (with the error it started from)."""
        self._closing.set()

    async def _pause(self, seconds: float) -> None:
        await wait_event(self._closing, seconds)

    async def replace(self, broken: psycopg.AsyncConnection, error: BaseException) -> None:
        """Wait until ``self.conn`` is a new, working connection (single flight)."""
        async with self._lock:
            if self.conn is not broken:
                return  # another caller reconnected already
            started = time.monotonic()
            log.warning(
                "database connection lost (%s): %s; reconnecting",
                self.name,
                _one_line(error),
                extra={"event": "db_disconnected", "connection": self.name},
            )
            with contextlib.suppress(Exception):
                await asyncio.wait_for(broken.close(), 5)
            for delay in backoff_delays():
                if self.closing:
                    raise error
                try:
                    self.conn = await self._connect()
                except psycopg.OperationalError:
                    await self._pause(delay)
                    continue
                self.reconnects += 1
                log.warning(
                    "database connection back (%s) after %.1f s",
                    self.name,
                    time.monotonic() - started,
                    extra={
                        "event": "db_reconnected",
                        "connection": self.name,
                        "seconds": round(time.monotonic() - started, 3),
                    },
                )
                return

    async def run(self, call: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """``call(conn)``; again on a new connection when this one broke under it, and
        again after a backoff when it failed for a passing reason."""
        delays = backoff_delays()
        while True:
            conn = self.conn
            try:
                async with asyncio.timeout(self.deadline):
                    return await call(conn)
            except TimeoutError:
                if self.closing:
                    raise
                await self.replace(conn, ConnectionError(f"no answer in {self.deadline:g} s"))
            except psycopg.OperationalError as exc:
                if self.closing:
                    raise
                if connection_lost(conn):
                    await self.replace(conn, exc)
                elif is_transient(exc):
                    await self._pause(next(delays))
                else:
                    raise


class ResilientDriver(PsycopgDriver):
    """Queries on one reconnecting connection, LISTEN on another."""

    def __init__(self, query: ReconnectingConnection, listen: ReconnectingConnection) -> None:
        super().__init__(query.conn)
        if not listen.conn.autocommit:
            raise RuntimeError("the listening connection must have autocommit enabled")
        self.query = query
        self.listen = listen

    def close(self) -> None:
        self.query.close()
        self.listen.close()

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        async def call(conn: psycopg.AsyncConnection) -> list[dict[str, object]]:
            self._connection = conn
            cursor = psycopg.AsyncRawCursor(conn, row_factory=dict_row)
            await cursor.execute(query, args or None)
            return await cursor.fetchall()

        return await self.query.run(call)

    async def execute(self, query: str, *args: object) -> str:
        async def call(conn: psycopg.AsyncConnection) -> str:
            self._connection = conn
            cursor = psycopg.AsyncRawCursor(conn)
            await cursor.execute(query, args or None)
            return cursor.statusmessage or ""

        return await self.query.run(call)

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        if channel not in self._listeners:
            statement = sql.SQL("LISTEN {}").format(sql.Identifier(channel))
            await self.listen.run(lambda conn: conn.execute(statement))
            self._listeners[channel] = []
        self._listeners[channel].append(callback)
        if self._watcher is None:
            self._watcher = asyncio.create_task(self.watch_notifies(), name="notify_watcher")
            self._tm.add(self._watcher)

    async def watch_notifies(self) -> None:
        """Hand each NOTIFY to its callbacks; probe the idle connection now and then
        (a LISTEN connection whose peer went silent would otherwise wait for hours),
        and after a reconnect LISTEN again and wake the dequeue loop."""
        probe_at = time.monotonic() + LISTEN_PROBE_SECONDS
        while not self.shutdown.is_set() and not self.listen.closing:
            conn = self.listen.conn
            try:
                async for note in conn.notifies(timeout=1.0, stop_after=1):
                    self._dispatch(note.channel, note.payload)
                if time.monotonic() >= probe_at:
                    probe_at = time.monotonic() + LISTEN_PROBE_SECONDS
                    async with asyncio.timeout(LISTEN_PROBE_TIMEOUT):
                        await conn.execute("select 1")
            except (psycopg.OperationalError, TimeoutError) as exc:
                if self.shutdown.is_set() or self.listen.closing:
                    return
                if isinstance(exc, psycopg.OperationalError) and not connection_lost(conn):
                    raise
                try:
                    await self.listen.replace(conn, exc)
                    for channel in list(self._listeners):
                        await self.listen.run(_listen_to(channel))
                        # Whatever was queued while we were away: look now.
                        self._dispatch(channel, _wake_up(channel))
                except psycopg.OperationalError:
                    if self.listen.closing:
                        return
                    raise

    def _dispatch(self, channel: str, payload: str) -> None:
        for callback in list(self._listeners.get(channel, [])):
            try:
                callback(payload)
            except Exception:
                log.exception("unhandled error in a NOTIFY callback for channel %s", channel)

    async def remove_listener(self, channel: str, callback: NotifyCallback) -> None:
        callbacks = self._listeners.get(channel, [])
        if callback not in callbacks:
            return
        callbacks.remove(callback)
        if callbacks:
            return
        del self._listeners[channel]
        if not self._listeners and self._watcher is not None:
            await cancel_and_wait(self._watcher)
            self._watcher = None
        statement = sql.SQL("UNLISTEN {}").format(sql.Identifier(channel))
        with contextlib.suppress(psycopg.OperationalError):
            await self.listen.conn.execute(statement)


def _wake_up(channel: str) -> str:
    """A pgqueuer table-changed event: its dequeue loop looks at the queue at once."""
    event = {
        "channel": channel,
        "sent_at": datetime.now(UTC).isoformat(),
        "type": "table_changed_event",
        "operation": "insert",
        "table": "pgqueuer",
    }
    return json.dumps(event)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:300]


def _listen_to(
    channel: str,
) -> Callable[[psycopg.AsyncConnection], Awaitable[psycopg.AsyncCursor[Any]]]:
    """The call that LISTENs to ``channel`` on a (re)connected connection."""
    statement = sql.SQL("LISTEN {}").format(sql.Identifier(channel))

    def call(conn: psycopg.AsyncConnection) -> Awaitable[psycopg.AsyncCursor[Any]]:
        return conn.execute(statement)

    return call
