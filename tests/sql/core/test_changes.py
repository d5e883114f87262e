"""The update functions' one style: api.update_<noun>(id, p_changes jsonb), where a key
names a field to change and a JSON null clears a nullable one (app._assert_changes,
app._apply_changes). Shown on api.update_campaign; the others share the helpers."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor
from intime.errors import InvalidParameterError
from tests.support import TwoOrgs

CREATE = (
    "select api.create_campaign(p_name => 'Outreach', p_send_window_start => '09:00', "
    "p_send_window_end => '17:00', p_timezone => 'America/New_York', "
    "p_daily_send_limit => 50, p_description => 'first')"
)
UPDATE = "select api.update_campaign(p_campaign_id => %s, p_changes => %s)"


@pytest.fixture
def campaign(service: psycopg.Connection, two_orgs: TwoOrgs) -> object:
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        row = service.execute(CREATE).fetchone()
    assert row is not None
    return row[0]


def update(
    service: psycopg.Connection, two_orgs: TwoOrgs, campaign: object, changes: object
) -> None:
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        service.execute(UPDATE, (campaign, Jsonb(changes)))


def settings(service: psycopg.Connection, two_orgs: TwoOrgs, campaign: object) -> tuple:
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            "select name, description, daily_send_limit, send_days from app.campaigns "
            "where id = %s",
            (campaign,),
        ).fetchone()
    assert row is not None
    return row


def test_only_the_named_fields_change(service, two_orgs, campaign) -> None:
    update(service, two_orgs, campaign, {"name": "Renamed", "send_days": ["mon", "tue"]})
    assert settings(service, two_orgs, campaign) == ("Renamed", "first", 50, ["mon", "tue"])


def test_a_json_null_clears_a_nullable_field(service, two_orgs, campaign) -> None:
    update(service, two_orgs, campaign, {"daily_send_limit": None, "description": None})
    assert settings(service, two_orgs, campaign)[1:3] == (None, None)


def test_an_unknown_field_is_refused_and_named(service, two_orgs, campaign) -> None:
    with pytest.raises(InvalidParameterError, match="cannot change org_id, status"):
        update(service, two_orgs, campaign, {"status": "active", "org_id": None, "name": "x"})
    assert settings(service, two_orgs, campaign)[0] == "Outreach"


def test_a_null_for_a_required_field_is_refused(service, two_orgs, campaign) -> None:
    with pytest.raises(InvalidParameterError, match="name, timezone cannot be null"):
        update(service, two_orgs, campaign, {"name": None, "timezone": None})


def test_a_value_of_the_wrong_type_is_refused(service, two_orgs, campaign) -> None:
    with pytest.raises(
        InvalidParameterError, match="p_changes: invalid input syntax for type integer"
    ):
        update(service, two_orgs, campaign, {"daily_send_limit": "many"})
    assert settings(service, two_orgs, campaign)[2] == 50


@pytest.mark.parametrize("changes", [None, [], "name", 3])
def test_changes_that_are_not_an_object_are_refused(service, two_orgs, campaign, changes) -> None:
    with pytest.raises(InvalidParameterError, match="p_changes must be a JSON object"):
        update(service, two_orgs, campaign, changes)


def test_an_array_nested_past_the_limit_is_refused(service, two_orgs, campaign) -> None:
    with pytest.raises(InvalidParameterError, match="p_changes: number of array dimensions"):
        update(service, two_orgs, campaign, {"send_days": [[[[[[["mon"]]]]]]]})


def test_send_days_must_be_a_flat_list(service, two_orgs, campaign) -> None:
    with pytest.raises(InvalidParameterError, match="send days must be a list"):
        update(service, two_orgs, campaign, {"send_days": [["mon", "tue"], ["wed", "thu"]]})


@pytest.mark.parametrize("name", ["", "x" * 201])
def test_a_workflow_name_out_of_bounds_is_refused(service, two_orgs, name) -> None:
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        row = service.execute(
            "select api.create_workflow(p_name => 'Named', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb({"triggers": [{"type": "manual"}], "steps": []}),),
        ).fetchone()
    assert row is not None
    with (
        pytest.raises(InvalidParameterError, match="a workflow name has 1 to 200"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select api.update_workflow(p_workflow_id => %s, p_changes => %s)",
            (row[0], Jsonb({"name": name})),
        )
