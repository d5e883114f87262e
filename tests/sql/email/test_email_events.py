"""api.ingest_email_event: idempotent, forward-only, early events kept (one racing
the send record waits for it), suppression."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from psycopg.types.json import Jsonb

from intime.errors import InvalidParameterError
from tests.support import Mail, event

FINAL_STATUS = {
    "email.sent": "sent",
    "email.scheduled": "sent",
    "email.delivered": "delivered",
    "email.delivery_delayed": "delivery_delayed",
    "email.opened": "opened",
    "email.clicked": "clicked",
    "email.bounced": "bounced",
    "email.complained": "complained",
    "email.failed": "failed",
    "email.suppressed": "suppressed",
}


def _sent_email(mail: Mail, to: str = "ada@example.com") -> tuple[uuid.UUID, str]:
    send_id = mail.queue(to=to, subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    assert mail.sent(send_id, message_id) == "sent"
    return send_id, message_id


def test_every_documented_resend_event_applies(mail: Mail, resend_events: list[dict]) -> None:
    outbound = [e for e in resend_events if e["type"] != "email.received"]
    assert {e["type"] for e in outbound} == set(FINAL_STATUS)
    for i, fixture in enumerate(outbound):
        send_id, message_id = _sent_email(mail, f"r{i}@example.com")
        payload = {
            **fixture["payload"],
            "data": {**fixture["payload"]["data"], "email_id": message_id},
        }
        assert mail.ingest(f"msg_{uuid.uuid4().hex}", payload) == "applied"
        assert mail.send_row(send_id)["status"] == FINAL_STATUS[fixture["type"]], fixture["type"]


def test_inbound_mail_events_are_not_applied_to_sends(mail: Mail, resend_events) -> None:
    received = next(e for e in resend_events if e["type"] == "email.received")
    assert mail.ingest("msg_inbound", received["payload"]) == "ignored"


def test_an_open_before_delivery_ends_opened_with_delivered_at(mail: Mail) -> None:
    send_id, message_id = _sent_email(mail)
    mail.ingest("e1", event("email.opened", message_id, "2026-01-01T10:05:00Z"))
    mail.ingest("e2", event("email.delivered", message_id, "2026-01-01T10:00:00Z"))
    send = mail.send_row(send_id)
    assert send["status"] == "opened"
    assert send["delivered_at"].startswith("2026-01-01T10:00:00")
    assert send["first_opened_at"].startswith("2026-01-01T10:05:00")


def test_opens_and_clicks_are_counted_with_their_first_times(mail: Mail) -> None:
    send_id, message_id = _sent_email(mail)
    for i, (kind, at) in enumerate(
        [("email.opened", "10:30"), ("email.opened", "10:10"), ("email.clicked", "10:40")]
    ):
        mail.ingest(f"e{i}", event(kind, message_id, f"2026-01-01T{at}:00Z"))
    send = mail.send_row(send_id)
    assert (send["open_count"], send["click_count"], send["status"]) == (2, 1, "clicked")
    assert send["first_opened_at"].startswith("2026-01-01T10:10")


def test_a_replayed_event_is_counted_once(mail: Mail) -> None:
    send_id, message_id = _sent_email(mail)
    assert mail.ingest("same", event("email.opened", message_id)) == "applied"
    assert mail.ingest("same", event("email.opened", message_id)) == "duplicate"
    assert mail.send_row(send_id)["open_count"] == 1


def test_a_final_status_never_moves(mail: Mail) -> None:
    send_id, message_id = _sent_email(mail)
    mail.ingest("b", event("email.bounced", message_id, bounce={"type": "Permanent"}))
    mail.ingest("d", event("email.delivered", message_id))
    mail.ingest("o", event("email.opened", message_id))
    assert mail.send_row(send_id)["status"] == "bounced"


def test_an_event_before_the_send_is_recorded_is_applied_later(mail: Mail, admin) -> None:
    send_id = mail.queue(to="early@example.com", subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    assert mail.ingest("early", event("email.delivered", message_id)) == "pending"
    assert mail.sent(send_id, message_id) == "delivered"
    left = admin.execute(
        "select count(*) from app.email_events_pending where provider_message_id = %s",
        (message_id,),
    ).fetchone()
    assert left == (0,)


def park(admin, event_id: str, message_id: str, payload: dict) -> None:
    """An event parked as an ingest parks one whose send it does not find."""
    admin.execute(
        "insert into app.email_events_pending (provider_event_id, provider_message_id, payload) "
        "values (%s, %s, %s)",
        (event_id, message_id, Jsonb(payload)),
    )


def test_an_event_parked_while_its_send_was_recorded_is_applied_by_the_reconciliation(
    mail: Mail, admin, service
) -> None:
    """On a cluster the ingest and the send's record may run on different nodes, where the
    message's lock does not keep them apart: an event parked while the send was being
    recorded is seen by neither (docs/scale-out.md, Open item 17). The reconciliation
    applies it, a bounce's suppression included."""
    send_id, message_id = _sent_email(mail, "late@example.com")
    park(admin, "hb", message_id, event("email.bounced", message_id, bounce={"type": "Permanent"}))
    (counts,) = service.execute("select api.reconcile_in_flight_work()").fetchone()
    assert counts["email_events_applied"] == 1
    assert mail.send_row(send_id)["status"] == "bounced"
    later = mail.queue(to="late@example.com", subject="Again", text="x")
    assert mail.send_row(later)["suppression_reason"] == "hard_bounce"
    left = admin.execute(
        "select count(*) from app.email_events_pending where provider_message_id = %s",
        (message_id,),
    ).fetchone()
    assert left == (0,)


