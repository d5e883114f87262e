"""Notifications on the cluster: api.send_notification from the coordinator writes the
notification and its deliveries on the worker that holds the org (docs/scale-out.md)."""

from __future__ import annotations

import psycopg

from intime import migrate, pgcluster
from intime.db import actor
from tests.citus.conftest import Org, make_org

SEND = (
    "select api.send_notification(p_user_id => %s, p_category => 'system',"
    " p_title => %s, p_message => 'There', p_group_key => %s)"
)


def _send(service: psycopg.Connection, org: Org, title: str, group: str | None = None) -> object:
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(SEND, (org.login_user_id, title, group)).fetchone()
    assert row is not None
    return row[0]


def test_a_sent_notification_is_stored_with_its_deliveries(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    org = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        notification_id = _send(service, org, "Hi")
        stored = admin.execute(
            "select n.user_id, n.title, d.channel, d.status from app.notifications as n"
            " inner join app.notification_deliveries as d"
            "  on d.org_id = n.org_id and d.notification_id = n.id"
            " where n.org_id = %s and n.id = %s order by d.channel",
            (org.org_id, notification_id),
        ).fetchall()
    assert stored == [
        (org.login_user_id, "Hi", "email", "skipped"),  # the org has no email provider
        (org.login_user_id, "Hi", "in_app", "delivered"),
    ]


def test_a_collapsed_notification_keeps_its_row_and_takes_a_later_seq(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    org = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        first = _send(service, org, "One", "deal-1")
        seq = admin.execute(
            "select seq from app.notifications where org_id = %s and id = %s",
            (org.org_id, first),
        ).fetchone()
        second = _send(service, org, "Two", "deal-1")
        after = admin.execute(
            "select seq, group_count, title from app.notifications where org_id = %s and id = %s",
            (org.org_id, first),
        ).fetchone()
    assert second == first
    assert seq is not None
    assert after is not None
    assert after[0] > seq[0]
    assert after[1:] == (2, "Two")
