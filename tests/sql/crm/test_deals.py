"""Deals: stage moves, history and the DEALS-01 views."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor
from intime.errors import NotFoundError
from tests.support import TwoOrgs


def _move(service, org, deal_id, stage: str, user_id=None):
    with actor(service, org.org_id, user_id or org.admin_id):
        return service.execute(
            "select stage_id, probability, status, closed_at is not null "
            "from api.move_deal_stage(p_deal_id => %s, p_stage_id => %s, p_notes => 'ci')",
            (deal_id, org.stage_ids[stage]),
        ).fetchone()


def _new_deal(service, org) -> object:
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(
            "insert into app.deals (name, stage_id, owner_id) values ('Fresh', %s, %s) "
            "returning id, probability, status",
            (org.stage_ids["Lead"], org.rep_ids[0]),
        ).fetchone()
    assert row is not None
    return row


def test_a_new_deal_takes_its_probability_from_its_stage(service, two_orgs: TwoOrgs) -> None:
    _, probability, status = _new_deal(service, two_orgs.a)
    assert (probability, status) == (10, "open")


def test_stage_move_writes_history_and_the_legacy_view_shows_it(
    service, admin, two_orgs: TwoOrgs
) -> None:
    org = two_orgs.a
    deal_id, *_ = _new_deal(service, org)
    _move(service, org, deal_id, "Proposal")
    history = admin.execute(
        "select from_stage_id, to_stage_id, from_probability, to_probability, notes, changed_by "
        "from app.deal_stages_history where deal_id = %s",
        (deal_id,),
    ).fetchall()
    assert history == [
        (org.stage_ids["Lead"], org.stage_ids["Proposal"], 10, 50, "ci", org.admin_id)
    ]
    with actor(service, org.org_id):
        legacy = service.execute(
            "select entity_type, change_type, field_name, old_value, new_value, "
            "metadata->>'to_probability' from app.deal_stages_history_legacy where entity_id = %s",
            (deal_id,),
        ).fetchall()
    assert legacy == [
        (
            "deal",
            "stage_change",
            "stage_id",
            str(org.stage_ids["Lead"]),
            str(org.stage_ids["Proposal"]),
            "50",
        )
    ]


def test_moving_to_a_won_stage_closes_the_deal(service, two_orgs: TwoOrgs) -> None:
    deal_id, *_ = _new_deal(service, two_orgs.a)
    assert _move(service, two_orgs.a, deal_id, "Closed Won")[1:] == (100, "won", True)


def test_moving_back_to_an_open_stage_reopens_the_deal(service, two_orgs: TwoOrgs) -> None:
    deal_id, *_ = _new_deal(service, two_orgs.a)
    _move(service, two_orgs.a, deal_id, "Closed Lost")
    assert _move(service, two_orgs.a, deal_id, "Negotiation")[1:] == (75, "open", False)


def test_moving_to_the_current_stage_changes_nothing(service, admin, two_orgs) -> None:
    deal_id, *_ = _new_deal(service, two_orgs.a)
    _move(service, two_orgs.a, deal_id, "Lead")
    count = admin.execute(
        "select count(*) from app.deal_stages_history where deal_id = %s", (deal_id,)
    ).fetchone()
    assert count == (0,)


def test_a_stage_of_another_org_is_not_found_and_nothing_is_written(
    service, admin, two_orgs: TwoOrgs
) -> None:
    deal_id, *_ = _new_deal(service, two_orgs.a)
    with (
        pytest.raises(NotFoundError, match="stage"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
            (deal_id, two_orgs.b.stage_ids["Proposal"]),
        )
    row = admin.execute(
        "select d.stage_id, (select count(*) from app.deal_stages_history h where h.deal_id = d.id)"
        " from app.deals d where d.id = %s",
        (deal_id,),
    ).fetchone()
    assert row == (two_orgs.a.stage_ids["Lead"], 0)


def test_a_deal_of_another_org_is_not_found(service, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(NotFoundError, match="deal"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
            (two_orgs.b.deal_ids[0], two_orgs.a.stage_ids["Proposal"]),
        )


def test_deals_with_company_aliases_the_account(service, two_orgs: TwoOrgs) -> None:
    with actor(service, two_orgs.a.org_id):
        rows = service.execute(
            "select count(*) filter (where company_id is not distinct from account_id), count(*) "
            "from app.deals_with_company"
        ).fetchone()
    assert rows == (len(two_orgs.a.deal_ids), len(two_orgs.a.deal_ids))


def test_contact_email_is_unique_per_org_ignoring_case(service, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(psycopg.errors.UniqueViolation),
        actor(service, two_orgs.a.org_id),
    ):
        service.execute(
            "insert into app.contacts (first_name, email) "
            "select 'Dup', upper(email) from app.contacts limit 1"
        )
