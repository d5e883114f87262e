"""Each step kind, run by api.run_execution (the worker's part simulated by
the api calls it makes: record_email_sent, complete_action, fail_action).
Email subjects are rendered once, only the engine ties an email to a workflow
action, and a webhook result or retry backoff survives a pause."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from intime.errors import InvalidDefinitionError, PermissionDeniedError
from tests.sql.workflows.conftest import Flows


def run_on_deal(flows: Flows, steps: list[dict[str, Any]], deal: uuid.UUID | None = None) -> dict:
    """Create a manual workflow with these steps, start it on a deal, drain it."""
    wf = flows.create({"triggers": [{"type": "manual"}], "steps": steps})
    deal = deal or flows.orgs.a.deal_ids[0]
    flows.call("select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)", (wf, deal))
    flows.drain()
    (execution,) = flows.executions(wf)
    return execution


def results(flows: Flows, execution: dict) -> dict[str, Any]:
    return {s["step_name"]: s["result"] for s in flows.steps(execution["id"])}


def test_create_task_assigns_the_owner_with_a_due_date(flows: Flows) -> None:
    a = flows.orgs.a
    flows.at("2026-11-27T15:00:00Z")
    execution = run_on_deal(
        flows,
        [
            {
                "name": "t",
                "type": "create_task",
                "title": "Call {{deal.name}}",
                "due_in": "P2D",
                "priority": "high",
            }
        ],
    )
    assert execution["status"] == "completed"
    activity_id = results(flows, execution)["t"]["activity_id"]
    row = flows.owner.execute(
        "select type, subject, assignee_id, due_date, priority, status, entity_id "
        "from app.activities where id = %s",
        (activity_id,),
    ).fetchone()
    assert row == (
        "task",
        "Call Acme Staffing deal 1",
        a.rep_ids[0],
        datetime(2026, 11, 29, 15, tzinfo=UTC),
        "high",
        "open",
        a.deal_ids[0],
    )


def test_create_activity_records_a_completed_activity(flows: Flows) -> None:
    execution = run_on_deal(
        flows,
        [
            {
                "name": "log",
                "type": "create_activity",
                "activity_type": "call",
                "subject": "Won: {{deal.value}}",
            }
        ],
    )
    row = flows.owner.execute(
        "select type, subject, status, completed_at is not null from app.activities where id = %s",
        (results(flows, execution)["log"]["activity_id"],),
    ).fetchone()
    assert row == ("call", "Won: 10000.00", "completed", True)


def test_update_field_writes_the_column_in_its_own_type(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[1]
    execution = run_on_deal(
        flows,
        [
            {"name": "v", "type": "update_field", "field": "value", "value": "42000.5"},
            {
                "name": "d",
                "type": "update_field",
                "field": "expected_close_date",
                "value": "2027-01-31",
            },
            {"name": "c", "type": "update_field", "field": "description", "value": None},
        ],
        deal,
    )
    assert execution["status"] == "completed"
    row = flows.deal(deal)
    assert (str(row["value"]), str(row["expected_close_date"]), row["description"]) == (
        "42000.50",
        "2027-01-31",
        None,
    )


def test_update_field_is_recorded_in_entity_history(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[1]
    run_on_deal(
        flows, [{"name": "v", "type": "update_field", "field": "value", "value": 777}], deal
    )
    row = flows.owner.execute(
        "select old_value, new_value from app.entity_history "
        "where entity_id = %s and field_name = 'value' order by id desc limit 1",
        (deal,),
    ).fetchone()
    assert row == (20000, 777)


def test_a_bad_value_fails_the_step_and_changes_nothing(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[1]
    execution = run_on_deal(
        flows,
        [
            {"name": "ok", "type": "update_field", "field": "description", "value": "first"},
            {"name": "bad", "type": "update_field", "field": "value", "value": "lots"},
        ],
        deal,
    )
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "retry")
    assert "invalid input syntax for type numeric" in execution["error_message"]
    # The first step committed; the failed one left nothing behind.
    assert flows.deal(deal)["description"] == "first"
    assert [(s["step_name"], s["status"]) for s in flows.steps(execution["id"])] == [
        ("ok", "completed"),
        ("bad", "failed"),
    ]


def test_assign_user_and_manager(flows: Flows) -> None:
    a = flows.orgs.a
    deal = a.deal_ids[0]
    execution = run_on_deal(
        flows,
        [
            {"name": "to_sam", "type": "assign", "mode": "user", "user": str(a.rep_ids[1])},
            {"name": "up", "type": "assign", "mode": "manager"},
        ],
        deal,
    )
    assert execution["status"] == "completed"
    out = results(flows, execution)
    assert out["to_sam"]["user_id"] == str(a.rep_ids[1])
    assert out["up"]["user_id"] == str(a.manager_id)
    assert flows.deal(deal)["owner_id"] == a.manager_id


def round_robin(flows: Flows, users: list[Any], deals: int) -> Counter:
    a = flows.orgs.a
    flows.create(
        {
            "triggers": [{"type": "created"}],
            "steps": [{"name": "rr", "type": "assign", "mode": "round_robin", "users": users}],
        }
    )
    # One multi-row VALUES: on Citus an INSERT ... SELECT is a COPY into the shards,
    # which a role under RLS may not run (docs/scale-out.md, item 6).
    flows.write(
        "insert into app.deals (name, stage_id) values " + ", ".join(["(%s, %s)"] * deals),
        [v for i in range(1, deals + 1) for v in (f"rr {i}", a.stage_ids["Lead"])],
    )
    assert set(flows.drain(limit=5)) == {"completed"}
    rows = flows.owner.execute(
        "select owner_id, count(*) from app.deals where name like 'rr %%' group by 1"
    ).fetchall()
    return Counter({owner: n for owner, n in rows})


def test_round_robin_stays_fair_over_100_assignments(flows: Flows) -> None:
    a = flows.orgs.a
    users = [a.rep_ids[0], a.rep_ids[1], a.manager_id]
    counts = round_robin(flows, [str(u) for u in users], 100)
    assert sum(counts.values()) == 100
    assert set(counts) == set(users)
    assert max(counts.values()) - min(counts.values()) <= 1


def test_round_robin_skips_unavailable_and_out_of_office_users(flows: Flows) -> None:
    a = flows.orgs.a
    flows.owner.execute(
        "update app.user_profiles set available = false where id = %s", (a.rep_ids[1],)
    )
    flows.owner.execute(
        "update app.user_profiles set out_of_office_until = now() + interval '1 day' where id = %s",
        (a.manager_id,),
    )
    counts = round_robin(flows, [str(a.rep_ids[0]), str(a.rep_ids[1]), str(a.manager_id)], 10)
    assert counts == Counter({a.rep_ids[0]: 10})


def test_round_robin_follows_weights(flows: Flows) -> None:
    a = flows.orgs.a
    counts = round_robin(
        flows,
        [{"user": str(a.rep_ids[0]), "weight": 1}, {"user": str(a.rep_ids[1]), "weight": 3}],
        100,
    )
    assert counts == Counter({a.rep_ids[0]: 25, a.rep_ids[1]: 75})


def test_send_notification_renders_a_template_from_the_entity(flows: Flows) -> None:
    a = flows.orgs.a
    execution = run_on_deal(
        flows,
        [
            {
                "name": "won",
                "type": "send_notification",
                "template": "deal_closed_won",
                "to": ["owner", "manager"],
            }
        ],
    )
    assert execution["status"] == "completed"
    ids = [n["notification_id"] for n in results(flows, execution)["won"]["notifications"]]
    rows = flows.owner.execute(
        "select user_id, title, message from app.notifications where id = any(%s::uuid[])",
        (ids,),
    ).fetchall()
    assert {r[0] for r in rows} == {a.rep_ids[0], a.manager_id}
    # The org's own deal_closed_won template (seeded) overrides the system one.
    assert rows[0][1:] == (
        "Won: Acme Staffing deal 1",
        "Acme Staffing deal 1 closed for 10000.00. Ring the bell!",
    )


def test_send_notification_renders_its_group_key(flows: Flows) -> None:
    """A group key is a template like the title: one unread notification per deal."""
    deal = flows.orgs.a.deal_ids[0]
    step = {
        "name": "ping",
        "type": "send_notification",
        "title": "Ping",
        "message": "{{deal.name}}",
        "group_key": "deal-{{deal.id}}",
    }
    execution = run_on_deal(flows, [step], deal)
    [note] = results(flows, execution)["ping"]["notifications"]
    row = flows.owner.execute(
        "select group_key from app.notifications where id = %s", (note["notification_id"],)
    ).fetchone()
    assert row == (f"deal-{deal}",)


def test_a_group_key_naming_an_unknown_variable_is_refused(flows: Flows) -> None:
    step = {
        "name": "ping",
        "type": "send_notification",
        "title": "Ping",
        "message": "m",
        "group_key": "deal-{{deal.nope}}",
    }
    with pytest.raises(InvalidDefinitionError, match=r"\$\.steps\[0\]\.group_key"):
        flows.create({"triggers": [{"type": "manual"}], "steps": [step]})


def test_send_notification_with_no_recipient_is_skipped(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[1]
    flows.owner.execute("update app.deals set owner_id = null where id = %s", (deal,))
    execution = run_on_deal(
        flows, [{"name": "n", "type": "send_notification", "title": "Hi"}], deal
    )
    assert execution["status"] == "completed"
    assert results(flows, execution)["n"] == {"skipped": "no recipient"}


def test_send_email_waits_for_the_send_and_resolves_the_lead_contact(flows: Flows) -> None:
    a = flows.orgs.a
    execution = run_on_deal(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "lead_contact.email",
                "subject": "Thanks for {{deal.name}}",
                "text": "Hello <{{deal.value}}>",
            },
            {"name": "after", "type": "create_activity", "subject": "mailed"},
        ],
    )
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "action")
    send_id = results(flows, execution)["mail"]["email_send_id"]
    row = flows.owner.execute(
        "select to_email, subject, html_body, workflow_action_id is not null "
        "from app.email_sends where id = %s",
        (send_id,),
    ).fetchone()
    assert row == (
        "ada.lovelace@client.acme.example",
        "Thanks for Acme Staffing deal 1",
        "Hello &lt;10000.00&gt;",
        True,
    )
    flows.write(
        "select api.record_email_sent(p_email_send_id => %s, p_provider => 'resend', "
        "p_provider_message_id => 'msg-1')",
        (send_id,),
    )
    assert flows.drain() == ["completed"]
    assert a.org_id is not None


def test_send_email_to_a_suppressed_address_completes_as_skipped(flows: Flows) -> None:
    flows.owner.execute(
        "insert into app.suppressions (org_id, email, reason) values (%s, %s, 'complaint')",
        (flows.org_id, "ada.lovelace@client.acme.example"),
    )
    execution = run_on_deal(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "lead_contact.email",
                "subject": "s",
                "text": "t",
            }
        ],
    )
    assert execution["status"] == "completed"
    assert results(flows, execution)["mail"]["skipped"] == "suppressed: complaint"


def test_a_permanently_failed_email_fails_the_execution(flows: Flows) -> None:
    execution = run_on_deal(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "x@nowhere.example",
                "subject": "s",
                "text": "t",
            }
        ],
    )
    send_id = results(flows, execution)["mail"]["email_send_id"]
    flows.write(
        "select api.fail_email_send(p_email_send_id => %s, p_error => '550 no such user', "
        "p_permanent => true)",
        (send_id,),
    )
    execution = flows.execution(execution["id"])
    assert execution["status"] == "failed"
    assert "550 no such user" in execution["error_message"]


def webhook_execution(flows: Flows, **step: Any) -> dict:
    return run_on_deal(
        flows,
        [
            {
                "name": "hook",
                "type": "webhook",
                "url": "https://hooks.example/{{deal.name}}",
                **step,
            },
            {"name": "after", "type": "create_activity", "subject": "hooked"},
        ],
    )


def test_webhook_parks_with_a_signed_request_for_the_worker(flows: Flows) -> None:
    execution = webhook_execution(flows)
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "action")
    action_id = results(flows, execution)["hook"]["action_id"]
    (job,) = flows.jobs("webhook.deliver")
    assert job["action_id"] == action_id
    rows = flows.call(
        "select * from api.claim_webhook(p_action_id => %s, p_org_id => %s)",
        (action_id, flows.org_id),
    )
    claim = rows[0]
    assert claim["action"] == "send"
    assert claim["url"] == "https://hooks.example/Acme%20Staffing%20deal%201"
    assert claim["msg_id"] == "msg_" + action_id.replace("-", "")
    assert claim["secrets"][0].startswith("whsec_")


def claim_webhook(flows: Flows, action_id: str) -> dict:
    return flows.call(
        "select * from api.claim_webhook(p_action_id => %s, p_org_id => %s)",
        (action_id, flows.org_id),
    )[0]


def test_a_second_claim_within_the_webhook_lease_defers_unsent(flows: Flows) -> None:
    """Another worker may hold the receiver's answer while cut off from the database."""
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    assert claim_webhook(flows, action_id)["action"] == "send"
    again = claim_webhook(flows, action_id)
    assert again["action"] == "defer"
    assert again["url"] is None
    assert 100 < again["retry_after_seconds"] <= 120


