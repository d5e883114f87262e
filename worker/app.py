"""The pgqueuer worker process: connects as intime_service, drains ``queue``.

A ``Worker`` is built by ``start_worker`` and lives as long as its process
(docs/operations.md):

- it waits up to ``connect_timeout`` for the database at start (a database
  that stays away is ``DatabaseUnavailable``: one line, a non-zero exit);
- afterwards it outlives the database: the pgqueuer connections reconnect
  (``worker.driver``), the job pool replaces broken connections (``check``),
  and every entrypoint classifies its errors (``worker.jobs``);
- ``stop()`` (SIGTERM, SIGINT) stops taking jobs, lets those in flight finish
  for ``grace_seconds``, releases the rest back to the queue and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import signal
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueExecutionMode
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from intime.aio import wait_event
from intime.config import Config, ConfigError
from intime.db import is_transient, open_pool, with_tcp_options
from intime.migrate import QUEUE_SCHEMA
from intime.netguard import TargetGuard
from worker import campaigns, domains, maintenance, notifications, workflows
from worker.driver import (
    ReconnectingConnection,
    ResilientDriver,
    backoff_delays,
    connection_lost,
)
from worker.email import EmailDeps, send_email
from worker.jobs import Durability, JobRunner, one_line, payload_ids
from worker.journal import REPLAY_SECONDS, OutcomeJournal
from worker.metrics import MetricsAddress, MetricsServer, WorkerMetrics, due_at
from worker.queue import GuardedQueries
from worker.queue import queries_for as guarded_queries
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport

log = logging.getLogger("intime.worker")

# A picked job whose heartbeat is older than this is picked again (its worker died).
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
# At most this many jobs in flight per worker (pgqueuer's default is unlimited: a
# worker would take the whole backlog into tasks waiting on its 8-connection pool).
MAX_CONCURRENT_TASKS = 20
# At the end of a stop: how long a send in progress may still take, and how long
# pgqueuer gets to write the last job statuses.
FINAL_SECONDS = 10.0
FLUSH_SECONDS = 5.0
RECORD_TIMEOUT = 5.0  # what a record waits for a pooled connection (worker.email)
# A pgqueuer loop that ran this long before it failed starts the backoff afresh.
HEALTHY_SECONDS = 60.0


class DatabaseUnavailable(Exception):
    """The database could not be reached within the start-up timeout."""


class WorkerFailed(Exception):
    """pgqueuer's loop failed in a way a restart cannot cure (say, no queue schema)."""


