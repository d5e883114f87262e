"""The campaign jobs through the real worker code (worker/campaigns.py): the tick's drain
against real PostgreSQL, step emails leaving through the real worker to a real SMTP server
(aiosmtpd on loopback), the A/B evaluation and the log archive.

``api.tick_campaigns`` reads ``app.now()`` and the fake clock is a session setting the
worker's pool never sees, so these tests use the real clock: their campaigns send all day,
every day (00:00 to 23:59:59 UTC), and enrollments made now are due now."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from intime.db import open_pool
from tests.peers import SmtpServer
from tests.sql.campaigns.conftest import Campaigns
from tests.support import Database, TwoOrgs
from worker import campaigns
from worker.app import run_worker, start_worker
from worker.transports import SmtpTransport

PUBLIC = "https://crm.example"
ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
T = TypeVar("T")


@pytest.fixture
def camp(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Campaigns:
    """Both orgs as seeded, minus the seed's campaigns and queued jobs, on the real clock."""
    if datetime.now(UTC).time() >= time(23, 59, 50):
        pytest.skip("the all-day send window closes in the last seconds of a UTC day")
    admin.execute("delete from app.campaigns")
    admin.execute("delete from queue.pgqueuer")
    c = Campaigns(service, admin, two_orgs)
    c.at(None)
    return c


def open_all_week(camp: Campaigns, **params: Any) -> uuid.UUID:
    """A draft campaign whose send window is open at any real time (but the day's last second)."""
    return camp.create(
        send_days=ALL_WEEK,
        send_window_start=time(0, 0),
        send_window_end=time(23, 59, 59),
        timezone="UTC",
        daily_send_limit=None,
        **params,
    )


def running(
    camp: Campaigns, enrollments: int, *, follow_up: bool = False, **step: Any
) -> uuid.UUID:
    """An active campaign with an email step (and a follow-up two days later) and
    ``enrollments`` contacts due now."""
    cid = open_all_week(camp)
    camp.email_step(cid, **step)
    if follow_up:
        camp.email_step(cid, delay_days=2)
    assert camp.enroll(cid, camp.contacts(enrollments))["enrolled"] == enrollments
    camp.activate(cid)
    return cid


def with_pool(db: Database, body: Callable[[AsyncConnectionPool], Awaitable[T]]) -> T:
    """``body`` with a pool as the worker's (intime_service)."""

    async def scenario() -> T:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(scenario())


def run_the_worker(db: Database, smtp_server: SmtpServer) -> None:
    """The real worker, with the SMTP transport, until the queue is empty."""
    transports = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
    worker = run_worker(db.dsn("intime_service"), transports, PUBLIC, drain=True, webhook_allow=())
    asyncio.run(asyncio.wait_for(worker, timeout=60))


def use_smtp(camp: Campaigns) -> None:
    camp.owner.execute(
        "update app.email_settings set provider = 'smtp', rate_limit_per_minute = 100, "
        "rate_tokens = null where org_id = %s",
        (camp.org_id,),
    )


def tick_jobs(camp: Campaigns) -> list[tuple[str, str | None]]:
    return camp.owner.execute(
        "select status::text, dedupe_key from queue.pgqueuer where entrypoint = %s",
        (campaigns.TICK,),
    ).fetchall()


# -- the tick's drain ----------------------------------------------------------------------


def test_drain_runs_batches_until_nothing_is_due(camp: Campaigns, db: Database) -> None:
    cid = running(camp, 2500)
    totals = with_pool(db, lambda pool: campaigns.drain(pool, batch_size=1000))
    assert (totals.batches, totals.processed, totals.sent, totals.errored) == (3, 2500, 2500, 0)
    assert totals.more_due is False
    assert len(camp.jobs("email.send")) == 2500
    assert tick_jobs(camp) == []  # nothing left: no continuation
    assert {e["current_step"] for e in camp.enrollments(cid)} == {1}


