"""The campaign part of ``intime demo``: the seed's criterion, end to end.

A campaign with a 4-step sequence (an intro email; a 30-minute wait; a LinkedIn
task for the owner; a follow-up email with two A/B variants) and ten
enrollments runs through on its own: the demo moves the application clock
(``app.fake_now``, a session setting honoured because the demo database allows
it) and calls ``api.tick_campaigns`` as the worker's minute job would, while the
real worker sends every queued email to the outbox. One contact replies (an
inbound email to the real web app) and stops; one's server refuses the address
and the relay's bounce report (a DSN, to the message's VERP Return-Path) stops
it; one is on vacation (an iCloud auto-reply): the enrollment pauses and resumes
the first working day after the return date, its next step rescheduled. The timeline and
``api.get_campaign_stats`` are printed. Every time it prints is on that fake clock,
in New York, with its date: the section's header says so.
"""

from __future__ import annotations

import mailbox
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, scalar
from intime_cli import demo_queries as dq
from intime_cli import queries as q
from intime_cli.demo_email import DEMO_INBOUND_TOKEN, _web
from intime_cli.demo_workflows import _background_worker
from intime_cli.seed import SeededOrg

# Monday 1 June 2026 in New York, five minutes before the send window opens.
START = "2026-06-01 08:55:00-04"
# When the replies, the bounce report and the vacation notice reach the web app.
ARRIVAL = "2026-06-01T09:05:00-04:00"
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
    now = conn.execute(dq.LOCAL_NOW).fetchone()
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
        "   campaign, 4 steps: 1 intro email -> 2 wait 30 min -> 3 LinkedIn task -> 4 (45 min "
        "later) a follow-up email, A/B variants A and B; window Mon-Fri 09:00-17:00 "
        "America/New_York"
    )
    print(f"   enroll_contacts: {enrolled}; activated (campaign_activated sent to the admin)")
    return campaign_id, contact_ids


def _post_mail(base: str, raw: str) -> dict[str, object]:
    response = httpx.post(
        f"{base}/webhooks/inbound",
        content=raw.encode(),
        headers={"content-type": "message/rfc822", "authorization": f"Bearer {DEMO_INBOUND_TOKEN}"},
        timeout=10,
    )
    answer: dict[str, object] = response.json()
    answer["status"] = response.status_code
    return answer


def _return_path(outbox: Path, message_id: str) -> str:
    """The envelope sender the worker gave a message (VERP), as the outbox recorded it."""
    for message in mailbox.Maildir(outbox):
        if message["Message-ID"] == message_id:
            return str(message["Return-Path"]).strip("<>")
    raise LookupError(f"{message_id} is not in the outbox")


def _dsn(return_path: str, recipient: str, message_id: str) -> str:
    """What Postfix sends back when the recipient's server says 550 5.1.1."""
    boundary = f"dsn-{uuid.uuid4().hex[:12]}"
    reply = f"550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"
    return (
        "Return-Path: <>\r\n"
        "From: MAILER-DAEMON@mx.prospects.example (Mail Delivery System)\r\n"
        f"To: {return_path}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Message-ID: <{boundary}@mx.prospects.example>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        "This is the mail system at host mx.prospects.example.\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients.\r\n\r\n"
        f"<{recipient}>: host mx.prospects.example said: {reply}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.prospects.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; {reply}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {message_id}\r\nTo: {recipient}\r\n"
        "Subject: Donald, a quick idea\r\n\r\n"
        f"--{boundary}--\r\n"
    )


