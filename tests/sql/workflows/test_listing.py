"""api.list_executions: filters, keyset paging, limits, tenancy, the can_* flags (they agree
with what api.retry_execution, cancel_execution, pause_execution and resume_execution
allow), and the plan of its hot path."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest

from intime.db import actor
from intime.errors import InTimeError, InvalidParameterError
from intime.errors import translate as translate_error
from tests.sql.workflows.conftest import Flows, nested_plans

LIST = (
    "select * from api.list_executions(p_status => %(status)s, p_workflow_id => %(workflow)s, "
    "p_entity_type => %(entity_type)s, p_entity_id => %(entity)s, "
    "p_before_created_at => %(before_at)s, p_before_id => %(before_id)s, p_limit => %(limit)s, "
    "p_execution_id => %(execution)s)"
)
NAP = [{"name": "nap", "type": "wait", "duration": "PT1H"}]
NOTE = [{"name": "note", "type": "create_activity", "subject": "x"}]
BOOM = [{"name": "boom", "type": "update_field", "field": "value", "value": "{{deal.description}}"}]


def listed(flows: Flows, user: uuid.UUID | None = None, **filters: Any) -> list[dict[str, Any]]:
    params = {
        "status": None,
        "workflow": None,
        "entity_type": None,
        "entity": None,
        "before_at": None,
        "before_id": None,
        "limit": 50,
        "execution": None,
    }
    params.update(filters)
    return flows.call(LIST, params, user=user, org_id=filters.get("org_id"))


def start(
    flows: Flows, workflow: uuid.UUID, deal: uuid.UUID, user: uuid.UUID | None = None
) -> uuid.UUID:
    rows = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (workflow, deal),
        user=user or flows.orgs.a.rep_ids[0],
    )
    return rows[0]["id"]


def manual(flows: Flows, steps: list[dict[str, Any]], **extra: Any) -> uuid.UUID:
    return flows.create({"triggers": [{"type": "manual"}], "steps": steps, **extra}, name="w")


def test_newest_first_with_the_workflow_and_step_counts(flows: Flows) -> None:
    wf = manual(flows, NAP)
    flows.at("2030-01-01T00:00:00Z")
    first = start(flows, wf, flows.orgs.a.deal_ids[0])
    flows.at("2030-01-01T00:00:01Z")
    second = start(flows, wf, flows.orgs.a.deal_ids[1])
    rows = listed(flows)
    assert [r["execution_id"] for r in rows] == [second, first]
    row = rows[0]
    assert (row["workflow_id"], row["workflow_name"], row["workflow_version"]) == (wf, "w", 1)
    assert (row["entity_type"], row["entity_id"]) == ("deal", flows.orgs.a.deal_ids[1])
    assert (row["status"], row["trigger_type"], row["triggered_by"]) == (
        "pending",
        "manual",
        flows.orgs.a.rep_ids[0],
    )
    assert (row["current_step_index"], row["total_steps"]) == (0, 1)


def test_filters_by_status_workflow_entity_type_and_entity(flows: Flows) -> None:
    nap, note = manual(flows, NAP), manual(flows, NOTE)
    deals = flows.orgs.a.deal_ids
    waiting = start(flows, nap, deals[0])
    done = start(flows, note, deals[1])
    flows.drain()
    assert [r["execution_id"] for r in listed(flows, status="waiting")] == [waiting]
    assert [r["execution_id"] for r in listed(flows, status="completed")] == [done]
    assert [r["execution_id"] for r in listed(flows, workflow=note)] == [done]
    assert [r["execution_id"] for r in listed(flows, entity=deals[0])] == [waiting]
    assert {r["execution_id"] for r in listed(flows, entity_type="deal")} == {waiting, done}
    assert listed(flows, entity_type="contact") == []
    assert listed(flows, status="failed", workflow=nap) == []


def test_keyset_paging_skips_no_row_of_one_instant(flows: Flows) -> None:
    wf = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP, "reenrollment": "concurrent"}
    )
    flows.at("2030-01-01T00:00:00Z")
    made = {start(flows, wf, flows.orgs.a.deal_ids[0]) for _ in range(7)}
    flows.at("2029-12-31T00:00:00Z")
    older = start(flows, wf, flows.orgs.a.deal_ids[1])
    pages: list[list[uuid.UUID]] = []
    before: dict[str, Any] = {}
    while True:
        page = listed(flows, limit=3, **before)
        if not page:
            break
        pages.append([r["execution_id"] for r in page])
        before = {"before_at": page[-1]["created_at"], "before_id": page[-1]["execution_id"]}
    seen = [e for page in pages for e in page]
    assert [len(p) for p in pages] == [3, 3, 2]
    assert len(seen) == len(set(seen)) == 8
    assert set(seen[:7]) == made
    assert seen[7] == older
    assert seen[:7] == sorted(seen[:7], reverse=True)  # the same instant: by id, descending


def test_a_time_alone_pages_before_that_instant(flows: Flows) -> None:
    wf = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP, "reenrollment": "concurrent"}
    )
    flows.at("2030-01-01T00:00:00Z")
    start(flows, wf, flows.orgs.a.deal_ids[0])
    flows.at("2029-01-01T00:00:00Z")
    older = start(flows, wf, flows.orgs.a.deal_ids[0])
    rows = listed(flows, before_at="2030-01-01T00:00:00Z")
    assert [r["execution_id"] for r in rows] == [older]


@pytest.mark.parametrize(
    "bad",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": None},
        {"status": "done"},
        {"entity_type": "spaceship"},
        {"before_id": uuid.uuid4()},
    ],
)
def test_bad_arguments_are_refused(flows: Flows, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        listed(flows, **bad)


def test_the_limit_bounds_the_page(flows: Flows) -> None:
    wf = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP, "reenrollment": "concurrent"}
    )
    for _ in range(4):
        start(flows, wf, flows.orgs.a.deal_ids[0])
    assert len(listed(flows, limit=200)) == 4
    assert len(listed(flows, limit=1)) == 1


def test_another_orgs_executions_are_invisible(flows: Flows) -> None:
    b = flows.orgs.b
    wf_b = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP},
        org_id=b.org_id,
        admin_id=b.admin_id,
    )
    rows = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (wf_b, b.deal_ids[0]),
        user=b.admin_id,
        org_id=b.org_id,
    )
    theirs = rows[0]["id"]
    ours = start(flows, manual(flows, NAP), flows.orgs.a.deal_ids[0])
    assert [r["execution_id"] for r in listed(flows)] == [ours]
    assert listed(flows, workflow=wf_b) == []
    assert [r["execution_id"] for r in listed(flows, user=b.admin_id, org_id=b.org_id)] == [theirs]


def test_one_execution_by_id_whatever_the_page_size(flows: Flows) -> None:
    wf = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP, "reenrollment": "concurrent"}
    )
    flows.at("2030-01-01T00:00:00Z")
    made = [start(flows, wf, flows.orgs.a.deal_ids[0]) for _ in range(5)]
    oldest = min(made)  # the last of the instant's page, by id
    rows = listed(flows, execution=oldest, limit=1)
    assert [r["execution_id"] for r in rows] == [oldest]
    assert (rows[0]["status"], rows[0]["can_cancel"]) == ("pending", True)
    # The other filters still apply.
    assert listed(flows, execution=oldest, status="failed") == []
    assert listed(flows, execution=oldest, before_at="2030-01-01T00:00:00Z") == []
    assert listed(flows, execution=uuid.uuid4()) == []


def test_another_orgs_execution_by_id_is_not_found(flows: Flows) -> None:
    b = flows.orgs.b
    wf_b = flows.create(
        {"triggers": [{"type": "manual"}], "steps": NAP},
        org_id=b.org_id,
        admin_id=b.admin_id,
    )
    theirs = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (wf_b, b.deal_ids[0]),
        user=b.admin_id,
        org_id=b.org_id,
    )[0]["id"]
    assert listed(flows, user=flows.orgs.a.admin_id, execution=theirs) == []
    mine = listed(flows, user=b.admin_id, org_id=b.org_id, execution=theirs)
    assert [r["execution_id"] for r in mine] == [theirs]


ACTIONS = {
    "can_retry": "select api.retry_execution(p_execution_id => %s)",
    "can_cancel": "select api.cancel_execution(p_execution_id => %s)",
    "can_pause": "select api.pause_execution(p_execution_id => %s)",
    "can_resume": "select api.resume_execution(p_execution_id => %s)",
}


def _allowed(conn: psycopg.Connection, query: Any, execution: uuid.UUID) -> bool:
    """Whether the action succeeds now (rolled back either way): a refusal must be
    IT003 (not the caller's to control) or IT013 (not in a state that allows it)."""
    refusal: str | None = None
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(query, (execution,))
    except psycopg.Error as exc:
        error = translate_error(exc)
        refusal = error.sqlstate if isinstance(error, InTimeError) else repr(exc)
    assert refusal in (None, "IT003", "IT013"), refusal
    return refusal is None


def test_the_can_flags_agree_with_what_the_control_functions_allow(flows: Flows) -> None:
    a = flows.orgs.a
    deals = a.deal_ids
    nap, note = manual(flows, NAP), manual(flows, NOTE)
    boom = manual(flows, BOOM, max_retries=0)
    flows.owner.execute("update app.deals set description = 'not a number'")
    waiting = start(flows, nap, deals[0])
    completed = start(flows, note, deals[0])
    failed_free = start(flows, boom, deals[1])
    failed_blocked = start(flows, boom, deals[2])
    cancelled = start(flows, nap, deals[1])
    flows.drain()
    # A paused execution of the same workflow and entity: the failed one cannot be retried.
    blocker = start(flows, boom, deals[2])
    flows.call("select api.pause_execution(p_execution_id => %s)", (blocker,))
    pending = start(flows, manual(flows, NAP), deals[0])
    flows.call("select api.cancel_execution(p_execution_id => %s)", (cancelled,))
    statuses = {
        e: flows.execution(e)["status"]
        for e in (waiting, completed, failed_free, failed_blocked, cancelled, blocker, pending)
    }
    assert sorted(statuses.values()) == sorted(
        ["waiting", "completed", "failed", "failed", "cancelled", "paused", "pending"]
    )
    # The admin (and the workflows' owner), the rep who started them, and another rep.
    checked = 0
    for user in (a.admin_id, a.rep_ids[0], a.rep_ids[1]):
        with actor(flows.conn, a.org_id, user):
            rows = flows.conn.execute(
                "select execution_id, can_retry, can_cancel, can_pause, can_resume "
                "from api.list_executions()"
            ).fetchall()
            assert {r[0] for r in rows} == set(statuses)
            for execution, *flags in rows:
                for flag, (name, query) in zip(flags, ACTIONS.items(), strict=True):
                    allowed = _allowed(flows.conn, query, execution)
                    assert flag is allowed, (user, statuses[execution], name)
                    checked += 1
    assert checked == 3 * 7 * 4
    admin_rows = {r["execution_id"]: r for r in listed(flows, user=a.admin_id)}
    assert admin_rows[failed_free]["can_retry"] is True
    assert admin_rows[failed_blocked]["can_retry"] is False
    assert not any(r["can_cancel"] for r in listed(flows, user=a.rep_ids[1]))


def test_the_hot_path_reads_the_listing_index_in_order(flows: Flows) -> None:
    """The real statement's plan (auto_explain) for the console's first page: an index
    range on (org_id, created_at, id) read backwards, never a scan of the org's executions."""
    wf = manual(flows, NAP)
    start(flows, wf, flows.orgs.a.deal_ids[0])
    # Many ended executions, as a long-running org has (copies of the one started).
    flows.owner.execute(
        "insert into app.workflow_executions (org_id, instance_id, workflow_id, "
        "workflow_version, entity_type, entity_id, status, exclusive, created_at) "
        "select e.org_id, e.instance_id, e.workflow_id, e.workflow_version, e.entity_type, "
        "e.entity_id, 'completed', false, now() - make_interval(secs => g) "
        "from app.workflow_executions as e, generate_series(1, 3000) as g "
        "where e.workflow_id = %s",
        (wf,),
    )
    flows.owner.execute("analyze app.workflow_executions")
    conn = flows.owner
    with nested_plans(conn) as plans, actor(conn, flows.orgs.a.org_id, flows.orgs.a.admin_id):
        first = conn.execute("select * from api.list_executions(p_limit => 50)").fetchall()
        last = first[-1]
        conn.execute(
            "select * from api.list_executions(p_before_created_at => %s, p_before_id => %s)",
            (last[12], last[0]),
        ).fetchall()
    listing = [p for p in plans if "from app.workflow_executions as x" in p]
    assert len(listing) == 2, plans
    for plan in listing:
        assert re.search(
            r"Index (Only )?Scan Backward using workflow_executions_listing_idx on "
            r"workflow_executions x",
            plan,
        ), plan
        assert "Seq Scan on workflow_executions" not in plan, plan


def test_one_execution_by_id_is_a_primary_key_read_even_in_a_generic_plan(flows: Flows) -> None:
    """A generic plan (what a pooled connection ends up with) still reads one execution by
    its primary key: the page branch is never run, whatever the org's executions."""
    wf = manual(flows, NAP)
    wanted = start(flows, wf, flows.orgs.a.deal_ids[0])
    flows.owner.execute(
        "insert into app.workflow_executions (org_id, instance_id, workflow_id, "
        "workflow_version, entity_type, entity_id, status, exclusive, created_at) "
        "select e.org_id, e.instance_id, e.workflow_id, e.workflow_version, e.entity_type, "
        "e.entity_id, 'completed', false, now() + make_interval(secs => g) "
        "from app.workflow_executions as e, generate_series(1, 3000) as g "
        "where e.workflow_id = %s",
        (wf,),
    )
    flows.owner.execute("analyze app.workflow_executions")
    conn = flows.owner
    conn.execute("set plan_cache_mode = force_generic_plan")
    with (
        nested_plans(conn, analyze=True) as plans,
        actor(conn, flows.orgs.a.org_id, flows.orgs.a.admin_id),
    ):
        found = conn.execute(
            "select execution_id from api.list_executions(p_execution_id => %s)", (wanted,)
        ).fetchall()
    assert found == [(wanted,)]
    listing = [p for p in plans if "from app.workflow_executions as x" in p]
    assert len(listing) == 1, plans
    plan = listing[0]
    assert "$8" in plan, plan  # a generic plan: the arguments are parameters
    assert re.search(r"Index Scan using workflow_executions_pkey on workflow_executions x", plan)
    assert re.search(
        r"Index (Only )?Scan Backward using workflow_executions_listing_idx on "
        r"workflow_executions x_1 .*\(never executed\)",
        plan,
    ), plan
    assert "Seq Scan on workflow_executions" not in plan, plan
