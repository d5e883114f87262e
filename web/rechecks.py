"""Open streams' credentials, re-checked many at a time.

Every stream checks now and then that the API token (and console session) it was opened
with still holds (web/notifications.py, ``_Recheck``). At 10,000 streams and one check a
minute that was about 200 queries a second, each with its round trip, pooled connection
and its share of the web process: a fifth of it in a profile. Here the checks that come
in during ``linger`` seconds go as one call of ``api.check_stream_credentials``, up to
``batch`` at once, one call at a time: while a call runs, the next batch gathers.

A check comes back True (the credential holds), False (revoked, expired, user
deactivated, session ended) or None when the database could not say: no pooled
connection within ``wait``, the connection lost (a restart, a failover, a Citus node
away), or no answer within ``timeout``. One slow call must not hold every stream of the
process, of every org, past its deadline: it is cancelled and left to end in the
background (psycopg's cancel of a query can itself take 10 s on a network that drops
packets). The stream then tries again shortly, and ends after two intervals unverified;
one lost connection does not end a thousand streams at once. Any other error is raised
to every check of its batch (each of those streams ends).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from intime.db import is_node_failure
from web import queries as q

log = logging.getLogger("intime.web.rechecks")

LINGER = 0.1  # seconds a first check waits for others to join its call
BATCH = 1000  # api.check_stream_credentials' arrays at most
WAIT = 1.0  # seconds a call waits for a pooled connection before its checks say None
TIMEOUT = 5.0  # seconds a call may take in all before its checks say None


@dataclasses.dataclass(frozen=True, slots=True)
class Credential:
    """What a stream stands on: an org's API token, and the console session opened with
    it when the stream came with the session cookie."""

    org_id: uuid.UUID
    token_id: uuid.UUID
    session_id: uuid.UUID | None = None


@dataclasses.dataclass
class RecheckStats:
    calls: int = 0  # calls of api.check_stream_credentials
    checked: int = 0  # credentials they checked
    busy: int = 0  # checks answered None: no connection or answer in time, or it was lost


class CredentialChecks:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        *,
        linger: float = LINGER,
        batch: int = BATCH,
        wait: float = WAIT,
        timeout: float = TIMEOUT,
    ) -> None:
        self._pool = pool
        self._linger = linger
        self._batch = min(batch, BATCH)
        self._wait = wait
        self._timeout = timeout
        self._pending: list[tuple[Credential, asyncio.Future[bool | None]]] = []
        self._calling: list[tuple[Credential, asyncio.Future[bool | None]]] = []
        self._runner: asyncio.Task[None] | None = None
        self._abandoned: set[asyncio.Task[list[bool]]] = set()  # calls past their timeout
        self.stats = RecheckStats()

    async def check(self, credential: Credential) -> bool | None:
        """Whether ``credential`` still holds; None when the database could not say."""
        future: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self._pending.append((credential, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._pending:
            if len(self._pending) < self._batch:
                await asyncio.sleep(self._linger)
            batch = [(c, f) for c, f in self._pending[: self._batch] if not f.done()]
            del self._pending[: self._batch]
            if batch:
                self._calling = batch  # close() cancels them if it comes meanwhile
                await self._call(batch)
                self._calling = []

    async def _call(self, batch: list[tuple[Credential, asyncio.Future[bool | None]]]) -> None:
        creds = [c for c, _ in batch]
        live: list[bool | None]
        call = asyncio.create_task(self._query(creds))
        try:
            done, _ = await asyncio.wait({call}, timeout=self._timeout)
        finally:
            if not call.done():  # the timeout, or close()
                call.cancel()  # psycopg cancels the query in the server, in the background
                self._abandoned.add(call)
                call.add_done_callback(self._forget)
        try:
            if not done:
                raise TimeoutError(f"no answer within {self._timeout} s")
            live = list(call.result())
            self.stats.calls += 1
            self.stats.checked += len(creds)
        except Exception as exc:
            if not (
                isinstance(exc, PoolTimeout | psycopg.OperationalError | TimeoutError)
                or is_node_failure(exc)
            ):  # each stream waiting for it ends
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            if not isinstance(exc, PoolTimeout):
                log.warning("stream credential re-checks: no answer from the database: %r", exc)
            live = [None] * len(creds)
            self.stats.busy += len(creds)
        for (_, future), holds in zip(batch, live, strict=True):
            if not future.done():
                future.set_result(holds)

    async def _query(self, creds: list[Credential]) -> list[bool]:
        async with self._pool.connection(timeout=self._wait) as conn:
            cur = await conn.execute(
                q.CHECK_STREAM_CREDENTIALS,
                {
                    "org_ids": [c.org_id for c in creds],
                    "token_ids": [c.token_id for c in creds],
                    "session_ids": [c.session_id for c in creds],
                },
            )
            row = await cur.fetchone()
        live = list(row[0]) if row is not None else []
        if len(live) != len(creds):
            raise RuntimeError(f"{len(live)} answers for {len(creds)} credentials")
        return live

    def _forget(self, call: asyncio.Task[list[bool]]) -> None:
        self._abandoned.discard(call)
        if not call.cancelled():
            call.exception()  # taken: nobody waits for it any more

    async def close(self) -> None:
        """Stop (the app's shutdown): checks still waiting, or in a call, are cancelled."""
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("stream credential re-checks: the runner failed")
        for _, future in [*self._calling, *self._pending]:
            future.cancel()
        self._calling = []
        self._pending.clear()
        if self._abandoned:  # their cancels, a few seconds at most
            await asyncio.wait(self._abandoned, timeout=self._timeout)
