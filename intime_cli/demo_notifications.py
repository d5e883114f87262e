"""The notification part of ``intime demo``: a live SSE client on the real web app.

The demo user (Acme's first rep) opens ``/notifications/stream`` with an API
token. Notifications are then sent through system templates, and each one is
printed with what the preferences decided and the time from COMMIT to the
event arriving at the client.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from intime.db import actor
from intime.queries import SET_ACTOR
from intime_cli import queries as q
from intime_cli.seed import SeededOrg
from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream

CASES: tuple[tuple[str, str, dict[str, object], str | None, bool], ...] = (
    (
        "plain (immediate)",
        "submission_created",
        {
            "job": {"title": "Data Engineer"},
            "candidate": {"name": "Kat"},
            "submitter": {"name": "Sam"},
        },
        None,
        False,
    ),
    (
        "deal, in quiet hours",
        "deal_closed_won",
        {"deal": {"name": "Globex renewal", "value": "$48,000"}},
        None,
        False,
    ),
    (
        "mention #1 (group)",
        "mention_comment",
        {"mentioner": {"name": "Morgan"}, "entity": {"name": "Q3 plan"}},
        "mentions:q3",
        False,
    ),
    (
        "mention #2 (collapses)",
        "mention_comment",
        {"mentioner": {"name": "Sam"}, "entity": {"name": "Q3 plan"}},
        "mentions:q3",
        False,
    ),
    (
        "during DND",
        "task_assigned",
        {"task": {"title": "Call Ada"}, "assigner": {"name": "Morgan"}},
        None,
        False,
    ),
    (
        "critical, during DND",
        "approval_required",
        {"item": {"title": "Discount 30%"}, "requester": {"name": "Sam"}},
        None,
        True,
    ),
)


def _send(
    conn: psycopg.Connection,
    org: SeededOrg,
    user_id: uuid.UUID,
    slug: str,
    variables: dict[str, object],
    group_key: str | None,
    *,
    critical: bool,
) -> tuple[uuid.UUID, float]:
    """Send in a transaction of its own; returns the id and when COMMIT was issued."""
    conn.execute("begin")
    conn.execute(SET_ACTOR, {"org_id": org.org_id, "user_id": org.admin_id})
    row = conn.execute(
        q.DEMO_SEND_NOTIFICATION,
        {
            "user_id": user_id,
            "slug": slug,
            "variables": Jsonb(variables),
            "group_key": group_key,
            "critical": critical,
        },
    ).fetchone()
    assert row is not None
    committed = time.perf_counter()
    conn.execute("commit")
    return row[0], committed


def run_notifications_demo(service_dsn: str, org: SeededOrg) -> None:
    from web.app import create_app

    user_id = org.rep_ids[0]
    print("\n== Notifications: a live SSE client as the demo user (times on the real clock, UTC)")
    now = datetime.now(UTC)
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        with actor(conn, org.org_id, org.admin_id):
            token_row = conn.execute(
                q.CREATE_API_TOKEN, {"name": "demo stream", "user_id": user_id}
            ).fetchone()
        assert token_row is not None
        with actor(conn, org.org_id, user_id):
            # Quiet hours around the current time for deals (UTC), so the next
            # deal email is held; do-not-disturb comes later.
            conn.execute(
                q.DEMO_SET_QUIET_HOURS,
                {
                    "start": (now - timedelta(hours=1)).time().replace(microsecond=0),
                    "end": (now + timedelta(hours=1)).time().replace(microsecond=0),
                },
            )

    app = create_app(service_dsn)
    with serve_in_thread(app) as base, psycopg.connect(service_dsn, autocommit=True) as conn:
        stream = SseStream(f"{base}/notifications/stream", token=token_row[1])
        try:
            stream.next("unread_count")
            print(f"   GET {base}/notifications/stream -> {stream.status_code} text/event-stream")
            for label, slug, variables, group_key, critical in CASES:
                if label == "during DND":
                    with actor(conn, org.org_id, user_id):
                        conn.execute(q.DEMO_SET_DND, {"until": now + timedelta(hours=2)})
                nid, committed = _send(
                    conn, org, user_id, slug, variables, group_key, critical=critical
                )
                event = stream.next(timeout=10)
                latency_ms = (event.received - committed) * 1000
                data = json.loads(event.data)
                with actor(conn, org.org_id, user_id):
                    deliveries = conn.execute(q.DEMO_DELIVERIES, {"id": nid}).fetchall()
                decided = ", ".join(
                    f"{channel} {status}"
                    + (f" ({reason})" if reason else "")
                    + (f" until {after:%H:%M} UTC" if after and status == "held" else "")
                    for channel, status, reason, after in deliveries
                )
                print(
                    f"   {label:<24} seq {data['seq']:>4}  {latency_ms:6.2f} ms  "
                    f'x{data["group_count"]}  "{data["title"]}"'
                )
                print(f"   {'':<24} {decided}")
        finally:
            stream.close()
