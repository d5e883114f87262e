"""On time (issue 17): the campaign tick's wake-up. One queued ``campaigns.wake`` job
stands for the earliest due step (app._campaign_arm_wake): enrolling arms it, a tick
re-arms it for the next due time, an earlier due time moves it earlier, a later one
adds nothing, and a step outside its send window wakes the tick at the window's
opening.

The job's ``execute_after`` is on the real clock (the queue's): the application
clock's delay from now, added to the real time of the write. Its payload carries the
due time on the application clock, which the tests compare with the enrollments'
``next_step_at`` exactly. "The worker runs the wake-up" is written out as the worker's
claim (the job becomes 'picked') followed by the tick."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import Database

WAKE = "campaigns.wake"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def wake_jobs(camp: Campaigns) -> list[dict[str, Any]]:
    """The queued wake-ups: their id, due time (application clock) and delay (real)."""
    rows = camp.queue.execute(
        "select id, payload, execute_after - created from queue.pgqueuer "
        "where entrypoint = %s and status = 'queued' order by execute_after, id",
        (WAKE,),
    ).fetchall()
    return [
        {
            "id": r[0],
            "due_at": datetime.fromisoformat(json.loads(bytes(r[1]))["due_at"]),
            "delay": r[2],
        }
        for r in rows
    ]


def the_wake_job(camp: Campaigns) -> dict[str, Any]:
    jobs = wake_jobs(camp)
    assert len(jobs) == 1, jobs
    return jobs[0]


def app_now(camp: Campaigns) -> datetime:
    [(now,)] = camp.conn.execute("select app.now()").fetchall()
    assert isinstance(now, datetime)
    return now


def run_the_wake_up(camp: Campaigns) -> dict[str, Any]:
    """What the worker does with the earliest wake-up: claim it, tick, finish it."""
    [job] = wake_jobs(camp)[:1]
    camp.queue.execute("update queue.pgqueuer set status = 'picked' where id = %s", (job["id"],))
    row = camp.tick()
    camp.queue.execute("delete from queue.pgqueuer where id = %s", (job["id"],))
    return row


def one_step_campaign(camp: Campaigns, **step: Any) -> uuid.UUID:
    """An active campaign with one email step (any delay), every day 09:00-17:00 New York."""
    cid = camp.create(daily_send_limit=None, send_days=EVERY_DAY)
    camp.email_step(cid, **step)
    camp.activate(cid)
    return cid


def next_steps(camp: Campaigns, campaign_id: uuid.UUID) -> set[datetime]:
    return {e["next_step_at"] for e in camp.enrollments(campaign_id)}


def assert_delay(job: dict[str, Any], expected: timedelta) -> None:
    """The job runs after the application clock's delay, on the real clock (the write
    itself takes a moment between the transaction's start and the arming)."""
    assert expected <= job["delay"] < expected + timedelta(seconds=5), job


def test_enrolling_arms_a_wake_up_at_the_first_steps_due_time(camp: Campaigns) -> None:
    cid = one_step_campaign(camp, delay_minutes=1)
    assert wake_jobs(camp) == []
    assert camp.enroll(cid, camp.contacts(3))["enrolled"] == 3

    [due] = next_steps(camp, cid)
    assert due == app_now(camp) + timedelta(minutes=1)
    job = the_wake_job(camp)
    assert job["due_at"] == due
    assert_delay(job, timedelta(minutes=1))


def test_enrolling_into_a_draft_campaign_arms_nothing_until_it_is_activated(
    camp: Campaigns,
) -> None:
    cid = camp.create(daily_send_limit=None, send_days=EVERY_DAY)
    camp.email_step(cid, delay_minutes=5)
    camp.enroll(cid, camp.contacts(2))
    assert wake_jobs(camp) == []  # parked: nothing is due

    camp.activate(cid)
    [due] = next_steps(camp, cid)
    assert the_wake_job(camp)["due_at"] == due


def test_completing_a_step_re_arms_the_wake_up_for_the_next_step(camp: Campaigns) -> None:
    cid = camp.create(daily_send_limit=None, send_days=EVERY_DAY)
    camp.email_step(cid)
    camp.email_step(cid, delay_minutes=1)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(2))
    first = the_wake_job(camp)
    assert first["due_at"] == app_now(camp)

    assert run_the_wake_up(camp)["sent"] == 2

    [due] = next_steps(camp, cid)
    assert due == app_now(camp) + timedelta(minutes=1)
    job = the_wake_job(camp)
    assert job["id"] != first["id"]
    assert job["due_at"] == due
    assert_delay(job, timedelta(minutes=1))