def test_a_spent_budget_queues_one_continuation_tick_and_stops(
    camp: Campaigns, db: Database
) -> None:
    running(camp, 2500)

    async def twice(pool: AsyncConnectionPool) -> tuple[Any, list[Any], Any]:
        first = await campaigns.drain(pool, batch_size=1000, budget_seconds=0)
        after_first = await asyncio.to_thread(tick_jobs, camp)
        second = await campaigns.drain(pool, batch_size=1000, budget_seconds=0)
        return first, after_first, second

    first, after_first, second = with_pool(db, twice)
    assert (first.batches, first.processed, first.more_due) == (1, 1000, True)
    assert after_first == [("queued", None)]
    assert (second.batches, second.processed, second.more_due) == (1, 1000, True)
    assert tick_jobs(camp) == [("queued", None)]  # one waiting continuation, not two
    assert len(camp.jobs("email.send")) == 2000


def test_a_tick_running_as_the_continuation_job_queues_the_next_one(
    camp: Campaigns, db: Database
) -> None:
    """While the worker runs the campaigns.tick job, that job is 'picked'; a backlog
    it leaves still gets a queued continuation."""
    running(camp, 2500)
    camp.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after) "
        "values (0, %(tick)s, null, 'picked', now())",
        {"tick": campaigns.TICK},
    )
    totals = with_pool(db, lambda pool: campaigns.drain(pool, batch_size=1000, budget_seconds=0))
    assert (totals.processed, totals.more_due) == (1000, True)
    jobs = sorted(tick_jobs(camp), key=lambda job: job[0])
    assert jobs == [("picked", None), ("queued", None)]


# -- step emails through the worker --------------------------------------------------------


def test_step_emails_reach_smtp_with_unsubscribe_and_reply_headers(
    camp: Campaigns, db: Database, smtp_server: SmtpServer
) -> None:
    use_smtp(camp)
    cid = running(camp, 3, subject="Hi {{ contact.first_name }}, about {{campaign.name}}")
    totals = with_pool(db, campaigns.drain)
    assert (totals.processed, totals.sent) == (3, 3)

    run_the_worker(db, smtp_server)

    sends = {s["to_email"]: s for s in camp.sends(cid)}
    messages = {m["To"]: m for m in smtp_server.messages}
    assert len(smtp_server.messages) == 3
    assert set(messages) == set(sends)
    for to, message in messages.items():
        row = sends[to]
        first_name = "First" + to.split(".")[0].removeprefix("p")
        assert message["Subject"] == f"Hi {first_name}, about Outreach"
        assert message["List-Unsubscribe"] == f"<{PUBLIC}/u/{row['unsubscribe_token']}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Reply-To"] == row["reply_to"]
        assert re.fullmatch(r"reply\+[^@\s]+@mail\.acme\.example", message["Reply-To"])
        assert message["Message-ID"] == row["message_id"]
        assert row["status"] == "sent"


def test_a_queued_step_email_of_an_unenrolled_contact_is_not_delivered(
    camp: Campaigns, db: Database, smtp_server: SmtpServer
) -> None:
    use_smtp(camp)
    cid = running(camp, 2, follow_up=True)  # the enrollments stay active after step 1
    with_pool(db, campaigns.drain)
    gone, kept = camp.enrollments(cid)
    assert camp.one("select api.stop_enrollment(p_enrollment_id => %s)", (gone["id"],)) is True

    run_the_worker(db, smtp_server)

    assert [m["To"] for m in smtp_server.messages] == [kept["email"]]
    sends = {s["to_email"]: s for s in camp.sends(cid)}
    stopped = sends[gone["email"]]
    assert (stopped["status"], stopped["suppression_reason"]) == (
        "suppressed",
        "enrollment_stopped",
    )
    assert sends[kept["email"]]["status"] == "sent"


# -- on time: the due wake-up ---------------------------------------------------------------


