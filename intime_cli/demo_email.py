"""The email part of ``intime demo``: queue, send to the outbox, then drive the
real web app over HTTP with signed Resend events and inbound replies.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from psycopg.types.json import Jsonb
from svix.webhooks import Webhook

from intime.db import actor, scalar
from intime_cli import queries as q
from intime_cli.seed import SeededOrg
from intime_cli.serving import serve_in_thread

# A demo-only secret and token; production reads them from the environment.
DEMO_SECRET = "whsec_ZGVtby1zZWNyZXQtZm9yLWludGltZS1kZW1v"  # noqa: S105
DEMO_INBOUND_TOKEN = "demo-inbound-token"  # noqa: S105


@contextmanager
def _web(service_dsn: str) -> Iterator[str]:
    from web.app import create_app

    app = create_app(service_dsn, resend_secrets=(DEMO_SECRET,), inbound_token=DEMO_INBOUND_TOKEN)
    with serve_in_thread(app) as base:
        yield base


def _signed_post(base: str, event: dict[str, object]) -> str:
    body = json.dumps(event)
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    headers = {
        "svix-id": msg_id,
        "svix-timestamp": str(int(now.timestamp())),
        "svix-signature": Webhook(DEMO_SECRET).sign(msg_id, now, body),
        "content-type": "application/json",
    }
    response = httpx.post(f"{base}/webhooks/resend", content=body, headers=headers, timeout=10)
    return f"{response.status_code} {response.json().get('result', response.text)}"


def _event(kind: str, email_id: str, **extra: object) -> dict[str, object]:
    now = datetime.now(UTC).isoformat()
    return {
        "type": kind,
        "created_at": now,
        "data": {"email_id": email_id, "created_at": now, "to": [], "subject": "", **extra},
    }


def run_email_demo(service_dsn: str, org: SeededOrg, outbox: Path, public_url: str) -> None:
    from worker.app import run_worker
    from worker.transports import OutboxTransport

    print("\n== Email: queue, send to the outbox, webhooks, replies")
    shutil.rmtree(outbox, ignore_errors=True)  # the demo's own outbox, fresh each run
    domain = f"client.{org.slug}.example"
    recipients = [f"ada.lovelace@{domain}", f"grace.hopper@{domain}", f"alan.turing@{domain}"]
    with (
        psycopg.connect(service_dsn, autocommit=True) as conn,
        actor(conn, org.org_id, org.admin_id),
    ):
        sends = [
            scalar(
                conn.execute(
                    q.QUEUE_TEMPLATE_EMAIL,
                    {
                        "to": to,
                        "slug": "intro",
                        "variables": Jsonb(
                            {
                                "contact": {"first_name": to.split(".")[0].title()},
                                "deal": {"name": "Q3"},
                            }
                        ),
                        "entity_type": "deal",
                        "entity_id": org.deal_ids[0],
                    },
                )
            )
            for to in recipients
        ]
    asyncio.run(
        run_worker(service_dsn, {"outbox": OutboxTransport(outbox)}, public_url, drain=True)
    )
    box = mailbox.Maildir(outbox)
    with psycopg.connect(service_dsn, autocommit=True) as conn, actor(conn, org.org_id):
        rows = conn.execute(q.DEMO_SEND_IDS, {"ids": sends}).fetchall()
    message_ids = {mid for _, _, _, mid in rows}
    ours = sum(1 for message in box if message["Message-ID"] in message_ids)
    print(
        f"   worker sent the outbox {outbox} {len(box)} .eml files: these {ours}, and "
        f"{len(box) - ours} more from the seed (notifications, a campaign's first step)"
    )
    by_to = {to: (sid, pmid, mid) for sid, to, pmid, mid in rows}
    sample = next(m for m in box if m["Message-ID"] in message_ids)
    print(f"   e.g. To: {sample['To']} | Reply-To: {sample['Reply-To']}")
    print(f"        List-Unsubscribe: {sample['List-Unsubscribe']}")
    print(f"        Return-Path (VERP, where a bounce report comes back): {sample['Return-Path']}")

    ada, grace, alan = (by_to[r] for r in recipients)
    with _web(service_dsn) as base:
        print("   signed Resend webhooks posted to the running web app:")
        for label, event in (
            ("opened before delivered", _event("email.opened", ada[1])),
            ("delivered", _event("email.delivered", ada[1])),
            ("clicked", _event("email.clicked", ada[1], click={"link": "https://x"})),
            ("delivered", _event("email.delivered", grace[1])),
            ("bounced (hard)", _event("email.bounced", alan[1], bounce={"type": "Permanent"})),
        ):
            print(f"     {label:<24} -> {_signed_post(base, event)}")
        print("   inbound mail posted as message/rfc822:")
        for label, raw in (
            (
                "human reply (In-Reply-To)",
                f"Message-ID: <demo-{uuid.uuid4().hex}@{domain}>\r\nFrom: {recipients[1]}\r\n"
                f"In-Reply-To: {grace[2]}\r\nSubject: Re: Hello Grace\r\n\r\nLet's talk.\r\n",
            ),
            (
                "out-of-office (RFC 3834)",
                f"Message-ID: <ooo-{uuid.uuid4().hex}@{domain}>\r\nFrom: {recipients[0]}\r\n"
                f"In-Reply-To: {ada[2]}\r\nAuto-Submitted: auto-replied\r\nSubject: Away\r\n\r\n"
                "Back Monday.\r\n",
            ),
        ):
            response = httpx.post(
                f"{base}/webhooks/inbound",
                content=raw.encode(),
                headers={
                    "content-type": "message/rfc822",
                    "authorization": f"Bearer {DEMO_INBOUND_TOKEN}",
                },
                timeout=10,
            )
            body = response.json()
            print(
                f"     {label:<26} -> {response.status_code} {body['result']}, matched by "
                f"{body['match_method']}, auto-reply: {body['is_auto_reply']}"
            )
    with psycopg.connect(service_dsn, autocommit=True) as conn, actor(conn, org.org_id):
        print("   resulting statuses:")
        for to, status, opens, clicks, replied, delivered in conn.execute(
            q.DEMO_SEND_STATUSES, {"ids": sends}
        ):
            print(
                f"     {to:<42} {status:<10} opens {opens} clicks {clicks} "
                f"delivered_at set: {delivered}  replied: {replied}"
            )
        stats = conn.execute(q.DEMO_DEAL_EMAIL_STATS, {"deal_id": org.deal_ids[0]}).fetchone()
        assert stats is not None
        print(
            "   api.get_email_stats for the deal: sent {}, delivered {}, opened {}, clicked {}, "
            "replied {}, bounced {}; open rate {}, click rate {}, bounce rate {}".format(*stats)
        )
        suppressed = conn.execute(q.DEMO_SUPPRESSIONS).fetchall()
        print(f"   suppressions: {', '.join(f'{e} ({r})' for e, r in suppressed)}")
