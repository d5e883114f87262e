"""My approvals over /api/v1: list, approve, reject, delegate, as the token's user;
the SQL's refusals come back as problems (403 not the approver, 404 another org's
id, 409 no longer pending)."""

from __future__ import annotations

import uuid

import pytest

from tests.sql.workflows.conftest import Flows
from tests.web.apiclient import call, is_problem


@pytest.fixture
def flows(service, admin, two_orgs) -> Flows:
    return Flows(service, admin, two_orgs)


@pytest.fixture
def approval(flows: Flows) -> uuid.UUID:
    """A pending approval of org A's manager: a deal workflow started by rep 0."""
    a = flows.orgs.a
    workflow_id = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"user": str(a.manager_id)}]},
                {"name": "done", "type": "create_activity", "subject": "approved"},
            ],
        },
        name="api approval",
    )
    [row] = flows.call(
        "select api.start_workflow(%s, %s) as id", (workflow_id, a.deal_ids[0]), user=a.rep_ids[0]
    )
    flows.drain()
    found = flows.owner.execute(
        "select id from app.workflow_approvals where execution_id = %s and status = 'pending'",
        (row["id"],),
    ).fetchone()
    assert found is not None
    return found[0]


def status_of(flows: Flows, approval_id: uuid.UUID) -> tuple[str, str | None]:
    row = flows.owner.execute(
        "select status, response_notes from app.workflow_approvals where id = %s", (approval_id,)
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_the_approver_sees_the_pending_approval(base_url, token_for, approval, two_orgs) -> None:
    response = call(base_url, "GET", "/approvals", token_for(two_orgs.a.manager_id))
    assert str(approval) in [a["approval_id"] for a in response.json()["approvals"]]


def test_others_do_not_see_it(base_url, token_for, approval, two_orgs) -> None:
    response = call(base_url, "GET", "/approvals", token_for(two_orgs.a.rep_ids[1]))
    assert str(approval) not in [a["approval_id"] for a in response.json()["approvals"]]


def test_the_approver_approves(base_url, token_for, approval, flows, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    response = call(base_url, "POST", f"/approvals/{approval}/approve", token, json={})
    assert response.json() == {"step_status": "approved"}
    assert status_of(flows, approval)[0] == "approved"


def test_an_approval_needs_no_body(base_url, token_for, approval, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    assert call(base_url, "POST", f"/approvals/{approval}/approve", token).status_code == 200


def test_a_rejection_keeps_its_comment(base_url, token_for, approval, flows, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    body = {"comment": "too steep a discount"}
    response = call(base_url, "POST", f"/approvals/{approval}/reject", token, json=body)
    assert response.json() == {"step_status": "rejected"}
    assert status_of(flows, approval) == ("rejected", "too steep a discount")


def test_the_approver_delegates(base_url, token_for, approval, flows, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    body = {"to_user_id": str(two_orgs.a.admin_id), "reason": "on leave"}
    response = call(base_url, "POST", f"/approvals/{approval}/delegate", token, json=body)
    assert response.status_code == 201
    new_id = uuid.UUID(response.json()["approval_id"])
    assert (status_of(flows, approval)[0], status_of(flows, new_id)[0]) == ("delegated", "pending")


def test_someone_else_may_not_approve(base_url, token_for, approval, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    response = call(base_url, "POST", f"/approvals/{approval}/approve", token, json={})
    assert is_problem(response, 403, "IT003")


def test_another_orgs_approval_is_not_found(base_url, token_for, approval, two_orgs) -> None:
    token = token_for(two_orgs.b.admin_id, two_orgs.b.org_id)
    response = call(base_url, "POST", f"/approvals/{approval}/approve", token, json={})
    assert is_problem(response, 404, "IT004")


def test_a_decided_approval_is_a_conflict(base_url, token_for, approval, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    call(base_url, "POST", f"/approvals/{approval}/approve", token, json={})
    response = call(base_url, "POST", f"/approvals/{approval}/reject", token, json={})
    assert is_problem(response, 409, "IT013")


def test_delegating_needs_a_user(base_url, token_for, approval, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    response = call(base_url, "POST", f"/approvals/{approval}/delegate", token, json={})
    assert is_problem(response, 400)


def test_an_id_that_is_no_uuid_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.manager_id)
    assert is_problem(call(base_url, "POST", "/approvals/abc/approve", token, json={}), 400)
