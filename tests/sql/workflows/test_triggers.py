"""Matching: every trigger kind fires on its event and not on others, the
conditions gate it, it runs in the transaction of the change, set-based for
bulk statements, per org (one org's odd data never stops another's
schedules), once per entity, and never loops; a condition never breaks the
write it matches, cron day fields follow Vixie cron, and api.start_workflow only
starts a workflow whose trigger is manual."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from intime.errors import InvalidStateError
from tests.sql.workflows.conftest import Flows

STEP = [{"name": "note", "type": "create_activity", "subject": "hit {{trigger.event}}"}]


def workflow(flows: Flows, *triggers: dict[str, Any], **extra: Any) -> uuid.UUID:
    return flows.create({"triggers": list(triggers), "steps": STEP, **extra})


def new_deal(
    flows: Flows, name: str = "Fresh deal", value: int = 500, *, user: Any = None
) -> uuid.UUID:
    a = flows.orgs.a
    rows = flows.call(
        "insert into app.deals (name, owner_id, stage_id, value) values (%s, %s, %s, %s) "
        "returning id",
        (name, a.rep_ids[0], a.stage_ids["Lead"], value),
        user=user or a.rep_ids[0],
    )
    return rows[0]["id"]


def count(flows: Flows, workflow_id: uuid.UUID) -> int:
    return len(flows.executions(workflow_id))


def move(flows: Flows, deal_id: uuid.UUID, stage: str) -> None:
    a = flows.orgs.a
    flows.call(
        "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
        (deal_id, a.stage_ids[stage]),
        user=a.rep_ids[0],
    )


def test_created_fires_on_insert_only(flows: Flows) -> None:
    wf = workflow(flows, {"type": "created"})
    deal = new_deal(flows)
    assert count(flows, wf) == 1
    flows.write("update app.deals set value = 1 where id = %s", (deal,))
    flows.write("delete from app.deals where id = %s", (deal,))
    assert count(flows, wf) == 1


def test_updated_fires_on_a_real_change_only(flows: Flows) -> None:
    wf = workflow(flows, {"type": "updated"}, reenrollment="concurrent")
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = name where id = %s", (deal,))
    assert count(flows, wf) == 0
    flows.write("update app.deals set name = 'Renamed' where id = %s", (deal,))
    assert count(flows, wf) == 1


def test_deleted_fires_with_the_deleted_row(flows: Flows) -> None:
    wf = workflow(flows, {"type": "deleted"})
    deal = new_deal(flows, "Doomed")
    flows.write("delete from app.deals where id = %s", (deal,))
    (execution,) = flows.executions(wf)
    assert execution["trigger_event"]["event"] == "delete"
    assert execution["trigger_event"]["row"]["name"] == "Doomed"


def test_status_change_matches_from_and_to(flows: Flows) -> None:
    won = workflow(flows, {"type": "status_change", "to": "won"})
    from_open = workflow(flows, {"type": "status_change", "from": "open", "to": "lost"})
    deal = flows.orgs.a.deal_ids[1]
    move(flows, deal, "Negotiation")  # stays open: no status change
    assert count(flows, won) == 0
    move(flows, deal, "Closed Won")
    assert count(flows, won) == 1
    assert count(flows, from_open) == 0


def test_field_change_matches_field_from_and_to(flows: Flows) -> None:
    a = flows.orgs.a
    any_change = workflow(flows, {"type": "field_change", "field": "owner_id"})
    to_sam = workflow(flows, {"type": "field_change", "field": "owner_id", "to": str(a.rep_ids[1])})
    from_sam = workflow(
        flows, {"type": "field_change", "field": "owner_id", "from": str(a.rep_ids[1])}
    )
    deal = a.deal_ids[0]  # owned by rep 0
    flows.write("update app.deals set value = value + 1 where id = %s", (deal,))
    assert count(flows, any_change) == 0
    flows.write("update app.deals set owner_id = %s where id = %s", (a.rep_ids[1], deal))
    assert (count(flows, any_change), count(flows, to_sam), count(flows, from_sam)) == (1, 1, 0)


def test_field_change_compares_type_aware(flows: Flows) -> None:
    wf = workflow(flows, {"type": "field_change", "field": "value", "to": 2500})
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set value = 2500.00 where id = %s", (deal,))
    assert count(flows, wf) == 1


def test_manual_trigger_starts_only_through_start_workflow(flows: Flows) -> None:
    wf = workflow(flows, {"type": "manual"})
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'x' where id = %s", (deal,))
    assert count(flows, wf) == 0
    rows = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s, p_payload => %s::jsonb)",
        (wf, deal, '{"why": "demo"}'),
    )
    (execution,) = flows.executions(wf)
    assert execution["id"] == rows[0]["start_workflow"]
    assert execution["trigger_type"] == "manual"
    assert execution["trigger_event"]["payload"] == {"why": "demo"}


def test_start_workflow_refuses_a_second_active_run(flows: Flows) -> None:
    wf = workflow(flows, {"type": "manual"})
    deal = flows.orgs.a.deal_ids[1]
    flows.call("select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)", (wf, deal))
    with pytest.raises(InvalidStateError, match="already running"):
        flows.call("select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)", (wf, deal))


def test_conditions_gate_the_trigger(flows: Flows) -> None:
    wf = workflow(
        flows,
        {"type": "created"},
        conditions={"all": [{"field": "value", "operator": "gte", "value": 1000}]},
    )
    new_deal(flows, "small", 999)
    assert count(flows, wf) == 0
    new_deal(flows, "big", 1000)
    assert count(flows, wf) == 1


def test_conditions_can_read_the_old_row_and_the_org(flows: Flows) -> None:
    wf = workflow(
        flows,
        {"type": "updated"},
        conditions={
            "all": [
                {"field": "old.value", "operator": "lt", "value": 1000},
                {"field": "value", "operator": "gte", "value": 1000},
                {"field": "org.timezone", "operator": "eq", "value": "America/New_York"},
            ]
        },
    )
    deal = new_deal(flows, "grows", 500)
    flows.write("update app.deals set value = 800 where id = %s", (deal,))
    assert count(flows, wf) == 0
    flows.write("update app.deals set value = 1500 where id = %s", (deal,))
    assert count(flows, wf) == 1


def test_inactive_and_deleted_workflows_do_not_fire(flows: Flows) -> None:
    off = workflow(flows, {"type": "created"})
    gone = workflow(flows, {"type": "created"})
    flows.call(
        "select api.update_workflow(p_workflow_id => %s, p_changes => '{\"is_active\": false}')",
        (off,),
    )
    flows.call("select api.delete_workflow(p_workflow_id => %s)", (gone,))
    new_deal(flows)
    assert count(flows, off) == count(flows, gone) == 0


def test_other_entity_types_do_not_fire(flows: Flows) -> None:
    wf = workflow(flows, {"type": "created"})
    flows.write(
        "insert into app.contacts (first_name, last_name, email) "
        "values ('New', 'Person', 'np@x.example')"
    )
    assert count(flows, wf) == 0


def test_execution_and_job_commit_with_the_change(flows: Flows) -> None:
    wf = workflow(flows, {"type": "created"})
    a = flows.orgs.a
    conn = flows.conn
    with conn.transaction(force_rollback=True):
        conn.execute("select api.set_actor(p_org_id => %s)", (a.org_id,))
        conn.execute(
            "insert into app.deals (name, stage_id) values ('rolled back', %s)",
            (a.stage_ids["Lead"],),
        )
        assert count(flows, wf) == 0  # not visible to others before the commit
        assert flows.jobs() == []
    assert count(flows, wf) == 0
    assert flows.jobs() == []
    new_deal(flows)
    (execution,) = flows.executions(wf)
    (job,) = flows.jobs()
    assert job["execution_id"] == str(execution["id"])
    assert execution["wake_job_id"] == job["id"]


def test_bulk_update_of_1000_rows_starts_1000_executions_once_each(flows: Flows) -> None:
    a = flows.orgs.a
    wf = workflow(flows, {"type": "field_change", "field": "value"})
    # One multi-row VALUES: on Citus an INSERT ... SELECT is a COPY into the shards,
    # which a role under RLS may not run (docs/scale-out.md, item 6).
    flows.write(
        "insert into app.deals (name, stage_id, value) values "
        + ", ".join(["(%s, %s, %s)"] * 1000),
        [v for i in range(1, 1001) for v in (f"bulk {i}", a.stage_ids["Lead"], i)],
    )
    flows.write("update app.deals set value = value + 1 where name like 'bulk %%'")
    executions = flows.executions(wf)
    assert len(executions) == 1000
    assert len({e["entity_id"] for e in executions}) == 1000
    # One wake-up job per 100 executions (api.run_executions runs them in batches),
    # each execution's wake_job_id naming its chunk's job.
    jobs = flows.jobs("workflow.run_due")
    assert flows.jobs() == []
    assert [j["executions"] for j in jobs] == [100] * 10
    assert Counter(e["wake_job_id"] for e in executions) == {j["id"]: 100 for j in jobs}
    # A second bulk update while they are active starts nothing (after_exit).
    flows.write("update app.deals set value = value + 1 where name like 'bulk %%'")
    assert count(flows, wf) == 1000


def test_workflows_of_another_org_never_fire(flows: Flows) -> None:
    b = flows.orgs.b
    theirs = flows.create(
        {"triggers": [{"type": "created"}], "steps": STEP}, org_id=b.org_id, admin_id=b.admin_id
    )
    new_deal(flows)  # org A
    assert count(flows, theirs) == 0
    flows.write(
        "insert into app.deals (name, stage_id) values ('theirs', %s)",
        (b.stage_ids["Lead"],),
        org_id=b.org_id,
        user=b.admin_id,
    )
    assert count(flows, theirs) == 1


def test_after_exit_allows_a_new_run_once_the_last_ended(flows: Flows) -> None:
    wf = workflow(flows, {"type": "updated"})
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'one' where id = %s", (deal,))
    flows.write("update app.deals set name = 'two' where id = %s", (deal,))
    assert count(flows, wf) == 1
    assert flows.drain() == ["completed"]
    flows.write("update app.deals set name = 'three' where id = %s", (deal,))
    assert count(flows, wf) == 2


def test_never_reenrolls_an_entity(flows: Flows) -> None:
    wf = workflow(flows, {"type": "updated"}, reenrollment="never")
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'one' where id = %s", (deal,))
    flows.drain()
    flows.write("update app.deals set name = 'two' where id = %s", (deal,))
    assert count(flows, wf) == 1


def test_concurrent_starts_one_per_trigger(flows: Flows) -> None:
    wf = workflow(flows, {"type": "updated"}, reenrollment="concurrent")
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'one' where id = %s", (deal,))
    flows.write("update app.deals set name = 'two' where id = %s", (deal,))
    assert count(flows, wf) == 2


def test_two_transactions_cannot_both_enroll_an_entity(flows: Flows, db) -> None:
    wf = workflow(flows, {"type": "updated"})
    a = flows.orgs.a
    deal = a.deal_ids[1]
    with db.connect("intime_service") as one, db.connect("intime_service") as two:
        for conn in (one, two):
            conn.execute("select api.set_actor(p_org_id => %s)", (a.org_id,))
        one.execute("update app.deals set name = 'first' where id = %s", (deal,))
        one.commit()
        two.execute("update app.deals set name = 'second' where id = %s", (deal,))
        two.commit()
    assert count(flows, wf) == 1


def test_an_update_field_step_cannot_refire_its_own_workflow(flows: Flows) -> None:
    wf = flows.create(
        {
            "triggers": [{"type": "updated"}],
            "reenrollment": "concurrent",
            "steps": [
                {
                    "name": "touch",
                    "type": "update_field",
                    "field": "description",
                    "value": "{{now}}",
                }
            ],
        }
    )
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'go' where id = %s", (deal,))
    assert flows.drain() == ["completed"]
    (execution,) = flows.executions(wf)
    assert any("recursion guard" in line for line in flows.logs(execution["id"]))


def test_chains_stop_at_the_depth_limit(flows: Flows) -> None:
    # Two workflows that feed each other through two fields: A sets name, B sets description.
    flows.owner.execute("update app.settings set workflow_max_depth = 3")
    a = flows.create(
        {
            "triggers": [{"type": "field_change", "field": "description"}],
            "reenrollment": "concurrent",
            "steps": [{"name": "s", "type": "update_field", "field": "name", "value": "n{{now}}"}],
        },
        name="a",
    )
    b = flows.create(
        {
            "triggers": [{"type": "field_change", "field": "name"}],
            "reenrollment": "concurrent",
            "steps": [
                {"name": "s", "type": "update_field", "field": "description", "value": "d{{now}}"}
            ],
        },
        name="b",
    )
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'start' where id = %s", (deal,))
    flows.drain()
    executions = flows.executions()
    assert {e["workflow_id"] for e in executions} == {a, b}
    # B (depth 0) -> A (1) -> B? no: B is in the chain. The chain stops on the guard.
    assert max(e["depth"] for e in executions) <= 3
    assert all(e["status"] == "completed" for e in executions)
    assert len(executions) == 2


def test_scheduled_trigger_fires_for_every_matching_entity_when_the_cron_matches(
    flows: Flows,
) -> None:
    flows.at("2026-11-30T13:00:00Z")  # Monday, 08:00 in New York
    wf = workflow(
        flows,
        {
            "type": "scheduled",
            "cron": "0 9 * * 1-5",
            "timezone": "America/New_York",
            "filter": {"field": "value", "operator": "gte", "value": 20000},
        },
    )
    flows.at("2026-11-30T13:59:00Z")
    assert flows.sweep()["scheduled"] == 0
    flows.at("2026-11-30T14:00:30Z")  # 09:00 in New York
    started = flows.sweep()["scheduled"]
    deals = {e["entity_id"] for e in flows.executions(wf)}
    big = {
        r[0]
        for r in flows.owner.execute(
            "select id from app.deals where org_id = %s and value >= 20000", (flows.org_id,)
        ).fetchall()
    }
    assert started == len(big) > 0
    assert deals == big
    assert {e["trigger_type"] for e in flows.executions(wf)} == {"scheduled"}
    # The same minute never fires twice.
    flows.at("2026-11-30T14:00:50Z")
    assert flows.sweep()["scheduled"] == 0


def test_scheduled_trigger_that_missed_its_minute_fires_once_on_catch_up(flows: Flows) -> None:
    flows.at("2026-11-30T13:00:00Z")
    wf = workflow(flows, {"type": "scheduled", "cron": "*/15 * * * *", "timezone": "UTC"})
    flows.at("2026-11-30T14:20:00Z")  # 13:15, 13:30, 13:45, 14:00 and 14:15 were missed
    flows.sweep()
    per_deal = {e["entity_id"] for e in flows.executions(wf)}
    assert len(flows.executions(wf)) == len(per_deal)  # one round, not five


@pytest.mark.parametrize(
    ("expr", "local", "expected"),
    [
        ("0 9 * * 1-5", "2026-11-30 09:00", True),
        ("0 9 * * 1-5", "2026-11-29 09:00", False),  # Sunday
        ("*/15 * * * *", "2026-11-29 10:45", True),
        ("*/15 * * * *", "2026-11-29 10:46", False),
        ("0 0 1 * *", "2026-12-01 00:00", True),
        ("30 8-18/2 * * *", "2026-11-29 12:30", True),
        ("30 8-18/2 * * *", "2026-11-29 13:30", False),
        ("0 12 * * 7", "2026-11-29 12:00", True),  # 7 is Sunday too
        # Both day fields restricted: either matches (Vixie cron).
        ("0 12 1 * 1", "2026-11-30 12:00", True),
        ("0 12 1 * 1", "2026-12-01 12:00", True),
        ("0 12 1 * 1", "2026-12-02 12:00", False),
        ("5,35 * * 1,6 *", "2026-06-02 07:35", True),
    ],
)
def test_cron_expressions_match_local_minutes(
    flows: Flows, expr: str, local: str, expected
) -> None:
    row = flows.owner.execute(
        "select app._wf_cron_matches(%s, %s::timestamp)", (expr, local)
    ).fetchone()
    assert row == (expected,)


@pytest.mark.parametrize(
    ("expr", "valid"),
    [
        ("0 9 * * 1-5", True),
        ("*/5 * * * *", True),
        ("60 * * * *", False),
        ("* 24 * * *", False),
        ("* * 0 * *", False),
        ("* * * 13 *", False),
        ("* * * * 8", False),
        ("* * * *", False),
        ("@daily", False),
        ("*/0 * * * *", False),
    ],
)
def test_cron_expressions_are_validated(flows: Flows, expr: str, valid: bool) -> None:
    assert flows.owner.execute("select app._wf_cron_valid(%s)", (expr,)).fetchone() == (valid,)


def test_one_orgs_odd_data_cannot_stop_another_orgs_schedules(flows: Flows) -> None:
    a, b = flows.orgs.a, flows.orgs.b
    flows.at("2026-03-02T08:00:00Z")
    daily = {"type": "scheduled", "cron": "0 9 * * *", "timezone": "UTC"}
    steps = [{"name": "note", "type": "create_activity", "subject": "daily"}]
    theirs = flows.create(
        {"triggers": [daily], "steps": steps}, org_id=b.org_id, admin_id=b.admin_id
    )
    flows.create(
        {
            "triggers": [{**daily, "filter": {"field": "name", "operator": "gte", "value": 10}}],
            "steps": steps,
        }
    )
    flows.write(
        "update app.deals set name = '7E200000' where id = %s", (a.deal_ids[0],), user=a.rep_ids[0]
    )
    flows.at("2026-03-02T09:00:30Z")
    flows.sweep()
    assert len(flows.executions(theirs)) > 0


def test_a_numeric_looking_name_never_breaks_a_write(flows: Flows) -> None:
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "updated"}],
            "conditions": {"field": "name", "operator": "eq", "value": 5},
            "steps": [{"name": "note", "type": "create_activity", "subject": "x"}],
        }
    )
    flows.write(
        "update app.deals set name = '7E200000' where id = %s", (a.deal_ids[0],), user=a.rep_ids[0]
    )
    assert flows.deal(a.deal_ids[0])["name"] == "7E200000"


def test_start_workflow_needs_a_manual_trigger(flows: Flows) -> None:
    workflow_id = flows.create(
        {
            "triggers": [{"type": "status_change", "to": "won"}],
            "steps": [{"name": "invoice", "type": "webhook", "url": "https://billing.example/won"}],
        }
    )
    with pytest.raises(Exception, match="no manual trigger"):
        flows.call(
            "select api.start_workflow(%s, %s)",
            (workflow_id, flows.orgs.a.deal_ids[1]),
            user=flows.orgs.a.rep_ids[1],
        )
    assert flows.jobs("webhook.deliver") == []


def test_cron_day_fields_follow_vixie(flows: Flows) -> None:
    # "*/2" in day-of-month does not make the day fields an OR: both must match
    # (Monday the 9th, odd: yes; Monday the 2nd, even: no).
    row = flows.owner.execute(
        "select app._wf_cron_matches('0 9 */2 * 1', '2026-11-09 09:00'::timestamp), "
        "app._wf_cron_matches('0 9 */2 * 1', '2026-11-02 09:00'::timestamp)"
    ).fetchone()
    assert row == (True, False)


def _bulk_change(flows: Flows, deals: list[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """One UPDATE of four deals (value to 600, name only, name and the same value, value to
    700); the (workflow, deal) pairs it started, then the deals and executions put back."""
    d1, d2, d3, d4 = deals
    flows.write(
        "update app.deals set "
        # A searched CASE: Citus 14 sends a simple one on a parameter to the shards
        # mistyped (docs/scale-out.md, "SQL shapes").
        "value = case when id = %(d1)s then 600 when id = %(d4)s then 700 else value end, "
        "name = case when id in (%(d2)s, %(d3)s) then name || ' (renamed)' else name end "
        "where id = any(%(all)s)",
        {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "all": deals},
        user=flows.orgs.a.rep_ids[0],
    )
    started = {(e["workflow_id"], e["entity_id"]) for e in flows.executions()}
    with flows.owner.transaction():
        flows.owner.execute("set local session_replication_role = replica")
        flows.owner.execute(
            "update app.deals set value = 500, name = 'Fresh deal' where id = any(%s)", (deals,)
        )
        flows.owner.execute("delete from app.workflow_executions")
        flows.owner.execute("delete from app.workflow_instances")
        flows.clear_queue()
    return started


def test_watched_columns_match_as_the_whole_old_row_does(flows: Flows) -> None:
    """Field and status triggers alone get only the watched columns of the old rows (and
    only rows where one changed); a workflow that needs the whole old row (an updated
    trigger, a condition on old.*) switches to it: the same executions either way."""
    deals = [new_deal(flows) for _ in range(4)]
    d1, d2, d3, d4 = deals
    to_600 = workflow(flows, {"type": "field_change", "field": "value", "to": 600})
    any_value = workflow(flows, {"type": "field_change", "field": "value"})
    renamed = workflow(flows, {"type": "field_change", "field": "name"})
    status = workflow(flows, {"type": "status_change"})
    expected = {(to_600, d1), (any_value, d1), (any_value, d4), (renamed, d2), (renamed, d3)}
    assert _bulk_change(flows, deals) == expected

    whole = workflow(
        flows,
        {"type": "updated"},
        conditions={"field": "old.value", "operator": "eq", "value": 500},
    )
    with_whole = _bulk_change(flows, deals)
    assert {p for p in with_whole if p[0] != whole} == expected
    assert {d for w, d in with_whole if w == whole} == set(deals)
    assert all(w != status for w, _ in with_whole)


def test_a_changed_condition_reads_the_whole_old_row(flows: Flows) -> None:
    deals = [new_deal(flows) for _ in range(4)]
    wf = workflow(
        flows,
        {"type": "field_change", "field": "value"},
        conditions={"field": "name", "operator": "changed"},
    )
    # No deal of the bulk change has both its value and its name changed.
    assert _bulk_change(flows, deals) == set()
    flows.write(
        "update app.deals set value = 1, name = 'both' where id = %s",
        (deals[0],),
        user=flows.orgs.a.rep_ids[0],
    )
    assert {(e["workflow_id"], e["entity_id"]) for e in flows.executions()} == {(wf, deals[0])}
