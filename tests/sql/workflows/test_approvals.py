"""Approval steps: sequential chains, any/all/quorum, role slots, delegation,
escalation at the due time, recall, rejection branching (and a retry asking
the chain again), who may act, the entity lock and api.my_approvals; an org
member's broken override of an approval template stops neither the sweeper nor
a chain. Real PostgreSQL; executions are driven by flows.drain() as the worker
would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import sql
from psycopg.rows import dict_row

from intime.db import actor, errors_translated
from intime.errors import (
    EntityLockedError,
    InvalidParameterError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.sql.workflows.conftest import Flows

MANUAL = [{"type": "manual"}]
DONE = {"name": "done", "type": "create_activity", "subject": "approved"}


NAP_THEN_NOTE = [
    {"name": "nap", "type": "wait", "duration": "PT1H"},
    {"name": "note", "type": "create_activity", "subject": "x"},
]


def approval_workflow(
    flows: Flows,
    approval: dict[str, Any],
    *,
    after: list[dict[str, Any]] | None = None,
    triggers: list[dict[str, Any]] | None = None,
    name: str = "approval",
) -> uuid.UUID:
    """A workflow whose first step is the approval `ok`, then `done` (or `after`)."""
    step = {"name": "ok", "type": "approval", **approval}
    return flows.create(
        {
            "triggers": triggers or MANUAL,
            "steps": [step, *(after if after is not None else [DONE])],
        },
        name=name,
    )


def start(
    flows: Flows, workflow_id: uuid.UUID, *, deal: int = 0, user: uuid.UUID | None = None
) -> uuid.UUID:
    """Start a workflow by hand for deal `deal` (as rep 0 by default) and park it."""
    a = flows.orgs.a
    [row] = flows.call(
        "select api.start_workflow(%s, %s) as id",
        (workflow_id, a.deal_ids[deal]),
        user=user or a.rep_ids[0],
    )
    flows.drain()
    return row["id"]


def approvals(flows: Flows, execution_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        flows.owner.cursor(row_factory=dict_row)
        .execute(
            "select * from app.workflow_approvals where execution_id = %s "
            "order by slot, created_at, approver_id",
            (execution_id,),
        )
        .fetchall()
    )


def row_of(
    flows: Flows, execution_id: uuid.UUID, user: uuid.UUID, status: str = "pending"
) -> dict[str, Any]:
    [row] = [
        r
        for r in approvals(flows, execution_id)
        if r["approver_id"] == user and r["status"] == status
    ]
    return row


def statuses(flows: Flows, execution_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return {r["approver_id"]: r["status"] for r in approvals(flows, execution_id)}


def decide(
    flows: Flows, verb: str, approval_id: uuid.UUID, user: uuid.UUID, notes: str | None = None
) -> str:
    [row] = flows.call(f"select api.{verb}_approval(%s, %s) as r", (approval_id, notes), user=user)
    return row["r"]


def act(
    flows: Flows,
    execution_id: uuid.UUID,
    user: uuid.UUID,
    verb: str = "approve",
    notes: str | None = None,
) -> str:
    """`user` approves (or rejects) their pending row of the execution."""
    return decide(flows, verb, row_of(flows, execution_id, user)["id"], user, notes)


def notifications(flows: Flows, user: uuid.UUID, slug: str, approval_id: uuid.UUID) -> int:
    """How many `slug` notifications `user` got whose action URL is an approval link
    (/approvals/<token>) of approval row `approval_id`."""
    row = flows.owner.execute(
        "select count(*) from app.notifications as n "
        "join app.approval_links as l on l.org_id = n.org_id "
        "and l.token_hash = sha256(convert_to(substr(n.action_url, 12), 'UTF8')) "
        "where n.user_id = %s and n.template_slug = %s and l.approval_id = %s "
        "and l.approver_id = n.user_id and n.action_url ~ '^/approvals/apl_[0-9a-f]{64}$'",
        (user, slug, approval_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def locks(flows: Flows, deal_id: uuid.UUID) -> int:
    row = flows.owner.execute(
        "select count(*) from app.workflow_entity_locks where entity_id = %s", (deal_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def step_names(flows: Flows, execution_id: uuid.UUID) -> list[str]:
    return [s["step_name"] for s in flows.steps(execution_id) if s["status"] == "completed"]


def drained_status(flows: Flows, execution_id: uuid.UUID) -> str:
    flows.drain()
    return flows.execution(execution_id)["status"]


# -- sequential chains --------------------------------------------------------


@pytest.fixture
def chain(flows: Flows) -> uuid.UUID:
    """A sequential chain: the manager, then the admin; parked."""
    a = flows.orgs.a
    wf = approval_workflow(
        flows, {"approvers": [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]}
    )
    return start(flows, wf)


def test_an_approval_step_parks_the_execution(flows: Flows, chain) -> None:
    execution = flows.execution(chain)
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "approval")


def test_a_sequential_chain_asks_only_its_first_approver(flows: Flows, chain) -> None:
    a = flows.orgs.a
    assert statuses(flows, chain) == {a.manager_id: "pending", a.admin_id: "queued"}


def test_only_the_first_link_of_a_chain_is_notified(flows: Flows, chain) -> None:
    a = flows.orgs.a
    first = row_of(flows, chain, a.manager_id)
    second = row_of(flows, chain, a.admin_id, "queued")
    assert notifications(flows, a.manager_id, "approval_required", first["id"]) == 1
    assert notifications(flows, a.admin_id, "approval_required", second["id"]) == 0


def test_approving_a_link_opens_the_next_one(flows: Flows, chain) -> None:
    a = flows.orgs.a
    assert act(flows, chain, a.manager_id) == "open"
    second = row_of(flows, chain, a.admin_id)
    assert second["due_at"] is None  # no due_in configured
    assert notifications(flows, a.admin_id, "approval_required", second["id"]) == 1
    assert flows.execution(chain)["status"] == "waiting"


def test_approving_the_last_link_completes_the_execution(flows: Flows, chain) -> None:
    a = flows.orgs.a
    act(flows, chain, a.manager_id)
    assert act(flows, chain, a.admin_id) == "approved"
    assert drained_status(flows, chain) == "completed"
    assert step_names(flows, chain) == ["ok", "done"]


def test_a_rejected_link_ends_the_chain(flows: Flows, chain) -> None:
    a = flows.orgs.a
    assert act(flows, chain, a.manager_id, "reject") == "rejected"
    assert statuses(flows, chain) == {a.manager_id: "rejected", a.admin_id: "cancelled"}


def test_a_link_is_due_from_when_it_opens(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    flows.at("2026-03-02T09:00:00Z")
    execution = start(flows, approval_workflow(flows, {"approvers": approvers, "due_in": "PT1H"}))
    assert row_of(flows, execution, a.admin_id, "queued")["due_at"] is None
    flows.at("2026-03-02T09:30:00Z")
    act(flows, execution, a.manager_id)
    second = row_of(flows, execution, a.admin_id)
    assert second["due_at"] - second["requested_at"] == timedelta(hours=1)
    assert second["due_at"] == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _override(db, flows: Flows, slug: str) -> None:
    """A plain member of org A, whom the org lets manage templates, overrides an engine
    template with one that cannot render."""
    with db.connect(autocommit=True) as owner:
        owner.execute(
            "insert into app.role_permissions (org_id, role, permission, granted) "
            "values (%s, 'member', 'templates.manage', true)",
            (flows.orgs.a.org_id,),
        )
    with db.connect(flows.orgs.login_a, autocommit=True) as member:
        member.execute(
            "insert into app.notification_templates (name, slug, category, title_template, "
            "message_template, variables) values ('x', %s, 'workflow', '{{zzz}}', 'm', "
            '\'[{"name": "zzz", "type": "string", "required": true}]\')',
            (slug,),
        )


def test_an_approval_required_override_cannot_block_a_chain(flows: Flows, db) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers}))
    _override(db, flows, "approval_required")
    assert act(flows, execution, a.manager_id) == "open"
    assert act(flows, execution, a.admin_id) == "approved"


# -- any, all, quorum ---------------------------------------------------------


def three_approvers(flows: Flows) -> list[dict[str, str]]:
    a = flows.orgs.a
    return [{"user": str(u)} for u in (a.manager_id, a.admin_id, a.rep_ids[1])]


def test_parallel_approvers_are_all_asked_at_once(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": three_approvers(flows), "mode": "all"})
    )
    assert set(statuses(flows, execution).values()) == {"pending"}
    for user in (a.manager_id, a.admin_id, a.rep_ids[1]):
        row = row_of(flows, execution, user)
        assert notifications(flows, user, "approval_required", row["id"]) == 1


def test_in_any_mode_the_first_approval_decides(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": three_approvers(flows), "mode": "any"})
    )
    assert act(flows, execution, a.admin_id) == "approved"
    assert statuses(flows, execution) == {
        a.manager_id: "cancelled",
        a.admin_id: "approved",
        a.rep_ids[1]: "cancelled",
    }
    assert drained_status(flows, execution) == "completed"


def test_in_any_mode_one_rejection_leaves_the_others_open(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": three_approvers(flows), "mode": "any"})
    )
    assert act(flows, execution, a.admin_id, "reject") == "open"
    assert statuses(flows, execution)[a.manager_id] == "pending"


def test_in_all_mode_one_approval_leaves_the_step_open(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers, "mode": "all"}))
    assert act(flows, execution, a.manager_id) == "open"
    assert statuses(flows, execution)[a.admin_id] == "pending"
    assert drained_status(flows, execution) == "waiting"


def test_in_all_mode_every_approval_approves(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers, "mode": "all"}))
    act(flows, execution, a.manager_id)
    assert act(flows, execution, a.admin_id) == "approved"
    assert drained_status(flows, execution) == "completed"


def test_in_all_mode_a_single_rejection_rejects(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers, "mode": "all"}))
    assert act(flows, execution, a.admin_id, "reject") == "rejected"
    assert statuses(flows, execution)[a.manager_id] == "cancelled"


def test_a_quorum_is_approved_by_enough_approvals(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows,
        approval_workflow(
            flows, {"approvers": three_approvers(flows), "mode": "quorum", "quorum": 2}
        ),
    )
    assert act(flows, execution, a.manager_id) == "open"
    assert act(flows, execution, a.rep_ids[1]) == "approved"
    assert statuses(flows, execution)[a.admin_id] == "cancelled"
    assert drained_status(flows, execution) == "completed"


def test_a_quorum_is_rejected_once_it_can_no_longer_be_reached(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows,
        approval_workflow(
            flows, {"approvers": three_approvers(flows), "mode": "quorum", "quorum": 2}
        ),
    )
    assert act(flows, execution, a.manager_id, "reject") == "open"
    assert act(flows, execution, a.admin_id, "reject") == "rejected"
    assert statuses(flows, execution)[a.rep_ids[1]] == "cancelled"


# -- role slots ---------------------------------------------------------------


def test_a_role_slot_asks_everyone_with_the_role(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": [{"role": "member"}]}), user=a.admin_id
    )
    rows = approvals(flows, execution)
    assert {r["approver_id"] for r in rows} == set(a.rep_ids)
    assert {(r["slot"], r["status"], r["approver_role"]) for r in rows} == {
        (1, "pending", "member")
    }
    for r in rows:
        assert notifications(flows, r["approver_id"], "approval_required", r["id"]) == 1


def test_anyone_with_the_role_may_decide_a_role_slot(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": [{"role": "member"}]}), user=a.admin_id
    )
    assert act(flows, execution, a.rep_ids[1]) == "approved"
    assert statuses(flows, execution) == {a.rep_ids[0]: "cancelled", a.rep_ids[1]: "approved"}
    assert drained_status(flows, execution) == "completed"


def test_an_owner_slot_asks_the_entitys_owner(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"owner": True}]}), deal=1)
    [row] = approvals(flows, execution)
    assert (row["approver_id"], row["approver_type"]) == (a.rep_ids[1], "owner")


def test_a_field_slot_asks_the_user_in_that_column(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows, approval_workflow(flows, {"approvers": [{"field": "owner_id"}]}), deal=1
    )
    [row] = approvals(flows, execution)
    assert (row["approver_id"], row["approver_type"]) == (a.rep_ids[1], "field")


def test_a_manager_slot_asks_the_owners_manager(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}), deal=1)
    [row] = approvals(flows, execution)
    assert (row["approver_id"], row["approver_type"]) == (a.manager_id, "manager")


# -- delegation ---------------------------------------------------------------


@pytest.fixture
def delegated(flows: Flows) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """The manager's approval delegated to rep 1: (execution, original row, new row)."""
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    original = row_of(flows, execution, a.manager_id)["id"]
    [row] = flows.call(
        "select api.delegate_approval(%s, %s, 'on holiday') as id",
        (original, a.rep_ids[1]),
        user=a.manager_id,
    )
    return execution, original, row["id"]


