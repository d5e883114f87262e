"""Automatic replies to a campaign email, posted to /webhooks/inbound over real HTTP:
each real-world-shaped sample (seven languages; RFC 3834 Auto-Submitted, X-Autoreply
and X-Autorespond, iCloud's X-Apple-Action: VACATION, Precedence, Exchange's
X-Auto-Response-Suppress with "Automatic reply:", a subject alone), a read receipt and
list mail, is classified with the right kind and reason, and none stops the enrollment
as replied; a human reply still does, and its new text is stored without the quoted
history and signature; a person's reply that carries what an automatic reply does in
part (Outlook's X-Auto-Response-Suppress, an absence phrase of its own or in the email
it quotes, a mailing list's headers) is still a reply."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sql.campaigns.conftest import camp
from tests.web.test_inbound_bounces import Enrolled, deliver, enrolled, sample

__all__ = ["camp", "enrolled"]

# sample: (kind, how it matched, reason)
AUTO_REPLIES: dict[str, tuple[str, str, str]] = {
    "ooo_en_icloud_vacation.eml": ("out_of_office", "in_reply_to", "x-apple-action: vacation"),
    "ooo_en_exchange_automatic_reply.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (en)",
    ),
    "ooo_en_annual_leave_body_only.eml": (
        "out_of_office",
        "in_reply_to",
        "absence phrase in the body (en); auto-submitted: auto-replied (vacation)",
    ),
    "ooo_de_abwesenheitsnotiz_auto_submitted.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (de)",
    ),
    "ooo_de_automatische_antwort_exchange.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (de)",
    ),
    "ooo_fr_reponse_automatique_x_autorespond.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (fr)",
    ),
    # Sent to the Return-Path (RFC 3834), our bounce+TOKEN@ address, without In-Reply-To.
    "ooo_fr_absence_precedence_to_return_path.eml": (
        "out_of_office",
        "verp",
        "subject: automatic reply or out of office (fr)",
    ),
    "ooo_es_respuesta_automatica_auto_submitted.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (es)",
    ),
    "ooo_es_fuera_de_la_oficina_subject_only.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (es)",
    ),
    "ooo_nl_automatisch_antwoord_x_autoreply.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (nl)",
    ),
    "ooo_nl_afwezig_precedence_bulk.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (nl)",
    ),
    "ooo_it_risposta_automatica_exchange.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (it)",
    ),
    "ooo_pt_resposta_automatica_auto_submitted.eml": (
        "out_of_office",
        "in_reply_to",
        "subject: automatic reply or out of office (pt)",
    ),
    "ooo_pt_ausente_subject_only.eml": ("out_of_office", "in_reply_to", "subject: absent (es, pt)"),
    "automatic_ticket_acknowledgement.eml": (
        "automatic",
        "in_reply_to",
        "auto-submitted: auto-replied",
    ),
    # An Outlook read receipt (RFC 8098: multipart/report; report-type=disposition-notification).
    "automatic_read_receipt_outlook_mdn.eml": ("automatic", "in_reply_to", "read receipt (MDN)"),
    # List mail that answers no send of ours (a newsletter the reply address was signed
    # up to), matched by the reply+TOKEN@ address it was sent to.
    "automatic_list_newsletter_to_reply_address.eml": (
        "automatic",
        "reply_token",
        "list-id: mailing list",
    ),
}


def test_the_samples_cover_seven_languages_and_five_header_conventions() -> None:
    ooo = [name for name in AUTO_REPLIES if name.startswith("ooo_")]
    assert len(AUTO_REPLIES) >= 12
    assert {name.split("_")[1] for name in ooo} == {"en", "de", "fr", "es", "nl", "it", "pt"}
    headers = {
        "auto-submitted": "RFC 3834",
        "x-autoreply": "X-Autoreply",
        "x-autorespond": "X-Autorespond",
        "x-apple-action": "iCloud",
        "precedence": "Precedence",
        "x-auto-response-suppress": "Exchange",
    }
    seen = {
        label
        for name in ooo
        for header, label in headers.items()
        if f"\n{header}:" in sample(name).decode().lower()
    }
    assert len(seen) >= 5, seen
    subject_only = [
        name
        for name in ooo
        if not any(f"\n{header}:" in sample(name).decode().lower() for header in headers)
    ]
    assert subject_only


def _replies(enrolled: Enrolled) -> list[Any]:
    return enrolled.camp.owner.execute(
        "select title from app.notifications where template_slug = 'campaign_reply'"
    ).fetchall()


@pytest.mark.parametrize("name", sorted(AUTO_REPLIES))
def test_an_automatic_reply_is_classified_and_stops_no_enrollment_as_replied(
    base_url: str, enrolled: Enrolled, name: str
) -> None:
    kind, method, reason = AUTO_REPLIES[name]
    answer = deliver(base_url, sample(name))
    assert (answer["result"], answer["match_method"], answer["auto_reply_kind"]) == (
        "recorded",
        method,
        kind,
    )
    assert (answer["is_auto_reply"], answer["bounce"]) == (True, None)
    stored = enrolled.row(
        "select auto_reply_kind, auto_reply_reason from app.inbound_emails "
        "where matched_send_id = %s",
        enrolled.send_id,
    )
    assert (stored["auto_reply_kind"], stored["auto_reply_reason"]) == (kind, reason)
    assert enrolled.send()["replied_at"] is None
    enrollment = enrolled.enrollment()
    assert enrollment["status"] != "replied"
    assert enrollment["replied_at"] is None
    assert enrolled.camp.campaign(enrolled.campaign_id)["total_replied"] == 0
    assert _replies(enrolled) == []


def test_a_human_reply_stops_the_enrollment_and_keeps_its_new_text(
    base_url: str, enrolled: Enrolled
) -> None:
    answer = deliver(base_url, sample("human_reply_with_quote_and_signature.eml"))
    assert (answer["match_method"], answer["is_auto_reply"], answer["auto_reply_kind"]) == (
        "in_reply_to",
        False,
        None,
    )
    enrollment = enrolled.enrollment()
    assert (enrollment["status"], enrollment["stop_reason"]) == ("replied", "reply")
    stored = enrolled.row(
        "select reply_text, text_body from app.inbound_emails where matched_send_id = %s",
        enrolled.send_id,
    )
    assert stored["reply_text"] == "Yes, we are hiring. Can we talk on Tuesday at 10?"
    assert "> Hi Jane" in stored["text_body"]  # the full body is kept beside it
    assert len(_replies(enrolled)) == 1


# Human replies that look like automatic mail in part: (how it matched, reply text).
HUMAN_REPLIES: dict[str, tuple[str, str]] = {
    # Outlook's X-Auto-Response-Suppress on a person's reply that says "out of office".
    "human_reply_outlook_was_out_last_week.eml": (
        "in_reply_to",
        "Yes, let's talk - sorry for the slow answer, I was out of office last week.",
    ),
    # Through a Google Group (Precedence: list, List-ID, List-Unsubscribe), in reply to
    # our Message-ID.
    "human_reply_via_google_group.eml": (
        "in_reply_to",
        "Interested - copying our team list so everyone sees it. Can you call me tomorrow\n"
        "morning?",
    ),
    # "get back on this Monday", and the quoted campaign email says "out of the office".
    "human_reply_get_back_on_this_monday.eml": (
        "in_reply_to",
        "Thanks for reaching out. I need to check with our CTO first; I'll get back on this "
        "Monday.\n\nJoanna",
    ),
}


@pytest.mark.parametrize("name", sorted(HUMAN_REPLIES))
def test_a_human_reply_that_looks_automatic_in_part_stops_the_enrollment_as_replied(
    base_url: str, enrolled: Enrolled, name: str
) -> None:
    method, reply_text = HUMAN_REPLIES[name]
    answer = deliver(base_url, sample(name))
    assert (answer["result"], answer["match_method"]) == ("recorded", method)
    assert (answer["is_auto_reply"], answer["auto_reply_kind"]) == (False, None)
    stored = enrolled.row(
        "select auto_reply_kind, auto_reply_reason, reply_text from app.inbound_emails "
        "where matched_send_id = %s",
        enrolled.send_id,
    )
    assert (stored["auto_reply_kind"], stored["auto_reply_reason"]) == (None, None)
    assert stored["reply_text"] == reply_text
    assert enrolled.send()["replied_at"] is not None
    enrollment = enrolled.enrollment()
    assert (enrollment["status"], enrollment["stop_reason"], enrollment["resume_at"]) == (
        "replied",
        "reply",
        None,
    )
    assert enrolled.camp.campaign(enrolled.campaign_id)["total_replied"] == 1
    assert len(_replies(enrolled)) == 1