def _reply_bounce_and_absence(
    service_dsn: str, conn: psycopg.Connection, org: SeededOrg, outbox: Path
) -> None:
    with actor(conn, org.org_id):
        rows = conn.execute(q.DEMO_CAMPAIGN_FIRST_SENDS, {"org_id": org.org_id}).fetchall()
    by_name = {to.split(".")[0]: (mid, to) for to, _, mid in rows}
    barbara, donald, edsger = by_name["barbara"], by_name["donald"], by_name["edsger"]
    # The web app's clock reads the demo's (a connection option, as a test would set it):
    # a return date in an out-of-office reply is read against the day it arrived.
    clocked = make_conninfo(service_dsn, options=f"-c app.fake_now={ARRIVAL}")
    with _web(clocked) as base:
        answer = _post_mail(
            base,
            f"Message-ID: <r-{uuid.uuid4().hex}@prospects.example>\r\nFrom: {barbara[1]}\r\n"
            f"In-Reply-To: {barbara[0]}\r\nSubject: Re: your note\r\n\r\nSure, call me.\r\n",
        )
        print(f"   Barbara replies (inbound email) -> {answer['status']} {answer['result']}")
        return_path = _return_path(outbox, donald[0])
        answer = _post_mail(base, _dsn(return_path, donald[1], donald[0]))
        print(
            f"   Donald's server refuses: the relay's bounce report (RFC 3464 DSN, 5.1.1) comes "
            f"back to the message's Return-Path {return_path.split('@')[0][:18]}...@... "
            f"-> {answer['status']} {answer['result']}, matched by {answer['match_method']}"
        )
        with actor(conn, org.org_id):
            status = conn.execute(
                q.DEMO_BOUNCED_SEND, {"org_id": org.org_id, "message_id": donald[0]}
            ).fetchone()
        assert status is not None
        print(
            f"     Donald's send: {status[0]} ({status[1]}, {status[2]}); "
            f"address suppressed: {status[3]}"
        )
        answer = _post_mail(
            base,
            f"Message-ID: <v-{uuid.uuid4().hex}@icloud.example>\r\nFrom: {edsger[1]}\r\n"
            f"In-Reply-To: {edsger[0]}\r\nReferences: {edsger[0]}\r\n"
            "Subject: Auto reply: Edsger, a quick idea\r\nX-Apple-Action: VACATION\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Thank you for your message. I am out of the office until Friday 5 June\r\n"
            "with limited access to email.\r\n",
        )
        print(
            f"   Edsger's iCloud vacation reply (no Auto-Submitted, X-Apple-Action: VACATION) "
            f"-> {answer['status']} {answer['result']}, auto-reply: {answer['is_auto_reply']}"
        )


def _print_absence(conn: psycopg.Connection, org: SeededOrg, campaign_id: uuid.UUID) -> None:
    with actor(conn, org.org_id):
        for name, status, reason, resume, due, step in conn.execute(
            q.DEMO_OUT_OF_OFFICE, {"campaign_id": campaign_id}
        ):
            print(
                f"     {name}: {status} ({reason}) until {resume}, the first working day after "
                f"the return date; step {step} rescheduled to {due}, not skipped"
            )


def _print_results(conn: psycopg.Connection, org: SeededOrg, campaign_id: uuid.UUID) -> None:
    with actor(conn, org.org_id, org.admin_id):
        cur = conn.cursor(row_factory=dict_row)
        people = cur.execute(q.DEMO_CAMPAIGN_ENROLLMENTS, {"campaign_id": campaign_id}).fetchall()
        print(
            "   timeline per enrollment (api.get_enrollment_timeline, in order, on the fake "
            "clock; the reply, the bounce report and the vacation notice came through the web "
            "app at Mon 01 Jun 09:05):"
        )
        for person in people:
            events = conn.execute(
                q.DEMO_ENROLLMENT_TIMELINE, {"enrollment_id": person["id"]}
            ).fetchall()
            steps = "  ".join(
                f"{at:%a %d %b %H:%M} {step}:{status}" + (f"[{variant}]" if variant else "")
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


def run_campaigns_demo(service_dsn: str, org: SeededOrg, outbox: Path, public_url: str) -> None:
    print(
        "\n== Campaigns: 10 enrollments through a 4-step sequence (the real worker sends; "
        "the demo moves a fake clock, app.fake_now, from Mon 1 Jun 2026 08:55 "
        "America/New_York: every time below is on it)"
    )
    with (
        _background_worker(service_dsn, outbox, public_url),
        psycopg.connect(service_dsn, autocommit=True) as conn,
    ):
        conn.execute(q.SET_FAKE_NOW, {"at": START})
        campaign_id, _ = _build(conn, org)
        _tick(conn, "before the window opens; the first steps are due at 09:00")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 09:00:00-04"})
        _tick(conn, "intro emails")
        _wait_sent(conn, org, campaign_id, 10)
        print("   the worker sent the 10 intro emails to the outbox")
        _reply_bounce_and_absence(service_dsn, conn, org, outbox)
        _print_absence(conn, org, campaign_id)
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 09:30:00-04"})
        _tick(conn, "the wait ends")
        _tick(conn, "LinkedIn tasks")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-01 10:15:00-04"})
        _tick(conn, "A/B follow-ups")
        _wait_sent(conn, org, campaign_id, 17)
        print("   the worker sent the 7 follow-ups")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-08 09:00:00-04"})
        _tick(conn, "Edsger is back: resumed, his wait step")
        _tick(conn, "his LinkedIn task")
        conn.execute(q.SET_FAKE_NOW, {"at": "2026-06-08 09:45:00-04"})
        _tick(conn, "his follow-up")
        _wait_sent(conn, org, campaign_id, 18)
        print("   the worker sent Edsger's follow-up")
        _print_results(conn, org, campaign_id)
        conn.execute(q.SET_FAKE_NOW, {"at": ""})
