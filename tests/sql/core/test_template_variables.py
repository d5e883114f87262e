"""Unknown template variables are refused when a template is saved, everywhere (issue 16),
as campaigns always refused them: email and notification templates (IT005) may use what
they declare and what InTime's senders give them. ``{{ x | default: "..." }}`` keeps
working. Workflows: tests/sql/workflows/test_template_variables.py; a campaign step's
template: tests/sql/campaigns/test_template_variables.py."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError
from tests.support import TwoOrgs

# --- email templates

INSERT_EMAIL_TEMPLATE = (
    "insert into app.email_templates (slug, name, subject_template, html_template, variables) "
    "values (%s, 'T', %s, %s, %s) returning id"
)


def _email_template(
    service: psycopg.Connection,
    orgs: TwoOrgs,
    subject: str,
    html: str = "<p>Hi</p>",
    variables: list[dict[str, Any]] | None = None,
    slug: str = "order-shipped",
) -> uuid.UUID:
    with errors_translated(), actor(service, orgs.a.org_id, orgs.a.admin_id):
        row = service.execute(
            INSERT_EMAIL_TEMPLATE, (slug, subject, html, Jsonb(variables or []))
        ).fetchone()
    assert row is not None
    return row[0]


def test_an_email_template_with_an_undeclared_variable_is_refused(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        _email_template(service, two_orgs, "Order {{ order.number }} shipped")
    assert "subject_template uses unknown variables: order.number" in str(caught.value)
    assert "order.number" in (caught.value.hint or "")


def test_an_email_template_may_use_what_it_declares(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    assert _email_template(
        service,
        two_orgs,
        "Order {{ order.number }} shipped",
        '<p>{{ order.carrier | default: "Our carrier" }} has it</p>',
        variables=[{"name": "order.number", "required": True}, {"name": "order.carrier"}],
    )


@pytest.mark.parametrize(
    "subject",
    [
        'Hi {{ contact.first_name | default: "there" }}',  # a campaign's
        "About {{ deal.name }} for {{ owner.name }}",  # a deal workflow's
        "{{ steps.ask.decision }} at {{ now }}",
    ],
)
def test_an_email_template_may_use_what_intime_gives_it(
    service: psycopg.Connection, two_orgs: TwoOrgs, subject: str
) -> None:
    assert _email_template(service, two_orgs, subject)


@pytest.mark.parametrize(
    "subject",
    ["About {{ deal.nmae }}", "Hi {{ contact.frist_name }}", "Hi {{ contact.first name }}"],
)
def test_a_misspelled_variable_is_refused(
    service: psycopg.Connection, two_orgs: TwoOrgs, subject: str
) -> None:
    with pytest.raises(InvalidParameterError, match="unknown variables"):
        _email_template(service, two_orgs, subject)


def test_dropping_a_declaration_a_template_uses_is_refused(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    template = _email_template(
        service, two_orgs, "Order {{ order.number }}", variables=[{"name": "order.number"}]
    )
    with (
        pytest.raises(InvalidParameterError, match=r"order\.number"),
        errors_translated(),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "update app.email_templates set variables = '[]' where id = %s", (template,)
        )


# --- notification templates

INSERT_NOTIFICATION_TEMPLATE = (
    "insert into app.notification_templates (name, slug, category, title_template, "
    "message_template, email_body_template, variables) values ('N', %s, 'deal', %s, %s, %s, %s)"
)


def _notification_template(
    service: psycopg.Connection,
    orgs: TwoOrgs,
    slug: str,
    title: str,
    message: str = "m",
    email_body: str | None = None,
    variables: list[dict[str, Any]] | None = None,
) -> None:
    with errors_translated(), actor(service, orgs.a.org_id, orgs.a.admin_id):
        service.execute(
            INSERT_NOTIFICATION_TEMPLATE,
            (slug, title, message, email_body, Jsonb(variables or [])),
        )


def test_a_notification_template_with_an_undeclared_variable_is_refused(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(InvalidParameterError, match="message_template uses unknown variables: x"):
        _notification_template(service, two_orgs, "custom", "Hi", "{{ x }} happened")


def test_a_notification_template_may_use_what_it_declares_and_its_action_url(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _notification_template(
        service,
        two_orgs,
        "custom",
        "{{ ticket.subject }}",
        '{{ ticket.author | default: "Someone" }} wrote',
        '<a href="{{ action_url }}">Open</a>',
        variables=[{"name": "ticket.subject", "required": True}, {"name": "ticket.author"}],
    )


def test_an_override_may_use_what_the_system_template_gets(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    # approval_required's variables: item.title, requester.name, approval.id, action_url.
    _notification_template(
        service,
        two_orgs,
        "approval_required",
        "Please decide: {{ item.title }}",
        "{{ requester.name }} asks ({{ approval.id }})",
    )


def test_an_override_may_not_use_what_the_system_template_does_not_get(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(InvalidParameterError, match="title_template uses unknown variables"):
        _notification_template(service, two_orgs, "approval_required", "{{ approval.colour }}")


def test_a_plain_sql_write_is_checked_too(
    db: Any, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """A SQL login (an admin may write templates) meets the same rule."""
    with db.connect(two_orgs.login_a, autocommit=True) as login:
        role = login.execute(
            "select role from app.user_profiles where id = app.current_user_id()"
        ).fetchone()
        assert role is not None
        with pytest.raises(psycopg.Error) as caught:
            login.execute(
                "insert into app.email_templates (slug, name, subject_template, html_template) "
                "values ('sql-made', 'S', 'Hi {{ who }}', '<p>x</p>')"
            )
    # A member lacks templates.manage (IT003); an admin meets the variable check (IT005).
    assert caught.value.sqlstate == ("IT005" if role[0] == "admin" else "IT003")
