"""Batched running (issue 17): api.run_executions picks due executions of every org with
SKIP LOCKED, runs each as its own org in its own subtransaction, and commits once; a
statement that starts many executions queues one workflow.run_due job per 100; the
sweeper still re-queues what no job will run."""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.sql.workflows.conftest import Flows, nested_plans
from tests.support import Database, autovacuum_paused
from worker.workflows import RUN_DUE_BATCH

THREE_STEPS = [
    {"name": "task", "type": "create_task", "title": "Call {{deal.name}}"},
    {"name": "describe", "type": "update_field", "field": "description", "value": "touched"},
    {"name": "note", "type": "create_activity", "subject": "Note on {{deal.name}}"},
]


def on_value(flows: Flows, steps: list[dict[str, Any]], **kw: Any) -> uuid.UUID:
    return flows.create(
        {"triggers": [{"type": "field_change", "field": "value"}], "steps": steps}, **kw
    )


def touch(flows: Flows, org_id: uuid.UUID | None = None, user: uuid.UUID | None = None) -> None:
    """One UPDATE of every deal of the org (A by default): one execution per deal."""
    flows.write("update app.deals set value = value + 1", org_id=org_id, user=user)


def statuses(flows: Flows, workflow_id: uuid.UUID) -> list[str]:
    return sorted(e["status"] for e in flows.executions(workflow_id))


