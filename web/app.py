"""The ASGI application. Routes are added per route group as features land."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence

import httpx
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from intime.db import open_pool
from web import queries as q
from web.hub import NotificationHub
from web.inbound import inbound_webhook
from web.notifications import list_notifications, mark_read, stream
from web.signatures import SignatureVerifier
from web.unsubscribe import unsubscribe
from web.webhooks import resend_webhook


async def healthz(request: Request) -> JSONResponse:
    """Liveness and database reachability, for load balancers."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection(timeout=2) as conn:
            cur = await conn.execute(q.HEALTH)
            row = await cur.fetchone()
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, 503)
    hub = request.app.state.hub
    return JSONResponse(
        {
            "status": "ok",
            "role": row[0] if row else None,
            "stream": {
                "listening": hub.listening.is_set(),
                "clients": hub.connected,
                **dataclasses.asdict(hub.stats),
            },
        }
    )


def create_app(
    service_dsn: str,
    *,
    resend_secrets: Sequence[str] = (),
    inbound_token: str | None = None,
    resend_api_key: str | None = None,
    resend_base_url: str = "https://api.resend.com",
    stream_heartbeat: float = 15.0,
    stream_reauth: float = 60.0,
) -> Starlette:
    """The app, connecting to the database as ``intime_service``.

    ``resend_secrets`` are the Svix signing secrets of the Resend webhook; more
    than one is accepted while a secret is being rotated. ``inbound_token`` is the
    bearer token an SMTP gateway presents to ``/webhooks/inbound``; with
    ``resend_api_key`` that endpoint also takes Resend's ``email.received`` and
    fetches the content from ``resend_base_url``. ``stream_heartbeat`` is the
    seconds between comment lines on an idle notification stream; every
    ``stream_reauth`` seconds an open stream checks its token again and ends
    when it was revoked, expired or its user deactivated.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await open_pool(service_dsn, min_size=2, max_size=16, autocommit=True)
        app.state.hub = NotificationHub(service_dsn, app.state.pool)
        await app.state.hub.start()
        app.state.resend_client = (
            httpx.AsyncClient(
                base_url=resend_base_url,
                timeout=10,
                headers={"Authorization": f"Bearer {resend_api_key}"},
            )
            if resend_api_key
            else None
        )
        try:
            yield
        finally:
            await app.state.hub.stop()
            if app.state.resend_client is not None:
                await app.state.resend_client.aclose()
            await app.state.pool.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/webhooks/resend", resend_webhook, methods=["POST"]),
            Route("/webhooks/inbound", inbound_webhook, methods=["POST"]),
            Route("/u/{token:str}", unsubscribe, methods=["GET", "POST"]),
            Route("/notifications/stream", stream),
            Route("/notifications", list_notifications),
            Route("/notifications/read", mark_read, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.stream_heartbeat = stream_heartbeat
    app.state.stream_reauth = stream_reauth
    app.state.resend_verifier = SignatureVerifier(resend_secrets) if resend_secrets else None
    app.state.inbound_token = inbound_token
    return app
