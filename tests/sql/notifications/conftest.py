"""Helpers for the notification tests: call the api as a user of org A."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from tests.support import TwoOrgs


def _named(params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    names = ", ".join(f"p_{k} => %({k})s" for k in params)
    values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}
    return names, values


@dataclasses.dataclass
class Notifier:
    conn: psycopg.Connection  # intime_service: every api call
    owner: psycopg.Connection  # superuser: reads engine state past RLS
    org_id: uuid.UUID
    sender_id: uuid.UUID

    def at(self, when: str | None) -> None:
        """Set the application clock (None: the real clock)."""
        self.conn.execute("select set_config('app.fake_now', %s, false)", (when or "",))

    def send(self, user_id: uuid.UUID, **params: Any) -> uuid.UUID | None:
        names, values = _named({"user_id": user_id, **params})
        with errors_translated(), actor(self.conn, self.org_id, self.sender_id):
            row = self.conn.execute(f"select api.send_notification({names})", values).fetchone()
        assert row is not None
        return row[0]

    def bulk(self, user_ids: list[uuid.UUID], **params: Any) -> list[tuple]:
        names, values = _named({"user_ids": user_ids, **params})
        with errors_translated(), actor(self.conn, self.org_id, self.sender_id):
            query = (
                f"select user_id, notification_id, outcome from api.send_notification_bulk({names})"
            )
            return self.conn.execute(query, values).fetchall()

    def as_user(self, user_id: uuid.UUID, query: str, params: Any = None) -> list[Any]:
        with errors_translated(), actor(self.conn, self.org_id, user_id):
            cur = self.conn.cursor(row_factory=dict_row)
            return cur.execute(query, params).fetchall()

    def prefer(self, user_id: uuid.UUID, **params: Any) -> dict:
        names, values = _named({**params})
        return self.as_user(user_id, f"select * from api.set_preference({names})", values)[0]

    def tick(self) -> dict:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute("select api.tick_notifications()").fetchone()
        assert row is not None
        return row[0]

    def deliveries(self, notification_id: uuid.UUID | None) -> dict[str, dict]:
        """channel -> delivery row (read as the owner: engine state)."""
        rows = (
            self.owner.cursor(row_factory=dict_row)
            .execute(
                "select d.*, s.status as email_status, s.to_email, s.subject, s.html_body, "
                "s.text_body from app.notification_deliveries d "
                "left join app.email_sends s on s.org_id = d.org_id and s.id = d.email_send_id "
                "where d.notification_id = %s",
                (notification_id,),
            )
            .fetchall()
        )
        return {r["channel"]: r for r in rows}


@pytest.fixture
def notifier(admin: psycopg.Connection, service: psycopg.Connection, two_orgs: TwoOrgs) -> Notifier:
    """Org A's admin sends; deliveries are read through the owner connection."""
    return Notifier(service, admin, two_orgs.a.org_id, two_orgs.a.admin_id)


@pytest.fixture
def sam(two_orgs: TwoOrgs) -> uuid.UUID:
    """A rep with no preference rows of their own (time zone UTC)."""
    return two_orgs.a.rep_ids[1]


def deal_notification(notifier: Notifier, user: uuid.UUID, **extra: Any) -> Any:
    """A 'deal' notification to ``user`` on in-app and email; ``extra`` overrides."""
    params = {
        "category": "deal",
        "title": "Deal news",
        "message": "m",
        "channels": ["in_app", "email"],
    }
    return notifier.send(user, **{**params, **extra})
