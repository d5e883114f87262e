"""The ASGI application. Routes are added per route group as features land."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import re
from collections.abc import AsyncIterator, Sequence

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from intime.db import open_pool
from intime.netguard import TargetGuard
from web import api, ingest, limits
from web import queries as q
from web.console import routes as console_routes
from web.guards import ByteBudget, database_error
from web.hub import NotificationHub
from web.inbound import inbound_webhook
from web.metrics import WebMetrics, metrics_endpoint
from web.notifications import list_notifications, mark_read, stream, stream_ticket
from web.pools import open_event_pool
from web.problems import http_error
from web.rechecks import CredentialChecks
from web.sandbox import ParserSandbox
from web.signatures import SignatureVerifier
from web.sse import SendWatch
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
        return JSONResponse(
            {"status": "unavailable", "error": type(exc).__name__},
            503,
            headers={"Retry-After": str(limits.RETRY_AFTER_SECONDS)},
        )
    hub = request.app.state.hub
    parser: ParserSandbox = request.app.state.parser
    return JSONResponse(
        {
            "status": "ok",
            "role": row[0] if row else None,
            "stream": {
                "listening": hub.listening.is_set(),
                "clients": hub.connected,
                **dataclasses.asdict(hub.stats),
                # Credential re-checks (web/rechecks.py): calls, credentials checked,
                # and checks the database was too busy (or gone) to answer.
                "rechecks": dataclasses.asdict(request.app.state.credential_checks.stats),
            },
            "parser": {"processes": len(parser.pids()), "killed": parser.killed},
        }
    )


# Paths whose last segment is a credential: an emailed approval link, an unsubscribe link.
SECRET_PATHS = re.compile(r"^(/approvals/apl_|/u/)[^/?]*")
# The collector's thresholds in a server process (Python's defaults: 700, 10, 10). An
# object alive when a middle-generation collection runs moves to the oldest, and a
# full collection, which walks every open stream (0.7-1.8 s at 10,000 on 2 cores),
# comes when those moved reach a quarter of the oldest. At the defaults, what 10,000
# busy streams had in flight at each such collection brought a full one every 16 s.
# A young generation 10 times larger, collected into the middle one 5 times more
# rarely, runs about 50 times fewer middle collections: the notifications bench saw
# no full collection in 60 s at 10,000 streams (docs/operations.md).
SERVER_GC_THRESHOLDS = (7_000, 50, 10)


class RedactQueryStrings(logging.Filter):
    """Drop credentials from uvicorn's access log lines: the query string (a stream ticket)
    and a path that is itself a secret (an approval link's or an unsubscribe token), since
    access logs are kept and shipped. The line keeps the path (``/u/<redacted>``) and
    ``?<redacted>``. Its arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, mark, _query = args[2].partition("?")
            path = SECRET_PATHS.sub(r"\1<redacted>", path)
            if mark:
                path = f"{path}?<redacted>"
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def redact_access_log() -> None:
    """Install RedactQueryStrings on uvicorn's access logger, once."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryStrings) for f in access.filters):
        access.addFilter(RedactQueryStrings())


def cors_middleware(origins: Sequence[str]) -> list[Middleware]:
    """CORS for the listed origins only: bearer tokens, no cookies (the console's
    session cookie is SameSite=Strict and same-origin)."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "X-CSRF-Token"],
            expose_headers=["Retry-After", "WWW-Authenticate"],
            allow_credentials=False,
            max_age=600,
        )
    ]


