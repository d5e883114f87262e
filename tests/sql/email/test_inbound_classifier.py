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

KINDS = {"bounce", "out_of_office", "automatic"}
DSN_TYPE = 'multipart/report; report-type=delivery-status; boundary="b"'


def classify(
    admin: psycopg.Connection,
    headers: dict[str, str],
    subject: str | None,
    body: str | None,
    *,
    answers_our_send: bool = False,
) -> tuple[str | None, str | None]:
    row = admin.execute(
        "select kind, reason from app._email_classify_auto_reply(%s, %s, %s, %s)",
        (Jsonb(headers), subject, body, answers_our_send),
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def test_the_rule_table_is_ordered_and_every_rule_is_well_formed(admin) -> None:
    rules = admin.execute(
        "select priority, signal, pattern, also_signal, also_pattern, kind, reason, "
        "marks_automatic from app._email_auto_reply_rules()"
    ).fetchall()
    priorities = [r[0] for r in rules]
    assert priorities == sorted(set(priorities))
    signal = r"^(header:[a-z0-9-]+|subject|body)$"
    for _, sig, pattern, also, also_pattern, kind, reason, marks in rules:
        assert kind in KINDS
        assert reason
        assert isinstance(marks, bool)
        assert re_full(signal, sig), sig
        assert also is None or also in {"automatic", "threaded"} or re_full(signal, also), also
        assert (also is None) == (also_pattern is None)
        # Every pattern compiles (an invalid one raises here, not on someone's mail).
        admin.execute("select '' ~* %s, '' ~* coalesce(%s, '')", (pattern, also_pattern))


def test_only_a_header_by_which_a_machine_says_it_wrote_the_message_backs_a_body_phrase(
    admin,
) -> None:
    marking = admin.execute(
        "select distinct signal from app._email_auto_reply_rules() where marks_automatic"
    ).fetchall()
    assert {r[0] for r in marking} == {
        "header:auto-submitted",
        "header:x-autoreply",
        "header:x-autorespond",
        "header:precedence",
        "header:return-path",
        "header:x-apple-action",
    }
    precedence = admin.execute(
        "select pattern from app._email_auto_reply_rules() "
        "where marks_automatic and signal = 'header:precedence'"
    ).fetchone()
    assert precedence is not None
    assert admin.execute("select 'list' ~* %s", (precedence[0],)).fetchone() == (False,)


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
            "Autosvar: Outreach",
            "Jeg er på ferie.",
            "out_of_office",
            "x-auto-response-suppress with an automatic reply subject",
        ),
        (
            {"auto-submitted": "auto-replied"},
            "Re: Outreach",
            "I\u2019m away until Monday and will be back on 12 January.",
            "out_of_office",
            "absence phrase in the body (en); auto-submitted: auto-replied",
        ),
        (
            {"x-autoreply": "yes"},
            "Re: Outreach",
            "Je suis en congé jusqu'au 12 janvier.",
            "out_of_office",
            "absence phrase in the body (fr); x-autoreply",
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
        # Outlook sets X-Auto-Response-Suppress on a person's mail too: it backs no
        # absence phrase, and no subject but an automatic reply prefix.
        (
            {"x-auto-response-suppress": "All", "thread-index": "AQHX"},
            "RE: Outreach",
            "Yes, let's talk - sorry for the slow answer, I was out of office last week.",
        ),
        ({"x-auto-response-suppress": "All"}, "RE: Outreach", "I am out of the office today."),
        ({"x-auto-response-suppress": "All"}, "RE: Outreach", "I'll get back on this Monday."),
        (
            {"x-auto-response-suppress": "All"},
            "RE: Outreach",
            "> On Mon you wrote:\n> Will you be out of office in August?\nNo, let's meet.",
        ),
        ({}, "Autosvar: Outreach", "Jeg er på ferie."),
        ({"from": "postmaster@corp.example"}, "Re: Outreach", "We fixed our server."),
        ({}, None, None),
    ],
)
def test_a_human_message_is_no_automatic_mail(
    admin, headers: dict, subject: str | None, body: str | None
) -> None:
    assert classify(admin, headers, subject, body) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        "I am outlining a proposal for you now.",
        "Thanks. I'm outside the office; the team will reply.",
        "We will get back on this within one business day.",
        "Your request was received.\n> Hi, if you are out of the office, say so.\n> Acme",
    ],
)
def test_an_absence_phrase_is_whole_words_of_the_new_text(admin, body: str) -> None:
    headers = {"auto-submitted": "auto-replied"}
    assert classify(admin, headers, "Re: Outreach", body) == (
        "automatic",
        "auto-submitted: auto-replied",
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-auto-response-suppress": "All"}, None),
        ({"list-id": "<sales.client.example>"}, "list-id: mailing list"),
        ({"list-unsubscribe": "<mailto:u@lists.example>"}, "list-unsubscribe: list or bulk mail"),
        ({"precedence": "list"}, "precedence: list"),
    ],
)
def test_a_list_header_or_x_auto_response_suppress_backs_no_absence_phrase(
    admin, headers: dict, reason: str | None
) -> None:
    got = classify(admin, headers, "Re: Outreach", "I am out of the office until Monday.")
    assert got == (None if reason is None else "automatic", reason)


