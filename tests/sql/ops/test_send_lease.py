"""The email send lease: a claimed send belongs to its worker for a while of
real time, so a second job for it waits instead of sending twice."""

from __future__ import annotations

import psycopg
import pytest

from tests.sql.ops.conftest import Ops


def test_a_claim_leases_the_send_for_the_configured_time(ops: Ops) -> None:
    ops.setting(email_send_lease_seconds=300)
    send_id = ops.mail.queue(to="lease@example.com", subject="Hi", text="x")
    assert ops.claim(send_id)["action"] == "send"
    left = ops.owner.execute(
        "select extract(epoch from sending_until - clock_timestamp()) from app.email_sends "
        "where id = %s",
        (send_id,),
    ).fetchone()
    assert left is not None
    assert 290 < left[0] <= 300


def test_a_second_claim_within_the_lease_defers_for_the_lease_left(ops: Ops) -> None:
    send_id = ops.mail.queue(to="lease@example.com", subject="Hi", text="x")
    ops.claim(send_id)
    before = ops.row("email_sends", send_id)
    claim = ops.claim(send_id)
    assert claim["action"] == "defer"
    assert 100 < claim["retry_after_seconds"] <= 120  # the default lease, less a moment
    assert ops.row("email_sends", send_id) == before  # nothing changed, not even attempts


def test_a_claim_after_the_lease_ran_out_sends_again_with_the_same_message_id(ops: Ops) -> None:
    send_id = ops.mail.queue(to="lease@example.com", subject="Hi", text="x")
    first = ops.claim(send_id)
    ops.expire_lease(send_id)
    again = ops.claim(send_id)
    assert (again["action"], again["attempts"]) == ("send", 2)
    assert again["message_id"] == first["message_id"]
    assert again["email_send_id"] == send_id  # the Resend idempotency key


def test_an_outcome_recorded_within_the_lease_makes_the_waiting_job_done(ops: Ops) -> None:
    send_id = ops.mail.queue(to="lease@example.com", subject="Hi", text="x")
    ops.claim(send_id)
    assert ops.claim(send_id)["action"] == "defer"
    ops.mail.sent(send_id, f"re_{send_id}")
    assert ops.claim(send_id)["action"] == "done"


def test_a_transient_failure_releases_the_send_for_the_retry(ops: Ops) -> None:
    send_id = ops.mail.queue(to="lease@example.com", subject="Hi", text="x")
    ops.claim(send_id)
    with ops.conn.transaction():
        ops.conn.execute("select api.set_actor(p_org_id => %s)", (ops.mail.org_id,))
        ops.conn.execute(
            "select api.fail_email_send(p_email_send_id => %s, p_error => '451 try later', "
            "p_permanent => false)",
            (send_id,),
        )
    assert ops.claim(send_id)["action"] == "send"


def test_a_lease_shorter_than_ten_seconds_is_refused(ops: Ops) -> None:
    with pytest.raises(psycopg.errors.CheckViolation, match="email_send_lease_seconds"):
        ops.setting(email_send_lease_seconds=5)
