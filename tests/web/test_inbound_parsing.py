"""What the parser process (web/mime.py) makes of bounce reports and replies: the
``dsn`` object (RFC 3464 fields, flufl.bounce for other shapes, the VERP token and the
returned Message-ID), a reply's new text without quoted history and signature, and no
exception whatever the report looks like."""

from __future__ import annotations

import base64
import json
import time
from email.message import Message

import pytest

from tests.support import TESTDATA
from web import mime
from web.limits import MAX_MIME_PARTS

MAIL = TESTDATA / "mail"
OUR_MESSAGE_ID = "<0d5c6a2e-8f3b-4c1d-9e7a-2b4f6c8d0e1f@mail.acme.example>"
OUR_TOKEN = "7c2f9e4a1b6d4c8e9a3f5b0d2e6c8a14"


def parsed(raw: bytes) -> dict:
    reply = mime.handle(b"M", raw)
    assert "message" in reply, reply
    json.dumps(reply)  # what goes over the pipe
    return reply


def report(status_part: str, status_type: str = "message/delivery-status") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example\r\nTo: bounce+" + OUR_TOKEN + "@mail.acme.example\r\n"
        "Message-ID: <r1@mx.example>\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nIt failed.\r\n'
        f"--b\r\nContent-Type: {status_type}\r\n{status_part}\r\n--b--\r\n"
    ).encode()


def test_a_postfix_report_gives_every_field() -> None:
    reply = parsed((MAIL / "bounce_postfix_dsn_5_1_1.eml").read_bytes())
    assert reply["message"]["dsn"] == {
        "source": "rfc3464",
        "verp_token": OUR_TOKEN,
        "returned_message_id": OUR_MESSAGE_ID,
        "reporting_mta": "dns; smtp-out.acme.example",
        "recipients": [
            {
                "recipient": "jane.doe@globex.example",
                "action": "failed",
                "status": "5.1.1",
                "diagnostic": "smtp; 550 5.1.1 <jane.doe@globex.example>: Recipient address "
                "rejected: User unknown in virtual mailbox table",
                "remote_mta": "dns; mx.globex.example",
            }
        ],
    }


def test_a_qmail_text_bounce_is_read_by_flufl_bounce() -> None:
    dsn = parsed((MAIL / "bounce_qmail_text_permanent.eml").read_bytes())["message"]["dsn"]
    assert (dsn["source"], dsn["returned_message_id"]) == ("flufl.bounce", OUR_MESSAGE_ID)
    assert dsn["recipients"] == [
        {
            "recipient": "gavin.belson@hooli.example",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic": "Remote host said: 550 5.1.1 <gavin.belson@hooli.example>... "
            "No such user here",
            "remote_mta": None,
        }
    ]


def test_an_exim_delay_warning_is_a_delay_with_its_temporary_status() -> None:
    """A plain-text warning (no delivery-status part, no X-Failed-Recipients,
    Auto-Submitted: auto-replied) that flufl.bounce takes for a permanent failure."""
    dsn = parsed((MAIL / "bounce_exim_delay_warning_4_7_1.eml").read_bytes())["message"]["dsn"]
    assert (dsn["source"], dsn["verp_token"]) == ("flufl.bounce", OUR_TOKEN)
    assert dsn["recipients"] == [
        {
            "recipient": "jane.doe@globex.example",
            "action": "delayed",
            "status": "4.7.1",
            "diagnostic": "451 4.7.1 Greylisted, please try again later",
            "remote_mta": None,
        }
    ]


def _text_bounce(subject: str, body: str, headers: str = "") -> bytes:
    return (
        f"From: MAILER-DAEMON@relay.acme.example\r\nTo: bounce+{OUR_TOKEN}@mail.acme.example\r\n"
        f"Message-ID: <t1@relay.acme.example>\r\nSubject: {subject}\r\n{headers}\r\n{body}"
    ).encode()


_EXIM_BODY = (MAIL / "bounce_exim_delay_warning_4_7_1.eml").read_text().split("\n\n", 1)[1]
_QMAIL_BODY = (MAIL / "bounce_qmail_text_permanent.eml").read_text().split("\n\n", 1)[1]


