"""Fallbacks in campaign emails: the tick renders {{ contact.first_name | default: "there" }}
for a contact without a first name (escaped in the HTML body), and a step with a malformed
filter is refused when it is saved."""

from __future__ import annotations

import pytest

from intime.errors import InvalidParameterError
from tests.sql.campaigns.conftest import Campaigns

GREETING = 'Hi {{ contact.first_name | default: "there" }},'


def _send_for(camp: Campaigns, first_name: str, **step: str) -> dict:
    cid = camp.create()
    camp.email_step(cid, **step)
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set first_name = %s where id = %s", (first_name, contact)
    )
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    return send


def test_the_tick_renders_the_default_for_a_contact_without_a_first_name(
    camp: Campaigns,
) -> None:
    send = _send_for(camp, "", subject=GREETING, body_html=f"<p>{GREETING}</p>", body_text=GREETING)
    assert (send["subject"], send["html_body"], send["text_body"]) == (
        "Hi there,",
        "<p>Hi there,</p>",
        "Hi there,",
    )


def test_the_tick_renders_a_present_first_name_over_the_default(camp: Campaigns) -> None:
    send = _send_for(camp, "Ada <3", subject=GREETING, body_html=f"<p>{GREETING}</p>")
    assert (send["subject"], send["html_body"]) == ("Hi Ada <3,", "<p>Hi Ada &lt;3,</p>")


def test_the_tick_escapes_a_default_in_the_html_body_only(camp: Campaigns) -> None:
    token = "{{ contact.title | default: 'R&D <lead>' }}"
    send = _send_for(camp, "Ada", subject=token, body_html=f"<p>{token}</p>", body_text=token)
    assert send["subject"] == "R&D <lead>"
    assert send["html_body"] == "<p>R&amp;D &lt;lead&gt;</p>"
    assert send["text_body"] == "R&D <lead>"


def test_a_text_only_step_renders_its_default_in_the_html_part(camp: Campaigns) -> None:
    send = _send_for(camp, "", subject="s", body_html=None, body_text=GREETING + " <ok>")
    assert send["html_body"] == "Hi there, &lt;ok&gt;"


@pytest.mark.parametrize(
    "subject",
    [
        "Hi {{ contact.first_name | capitalize }}",
        'Hi {{ contact.first_name | default: "there }}',
        "Hi {{ contact.first_name | default: there }}",
        # No token inside a default.
        'Hi {{ contact.first_name | default: "{{sender.email}}" }}',
    ],
)
def test_a_malformed_filter_is_refused_when_a_step_is_saved(camp: Campaigns, subject: str) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="subject has a malformed filter"):
        camp.email_step(cid, subject=subject)
    assert (
        camp.one("select count(*) from app.campaign_sequences where campaign_id = %s", (cid,)) == 0
    )


def test_a_default_on_an_unknown_variable_is_refused_by_name(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match=r"uses unknown variables: contact\.nickname"):
        camp.email_step(cid, subject='Hi {{ contact.nickname | default: "there" }}')
