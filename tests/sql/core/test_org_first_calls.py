"""Org-first calls (``app._act_for_org``): an ``api`` function's ``p_org_id`` is the
service's way to act for an org in one statement (docs/scale-out.md, "Function
delegation"); anyone else naming an org is refused."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError
from tests.support import Database, TwoOrgs

SEND = (
    "select api.send_notification(p_org_id => %s, p_user_id => %s, p_category => 'system',"
    " p_title => %s, p_message => 'Hi', p_channels => array['in_app'])"
)


def _titles(admin: psycopg.Connection, title: str) -> list[tuple]:
    return admin.execute(
        "select org_id, user_id from app.notifications where title = %s", (title,)
    ).fetchall()


def test_the_service_acts_for_the_org_it_names_without_an_actor(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    org = two_orgs.a
    row = service.execute(SEND, (org.org_id, org.rep_ids[1], "Org first")).fetchone()
    assert row is not None
    assert row[0] is not None
    assert _titles(admin, "Org first") == [(org.org_id, org.rep_ids[1])]


def test_the_service_naming_its_actors_own_org_keeps_that_actor(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    org = two_orgs.a
    with actor(service, org.org_id, org.rep_ids[0]):
        service.execute(SEND, (org.org_id, org.rep_ids[1], "Same org"))
        row = service.execute("select app.current_user_id()").fetchone()
    assert row == (org.rep_ids[0],)
    assert _titles(admin, "Same org") == [(org.org_id, org.rep_ids[1])]


def test_the_service_naming_another_org_than_its_actors_is_refused(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="not the org of the actor"),
        actor(service, two_orgs.b.org_id),
    ):
        service.execute(SEND, (two_orgs.a.org_id, two_orgs.a.rep_ids[1], "Crossed"))
    assert _titles(admin, "Crossed") == []


def test_a_login_naming_its_own_org_is_refused(
    db: Database, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as login,
        pytest.raises(psycopg.Error) as caught,
    ):
        login.execute(SEND, (two_orgs.a.org_id, two_orgs.a.rep_ids[1], "By a login"))
    assert caught.value.sqlstate == "IT002"
    assert _titles(admin, "By a login") == []


@pytest.mark.parametrize(
    "query",
    [
        "select action from api.claim_email_send(p_email_send_id => %s, p_org_id => %s)",
        "select api.fail_email_send(p_email_send_id => %s, p_error => 'x',"
        " p_permanent => true, p_org_id => %s)",
        "select api.record_email_sent(p_email_send_id => %s, p_provider => 'smtp',"
        " p_provider_message_id => 'm', p_org_id => %s)",
    ],
    ids=["claim_email_send", "fail_email_send", "record_email_sent"],
)
def test_the_email_calls_are_org_first_for_the_service_only(
    db: Database, service: psycopg.Connection, two_orgs: TwoOrgs, query: str
) -> None:
    """Named by the service, an unknown send is IT004 in that org (it acted for it); by
    a login, IT002 before anything is read."""
    missing = "00000000-0000-0000-0000-000000000001"
    with pytest.raises(psycopg.Error) as by_service:
        service.execute(query, (missing, two_orgs.a.org_id))
    with (
        db.connect(two_orgs.login_a, autocommit=True) as login,
        pytest.raises(psycopg.Error) as by_login,
    ):
        login.execute(query, (missing, two_orgs.a.org_id))
    assert (by_service.value.sqlstate, by_login.value.sqlstate) == ("IT004", "IT002")
