"""api.queue_email: rendering, suppression and the transactional job; one plain
recipient address, and no line breaks in a subject."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, MissingVariablesError, NotConfiguredError
from tests.support import Mail, TwoOrgs

VARS = {"contact": {"first_name": "<Ada & Co>"}, "deal": {"name": 'Big "deal"'}}


def _jobs(admin: psycopg.Connection, send_id) -> list[tuple]:
    return admin.execute(
        "select entrypoint, convert_from(payload, 'UTF8')::jsonb ->> 'email_send_id', dedupe_key, "
        "execute_after > now() + interval '50 minutes' from queue.pgqueuer "
        "where dedupe_key = 'email.send:' || %s",
        (str(send_id),),
    ).fetchall()


def test_a_template_renders_nested_variables_escaped_only_in_html(mail: Mail) -> None:
    send = mail.send_row(mail.queue(to="ada@example.com", template_slug="intro", variables=VARS))
    assert send["subject"] == "Hello <Ada & Co>"
    assert send["html_body"] == ("<p>Hi &lt;Ada &amp; Co&gt;, about Big &quot;deal&quot;.</p>")
    assert send["text_body"] == 'Hi <Ada & Co>, about Big "deal".'
    assert send["status"] == "queued"
    assert send["reply_to"].startswith("reply+")
    assert send["message_id"].endswith("@mail.acme.example>")


def test_queueing_writes_the_row_and_its_job_together(mail: Mail, admin) -> None:
    send_id = mail.queue(to="ada@example.com", subject="Hi", text="plain")
    assert _jobs(admin, send_id) == [("email.send", str(send_id), f"email.send:{send_id}", False)]


def test_send_after_delays_the_job(mail: Mail, admin) -> None:
    send_id = mail.queue(
        to="ada@example.com", subject="Later", text="x", send_after="2999-01-01T00:00:00Z"
    )
    assert _jobs(admin, send_id)[0][3] is True


def test_missing_required_variables_are_named_and_nothing_is_written(mail: Mail, admin) -> None:
    before = admin.execute("select count(*) from app.email_sends").fetchone()
    with pytest.raises(MissingVariablesError, match=r"contact\.first_name"):
        mail.queue(to="ada@example.com", template_slug="intro", variables={"deal": {"name": "x"}})
    assert admin.execute("select count(*) from app.email_sends").fetchone() == before


def test_content_is_required_without_a_template(mail: Mail) -> None:
    with pytest.raises(InvalidParameterError, match="p_subject"):
        mail.queue(to="ada@example.com", subject="No body")


def test_an_org_without_settings_cannot_send(service, two_orgs: TwoOrgs) -> None:
    with service.transaction():
        org_id = service.execute(
            "select api.create_organization(p_name => 'Quiet', p_slug => 'quiet')"
        ).fetchone()[0]
    with pytest.raises(NotConfiguredError), actor(service, org_id):
        service.execute("select api.queue_email(p_to => 'a@b.c', p_subject => 's', p_text => 't')")


def test_a_suppressed_recipient_gets_a_suppressed_row_and_no_job(
    mail: Mail, admin, two_orgs
) -> None:
    # The seed bounced nobody@bounce.acme.example hard.
    send_id = mail.queue(to="NOBODY@bounce.acme.example", subject="Hi", text="x")
    send = mail.send_row(send_id)
    assert (send["status"], send["suppression_reason"]) == ("suppressed", "hard_bounce")
    assert _jobs(admin, send_id) == []


def test_an_unsubscribe_stops_marketing_but_not_transactional_mail(mail: Mail, admin) -> None:
    admin.execute(
        "insert into app.suppressions (org_id, email, reason) values (%s, 'u@x.example', "
        "'unsubscribe')",
        (mail.org_id,),
    )
    marketing = mail.queue(to="u@x.example", template_slug="intro", variables=VARS)
    receipt = mail.queue(to="u@x.example", subject="Your receipt", text="x")
    assert mail.send_row(marketing)["status"] == "suppressed"
    assert mail.send_row(receipt)["status"] == "queued"


NOT_PLAIN = [
    "victim@example.com,postmaster",
    "a@b.example; c@d.example",
    '"x"@example.com',
    "a@b",
    # An RFC 2047 encoded word: a header encoder rewrites it on the wire into another address.
    "=?utf-8?q?victim=40evil.example?=@x.example",
    "x=?utf-8?b?dmljdGlt?=@x.example",
    "a@[b",
    "a@[127.0.0.1]",
    "a..b@x.example",
    ".a@x.example",
    "a@-x.example",
    "a@x.example.",
    "Bob <bob@x.example>",
    "j\u00f6rg@x.example",  # internationalised: not accepted (ASCII only)
    "a" * 65 + "@x.example",
    "a@" + "b" * 64 + ".example",  # a DNS label is at most 63 characters
    "a@x.e",  # a one-letter top-level label
]
PLAIN = [
    "first.last+tag@sub.example.co.uk",
    "o'brien@x.example",
    "a@xn--bcher-kva.example",
    "x_y-z@a-b.example",
    "a" * 64 + "@" + "b" * 63 + ".example",
]


@pytest.mark.parametrize("to", NOT_PLAIN)
def test_a_recipient_is_one_plain_address(mail: Mail, to: str) -> None:
    with pytest.raises(InvalidParameterError, match="invalid recipient"):
        mail.queue(to=to, subject="Hi", text="x")


@pytest.mark.parametrize("address", PLAIN)
def test_a_plain_address_passes(tx: psycopg.Connection, address: str) -> None:
    row = tx.execute("select app._email_is_plain_address(%s)", (address,)).fetchone()
    assert row == (True,)


@pytest.mark.parametrize("address", ["a@b.c,d@e.f", "a@[b", "=?utf-8?q?a?=@x.example"])
def test_a_from_address_that_is_not_plain_is_refused_when_set(
    service: psycopg.Connection, two_orgs: TwoOrgs, address: str
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="invalid from address"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select api.set_email_settings(p_from_email => %s, "
            "p_reply_domain => 'mail.acme.example')",
            (address,),
        )


def test_line_breaks_in_a_subject_variable_cannot_add_headers(mail: Mail) -> None:
    send_id = mail.queue(
        to="x@example.com",
        subject="Hi {{ n }}",
        text="x",
        variables={"n": "bob\r\nBcc: spy@evil.example"},
    )
    assert mail.send_row(send_id)["subject"] == "Hi bob Bcc: spy@evil.example"