@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    """What an operator may tune (``intime worker --help``, docs/operations.md)."""

    pool_min: int = 1
    pool_max: int = 8
    max_in_flight: int = MAX_CONCURRENT_TASKS
    grace_seconds: float = 30.0
    heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT
    connect_timeout: float = 30.0
    # How long a picked job waits for a NOTIFY before looking at the queue anyway.
    dequeue_timeout: timedelta = timedelta(seconds=30)
    # At the end of a stop, past the grace period: how long a send in progress may
    # still take to be recorded before its outcome goes to the journal.
    final_seconds: float = FINAL_SECONDS
    # The campaign schedules (the minute tick, A/B evaluation, log archive) on the real
    # clock. The demo turns them off: it ticks its campaign on the fake clock, and a
    # real-clock tick in between would run its steps months "late" (on a Saturday, defer
    # them to a real Monday) where the demo's ticks never find them.
    campaign_schedules: bool = True
    # The campaign tick's due wake-up (campaigns.wake, with the schedules); a draining
    # worker (run_worker(drain=True)) goes without: a wake-up ahead keeps a queue busy.
    campaign_wake: bool = True
    # Where to serve /metrics (worker/metrics.py); None: nowhere.
    metrics_address: MetricsAddress | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.pool_min <= self.pool_max:
            raise ValueError("the pool needs 1 <= min <= max connections")
        if self.max_in_flight < 2:
            raise ValueError("the in-flight limit must be at least 2")
        if not (math.isfinite(self.grace_seconds) and 0 <= self.grace_seconds <= 3600):
            raise ValueError("the grace period must be 0 to 3600 seconds")

    @property
    def batch_size(self) -> int:
        # pgqueuer wants max_concurrent_tasks >= 2 * batch_size.
        return max(1, min(10, self.max_in_flight // 2))


def transports_from(config: Config, outbox: Path) -> dict[str, Transport]:
    """The transports this process can use; an org's provider picks one."""
    found: dict[str, Transport] = {"outbox": OutboxTransport(outbox)}
    if config.smtp_host:
        found["smtp"] = SmtpTransport(
            config.smtp_host,
            config.smtp_port,
            username=config.smtp_username,
            password=config.smtp_password,
            starttls=config.smtp_starttls,
            concurrency=config.smtp_concurrency,
        )
    if config.resend_api_key:
        found["resend"] = ResendTransport(config.resend_api_key, config.resend_base_url)
    return found


def queries_for(driver: ResilientDriver) -> GuardedQueries:
    return guarded_queries(driver, QUEUE_SCHEMA)


async def _connect_within(dsn: str, timeout: float) -> psycopg.AsyncConnection:
    """An autocommit connection, retried with backoff for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for delay in backoff_delays():
        try:
            return await psycopg.AsyncConnection.connect(with_tcp_options(dsn), autocommit=True)
        except psycopg.OperationalError as exc:
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(one_line(exc)) from exc
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


# On a Citus node a job enqueued by the node's part of a transaction begun on another
# node comes with no NOTIFY (app._may_notify, docs/scale-out.md): the worker looks at
# the queue at least this often there.
CLUSTER_DEQUEUE_TIMEOUT = timedelta(seconds=1)


async def _for_the_node(conn: psycopg.AsyncConnection, options: WorkerOptions) -> WorkerOptions:
    """The options, with the queue polled every ``CLUSTER_DEQUEUE_TIMEOUT`` on a Citus
    node."""
    cursor = await conn.execute("select pg_catalog.to_regclass('pg_catalog.pg_dist_shard')")
    row = await cursor.fetchone()
    if row is None or row[0] is None or options.dequeue_timeout <= CLUSTER_DEQUEUE_TIMEOUT:
        return options
    log.info(
        "a Citus node: the queue is polled every %s s",
        CLUSTER_DEQUEUE_TIMEOUT.total_seconds(),
        extra={"event": "worker_cluster_poll"},
    )
    return dataclasses.replace(options, dequeue_timeout=CLUSTER_DEQUEUE_TIMEOUT)


@dataclasses.dataclass
class Worker:
    pgq: PgQueuer
    driver: ResilientDriver
    pool: AsyncConnectionPool
    email: EmailDeps
    flows: workflows.WorkflowDeps
    runner: JobRunner
    options: WorkerOptions
    journal: OutcomeJournal | None = None
    metrics: WorkerMetrics | None = None
    metrics_server: MetricsServer | None = None
    _run_task: asyncio.Task[None] | None = None
    _stop_requested: bool = False
    _stopped: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    _closed: bool = False
    restarts: int = 0

    @property
    def stopping(self) -> bool:
        """Past the grace period: running jobs are being released."""
        return self.runner.releasing

    def _loop(self, drain: bool, dequeue_timeout: timedelta | None) -> asyncio.Task[None]:
        options = self.options
        return asyncio.create_task(
            self.pgq.run(
                mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
                dequeue_timeout=dequeue_timeout
                or (timedelta(seconds=1) if drain else options.dequeue_timeout),
                batch_size=options.batch_size,
                heartbeat_timeout=options.heartbeat_timeout,
                max_concurrent_tasks=options.max_in_flight,
            )
        )

    async def run(self, *, drain: bool = False, dequeue_timeout: timedelta | None = None) -> None:
        """Take jobs until ``stop()`` (or, with ``drain``, until the queue is empty).

        pgqueuer's loop is supervised: should it fail (an error no retry in the
        driver absorbed), it is logged in one line and started again after a
        backoff; the jobs it was running finish first."""
        options = self.options
        worker_id = str(self.pgq.qm.queue_manager_id)
        log.info(
            "worker %s started: %s entrypoints, %s schedules; in flight <= %s; pool %s-%s; "
            "grace %.0f s; transports %s",
            worker_id,
            len(self.pgq.qm.entrypoint_registry),
            len(self.pgq.sm.registry),
            options.max_in_flight,
            options.pool_min,
            options.pool_max,
            options.grace_seconds,
            ", ".join(sorted(self.email.transports)),
            extra={
                "event": "worker_started",
                "worker_id": worker_id,
                "entrypoints": sorted(self.pgq.qm.entrypoint_registry),
            },
        )
        replaying = asyncio.create_task(self._replay_journal())
        try:
            await self._supervise(drain, dequeue_timeout)
        finally:
            replaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replaying

    async def _supervise(self, drain: bool, dequeue_timeout: timedelta | None) -> None:
        delays = backoff_delays(first=1.0, cap=30.0)
        while True:
            started = time.monotonic()
            self._run_task = self._loop(drain, dequeue_timeout)
            try:
                await self._run_task
                return
            except Exception as exc:
                if self._stop_requested:
                    return
                if not is_transient(exc):
                    # A missing queue schema, a bug: restarting would fail the same way.
                    log.debug("worker loop failed", exc_info=exc)
                    raise WorkerFailed(one_line(exc)) from exc
                if time.monotonic() - started > HEALTHY_SECONDS:
                    delays = backoff_delays(first=1.0, cap=30.0)
                self.restarts += 1
                delay = next(delays)
                log.error(
                    "worker loop failed, restarting in %.0f s: %s",
                    delay,
                    one_line(exc),
                    extra={"event": "worker_loop_failed", "restarts": self.restarts},
                )
                await wait_event(self._stopped, delay)
                if self._stop_requested:
                    return
                self.pgq.shutdown.clear()

    async def _replay_journal(self) -> None:
        """Record what a stopped worker on this machine journaled, now and then."""
        if self.journal is None:
            return
        while not self._stop_requested:
            await wait_event(self._stopped, REPLAY_SECONDS)
            if not self._stop_requested:
                await self.journal.replay(self.pool)

    async def _until_idle(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for no job to be running; whether none is."""
        deadline = time.monotonic() + seconds
        while self.runner.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not self.runner.running

    async def stop(self) -> None:
        """Stop taking jobs; finish the running ones within the grace period, release
        the rest to the queue; return once ``run()`` has returned.

        A job between a provider's hand-over and its record is not released: it
        gets ``final_seconds`` more, after which an outcome it still holds (the
        database is away) goes to the journal. A send still in progress after
        that is cancelled and logged: it may be made again after its lease."""
        self._stop_requested = True
        self._stopped.set()
        self.runner.stopping = True
        in_flight = len(self.runner.running)
        log.info(
            "worker stopping: %s job(s) in flight, grace %.0f s",
            in_flight,
            self.options.grace_seconds,
            extra={"event": "worker_stopping", "in_flight": in_flight},
        )
        self.pgq.shutdown.set()
        self.driver.listen.close()  # no new NOTIFY is needed; a reconnect would only delay
        if not await self._until_idle(self.options.grace_seconds):
            released = self.runner.release_all()
            log.warning(
                "grace period over: releasing %s job(s) to the queue, %s finishing a send",
                released,
                len(self.runner.critical),
                extra={"event": "jobs_releasing", "count": released},
            )
            if not await self._until_idle(self.options.final_seconds):
                self.runner.finalizing.set()  # held outcomes go to the journal now
                # A record in progress waits at most RECORD_TIMEOUT for a connection.
                if not await self._until_idle(RECORD_TIMEOUT + 2):
                    for job in self.runner.cancel_sends():
                        log.error(
                            "job cancelled mid-send at shutdown: %s %s (it may be sent again "
                            "once its lease runs out)",
                            job.entrypoint,
                            job.id,
                            extra={"event": "send_abandoned", "job_id": job.id},
                        )
                    await self._until_idle(2)
        task = self._run_task
        if task is None:
            return
        # pgqueuer writes the jobs' last statuses; a database that is away gets a little time.
        done, _ = await asyncio.wait({task}, timeout=FLUSH_SECONDS)
        if not done:
            self.driver.close()
            done, _ = await asyncio.wait({task}, timeout=FLUSH_SECONDS)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if self.driver.query.closing and connection_lost(self.driver.query.conn):
            log.warning(
                "stopped without writing the last job statuses: the database is away; those "
                "jobs are picked again once their heartbeat is stale",
                extra={"event": "statuses_unwritten"},
            )

    async def close(self) -> None:
        """Release what ``start_worker`` opened (after ``run()`` returned)."""
        if self._closed:
            return
        self._closed = True
        self.driver.close()
        for transport in self.email.transports.values():
            with contextlib.suppress(Exception):
                await transport.close()
        await self.flows.aclose()
        await self.pool.close()
        if self.journal is not None:
            self.journal.close()
        if self.metrics_server is not None:
            self.metrics_server.close()
        for conn in (self.driver.query.conn, self.driver.listen.conn):
            with contextlib.suppress(Exception):
                await conn.close()
        log.info(
            "worker stopped (%s job(s) released)",
            self.runner.released,
            extra={"event": "worker_stopped", "released": self.runner.released},
        )


async def start_worker(
    service_dsn: str,
    transports: dict[str, Transport],
    public_url: str,
    *,
    webhook_allow: Sequence[str] | None = None,
    options: WorkerOptions | None = None,
    journal_dir: Path | None = None,
    resolver: domains.Resolver | None = None,
) -> Worker:
    """A worker with InTime's entrypoints and schedules registered, connected.

    ``journal_dir``: where outcomes held at a stop are journaled (and replayed
    from, before the first job); None keeps no journal.

    ``webhook_allow``: non-public webhook targets allowed; None reads
    ``INTIME_WEBHOOK_ALLOW``. ``resolver``: how domains.verify reads DNS (None: the
    system's resolver, ``worker.domains.DnsResolver``). Raises ``DatabaseUnavailable``
    when the database cannot be reached within ``options.connect_timeout``."""
    options = options or WorkerOptions()
    guard = TargetGuard(
        Config.from_env().webhook_allow if webhook_allow is None else webhook_allow
    )  # first: a bad allow-list entry fails before anything is opened

    async def connect() -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(with_tcp_options(service_dsn), autocommit=True)

    query = await _connect_within(service_dsn, options.connect_timeout)
    try:
        options = await _for_the_node(query, options)
        listen = await _connect_within(service_dsn, options.connect_timeout)
        try:
            # Autocommit: a job's call is one statement, its own transaction, which
            # is also what lets Citus run an org-first call on the org's node.
            pool = await open_pool(
                service_dsn,
                min_size=options.pool_min,
                max_size=options.pool_max,
                autocommit=True,
                timeout=max(options.connect_timeout, 1.0),
                name="worker",
            )
        except PoolTimeout as exc:
            await listen.close()
            raise DatabaseUnavailable(one_line(exc)) from exc
    except BaseException:
        await query.close()
        raise

    driver = ResilientDriver(
        ReconnectingConnection(connect, query, "queue"),
        ReconnectingConnection(connect, listen, "listen"),
    )
    pgq = PgQueuer(connection=driver, queries=queries_for(driver))
    metrics = WorkerMetrics()
    runner = JobRunner(metrics=metrics)
    journal = OutcomeJournal(journal_dir) if journal_dir is not None else None
    if journal is not None:
        try:
            journal.check()
        except OSError as exc:
            log.error(
                "outcome journal unavailable at %s (%s): a send held at a stop while the "
                "database is away would be lost",
                journal_dir,
                one_line(exc),
                extra={"event": "journal_unavailable"},
            )
            journal = None
    if journal is not None:
        await journal.replay(pool)
    durability = Durability(runner, journal)

    def stopping() -> bool:
        return runner.releasing

    email = EmailDeps(
        pool=pool,
        transports=transports,
        public_url=public_url,
        durability=durability,
        metrics=metrics,
    )

    @runner.entrypoint(pgq, "email.send")
    async def email_send(job: Job) -> None:
        org_id, send_id = payload_ids(job, "org_id", "email_send_id")
        await send_email(email, org_id, send_id, due=due_at(job))

    notifications.register(pgq, pool)
    campaigns.register(
        pgq,
        pool,
        runner,
        stopping=stopping,
        schedules=options.campaign_schedules,
        wake=options.campaign_wake,
    )
    maintenance.register(pgq, pool, stopping=stopping)
    domains.register(pgq, pool, runner, resolver or domains.DnsResolver())
    flows = workflows.register(pgq, pool, guard, runner, durability)
    await workflows.start(flows)
    worker = Worker(pgq, driver, pool, email, flows, runner, options, journal, metrics)
    if options.metrics_address is not None:
        address = options.metrics_address
        try:
            worker.metrics_server = metrics.serve(address)
        except OSError as exc:
            await worker.close()
            raise ConfigError(
                f"cannot serve metrics on {address.host}:{address.port}: {exc.strerror or exc}"
            ) from None
        log.info(
            "worker metrics on http://%s:%s/metrics",
            options.metrics_address.host,
            worker.metrics_server.port,
            extra={"event": "metrics_serving", "port": worker.metrics_server.port},
        )
    return worker


async def run_worker(
    service_dsn: str,
    transports: dict[str, Transport],
    public_url: str,
    *,
    drain: bool = False,
    webhook_allow: Sequence[str] | None = None,
    heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
    options: WorkerOptions | None = None,
    handle_signals: bool = False,
    journal_dir: Path | None = None,
    resolver: domains.Resolver | None = None,
) -> None:
    """Run until stopped (or, with ``drain``, until the queue is empty).

    ``handle_signals``: SIGTERM and SIGINT stop the worker gracefully (the CLI)."""
    options = dataclasses.replace(options or WorkerOptions(), heartbeat_timeout=heartbeat_timeout)
    if drain:
        options = dataclasses.replace(options, campaign_wake=False)
    worker = await start_worker(
        service_dsn,
        transports,
        public_url,
        webhook_allow=webhook_allow,
        options=options,
        journal_dir=journal_dir,
        resolver=resolver,
    )
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop_requested.set)
    try:
        running = asyncio.create_task(worker.run(drain=drain))
        stopper = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not running.done():
            await worker.stop()
            await asyncio.wait({running})
        if not running.cancelled():
            running.result()  # a failure at start (say, no queue schema) is raised
    finally:
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        await worker.close()
