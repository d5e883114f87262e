"""The workflow part of ``intime demo``, on the real worker and web app.

1. The seed's own criterion: a 3-step workflow with an email action. A deal
   moves to Closed Won; the workflow creates a task for the owner, emails the
   lead contact (the message lands in the outbox) and sends a
   ``deal_closed_won`` notification, which arrives on the owner's SSE stream.
2. An approval chain: a discount over 15% needs the owner's manager; the
   approval is due in three seconds, escalates to the admin when that passes,
   and the admin approves it.

Each execution's timeline is printed from ``api.get_execution_timeline``.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from intime.db import actor, scalar
from intime_cli import demo_queries as dq
from intime_cli import queries as q
from intime_cli.seed import SeededOrg
from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream

WON_FOLLOW_UP = {
    "triggers": [{"type": "status_change", "to": "won"}],
    "steps": [
        {
            "name": "kickoff_task",
            "type": "create_task",
            "title": "Kick-off call for {{deal.name}}",
            "assignee": "owner",
            "due_in": "P2D",
            "priority": "high",
        },
        {
            "name": "thank_contact",
            "type": "send_email",
            "to": "lead_contact.email",
            "subject": "Thank you for choosing us: {{deal.name}}",
            "text": "Hello, thank you for your trust. {{owner.name}} will call you this week.",
        },
        {
            "name": "celebrate",
            "type": "send_notification",
            "template": "deal_closed_won",
            "to": ["owner"],
        },
    ],
}

DISCOUNT_THRESHOLD = 15
DUE_SECONDS = 3


def discount_approval(admin_id: uuid.UUID) -> dict[str, object]:
    return {
        "triggers": [{"type": "field_change", "field": "discount_percent"}],
        "conditions": {
            "all": [{"field": "discount_percent", "operator": "gt", "value": DISCOUNT_THRESHOLD}]
        },
        "steps": [
            {
                "name": "manager_ok",
                "type": "approval",
                "title": "{{deal.discount_percent}}% discount on {{deal.name}}",
                "approvers": [{"manager": True}],
                "due_in": f"PT{DUE_SECONDS}S",
                "escalate_to": str(admin_id),
                "on_reject": "undo",
            },
            {
                "name": "tell_owner",
                "type": "send_notification",
                "title": "Discount approved: {{deal.name}}",
                "message": "{{deal.discount_percent}}% is approved.",
                "next": "end",
            },
            {"name": "undo", "type": "update_field", "field": "discount_percent", "value": 0},
        ],
    }


@contextmanager
def _background_worker(service_dsn: str, outbox: Path, public_url: str) -> Iterator[None]:
    """The real worker, running continuously in a thread, as in production."""
    from worker.app import WorkerOptions, start_worker
    from worker.transports import OutboxTransport

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        worker = await start_worker(
            service_dsn,
            {"outbox": OutboxTransport(outbox)},
            public_url,  # links in emails are made absolute from it
            # The campaign demo ticks on its fake clock: no real-clock minute tick.
            options=WorkerOptions(dequeue_timeout=timedelta(seconds=5), campaign_schedules=False),
        )
        ready.set()
        try:
            running = asyncio.create_task(worker.run())
            await stop.wait()
            await worker.stop()
            await asyncio.wait({running})
        finally:
            await worker.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(45)
        loop.close()


def _wait_for(
    conn: psycopg.Connection, org: SeededOrg, execution_id: uuid.UUID, *statuses: str
) -> tuple[str, str | None]:
    """Poll the execution until its (status, waiting_for) is one of ``statuses``."""
    deadline = time.monotonic() + 60
    while True:
        with actor(conn, org.org_id):
            row = conn.execute(q.DEMO_EXECUTION_STATUS, {"id": execution_id}).fetchone()
        assert row is not None
        if f"{row[0]}:{row[1]}" in statuses or row[0] in statuses:
            return row[0], row[1]
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_id} stayed {row[0]}")
        time.sleep(0.02)


def _ended(start: datetime, detail: dict[str, object], *keys: str) -> str:
    """`` at +N ms`` of the first of ``keys`` the row's detail has (its end), else ``""``."""
    for key in keys:
        value = detail.get(key)
        if isinstance(value, str):
            at = datetime.fromisoformat(value)
            return f" at +{(at - start).total_seconds() * 1000:.1f} ms"
    return ""


