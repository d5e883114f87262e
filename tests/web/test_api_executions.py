"""Workflow executions over /api/v1: timeline, retry, cancel as the token's user."""

from __future__ import annotations

import uuid

import pytest

from tests.sql.workflows.conftest import Flows
from tests.web.apiclient import call, is_problem


@pytest.fixture
def flows(service, admin, two_orgs) -> Flows:
    return Flows(service, admin, two_orgs)


@pytest.fixture
def waiting(flows: Flows) -> uuid.UUID:
    """An execution of org A waiting for its manager's approval, started by rep 0."""
    a = flows.orgs.a
    workflow_id = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"user": str(a.manager_id)}]},
                {"name": "done", "type": "create_activity", "subject": "approved"},
            ],
        },
        name="api execution",
    )
    [row] = flows.call(
        "select api.start_workflow(%s, %s) as id", (workflow_id, a.deal_ids[0]), user=a.rep_ids[0]
    )
    flows.drain()
    return row["id"]


def test_the_timeline_shows_the_approval(base_url, token_for, waiting, two_orgs) -> None:
    response = call(
        base_url, "GET", f"/executions/{waiting}/timeline", token_for(two_orgs.a.admin_id)
    )
    assert "approval" in [e["kind"] for e in response.json()["timeline"]]


def test_another_orgs_timeline_is_not_found(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.b.admin_id, two_orgs.b.org_id)
    response = call(base_url, "GET", f"/executions/{waiting}/timeline", token)
    assert is_problem(response, 404, "IT004")


def test_only_a_failed_execution_is_retried(base_url, token_for, waiting, two_orgs) -> None:
    response = call(
        base_url, "POST", f"/executions/{waiting}/retry", token_for(two_orgs.a.admin_id)
    )
    assert is_problem(response, 409, "IT013")


def test_a_failed_execution_is_retried(base_url, token_for, waiting, flows, two_orgs) -> None:
    with flows.conn.transaction():
        flows.conn.execute(
            "select api.fail_execution(p_execution_id => %s, p_error => 'boom', p_org_id => %s)",
            (waiting, two_orgs.a.org_id),
        )
    response = call(
        base_url, "POST", f"/executions/{waiting}/retry", token_for(two_orgs.a.admin_id)
    )
    assert response.status_code == 204
    assert flows.execution(waiting)["status"] == "running"


def test_whoever_started_it_cancels_it(base_url, token_for, waiting, flows, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[0])
    response = call(
        base_url, "POST", f"/executions/{waiting}/cancel", token, json={"reason": "wrong deal"}
    )
    assert response.status_code == 204
    assert "cancelled" in " ".join(flows.logs(waiting))


def test_another_member_may_not_cancel(base_url, token_for, waiting, two_orgs) -> None:
    response = call(
        base_url, "POST", f"/executions/{waiting}/cancel", token_for(two_orgs.a.rep_ids[1])
    )
    assert is_problem(response, 403, "IT003")


def test_only_an_admin_keeps_the_changes(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[0])
    body = {"keep_changes": True}
    response = call(base_url, "POST", f"/executions/{waiting}/cancel", token, json=body)
    assert is_problem(response, 403, "IT003")


def test_another_orgs_execution_is_not_cancelled(
    base_url, token_for, waiting, flows, two_orgs
) -> None:
    token = token_for(two_orgs.b.admin_id, two_orgs.b.org_id)
    response = call(base_url, "POST", f"/executions/{waiting}/cancel", token)
    assert is_problem(response, 404, "IT004")
    assert flows.execution(waiting)["status"] == "waiting"
