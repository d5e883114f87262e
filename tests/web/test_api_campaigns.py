"""Campaign stats and enrollment timelines over /api/v1, on the seeded campaigns."""

from __future__ import annotations

import uuid

import psycopg

from tests.web.apiclient import call, is_problem


def _first(admin: psycopg.Connection, query: str, org_id: uuid.UUID) -> uuid.UUID:
    row = admin.execute(query, (org_id,)).fetchone()
    assert row is not None
    return row[0]


def campaign_of(admin: psycopg.Connection, org_id: uuid.UUID) -> uuid.UUID:
    return _first(
        admin, "select id from app.campaigns where org_id = %s order by id limit 1", org_id
    )


def enrollment_of(admin: psycopg.Connection, org_id: uuid.UUID) -> uuid.UUID:
    return _first(
        admin,
        "select id from app.campaign_enrollments where org_id = %s order by id limit 1",
        org_id,
    )


def test_a_campaigns_stats_start_with_its_totals(base_url, token_for, admin, two_orgs) -> None:
    campaign = campaign_of(admin, two_orgs.a.org_id)
    response = call(
        base_url, "GET", f"/campaigns/{campaign}/stats", token_for(two_orgs.a.rep_ids[0])
    )
    assert response.json()["stats"][0]["scope"] == "campaign"


def test_another_orgs_campaign_is_not_found(base_url, token_for, admin, two_orgs) -> None:
    campaign = campaign_of(admin, two_orgs.b.org_id)
    response = call(
        base_url, "GET", f"/campaigns/{campaign}/stats", token_for(two_orgs.a.rep_ids[0])
    )
    assert is_problem(response, 404, "IT004")


def test_an_enrollments_timeline_is_listed(base_url, token_for, admin, two_orgs) -> None:
    enrollment = enrollment_of(admin, two_orgs.a.org_id)
    token = token_for(two_orgs.a.rep_ids[0])
    response = call(base_url, "GET", f"/enrollments/{enrollment}/timeline", token)
    assert response.status_code == 200
    assert isinstance(response.json()["timeline"], list)


def test_another_orgs_enrollment_is_not_found(base_url, token_for, admin, two_orgs) -> None:
    enrollment = enrollment_of(admin, two_orgs.b.org_id)
    token = token_for(two_orgs.a.rep_ids[0])
    response = call(base_url, "GET", f"/enrollments/{enrollment}/timeline", token)
    assert is_problem(response, 404, "IT004")


def test_the_orgs_campaigns_are_listed(base_url, token_for, admin, two_orgs) -> None:
    campaign = campaign_of(admin, two_orgs.a.org_id)
    response = call(base_url, "GET", "/campaigns", token_for(two_orgs.a.rep_ids[0]))
    assert str(campaign) in [c["campaign_id"] for c in response.json()["campaigns"]]


def test_another_orgs_campaigns_are_not_listed(base_url, token_for, admin, two_orgs) -> None:
    campaign = campaign_of(admin, two_orgs.b.org_id)
    response = call(base_url, "GET", "/campaigns", token_for(two_orgs.a.rep_ids[0]))
    assert str(campaign) not in [c["campaign_id"] for c in response.json()["campaigns"]]


def test_campaigns_are_filtered_by_status(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[0])
    response = call(base_url, "GET", "/campaigns", token, params={"status": "archived"})
    assert {c["status"] for c in response.json()["campaigns"]} <= {"archived"}


def test_an_unknown_campaign_status_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[0])
    response = call(base_url, "GET", "/campaigns", token, params={"status": "lost"})
    assert is_problem(response, 400)


def test_the_listing_reads_one_campaign_by_id(base_url, token_for, admin, two_orgs) -> None:
    campaign = campaign_of(admin, two_orgs.a.org_id)
    params = {"campaign_id": str(campaign), "limit": 1}
    ours = call(base_url, "GET", "/campaigns", token_for(two_orgs.a.rep_ids[0]), params=params)
    assert [c["campaign_id"] for c in ours.json()["campaigns"]] == [str(campaign)]
    theirs = call(
        base_url,
        "GET",
        "/campaigns",
        token_for(two_orgs.b.admin_id, two_orgs.b.org_id),
        params=params,
    )
    assert theirs.json()["campaigns"] == []
