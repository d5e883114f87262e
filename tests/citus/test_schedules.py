"""The worker's minute schedules on the cluster (docs/scale-out.md, "Open", item 9):
api.tick_workflows escalates overdue approvals and fires scheduled workflows there,
api.tick_notifications releases held deliveries and sends digests, and
api.purge_expired_notifications and api.purge_expired_data purge: each reads its
candidates unlocked, then locks one org's (or one row) at a time. The reconciliation
(api.tick_workflows' part, api.reconcile_in_flight_work): tests/citus/test_reconcile.py."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime import migrate, pgcluster
from intime.db import actor
from intime_cli.seed import SeededOrg, seed_org
from tests.support import Mail, event

EVERY_MINUTE = {
    "triggers": [{"type": "scheduled", "cron": "* * * * *", "timezone": "UTC"}],
    "steps": [
        {
            "name": "check_in",
            "type": "create_task",
            "title": "Check in on {{deal.name}}",
            "assignee": "owner",
        }
    ],
}


@pytest.fixture(scope="module")
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> SeededOrg:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        return seed_org(service, "Schedules Co", f"schedules-{uuid.uuid4().hex[:8]}")


def test_the_workflow_tick_runs_on_the_cluster_with_its_reconciliation(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        row = service.execute("select api.tick_workflows(p_limit => 1000)").fetchone()
    assert row is not None
    assert "reconcile" not in row[0]  # tests/citus/test_reconcile.py: what it does
    assert set(row[0]) == {"escalated", "scheduled", "stalled", "poisoned", "woken"}


def test_a_scheduled_workflow_fires_for_every_deal_of_its_org_on_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        with actor(service, org.org_id, org.admin_id):
            row = service.execute(
                "select api.create_workflow(p_name => 'daily check-in', p_entity_type => 'deal',"
                " p_definition => %s)",
                (Jsonb(EVERY_MINUTE),),
            ).fetchone()
        assert row is not None
        workflow_id = row[0]
        with psycopg.connect(citus_db[0], autocommit=True) as admin:
            # Its last minute fired two minutes ago: the next tick fires it once.
            admin.execute(
                "update app.workflows set schedule_fired_at = now() - interval '2 minutes'"
                " where org_id = %s and id = %s",
                (org.org_id, workflow_id),
            )
            deals = admin.execute(
                "select count(*) from app.deals where org_id = %s and deleted_at is null",
                (org.org_id,),
            ).fetchone()
        ticked = service.execute("select api.tick_workflows(p_limit => 1000)").fetchone()
        service.commit()
        again = service.execute("select api.tick_workflows(p_limit => 1000)").fetchone()
        service.commit()
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        started = admin.execute(
            "select count(*), count(distinct entity_id) from app.workflow_executions"
            " where org_id = %s and workflow_id = %s and trigger_type = 'scheduled'",
            (org.org_id, workflow_id),
        ).fetchone()
    assert deals is not None
    assert ticked is not None
    assert again is not None
    assert deals[0] > 0
    assert ticked[0]["scheduled"] == deals[0]
    assert started == (deals[0], deals[0])
    assert again[0]["scheduled"] == 0  # the same minute never fires twice


def _send_with_email(service: psycopg.Connection, org: SeededOrg, title: str) -> uuid.UUID:
    with actor(service, org.org_id):
        row = service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => %s,"
            " p_message => 'm', p_channels => array['in_app', 'email'])",
            (org.rep_ids[0], title),
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _email_delivery(admin: psycopg.Connection, org: SeededOrg, notification_id: uuid.UUID) -> str:
    row = admin.execute(
        "select status from app.notification_deliveries"
        " where org_id = %s and notification_id = %s and channel = 'email'",
        (org.org_id, notification_id),
    ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(("waiting", "counted"), [("held", "released"), ("digest", "digests")])
def test_the_notification_tick_lets_a_waiting_email_go_on_the_cluster(
    citus: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
    org: SeededOrg,
    waiting: str,
    counted: str,
) -> None:
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        notification_id = _send_with_email(service, org, f"waiting {waiting}")
        # Its quiet window (or digest slot) ended a minute ago.
        admin.execute(
            "update app.notification_deliveries set status = %s,"
            " deliver_after = now() - interval '1 minute'"
            " where org_id = %s and notification_id = %s and channel = 'email'",
            (waiting, org.org_id, notification_id),
        )
        row = service.execute("select api.tick_notifications(p_limit => 1000)").fetchone()
        service.commit()
        status = _email_delivery(admin, org, notification_id)
    assert row is not None
    assert row[0][counted] >= 1
    assert status not in ("held", "digest")


def test_expired_notifications_are_purged_on_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        notification_id = _send_with_email(service, org, "expiring")
        admin.execute(
            "update app.notifications set expires_at = now() - interval '1 minute'"
            " where org_id = %s and id = %s",
            (org.org_id, notification_id),
        )
        row = service.execute("select api.purge_expired_notifications(p_limit => 1000)").fetchone()
        service.commit()
        left = admin.execute(
            "select count(*) from app.notifications where org_id = %s and id = %s",
            (org.org_id, notification_id),
        ).fetchone()
    assert row is not None
    assert row[0] >= 1
    assert left == (0,)


def test_an_orgs_expired_history_is_purged_on_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        aged = admin.execute(
            "update app.entity_history set changed_at = now() - interval '4000 days'"
            " where org_id = %s",
            (org.org_id,),
        ).rowcount
        with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
            row = service.execute("select api.purge_expired_data(p_limit => 100000)").fetchone()
            service.commit()
        left = admin.execute(
            "select count(*) from app.entity_history where org_id = %s", (org.org_id,)
        ).fetchone()
    assert aged > 0
    assert row is not None
    assert row[0]["entity_history"] >= aged
    assert left == (0,)


def test_an_event_parked_while_its_send_was_recorded_is_applied_on_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """Open item 17: the ingest (where the web app connects) and api.record_email_sent
    (the org's node) may run on different nodes, where the message's advisory lock keeps
    nothing apart; an event parked meanwhile is applied by the reconciliation, which
    runs that part on a cluster too."""
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service"), autocommit=True) as svc,
        psycopg.connect(citus.coordinator.dsn("intime"), autocommit=True) as admin,
    ):
        mail = Mail(svc, org.org_id, org.admin_id)
        send_id = mail.queue(to="late@example.com", subject="Hi", text="x")
        message_id = f"re_{uuid.uuid4().hex}"
        assert mail.sent(send_id, message_id) == "sent"
        payload = event("email.bounced", message_id, bounce={"type": "Permanent"})
        admin.execute(
            "insert into app.email_events_pending "
            "(provider_event_id, provider_message_id, payload) values (%s, %s, %s)",
            (f"msg_{uuid.uuid4().hex}", message_id, Jsonb(payload)),
        )
        row = svc.execute("select api.reconcile_in_flight_work(p_limit => 1000)").fetchone()
        assert row is not None
        assert row[0]["email_events_applied"] == 1
        assert mail.send_row(send_id)["status"] == "bounced"
        left = admin.execute(
            "select count(*) from app.email_events_pending where provider_message_id = %s",
            (message_id,),
        ).fetchone()
    assert left == (0,)
