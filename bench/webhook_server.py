"""The app `bench/webhooks.py` serves in a subprocess: ours, plus the baseline route.

The baseline is the seed's per-event flow for the same event: after the same
signature check, separate round trips to find the send, update its status,
insert the log row and touch the campaign enrollment, with no deduplication, on a
pool of the superuser's connections (the seed's adminClient bypasses RLS; as
intime_service without an actor, RLS would hide the send and the flow would stop
after one query). An event whose send is not found answers 404.
"""

from __future__ import annotations

import json
import os
import sys

import uvicorn
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from web.app import create_app
from web.webhooks import Rejected, verified_event

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def baseline(request: Request) -> JSONResponse:
    try:
        payload = verified_event(
            request.app.state.resend_verifier, await request.body(), request.headers
        )
    except Rejected as rejected:
        return JSONResponse({"error": rejected.message}, rejected.status)
    email_id = payload["data"]["email_id"]
    pool: AsyncConnectionPool = request.app.state.baseline_pool
    if pool.closed:
        await pool.open()
    # Each step is its own round trip and its own commit, as the seed's
    # Supabase client calls are.
    async with pool.connection() as conn:
        async with conn.transaction():
            cur = await conn.execute(
                "select org_id, id from app.email_sends where provider_message_id = %s",
                (email_id,),
            )
            row = await cur.fetchone()
        if row is None:
            return JSONResponse({"result": "unknown"}, 404)
        org_id, send_id = row
        async with conn.transaction():
            await conn.execute(
                "update app.email_sends set status = 'delivered', delivered_at = now() "
                "where org_id = %s and id = %s",
                (org_id, send_id),
            )
        async with conn.transaction():
            await conn.execute(
                "insert into app.email_events (org_id, email_send_id, provider_event_id, type, "
                "payload, occurred_at, received_at) values (%s, %s, %s, %s, %s, now(), now())",
                (org_id, send_id, request.headers["svix-id"], payload["type"], json.dumps(payload)),
            )
        async with conn.transaction():  # the seed's enrollment touch (campaigns come later)
            await conn.execute(
                "update app.email_sends set updated_at = now() where org_id = %s and id = %s",
                (org_id, send_id),
            )
    return JSONResponse({"result": "applied"})


def build() -> Starlette:
    """The app, ours plus the baseline route (the factory each uvicorn worker calls)."""
    dsn = os.environ["INTIME_BENCH_SERVER_DSN"]
    heartbeat = float(os.environ.get("INTIME_BENCH_SERVER_HEARTBEAT", "15"))
    batch = int(os.environ.get("INTIME_BENCH_SERVER_EVENT_BATCH", "0"))
    app = create_app(
        dsn,
        resend_secrets=(SECRET,),
        stream_heartbeat=heartbeat,
        stream_reauth=float(os.environ.get("INTIME_BENCH_SERVER_REAUTH", "60")),
        freeze_gc=True,  # as `intime web` does
        **({"event_batch": batch} if batch else {}),
    )
    admin = os.environ.get("INTIME_BENCH_SERVER_ADMIN_DSN", dsn)
    app.state.baseline_pool = AsyncConnectionPool(admin, min_size=1, max_size=16, open=False)
    app.router.routes.append(Route("/baseline/resend", baseline, methods=["POST"]))
    return app


def main() -> None:
    """python -m bench.webhook_server DSN PORT [WORKERS [HEARTBEAT_SECONDS]]; the baseline's
    connections: INTIME_BENCH_SERVER_ADMIN_DSN (default DSN); INTIME_BENCH_SERVER_EVENT_BATCH:
    create_app's event_batch (1: each webhook event in a statement of its own);
    INTIME_BENCH_SERVER_REAUTH: its stream_reauth (seconds between a stream's credential
    re-checks, default 60)."""
    dsn, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    os.environ["INTIME_BENCH_SERVER_DSN"] = dsn
    if len(sys.argv) > 4:
        os.environ["INTIME_BENCH_SERVER_HEARTBEAT"] = sys.argv[4]
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    uvicorn.run(
        "bench.webhook_server:build",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
        workers=workers,
        backlog=16384,
    )


if __name__ == "__main__":
    main()
