"""What every console page shares: the templates, the signed-in user, forms with
their CSRF check, and error pages.

A page acts as its user through ``intime.db.async_actor`` (row-level security and the
api's permission checks apply as for any other client). A project error becomes an
HTML error page with the status of the one SQLSTATE table (``web.problems.status_for``);
nothing answers 500 for bad input.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from intime.db import async_actor
from intime.errors import InTimeError
from web import auth
from web.console import queries as q
from web.guards import Rejected, read_body
from web.problems import status_for

MAX_FORM_BYTES = 16_384
MAX_COMMENT = 2000
TITLES: Mapping[int, str] = {
    400: "Bad request",
    401: "Sign-in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    413: "Too large",
    422: "Not valid",
    429: "Too many requests",
}

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | str | None) -> str:
    """A timestamp as a person reads it (UTC, to the second)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment.tzinfo else moment.isoformat()


def safe_url(value: object) -> str | None:
    """A link the console may render: a path of this site or an http(s) URL (never
    ``javascript:`` and the like)."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("/") and not value.startswith("//"):
        return value
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["safe_url"] = safe_url


class PageError(Exception):
    """A refusal shown as an error page."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclasses.dataclass
class Viewer:
    """The signed-in user as the layout shows them."""

    principal: auth.Principal
    name: str = ""
    email: str = ""
    role: str = ""
    unread: int = 0

    @property
    def csrf_token(self) -> str:
        return self.principal.csrf_token or ""


# Every console page: never cached, never framed by another site (a page with forms in a
# frame can be clickjacked; the link page's token and the session's CSRF token are in them).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def render(
    name: str, status: int = 200, *, headers: Mapping[str, str] | None = None, **context: Any
) -> HTMLResponse:
    page = TEMPLATES.get_template(f"console/{name}").render(**context)
    merged = {**PAGE_HEADERS, **(headers or {})}
    return HTMLResponse(page, status, headers=merged)


def error_page(status: int, detail: str, viewer: Viewer | None = None) -> HTMLResponse:
    return render(
        "error.html", status, viewer=viewer, title=TITLES.get(status, "Error"), detail=detail
    )


def status_of(exc: InTimeError) -> int:
    """The status of the one SQLSTATE table (web/problems.py)."""
    return status_for(exc.sqlstate)


def pool_of(request: Request) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


@contextlib.asynccontextmanager
async def acting(request: Request, viewer: Viewer) -> AsyncIterator[psycopg.AsyncConnection]:
    """One transaction as the viewer (errors come out as ``intime.errors``)."""
    p = viewer.principal
    async with pool_of(request).connection() as conn, async_actor(conn, p.org_id, p.user_id):
        yield conn


async def one(conn: psycopg.AsyncConnection, query: Any, params: Mapping[str, Any]) -> Any:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    return row[0] if row else None


async def rows(
    conn: psycopg.AsyncConnection, query: Any, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    cur = await conn.execute(query, params or {})
    names = [c.name for c in cur.description or ()]
    return [dict(zip(names, r, strict=True)) for r in await cur.fetchall()]


async def load_viewer(conn: psycopg.AsyncConnection, viewer: Viewer) -> None:
    """The layout's name and unread badge, in the page's own transaction."""
    cur = await conn.execute(q.GET_ACTOR)
    row = await cur.fetchone()
    if row is not None:
        viewer.name, viewer.email, viewer.role = row[0] or "", row[1] or "", row[2] or ""
    viewer.unread = int(await one(conn, q.COUNT_UNREAD, {}) or 0)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body of at most MAX_FORM_BYTES, one
    value per field (the first)."""
    try:
        raw = await read_body(request, MAX_FORM_BYTES)
    except Rejected as exc:
        raise PageError(exc.status, str(exc)) from None
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "the form could not be read") from None
    return {k: v[0] for k, v in fields.items() if "\x00" not in v[0]}


def form_ids(request_form: Mapping[str, str], name: str = "id") -> list[uuid.UUID]:
    try:
        return [uuid.UUID(request_form[name])]
    except (KeyError, ValueError):
        raise PageError(400, f"the form has no valid {name}") from None


def comment_of(form: Mapping[str, str]) -> str | None:
    comment = form.get("comment", "").strip()
    if len(comment) > MAX_COMMENT:
        raise PageError(422, f"a comment is at most {MAX_COMMENT} characters")
    return comment or None


def same_origin(request: Request) -> bool:
    """False when the request says (Origin, else Referer) it comes from another site.
    Only the host and port are compared: behind a TLS-terminating proxy the app sees
    http while the browser says https."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    return auth.same_origin_url(request, source)


DECISIONS = frozenset({"approve", "reject", "delegate"})
EXECUTION_VERBS = frozenset({"retry", "cancel", "pause", "resume"})


def known_notice(request: Request, name: str, allowed: frozenset[str] | None) -> str | None:
    """A banner's word from the query (after a redirect), only when it is one the page
    itself sends: a listed verb, or with ``allowed`` None a job number. Anything else is
    dropped, so a crafted link cannot put its own words in a trusted banner."""
    value = request.query_params.get(name)
    if value is None:
        return None
    if allowed is None:
        return value if value.isascii() and value.isdigit() and len(value) <= 19 else None
    return value if value in allowed else None


Handler = Callable[[Request, Viewer], Awaitable[Response]]


def page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A console route: signs the user in (else to /signin), checks CSRF on POST,
    and turns refusals into error pages."""

    async def endpoint(request: Request) -> Response:
        try:
            principal = await auth.authenticate(request)
        except auth.Unauthenticated:
            if request.method != "GET":
                return error_page(401, "Your session ended. Sign in again.")
            return RedirectResponse("/signin", 303)
        viewer = Viewer(principal)
        try:
            if request.method == "POST":
                form = await read_form(request)
                request.state.form = form
                try:
                    auth.require_csrf(request, principal, form.get("csrf_token"))
                except auth.CsrfRefused:
                    raise PageError(403, "The form is out of date: reload the page.") from None
            return await handler(request, viewer)
        except PageError as exc:
            return error_page(exc.status, exc.detail, viewer if viewer.name else None)
        except InTimeError as exc:
            return error_page(status_of(exc), str(exc), viewer if viewer.name else None)
        except psycopg.DataError:
            return error_page(400, "A value in the request is not valid.")

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def form_of(request: Request) -> dict[str, str]:
    form: dict[str, str] = request.state.form
    return form


def uuid_param(request: Request, name: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params[name])
    except ValueError:
        raise PageError(404, "There is no such page.") from None
