"""Defects an independent review of the campaign engine found, pinned."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from intime.errors import InvalidParameterError
from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import Database


def _wait_lock(camp: Campaigns, pid: int, deadline: float = 10) -> None:
    end = time.monotonic() + deadline
    while camp.owner.execute(
        "select wait_event_type is distinct from 'Lock' from pg_stat_activity where pid = %s",
        (pid,),
    ).fetchone() == (True,):
        assert time.monotonic() < end
        time.sleep(0.02)


def test_pausing_a_campaign_during_a_tick_waits_instead_of_deadlocking(
    camp: Campaigns, db: Database
) -> None:
    cid = camp.create(daily_send_limit=1000)
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.enroll(cid, camp.contacts(5))
    camp.activate(cid)
    camp.owner.execute(
        "insert into app.campaign_daily_sends (org_id, campaign_id, local_date, sent) "
        "values (%s, %s, '2026-06-01', 0)",
        (camp.org_id, cid),
    )
    errors: dict[str, BaseException] = {}
    parked: list[int] = []
    with (
        db.connect() as gate,  # holds the daily counter so the tick stops half-way
        db.connect("intime_service") as t,
        db.connect("intime_service") as p,
    ):
        for c in (t, p):
            c.execute("select set_config('app.fake_now', %s, false)", (MONDAY_10,))
            c.commit()
        gate.execute(
            "select from app.campaign_daily_sends where campaign_id = %s for update", (cid,)
        )

        def tick() -> None:
            try:
                t.execute("select * from api.campaign_tick(p_batch_size => 100)").fetchone()
                t.commit()
            except BaseException as exc:
                errors["tick"] = exc
                t.rollback()

        def pause() -> None:
            try:
                p.execute(
                    "select api.set_actor(p_org_id => %s, p_user_id => %s)",
                    (camp.org_id, camp.admin_id),
                )
                row = p.execute("select api.pause_campaign(p_campaign_id => %s)", (cid,))
                parked.append(row.fetchone()[0])  # type: ignore[index]
                p.commit()
            except BaseException as exc:
                errors["pause"] = exc
                p.rollback()

        ticking = threading.Thread(target=tick)
        ticking.start()
        _wait_lock(camp, t.info.backend_pid)  # the tick holds the enrollments
        pausing = threading.Thread(target=pause)
        pausing.start()
        _wait_lock(camp, p.info.backend_pid)  # the pause waits for them
        gate.commit()
        ticking.join(30)
        pausing.join(30)
    assert errors == {}
    assert parked == [5]
    assert {e["status"] for e in camp.enrollments(cid)} == {"paused"}
    assert len(camp.sends(cid)) == 5


def test_a_queued_step_email_is_not_sent_once_its_enrollment_stopped(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=2)
    first, second = camp.contacts(2)
    camp.enroll(cid, [first, second])
    camp.activate(cid)
    camp.tick()
    sends = {s["entity_id"]: s["id"] for s in camp.sends(cid)}
    [enrollment] = [e for e in camp.enrollments(cid) if e["contact_id"] == first]
    camp.call("select api.unenroll(p_enrollment_id => %s)", (enrollment["id"],))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (sends[first],)
    )
    assert claim["action"] == "suppressed"
    row = camp.owner.execute(
        "select status, suppression_reason from app.email_sends where id = %s", (sends[first],)
    ).fetchone()
    assert row == ("suppressed", "enrollment_stopped")


def test_a_queued_step_email_waits_while_its_campaign_is_paused(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    camp.call("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action, retry_after_seconds from api.claim_email_send(p_email_send_id => %s)",
        (send["id"],),
    )
    assert (claim["action"], claim["retry_after_seconds"]) == ("defer", 600)
    camp.call("select api.resume_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (send["id"],)
    )
    assert claim["action"] == "send"


def test_a_skip_condition_that_can_not_be_evaluated_is_refused_when_saved(
    camp: Campaigns,
) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="in needs an array"):
        camp.email_step(
            cid, skip_conditions=[{"field": "engagement_score", "operator": "in", "value": 5}]
        )
    with pytest.raises(InvalidParameterError, match="unknown field 'nope'"):
        camp.email_step(cid, skip_conditions=[{"field": "nope", "operator": "eq", "value": 5}])


def test_a_skip_condition_failing_at_run_time_counts_an_error_not_a_batch_failure(
    camp: Campaigns,
) -> None:
    cid = camp.create()
    camp.email_step(
        cid, skip_conditions=[{"field": "contact.title", "operator": "eq", "value": "x"}]
    )
    other = camp.create(name="innocent")
    camp.email_step(other)
    camp.enroll(cid, camp.contacts(2, prefix="bad"))
    camp.enroll(other, camp.contacts(2, prefix="ok"))
    camp.activate(cid)
    camp.activate(other)
    camp.owner.execute(
        "update app.campaign_sequences set skip_conditions = "
        """'[{"field": "engagement_score", "operator": "in", "value": 5}]' """
        "where campaign_id = %s",
        (cid,),
    )
    result = camp.tick()
    assert (result["sent"], result["errored"]) == (2, 2)
    assert {e["last_error"] for e in camp.enrollments(cid)} == {
        "a skip condition could not be evaluated"
    }


def test_an_empty_email_step_can_not_be_added_to_an_active_campaign(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    with pytest.raises(InvalidParameterError, match="email step 2 has no content"):
        camp.step(cid, "email")


def test_a_one_day_delay_is_a_calendar_day_across_a_dst_change(camp: Campaigns) -> None:
    cid = camp.create(send_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.at("2026-03-07 16:30:00-05")  # Saturday 16:30 EST; Sunday is EDT
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    assert camp.tick()["sent"] == 1
    [enrollment] = camp.enrollments(cid)
    local = camp.owner.execute(
        "select %s::timestamptz at time zone 'America/New_York'", (enrollment["next_step_at"],)
    ).fetchone()
    assert str(local[0]) == "2026-03-08 16:30:00"  # type: ignore[index]


def test_contact_data_can_not_name_another_variable(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid, subject="Hi {{contact.first_name}}", body_html="<p>{{contact.first_name}}</p>"
    )
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set first_name = '{{sender.email}}' where id = %s", (contact,)
    )
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert send["subject"] == "Hi {{sender.email}}"
    assert send["html_body"] == "<p>{{sender.email}}</p>"


def test_stop_on_reply_off_still_holds_after_the_logs_are_archived(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid, stop_on_reply=False)
    camp.email_step(cid, delay_days=30)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    camp.at("2026-06-01 10:05:00-04")
    with camp.conn.transaction():
        moved = camp.conn.execute(
            "select api.archive_campaign_logs(p_retention => interval '0')"
        ).fetchone()
    assert moved is not None
    assert moved[0] >= 1
    [send] = camp.sends(cid)
    with camp.conn.transaction():
        camp.conn.execute(
            "select * from api.record_inbound_email(p_message_id => %s, p_from => %s, "
            "p_to => %s, p_in_reply_to => %s, p_text => 'thanks')",
            (f"<{uuid.uuid4().hex}@x>", send["to_email"], [send["reply_to"]], send["message_id"]),
        ).fetchone()
    [enrollment] = camp.enrollments(cid)
    assert (enrollment["status"], enrollment["replied_at"] is not None) == ("active", True)
