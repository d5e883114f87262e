"""What the console tests set up, through the api as the worker and the users would:
an execution parked at an approval (and the approval email's link), and an A/B
campaign with opens and clicks. The worker's part (running executions, ticking
campaigns) is done the way the worker does it: one api call per job."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from intime.db import actor
from tests.support import Mail, TwoOrgs, event

LINK = re.compile(r"/approvals/(apl_[0-9a-f]{64})")


def drain(service: psycopg.Connection, admin: psycopg.Connection) -> None:
    """Run the queued workflow.run jobs (api.run_execution per job) until none is left."""
    for _ in range(50):
        jobs = admin.execute(
            "delete from queue.pgqueuer where entrypoint = 'workflow.run' returning payload"
        ).fetchall()
        if not jobs:
            return
        for (payload,) in jobs:
            job = json.loads(bytes(payload))
            with service.transaction():
                service.execute(
                    "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                    (job["execution_id"], job["org_id"]),
                )


def approval_execution(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> uuid.UUID:
    """Org A: a workflow whose first step asks the manager to approve, started when a rep
    changes a deal's value, and parked at the approval."""
    a = two_orgs.a
    # Only this test's workflow: none of the seed's, nor their queued jobs.
    admin.execute("delete from app.workflows")
    admin.execute("delete from app.workflow_execution_logs")
    admin.execute("delete from queue.pgqueuer")
    definition = {
        "triggers": [{"type": "field_change", "field": "value"}],
        "steps": [
            {
                "name": "discount",
                "type": "approval",
                "title": "20% discount on the Acme renewal",
                "approvers": [{"user": str(a.manager_id)}],
            },
            {"name": "note", "type": "create_activity", "subject": "discount approved"},
        ],
    }
    with actor(service, a.org_id, a.admin_id):
        workflow_id = service.execute(
            "select api.create_workflow(p_name => 'Discount approval', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(definition),),
        ).fetchone()[0]
    with actor(service, a.org_id, a.rep_ids[0]):
        # The rep raises the deal's value: the workflow asks for the discount's approval.
        service.execute(
            "update app.deals set value = 48000, probability = 60 where id = %s",
            (a.deal_ids[0],),
        )
    drain(service, admin)
    (execution_id,) = admin.execute(
        "select id from app.workflow_executions where workflow_id = %s", (workflow_id,)
    ).fetchone()
    return execution_id


def emailed_link(admin: psycopg.Connection, user_id: uuid.UUID) -> str:
    """The approval link in the approval_required email to ``user_id`` (its outbox row)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = admin.execute(
            "select s.html_body from app.email_sends as s "
            "join app.user_profiles as u on u.org_id = s.org_id and lower(u.email) = "
            "lower(s.to_email) where u.id = %s and s.html_body like '%%/approvals/apl_%%' "
            "order by s.created_at desc limit 1",
            (user_id,),
        ).fetchone()
        if row is not None:
            found = LINK.search(row[0])
            assert found is not None
            return found.group(0)
        time.sleep(0.2)
    raise AssertionError("no approval_required email with an approval link was queued")


def ab_campaign(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Any:
    """Org A: a one-step campaign testing two subjects on 40 contacts, sent on a Monday
    morning (the test's clock), with some opens, clicks and replies recorded."""
    a = two_orgs.a
    service.execute("select set_config('app.fake_now', '2026-06-01 10:00:00-04', false)")
    try:
        with actor(service, a.org_id, a.admin_id):
            campaign_id = service.execute(
                "select api.create_campaign(p_name => 'Spring renewal test')"
            ).fetchone()[0]
            service.execute(
                "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'email', "
                "p_ab_variants => %s)",
                (
                    campaign_id,
                    Jsonb(
                        [
                            {"id": "A", "subject": "Your renewal", "body_html": "<p>A</p>"},
                            {"id": "B", "subject": "A quick question", "body_html": "<p>B</p>"},
                        ]
                    ),
                ),
            )
            contacts = [
                r[0]
                for r in service.execute(
                    "insert into app.contacts (first_name, last_name, email, company_name) "
                    "select 'P' || g, 'L' || g, 'p' || g || '@renewal.test', 'Co' "
                    "from generate_series(1, 40) as g returning id"
                ).fetchall()
            ]
            service.execute(
                "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
                (campaign_id, contacts),
            )
            service.execute("select api.activate_campaign(p_campaign_id => %s)", (campaign_id,))
        with service.transaction():
            service.execute("select * from api.tick_campaigns(p_batch_size => 1000)")
    finally:
        service.execute("select set_config('app.fake_now', '', false)")
    # What the provider's webhooks say (api.ingest_email_event, as /webhooks/resend
    # does): every email delivered; arm A opened and clicked more than arm B.
    mail = Mail(service, a.org_id, a.admin_id)
    sends = admin.execute(
        "select m.id, l.ab_variant from app.email_sends as m "
        "join app.campaign_sequence_logs as l on l.email_send_id = m.id "
        "where l.campaign_id = %s order by m.id",
        (campaign_id,),
    ).fetchall()
    seen: dict[str, int] = {}
    for send_id, arm in sends:
        seen[arm] = seen.get(arm, 0) + 1
        message_id = f"resend-{send_id}"
        mail.sent(send_id, message_id)
        kinds = ["email.delivered"]
        if seen[arm] <= (12 if arm == "A" else 5):
            kinds.append("email.opened")
        if seen[arm] <= (4 if arm == "A" else 1):
            kinds.append("email.clicked")
        for kind in kinds:
            mail.ingest(f"evt_{uuid.uuid4().hex}", event(kind, message_id))
    return campaign_id


def failed_job(
    service: psycopg.Connection, admin: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    """A new email of the org whose email.send job the worker held as failed (as
    pgqueuer's on_failure='hold' leaves it: the job row failed, a log row with the error)."""
    send_id = Mail(service, org_id, user_id).queue(
        to="held@example.com", subject="Contract", text="Attached."
    )
    row = admin.execute(
        "update queue.pgqueuer set status = 'failed', queue_manager_id = null "
        "where dedupe_key = %s returning id, entrypoint",
        (f"email.send:{send_id}",),
    ).fetchone()
    assert row is not None, "queue_email queued no email.send job"
    admin.execute(
        "insert into queue.pgqueuer_log (job_id, status, priority, entrypoint, traceback) "
        "values (%s, 'failed', 0, %s, %s)",
        (row[0], row[1], json.dumps({"exception_message": "SMTPServerDisconnected: gone"})),
    )
    return int(row[0])
