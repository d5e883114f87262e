"""Set-based steps (issue 17): in a batch, fresh executions of one workflow whose steps
are a straight run of create_task, create_activity and update_field run one statement
per step for the whole group; anything the group cannot do as a set sends it one by one,
with the outcome a single run has. A row's xmin and cmin name the statement that wrote
it: one statement for the group gives the group's rows one (xmin, cmin)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidStateError
from tests.sql.workflows.conftest import Flows
from tests.sql.workflows.test_approvals import approval_workflow, locks, start
from tests.sql.workflows.test_batches import THREE_STEPS, on_value, touch


def writes(flows: Flows, workflow_id: uuid.UUID, activity_type: str) -> set[tuple[Any, Any]]:
    """The (xmin, cmin) of the statements that wrote the workflow's activities of a type."""
    rows = flows.owner.execute(
        "select a.xmin::text, a.cmin::text from app.activities as a "
        "where a.type = %s and a.metadata ->> 'workflow_id' = %s",
        (activity_type, str(workflow_id)),
    ).fetchall()
    return set(rows)


def deal_writes(flows: Flows, deal_ids: list[uuid.UUID]) -> set[tuple[Any, Any]]:
    rows = flows.owner.execute(
        "select d.xmin::text, d.cmin::text from app.deals as d where d.id = any(%s)",
        (deal_ids,),
    ).fetchall()
    return set(rows)


