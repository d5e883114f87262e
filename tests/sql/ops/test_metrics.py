"""api.get_metrics: the database's Prometheus gauges, one cheap statement per scrape."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import errors_translated
from intime.errors import ServiceRoleRequiredError
from tests.sql.ops.conftest import Ops, email_key
from tests.support import Database

# Minimal rows, written past triggers and foreign keys (session_replication_role =
# replica): the gauges count rows, and the plan test needs many of them.
EMAILS = """
insert into app.email_sends (
    org_id, to_email, from_email, reply_to, subject, html_body, category, message_id,
    reply_token, unsubscribe_token, status, provider, created_at, updated_at)
select %(org)s, 'x@example.com', 'a@example.com', 'r@example.com', 's', 'h', 'transactional',
    gen_random_uuid()::text, gen_random_uuid()::text, gen_random_uuid()::text, %(status)s,
    'smtp', now() - make_interval(secs => g), now() - make_interval(secs => g)
from generate_series(1, %(n)s) as g
"""
EXECUTIONS = """
insert into app.workflow_executions (
    org_id, instance_id, workflow_id, workflow_version, entity_type, entity_id, status,
    waiting_for, completed_at)
select %(org)s, gen_random_uuid(), gen_random_uuid(), 1, 'deal', gen_random_uuid(),
    %(status)s, case when %(status)s = 'waiting' then 'timer' end,
    case when %(status)s in ('completed', 'failed') then now() end
from generate_series(1, %(n)s)
"""
ENROLLMENTS = """
insert into app.campaign_enrollments (org_id, campaign_id, contact_id, status, next_step_at)
select %(org)s, gen_random_uuid(), gen_random_uuid(), %(status)s,
    case when %(status)s = 'active' then app.now() + %(due_in)s::interval end
from generate_series(1, %(n)s)
"""
DELIVERIES = """
insert into app.notification_deliveries (
    org_id, notification_id, user_id, channel, status, deliver_after)
select %(org)s, gen_random_uuid(), gen_random_uuid(), 'email', %(status)s,
    case when %(status)s in ('held', 'digest') then now() + interval '1 hour' end
