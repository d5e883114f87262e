"""The worker as it runs in production: one long-lived process, pooled connections reused
by every job in turn, and a database that goes away and comes back.

Each test runs the real worker (``worker.app.start_worker``) in this process against the
session's PostgreSQL, with real peers on loopback (aiosmtpd, the webhook receiver).
A database outage is made for one test database only: ``allow_connections = false``
refuses every new connection to it and ``pg_terminate_backend`` drops the live ones."""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgqueuer.adapters.drivers.psycopg import PsycopgDriver
from pgqueuer.domain.models import Job
from psycopg import sql
from psycopg.rows import tuple_row

import intime.db
import worker.app as worker_app
from intime.db import actor, open_pool
from intime_cli.serving import free_port, serve_in_thread
from tests.peers import FakeResend, Receiver, SmtpServer, receiver_app
from tests.sql.workflows.conftest import Flows
from tests.support import Database, Mail, TwoOrgs
from worker import journal
from worker.app import Worker, WorkerOptions, start_worker
from worker.domains import Resolver
from worker.driver import ReconnectingConnection
from worker.journal import OutcomeJournal
from worker.queue import queries_for as guarded_queries
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport

PUBLIC = "https://crm.example"
LOOPBACK = ("127.0.0.0/8",)


# -- helpers -------------------------------------------------------------------------------


def use_smtp(admin: psycopg.Connection, org_id: uuid.UUID) -> None:
    admin.execute(
        "update app.email_settings set provider = 'smtp', rate_limit_per_minute = 1000, "
        "rate_tokens = null where org_id = %s",
        (org_id,),
    )


def email_status(admin: psycopg.Connection, send_id: uuid.UUID) -> str:
    row = admin.execute("select status from app.email_sends where id = %s", (send_id,)).fetchone()
    assert row is not None
    return str(row[0])


def failed_jobs(admin: psycopg.Connection) -> list[tuple[str, str | None]]:
    """Jobs held ``failed``, with the exception that failed them."""
    return admin.execute(
        "select entrypoint, (select l.traceback ->> 'exception_message' from queue.pgqueuer_log "
        "as l where l.job_id = j.id and l.traceback is not null order by l.id desc limit 1) "
        "from queue.pgqueuer as j where status = 'failed'"
    ).fetchall()


async def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running_worker(
    db: Database,
    transports: dict[str, Transport],
    journal_dir: Path | None = None,
    resolver: Resolver | None = None,
    **options: Any,
) -> AsyncIterator[Worker]:
    """The real worker, taking jobs continuously until the block ends (then as on SIGTERM)."""
    worker = await start_worker(
        db.dsn("intime_service"),
        transports,
        PUBLIC,
        webhook_allow=LOOPBACK,
        options=WorkerOptions(dequeue_timeout=timedelta(seconds=1), **options),
        journal_dir=journal_dir,
        resolver=resolver,
    )
    task = asyncio.create_task(worker.run())
    try:
        yield worker
        assert not task.done(), "the worker stopped by itself"
    finally:
        await asyncio.wait_for(worker.stop(), timeout=60)
        await worker.close()


class DnsRecords:
    """A resolver that has every TXT record it was told about published."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}

    async def txt(self, name: str) -> list[str]:
        return self.records.get(name, [])

    def claim_and_check(self, service: psycopg.Connection, org: Any, domain: str) -> None:
        """Claim ``domain``, publish its record here and queue its domains.verify job."""
        with actor(service, org.org_id, org.admin_id):
            name, value = service.execute(
                "select record_name, record_value from api.add_sending_domain(p_domain => %s)",
                (domain,),
            ).fetchone()
            self.records[name] = [value]
            service.execute("select api.check_sending_domain(p_domain => %s)", (domain,))


class Outage:
    """Take one test database away from the service role, and give it back."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, keep: psycopg.Connection) -> None:
        """From now on nobody may connect; every service connection but ``keep`` is dropped."""
        with psycopg.connect(self.db.server.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter database {} with allow_connections false").format(
                    sql.Identifier(self.db.name)
                )
            )
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = %s and usename = 'intime_service' and pid <> %s",
                (self.db.name, keep.info.backend_pid),
            )

    def end(self) -> None:
        with psycopg.connect(self.db.server.dsn(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter database {} with allow_connections true").format(
                    sql.Identifier(self.db.name)
                )
            )


