"""Who is calling: an API token (``Authorization: Bearer``) or a console session cookie.

A console sign-in exchanges an API token for a session (``api.create_web_session``):
the cookie holds a random secret whose SHA-256 the database keeps, so a session is
ended server-side (sign-out, token revoked, user deactivated) and the cookie carries
nothing to forge or decode. Every request with a session acts as the token's user
through the same SQL API. A session principal must prove each write with the
session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``) from a
page of this origin; a bearer principal needs no such proof (a browser never sends
the header by itself). docs/console.md "Sessions and approval links".
"""

from __future__ import annotations

import dataclasses
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any, LiteralString
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from intime.errors import InvalidTokenError, translate
from web import queries as q

SESSION_COOKIE = "intime_session"
CSRF_HEADER = "x-csrf-token"
MAX_CREDENTIAL = 512


@dataclasses.dataclass(frozen=True)
class Principal:
    """The caller: an org's user, through one of their API tokens, directly (bearer) or
    through a console session (``session_id`` and ``csrf_token`` set)."""

    org_id: uuid.UUID
    user_id: uuid.UUID
    token_id: uuid.UUID
    session_id: uuid.UUID | None = None
    csrf_token: str | None = None

    @property
    def via_session(self) -> bool:
        return self.session_id is not None


class Unauthenticated(Exception):
    """No credential, or one the database refuses (unknown, revoked, expired, ended)."""


class CsrfRefused(Exception):
    """A session's write without its CSRF token, or from another origin."""


def _credential(value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_CREDENTIAL or not value.isprintable() or not value.isascii():
        raise Unauthenticated
    return value


def bearer_token(request: Request) -> str | None:
    """The bearer token of the request, None when there is no Authorization header."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated
    return _credential(value)


async def _row(pool: AsyncConnectionPool, query: LiteralString, params: dict[str, str]) -> Any:
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
    except psycopg.Error as exc:
        if isinstance(translate(exc), InvalidTokenError):
            raise Unauthenticated from None
        raise
    if row is None:
        raise Unauthenticated
    return row


async def authenticate(request: Request) -> Principal:
    """The principal of a request: its bearer token when it has an Authorization header,
    else its session cookie. ``Unauthenticated`` when neither authorizes."""
    pool: AsyncConnectionPool = request.app.state.pool
    token = bearer_token(request)
    if token is not None:
        org_id, user_id, token_id = await _row(pool, q.AUTHENTICATE_BEARER, {"token": token})
        return Principal(org_id, user_id, token_id)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise Unauthenticated
    org_id, user_id, token_id, session_id, csrf = await _row(
        pool, q.AUTHENTICATE_WEB_SESSION, {"session": _credential(cookie)}
    )
    return Principal(org_id, user_id, token_id, session_id, csrf)


def same_origin_url(request: Request, url: str) -> bool:
    """Whether ``url`` (an Origin or Referer) names this host: the request's Host, or the
    host of ``app.state.public_url`` when the app has one (a proxy that rewrites Host).
    Only the host and port are compared: behind a TLS-terminating proxy the app sees http
    while the browser says https."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    hosts = {request.headers.get("host", "")}
    public_url = getattr(request.app.state, "public_url", None)
    if isinstance(public_url, str) and public_url:
        hosts.add(urlsplit(public_url).netloc)
    return parts.netloc.lower() in {h.lower() for h in hosts if h}


def wants_secure_cookie(request: Request) -> bool:
    """Whether the session cookie must be ``Secure``: the request came over https, or the
    app's public URL is https (a TLS proxy that uvicorn does not trust for its scheme)."""
    public_url = getattr(request.app.state, "public_url", None)
    return request.url.scheme == "https" or (
        isinstance(public_url, str) and public_url.lower().startswith("https://")
    )


def require_csrf(request: Request, principal: Principal, submitted: str | None) -> None:
    """Refuse (``CsrfRefused``) a session principal's write unless it carries the session's
    CSRF token (``submitted``, the form field ``csrf_token``, or else the ``X-CSRF-Token``
    header) and, when the browser names one, comes from this origin (Origin, else Referer).
    A bearer principal passes: a browser does not attach bearer tokens by itself."""
    if not principal.via_session:
        return
    origin = request.headers.get("origin")
    if origin is not None:
        if not same_origin_url(request, origin):
            raise CsrfRefused("the request comes from another origin")
    else:
        referer = request.headers.get("referer")
        if referer is not None and not same_origin_url(request, referer):
            raise CsrfRefused("the request comes from another origin")
    given = submitted if submitted is not None else request.headers.get(CSRF_HEADER)
    expected = principal.csrf_token
    if not given or not expected or not given.isascii():
        raise CsrfRefused("the form's CSRF token is missing")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfRefused("the form's CSRF token is wrong")


async def sign_in(pool: AsyncConnectionPool, token: str) -> tuple[str, str, datetime]:
    """A new console session for API token ``token``: (session secret, CSRF token,
    expires at). ``Unauthenticated`` when the token does not authorize."""
    session, csrf, expires_at = await _row(
        pool, q.CREATE_WEB_SESSION, {"token": _credential(token)}
    )
    return session, csrf, expires_at


async def sign_out(pool: AsyncConnectionPool, session: str) -> None:
    """End the console session ``session`` (nothing when it is unknown or ended)."""
    try:
        value = _credential(session)
    except Unauthenticated:
        return
    async with pool.connection() as conn:
        await conn.execute(q.END_WEB_SESSION, {"session": value})


def set_session_cookie(
    response: Response, session: str, expires_at: datetime, *, secure: bool
) -> None:
    """The session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
    page sends it), Path=/, and Max-Age until the session expires."""
    max_age = max(int((expires_at - datetime.now(UTC)).total_seconds()), 0)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    """Tell the browser to drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=False, httponly=True, samesite="strict")
