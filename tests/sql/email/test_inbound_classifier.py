"""app._email_classify_auto_reply and its rule table (docs/email.md, "Automatic
replies"), and what api.record_inbound_email does with a bounce report (p_dsn) that
applies nothing or is malformed, and with who may call it."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import errors_translated
from intime.errors import InvalidParameterError, ServiceRoleRequiredError
from tests.support import Mail

KINDS = {"bounce", "out_of_office", "automatic", None}
DSN_TYPE = 'multipart/report; report-type=delivery-status; boundary="b"'


def classify(
    admin: psycopg.Connection, headers: dict[str, str], subject: str | None, body: str | None
) -> tuple[str | None, str | None]:
    row = admin.execute(
        "select kind, reason from app._email_classify_auto_reply(%s, %s, %s)",
        (Jsonb(headers), subject, body),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def test_the_rule_table_is_ordered_and_every_rule_is_well_formed(admin) -> None:
    rules = admin.execute(
        "select priority, signal, pattern, also_signal, also_pattern, kind, reason "
        "from app._email_auto_reply_rules()"
    ).fetchall()
    priorities = [r[0] for r in rules]
    assert priorities == sorted(set(priorities))
    signal = r"^(header:[a-z0-9-]+|subject|body)$"
    for _, sig, pattern, also, also_pattern, kind, reason in rules:
        assert kind in KINDS
        assert reason
        assert re_full(signal, sig), sig
        assert also is None or also == "automatic" or re_full(signal, also), also
        assert (also is None) == (also_pattern is None)
        # Every pattern compiles (an invalid one raises here, not on someone's mail).
        admin.execute("select '' ~* %s, '' ~* coalesce(%s, '')", (pattern, also_pattern))


def re_full(pattern: str, value: str) -> bool:
    import re

    return re.fullmatch(pattern, value) is not None


@pytest.mark.parametrize(
    "subject",
    [
        "Auto reply: Outreach",
        "Automatic reply: Outreach",
        "Out of Office: Outreach",
        "Abwesenheitsnotiz: Outreach",
        "Automatische Antwort: Outreach",
        "Réponse automatique : Outreach",
        "Absence : Outreach",
        "Respuesta automática: Outreach",
        "Fuera de la oficina: Outreach",
        "Automatisch antwoord: Outreach",
        "Afwezig: Outreach",
        "Risposta automatica: Outreach",
        "Fuori sede: Outreach",
        "Resposta automática: Outreach",
        "Ausente: Outreach",
    ],
)
def test_a_localized_out_of_office_subject_is_an_out_of_office(admin, subject: str) -> None:
    assert classify(admin, {}, subject, "x")[0] == "out_of_office"


@pytest.mark.parametrize(
    ("headers", "subject", "body", "kind", "reason"),
    [
        (
            {"content-type": DSN_TYPE, "auto-submitted": "auto-replied"},
            "Auto reply: delivery report",
            "I am out of the office",
            "bounce",
            "content-type: multipart/report (delivery status)",
        ),
        (
            {"from": "Mail Delivery System <MAILER-DAEMON@mx.example>"},
            "Undeliverable: Outreach",
            "x",
            "bounce",
            "mailer-daemon or postmaster sender with a delivery failure subject",
        ),
        ({"x-failed-recipients": "a@b.example"}, "Outreach", "x", "bounce", "x-failed-recipients"),
        (
            {"x-apple-action": "VACATION"},
            "Re: Outreach",
            "x",
            "out_of_office",
            "x-apple-action: vacation",
        ),
        (
            {"x-auto-response-suppress": "All"},
            "Re: Outreach",
            "I am out of the office until Monday.",
            "out_of_office",
            "absence phrase in the body (en); x-auto-response-suppress: all",
        ),
        (
            {"auto-submitted": "auto-replied"},
            "Re: Outreach",
            "Ich bin im Urlaub und ab dem 12. Januar wieder erreichbar.",
            "out_of_office",
            "absence phrase in the body (de); auto-submitted: auto-replied",
        ),
        (
            {"auto-submitted": "auto-replied"},
            "[Ticket #1] Received",
            "We will answer within a day.",
            "automatic",
            "auto-submitted: auto-replied",
        ),
        ({"x-autoreply": "yes"}, "Re: Outreach", "Thanks", "automatic", "x-autoreply"),
        ({"x-autorespond": "x"}, "Re: Outreach", "Thanks", "automatic", "x-autorespond"),
        ({"precedence": "Bulk"}, "News", "x", "automatic", "precedence: bulk"),
        ({"return-path": "<>"}, "Re: Outreach", "x", "automatic", "empty return-path"),
        ({"list-id": "<sales.lists.example>"}, "Re: x", "x", "automatic", "list-id: mailing list"),
        (
            {"list-unsubscribe": "<mailto:u@lists.example>"},
            "Digest",
            "x",
            "automatic",
            "list-unsubscribe: list or bulk mail",
        ),
    ],
)
def test_a_signal_gives_its_kind_and_reason(
    admin, headers: dict, subject: str, body: str, kind: str, reason: str
) -> None:
    assert classify(admin, headers, subject, body) == (kind, reason)


@pytest.mark.parametrize(
    ("headers", "subject", "body"),
    [
        ({}, "Re: Outreach", "I'm on vacation next week; let's talk after that."),
        ({}, "Absence policy question", "Do you cover parental leave?"),
        ({"auto-submitted": "no"}, "Re: Outreach", "Yes please."),
        ({"x-auto-response-suppress": "All"}, "Re: Outreach", "Thanks!"),
        ({"from": "postmaster@corp.example"}, "Re: Outreach", "We fixed our server."),
        ({}, None, None),
    ],
)
def test_a_human_message_is_no_automatic_mail(
    admin, headers: dict, subject: str | None, body: str | None
) -> None:
    assert classify(admin, headers, subject, body) == (None, None)


def _record(service: psycopg.Connection, **params: object) -> tuple:
    names = ", ".join(f"p_{k} => %({k})s" for k in params)
    values = {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in params.items()}
    with errors_translated(), service.transaction():
        row = service.execute(
            "select result, match_method, auto_reply_kind, bounce "
            f"from api.record_inbound_email({names})",
            values,
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_report_of_a_successful_delivery_applies_nothing(service, mail: Mail) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    token = mail.send_row(send_id)["reply_token"]
    dsn = {
        "source": "rfc3464",
        "verp_token": token,
        "recipients": [
            {"recipient": "jane@corp.example", "action": "delivered", "status": "2.0.0"}
        ],
    }
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@mx.corp.example>",
        **{"from": "postmaster@mx.corp.example"},
        dsn=dsn,
    )
    assert got == ("recorded", "verp", "bounce", None)
    assert (mail.send_row(send_id)["status"], mail.send_row(send_id)["bounce_type"]) == (
        "queued",
        None,
    )


def test_a_report_without_recipients_is_recorded_and_applies_nothing(service, mail: Mail) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    message_id = mail.send_row(send_id)["message_id"]
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@mx.corp.example>",
        **{"from": "MAILER-DAEMON@mx.corp.example"},
        subject="Undeliverable: Hi",
        dsn={"source": "flufl.bounce", "returned_message_id": message_id, "recipients": []},
    )
    assert got == ("recorded", "returned_message_id", "bounce", "unreadable")
    row = mail.send_row(send_id)
    assert (row["status"], row["bounce_type"], row["bounce_status"]) == ("queued", None, None)


def test_a_dsn_that_is_not_an_object_is_refused(service) -> None:
    with pytest.raises(InvalidParameterError, match="p_dsn"):
        _record(service, message_id="<x@corp.example>", **{"from": "a@corp.example"}, dsn=["x"])


def test_a_user_may_not_record_inbound_mail(db, two_orgs) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as member,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        member.execute(
            "select api.record_inbound_email(p_message_id => '<x@y>', p_from => 'a@b.example', "
            "p_dsn => '{}'::jsonb)"
        )
