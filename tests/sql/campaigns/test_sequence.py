"""The seed's criterion and the tick's step kinds: enrollments run through a
sequence with the fake clock; every log line and counter is right. Delays
across a DST change, contact data rendered as text, and only the engine ties
an email to an enrollment."""

from __future__ import annotations

import uuid

import pytest

from intime.errors import PermissionDeniedError
from tests.sql.campaigns.conftest import Campaigns


def _three_step(camp: Campaigns) -> uuid.UUID:
    """email → wait 30 min → LinkedIn task → follow-up email with A/B arms."""
    cid = camp.create(name="Q3 outreach", daily_send_limit=None)
    camp.email_step(cid)
    camp.step(cid, "wait", delay_minutes=30)
    camp.step(cid, "linkedin", task_config={"title": "Connect with {{contact.first_name}}"})
    camp.email_step(
        cid,
        delay_minutes=10,
        subject=None,
        body_html=None,
        ab_variants=[
            {"id": "A", "subject": "Following up", "body_html": "<p>A {{contact.first_name}}</p>"},
            {"id": "B", "subject": "Quick question", "body_html": "<p>B {{contact.last_name}}</p>"},
        ],
    )
    return cid


def test_ten_enrollments_run_through_the_sequence_with_the_fake_clock(camp: Campaigns) -> None:
    cid = _three_step(camp)
    contacts = camp.contacts(10)
    assert camp.enroll(cid, contacts)["enrolled"] == 10
    camp.activate(cid)

    first = camp.tick()
    assert (first["processed"], first["sent"], first["more_due"]) == (10, 10, False)
    assert len(camp.jobs()) == 10
    assert camp.tick()["processed"] == 0  # nothing is due until the wait ends

    camp.at("2026-06-01 10:30:00-04")
    assert camp.tick()["processed"] == 10  # the wait step
    assert camp.tick()["processed"] == 10  # the LinkedIn step follows at once
    camp.at("2026-06-01 10:40:00-04")
    last = camp.tick()
    assert (last["processed"], last["sent"], last["completed"]) == (10, 10, 10)

    enrollments = camp.enrollments(cid)
    assert {e["status"] for e in enrollments} == {"completed"}
    assert {(e["current_step"], e["emails_sent"], e["linkedin_sent"]) for e in enrollments} == {
        (4, 2, 1)
    }
    logs = camp.logs(cid)
    assert [
        sum(1 for log in logs if log["step_number"] == n and log["status"] == status)
        for n, status in ((1, "sent"), (2, "completed"), (3, "sent"), (4, "sent"))
    ] == [10, 10, 10, 10]
    assert len(logs) == 40
    c = camp.campaign(cid)
    assert (c["total_enrolled"], c["total_completed"], c["total_active"], c["total_sent"]) == (
        10,
        10,
        0,
        20,
    )
    assert c["total_tasks"] == 10
    assert len(camp.jobs()) == 20


def test_a_campaigns_linkedin_tasks_send_its_owner_no_task_assigned(camp: Campaigns) -> None:
    """The owner set the sequence up: its step tasks are the owner's own (docs/notifications.md)."""
    cid = camp.create(name="Quiet tasks", daily_send_limit=None)
    camp.step(cid, "linkedin", task_config={"title": "Connect"})
    camp.enroll(cid, camp.contacts(3))
    camp.activate(cid)
    assert camp.tick()["processed"] == 3
    row = camp.owner.execute(
        "select (select count(*) from app.activities a where a.metadata ->> 'campaign_id' = %s), "
        "(select count(*) from app.notifications n join app.activities a "
        "on a.org_id = n.org_id and a.id = n.entity_id "
        "where n.template_slug = 'task_assigned' and a.metadata ->> 'campaign_id' = %s)",
        (str(cid), str(cid)),
    ).fetchone()
    assert row == (3, 0)