MDN_TYPE = 'multipart/report; report-type=disposition-notification; boundary="b"'
RECEIPT = "Your message\n\n  To: Jane\n  Subject: Hi\n\nwas read on Monday, 1 June 2026."


@pytest.mark.parametrize(
    ("content_type", "subject"),
    [
        (MDN_TYPE, "Read: Quick question about your hiring plans"),
        (MDN_TYPE, "Gelesen: Quick question"),
        (MDN_TYPE, "Lu : Quick question"),
        (MDN_TYPE, "Leído: Quick question"),
        ('Multipart/Report;\treport-type="disposition-notification"; boundary=b', None),
    ],
)
def test_a_read_receipt_is_automatic(admin, content_type: str, subject: str | None) -> None:
    headers = {"content-type": content_type}
    assert classify(admin, headers, subject, RECEIPT, answers_our_send=True) == (
        "automatic",
        "read receipt (MDN)",
    )


def test_a_read_subject_without_the_receipt_content_type_is_a_person_writing(admin) -> None:
    headers = {"content-type": "text/plain; charset=utf-8"}
    got = classify(
        admin, headers, "Read: the contract", "Signed and attached.", answers_our_send=True
    )
    assert got == (None, None)


LIST_MAIL = [
    ({"precedence": "list"}, "precedence: list"),
    ({"list-id": "<sales.client.example>"}, "list-id: mailing list"),
    ({"list-unsubscribe": "<mailto:u@lists.example>"}, "list-unsubscribe: list or bulk mail"),
    (
        {"precedence": "list", "list-id": "<sales.client.example>", "list-unsubscribe": "<x>"},
        "precedence: list",
    ),
]


@pytest.mark.parametrize(("headers", "reason"), LIST_MAIL)
def test_list_mail_that_answers_no_send_of_ours_is_automatic(
    admin, headers: dict, reason: str
) -> None:
    assert classify(admin, headers, "Initech Monthly", "News.") == ("automatic", reason)


@pytest.mark.parametrize(("headers", "reason"), LIST_MAIL)
def test_a_reply_to_our_send_through_a_mailing_list_is_human(
    admin, headers: dict, reason: str
) -> None:
    got = classify(admin, headers, "Re: Outreach", "Interested.", answers_our_send=True)
    assert got == (None, None)


def test_an_automatic_header_on_a_reply_through_a_mailing_list_still_counts(admin) -> None:
    headers = {"precedence": "list", "list-id": "<x>", "auto-submitted": "auto-replied"}
    got = classify(admin, headers, "Re: Outreach", "Thanks.", answers_our_send=True)
    assert got == ("automatic", "auto-submitted: auto-replied")
    got = classify(admin, {"precedence": "bulk"}, "Re: Outreach", "x", answers_our_send=True)
    assert got == ("automatic", "precedence: bulk")


