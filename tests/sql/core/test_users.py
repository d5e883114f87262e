"""api.create_user: validation and who may call it."""

from __future__ import annotations

import pytest

from intime.db import actor
from intime.errors import AlreadyExistsError, InvalidParameterError, PermissionDeniedError


def _create(service, org_id, user_id=None, **params):
    defaults = {"email": "new@x.example", "name": "New Person", "tz": "UTC", "role": None}
    defaults.update(params)
    with actor(service, org_id, user_id):
        return service.execute(
            "select api.create_user(p_email => %(email)s, p_full_name => %(name)s, "
            "p_timezone => %(tz)s, p_db_role => %(role)s)",
            defaults,
        ).fetchone()


def test_an_admin_creates_a_user(service, two_orgs) -> None:
    row = _create(service, two_orgs.a.org_id, two_orgs.a.admin_id)
    assert row is not None


def test_a_member_cannot_create_users(service, two_orgs) -> None:
    with pytest.raises(PermissionDeniedError):
        _create(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1])


def test_unknown_time_zone_is_rejected(service, two_orgs) -> None:
    with pytest.raises(InvalidParameterError, match="Mars/Olympus"):
        _create(service, two_orgs.a.org_id, tz="Mars/Olympus")


def test_email_is_unique_per_org_ignoring_case(service, two_orgs) -> None:
    admin_email = "ADMIN@acme.example"
    with pytest.raises(AlreadyExistsError):
        _create(service, two_orgs.a.org_id, email=admin_email)
    # The same address is free in another organization.
    assert _create(service, two_orgs.b.org_id, email="admin@ACME.example") is not None


def test_a_privileged_role_cannot_be_mapped(service, two_orgs) -> None:
    with pytest.raises(InvalidParameterError, match="intime_user"):
        _create(service, two_orgs.a.org_id, role="intime_service")


def test_a_mapped_role_cannot_be_mapped_twice(service, two_orgs) -> None:
    with pytest.raises(AlreadyExistsError):
        _create(service, two_orgs.b.org_id, role=two_orgs.login_a)