@pytest.mark.parametrize(
    ("subject", "body", "headers", "expected"),
    [
        # The class of the code decides, and the text says it is still retried.
        ("Mail delivery", _EXIM_BODY, "", ("delayed", "4.7.1")),
        # A delay subject or Auto-Submitted (delayed) wins whatever the code says.
        ("Delayed Mail (still being retried)", _QMAIL_BODY, "", ("delayed", None)),
        ("Delivery Status Notification (Delay)", _QMAIL_BODY, "", ("delayed", None)),
        ("Delivery delayed: Quick question", _QMAIL_BODY, "", ("delayed", None)),
        (
            "failure notice",
            _QMAIL_BODY,
            "Auto-Submitted: auto-generated (delayed)\r\n",
            ("delayed", None),
        ),
        # A temporary code without words of a delay: a failure with that status (soft).
        (
            "failure notice",
            _QMAIL_BODY.replace("550 5.1.1", "452 4.2.2"),
            "",
            ("failed", "4.2.2"),
        ),
        # A basic reply code alone gives its class.
        ("failure notice", _QMAIL_BODY.replace("550 5.1.1", "550"), "", ("failed", "5.0.0")),
        # No code: a failure by its words, with no status (never a made-up 5.0.0).
        ("failure notice", _QMAIL_BODY.replace("550 5.1.1 ", ""), "", ("failed", None)),
        # The returned message's own subject after the report's does not count.
        ("Undeliverable: Warning: delayed invoices", _QMAIL_BODY, "", ("failed", "5.1.1")),
    ],
    ids=[
        "4xx-and-delay-words",
        "postfix-delay-subject",
        "gmail-delay-subject",
        "exchange-delay-subject",
        "auto-submitted-delayed",
        "4xx-failure",
        "basic-5xx",
        "no-code",
        "nested-subject",
    ],
)
def test_a_text_bounce_takes_its_class_from_the_report_not_from_flufl_bounce(
    subject: str, body: str, headers: str, expected: tuple[str, str | None]
) -> None:
    dsn = parsed(_text_bounce(subject, body, headers))["message"]["dsn"]
    [recipient] = dsn["recipients"]
    assert (recipient["action"], recipient["status"]) == expected


def test_a_text_bounce_of_unknown_class_names_no_action() -> None:
    """flufl.bounce finds an address (qmail's shape) but nothing says how it went: no
    code, no words of a failure or a delay. No action, no status (an unreadable report)."""
    body = (
        "Hi. This is the qmail-send program at mail.hooli.example.\r\n\r\n"
        "<jane.doe@globex.example>:\r\n203.0.113.80 says hello.\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n"
    )
    dsn = parsed(_text_bounce("notice", body))["message"]["dsn"]
    assert [(r["recipient"], r["action"], r["status"]) for r in dsn["recipients"]] == [
        ("jane.doe@globex.example", None, None)
    ]


