"""The state machine: instances start in the initial state; api.transition_entity
moves them along allowed transitions (role-checked), writes entity_history,
runs the transition's steps as an execution, and waits for a gating approval
while the entity is locked. Real PostgreSQL; executions are driven by
flows.drain() as the worker would."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.errors import (
    EntityLockedError,
    NotFoundError,
    PermissionDeniedError,
    TransitionNotAllowedError,
)
from tests.sql.workflows.conftest import Flows

STATES = [
    {"name": "draft", "type": "initial"},
    {"name": "review"},
    {"name": "approved", "type": "final"},
    {"name": "parked"},
]
TRANSITIONS: list[dict[str, Any]] = [
    {"name": "submit", "from": "draft", "to": "review"},
    {
        "name": "approve",
        "from": "review",
        "to": "approved",
        "required_role": "manager",
        "steps": [
            {"name": "celebrate", "type": "create_task", "title": "Celebrate {{deal.name}}"},
        ],
    },
    {"name": "park", "to": "parked"},
    {
        "name": "sign_off",
        "from": "parked",
        "to": "review",
        "approval": {"approvers": [{"manager": True}], "due_in": "P2D"},
        "steps": [{"name": "follow_up", "type": "create_task", "title": "Review {{deal.name}}"}],
    },
]


def machine(flows: Flows, **extra: Any) -> uuid.UUID:
    return flows.create(
        {"triggers": [{"type": "manual"}], "states": STATES, "transitions": TRANSITIONS, **extra},
        name="pipeline",
    )


def instance(flows: Flows, workflow_id: uuid.UUID, deal: int = 0) -> dict[str, Any]:
    [row] = flows.call(
        "select * from api.get_workflow_instance(%s, %s)",
        (workflow_id, flows.orgs.a.deal_ids[deal]),
    )
    return row


@pytest.fixture
def wf(flows: Flows) -> uuid.UUID:
    """The pipeline, started by rep 0 for deal 0 (its first run has no steps)."""
    a = flows.orgs.a
    workflow_id = machine(flows)
    flows.call("select api.start_workflow(%s, %s)", (workflow_id, a.deal_ids[0]), user=a.rep_ids[0])
    flows.drain()
    return workflow_id


@pytest.fixture
def inst(flows: Flows, wf) -> uuid.UUID:
    return instance(flows, wf)["instance_id"]


def transition(
    flows: Flows,
    instance_id: uuid.UUID,
    to: str,
    user: uuid.UUID | None = None,
    notes: str | None = None,
    org_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    [row] = flows.call(
        "select api.transition_entity(%s, %s, %s) as r",
        (instance_id, to, notes),
        user=user or flows.orgs.a.rep_ids[0],
        org_id=org_id,
    )
    return row["r"]


def state(flows: Flows, wf: uuid.UUID) -> str:
    return instance(flows, wf)["state"]


def history(flows: Flows, deal_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        flows.owner.cursor(row_factory=dict_row)
        .execute(
            "select * from app.entity_history "
            "where entity_id = %s and field_name = 'workflow_state' order by id",
            (deal_id,),
        )
        .fetchall()
    )


def tasks(flows: Flows, deal_id: uuid.UUID) -> list[str]:
    rows = flows.owner.execute(
        "select subject from app.activities where entity_id = %s and type = 'task' "
        "and subject not like 'Send proposal%%' order by created_at",
        (deal_id,),
    ).fetchall()
    return [r[0] for r in rows]


def approval_id(flows: Flows, execution_id: uuid.UUID, user: uuid.UUID) -> uuid.UUID:
    [row] = flows.owner.execute(
        "select id from app.workflow_approvals "
        "where execution_id = %s and approver_id = %s and status = 'pending'",
        (execution_id, user),
    ).fetchall()
    return row[0]


def decide(flows: Flows, verb: str, approval: uuid.UUID, user: uuid.UUID) -> str:
    [row] = flows.call(f"select api.{verb}_approval(%s) as r", (approval,), user=user)
    return row["r"]


# -- instances ------------------------------------------------------------------


def test_an_entity_gets_an_instance_in_the_initial_state(flows: Flows, wf) -> None:
    row = instance(flows, wf)
    assert (row["state"], row["status"], row["locked"]) == ("draft", "active", False)


def test_the_state_machine_saves_its_states_and_transitions(flows: Flows, wf) -> None:
    names = flows.owner.execute(
        "select array_agg(name order by name) from app.workflow_transitions where workflow_id = %s",
        (wf,),
    ).fetchone()
    assert names is not None
    assert names[0] == ["approve", "park", "sign_off", "submit"]


# -- allowed moves ---------------------------------------------------------------


def test_an_allowed_transition_moves_the_state(flows: Flows, wf, inst) -> None:
    out = transition(flows, inst, "review")
    assert (out["status"], out["from"], out["to"], out["transition"]) == (
        "moved",
        "draft",
        "review",
        "submit",
    )
    assert state(flows, wf) == "review"


def test_a_transition_writes_entity_history(flows: Flows, inst) -> None:
    a = flows.orgs.a
    transition(flows, inst, "review", notes="ready")
    [row] = history(flows, a.deal_ids[0])
    assert (row["change_type"], row["changed_by"]) == ("updated", a.rep_ids[0])
    assert row["old_value"]["state"] == "draft"
    assert row["new_value"]["state"] == "review"
    assert (row["new_value"]["transition"], row["new_value"]["notes"]) == ("submit", "ready")


def test_a_transition_without_from_is_allowed_from_any_state(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    assert transition(flows, inst, "parked")["transition"] == "park"
    assert state(flows, wf) == "parked"


# -- refused moves ---------------------------------------------------------------


def test_a_transition_not_allowed_from_the_current_state_is_refused(flows: Flows, wf, inst) -> None:
    with pytest.raises(TransitionNotAllowedError) as err:
        transition(flows, inst, "approved", user=flows.orgs.a.manager_id)
    assert err.value.sqlstate == "IT015"


def test_a_refused_transition_changes_nothing(flows: Flows, wf, inst) -> None:
    with pytest.raises(TransitionNotAllowedError):
        transition(flows, inst, "approved", user=flows.orgs.a.manager_id)
    assert state(flows, wf) == "draft"
    assert history(flows, flows.orgs.a.deal_ids[0]) == []
    assert [e["trigger_type"] for e in flows.executions(wf)] == ["manual"]


def test_a_transition_to_an_unknown_state_is_refused(flows: Flows, inst) -> None:
    with pytest.raises(TransitionNotAllowedError):
        transition(flows, inst, "nowhere")


# -- roles -----------------------------------------------------------------------


def test_a_member_cannot_take_a_transition_that_needs_a_manager(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    with pytest.raises(PermissionDeniedError) as err:
        transition(flows, inst, "approved", user=flows.orgs.a.rep_ids[0])
    assert err.value.sqlstate == "IT003"
    assert state(flows, wf) == "review"


def test_a_manager_may_take_a_transition_that_needs_a_manager(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    assert transition(flows, inst, "approved", user=flows.orgs.a.manager_id)["status"] == "moved"
    assert state(flows, wf) == "approved"


def test_an_admin_outranks_a_required_manager_role(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    transition(flows, inst, "approved", user=flows.admin_id)
    assert state(flows, wf) == "approved"


# -- steps -------------------------------------------------------------------------


def test_a_transitions_steps_run_as_an_execution(flows: Flows, wf, inst) -> None:
    a = flows.orgs.a
    transition(flows, inst, "review")
    out = transition(flows, inst, "approved", user=a.manager_id)
    flows.drain()
    execution = flows.execution(out["execution_id"])
    assert (execution["status"], execution["trigger_type"], execution["triggered_by"]) == (
        "completed",
        "transition",
        a.manager_id,
    )
    assert tasks(flows, a.deal_ids[0]) == [f"Celebrate {flows.deal(a.deal_ids[0])['name']}"]


def test_a_transition_without_steps_starts_no_execution(flows: Flows, wf, inst) -> None:
    assert transition(flows, inst, "review")["execution_id"] is None
    assert [e["trigger_type"] for e in flows.executions(wf)] == ["manual"]


# -- final states --------------------------------------------------------------------


def test_a_final_state_completes_the_instance(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    transition(flows, inst, "approved", user=flows.orgs.a.manager_id)
    assert instance(flows, wf)["status"] == "completed"


def test_no_transition_leaves_a_final_state(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    transition(flows, inst, "approved", user=flows.orgs.a.manager_id)
    # "park" has no from: it leads out of any state, but not out of a final one.
    with pytest.raises(TransitionNotAllowedError, match="final state"):
        transition(flows, inst, "parked")
    assert instance(flows, wf)["state"] == "approved"


def test_an_intermediate_state_keeps_the_instance_active(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "review")
    assert instance(flows, wf)["status"] == "active"


# -- approval-gated transitions --------------------------------------------------------


@pytest.fixture
def gated(flows: Flows, wf, inst) -> dict[str, Any]:
    """Deal 0 parked, then rep 0 asks to move it back to review (needs the manager)."""
    transition(flows, inst, "parked")
    out = transition(flows, inst, "review")
    flows.drain()
    return out


def test_an_approval_gated_transition_waits_for_the_approval(flows: Flows, wf, gated) -> None:
    assert (gated["status"], gated["transition"]) == ("pending_approval", "sign_off")
    row = instance(flows, wf)
    assert (row["state"], row["locked"]) == ("parked", True)
    execution = flows.execution(gated["execution_id"])
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "approval")


def test_the_gating_approval_asks_the_approvers(flows: Flows, gated) -> None:
    approval = approval_id(flows, gated["execution_id"], flows.orgs.a.manager_id)
    [mine] = flows.call("select * from api.list_my_approvals()", user=flows.orgs.a.manager_id)
    assert mine["approval_id"] == approval
    assert mine["title"] == "parked → review"


def test_a_locked_entity_refuses_another_transition(flows: Flows, wf, inst, gated) -> None:
    with pytest.raises(EntityLockedError) as err:
        transition(flows, inst, "parked")
    assert err.value.sqlstate == "IT014"
    assert state(flows, wf) == "parked"


def test_the_entity_is_locked_before_the_approval_is_asked(flows: Flows, wf, inst) -> None:
    transition(flows, inst, "parked")
    transition(flows, inst, "review")  # not drained: the approval is not asked yet
    with pytest.raises(EntityLockedError):
        transition(flows, inst, "parked")


def test_an_approved_transition_moves_the_state(flows: Flows, wf, gated) -> None:
    a = flows.orgs.a
    decide(flows, "approve", approval_id(flows, gated["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    row = instance(flows, wf)
    assert (row["state"], row["locked"]) == ("review", False)
    assert flows.execution(gated["execution_id"])["status"] == "completed"


def test_an_approved_transition_writes_entity_history(flows: Flows, gated) -> None:
    a = flows.orgs.a
    decide(flows, "approve", approval_id(flows, gated["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    last = history(flows, a.deal_ids[0])[-1]
    assert (last["old_value"]["state"], last["new_value"]["state"]) == ("parked", "review")
    assert last["new_value"]["transition"] == "sign_off"


def test_an_approved_transition_runs_its_steps(flows: Flows, gated) -> None:
    a = flows.orgs.a
    decide(flows, "approve", approval_id(flows, gated["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    assert tasks(flows, a.deal_ids[0]) == [f"Review {flows.deal(a.deal_ids[0])['name']}"]


def test_a_rejected_transition_leaves_the_state_unchanged(flows: Flows, wf, gated) -> None:
    a = flows.orgs.a
    decide(flows, "reject", approval_id(flows, gated["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    row = instance(flows, wf)
    assert (row["state"], row["locked"]) == ("parked", False)
    assert flows.execution(gated["execution_id"])["status"] == "completed"
    assert tasks(flows, a.deal_ids[0]) == []
    assert [h["new_value"]["state"] for h in history(flows, a.deal_ids[0])] == ["parked"]


def test_after_a_rejection_the_transition_may_be_asked_again(flows: Flows, wf, inst, gated) -> None:
    a = flows.orgs.a
    decide(flows, "reject", approval_id(flows, gated["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    assert transition(flows, inst, "review")["status"] == "pending_approval"


def test_the_requester_may_recall_a_gated_transition(flows: Flows, wf, gated) -> None:
    a = flows.orgs.a
    flows.call("select api.recall_approval(%s)", (gated["execution_id"],), user=a.rep_ids[0])
    flows.drain()
    row = instance(flows, wf)
    assert (row["state"], row["locked"]) == ("parked", False)
    assert flows.execution(gated["execution_id"])["status"] in ("failed", "completed")
    assert flows.call("select * from api.list_my_approvals()", user=a.manager_id) == []


def test_a_gated_transition_to_a_final_state_completes_the_instance(flows: Flows) -> None:
    a = flows.orgs.a
    states = [{"name": "open", "type": "initial"}, {"name": "closed", "type": "final"}]
    transitions = [
        {
            "name": "close",
            "from": "open",
            "to": "closed",
            "approval": {"approvers": [{"manager": True}]},
        }
    ]
    wf = flows.create(
        {"triggers": [{"type": "manual"}], "states": states, "transitions": transitions}
    )
    flows.call("select api.start_workflow(%s, %s)", (wf, a.deal_ids[0]), user=a.rep_ids[0])
    flows.drain()
    out = transition(flows, instance(flows, wf)["instance_id"], "closed")
    flows.drain()
    decide(flows, "approve", approval_id(flows, out["execution_id"], a.manager_id), a.manager_id)
    flows.drain()
    row = instance(flows, wf)
    assert (row["state"], row["status"], row["locked"]) == ("closed", "completed", False)


def test_another_orgs_user_cannot_transition_an_instance(flows: Flows, wf, inst) -> None:
    b = flows.orgs.b
    with pytest.raises(NotFoundError):
        transition(flows, inst, "review", user=b.admin_id, org_id=b.org_id)
    assert state(flows, wf) == "draft"


def test_updating_a_workflow_keeps_a_pending_transition_working(flows: Flows, wf, inst) -> None:
    a = flows.orgs.a
    transition(flows, inst, "parked")
    flows.drain()
    pending = transition(flows, inst, "review")
    flows.drain()
    execution = uuid.UUID(pending["execution_id"])
    flows.call(
        "select api.update_workflow(%s, p_changes => %s)",
        (
            wf,
            Jsonb(
                {
                    "definition": {
                        "triggers": [{"type": "manual"}],
                        "states": STATES,
                        "transitions": TRANSITIONS,
                    }
                }
            ),
        ),
    )
    decide(flows, "approve", approval_id(flows, execution, a.manager_id), a.manager_id)
    flows.drain()
    assert state(flows, wf) == "review"


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