@pytest.fixture
def outage(db: Database) -> Iterator[Outage]:
    made = Outage(db)
    yield made
    made.end()


def terminate_service_backends(
    admin: psycopg.Connection, db: Database, keep: psycopg.Connection
) -> int:
    """Drop the worker's connections (every service connection but the test's ``keep``)."""
    row = admin.execute(
        "select count(pg_terminate_backend(pid)) from pg_stat_activity "
        "where datname = %s and usename = 'intime_service' and pid <> %s",
        (db.name, keep.info.backend_pid),
    ).fetchone()
    assert row is not None
    return int(row[0])


class BlockingSmtp:
    """Wraps the SMTP sink: the next message waits in the server until ``release``."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.arrived = asyncio.Event()
        self.released = False
        collector = server.collector
        original = collector.handle_DATA

        async def handle_DATA(srv: Any, session: Any, envelope: Any) -> str:
            self.arrived_at = time.monotonic()
            self.arrived_flag = True
            while not self.released:
                await asyncio.sleep(0.02)
            return await original(srv, session, envelope)

        self.arrived_flag = False
        collector.handle_DATA = handle_DATA

    def release(self) -> None:
        self.released = True


# -- the tests -----------------------------------------------------------------------------


@pytest.fixture
def receiver(flows_orgs: TwoOrgs, service: psycopg.Connection) -> Iterator[Receiver]:
    from intime.db import actor

    with actor(service, flows_orgs.a.org_id, flows_orgs.a.admin_id):
        row = service.execute("select api.get_webhook_signing_secret()").fetchone()
    assert row is not None
    hook = Receiver(free_port(), secret=row[0])
    with serve_in_thread(receiver_app(hook), port=hook.port):
        yield hook


@pytest.fixture
def flows_orgs(two_orgs: TwoOrgs, admin: psycopg.Connection) -> TwoOrgs:
    admin.execute("delete from queue.pgqueuer")  # the seed's jobs are not these tests'
    return two_orgs


def connection_state(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything a job could leave behind on a connection, client and server side."""
    return {
        "row_factory": getattr(conn.row_factory, "__name__", repr(conn.row_factory)),
        "autocommit": conn.autocommit,
        "isolation_level": conn.isolation_level,
        "read_only": conn.read_only,
        "deferrable": conn.deferrable,
        "transaction": conn.info.transaction_status.name,
    }


SERVER_STATE = (
    "select coalesce(array_agg(name || '=' || setting order by name) "
    "filter (where source = 'session'), '{}') from pg_settings"
)
SESSION_EXTRAS = (
    "select (select count(*) from pg_listening_channels()), "
    "(select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()), "
    "(select count(*) from pg_prepared_statements where name not like '_pg3_%%'), "
    "(select count(*) from pg_class where relpersistence = 't')"
)