from generate_series(1, %(n)s)
"""


def seed(owner: psycopg.Connection, statement: str, **params: object) -> None:
    with owner.transaction():
        owner.execute("set local session_replication_role = replica")
        owner.execute(statement, params)


def metrics(conn: psycopg.Connection) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with errors_translated():
        rows = conn.execute("select name, labels, value from api.get_metrics()").fetchall()
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in rows}


def test_the_metrics_are_for_the_service_role_only(db: Database, ops: Ops) -> None:
    with db.connect(ops.orgs.login_a) as conn, pytest.raises(ServiceRoleRequiredError):
        metrics(conn)


def test_the_gauges_count_the_work_in_flight(ops: Ops) -> None:
    org = ops.orgs.a.org_id
    before = metrics(ops.conn)  # the seed queued some emails already
    queued = ops.mail.queue(to="q@example.com", subject="Hi", text="x")
    held = ops.mail.queue(to="h@example.com", subject="Hi", text="x")
    ops.hold_failed(email_key(held))
    seed(ops.owner, EXECUTIONS, org=org, status="waiting", n=3)
    seed(ops.owner, EXECUTIONS, org=ops.orgs.b.org_id, status="waiting", n=2)
    seed(ops.owner, EXECUTIONS, org=org, status="completed", n=5)
    seed(ops.owner, ENROLLMENTS, org=org, status="active", due_in="-1 hour", n=4)
    seed(ops.owner, ENROLLMENTS, org=org, status="active", due_in="1 day", n=6)
    seed(ops.owner, DELIVERIES, org=org, status="held", n=2)
    seed(ops.owner, DELIVERIES, org=org, status="digest", n=1)
    seed(ops.owner, DELIVERIES, org=org, status="sent", n=7)
    after = metrics(ops.conn)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert grew("intime_queue_jobs", entrypoint="email.send", status="queued") == 1
    assert grew("intime_queue_jobs", entrypoint="email.send", status="failed") == 1
    assert after[("intime_queue_oldest_waiting_seconds", (("entrypoint", "email.send"),))] >= 0
    provider = ops.row("email_sends", queued)["provider"]
    # Both emails are still queued (the held job's email was never claimed).
    assert grew("intime_emails_in_flight", status="queued", provider=provider) == 2
    assert grew("intime_workflow_executions", status="waiting") == 5
    assert ("intime_workflow_executions", (("status", "completed"),)) not in after
    assert grew("intime_campaign_enrollments_due") == 4
    assert 3599 <= after[("intime_campaign_due_oldest_seconds", ())] <= 3700
    assert grew("intime_notifications_held", status="held") == 2
    assert grew("intime_notifications_held", status="digest") == 1


def test_the_gauges_exist_on_an_idle_database(ops: Ops) -> None:
    names = {name for name, _ in metrics(ops.conn)}
    assert {
        "intime_workflow_executions",
        "intime_campaign_enrollments_due",
        "intime_campaign_due_oldest_seconds",
        "intime_notifications_held",
    } <= names


def test_the_metrics_statement_reads_live_rows_through_indexes(ops: Ops) -> None:
    """The real statement's plan (auto_explain) over a long history: the finished rows
    are never scanned; only the queue (which holds only live jobs) and the org list are."""
    orgs = [ops.orgs.a.org_id, ops.orgs.b.org_id]
    for org in orgs:
        seed(ops.owner, EMAILS, org=org, status="delivered", n=20000)
        seed(ops.owner, EMAILS, org=org, status="queued", n=20)
        seed(ops.owner, EXECUTIONS, org=org, status="completed", n=20000)
        seed(ops.owner, EXECUTIONS, org=org, status="running", n=20)
        seed(ops.owner, ENROLLMENTS, org=org, status="completed", due_in="0", n=20000)
        seed(ops.owner, ENROLLMENTS, org=org, status="active", due_in="-1 minute", n=20)
        seed(ops.owner, DELIVERIES, org=org, status="sent", n=20000)
        seed(ops.owner, DELIVERIES, org=org, status="held", n=20)
    for table in ("email_sends", "workflow_executions", "campaign_enrollments",
                  "notification_deliveries"):  # fmt: skip
        ops.owner.execute(f"analyze app.{table}")
    plans: list[str] = []
    conn = ops.owner
    try:
        conn.execute("load 'auto_explain'")
    except psycopg.errors.UndefinedFile:
        pytest.skip("auto_explain is not installed with this PostgreSQL")
    conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    conn.execute("set auto_explain.log_min_duration = 0")
    conn.execute("set auto_explain.log_nested_statements = on")
    conn.execute("set auto_explain.log_level = notice")
    got = metrics(conn)
    [plan] = [p for p in plans if "intime_queue_jobs" in p]
    for table in ("email_sends", "workflow_executions", "campaign_enrollments",
                  "notification_deliveries"):  # fmt: skip
        assert f"Seq Scan on {table}" not in plan, plan
    assert "email_sends_in_flight_idx" in plan
    assert "workflow_executions_org_idx" in plan
    assert "campaign_enrollments_due_idx" in plan
    assert "notification_deliveries_due_idx" in plan
    assert got[("intime_workflow_executions", (("status", "running"),))] == 40
    assert got[("intime_campaign_enrollments_due", ())] == 40


def test_each_entrypoint_and_status_is_one_sample(ops: Ops) -> None:
    before = metrics(ops.conn)
    for _ in range(3):
        ops.mail.queue(to=f"{uuid.uuid4().hex[:8]}@example.com", subject="Hi", text="x")
    after = metrics(ops.conn)
    key = ("intime_queue_jobs", (("entrypoint", "email.send"), ("status", "queued")))
    assert after[key] - before.get(key, 0) == 3
    assert len([k for k in after if k[0] == "intime_queue_jobs"]) == len(
        {k for k in after if k[0] == "intime_queue_jobs"}
    )
