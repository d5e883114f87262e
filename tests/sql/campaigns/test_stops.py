"""Stop rules and engagement: a human reply stops (honouring stop_on_reply,
also once the logs are archived), an auto-reply doesn't, a bounce, a complaint
and an unsubscribe stop at once, a stopped enrollment's queued email is not
sent, opens and clicks raise the engagement score, and the campaign totals
follow."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from tests.sql.campaigns.conftest import Campaigns
from tests.support import Mail


@pytest.fixture
def events(resend_events: list[dict]) -> dict[str, dict]:
    """The official Resend example payload of each event type."""
    out: dict[str, dict] = {}
    for e in resend_events:
        out.setdefault(e["type"], e["payload"])
    return out


class Run:
    """One campaign with its sent first step."""

    def __init__(self, camp: Campaigns, events: dict[str, dict], cid: uuid.UUID) -> None:
        self.camp = camp
        self.events = events
        self.cid = cid
        self.mail = Mail(camp.conn, camp.org_id, camp.admin_id)

    def send_of(self, contact_id: uuid.UUID) -> dict[str, Any]:
        [send] = [s for s in self.camp.sends(self.cid) if s["entity_id"] == contact_id]
        return send

    def enrollment_of(self, contact_id: uuid.UUID) -> dict[str, Any]:
        [e] = [e for e in self.camp.enrollments(self.cid) if e["contact_id"] == contact_id]
        return e

    def reply(self, contact_id: uuid.UUID, headers: dict[str, str] | None = None) -> dict:
        send = self.send_of(contact_id)
        with self.camp.conn.transaction():
            row = self.camp.conn.execute(
                "select result, match_method, is_auto_reply from api.record_inbound_email("
                "p_message_id => %s, p_from => %s, p_to => %s, p_subject => 'Re: hi', "
                "p_in_reply_to => %s, p_text => 'Sure, call me', p_headers => %s)",
                (
                    f"<{uuid.uuid4().hex}@client.example>",
                    send["to_email"],
                    [send["reply_to"]],
                    send["message_id"],
                    Jsonb(headers or {}),
                ),
            ).fetchone()
        assert row is not None
        return {"result": row[0], "method": row[1], "auto": row[2]}

    def event(self, contact_id: uuid.UUID, kind: str) -> str:
        send = self.send_of(contact_id)
        message_id = f"resend-{send['id']}"
        if send["provider_message_id"] is None:
            self.mail.sent(send["id"], message_id)
        payload = copy.deepcopy(self.events[kind])
        payload["data"]["email_id"] = message_id
        return self.mail.ingest(f"evt_{uuid.uuid4().hex}", payload)


def _run(
    camp: Campaigns, events: dict[str, dict], n: int = 2, **first: Any
) -> tuple[Run, list[uuid.UUID]]:
    cid = camp.create(name="Stops")
    camp.email_step(cid, **first)
    camp.email_step(cid, delay_days=1)
    contacts = camp.contacts(n)
    camp.enroll(cid, contacts)
    camp.activate(cid)
    assert camp.tick()["sent"] == n
    return Run(camp, events, cid), contacts


def _next_day(camp: Campaigns) -> dict[str, Any]:
    camp.at("2026-06-02 10:00:00-04")
    return camp.tick()


def test_a_human_reply_stops_the_enrollment_and_tells_the_owner(
    camp: Campaigns, events: dict[str, dict]
) -> None:
    run, (replier, _) = _run(camp, events)
    assert run.reply(replier) == {"result": "recorded", "method": "in_reply_to", "auto": False}
    e = run.enrollment_of(replier)
    assert (e["status"], e["stop_reason"], e["next_step_at"]) == ("replied", "reply", None)
    assert e["replied_at"] is not None
    stops = [
        (log["step_number"], log["status"], log["detail"])
        for log in camp.logs(run.cid)
        if log["enrollment_id"] == e["id"] and log["status"] != "sent"
    ]
    assert stops == [(1, "stopped", "replied: sequence stopped")]
    notes = camp.owner.execute(
        "select user_id, title, priority from app.notifications "
        "where template_slug = 'campaign_reply'"
    ).fetchall()
    assert notes == [(camp.admin_id, "First1 Last1 replied to Stops", "high")]
    assert _next_day(camp)["sent"] == 1
    assert [s["entity_id"] for s in camp.sends(run.cid)].count(replier) == 1
    c = camp.campaign(run.cid)
    assert (c["total_replied"], c["total_active"], c["total_completed"]) == (1, 0, 1)


def test_an_auto_reply_does_not_stop(camp: Campaigns, events: dict[str, dict]) -> None:
    run, (contact, _) = _run(camp, events)
    got = run.reply(contact, {"auto-submitted": "auto-replied"})
    assert (got["result"], got["auto"]) == ("recorded", True)
    e = run.enrollment_of(contact)
    assert (e["status"], e["replied_at"]) == ("active", None)
    assert _next_day(camp)["sent"] == 2
    assert camp.owner.execute(
        "select count(*) from app.notifications where template_slug = 'campaign_reply'"
    ).fetchone() == (0,)


def test_a_reply_to_a_step_that_does_not_stop_on_reply_keeps_it_running(
    camp: Campaigns, events: dict[str, dict]
) -> None:
    run, (contact, _) = _run(camp, events, stop_on_reply=False)
    run.reply(contact)
    e = run.enrollment_of(contact)
    assert (e["status"], e["stop_reason"]) == ("active", None)
    assert e["replied_at"] is not None
    [log] = [
        log
        for log in camp.logs(run.cid)
        if log["enrollment_id"] == e["id"] and log["status"] != "sent"
    ]
    assert (log["status"], log["detail"]) == (
        "completed",
        "replied (this step does not stop on reply)",
    )
    assert _next_day(camp)["sent"] == 2
    assert camp.campaign(run.cid)["total_replied"] == 0


def test_a_bounce_stops_at_once(camp: Campaigns, events: dict[str, dict]) -> None:
    run, (bouncer, _) = _run(camp, events)
    assert run.event(bouncer, "email.bounced") == "applied"
    e = run.enrollment_of(bouncer)
    assert (e["status"], e["stop_reason"], e["next_step_at"]) == ("bounced", "bounce", None)
    assert e["bounced_at"] is not None
    stops = [
        (log["status"], log["detail"], log["email_send_id"])
        for log in camp.logs(run.cid)
        if log["enrollment_id"] == e["id"] and log["status"] != "sent"
    ]
    assert stops == [("stopped", "bounced", run.send_of(bouncer)["id"])]
    assert _next_day(camp)["sent"] == 1
    c = camp.campaign(run.cid)
    assert (c["total_bounced"], c["total_active"]) == (1, 0)


def test_a_complaint_unsubscribes(camp: Campaigns, events: dict[str, dict]) -> None:
    run, (complainer, _) = _run(camp, events)
    assert run.event(complainer, "email.complained") == "applied"
    e = run.enrollment_of(complainer)
    assert (e["status"], e["stop_reason"], e["next_step_at"]) == ("unsubscribed", "complaint", None)
    assert e["unsubscribed_at"] is not None
    assert _next_day(camp)["sent"] == 1
    assert camp.campaign(run.cid)["total_unsubscribed"] == 1


def test_unsubscribing_stops_every_enrollment_of_the_address_in_the_org(
    camp: Campaigns, events: dict[str, dict]
) -> None:
    run, (leaver, stayer) = _run(camp, events)
    email = run.send_of(leaver)["to_email"]
    other = camp.create(name="Other")
    camp.email_step(other)
    camp.enroll(other, [leaver])
    camp.activate(other)
    b = camp.orgs.b
    b_contact = camp.one(
        "insert into app.contacts (first_name, last_name, email) values ('B', 'Twin', %s) "
        "returning id",
        (email,),
        user=b.admin_id,
        org_id=b.org_id,
    )
    b_campaign = camp.one(
        "select api.create_campaign(p_name => 'B''s')", user=b.admin_id, org_id=b.org_id
    )
    camp.call(
        "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'email', "
        "p_subject => 'x', p_body_html => 'y')",
        (b_campaign,),
        user=b.admin_id,
        org_id=b.org_id,
    )
    camp.call(
        "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
        (b_campaign, [b_contact]),
        user=b.admin_id,
        org_id=b.org_id,
    )
    camp.call(
        "select api.activate_campaign(p_campaign_id => %s)",
        (b_campaign,),
        user=b.admin_id,
        org_id=b.org_id,
    )
    token = run.send_of(leaver)["unsubscribe_token"]
    with camp.conn.transaction():
        row = camp.conn.execute(
            "select result from api.unsubscribe_recipient(p_token => %s)", (token,)
        ).fetchone()
    assert row == ("unsubscribed",)
    stopped = camp.owner.execute(
        "select e.campaign_id, e.status, e.stop_reason from app.campaign_enrollments as e "
        "where e.contact_id in (%s, %s, %s) order by e.enrolled_at, e.campaign_id",
        (leaver, stayer, b_contact),
    ).fetchall()
    assert sorted(stopped) == sorted(
        [
            (run.cid, "unsubscribed", "unsubscribe"),
            (run.cid, "active", None),
            (other, "unsubscribed", "unsubscribe"),
            (b_campaign, "active", None),  # the same address in org B
        ]
    )
    assert camp.campaign(run.cid)["total_unsubscribed"] == 1
    assert camp.campaign(other)["total_unsubscribed"] == 1
    logs = [(log["status"], log["detail"]) for log in camp.logs(other)]
    assert logs == [("stopped", "suppressed: unsubscribe")]


def test_opens_and_clicks_raise_the_engagement_score_capped_at_100(
    camp: Campaigns, events: dict[str, dict]
) -> None:
    run, (reader, clicker) = _run(camp, events)
    run.event(reader, "email.opened")
    e = run.enrollment_of(reader)
    assert (e["engagement_score"], e["first_clicked_at"]) == (10, None)
    assert e["first_opened_at"] is not None
    run.event(reader, "email.opened")
    assert run.enrollment_of(reader)["engagement_score"] == 20
    for _ in range(3):
        run.event(clicker, "email.clicked")
    e = run.enrollment_of(clicker)
    assert e["engagement_score"] == 75
    assert e["first_clicked_at"] is not None
    run.event(clicker, "email.clicked")
    run.event(clicker, "email.opened")
    assert run.enrollment_of(clicker)["engagement_score"] == 100
    c = camp.campaign(run.cid)
    assert (c["total_opened"], c["total_clicked"]) == (2, 1)
    assert {e["status"] for e in camp.enrollments(run.cid)} == {"active"}


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