def test_a_bulk_start_runs_in_one_batch_with_the_same_timeline(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    executions = flows.executions(wf)
    assert len(executions) >= 2
    (job,) = flows.jobs("workflow.run_due")
    assert {e["wake_job_id"] for e in executions} == {job["id"]}
    counts = flows.run_batch()
    assert counts == {
        "picked": len(executions), "completed": len(executions), "waiting": 0,
        "retrying": 0, "failed": 0, "deferred": 0,
    }  # fmt: skip
    for e in executions:
        assert flows.logs(e["id"]) == [
            "execution started",
            "step task completed",
            "step describe completed",
            "step note completed",
            "execution completed",
        ]
        steps = flows.steps(e["id"])
        assert [(s["step_name"], s["status"], s["attempts"]) for s in steps] == [
            ("task", "completed", 1),
            ("describe", "completed", 1),
            ("note", "completed", 1),
        ]
        row = flows.execution(e["id"])
        assert (row["status"], row["current_step_index"]) == ("completed", 3)
        assert set(row["execution_context"]["steps"]) == {"task", "describe", "note"}
        assert flows.deal(e["entity_id"])["description"] == "touched"


def test_the_batch_path_writes_the_rows_a_single_run_writes(flows: Flows) -> None:
    """The quick way (one insert per step, the execution row once) and api.run_execution
    leave the same steps, results, activities and logs."""
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    first, *rest = flows.executions(wf)
    assert flows.run(first["id"]) == "completed"
    flows.run_batch()

    def shape(execution_id: uuid.UUID) -> Any:
        row = flows.execution(execution_id)
        steps = [
            (s["step_type"], s["step_kind"], s["step_name"], s["position"], s["status"],
             s["attempts"], sorted(s["result"]))
            for s in flows.steps(execution_id)
        ]  # fmt: skip
        acts = flows.owner.execute(
            "select type, status, priority, assignee_id is not null, completed_at is not null "
            "from app.activities where entity_id = %s and metadata ->> 'execution_id' = %s "
            "order by type",
            (row["entity_id"], str(execution_id)),
        ).fetchall()
        return (
            row["status"], row["current_step_index"], row["retry_count"], row["runs"],
            sorted(row["execution_context"]["steps"]), steps, acts, flows.logs(execution_id),
        )  # fmt: skip

    for other in rest:
        assert shape(other["id"]) == shape(first["id"])


def test_a_batch_skips_an_execution_another_runner_holds(flows: Flows, db: Database) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    held, *others = flows.executions(wf)
    with db.connect() as other:
        other.execute(
            # By org too: Citus locks one org's rows (docs/scale-out.md, "SQL shapes").
            "select 1 from app.workflow_executions where org_id = %s and id = %s for no key update",
            (held["org_id"], held["id"]),
        )
        counts = flows.run_batch()
        assert (counts["picked"], counts["completed"]) == (len(others), len(others))
        assert flows.execution(held["id"])["status"] == "pending"
        other.rollback()
    assert flows.run_batch()["picked"] == 1
    assert statuses(flows, wf) == ["completed"] * (len(others) + 1)


def test_one_failing_execution_does_not_undo_the_others(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    broken, *others = flows.executions(wf)
    # A step the engine cannot even record (no type): an error outside any step,
    # which no retry cures.
    flows.owner.execute(
        'update app.workflow_executions set steps = \'[{"name": "nameless"}]\' where id = %s',
        (broken["id"],),
    )
    counts = flows.run_batch()
    assert (counts["picked"], counts["completed"], counts["failed"]) == (
        len(others) + 1, len(others), 1,
    )  # fmt: skip
    row = flows.execution(broken["id"])
    assert row["status"] == "failed"
    assert row["error_message"].startswith("the run failed: ")
    for e in others:
        assert flows.execution(e["id"])["status"] == "completed"


def test_a_failing_step_in_a_batch_is_retried_like_a_single_run(flows: Flows) -> None:
    steps = [THREE_STEPS[0], {"name": "bad", "type": "update_field", "field": "id", "value": "x"}]
    wf = flows.create(
        {"triggers": [{"type": "field_change", "field": "value"}], "steps": THREE_STEPS[:1]}
    )
    touch(flows)
    one, *others = flows.executions(wf)
    flows.owner.execute(
        "update app.workflow_executions set steps = %s where id = %s",
        (Jsonb(steps), one["id"]),
    )
    counts = flows.run_batch()
    assert (counts["completed"], counts["retrying"]) == (len(others), 1)
    row = flows.execution(one["id"])
    assert (row["status"], row["waiting_for"], row["current_step_index"]) == (
        "waiting", "retry", 1,
    )  # fmt: skip
    # The first step's work stands; the failing one is recorded, once.
    assert [(s["step_name"], s["status"]) for s in flows.steps(one["id"])] == [
        ("task", "completed"),
        ("bad", "failed"),
    ]
    assert flows.logs(one["id"])[:2] == ["execution started", "step task completed"]
    assert "step bad failed" in flows.logs(one["id"])[2]


def test_each_execution_in_a_batch_acts_as_its_own_org(flows: Flows) -> None:
    """Executions of orgs A and B in one batch: each writes its own org's rows, and a
    change its step makes starts a child execution in that org only (the matcher trusts
    the execution it is told of, per execution)."""
    a, b = flows.orgs.a, flows.orgs.b
    mine = on_value(flows, THREE_STEPS[1:2])
    theirs = on_value(flows, THREE_STEPS[1:2], org_id=b.org_id, admin_id=b.admin_id)
    child_a = flows.create({"triggers": [{"type": "field_change", "field": "description"}],
                            "steps": THREE_STEPS[2:]})  # fmt: skip
    child_b = flows.create(
        {"triggers": [{"type": "field_change", "field": "description"}], "steps": THREE_STEPS[2:]},
        org_id=b.org_id, admin_id=b.admin_id,
    )  # fmt: skip
    touch(flows)
    touch(flows, b.org_id, b.admin_id)
    started = flows.executions(mine) + flows.executions(theirs)
    counts = flows.run_batch(limit=500)
    assert counts["picked"] == len(started) == counts["completed"]
    for parent_wf, child_wf, org in ((mine, child_a, a.org_id), (theirs, child_b, b.org_id)):
        parents = {e["id"] for e in flows.executions(parent_wf)}
        children = flows.executions(child_wf)
        assert len(children) == len(parents)
        assert all(c["org_id"] == org and c["depth"] == 1 for c in children)
        assert {c["parent_execution_id"] for c in children} == parents
    # Read apart and compared here (on Citus a join of the two not by org is refused).
    history = flows.owner.execute(
        "select h.org_id, h.entity_id from app.entity_history as h "
        "where h.field_name = 'description'"
    ).fetchall()
    deals = dict(
        (r[1], r[0]) for r in flows.owner.execute("select org_id, id from app.deals").fetchall()
    )
    assert history
    assert all(deals[entity] == org for org, entity in history)


def test_the_sweeper_requeues_executions_whose_wake_up_job_vanished(flows: Flows) -> None:
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    executions = flows.executions(wf)
    flows.clear_queue()
    # Shifted in UTC: an immutable expression, which Citus takes in an UPDATE (a
    # timestamptz minus an interval is stable).
    flows.owner.execute(
        "update app.workflow_executions set "
        "updated_at = (updated_at at time zone 'UTC' - interval '1 hour') at time zone 'UTC'"
    )
    counts = flows.sweep()
    assert counts["stalled"] == len(executions)
    jobs = flows.jobs()
    assert {j["execution_id"] for j in jobs} == {str(e["id"]) for e in executions}
    assert {flows.execution(e["id"])["wake_job_id"] for e in executions} == {j["id"] for j in jobs}
    assert set(flows.drain()) == {"completed"}


def test_a_due_timer_is_picked_by_a_batch(flows: Flows) -> None:
    wf = on_value(flows, [{"name": "nap", "type": "wait", "duration": "PT1H"}, *THREE_STEPS[2:]])
    touch(flows)
    n = len(flows.executions(wf))
    assert flows.run_batch()["waiting"] == n
    assert flows.run_batch()["picked"] == 0  # not due yet
    flows.at("2099-01-01T00:00:00Z")
    counts = flows.run_batch()
    assert (counts["picked"], counts["completed"]) == (n, n)


def batch_plans(
    flows: Flows, limit: int, *, analyze: bool = False
) -> tuple[dict[str, int], list[str]]:
    """One api.run_executions batch as the service role, with every statement's plan
    (auto_explain, nested statements too; ``analyze``: with row counts)."""
    conn = flows.owner
    with nested_plans(conn, analyze=analyze) as plans, conn.transaction():
        conn.execute("set local role intime_service")
        row = (
            conn.cursor(row_factory=dict_row)
            .execute("select * from api.run_executions(p_limit => %s)", (limit,))
            .fetchone()
        )
        conn.execute("reset role")
    assert row is not None
    return dict(row), plans


def test_the_due_pick_reads_the_partial_indexes(flows: Flows) -> None:
    """The batch's picks (auto_explain of the real statements): the pending/running one
    an index on updated_at, the due timers one an index on wake_at; never a scan of
    every execution."""
    wf = on_value(flows, [{"name": "nap", "type": "wait", "duration": "PT1H"}])
    touch(flows)
    flows.run_batch()  # all parked on their timers: both picks run, and find nothing due
    e = flows.executions(wf)[0]
    flows.owner.execute(
        "insert into app.workflow_executions (org_id, instance_id, workflow_id, "
        "workflow_version, entity_type, entity_id, status, exclusive) "
        "select e.org_id, e.instance_id, e.workflow_id, e.workflow_version, e.entity_type, "
        "e.entity_id, 'completed', false "
        "from app.workflow_executions as e, generate_series(1, 3000) as g where e.id = %s",
        (e["id"],),
    )
    flows.owner.execute("analyze app.workflow_executions")
    _, plans = batch_plans(flows, 1)
    picks = [p for p in plans if "for no key update of e skip locked" in p]
    assert len(picks) == 2, plans
    pending, timers = picks
    assert re.search(r"Index Scan using workflow_executions_stalled_idx", pending), pending
    assert re.search(r"Index Scan using workflow_executions_wake_idx", timers), timers
    for plan in picks:
        assert "Seq Scan on workflow_executions" not in plan, plan


def approval_and_bump(
    flows: Flows, *, manual_approval: bool = False, bump_on: tuple[int, ...] = (0,)
) -> tuple[uuid.UUID, uuid.UUID]:
    """An approval execution on deal 0 (discount 40 asks for one, the field is locked)
    and manual executions that set the discount of deals ``bump_on``: all due, the
    approval first (started by the discount's change, or by hand). Returns the approval's
    execution and the bump's on deal 0."""
    a = flows.orgs.a
    approval_wf = flows.create(
        {
            "triggers": [
                {"type": "manual"} if manual_approval
                else {"type": "field_change", "field": "discount_percent"}
            ],
            "conditions": {
                "all": [{"field": "discount_percent", "operator": "gt", "value": 30}]
            },
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"manager": True}],
                 "lock_entity": False},
                {"name": "done", "type": "create_activity", "subject": "x"},
            ],
        },
        name="approval",
    )  # fmt: skip
    bump = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [
                {"name": "bump", "type": "update_field", "field": "discount_percent",
                 "value": 90}
            ],
        },
        name="bump",
    )  # fmt: skip
    flows.write(
        "update app.deals set discount_percent = 40 where id = %s",
        (a.deal_ids[0],),
        user=a.rep_ids[0],
    )
    start = "select api.start_workflow(%s, %s) as id"
    if manual_approval:
        [approval] = flows.call(start, (approval_wf, a.deal_ids[0]), user=a.rep_ids[0])
    else:
        [approval] = flows.executions()
    bumps = [flows.call(start, (bump, a.deal_ids[k]), user=a.rep_ids[0])[0] for k in bump_on]
    flows.clear_queue()
    return approval["id"], bumps[0]["id"]


