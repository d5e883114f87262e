"""The operator console: server-rendered pages (Jinja2, autoescape) over the SQL api,
acting as the signed-in user (docs/console.md)."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web.console import pages
from web.console.approval_links import approval_key
from web.console.base import page
from web.console.signin import signin, signin_form, signout

STATIC = Path(__file__).parent.parent / "static"


async def _home(_request: object) -> Response:
    return RedirectResponse("/inbox", 303)


def routes() -> list[BaseRoute]:
    """The console's routes and its static files, for web/app.py."""
    return [
        Route("/", _home),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", page(signout), methods=["POST"]),
        Route("/inbox", page(pages.inbox)),
        Route("/inbox/read", page(pages.inbox_read), methods=["POST"]),
        Route("/inbox/seen", page(pages.inbox_seen), methods=["POST"]),
        Route("/inbox/archive", page(pages.inbox_archive), methods=["POST"]),
        Route("/inbox/read-all", page(pages.inbox_read_all), methods=["POST"]),
        Route("/approvals", page(pages.approvals)),
        Route("/approvals/{key:str}", approval_key, methods=["GET", "POST"]),
        Route("/executions", page(pages.executions)),
        Route("/executions/{id:str}", page(pages.execution)),
        Route(
            "/executions/{id:str}/{action:str}",
            page(pages.control_execution),
            methods=["POST"],
        ),
        Route("/campaigns", page(pages.campaigns)),
        Route("/campaigns/{id:str}", page(pages.campaign)),
        Route("/campaigns/{id:str}/ab.svg", page(pages.campaign_chart)),
        Route("/enrollments", page(pages.open_enrollment)),
        Route("/enrollments/{id:str}", page(pages.enrollment)),
        Route("/queue", page(pages.queue)),
        Route("/queue/requeue", page(pages.requeue), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