def test_a_global_delivery_status_part_is_read_too() -> None:
    part = (
        "\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: utf-8; "
        "jörg@example.de\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    )
    dsn = parsed(report(part, "message/global-delivery-status"))["message"]["dsn"]
    assert [(r["recipient"], r["status"]) for r in dsn["recipients"]] == [
        ("jörg@example.de", "5.1.1")
    ]
    assert dsn["reporting_mta"] == "dns; mx.example"


def test_a_base64_delivery_status_part_is_read_as_text() -> None:
    fields = b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\n"
    fields += b"Action: delayed\r\nStatus: 4.4.7\r\n"
    part = "Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(fields).decode()
    [recipient] = parsed(report(part))["message"]["dsn"]["recipients"]
    assert (recipient["action"], recipient["status"]) == ("delayed", "4.4.7")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # No Status: no status is made up; no Action: guessed from the Status.
        ("Final-Recipient: rfc822; a@b.example\r\nAction: failed", ("failed", None)),
        ("Final-Recipient: rfc822; a@b.example\r\nAction: delayed", ("delayed", None)),
        ("Final-Recipient: rfc822; a@b.example\r\nStatus: 4.2.2", ("delayed", "4.2.2")),
        # No Status, a basic SMTP reply code in the Diagnostic-Code: its class.
        (
            "Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\n"
            "Diagnostic-Code: smtp; 550 No such user here",
            ("failed", "5.0.0"),
        ),
        (
            "Final-Recipient: rfc822; a@b.example\r\nAction: failed\r\n"
            "Diagnostic-Code: smtp; 452 Too many recipients",
            ("failed", "4.0.0"),
        ),
        # OpenSMTPD's non-standard action, and a comment after the action.
        (
            "Final-Recipient: rfc822; a@b.example\r\nAction: error\r\nStatus: 5.0.0",
            ("failed", "5.0.0"),
        ),
        (
            "Final-Recipient: rfc822; a@b.example\r\nAction: failed (bad mailbox)\r\n"
            "Status: 5.1.1 (user unknown)",
            ("failed", "5.1.1"),
        ),
        # The status code comes from the Diagnostic-Code when Status is garbage.
        (
            "Final-Recipient: rfc822;<a@b.example>\r\nAction: failed\r\nStatus: x\r\n"
            "Diagnostic-Code: smtp; 550 5.7.1 rejected",
            ("failed", "5.7.1"),
        ),
    ],
)
def test_missing_or_odd_fields_are_read_sensibly(fields: str, expected: tuple) -> None:
    part = f"\r\nReporting-MTA: dns; mx.example\r\n\r\n{fields}\r\n"
    [recipient] = parsed(report(part))["message"]["dsn"]["recipients"]
    assert recipient["recipient"] == "a@b.example"
    assert (recipient["action"], recipient["status"]) == expected


@pytest.mark.parametrize(
    "part",
    [
        "\r\n",  # empty
        "\r\n\x00\x01garbage: \r\n\r\n:::\r\n",
        "\r\nFinal-Recipient: rfc822; no-at-sign\r\nAction: failed\r\n",
        "Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        "\r\nFinal-Recipient: " + "x" * 100_000 + "@a.example\r\nAction: failed\r\n",
    ],
)
def test_a_broken_report_never_raises(part: str) -> None:
    message = parsed(report(part))["message"]
    assert message["message_id"] == "<r1@mx.example>"
    dsn = message["dsn"]
    assert dsn is None or all(len(r["recipient"]) <= mime.MAX_DSN_FIELD for r in dsn["recipients"])


def test_a_report_past_the_part_cap_is_recorded_with_its_headers_only() -> None:
    blocks = "".join(
        f"\r\nFinal-Recipient: rfc822; u{i}@b.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        for i in range(MAX_MIME_PARTS + 10)
    )
    reply = parsed(report("\r\nReporting-MTA: dns; mx.example\r\n" + blocks))
    assert "MIME parts" in (reply["partial"] or "")
    assert reply["message"]["dsn"] is None


def test_an_ordinary_message_has_no_report() -> None:
    for name in ("human_reply_thunderbird_crlf.eml", "ooo_en_icloud_vacation.eml"):
        assert parsed((MAIL / name).read_bytes())["message"]["dsn"] is None
    postmaster = (
        b"From: postmaster@corp.example\r\nMessage-ID: <p@corp.example>\r\nSubject: Re: Hi\r\n"
        b"\r\nWe fixed our mail server, thanks for telling us.\r\n"
    )
    assert parsed(postmaster)["message"]["dsn"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Ja, gerne.\n\nViele Grüße\nKatrin\n\nAm 01.06.2026 um 17:02 schrieb Acme Sales "
            "<sales@acme.example>:\n> Hallo Katrin\n",
            "Ja, gerne.",
        ),
        ("Sounds good.\n\n> On Monday you wrote:\n> are you hiring?\n", "Sounds good."),
        (
            "Let's talk.\n\n-----Original Message-----\nFrom: Acme\nSubject: Hi\n\nHello",
            "Let's talk.",
        ),
        ("> only a quote\n> nothing new\n", None),
        ("", None),
    ],
)
def test_the_reply_text_is_what_the_sender_wrote(body: str, expected: str | None) -> None:
    assert mime.reply_text(body) == expected