def test_a_tick_re_arms_for_a_due_time_it_did_not_write(camp: Campaigns) -> None:
    """The wake-up stands for the earliest due step only: the step due now queued its
    own (the later job is left as it is), and the tick that ran it arms for the later
    step, keeping that job and nothing else."""
    soon = one_step_campaign(camp)
    later = one_step_campaign(camp, delay_minutes=3)
    camp.enroll(later, camp.contacts(1))
    camp.enroll(soon, camp.contacts(1))
    assert [j["due_at"] for j in wake_jobs(camp)] == [
        app_now(camp),
        app_now(camp) + timedelta(minutes=3),
    ]

    assert run_the_wake_up(camp)["completed"] == 1

    [due] = next_steps(camp, later)
    job = the_wake_job(camp)
    assert job["due_at"] == due == app_now(camp) + timedelta(minutes=3)
    assert_delay(job, timedelta(minutes=3))


def test_an_earlier_due_time_moves_the_wake_up_and_a_later_one_adds_no_job(
    camp: Campaigns,
) -> None:
    hour = one_step_campaign(camp, delay_minutes=60)
    ten = one_step_campaign(camp, delay_minutes=10)
    two_hours = one_step_campaign(camp, delay_minutes=120)

    camp.enroll(hour, camp.contacts(1))
    armed = the_wake_job(camp)
    assert armed["due_at"] == app_now(camp) + timedelta(minutes=60)

    camp.enroll(ten, camp.contacts(1))
    moved = the_wake_job(camp)
    assert moved["id"] == armed["id"]
    assert moved["due_at"] == app_now(camp) + timedelta(minutes=10)
    assert_delay(moved, timedelta(minutes=10))

    camp.enroll(two_hours, camp.contacts(1))
    assert the_wake_job(camp) == moved


def test_a_bulk_enrollment_of_a_thousand_contacts_adds_one_wake_up(camp: Campaigns) -> None:
    """Contacts in four zones, each due at its own zone's window (Monday 10:00 in New
    York is 16:00 in Paris, 07:00 in Los Angeles, 23:00 in Tokyo): one job, at the first."""
    cid = camp.create(daily_send_limit=None, send_days=EVERY_DAY, use_contact_timezone=True)
    camp.email_step(cid)
    camp.activate(cid)
    contacts = [
        c
        for zone in ("America/New_York", "Europe/Paris", "Asia/Tokyo", "America/Los_Angeles")
        for c in camp.contacts(250, timezone=zone)
    ]
    assert camp.enroll(cid, contacts)["enrolled"] == 1000

    dues = next_steps(camp, cid)
    assert len(dues) == 3  # Los Angeles and Tokyo wait for their own 09:00
    assert the_wake_job(camp)["due_at"] == min(dues) == app_now(camp)


def test_a_step_due_outside_the_send_window_wakes_at_the_windows_opening(
    camp: Campaigns,
) -> None:
    cid = one_step_campaign(camp, delay_hours=8)  # Monday 18:00 in New York: closed
    camp.enroll(cid, camp.contacts(1))

    [due] = next_steps(camp, cid)
    assert due == datetime.fromisoformat("2026-06-02 09:00:00-04:00")  # Tuesday's opening
    job = the_wake_job(camp)
    assert job["due_at"] == due
    assert_delay(job, timedelta(hours=23))


def test_a_step_the_tick_defers_to_the_next_window_wakes_it_then(camp: Campaigns) -> None:
    """The window closed between the step's due time and its tick: it is deferred, and
    the wake-up follows it to the opening."""
    cid = one_step_campaign(camp, delay_hours=6)  # due Monday 16:00 in New York
    camp.enroll(cid, camp.contacts(1))
    camp.at("2026-06-01 17:30:00-04")  # the tick comes late, after the window closed
    run_the_wake_up(camp)

    [due] = next_steps(camp, cid)
    assert due == datetime.fromisoformat("2026-06-02 09:00:00-04:00")
    job = the_wake_job(camp)
    assert job["due_at"] == due
    assert_delay(job, timedelta(hours=15, minutes=30))


