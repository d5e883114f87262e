"""app._email_apply_bounce_report through api.record_inbound_email: a report that says
nothing usable (no report, no recipient whose action is failed or delayed) is recorded
and tied to its send but changes nothing; a recipient whose action is failed without a
status is a soft bounce; a 5.x.x failure is hard (docs/email.md, "Bounces")."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import errors_translated
from tests.support import Mail

DSN_TYPE = 'multipart/report; report-type=delivery-status; boundary="b"'
TO = "jane@corp.example"


def record(service: psycopg.Connection, send_id: uuid.UUID, dsn: Any, mail: Mail) -> tuple:
    """A report to the send's VERP address, from a mail server, with ``dsn`` as p_dsn."""
    token = mail.send_row(send_id)["reply_token"]
    message_id = f"<{uuid.uuid4().hex}@mx.corp.example>"
    with errors_translated(), service.transaction():
        row = service.execute(
            "select result, match_method, auto_reply_kind, bounce, inbound_id "
            "from api.record_inbound_email(p_message_id => %s, p_from => %s, p_to => %s, "
            "p_subject => %s, p_text => %s, p_headers => %s, p_dsn => %s)",
            (
                message_id,
                "mailer-daemon@googlemail.com",
                [f"bounce+{token}@mail.acme.example"],
                "Delivery Status Notification (Delay)",
                "There was a temporary problem delivering your message.",
                Jsonb({"content-type": DSN_TYPE}),
                Jsonb(dsn) if dsn is not None else None,
            ),
        ).fetchone()
    assert row is not None
    return tuple(row)


def sent(mail: Mail) -> uuid.UUID:
    send_id = mail.queue(to=TO, subject="Hi", text="x")
    mail.sent(send_id, f"re_{uuid.uuid4().hex}")
    return send_id


def effects(admin: psycopg.Connection, send_id: uuid.UUID) -> dict[str, Any]:
    send = admin.execute(
        "select status, bounce_type, bounce_status from app.email_sends where id = %s", (send_id,)
    ).fetchone()
    events = admin.execute(
        "select type from app.email_events where email_send_id = %s and type <> 'email.sent' "
        "order by id",
        (send_id,),
    ).fetchall()
    suppressed = admin.execute(
        "select reason from app.suppressions where email = %s", (TO,)
    ).fetchall()
    return {"send": tuple(send), "events": [e[0] for e in events], "suppressed": suppressed}


@pytest.mark.parametrize(
    "dsn",
    [
        None,  # the classifier says bounce (multipart/report), the parser read nothing
        {"source": "flufl.bounce", "recipients": []},
        {"source": "rfc3464", "recipients": "not a list"},
        {"source": "flufl.bounce", "recipients": [{"recipient": TO, "action": None}]},
        {"source": "rfc3464", "recipients": [{"recipient": TO, "status": "4.4.7"}]},
        {"source": "rfc3464", "recipients": [{"recipient": TO, "action": "x-unknown"}]},
        {"source": "rfc3464", "recipients": ["not an object"]},
    ],
    ids=[
        "no-report",
        "no-recipient",
        "recipients-not-a-list",
        "no-action",
        "status-without-action",
        "unknown-action",
        "recipient-not-an-object",
    ],
)
def test_an_unreadable_report_is_recorded_on_its_send_and_changes_nothing(
    service, admin, mail: Mail, dsn: Any
) -> None:
    send_id = sent(mail)
    result, method, kind, bounce, inbound_id = record(service, send_id, dsn, mail)
    assert (result, method, kind, bounce) == ("recorded", "verp", "bounce", "unreadable")
    stored = admin.execute(
        "select matched_send_id, auto_reply_kind from app.inbound_emails where id = %s",
        (inbound_id,),
    ).fetchone()
    assert stored == (send_id, "bounce")
    assert effects(admin, send_id) == {
        "send": ("sent", None, None),
        "events": [],
        "suppressed": [],
    }


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        # Action failed, the class unknown: a soft bounce (three suppress).
        ({"action": "failed"}, ("soft", ("bounced", "soft", None), [])),
        ({"action": "failed", "status": "garbage"}, ("soft", ("bounced", "soft", None), [])),
        ({"action": "failed", "status": "4.2.2"}, ("soft", ("bounced", "soft", "4.2.2"), [])),
        (
            {"action": "failed", "status": "5.1.1"},
            ("hard", ("bounced", "hard", "5.1.1"), [("hard_bounce",)]),
        ),
        ({"action": "delayed"}, ("delayed", ("delivery_delayed", None, None), [])),
    ],
    ids=["failed-no-status", "failed-bad-status", "failed-4xx", "failed-5xx", "delayed"],
)
def test_a_recipient_with_an_action_is_applied_by_its_class(
    service, admin, mail: Mail, recipient: dict, expected: tuple
) -> None:
    send_id = sent(mail)
    dsn = {"source": "rfc3464", "recipients": [{"recipient": TO, **recipient}]}
    bounce = record(service, send_id, dsn, mail)[3]
    found = effects(admin, send_id)
    assert (bounce, found["send"], found["suppressed"]) == expected


def test_a_report_of_delivered_and_unknown_recipients_applies_nothing(
    service, admin, mail: Mail
) -> None:
    send_id = sent(mail)
    dsn = {
        "source": "rfc3464",
        "recipients": [
            {"recipient": "other@corp.example", "action": None},
            {"recipient": TO, "action": "delivered", "status": "2.0.0"},
        ],
    }
    assert record(service, send_id, dsn, mail)[3] is None
    assert effects(admin, send_id)["send"] == ("sent", None, None)