def test_an_email_step_renders_the_contact_and_campaign_variables(camp: Campaigns) -> None:
    cid = camp.create(name="Intro <b>")
    camp.email_step(
        cid,
        subject="{{ contact.first_name }}, about {{campaign.name}}",
        body_html="<p>{{contact.full_name}} / {{contact.company}} / {{sender.name}}</p>",
        body_text="Hi {{contact.first_name}}",
    )
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set company_name = 'A&B <Co>' where id = %s", (contact,)
    )
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert send["subject"] == "First1, about Intro <b>"
    assert send["html_body"] == (
        "<p>First1 Last1 / A&amp;B &lt;Co&gt; / Acme-a Admin</p>".replace(
            "Acme-a Admin",
            camp.one("select full_name from app.user_profiles where id = %s", (camp.admin_id,)),
        )
    )
    assert send["text_body"] == "Hi First1"
    assert send["category"] == "campaign"
    assert send["status"] == "queued"
    assert send["reply_to"].startswith("reply+")
    [job] = camp.jobs()
    assert job["email_send_id"] == str(send["id"])
    assert job["dedupe_key"] == f"email.send:{send['id']}"


def test_linkedin_phone_and_task_steps_create_activities_for_the_owner(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "linkedin")
    camp.step(cid, "phone", task_config={"title": "Discovery", "priority": "high"})
    camp.step(cid, "task", task_config={"title": "Research", "due_hours": 48})
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    for _ in range(3):
        camp.tick()
    rows = camp.owner.execute(
        "select type, subject, status, priority, assignee_id, due_date - created_at, "
        "metadata ->> 'channel' from app.activities where entity_id = %s order by created_at, "
        "subject",
        (contact,),
    ).fetchall()
    owner = camp.admin_id
    hours = {r[1]: r[5].total_seconds() / 3600 for r in rows}
    assert sorted((r[0], r[1], r[2], r[3], r[4], r[6]) for r in rows) == sorted(
        [
            ("task", "LinkedIn: Send LinkedIn message", "open", "normal", owner, "linkedin"),
            ("call", "Call: Discovery", "scheduled", "high", owner, "phone"),
            ("task", "Research", "open", "normal", owner, "task"),
        ]
    )
    assert hours["Research"] == pytest.approx(48, abs=0.01)
    assert hours["Call: Discovery"] == pytest.approx(24, abs=0.01)


def test_an_sms_step_is_skipped_without_a_provider(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "sms")
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    assert camp.tick()["skipped"] == 1
    [log] = camp.logs(cid)
    assert (log["status"], log["detail"]) == ("skipped", "skipped: no sms provider configured")
    assert camp.enrollments(cid)[0]["status"] == "completed"


def test_a_skip_condition_on_the_enrollment_skips_the_step(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(
        cid, skip_conditions=[{"field": "engagement_score", "operator": "gte", "value": 10}]
    )
    contacts = camp.contacts(2)
    camp.enroll(cid, contacts)
    camp.activate(cid)
    camp.tick()
    engaged = camp.enrollments(cid)[0]
    camp.owner.execute(
        "update app.campaign_enrollments set engagement_score = 35 where id = %s",
        (engaged["id"],),
    )
    second = camp.tick()
    assert (second["sent"], second["skipped"]) == (1, 1)
    skipped = [log for log in camp.logs(cid) if log["status"] == "skipped"]
    assert [(log["enrollment_id"], log["detail"]) for log in skipped] == [
        (engaged["id"], "skipped: a skip condition holds")
    ]


def test_a_skip_condition_can_read_the_contact(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid, skip_conditions=[{"field": "contact.title", "operator": "eq", "value": "CEO"}]
    )
    ceo, other = camp.contacts(2)
    camp.owner.execute("update app.contacts set title = 'CEO' where id = %s", (ceo,))
    camp.enroll(cid, [ceo, other])
    camp.activate(cid)
    assert (camp.tick()["skipped"], len(camp.sends(cid))) == (1, 1)


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
    assert str(local[0]) == "2026-03-08 16:30:00"


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
