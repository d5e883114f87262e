"""Seeing a message before it goes out: api.preview_email renders a template, or a campaign
step for a contact exactly as the tick will, with the headers the worker sets, and writes
nothing; api.send_test_email sends that rendering to the caller, marked as a test, through
the normal queue and the caller's rate, never counted and never touching an enrollment."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from intime.errors import (
    InvalidParameterError,
    MissingVariablesError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import TwoOrgs

VARS = {"contact": {"first_name": "<Ada & Co>"}, "deal": {"name": 'Big "deal"'}}

# Every row of every table we write, summed per table.
ROW_COUNTS = """
select t.schemaname || '.' || t.tablename,
    (xpath('/row/c/text()', query_to_xml(
        format('select count(*) as c from %I.%I', t.schemaname, t.tablename), false, true, ''
    )))[1]::text::bigint
from pg_tables as t where t.schemaname in ('app', 'queue') order by 1
"""


@pytest.fixture
def camp(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Campaigns:
    c = Campaigns(service, admin, two_orgs)
    c.at(MONDAY_10)
    return c


def _call(camp: Campaigns, fn: str, user: uuid.UUID | None = None, **params: Any) -> Any:
    names = ", ".join(f"p_{k} => %({k})s" for k in params)
    values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}
    user = user or camp.admin_id
    with errors_translated(), actor(camp.conn, camp.org_id, user):
        cur = camp.conn.cursor(row_factory=dict_row)
        return cur.execute(f"select * from api.{fn}({names})", values).fetchall()


def preview(camp: Campaigns, **params: Any) -> dict[str, Any]:
    [row] = _call(camp, "preview_email", **params)
    return row


def send_test(camp: Campaigns, user: uuid.UUID | None = None, **params: Any) -> dict[str, Any]:
    [row] = _call(camp, "send_test_email", user, **params)
    cur = camp.owner.cursor(row_factory=dict_row)
    return cur.execute(
        "select * from app.email_sends where id = %s", (row["send_test_email"],)
    ).fetchone()


def _job_of(camp: Campaigns, send: dict[str, Any]) -> list[str]:
    return [
        j["email_send_id"] for j in camp.jobs() if j["dedupe_key"] == f"email.send:{send['id']}"
    ]


def _campaign_with_step(camp: Campaigns, **step: Any) -> tuple[uuid.UUID, uuid.UUID]:
    cid = camp.create(name="Intro <b>")
    step.setdefault("subject", 'Hi {{ contact.first_name | default: "there" }}')
    step.setdefault("body_html", "<p>{{contact.full_name}} at {{contact.company}}</p>")
    return cid, camp.email_step(cid, **step)


def test_a_template_preview_has_subject_bodies_and_headers(camp: Campaigns) -> None:
    row = preview(camp, template_slug="intro", variables=VARS)
    assert row["subject"] == "Hello <Ada & Co>"
    assert row["html_body"] == "<p>Hi &lt;Ada &amp; Co&gt;, about Big &quot;deal&quot;.</p>"
    assert (row["text_body"], row["text_source"]) == (
        'Hi <Ada & Co>, about Big "deal".',
        "template",
    )
    assert row["category"] == "marketing"
    assert row["headers"] == {
        "From": "acme <sales@acme.example>",
        "Reply-To": "reply+{token}@mail.acme.example",
        "Return-Path": "bounce+{token}@mail.acme.example",
        "Message-ID": "<{send_id}@mail.acme.example>",
        "List-Unsubscribe": "<{public_url}/u/{unsubscribe_token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_a_template_without_text_says_the_text_is_generated_from_its_html(
    camp: Campaigns,
) -> None:
    camp.call(
        "insert into app.email_templates (slug, name, subject_template, html_template) "
        "values ('receipt', 'Receipt', 'Your receipt', '<p>Thanks</p>') returning id"
    )
    row = preview(camp, template_slug="receipt")
    assert (row["text_body"], row["text_source"]) == (None, "generated_from_html")
    # Transactional: no List-Unsubscribe.
    assert "List-Unsubscribe" not in row["headers"]


def test_a_template_preview_checks_its_required_variables(camp: Campaigns) -> None:
    with pytest.raises(MissingVariablesError, match=r"contact\.first_name"):
        preview(camp, template_slug="intro", variables={})


def test_a_step_preview_renders_what_the_tick_sends(camp: Campaigns) -> None:
    cid, step_id = _campaign_with_step(camp, body_text="Hi {{contact.first_name}}")
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set first_name = '', company_name = 'A&B' where id = %s", (contact,)
    )
    row = preview(camp, step_id=step_id, contact_id=contact)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert (row["subject"], row["html_body"], row["text_body"]) == (
        send["subject"],
        send["html_body"],
        send["text_body"],
    )
    assert row["subject"] == "Hi there"
    assert row["html_body"] == "<p>Last1 at A&amp;B</p>"
    assert (row["category"], row["to_email"]) == ("campaign", send["to_email"])
    assert row["headers"]["To"] == send["to_email"]
    assert "List-Unsubscribe" in row["headers"]


def test_a_step_preview_renders_the_chosen_ab_variant(camp: Campaigns) -> None:
    _, step_id = _campaign_with_step(
        camp,
        subject=None,
        body_html=None,
        ab_variants=[
            {"id": "A", "subject": "A {{contact.first_name}}", "body_html": "a"},
            {"id": "B", "subject": "B {{contact.first_name}}", "body_html": "b"},
        ],
    )
    [contact] = camp.contacts(1)
    first = preview(camp, step_id=step_id, contact_id=contact)
    second = preview(camp, step_id=step_id, contact_id=contact, variant="B")
    assert (first["subject"], first["ab_variant"]) == ("A First1", "A")
    assert (second["subject"], second["ab_variant"]) == ("B First1", "B")
    with pytest.raises(InvalidParameterError, match="no A/B variant 'C'"):
        preview(camp, step_id=step_id, contact_id=contact, variant="C")


def test_a_preview_writes_nothing(camp: Campaigns) -> None:
    _, step_id = _campaign_with_step(camp)
    [contact] = camp.contacts(1)
    before = camp.owner.execute(ROW_COUNTS).fetchall()
    preview(camp, template_slug="intro", variables=VARS)
    preview(camp, step_id=step_id, contact_id=contact)
    assert camp.owner.execute(ROW_COUNTS).fetchall() == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "give p_template_id or p_template_slug"),
        ({"template_slug": "intro", "step_id": uuid.uuid4()}, "give p_template_id"),
        ({"template_slug": "intro", "contact_id": uuid.uuid4()}, "go with p_step_id"),
        ({"step_id": "STEP"}, "needs p_contact_id"),
        ({"step_id": "STEP", "contact_id": "CONTACT", "variables": {"a": 1}}, "p_variables"),
        ({"step_id": "WAIT", "contact_id": "CONTACT"}, "a wait step: it sends no email"),
        ({"step_id": "STEP", "contact_id": "CONTACT", "variant": "A"}, "has no A/B variants"),
    ],
)
def test_arguments_that_do_not_go_together_are_refused(
    camp: Campaigns, params: dict, message: str
) -> None:
    cid, step_id = _campaign_with_step(camp)
    wait_id = camp.step(cid, "wait")
    [contact] = camp.contacts(1)
    ids = {"STEP": step_id, "WAIT": wait_id, "CONTACT": contact}
    params = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    with pytest.raises(InvalidParameterError, match=message):
        preview(camp, **params)


def test_another_orgs_template_step_and_contact_are_not_found(camp: Campaigns) -> None:
    b = camp.orgs.b
    _, own_step = _campaign_with_step(camp)
    [own_contact] = camp.contacts(1)
    with errors_translated(), actor(camp.conn, b.org_id, b.admin_id):
        their_template = camp.conn.execute(
            "select id from app.email_templates where slug = 'intro'"
        ).fetchone()[0]
        their_campaign = camp.conn.execute("select api.create_campaign(p_name => 'B')").fetchone()[
            0
        ]
        their_step = camp.conn.execute(
            "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'email', "
            "p_subject => 's', p_body_html => 'b')",
            (their_campaign,),
        ).fetchone()[0]
    their_contact = b.contact_ids[0]
    for params in (
        {"template_id": their_template, "variables": VARS},
        {"step_id": their_step, "contact_id": own_contact},
        {"step_id": own_step, "contact_id": their_contact},
    ):
        with pytest.raises(NotFoundError):
            preview(camp, **params)
        with pytest.raises(NotFoundError):
            send_test(camp, **params)


# send_test_email -------------------------------------------------------------------------


def test_a_test_send_goes_to_the_caller_marked_as_a_test(camp: Campaigns) -> None:
    rep = camp.orgs.a.rep_ids[0]
    send = send_test(camp, rep, template_slug="intro", variables=VARS)
    assert send["to_email"] == "riley@acme.example"
    assert send["subject"] == "[Test] Hello <Ada & Co>"
    assert send["html_body"] == "<p>Hi &lt;Ada &amp; Co&gt;, about Big &quot;deal&quot;.</p>"
    assert (send["is_test"], send["status"], send["category"]) == (True, "queued", "marketing")
    assert (send["enrollment_id"], send["entity_type"], send["entity_id"]) == (None, None, None)
    assert _job_of(camp, send) == [str(send["id"])]


def test_a_test_send_of_a_step_never_touches_an_enrollment(camp: Campaigns) -> None:
    cid, step_id = _campaign_with_step(camp)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    [enrollment] = camp.enrollments(cid)
    logs = camp.logs(cid)
    send = send_test(camp, step_id=step_id, contact_id=contact)
    assert send["subject"] == "[Test] Hi First1"
    assert (send["is_test"], send["enrollment_id"], send["category"]) == (True, None, "campaign")
    assert camp.enrollments(cid) == [enrollment]
    assert camp.logs(cid) == logs
    assert camp.campaign(cid)["total_sent"] == 0


def test_a_test_send_is_never_counted_in_stats(camp: Campaigns) -> None:
    def stats(**params: Any) -> dict:
        names = ", ".join(f"p_{k} => %({k})s" for k in params)
        [row] = camp.call(f"select * from api.get_email_stats({names})", params)
        return row

    template_id = camp.one("select id from app.email_templates where slug = 'intro'")
    before = stats(), stats(template_id=template_id)
    assert before[1]["sent"] == 2  # the seed's two sends
    send = send_test(camp, template_slug="intro", variables=VARS)
    # Delivered, opened, clicked and replied to: still not counted.
    camp.owner.execute(
        "update app.email_sends set status = 'clicked', sent_at = now(), delivered_at = now(), "
        "first_opened_at = now(), first_clicked_at = now(), replied_at = now() where id = %s",
        (send["id"],),
    )
    assert (stats(), stats(template_id=template_id)) == before


def test_a_test_send_needs_a_user(camp: Campaigns) -> None:
    with (
        pytest.raises(PermissionDeniedError, match="own address"),
        actor(camp.conn, camp.org_id),
    ):
        camp.conn.execute("select api.send_test_email(p_template_slug => 'intro')")


def test_a_test_send_counts_against_the_callers_email_rate(camp: Campaigns) -> None:
    camp.owner.execute("update app.settings set email_rate_per_minute = 1")
    camp.at("2030-01-07 12:00:00+00")  # a minute of its own, away from the seed's sends
    send_test(camp, template_slug="intro", variables=VARS)
    with pytest.raises(RateLimitedError):
        send_test(camp, template_slug="intro", variables=VARS)


def test_a_test_send_to_a_suppressed_caller_is_not_sent(camp: Campaigns) -> None:
    camp.call("select api.add_suppression(p_email => 'admin@acme.example')")
    send = send_test(camp, template_slug="intro", variables=VARS)
    assert (send["status"], send["suppression_reason"]) == ("suppressed", "manual")
    assert _job_of(camp, send) == []
