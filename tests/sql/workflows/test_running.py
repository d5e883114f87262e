"""Running executions: control (cancel, pause, resume, retry), the timeline,
a runner race, a runner killed mid-run, a run that keeps failing (failed by the
sweeper; a broken workflow_failed template cannot wedge it), log partitions
(maintenance skips a held lock and survives a concurrent log line), and the
plans of the hot queries."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from intime.errors import InvalidStateError, PermissionDeniedError
from tests.sql.workflows.conftest import Flows
from tests.sql.workflows.test_approvals import _override

NAP = [
    {"name": "nap", "type": "wait", "duration": "PT1H"},
    {"name": "note", "type": "create_activity", "subject": "after the nap"},
]


def start(flows: Flows, steps: list[dict[str, Any]], **extra: Any) -> uuid.UUID:
    wf = flows.create({"triggers": [{"type": "manual"}], "steps": steps, **extra})
    rows = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (wf, flows.orgs.a.deal_ids[0]),
        user=flows.orgs.a.rep_ids[0],
    )
    return rows[0]["id"]


def test_cancel_stops_a_waiting_execution(flows: Flows) -> None:
    execution = start(flows, NAP)
    flows.drain()
    flows.call(
        "select api.cancel_execution(p_execution_id => %s, p_reason => 'wrong deal')", (execution,)
    )
    row = flows.execution(execution)
    assert (row["status"], row["error_message"]) == ("cancelled", "cancelled: wrong deal")
    flows.at("2099-01-01T00:00:00Z")
    assert flows.run(execution) == "cancelled"


def test_only_an_admin_or_the_starter_controls_an_execution(flows: Flows) -> None:
    execution = start(flows, NAP)
    with pytest.raises(PermissionDeniedError):
        flows.call(
            "select api.cancel_execution(p_execution_id => %s)",
            (execution,),
            user=flows.orgs.a.rep_ids[1],
        )
    flows.call(
        "select api.pause_execution(p_execution_id => %s)",
        (execution,),
        user=flows.orgs.a.rep_ids[0],
    )
    assert flows.execution(execution)["status"] == "paused"


def test_pause_holds_and_resume_waits_out_the_rest_of_the_timer(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = start(flows, NAP)
    flows.drain()
    flows.call("select api.pause_execution(p_execution_id => %s)", (execution,))
    flows.at("2026-11-29T12:30:00Z")
    flows.call("select api.resume_execution(p_execution_id => %s)", (execution,))
    # The first timer job is still queued (the queue runs on the real clock): both re-park.
    assert set(flows.drain()) == {"waiting"}
    row = flows.execution(execution)
    assert (row["status"], row["wake_at"]) == ("waiting", datetime(2026, 11, 29, 13, tzinfo=UTC))
    flows.at("2026-11-29T13:00:00Z")
    assert flows.run(execution) == "completed"


def test_a_paused_execution_runs_no_step(flows: Flows) -> None:
    execution = start(flows, [{"name": "note", "type": "create_activity", "subject": "x"}])
    flows.call("select api.pause_execution(p_execution_id => %s)", (execution,))
    assert flows.drain() == ["paused"]
    assert flows.steps(execution) == []


def test_resume_of_a_running_execution_is_refused(flows: Flows) -> None:
    execution = start(flows, NAP)
    with pytest.raises(InvalidStateError, match="not paused"):
        flows.call("select api.resume_execution(p_execution_id => %s)", (execution,))


def test_retry_execution_restarts_from_the_failed_step(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[0]
    execution = start(
        flows,
        [
            {"name": "first", "type": "create_activity", "subject": "once"},
            {
                "name": "boom",
                "type": "update_field",
                "field": "value",
                "value": "{{deal.description}}",
            },
        ],
        max_retries=0,
    )
    flows.drain()
    assert flows.execution(execution)["status"] == "failed"
    flows.owner.execute("update app.deals set description = '123' where id = %s", (deal,))
    flows.call("select api.retry_execution(p_execution_id => %s)", (execution,))
    assert flows.drain() == ["completed"]
    assert str(flows.deal(deal)["value"]) == "123.00"
    once = flows.owner.execute(
        "select count(*) from app.activities where entity_id = %s and subject = 'once'", (deal,)
    ).fetchone()
    assert once == (1,)


def test_retry_of_an_execution_that_did_not_fail_is_refused(flows: Flows) -> None:
    execution = start(flows, NAP)
    with pytest.raises(InvalidStateError, match="only failed"):
        flows.call("select api.retry_execution(p_execution_id => %s)", (execution,))


def test_timeline_orders_steps_actions_and_logs(flows: Flows) -> None:
    execution = start(
        flows,
        [
            {"name": "nap", "type": "create_activity", "subject": "one"},
            {"name": "note", "type": "create_activity", "subject": "two"},
        ],
    )
    flows.drain()
    rows = flows.call(
        "select kind, name, status, message from api.get_execution_timeline(p_execution_id => %s)",
        (execution,),
    )
    kinds = [(r["kind"], r["name"] if r["kind"] == "step" else r["message"]) for r in rows]
    assert kinds[0] == ("log", "execution queued")
    assert ("step", "nap") in kinds
    assert ("step", "note") in kinds
    assert kinds[-1] == ("log", "execution completed")
    assert kinds.index(("step", "nap")) < kinds.index(("step", "note"))


def test_timeline_of_another_orgs_execution_is_not_found(flows: Flows) -> None:
    execution = start(flows, NAP)
    b = flows.orgs.b
    with pytest.raises(Exception, match="not found"):
        flows.call(
            "select * from api.get_execution_timeline(p_execution_id => %s)",
            (execution,),
            org_id=b.org_id,
            user=b.admin_id,
        )


def test_a_second_runner_skips_a_locked_execution(flows: Flows, db) -> None:
    execution = start(flows, [{"name": "note", "type": "create_activity", "subject": "x"}])
    with db.connect() as holder:
        holder.execute(
            # By org too: Citus locks one org's rows (docs/scale-out.md, "SQL shapes").
            "select 1 from app.workflow_executions where org_id = %s and id = %s for update",
            (flows.org_id, execution),
        )
        assert flows.run(execution) == "busy"
        holder.rollback()
    assert flows.run(execution) == "completed"


def test_a_runner_killed_mid_run_leaves_the_execution_resumable(flows: Flows, db) -> None:
    deal = flows.orgs.a.deal_ids[0]
    execution = start(
        flows,
        [
            {"name": "first", "type": "create_activity", "subject": "exactly once"},
            {"name": "second", "type": "update_field", "field": "description", "value": "done"},
        ],
    )
    outcome: dict[str, Any] = {}
    with db.connect() as blocker:
        # Hold the deal's row lock so the run blocks inside its second step.
        blocker.execute(
            "select 1 from app.deals where org_id = %s and id = %s for update",
            (flows.org_id, deal),
        )

        def runner() -> None:
            with db.connect("intime_service", autocommit=True) as conn:
                outcome["pid"] = conn.info.backend_pid
                try:
                    conn.execute(
                        "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                        (execution, flows.org_id),
                    )
                except psycopg.Error as exc:
                    outcome["error"] = exc

        thread = threading.Thread(target=runner)
        thread.start()
        for _ in range(200):
            waiting = flows.owner.execute(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                "and query like '%%run_execution%%'"
            ).fetchone()
            if waiting and waiting[0]:
                break
            time.sleep(0.02)
        # (Cast: Citus adds a pg_terminate_backend(bigint).)
        flows.owner.execute("select pg_terminate_backend(%s::integer)", (outcome["pid"],))
        thread.join(10)
        blocker.rollback()
    assert "error" in outcome
    row = flows.execution(execution)
    assert (row["status"], row["current_step_index"]) == ("pending", 0)
    assert flows.steps(execution) == []
    assert flows.run(execution) == "completed"
    once = flows.owner.execute(
        "select count(*) from app.activities where entity_id = %s and subject = 'exactly once'",
        (deal,),
    ).fetchone()
    assert once == (1,)
    assert [s["status"] for s in flows.steps(execution)] == ["completed", "completed"]


def maintain(flows: Flows) -> dict:
    with flows.conn.transaction():
        row = flows.conn.execute("select api.maintain_workflow_logs()").fetchone()
    assert row is not None
    return row[0]


def partitions(flows: Flows) -> list[str]:
    rows = flows.owner.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
        "where i.inhparent = 'app.workflow_execution_logs'::regclass order by 1"
    ).fetchall()
    return [r[0] for r in rows]


def test_maintenance_makes_monthly_partitions_ahead(flows: Flows) -> None:
    flows.at("2026-11-15T00:00:00Z")
    made = maintain(flows)
    assert made["created"] == [
        "workflow_execution_logs_y2026m11",
        "workflow_execution_logs_y2026m12",
        "workflow_execution_logs_y2027m01",
        "workflow_execution_logs_y2027m02",
    ]
    assert maintain(flows)["created"] == []
    # The log lines of this month land in its partition.
    start(flows, NAP)
    flows.drain()
    tables = flows.owner.execute(
        "select distinct tableoid::regclass::text from app.workflow_execution_logs"
    ).fetchall()
    assert tables == [("app.workflow_execution_logs_y2026m11",)]


def test_maintenance_moves_rows_from_the_default_partition(flows: Flows) -> None:
    flows.at("2026-11-15T00:00:00Z")
    start(flows, NAP)
    flows.drain()  # no partition yet: the default catches its log lines
    written = flows.owner.execute("select count(*) from app.workflow_execution_logs").fetchone()
    assert written is not None
    assert written[0] > 0
    assert maintain(flows)["moved_from_default"] == written[0]
    rows = flows.owner.execute(
        "select distinct tableoid::regclass::text from app.workflow_execution_logs"
    ).fetchall()
    assert rows == [("app.workflow_execution_logs_y2026m11",)]


@pytest.mark.parametrize("expiry", ["drop", "detach"])
def test_maintenance_expires_months_past_the_retention(flows: Flows, expiry: str) -> None:
    flows.owner.execute(
        "update app.settings set workflow_log_retention_months = 2, workflow_log_expiry = %s",
        (expiry,),
    )
    flows.at("2026-01-10T00:00:00Z")
    maintain(flows)
    start(flows, NAP)
    flows.at("2026-04-10T00:00:00Z")
    result = maintain(flows)
    assert result["expired"] == ["workflow_execution_logs_y2026m01"]
    assert "workflow_execution_logs_y2026m01" not in partitions(flows)
    kept = flows.owner.execute(
        "select to_regclass('app.workflow_execution_logs_y2026m01') is not null"
    ).fetchone()
    assert kept == (expiry == "detach",)


def explain(flows: Flows, query: str, params: Any = None) -> str:
    rows = flows.owner.execute("explain (costs off) " + query, params).fetchall()
    return "\n".join(r[0] for r in rows)


def test_the_match_probe_uses_the_active_workflow_index(flows: Flows) -> None:
    plan = explain(
        flows,
        "select from app.workflows as w where w.entity_type = 'deal' and w.is_active "
        "and w.deleted_at is null and 'update' = any(w.trigger_events) and w.org_id = %s",
        (flows.org_id,),
    )
    assert "workflows_match_idx" in plan


def test_the_sweeper_finds_due_timers_by_index(flows: Flows) -> None:
    flows.owner.execute("set enable_seqscan = off")
    plan = explain(
        flows,
        "select e.id from app.workflow_executions as e where e.status = 'waiting' "
        "and e.wake_at <= now() order by e.wake_at limit 1000",
    )
    assert "workflow_executions_wake_idx" in plan


def test_escalation_finds_overdue_approvals_by_index(flows: Flows) -> None:
    flows.owner.execute("set enable_seqscan = off")
    plan = explain(
        flows,
        "select a.id from app.workflow_approvals as a where a.status = 'pending' "
        "and a.escalated_at is null and a.due_at <= now() order by a.due_at limit 100",
    )
    assert "workflow_approvals_due_idx" in plan


def test_a_workflow_failed_override_cannot_wedge_a_failing_execution(flows: Flows, db) -> None:
    _override(db, flows, "workflow_failed")
    execution = start(
        flows,
        [{"name": "bad", "type": "update_field", "field": "value", "value": "lots"}],
        max_retries=0,
    )
    flows.drain()
    row = flows.execution(execution)
    assert row["status"] == "failed"
    assert any("notification workflow_failed not sent" in line for line in flows.logs(execution))


def test_a_run_that_keeps_failing_is_failed_by_the_sweeper_not_requeued(flows: Flows) -> None:
    execution = start(flows, [{"name": "n", "type": "create_activity", "subject": "x"}])
    flows.clear_queue()
    # Shifted in UTC: an immutable expression, which Citus takes in an UPDATE (a
    # timestamptz minus an interval is stable).
    flows.owner.execute(
        "update app.workflow_executions set "
        "updated_at = (updated_at at time zone 'UTC' - interval '6 minutes') at time zone 'UTC', "
        "execution_context = '{\"requeued\": 3}' where id = %s",
        (execution,),
    )
    assert flows.sweep()["poisoned"] == 1
    row = flows.execution(execution)
    assert (row["status"], row["error_message"]) == ("failed", "the run failed repeatedly")


def test_maintenance_does_not_wait_for_a_held_advisory_lock(flows: Flows, db) -> None:
    # Another maintenance run (a service session) holds it; a human login may not take
    # advisory locks at all (tests/sql/core/test_login_reach.py).
    with db.connect("intime_service", autocommit=True) as other:
        other.execute("select pg_advisory_lock(444770001)")
        assert "skipped" in maintain(flows)


def test_a_log_line_committed_during_maintenance_cannot_break_the_attach(flows: Flows, db) -> None:
    flows.at("2026-11-15T00:00:00Z")
    execution = start(flows, NAP)
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