def test_a_delegate_gets_a_pending_row_in_the_same_slot(flows: Flows, delegated) -> None:
    a = flows.orgs.a
    execution, original, new = delegated
    rows = {r["id"]: r for r in approvals(flows, execution)}
    assert rows[new]["approver_id"] == a.rep_ids[1]
    assert (rows[new]["status"], rows[new]["slot"]) == ("pending", rows[original]["slot"])
    assert rows[new]["source_approval_id"] == original


def test_the_delegated_row_records_the_delegation(flows: Flows, delegated) -> None:
    a = flows.orgs.a
    execution, original, _ = delegated
    [row] = [r for r in approvals(flows, execution) if r["id"] == original]
    assert (row["status"], row["delegated_to"], row["delegation_reason"]) == (
        "delegated",
        a.rep_ids[1],
        "on holiday",
    )


def test_a_delegate_is_notified(flows: Flows, delegated) -> None:
    _, _, new = delegated
    assert notifications(flows, flows.orgs.a.rep_ids[1], "approval_required", new) == 1


def test_a_delegate_may_approve(flows: Flows, delegated) -> None:
    execution, _, new = delegated
    assert decide(flows, "approve", new, flows.orgs.a.rep_ids[1]) == "approved"
    assert drained_status(flows, execution) == "completed"


