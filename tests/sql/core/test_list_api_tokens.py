"""api.list_api_tokens: a member's own tokens, an admin's view of all, never the secret."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import actor
from intime.errors import PermissionDeniedError
from tests.support import TwoOrgs

LIST = (
    "select token_id, user_id, user_email, name, token_prefix, created_at, last_used_at, "
    "expires_at, revoked_at from api.list_api_tokens(p_user_id => %(user_id)s)"
)


def _create(
    service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID, name: str
) -> tuple[uuid.UUID, str]:
    with actor(service, org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => %s, p_user_id => %s)",
            (name, user_id),
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def _list(
    service: psycopg.Connection,
    org_id: uuid.UUID,
    caller: uuid.UUID | None,
    user_id: uuid.UUID | None = None,
) -> list[tuple]:
    with actor(service, org_id, caller):
        return service.execute(LIST, {"user_id": user_id}).fetchall()


@pytest.fixture
def tokens(service: psycopg.Connection, two_orgs: TwoOrgs) -> dict[str, tuple[uuid.UUID, str]]:
    a = two_orgs.a
    return {
        "rep0": _create(service, a.org_id, a.rep_ids[0], "rep0 laptop"),
        "rep1": _create(service, a.org_id, a.rep_ids[1], "rep1 laptop"),
        "admin": _create(service, a.org_id, a.admin_id, "admin ci"),
        "other_org": _create(service, two_orgs.b.org_id, two_orgs.b.rep_ids[0], "globex"),
    }


def test_a_member_sees_only_their_own_tokens(service, two_orgs: TwoOrgs, tokens) -> None:
    rows = _list(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    assert {r[1] for r in rows} == {two_orgs.a.rep_ids[0]}  # the seed's token, and this one
    assert (tokens["rep0"][0], "rep0 laptop") in [(r[0], r[3]) for r in rows]


def test_a_member_may_not_list_another_users_tokens(service, two_orgs: TwoOrgs, tokens) -> None:
    with pytest.raises(PermissionDeniedError):
        _list(service, two_orgs.a.org_id, two_orgs.a.rep_ids[0], two_orgs.a.rep_ids[1])


def test_an_admin_sees_every_token_of_the_org(service, two_orgs: TwoOrgs, tokens) -> None:
    rows = _list(service, two_orgs.a.org_id, two_orgs.a.admin_id)
    ids = {r[0] for r in rows}
    assert ids >= {tokens["rep0"][0], tokens["rep1"][0], tokens["admin"][0]}
    assert tokens["other_org"][0] not in ids


def test_the_user_filter_narrows_an_admins_list(service, two_orgs: TwoOrgs, tokens) -> None:
    rows = _list(service, two_orgs.a.org_id, two_orgs.a.admin_id, two_orgs.a.rep_ids[1])
    assert {r[1] for r in rows} == {two_orgs.a.rep_ids[1]}
    assert tokens["rep1"][0] in [r[0] for r in rows]


def test_the_service_role_sees_every_token_of_its_org(service, two_orgs: TwoOrgs, tokens) -> None:
    ids = {r[0] for r in _list(service, two_orgs.b.org_id, None)}
    assert tokens["other_org"][0] in ids
    assert tokens["rep0"][0] not in ids


def test_the_clear_token_is_never_returned(service, two_orgs: TwoOrgs, tokens) -> None:
    rows = _list(service, two_orgs.a.org_id, two_orgs.a.admin_id)
    text = repr(rows)
    for _, clear in tokens.values():
        assert clear not in text
    row = next(r for r in rows if r[0] == tokens["rep0"][0])
    assert row[4] == tokens["rep0"][1][:12]


def test_revocation_and_email_are_listed(admin, service, two_orgs: TwoOrgs, tokens) -> None:
    rep = two_orgs.a.rep_ids[0]
    with actor(service, two_orgs.a.org_id, rep):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (tokens["rep0"][0],))
    row = next(r for r in _list(service, two_orgs.a.org_id, rep) if r[0] == tokens["rep0"][0])
    email = admin.execute("select email from app.user_profiles where id = %s", (rep,)).fetchone()
    assert row[8] is not None
    assert email is not None
    assert row[2] == email[0]
