"""API tokens: created once in clear, stored hashed, revocable, expiring."""

from __future__ import annotations

import hashlib

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidTokenError, PermissionDeniedError, ServiceRoleRequiredError
from tests.support import TwoOrgs


def _create(conn: psycopg.Connection, two_orgs: TwoOrgs, **kw: object) -> tuple[str, str]:
    with actor(conn, two_orgs.a.org_id, two_orgs.a.rep_ids[0]):
        row = conn.execute(
            "select token_id, token from api.create_api_token(p_name => 'ci', "
            "p_expires_at => %(exp)s)",
            {"exp": kw.get("expires_at")},
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _authenticate(conn: psycopg.Connection, token: str) -> tuple:
    with errors_translated(), conn.transaction():
        return conn.execute(
            "select org_id, user_id, token_id from api.authenticate_token(p_token => %s)", (token,)
        ).fetchone()


def test_token_authenticates_to_its_org_and_user(service, two_orgs: TwoOrgs) -> None:
    token_id, token = _create(service, two_orgs)
    assert token.startswith("itk_")
    assert _authenticate(service, token) == (two_orgs.a.org_id, two_orgs.a.rep_ids[0], token_id)


def test_token_is_stored_only_as_a_hash(admin, service, two_orgs: TwoOrgs) -> None:
    token_id, token = _create(service, two_orgs)
    stored = admin.execute(
        "select token_hash, token_prefix from app.api_tokens where id = %s", (token_id,)
    ).fetchone()
    assert stored == (hashlib.sha256(token.encode()).digest(), token[:12])
    dump = admin.execute("select to_jsonb(t)::text from app.api_tokens t").fetchall()
    assert not any(token in row[0] for row in dump)


def test_unknown_token_is_rejected(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(InvalidTokenError):
        _authenticate(service, "itk_" + "0" * 64)


def test_revoked_token_is_rejected(service, two_orgs: TwoOrgs) -> None:
    token_id, token = _create(service, two_orgs)
    with actor(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0]):
        assert service.execute(
            "select api.revoke_api_token(p_token_id => %s)", (token_id,)
        ).fetchone() == (True,)
    with pytest.raises(InvalidTokenError):
        _authenticate(service, token)


def test_expired_token_is_rejected(service, two_orgs: TwoOrgs) -> None:
    _, token = _create(service, two_orgs, expires_at="2030-01-01T00:00:00Z")
    service.execute("set app.fake_now = '2030-01-01T00:00:01Z'")
    with pytest.raises(InvalidTokenError):
        _authenticate(service, token)


def test_a_member_cannot_create_tokens_for_others(service, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(PermissionDeniedError),
        actor(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0]),
    ):
        service.execute(
            "select api.create_api_token(p_name => 'x', p_user_id => %s)",
            (two_orgs.a.manager_id,),
        )


def test_authenticate_is_for_the_service_role_only(db, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select * from api.authenticate_token(p_token => 'x')")
