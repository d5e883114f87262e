"""GET and POST /u/{token}: the unsubscribe page and RFC 8058 one-click.

GET shows a confirmation page and changes nothing (mail scanners follow links).
POST unsubscribes: mail clients send ``List-Unsubscribe=One-Click`` with no
cookies, and the page's own form posts the same. Both answer an unknown token
with 404. Pages are Jinja2 with autoescape.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from jinja2 import Environment, FileSystemLoader, select_autoescape
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from intime.errors import NotFoundError, translate
from web import queries as q

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
)


async def unsubscribe(request: Request) -> HTMLResponse:
    token = request.path_params["token"]
    confirm = request.method == "POST"
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection() as conn:  # autocommit: one statement, one round trip
            cur = await conn.execute(q.UNSUBSCRIBE, {"token": token, "confirm": confirm})
            row = await cur.fetchone()
    except psycopg.DataError:  # a token no link of ours could carry (e.g. a NUL byte)
        return HTMLResponse("<h1>This link is not valid.</h1>", 404)
    except psycopg.Error as exc:
        error = translate(exc)
        if isinstance(error, NotFoundError):
            return HTMLResponse("<h1>This link is not valid.</h1>", 404)
        if error is exc:
            raise  # an outage is the app's 503 (web/guards.py)
        raise error from exc
    assert row is not None
    result, email, organization = row
    page = TEMPLATES.get_template("unsubscribe.html")
    return HTMLResponse(page.render(result=result, email=email, organization=organization))