def create_app(
    service_dsn: str,
    *,
    resend_secrets: Sequence[str] = (),
    inbound_token: str | None = None,
    resend_api_key: str | None = None,
    resend_base_url: str = "https://api.resend.com",
    webhook_allow: Sequence[str] = (),
    stream_heartbeat: float = 15.0,
    stream_reauth: float = 60.0,
    pool_min_size: int = 2,
    pool_max_size: int = 16,
    event_pool_size: int = 8,
    event_batch: int = ingest.MAX_BATCH,
    freeze_gc: bool = False,
    db_timeout: float = 10.0,
    parse_processes: int = limits.PARSE_PROCESSES,
    parse_queue: int = limits.PARSE_QUEUE,
    parse_cpu_seconds: int = limits.PARSE_CPU_SECONDS,
    parse_wall_seconds: float = limits.PARSE_WALL_SECONDS,
    cors_origins: Sequence[str] = (),
    public_url: str | None = None,
) -> Starlette:
    """The app, connecting to the database as ``intime_service``.

    ``resend_secrets`` are the Svix signing secrets of the Resend webhook; more
    than one is accepted while a secret is being rotated. ``inbound_token`` is the
    bearer token an SMTP gateway presents to ``/webhooks/inbound``; with
    ``resend_api_key`` that endpoint also takes Resend's ``email.received`` and
    fetches the content from ``resend_base_url``; a bounce report's raw message
    is fetched from there too, or from a public HTTPS address (``webhook_allow``:
    the non-public addresses allowed, as for workflow webhooks; intime/netguard.py).
    ``stream_heartbeat`` is the
    seconds between comment lines on an idle notification stream; every
    ``stream_reauth`` seconds an open stream checks its token again and ends
    when it was revoked, expired or its user deactivated.

    ``event_pool_size``: connections of the pool that ``POST /webhooks/resend`` uses
    (web/pools.py), besides the main pool's ``pool_max_size``. ``event_batch``: the most
    events that route records in one statement (web/ingest.py); 1 records each alone,
    up to ``event_pool_size`` at once (the design before group commit, for comparison).

    ``db_timeout``: seconds a request waits for a pooled connection before it
    answers 503 (also the pool's start-up wait). ``parse_processes``,
    ``parse_queue``, ``parse_cpu_seconds`` and ``parse_wall_seconds``: the MIME
    parser processes (web/sandbox.py).

    ``freeze_gc``: at the end of start-up, move every object made so far (the imported
    modules, the pools, the app) into the garbage collector's permanent generation
    (``gc.freeze``), so that a full collection, which a busy server runs every few
    seconds, walks only what came later: on the webhook bench each one took about 32 ms,
    the requests it caught made the p99 (about 45 ms; 13 ms frozen). And collect the
    young generations less often (``SERVER_GC_THRESHOLDS``): fewer objects outlive them,
    so full collections, which walk every open stream, come rarely (docs/operations.md).
    For a server process (``intime web``); an app started in a process that goes on to
    do other work (tests, demos) leaves it off.

    ``cors_origins``: the origins (``https://app.example``) whose browser pages may
    call the app cross-origin with a bearer token; none by default (docs/http-api.md).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Again at start: a server may have configured its loggers after create_app.
        redact_access_log()
        app.state.pool = await open_pool(
            service_dsn,
            min_size=pool_min_size,
            max_size=pool_max_size,
            autocommit=True,
            timeout=db_timeout,
        )
        # Single-statement webhook events: no check or reset round trips (web/pools.py).
        app.state.event_pool, app.state.event_check = await open_event_pool(
            service_dsn,
            min_size=min(2, event_pool_size),
            max_size=event_pool_size,
            timeout=db_timeout,
        )
        app.state.event_batcher = ingest.EventBatcher(
            app.state.event_pool,
            app.state.event_check,
            max_batch=event_batch,
            in_flight=ingest.IN_FLIGHT if event_batch > 1 else event_pool_size,
            max_in_flight=event_pool_size,
            timeout=db_timeout,
        )
        app.state.parser = ParserSandbox(
            processes=parse_processes,
            queue=parse_queue,
            cpu_seconds=parse_cpu_seconds,
            wall_seconds=parse_wall_seconds,
        )
        # The hub reads on a pool of its own: a burst of stream requests (10,000
        # clients reconnecting) cannot delay the reads that deliver to all of them.
        app.state.hub_pool, _ = await open_event_pool(
            service_dsn, min_size=1, max_size=2, timeout=db_timeout, name="hub"
        )
        app.state.hub = NotificationHub(service_dsn, app.state.hub_pool, heartbeat=stream_heartbeat)
        app.state.credential_checks = CredentialChecks(app.state.pool)  # web/rechecks.py
        app.state.send_watch = SendWatch()  # the streams' send timeouts (web/sse.py)
        app.state.send_watch.start()
        app.state.metrics.watch_hub(app.state.hub)
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
        if freeze_gc:
            gc.collect()  # nothing of start-up's garbage frozen with it
            gc.freeze()
            gc.set_threshold(*SERVER_GC_THRESHOLDS)
        try:
            yield
        finally:
            await app.state.hub.stop()
            await app.state.credential_checks.close()
            await app.state.send_watch.close()
            await app.state.parser.close()
            if app.state.resend_client is not None:
                await app.state.resend_client.aclose()
            await app.state.event_batcher.close()
            await app.state.event_pool.close()
            await app.state.hub_pool.close()
            await app.state.pool.close()
            app.state.metrics.close()

    redact_access_log()
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics_endpoint),
            Route("/webhooks/resend", resend_webhook, methods=["POST"]),
            Route("/webhooks/inbound", inbound_webhook, methods=["POST"]),
            Route("/u/{token:str}", unsubscribe, methods=["GET", "POST"]),
            Route("/notifications/stream", stream),
            Route("/notifications/stream-ticket", stream_ticket, methods=["POST"]),
            Route("/notifications", list_notifications),
            Route("/notifications/read", mark_read, methods=["POST"]),
            *api.routes(),
            *console_routes(),  # the operator console (web/console/)
        ],
        middleware=cors_middleware(cors_origins),
        # Database unavailability on any route (a Citus node away included): 503 with
        # Retry-After (web/guards.py).
        exception_handlers={
            psycopg.OperationalError: database_error,
            psycopg.InternalError: database_error,
            HTTPException: http_error,
        },
        lifespan=lifespan,
    )
    app.state.metrics = WebMetrics()
    # INTIME_PUBLIC_URL: its host is this site too (a proxy that rewrites Host), and an
    # https one makes the session cookie Secure (web/auth.py).
    app.state.public_url = public_url
    app.state.stream_heartbeat = stream_heartbeat
    app.state.stream_reauth = stream_reauth
    app.state.resend_verifier = SignatureVerifier(resend_secrets) if resend_secrets else None
    app.state.unverified_bodies = ByteBudget(limits.UNVERIFIED_BODY_BUDGET)
    app.state.inbound_token = inbound_token
    app.state.raw_guard = TargetGuard(webhook_allow)  # a bad entry: ValueError, at once
    return app