def _timeline(conn: psycopg.Connection, org: SeededOrg, execution_id: uuid.UUID) -> None:
    """Each row at the moment it happened, on the real clock: a step, an action or an
    approval is shown where it began, with how (and when) it ended, since its row
    carries its final status."""
    print(
        f"   timeline of execution {execution_id} "
        "(api.get_execution_timeline; real clock, UTC, and ms since it was queued):"
    )
    with actor(conn, org.org_id, org.admin_id):
        rows = conn.execute(dq.EXECUTION_TIMELINE, {"id": execution_id}).fetchall()
    start = rows[0][0]
    for at, kind, name, status, message, detail in rows:
        if kind in ("step", "action"):
            what = f"{name} started; {status}{_ended(start, detail, 'completed_at')}"
        elif kind == "approval":
            what = f"asked {name}; {status}{_ended(start, detail, 'responded_at', 'escalated_at')}"
        else:
            what = message or ""
        print(
            f"     {at:%H:%M:%S.%f}"[:-3]
            + f"  +{(at - start).total_seconds() * 1000:8.1f} ms  {kind:<8} {what}"
        )


def _won_follow_up(service_dsn: str, org: SeededOrg, outbox: Path) -> None:
    owner = org.rep_ids[1]
    deal_id = org.deal_ids[1]  # Sam's open deal; its lead contact is Grace Hopper
    print(
        "\n== Workflows 1: deal won -> task, email, notification (3 steps, one email action; "
        "times on the real clock)"
    )
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        with actor(conn, org.org_id, org.admin_id):
            conn.execute(
                q.CREATE_WORKFLOW,
                {
                    "name": "Won deal follow-up",
                    "entity_type": "deal",
                    "definition": Jsonb(WON_FOLLOW_UP),
                },
            )
            token = conn.execute(
                q.CREATE_API_TOKEN, {"name": "demo workflows", "user_id": owner}
            ).fetchone()
        assert token is not None

        from web.app import create_app

        with serve_in_thread(create_app(service_dsn)) as base:
            stream = SseStream(f"{base}/notifications/stream", token=token[1])
            try:
                stream.next("unread_count")
                with actor(conn, org.org_id, owner):
                    conn.execute(
                        q.MOVE_DEAL_STAGE,
                        {
                            "deal_id": deal_id,
                            "stage_id": org.stage_ids["Closed Won"],
                            "notes": "signed",
                        },
                    )
                with actor(conn, org.org_id):
                    execution_id = conn.execute(
                        q.DEMO_EXECUTION_OF, {"deal_id": deal_id}
                    ).fetchone()
                assert execution_id is not None
                committed = time.perf_counter()
                print("   Sam moved the deal to Closed Won: one execution queued in that commit")
                # The kickoff task's built-in task_assigned may come first; the step's
                # notification is the deal's.
                while True:
                    event = stream.next("notification", timeout=30)
                    data = json.loads(event.data)
                    if data["entity_type"] == "deal":
                        break
                    print(f'   built-in notification for Sam: "{data["message"]}"')
                print(
                    f"   SSE event for Sam {(event.received - committed) * 1000:.0f} ms after the "
                    f'commit: "{data["title"]}"'
                )
                _wait_for(conn, org, execution_id[0], "completed", "failed")
            finally:
                stream.close()
        with actor(conn, org.org_id, org.admin_id):
            task = conn.execute(q.DEMO_WORKFLOW_TASK, {"deal_id": deal_id}).fetchone()
            mail = conn.execute(q.DEMO_WORKFLOW_EMAIL, {"deal_id": deal_id}).fetchone()
        assert task is not None
        assert mail is not None
        print(f'   task for {task[1]}: "{task[0]}" due {task[2]:%Y-%m-%d}')
        in_outbox = [m for m in mailbox.Maildir(outbox) if m["Subject"] == mail[1]]
        print(
            f'   email to {mail[0]}: "{mail[1]}" status {mail[2]}, '
            f"{len(in_outbox)} message in the outbox"
        )
        _timeline(conn, org, execution_id[0])


