"""api.list_unsettled_work: every row still in flight, with the state of the job
that moves it on and the timer it legitimately waits for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from intime.db import errors_translated
from intime.errors import ServiceRoleRequiredError
from tests.sql.ops.conftest import Ops, email_delivery, email_key, parked_on_webhook, started
from tests.support import Database


def listed(ops: Ops, row_id: Any) -> list[dict[str, Any]]:
    return [r for r in ops.unsettled() if r["id"] == row_id]


def test_a_queued_email_is_listed_with_its_job(ops: Ops) -> None:
    send_id = ops.mail.queue(to="a@example.com", subject="Hi", text="x")
    [row] = listed(ops, send_id)
    assert (row["kind"], row["org_id"], row["status"], row["job_status"]) == (
        "email",
        ops.mail.org_id,
        "queued",
        "queued",
    )
    assert row["waiting_until"] is None
    assert row["since"] == ops.row("email_sends", send_id)["updated_at"]


def test_an_email_waiting_for_its_send_after_says_until_when(ops: Ops) -> None:
    send_id = ops.mail.queue(
        to="a@example.com", subject="Hi", text="x", send_after="2999-01-01T00:00:00Z"
    )
    [row] = listed(ops, send_id)
    assert row["waiting_until"] == datetime(2999, 1, 1, tzinfo=UTC)


def _delay_job(ops: Ops, dedupe_key: str) -> datetime:
    row = ops.owner.execute(
        "update queue.pgqueuer set execute_after = now() + interval '5 minutes'"
        " where dedupe_key = %s returning execute_after",
        (dedupe_key,),
    ).fetchone()
    assert row is not None
    return row[0]


def test_an_email_whose_job_was_put_off_waits_until_the_job_is_due(ops: Ops) -> None:
    """A retry's delay (a deferral, a database error) is a timer too: the job is queued
    but not due, so nothing is stuck."""
    send_id = ops.mail.queue(to="a@example.com", subject="Hi", text="x")
    due = _delay_job(ops, email_key(send_id))
    [row] = listed(ops, send_id)
    assert (row["job_status"], row["waiting_until"]) == ("queued", due)


def test_a_pending_delivery_whose_email_job_was_put_off_waits_until_it_is_due(
    ops: Ops,
) -> None:
    delivery = email_delivery(ops)
    due = _delay_job(ops, email_key(delivery["email_send_id"]))
    [row] = listed(ops, delivery["id"])
    assert (row["status"], row["job_status"], row["waiting_until"]) == ("pending", "queued", due)


def test_a_held_failed_job_shows_as_failed(ops: Ops) -> None:
    send_id = ops.mail.queue(to="a@example.com", subject="Hi", text="x")
    ops.hold_failed(email_key(send_id))
    [row] = listed(ops, send_id)
    assert (row["status"], row["job_status"]) == ("queued", "failed")


def test_an_email_whose_job_vanished_has_no_job_status(ops: Ops) -> None:
    send_id = ops.mail.queue(to="a@example.com", subject="Hi", text="x")
    ops.drop_jobs(email_key(send_id))
    [row] = listed(ops, send_id)
    assert row["job_status"] is None


def test_a_sent_email_is_not_listed(ops: Ops) -> None:
    send_id = ops.mail.queue(to="a@example.com", subject="Hi", text="x")
    ops.mail.sent(send_id, f"re_{send_id}")
    assert listed(ops, send_id) == []


def test_a_pending_execution_is_listed_with_its_run_job(ops: Ops) -> None:
    _, execution, _ = started(ops, [{"name": "n", "type": "create_activity", "subject": "x"}])
    [row] = listed(ops, execution)
    assert (row["kind"], row["status"], row["job_status"]) == ("execution", "pending", "queued")


def test_an_execution_waiting_on_a_timer_says_until_when(ops: Ops) -> None:
    flows, execution, job_id = started(ops, [{"name": "nap", "type": "wait", "duration": "PT1H"}])
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    flows.run(execution)
    [row] = listed(ops, execution)
    wake_at = ops.row("workflow_executions", execution)["wake_at"]
    assert (row["status"], row["job_status"], row["waiting_until"]) == (
        "waiting:timer",
        "queued",
        wake_at,
    )


def test_a_webhook_and_the_execution_waiting_on_it_share_the_delivery_job(ops: Ops) -> None:
    _, execution, action = parked_on_webhook(ops)
    [waiting] = listed(ops, execution)
    [delivering] = listed(ops, action)
    assert (waiting["status"], waiting["job_status"]) == ("waiting:action", "queued")
    assert (delivering["kind"], delivering["status"], delivering["job_status"]) == (
        "action",
        "pending",
        "queued",
    )


def test_a_pending_delivery_shows_its_emails_job(ops: Ops) -> None:
    delivery = email_delivery(ops)
    [row] = listed(ops, delivery["id"])
    assert (row["kind"], row["status"], row["job_status"]) == ("delivery", "pending", "queued")


def test_a_held_delivery_waits_until_its_hold_ends(ops: Ops) -> None:
    delivery = email_delivery(ops)
    ops.owner.execute(
        "update app.notification_deliveries set status = 'held', "
        "deliver_after = '2999-01-01T00:00:00Z' where id = %s",
        (delivery["id"],),
    )
    [row] = listed(ops, delivery["id"])
    assert (row["status"], row["job_status"], row["waiting_until"]) == (
        "held",
        None,
        datetime(2999, 1, 1, tzinfo=UTC),
    )


def test_unsettled_work_is_for_the_service_role_only(db: Database, ops: Ops) -> None:
    with (
        db.connect(ops.orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select * from api.list_unsettled_work()")
