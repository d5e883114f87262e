"""api.record_inbound_email with real messages: matching order (the sender fallback
only for mail addressed to the org), auto-replies, threads."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import actor
from tests.support import TESTDATA, Mail, TwoOrgs
from web import queries as web_queries
from web.inbound import parse_message, record_params

MAIL = TESTDATA / "mail"


# The fixtures were addressed to other people; the sender fallback only
# matches mail addressed to one of the org's domains, so point them at Acme.
TO_ACME = {
    b"To: neko@libsisimai.org": b"To: sales@mail.acme.example",
    b"To: kijitora@example.jp": b"To: sales@mail.acme.example",
}


def raw(name: str) -> bytes:
    data = (MAIL / name).read_bytes()
    for old, new in TO_ACME.items():
        data = data.replace(old, new)
    return data


def record(service: psycopg.Connection, message: bytes) -> dict:
    with service.transaction():
        cur = service.execute(
            web_queries.RECORD_INBOUND_EMAIL, record_params(parse_message(message), "smtp")
        )
        result, inbound_id, method, auto, kind, bounce = cur.fetchone()
    return {
        "result": result,
        "id": inbound_id,
        "method": method,
        "auto": auto,
        "kind": kind,
        "bounce": bounce,
    }


def send_with_message_id(mail: Mail, admin, to: str, message_id: str | None = None) -> uuid.UUID:
    send_id = mail.queue(to=to, subject="Outreach", text="x")
    if message_id:
        admin.execute(
            "update app.email_sends set message_id = %s where id = %s", (message_id, send_id)
        )
    return send_id


def test_a_reply_matches_by_in_reply_to_and_counts(mail: Mail, admin, service) -> None:
    send_id = send_with_message_id(
        mail, admin, "mikel@xxxx.net", "<348F04F142D69C21-291E56D292BC@xxxx.net>"
    )
    got = record(service, raw("human_reply_thunderbird_crlf.eml"))
    assert (got["result"], got["method"], got["auto"]) == ("recorded", "in_reply_to", False)
    assert mail.send_row(send_id)["replied_at"] is not None


def test_a_reply_with_references_only_matches(mail: Mail, admin, service) -> None:
    send_id = send_with_message_id(mail, admin, "mikel@xxxx.net", "<473FF3B8.9020707@xxx.org>")
    message = raw("human_reply_thunderbird_crlf.eml").replace(
        b"In-Reply-To: <348F04F142D69C21-291E56D292BC@xxxx.net>\r\n", b""
    )
    got = record(service, message)
    assert got["method"] == "references"
    assert mail.send_row(send_id)["replied_at"] is not None


def test_a_reply_matches_by_the_reply_to_token(mail: Mail, admin, service) -> None:
    send_id = send_with_message_id(mail, admin, "someone@else.example")
    reply_to = mail.send_row(send_id)["reply_to"]
    message = (
        f"Message-ID: <t-{uuid.uuid4().hex}@phone.example>\r\nFrom: Someone <other@else.example>"
        f"\r\nTo: {reply_to}\r\nSubject: Re: Outreach\r\n\r\nYes please.\r\n"
    ).encode()
    got = record(service, message)
    assert (got["result"], got["method"]) == ("recorded", "reply_token")


def test_a_message_from_a_recent_recipient_matches_by_sender(mail: Mail, admin, service) -> None:
    send_with_message_id(mail, admin, "shironeko@example.com")
    got = record(service, raw("plain_new_message_not_reply.eml"))
    assert (got["method"], got["auto"]) == ("sender", False)


def test_an_out_of_office_is_flagged_and_not_a_reply(mail: Mail, admin, service) -> None:
    send_id = send_with_message_id(mail, admin, "kijitora@example.net")
    got = record(service, raw("ooo_auto_submitted_auto_replied.eml"))
    assert (got["result"], got["auto"]) == ("recorded", True)
    assert mail.send_row(send_id)["replied_at"] is None
    reason = admin.execute(
        "select auto_reply_kind, auto_reply_reason from app.inbound_emails where id = %s",
        (got["id"],),
    ).fetchone()
    assert reason == (
        "out_of_office",
        "subject: automatic reply or out of office (en)",
    )


def test_a_delivery_status_report_is_automatic(mail: Mail, admin, service) -> None:
    send_with_message_id(mail, admin, "MAILER-DAEMON@smtpgw.example.jp")
    assert record(service, raw("dsn_rfc3464_sendmail_user_unknown.eml"))["auto"] is True


def test_a_request_not_to_auto_reply_is_not_itself_automatic(mail: Mail, admin, service) -> None:
    send_with_message_id(mail, admin, "human@corp.example")
    message = (
        f"Message-ID: <{uuid.uuid4().hex}@corp.example>\r\nFrom: human@corp.example\r\n"
        "X-Auto-Response-Suppress: All\r\nSubject: Re: Outreach\r\n\r\nThanks!\r\n"
    ).encode()
    assert record(service, message)["auto"] is False


def test_an_unknown_sender_is_kept_outside_every_tenant(service, admin) -> None:
    got = record(service, raw("plain_new_message_not_reply.eml"))
    assert got["result"] == "unmatched"
    kept = admin.execute(
        "select count(*) from app.inbound_unmatched where message_id = "
        "'<51e458a6.21eb420a.5f83.4ce2@mx.example.com>'"
    ).fetchone()
    assert kept == (1,)


def test_the_same_message_twice_is_recorded_once(mail: Mail, admin, service) -> None:
    send_with_message_id(mail, admin, "kijitora@example.net")
    first = record(service, raw("ooo_auto_submitted_auto_replied.eml"))
    second = record(service, raw("ooo_auto_submitted_auto_replied.eml"))
    assert (first["result"], second["result"], second["id"]) == (
        "recorded",
        "duplicate",
        first["id"],
    )


def test_replies_to_one_send_share_a_thread(mail: Mail, admin, service) -> None:
    send_id = send_with_message_id(mail, admin, "thread@corp.example", "<root@mail.acme.example>")
    for i in range(2):
        record(
            service,
            (
                f"Message-ID: <r{i}-{uuid.uuid4().hex}@corp.example>\r\n"
                "From: thread@corp.example\r\nIn-Reply-To: <root@mail.acme.example>\r\n"
                "Subject: Re\r\n\r\nok\r\n"
            ).encode(),
        )
    thread = admin.execute(
        "select message_count from app.email_threads where root_send_id = %s", (send_id,)
    ).fetchone()
    assert thread == (2,)


@pytest.mark.parametrize("name", sorted(p.name for p in MAIL.glob("*.eml")))
def test_every_fixture_parses(name: str) -> None:
    message = parse_message(raw(name))
    assert message.message_id
    assert "@" in message.from_email


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
    result, inbound_id, method, *_ = _record(service, raw)
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


def test_a_reply_to_a_notification_email_is_private_to_its_recipient(
    db, service, two_orgs: TwoOrgs
) -> None:
    """The seed's manager replied to their mention email: another member reads neither the
    reply nor its thread (as a SQL login or through the service), the manager reads both."""
    a = two_orgs.a
    query = (
        "select (select count(*) from app.inbound_emails where subject = 'Re: you were mentioned'),"
        " (select count(*) from app.email_threads where recipient_user_id = %(manager)s)"
    )
    params = {"manager": a.manager_id}
    with db.connect(two_orgs.login_a, autocommit=True) as member:
        assert member.execute(query, params).fetchone() == (0, 0)
    with actor(service, a.org_id, a.rep_ids[1]):
        assert service.execute(query, params).fetchone() == (0, 0)
    with actor(service, a.org_id, a.manager_id):
        assert service.execute(query, params).fetchone() == (1, 1)
