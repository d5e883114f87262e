"""api.reconcile_in_flight_work: rows left in flight without a live job are queued
again exactly once, rows with a live job are left alone, and a row that keeps
coming back ends terminal with its reason."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from intime.db import errors_translated
from intime.errors import InvalidParameterError, ServiceRoleRequiredError
from tests.sql.ops.conftest import (
    NOTE,
    Ops,
    email_delivery,
    email_key,
    kind,
    lost_email,
    parked_on_webhook,
    run_jobs,
    started,
)
from tests.support import Database

# Emails


def test_a_queued_email_whose_job_vanished_is_requeued_once(ops: Ops) -> None:
    send_id = lost_email(ops)
    assert kind(ops.reconcile(), "emails") == {"requeued": 1, "failed": 0}
    assert kind(ops.reconcile(), "emails") == {"requeued": 0, "failed": 0}
    [job] = ops.jobs(email_key(send_id))
    assert job["status"] == "queued"
    assert job["payload"] == {"org_id": str(ops.mail.org_id), "email_send_id": str(send_id)}
    row = ops.row("email_sends", send_id)
    assert (row["status"], row["reconciled"]) == ("queued", 1)


def test_a_requeued_email_still_waits_for_its_send_after(ops: Ops) -> None:
    send_id = lost_email(ops, send_after="2999-01-01T00:00:00Z")
    ops.reconcile()
    [job] = ops.jobs(email_key(send_id))
    assert job["execute_after"] > datetime.now(UTC) + timedelta(days=365 * 900)


def test_an_email_with_a_live_job_is_left_alone(ops: Ops) -> None:
    send_id = ops.mail.queue(to="fine@example.com", subject="Hi", text="x")
    ops.age("email_sends", send_id)
    assert kind(ops.reconcile(), "emails")["requeued"] == 0
    assert ops.row("email_sends", send_id)["reconciled"] == 0


def test_an_email_touched_within_the_grace_is_left_alone(ops: Ops) -> None:
    send_id = ops.mail.queue(to="fresh@example.com", subject="Hi", text="x")
    ops.drop_jobs(email_key(send_id))
    assert kind(ops.reconcile(), "emails")["requeued"] == 0
    assert ops.jobs(email_key(send_id)) == []


def test_a_sending_email_is_requeued_only_once_its_lease_ran_out(ops: Ops) -> None:
    send_id = ops.mail.queue(to="midair@example.com", subject="Hi", text="x")
    first = ops.claim(send_id)
    ops.drop_jobs(email_key(send_id))
    ops.age("email_sends", send_id)
    assert kind(ops.reconcile(), "emails")["requeued"] == 0  # its worker may still record it
    ops.expire_lease(send_id)
    assert kind(ops.reconcile(), "emails")["requeued"] == 1
    again = ops.claim(send_id)
    assert (again["action"], again["message_id"]) == ("send", first["message_id"])


def test_a_held_failed_email_job_is_put_back_not_left_failed(ops: Ops) -> None:
    send_id = ops.mail.queue(to="held@example.com", subject="Hi", text="x")
    held = ops.hold_failed(email_key(send_id))
    ops.age("email_sends", send_id)
    assert kind(ops.reconcile(), "emails")["requeued"] == 1
    assert [(j["id"], j["status"]) for j in ops.jobs(email_key(send_id))] == [(held, "queued")]


def test_an_email_that_keeps_coming_back_ends_failed_with_its_reason(ops: Ops) -> None:
    ops.setting(reconcile_max_rounds=2)
    send_id = ops.mail.queue(to="poison@example.com", subject="Hi", text="x")
    outcomes = []
    for _ in range(3):
        ops.hold_failed(email_key(send_id), error="AttributeError: 'NoneType'")
        ops.age("email_sends", send_id)
        outcomes.append(kind(ops.reconcile(), "emails"))
    assert outcomes == [{"requeued": 1, "failed": 0}] * 2 + [{"requeued": 0, "failed": 1}]
    row = ops.row("email_sends", send_id)
    assert row["status"] == "failed"
    assert row["failed_at"] is not None
    assert "after 2 re-queues" in row["error"]
    assert row["error"].endswith("AttributeError: 'NoneType'")


def test_two_reconciliations_at_once_queue_an_email_once(ops: Ops, db: Database) -> None:
    send_id = lost_email(ops)
    with db.connect("intime_service") as first, db.connect("intime_service") as second:
        first.execute("select api.reconcile_in_flight_work()")  # its transaction stays open
        (other,) = second.execute("select api.reconcile_in_flight_work()").fetchone()
        second.commit()
        first.commit()
    assert other == {"skipped": "another reconciliation holds the lock"}
    assert len(ops.jobs(email_key(send_id))) == 1
    assert kind(ops.reconcile(), "emails")["requeued"] == 0


def test_a_reconciliation_waits_for_nobody(ops: Ops, db: Database) -> None:
    """A row locked by a claim in progress is skipped, not waited for."""
    send_id = lost_email(ops)
    with db.connect() as worker:  # as a claim holds it (the owner may lock it)
        worker.execute(
            "select from app.email_sends where org_id = %s and id = %s for update",
            (ops.mail.org_id, send_id),
        )
        done = threading.Event()

        def reconcile() -> None:
            ops.reconcile()
            done.set()

        thread = threading.Thread(target=reconcile)
        thread.start()
        finished = done.wait(10)
        worker.rollback()
        thread.join()
    assert finished
    assert ops.jobs(email_key(send_id)) == []


# Workflow executions


def test_a_pending_execution_whose_job_vanished_is_requeued_once(ops: Ops) -> None:
    _, execution, job_id = started(ops, NOTE)
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    ops.age("workflow_executions", execution)
    assert kind(ops.reconcile(), "executions") == {"requeued": 1, "failed": 0}
    assert kind(ops.reconcile(), "executions") == {"requeued": 0, "failed": 0}
    [(_, status)] = run_jobs(ops, execution)
    assert status == "queued"


def test_an_execution_with_a_live_job_is_left_alone(ops: Ops) -> None:
    _, execution, job_id = started(ops, NOTE)
    ops.age("workflow_executions", execution)
    assert kind(ops.reconcile(), "executions")["requeued"] == 0
    assert run_jobs(ops, execution) == [(job_id, "queued")]


def test_an_execution_whose_run_is_held_failed_ends_failed_with_the_error(ops: Ops) -> None:
    _, execution, job_id = started(ops, NOTE)
    ops.hold_failed(job_id=job_id, error="KeyError: 0")
    ops.age("workflow_executions", execution)
    assert kind(ops.reconcile(), "executions") == {"requeued": 0, "failed": 1}
    row = ops.row("workflow_executions", execution)
    assert (row["status"], row["error_message"]) == ("failed", "the run failed: KeyError: 0")


def napping(ops: Ops) -> tuple[uuid.UUID, int]:
    """An execution parked on a one-hour wait, its timer due by now: (execution, wake job)."""
    flows, execution, job_id = started(ops, [{"name": "nap", "type": "wait", "duration": "PT1H"}])
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    assert flows.run(execution) == "waiting"
    ops.owner.execute(
        "update app.workflow_executions set wake_at = now() - interval '1 minute' where id = %s",
        (execution,),
    )
    return execution, ops.row("workflow_executions", execution)["wake_job_id"]


def test_a_due_timer_whose_job_vanished_is_queued_now(ops: Ops) -> None:
    execution, job_id = napping(ops)
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    assert kind(ops.reconcile(), "executions") == {"requeued": 1, "failed": 0}
    [(new_job, status)] = run_jobs(ops, execution)
    assert (new_job != job_id, status) == (True, "queued")
    assert ops.row("workflow_executions", execution)["wake_job_id"] == new_job


def test_a_due_timer_whose_run_is_held_failed_ends_failed_with_the_error(ops: Ops) -> None:
    execution, job_id = napping(ops)
    ops.hold_failed(job_id=job_id, error="KeyError: 0")
    assert kind(ops.reconcile(), "executions") == {"requeued": 0, "failed": 1}
    row = ops.row("workflow_executions", execution)
    assert (row["status"], row["error_message"]) == ("failed", "the run failed: KeyError: 0")


def test_a_sweep_during_a_reconciliation_queues_nothing_twice(ops: Ops, db: Database) -> None:
    _, execution, job_id = started(ops, NOTE)
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    ops.age("workflow_executions", execution)
    with db.connect("intime_service") as first, db.connect("intime_service") as second:
        first.execute("select api.reconcile_in_flight_work()")
        (swept,) = second.execute("select api.tick_workflows()").fetchone()
        second.commit()
        first.commit()
    assert (swept["woken"], swept["stalled"]) == (0, 0)
    assert len(run_jobs(ops, execution)) == 1


# Workflow actions (webhook deliveries)


def test_a_webhook_delivery_whose_job_vanished_is_requeued_once(ops: Ops) -> None:
    _, _, action = parked_on_webhook(ops)
    key = f"webhook.deliver:{action}:0"
    ops.drop_jobs(key)
    ops.age("workflow_actions", action)
    assert kind(ops.reconcile(), "actions") == {"requeued": 1, "failed": 0}
    assert kind(ops.reconcile(), "actions") == {"requeued": 0, "failed": 0}
    [job] = ops.jobs(key)
    assert (job["status"], job["payload"]["action_id"]) == ("queued", str(action))


def test_a_webhook_delivery_with_a_live_job_is_left_alone(ops: Ops) -> None:
    _, _, action = parked_on_webhook(ops)
    ops.age("workflow_actions", action)
    assert kind(ops.reconcile(), "actions")["requeued"] == 0
    assert ops.row("workflow_actions", action)["reconciled"] == 0


def test_a_held_failed_webhook_job_is_put_back(ops: Ops) -> None:
    _, _, action = parked_on_webhook(ops)
    key = f"webhook.deliver:{action}:0"
    held = ops.hold_failed(key)
    ops.age("workflow_actions", action)
    assert kind(ops.reconcile(), "actions")["requeued"] == 1
    assert [(j["id"], j["status"]) for j in ops.jobs(key)] == [(held, "queued")]


def test_a_webhook_that_keeps_crashing_fails_its_execution_with_the_reason(ops: Ops) -> None:
    ops.setting(reconcile_max_rounds=1)
    _, execution, action = parked_on_webhook(ops)
    key = f"webhook.deliver:{action}:0"
    outcomes = []
    for _ in range(2):
        ops.hold_failed(key, error="RecursionError")
        ops.age("workflow_actions", action)
        outcomes.append(kind(ops.reconcile(), "actions"))
    assert outcomes == [{"requeued": 1, "failed": 0}, {"requeued": 0, "failed": 1}]
    row = ops.row("workflow_actions", action)
    assert row["status"] == "failed"
    assert row["error_message"] == (
        "the delivery was re-queued 1 times without an outcome: RecursionError"
    )
    assert ops.row("workflow_executions", execution)["status"] == "failed"


# Notification deliveries


def test_a_delivery_whose_email_settled_unseen_takes_its_outcome(ops: Ops) -> None:
    delivery = email_delivery(ops)
    with ops.owner.transaction():  # a change the delivery trigger did not see
        ops.owner.execute("set local session_replication_role = replica")
        ops.owner.execute(
            "update app.email_sends set status = 'bounced', error = '550 no such user' "
            "where id = %s",
            (delivery["email_send_id"],),
        )
    ops.age("notification_deliveries", delivery["id"])
    assert kind(ops.reconcile(), "deliveries") == {"settled": 1, "redriven": 0, "failed": 0}
    row = ops.row("notification_deliveries", delivery["id"])
    assert (row["status"], row["reason"]) == ("failed", "bounced: 550 no such user")


def test_a_delivery_whose_email_is_gone_is_decided_again_by_the_tick(ops: Ops) -> None:
    delivery = email_delivery(ops)
    ops.drop_jobs(email_key(delivery["email_send_id"]))
    ops.owner.execute("delete from app.email_sends where id = %s", (delivery["email_send_id"],))
    ops.age("notification_deliveries", delivery["id"])
    assert kind(ops.reconcile(), "deliveries") == {"settled": 0, "redriven": 1, "failed": 0}
    assert ops.row("notification_deliveries", delivery["id"])["status"] == "held"
    with ops.conn.transaction():
        ops.conn.execute("select api.tick_notifications()")
    row = ops.row("notification_deliveries", delivery["id"])
    assert (row["status"], row["attempts"]) == ("pending", 2)
    assert len(ops.jobs(email_key(row["email_send_id"]))) == 1


def test_a_delivery_that_keeps_losing_its_email_ends_failed(ops: Ops) -> None:
    ops.setting(reconcile_max_rounds=1)
    delivery = email_delivery(ops)
    ops.owner.execute(
        "update app.notification_deliveries set email_send_id = null, attempts = 2 where id = %s",
        (delivery["id"],),
    )
    ops.age("notification_deliveries", delivery["id"])
    assert kind(ops.reconcile(), "deliveries") == {"settled": 0, "redriven": 0, "failed": 1}
    row = ops.row("notification_deliveries", delivery["id"])
    assert (row["status"], row["reason"]) == ("failed", "its email was lost 2 times")


def test_a_delivery_whose_email_is_in_flight_is_left_to_the_email(ops: Ops) -> None:
    delivery = email_delivery(ops)
    ops.age("notification_deliveries", delivery["id"])
    assert kind(ops.reconcile(), "deliveries") == {"settled": 0, "redriven": 0, "failed": 0}
    assert ops.row("notification_deliveries", delivery["id"])["status"] == "pending"


def test_a_poison_email_fails_the_delivery_waiting_on_it(ops: Ops) -> None:
    ops.setting(reconcile_max_rounds=1)
    delivery = email_delivery(ops)
    send_id = delivery["email_send_id"]
    ops.owner.execute("update app.email_sends set reconciled = 1 where id = %s", (send_id,))
    ops.drop_jobs(email_key(send_id))
    ops.age("email_sends", send_id)
    assert kind(ops.reconcile(), "emails")["failed"] == 1
    row = ops.row("notification_deliveries", delivery["id"])
    assert row["status"] == "failed"
    assert row["reason"].startswith("failed: left queued without a live job")


# Access


def test_the_reconciliation_is_for_the_service_role_only(db: Database, ops: Ops) -> None:
    with (
        db.connect(ops.orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select api.reconcile_in_flight_work()")


def test_a_limit_below_one_is_refused(ops: Ops) -> None:
    with pytest.raises(InvalidParameterError):
        ops.reconcile(limit=0)


def test_the_limit_bounds_each_kind(ops: Ops) -> None:
    sends = [lost_email(ops) for _ in range(3)]
    assert kind(ops.reconcile(limit=2), "emails")["requeued"] == 2
    assert kind(ops.reconcile(limit=2), "emails")["requeued"] == 1
    assert all(len(ops.jobs(email_key(s))) == 1 for s in sends)


def test_with_nothing_left_behind_every_count_is_zero(ops: Ops) -> None:
    assert ops.reconcile() == {
        "emails_requeued": 0,
        "emails_failed": 0,
        "executions_requeued": 0,
        "executions_failed": 0,
        "actions_requeued": 0,
        "actions_failed": 0,
        "deliveries_settled": 0,
        "deliveries_redriven": 0,
        "deliveries_failed": 0,
        "email_events_applied": 0,
    }
