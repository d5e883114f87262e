"""Approval links: one per notified approval row, /approvals/<token>; GET shows the request
and changes nothing; a decision goes through the approver's own checks, once (also under two
concurrent connections); used, expired and superseded links refuse with IT013 and say which;
an unknown token or a deactivated approver's is IT007. And api.get_approval: who may see an
approval."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from intime.db import errors_translated
from intime.errors import (
    InvalidParameterError,
    InvalidStateError,
    InvalidTokenError,
    NotFoundError,
    ServiceRoleRequiredError,
)
from tests.sql.workflows.conftest import Flows
from tests.sql.workflows.test_approvals import approval_workflow, approvals, row_of, start
from tests.support import Database

LINK_URL = r"^/approvals/apl_[0-9a-f]{64}$"


def link_of(flows: Flows, approval_id: uuid.UUID, slug: str = "approval_required") -> str:
    """The token of the approval link in the notification of approval row `approval_id`."""
    rows = flows.owner.execute(
        "select substr(n.action_url, 12) from app.notifications as n "
        "join app.approval_links as l on l.org_id = n.org_id "
        "and l.token_hash = sha256(convert_to(substr(n.action_url, 12), 'UTF8')) "
        "where l.approval_id = %s and n.template_slug = %s and n.action_url ~ %s",
        (approval_id, slug, LINK_URL),
    ).fetchall()
    assert len(rows) == 1, rows
    return str(rows[0][0])


def view(flows: Flows, token: str) -> dict[str, Any]:
    with errors_translated():
        row = flows.conn.execute("select api.get_approval_link(p_token => %s)", (token,)).fetchone()
    assert row is not None
    return row[0]


def decide(
    flows: Flows,
    token: str,
    decision: str | None,
    comment: str | None = None,
    delegate_to: uuid.UUID | None = None,
    conn: psycopg.Connection | None = None,
) -> dict[str, Any]:
    with errors_translated():
        row = (
            (conn or flows.conn)
            .execute(
                "select api.decide_approval_link(p_token => %s, p_decision => %s, "
                "p_comment => %s, p_delegate_to => %s)",
                (token, decision, comment, delegate_to),
            )
            .fetchone()
        )
    assert row is not None
    return row[0]


def single(flows: Flows, approver: uuid.UUID, **extra: Any) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An approval of `approver` (started by rep 0): the execution, the row, its link."""
    execution = start(
        flows, approval_workflow(flows, {"approvers": [{"user": str(approver)}], **extra})
    )
    row = row_of(flows, execution, approver)
    return execution, row["id"], link_of(flows, row["id"])


def table(flows: Flows, name: str) -> list[dict[str, Any]]:
    cur = flows.owner.cursor(row_factory=dict_row)
    query = sql.SQL("select * from app.{} order by id").format(sql.Identifier(name))
    return cur.execute(query).fetchall()


# -- minting ------------------------------------------------------------------


def test_every_notified_approver_gets_a_link_of_their_own(flows: Flows) -> None:
    a = flows.orgs.a
    flows.at("2030-01-01T09:00:00Z")
    execution = start(
        flows,
        approval_workflow(flows, {"approvers": [{"role": "member"}]}),
        user=a.admin_id,
    )
    rows = [r for r in approvals(flows, execution) if r["status"] == "pending"]
    assert {r["approver_id"] for r in rows} == set(a.rep_ids)
    tokens = {r["approver_id"]: link_of(flows, r["id"]) for r in rows}
    assert len(set(tokens.values())) == 2
    links = table(flows, "approval_links")
    assert {(link["approval_id"], link["approver_id"]) for link in links} == {
        (r["id"], r["approver_id"]) for r in rows
    }
    for link in links:
        token = tokens[link["approver_id"]]
        assert link["token_hash"] == hashlib.sha256(token.encode()).digest()
        assert link["expires_at"].isoformat() == "2030-01-08T09:00:00+00:00"
    dump = flows.owner.execute("select to_jsonb(l)::text from app.approval_links as l").fetchall()
    assert not any(t in row[0] for row in dump for t in tokens.values())


