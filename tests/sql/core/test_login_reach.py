"""What a human SQL login (a mapped member of intime_user) cannot reach beyond its rows:
the engine's advisory locks, large objects, and the application clock."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from tests.support import Database, TwoOrgs

LOCKS = [
    "select pg_advisory_lock(444770001)",
    "select pg_try_advisory_lock(444770001)",
    "select pg_advisory_xact_lock(444770002)",
    "select pg_try_advisory_xact_lock(1, 2)",
    "select pg_advisory_lock_shared(444770001)",
]
LARGE_OBJECTS = [
    "select lo_from_bytea(0, 'x')",
    "select lo_create(0)",
    "select lo_creat(-1)",
]


@pytest.mark.parametrize("statement", LOCKS)
def test_a_login_cannot_take_an_advisory_lock(
    db: Database, two_orgs: TwoOrgs, statement: str
) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as login,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        login.execute(statement)


@pytest.mark.parametrize("statement", LARGE_OBJECTS)
def test_a_login_cannot_create_a_large_object(
    db: Database, two_orgs: TwoOrgs, statement: str
) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as login,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        login.execute(statement)


def test_the_service_role_still_takes_the_engines_locks(service: psycopg.Connection) -> None:
    with service.transaction():
        assert service.execute("select pg_try_advisory_xact_lock(444770001)").fetchone() == (True,)


def test_a_login_cannot_move_its_clock_where_the_fake_clock_is_on(
    db: Database, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    assert admin.execute("select allow_fake_clock from app.settings").fetchone() == (True,)
    with db.connect(two_orgs.login_a, autocommit=True) as login:
        login.execute("set app.fake_now = '2000-01-01 00:00:00+00'")
        row = login.execute("select app.now()").fetchone()
    assert row is not None
    assert row[0] > datetime(2020, 1, 1, tzinfo=UTC)


def test_the_service_role_still_moves_the_clock_in_tests(service: psycopg.Connection) -> None:
    service.execute("set app.fake_now = '2000-01-01 00:00:00+00'")
    assert service.execute("select app.now()").fetchone() == (datetime(2000, 1, 1, tzinfo=UTC),)
