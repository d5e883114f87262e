"""api.list_campaigns: newest first, a status filter, totals and step counts, limits, and
another org's campaigns invisible."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from intime.errors import InvalidParameterError
from tests.sql.campaigns.conftest import Campaigns

LIST = (
    "select * from api.list_campaigns(p_status => %(status)s, p_limit => %(limit)s, "
    "p_campaign_id => %(campaign)s)"
)


def listed(
    camp: Campaigns,
    status: str | None = None,
    limit: int = 100,
    campaign: uuid.UUID | None = None,
    **kw: Any,
) -> list:
    return camp.call(LIST, {"status": status, "limit": limit, "campaign": campaign}, **kw)


def test_campaigns_are_listed_newest_first_with_their_steps_and_totals(camp: Campaigns) -> None:
    camp.at("2030-01-01T00:00:00Z")
    older = camp.create(name="Older")
    camp.at("2030-01-02T00:00:00Z")
    newer = camp.create(name="Newer")
    camp.email_step(newer)
    camp.step(newer, "wait", delay_minutes=30)
    camp.email_step(newer, delay_days=1)
    camp.activate(newer)
    camp.enroll(newer, camp.contacts(3))
    rows = listed(camp)
    assert [r["campaign_id"] for r in rows] == [newer, older]
    row = rows[0]
    assert (row["name"], row["status"], row["step_count"]) == ("Newer", "active", 3)
    assert (row["enrolled"], row["active"], row["completed"], row["replied"]) == (3, 3, 0, 0)
    assert row["owner_id"] == camp.admin_id
    assert row["owner_name"]
    assert row["activated_at"] is not None
    assert rows[1]["step_count"] == 0
    assert rows[1]["activated_at"] is None


def test_the_status_filter(camp: Campaigns) -> None:
    draft = camp.create(name="Draft")
    active = camp.create(name="Active")
    camp.email_step(active)
    camp.activate(active)
    assert [r["campaign_id"] for r in listed(camp, "draft")] == [draft]
    assert [r["campaign_id"] for r in listed(camp, "active")] == [active]
    assert listed(camp, "archived") == []


def test_the_limit_bounds_the_list(camp: Campaigns) -> None:
    for n in range(3):
        camp.create(name=f"C{n}")
    assert len(listed(camp, limit=2)) == 2
    assert len(listed(camp, limit=500)) == 3


@pytest.mark.parametrize(
    ("status", "limit"), [(None, 0), (None, 501), ("running", 10), ("ACTIVE", 10)]
)
def test_bad_arguments_are_refused(camp: Campaigns, status: str | None, limit: int) -> None:
    with pytest.raises(InvalidParameterError):
        listed(camp, status, limit)


def test_another_orgs_campaigns_are_invisible(camp: Campaigns) -> None:
    b = camp.orgs.b
    theirs = camp.one(
        "select api.create_campaign(p_name => 'Theirs')", org_id=b.org_id, user=b.admin_id
    )
    ours = camp.create(name="Ours")
    assert [r["campaign_id"] for r in listed(camp)] == [ours]
    assert [r["campaign_id"] for r in listed(camp, org_id=b.org_id, user=b.admin_id)] == [theirs]


def test_a_member_sees_the_orgs_campaigns(camp: Campaigns) -> None:
    cid = camp.create(name="Team")
    rows = listed(camp, user=camp.orgs.a.rep_ids[0])
    assert [r["campaign_id"] for r in rows] == [cid]


def test_one_campaign_by_id_whatever_the_limit(camp: Campaigns) -> None:
    camp.at("2030-01-01T00:00:00Z")
    oldest = camp.create(name="Oldest")
    camp.at("2030-01-02T00:00:00Z")
    camp.create(name="Newer")
    rows = listed(camp, limit=1, campaign=oldest)
    assert [(r["campaign_id"], r["name"]) for r in rows] == [(oldest, "Oldest")]
    assert listed(camp, "active", campaign=oldest) == []  # the status filter still applies
    assert listed(camp, campaign=uuid.uuid4()) == []


def test_another_orgs_campaign_by_id_is_not_found(camp: Campaigns) -> None:
    b = camp.orgs.b
    theirs = camp.one(
        "select api.create_campaign(p_name => 'Theirs')", org_id=b.org_id, user=b.admin_id
    )
    assert listed(camp, campaign=theirs) == []
    mine = listed(camp, campaign=theirs, org_id=b.org_id, user=b.admin_id)
    assert [r["campaign_id"] for r in mine] == [theirs]