def test_a_group_runs_each_step_as_one_statement(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    executions = flows.executions(wf)
    assert len(executions) >= 2
    counts = flows.run_batch()
    assert counts["completed"] == len(executions)
    assert len(writes(flows, wf, "task")) == 1
    assert len(writes(flows, wf, "note")) == 1
    assert len(deal_writes(flows, [e["entity_id"] for e in executions])) == 1


def test_the_switch_off_runs_the_group_one_by_one(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    executions = flows.executions(wf)
    counts = flows.run_batch(sets=False)
    assert counts["completed"] == len(executions)
    assert len(writes(flows, wf, "task")) == len(executions)


NOTIFY = {
    "name": "tell",
    "type": "send_notification",
    "to": ["owner"],
    "title": "{{deal.name}} is now {{deal.description}}",
    "message": "After {{steps.task.activity_id}}",
}


def without_ids(value: Any) -> Any:
    """A step result without the ids of the rows it made (activities, notifications)."""
    if isinstance(value, dict):
        return {
            k: without_ids(v)
            for k, v in value.items()
            if k not in ("activity_id", "notification_id")
        }
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


@pytest.mark.parametrize(
    "steps",
    [THREE_STEPS, [*THREE_STEPS[:2], NOTIFY, THREE_STEPS[2]]],
    ids=["task, field, note", "task, field, notification, note"],
)
def test_a_set_and_one_by_one_leave_the_same_rows(flows: Flows, steps: list[Any]) -> None:
    """Steps, results, execution rows, activities, notifications, field values and
    timelines: the set's are those of the one-by-one runs (ids and times aside)."""
    first = on_value(flows, steps, name="one by one")
    touch(flows)
    flows.run_batch(sets=False)
    second = on_value(flows, steps, name="as a set")
    flows.owner.execute("update app.workflows set is_active = false where id = %s", (first,))
    flows.write("update app.deals set description = null")
    touch(flows)
    flows.run_batch()
    assert len(writes(flows, second, "task")) == 1
    assert len(writes(flows, second, "note")) == 1

    def shape(execution: dict[str, Any]) -> Any:
        row = flows.execution(execution["id"])
        steps = [
            (s["step_type"], s["step_kind"], s["step_name"], s["position"], s["status"],
             s["attempts"], without_ids(s["result"]))
            for s in flows.steps(execution["id"])
        ]  # fmt: skip
        context = without_ids(row["execution_context"]["steps"])
        notes = flows.owner.execute(
            "select n.user_id, n.title ~ ' is now touched$', n.group_count, n.category "
            "from app.notifications as n where n.entity_id = %s "
            "and n.data -> 'execution' ->> 'id' = %s order by n.created_at",
            (row["entity_id"], str(execution["id"])),
        ).fetchall()
        acts = flows.owner.execute(
            "select type, subject, description, status, priority, assignee_id, "
            "completed_at is not null, due_date is not null "
            "from app.activities where metadata ->> 'execution_id' = %s order by type",
            (str(execution["id"]),),
        ).fetchall()
        return (
            row["entity_id"], row["status"], row["current_step_index"], row["retry_count"],
            row["runs"], row["error_message"], context, steps, acts, notes,
            flows.logs(execution["id"]),
        )  # fmt: skip

    by_deal = {e["entity_id"]: shape(e) for e in flows.executions(first)}
    got = {e["entity_id"]: shape(e) for e in flows.executions(second)}
    assert got.keys() == by_deal.keys()
    notified = 1 if NOTIFY in steps else 0
    assert all(len(seen[-2]) == notified for seen in [*got.values(), *by_deal.values()])
    for deal, one_by_one in by_deal.items():
        for ours, theirs in zip(got[deal], one_by_one, strict=True):
            assert ours == theirs


def test_a_step_that_would_start_a_workflow_runs_one_by_one_with_its_chain(
    flows: Flows,
) -> None:
    """A workflow on new activities: each parent's note starts a child whose parent and
    depth are that one parent's, as a single run gives."""
    parent = on_value(flows, THREE_STEPS)
    child = flows.create(
        {
            "triggers": [{"type": "created"}],
            "steps": [{"name": "x", "type": "wait", "duration": "PT1H"}],
        },
        entity_type="activity",
        name="child",
    )
    touch(flows)
    parents = {e["id"]: e for e in flows.executions(parent)}
    counts = flows.run_batch()
    assert counts["completed"] == len(parents)
    assert len(writes(flows, parent, "task")) == len(parents)
    children = flows.owner.execute(
        "select parent_execution_id, depth from app.workflow_executions where workflow_id = %s",
        (child,),
    ).fetchall()
    # Two activities per parent (the task and the note), each starting a child.
    assert sorted(c[0] for c in children) == sorted(list(parents) * 2)
    assert {c[1] for c in children} == {1}


def test_an_entity_an_approval_locks_fails_its_step_and_the_others_complete(
    flows: Flows,
) -> None:
    a = flows.orgs.a
    held = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    assert locks(flows, a.deal_ids[0]) == 1
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    executions = flows.executions(wf)
    counts = flows.run_batch()
    assert (counts["completed"], counts["retrying"]) == (len(executions) - 1, 1)
    (locked,) = [e for e in executions if e["entity_id"] == a.deal_ids[0]]
    row = flows.execution(locked["id"])
    assert (row["status"], row["waiting_for"]) == ("waiting", "retry")
    assert "is locked" in row["error_message"]
    assert flows.execution(held)["status"] == "waiting"


def test_a_group_with_an_entity_gone_fails_only_that_execution(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    gone, *others = flows.executions(wf)
    # Gone without a trace (no delete trigger cancels its execution first).
    # Citus takes triggers on distributed tables only so (as migrate does); on one
    # server the setting is a placeholder.
    flows.owner.execute("set citus.enable_unsafe_triggers = on")
    flows.owner.execute("alter table app.deals disable trigger user")
    flows.owner.execute("delete from app.deals where id = %s", (gone["entity_id"],))
    flows.owner.execute("alter table app.deals enable trigger user")
    counts = flows.run_batch()
    assert (counts["completed"], counts["failed"]) == (len(others), 1)
    row = flows.execution(gone["id"])
    assert row["status"] == "failed"
    assert "no longer exists" in row["error_message"]


def test_a_workflow_with_a_condition_step_is_not_run_as_a_set(flows: Flows) -> None:
    steps = [
        {
            "name": "check",
            "type": "condition",
            "if": {"all": [{"field": "value", "operator": "gte", "value": 0}]},
        },
        *THREE_STEPS,
    ]
    wf = on_value(flows, steps)
    touch(flows)
    executions = flows.executions(wf)
    assert flows.run_batch()["completed"] == len(executions)
    assert len(writes(flows, wf, "task")) == len(executions)


def test_the_matcher_refuses_to_start_a_workflow_while_a_set_runs(flows: Flows) -> None:
    """The safety net behind app._wf_set_may_start (which sends such a group one by one
    from the start): a change made while intime.wf_set is on that would start a
    workflow raises IT013, which undoes the group's attempt."""
    on_value(flows, THREE_STEPS)
    with pytest.raises(InvalidStateError, match="set-based workflow step"):
        _change_while_a_set_runs(flows)


def _change_while_a_set_runs(flows: Flows) -> None:
    with errors_translated(), actor(flows.conn, flows.org_id, flows.admin_id):
        # SET LOCAL, as the engine sets it (Citus sends it to the workers, where the
        # matcher's trigger fires), a statement of its own (Citus sends a SET's whole
        # query string).
        flows.conn.execute("set local intime.wf_set = 'on'")
        flows.conn.execute("update app.deals set value = value + 1")