def test_a_delegator_can_no_longer_act_on_their_row(flows: Flows, delegated) -> None:
    _, original, _ = delegated
    with pytest.raises(InvalidStateError) as err:
        decide(flows, "approve", original, flows.orgs.a.manager_id)
    assert err.value.sqlstate == "IT013"


def test_a_delegator_cannot_act_on_the_delegates_row(flows: Flows, delegated) -> None:
    _, _, new = delegated
    with pytest.raises(PermissionDeniedError) as err:
        decide(flows, "approve", new, flows.orgs.a.manager_id)
    assert err.value.sqlstate == "IT003"


def test_an_approval_cannot_be_delegated_to_its_approver_or_an_outsider(flows: Flows) -> None:
    a, b = flows.orgs.a, flows.orgs.b
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    row = row_of(flows, execution, a.manager_id)
    for target in (a.manager_id, b.admin_id):
        with pytest.raises(InvalidParameterError):
            flows.call(
                "select api.delegate_approval(%s, %s)", (row["id"], target), user=a.manager_id
            )
    assert statuses(flows, execution) == {a.manager_id: "pending"}


# -- escalation ---------------------------------------------------------------


def overdue(flows: Flows, approval: dict[str, Any], user: uuid.UUID | None = None) -> uuid.UUID:
    """Park an approval due in an hour at 09:00, then move the clock to 10:30."""
    flows.at("2026-03-02T09:00:00Z")
    execution = start(flows, approval_workflow(flows, {"due_in": "PT1H", **approval}), user=user)
    flows.at("2026-03-02T10:30:00Z")
    return execution


def test_an_approval_before_its_due_time_is_not_escalated(flows: Flows) -> None:
    a = flows.orgs.a
    flows.at("2026-03-02T09:00:00Z")
    execution = start(
        flows,
        approval_workflow(flows, {"due_in": "PT1H", "approvers": [{"user": str(a.rep_ids[1])}]}),
    )
    flows.at("2026-03-02T09:59:00Z")
    assert flows.sweep()["escalated"] == 0
    assert row_of(flows, execution, a.rep_ids[1])["escalated_at"] is None


def test_an_overdue_approval_escalates_to_escalate_to(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(
        flows, {"approvers": [{"user": str(a.rep_ids[1])}], "escalate_to": str(a.admin_id)}
    )
    assert flows.sweep()["escalated"] == 1
    row = row_of(flows, execution, a.rep_ids[1])
    assert row["escalated_to"] == a.admin_id
    assert row["escalated_at"] is not None
    assert row["escalation_reason"].startswith("not decided by")
    added = row_of(flows, execution, a.admin_id)
    assert (added["slot"], added["approver_type"]) == (row["slot"], "escalation")
    assert notifications(flows, a.admin_id, "approval_escalated", added["id"]) == 1


def test_an_overdue_approval_escalates_to_the_approvers_manager_by_default(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.rep_ids[1])}]})
    flows.sweep()
    assert row_of(flows, execution, a.rep_ids[1])["escalated_to"] == a.manager_id
    assert row_of(flows, execution, a.manager_id)["slot"] == 1


def test_the_escalation_target_is_notified(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.rep_ids[1])}]})
    flows.sweep()
    added = row_of(flows, execution, a.manager_id)
    assert notifications(flows, a.manager_id, "approval_escalated", added["id"]) == 1


