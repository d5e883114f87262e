"""The campaign part of ``intime demo``: the seed's criterion, end to end.

A campaign with a 3-step sequence (an intro email; a 30-minute wait, then a
LinkedIn task for the owner; a follow-up email with two A/B variants) and ten
enrollments runs through on its own: the demo moves the application clock
(``app.fake_now``, a session setting honoured because the demo database allows
it) and calls ``api.tick_campaigns`` as the worker's minute job would, while the
real worker sends every queued email to the outbox. One contact replies (an
inbound email to the real web app) and stops; one bounces (a signed Resend
webhook) and stops. The timeline and ``api.get_campaign_stats`` are printed.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, scalar
from intime_cli import queries as q
from intime_cli.demo_email import DEMO_INBOUND_TOKEN, _event, _signed_post, _web
from intime_cli.demo_workflows import _background_worker
from intime_cli.seed import SeededOrg

# Monday 1 June 2026 in New York, five minutes before the send window opens.
START = "2026-06-01 08:55:00-04"
CONTACTS = (
    ("Ada", "Byron"),
    ("Barbara", "Liskov"),
    ("Claude", "Shannon"),
    ("Donald", "Knuth"),
    ("Edsger", "Dijkstra"),
    ("Frances", "Allen"),
    ("Grace", "Murray"),
    ("Hedy", "Lamarr"),
    ("Ivan", "Sutherland"),
    ("John", "Backus"),
)


def _tick(conn: psycopg.Connection, label: str) -> None:
    with conn.transaction():
        row = conn.execute(q.DEMO_CAMPAIGN_TICK).fetchone()
    assert row is not None
    now = conn.execute(q.DEMO_LOCAL_NOW).fetchone()
    assert now is not None
    processed, sent, skipped, deferred, completed, stopped, ms = row
    print(
        f"   {now[0]}  tick ({label}): {processed} due -> {sent} run, {skipped} skipped, "
        f"{deferred} deferred, {completed} completed, {stopped} stopped  [{ms} ms]"
    )


def _wait_sent(conn: psycopg.Connection, org: SeededOrg, campaign_id: uuid.UUID, n: int) -> None:
    """Until the worker has sent n emails of the campaign (status no longer queued). A
    send whose job was handed to another attempt waits out its lease (120 s) first."""
    deadline = time.monotonic() + 180
    while True:
        with actor(conn, org.org_id):
            row = conn.execute(q.DEMO_CAMPAIGN_SENT, {"campaign_id": campaign_id}).fetchone()
        if row is not None and row[0] >= n:
            return
        if time.monotonic() > deadline:
            # Say why, for whoever reads a failed run: each pending send and its job.
            with actor(conn, org.org_id):
                pending = conn.execute(
                    q.DEMO_CAMPAIGN_PENDING, {"campaign_id": campaign_id}
                ).fetchall()
            raise TimeoutError(
                f"the worker sent {row[0] if row else 0} of {n} campaign emails; pending "
                "(status, attempts, error, lease s, job, job attempts, job due in s, "
                f"heartbeat age s): {pending}"
            )
        time.sleep(0.05)


def _build(conn: psycopg.Connection, org: SeededOrg) -> tuple[uuid.UUID, list[uuid.UUID]]:
    domain = f"prospects.{org.slug}.example"
    with actor(conn, org.org_id, org.admin_id):
        contact_ids = [
            scalar(
                conn.execute(
                    q.INSERT_CONTACT,
                    {
                        "first_name": first,
                        "last_name": last,
                        "email": f"{first.lower()}.{last.lower()}@{domain}",
                        "account_id": None,
                        "owner_id": org.rep_ids[0],
                        "timezone": "America/New_York",
                    },
                )
            )
            for first, last in CONTACTS
        ]
        campaign_id = scalar(
            conn.execute(
                q.CREATE_CAMPAIGN,
                {
                    "name": "Q3 platform outreach",
                    "start": "09:00",
                    "end": "17:00",
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "timezone": "America/New_York",
                    "daily_limit": 200,
                    "min_sample": 100,
                },
            )
        )
        ids = {"campaign_id": campaign_id}
        conn.execute(
            q.ADD_EMAIL_STEP,
            {
                **ids,
                "delay_minutes": 0,
                "subject": "{{contact.first_name}}, a quick idea",
                "body_html": "<p>Hi {{contact.first_name}},</p><p>{{sender.name}} here...</p>",
                "ab_variants": None,
            },
        )
        conn.execute(
            q.ADD_TASK_STEP,
            {**ids, "channel": "wait", "delay_minutes": 30, "task_config": Jsonb({})},
        )
        conn.execute(
            q.ADD_TASK_STEP,
            {
                **ids,
                "channel": "linkedin",
                "delay_minutes": 0,
                "task_config": Jsonb({"title": "Connect and mention the email"}),
            },
        )
        conn.execute(
            q.ADD_EMAIL_STEP,
            {
                **ids,
                "delay_minutes": 45,
                "subject": None,
                "body_html": None,
                "ab_variants": Jsonb(
                    [
                        {
                            "id": "A",
                            "subject": "Following up, {{contact.first_name}}",
                            "body_html": "<p>Any thoughts on my last note?</p>",
                        },
                        {
                            "id": "B",
                            "subject": "15 minutes this week?",
                            "body_html": "<p>{{contact.first_name}}, worth a short call?</p>",
                        },
                    ]
                ),
            },
        )
        enrolled = scalar(conn.execute(q.ENROLL_CONTACTS, {**ids, "contact_ids": contact_ids}))
        conn.execute(q.ACTIVATE_CAMPAIGN, ids)
    print(
        "   campaign: 1 intro email -> wait 30 min -> LinkedIn task -> 45 min later a follow-up "
        "email, A/B variants A and B; window Mon-Fri 09:00-17:00 America/New_York"
    )
    print(f"   enroll_contacts: {enrolled}; activated (campaign_activated sent to the admin)")
    return campaign_id, contact_ids


def _reply_and_bounce(service_dsn: str, conn: psycopg.Connection, org: SeededOrg) -> None:
    with actor(conn, org.org_id):
        rows = conn.execute(q.DEMO_CAMPAIGN_FIRST_SENDS, {"org_id": org.org_id}).fetchall()
    by_name = {to.split(".")[0]: (pmid, mid, to) for to, pmid, mid in rows}
    barbara, donald = by_name["barbara"], by_name["donald"]
    with _web(service_dsn) as base:
        raw = (
            f"Message-ID: <r-{uuid.uuid4().hex}@prospects.example>\r\nFrom: {barbara[2]}\r\n"
            f"In-Reply-To: {barbara[1]}\r\nSubject: Re: your note\r\n\r\nSure, call me.\r\n"
        )
        response = httpx.post(
            f"{base}/webhooks/inbound",
            content=raw.encode(),
            headers={
                "content-type": "message/rfc822",
                "authorization": f"Bearer {DEMO_INBOUND_TOKEN}",
            },
            timeout=10,
        )
        print(
            f"   Barbara replies (inbound email) -> {response.status_code} "
            f"{response.json()['result']}"
        )
        bounce = _event("email.bounced", donald[0], bounce={"type": "Permanent"})
        print(
            f"   Donald's address bounces (signed Resend webhook) -> {_signed_post(base, bounce)}"
        )


def _print_results(conn: psycopg.Connection, org: SeededOrg, campaign_id: uuid.UUID) -> None:
    with actor(conn, org.org_id, org.admin_id):
        cur = conn.cursor(row_factory=dict_row)
        people = cur.execute(q.DEMO_CAMPAIGN_ENROLLMENTS, {"campaign_id": campaign_id}).fetchall()
        print(
            "   timeline per enrollment (api.get_enrollment_timeline; the reply and the bounce "
            "came through the web app, on the real clock):"
        )
        for person in people:
            events = conn.execute(
                q.DEMO_ENROLLMENT_TIMELINE, {"enrollment_id": person["id"]}
            ).fetchall()
            steps = "  ".join(
                f"{at:%a %H:%M} {step}:{status}" + (f"[{variant}]" if variant else "")
                for at, step, status, variant in events
            )
            print(f"     {person['name']:<18} {person['status']:<10} {steps}")
        print("   api.get_campaign_stats:")
        print(
            "     scope     step channel   arm  enrolled sent deliv opened click reply "
            "bounce unsub done"
        )
        for row in cur.execute(q.DEMO_CAMPAIGN_STATS, {"campaign_id": campaign_id}):
            print(
                "     {scope:<9} {step:>4} {channel:<9} {arm:<4} {enrolled:>8} {sent:>4} "
                "{delivered:>5} {opened:>6} {clicked:>5} {replied:>5} {bounced:>6} "
                "{unsubscribed:>5} {completed:>4}".format(
                    scope=row["scope"],
                    step=row["step_number"] or "",
                    channel=row["channel"] or "",
                    arm=row["ab_variant"] or "",
                    enrolled="" if row["enrolled"] is None else row["enrolled"],
                    **{
                        k: row[k]
                        for k in (
                            "sent",
                            "delivered",
                            "opened",
                            "clicked",
                            "replied",
                            "bounced",
                            "unsubscribed",
                            "completed",
                        )
                    },
                )
            )
        tasks = conn.execute(q.DEMO_CAMPAIGN_TASKS, {"campaign_id": str(campaign_id)}).fetchone()
        notes = conn.execute(
            q.DEMO_CAMPAIGN_NOTIFICATIONS, {"user_id": org.admin_id, "name": "Q3 platform outreach"}
        ).fetchall()
    assert tasks is not None
    print(f'   LinkedIn tasks for the owner: {tasks[0]} (e.g. "{tasks[1]}")')
    print("   owner's campaign notifications: " + "; ".join(n[0] for n in notes))


def run_campaigns_demo(service_dsn: str, org: SeededOrg, outbox: Path) -> None:
    print(
        "\n== Campaigns: 10 enrollments through a 3-step sequence "
        "(the demo advances the fake clock; the real worker sends)"
    )
    with (
        _background_worker(service_dsn, outbox),
        psycopg.connect(service_dsn, autocommit=True) as conn,
    ):
        conn.execute(q.SET_FAKE_NOW, {"at": START})
        campaign_id, _ = _build(conn, org)
        _tick(conn, "before the window opens; the first steps are due at 09:00")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 09:00:00-04"})
        _tick(conn, "intro emails")
        _wait_sent(conn, org, campaign_id, 10)
        print("   the worker sent the 10 intro emails to the outbox")
        _reply_and_bounce(service_dsn, conn, org)
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 09:30:00-04"})
        _tick(conn, "the wait ends")
        _tick(conn, "LinkedIn tasks")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 10:15:00-04"})
        _tick(conn, "A/B follow-ups")
        _wait_sent(conn, org, campaign_id, 18)
        print("   the worker sent the 8 follow-ups")
        _print_results(conn, org, campaign_id)
        conn.execute(q.SET_FAKE_NOW, {"at": ""})
