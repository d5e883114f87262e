"""Console sessions: an API token exchanged for a server-side session secret."""

from __future__ import annotations

import hashlib
import uuid

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidTokenError, ServiceRoleRequiredError
from tests.support import Database, TwoOrgs


def _token(service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID) -> tuple:
    with actor(service, org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => 'console', "
            "p_user_id => %s)",
            (user_id,),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _sign_in(service: psycopg.Connection, token: str) -> tuple:
    with errors_translated():
        row = service.execute(
            "select session, csrf_token, expires_at from api.create_web_session(p_token => %s)",
            (token,),
        ).fetchone()
    assert row is not None
    return row


def _whoami(service: psycopg.Connection, session: str) -> tuple:
    with errors_translated():
        row = service.execute(
            "select org_id, user_id, token_id, session_id, csrf_token "
            "from api.authenticate_web_session(p_session => %s)",
            (session,),
        ).fetchone()
    assert row is not None
    return row


def _end(service: psycopg.Connection, session: str) -> bool:
    row = service.execute("select api.end_web_session(p_session => %s)", (session,)).fetchone()
    assert row is not None
    return bool(row[0])


def test_a_session_authenticates_as_the_tokens_user(service, two_orgs: TwoOrgs) -> None:
    rep = two_orgs.a.rep_ids[0]
    token_id, token = _token(service, two_orgs.a.org_id, rep)
    session, csrf, _ = _sign_in(service, token)
    assert session.startswith("itws_")
    assert len(session) == 69
    org_id, user_id, got_token, session_id, got_csrf = _whoami(service, session)
    assert (org_id, user_id, got_token, got_csrf) == (two_orgs.a.org_id, rep, token_id, csrf)
    assert isinstance(session_id, uuid.UUID)


def test_a_session_lasts_twelve_hours(service, two_orgs: TwoOrgs) -> None:
    _, token = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    session, _, expires_at = _sign_in(service, token)
    assert expires_at.isoformat() == "2030-01-01T12:00:00+00:00"
    service.execute("set app.fake_now = '2030-01-01T11:59:59Z'")
    _whoami(service, session)
    service.execute("set app.fake_now = '2030-01-01T12:00:00Z'")
    with pytest.raises(InvalidTokenError):
        _whoami(service, session)


def test_the_secret_is_stored_only_as_a_hash(admin, service, two_orgs: TwoOrgs) -> None:
    _, token = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    session, _, _ = _sign_in(service, token)
    digest = hashlib.sha256(session.encode()).digest()
    stored = admin.execute(
        "select count(*) from app.web_sessions where secret_hash = %s", (digest,)
    ).fetchone()
    assert stored == (1,)
    dump = admin.execute("select to_jsonb(s)::text from app.web_sessions s").fetchall()
    assert not any(session in row[0] for row in dump)


def test_an_ended_session_no_longer_authenticates(service, two_orgs: TwoOrgs) -> None:
    _, token = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    session, _, _ = _sign_in(service, token)
    assert _end(service, session) is True
    assert _end(service, session) is False
    with pytest.raises(InvalidTokenError):
        _whoami(service, session)


def test_ending_one_session_leaves_the_others(service, two_orgs: TwoOrgs) -> None:
    _, token = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    first, _, _ = _sign_in(service, token)
    second, _, _ = _sign_in(service, token)
    _end(service, first)
    assert _whoami(service, second)[1] == two_orgs.a.rep_ids[0]


def test_revoking_the_token_ends_its_sessions(service, two_orgs: TwoOrgs) -> None:
    rep = two_orgs.a.rep_ids[0]
    token_id, token = _token(service, two_orgs.a.org_id, rep)
    session, _, _ = _sign_in(service, token)
    with actor(service, two_orgs.a.org_id, rep):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    with pytest.raises(InvalidTokenError):
        _whoami(service, session)


def test_deactivating_the_user_ends_their_sessions(service, two_orgs: TwoOrgs) -> None:
    rep = two_orgs.a.rep_ids[0]
    _, token = _token(service, two_orgs.a.org_id, rep)
    session, _, _ = _sign_in(service, token)
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        service.execute(
            "select api.update_user(p_user_id => %s, p_changes => '{\"is_active\": false}')",
            (rep,),
        )
    with pytest.raises(InvalidTokenError):
        _whoami(service, session)


def test_the_tokens_expiry_ends_its_sessions(service, two_orgs: TwoOrgs) -> None:
    with actor(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0]):
        row = service.execute(
            "select token from api.create_api_token(p_name => 'short', "
            "p_expires_at => '2030-01-01T01:00:00Z')"
        ).fetchone()
    assert row is not None
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    session, _, _ = _sign_in(service, row[0])
    service.execute("set app.fake_now = '2030-01-01T01:00:01Z'")
    with pytest.raises(InvalidTokenError):
        _whoami(service, session)


@pytest.mark.parametrize("token", ["", "itk_" + "0" * 64, "not a token"])
def test_an_invalid_token_makes_no_session(admin, service, two_orgs: TwoOrgs, token: str) -> None:
    before = admin.execute("select count(*) from app.web_sessions").fetchone()
    with pytest.raises(InvalidTokenError):
        _sign_in(service, token)
    assert admin.execute("select count(*) from app.web_sessions").fetchone() == before


def test_a_revoked_token_makes_no_session(service, two_orgs: TwoOrgs) -> None:
    rep = two_orgs.a.rep_ids[0]
    token_id, token = _token(service, two_orgs.a.org_id, rep)
    with actor(service, two_orgs.a.org_id, rep):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    with pytest.raises(InvalidTokenError):
        _sign_in(service, token)


def test_an_unknown_session_is_refused(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(InvalidTokenError):
        _whoami(service, "itws_" + "0" * 64)


def test_each_orgs_session_resolves_to_its_own_org(service, two_orgs: TwoOrgs) -> None:
    _, token_a = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    _, token_b = _token(service, two_orgs.b.org_id, two_orgs.b.rep_ids[0])
    session_a, _, _ = _sign_in(service, token_a)
    session_b, _, _ = _sign_in(service, token_b)
    assert _whoami(service, session_a)[:2] == (two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    assert _whoami(service, session_b)[:2] == (two_orgs.b.org_id, two_orgs.b.rep_ids[0])


def test_last_seen_is_written_at_most_once_a_minute(admin, service, two_orgs: TwoOrgs) -> None:
    _, token = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    session, _, _ = _sign_in(service, token)

    def last_seen() -> str:
        row = admin.execute(
            "select last_seen_at::text from app.web_sessions where secret_hash = %s",
            (hashlib.sha256(session.encode()).digest(),),
        ).fetchone()
        assert row is not None
        return str(row[0])

    service.execute("set app.fake_now = '2030-01-01T00:00:59Z'")
    _whoami(service, session)
    assert last_seen() == "2030-01-01 00:00:00+00"
    service.execute("set app.fake_now = '2030-01-01T00:01:01Z'")
    _whoami(service, session)
    assert last_seen() == "2030-01-01 00:01:01+00"


@pytest.mark.parametrize(
    "call",
    [
        "select * from api.create_web_session(p_token => 'x')",
        "select * from api.authenticate_web_session(p_session => 'x')",
        "select api.end_web_session(p_session => 'x')",
    ],
)
def test_sessions_are_for_the_service_role_only(db: Database, two_orgs: TwoOrgs, call) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute(call)


def test_a_login_cannot_read_the_sessions_table(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("select * from app.web_sessions")
