"""Regressions from the independent review of the email code (each once a bug)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest

from intime.errors import InvalidParameterError
from tests.support import Mail, event
from web import queries as web_queries
from web.inbound import parse_message, record_params


def _record(service: psycopg.Connection, raw: bytes) -> tuple:
    with service.transaction():
        return service.execute(
            web_queries.RECORD_INBOUND_EMAIL, record_params(parse_message(raw), "smtp")
        ).fetchone()


def test_the_sender_fallback_never_files_mail_under_another_org(service, admin, two_orgs) -> None:
    acme = Mail(service, two_orgs.a.org_id, two_orgs.a.admin_id)
    globex = Mail(service, two_orgs.b.org_id, two_orgs.b.admin_id)
    acme_send = acme.queue(to="alice@customer.example", subject="From Acme", text="x")
    globex.queue(to="alice@customer.example", subject="From Globex", text="y")  # more recent
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\nFrom: alice@customer.example\r\n"
        "To: sales@mail.acme.example\r\nSubject: for Acme only\r\n\r\nprivate\r\n"
    ).encode()
    result, inbound_id, method, _ = _record(service, raw)
    row = admin.execute(
        "select org_id, matched_send_id from app.inbound_emails where id = %s", (inbound_id,)
    ).fetchone()
    assert (result, method, row) == ("recorded", "sender", (two_orgs.a.org_id, acme_send))


def test_mail_to_an_address_of_no_org_is_not_matched_by_sender(service, mail: Mail) -> None:
    mail.queue(to="bob@customer.example", subject="Hi", text="x")
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\nFrom: bob@customer.example\r\n"
        "To: someone@elsewhere.example\r\nSubject: x\r\n\r\nx\r\n"
    ).encode()
    assert _record(service, raw)[0] == "unmatched"


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


@pytest.mark.parametrize(
    "to",
    ["victim@example.com,postmaster", "a@b.example; c@d.example", '"x"@example.com', "a@b"],
)
def test_a_recipient_is_one_plain_address(mail: Mail, to: str) -> None:
    with pytest.raises(InvalidParameterError, match="invalid recipient"):
        mail.queue(to=to, subject="Hi", text="x")


def test_line_breaks_in_a_subject_variable_cannot_add_headers(mail: Mail) -> None:
    send_id = mail.queue(
        to="x@example.com",
        subject="Hi {{ n }}",
        text="x",
        variables={"n": "bob\r\nBcc: spy@evil.example"},
    )
    assert mail.send_row(send_id)["subject"] == "Hi bob Bcc: spy@evil.example"
