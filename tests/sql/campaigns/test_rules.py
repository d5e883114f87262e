"""The tick's rules: who enroll_contacts takes, send windows (campaign and
contact zones), the daily send limit, skip conditions, errors (three in a
row pause; a skip condition failing at run time is one), deleted contacts
(their queued email is not sent), and a batch re-run one enrollment at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.sql.campaigns.conftest import Campaigns


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def suppress(
    camp: Campaigns, contact_id: uuid.UUID, reason: str, org_id: uuid.UUID | None = None
) -> None:
    camp.owner.execute(
        "insert into app.suppressions (org_id, email, reason) "
        "select org_id, lower(email), %s from app.contacts where id = %s",
        (reason, contact_id),
    )


def one_email_campaign(camp: Campaigns, **settings: object) -> uuid.UUID:
    cid = camp.create(**settings)
    camp.email_step(cid)
    return cid


# enroll_contacts -------------------------------------------------------------


def test_enroll_contacts_counts_each_outcome(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    (fresh, again, deleted, dnc, no_email, unsub, bounced) = camp.contacts(7)
    camp.enroll(cid, [again])
    [other_org] = [
        r[0]
        for r in camp.owner.execute(
            "select id from app.contacts where org_id = %s limit 1", (camp.orgs.b.org_id,)
        ).fetchall()
    ]
    camp.owner.execute("update app.contacts set deleted_at = now() where id = %s", (deleted,))
    camp.owner.execute("update app.contacts set status = 'do_not_contact' where id = %s", (dnc,))
    suppress(camp, unsub, "unsubscribe")
    suppress(camp, bounced, "hard_bounce")
    camp.owner.execute("update app.contacts set email = null where id = %s", (no_email,))
    ids = [fresh, fresh, again, uuid.uuid4(), other_org, deleted, dnc, no_email, unsub, bounced]
    assert camp.enroll(cid, ids) == {
        "enrolled": 1,
        "already_enrolled": 2,  # enrolled before, and the second fresh in the array
        "not_found": 3,
        "do_not_contact": 1,
        "no_email": 1,
        "unsubscribed": 1,
        "suppressed": 1,
    }
    assert sorted(e["contact_id"] for e in camp.enrollments(cid)) == sorted([fresh, again])
    assert camp.campaign(cid)["total_enrolled"] == 2


def test_no_email_only_counts_when_the_sequence_has_an_email_step(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "linkedin")
    [contact] = camp.contacts(1)
    camp.owner.execute("update app.contacts set email = null where id = %s", (contact,))
    assert camp.enroll(cid, [contact])["enrolled"] == 1


def test_suppressions_do_not_block_a_sequence_without_email(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "phone")
    [contact] = camp.contacts(1)
    suppress(camp, contact, "unsubscribe")
    assert camp.enroll(cid, [contact])["enrolled"] == 1


# Send windows ----------------------------------------------------------------


def test_a_due_enrollment_outside_the_window_is_deferred_to_the_next_opening(
    camp: Campaigns,
) -> None:
    cid = one_email_campaign(camp)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    camp.at("2026-06-01 18:00:00-04")  # Monday after five
    tick = camp.tick()
    assert (tick["processed"], tick["deferred"], tick["sent"]) == (1, 1, 0)
    [e] = camp.enrollments(cid)
    assert (e["status"], e["current_step"], e["next_step_at"]) == (
        "active",
        0,
        utc("2026-06-02 13:00"),  # Tuesday 09:00 EDT
    )
    [log] = camp.logs(cid)
    assert (log["status"], log["step_number"], log["channel"]) == ("deferred", 1, "email")
    assert log["detail"].startswith("outside the send window until 2026-06-02 13:00:00")
    assert camp.sends(cid) == []
    assert camp.tick()["processed"] == 0


def test_a_friday_evening_step_lands_on_monday_morning(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.owner.execute(
        "update app.campaign_enrollments set next_step_at = '2026-06-05 17:30:00-04'"
    )
    camp.at("2026-06-05 17:30:00-04")
    assert camp.tick()["deferred"] == 1
    assert camp.enrollments(cid)[0]["next_step_at"] == utc("2026-06-08 13:00")
    camp.at("2026-06-08 09:00:00-04")
    assert camp.tick()["sent"] == 1


def test_the_contact_zone_decides_with_use_contact_timezone(camp: Campaigns) -> None:
    cid = one_email_campaign(camp, use_contact_timezone=True)
    [london] = camp.contacts(1, prefix="ldn", timezone="Europe/London")
    [la] = camp.contacts(1, prefix="la", timezone="America/Los_Angeles")
    [nozone] = camp.contacts(1, prefix="nz")
    camp.enroll(cid, [london, la, nozone])
    camp.activate(cid)
    due = {e["contact_id"]: e["next_step_at"] for e in camp.enrollments(cid)}
    # Monday 10:00 New York is 15:00 in London (open) and 07:00 in Los Angeles.
    assert due == {
        london: utc("2026-06-01 14:00"),
        la: utc("2026-06-01 16:00"),  # 09:00 PDT
        nozone: utc("2026-06-01 14:00"),  # the campaign's zone
    }
    assert camp.tick()["sent"] == 2
    camp.at("2026-06-01 12:00:00-04")
    assert camp.tick()["sent"] == 1
    assert {s["to_email"].split(".")[0][:2] for s in camp.sends(cid)} == {"ld", "la", "nz"}


def test_the_tick_defers_by_the_contact_zone(camp: Campaigns) -> None:
    cid = one_email_campaign(camp, use_contact_timezone=True)
    [la] = camp.contacts(1, prefix="la", timezone="America/Los_Angeles")
    camp.enroll(cid, [la])
    camp.activate(cid)
    camp.owner.execute(
        "update app.campaign_enrollments set next_step_at = %s", (utc("2026-06-01 14:00"),)
    )
    tick = camp.tick()
    assert (tick["deferred"], tick["sent"]) == (1, 0)
    assert camp.enrollments(cid)[0]["next_step_at"] == utc("2026-06-01 16:00")


def test_without_use_contact_timezone_the_campaign_zone_decides(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    [la] = camp.contacts(1, prefix="la", timezone="America/Los_Angeles")
    camp.enroll(cid, [la])
    camp.activate(cid)
    assert camp.enrollments(cid)[0]["next_step_at"] == utc("2026-06-01 14:00")
    assert camp.tick()["sent"] == 1


# The daily send limit --------------------------------------------------------


def test_sends_over_the_daily_limit_roll_to_the_next_window(camp: Campaigns) -> None:
    cid = one_email_campaign(camp, daily_send_limit=3)
    camp.enroll(cid, camp.contacts(5))
    camp.activate(cid)
    tick = camp.tick()
    assert (tick["processed"], tick["sent"], tick["deferred"]) == (5, 3, 2)
    waiting = [e for e in camp.enrollments(cid) if e["current_step"] == 0]
    assert [(e["status"], e["next_step_at"]) for e in waiting] == [
        ("active", utc("2026-06-02 13:00"))
    ] * 2
    deferred = [log for log in camp.logs(cid) if log["status"] == "deferred"]
    assert [log["detail"] for log in deferred] == ["daily send limit reached"] * 2
    assert camp.tick()["processed"] == 0

    camp.at("2026-06-02 09:00:00-04")
    assert camp.tick()["sent"] == 2
    assert len(camp.sends(cid)) == 5
    assert {e["status"] for e in camp.enrollments(cid)} == {"completed"}
    days = camp.owner.execute(
        "select local_date::text, sent from app.campaign_daily_sends where campaign_id = %s "
        "order by local_date",
        (cid,),
    ).fetchall()
    assert days == [("2026-06-01", 3), ("2026-06-02", 2)]


def test_two_ticks_the_same_day_never_exceed_the_limit(camp: Campaigns) -> None:
    cid = one_email_campaign(camp, daily_send_limit=3)
    camp.enroll(cid, camp.contacts(5))
    camp.activate(cid)
    first = camp.tick(batch_size=2)
    assert (first["sent"], first["deferred"]) == (2, 0)
    second = camp.tick()
    assert (second["sent"], second["deferred"]) == (1, 2)
    camp.at("2026-06-01 16:00:00-04")
    assert camp.tick()["processed"] == 0
    assert len(camp.sends(cid)) == 3


def test_the_daily_limit_only_counts_email_steps(camp: Campaigns) -> None:
    cid = camp.create(daily_send_limit=1)
    camp.step(cid, "task")
    camp.enroll(cid, camp.contacts(3))
    camp.activate(cid)
    tick = camp.tick()
    assert (tick["processed"], tick["deferred"], tick["completed"]) == (3, 0, 3)


# Skip conditions -------------------------------------------------------------


def test_a_skipped_step_moves_on_after_the_next_steps_delay(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid, skip_conditions=[{"field": "contact.title", "operator": "eq", "value": "CEO"}]
    )
    camp.email_step(cid, delay_hours=2)
    [ceo] = camp.contacts(1)
    camp.owner.execute("update app.contacts set title = 'CEO' where id = %s", (ceo,))
    camp.enroll(cid, [ceo])
    camp.activate(cid)
    tick = camp.tick()
    assert (tick["skipped"], tick["sent"]) == (1, 0)
    [e] = camp.enrollments(cid)
    assert (e["current_step"], e["steps_completed"], e["emails_sent"], e["next_step_at"]) == (
        1,
        1,
        0,
        utc("2026-06-01 16:00"),
    )
    camp.at("2026-06-01 12:00:00-04")
    assert camp.tick()["sent"] == 1


def test_a_skip_condition_over_a_group_reads_enrollment_and_contact(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid,
        skip_conditions=[
            {
                "all": [
                    {"field": "contact.status", "operator": "eq", "value": "customer"},
                    {"field": "emails_sent", "operator": "eq", "value": 0},
                ]
            }
        ],
    )
    customer, lead = camp.contacts(2)
    camp.owner.execute("update app.contacts set status = 'customer' where id = %s", (customer,))
    camp.enroll(cid, [customer, lead])
    camp.activate(cid)
    assert (camp.tick()["skipped"], len(camp.sends(cid))) == (1, 1)


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


# Errors ----------------------------------------------------------------------


def _bad_address(camp: Campaigns) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    cid = one_email_campaign(camp)
    [contact] = camp.contacts(1)
    camp.owner.execute("update app.contacts set email = 'bad@@x' where id = %s", (contact,))
    camp.enroll(cid, [contact])
    camp.activate(cid)
    [e] = camp.enrollments(cid)
    return cid, contact, e["id"]


def test_three_errors_in_a_row_pause_the_enrollment_and_tell_the_owner(camp: Campaigns) -> None:
    cid, _, eid = _bad_address(camp)
    assert camp.tick()["errored"] == 1
    e = camp.enrollment(eid)
    assert (e["status"], e["error_count"], e["next_step_at"]) == (
        "active",
        1,
        utc("2026-06-01 14:05"),
    )
    assert e["last_error"] == "invalid or missing email address 'bad@@x'"
    camp.at("2026-06-01 10:05:00-04")
    assert camp.tick()["errored"] == 1
    assert (camp.enrollment(eid)["error_count"], camp.enrollment(eid)["next_step_at"]) == (
        2,
        utc("2026-06-01 14:15"),
    )
    camp.at("2026-06-01 10:15:00-04")
    assert camp.tick()["errored"] == 1
    e = camp.enrollment(eid)
    assert (e["status"], e["stop_reason"], e["error_count"]) == ("paused", "errors", 3)
    assert [(log["status"], log["detail"]) for log in camp.logs(cid)] == [
        ("failed", "invalid or missing email address 'bad@@x'"),
        ("failed", "invalid or missing email address 'bad@@x'"),
        ("failed", "invalid or missing email address 'bad@@x' (3 errors in a row: paused)"),
    ]
    notes = camp.owner.execute(
        "select user_id, title from app.notifications "
        "where template_slug = 'campaign_enrollment_paused'"
    ).fetchall()
    assert notes == [(camp.admin_id, "Paused in Outreach: First1 Last1")]
    assert camp.sends(cid) == []
    camp.at("2026-06-01 11:00:00-04")
    assert camp.tick()["processed"] == 0
    c = camp.campaign(cid)
    assert (c["total_active"], c["total_paused"]) == (0, 1)


def test_resume_enrollment_resets_the_errors(camp: Campaigns) -> None:
    cid, contact, eid = _bad_address(camp)
    for at in ("10:00", "10:05", "10:15"):
        camp.at(f"2026-06-01 {at}:00-04")
        camp.tick()
    camp.owner.execute("update app.contacts set email = 'fixed@ex.test' where id = %s", (contact,))
    camp.at("2026-06-01 11:00:00-04")
    assert camp.one("select api.resume_enrollment(p_enrollment_id => %s)", (eid,)) is True
    e = camp.enrollment(eid)
    assert (e["status"], e["stop_reason"], e["error_count"], e["next_step_at"]) == (
        "active",
        None,
        0,
        utc("2026-06-01 15:00"),
    )
    assert camp.tick()["sent"] == 1
    assert [s["to_email"] for s in camp.sends(cid)] == ["fixed@ex.test"]
    assert camp.one("select api.resume_enrollment(p_enrollment_id => %s)", (eid,)) is False


def test_resuming_an_enrollment_of_a_paused_campaign_parks_it(camp: Campaigns) -> None:
    cid, contact, eid = _bad_address(camp)
    for at in ("10:00", "10:05", "10:15"):
        camp.at(f"2026-06-01 {at}:00-04")
        camp.tick()
    camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    camp.owner.execute("update app.contacts set email = 'fixed@ex.test' where id = %s", (contact,))
    assert camp.one("select api.resume_enrollment(p_enrollment_id => %s)", (eid,)) is True
    e = camp.enrollment(eid)
    assert (e["status"], e["stop_reason"], e["error_count"]) == ("paused", "campaign_paused", 0)
    camp.at("2026-06-01 11:00:00-04")
    assert (camp.tick()["processed"], camp.tick()["more_due"]) == (0, False)
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (cid,)) == 1
    assert camp.tick()["sent"] == 1


def test_a_campaign_pause_leaves_error_paused_enrollments_paused(camp: Campaigns) -> None:
    cid, _, eid = _bad_address(camp)
    for at in ("10:00", "10:05", "10:15"):
        camp.at(f"2026-06-01 {at}:00-04")
        camp.tick()
    assert camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,)) == 0
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (cid,)) == 0
    e = camp.enrollment(eid)
    assert (e["status"], e["stop_reason"]) == ("paused", "errors")


def test_a_success_resets_the_error_count(camp: Campaigns) -> None:
    _, contact, eid = _bad_address(camp)
    camp.tick()
    camp.at("2026-06-01 10:05:00-04")
    camp.tick()
    assert camp.enrollment(eid)["error_count"] == 2
    camp.owner.execute("update app.contacts set email = 'fixed@ex.test' where id = %s", (contact,))
    camp.at("2026-06-01 10:15:00-04")
    assert camp.tick()["sent"] == 1
    e = camp.enrollment(eid)
    assert (e["status"], e["error_count"]) == ("completed", 0)


def test_an_org_without_email_settings_counts_an_error(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.owner.execute("delete from app.email_settings where org_id = %s", (camp.org_id,))
    tick = camp.tick()
    assert (tick["errored"], tick["sent"]) == (1, 0)
    e = camp.enrollments(cid)[0]
    assert (e["error_count"], e["last_error"]) == (
        1,
        "email is not configured for this organization",
    )


def test_a_deleted_contact_stops_the_enrollment(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    gone, kept = camp.contacts(2)
    camp.enroll(cid, [gone, kept])
    camp.activate(cid)
    camp.owner.execute("update app.contacts set deleted_at = now() where id = %s", (gone,))
    tick = camp.tick()
    assert (tick["processed"], tick["sent"], tick["stopped"]) == (2, 1, 1)
    stopped = next(e for e in camp.enrollments(cid) if e["contact_id"] == gone)
    assert (stopped["status"], stopped["stop_reason"], stopped["next_step_at"]) == (
        "stopped",
        "contact_deleted",
        None,
    )
    logs = [
        (log["status"], log["detail"])
        for log in camp.logs(cid)
        if log["enrollment_id"] == stopped["id"]
    ]
    assert logs == [("stopped", "contact deleted")]
    assert camp.campaign(cid)["total_stopped"] == 1


def test_a_do_not_contact_contact_stops_the_enrollment(camp: Campaigns) -> None:
    cid = one_email_campaign(camp)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.owner.execute(
        "update app.contacts set status = 'do_not_contact' where id = %s", (contact,)
    )
    assert camp.tick()["stopped"] == 1
    e = camp.enrollments(cid)[0]
    assert (e["status"], e["stop_reason"]) == ("stopped", "do_not_contact")


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


@pytest.fixture
def boom(camp: Campaigns):
    # Citus takes triggers on distributed tables only so (as migrate does); on one
    # server the setting is a placeholder.
    camp.owner.execute("set citus.enable_unsafe_triggers = on")
    camp.owner.execute(
        "create function public.boom() returns trigger language plpgsql as $$ begin "
        "if new.subject like '%boom%' then raise exception 'boom trigger'; end if; "
        "return new; end $$"
    )
    camp.owner.execute(
        "create trigger boom before insert on app.activities for each row "
        "execute function public.boom()"
    )
    yield
    camp.owner.execute("drop trigger boom on app.activities")
    camp.owner.execute("drop function public.boom()")


def test_a_batch_that_raises_is_rerun_one_at_a_time(camp: Campaigns, boom: None) -> None:
    bad = camp.create(name="Bad")
    camp.step(bad, "task", task_config={"title": "boom"})
    good = camp.create(name="Good")
    camp.step(good, "task", task_config={"title": "fine"})
    camp.email_step(good, delay_days=1)
    camp.enroll(bad, camp.contacts(1, prefix="bad"))
    camp.enroll(good, camp.contacts(2, prefix="good"))
    camp.activate(bad)
    camp.activate(good)
    tick = camp.tick()
    assert (tick["processed"], tick["errored"]) == (3, 1)
    assert [(e["current_step"], e["tasks_created"]) for e in camp.enrollments(good)] == [(1, 1)] * 2
    [e] = camp.enrollments(bad)
    assert (e["status"], e["current_step"], e["error_count"]) == ("active", 0, 1)
    assert e["last_error"] == "boom trigger"
    assert e["next_step_at"] == utc("2026-06-01 14:05")
    assert [(log["status"], log["step_number"], log["detail"]) for log in camp.logs(bad)] == [
        ("failed", 1, "boom trigger")
    ]
    titles = camp.owner.execute(
        "select subject from app.activities where metadata ->> 'campaign_id' in (%s, %s)",
        (str(bad), str(good)),
    ).fetchall()
    assert titles == [("fine",), ("fine",)]
