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


def test_executions_are_listed_newest_first(base_url, token_for, waiting, two_orgs) -> None:
    response = call(base_url, "GET", "/executions", token_for(two_orgs.a.admin_id))
    rows = response.json()["executions"]
    assert rows[0]["execution_id"] == str(waiting)
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)


def test_the_listing_says_what_the_caller_may_do(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    rows = call(base_url, "GET", "/executions", token).json()["executions"]
    row = next(r for r in rows if r["execution_id"] == str(waiting))
    assert (row["can_cancel"], row["can_retry"]) == (False, False)


def test_the_next_cursor_pages_without_repeats(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    seen: list[str] = []
    params: dict[str, object] = {"limit": 1}
    for _ in range(50):
        page = call(base_url, "GET", "/executions", token, params=params).json()
        seen += [r["execution_id"] for r in page["executions"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    everything = call(base_url, "GET", "/executions", token, params={"limit": 200}).json()
    assert seen == [r["execution_id"] for r in everything["executions"]]


def test_the_listing_filters_by_status(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    rows = call(base_url, "GET", "/executions", token, params={"status": "waiting"}).json()
    assert {r["status"] for r in rows["executions"]} == {"waiting"}


def test_another_orgs_executions_are_not_listed(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.b.admin_id, two_orgs.b.org_id)
    rows = call(base_url, "GET", "/executions", token, params={"limit": 200}).json()
    assert str(waiting) not in [r["execution_id"] for r in rows["executions"]]


def test_a_cursor_this_server_did_not_give_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    response = call(base_url, "GET", "/executions", token, params={"cursor": "bm90IGEgY3Vyc29y"})
    assert is_problem(response, 400)


def test_an_unknown_entity_type_is_unprocessable(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    response = call(base_url, "GET", "/executions", token, params={"entity_type": "planet"})
    assert is_problem(response, 422, "IT005")


def test_the_listing_reads_one_execution_by_id(base_url, token_for, waiting, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    params = {"execution_id": str(waiting), "limit": 1}
    rows = call(base_url, "GET", "/executions", token, params=params).json()["executions"]
    assert [(r["execution_id"], r["status"]) for r in rows] == [(str(waiting), "waiting")]
    theirs = token_for(two_orgs.b.admin_id, two_orgs.b.org_id)
    assert call(base_url, "GET", "/executions", theirs, params=params).json()["executions"] == []