def test_a_claim_after_the_webhook_lease_ran_out_sends_the_same_message_again(
    flows: Flows,
) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    first = claim_webhook(flows, action_id)
    flows.owner.execute(
        # now(), not clock_timestamp(): Citus refuses a volatile function in an UPDATE.
        "update app.workflow_actions set sending_until = now() where id = %s",
        (action_id,),
    )
    again = claim_webhook(flows, action_id)
    assert (again["action"], again["msg_id"]) == ("send", first["msg_id"])


def test_complete_action_resumes_the_execution(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    outcome = flows.call(
        "select api.complete_action(p_action_id => %s, p_result => '{\"status_code\": 200}', "
        "p_org_id => %s) as o",
        (action_id, flows.org_id),
    )
    assert outcome[0]["o"] == "resumed"
    assert flows.drain() == ["completed"]
    assert results(flows, flows.execution(execution["id"]))["hook"]["status_code"] == 200
    again = flows.call(
        "select api.complete_action(p_action_id => %s, p_org_id => %s) as o",
        (action_id, flows.org_id),
    )
    assert again[0]["o"] == "duplicate"


def test_a_transient_webhook_failure_retries_no_sooner_than_retry_after(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call(
        "select api.fail_action(p_action_id => %s, p_error => 'HTTP 503', "
        "p_retry_after_seconds => 120, p_org_id => %s)",
        (action_id, flows.org_id),
    )
    row = flows.execution(execution["id"])
    assert (row["status"], row["waiting_for"], row["retry_count"]) == ("waiting", "retry", 1)
    assert row["next_retry_at"] == datetime(2026, 11, 29, 12, 2, tzinfo=UTC)
    # The retry delivers the same action (same message id) again.
    flows.at("2026-11-29T12:02:00Z")
    flows.drain()
    jobs = flows.jobs("webhook.deliver")  # the first attempt's (never run here) and the retry's
    assert [j["action_id"] for j in jobs] == [action_id, action_id]


def test_retries_back_off_exponentially_then_fail_and_notify(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    wf = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "max_retries": 2,
            "steps": [{"name": "hook", "type": "webhook", "url": "https://hooks.example/x"}],
        }
    )
    flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)",
        (wf, flows.orgs.a.deal_ids[0]),
    )
    flows.drain()
    delays = []
    clock = datetime(2026, 11, 29, 12, tzinfo=UTC)
    for _ in range(3):
        (execution,) = flows.executions(wf)
        action_id = flows.owner.execute(
            "select id from app.workflow_actions where execution_id = %s", (execution["id"],)
        ).fetchone()[0]
        flows.call(
            "select api.fail_action(p_action_id => %s, p_error => 'HTTP 500', p_org_id => %s)",
            (action_id, flows.org_id),
        )
        execution = flows.execution(execution["id"])
        if execution["status"] == "failed":
            break
        delays.append((execution["next_retry_at"] - clock).seconds)
        clock = execution["next_retry_at"]
        flows.at(clock.isoformat())
        flows.drain()
    assert delays == [10, 20]
    assert execution["status"] == "failed"
    note = flows.owner.execute(
        "select user_id, title from app.notifications where title like 'Workflow failed%%'"
    ).fetchone()
    assert note == (flows.admin_id, "Workflow failed: wf")


