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
import signal
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.adapters.persistence import qb
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueExecutionMode
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from intime.config import Config
from intime.db import open_pool
from intime.migrate import QUEUE_SCHEMA
from worker import campaigns, maintenance, notifications, workflows
from worker.driver import ReconnectingConnection, ResilientDriver, backoff_delays
from worker.email import EmailDeps, send_email
from worker.jobs import JobRunner, one_line, payload_ids
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport
from worker.webhooks import TargetGuard

log = logging.getLogger("intime.worker")

# A picked job whose heartbeat is older than this is picked again (its worker died).
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
# At most this many jobs in flight per worker (pgqueuer's default is unlimited: a
# worker would take the whole backlog into tasks waiting on its 8-connection pool).
MAX_CONCURRENT_TASKS = 20


class DatabaseUnavailable(Exception):
    """The database could not be reached within the start-up timeout."""


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

    def __post_init__(self) -> None:
        if not 1 <= self.pool_min <= self.pool_max:
            raise ValueError("the pool needs 1 <= min <= max connections")
        if self.max_in_flight < 2:
            raise ValueError("the in-flight limit must be at least 2")
        if self.grace_seconds < 0:
            raise ValueError("the grace period cannot be negative")

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
        )
    if config.resend_api_key:
        found["resend"] = ResendTransport(config.resend_api_key, config.resend_base_url)
    return found


def queries_for(driver: ResilientDriver) -> Queries:
    settings = qb.DBSettings(db_schema=QUEUE_SCHEMA)
    return Queries(
        driver,
        qbe=qb.QueryBuilderEnvironment(settings=settings),
        qbq=qb.QueryQueueBuilder(settings=settings),
        qbs=qb.QuerySchedulerBuilder(settings=settings),
    )


async def _connect_within(dsn: str, timeout: float) -> psycopg.AsyncConnection:
    """An autocommit connection, retried with backoff for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    for delay in backoff_delays():
        try:
            return await psycopg.AsyncConnection.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            if time.monotonic() + delay > deadline:
                raise DatabaseUnavailable(one_line(exc)) from exc
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


@dataclasses.dataclass
class Worker:
    pgq: PgQueuer
    driver: ResilientDriver
    pool: AsyncConnectionPool
    email: EmailDeps
    flows: workflows.WorkflowDeps
    runner: JobRunner
    options: WorkerOptions
    _run_task: asyncio.Task[None] | None = None
    _closed: bool = False

    @property
    def stopping(self) -> bool:
        """Past the grace period: outcomes held for the database stop waiting."""
        return self.runner.releasing

    async def run(self, *, drain: bool = False, dequeue_timeout: timedelta | None = None) -> None:
        """Take jobs until ``stop()`` (or, with ``drain``, until the queue is empty)."""
        options = self.options
        log.info(
            "worker started: %s entrypoints, %s schedules; in flight <= %s; pool %s-%s; "
            "grace %.0f s; transports %s",
            len(self.pgq.qm.entrypoint_registry),
            len(self.pgq.sm.registry),
            options.max_in_flight,
            options.pool_min,
            options.pool_max,
            options.grace_seconds,
            ", ".join(sorted(self.email.transports)),
            extra={
                "event": "worker_started",
                "worker_id": str(self.pgq.qm.queue_manager_id),
                "entrypoints": sorted(self.pgq.qm.entrypoint_registry),
            },
        )
        self._run_task = asyncio.create_task(
            self.pgq.run(
                mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
                dequeue_timeout=dequeue_timeout
                or (timedelta(seconds=1) if drain else options.dequeue_timeout),
                batch_size=options.batch_size,
                heartbeat_timeout=options.heartbeat_timeout,
                max_concurrent_tasks=options.max_in_flight,
            )
        )
        await self._run_task

    async def stop(self) -> None:
        """Stop taking jobs; finish the running ones within the grace period, release
        the rest to the queue; return once ``run()`` has returned."""
        task = self._run_task
        in_flight = len(self.runner.running)
        log.info(
            "worker stopping: %s job(s) in flight, grace %.0f s",
            in_flight,
            self.options.grace_seconds,
            extra={"event": "worker_stopping", "in_flight": in_flight},
        )
        self.pgq.shutdown.set()
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=self.options.grace_seconds)
        if not done:
            released = self.runner.release_all()
            log.warning(
                "grace period over: releasing %s job(s) to the queue",
                released,
                extra={"event": "jobs_releasing", "count": released},
            )
            # Releasing writes to the queue; a database that is away gets a little time.
            done, _ = await asyncio.wait({task}, timeout=10)
        if not done:
            self.driver.close()
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

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
) -> Worker:
    """A worker with InTime's entrypoints and schedules registered, connected.

    ``webhook_allow``: non-public webhook targets allowed; None reads
    ``INTIME_WEBHOOK_ALLOW``. Raises ``DatabaseUnavailable`` when the database
    cannot be reached within ``options.connect_timeout``."""
    options = options or WorkerOptions()
    guard = TargetGuard(
        Config.from_env().webhook_allow if webhook_allow is None else webhook_allow
    )  # first: a bad allow-list entry fails before anything is opened

    async def connect() -> psycopg.AsyncConnection:
        return await psycopg.AsyncConnection.connect(service_dsn, autocommit=True)

    query = await _connect_within(service_dsn, options.connect_timeout)
    try:
        listen = await _connect_within(service_dsn, options.connect_timeout)
        try:
            pool = await open_pool(
                service_dsn,
                min_size=options.pool_min,
                max_size=options.pool_max,
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
    runner = JobRunner()

    def stopping() -> bool:
        return runner.releasing

    email = EmailDeps(pool=pool, transports=transports, public_url=public_url)

    @runner.entrypoint(pgq, "email.send")
    async def email_send(job: Job) -> None:
        org_id, send_id = payload_ids(job, "org_id", "email_send_id")
        await send_email(email, org_id, send_id, stopping=stopping)

    notifications.register(pgq, pool)
    campaigns.register(pgq, pool, runner, stopping=stopping)
    maintenance.register(pgq, pool, stopping=stopping)
    flows = workflows.register(pgq, pool, guard, runner, stopping=stopping)
    await workflows.start(flows)
    return Worker(pgq, driver, pool, email, flows, runner, options)


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
) -> None:
    """Run until stopped (or, with ``drain``, until the queue is empty).

    ``handle_signals``: SIGTERM and SIGINT stop the worker gracefully (the CLI)."""
    options = dataclasses.replace(options or WorkerOptions(), heartbeat_timeout=heartbeat_timeout)
    worker = await start_worker(
        service_dsn, transports, public_url, webhook_allow=webhook_allow, options=options
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