def test_an_approval_escalates_once(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.rep_ids[1])}]})
    flows.sweep()
    flows.at("2026-03-03T10:30:00Z")
    assert flows.sweep()["escalated"] == 0
    assert len(approvals(flows, execution)) == 2


def test_an_approver_without_a_manager_is_marked_overdue_only(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.admin_id)}]})
    assert flows.sweep()["escalated"] == 1
    [row] = approvals(flows, execution)
    assert (row["status"], row["escalated_to"]) == ("pending", None)
    assert row["escalated_at"] is not None
    assert "no escalation target" in row["escalation_reason"]


def test_an_overdue_role_slot_escalates_to_the_shared_manager_once(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"role": "member"}]}, user=a.admin_id)
    flows.sweep()
    reps = [row_of(flows, execution, rep) for rep in a.rep_ids]
    assert {r["escalated_to"] for r in reps} == {a.manager_id}
    reasons = sorted(r["escalation_reason"] for r in reps)
    assert reasons[0].startswith("not decided by")
    assert "already has it" in reasons[1]
    assert [r["approver_id"] for r in approvals(flows, execution)].count(a.manager_id) == 1


def test_the_escalation_target_may_approve(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.rep_ids[1])}]})
    flows.sweep()
    assert act(flows, execution, a.manager_id) == "approved"
    assert statuses(flows, execution) == {a.rep_ids[1]: "cancelled", a.manager_id: "approved"}
    assert drained_status(flows, execution) == "completed"


def test_the_original_approver_may_still_decide_after_escalation(flows: Flows) -> None:
    a = flows.orgs.a
    execution = overdue(flows, {"approvers": [{"user": str(a.rep_ids[1])}]})
    flows.sweep()
    assert act(flows, execution, a.rep_ids[1]) == "approved"
    assert statuses(flows, execution)[a.manager_id] == "cancelled"


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
    flows.clear_queue()
    return row["id"]


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


# -- recall -------------------------------------------------------------------


@pytest.fixture
def recallable(flows: Flows) -> uuid.UUID:
    """Rep 0 raises deal 0's value, which asks the manager for an approval."""
    a = flows.orgs.a
    approval_workflow(
        flows,
        {"approvers": [{"manager": True}, {"user": str(a.admin_id)}]},
        triggers=[{"type": "field_change", "field": "value"}],
    )
    flows.write(
        "update app.deals set value = 99000 where id = %s", (a.deal_ids[0],), user=a.rep_ids[0]
    )
    flows.drain()
    [execution] = flows.executions()
    assert execution["triggered_by"] == a.rep_ids[0]
    return execution["id"]


def recall(flows: Flows, execution_id: uuid.UUID, user: uuid.UUID) -> None:
    flows.call("select api.recall_approval(%s, 'changed my mind')", (execution_id,), user=user)


def test_whoever_changed_it_cannot_recall_the_approval_their_change_started(
    flows: Flows, recallable
) -> None:
    a = flows.orgs.a
    with pytest.raises(PermissionDeniedError):
        recall(flows, recallable, a.rep_ids[0])
    assert flows.execution(recallable)["status"] == "waiting"
    assert locks(flows, a.deal_ids[0]) == 1


def test_an_admin_recalling_an_approval_counts_as_a_rejection(flows: Flows, recallable) -> None:
    a = flows.orgs.a
    recall(flows, recallable, flows.admin_id)
    assert set(statuses(flows, recallable).values()) == {"cancelled"}
    assert locks(flows, a.deal_ids[0]) == 0
    # No on_reject branch: a rejection fails the execution.
    assert drained_status(flows, recallable) == "failed"


def test_a_member_who_did_not_start_it_cannot_recall(flows: Flows, recallable) -> None:
    a = flows.orgs.a
    with pytest.raises(PermissionDeniedError) as err:
        recall(flows, recallable, a.rep_ids[1])
    assert err.value.sqlstate == "IT003"
    assert flows.execution(recallable)["status"] == "waiting"
    assert locks(flows, a.deal_ids[0]) == 1


def test_a_recalled_approval_cannot_be_decided(flows: Flows, recallable) -> None:
    a = flows.orgs.a
    row = row_of(flows, recallable, a.manager_id)
    recall(flows, recallable, flows.admin_id)
    with pytest.raises(InvalidStateError):
        decide(flows, "approve", row["id"], a.manager_id)


