"""api.update_user: who may change which profile fields."""

from __future__ import annotations

import json
import threading
import time

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


def test_a_member_of_an_org_without_admin_edits_their_profile(service) -> None:
    with service.transaction():
        org_id = service.execute(
            "select api.create_organization(p_name => 'No Admin', p_slug => 'no-admin')"
        ).fetchone()[0]
    with actor(service, org_id):
        user_id = service.execute(
            "select api.create_user(p_email => 'm@x.example', p_full_name => 'M')"
        ).fetchone()[0]
    with actor(service, org_id, user_id):
        row = service.execute(
            "select timezone from api.update_user(p_user_id => %s, "
            'p_changes => \'{"timezone": "Europe/Paris"}\')',
            (user_id,),
        ).fetchone()
    assert row == ("Europe/Paris",)


@pytest.mark.parametrize(
    "changes",
    [
        {"out_of_office_until": "soon"},
        {"manager_id": "bob"},
        {"full_name": 42},
        {"available": "yes"},
    ],
)
def test_badly_typed_changes_are_refused_clearly(service, two_orgs: TwoOrgs, changes) -> None:
    org = two_orgs.a
    with pytest.raises(InvalidParameterError):
        _update(service, org, org.admin_id, org.rep_ids[0], changes)


def test_concurrent_demotions_keep_an_active_admin(db, service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        second = service.execute(
            "select api.create_user(p_email => 'second@acme.example', p_full_name => 'Second', "
            "p_role => 'admin')"
        ).fetchone()[0]
    results: list[str] = []
    with db.connect("intime_service") as first_conn:
        first_conn.execute("select api.set_actor(p_org_id => %s)", (org.org_id,))
        first_conn.execute(
            'select api.update_user(p_user_id => %s, p_changes => \'{"role": "member"}\')',
            (org.admin_id,),
        )

        def demote_second() -> None:
            with db.connect("intime_service") as conn:
                try:
                    with actor(conn, org.org_id):
                        conn.execute(
                            "select api.update_user(p_user_id => %s, "
                            'p_changes => \'{"role": "member"}\')',
                            (second,),
                        )
                    results.append("committed")
                except InvalidParameterError as exc:
                    results.append(str(exc))

        thread = threading.Thread(target=demote_second)
        thread.start()
        time.sleep(0.5)  # the second demotion now waits for the org lock
        assert results == []
        first_conn.commit()
        thread.join(timeout=10)
    assert len(results) == 1
    assert "active admin" in results[0]
