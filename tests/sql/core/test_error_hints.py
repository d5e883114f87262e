"""Errors a person meets say what to do (issue 16): the SQL raises them with a HINT (which
permission or role is needed, how to set the actor), and ``intime.errors`` carries it on
the exception (``InTimeError.hint``) for the CLI and the web app to show."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import InTimeError, NoActorError, PermissionDeniedError, translate
from tests.support import TwoOrgs


def test_no_actor_says_how_to_set_one(service: psycopg.Connection) -> None:
    with pytest.raises(NoActorError) as caught, errors_translated(), service.transaction():
        service.execute("select api.create_campaign(p_name => 'Nobody')")
    assert caught.value.sqlstate == "IT008"
    assert "api.set_actor(p_org_id =>" in (caught.value.hint or "")
    assert "--db-role" in (caught.value.hint or "")


def test_no_user_says_how_to_set_one(service: psycopg.Connection, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(NoActorError) as caught,
        errors_translated(),
        actor(service, two_orgs.a.org_id),
    ):
        service.execute("select * from api.get_preferences()")
    assert "p_user_id" in (caught.value.hint or "")


def test_a_missing_permission_says_which_and_how_to_grant_it(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    member = two_orgs.a.rep_ids[1]
    with (
        pytest.raises(PermissionDeniedError, match=r"permission workflows\.manage required") as c,
        errors_translated(),
        actor(service, two_orgs.a.org_id, member),
    ):
        service.execute(
            "select api.create_workflow(p_name => 'x', p_entity_type => 'deal', "
            "p_definition => '{}')"
        )
    assert "api.set_role_permission(p_role => 'member', p_permission => 'workflows.manage'" in (
        c.value.hint or ""
    )


def test_an_admin_only_action_says_so(service: psycopg.Connection, two_orgs: TwoOrgs) -> None:
    member = two_orgs.a.rep_ids[1]
    with (
        pytest.raises(PermissionDeniedError) as caught,
        errors_translated(),
        actor(service, two_orgs.a.org_id, member),
    ):
        service.execute("select api.create_user(p_email => 'x@acme.example', p_full_name => 'X')")
    assert "role admin" in (caught.value.hint or "")


def test_a_user_of_another_org_is_not_found_with_a_hint(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(InTimeError) as caught, errors_translated(), service.transaction():
        service.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)",
            (two_orgs.a.org_id, two_orgs.b.admin_id),
        )
    assert caught.value.sqlstate == "IT004"
    assert "its own organization" in (caught.value.hint or "")


def test_translate_keeps_the_hint_and_none_without_one(tx: psycopg.Connection) -> None:
    with pytest.raises(psycopg.Error) as hinted, tx.transaction():
        tx.execute(
            "do $$ begin raise exception using errcode = 'IT005', message = 'bad', "
            "hint = 'do this'; end $$"
        )
    error = translate(hinted.value)
    assert isinstance(error, InTimeError)
    assert (str(error), error.sqlstate, error.hint) == ("bad", "IT005", "do this")
    with pytest.raises(psycopg.Error) as plain, tx.transaction():
        tx.execute("do $$ begin raise exception using errcode = 'IT013', message = 'no'; end $$")
    error = translate(plain.value)
    assert isinstance(error, InTimeError)
    assert error.hint is None
