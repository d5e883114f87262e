"""Helpers for the campaign tests: build campaigns as org A's admin, run the
tick as the service role (the worker's job), and read state past RLS."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from tests.support import Queues, TwoOrgs

# A Monday 10:00 in New York (15:00 UTC): inside the default window.
MONDAY_10 = "2026-06-01 10:00:00-04"


@dataclasses.dataclass
class Campaigns:
    conn: psycopg.Connection  # intime_service: every api call
    owner: psycopg.Connection  # superuser: reads state past RLS
    orgs: TwoOrgs
    # The job queue (every node's on a Citus cluster); None: the owner's.
    queues: Queues | None = None

    @property
    def queue(self) -> psycopg.Connection:
        """A superuser session on the queue org A's triggers write to (on a Citus
        cluster, the node that holds org A's shards)."""
        return self.queues.of_org(self.org_id) if self.queues else self.owner

    @property
    def org_id(self) -> uuid.UUID:
        return self.orgs.a.org_id

    @property
    def admin_id(self) -> uuid.UUID:
        return self.orgs.a.admin_id

    def at(self, when: str | None) -> None:
        """Set the application clock (None: the real clock)."""
        self.conn.execute("select set_config('app.fake_now', %s, false)", (when or "",))

    def call(
        self,
        query: str,
        params: Any = None,
        *,
        user: uuid.UUID | None = None,
        org_id: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        """Run an api query as a user of org A (default: the admin)."""
        with errors_translated(), actor(self.conn, org_id or self.org_id, user or self.admin_id):
            cur = self.conn.cursor(row_factory=dict_row)
            return cur.execute(query, params).fetchall()

    def one(self, query: str, params: Any = None, **kwargs: Any) -> Any:
        rows = self.call(query, params, **kwargs)
        assert len(rows) == 1
        return next(iter(rows[0].values()))

    def create(self, **params: Any) -> uuid.UUID:
        params.setdefault("name", "Outreach")
        names = ", ".join(f"p_{k} => %({k})s" for k in params)
        return self.one(f"select api.create_campaign({names})", params)

    def step(self, campaign_id: uuid.UUID, channel: str, **params: Any) -> uuid.UUID:
        values = {k: Jsonb(v) if isinstance(v, (dict, list)) else v for k, v in params.items()}
        values |= {"campaign_id": campaign_id, "channel": channel}
        names = ", ".join(f"p_{k} => %({k})s" for k in values)
        return self.one(f"select api.add_sequence_step({names})", values)

    def email_step(self, campaign_id: uuid.UUID, **params: Any) -> uuid.UUID:
        params.setdefault("subject", "Hi {{ contact.first_name }}")
        params.setdefault("body_html", "<p>Hello {{contact.first_name}} at {{contact.company}}</p>")
        return self.step(campaign_id, "email", **params)

    def activate(self, campaign_id: uuid.UUID) -> int:
        return self.one("select api.activate_campaign(p_campaign_id => %s)", (campaign_id,))

    def contacts(
        self, n: int, *, prefix: str = "p", timezone: str | None = None
    ) -> list[uuid.UUID]:
        """n new contacts of org A with distinct addresses."""
        tag = uuid.uuid4().hex[:6]
        rows = self.call(
            "insert into app.contacts (first_name, last_name, email, company_name, timezone) "
            "select 'First' || g, 'Last' || g, %(prefix)s || g || '.' || %(tag)s || '@ex.test', "
            "'Co ' || g, %(tz)s from generate_series(1, %(n)s) as g returning id",
            {"n": n, "prefix": prefix, "tag": tag, "tz": timezone},
        )
        return [r["id"] for r in rows]

    def enroll(self, campaign_id: uuid.UUID, contact_ids: list[uuid.UUID]) -> dict[str, int]:
        return self.one(
            "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
            (campaign_id, contact_ids),
        )

    def tick(self, batch_size: int = 1000) -> dict[str, Any]:
        with errors_translated(), self.conn.transaction():
            cur = self.conn.cursor(row_factory=dict_row)
            row = cur.execute(
                "select * from api.tick_campaigns(p_batch_size => %s)", (batch_size,)
            ).fetchone()
        assert row is not None
        return row

    def enrollments(self, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        return cur.execute(
            "select e.*, k.email from app.campaign_enrollments as e "
            "join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id "
            "where e.campaign_id = %s order by k.email",
            (campaign_id,),
        ).fetchall()

    def enrollment(self, enrollment_id: uuid.UUID) -> dict[str, Any]:
        cur = self.owner.cursor(row_factory=dict_row)
        row = cur.execute(
            "select * from app.campaign_enrollments where id = %s", (enrollment_id,)
        ).fetchone()
        assert row is not None
        return row

    def campaign(self, campaign_id: uuid.UUID) -> dict[str, Any]:
        cur = self.owner.cursor(row_factory=dict_row)
        row = cur.execute("select * from app.campaigns where id = %s", (campaign_id,)).fetchone()
        assert row is not None
        return row

    def logs(self, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        return cur.execute(
            "select * from app.campaign_sequence_logs where campaign_id = %s order by id",
            (campaign_id,),
        ).fetchall()

    def sends(self, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        return cur.execute(
            "select s.* from app.email_sends as s join app.campaign_enrollments as e "
            "on e.org_id = s.org_id and e.id = s.enrollment_id where e.campaign_id = %s "
            "order by s.to_email, s.created_at",
            (campaign_id,),
        ).fetchall()

    def jobs(self, entrypoint: str = "email.send") -> list[dict[str, Any]]:
        """The queued jobs of ``entrypoint`` on every node: payload, id and dedupe key."""
        rows = (self.queues or Queues([self.owner])).rows(
            "select id, payload, dedupe_key from queue.pgqueuer where entrypoint = %s order by id",
            (entrypoint,),
        )
        return [{"id": r[0], **json.loads(bytes(r[1])), "dedupe_key": r[2]} for _, r in rows]

    def stats(self, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
        return self.call(
            "select * from api.get_campaign_stats(p_campaign_id => %s)", (campaign_id,)
        )


@pytest.fixture
def camp(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs, queues: Queues
) -> Campaigns:
    """Both orgs as seeded, minus the seed's campaigns and queued jobs, the
    clock on a Monday 10:00 in New York."""
    admin.execute("delete from app.campaigns")
    admin.execute("delete from app.campaign_sequence_logs")
    admin.execute("delete from app.campaign_sequence_logs_archive")
    queues.execute("delete from queue.pgqueuer")
    c = Campaigns(service, admin, two_orgs, queues)
    c.at(MONDAY_10)
    return c
