"""Faults on a schedule, each recorded with what was in flight when it struck.

Before a SIGKILL the worker is stopped (SIGSTOP), the emails in ``sending`` and the
webhook actions in ``running`` are read, and only then is it killed: a duplicate
delivery of one of those is attributed to that kill. The same snapshot is taken before
a PostgreSQL restart and a ``pg_terminate_backend``, so a duplicate there is explained,
although it still counts as a failure (issue 12, rule 4).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import socket
import time
from collections.abc import Iterable

import httpx
import psycopg

from tests.soak import queries as sq
from tests.soak.clients import HttpStats, Web
from tests.soak.config import SoakConfig
from tests.soak.journal import Journal
from tests.soak.peers import SmtpSink, WebhookReceiver
from tests.soak.processes import HARNESS_APP, Database, ManagedProcess, Supervisor, rss_kb


@dataclasses.dataclass
class Snapshot:
    label: str
    t: float
    sending: dict[str, str]  # email_sends id -> Message-ID
    running_webhooks: set[str]  # workflow_actions id
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"in flight unknown ({self.error})"
        return (
            f"{len(self.sending)} email(s) sending, {len(self.running_webhooks)} webhook(s) running"
        )


@dataclasses.dataclass
class FaultRecord:
    kind: str
    number: int
    t: float
    target: str = ""
    detail: str = ""
    snapshot: Snapshot | None = None
    t_up: float | None = None  # pg_restart: when the server was accepting again
    answered_after: int | None = None  # oversized_post: bytes sent when it was answered
    rss_growth_kb: int | None = None  # oversized_post: the web's peak RSS growth
    done: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} #{self.number}" + (f" ({self.target})" if self.target else "")


async def snapshot(db: Database, label: str, t: float) -> Snapshot:
    try:
        async with await psycopg.AsyncConnection.connect(
            db.admin_dsn, autocommit=True, application_name=HARNESS_APP, connect_timeout=5
        ) as conn:
            cur = await conn.execute(sq.IN_FLIGHT_EMAILS)
            sending = {row[0]: row[1] for row in await cur.fetchall()}
            cur = await conn.execute(sq.IN_FLIGHT_WEBHOOKS)
            webhooks = {row[0] for row in await cur.fetchall()}
    except psycopg.Error as exc:
        return Snapshot(label, t, {}, set(), error=type(exc).__name__)
    return Snapshot(label, t, sending, webhooks)


class Faults:
    def __init__(
        self,
        *,
        config: SoakConfig,
        journal: Journal,
        db: Database,
        supervisor: Supervisor,
        webs: list[Web],
        sink: SmtpSink,
        receiver: WebhookReceiver,
        stats: HttpStats,
    ) -> None:
        self.config = config
        self.journal = journal
        self.db = db
        self.supervisor = supervisor
        self.webs = webs
        self.sink = sink
        self.receiver = receiver
        self.stats = stats
        self.records: list[FaultRecord] = []
        self._running: set[asyncio.Task[None]] = set()
        self._counts: dict[str, int] = {}
        self.pg_lock = asyncio.Lock()

    def _record(self, kind: str, target: str = "") -> FaultRecord:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        record = FaultRecord(kind, self._counts[kind], self.journal.now(), target)
        self.records.append(record)
        return record

    async def run(self, schedule: list[tuple[float, str]], load_started: float) -> None:
        """Fire each fault at its time (seconds after ``load_started``, journal time)."""
        for at, kind in schedule:
            delay = load_started + at - self.journal.now()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._fire(kind))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _fire(self, kind: str) -> None:
        """Run one fault; a harness error leaves its record not done (the faults row fails)."""
        try:
            await getattr(self, f"_{kind}")()
        except Exception as exc:
            self.journal.log("FAULT", f"{kind} could not be injected (harness): {exc!r}")

    async def finish(self) -> None:
        """End the timed faults at once and wait for the ones still running."""
        self.sink.refuse_until = 0.0
        self.receiver.stop_hanging()
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._running):
            task.cancel()
        await self.finish()

    def count(self, kind: str) -> int:
        return sum(1 for r in self.records if r.kind == kind and r.done)

    # -- the faults --------------------------------------------------------------------

    async def _worker_kill(self) -> None:
        workers = [w for w in self.supervisor.workers if w.pid is not None]
        if not workers:
            self.journal.log("fault", "worker_kill skipped: no worker is running")
            return
        index = sum(1 for r in self.records if r.kind == "worker_kill")
        worker: ManagedProcess = workers[index % len(workers)]
        busy = await self._await_in_flight(10.0)
        record = self._record("worker_kill", worker.name)
        worker.send(signal.SIGSTOP)  # nothing more leaves it while we look
        record.snapshot = await snapshot(self.db, record.label, self.journal.now())
        await worker.kill()
        record.detail = record.snapshot.summary() + ("" if busy else " (nothing was in flight)")
        self.journal.log("FAULT", f"SIGKILL {worker.name}: {record.snapshot.summary()}")
        if record.snapshot.sending:
            self.journal.log("fault", f"  sending: {_some(record.snapshot.sending)}")
        if record.snapshot.running_webhooks:
            self.journal.log(
                "fault", f"  webhooks running: {_some(record.snapshot.running_webhooks)}"
            )
        record.done = True
        await self.supervisor.restart(worker, delay=1.0)

    async def _await_in_flight(self, timeout: float) -> bool:
        """Wait (bounded) for a moment with an email sending or a webhook running, so that
        a kill can catch one in flight (it may still be the other worker's)."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(psycopg.Error):
            async with await psycopg.AsyncConnection.connect(
                self.db.admin_dsn, autocommit=True, application_name=HARNESS_APP
            ) as conn:
                while time.monotonic() < deadline:
                    cur = await conn.execute(sq.ANY_IN_FLIGHT)
                    row = await cur.fetchone()
                    if row and row[0]:
                        return True
                    await asyncio.sleep(0.05)
        return False

    async def _pg_terminate(self) -> None:
        record = self._record("pg_terminate")
        record.snapshot = await snapshot(self.db, record.label, self.journal.now())
        try:
            async with await psycopg.AsyncConnection.connect(
                self.db.admin_dsn, autocommit=True, application_name=HARNESS_APP
            ) as conn:
                cur = await conn.execute(sq.TERMINATE_SERVICE, {"harness": HARNESS_APP})
                row = await cur.fetchone()
        except psycopg.Error as exc:
            self.journal.log("fault", f"pg_terminate could not run: {exc!r}")
            return
        killed, seen = row if row else (0, 0)
        record.detail = f"{killed} of {seen} intime_service backends terminated"
        record.done = True
        self.journal.log("FAULT", f"pg_terminate_backend: {record.detail}")

    async def _pg_restart(self) -> None:
        async with self.pg_lock:
            record = self._record("pg_restart")
            record.snapshot = await snapshot(self.db, record.label, self.journal.now())
            t0 = time.monotonic()
            await asyncio.to_thread(self.db.stop)
            self.journal.log(
                "FAULT",
                f"PostgreSQL stopped (fast) in {time.monotonic() - t0:.1f}s; "
                f"{record.snapshot.summary()} at the stop",
            )
            await asyncio.sleep(self.config.pg_down_seconds)
            await asyncio.to_thread(self.db.start_again)
            record.t_up = self.journal.now()
            record.detail = f"down {time.monotonic() - t0:.1f}s"
            record.done = True
            self.journal.log(
                "FAULT", f"PostgreSQL started again on the same port ({record.detail})"
            )

    async def _smtp_451(self) -> None:
        record = self._record("smtp_451")
        seconds = self.config.smtp_refuse_seconds
        refused_before = self.sink.refused
        self.sink.refuse_for(seconds)
        self.journal.log("FAULT", f"SMTP sink answers 451 for {seconds:.0f}s")
        await asyncio.sleep(seconds)
        record.detail = f"{self.sink.refused - refused_before} message(s) refused with 451"
        record.done = True
        self.journal.log("fault", f"SMTP sink accepts again: {record.detail}")

    async def _webhook_hang(self) -> None:
        record = self._record("webhook_hang")
        seconds = self.config.hang_seconds
        hung_before = self.receiver.hung
        self.receiver.hang_for(seconds)
        self.journal.log("FAULT", f"webhook receiver hangs for {seconds:.0f}s")
        await asyncio.sleep(seconds)
        record.detail = f"{self.receiver.hung - hung_before} request(s) never answered"
        record.done = True
        self.journal.log("fault", f"webhook receiver answers again: {record.detail}")

    async def _oversized_post(self) -> None:
        index = sum(1 for r in self.records if r.kind == "oversized_post")
        web = self.webs[index % len(self.webs)]
        process = next(p for p in self.supervisor.webs if p.name == web.name)
        record = self._record("oversized_post", web.name)
        size = self.config.oversize_mb << 20
        pid = process.pid
        rss_before = rss_kb(pid) if pid else None
        peak = [rss_before or 0]
        health_worst = [0.0]
        watcher = asyncio.create_task(_watch(web, pid, peak, health_worst))
        t0 = time.monotonic()
        try:
            status, body, sent = await oversized_post(web.base, size)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if status is not None:
            self.stats.record(web.name, "/webhooks/inbound (oversized)", status, body)
            outcome = f"HTTP {status} {body[:80]!r}"
        else:
            self.stats.error(web.name, "/webhooks/inbound (oversized)", ConnectionError(body))
            outcome = f"no answer ({body})"
        rss_after = rss_kb(pid) if pid else None
        record.answered_after = sent if status is not None else None
        record.rss_growth_kb = max(0, peak[0] - rss_before) if rss_before else None
        record.detail = (
            f"{size >> 20} MB announced, answered after {sent >> 20} MB sent, "
            f"{time.monotonic() - t0:.1f}s: {outcome}; RSS {_mb(rss_before)} -> peak "
            f"{_mb(peak[0])} -> {_mb(rss_after)}; /healthz worst {health_worst[0]:.2f}s during it"
        )
        record.done = True
        self.journal.log("FAULT", f"oversized unauthenticated POST to {web.name}: {record.detail}")


async def _watch(web: Web, pid: int | None, peak: list[int], health_worst: list[float]) -> None:
    """The web's RSS and /healthz latency while the oversized POST runs."""
    async with httpx.AsyncClient(timeout=30.0) as client:
        while True:
            if pid and (value := rss_kb(pid)):
                peak[0] = max(peak[0], value)
            t0 = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                await client.get(web.base + "/healthz")
            health_worst[0] = max(health_worst[0], time.monotonic() - t0)
            await asyncio.sleep(0.2)


async def oversized_post(base: str, size: int) -> tuple[int | None, str, int]:
    """POST ``size`` bytes of junk to /webhooks/inbound without credentials, on a raw
    socket: the body is streamed while the answer is read, so an answer that comes before
    the body is read (what issue 12 asks) is seen, even when the server then closes and
    the rest of the body fails to send. (status, body, bytes sent when it answered)."""
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sent = 0

    async def pump() -> None:
        nonlocal sent
        chunk = b"x" * (1 << 20)
        with contextlib.suppress(OSError):
            while sent < size:
                await loop.sock_sendall(sock, chunk)
                sent += len(chunk)

    try:
        await loop.sock_connect(sock, (host, int(port)))
        await loop.sock_sendall(
            sock,
            f"POST /webhooks/inbound HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: message/rfc822\r\nContent-Length: {size}\r\n\r\n".encode(),
        )
        pumping = asyncio.create_task(pump())
        try:
            data, at = b"", None
            while b"\r\n\r\n" not in data:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 120.0)
                at = sent if at is None else at
                if not chunk:
                    break
                data += chunk
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
        if not data:
            return None, "connection closed without an answer", sent
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b"\r\n", 1)[0].split()[1])
        with contextlib.suppress(TimeoutError, OSError):
            body += await asyncio.wait_for(loop.sock_recv(sock, 4096), 1.0)
        return status, body.decode(errors="replace"), at or sent
    except (TimeoutError, OSError, ValueError, IndexError) as exc:
        return None, f"{type(exc).__name__}: {exc}", sent
    finally:
        sock.close()


def _some(ids: Iterable[str], limit: int = 8) -> str:
    """Up to ``limit`` ids (the full list is in the snapshot the checks use)."""
    items = sorted(ids)
    more = f" ... ({len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _mb(kb: int | None) -> str:
    return "?" if kb is None else f"{kb / 1024:.0f} MB"