def test_resuming_a_campaign_wakes_the_tick_for_the_steps_due_meanwhile(
    camp: Campaigns,
) -> None:
    cid = one_step_campaign(camp, delay_minutes=5)
    camp.enroll(cid, camp.contacts(2))
    camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    camp.queue.execute("delete from queue.pgqueuer where entrypoint = %s", (WAKE,))

    camp.at("2026-06-01 11:00:00-04")
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (cid,)) == 2
    job = the_wake_job(camp)
    assert job["due_at"] == app_now(camp)  # due during the pause: now
    assert_delay(job, timedelta(0))


def test_a_tick_that_leaves_steps_due_arms_no_wake_up_for_later(camp: Campaigns) -> None:
    """The drain running it goes on (its next batch is due now); it re-arms when done."""
    cid = camp.create(daily_send_limit=None, send_days=EVERY_DAY)
    camp.email_step(cid)
    camp.email_step(cid, delay_days=2)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(3))
    camp.queue.execute("update queue.pgqueuer set status = 'picked' where entrypoint = %s", (WAKE,))

    assert camp.tick(batch_size=2)["more_due"] is True
    later = the_wake_job(camp)  # the batch's own rows armed their next step
    assert later["due_at"] == app_now(camp) + timedelta(days=2)
    assert camp.tick(batch_size=2)["more_due"] is False
    assert the_wake_job(camp) == later


def test_the_minute_tick_leaves_one_wake_up_when_two_were_queued(camp: Campaigns) -> None:
    """Two armers racing can each queue one; the next tick keeps the earliest."""
    cid = one_step_campaign(camp, delay_minutes=30)
    camp.enroll(cid, camp.contacts(1))
    first = the_wake_job(camp)
    camp.queue.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after) "
        "values (0, %s, convert_to('{\"due_at\": \"2026-06-01 11:00:00-04\"}', 'UTF8'), "
        "'queued', now() + interval '1 hour')",
        (WAKE,),
    )
    assert len(wake_jobs(camp)) == 2

    assert camp.tick()["processed"] == 0
    assert wake_jobs(camp) == [first]


# pgqueuer's claim (its dequeue query's lock clause): what a worker can take now.
CLAIM = (
    "select id from queue.pgqueuer where entrypoint = 'campaigns.wake' "
    "and status = 'queued' and execute_after < now() order by id for update skip locked"
)
# The same without the due filter: which wake-ups are free to claim once due.
UNHELD = (
    "select id from queue.pgqueuer where entrypoint = 'campaigns.wake' "
    "and status = 'queued' order by id for update skip locked"
)


def claimable(camp: Campaigns, query: str = CLAIM) -> list[int]:
    with camp.queue.transaction():
        return [r[0] for r in camp.queue.execute(query).fetchall()]


def enroll_in_open_transaction(
    camp: Campaigns, conn: Any, campaign_id: uuid.UUID, contact_ids: list[uuid.UUID]
) -> None:
    """Enroll on ``conn`` (not autocommit) and leave its transaction open."""
    conn.execute("select set_config('app.fake_now', %s, false)", (MONDAY_10,))
    conn.execute("select api.set_actor(%s, %s)", (camp.org_id, camp.admin_id))
    conn.execute(
        "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
        (campaign_id, contact_ids),
    )


def test_a_due_wake_up_stays_claimable_while_another_enrollment_is_open(
    camp: Campaigns, db: Database
) -> None:
    """An open enrollment transaction (a bulk import, a slow request) does not hold back
    the wake-up other enrollments' steps are due on: it queues its own instead."""
    due_now = one_step_campaign(camp)
    camp.enroll(due_now, camp.contacts(1))
    later = one_step_campaign(camp, delay_minutes=1)
    [job] = wake_jobs(camp)
    while not claimable(camp):  # due on the real clock within moments
        time.sleep(0.05)
    with db.connect("intime_service") as other:
        enroll_in_open_transaction(camp, other, later, camp.contacts(1))
        assert claimable(camp) == [job["id"]]
        other.commit()
    [_, own] = wake_jobs(camp)
    assert own["due_at"] == app_now(camp) + timedelta(minutes=1)


def test_an_enrollment_holds_the_wake_up_not_yet_due_it_relies_on_until_it_commits(
    camp: Campaigns, db: Database
) -> None:
    """No lost wake-up: the kept job cannot be claimed before the rows relying on it
    are visible to its tick."""
    ten = one_step_campaign(camp, delay_minutes=10)
    thirty = one_step_campaign(camp, delay_minutes=30)
    camp.enroll(ten, camp.contacts(1))
    [job] = wake_jobs(camp)
    with db.connect("intime_service") as other:
        enroll_in_open_transaction(camp, other, thirty, camp.contacts(1))
        assert claimable(camp, UNHELD) == []
        other.commit()
    assert claimable(camp, UNHELD) == [job["id"]]
    assert wake_jobs(camp) == [job]