def _discount_chain(service_dsn: str, org: SeededOrg) -> None:
    owner = org.rep_ids[1]
    print(
        f"\n== Workflows 2: a discount over {DISCOUNT_THRESHOLD}% needs the manager; "
        f"due in {DUE_SECONDS} s, then escalates to the admin (times on the real clock, UTC)"
    )
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        with actor(conn, org.org_id, org.admin_id):
            conn.execute(
                q.CREATE_WORKFLOW,
                {
                    "name": "Discount approval",
                    "entity_type": "deal",
                    "definition": Jsonb(discount_approval(org.admin_id)),
                },
            )
        with actor(conn, org.org_id, owner):
            deal_id = scalar(
                conn.execute(
                    q.DEMO_NEW_DEAL,
                    {
                        "name": "Globex expansion",
                        "owner_id": owner,
                        "stage_id": org.stage_ids["Lead"],
                    },
                )
            )
            conn.execute(q.DEMO_SET_DISCOUNT, {"deal_id": deal_id, "discount": 10})
            conn.execute(q.DEMO_SET_DISCOUNT, {"deal_id": deal_id, "discount": 25})
        with actor(conn, org.org_id):
            runs = conn.execute(q.DEMO_EXECUTIONS_OF, {"deal_id": deal_id}).fetchall()
        print(f"   Sam set the discount to 10% (no match), then 25%: {len(runs)} execution queued")
        execution_id = runs[0][0]
        _wait_for(conn, org, execution_id, "waiting:approval")
        _print_approvals(conn, org, execution_id, "parked on the approval")
        time.sleep(DUE_SECONDS + 0.5)
        with conn.transaction():
            swept = conn.execute(q.TICK_WORKFLOWS).fetchone()
        assert swept is not None
        # The worker's own minute sweep may have escalated it first: say what is true.
        with actor(conn, org.org_id):
            escalated = scalar(conn.execute(q.DEMO_ESCALATED_OF, {"id": execution_id}))
        print(
            f"   {DUE_SECONDS + 0.5:.1f} s later the sweeper runs: {swept[0]}; "
            f"escalated approvals of the execution: {escalated}"
        )
        _print_approvals(conn, org, execution_id, "after the escalation")
        with actor(conn, org.org_id, org.admin_id):
            approval_id = scalar(
                conn.execute(
                    q.DEMO_PENDING_APPROVAL_OF, {"id": execution_id, "user_id": org.admin_id}
                )
            )
            decided = scalar(
                conn.execute(
                    q.APPROVE_APPROVAL, {"id": approval_id, "notes": "fine for a 3-year term"}
                )
            )
        print(f"   the admin (escalation target) approves: step {decided}")
        _wait_for(conn, org, execution_id, "completed", "failed")
        _print_approvals(conn, org, execution_id, "decided")
        _timeline(conn, org, execution_id)


def _print_approvals(
    conn: psycopg.Connection, org: SeededOrg, execution_id: uuid.UUID, label: str
) -> None:
    with actor(conn, org.org_id, org.admin_id):
        status = conn.execute(q.DEMO_EXECUTION_STATUS, {"id": execution_id}).fetchone()
        rows = conn.execute(q.DEMO_APPROVALS, {"id": execution_id}).fetchall()
    assert status is not None
    print(f"   {label}: execution {status[0]}" + (f" ({status[1]})" if status[1] else ""))
    for approver, kind, state, escalated, reason in rows:
        extra = f", escalated ({reason})" if escalated else ""
        print(f"     slot approver {approver:<22} {kind:<10} {state}{extra}")


def run_workflows_demo(service_dsn: str, org: SeededOrg, outbox: Path, public_url: str) -> None:
    with _background_worker(service_dsn, outbox, public_url):
        _won_follow_up(service_dsn, org, outbox)
        _discount_chain(service_dsn, org)