def test_the_email_of_the_request_carries_the_link(flows: Flows) -> None:
    _, _, token = single(flows, flows.orgs.a.manager_id)
    row = flows.owner.execute(
        "select s.html_body, s.text_body from app.email_sends as s "
        "join app.notification_deliveries as d on d.org_id = s.org_id and d.email_send_id = s.id "
        "join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id "
        "where n.action_url = %s",
        (f"/approvals/{token}",),
    ).fetchone()
    assert row is not None
    assert f'href="/approvals/{token}"' in row[0]
    assert f"/approvals/{token}" in row[1]


# -- GET ----------------------------------------------------------------------


def test_get_shows_the_request_and_changes_nothing(flows: Flows) -> None:
    a = flows.orgs.a
    execution, approval_id, token = single(flows, a.manager_id, title="Big discount")
    before = (table(flows, "workflow_approvals"), table(flows, "approval_links"))
    shown = view(flows, token)
    assert (table(flows, "workflow_approvals"), table(flows, "approval_links")) == before
    assert shown["state"] == "pending"
    assert (shown["used_decision"], shown["used_at"]) == (None, None)
    assert shown["approver"]["id"] == str(a.manager_id)
    assert shown["approver"]["name"] == "Morgan Manager"
    approval = shown["approval"]
    assert (approval["id"], approval["execution_id"]) == (str(approval_id), str(execution))
    assert (approval["status"], approval["title"]) == ("pending", "Big discount")
    assert approval["entity"]["type"] == "deal"
    assert approval["entity"]["id"] == str(a.deal_ids[0])
    assert approval["entity"]["label"]
    assert approval["requested_by"] == {"id": str(a.rep_ids[0]), "name": "Riley Rep"}
    assert [h["status"] for h in approval["history"]] == ["pending"]
    assert approval["history"][0]["approver"] == "Morgan Manager"
    delegates = {d["id"] for d in approval["delegates"]}
    assert str(a.admin_id) in delegates
    # Neither the approver nor the subject of the request (rep 0 started it).
    assert str(a.manager_id) not in delegates
    assert str(a.rep_ids[0]) not in delegates


def test_get_shows_the_change_that_asked_for_the_approval(flows: Flows) -> None:
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "field_change", "field": "discount_percent"}],
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"manager": True}]},
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
    row = row_of(flows, execution["id"], a.manager_id)
    change = view(flows, link_of(flows, row["id"]))["approval"]["change"]
    assert [(c["field"], c["to"]) for c in change] == [("discount_percent", 40)]


def test_an_unknown_token_is_refused(flows: Flows) -> None:
    for token in ("apl_" + "0" * 64, "", "nonsense"):
        with pytest.raises(InvalidTokenError):
            view(flows, token)
        with pytest.raises(InvalidTokenError):
            decide(flows, token, "approve")


def test_links_are_for_the_service_role_only(db: Database, flows: Flows) -> None:
    for call in (
        "select api.get_approval_link(p_token => 'x')",
        "select api.decide_approval_link(p_token => 'x', p_decision => 'approve')",
    ):
        with (
            db.connect(flows.orgs.login_a) as conn,
            pytest.raises(ServiceRoleRequiredError),
            errors_translated(),
        ):
            conn.execute(call)


# -- deciding -----------------------------------------------------------------


