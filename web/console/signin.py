"""Signing in (an API token exchanged for a session cookie) and out."""

from __future__ import annotations

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intime.errors import InTimeError, InvalidTokenError, RateLimitedError, translate
from web import auth
from web.console.base import PageError, Viewer, pool_of, read_form, render, same_origin

MAX_TOKEN = 512


def _form(error: str | None = None, status: int = 200) -> Response:
    return render("signin.html", status, viewer=None, error=error)


async def signin_form(request: Request) -> Response:
    """``GET /signin``: the form (or straight to the inbox when signed in)."""
    try:
        await auth.authenticate(request)
    except auth.Unauthenticated:
        return _form()
    return RedirectResponse("/inbox", 303)


async def signin(request: Request) -> Response:
    """``POST /signin`` with ``token``: a session cookie, then the inbox."""
    if not same_origin(request):
        return _form("This form must be sent from this site.", 403)
    try:
        form = await read_form(request)
    except PageError as exc:
        return _form(exc.detail, exc.status)
    token = form.get("token", "").strip()
    if not token:
        return _form("Paste an API token to sign in.", 422)
    if len(token) > MAX_TOKEN or not token.isprintable():
        return _form("That is not an API token.", 401)
    try:
        session, _csrf, expires_at = await auth.sign_in(pool_of(request), token)
    except (auth.Unauthenticated, InTimeError, psycopg.Error) as exc:
        return _form(*_refusal(exc))
    response = RedirectResponse("/inbox", 303)
    auth.set_session_cookie(response, session, expires_at, secure=auth.wants_secure_cookie(request))
    return response


BAD_TOKEN = ("That token is not valid: revoked, expired or mistyped.", 401)


def _refusal(exc: Exception) -> tuple[str, int]:
    """What the form says when sign_in refused the token."""
    if isinstance(exc, psycopg.Error) and not isinstance(exc, psycopg.DataError):
        error = translate(exc)
        if error is exc:
            raise exc  # an outage: the app's 503
        exc = error
    if isinstance(exc, RateLimitedError):
        return "Too many sign-ins; wait a minute.", 429
    if isinstance(exc, InTimeError) and not isinstance(exc, InvalidTokenError):
        return str(exc), 400
    return BAD_TOKEN


async def signout(request: Request, viewer: Viewer) -> Response:
    """``POST /signout``: ends the session and clears the cookie."""
    session = request.cookies.get(auth.SESSION_COOKIE)
    if session:
        await auth.sign_out(pool_of(request), session)
    response = RedirectResponse("/signin", 303)
    auth.clear_session_cookie(response)
    return response
