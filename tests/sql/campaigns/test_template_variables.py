"""A campaign step's email template may use only the campaign's variables (IT005, issue
16): the tick gives it nothing else, and an edit of a template a campaign step sends is
refused the same way."""

from __future__ import annotations

import uuid

import pytest

from intime.errors import InvalidParameterError
from tests.sql.campaigns.conftest import Campaigns


def test_a_campaign_step_with_an_email_template_using_unknown_variables_is_refused(
    camp: Campaigns,
) -> None:
    template_id = camp.one(
        "insert into app.email_templates (slug, name, category, subject_template, "
        "html_template) values ('camp-x', 'X', 'marketing', 'Hi {{ contact.first_name }}', "
        "'<p>About {{ deal.name }}</p>') returning id"
    )
    cid = camp.create(name="Uses it")
    with pytest.raises(InvalidParameterError, match=r"'camp-x' uses unknown variables: deal\.name"):
        camp.step(cid, "email", template_id=template_id)


def test_a_campaign_step_with_an_email_template_using_campaign_variables_is_saved(
    camp: Campaigns,
) -> None:
    template_id = camp.one(
        "insert into app.email_templates (slug, name, category, subject_template, "
        "html_template) values ('camp-ok', 'X', 'marketing', 'Hi {{ contact.first_name }}', "
        "'<p>{{ sender.name | default: \"We\" }} wrote</p>') returning id"
    )
    cid = camp.create(name="Uses it")
    assert camp.step(cid, "email", template_id=template_id)


# --- an edited template must still suit the campaigns that send it


def _campaign_template(camp: Campaigns) -> uuid.UUID:
    template_id: uuid.UUID = camp.one(
        "insert into app.email_templates (slug, name, category, subject_template, "
        "html_template) values ('camp-ok', 'X', 'marketing', 'Hi {{ contact.first_name }}', "
        "'<p>Hello</p>') returning id"
    )
    return template_id


def _edit(camp: Campaigns, template_id: uuid.UUID, html: str) -> None:
    camp.call(
        "update app.email_templates set html_template = %s where id = %s returning id",
        (html, template_id),
    )


def test_editing_a_template_a_campaign_step_sends_to_use_a_deal_variable_is_refused(
    camp: Campaigns,
) -> None:
    template_id = _campaign_template(camp)
    cid = camp.create(name="Uses it")
    camp.step(cid, "email", template_id=template_id)
    with pytest.raises(InvalidParameterError) as caught:
        _edit(camp, template_id, "<p>About {{ deal.name }}</p>")
    assert (
        "email template 'camp-ok' uses deal.name, which campaign 'Uses it' (step 1) "
        "does not give it"
    ) in str(caught.value)
    assert "contact.first_name" in (caught.value.hint or "")


def test_editing_a_template_no_campaign_sends_may_use_any_known_variable(
    camp: Campaigns,
) -> None:
    template_id = _campaign_template(camp)
    camp.email_step(camp.create(name="Own content"))
    _edit(camp, template_id, "<p>About {{ deal.name }}</p>")


def test_editing_a_template_a_campaign_sends_to_use_a_campaign_variable_is_accepted(
    camp: Campaigns,
) -> None:
    template_id = _campaign_template(camp)
    camp.step(camp.create(name="Uses it"), "email", template_id=template_id)
    _edit(camp, template_id, '<p>{{ sender.name | default: "We" }} at {{ contact.company }}</p>')
