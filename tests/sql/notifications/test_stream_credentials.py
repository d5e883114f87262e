"""api.check_stream_credentials: many open streams' credentials re-checked in one call
(web/rechecks.py), and the ticket's token that a stream then stands on."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError, ServiceRoleRequiredError
from tests.support import Database, TwoOrgs

CHECK = (
    "select api.check_stream_credentials(p_org_ids => %s::uuid[], p_token_ids => %s::uuid[], "
    "p_session_ids => %s::uuid[])"
)


def _token(service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID, **kw) -> tuple:
    with actor(service, org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => 'stream', "
            "p_user_id => %s, p_expires_at => %s)",
            (user_id, kw.get("expires_at")),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _session(service: psycopg.Connection, token: str) -> tuple[uuid.UUID, str]:
    session = service.execute(
        "select session from api.create_web_session(p_token => %s)", (token,)
    ).fetchone()[0]
    session_id = service.execute(
        "select session_id from api.authenticate_web_session(p_session => %s)", (session,)
    ).fetchone()[0]
    return session_id, session


def _check(conn: psycopg.Connection, *creds: tuple) -> list[bool]:
    """creds: (org_id, token_id) or (org_id, token_id, session_id)."""
    with errors_translated():
        row = conn.execute(
            CHECK,
            (
                [c[0] for c in creds],
                [c[1] for c in creds],
                [c[2] if len(c) > 2 else None for c in creds],
            ),
        ).fetchone()
    assert row is not None
    return row[0]


def test_a_live_token_holds_and_a_revoked_one_does_not(service, two_orgs: TwoOrgs) -> None:
    org, rep = two_orgs.a.org_id, two_orgs.a.rep_ids[0]
    live, _ = _token(service, org, rep)
    revoked, _ = _token(service, org, rep)
    with actor(service, org):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (revoked,))
    assert _check(service, (org, live), (org, revoked), (org, live)) == [True, False, True]


def test_an_expired_token_does_not_hold(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    token_id, _ = _token(service, org, two_orgs.a.rep_ids[0], expires_at="2030-01-01T00:00:00Z")
    service.execute("set app.fake_now = '2030-01-01T00:00:01Z'")
    assert _check(service, (org, token_id)) == [False]


def test_the_token_of_a_deactivated_user_does_not_hold(service, two_orgs: TwoOrgs) -> None:
    org, rep = two_orgs.a.org_id, two_orgs.a.rep_ids[0]
    token_id, _ = _token(service, org, rep)
    with actor(service, org):
        service.execute(
            "select api.update_user(p_user_id => %s, p_changes => '{\"is_active\": false}')",
            (rep,),
        )
    assert _check(service, (org, token_id)) == [False]


def test_a_token_named_under_another_org_does_not_hold(service, two_orgs: TwoOrgs) -> None:
    token_id, _ = _token(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    assert _check(service, (two_orgs.b.org_id, token_id), (two_orgs.a.org_id, uuid.uuid4())) == [
        False,
        False,
    ]


def test_an_open_session_holds_and_an_ended_one_does_not(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    token_id, token = _token(service, org, two_orgs.a.rep_ids[0])
    kept, _ = _session(service, token)
    ended, secret = _session(service, token)
    service.execute("select api.end_web_session(p_session => %s)", (secret,))
    assert _check(service, (org, token_id, kept), (org, token_id, ended)) == [True, False]


def test_an_expired_session_does_not_hold(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    token_id, token = _token(service, org, two_orgs.a.rep_ids[0])
    session_id, _ = _session(service, token)
    service.execute("set app.fake_now = '2030-01-01T12:00:00Z'")
    assert _check(service, (org, token_id, session_id)) == [False]


def test_a_session_does_not_hold_once_its_token_is_revoked(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    token_id, token = _token(service, org, two_orgs.a.rep_ids[0])
    session_id, _ = _session(service, token)
    with actor(service, org):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    assert _check(service, (org, token_id, session_id)) == [False]


def test_a_session_named_with_another_token_does_not_hold(service, two_orgs: TwoOrgs) -> None:
    """A session is checked with the token it was opened with, not any live token."""
    org, rep = two_orgs.a.org_id, two_orgs.a.rep_ids[0]
    _, token = _token(service, org, rep)
    other, _ = _token(service, org, rep)
    session_id, _ = _session(service, token)
    assert _check(service, (org, other, session_id)) == [False]


def test_a_session_named_with_another_token_does_not_hold_beside_its_own(
    service, two_orgs: TwoOrgs
) -> None:
    """Review of session 35: with the sessions read apart, the same session named twice,
    once with its own token, let the other token's entry hold too."""
    org, rep = two_orgs.a.org_id, two_orgs.a.rep_ids[0]
    own, token = _token(service, org, rep)
    other, _ = _token(service, org, rep)
    session_id, _ = _session(service, token)
    assert _check(service, (org, own, session_id), (org, other, session_id)) == [True, False]


def test_no_credentials_is_an_empty_answer(service) -> None:
    assert _check(service) == []


