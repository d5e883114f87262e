"""Fallbacks in templates: {{ a.b | default: "text" }} renders its text when the value is
missing, null, empty or blank, escaped like a value; a malformed filter is refused when an
email or notification template is saved; a required variable that every use gives a default
is not missing. (The campaign tick: tests/sql/campaigns/test_fallbacks.py.)"""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor
from intime.errors import InvalidParameterError, MissingVariablesError
from tests.support import Mail, TwoOrgs

GREETING = 'Hi {{ contact.first_name | default: "there" }},'


def _render(tx: psycopg.Connection, template: str, variables: dict, escape: str = "none") -> str:
    row = tx.execute(
        "select app._render(%s, %s, %s)", (template, Jsonb(variables), escape)
    ).fetchone()
    assert row is not None
    return row[0]


def test_a_null_first_name_renders_the_default(mail: Mail) -> None:
    send_id = mail.queue(
        to="ada@example.com",
        subject=GREETING,
        text=GREETING,
        variables={"contact": {"first_name": None}},
    )
    send = mail.send_row(send_id)
    assert (send["subject"], send["text_body"]) == ("Hi there,", "Hi there,")


def test_a_present_first_name_renders_its_value(mail: Mail) -> None:
    send_id = mail.queue(
        to="ada@example.com",
        subject=GREETING,
        html=f"<p>{GREETING}</p>",
        variables={"contact": {"first_name": "Ada"}},
    )
    send = mail.send_row(send_id)
    assert (send["subject"], send["html_body"]) == ("Hi Ada,", "<p>Hi Ada,</p>")


@pytest.mark.parametrize(
    "variables",
    [{}, {"contact": {}}, {"contact": {"first_name": ""}}, {"contact": {"first_name": "  "}}],
)
def test_a_missing_empty_or_blank_value_renders_the_default(
    tx: psycopg.Connection, variables: dict
) -> None:
    assert _render(tx, GREETING, variables) == "Hi there,"


def test_a_single_quoted_default_and_spacing_are_accepted(tx: psycopg.Connection) -> None:
    template = "{{contact.first_name|default:'friend'}} / {{ deal.name  |  default :  \"-\" }}"
    assert _render(tx, template, {}) == "friend / -"


def test_the_default_is_html_escaped_in_an_html_body(mail: Mail) -> None:
    send_id = mail.queue(
        to="ada@example.com",
        subject='{{ x | default: "<b>you</b> & co" }}',
        html='<p>{{ x | default: "<b>you</b> & co" }}</p>',
        text='{{ x | default: "<b>you</b> & co" }}',
    )
    send = mail.send_row(send_id)
    assert send["html_body"] == "<p>&lt;b&gt;you&lt;/b&gt; &amp; co</p>"
    assert (send["subject"], send["text_body"]) == ("<b>you</b> & co", "<b>you</b> & co")


def test_the_default_is_percent_encoded_in_a_url(tx: psycopg.Connection) -> None:
    rendered = _render(tx, '/search?q={{ q | default: "a b&c" }}', {}, "url")
    assert rendered == "/search?q=a%20b%26c"


def test_a_text_only_email_renders_its_defaults_in_the_html_part_too(mail: Mail) -> None:
    send_id = mail.queue(to="ada@example.com", subject="s", text=GREETING + " <ok>")
    send = mail.send_row(send_id)
    assert send["html_body"] == "Hi there, &lt;ok&gt;"


def test_a_template_with_defaults_saves_and_renders(mail: Mail) -> None:
    with actor(mail.conn, mail.org_id, mail.user_id):
        mail.conn.execute(
            "insert into app.email_templates (slug, name, subject_template, html_template) "
            "values ('fallback', 'Fallback', %s, %s)",
            (GREETING, f"<p>{GREETING}</p>"),
        )
    send = mail.send_row(mail.queue(to="ada@example.com", template_slug="fallback"))
    assert (send["subject"], send["html_body"]) == ("Hi there,", "<p>Hi there,</p>")


MALFORMED = [
    "{{ contact.first_name | upper }}",
    '{{ contact.first_name | default: "there }}',
    "{{ contact.first_name | default: there }}",
    '{{ contact.first_name | default "there" }}',
    '{{ contact.first_name | default: "a" | default: "b" }}',
]


@pytest.mark.parametrize("token", MALFORMED)
def test_a_malformed_filter_is_refused_when_an_email_template_is_saved(
    mail: Mail, admin: psycopg.Connection, token: str
) -> None:
    before = admin.execute("select count(*) from app.email_templates").fetchone()
    with (
        pytest.raises(InvalidParameterError, match="html_template has a malformed filter"),
        actor(mail.conn, mail.org_id, mail.user_id),
    ):
        mail.conn.execute(
            "insert into app.email_templates (slug, name, subject_template, html_template) "
            "values ('bad', 'Bad', 'Hello', %s)",
            (f"<p>Hi {token}</p>",),
        )
    assert admin.execute("select count(*) from app.email_templates").fetchone() == before


def test_a_malformed_filter_is_refused_when_an_email_template_is_changed(mail: Mail) -> None:
    with (
        pytest.raises(InvalidParameterError, match="subject_template has a malformed filter"),
        actor(mail.conn, mail.org_id, mail.user_id),
    ):
        mail.conn.execute(
            "update app.email_templates set subject_template = %s where slug = 'intro'",
            (MALFORMED[0],),
        )


def test_a_malformed_filter_is_refused_when_a_notification_template_is_saved(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="title_template has a malformed filter"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "insert into app.notification_templates (name, slug, category, title_template, "
            "message_template) values ('x', 'bad_filter', 'deal', %s, 'M')",
            (MALFORMED[1],),
        )


def test_a_notification_template_renders_its_defaults(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    with actor(service, a.org_id, a.admin_id):
        service.execute(
            "insert into app.notification_templates (name, slug, category, title_template, "
            "message_template, variables) values ('x', 'fallback', 'deal', %s, %s, %s)",
            (
                'Deal {{ deal.name | default: "(unnamed)" }}',
                "{{ actor.name | default: 'Someone' }} moved it",
                Jsonb([{"name": "deal.name", "required": True}, {"name": "actor.name"}]),
            ),
        )
        nid = service.execute(
            "select api.send_notification(p_user_id => %s, p_template_slug => 'fallback', "
            "p_channels => '{in_app}')",
            (a.rep_ids[0],),
        ).fetchone()[0]
    # The recipient's own row: read past row-level security.
    row = admin.execute("select title, message from app.notifications where id = %s", (nid,))
    assert row.fetchone() == ("Deal (unnamed)", "Someone moved it")


def test_a_required_variable_with_a_default_wherever_it_is_used_is_not_missing(
    mail: Mail,
) -> None:
    with actor(mail.conn, mail.org_id, mail.user_id):
        mail.conn.execute(
            "insert into app.email_templates (slug, name, subject_template, html_template, "
            "variables) values ('greet', 'Greet', %s, %s, %s), ('half', 'Half', %s, %s, %s)",
            (
                GREETING,
                f"<p>{GREETING}</p>",
                Jsonb([{"name": "contact.first_name", "required": True}]),
                GREETING,
                "<p>Dear {{ contact.first_name }}</p>",
                Jsonb([{"name": "contact.first_name", "required": True}]),
            ),
        )
    assert mail.send_row(mail.queue(to="ada@example.com", template_slug="greet"))["subject"] == (
        "Hi there,"
    )
    # One use without a default: the variable stays required.
    with pytest.raises(MissingVariablesError, match=r"contact\.first_name"):
        mail.queue(to="ada@example.com", template_slug="half")