def test_approving_through_the_link_decides_as_the_approver(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _approval_id, token = single(flows, a.manager_id)
    shown = decide(flows, token, "approve", "fine by me")
    row = row_of(flows, execution, a.manager_id, "approved")
    assert (row["responded_by"], row["response_notes"]) == (a.manager_id, "fine by me")
    assert shown["state"] == "used"
    assert shown["used_decision"] == "approved"
    assert shown["used_at"] is not None
    assert shown["approval"]["status"] == "approved"
    flows.drain()
    assert flows.execution(execution)["status"] == "completed"
    assert "approval approved by Morgan Manager" in flows.logs(execution)


def test_rejecting_through_the_link_follows_the_reject_path(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    assert decide(flows, token, "reject", "too much")["used_decision"] == "rejected"
    assert row_of(flows, execution, a.manager_id, "rejected")["response_notes"] == "too much"
    flows.drain()
    assert flows.execution(execution)["status"] == "failed"


def test_delegating_through_the_link_hands_it_on_with_a_new_link(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    shown = decide(flows, token, "delegate", "on holiday", delegate_to=a.admin_id)
    assert shown["used_decision"] == "delegated"
    assert row_of(flows, execution, a.manager_id, "delegated")["delegation_reason"] == "on holiday"
    added = row_of(flows, execution, a.admin_id)
    theirs = link_of(flows, added["id"])
    assert view(flows, theirs)["state"] == "pending"
    decide(flows, theirs, "approve")
    flows.drain()
    assert flows.execution(execution)["status"] == "completed"


def test_delegating_to_the_subject_of_the_request_is_refused(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    with pytest.raises(InvalidParameterError):
        decide(flows, token, "delegate", delegate_to=a.rep_ids[0])
    with pytest.raises(InvalidParameterError):
        decide(flows, token, "delegate")
    assert row_of(flows, execution, a.manager_id)["status"] == "pending"
    assert view(flows, token)["state"] == "pending"


@pytest.mark.parametrize("decision", ["", "APPROVE", "maybe", None])
def test_an_unknown_decision_is_refused(flows: Flows, decision: str | None) -> None:
    _, _, token = single(flows, flows.orgs.a.manager_id)
    with pytest.raises(InvalidParameterError):
        decide(flows, token, decision)
    assert view(flows, token)["state"] == "pending"


def test_a_used_link_refuses_a_second_decision(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    decide(flows, token, "approve")
    with pytest.raises(InvalidStateError, match="already used"):
        decide(flows, token, "reject")
    assert row_of(flows, execution, a.manager_id, "approved")["response_notes"] is None
    assert view(flows, token)["state"] == "used"


def test_two_connections_deciding_at_once_land_one_decision(flows: Flows, db: Database) -> None:
    a = flows.orgs.a
    execution, approval_id, token = single(flows, a.manager_id)
    outcome: dict[str, Any] = {}
    with (
        db.connect("intime_service") as first,
        db.connect("intime_service", autocommit=True) as second,
    ):
        pid = second.info.backend_pid
        first.execute(
            "select api.decide_approval_link(p_token => %s, p_decision => 'approve')", (token,)
        )

        def race() -> None:
            try:
                decide(flows, token, "reject", conn=second)
                outcome["result"] = "decided"
            except InvalidStateError as exc:
                outcome["result"] = str(exc)

        thread = threading.Thread(target=race)
        thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            waiting = flows.owner.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
            ).fetchone()
            if waiting == ("Lock",):
                break
            time.sleep(0.02)
        assert waiting == ("Lock",), "the second decision did not wait for the first"
        first.commit()
        thread.join(timeout=30)
    assert "already used" in outcome["result"]
    decided = [r for r in approvals(flows, execution) if r["responded_at"] is not None]
    assert [(r["id"], r["status"]) for r in decided] == [(approval_id, "approved")]


def test_a_link_expires_after_seven_days(flows: Flows) -> None:
    a = flows.orgs.a
    flows.at("2030-01-01T09:00:00Z")
    execution, _, token = single(flows, a.manager_id)
    flows.at("2030-01-08T08:59:59Z")
    assert view(flows, token)["state"] == "pending"
    flows.at("2030-01-08T09:00:00Z")
    assert view(flows, token)["state"] == "expired"
    with pytest.raises(InvalidStateError, match="expired"):
        decide(flows, token, "approve")
    assert row_of(flows, execution, a.manager_id)["status"] == "pending"


def test_a_link_is_superseded_when_another_member_of_the_slot_decided(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows,
        approval_workflow(flows, {"approvers": [{"role": "member"}]}),
        user=a.admin_id,
    )
    first, second = (row_of(flows, execution, rep) for rep in a.rep_ids)
    second_link = link_of(flows, second["id"])
    decide(flows, link_of(flows, first["id"]), "approve")
    assert view(flows, second_link)["state"] == "superseded"
    assert view(flows, second_link)["approval"]["status"] == "cancelled"
    with pytest.raises(InvalidStateError, match="superseded"):
        decide(flows, second_link, "reject")


def test_a_link_is_superseded_when_its_approver_delegated_in_the_app(flows: Flows) -> None:
    a = flows.orgs.a
    _, approval_id, token = single(flows, a.manager_id)
    flows.call(
        "select api.delegate_approval(p_approval_id => %s, p_to_user => %s)",
        (approval_id, a.admin_id),
        user=a.manager_id,
    )
    assert view(flows, token)["state"] == "superseded"
    with pytest.raises(InvalidStateError, match="superseded: the approval is delegated"):
        decide(flows, token, "approve")


def test_an_escalation_gets_a_link_and_the_first_decision_supersedes_the_other(
    flows: Flows,
) -> None:
    a = flows.orgs.a
    flows.at("2026-03-02T09:00:00Z")
    execution = start(
        flows,
        approval_workflow(flows, {"due_in": "PT1H", "approvers": [{"user": str(a.rep_ids[1])}]}),
    )
    original = link_of(flows, row_of(flows, execution, a.rep_ids[1])["id"])
    flows.at("2026-03-02T10:30:00Z")
    assert flows.sweep()["escalated"] == 1
    escalated = link_of(flows, row_of(flows, execution, a.manager_id)["id"], "approval_escalated")
    # The original approver may still decide (docs/workflows.md), through their link too.
    decide(flows, original, "approve")
    assert view(flows, escalated)["state"] == "superseded"
    with pytest.raises(InvalidStateError, match="superseded"):
        decide(flows, escalated, "reject")


def test_a_recalled_approvals_link_is_superseded(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    flows.call("select api.recall_approval(p_execution_id => %s)", (execution,))
    assert view(flows, token)["state"] == "superseded"


def test_a_deactivated_approvers_link_no_longer_works(flows: Flows) -> None:
    a = flows.orgs.a
    execution, _, token = single(flows, a.manager_id)
    flows.call(
        "select api.update_user(p_user_id => %s, p_changes => '{\"is_active\": false}')",
        (a.manager_id,),
    )
    with pytest.raises(InvalidTokenError):
        view(flows, token)
    with pytest.raises(InvalidTokenError):
        decide(flows, token, "approve")
    assert row_of(flows, execution, a.manager_id)["status"] == "pending"


def test_another_orgs_link_decides_only_that_orgs_approval(flows: Flows) -> None:
    a, b = flows.orgs.a, flows.orgs.b
    ours, our_row, our_link = single(flows, a.manager_id)
    wf_b = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"user": str(b.manager_id)}]}
            ],
        },
        org_id=b.org_id,
        admin_id=b.admin_id,
    )
    [started] = flows.call(
        "select api.start_workflow(%s, %s) as id",
        (wf_b, b.deal_ids[0]),
        user=b.rep_ids[0],
        org_id=b.org_id,
    )
    flows.drain()
    their_row = row_of(flows, started["id"], b.manager_id)
    their_link = link_of(flows, their_row["id"])
    shown = decide(flows, their_link, "approve")
    assert shown["approver"]["id"] == str(b.manager_id)
    assert shown["approval"]["entity"]["id"] == str(b.deal_ids[0])
    assert row_of(flows, ours, a.manager_id)["status"] == "pending"
    assert view(flows, our_link)["state"] == "pending"
    # A user of org B cannot read org A's approval by its id either.
    with pytest.raises(NotFoundError):
        flows.call(
            "select api.get_approval(p_approval_id => %s)",
            (our_row,),
            user=b.admin_id,
            org_id=b.org_id,
        )


# -- api.get_approval ---------------------------------------------------------


def test_get_approval_is_for_the_slot_an_admin_or_the_service(flows: Flows) -> None:
    a = flows.orgs.a
    execution = start(
        flows,
        approval_workflow(flows, {"approvers": [{"role": "member"}]}),
        user=a.admin_id,
    )
    first = row_of(flows, execution, a.rep_ids[0])["id"]
    query = "select api.get_approval(p_approval_id => %s) as v"
    # Either member of the slot sees the other's row; the admin; the service for no user.
    for user in (a.rep_ids[0], a.rep_ids[1], a.admin_id):
        [row] = flows.call(query, (first,), user=user)
        assert row["v"]["id"] == str(first)
    with errors_translated(), flows.conn.transaction():
        flows.conn.execute("select api.set_actor(%s)", (a.org_id,))
        shown = flows.conn.execute(query, (first,)).fetchone()
    assert shown is not None
    with pytest.raises(NotFoundError):
        flows.call(query, (first,), user=a.manager_id)
    with pytest.raises(NotFoundError):
        flows.call(query, (uuid.uuid4(),), user=a.admin_id)