@pytest.mark.parametrize(
    ("org_ids", "token_ids", "session_ids"),
    [
        ([uuid.uuid4()], [uuid.uuid4(), uuid.uuid4()], [None]),
        ([uuid.uuid4()], [uuid.uuid4()], [None, None]),
        ([None], [uuid.uuid4()], [None]),
        ([uuid.uuid4()], [None], [None]),
        (None, [], []),
        ([uuid.uuid4()] * 1001, [uuid.uuid4()] * 1001, [None] * 1001),
    ],
    ids=["tokens longer", "sessions longer", "null org", "null token", "null array", "1,001"],
)
def test_malformed_arrays_are_refused(service, org_ids, token_ids, session_ids) -> None:
    with pytest.raises(InvalidParameterError), errors_translated():
        service.execute(CHECK, (org_ids, token_ids, session_ids))


def test_checking_is_for_the_service_role_only(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute(CHECK, ([], [], []))


def test_a_check_records_the_tokens_use_at_most_once_a_minute(
    admin, service, two_orgs: TwoOrgs
) -> None:
    org = two_orgs.a.org_id
    token_id, _ = _token(service, org, two_orgs.a.rep_ids[0])
    used = "select last_used_at from app.api_tokens where id = %s"
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    _check(service, (org, token_id))
    assert admin.execute(used, (token_id,)).fetchone()[0].isoformat() == "2030-01-01T00:00:00+00:00"
    service.execute("set app.fake_now = '2030-01-01T00:00:59Z'")
    _check(service, (org, token_id))
    assert admin.execute(used, (token_id,)).fetchone()[0].isoformat() == "2030-01-01T00:00:00+00:00"
    service.execute("set app.fake_now = '2030-01-01T00:01:01Z'")
    _check(service, (org, token_id))
    assert admin.execute(used, (token_id,)).fetchone()[0].isoformat() == "2030-01-01T00:01:01+00:00"


def test_a_check_records_the_sessions_last_sight(admin, service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    service.execute("set app.fake_now = '2030-01-01T00:00:00Z'")
    token_id, token = _token(service, org, two_orgs.a.rep_ids[0])
    session_id, _ = _session(service, token)
    service.execute("set app.fake_now = '2030-01-01T00:05:00Z'")
    _check(service, (org, token_id, session_id))
    seen = admin.execute(
        "select last_seen_at from app.web_sessions where id = %s", (session_id,)
    ).fetchone()[0]
    assert seen.isoformat() == "2030-01-01T00:05:00+00:00"


def test_a_failed_check_records_no_use(admin, service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a.org_id
    token_id, _ = _token(service, org, two_orgs.a.rep_ids[0])
    with actor(service, org):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    _check(service, (org, token_id))
    assert admin.execute(
        "select last_used_at from app.api_tokens where id = %s", (token_id,)
    ).fetchone() == (None,)


def test_a_claimed_ticket_names_the_token_that_made_it(service, two_orgs: TwoOrgs) -> None:
    org, rep = two_orgs.a.org_id, two_orgs.a.rep_ids[0]
    token_id, token = _token(service, org, rep)
    ticket = service.execute(
        "select ticket from api.create_stream_ticket(p_token => %s)", (token,)
    ).fetchone()[0]
    row = service.execute(
        "select org_id, user_id, token_id from api.claim_stream_ticket(p_ticket => %s)", (ticket,)
    ).fetchone()
    assert row == (org, rep, token_id)


def test_a_check_never_waits_for_a_row_another_transaction_holds(
    admin, service, two_orgs: TwoOrgs
) -> None:
    """A login's open transaction on its own token (a revoke left open in psql) held the
    call, and with it every stream of the web process, of every org. The held rows'
    bookkeeping is skipped; the others' is done."""
    org = two_orgs.a.org_id
    held, held_token = _token(service, org, two_orgs.a.rep_ids[0])
    free, _ = _token(service, org, two_orgs.a.rep_ids[0])
    session_id, _ = _session(service, held_token)
    admin.execute(
        "update app.api_tokens set last_used_at = '2000-01-01T00:00:00Z' where id = %s", (held,)
    )
    admin.execute(
        "update app.web_sessions set last_seen_at = '2000-01-01T00:00:00Z' where id = %s",
        (session_id,),
    )
    service.execute("set lock_timeout = '2s'")
    with admin.transaction():
        # By org too: Citus locks one org's rows (docs/scale-out.md, "SQL shapes").
        admin.execute(
            "select from app.api_tokens where org_id = %s and id = %s for update", (org, held)
        )
        admin.execute(
            "select from app.web_sessions where org_id = %s and id = %s for update",
            (org, session_id),
        )
        assert _check(service, (org, held, session_id), (org, free)) == [True, True]
    used = dict(
        admin.execute(
            "select id, extract(year from last_used_at) from app.api_tokens where id = any(%s)",
            ([held, free],),
        ).fetchall()
    )
    assert used[held] == 2000  # held: skipped
    assert used[free] is not None  # done
    seen = admin.execute(
        "select extract(year from last_seen_at) from app.web_sessions where id = %s",
        (session_id,),
    ).fetchone()
    assert seen == (2000,)