def test_a_batch_keeps_the_approval_field_lock_against_its_later_executions(
    flows: Flows,
) -> None:
    """The approval asked in the batch's transaction; the bump running after it in the
    same transaction is another execution: IT014, its step retried, the field kept."""
    approval, bump = approval_and_bump(flows)
    counts = flows.run_batch()
    assert (counts["picked"], counts["waiting"], counts["retrying"]) == (2, 1, 1)
    assert flows.execution(approval)["waiting_for"] == "approval"
    assert flows.deal(flows.orgs.a.deal_ids[0])["discount_percent"] == 40
    row = flows.execution(bump)
    assert (row["status"], row["waiting_for"]) == ("waiting", "retry")
    assert "IT014" in row["error_message"]


def hold_deal(db: Database, deal_id: uuid.UUID) -> psycopg.Connection:
    """Another session holding the deal's row lock (a user's open transaction)."""
    holder = db.connect()
    # By org too: Citus locks one org's rows (docs/scale-out.md, "SQL shapes").
    row = holder.execute("select org_id from app.deals where id = %s", (deal_id,)).fetchone()
    assert row is not None
    holder.execute(
        "select 1 from app.deals where org_id = %s and id = %s for update", (row[0], deal_id)
    )
    return holder


def test_an_execution_blocked_on_a_row_lock_is_deferred_not_waited_for(
    flows: Flows, db: Database
) -> None:
    """The batch waits for a locked entity a short while (its lock_timeout), then defers
    that execution and commits the others, of every org, while the lock is still held."""
    a, b = flows.orgs.a, flows.orgs.b
    theirs = on_value(flows, THREE_STEPS[1:2], org_id=b.org_id, admin_id=b.admin_id)
    mine = on_value(flows, THREE_STEPS[1:2])
    touch(flows, b.org_id, b.admin_id)
    touch(flows)
    [blocked] = [e for e in flows.executions(mine) if e["entity_id"] == a.deal_ids[0]]
    # Without the batch's own lock_timeout this would wait for the holder: end the
    # test with an error rather than hang.
    flows.conn.execute("set statement_timeout = '60s'")
    with hold_deal(db, a.deal_ids[0]) as holder:
        counts = flows.run_batch(limit=500)
        # Committed while the holder still holds its lock.
        assert statuses(flows, theirs) == ["completed"] * len(flows.executions(theirs))
        others = [e for e in flows.executions(mine) if e["id"] != blocked["id"]]
        assert {e["status"] for e in others} == {"completed"}
        assert flows.execution(blocked["id"])["status"] == "pending"
        holder.rollback()
    flows.conn.execute("reset statement_timeout")
    assert (counts["deferred"], counts["completed"]) == (1, counts["picked"] - 1)


