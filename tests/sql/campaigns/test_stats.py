"""api.get_campaign_stats against counts derived in the test from the
enrollments, the step logs and the email sends; the timeline; the archive."""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.sql.campaigns.conftest import Campaigns
from tests.support import Mail

FIELDS = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "replied",
    "bounced",
    "unsubscribed",
    "completed",
)


@pytest.fixture
def events(resend_events: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for e in resend_events:
        out.setdefault(e["type"], e["payload"])
    return out


def _event(camp: Campaigns, events: dict[str, dict], send: dict[str, Any], kind: str) -> None:
    mail = Mail(camp.conn, camp.org_id, camp.admin_id)
    message_id = f"resend-{send['id']}"
    if camp.owner.execute(
        "select provider_message_id is null from app.email_sends where id = %s", (send["id"],)
    ).fetchone() == (True,):
        mail.sent(send["id"], message_id)
    payload = copy.deepcopy(events[kind])
    payload["data"]["email_id"] = message_id
    assert mail.ingest(f"evt_{uuid.uuid4().hex}", payload) == "applied"


def _reply(camp: Campaigns, send: dict[str, Any]) -> None:
    with camp.conn.transaction():
        camp.conn.execute(
            "select api.record_inbound_email(p_message_id => %s, p_from => %s, "
            "p_in_reply_to => %s, p_text => 'yes')",
            (f"<{uuid.uuid4().hex}@client.example>", send["to_email"], send["message_id"]),
        )


@pytest.fixture
def run(camp: Campaigns, events: dict[str, dict]) -> uuid.UUID:
    """The seed's criterion: 10 enrollments through email → wait → LinkedIn →
    A/B follow-up, with deliveries, opens, clicks (one without an open), a
    reply, a bounce and an unsubscribe after the first email."""
    cid = camp.create(name="Q3 outreach")
    camp.email_step(cid)
    camp.step(cid, "wait", delay_minutes=30)
    camp.step(cid, "linkedin")
    camp.email_step(
        cid,
        delay_minutes=10,
        subject=None,
        body_html=None,
        ab_variants=[
            {"id": "A", "subject": "Following up", "body_html": "<p>A</p>"},
            {"id": "B", "subject": "Quick question", "body_html": "<p>B</p>"},
        ],
    )
    assert camp.enroll(cid, camp.contacts(10))["enrolled"] == 10
    camp.activate(cid)
    assert camp.tick()["sent"] == 10
    first = camp.sends(cid)
    for i in (0, 1, 2):
        _event(camp, events, first[i], "email.delivered")
        _event(camp, events, first[i], "email.opened")
    _event(camp, events, first[1], "email.clicked")
    _event(camp, events, first[3], "email.clicked")  # images blocked: a click, no open
    _reply(camp, first[4])
    _event(camp, events, first[5], "email.bounced")
    with camp.conn.transaction():
        camp.conn.execute(
            "select api.unsubscribe_recipient(p_token => %s)", (first[6]["unsubscribe_token"],)
        )
    camp.at("2026-06-01 10:30:00-04")
    camp.tick()
    camp.tick()
    camp.at("2026-06-01 10:40:00-04")
    assert camp.tick()["sent"] == 7
    second = [s for s in camp.sends(cid) if s["variables"]["step_number"] == 4]
    _event(camp, events, second[0], "email.opened")
    _event(camp, events, second[1], "email.clicked")
    return cid


def derived_campaign(camp: Campaigns, cid: uuid.UUID) -> dict[str, int]:
    e = camp.owner.execute(
        "select count(*), count(*) filter (where first_opened_at is not null "
        "or first_clicked_at is not null), count(*) filter (where first_clicked_at is not null), "
        "count(*) filter (where status = 'replied'), count(*) filter (where status = 'bounced'), "
        "count(*) filter (where status = 'unsubscribed'), "
        "count(*) filter (where status = 'completed') "
        "from app.campaign_enrollments where campaign_id = %s",
        (cid,),
    ).fetchone()
    logs = camp.owner.execute(
        "select count(*) filter (where l.status = 'sent'), count(*) filter (where l.status = "
        "'sent' and (m.delivered_at is not null or m.first_opened_at is not null "
        "or m.first_clicked_at is not null)) "
        "from (select * from app.campaign_sequence_logs union all "
        "select l.org_id, l.id, l.campaign_id, l.enrollment_id, l.sequence_id, l.step_number, "
        "l.channel, l.status, l.detail, l.ab_variant, l.email_send_id, l.activity_id, "
        "l.scheduled_at, l.sent_at, l.created_at from app.campaign_sequence_logs_archive as l) "
        "as l left join app.email_sends as m on m.id = l.email_send_id "
        "where l.campaign_id = %s and l.channel = 'email'",
        (cid,),
    ).fetchone()
    assert e is not None
    assert logs is not None
    return dict(
        zip(
            ("enrolled", "sent", "delivered", *FIELDS[2:]),
            (e[0], logs[0], logs[1], e[1], e[2], e[3], e[4], e[5], e[6]),
            strict=True,
        )
    )


def derived_steps(camp: Campaigns, cid: uuid.UUID) -> dict[tuple[int, str | None], dict[str, int]]:
    """Per step (variant None) and per A/B variant, from the logs of step runs
    and their sends, counted in Python."""
    logs = camp.owner.execute(
        "select step_number, ab_variant, status, email_send_id from app.campaign_sequence_logs "
        "where campaign_id = %s and sequence_id is not null "
        "union all select step_number, ab_variant, status, email_send_id "
        "from app.campaign_sequence_logs_archive "
        "where campaign_id = %s and sequence_id is not null",
        (cid, cid),
    ).fetchall()
    sends = {s["id"]: s for s in camp.sends(cid)}
    unsubscribed = Counter(
        (e["current_step"], v)
        for e in camp.enrollments(cid)
        if e["status"] == "unsubscribed"
        for v in (None, e["ab_variant"])
    )
    out: dict[tuple[int, str | None], dict[str, int]] = {}
    for step, variant, status, send_id in logs:
        keys = [(step, None)] + ([(step, variant)] if variant is not None else [])
        m = sends.get(send_id)
        for key in keys:
            row = out.setdefault(key, dict.fromkeys(FIELDS, 0))
            if status in ("sent", "skipped", "completed"):
                row["completed"] += 1
            if status != "sent":
                continue
            row["sent"] += 1
            if m is None:
                continue
            row["delivered"] += m["delivered_at"] is not None or m["status"] in (
                "delivered",
                "opened",
                "clicked",
            )
            row["opened"] += m["first_opened_at"] is not None or m["first_clicked_at"] is not None
            row["clicked"] += m["first_clicked_at"] is not None
            row["replied"] += m["replied_at"] is not None
            row["bounced"] += m["status"] == "bounced"
    for key, row in out.items():
        row["unsubscribed"] = unsubscribed.get(key, 0)
    return out


def stats_by_key(camp: Campaigns, cid: uuid.UUID) -> tuple[dict, dict]:
    rows = camp.stats(cid)
    [campaign] = [r for r in rows if r["scope"] == "campaign"]
    steps = {
        (r["step_number"], r["ab_variant"]): {f: r[f] for f in FIELDS}
        for r in rows
        if r["scope"] != "campaign"
    }
    return {k: campaign[k] for k in ("enrolled", *FIELDS)}, steps


def test_the_campaign_row_equals_the_enrollments_and_logs(camp: Campaigns, run: uuid.UUID) -> None:
    campaign, _ = stats_by_key(camp, run)
    assert campaign == derived_campaign(camp, run)
    assert campaign == {
        "enrolled": 10,
        "sent": 17,
        "delivered": 6,  # 3 delivered and a click on step 1, an open and a click on step 4
        "opened": 4,  # enrollments: the step 4 events hit two of the step 1 openers
        "clicked": 2,
        "replied": 1,
        "bounced": 1,
        "unsubscribed": 1,
        "completed": 7,
    }


def test_step_and_variant_rows_equal_the_logs_joined_to_the_sends(
    camp: Campaigns, run: uuid.UUID
) -> None:
    _, steps = stats_by_key(camp, run)
    assert steps == derived_steps(camp, run)
    assert steps[(1, None)] == {
        "sent": 10,
        "delivered": 4,
        "opened": 4,
        "clicked": 2,
        "replied": 1,
        "bounced": 1,
        "unsubscribed": 1,
        "completed": 10,
    }
    assert (steps[(2, None)]["sent"], steps[(2, None)]["completed"]) == (0, 7)
    assert (steps[(3, None)]["sent"], steps[(3, None)]["completed"]) == (7, 7)
    variants = {k[1]: v["sent"] for k, v in steps.items() if k[0] == 4 and k[1] is not None}
    assert sum(variants.values()) == 7 == steps[(4, None)]["sent"]


def test_a_reply_that_does_not_stop_is_not_a_step_run(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid, stop_on_reply=False)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    _reply(camp, send)
    _, steps = stats_by_key(camp, cid)
    assert steps[(1, None)] == derived_steps(camp, cid)[(1, None)]
    assert (steps[(1, None)]["completed"], steps[(1, None)]["replied"]) == (1, 1)


def test_the_ten_enrollments_of_the_seed_criterion(camp: Campaigns, run: uuid.UUID) -> None:
    statuses = Counter(e["status"] for e in camp.enrollments(run))
    assert statuses == {"completed": 7, "replied": 1, "bounced": 1, "unsubscribed": 1}
    completed = [e for e in camp.enrollments(run) if e["status"] == "completed"]
    assert {
        (e["current_step"], e["emails_sent"], e["linkedin_sent"], e["ab_variant"] is not None)
        for e in completed
    } == {(4, 2, 1, True)}
    c = camp.campaign(run)
    assert (c["total_sent"], c["total_tasks"], c["total_active"]) == (17, 7, 0)


def test_the_timeline_is_in_order(camp: Campaigns, run: uuid.UUID) -> None:
    by_email = {e["email"]: e for e in camp.enrollments(run)}
    done = next(e for e in by_email.values() if e["status"] == "completed")
    replied = next(e for e in by_email.values() if e["status"] == "replied")
    timeline = camp.call(
        "select * from api.get_enrollment_timeline(p_enrollment_id => %s)", (done["id"],)
    )
    assert [(r["step_number"], r["channel"], r["status"]) for r in timeline] == [
        (1, "email", "sent"),
        (2, "wait", "completed"),
        (3, "linkedin", "sent"),
        (4, "email", "sent"),
    ]
    assert [r["at"] for r in timeline] == sorted(r["at"] for r in timeline)
    timeline = camp.call(
        "select * from api.get_enrollment_timeline(p_enrollment_id => %s)", (replied["id"],)
    )
    assert [(r["step_number"], r["status"], r["detail"]) for r in timeline] == [
        (1, "sent", None),
        (1, "stopped", "replied: sequence stopped"),
    ]


def test_archiving_moves_old_logs_and_keeps_the_stats(camp: Campaigns, run: uuid.UUID) -> None:
    before = camp.stats(run)
    count = len(camp.logs(run))
    camp.at("2026-08-30 09:00:00-04")  # 90 days back is before the first log
    with camp.conn.transaction():
        moved = camp.conn.execute("select api.archive_campaign_logs()").fetchone()
    assert moved == (0,)
    camp.at("2026-09-01 12:00:00-04")
    with camp.conn.transaction():
        moved = camp.conn.execute("select api.archive_campaign_logs()").fetchone()
    assert moved == (count,)
    assert camp.logs(run) == []
    archived = camp.owner.execute(
        "select count(*) from app.campaign_sequence_logs_archive where campaign_id = %s", (run,)
    ).fetchone()
    assert archived == (count,)
    assert camp.stats(run) == before
    assert stats_by_key(camp, run)[1] == derived_steps(camp, run)
