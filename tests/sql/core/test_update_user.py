"""api.update_user: who may change which profile fields."""

from __future__ import annotations

import json

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, PermissionDeniedError
from tests.support import TwoOrgs


def _update(service, org, acting_user, target, changes: dict):
    with actor(service, org.org_id, acting_user):
        return service.execute(
            "select role, available, manager_id, is_active "
            "from api.update_user(p_user_id => %s, p_changes => %s)",
            (target, json.dumps(changes)),
        ).fetchone()


def test_a_member_sets_their_own_availability(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    row = _update(service, org, org.rep_ids[0], org.rep_ids[0], {"available": False})
    assert row[1] is False


def test_a_member_cannot_promote_themselves(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with pytest.raises(PermissionDeniedError):
        _update(service, org, org.rep_ids[0], org.rep_ids[0], {"role": "admin"})


def test_a_member_cannot_change_another_user(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with pytest.raises(PermissionDeniedError):
        _update(service, org, org.rep_ids[0], org.rep_ids[1], {"available": False})


def test_an_admin_changes_a_role(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    assert _update(service, org, org.admin_id, org.rep_ids[0], {"role": "manager"})[0] == "manager"


def test_the_last_active_admin_cannot_be_demoted(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with pytest.raises(InvalidParameterError, match="active admin"):
        _update(service, org, org.admin_id, org.admin_id, {"role": "member"})


def test_a_reporting_loop_is_refused(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a  # the reps report to the manager
    with pytest.raises(InvalidParameterError, match="loop"):
        _update(service, org, org.admin_id, org.manager_id, {"manager_id": str(org.rep_ids[0])})


def test_unknown_fields_are_named_in_the_error(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with pytest.raises(InvalidParameterError, match="db_role, email"):
        _update(service, org, org.admin_id, org.rep_ids[0], {"email": "x@y.z", "db_role": "x"})


def test_profiles_cannot_be_written_directly(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        actor(service, org.org_id, org.rep_ids[0]),
    ):
        service.execute(
            "update app.user_profiles set role = 'admin' where id = %s", (org.rep_ids[0],)
        )
