"""A campaign step's email template may use only the campaign's variables (IT005, issue
16): the tick gives it nothing else."""

from __future__ import annotations

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