def test_a_webhook_4xx_fails_without_retries(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call(
        "select api.fail_action(p_action_id => %s, p_error => 'HTTP 404', p_permanent => true, "
        "p_org_id => %s)",
        (action_id, flows.org_id),
    )
    row = flows.execution(execution["id"])
    assert (row["status"], row["retry_count"]) == ("failed", 0)


def test_wait_duration_parks_until_the_clock_passes(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = run_on_deal(
        flows,
        [
            {"name": "nap", "type": "wait", "duration": "PT2H"},
            {"name": "after", "type": "create_activity", "subject": "awake"},
        ],
    )
    assert (execution["status"], execution["waiting_for"]) == ("waiting", "timer")
    assert execution["wake_at"] == datetime(2026, 11, 29, 14, tzinfo=UTC)
    flows.at("2026-11-29T13:59:00Z")
    assert flows.run(execution["id"]) == "waiting"
    flows.at("2026-11-29T14:00:00Z")
    assert flows.run(execution["id"]) == "completed"


def test_wait_until_a_date_field_plus_an_offset(flows: Flows) -> None:
    deal = flows.orgs.a.deal_ids[1]
    flows.owner.execute(
        "update app.deals set expected_close_date = '2027-03-10' where id = %s", (deal,)
    )
    flows.at("2026-11-29T12:00:00Z")
    execution = run_on_deal(
        flows,
        [
            {
                "name": "before_close",
                "type": "wait",
                "until_field": "expected_close_date",
                "offset": "-P1D",
            }
        ],
        deal,
    )
    # A date means midnight in the org's time zone (New York, UTC-5 in March before DST).
    assert execution["wake_at"] == datetime(2027, 3, 9, 5, tzinfo=UTC)


def test_wait_until_the_next_weekday_time_in_a_time_zone(flows: Flows) -> None:
    # Friday 2026-11-27 15:00 UTC is 10:00 in New York: the next Monday 09:00 there.
    flows.at("2026-11-27T15:00:00Z")
    execution = run_on_deal(
        flows,
        [
            {
                "name": "monday",
                "type": "wait",
                "until": {"weekdays": ["mon"], "time": "09:00", "timezone": "America/New_York"},
            }
        ],
    )
    assert execution["wake_at"] == datetime(2026, 11, 30, 14, tzinfo=UTC)


def test_wait_until_crosses_daylight_saving_in_local_time(flows: Flows) -> None:
    # Saturday 2026-03-07 in New York; DST starts Sunday 03-08: Monday 09:00 is 13:00 UTC.
    flows.at("2026-03-07T15:00:00Z")
    execution = run_on_deal(
        flows,
        [
            {
                "name": "monday",
                "type": "wait",
                "until": {"weekdays": ["mon"], "time": "09:00", "timezone": "org"},
            }
        ],
    )
    assert execution["wake_at"] == datetime(2026, 3, 9, 13, tzinfo=UTC)


def test_a_missed_timer_is_caught_by_the_sweeper(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = run_on_deal(flows, [{"name": "nap", "type": "wait", "duration": "PT10M"}])
    flows.clear_queue("workflow.run")
    flows.at("2026-11-29T12:11:00Z")
    assert flows.sweep()["woken"] == 1
    assert flows.drain() == ["completed"]
    assert flows.execution(execution["id"])["status"] == "completed"


def test_condition_branches_to_then_or_else(flows: Flows) -> None:
    steps = [
        {
            "name": "big",
            "type": "condition",
            "if": {"field": "value", "operator": "gte", "value": 20000},
            "then": "vip",
            "else": "plain",
        },
        {"name": "vip", "type": "create_activity", "subject": "vip", "next": "end"},
        {"name": "plain", "type": "create_activity", "subject": "plain"},
    ]
    small = run_on_deal(flows, steps, flows.orgs.a.deal_ids[0])  # 10000
    assert [s["step_name"] for s in flows.steps(small["id"])] == ["big", "plain"]


def test_condition_then_branch_ends_early(flows: Flows) -> None:
    steps = [
        {
            "name": "big",
            "type": "condition",
            "if": {"field": "value", "operator": "gte", "value": 20000},
            "then": "vip",
            "else": "plain",
        },
        {"name": "vip", "type": "create_activity", "subject": "vip", "next": "end"},
        {"name": "plain", "type": "create_activity", "subject": "plain"},
    ]
    big = run_on_deal(flows, steps, flows.orgs.a.deal_ids[1])  # 20000
    assert [s["step_name"] for s in flows.steps(big["id"])] == ["big", "vip"]


@pytest.mark.parametrize(("action", "owner"), [("notify", "rep"), ("reassign", "manager")])
def test_escalate_notifies_or_reassigns_to_the_manager(
    flows: Flows, action: str, owner: str
) -> None:
    a = flows.orgs.a
    deal = a.deal_ids[0]
    execution = run_on_deal(
        flows,
        [
            {
                "name": "esc",
                "type": "escalate",
                "action": action,
                "message": "{{deal.name}} is stuck",
            }
        ],
        deal,
    )
    assert results(flows, execution)["esc"]["escalated_to"] == str(a.manager_id)
    expected_owner = a.rep_ids[0] if owner == "rep" else a.manager_id
    assert flows.deal(deal)["owner_id"] == expected_owner
    message = flows.owner.execute(
        "select message from app.notifications where user_id = %s and title like 'Escalation%%'",
        (a.manager_id,),
    ).fetchone()
    assert message == ("Acme Staffing deal 1 is stuck",)


def test_a_deleted_entity_fails_its_execution_without_retries(flows: Flows) -> None:
    wf = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [{"name": "t", "type": "create_task", "title": "x"}],
        }
    )
    a = flows.orgs.a
    deal = a.deal_ids[2]
    flows.call("select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)", (wf, deal))
    flows.owner.execute("delete from app.deals where id = %s", (deal,))
    flows.drain()
    (execution,) = flows.executions(wf)
    assert (execution["status"], execution["retry_count"]) == ("failed", 0)
    assert "no longer exists" in execution["error_message"]


def test_a_member_cannot_tie_an_email_to_a_workflow_action(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    with pytest.raises(PermissionDeniedError, match="workflow engine only"):
        flows.call(
            "select api.queue_email(p_to => 'me@example.com', p_subject => 'x', p_text => 'y', "
            "p_workflow_action_id => %s)",
            (action_id,),
            user=flows.orgs.a.rep_ids[1],
        )


def test_an_email_subject_is_rendered_once(flows: Flows) -> None:
    a = flows.orgs.a
    flows.write(
        "update app.deals set name = %s where id = %s",
        ("{{owner.email}} / {{org.id}}", a.deal_ids[0]),
        user=a.rep_ids[0],
    )
    execution = run_on_deal(
        flows,
        [
            {
                "name": "mail",
                "type": "send_email",
                "to": "lead_contact.email",
                "subject": "About {{deal.name}}",
                "text": "hello",
            }
        ],
    )
    send_id = results(flows, execution)["mail"]["email_send_id"]
    subject = flows.owner.execute(
        "select subject from app.email_sends where id = %s", (send_id,)
    ).fetchone()
    assert subject == ("About {{owner.email}} / {{org.id}}",)


def test_a_webhook_result_reported_while_paused_is_kept(flows: Flows) -> None:
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call("select api.pause_execution(%s)", (execution["id"],))
    [o] = flows.call(
        "select api.complete_action(%s, '{\"status_code\": 201}', %s) as o",
        (action_id, flows.org_id),
    )
    assert o["o"] == "recorded"
    flows.call("select api.resume_execution(%s)", (execution["id"],))
    flows.drain()
    row = flows.execution(execution["id"])
    assert row["status"] == "completed"
    assert results(flows, row)["hook"]["status_code"] == 201


def test_resume_during_a_retry_backoff_keeps_the_backoff(flows: Flows) -> None:
    flows.at("2026-11-29T12:00:00Z")
    execution = webhook_execution(flows)
    action_id = results(flows, execution)["hook"]["action_id"]
    flows.call(
        "select api.fail_action(p_action_id => %s, p_error => 'HTTP 503', "
        "p_retry_after_seconds => 600, p_org_id => %s)",
        (action_id, flows.org_id),
    )
    flows.call("select api.pause_execution(%s)", (execution["id"],))
    flows.call("select api.resume_execution(%s)", (execution["id"],))
    row = flows.execution(execution["id"])
    assert (row["status"], row["waiting_for"]) == ("waiting", "retry")
    assert flows.run(execution["id"]) == "waiting"