def wake_up_due(camp: Campaigns) -> list[tuple[Any, Any]]:
    """The queued wake-ups: when they run (real clock) and the due time they stand for."""
    return camp.owner.execute(
        "select execute_after, (convert_from(payload, 'UTF8')::jsonb ->> 'due_at')::timestamptz "
        "from queue.pgqueuer where entrypoint = %s and status = 'queued'",
        (campaigns.WAKE,),
    ).fetchall()


def test_the_worker_runs_a_due_step_on_its_wake_up_and_arms_the_next_at_its_due_time(
    camp: Campaigns, db: Database, smtp_server: SmtpServer
) -> None:
    """The real worker, continuous, with its schedules: the enrollment armed a wake-up
    for now; the worker's campaigns.wake job runs the step and the tick re-arms the
    wake-up for the follow-up a minute later, at exactly its due time (real clock)."""
    use_smtp(camp)
    cid = open_all_week(camp)
    camp.email_step(cid)
    camp.email_step(cid, delay_minutes=1)
    camp.activate(cid)
    assert camp.enroll(cid, camp.contacts(2))["enrolled"] == 2
    [(_, due_now)] = wake_up_due(camp)
    assert due_now == {e["next_step_at"] for e in camp.enrollments(cid)}.pop()

    def step_one_done() -> bool:
        done = {e["current_step"] for e in camp.enrollments(cid)} == {1}
        return done and len(smtp_server.messages) == 2 and len(wake_up_due(camp)) == 1

    async def scenario() -> None:
        transports = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
        worker = await start_worker(db.dsn("intime_service"), transports, PUBLIC, webhook_allow=())
        task = asyncio.create_task(worker.run())
        try:
            for _ in range(600):
                if await asyncio.to_thread(step_one_done):
                    break
                assert not task.done(), "the worker stopped"
                await asyncio.sleep(0.1)
        finally:
            await asyncio.wait_for(worker.stop(), timeout=30)
            await worker.close()

    asyncio.run(scenario())
    assert step_one_done()
    ran = camp.owner.execute(
        "select count(*) from queue.pgqueuer_log where entrypoint = %s and status = 'successful'",
        (campaigns.WAKE,),
    ).fetchone()
    assert ran is not None
    assert ran[0] >= 1
    [next_due] = {e["next_step_at"] for e in camp.enrollments(cid)}
    [(execute_after, due_at)] = wake_up_due(camp)
    assert due_at == next_due
    # On the real clock the job runs at the due time itself (read after the clock).
    assert timedelta(0) <= execute_after - next_due < timedelta(seconds=1)


# -- the A/B evaluation and the log archive ------------------------------------------------


def test_ab_evaluation_and_log_archive_run_over_both_seeded_orgs(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """The seed's A/B test already has a manual winner, and its logs left unarchived are
    newer than the retention: both jobs run and find nothing to do."""

    async def both(pool: AsyncConnectionPool) -> tuple[int, int]:
        return await campaigns.evaluate_ab(pool), await campaigns.archive_logs(pool)

    winners, moved = with_pool(db, both)
    assert type(winners) is int
    assert type(moved) is int
    assert (winners, moved) == (0, 0)


def test_the_log_archive_moves_every_expired_log_chunk_by_chunk(
    db: Database, two_orgs: TwoOrgs, admin: psycopg.Connection
) -> None:
    admin.execute(
        "update app.campaign_sequence_logs set created_at = created_at - interval '100 days'"
    )
    [(expired,)] = admin.execute("select count(*) from app.campaign_sequence_logs").fetchall()
    assert expired >= 1  # the last seeded org's unenrollment (the rest the seeds archived)
    [(archived,)] = admin.execute(
        "select count(*) from app.campaign_sequence_logs_archive"
    ).fetchall()
    moved = with_pool(db, lambda pool: campaigns.archive_logs(pool, chunk=1))
    assert moved == expired
    assert admin.execute("select count(*) from app.campaign_sequence_logs").fetchone() == (0,)
    assert admin.execute("select count(*) from app.campaign_sequence_logs_archive").fetchone() == (
        archived + expired,
    )
