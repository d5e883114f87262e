"""Faults on a schedule, each recorded with what was in flight when it struck.

Before a SIGKILL the worker is stopped (SIGSTOP) and, while it is paused, the in-flight
state is read: every email ``sending`` and webhook action ``running`` in the database,
and every ``email.send`` / ``webhook.deliver`` job picked, with the
``queue_manager_id`` of the worker holding it. Only then is it killed. A duplicate
delivery is attributed to that kill only if the killed worker held the job (its id is
read from its start line); when its log gives no id, the database-wide view is used, as
before, and the evidence says so. The same snapshot is taken before a PostgreSQL
restart, a ``pg_terminate_backend`` and a SIGTERM with PostgreSQL down, so a duplicate
there is named, although it still counts as a failure (issue 12, rule 4).

The faults that touch a worker or the database run one at a time (``exclusive``): a
snapshot needs the database, and a SIGTERM must not meet a worker that a kill is
restarting.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import socket
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import psycopg

from tests.soak import logs
from tests.soak import queries as sq
from tests.soak.clients import HttpStats, Web
from tests.soak.config import SoakConfig
from tests.soak.journal import Journal
from tests.soak.nodes import NodeConnections
from tests.soak.peers import ResendStub, SmtpSink, WebhookReceiver
from tests.soak.processes import HARNESS_APP, ManagedProcess, Postgres, Supervisor, rss_kb

# pg_down_sigterm: the providers answer this slowly for a while, so that a send is surely
# in flight when PostgreSQL stops (its outcome then has to be held, then journaled).
SLOW_ANSWER_SECONDS = 3.0
SLOW_WINDOW_SECONDS = 15.0
AIM_SECONDS = 10.0  # how long a fault waits for a worker to have a send in flight


@dataclasses.dataclass(frozen=True)
class InFlight:
    kind: str  # email | webhook
    key: str  # app.email_sends id, or app.workflow_actions id
    message_id: str | None
    status: str
    holders: frozenset[str]  # queue_manager_id of each worker with a job picked for it

    @property
    def active(self) -> bool:
        """An email ``sending`` or a webhook ``running`` (the database-wide view)."""
        return self.status in ("sending", "running")

    def ids(self) -> set[str]:
        return {self.key} | ({self.message_id} if self.message_id else set())


@dataclasses.dataclass
class Snapshot:
    label: str
    t: float
    rows: list[InFlight]
    worker: str | None = None  # the process the fault strikes, if any
    worker_id: str | None = None  # its queue_manager_id, when its log gave it
    worker_id_note: str = ""  # where the id was read, or why it is unknown
    error: str | None = None

    def in_flight(self) -> list[InFlight]:
        return [r for r in self.rows if r.active]

    def held(self) -> list[InFlight]:
        """What the struck worker held a picked job for (empty when its id is unknown)."""
        if self.worker_id is None:
            return []
        return [r for r in self.rows if self.worker_id in r.holders]

    def summary(self) -> str:
        if self.error:
            return f"in flight unknown ({self.error})"
        rows = self.in_flight()
        emails = sum(r.kind == "email" for r in rows)
        out = f"{emails} email(s) sending, {len(rows) - emails} webhook(s) running"
        if self.worker is None:
            return out
        if self.worker_id is None:
            return out + f"; {self.worker}'s own jobs unknown ({self.worker_id_note})"
        held = self.held()
        mails = [r for r in held if r.kind == "email"]
        hooks = [r for r in held if r.kind == "webhook"]
        return out + (
            f"; {self.worker} held {len(mails)} email job(s) "
            f"({sum(r.active for r in mails)} sending), {len(hooks)} webhook job(s) "
            f"({sum(r.active for r in hooks)} running)"
        )


@dataclasses.dataclass
class FaultRecord:
    kind: str
    number: int
    t: float
    target: str = ""
    detail: str = ""
    snapshot: Snapshot | None = None
    t_up: float | None = None  # pg_restart, pg_down_sigterm: when the server accepted again
    answered_after: int | None = None  # oversized_post: bytes sent when it was answered
    rss_growth_kb: int | None = None  # oversized_post: the web's peak RSS growth
    # pg_down_sigterm: the worker's exit (code, None when it had to be killed; seconds),
    # its limit, and what its log says about the outcomes it journaled and the next
    # incarnation replayed.
    exit_code: int | None = None
    exit_seconds: float | None = None
    exit_limit: float | None = None
    journaled: int = 0
    replayed: int = 0
    done: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind} #{self.number}" + (f" ({self.target})" if self.target else "")


async def in_flight(conns: NodeConnections) -> list[InFlight]:
    """Every send in flight, with the workers holding a job for it on any node."""
    merged: dict[tuple[str, str], InFlight] = {}
    for r in await conns.rows(sq.IN_FLIGHT):
        key = (r["kind"], r["key"])
        holders = frozenset(r["holders"] or ())
        have = merged.get(key)
        if have is not None:  # another node's read: a send active in either is active
            holders |= have.holders
            if have.active:
                r["status"] = have.status
        merged[key] = InFlight(r["kind"], r["key"], r["message_id"], r["status"], holders)
    return list(merged.values())


async def snapshot(
    db: Postgres, label: str, t: float, worker: ManagedProcess | None = None
) -> Snapshot:
    name = wid = None
    note = ""
    if worker is not None:
        name, wid = worker.name, worker.worker_id()
        inc = worker.current
        note = (
            f"read from {inc.worker_id_source} in {worker.log_path.name}"
            if wid and inc is not None
            else f"no 'worker <uuid> started' line nor JSON worker_id in "
            f"{worker.log_path.name} (incarnation #{inc.number if inc else '?'})"
        )
    try:
        async with NodeConnections(db, timeout=5) as conns:
            rows = await in_flight(conns)
    except psycopg.Error as exc:
        return Snapshot(label, t, [], name, wid, note, error=type(exc).__name__)
    return Snapshot(label, t, rows, name, wid, note)


class Faults:
    def __init__(
        self,
        *,
        config: SoakConfig,
        journal: Journal,
        db: Postgres,
        supervisor: Supervisor,
        webs: list[Web],
        sink: SmtpSink,
        stub: ResendStub,
        receiver: WebhookReceiver,
        stats: HttpStats,
        home: Path,
    ) -> None:
        self.config = config
        self.home = home  # the INTIME_HOME every process shares
        self.journal = journal
        self.db = db
        self.supervisor = supervisor
        self.webs = webs
        self.sink = sink
        self.stub = stub
        self.receiver = receiver
        self.stats = stats
        self.records: list[FaultRecord] = []
        self._running: set[asyncio.Task[None]] = set()
        self._counts: dict[str, int] = {}
        self.exclusive = asyncio.Lock()  # worker_kill, pg_*: one at a time

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
        for peer in (self.sink, self.stub, self.receiver):
            peer.pace.normal()
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._running):
            task.cancel()
        await self.finish()

    def count(self, kind: str) -> int:
        return sum(1 for r in self.records if r.kind == kind and r.done)

    # -- the faults --------------------------------------------------------------------

    def _index(self, kind: str) -> int:
        return sum(1 for r in self.records if r.kind == kind)

    async def _worker_kill(self) -> None:
        async with self.exclusive:
            workers = [w for w in self.supervisor.workers if w.ready]
            if not workers:
                self.journal.log("fault", "worker_kill skipped: no worker is running")
                return
            worker: ManagedProcess = workers[self._index("worker_kill") % len(workers)]
            busy = await self._holder([worker], AIM_SECONDS) is not None
            record = self._record("worker_kill", worker.name)
            worker.send(signal.SIGSTOP)  # nothing more leaves it while we look
            try:
                record.snapshot = await snapshot(self.db, record.label, self.journal.now(), worker)
            finally:
                await worker.kill()
            snap = record.snapshot
            record.detail = snap.summary() + ("" if busy else " (nothing of its own in flight)")
            self.journal.log("FAULT", f"SIGKILL {worker.name}: {snap.summary()}")
            self._log_held(snap)
            record.done = True
            await self.supervisor.restart(worker, delay=1.0)

    def _log_held(self, snap: Snapshot) -> None:
        rows = snap.held() if snap.worker_id else snap.in_flight()
        whose = f"{snap.worker}'s" if snap.worker_id else "database-wide"
        for kind in ("email", "webhook"):
            keys = [r.key for r in rows if r.kind == kind]
            if keys:
                self.journal.log("fault", f"  {whose} {kind} jobs: {_some(keys)}")

    async def _holder(
        self, candidates: list[ManagedProcess], timeout: float
    ) -> ManagedProcess | None:
        """Wait (bounded) for one of ``candidates`` to hold a send in flight (a picked job
        whose email is ``sending`` or webhook ``running``); returns that worker. A
        candidate whose id is unknown is returned when anything at all is in flight."""
        deadline = time.monotonic() + timeout
        known = {wid: w for w in candidates if (wid := w.worker_id()) is not None}
        unknown = [w for w in candidates if w not in known.values()]
        with contextlib.suppress(psycopg.Error):
            async with NodeConnections(self.db, timeout=5) as conns:
                while time.monotonic() < deadline:
                    active = [r for r in await in_flight(conns) if r.active]
                    for row in active:
                        for holder in row.holders:
                            if holder in known:
                                return known[holder]
                    if active and unknown:
                        return unknown[0]
                    await asyncio.sleep(0.05)
        return None

    async def _pg_terminate(self) -> None:
        async with self.exclusive:
            record = self._record("pg_terminate")
            record.snapshot = await snapshot(self.db, record.label, self.journal.now())
            try:
                async with NodeConnections(self.db, timeout=5) as conns:
                    rows = await conns.rows(sq.TERMINATE_SERVICE, {"harness": HARNESS_APP})
            except psycopg.Error as exc:
                self.journal.log("fault", f"pg_terminate could not run: {exc!r}")
                return
            killed, seen = sum(r["killed"] for r in rows), sum(r["seen"] for r in rows)
            record.detail = f"{killed} of {seen} intime_service backends terminated" + (
                f" on {len(rows)} nodes" if len(rows) > 1 else ""
            )
            record.done = True
            self.journal.log("FAULT", f"pg_terminate_backend: {record.detail}")

    async def _pg_restart(self) -> None:
        async with self.exclusive:
            # On a cluster the nodes take turns, from one the seed picks (a short run has
            # one restart: over runs, each node gets it).
            node = self.db.node_for_fault(self._index("pg_restart") + self.config.seed)
            record = self._record("pg_restart", node)
            record.snapshot = await snapshot(self.db, record.label, self.journal.now())
            t0 = time.monotonic()
            await asyncio.to_thread(self.db.stop, node)
            try:
                self.journal.log(
                    "FAULT",
                    f"PostgreSQL {node + ' ' if node else ''}stopped (fast) in "
                    f"{time.monotonic() - t0:.1f}s; {record.snapshot.summary()} at the stop",
                )
                await asyncio.sleep(self.config.pg_down_seconds)
            finally:
                await asyncio.to_thread(self.db.start_again, node)
            record.t_up = self.journal.now()
            record.detail = f"down {time.monotonic() - t0:.1f}s"
            record.done = True
            self.journal.log(
                "FAULT", f"PostgreSQL started again on the same port ({record.detail})"
            )

    async def _pg_down_sigterm(self) -> None:
        """PostgreSQL stopped; SIGTERM to a worker with a send in flight (the providers
        answer slowly meanwhile, so that its outcome arrives with the database away);
        PostgreSQL stays down until that worker has exited (at most its grace + 30 s), so
        an outcome it still holds at the end of its stop goes to its journal; then
        PostgreSQL starts and the worker is started again on the same INTIME_HOME, where it
        replays the journal before it takes a job."""
        async with self.exclusive:
            workers = [w for w in self.supervisor.workers if w.ready]
            if not workers:
                self.journal.log("fault", "pg_down_sigterm skipped: no worker is running")
                return
            for peer in (self.sink, self.stub, self.receiver):
                peer.pace.slow_for(SLOW_WINDOW_SECONDS, SLOW_ANSWER_SECONDS)
            holder = await self._holder(workers, AIM_SECONDS)
            worker = holder or workers[self._index("pg_down_sigterm") % len(workers)]
            node = worker.node  # the node it attaches to (one server: "")
            record = self._record("pg_down_sigterm", worker.name + (f" on {node}" if node else ""))
            record.snapshot = snap = await snapshot(
                self.db, record.label, self.journal.now(), worker
            )
            stopped = worker.current
            assert stopped is not None
            limit = record.exit_limit = self.config.worker_stop_limit
            t0 = time.monotonic()
            await asyncio.to_thread(self.db.stop, node)
            try:
                self.journal.log(
                    "FAULT",
                    f"PostgreSQL {node + ' ' if node else ''}stopped (fast) in "
                    f"{time.monotonic() - t0:.1f}s; SIGTERM "
                    f"{worker.name}"
                    + ("" if holder else " (no worker had a send in flight)")
                    + f"; {snap.summary()}",
                )
                self._log_held(snap)
                record.exit_code, record.exit_seconds = await worker.sigterm(limit)
            finally:
                for peer in (self.sink, self.stub, self.receiver):
                    peer.pace.normal()
                await asyncio.to_thread(self.db.start_again, node)
            down = time.monotonic() - t0
            record.t_up = self.journal.now()
            counts = logs.journal_counts(
                [logs.parse(raw) for raw in logs.section(worker.log_path, stopped.number)]
            )
            record.journaled = counts.journaled
            exit_text = (
                f"exit {record.exit_code}"
                if record.exit_code is not None
                else "did not exit: SIGKILLed"
            )
            self.journal.log(
                "FAULT",
                f"{worker.name} {exit_text} after {record.exit_seconds or 0:.1f}s (limit "
                f"{limit:.0f}s), {counts.journaled} outcome(s) journaled, {counts.lost} lost; "
                f"PostgreSQL started again after {down:.1f}s",
            )
            await self.supervisor.restart(worker, delay=1.0)
            again = worker.current
            if again is not None and again.number > stopped.number:
                record.replayed = logs.journal_counts(
                    [logs.parse(raw) for raw in logs.section(worker.log_path, again.number)]
                ).replayed
            left = logs.journal_entries(self.home / "journal")
            record.detail = (
                f"{snap.summary()}; {exit_text} after {record.exit_seconds or 0:.1f}s (limit "
                f"{limit:.0f}s); PostgreSQL down {down:.1f}s; journaled {record.journaled}, "
                f"replayed {record.replayed} by the next incarnation at its start, {left} "
                "entries left in INTIME_HOME/journal"
            )
            record.done = True

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