def _record(service: psycopg.Connection, **params: object) -> tuple:
    names = ", ".join(f"p_{k} => %({k})s" for k in params)
    values = {k: Jsonb(v) if isinstance(v, dict) or k == "dsn" else v for k, v in params.items()}
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


def test_the_body_rules_read_the_reply_text_not_the_email_it_quotes(service, mail: Mail) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    quoted = (
        "We received your request and will answer within one business day.\n\n"
        "From: Acme Sales <sales@acme.example>\nSent: Monday, June 1, 2026 3:02 PM\n"
        "Subject: Hi\n\nHi Jane, if you are out of the office this week, I will follow up."
    )
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@helpdesk.corp.example>",
        **{"from": "support@corp.example"},
        in_reply_to=mail.send_row(send_id)["message_id"],
        subject="[Ticket #1] Hi",
        headers={"auto-submitted": "auto-replied"},
        text=quoted,
        reply_text="We received your request and will answer within one business day.",
    )
    assert got == ("recorded", "in_reply_to", "automatic", None)


def test_a_reply_through_a_mailing_list_that_names_our_send_in_references_is_a_reply(
    service, mail: Mail
) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@mail.corp.example>",
        **{"from": "jane@corp.example"},
        references=["<earlier@corp.example>", mail.send_row(send_id)["message_id"]],
        subject="Re: [sales] Hi",
        headers={"precedence": "list", "list-id": "<sales.corp.example>"},
        text="Interested.",
    )
    assert got == ("recorded", "references", None, None)
    assert mail.send_row(send_id)["replied_at"] is not None


def test_list_mail_that_names_no_send_of_ours_is_automatic(service, mail: Mail) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    token = mail.send_row(send_id)["reply_token"]
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@news.corp.example>",
        **{"from": "news@corp.example"},
        to=[f"reply+{token}@reply.acme.example"],
        in_reply_to="<someone-else@corp.example>",
        subject="Corp news",
        headers={"precedence": "list", "list-id": "<news.corp.example>"},
        text="News.",
    )
    assert got == ("recorded", "reply_token", "automatic", None)
    assert mail.send_row(send_id)["replied_at"] is None


def test_a_read_receipt_is_no_bounce_whatever_the_parser_read_into_it(service, mail: Mail) -> None:
    send_id = mail.queue(to="jane@corp.example", subject="Hi", text="x")
    got = _record(
        service,
        message_id=f"<{uuid.uuid4().hex}@mail.corp.example>",
        **{"from": "postmaster@corp.example"},
        in_reply_to=mail.send_row(send_id)["message_id"],
        subject="Read: Hi",
        headers={"content-type": MDN_TYPE},
        text=RECEIPT,
        dsn={
            "source": "flufl.bounce",
            "recipients": [{"recipient": "jane@corp.example", "action": "failed"}],
        },
    )
    assert got == ("recorded", "in_reply_to", "automatic", None)
    row = mail.send_row(send_id)
    assert (row["status"], row["bounce_type"], row["replied_at"]) == ("queued", None, None)


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


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: Hello", "I will be away until 12 January 2027 and will reply then."),
        ("Re: Hello", "I'm travelling until 14/06 with limited connectivity."),
        ("Re: Hello", "Hi,\nOn vacation until 15 June.\nBest, Jo"),
        ("Re: Hello", "I am away from the office until Monday."),
        ("OOO", "See you soon."),
        ("Vacation", "Thanks for writing."),
        ("Auto: Hello", "Thanks for writing."),
    ],
)
def test_common_vacation_wording_with_an_automatic_header_is_out_of_office(
    admin, subject: str, body: str
) -> None:
    kind, _ = classify(admin, {"auto-submitted": "auto-replied"}, subject, body)
    assert kind == "out_of_office"


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Vacation", "Here are the photos from our vacation."),
        ("Re: Hello", "I will be away until 12 January, let's talk after."),
    ],
)
def test_the_same_wording_without_an_automatic_header_is_a_person(
    admin, subject: str, body: str
) -> None:
    assert classify(admin, {}, subject, body) == (None, None)