def test_an_approval_decided_while_paused_goes_on_when_resumed(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    flows.call("select api.pause_execution(%s)", (execution,), user=a.rep_ids[0])
    act(flows, execution, a.manager_id)
    assert drained_status(flows, execution) == "paused"
    flows.call("select api.resume_execution(%s)", (execution,), user=a.rep_ids[0])
    assert drained_status(flows, execution) == "completed"
    assert step_names(flows, execution) == ["ok", "done"]


# -- rejection ----------------------------------------------------------------


def test_a_rejection_follows_on_reject(flows: Flows) -> None:
    a = flows.orgs.a
    wf = approval_workflow(
        flows,
        {"approvers": [{"manager": True}], "on_reject": "declined"},
        after=[
            {**DONE, "next": "end"},
            {"name": "declined", "type": "create_activity", "subject": "declined"},
        ],
    )
    execution = start(flows, wf)
    assert act(flows, execution, a.manager_id, "reject", "too cheap") == "rejected"
    assert drained_status(flows, execution) == "completed"
    assert step_names(flows, execution) == ["ok", "declined"]
    [ok] = [s for s in flows.steps(execution) if s["step_name"] == "ok"]
    assert (ok["result"]["decision"], ok["result"]["notes"]) == ("rejected", "too cheap")


def test_a_rejection_without_on_reject_fails_the_execution(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    act(flows, execution, a.manager_id, "reject")
    assert drained_status(flows, execution) == "failed"
    assert flows.execution(execution)["error_message"] == "approval rejected"
    assert "done" not in step_names(flows, execution)


def test_an_approval_takes_the_next_step_not_on_reject(flows: Flows) -> None:
    a = flows.orgs.a
    wf = approval_workflow(
        flows,
        {"approvers": [{"manager": True}], "on_reject": "declined"},
        after=[
            {**DONE, "next": "end"},
            {"name": "declined", "type": "create_activity", "subject": "declined"},
        ],
    )
    execution = start(flows, wf)
    act(flows, execution, a.manager_id)
    assert drained_status(flows, execution) == "completed"
    assert step_names(flows, execution) == ["ok", "done"]


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


# -- who may act --------------------------------------------------------------


def test_only_the_approver_may_act(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    row = row_of(flows, execution, a.manager_id)
    for verb in ("approve", "reject"):
        with pytest.raises(PermissionDeniedError) as err:
            decide(flows, verb, row["id"], a.rep_ids[1])
        assert err.value.sqlstate == "IT003"
    assert row_of(flows, execution, a.manager_id)["status"] == "pending"


def test_an_admin_who_is_not_the_approver_may_not_act(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    row = row_of(flows, execution, a.manager_id)
    with pytest.raises(PermissionDeniedError):
        decide(flows, "approve", row["id"], a.admin_id)


def test_deciding_twice_is_refused(flows: Flows) -> None:
    a = flows.orgs.a
    approvers = [{"user": str(a.manager_id)}, {"user": str(a.admin_id)}]
    execution = start(flows, approval_workflow(flows, {"approvers": approvers, "mode": "all"}))
    row = row_of(flows, execution, a.manager_id)
    decide(flows, "approve", row["id"], a.manager_id)
    for verb in ("approve", "reject"):
        with pytest.raises(InvalidStateError) as err:
            decide(flows, verb, row["id"], a.manager_id)
        assert err.value.sqlstate == "IT013"


def test_a_queued_link_cannot_be_decided_yet(flows: Flows, chain) -> None:
    a = flows.orgs.a
    queued = row_of(flows, chain, a.admin_id, "queued")
    with pytest.raises(InvalidStateError):
        decide(flows, "approve", queued["id"], a.admin_id)


# -- the entity lock ----------------------------------------------------------


def bump_workflow(flows: Flows) -> uuid.UUID:
    """Another workflow that writes the deal's description."""
    return flows.create(
        {
            "triggers": MANUAL,
            "steps": [
                {"name": "bump", "type": "update_field", "field": "description", "value": "bumped"}
            ],
        },
        name="bump",
    )


def test_a_pending_approval_locks_the_entity(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    [lock] = flows.owner.execute(
        "select execution_id from app.workflow_entity_locks where entity_id = %s", (a.deal_ids[0],)
    ).fetchall()
    assert lock[0] == execution


def test_a_locked_entity_refuses_another_workflows_update_field(flows: Flows) -> None:
    a = flows.orgs.a
    start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    other = start(flows, bump_workflow(flows))
    execution = flows.execution(other)
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "retry")
    [bump] = flows.steps(other)
    assert bump["status"] == "failed"
    assert "IT014" in bump["error_message"]
    assert flows.deal(a.deal_ids[0])["description"] != "bumped"


def test_the_decision_lifts_the_lock(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    act(flows, execution, a.manager_id)
    assert locks(flows, a.deal_ids[0]) == 0
    other = start(flows, bump_workflow(flows))
    assert flows.execution(other)["status"] == "completed"
    assert flows.deal(a.deal_ids[0])["description"] == "bumped"


def test_a_rejection_lifts_the_lock_too(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    act(flows, execution, a.manager_id, "reject")
    assert locks(flows, a.deal_ids[0]) == 0


def test_lock_entity_false_leaves_the_entity_unlocked(flows: Flows) -> None:
    a = flows.orgs.a
    start(flows, approval_workflow(flows, {"approvers": [{"manager": True}], "lock_entity": False}))
    assert locks(flows, a.deal_ids[0]) == 0
    other = start(flows, bump_workflow(flows))
    assert flows.execution(other)["status"] == "completed"


# -- my_approvals -------------------------------------------------------------


def my_approvals(flows: Flows, user: uuid.UUID) -> list[dict[str, Any]]:
    return flows.call("select * from api.list_my_approvals()", user=user)


def test_my_approvals_lists_the_callers_pending_approvals(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows,
        approval_workflow(
            flows, {"approvers": [{"manager": True}], "title": "Discount on {{deal.name}}"}
        ),
    )
    [mine] = my_approvals(flows, a.manager_id)
    assert mine["approval_id"] == row_of(flows, execution, a.manager_id)["id"]
    assert (mine["execution_id"], mine["entity_type"], mine["entity_id"]) == (
        execution,
        "deal",
        a.deal_ids[0],
    )
    assert mine["title"] == f"Discount on {flows.deal(a.deal_ids[0])['name']}"


def test_an_untitled_approval_is_named_after_the_entity(flows: Flows) -> None:
    a = flows.orgs.a
    start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    [mine] = my_approvals(flows, a.manager_id)
    assert mine["title"] == f"Deal: {flows.deal(a.deal_ids[0])['name']}"


def test_another_orgs_user_cannot_see_or_decide_an_approval(flows: Flows) -> None:
    a, b = flows.orgs.a, flows.orgs.b
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    row = row_of(flows, execution, a.manager_id)
    assert (
        flows.call("select * from api.list_my_approvals()", user=b.manager_id, org_id=b.org_id)
        == []
    )
    with pytest.raises(NotFoundError):
        flows.call(
            "select api.approve_approval(%s)", (row["id"],), user=b.manager_id, org_id=b.org_id
        )
    assert row_of(flows, execution, a.manager_id)["status"] == "pending"


def test_my_approvals_leaves_out_other_users_approvals(flows: Flows) -> None:
    a = flows.orgs.a
    start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    assert my_approvals(flows, a.rep_ids[1]) == []
    assert my_approvals(flows, a.admin_id) == []


def test_my_approvals_leaves_out_decided_and_queued_ones(flows: Flows, chain) -> None:
    a = flows.orgs.a
    assert my_approvals(flows, a.admin_id) == []  # queued behind the manager
    act(flows, chain, a.manager_id)
    assert my_approvals(flows, a.manager_id) == []
    assert len(my_approvals(flows, a.admin_id)) == 1


# -- approvals that hold: the subject of an approval cannot sidestep it -------

DISCOUNT_LIMIT = 15


@pytest.fixture(params=[True, False], ids=["locking", "lock_entity_false"])
def discount(flows: Flows, request: pytest.FixtureRequest) -> dict[str, Any]:
    """The admin's workflow: a discount over 15% needs the manager's approval, and a
    rejection sets it back to 0. Rep 0 sets deal 0 to 40%. Run with and without the
    step's lock_entity: the fields the workflow reads are locked either way."""
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "field_change", "field": "discount_percent"}],
            "conditions": {
                "all": [{"field": "discount_percent", "operator": "gt", "value": DISCOUNT_LIMIT}]
            },
            "steps": [
                {
                    "name": "manager_ok",
                    "type": "approval",
                    "title": "{{deal.discount_percent}}% discount",
                    "approvers": [{"manager": True}],
                    "on_reject": "undo",
                    "lock_entity": request.param,
                },
                {"name": "approved", "type": "create_task", "title": "ok", "next": "end"},
                {"name": "undo", "type": "update_field", "field": "discount_percent", "value": 0},
            ],
        }
    )
    flows.write(
        "update app.deals set discount_percent = 40 where id = %s",
        (a.deal_ids[0],),
        user=a.rep_ids[0],
    )
    flows.drain()
    [execution] = flows.executions()
    assert execution["waiting_for"] == "approval"
    return {"execution_id": execution["id"], "deal_id": a.deal_ids[0]}


def discount_of(flows: Flows, deal_id: uuid.UUID) -> float:
    return float(flows.deal(deal_id)["discount_percent"])


def test_whoever_changed_it_cannot_cancel_the_approval_their_change_started(
    flows: Flows, discount
) -> None:
    with pytest.raises(PermissionDeniedError):
        flows.call(
            "select api.cancel_execution(p_execution_id => %s)",
            (discount["execution_id"],),
            user=flows.orgs.a.rep_ids[0],
        )
    assert flows.execution(discount["execution_id"])["waiting_for"] == "approval"


def _change_as_the_runs_forger(flows: Flows, execution: uuid.UUID, deal: uuid.UUID) -> None:
    """As the service (for rep 0): the run's setting made from what the service can read
    (the execution's run_xid, the key of app.stream_secret), then the locked change."""
    with errors_translated(), actor(flows.conn, flows.org_id, flows.orgs.a.rep_ids[0]):
        conn = flows.conn
        [(stamp,)] = conn.execute(
            "select run_xid::text from app.workflow_executions where org_id = %s and id = %s",
            (flows.org_id, execution),
        ).fetchall()
        body = f"{flows.org_id}:{execution}:{stamp}"
        [(mark,)] = conn.execute(
            "select encode(sha256(k.secret || sha256(k.secret || "
            "convert_to('intime-run:' || %s, 'UTF8'))), 'hex') from app.stream_secret as k",
            (body,),
        ).fetchall()
        conn.execute(
            sql.SQL("set local intime.wf_execution = {}").format(sql.Literal(f"{body}:{mark}"))
        )
        conn.execute("update app.deals set discount_percent = 90 where id = %s", (deal,))


def test_the_service_cannot_pass_its_change_off_as_the_engines_run(flows: Flows, discount) -> None:
    """Review of session 35: the engine's own run may change a locked field, and says so
    in intime.wf_execution. On a Citus cluster that setting carries a mark keyed with
    app.stream_secret, which the service can read, and the run's stamp (run_xid) is
    readable too: the stamp must not give the run's token away. What the service makes
    of what it can read leaves the field locked (on one server the stamp is a transaction
    id that only the run's transaction has)."""
    deal = discount["deal_id"]
    with pytest.raises(EntityLockedError):
        _change_as_the_runs_forger(flows, discount["execution_id"], deal)
    assert discount_of(flows, deal) == 40


def test_cancelling_an_approval_runs_its_undo(flows: Flows, discount) -> None:
    flows.call("select api.cancel_execution(p_execution_id => %s)", (discount["execution_id"],))
    assert drained_status(flows, discount["execution_id"]) == "completed"
    assert step_names(flows, discount["execution_id"])[-1] == "undo"
    assert discount_of(flows, discount["deal_id"]) == 0


def test_an_admin_may_cancel_an_approval_keeping_the_change(flows: Flows, discount) -> None:
    flows.call(
        "select api.cancel_execution(p_execution_id => %s, p_keep_changes => true)",
        (discount["execution_id"],),
    )
    assert drained_status(flows, discount["execution_id"]) == "cancelled"
    assert discount_of(flows, discount["deal_id"]) == 40


def test_only_an_admin_may_cancel_keeping_the_change(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"manager": True}]}))
    with pytest.raises(PermissionDeniedError, match="keeping its changes"):
        flows.call(
            "select api.cancel_execution(p_execution_id => %s, p_keep_changes => true)",
            (execution,),
            user=a.rep_ids[0],
        )


