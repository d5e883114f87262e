"""Errors as HTTP answers: ONE table from SQLSTATE to HTTP status, and RFC 9457
problem documents (``application/problem+json``).

The JSON API (web/api.py) answers every refusal with ``problem``; the console reuses
``status_for`` for its error pages. docs/http-api.md lists the table; a test checks
that every code registered in intime/errors.py (docs/errors.md) is in it.
"""

from __future__ import annotations

import http
import re
from typing import Any

import psycopg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from intime.errors import InTimeError
from web.limits import RETRY_AFTER_SECONDS

MEDIA_TYPE = "application/problem+json"

# The project's codes (docs/errors.md), then the PostgreSQL codes an api function can
# let through (a privilege or RLS refusal, a constraint), then whole SQLSTATE classes.
STATUS_BY_SQLSTATE: dict[str, int] = {
    "IT001": 500,  # an applied migration was changed: the deployment is broken
    "IT002": 403,  # service role only: no user may call it
    "IT003": 403,  # the caller's role lacks a permission, admin or ownership
    "IT004": 404,  # not in the caller's organization (another org's id looks the same)
    "IT005": 422,  # an argument the database refuses (time zone, channel, limit ...)
    "IT006": 409,  # a unique business key is taken
    "IT007": 401,  # the API token (or session) is unknown, revoked or expired
    "IT008": 403,  # no organization in context: the credential maps to no user
    "IT009": 503,  # the migration lock is held: a deploy is running, retry later
    "IT010": 422,  # a template's required variables are missing from the request
    "IT011": 409,  # the organization has not configured the feature yet
    "IT012": 422,  # a workflow definition is invalid
    "IT013": 409,  # not in a state that allows this (no longer pending, not failed ...)
    "IT014": 409,  # an approval locks the entity or field
    "IT015": 409,  # the state machine has no such transition
    "IT016": 429,  # rate limited; Retry-After from the error's hint
    "IT017": 409,  # a risky change needs an explicit force
    "IT018": 503,  # a node of the cluster did not answer: retry later
    "42501": 403,  # a privilege or row-level security refusal
    "23503": 422,  # a reference to a row that is not the caller's organization's
    "23505": 409,  # a duplicate
    "23514": 422,  # a failed check constraint
}
STATUS_BY_CLASS: dict[str, int] = {
    "22": 422,  # data exception: a value out of range, a bad format
    "54": 422,  # program limit exceeded: the input is too big for the database
}

_RETRY_IN = re.compile(r"retry in (\d{1,6}) seconds?", re.IGNORECASE)
DEFAULT_RETRY_AFTER = 60


def status_for(sqlstate: str | None) -> int:
    """The HTTP status for a SQLSTATE: the table, else its class, else 500."""
    state = sqlstate or ""
    if state in STATUS_BY_SQLSTATE:
        return STATUS_BY_SQLSTATE[state]
    return STATUS_BY_CLASS.get(state[:2], 500)


def problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    code: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An RFC 9457 problem document. ``title`` defaults to the status's phrase; ``code``
    is the SQLSTATE when the database refused (an extension member clients may branch on)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or http.HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if code:
        body["code"] = code
    body.update(extra)
    return JSONResponse(body, status, headers=headers, media_type=MEDIA_TYPE)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route: 404; a method the route does not take:
    405, with its Allow header): a problem document under ``/api/``, plain text elsewhere
    as Starlette answers them."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.url.path.startswith("/api/"):
        detail = exc.detail if exc.detail != http.HTTPStatus(exc.status_code).phrase else None
        return problem(exc.status_code, detail=detail, headers=headers)
    return PlainTextResponse(exc.detail, exc.status_code, headers=headers)


def retry_after(hint: str | None) -> int:
    """Seconds to wait from a hint such as 'Retry in 5 seconds.'; a minute otherwise."""
    match = _RETRY_IN.search(hint or "")
    return int(match.group(1)) if match else DEFAULT_RETRY_AFTER


def _diagnostics(exc: BaseException) -> tuple[str | None, str | None]:
    """The SQLSTATE and hint of a database error (or of the psycopg error an
    ``InTimeError`` was translated from)."""
    if isinstance(exc, InTimeError):
        cause = exc.__cause__
        hint = cause.diag.message_hint if isinstance(cause, psycopg.Error) else None
        return exc.sqlstate, hint
    if isinstance(exc, psycopg.Error):
        return exc.sqlstate, exc.diag.message_hint
    return None, None


def database_problem(exc: InTimeError | psycopg.Error) -> JSONResponse:
    """The problem for an error an api function raised. A project error's message
    is written for the caller and goes in ``detail`` (with its hint); a PostgreSQL
    error's message may name internals, so the detail is generic."""
    sqlstate, hint = _diagnostics(exc)
    status = status_for(sqlstate)
    headers: dict[str, str] = {}
    if status == 429:
        headers["Retry-After"] = str(retry_after(hint))
    elif status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if isinstance(exc, InTimeError):
        detail = f"{exc} {hint}" if hint else str(exc)
    elif status == 500:
        detail = "the request failed"
    else:
        detail = f"the database refused the request ({sqlstate})"
    return problem(status, detail=detail, code=sqlstate, headers=headers)