def test_a_long_body_is_searched_only_at_its_start() -> None:
    body = "Yes.\n\nOn Mon, Jun 1, 2026 at 3:02 PM Acme wrote:\n" + "> x\n" * 200_000
    assert mime.reply_text(body) == "Yes."


def resend(email: dict) -> dict:
    return mime.handle(b"J", json.dumps(email).encode())


def test_a_resend_report_names_its_raw_message() -> None:
    email = {
        "from": "MAILER-DAEMON@mx.example",
        "to": [f"bounce+{OUR_TOKEN}@mail.acme.example"],
        "message_id": "<r2@mx.example>",
        "subject": "Undelivered Mail Returned to Sender",
        "text": "It failed.",
        "headers": {"Content-Type": "multipart/report; report-type=delivery-status"},
        "raw": {"download_url": "https://inbound-cdn.example/r2", "expires_at": "x"},
    }
    assert resend(email)["raw_url"] == "https://inbound-cdn.example/r2"
    human = email | {"from": "jane@corp.example", "to": ["sales@mail.acme.example"]}
    human["headers"] = {"Content-Type": "text/plain"}
    assert "raw_url" not in resend(human)


def test_a_resend_text_bounce_is_read_from_its_text() -> None:
    text = (MAIL / "bounce_qmail_text_permanent.eml").read_text().split("\n\n", 1)[1]
    reply = resend(
        {
            "from": "MAILER-DAEMON@mail.hooli.example",
            "to": [f"bounce+{OUR_TOKEN}@mail.acme.example"],
            "message_id": "<20260601150215.30412.qmail@mail.hooli.example>",
            "subject": "failure notice",
            "text": text,
            "headers": {},
        }
    )
    dsn = reply["message"]["dsn"]
    assert (dsn["source"], dsn["verp_token"], dsn["returned_message_id"]) == (
        "flufl.bounce",
        OUR_TOKEN,
        OUR_MESSAGE_ID,
    )
    assert [r["recipient"] for r in dsn["recipients"]] == ["gavin.belson@hooli.example"]


def test_a_postfix_delay_warning_read_from_its_text_alone_is_a_delay() -> None:
    """The Resend JSON of a report has only the text part: Postfix's "Delayed Mail"
    says no code, flufl.bounce says permanent; it is a delay, with no status."""
    notification = parsed((MAIL / "bounce_postfix_delayed_4_4_1.eml").read_bytes())["message"]
    assert notification["text"].startswith("This is the mail system")
    reply = resend(
        {
            "from": "MAILER-DAEMON@smtp-out.acme.example (Mail Delivery System)",
            "to": [f"bounce+{OUR_TOKEN}@mail.acme.example"],
            "message_id": "<20260601190215.4XkZ9c1Rt5z3qWm@smtp-out.acme.example>",
            "subject": "Delayed Mail (still being retried)",
            "text": notification["text"],
            "headers": {
                "Content-Type": "multipart/report; report-type=delivery-status",
                "Auto-Submitted": "auto-generated (delayed)",
            },
        }
    )
    [recipient] = reply["message"]["dsn"]["recipients"]
    assert (recipient["recipient"], recipient["action"], recipient["status"]) == (
        "jane.doe@globex.example",
        "delayed",
        None,
    )


@pytest.mark.parametrize(
    "body",
    ["\n" * 1_500_000, " \n" * 500_000, "a" + " " * 200_000 + "b", "a\n" * 200_000],
    ids=["blank-lines", "spaces-and-line-breaks", "one-long-space", "short-lines"],
)
def test_a_pathological_body_costs_little(body: str) -> None:
    """The reply parser's and flufl.bounce's patterns cost the square of a whitespace
    run: 1.5 million blank lines took minutes before the runs were squeezed."""
    start = time.process_time()
    mime.reply_text(body)
    mime.delivery_report(Message(), [], "MAILER-DAEMON@mx.example", body)
    assert time.process_time() - start < 5.0
