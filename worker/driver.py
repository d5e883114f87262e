"""pgqueuer's psycopg driver, listening on a connection of its own.

pgqueuer 1.6's ``PsycopgDriver`` LISTENs on the connection it queries with,
and its watcher holds that connection's lock inside ``notifies(timeout=1.0)``:
every dequeue, status flush and heartbeat then waits up to a second for a
NOTIFY. Measured in ``bench/workflows.py``: 80 workflow executions/s with two
workers as shipped, 193/s with the watcher on its own connection (and the
concurrency cap in ``worker.app``). This driver keeps queries on one
connection and LISTEN on another; the caller owns and closes both.
"""

from __future__ import annotations

import asyncio

import psycopg
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.core import logconfig
from pgqueuer.core.tm import cancel_and_wait
from pgqueuer.ports.driver import NotifyCallback
from psycopg import sql


class SplitListenDriver(PsycopgDriver):
    def __init__(
        self, connection: psycopg.AsyncConnection, listen_connection: psycopg.AsyncConnection
    ) -> None:
        super().__init__(connection)
        if not listen_connection.autocommit:
            raise RuntimeError("the listening connection must have autocommit enabled")
        self._listen = listen_connection

    async def add_listener(self, channel: str, callback: NotifyCallback) -> None:
        if channel not in self._listeners:
            await self._listen.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self._listeners[channel] = []
        self._listeners[channel].append(callback)
        if self._watcher is None:
            self._watcher = asyncio.create_task(self.watch_notifies(), name="notify_watcher")
            self._tm.add(self._watcher)

    async def watch_notifies(self) -> None:
        while not self.shutdown.is_set():
            async for note in self._listen.notifies(timeout=1.0, stop_after=1):
                for callback in list(self._listeners.get(note.channel, [])):
                    try:
                        callback(note.payload)
                    except Exception:
                        logconfig.logger.exception(
                            "Unhandled error in NOTIFY callback for channel %s", note.channel
                        )

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
        await self._listen.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(channel)))
