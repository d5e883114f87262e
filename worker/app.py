"""The pgqueuer worker process: connects as intime_service, drains ``queue``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import psycopg
from pgqueuer import PgQueuer
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.adapters.persistence import qb
from pgqueuer.adapters.persistence.queries import Queries
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job
from pgqueuer.domain.types import QueueExecutionMode

from intime.config import Config
from intime.db import open_pool
from intime.migrate import QUEUE_SCHEMA
from worker import campaigns, notifications, workflows
from worker.driver import SplitListenDriver
from worker.email import Defer, EmailDeps, send_email
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport
from worker.webhooks import TargetGuard


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


def queries_for(driver: PsycopgDriver) -> Queries:
    settings = qb.DBSettings(db_schema=QUEUE_SCHEMA)
    return Queries(
        driver,
        qbe=qb.QueryBuilderEnvironment(settings=settings),
        qbq=qb.QueryQueueBuilder(settings=settings),
        qbs=qb.QuerySchedulerBuilder(settings=settings),
    )


# A picked job whose heartbeat is older than this is picked again (its worker died).
HEARTBEAT_TIMEOUT = timedelta(seconds=30)
WORKFLOWS = "workflows"  # pgq.resources key of the workflow jobs' WorkflowDeps
LISTEN = "listen_connection"  # pgq.resources key of the driver's LISTEN connection
# At most this many jobs in flight per worker (pgqueuer's default is unlimited: a
# worker would take the whole backlog into tasks waiting on its 8-connection pool).
MAX_CONCURRENT_TASKS = 20


async def build_worker(
    service_dsn: str,
    transports: dict[str, Transport],
    public_url: str,
    *,
    webhook_allow: Sequence[str] | None = None,
) -> tuple[PgQueuer, EmailDeps, psycopg.AsyncConnection]:
    """A PgQueuer with InTime's entrypoints registered, and what it holds open
    (``close_worker`` releases it). ``webhook_allow``: non-public webhook targets
    allowed; None reads ``INTIME_WEBHOOK_ALLOW``."""
    guard = TargetGuard(
        Config.from_env().webhook_allow if webhook_allow is None else webhook_allow
    )  # first: a bad allow-list entry fails before anything is opened
    pool = await open_pool(service_dsn, min_size=1, max_size=8)
    conn = await psycopg.AsyncConnection.connect(service_dsn, autocommit=True)
    listen = await psycopg.AsyncConnection.connect(service_dsn, autocommit=True)
    driver = SplitListenDriver(conn, listen)
    pgq = PgQueuer(connection=driver, queries=queries_for(driver))
    deps = EmailDeps(pool=pool, transports=transports, public_url=public_url)

    @pgq.entrypoint("email.send", on_failure="hold")
    async def email_send(job: Job) -> None:
        payload = json.loads(job.payload or b"{}")
        try:
            await send_email(
                deps, uuid.UUID(payload["org_id"]), uuid.UUID(payload["email_send_id"])
            )
        except Defer as defer:
            raise RetryRequested(
                delay=timedelta(seconds=defer.seconds), reason=str(defer)
            ) from None

    notifications.register(pgq, pool)
    campaigns.register(pgq, pool)
    flows = workflows.register(pgq, pool, guard)
    pgq.resources[WORKFLOWS] = flows
    pgq.resources[LISTEN] = listen
    await workflows.start(flows)
    return pgq, deps, conn


async def close_worker(pgq: PgQueuer, deps: EmailDeps, conn: psycopg.AsyncConnection) -> None:
    """Release what ``build_worker`` opened, once ``pgq.run`` has returned."""
    for transport in deps.transports.values():
        await transport.close()
    flows = pgq.resources.get(WORKFLOWS)
    if isinstance(flows, workflows.WorkflowDeps):
        await flows.aclose()
    await deps.pool.close()
    listen = pgq.resources.get(LISTEN)
    if isinstance(listen, psycopg.AsyncConnection):
        await listen.close()
    await conn.close()


async def run_worker(
    service_dsn: str,
    transports: dict[str, Transport],
    public_url: str,
    *,
    drain: bool = False,
    webhook_allow: Sequence[str] | None = None,
    heartbeat_timeout: timedelta = HEARTBEAT_TIMEOUT,
) -> None:
    """Run until stopped (or, with ``drain``, until the queue is empty)."""
    pgq, deps, conn = await build_worker(
        service_dsn, transports, public_url, webhook_allow=webhook_allow
    )
    try:
        await pgq.run(
            mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
            dequeue_timeout=timedelta(seconds=1 if drain else 30),
            heartbeat_timeout=heartbeat_timeout,
            max_concurrent_tasks=MAX_CONCURRENT_TASKS,
        )
    finally:
        await close_worker(pgq, deps, conn)