def test_a_step_due_now_gets_a_wake_up_no_tick_can_claim_before_its_rows_are_visible(
    camp: Campaigns, db: Database
) -> None:
    first = one_step_campaign(camp)
    second = one_step_campaign(camp)
    camp.enroll(first, camp.contacts(1))
    [job] = wake_jobs(camp)
    with db.connect("intime_service") as other:
        enroll_in_open_transaction(camp, other, second, camp.contacts(1))
        assert [j["id"] for j in wake_jobs(camp)] == [job["id"]]  # its own: not yet visible
        other.commit()
    [_, own] = wake_jobs(camp)
    assert own["due_at"] == app_now(camp)
    assert_delay(own, timedelta(0))


def test_one_transaction_enrolling_many_times_adds_one_wake_up(
    camp: Campaigns, db: Database
) -> None:
    """A bulk import enrolling chunk by chunk in one transaction: its own job, moved
    earlier when a chunk is due earlier, never a second one."""
    later = one_step_campaign(camp, delay_minutes=5)
    now = one_step_campaign(camp)
    camp.enroll(now, camp.contacts(1))
    [due] = wake_jobs(camp)
    with db.connect("intime_service") as other:
        enroll_in_open_transaction(camp, other, now, camp.contacts(1))
        enroll_in_open_transaction(camp, other, later, camp.contacts(1))
        enroll_in_open_transaction(camp, other, now, camp.contacts(1))
        other.commit()
    [kept, own] = wake_jobs(camp)
    assert kept == due
    assert own["due_at"] == app_now(camp)


def test_the_tick_drops_the_wake_ups_of_rows_it_saw(camp: Campaigns) -> None:
    """Concurrent enrollments due now each queued one: the tick that ran them all
    keeps one wake-up, for the next due time."""
    now = one_step_campaign(camp)
    later = one_step_campaign(camp, delay_minutes=5)
    camp.enroll(later, camp.contacts(1))
    camp.enroll(now, camp.contacts(1))
    camp.enroll(now, camp.contacts(1))
    assert len(wake_jobs(camp)) == 3

    assert run_the_wake_up(camp)["completed"] == 2
    job = the_wake_job(camp)
    assert job["due_at"] == app_now(camp) + timedelta(minutes=5)


def test_a_tick_leaving_nothing_due_drops_the_wake_ups_it_saw(camp: Campaigns) -> None:
    now = one_step_campaign(camp)
    camp.enroll(now, camp.contacts(1))
    camp.queue.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after) "
        "values (10, %s, convert_to('{\"due_at\": \"2026-06-01 10:00:00-04\"}', 'UTF8'), "
        "'queued', now())",
        (WAKE,),
    )
    assert len(wake_jobs(camp)) == 2

    assert run_the_wake_up(camp)["completed"] == 1
    assert wake_jobs(camp) == []


def explain(camp: Campaigns, query: str) -> str:
    camp.queue.execute("set enable_seqscan = off")
    try:
        rows = camp.queue.execute("explain (costs off) " + query).fetchall()
    finally:
        camp.queue.execute("reset enable_seqscan")
    return "\n".join(r[0] for r in rows)


def test_arming_finds_the_queued_wake_up_by_pgqueuers_entrypoint_index(camp: Campaigns) -> None:
    plan = explain(
        camp,
        "select j.id from queue.pgqueuer as j where j.entrypoint = 'campaigns.wake' "
        "and j.status = 'queued' and j.execute_after > clock_timestamp() + interval '1 second' "
        "order by j.execute_after limit 1",
    )
    assert "pgqueuer_ep_ea_idx" in plan


def test_the_next_due_time_is_read_from_the_due_and_resume_indexes(camp: Campaigns) -> None:
    due = explain(
        camp,
        "select min(e.next_step_at) from app.campaign_enrollments as e where e.status = 'active'",
    )
    assert "campaign_enrollments_due_idx" in due
    resume = explain(
        camp,
        "select min(e.resume_at) from app.campaign_enrollments as e where e.status = 'paused' "
        "and e.resume_at is not null and e.stop_reason = 'out_of_office'",
    )
    assert "campaign_enrollments_resume_idx" in resume