def test_a_batch_restores_the_sessions_lock_timeout(flows: Flows) -> None:
    on_value(flows, THREE_STEPS[1:2])
    touch(flows)
    with flows.conn.transaction():
        flows.conn.execute("set local lock_timeout = '7s'")
        flows.conn.execute("select * from api.run_executions(p_limit => 5)")
        row = flows.conn.execute("show lock_timeout").fetchone()
    assert row == ("7s",)


def test_a_deferred_execution_gets_a_run_job_of_its_own_within_seconds(
    flows: Flows, db: Database
) -> None:
    """The batch's workflow.run_due job ends with the loop: the deferred execution is
    not left to the sweeper (minutes, and a `requeued` count towards poisoned); the
    loop's next batches leave it to that job (a batch runs 20 one by one, so only a
    batch that finds none ends the loop)."""
    a = flows.orgs.a
    wf = on_value(flows, THREE_STEPS[1:2])
    touch(flows)
    flows.clear_queue()  # the worker took the run_due job
    with hold_deal(db, a.deal_ids[0]) as holder:
        outcomes = flows.run_due()
        holder.rollback()
    assert outcomes.count("deferred") == 1
    [left] = [e for e in flows.executions(wf) if e["status"] == "pending"]
    [job] = flows.jobs()
    assert job["execution_id"] == str(left["id"])
    assert left["wake_job_id"] == job["id"]
    soon = flows.owner.execute("select %s <= now() + interval '5 seconds'", (job["execute_after"],))
    assert soon.fetchone() == (True,)
    flows.sweep()
    assert "requeued" not in flows.execution(left["id"])["execution_context"]
    assert flows.drain() == ["completed"]


