"""TEMPORARY stand-in for the sql helper's web/auth.py (issue 16 contract), so the
console can be built before it lands: the cookie holds the API token itself. It is
replaced by the real module (sessions in app.web_sessions) at the merge of main."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from intime.errors import InvalidTokenError, translate

SESSION_COOKIE = "intime_session"
_AUTH = "select org_id, user_id from api.authenticate_token(p_token => %(token)s)"


@dataclasses.dataclass(frozen=True)
class Principal:
    org_id: uuid.UUID
    user_id: uuid.UUID
    token_id: uuid.UUID
    session_id: uuid.UUID | None
    csrf_token: str | None

    @property
    def via_session(self) -> bool:
        return self.session_id is not None


class Unauthenticated(Exception):
    pass


class CsrfRefused(Exception):
    pass


async def _lookup(pool: AsyncConnectionPool, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(_AUTH, {"token": token})
            row = await cur.fetchone()
    except psycopg.Error as exc:
        if isinstance(translate(exc), InvalidTokenError):
            raise Unauthenticated from None
        raise
    if row is None:
        raise Unauthenticated
    return row[0], row[1]


async def authenticate(request: Request) -> Principal:
    pool: AsyncConnectionPool = request.app.state.pool
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        org, user = await _lookup(pool, value.strip())
        return Principal(org, user, uuid.UUID(int=0), None, None)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated
    org, user = await _lookup(pool, cookie)
    return Principal(org, user, uuid.UUID(int=0), uuid.UUID(int=1), "dev-csrf")


def require_csrf(request: Request, principal: Principal, submitted: str | None) -> None:
    if not principal.via_session:
        return
    if submitted is None:
        submitted = request.headers.get("x-csrf-token")
    if not submitted or not secrets.compare_digest(submitted, principal.csrf_token or ""):
        raise CsrfRefused


async def sign_in(pool: AsyncConnectionPool, token: str) -> tuple[str, str, datetime]:
    await _lookup(pool, token)
    return token, "dev-csrf", datetime.now(UTC) + timedelta(hours=12)


async def sign_out(pool: AsyncConnectionPool, session: str) -> None:
    return None


def set_session_cookie(
    response: Response, session: str, expires_at: datetime, *, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int((expires_at - datetime.now(UTC)).total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