def test_a_pending_approval_locks_the_fields_its_condition_reads(flows: Flows, discount) -> None:
    with pytest.raises(EntityLockedError, match="discount_percent is locked"):
        flows.write(
            "update app.deals set discount_percent = 90 where id = %s",
            (discount["deal_id"],),
            user=flows.orgs.a.rep_ids[0],
        )
    assert discount_of(flows, discount["deal_id"]) == 40


def test_fields_the_workflow_does_not_read_stay_editable_while_it_waits(
    flows: Flows, discount
) -> None:
    flows.write(
        "update app.deals set description = 'still editable' where id = %s",
        (discount["deal_id"],),
        user=flows.orgs.a.rep_ids[0],
    )
    assert flows.deal(discount["deal_id"])["description"] == "still editable"


def test_the_approver_decides_on_the_value_that_will_stand(flows: Flows, discount) -> None:
    a = flows.orgs.a
    with pytest.raises(EntityLockedError):
        flows.write(
            "update app.deals set discount_percent = 90 where id = %s",
            (discount["deal_id"],),
            user=a.rep_ids[0],
        )
    act(flows, discount["execution_id"], a.manager_id)
    assert drained_status(flows, discount["execution_id"]) == "completed"
    assert discount_of(flows, discount["deal_id"]) == 40
    # Decided: the field is free again.
    flows.write(
        "update app.deals set discount_percent = 10 where id = %s",
        (discount["deal_id"],),
        user=a.rep_ids[0],
    )
    assert discount_of(flows, discount["deal_id"]) == 10


