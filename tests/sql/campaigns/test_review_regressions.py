"""Defects an independent review of the campaign engine found, pinned."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from psycopg.types.json import Jsonb

from intime.errors import (
    InvalidParameterError,
    InvalidStateError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
)
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
                t.execute("select * from api.tick_campaigns(p_batch_size => 100)").fetchone()
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
    camp.call("select api.stop_enrollment(p_enrollment_id => %s)", (enrollment["id"],))
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


# -- a second review ------------------------------------------------------------------


def test_a_caller_can_not_tie_an_email_to_an_enrollment(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    [enrollment] = camp.enrollments(cid)
    with pytest.raises(PermissionDeniedError, match="campaign engine only"):
        camp.call(
            "select api.queue_email(p_to => 'rep.inbox@attacker.test', p_subject => 's', "
            "p_text => 't', p_enrollment_id => %s)",
            (enrollment["id"],),
            user=camp.orgs.a.rep_ids[0],
        )


def test_a_deleted_contacts_queued_email_is_not_sent_and_what_was_sent_stays_counted(
    camp: Campaigns,
) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    gone, kept = camp.contacts(2)
    camp.enroll(cid, [gone, kept])
    camp.activate(cid)
    camp.tick()
    send_id = next(s["id"] for s in camp.sends(cid) if s["entity_id"] == gone)
    camp.owner.execute("delete from app.contacts where id = %s", (gone,))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (send_id,)
    )
    assert claim["action"] == "suppressed"
    c = camp.campaign(cid)
    assert (c["total_enrolled"], c["total_sent"], c["total_active"]) == (2, 2, 1)
    [campaign_row, step_one, _] = camp.stats(cid)
    assert campaign_row["sent"] == step_one["sent"] == 2


def test_a_paused_campaign_holds_its_last_steps_email_too(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert camp.enrollments(cid)[0]["status"] == "completed"
    camp.call("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (send["id"],)
    )
    assert claim["action"] == "defer"


def test_a_one_day_and_a_24_hour_delay_differ_across_dst_in_one_batch(camp: Campaigns) -> None:
    cid = camp.create(
        send_window_start="00:00",
        send_window_end="23:59",
        send_days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    )
    camp.step(cid, "wait")
    camp.step(cid, "wait", delay_days=1)
    camp.step(cid, "wait", delay_hours=24)
    camp.step(cid, "wait")
    later, earlier = camp.contacts(2)
    camp.at("2026-03-06 10:00:00-05")
    camp.enroll(cid, [earlier])
    camp.activate(cid)
    assert camp.tick()["processed"] == 1
    camp.at("2026-03-07 10:00:00-05")  # Saturday; DST starts Sunday 02:00
    camp.enroll(cid, [later])
    assert camp.tick()["processed"] == 2  # one before the 1-day step, one before the 24 h
    due = {e["contact_id"]: e["next_step_at"] for e in camp.enrollments(cid)}
    utc = camp.owner.execute(
        "select to_char(%s::timestamptz at time zone 'UTC', 'MM-DD HH24:MI'), "
        "to_char(%s::timestamptz at time zone 'UTC', 'MM-DD HH24:MI')",
        (due[later], due[earlier]),
    ).fetchone()
    assert utc == ("03-08 14:00", "03-08 15:00")  # 10:00 EDT a calendar day on; 24 h on


def test_an_a_b_metric_window_over_a_year_is_refused(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError, match="0 to 365 days"):
        camp.create(ab_metric_window="10000 years")


def test_a_step_number_over_1000_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="1 to 1000"):
        camp.step(cid, "wait", step_number=2147483647)


def test_an_email_template_a_step_uses_can_not_be_deleted(camp: Campaigns) -> None:
    template_id = camp.one(
        "insert into app.email_templates (slug, name, category, subject_template, "
        "html_template) values ('intro-x', 'Intro', 'marketing', 'Hi', '<p>Hi</p>') "
        "returning id"
    )
    cid = camp.create(name="Uses it")
    camp.step(cid, "email", template_id=template_id)
    with pytest.raises(InvalidStateError, match="used by step 1 of campaign Uses it"):
        camp.call("delete from app.email_templates where id = %s", (template_id,))


def test_an_email_step_can_not_be_added_to_an_active_campaign_without_email_settings(
    camp: Campaigns,
) -> None:
    camp.owner.execute("delete from app.email_settings where org_id = %s", (camp.org_id,))
    cid = camp.create()
    camp.step(cid, "task")
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    with pytest.raises(NotConfiguredError):
        camp.email_step(cid)


def test_a_campaign_can_be_handed_to_another_owner(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "linkedin")
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    rep = camp.orgs.a.rep_ids[1]
    camp.call(
        "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
        (cid, Jsonb({"owner_id": str(rep)})),
    )
    camp.tick()
    assignee = camp.owner.execute(
        "select assignee_id from app.activities where metadata ->> 'campaign_id' = %s",
        (str(cid),),
    ).fetchone()
    assert assignee == (rep,)
    with pytest.raises(NotFoundError):
        camp.call(
            "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
            (cid, Jsonb({"owner_id": str(camp.orgs.b.admin_id)})),
        )