def test_an_event_parked_for_a_send_not_recorded_stays_parked(mail: Mail, admin, service) -> None:
    send_id = mail.queue(to="early@example.com", subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    assert mail.ingest("early", event("email.delivered", message_id)) == "pending"
    (counts,) = service.execute("select api.reconcile_in_flight_work()").fetchone()
    assert counts["email_events_applied"] == 0
    assert mail.sent(send_id, message_id) == "delivered"


def test_a_hard_bounce_suppresses_the_recipient(mail: Mail) -> None:
    _, message_id = _sent_email(mail, "gone@example.com")
    mail.ingest("hb", event("email.bounced", message_id, bounce={"type": "Permanent"}))
    later = mail.queue(to="gone@example.com", subject="Again", text="x")
    assert mail.send_row(later)["suppression_reason"] == "hard_bounce"


def test_the_third_soft_bounce_suppresses(mail: Mail) -> None:
    statuses = []
    for i in range(3):
        _, message_id = _sent_email(mail, "flaky@example.com")
        mail.ingest(f"sb{i}", event("email.bounced", message_id, bounce={"type": "Temporary"}))
        statuses.append(
            mail.send_row(mail.queue(to="flaky@example.com", subject="s", text="x"))["status"]
        )
    assert statuses == ["queued", "queued", "suppressed"]


def test_a_complaint_suppresses_and_unsubscribes(mail: Mail, admin) -> None:
    _, message_id = _sent_email(mail, "angry@example.com")
    mail.ingest("c", event("email.complained", message_id))
    reasons = admin.execute(
        "select array_agg(reason order by reason) from app.suppressions "
        "where org_id = %s and email = 'angry@example.com'",
        (mail.org_id,),
    ).fetchone()
    assert reasons == (["complaint", "unsubscribe"],)


@pytest.mark.parametrize("payload", [{}, {"type": "email.opened"}, {"type": 1, "data": {}}])
def test_a_malformed_event_is_refused_and_not_recorded(mail: Mail, admin, payload) -> None:
    with pytest.raises(InvalidParameterError):
        mail.ingest("bad-" + str(len(payload)), payload)
    count = admin.execute(
        "select count(*) from app.webhook_receipts where event_id like 'bad-%%'"
    ).fetchone()
    assert count == (0,)


def test_an_event_racing_the_send_record_is_never_stranded(db, mail: Mail, admin) -> None:
    send_id = mail.queue(to="race@example.com", subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    results: list[str] = []
    with db.connect("intime_service") as recorder:
        recorder.execute("select api.set_actor(p_org_id => %s)", (mail.org_id,))
        recorder.execute(
            "select api.record_email_sent(p_email_send_id => %s, p_provider => 'resend', "
            "p_provider_message_id => %s)",
            (send_id, message_id),
        )  # not committed yet: the webhook arrives now

        def webhook() -> None:
            with db.connect("intime_service", autocommit=True) as conn:
                payload = event("email.bounced", message_id, bounce={"type": "Permanent"})
                results.append(
                    conn.execute(
                        "select api.ingest_email_event(p_provider_event_id => %s, "
                        "p_payload => %s::jsonb)",
                        (f"msg_{uuid.uuid4().hex}", json.dumps(payload)),
                    ).fetchone()[0]
                )

        thread = threading.Thread(target=webhook)
        thread.start()
        time.sleep(0.5)
        assert results == []  # waits for the send to be recorded
        recorder.commit()
        thread.join(timeout=10)
    assert results == ["applied"]
    assert mail.send_row(send_id)["status"] == "bounced"
    pending = admin.execute(
        "select count(*) from app.email_events_pending where provider_message_id = %s",
        (message_id,),
    ).fetchone()
    assert pending == (0,)