def test_a_status_change_approval_locks_the_status(flows: Flows) -> None:
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "status_change", "to": "won"}],
            "steps": [{"name": "ok", "type": "approval", "approvers": [{"manager": True}]}],
        }
    )
    move = "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)"
    flows.call(move, (a.deal_ids[1], a.stage_ids["Closed Won"]), user=a.rep_ids[0])
    flows.drain()
    [execution] = flows.executions()
    assert execution["waiting_for"] == "approval"
    with pytest.raises(EntityLockedError, match="status is locked"):
        flows.call(move, (a.deal_ids[1], a.stage_ids["Closed Lost"]), user=a.rep_ids[0])


def test_an_approval_cannot_be_delegated_to_whoever_changed_it(flows: Flows, discount) -> None:
    a = flows.orgs.a
    row = row_of(flows, discount["execution_id"], a.manager_id)
    with pytest.raises(InvalidParameterError, match="cannot delegate"):
        flows.call(
            "select api.delegate_approval(%s, %s)", (row["id"], a.rep_ids[0]), user=a.manager_id
        )


def test_whoever_starts_it_by_hand_is_not_asked(flows: Flows) -> None:
    """A member starts a member-role approval by hand: the others are asked, not them."""
    a = flows.orgs.a
    execution = start(flows, approval_workflow(flows, {"approvers": [{"role": "member"}]}))
    assert {r["approver_id"] for r in approvals(flows, execution)} == {a.rep_ids[1]}


def test_a_role_slot_leaves_out_whoever_changed_it(flows: Flows) -> None:
    """The manager raises a discount that needs a manager's approval: they are not asked."""
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "field_change", "field": "discount_percent"}],
            "steps": [{"name": "ok", "type": "approval", "approvers": [{"role": "manager"}]}],
        }
    )
    flows.write(
        "update app.deals set discount_percent = 40 where id = %s",
        (a.deal_ids[0],),
        user=a.manager_id,
    )
    flows.drain()
    [execution] = flows.executions()
    assert a.manager_id not in statuses(flows, execution["id"])


def discount_workflow(flows: Flows, after: list[dict[str, Any]] | None = None) -> uuid.UUID:
    """The discount rule of the fixture above, with lock_entity off and `after` the
    approval (default: the `approved` task)."""
    return flows.create(
        {
            "triggers": [{"type": "field_change", "field": "discount_percent"}],
            "conditions": {
                "all": [{"field": "discount_percent", "operator": "gt", "value": DISCOUNT_LIMIT}]
            },
            "steps": [
                {
                    "name": "manager_ok",
                    "type": "approval",
                    "approvers": [{"manager": True}],
                    "on_reject": "undo",
                    "lock_entity": False,
                },
                *(after or [{"name": "approved", "type": "create_task", "title": "ok"}]),
                {"name": "end_here", "type": "create_activity", "subject": "x", "next": "end"},
                {"name": "undo", "type": "update_field", "field": "discount_percent", "value": 0},
            ],
        }
    )


def test_an_owner_with_no_manager_sends_the_approval_to_the_admins(flows: Flows) -> None:
    """Review of issue 14: the rep hands the deal to the admin (who has no manager) in the
    same UPDATE as the discount. Before, no approver resolved, the step failed for good and
    the 40% stood; now the admins decide."""
    a = flows.orgs.a
    discount_workflow(flows)
    flows.write(
        "update app.deals set discount_percent = 40, owner_id = %s where id = %s",
        (a.admin_id, a.deal_ids[0]),
        user=a.rep_ids[0],
    )
    flows.drain()
    [execution] = flows.executions()
    assert execution["waiting_for"] == "approval"
    [row] = approvals(flows, execution["id"])
    assert (row["approver_id"], row["approver_type"], row["approver_role"]) == (
        a.admin_id,
        "role",
        "admin",
    )
    act(flows, execution["id"], a.admin_id, "reject")
    assert drained_status(flows, execution["id"]) == "completed"
    assert discount_of(flows, a.deal_ids[0]) == 0


def test_the_owner_cannot_change_while_a_manager_decides(flows: Flows, discount) -> None:
    """The manager approver is the owner's manager: the owner field is locked with the
    discount, so the subject cannot move the approval to someone else's manager."""
    with pytest.raises(EntityLockedError, match="owner_id is locked"):
        flows.write(
            "update app.deals set owner_id = %s where id = %s",
            (flows.orgs.a.admin_id, discount["deal_id"]),
            user=flows.orgs.a.rep_ids[0],
        )


def test_an_approval_only_its_subject_could_decide_is_rejected(flows: Flows) -> None:
    """The admin (no manager) raises their own deal's discount: the manager slot resolves
    to nobody and the only admin is the subject. The approval is rejected at once and the
    undo runs; before, the step failed and the discount stood."""
    a = flows.orgs.a
    discount_workflow(flows)
    flows.write(
        "update app.deals set discount_percent = 40, owner_id = %s where id = %s",
        (a.admin_id, a.deal_ids[0]),
        user=a.admin_id,
    )
    flows.drain()
    [execution] = flows.executions()
    assert execution["status"] == "completed"
    assert approvals(flows, execution["id"]) == []
    assert discount_of(flows, a.deal_ids[0]) == 0
    assert any("no approver could be resolved" in line for line in flows.logs(execution["id"]))


