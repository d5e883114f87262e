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


def test_moving_an_owned_deal_notifies_its_owner(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """A built-in notification: the deal trigger on the worker's shard sends it."""
    org = make_org(citus, citus_db[0])
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        stages = dict(
            admin.execute(
                "select name, id from app.deal_stages where org_id = %s", (org.org_id,)
            ).fetchall()
        )
        deal = admin.execute(
            "insert into app.deals (org_id, name, value, stage_id, owner_id)"
            " values (%s, 'Big one', 5000, %s, %s) returning id",
            (org.org_id, stages["Lead"], org.login_user_id),
        ).fetchone()
        assert deal is not None
        with actor(service, org.org_id, org.admin_id):
            service.execute(
                "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
                (deal[0], stages["Qualified"]),
            )
        sent = admin.execute(
            "select template_slug, entity_id from app.notifications"
            " where org_id = %s and user_id = %s",
            (org.org_id, org.login_user_id),
        ).fetchall()
    assert sent == [("deal_stage_changed", deal[0])]


def test_one_insert_of_tasks_across_shards_notifies_each_assignee(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """Built-in notifications of several orgs in one statement, committed in two phases:
    each worker's trigger sends its shards' task_assigned, without a NOTIFY."""
    orgs = [make_org(citus, citus_db[0]) for _ in range(4)]
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        deals = []
        for org in orgs:
            row = admin.execute(
                "insert into app.deals (org_id, name, value, stage_id)"
                " select %s, 'Deal', 1, s.id from app.deal_stages as s"
                " where s.org_id = %s and s.name = 'Lead' returning id",
                (org.org_id, org.org_id),
            ).fetchone()
            assert row is not None
            deals.append(row[0])
        admin.execute(
            "insert into app.activities"
            " (org_id, entity_type, entity_id, type, subject, assignee_id, status)"
            " select o.org_id, 'deal', o.deal_id, 'task', 'Call back', o.user_id, 'open'"
            " from unnest(%s::uuid[], %s::uuid[], %s::uuid[]) as o (org_id, deal_id, user_id)",
            ([o.org_id for o in orgs], deals, [o.login_user_id for o in orgs]),
        )
        sent = admin.execute(
            "select org_id, user_id from app.notifications"
            " where org_id = any(%s) and template_slug = 'task_assigned'",
            ([o.org_id for o in orgs],),
        ).fetchall()
    assert sorted(sent) == sorted((o.org_id, o.login_user_id) for o in orgs)
