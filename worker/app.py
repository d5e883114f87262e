"""The pgqueuer worker process: connects as intime_service, drains ``queue``."""

from __future__ import annotations

import json
import uuid
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
from worker import notifications
from worker.email import Defer, EmailDeps, send_email
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport


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


async def build_worker(
    service_dsn: str, transports: dict[str, Transport], public_url: str
) -> tuple[PgQueuer, EmailDeps, psycopg.AsyncConnection]:
    """A PgQueuer with InTime's entrypoints registered, and what it holds open."""
    pool = await open_pool(service_dsn, min_size=1, max_size=8)
    conn = await psycopg.AsyncConnection.connect(service_dsn, autocommit=True)
    driver = PsycopgDriver(conn)
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
    return pgq, deps, conn


async def run_worker(
    service_dsn: str,
    transports: dict[str, Transport],
    public_url: str,
    *,
    drain: bool = False,
) -> None:
    """Run until stopped (or, with ``drain``, until the queue is empty)."""
    pgq, deps, conn = await build_worker(service_dsn, transports, public_url)
    try:
        await pgq.run(
            mode=QueueExecutionMode.drain if drain else QueueExecutionMode.continuous,
            dequeue_timeout=timedelta(seconds=1 if drain else 30),
        )
    finally:
        for transport in transports.values():
            await transport.close()
        await deps.pool.close()
        await conn.close()