def test_the_fields_stay_locked_after_the_decision_until_the_execution_ends(
    flows: Flows,
) -> None:
    """Review of issue 14: approved at 40%, the execution still runs (here a wait). A
    change to 90% then would start no new execution (re-enrollment waits for the exit),
    so it is refused until the execution ends."""
    a = flows.orgs.a
    discount_workflow(flows, after=NAP_THEN_NOTE)
    flows.write(
        "update app.deals set discount_percent = 40 where id = %s",
        (a.deal_ids[0],),
        user=a.rep_ids[0],
    )
    flows.drain()
    [execution] = flows.executions()
    act(flows, execution["id"], a.manager_id)
    assert drained_status(flows, execution["id"]) == "waiting"
    raise_to_90 = "update app.deals set discount_percent = 90 where id = %s"
    with pytest.raises(EntityLockedError, match="carries out its approval"):
        flows.write(raise_to_90, (a.deal_ids[0],), user=a.rep_ids[0])
    flows.at((datetime.now(UTC) + timedelta(hours=2)).isoformat())
    flows.run(execution["id"])  # the timer, due now
    assert flows.execution(execution["id"])["status"] == "completed"
    flows.write(raise_to_90, (a.deal_ids[0],), user=a.rep_ids[0])
    flows.drain()
    assert [e["waiting_for"] for e in flows.executions() if e["status"] == "waiting"] == [
        "approval"
    ]


def test_a_field_a_condition_step_reads_is_locked(flows: Flows) -> None:
    """Review of issue 14: the rule written with a condition step (not top-level
    conditions) left the discount editable while the approval was pending."""
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "updated"}],
            "steps": [
                {
                    "name": "big",
                    "type": "condition",
                    "if": {
                        "all": [
                            {"field": "discount_percent", "operator": "gt", "value": DISCOUNT_LIMIT}
                        ]
                    },
                    "then": "ok",
                    "else": "end",
                },
                {"name": "ok", "type": "approval", "approvers": [{"manager": True}]},
            ],
        }
    )
    up = "update app.deals set discount_percent = %s where id = %s"
    flows.write(up, (20, a.deal_ids[0]), user=a.rep_ids[0])
    flows.drain()
    assert flows.executions()[0]["waiting_for"] == "approval"
    with pytest.raises(EntityLockedError, match="discount_percent is locked"):
        flows.write(up, (90, a.deal_ids[0]), user=a.rep_ids[0])


def test_a_dotted_condition_locks_its_column(flows: Flows) -> None:
    """Review of issue 14: `metadata.amount` locked nothing; it locks `metadata`."""
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "updated"}],
            "conditions": {"all": [{"field": "metadata.amount", "operator": "gt", "value": 100}]},
            "steps": [{"name": "ok", "type": "approval", "approvers": [{"manager": True}]}],
        },
        entity_type="activity",
    )
    activity = uuid.uuid4()
    flows.write(
        "insert into app.activities (id, entity_type, entity_id, type, subject, assignee_id) "
        "values (%s, 'deal', %s, 'task', 'spend', %s)",
        (activity, a.deal_ids[0], a.rep_ids[0]),
        user=a.rep_ids[0],
    )
    up = "update app.activities set metadata = %s::jsonb where id = %s"
    flows.write(up, ('{"amount": 150}', activity), user=a.rep_ids[0])
    flows.drain()
    assert flows.executions()[0]["waiting_for"] == "approval"
    with pytest.raises(EntityLockedError, match="metadata is locked"):
        flows.write(up, ('{"amount": 999999}', activity), user=a.rep_ids[0])


def test_whoever_changed_the_fields_since_the_start_is_not_asked(flows: Flows) -> None:
    """Review of issue 14: the manager starts the rule by hand and raises the discount in
    the same transaction (the change starts nothing: the deal is enrolled). They were asked
    to approve it; now the admins are."""
    a = flows.orgs.a
    workflow = flows.create(
        {
            "triggers": [
                {"type": "field_change", "field": "discount_percent"},
                {"type": "manual"},
            ],
            "steps": [{"name": "ok", "type": "approval", "approvers": [{"role": "manager"}]}],
        }
    )
    with errors_translated(), actor(flows.conn, a.org_id, a.rep_ids[0]):
        flows.conn.execute("select api.start_workflow(%s, %s)", (workflow, a.deal_ids[0]))
    with errors_translated(), actor(flows.conn, a.org_id, a.manager_id):
        flows.conn.execute(
            "update app.deals set discount_percent = 40 where id = %s", (a.deal_ids[0],)
        )
    flows.drain()
    [execution] = flows.executions()
    assert {r["approver_id"] for r in approvals(flows, execution["id"])} == {a.admin_id}


def test_a_slot_nobody_may_fill_rejects_an_all_chain(flows: Flows) -> None:
    """Review of issue 14: with [manager, role admin] in mode all, the only admin raised the
    discount; the admin slot vanished and the manager alone approved. Now it is rejected."""
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "field_change", "field": "discount_percent"}],
            "steps": [
                {
                    "name": "ok",
                    "type": "approval",
                    "mode": "all",
                    "approvers": [{"user": str(a.manager_id)}, {"role": "admin"}],
                    "on_reject": "undo",
                },
                {"name": "done", "type": "create_activity", "subject": "x", "next": "end"},
                {"name": "undo", "type": "update_field", "field": "discount_percent", "value": 0},
            ],
        }
    )
    flows.write(
        "update app.deals set discount_percent = 40 where id = %s",
        (a.deal_ids[0],),
        user=a.admin_id,
    )
    flows.drain()
    [execution] = flows.executions()
    assert execution["status"] == "completed"
    assert discount_of(flows, a.deal_ids[0]) == 0
    assert {r["status"] for r in approvals(flows, execution["id"])} == {"cancelled"}
