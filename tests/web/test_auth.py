"""web.auth over real HTTP: bearer tokens, console sessions, the cookie's flags, CSRF."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import psycopg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from intime.db import actor, open_pool
from intime_cli.serving import serve_in_thread
from tests.support import Database, TwoOrgs
from web.auth import (
    SESSION_COOKIE,
    CsrfRefused,
    Unauthenticated,
    authenticate,
    clear_session_cookie,
    require_csrf,
    set_session_cookie,
    sign_in,
    sign_out,
)


async def _sign_in(request: Request) -> Response:
    form = await request.form()
    try:
        session, csrf, expires_at = await sign_in(request.app.state.pool, str(form["token"]))
    except Unauthenticated:
        return JSONResponse({"error": "refused"}, 401)
    response = JSONResponse({"csrf_token": csrf})
    set_session_cookie(response, session, expires_at, secure=request.app.state.secure)
    return response


async def _sign_out(request: Request) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    if session is not None:
        await sign_out(request.app.state.pool, session)
    response = JSONResponse({"signed_out": True})
    clear_session_cookie(response)
    return response


async def _whoami(request: Request) -> Response:
    try:
        who = await authenticate(request)
    except Unauthenticated:
        return JSONResponse({"error": "unauthenticated"}, 401)
    return JSONResponse(
        {"org_id": str(who.org_id), "user_id": str(who.user_id), "session": who.via_session}
    )


async def _write(request: Request) -> Response:
    try:
        who = await authenticate(request)
    except Unauthenticated:
        return JSONResponse({"error": "unauthenticated"}, 401)
    form = await request.form()
    submitted = form.get("csrf_token")
    try:
        require_csrf(request, who, submitted if isinstance(submitted, str) else None)
    except CsrfRefused as exc:
        return JSONResponse({"error": str(exc)}, 403)
    return JSONResponse({"written": True})


def _app(dsn: str, *, secure: bool = False, public_url: str | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await open_pool(dsn, min_size=1, max_size=4, autocommit=True)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = Starlette(
        routes=[
            Route("/signin", _sign_in, methods=["POST"]),
            Route("/signout", _sign_out, methods=["POST"]),
            Route("/whoami", _whoami),
            Route("/write", _write, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.secure = secure
    if public_url is not None:
        app.state.public_url = public_url
    return app


@pytest.fixture
def url(db: Database) -> Iterator[str]:
    with serve_in_thread(_app(db.dsn("intime_service"))) as base:
        yield base


@pytest.fixture
def issue_token(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> Callable[..., tuple[uuid.UUID, str]]:
    def create(user_id: uuid.UUID, org_id: uuid.UUID | None = None) -> tuple[uuid.UUID, str]:
        with actor(service, org_id or two_orgs.a.org_id):
            row = service.execute(
                "select token_id, token from api.create_api_token(p_name => 'web', "
                "p_user_id => %s)",
                (user_id,),
            ).fetchone()
        assert row is not None
        return row[0], row[1]

    return create


def _signed_in(url: str, token: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, timeout=10)
    response = client.post("/signin", data={"token": token})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]


def test_signing_in_sets_a_strict_httponly_expiring_cookie(url: str, two_orgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    response = httpx.post(f"{url}/signin", data={"token": token}, timeout=10)
    cookie = response.headers["set-cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"{SESSION_COOKIE}=itws_")
    assert {"httponly", "samesite", "path", "max-age"} <= flags
    assert "samesite=strict" in cookie.lower()
    assert "path=/" in cookie.lower()
    max_age = int(cookie.lower().split("max-age=")[1].split(";")[0])
    assert 12 * 3600 - 60 <= max_age <= 12 * 3600
    assert "secure" not in flags


def test_the_cookie_is_secure_when_asked(db: Database, two_orgs: TwoOrgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    with serve_in_thread(_app(db.dsn("intime_service"), secure=True)) as base:
        response = httpx.post(f"{base}/signin", data={"token": token}, timeout=10)
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


def test_the_session_acts_as_the_tokens_user(url: str, two_orgs: TwoOrgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    client, _ = _signed_in(url, token)
    assert client.get("/whoami").json() == {
        "org_id": str(two_orgs.a.org_id),
        "user_id": str(two_orgs.a.rep_ids[0]),
        "session": True,
    }


def test_a_bearer_token_authenticates_without_a_session(url: str, two_orgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[1])
    response = httpx.get(f"{url}/whoami", headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.json()["user_id"] == str(two_orgs.a.rep_ids[1])
    assert response.json()["session"] is False


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer itk_" + "0" * 64},
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"cookie": f"{SESSION_COOKIE}=itws_" + "0" * 64},
        {"cookie": f"{SESSION_COOKIE}=" + "x" * 600},
    ],
)
def test_no_valid_credential_is_refused(url: str, two_orgs: TwoOrgs, headers) -> None:
    assert httpx.get(f"{url}/whoami", headers=headers, timeout=10).status_code == 401


def test_a_bad_token_signs_nobody_in(url: str, two_orgs: TwoOrgs) -> None:
    response = httpx.post(f"{url}/signin", data={"token": "itk_nope"}, timeout=10)
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_another_orgs_session_authenticates_only_as_that_org(url, two_orgs, issue_token) -> None:
    _, token = issue_token(two_orgs.b.rep_ids[0], two_orgs.b.org_id)
    client, _ = _signed_in(url, token)
    who = client.get("/whoami").json()
    assert who["org_id"] == str(two_orgs.b.org_id)
    assert who["user_id"] == str(two_orgs.b.rep_ids[0])


def test_signing_out_ends_the_session_for_good(url: str, two_orgs: TwoOrgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    client, _ = _signed_in(url, token)
    session = client.cookies[SESSION_COOKIE]
    response = client.post("/signout")
    assert f"{SESSION_COOKIE}=" in response.headers["set-cookie"]
    assert "max-age=0" in response.headers["set-cookie"].lower()
    replay = httpx.get(f"{url}/whoami", cookies={SESSION_COOKIE: session}, timeout=10)
    assert replay.status_code == 401


def test_revoking_the_token_ends_the_session(url, service, two_orgs: TwoOrgs, issue_token) -> None:
    rep = two_orgs.a.rep_ids[0]
    token_id, token = issue_token(rep)
    client, _ = _signed_in(url, token)
    assert client.get("/whoami").status_code == 200
    with actor(service, two_orgs.a.org_id, rep):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    assert client.get("/whoami").status_code == 401


def test_a_session_write_with_its_csrf_token_passes(url: str, two_orgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    client, csrf = _signed_in(url, token)
    assert client.post("/write", data={"csrf_token": csrf}).status_code == 200
    assert client.post("/write", headers={"x-csrf-token": csrf}).status_code == 200
    same_origin = {"origin": url, "x-csrf-token": csrf}
    assert client.post("/write", headers=same_origin).status_code == 200


@pytest.mark.parametrize("form", [{}, {"csrf_token": ""}, {"csrf_token": "0" * 64}])
def test_a_session_write_without_the_right_csrf_token_is_refused(
    url: str, two_orgs: TwoOrgs, issue_token, form: dict[str, str]
) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    client, _ = _signed_in(url, token)
    assert client.post("/write", data=form).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/page"},
    ],
)
def test_a_session_write_from_another_origin_is_refused(
    url: str, two_orgs: TwoOrgs, issue_token, headers: dict[str, str]
) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    client, csrf = _signed_in(url, token)
    response = client.post("/write", data={"csrf_token": csrf}, headers=headers)
    assert response.status_code == 403
    assert "origin" in response.json()["error"]


def test_one_sessions_csrf_token_does_not_pass_for_another(url, two_orgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    _first, csrf_first = _signed_in(url, token)
    second, csrf_second = _signed_in(url, token)
    assert csrf_first != csrf_second
    assert second.post("/write", data={"csrf_token": csrf_first}).status_code == 403


def test_a_bearer_write_needs_no_csrf_token(url: str, two_orgs: TwoOrgs, issue_token) -> None:
    _, token = issue_token(two_orgs.a.rep_ids[0])
    response = httpx.post(f"{url}/write", headers={"authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200


def test_the_public_urls_origin_passes_behind_a_proxy(db: Database, two_orgs, issue_token) -> None:
    """A proxy that rewrites Host: the browser's Origin is the public URL's."""
    _, token = issue_token(two_orgs.a.rep_ids[0])
    app = _app(db.dsn("intime_service"), public_url="https://crm.example")
    with serve_in_thread(app) as base:
        client, csrf = _signed_in(base, token)
        ok = client.post(
            "/write", data={"csrf_token": csrf}, headers={"origin": "https://crm.example"}
        )
        other = client.post(
            "/write", data={"csrf_token": csrf}, headers={"origin": "https://crm.example.evil"}
        )
    assert (ok.status_code, other.status_code) == (200, 403)
