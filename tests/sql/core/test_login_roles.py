"""The login map (app.login_roles, migration 0025): one row per SQL login mapped to a
user, kept by a trigger on user_profiles, read by the context functions."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor
from intime_cli.queries import UNMAP_LOGIN
from tests.support import TwoOrgs


def _map(admin: psycopg.Connection) -> set[tuple[object, ...]]:
    return set(
        admin.execute("select org_id, user_id, db_role, is_active from app.login_roles").fetchall()
    )


def _create_mapped(service: psycopg.Connection, two_orgs: TwoOrgs, login: str) -> object:
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            "select api.create_user(p_email => %s, p_full_name => 'Mapped', p_db_role => %s)",
            (f"{login}@acme.example", login),
        ).fetchone()
    assert row is not None
    return row[0]


def test_the_map_holds_each_mapped_login_and_nothing_else(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    expected = set(
        admin.execute(
            "select org_id, id, db_role, is_active from app.user_profiles where db_role is not null"
        ).fetchall()
    )
    assert len(expected) == 2
    assert _map(admin) == expected


def test_a_new_mapped_user_is_in_the_map_at_once(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs, make_login
) -> None:
    login = make_login()
    user_id = _create_mapped(service, two_orgs, login)
    assert (two_orgs.a.org_id, user_id, login, True) in _map(admin)


def test_deactivating_the_user_deactivates_the_login(
    db, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with actor(service, two_orgs.a.org_id):
        service.execute(
            "select api.update_user(p_user_id => %s, p_changes => '{\"is_active\": false}')",
            (two_orgs.a.login_user_id,),
        )
    with db.connect(two_orgs.login_a) as login:
        row = login.execute("select app.current_org_id(), app.current_user_id()").fetchone()
    assert row == (None, None)


def test_a_mapped_user_is_deactivated_not_deleted(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(psycopg.Error, match="deactivate it instead") as info:
        admin.execute(
            "delete from app.user_profiles where org_id = %s and id = %s",
            (two_orgs.a.org_id, two_orgs.a.login_user_id),
        )
    assert info.value.sqlstate == "IT005"


def test_a_change_past_the_api_that_would_leave_the_map_behind_is_refused(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(psycopg.Error, match=r"api\.update_user") as info:
        admin.execute(
            "update app.user_profiles set is_active = false where org_id = %s and id = %s",
            (two_orgs.a.org_id, two_orgs.a.login_user_id),
        )
    assert info.value.sqlstate == "IT005"


def test_deleting_the_org_takes_its_logins_along(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    admin.execute("delete from app.organizations where id = %s", (two_orgs.b.org_id,))
    assert {r[0] for r in _map(admin)} == {two_orgs.a.org_id}


def test_a_login_is_one_users_across_organizations(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """The map's key, not only api.create_user's check (tests/sql/core/test_users.py)."""
    with pytest.raises(psycopg.errors.UniqueViolation, match="login_roles_db_role_key"):
        admin.execute(
            "insert into app.login_roles (org_id, user_id, db_role, is_active)"
            " values (%s, %s, %s, true)",
            (two_orgs.b.org_id, two_orgs.b.admin_id, two_orgs.login_a),
        )


def test_nobody_but_the_owner_reads_the_map(db, two_orgs: TwoOrgs) -> None:
    for role in ("intime_service", two_orgs.login_a):
        with (
            db.connect(role) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute("select count(*) from app.login_roles")


def test_a_single_node_pins_no_actor(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """The pin is for the workers of a Citus cluster (docs/scale-out.md)."""
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        pin = service.execute("select current_setting('intime.pin', true)").fetchone()
    assert pin == (None,)
    assert admin.execute("select app._on_citus()").fetchone() == (False,)


def test_a_setting_named_like_citus_does_not_make_a_single_node_a_cluster(
    db, two_orgs: TwoOrgs
) -> None:
    with db.connect(two_orgs.login_a) as login:
        login.execute("set citus.version = '14.0.1'")
        row = login.execute("select app.current_org_id()").fetchone()
    assert row == (two_orgs.a.org_id,)


def test_the_demo_unmaps_its_login_from_wherever_it_was_mapped(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    admin.execute(UNMAP_LOGIN, {"role": two_orgs.login_b})
    mapped = admin.execute(
        "select count(*) from app.user_profiles where db_role = %s", (two_orgs.login_b,)
    ).fetchone()
    assert mapped == (0,)
    assert [r for r in _map(admin) if r[2] == two_orgs.login_b] == []
