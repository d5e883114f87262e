"""Demo and test data: one organization with a row in every tenant table.

Runs as the service role through the public API (api.create_organization,
api.create_user, api.set_actor, api.move_deal_stage) and plain INSERTs under
RLS, the way a client would, each statement in a transaction of its own (so that it
runs on a Citus cluster too: ``_Statements``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb

from intime.db import actor
from intime_cli import demo_queries as dq
from intime_cli import queries as q

PIPELINE = ("Qualified", "Proposal", "Negotiation", "Closed Won")


@dataclasses.dataclass(frozen=True)
class SeededOrg:
    org_id: uuid.UUID
    slug: str
    admin_id: uuid.UUID
    manager_id: uuid.UUID
    rep_ids: tuple[uuid.UUID, ...]
    stage_ids: dict[str, uuid.UUID]
    deal_ids: tuple[uuid.UUID, ...]
    contact_ids: tuple[uuid.UUID, ...]
    login_user_id: uuid.UUID | None


class _Statements:
    """Runs each statement in a transaction of its own, as one actor (or none). On a
    Citus cluster a transaction may not touch an org's shards as the service once an
    ``api`` function (the owner) wrote them, or the other way round
    (docs/scale-out.md); the seed mixes plain INSERTs under RLS with ``api`` calls."""

    def __init__(
        self, conn: psycopg.Connection, org_id: uuid.UUID | None, user_id: uuid.UUID | None
    ) -> None:
        self.conn, self.org_id, self.user_id = conn, org_id, user_id

    def execute(
        self, query: LiteralString, params: Mapping[str, object] | None = None
    ) -> psycopg.Cursor[Any]:
        if self.org_id is None:
            with self.conn.transaction():
                return self.conn.execute(query, params)
        with actor(self.conn, self.org_id, self.user_id):
            return self.conn.execute(query, params)


@contextlib.contextmanager
def _acting(
    conn: psycopg.Connection, org_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> Iterator[_Statements]:
    yield _Statements(conn, org_id, user_id)


def _one(conn: _Statements, query: LiteralString, params: Mapping[str, object]) -> uuid.UUID:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    value = row[0]
    assert isinstance(value, uuid.UUID)
    return value


def _user(
    conn: _Statements,
    email: str,
    full_name: str,
    *,
    role: str = "member",
    manager_id: uuid.UUID | None = None,
    timezone: str = "UTC",
    db_role: str | None = None,
) -> uuid.UUID:
    return _one(
        conn,
        q.CREATE_USER,
        {
            "email": email,
            "full_name": full_name,
            "role": role,
            "manager_id": manager_id,
            "timezone": timezone,
            "db_role": db_role,
        },
    )


def _stage_path(index: int, count: int) -> tuple[str, ...]:
    """The first deal is won, the last (of several) lost, the others move part way."""
    if index == 0:
        return PIPELINE
    if index == count - 1:
        return ("Qualified", "Closed Lost")
    return PIPELINE[: 1 + index % 3]


def _resend_event(kind: str, message_id: str, **extra: object) -> Jsonb:
    """A Resend webhook payload in the documented shape."""
    now = datetime.now(UTC).isoformat()
    data = {"email_id": message_id, "created_at": now, "from": "x", "to": [], "subject": "x"}
    return Jsonb({"type": kind, "created_at": now, "data": {**data, **extra}})


def claim_sending_domains(
    conn: psycopg.Connection, org_id: uuid.UUID, admin_id: uuid.UUID, domains: Sequence[str]
) -> None:
    """Claim ``domains`` for the org as its admin and verify them as the platform (the
    domains.verify job's call, without a DNS lookup): what email settings need."""
    with _acting(conn, org_id, admin_id) as c:
        for domain in domains:
            c.execute(q.ADD_SENDING_DOMAIN, {"domain": domain})
    with _acting(conn) as c:
        for domain in domains:
            c.execute(q.VERIFY_SENDING_DOMAIN, {"org_id": org_id, "domain": domain})


def _seed_email(
    conn: psycopg.Connection,
    org_id: uuid.UUID,
    admin_id: uuid.UUID,
    slug: str,
    domain: str,
    contact_id: uuid.UUID,
    deal_id: uuid.UUID,
) -> None:
    """Sending domains (claimed, verified as the platform), sending settings, a template,
    a delivered email with a reply, a hard bounce and a suppression added by hand."""
    claim_sending_domains(conn, org_id, admin_id, (domain, f"mail.{domain}"))
    with _acting(conn, org_id, admin_id) as c:
        c.execute(
            q.SET_EMAIL_SETTINGS,
            {"from_email": f"sales@{domain}", "reply_domain": f"mail.{domain}", "from_name": slug},
        )
        c.execute(
            q.INSERT_EMAIL_TEMPLATE,
            {
                "slug": "intro",
                "name": "Introduction",
                "category": "marketing",
                "subject": "Hello {{ contact.first_name }}",
                "html": "<p>Hi {{ contact.first_name }}, about {{ deal.name }}.</p>",
                "text": "Hi {{ contact.first_name }}, about {{ deal.name }}.",
                "variables": Jsonb([{"name": "contact.first_name", "required": True}]),
            },
        )
        sends = [
            _one(
                c,
                q.QUEUE_TEMPLATE_EMAIL,
                {
                    "to": to,
                    "slug": "intro",
                    "variables": Jsonb({"contact": {"first_name": "Ada"}, "deal": {"name": "D"}}),
                    "entity_type": "deal",
                    "entity_id": deal_id,
                },
            )
            for to in (f"ada.lovelace@client.{domain}", f"nobody@bounce.{domain}")
        ]
        # A "don't email me" recorded by hand (audited in app.suppression_changes).
        c.execute(
            q.ADD_SUPPRESSION,
            {"email": f"no.mail@client.{domain}", "note": "Asked by phone not to be emailed."},
        )
    with _acting(conn, org_id) as c:
        for send_id, event, extra in (
            (sends[0], "email.delivered", {}),
            (sends[1], "email.bounced", {"bounce": {"type": "Permanent", "message": "no user"}}),
        ):
            message_id = f"{slug}-{send_id}"
            c.execute(
                q.RECORD_EMAIL_SENT, {"id": send_id, "provider": "resend", "message_id": message_id}
            )
            c.execute(
                q.INGEST_EMAIL_EVENT,
                {
                    "event_id": f"msg_{uuid.uuid4().hex}",
                    "payload": _resend_event(event, message_id, **extra),
                },
            )
    with _acting(conn) as c:
        c.execute(
            q.RECORD_INBOUND_EMAIL,
            {
                "message_id": f"<reply-{uuid.uuid4().hex}@client.{domain}>",
                "from": f"ada.lovelace@client.{domain}",
                "in_reply_to": f"<{sends[0]}@mail.{domain}>",
                "subject": "Re: Hello Ada",
                "text": "Sounds good, let's talk.",
            },
        )


def _seed_notifications(
    conn: psycopg.Connection,
    org_id: uuid.UUID,
    admin_id: uuid.UUID,
    manager_id: uuid.UUID,
    rep_ids: tuple[uuid.UUID, ...],
    deal_id: uuid.UUID,
    domain: str,
) -> None:
    """An org template override, a preference, notifications with deliveries, and a
    reply to a notification email."""
    with _acting(conn, org_id, admin_id) as c:
        c.execute(
            q.INSERT_NOTIFICATION_TEMPLATE,
            {
                "slug": "deal_closed_won",
                "name": "Deal won (house style)",
                "category": "deal",
                "title": "Won: {{deal.name}}",
                "message": "{{deal.name}} closed for {{deal.value}}. Ring the bell!",
                "channels": Jsonb(["in_app", "email"]),
                "variables": Jsonb([{"name": "deal.name", "required": True}]),
            },
        )
        c.execute(
            q.SEND_TEMPLATE_NOTIFICATION,
            {
                "user_id": rep_ids[0],
                "slug": "deal_closed_won",
                "variables": Jsonb({"deal": {"name": "First deal", "value": "$10,000"}}),
                "entity_type": "deal",
                "entity_id": deal_id,
            },
        )
        c.execute(
            q.SEND_TEMPLATE_NOTIFICATION,
            {
                "user_id": manager_id,
                "slug": "mention_comment",
                "variables": Jsonb({"mentioner": {"name": "Riley"}, "entity": {"name": "Deal"}}),
                "entity_type": "deal",
                "entity_id": deal_id,
            },
        )
        c.execute(
            q.SEND_NOTIFICATION_BULK,
            {
                "user_ids": list(rep_ids),
                "slug": "task_assigned",
                "variables": Jsonb({"task": {"title": "Call Ada"}, "assigner": {"name": "Admin"}}),
            },
        )
    for user_id in (rep_ids[0], manager_id):
        with _acting(conn, org_id, user_id) as c:
            c.execute(
                q.SET_NOTIFICATION_PREFERENCE,
                {"category": "deal", "channels": ["in_app", "email"], "frequency": "immediate"},
            )
    # The manager's mention email was delivered: an event private to them.
    with _acting(conn, org_id, manager_id) as c:
        send_id = _one(c, q.NOTIFICATION_EMAIL_OF_USER, {"user_id": manager_id})
    with _acting(conn, org_id) as c:
        message_id = f"notify-{send_id}"
        c.execute(
            q.RECORD_EMAIL_SENT, {"id": send_id, "provider": "resend", "message_id": message_id}
        )
        c.execute(
            q.INGEST_EMAIL_EVENT,
            {
                "event_id": f"msg_{uuid.uuid4().hex}",
                "payload": _resend_event("email.delivered", message_id),
            },
        )
    # ... and the manager replied to it: a reply (and thread) private to them too.
    with _acting(conn) as c:
        c.execute(
            q.RECORD_INBOUND_EMAIL,
            {
                "message_id": f"<reply-{uuid.uuid4().hex}@{domain}>",
                "from": f"manager@{domain}",
                "in_reply_to": f"<{send_id}@mail.{domain}>",
                "subject": "Re: you were mentioned",
                "text": "Thanks, on it.",
            },
        )


def _seed_workflows(
    conn: psycopg.Connection,
    org_id: uuid.UUID,
    admin_id: uuid.UUID,
    rep_ids: tuple[uuid.UUID, ...],
    deal_id: uuid.UUID,
) -> None:
    """A state-machine workflow run up to a pending approval: a round-robin
    assignment, a delivered webhook, an approval that locks the deal."""
    definition = {
        "triggers": [{"type": "manual"}],
        "states": [{"name": "draft", "type": "initial"}, {"name": "approved", "type": "final"}],
        "transitions": [{"name": "approve", "from": "draft", "to": "approved"}],
        "steps": [
            {
                "name": "route",
                "type": "assign",
                "mode": "round_robin",
                "users": [str(u) for u in rep_ids],
            },
            {"name": "notify_crm", "type": "webhook", "url": "https://hooks.example.invalid/deal"},
            {
                "name": "sign_off",
                "type": "approval",
                "approvers": [{"manager": True}],
                "due_in": "P1D",
            },
        ],
    }
    with _acting(conn, org_id, admin_id) as c:
        workflow_id = _one(
            c,
            q.CREATE_WORKFLOW,
            {"name": "Discount sign-off", "entity_type": "deal", "definition": Jsonb(definition)},
        )
        execution_id = _one(c, q.START_WORKFLOW, {"workflow_id": workflow_id, "entity_id": deal_id})
        c.execute(q.WEBHOOK_SIGNING_SECRET)
    ids = {"execution_id": execution_id, "org_id": org_id}
    with _acting(conn) as c:
        c.execute(q.RUN_EXECUTION, ids)  # parks on the webhook
    with _acting(conn, org_id) as c:
        action_id = _one(c, q.EXECUTION_WEBHOOK_ACTION, {"execution_id": execution_id})
        c.execute(
            q.COMPLETE_ACTION,
            {"action_id": action_id, "result": Jsonb({"status_code": 200}), "org_id": org_id},
        )
    with _acting(conn) as c:
        c.execute(q.RUN_EXECUTION, ids)  # parks on the approval


def _seed_campaigns(
    conn: psycopg.Connection,
    org_id: uuid.UUID,
    admin_id: uuid.UUID,
    contact_ids: tuple[uuid.UUID, ...],
) -> None:
    """A campaign that ran its first step: an A/B email to three contacts, a
    daily limit, a manual A/B choice, its first logs archived, one unenrolled."""
    with _acting(conn, org_id, admin_id) as c:
        campaign_id = _one(
            c,
            q.CREATE_CAMPAIGN,
            {
                "name": "Spring outreach",
                "start": "00:00",
                "end": "23:59:59",
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "timezone": "America/New_York",
                "daily_limit": 500,
                "min_sample": 100,
            },
        )
        variants = [
            {"id": "A", "subject": "Hello {{contact.first_name}}", "body_html": "<p>A</p>"},
            {"id": "B", "subject": "A question, {{contact.first_name}}", "body_html": "<p>B</p>"},
        ]
        ids = {"campaign_id": campaign_id}
        c.execute(
            q.ADD_EMAIL_STEP,
            {
                **ids,
                "delay_minutes": 0,
                "subject": None,
                "body_html": None,
                "ab_variants": Jsonb(variants),
            },
        )
        c.execute(
            q.ADD_TASK_STEP,
            {**ids, "channel": "linkedin", "delay_minutes": 60 * 24, "task_config": Jsonb({})},
        )
        c.execute(q.ENROLL_CONTACTS, {**ids, "contact_ids": list(contact_ids)})
        c.execute(q.ACTIVATE_CAMPAIGN, ids)
    with _acting(conn) as c:
        c.execute(q.TICK_CAMPAIGNS, {"batch_size": 100})
    with _acting(conn, org_id, admin_id) as c:
        c.execute(q.SELECT_AB_WINNER, {**ids, "variant": "B"})
    with _acting(conn) as c:
        c.execute(q.ARCHIVE_CAMPAIGN_LOGS, {"retention": "0 seconds"})
    with _acting(conn, org_id, admin_id) as c:
        enrollment_id = _one(c, q.CAMPAIGN_ENROLLMENTS, ids)
        c.execute(q.STOP_ENROLLMENT, {"enrollment_id": enrollment_id, "reason": "asked by phone"})


def seed_org(
    conn: psycopg.Connection,
    name: str,
    slug: str,
    *,
    login_role: str | None = None,
    deals: int = 3,
) -> SeededOrg:
    """Create an org with users, CRM and staffing data, and deal stage moves.

    ``conn`` connects as intime_service. ``login_role`` (an existing member of
    intime_user) is mapped to one of the reps for SQL-login tests.
    """
    domain = f"{slug}.example"
    with _acting(conn) as c:
        org_id = _one(
            c,
            q.CREATE_ORGANIZATION,
            {"name": name, "slug": slug, "timezone": "America/New_York"},
        )
    with _acting(conn, org_id) as c:
        admin_id = _user(c, f"admin@{domain}", f"{name} Admin", role="admin")
        manager_id = _user(
            c, f"manager@{domain}", "Morgan Manager", role="manager", timezone="Europe/London"
        )
        rep_ids = tuple(
            _user(
                c,
                f"{first.lower()}@{domain}",
                f"{first} Rep",
                manager_id=manager_id,
                db_role=login_role if i == 0 else None,
            )
            for i, first in enumerate(("Riley", "Sam"))
        )
    with _acting(conn, org_id, admin_id) as c:
        seed_token = c.execute(
            q.CREATE_API_TOKEN, {"name": "seed", "user_id": rep_ids[0]}
        ).fetchone()
        assert seed_token is not None
    # A stream ticket, as the web app mints one for a browser (engine-only tables).
    with _acting(conn) as c:
        c.execute(q.CREATE_STREAM_TICKET, {"token": seed_token[1]})
        # And a console session signed in with it.
        c.execute(dq.CREATE_WEB_SESSION, {"token": seed_token[1]})
    with _acting(conn, org_id, admin_id) as c:
        # Said out loud, though it is the default: members manage only their own campaigns.
        c.execute(
            q.SET_ROLE_PERMISSION,
            {"role": "member", "permission": "campaigns.manage_any", "granted": False},
        )
        # Also the default: the deal owner hears of each stage change (built-in notification).
        c.execute(q.SET_BUILTIN_NOTIFICATION, {"slug": "deal_stage_changed", "enabled": True})
        stages = {name: id_ for id_, name in c.execute(q.DEAL_STAGES).fetchall()}
        account_id = _one(
            c,
            q.INSERT_ACCOUNT,
            {
                "name": f"{name} Client Co",
                "domain": f"client.{domain}",
                "industry": "Software",
                "owner_id": rep_ids[0],
                "status": "customer",
            },
        )
        contact_ids = tuple(
            _one(
                c,
                q.INSERT_CONTACT,
                {
                    "first_name": first,
                    "last_name": last,
                    "email": f"{first.lower()}.{last.lower()}@client.{domain}",
                    "account_id": account_id,
                    "owner_id": rep_ids[0],
                    "timezone": "America/Chicago",
                },
            )
            for first, last in (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"))
        )
        deal_ids = tuple(
            _one(
                c,
                q.INSERT_DEAL,
                {
                    "name": f"{name} deal {i + 1}",
                    "account_id": account_id,
                    "contact_id": contact_ids[i % len(contact_ids)],
                    "owner_id": rep_ids[i % len(rep_ids)],
                    "stage_id": stages["Lead"],
                    "value": 10000 * (i + 1),
                    "close_in_days": 30,
                },
            )
            for i in range(deals)
        )
        for i, deal_id in enumerate(deal_ids):
            for stage in _stage_path(i, len(deal_ids)):
                c.execute(
                    q.MOVE_DEAL_STAGE,
                    {"deal_id": deal_id, "stage_id": stages[stage], "notes": f"moved to {stage}"},
                )
        c.execute(
            q.INSERT_TASK,
            {
                "entity_type": "deal",
                "entity_id": deal_ids[0],
                "subject": "Send proposal",
                "assignee_id": rep_ids[0],
                "due_in": "2 days",
                "priority": "high",
            },
        )
        comment_id = _one(
            c,
            q.INSERT_COMMENT,
            {
                "entity_type": "deal",
                "entity_id": deal_ids[0],
                "parent_id": None,
                "body": "Looping in @manager",
                "mentions": [manager_id],
            },
        )
        c.execute(
            q.INSERT_COMMENT,
            {
                "entity_type": "deal",
                "entity_id": deal_ids[0],
                "parent_id": comment_id,
                "body": "On it",
                "mentions": [],
            },
        )
        c.execute(
            q.INSERT_NOTE,
            {
                "entity_type": "account",
                "entity_id": account_id,
                "title": "Context",
                "body": "Renewal due in Q3",
                "pinned": True,
            },
        )
        job_id = _one(
            c,
            q.INSERT_JOB,
            {
                "title": "Senior Data Engineer",
                "account_id": account_id,
                "contact_id": contact_ids[0],
                "owner_id": rep_ids[1],
                "location": "Remote",
            },
        )
        candidate_id = _one(
            c,
            q.INSERT_CANDIDATE,
            {
                "first_name": "Katherine",
                "last_name": "Johnson",
                "email": f"katherine@candidates.{domain}",
                "owner_id": rep_ids[1],
            },
        )
    _seed_email(conn, org_id, admin_id, slug, domain, contact_ids[0], deal_ids[0])
    _seed_notifications(conn, org_id, admin_id, manager_id, rep_ids, deal_ids[0], domain)
    _seed_workflows(conn, org_id, admin_id, rep_ids, deal_ids[-1])
    _seed_campaigns(conn, org_id, admin_id, contact_ids)
    with _acting(conn, org_id, rep_ids[1]) as c:
        submission_id = _one(
            c,
            q.INSERT_SUBMISSION,
            {"job_id": job_id, "candidate_id": candidate_id, "bill_rate": 120},
        )
        c.execute(
            q.INSERT_INTERVIEW,
            {
                "submission_id": submission_id,
                "in": "3 days",
                "timezone": "America/New_York",
                "interviewer_id": manager_id,
            },
        )
        c.execute(q.SET_SUBMISSION_STATUS, {"status": "offered", "id": submission_id})
        c.execute(
            q.INSERT_PLACEMENT,
            {
                "submission_id": submission_id,
                "job_id": job_id,
                "candidate_id": candidate_id,
                "start_in_days": 14,
                "bill_rate": 120,
                "pay_rate": 85,
            },
        )
    return SeededOrg(
        org_id=org_id,
        slug=slug,
        admin_id=admin_id,
        manager_id=manager_id,
        rep_ids=rep_ids,
        stage_ids=stages,
        deal_ids=deal_ids,
        contact_ids=contact_ids,
        login_user_id=rep_ids[0] if login_role else None,
    )
