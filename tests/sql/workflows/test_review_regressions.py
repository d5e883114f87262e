"""Regressions found by the independent review of the workflow engine: each
test pins the fixed behaviour (one defect each)."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.errors import PermissionDeniedError
from tests.sql.workflows.conftest import Flows
from tests.sql.workflows.test_approvals import act, approval_workflow, start
from tests.sql.workflows.test_running import NAP, maintain
from tests.sql.workflows.test_running import start as start_manual
from tests.sql.workflows.test_state_machine import (
    approval_id,
    decide,
)
from tests.sql.workflows.test_steps import results, run_on_deal, webhook_execution

NAP_THEN_NOTE = [
    {"name": "nap", "type": "wait", "duration": "PT1H"},
    {"name": "note", "type": "create_activity", "subject": "x"},
]


def _org_b_lost_timer(flows: Flows) -> uuid.UUID:
    """Org B has a due timer whose job was lost: only the sweeper can wake it."""
    b = flows.orgs.b
    flows.at("2026-03-02T09:00:00Z")
    workflow_id = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP_THEN_NOTE},
        org_id=b.org_id,
        admin_id=b.admin_id,
    )
    [row] = flows.call(
        "select api.start_workflow(%s, %s) as id",
        (workflow_id, b.deal_ids[0]),
        org_id=b.org_id,
        user=b.admin_id,
    )
    flows.drain()
    flows.owner.execute("delete from queue.pgqueuer")
    return row["id"]


def _override(db, flows: Flows, slug: str) -> None:
    """A plain member of org A overrides an engine template with one that cannot render."""
    with db.connect(flows.orgs.login_a, autocommit=True) as member:
        member.execute(
            "insert into app.notification_templates (name, slug, category, title_template, "
            "message_template, variables) values ('x', %s, 'workflow', '{{zzz}}', 'm', "
            '\'[{"name": "zzz", "type": "string", "required": true}]\')',
            (slug,),
        )


def test_an_unknown_escalate_to_user_is_refused_by_validation(flows: Flows) -> None:
    a = flows.orgs.a
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                approval_workflow_definition(
                    {"approvers": [{"user": str(a.rep_ids[1])}], "escalate_to": str(uuid.uuid4())}
                )
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].escalate_to"]


def approval_workflow_definition(config: dict) -> dict:
    return {
        "triggers": [{"type": "manual"}],
        "steps": [{"name": "ok", "type": "approval", **config}],
    }


def test_a_members_template_override_cannot_stop_the_sweeper(flows: Flows, db) -> None:
    a = flows.orgs.a
    lost = _org_b_lost_timer(flows)
    start(
        flows,
        approval_workflow(flows, {"due_in": "PT1H", "approvers": [{"user": str(a.rep_ids[1])}]}),
    )
    _override(db, flows, "approval_escalated")
    flows.at("2026-03-02T10:30:00Z")
    swept = flows.sweep()
    assert (swept["woken"], swept["escalated"]) == (1, 1)
    assert flows.drain() == ["completed"]
    assert flows.execution(lost)["status"] == "completed"


def test_one_orgs_odd_data_cannot_stop_another_orgs_schedules(flows: Flows) -> None:
    a, b = flows.orgs.a, flows.orgs.b
    flows.at("2026-03-02T08:00:00Z")
    daily = {"type": "scheduled", "cron": "0 9 * * *", "timezone": "UTC"}
    steps = [{"name": "note", "type": "create_activity", "subject": "daily"}]
    theirs = flows.create(
        {"triggers": [daily], "steps": steps}, org_id=b.org_id, admin_id=b.admin_id
    )
    flows.create(
        {
            "triggers": [{**daily, "filter": {"field": "name", "operator": "gte", "value": 10}}],
            "steps": steps,
        }
    )
    flows.write(
        "update app.deals set name = '7E200000' where id = %s", (a.deal_ids[0],), user=a.rep_ids[0]
    )
    flows.at("2026-03-02T09:00:30Z")
    flows.sweep()
    assert len(flows.executions(theirs)) > 0


def test_a_numeric_looking_name_never_breaks_a_write(flows: Flows) -> None:
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "updated"}],
            "conditions": {"field": "name", "operator": "eq", "value": 5},
            "steps": [{"name": "note", "type": "create_activity", "subject": "x"}],
        }
    )
    flows.write(
        "update app.deals set name = '7E200000' where id = %s", (a.deal_ids[0],), user=a.rep_ids[0]
    )
    assert flows.deal(a.deal_ids[0])["name"] == "7E200000"


def test_a_member_cannot_tie_an_email_to_a_workflow_action(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    with pytest.raises(PermissionDeniedError, match="workflow engine only"):
        flows.call(
            "select api.queue_email(p_to => 'me@example.com', p_subject => 'x', p_text => 'y', "
            "p_workflow_action_id => %s)",
            (action_id,),
            user=flows.orgs.a.rep_ids[1],
        )


def test_a_workflow_failed_override_cannot_wedge_a_failing_execution(flows: Flows, db) -> None:
    _override(db, flows, "workflow_failed")
    execution = start_manual(
        flows,
        [{"name": "bad", "type": "update_field", "field": "value", "value": "lots"}],
        max_retries=0,
    )
    flows.drain()
    row = flows.execution(execution)
    assert row["status"] == "failed"
    assert any("notification workflow_failed not sent" in line for line in flows.logs(execution))


def test_an_approval_required_override_cannot_block_a_chain(flows: Flows, db) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers}))
    _override(db, flows, "approval_required")
    assert act(flows, execution, a.manager_id) == "open"
    assert act(flows, execution, a.admin_id) == "approved"


def test_transition_steps_may_not_take_the_engines_step_names(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                {
                    "triggers": [{"type": "manual"}],
                    "states": [{"name": "a", "type": "initial"}, {"name": "b"}],
                    "transitions": [
                        {
                            "name": "t",
                            "from": "a",
                            "to": "b",
                            "approval": {"approvers": [{"manager": True}], "next": "nowhere"},
                            "steps": [{"name": "move", "type": "create_activity", "subject": "s"}],
                        }
                    ],
                }
            ),
        ),
    )
    assert {r["path"] for r in rows} == {
        "$.transitions[0].approval.next",
        "$.transitions[0].steps[0].name",
    }


def test_unknown_step_keys_are_problems(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                approval_workflow_definition(
                    {"approvers": [{"manager": True}], "lok_entity": False}
                )
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].lok_entity"]


def test_reassign_on_a_type_whose_owner_is_not_updatable_is_a_problem(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'submission')",
        (
            Jsonb(
                {
                    "triggers": [{"type": "created"}],
                    "steps": [{"name": "e", "type": "escalate", "action": "reassign"}],
                }
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].action"]


def test_a_run_that_keeps_failing_is_failed_by_the_sweeper_not_requeued(flows: Flows) -> None:
    execution = start_manual(flows, [{"name": "n", "type": "create_activity", "subject": "x"}])
    flows.owner.execute("delete from queue.pgqueuer")
    flows.owner.execute(
        "update app.workflow_executions set updated_at = updated_at - interval '6 minutes', "
        "execution_context = '{\"requeued\": 3}' where id = %s",
        (execution,),
    )
    assert flows.sweep()["poisoned"] == 1
    row = flows.execution(execution)
    assert (row["status"], row["error_message"]) == ("failed", "the run failed repeatedly")


def test_retrying_a_rejected_chain_asks_every_approver_again(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers}))
    assert act(flows, execution, a.manager_id) == "open"
    assert act(flows, execution, a.admin_id, "reject") == "rejected"
    flows.drain()
    assert flows.execution(execution)["status"] == "failed"
    flows.call("select api.retry_execution(%s)", (execution,), user=a.rep_ids[0])
    flows.drain()
    assert act(flows, execution, a.manager_id) == "open"
    assert act(flows, execution, a.admin_id) == "approved"


def test_start_workflow_needs_a_manual_trigger(flows: Flows) -> None:
    workflow_id = flows.create(
        {
            "triggers": [{"type": "status_change", "to": "won"}],
            "steps": [{"name": "invoice", "type": "webhook", "url": "https://billing.example/won"}],
        }
    )
    with pytest.raises(Exception, match="no manual trigger"):
        flows.call(
            "select api.start_workflow(%s, %s)",
            (workflow_id, flows.orgs.a.deal_ids[1]),
            user=flows.orgs.a.rep_ids[1],
        )
    assert flows.jobs("webhook.deliver") == []


def test_an_email_subject_is_rendered_once(flows: Flows) -> None:
    a = flows.orgs.a
    flows.write(
        "update app.deals set name = %s where id = %s",
        ("{{owner.email}} / {{org.id}}", a.deal_ids[0]),
        user=a.rep_ids[0],
    )
    execution = run_on_deal(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "lead_contact.email",
                "subject": "About {{deal.name}}",
                "text": "hello",
            }
        ],
    )
    send_id = results(flows, execution)["mail"]["email_send_id"]
    subject = flows.owner.execute(
        "select subject from app.email_sends where id = %s", (send_id,)
    ).fetchone()
    assert subject == ("About {{owner.email}} / {{org.id}}",)


def test_maintenance_does_not_wait_for_a_held_advisory_lock(flows: Flows, db) -> None:
    with db.connect(flows.orgs.login_a, autocommit=True) as member:
        member.execute("select pg_advisory_lock(444770001)")
        assert "skipped" in maintain(flows)


def test_a_log_line_committed_during_maintenance_cannot_break_the_attach(flows: Flows, db) -> None:
    flows.at("2026-11-15T00:00:00Z")
    execution = start_manual(flows, NAP)
    with db.connect() as other:
        other.execute(
            "insert into app.workflow_execution_logs (org_id, execution_id, message, occurred_at) "
            "values (%s, %s, 'concurrent', '2026-11-15T00:00:01Z')",
            (flows.org_id, execution),
        )
        outcome: dict = {}

        def run() -> None:
            try:
                outcome["ok"] = maintain(flows)
            except psycopg.Error as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(0.5)
        other.commit()
        thread.join(20)
    assert "error" not in outcome, outcome.get("error")


def test_the_approval_lock_holds_until_the_transition_moved(flows: Flows) -> None:
    a = flows.orgs.a
    workflow_id = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "states": [{"name": "a", "type": "initial"}, {"name": "b"}, {"name": "c"}],
            "transitions": [
                {
                    "name": "t1",
                    "from": "a",
                    "to": "b",
                    "approval": {"approvers": [{"manager": True}]},
                },
                {"name": "t2", "from": "a", "to": "c"},
            ],
        }
    )
    flows.call("select api.start_workflow(%s, %s)", (workflow_id, a.deal_ids[0]))
    flows.drain()
    [instance] = flows.call(
        "select * from api.get_workflow_instance(%s, %s)", (workflow_id, a.deal_ids[0])
    )
    [res] = flows.call("select api.transition_entity(%s, 'b') as r", (instance["instance_id"],))
    flows.drain()
    execution = uuid.UUID(res["r"]["execution_id"])
    decide(flows, "approve", approval_id(flows, execution, a.manager_id), a.manager_id)
    with pytest.raises(Exception, match="locked"):
        flows.call("select api.transition_entity(%s, 'c')", (instance["instance_id"],))
    flows.drain()
    [after] = flows.call(
        "select * from api.get_workflow_instance(%s, %s)", (workflow_id, a.deal_ids[0])
    )
    assert (after["state"], after["locked"]) == ("b", False)


def test_a_webhook_result_reported_while_paused_is_kept(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call("select api.pause_execution(%s)", (execution["id"],))
    [o] = flows.call(
        "select api.complete_action(%s, '{\"status_code\": 201}', %s) as o",
        (action_id, flows.org_id),
    )
    assert o["o"] == "recorded"
    flows.call("select api.resume_execution(%s)", (execution["id"],))
    flows.drain()
    row = flows.execution(execution["id"])
    assert row["status"] == "completed"
    assert results(flows, row)["hook"]["status_code"] == 201


def test_resume_during_a_retry_backoff_keeps_the_backoff(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call(
        "select api.fail_action(p_action_id => %s, p_error => 'HTTP 503', "
        "p_retry_after_seconds => 600, p_org_id => %s)",
        (action_id, flows.org_id),
    )
    flows.call("select api.pause_execution(%s)", (execution["id"],))
    flows.call("select api.resume_execution(%s)", (execution["id"],))
    row = flows.execution(execution["id"])
    assert (row["status"], row["waiting_for"]) == ("waiting", "retry")
    assert flows.run(execution["id"]) == "waiting"


def test_cron_day_fields_follow_vixie(flows: Flows) -> None:
    # "*/2" in day-of-month does not make the day fields an OR: both must match
    # (Monday the 9th, odd: yes; Monday the 2nd, even: no).
    row = flows.owner.execute(
        "select app._wf_cron_matches('0 9 */2 * 1', '2026-11-09 09:00'::timestamp), "
        "app._wf_cron_matches('0 9 */2 * 1', '2026-11-02 09:00'::timestamp)"
    ).fetchone()
    assert row == (True, False)