def xid(flows: Flows) -> int:
    row = flows.owner.execute("select pg_current_xact_id()::text::bigint").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("sets", [True, False], ids=["as a set", "one by one"])
def test_a_full_batch_stays_within_the_subtransaction_cache(
    flows: Flows, sets: bool, cluster: psycopg.Connection
) -> None:
    """PostgreSQL caches 64 subtransaction ids per backend; past that every snapshot
    taken on the server while the batch is open overflows into pg_subtrans. A batch of
    RUN_DUE_BATCH three-step executions (a task, a field, a note: every database-only
    step whose subtransactions write) assigns no more (xids are counted on the cluster's
    counter: the batch's own, and the owner's probe before and after; autovacuum is
    paused, since an ANALYZE takes one per table): as a set, all of them in a few; one
    by one, 20 of them, the others left due for the next batch."""
    flows.owner.execute(
        "insert into app.deals select (jsonb_populate_record(null::app.deals, "
        "to_jsonb(d) || jsonb_build_object('id', gen_random_uuid(), 'name', d.name || g))).* "
        "from app.deals as d, generate_series(1, %s) as g where d.org_id = %s",
        (RUN_DUE_BATCH, flows.org_id),
    )
    wf = on_value(flows, THREE_STEPS)
    touch(flows)
    assert len(flows.executions(wf)) >= RUN_DUE_BATCH
    with autovacuum_paused(cluster):
        before = xid(flows)
        counts = flows.run_batch(RUN_DUE_BATCH, sets=sets)
        after = xid(flows)
    ran = RUN_DUE_BATCH if sets else 20
    assert (counts["picked"], counts["completed"]) == (ran, ran)
    assert after - before - 2 <= (8 if sets else 64)
    assert flows.run_batch(RUN_DUE_BATCH, sets=sets)["picked"] > 0