def test_no_job_or_schedule_changes_a_pooled_connection(
    db: Database,
    flows_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    receiver: Receiver,
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every entrypoint and every schedule, one after the other on a pool of one connection:
    each must hand the connection back as it got it (before the pool's reset restores it).
    The defect this pins: email.send set ``dict_row`` on its pooled connection and the next
    job on it failed with ``KeyError: 0``."""
    changes: list[tuple[str, Any]] = []
    real_reset = intime.db.pool_reset

    def recording_reset(autocommit: bool) -> Callable[[Any], Any]:
        restore = real_reset(autocommit)

        async def reset(conn: psycopg.AsyncConnection) -> None:
            client = {
                "row_factory": conn.row_factory is tuple_row,
                "autocommit": conn.autocommit == autocommit,
                "isolation_level": conn.isolation_level,
                "read_only": conn.read_only,
                "deferrable": conn.deferrable,
            }
            if client != {
                "row_factory": True,
                "autocommit": True,
                "isolation_level": None,
                "read_only": None,
                "deferrable": None,
            }:
                changes.append(("client", client))
            await conn.set_autocommit(True)
            cur = conn.cursor(row_factory=tuple_row)
            await cur.execute(SERVER_STATE)
            settings = (await cur.fetchone() or [None])[0]
            await cur.execute(SESSION_EXTRAS)
            extras = await cur.fetchone()
            if settings or extras != (0, 0, 0, 0):
                changes.append(("server", (settings, extras)))
            await conn.set_autocommit(autocommit)
            await restore(conn)

        return reset

    monkeypatch.setattr(intime.db, "pool_reset", recording_reset)
    org = flows_orgs.a
    use_smtp(admin, org.org_id)
    flows = Flows(service, admin, flows_orgs)
    flows.create(
        {
            "triggers": [{"type": "field_change", "field": "value"}],
            "steps": [
                {"name": "task", "type": "create_task", "title": "Call {{deal.name}}"},
                {"name": "hook", "type": "webhook", "url": receiver.url()},
                {
                    "name": "mail",
                    "type": "send_email",
                    "to": "lead@example.com",
                    "subject": "Hello {{deal.name}}",
                    "text": "Hi",
                },
                {"name": "tell", "type": "send_notification", "title": "Done", "message": "ok"},
            ],
        }
    )
    mail = Mail(service, org.org_id, org.admin_id)
    transports: dict[str, Transport] = {
        "smtp": SmtpTransport(smtp_server.host, smtp_server.port),
        "outbox": OutboxTransport(tmp_path / "outbox"),
    }

    published = DnsRecords()

    async def scenario() -> set[str]:
        ran: set[str] = set()
        async with running_worker(
            db, transports, resolver=published, pool_min=1, pool_max=1
        ) as worker:
            for round_ in range(2):  # twice: a second job meets what the first left
                mail.queue(to=f"first{round_}@example.com", subject="Hi", text="x")
                published.claim_and_check(service, org, f"round{round_}.acme.example")
                flows.write(
                    "update app.deals set value = value + 1 where id = %s",
                    (org.deal_ids[0],),
                    user=org.rep_ids[0],
                )
                admin.execute(
                    "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
                    "values (0, 'campaigns.tick', null, 'queued'), "
                    "(10, 'campaigns.wake', null, 'queued'), "
                    "(0, 'workflow.run_due', convert_to('{\"executions\": 2}', 'UTF8'), 'queued')"
                )
                # The seed's campaign keeps a wake-up queued for its next due step.
                await wait_until(
                    lambda: admin.execute(
                        "select count(*) = 0 from queue.pgqueuer where status <> 'failed' "
                        "and not (entrypoint = 'campaigns.wake' and execute_after > now())"
                    ).fetchone()[0],
                    what="the queue to drain",
                )
                for key, executor in worker.pgq.sm.registry.items():
                    await executor.parameters.func(None)
                    ran.add(f"schedule {key.entrypoint}")
            ran |= {f"job {name}" for name in worker.pgq.qm.entrypoint_registry}
            logged = admin.execute(
                "select distinct entrypoint from queue.pgqueuer_log where status = 'successful'"
            ).fetchall()
            assert {f"job {e}" for (e,) in logged} >= {
                f"job {name}" for name in worker.pgq.qm.entrypoint_registry
            }
        return ran

    ran = asyncio.run(scenario())
    assert failed_jobs(admin) == []
    assert changes == []
    assert {r for r in ran if r.startswith("schedule")} >= {
        "schedule notifications.tick",
        "schedule workflows.sweep",
        "schedule campaigns.tick",
        "schedule maintenance.reconcile",
        "schedule maintenance.retention",
    }
    assert len(receiver.hits) == 2
    # The queued emails, the workflow's send_email steps, and to the deal's owner its
    # notification's emails and those of the built-in task_assigned for its tasks (the
    # engine assigned them: docs/notifications.md).
    sent = Counter(str(m["To"]) for m in smtp_server.messages)
    assert sent.pop("first0@example.com") == sent.pop("first1@example.com") == 1
    assert sent.pop("lead@example.com") == 2
    assert list(sent.values()) == [4]


def test_an_email_queued_after_the_workers_connections_were_dropped_is_sent(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    """pg_terminate_backend on every idle connection of the worker (its pool, the queue
    connection, the listener): the next email.send job is sent, not held ``failed`` with
    ``AdminShutdown`` and its email left ``queued``."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> uuid.UUID:
        async with running_worker(db, transports, pool_min=2, pool_max=2):
            await asyncio.sleep(0.5)
            assert terminate_service_backends(admin, db, mail.conn) >= 3
            send_id = mail.queue(to="after-drop@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, send_id) == "sent", what="the send")
            return send_id

    asyncio.run(scenario())
    assert len(smtp_server.messages) == 1
    assert failed_jobs(admin) == []


def test_an_email_the_provider_accepted_during_an_outage_is_recorded_once_it_ends(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer, outage: Outage
) -> None:
    """The database goes away while the SMTP server has the message: the worker holds the
    outcome and records ``sent`` when the database is back. The email is neither left
    ``sending`` nor sent a second time, and the worker lives on."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    smtp = BlockingSmtp(smtp_server)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> None:
        async with running_worker(db, transports) as worker:
            send_id = mail.queue(to="during@example.com", subject="Hi", text="x")
            await wait_until(lambda: smtp.arrived_flag, what="the SMTP server to get the mail")
            outage.begin(keep=mail.conn)
            smtp.release()
            await asyncio.sleep(3)  # the worker tries to record, and holds
            outage.end()
            await wait_until(lambda: email_status(admin, send_id) == "sent", what="the record")
            later = mail.queue(to="after@example.com", subject="Again", text="y")
            await wait_until(lambda: email_status(admin, later) == "sent", what="a later send")
            assert worker.driver.query.reconnects >= 1

    asyncio.run(scenario())
    assert [m["To"] for m in smtp_server.messages] == ["during@example.com", "after@example.com"]
    assert failed_jobs(admin) == []


def test_an_unexpected_transport_error_fails_the_email_with_its_reason(
    db: Database, mail: Mail, admin: psycopg.Connection
) -> None:
    """A transport that raises something no one foresaw (here an AttributeError) ends the
    email ``failed`` with the error, instead of leaving it ``sending`` for good."""
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "update app.email_settings set provider = 'outbox', rate_tokens = null where org_id = %s",
        (mail.org_id,),
    )

    class Broken:
        name = "outbox"

        async def send(self, message: Any, *, idempotency_key: str, return_path: str) -> str:
            raise AttributeError("'NoneType' object has no attribute 'addr_spec'")

        async def close(self) -> None:
            return None

    async def scenario() -> uuid.UUID:
        async with running_worker(db, {"outbox": Broken()}):
            send_id = mail.queue(to="x@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, send_id) == "failed", what="failed")
            return send_id

    send_id = asyncio.run(scenario())
    row = mail.send_row(send_id)
    assert "AttributeError" in row["error"]
    assert failed_jobs(admin) == []


def test_an_outbox_folder_removed_under_the_worker_is_made_again(
    db: Database, mail: Mail, admin: psycopg.Connection, tmp_path: Path
) -> None:
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "update app.email_settings set provider = 'outbox', rate_tokens = null where org_id = %s",
        (mail.org_id,),
    )
    outbox = tmp_path / "outbox"
    transports: dict[str, Transport] = {"outbox": OutboxTransport(outbox)}

    async def scenario() -> None:
        async with running_worker(db, transports):
            first = mail.queue(to="one@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, first) == "sent", what="first")
            for path in sorted(outbox.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            outbox.rmdir()
            second = mail.queue(to="two@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, second) == "sent", what="second")

    asyncio.run(scenario())
    assert len(mailbox.Maildir(outbox)) == 1


def test_a_job_with_an_unreadable_payload_is_held_failed_and_named_in_one_log_line(
    db: Database, admin: psycopg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'email.send', convert_to('{\"org_id\": 1}', 'UTF8'), 'queued')"
    )

    async def scenario() -> None:
        async with running_worker(db, {}):
            await wait_until(lambda: failed_jobs(admin) != [], what="the job to fail")

    with caplog.at_level("INFO", logger="intime.worker"):
        asyncio.run(scenario())
    lines = [r for r in caplog.records if getattr(r, "event", None) == "job_failed"]
    assert len(lines) == 1
    assert lines[0].entrypoint == "email.send"
    assert "job failed: email.send" in lines[0].getMessage()
    assert "ValueError" in lines[0].getMessage() or "KeyError" in lines[0].getMessage()
    assert "\n" not in lines[0].getMessage()
    started = [r for r in caplog.records if getattr(r, "event", None) == "worker_started"]
    stopped = [r for r in caplog.records if getattr(r, "event", None) == "worker_stopped"]
    assert len(started) == len(stopped) == 1


def test_a_worker_stopping_finishes_the_job_in_flight_within_the_grace_period(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    smtp = BlockingSmtp(smtp_server)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> uuid.UUID:
        worker = await start_worker(
            db.dsn("intime_service"),
            transports,
            PUBLIC,
            options=WorkerOptions(dequeue_timeout=timedelta(seconds=1), grace_seconds=20),
        )
        task = asyncio.create_task(worker.run())
        send_id = mail.queue(to="inflight@example.com", subject="Hi", text="x")
        await wait_until(lambda: smtp.arrived_flag, what="the send to start")
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(1)
        assert not stopping.done()  # it waits for the job
        smtp.release()
        await asyncio.wait_for(stopping, timeout=20)
        await worker.close()
        assert task.done()
        return send_id

    send_id = asyncio.run(scenario())
    assert email_status(admin, send_id) == "sent"
    assert failed_jobs(admin) == []


def test_a_job_still_running_when_the_grace_period_ends_goes_back_to_the_queue(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    """A job that has not handed anything to a provider yet (here its claim waits on a
    row lock) is released when the grace period is over: back to ``queued``."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
    send_id = mail.queue(to="slow@example.com", subject="Hi", text="x")

    async def scenario() -> None:
        with psycopg.connect(db.dsn(), autocommit=False) as locker:
            locker.execute("select 1 from app.email_sends where id = %s for update", (send_id,))
            worker = await start_worker(
                db.dsn("intime_service"),
                transports,
                PUBLIC,
                options=WorkerOptions(dequeue_timeout=timedelta(seconds=1), grace_seconds=0.5),
            )
            task = asyncio.create_task(worker.run())
            await wait_until(lambda: worker.runner.running != {}, what="the job to start")
            await asyncio.sleep(0.5)  # its claim waits on the lock
            await asyncio.wait_for(worker.stop(), timeout=30)
            await worker.close()
            assert task.done()
            assert worker.runner.released == 1
            locker.rollback()

    asyncio.run(scenario())
    [[status]] = admin.execute(
        "select status from queue.pgqueuer where entrypoint = 'email.send'"
    ).fetchall()
    assert status == "queued"
    assert email_status(admin, send_id) == "queued"
    assert smtp_server.messages == []
    assert failed_jobs(admin) == []


def test_a_send_in_progress_at_the_end_of_the_grace_period_is_finished_not_released(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    """Released mid-send, the mail would reach the SMTP server and the row stay ``sending``
    for the next worker to send again. From the hand-over to its record a job is not
    released; the stop waits for it."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    smtp = BlockingSmtp(smtp_server)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> uuid.UUID:
        worker = await start_worker(
            db.dsn("intime_service"),
            transports,
            PUBLIC,
            options=WorkerOptions(
                dequeue_timeout=timedelta(seconds=1), grace_seconds=0.5, final_seconds=20
            ),
        )
        task = asyncio.create_task(worker.run())
        send_id = mail.queue(to="midsend@example.com", subject="Hi", text="x")
        await wait_until(lambda: smtp.arrived_flag, what="the send to start")
        stopping = asyncio.create_task(worker.stop())
        await asyncio.sleep(2)  # well past the grace period
        assert not stopping.done()
        smtp.release()
        await asyncio.wait_for(stopping, timeout=30)
        await worker.close()
        assert task.done()
        assert worker.runner.released == 0
        return send_id

    send_id = asyncio.run(scenario())
    assert email_status(admin, send_id) == "sent"
    assert len(smtp_server.messages) == 1
    assert failed_jobs(admin) == []


def test_an_outcome_held_when_the_worker_stops_is_journaled_and_recorded_at_the_next_start(
    db: Database,
    mail: Mail,
    admin: psycopg.Connection,
    smtp_server: SmtpServer,
    outage: Outage,
    tmp_path: Path,
) -> None:
    """SIGTERM while the database is away and the SMTP server has accepted the mail: the
    outcome goes to the journal on disk; the next worker records it before it takes jobs,
    so the mail is not sent a second time."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    smtp = BlockingSmtp(smtp_server)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
    journal = tmp_path / "journal"

    async def first() -> uuid.UUID:
        worker = await start_worker(
            db.dsn("intime_service"),
            transports,
            PUBLIC,
            options=WorkerOptions(
                dequeue_timeout=timedelta(seconds=1), grace_seconds=0.5, final_seconds=1
            ),
            journal_dir=journal,
        )
        task = asyncio.create_task(worker.run())
        send_id = mail.queue(to="journal@example.com", subject="Hi", text="x")
        await wait_until(lambda: smtp.arrived_flag, what="the send to start")
        outage.begin(keep=mail.conn)
        smtp.release()
        await asyncio.sleep(1)
        await asyncio.wait_for(worker.stop(), timeout=60)
        await worker.close()
        assert task.done()
        return send_id

    send_id = asyncio.run(first())
    [journaled] = list(journal.iterdir())
    assert journaled.name.startswith("outcomes-")
    outage.end()
    assert email_status(admin, send_id) == "sending"

    async def second() -> None:
        async with running_worker(db, transports, journal_dir=journal):
            await wait_until(lambda: email_status(admin, send_id) == "sent", what="the record")
            await asyncio.sleep(2)  # its job, picked again, finds the send done

    asyncio.run(second())
    assert len(smtp_server.messages) == 1
    assert list(journal.iterdir()) == []


def test_a_running_worker_records_what_a_stopped_worker_on_the_same_machine_journaled(
    db: Database,
    mail: Mail,
    admin: psycopg.Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The journal is not only read at start: a worker already running on the same
    INTIME_HOME records it within seconds, well before the send lease runs out and
    another worker would send the email again."""
    monkeypatch.setattr(worker_app, "REPLAY_SECONDS", 0.5)
    admin.execute("delete from queue.pgqueuer")
    send_id = mail.queue(to="left@example.com", subject="Hi", text="x")
    admin.execute("update app.email_sends set status = 'sending' where id = %s", (send_id,))
    admin.execute("delete from queue.pgqueuer")
    stopped = OutcomeJournal(tmp_path / "journal")
    stopped.append(
        journal.entry(
            "RECORD_EMAIL_SENT",
            {"id": send_id, "provider": "outbox", "provider_message_id": "outbox-left"},
            mail.org_id,
        )
    )

    async def scenario() -> None:
        async with running_worker(db, {}, journal_dir=tmp_path / "journal"):
            await asyncio.sleep(1.5)
            assert email_status(admin, send_id) == "sending"  # its writer still lives
            stopped.close()  # ... and now it is gone
            await wait_until(lambda: email_status(admin, send_id) == "sent", what="replay")

    asyncio.run(scenario())
    assert list((tmp_path / "journal").glob("outcomes-*")) == []


def test_a_failure_is_never_journaled(db: Database) -> None:
    """Replayed later, an old attempt's failure would undo a newer attempt's success; a
    failure nobody recorded only costs a retry."""
    for query in ("FAIL_EMAIL_SEND", "FAIL_ACTION"):
        with pytest.raises(ValueError, match="cannot be journaled"):
            journal.entry(query, {})


def test_two_workers_replaying_one_journal_record_it_once_and_neither_fails(
    db: Database, mail: Mail, admin: psycopg.Connection, tmp_path: Path
) -> None:
    admin.execute("delete from queue.pgqueuer")
    sends = []
    folder = tmp_path / "journal"
    for i in range(3):
        send_id = mail.queue(to=f"j{i}@example.com", subject="Hi", text="x")
        admin.execute("update app.email_sends set status = 'sending' where id = %s", (send_id,))
        sends.append(send_id)
        writer = OutcomeJournal(folder)
        writer.append(
            journal.entry(
                "RECORD_EMAIL_SENT",
                {"id": send_id, "provider": "outbox", "provider_message_id": f"outbox-j{i}"},
                mail.org_id,
            )
        )
        writer.close()

    async def scenario() -> list[int]:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        try:
            return list(
                await asyncio.gather(
                    OutcomeJournal(folder).replay(pool), OutcomeJournal(folder).replay(pool)
                )
            )
        finally:
            await pool.close()

    assert sum(asyncio.run(scenario())) == 3
    assert {email_status(admin, s) for s in sends} == {"sent"}
    assert list(folder.glob("outcomes-*")) == []


def test_a_journal_folder_that_cannot_be_written_is_said_at_start(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "journal"
    blocked.write_text("a file where the folder should be")

    async def scenario() -> None:
        async with running_worker(db, {}, journal_dir=blocked) as worker:
            assert worker.journal is None

    with caplog.at_level("WARNING", logger="intime.worker"):
        asyncio.run(scenario())
    [line] = [r for r in caplog.records if getattr(r, "event", None) == "journal_unavailable"]
    assert "would be lost" in line.getMessage()


def test_a_provider_id_the_database_cannot_store_fails_the_email_at_once(
    db: Database, mail: Mail, admin: psycopg.Connection, fake_resend: FakeResend
) -> None:
    """An id too long for its unique index is an error no retry cures (class 54): it was
    waited out as if the database were away, the email left ``sending``."""
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "update app.email_settings set provider = 'resend', rate_tokens = null where org_id = %s",
        (mail.org_id,),
    )
    fake_resend.script.append((200, {"id": "x" * 5000}, {}))
    transports: dict[str, Transport] = {"resend": ResendTransport("k", fake_resend.url)}

    async def scenario() -> uuid.UUID:
        async with running_worker(db, transports):
            send_id = mail.queue(to="long@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, send_id) == "failed", what="failed")
            return send_id

    send_id = asyncio.run(scenario())
    assert "unusable id" in mail.send_row(send_id)["error"]
    assert failed_jobs(admin) == []


def test_a_cancelled_queue_statement_does_not_end_the_worker(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    """pg_cancel_backend (or a statement or lock timeout) on the worker's queue connection
    while it waits on a lock: the statement runs again; the worker does not exit."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> None:
        async with running_worker(db, transports) as worker:
            with psycopg.connect(db.dsn()) as locker:
                locker.execute("lock table queue.pgqueuer in access exclusive mode")
                query_pid = worker.driver.query.conn.info.backend_pid

                def waiting() -> bool:
                    row = admin.execute(
                        "select wait_event_type = 'Lock' from pg_stat_activity where pid = %s",
                        (query_pid,),
                    ).fetchone()
                    return bool(row and row[0])

                await wait_until(waiting, what="the worker to wait on the lock")
                admin.execute("select pg_cancel_backend(%s)", (query_pid,))
                await asyncio.sleep(0.5)
                locker.rollback()
            send_id = mail.queue(to="after-cancel@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, send_id) == "sent", what="the send")

    asyncio.run(scenario())
    assert failed_jobs(admin) == []


def test_a_late_retry_leaves_a_job_another_worker_picked_alone(
    db: Database, admin: psycopg.Connection
) -> None:
    """pgqueuer's retry_job re-queued by id alone: run late, it took a job another worker
    had picked meanwhile and put it back in the queue, for a third to run it again."""
    admin.execute("delete from queue.pgqueuer")
    [[job_id]] = admin.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status, queue_manager_id) "
        "values (0, 'email.send', null, 'picked', gen_random_uuid()) returning id"
    ).fetchall()

    async def scenario() -> None:
        conn = await psycopg.AsyncConnection.connect(db.dsn("intime_service"), autocommit=True)
        try:
            queries = guarded_queries(PsycopgDriver(conn), "queue")
            [row] = await (
                await conn.execute(
                    "select to_jsonb(j) from queue.pgqueuer as j where id = %s", (job_id,)
                )
            ).fetchall()
            job = Job.model_validate({**row[0], "payload": None, "queue_manager_id": uuid.uuid4()})
            await queries.retry_job(job, timedelta(0), None)
        finally:
            await conn.close()

    asyncio.run(scenario())
    [[status]] = admin.execute(
        "select status from queue.pgqueuer where id = %s", (job_id,)
    ).fetchall()
    assert status == "picked"


def test_a_statement_that_gets_no_answer_counts_as_a_lost_connection(db: Database) -> None:
    """A peer that went silent (no FIN, no RST) would hang a statement for as long as the
    kernel keeps the socket: past its deadline the connection is replaced and the
    statement runs again on the new one."""

    async def scenario() -> tuple[int, int]:
        async def connect() -> psycopg.AsyncConnection:
            return await psycopg.AsyncConnection.connect(db.dsn("intime_service"), autocommit=True)

        first = await connect()
        conn = ReconnectingConnection(connect, first, "test", deadline=0.5)
        calls = 0

        async def call(c: psycopg.AsyncConnection) -> int:
            nonlocal calls
            calls += 1
            if calls == 1:
                await asyncio.sleep(5)  # as if the server never answered
            cur = await c.execute("select 1")
            row = await cur.fetchone()
            return int(row[0]) if row else 0

        try:
            return await conn.run(call), conn.reconnects
        finally:
            await conn.conn.close()

    assert asyncio.run(scenario()) == (1, 1)


def test_the_worker_reconnects_its_listener_and_takes_new_jobs_at_once(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> None:
    """After its connections were dropped, a job queued later starts within seconds (the
    listener is back and woke the dequeue loop), not after the 30 s fallback poll."""
    admin.execute("delete from queue.pgqueuer")
    use_smtp(admin, mail.org_id)
    transports: dict[str, Transport] = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}

    async def scenario() -> float:
        worker = await start_worker(
            db.dsn("intime_service"), transports, PUBLIC, options=WorkerOptions()
        )
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.sleep(0.5)
            terminate_service_backends(admin, db, mail.conn)
            await wait_until(lambda: worker.driver.listen.reconnects >= 1, what="the listener")
            started = time.monotonic()
            send_id = mail.queue(to="wake@example.com", subject="Hi", text="x")
            await wait_until(lambda: email_status(admin, send_id) == "sent", timeout=25)
            return time.monotonic() - started
        finally:
            await worker.stop()
            await worker.close()
            assert task.done()

    assert asyncio.run(scenario()) < 10
