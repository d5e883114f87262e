"""The campaign tick's read-only half: app._campaign_plan_batch decides what each
enrollment's next step does (and renders the email) without writing anything;
app._campaign_run_batch carries that plan out. Called here on its own, in a
read-only transaction, as the superuser (the tick runs it as the service role
under api.tick_campaigns)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.sql.campaigns.conftest import MONDAY_10, Campaigns

SATURDAY_10 = "2026-06-06 10:00:00-04"


def plan(camp: Campaigns, campaign_id: uuid.UUID, now: str = MONDAY_10) -> list[dict[str, Any]]:
    """The plan for every enrollment of the campaign, by contact address."""
    owner = camp.owner
    with owner.transaction():
        owner.execute("set transaction read only")
        rows = (
            owner.cursor(row_factory=dict_row)
            .execute(
                "select p.* from app._campaign_plan_batch("
                "  p_now => %(now)s,"
                "  p_org_ids => (select array_agg(org_id order by id)"
                "    from app.campaign_enrollments where campaign_id = %(c)s),"
                "  p_ids => (select array_agg(id order by id)"
                "    from app.campaign_enrollments where campaign_id = %(c)s)"
                ") as p order by p.email",
                {"now": now, "c": campaign_id},
            )
            .fetchall()
        )
    return rows


def counts(conn: psycopg.Connection) -> tuple[int, ...]:
    row = conn.execute(
        "select (select count(*) from app.email_sends), (select count(*) from queue.pgqueuer),"
        " (select count(*) from app.campaign_sequence_logs),"
        " (select count(*) from app.activities),"
        " (select count(*) from app.campaign_daily_sends),"
        " (select sum(current_step) from app.campaign_enrollments)"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_the_plan_decides_each_enrollment_in_a_read_only_transaction(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.activate(cid)
    ok, dnc, unaddressable = camp.contacts(3)
    camp.enroll(cid, [ok, dnc, unaddressable])
    camp.owner.execute("update app.contacts set status = 'do_not_contact' where id = %s", (dnc,))
    camp.owner.execute(
        "update app.contacts set email = 'Bob <bob@ex.test>' where id = %s", (unaddressable,)
    )
    acts = {r["contact_id"]: r["act"] for r in plan(camp, cid)}
    assert acts == {ok: "run", dnc: "stop_contact", unaddressable: "error_address"}


def test_the_plan_writes_nothing(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.step(cid, "task", delay_days=1, task_config={"title": "Follow up"})
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(2))
    before = counts(camp.owner)
    assert len(plan(camp, cid)) == 2
    assert counts(camp.owner) == before


def test_the_plan_renders_the_email_of_a_step_it_runs(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid, subject="Hi {{ contact.first_name }}\r\nBcc: x@evil.test")
    camp.activate(cid)
    (contact,) = camp.contacts(1)
    camp.enroll(cid, [contact])
    (row,) = plan(camp, cid)
    assert row["act"] == "run"
    assert row["subject"] == "Hi First1 Bcc: x@evil.test"
    assert row["body_html"] == "<p>Hello First1 at Co 1</p>"
    assert row["next_number"] is None
    assert row["due_at"] is None


def test_the_plan_renders_nothing_for_an_enrollment_it_does_not_send(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.activate(cid)
    (contact,) = camp.contacts(1)
    camp.enroll(cid, [contact])
    (row,) = plan(camp, cid, now=SATURDAY_10)
    assert row["act"] == "defer_window"
    assert (row["subject"], row["body_html"], row["body_text"]) == (None, None, None)


def test_the_plan_defers_to_the_window_opening(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(1))
    (row,) = plan(camp, cid, now=SATURDAY_10)
    # Monday 2026-06-08 09:00 in New York (EDT, UTC-4).
    assert row["open_at"] == datetime(2026, 6, 8, 13, 0, tzinfo=UTC)


def test_the_plan_rolls_sends_past_the_daily_limit_to_the_next_day(camp: Campaigns) -> None:
    cid = camp.create(daily_send_limit=1)
    camp.email_step(cid)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(3))
    rows = plan(camp, cid)
    assert sorted(r["act"] for r in rows) == ["defer_limit", "defer_limit", "run"]
    # Tuesday 2026-06-02 09:00 in New York.
    assert {r["due_at"] for r in rows if r["act"] == "defer_limit"} == {
        datetime(2026, 6, 2, 13, 0, tzinfo=UTC)
    }


def test_the_plan_schedules_the_next_step_after_its_delay(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=3)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(1))
    (row,) = plan(camp, cid)
    assert (row["step_number"], row["next_number"]) == (1, 2)
    # Thursday 2026-06-04 10:00 in New York: three calendar days on.
    assert row["due_at"] == datetime(2026, 6, 4, 14, 0, tzinfo=UTC)


def test_the_tick_carries_out_the_plan(camp: Campaigns) -> None:
    cid = camp.create(daily_send_limit=2)
    camp.email_step(cid)
    camp.email_step(cid, delay_days=3)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(3))
    planned = {r["id"]: r for r in plan(camp, cid)}
    camp.tick()
    sends = {s["enrollment_id"]: s for s in camp.sends(cid)}
    assert set(sends) == {i for i, r in planned.items() if r["act"] == "run"}
    for enrollment_id, send in sends.items():
        assert send["subject"] == planned[enrollment_id]["subject"]
        assert send["html_body"] == planned[enrollment_id]["body_html"]
    for enrollment_id, row in planned.items():
        assert camp.enrollment(enrollment_id)["next_step_at"] == row["due_at"]


def test_a_repeated_arm_id_still_plans_one_row_and_sends_the_first_arm(camp: Campaigns) -> None:
    cid = camp.create()
    arms = [
        {"id": "A", "subject": "Subject A", "body_html": "<p>A</p>", "weight": 1},
        {"id": "B", "subject": "Subject B", "body_html": "<p>B</p>", "weight": 1},
    ]
    step = camp.email_step(cid, ab_variants=arms)
    camp.activate(cid)
    camp.enroll(cid, camp.contacts(1))
    # Written past the API (which refuses a repeated id), as a hand edit might.
    camp.owner.execute(
        "update app.campaign_sequences set ab_variants = %s where id = %s",
        (Jsonb([{**arms[0], "subject": "First A"}, {**arms[0], "subject": "Second A"}]), step),
    )
    (row,) = plan(camp, cid)
    assert (row["variant"], row["subject"]) == ("A", "First A")
    assert camp.tick()["sent"] == 1
    assert [s["subject"] for s in camp.sends(cid)] == ["First A"]
