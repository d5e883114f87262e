"""Migration 0024 dropped the foreign keys the engine's own inserts re-proved on every row
(docs/architecture.md, "The engine's write path"): the org delete still removes every
row of the org, the composite parent keys still refuse a row of another org, and a
provider message id is still unique and found through its (now partial) index."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.support import TwoOrgs

# A send row with every required column (tokens random); provider_message_id last.
SEND = (
    "insert into app.email_sends (org_id, to_email, from_email, reply_to, subject, "
    "html_body, category, message_id, reply_token, unsubscribe_token, status, "
    "provider_message_id) values (%s, 'a@client.example', 'us@example.com', "
    "'us@example.com', 'Hi', '<p>Hi</p>', 'transactional', "
    "'<' || gen_random_uuid() || '@example.com>', md5(random()::text), "
    "md5(random()::text), 'queued', %s)"
)
ORG_TABLES = (
    "workflow_instances",
    "workflow_executions",
    "workflow_steps",
    "workflow_actions",
    "workflow_entity_locks",
    "email_sends",
    "campaign_sequence_logs",
)


def _counts(admin: psycopg.Connection, org_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for table in ORG_TABLES:
        row = admin.execute(
            f"select count(*) from app.{table} where org_id = %s",
            (org_id,),
        ).fetchone()
        assert row is not None
        counts[table] = row[0]
    return counts


def _fill(admin: psycopg.Connection, org_id: uuid.UUID) -> None:
    """An org's engine rows: a lock for its first execution, a send and a log line."""
    execution = admin.execute(
        "select id, entity_type, entity_id from app.workflow_executions where org_id = %s "
        "order by created_at limit 1",
        (org_id,),
    ).fetchone()
    assert execution is not None, "the seed starts a workflow execution"
    admin.execute(
        "insert into app.workflow_entity_locks (org_id, entity_type, entity_id, execution_id, "
        "reason) values (%s, %s, %s, %s, 'test') on conflict do nothing",
        (org_id, execution[1], execution[2], execution[0]),
    )
    admin.execute(SEND, (org_id, None))
    campaign = admin.execute(
        "select c.id, e.id from app.campaigns c join app.campaign_enrollments e "
        "on e.org_id = c.org_id and e.campaign_id = c.id where c.org_id = %s limit 1",
        (org_id,),
    ).fetchone()
    assert campaign is not None, "the seed enrolls a contact in a campaign"
    admin.execute(
        "insert into app.campaign_sequence_logs (org_id, campaign_id, enrollment_id, "
        "step_number, channel, status) values (%s, %s, %s, 1, 'email', 'sent')",
        (org_id, campaign[0], campaign[1]),
    )


def test_an_org_delete_removes_its_engine_rows_sends_and_log_lines(
    admin, two_orgs: TwoOrgs
) -> None:
    _fill(admin, two_orgs.a.org_id)
    _fill(admin, two_orgs.b.org_id)
    before_b = _counts(admin, two_orgs.b.org_id)
    assert all(before_b[t] > 0 for t in ("workflow_executions", "email_sends"))
    assert all(n > 0 for n in _counts(admin, two_orgs.a.org_id).values())
    admin.execute("delete from app.organizations where id = %s", (two_orgs.a.org_id,))
    assert _counts(admin, two_orgs.a.org_id) == dict.fromkeys(ORG_TABLES, 0)
    assert _counts(admin, two_orgs.b.org_id) == before_b


def test_an_execution_cannot_name_another_orgs_instance(admin, two_orgs: TwoOrgs) -> None:
    instance = admin.execute(
        "select id, workflow_id, entity_type, entity_id from app.workflow_instances "
        "where org_id = %s limit 1",
        (two_orgs.a.org_id,),
    ).fetchone()
    assert instance is not None
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        admin.execute(
            "insert into app.workflow_executions (org_id, instance_id, workflow_id, "
            "workflow_version, entity_type, entity_id, trigger_type) "
            "select %s, %s, %s, 1, %s, %s, 'manual'",
            (two_orgs.b.org_id, *instance),
        )


def test_a_step_cannot_name_another_orgs_execution(admin, two_orgs: TwoOrgs) -> None:
    execution = admin.execute(
        "select id from app.workflow_executions where org_id = %s limit 1",
        (two_orgs.a.org_id,),
    ).fetchone()
    assert execution is not None
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        admin.execute(
            "insert into app.workflow_steps (org_id, execution_id, position, step_name, "
            "step_type, step_kind) values (%s, %s, 0, 'x', 'action', 'create_task')",
            (two_orgs.b.org_id, execution[0]),
        )


def test_an_instance_cannot_name_a_missing_workflow(admin, two_orgs: TwoOrgs) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        admin.execute(
            "insert into app.workflow_instances (org_id, workflow_id, entity_type, entity_id) "
            "values (%s, %s, 'deal', %s)",
            (two_orgs.a.org_id, uuid.uuid4(), two_orgs.a.deal_ids[0]),
        )


def test_a_provider_message_id_stays_unique_and_indexed(admin, two_orgs: TwoOrgs) -> None:
    admin.execute(SEND, (two_orgs.a.org_id, None))
    admin.execute(SEND, (two_orgs.a.org_id, None))
    admin.execute(SEND, (two_orgs.a.org_id, "re_one"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute(SEND, (two_orgs.b.org_id, "re_one"))
    with admin.transaction():
        admin.execute("set local enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in admin.execute(
                "explain select s.org_id, s.id from app.email_sends as s "
                "where s.provider_message_id = %s",
                ("re_one",),
            ).fetchall()
        )
    assert "email_sends_provider_message_id_key" in plan
