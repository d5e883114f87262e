"""What a soak run does to InTime: the setup (two seeded orgs, one on SMTP and one on
Resend, a workflow, a campaign, API tokens) and the steady mixed load.

Load generators (each its own task, own connection, jittered interval):

- deal updates that start the soak workflow (task, email, webhook, a 5 s wait, an in-app
  notification to the owner);
- notifications to users with open streams (a quarter also by email);
- campaign enrollments (a 3-email sequence 0, 1 and 2 minutes apart, window always open);
- signed Resend events for what the stub accepted: delivered, opened before delivered,
  duplicates (same ``svix-id`` twice), clicks, delays, a few bounces, events that race
  the send's record, and events for unknown ids;
- inbound replies to delivered mail (``message/rfc822`` with the bearer token), plus a
  malformed message now and then;
- /healthz probes of each web process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, LiteralString

import psycopg
from psycopg.types.json import Jsonb
from svix.webhooks import Webhook as SvixWebhook

from intime.db import actor, async_actor, is_node_failure
from intime.errors import InTimeError
from intime_cli import queries as q
from intime_cli.seed import seed_org
from tests.soak import queries as sq
from tests.soak.clients import Web, WebClients
from tests.soak.journal import Journal
from tests.soak.peers import Delivery, ResendStub, SmtpSink
from tests.soak.processes import HARNESS_APP

DEALS_PER_ORG = 8
CAMPAIGN_POOL = 400
WAIT = "PT5S"


def soak_workflow(hook_url: str) -> dict[str, Any]:
    return {
        "triggers": [{"type": "field_change", "field": "value"}],
        "reenrollment": "concurrent",
        "steps": [
            {
                "name": "follow_up",
                "type": "create_task",
                "title": "Soak follow-up for {{deal.name}}",
                "assignee": "owner",
                "due_in": "P1D",
            },
            {
                "name": "mail_contact",
                "type": "send_email",
                "to": "lead_contact.email",
                "subject": "Soak: {{deal.name}} is now {{deal.value}}",
                "text": "Hello, {{owner.name}} updated {{deal.name}}.",
            },
            {"name": "hook", "type": "webhook", "url": hook_url},
            {"name": "pause", "type": "wait", "duration": WAIT},
            {
                "name": "tell_owner",
                "type": "send_notification",
                "to": ["owner"],
                "title": "Soak: {{deal.name}} went round",
                "message": "task, email, webhook and wait done",
                "channels": ["in_app"],
            },
        ],
    }


@dataclasses.dataclass
class OrgWorld:
    name: str
    slug: str
    provider: str
    org_id: uuid.UUID
    admin_id: uuid.UUID
    manager_id: uuid.UUID
    rep_ids: tuple[uuid.UUID, ...]
    deals: list[tuple[uuid.UUID, uuid.UUID]]  # (deal, owner)
    campaign_id: uuid.UUID
    campaign_pool: list[uuid.UUID]
    webhook_secret: str
    tokens: dict[uuid.UUID, str]

    def streamed_users(self) -> list[tuple[str, uuid.UUID]]:
        return [
            ("admin", self.admin_id),
            ("manager", self.manager_id),
            ("rep0", self.rep_ids[0]),
            ("rep1", self.rep_ids[1]),
        ]


def _one(conn: psycopg.Connection, query: LiteralString, params: dict[str, Any]) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def build_org(
    conn: psycopg.Connection, name: str, slug: str, provider: str, hook_url: str
) -> OrgWorld:
    """Each statement in a transaction of its own, as the org's admin: on Citus the
    service's own DML and an ``api`` function's (their owner's) may not touch one org's
    shards in one transaction (docs/scale-out.md), and one server does not mind."""
    seeded = seed_org(conn, name, slug)
    domain = f"{slug}.example"
    owners = seeded.rep_ids

    def one(query: LiteralString, params: dict[str, Any]) -> Any:
        with actor(conn, seeded.org_id, seeded.admin_id):
            return _one(conn, query, params)

    one(
        sq.SET_EMAIL_SETTINGS,
        {
            "from_email": f"sales@{domain}",
            "reply_domain": f"mail.{domain}",
            "from_name": name,
            "provider": provider,
        },
    )
    one(
        q.CREATE_WORKFLOW,
        {
            "name": "Soak: deal value changed",
            "entity_type": "deal",
            "definition": Jsonb(soak_workflow(hook_url)),
        },
    )
    deals = []
    for i in range(DEALS_PER_ORG):
        owner = owners[i % len(owners)]
        contact = one(
            q.INSERT_CONTACT,
            {
                "first_name": f"Deal{i}",
                "last_name": "Contact",
                "email": f"deal{i}.soak@client.{domain}",
                "account_id": None,
                "owner_id": owner,
                "timezone": "UTC",
            },
        )
        deal = one(
            q.INSERT_DEAL,
            {
                "name": f"Soak deal {i}",
                "account_id": None,
                "contact_id": contact,
                "owner_id": owner,
                "stage_id": seeded.stage_ids["Qualified"],
                "value": 1000,
                "close_in_days": 30,
            },
        )
        deals.append((deal, owner))
    with actor(conn, seeded.org_id, seeded.admin_id):
        pool = [
            row[0]
            for row in conn.execute(
                sq.INSERT_CAMPAIGN_CONTACTS,
                {"domain": domain, "owner_id": owners[0], "n": CAMPAIGN_POOL},
            ).fetchall()
        ]
    campaign = one(
        q.CREATE_CAMPAIGN,
        {
            "name": "Soak sequence",
            "start": "00:00",
            "end": "23:59:59",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "timezone": "UTC",
            "daily_limit": 100000,
            "min_sample": 100,
        },
    )
    for delay in (0, 1, 2):
        with actor(conn, seeded.org_id, seeded.admin_id):
            conn.execute(
                q.ADD_EMAIL_STEP,
                {
                    "campaign_id": campaign,
                    "delay_minutes": delay,
                    "subject": f"Soak step (+{delay} min) for {{{{contact.first_name}}}}",
                    "body_html": "<p>Hi {{contact.first_name}}, {{sender.name}} here.</p>",
                    "ab_variants": None,
                },
            )
    with actor(conn, seeded.org_id, seeded.admin_id):
        conn.execute(q.ENROLL_CONTACTS, {"campaign_id": campaign, "contact_ids": pool[:2]})
    with actor(conn, seeded.org_id, seeded.admin_id):
        conn.execute(q.ACTIVATE_CAMPAIGN, {"campaign_id": campaign})
    users = [seeded.admin_id, seeded.manager_id, *seeded.rep_ids]
    tokens: dict[uuid.UUID, str] = {}
    for user in users:
        with actor(conn, seeded.org_id, seeded.admin_id):
            row = conn.execute(
                q.CREATE_API_TOKEN, {"name": "soak stream", "user_id": user}
            ).fetchone()
        assert row is not None
        tokens[user] = str(row[1])
    secret = str(one(q.WEBHOOK_SIGNING_SECRET, {}))
    return OrgWorld(
        name=name,
        slug=slug,
        provider=provider,
        org_id=seeded.org_id,
        admin_id=seeded.admin_id,
        manager_id=seeded.manager_id,
        rep_ids=seeded.rep_ids,
        deals=deals,
        campaign_id=campaign,
        campaign_pool=pool[2:],
        webhook_secret=secret,
        tokens=tokens,
    )


def build_world(service_dsn: str, hook_url: Callable[[str], str]) -> list[OrgWorld]:
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        return [
            build_org(conn, "Soak SMTP", "soak-smtp", "smtp", hook_url("soak-smtp")),
            build_org(conn, "Soak Resend", "soak-resend", "resend", hook_url("soak-resend")),
        ]


def new_svix_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class ServiceConn:
    """One service-role connection of a load generator; reconnects after a failure."""

    def __init__(self, dsn: str, name: str, errors: Counter[str]) -> None:
        self.dsn, self.name, self.errors = dsn, name, errors
        self.conn: psycopg.AsyncConnection | None = None

    async def call(
        self,
        org_id: uuid.UUID,
        user_id: uuid.UUID | None,
        query: LiteralString,
        params: dict[str, Any],
    ) -> tuple[Any, ...] | None:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await psycopg.AsyncConnection.connect(
                    self.dsn, autocommit=True, application_name=HARNESS_APP, connect_timeout=5
                )
            async with async_actor(self.conn, org_id, user_id):
                cur = await self.conn.execute(query, params)
                return await cur.fetchone()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self.errors[f"{self.name}: {type(exc).__name__} (database unavailable)"] += 1
            await self.close()
        except (psycopg.Error, InTimeError) as exc:
            cause = exc.__cause__ if isinstance(exc, InTimeError) else exc
            if cause is not None and is_node_failure(cause):
                # A Citus node away (docs/scale-out.md, "A node away"): an outage too.
                self.errors[f"{self.name}: {type(exc).__name__} (a node unavailable)"] += 1
            else:
                self.errors[f"{self.name}: {type(exc).__name__}: {str(exc)[:120]}"] += 1
            await self.close()
        return None

    async def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self.conn.close()
        self.conn = None


def _malformed(n: int) -> tuple[str, bytes]:
    """One of the inbound messages issue 12 lists as answered 500 today."""
    mid = f"<malformed-{uuid.uuid4().hex}@soak.example>"
    head = f"Message-ID: {mid}\r\nSubject: malformed\r\n"
    kinds: list[tuple[str, str]] = [
        ('From: "', 'From: "\r\nTo: someone@soak.example\r\n'),
        ("To: <", "From: a@soak.example\r\nTo: <\r\n"),
        ("To: a@[", "From: a@soak.example\r\nTo: a@[\r\n"),
        (
            "encoded CR/LF in an address",
            "From: =?utf-8?q?evil=0D=0AX-Injected:_1?= <a@soak.example>\r\n"
            "To: =?utf-8?q?b=0D=0Ac?= <b@soak.example>\r\n",
        ),
    ]
    if n % 5 == 4:
        depth = 3000
        body = "".join(
            f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
            for i in range(depth)
        )
        body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        body += "".join(f"--b{i}--\r\n" for i in reversed(range(depth + 1)))
        raw = (
            f"{head}From: a@soak.example\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + body
        )
        return f"{depth} nested multiparts", raw.encode()
    label, headers = kinds[n % len(kinds)]
    return label, (head + headers + "\r\nbody\r\n").encode()


class Load:
    """The load generators; ``counters`` and ``errors`` are reported."""

    def __init__(
        self,
        *,
        world: list[OrgWorld],
        service_dsn: str,
        webs: WebClients,
        web_list: list[Web],
        sink: SmtpSink,
        stub: ResendStub,
        journal: Journal,
        seed: int,
        resend_secret: str,
        inbound_token: str,
    ) -> None:
        self.world = world
        self.service_dsn = service_dsn
        self.webs = webs
        self.web_list = web_list
        self.sink = sink
        self.stub = stub
        self.journal = journal
        self.rng = random.Random(seed)  # noqa: S311 - workload choices, not security
        self.signer = SvixWebhook(resend_secret)
        self.inbound_token = inbound_token
        self.counters: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.notifications_sent: dict[uuid.UUID, list[str]] = {}
        self.running = False
        self._tasks: list[asyncio.Task[None]] = []
        self._side: set[asyncio.Task[None]] = set()
        self._conns: list[ServiceConn] = []
        self._malformed = 0
        stub.on_new = self._on_resend_send

    def _conn(self, name: str) -> ServiceConn:
        conn = ServiceConn(self.service_dsn, name, self.errors)
        self._conns.append(conn)
        return conn

    def start(self) -> None:
        self.running = True
        loops: list[tuple[float, Callable[[], Awaitable[None]]]] = [
            (1.5, self._deal_update(self._conn("deals"))),
            (1.5, self._notification(self._conn("notifications"))),
            (20.0, self._enroll(self._conn("campaigns"))),
            (2.0, self._resend_event),
            (3.0, self._inbound),
            (2.0, self._healthz),
        ]
        self._tasks = [asyncio.create_task(self._every(period, step)) for period, step in loops]

    async def stop(self) -> None:
        self.running = False
        for task in [*self._tasks, *self._side]:
            task.cancel()
        for task in [*self._tasks, *self._side]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for conn in self._conns:
            await conn.close()

    async def _every(self, period: float, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(period * self.rng.uniform(0.5, 1.5))
            await step()

    # -- generators -------------------------------------------------------------------

    def _deal_update(self, conn: ServiceConn) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            org = self.rng.choice(self.world)
            deal, owner = self.rng.choice(org.deals)
            if await conn.call(org.org_id, owner, sq.UPDATE_DEAL, {"id": deal}) is not None:
                self.counters["deal updates (workflow starts)"] += 1

        return step

    def _notification(self, conn: ServiceConn) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            org = self.rng.choice(self.world)
            label, user = self.rng.choice(org.streamed_users())
            by_email = self.rng.random() < 0.25
            n = self.counters["notifications sent"] + 1
            row = await conn.call(
                org.org_id,
                org.admin_id,
                sq.SEND_NOTIFICATION,
                {
                    "user_id": user,
                    "title": f"Soak notification {n} for {label}",
                    "message": "from the soak harness",
                    "channels": ["in_app", "email"] if by_email else ["in_app"],
                },
            )
            if row is not None and row[0] is not None:
                self.counters["notifications sent"] += 1
                if by_email:
                    self.counters["notifications sent (also by email)"] += 1
                self.notifications_sent.setdefault(user, []).append(str(row[0]))

        return step

    def _enroll(self, conn: ServiceConn) -> Callable[[], Awaitable[None]]:
        async def step() -> None:
            for org in self.world:
                if len(org.campaign_pool) < 2:
                    continue
                batch = org.campaign_pool[:2]
                row = await conn.call(
                    org.org_id,
                    org.admin_id,
                    q.ENROLL_CONTACTS,
                    {"campaign_id": org.campaign_id, "contact_ids": batch},
                )
                if row is not None:
                    del org.campaign_pool[:2]
                    self.counters["campaign enrollments"] += len(batch)

        return step

    # -- Resend events ----------------------------------------------------------------

    def _on_resend_send(self, delivery: Delivery) -> None:
        """Now and then an event that races the worker's record of the send."""
        if self.running and delivery.provider_id and self.rng.random() < 0.2:
            task = asyncio.create_task(
                self._post_event("email.delivered", delivery, label="racing the record")
            )
            self._side.add(task)
            task.add_done_callback(self._side.discard)

    async def _post_event(
        self,
        kind: str,
        delivery: Delivery | None,
        *,
        svix_id: str | None = None,
        label: str = "",
        extra: dict[str, Any] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        email_id = delivery.provider_id if delivery else f"re_unknown_{uuid.uuid4().hex}"
        body = json.dumps(
            {
                "type": kind,
                "created_at": now.isoformat(),
                "data": {
                    "email_id": email_id,
                    "created_at": now.isoformat(),
                    "to": [delivery.to if delivery else "nobody@soak.example"],
                    "subject": delivery.subject if delivery else "?",
                    **(extra or {}),
                },
            }
        )
        svix_id = svix_id or f"msg_{uuid.uuid4().hex}"
        headers = {
            "svix-id": svix_id,
            "svix-timestamp": str(int(now.timestamp())),
            "svix-signature": self.signer.sign(svix_id, now, body),
            "content-type": "application/json",
        }
        response = await self.webs.post("/webhooks/resend", content=body, headers=headers)
        if response is None:
            outcome = "no answer"
        elif response.status_code == 200:
            outcome = str(response.json().get("result"))
        else:
            outcome = f"HTTP {response.status_code}"
        self.counters[f"resend events: {kind} -> {outcome}" + (f" ({label})" if label else "")] += 1

    async def _resend_event(self) -> None:
        sent = self.stub.deliveries[-300:]
        if not sent:
            return
        delivery = self.rng.choice(sent)
        roll = self.rng.random()
        if roll < 0.40:
            await self._post_event("email.delivered", delivery)
        elif roll < 0.55:
            await self._post_event("email.opened", delivery, label="before delivered")
            await self._post_event("email.delivered", delivery, label="after opened")
        elif roll < 0.70:
            svix_id = f"msg_{uuid.uuid4().hex}"
            await self._post_event("email.delivered", delivery, svix_id=svix_id)
            await self._post_event("email.delivered", delivery, svix_id=svix_id, label="replay")
        elif roll < 0.82:
            await self._post_event(
                "email.clicked", delivery, extra={"click": {"link": "https://x"}}
            )
        elif roll < 0.90:
            await self._post_event("email.delivery_delayed", delivery)
            await self._post_event("email.delivered", delivery, label="after delayed")
        elif roll < 0.95:
            # Only campaign prospects bounce: a bounced deal contact would suppress every
            # later workflow email of that deal (terminal, but no longer exercising sends).
            prospects = [d for d in sent if "@prospects." in d.to]
            if prospects:
                await self._post_event(
                    "email.bounced",
                    self.rng.choice(prospects),
                    extra={"bounce": {"type": "Permanent"}},
                )
        else:
            await self._post_event("email.delivered", None, label="unknown email id")

    # -- inbound mail -----------------------------------------------------------------

    async def _inbound(self) -> None:
        headers = {
            "content-type": "message/rfc822",
            "authorization": f"Bearer {self.inbound_token}",
        }
        if self.rng.random() < 0.1:
            label, raw = _malformed(self._malformed)
            self._malformed += 1
            response = await self.webs.post(
                "/webhooks/inbound", content=raw, headers=headers, label="/webhooks/inbound (bad)"
            )
            outcome = f"HTTP {response.status_code}" if response is not None else "no answer"
            self.counters[f"inbound malformed: {label} -> {outcome}"] += 1
            return
        recent = [*self.sink.deliveries[-200:], *self.stub.deliveries[-200:]]
        candidates = [d for d in recent if d.message_id and d.reply_to]
        if not candidates:
            return
        original = self.rng.choice(candidates)
        raw = (
            f"Message-ID: <reply-{uuid.uuid4().hex}@client.soak.example>\r\n"
            f"From: {original.to}\r\nTo: {original.reply_to}\r\n"
            f"In-Reply-To: {original.message_id}\r\nReferences: {original.message_id}\r\n"
            f"Subject: Re: {original.subject}\r\n\r\nThanks, let's talk.\r\n"
        ).encode()
        response = await self.webs.post("/webhooks/inbound", content=raw, headers=headers)
        if response is None:
            outcome = "no answer"
        elif response.status_code == 200:
            outcome = str(response.json().get("result"))
        else:
            outcome = f"HTTP {response.status_code}"
        self.counters[f"inbound replies -> {outcome}"] += 1

    async def _healthz(self) -> None:
        await asyncio.gather(*(self.webs.probe_health(web) for web in self.web_list))
