"""POST /webhooks/resend: signed provider events, verified, recorded once.

Rejections write nothing: 400 for missing Svix headers or a body that is not a
JSON event, 401 for a bad or stale signature. An accepted event is one call to
``api.ingest_email_event`` in its own transaction; a replayed ``svix-id`` is
answered 200 and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse

from intime.errors import InvalidParameterError, translate
from web import queries as q
from web.signatures import SignatureVerifier, Verdict

MAX_BODY_BYTES = 1024 * 1024  # Resend events are small; refuse anything absurd


class Rejected(Exception):
    """A request refused before anything is written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def verified_event(
    verifier: SignatureVerifier | None, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON event of a correctly signed request, or ``Rejected``."""
    if verifier is None:
        raise Rejected(503, "resend webhooks are not configured")
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, "body too large")
    verdict = verifier.verify(body, headers)
    if verdict is Verdict.MISSING_HEADERS:
        raise Rejected(400, verdict.value)
    if verdict is not Verdict.OK:
        raise Rejected(401, verdict.value)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, "body is not JSON") from exc
    if not isinstance(payload, dict):
        raise Rejected(400, "an event is a JSON object")
    return payload


async def resend_webhook(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        verified_event(request.app.state.resend_verifier, body, request.headers)
    except Rejected as rejected:
        return JSONResponse({"error": rejected.message}, rejected.status)
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection() as conn:  # autocommit: one statement, one round trip
            cur = await conn.execute(
                q.INGEST_EMAIL_EVENT,
                # The verified raw body, parsed once more by PostgreSQL: no re-serialising.
                {"event_id": request.headers["svix-id"], "payload": body.decode()},
            )
            row = await cur.fetchone()
    except psycopg.DataError as exc:  # e.g. a NUL in a string: not storable, not our fault
        return JSONResponse({"error": f"unstorable event: {exc.diag.message_primary}"}, 422)
    except psycopg.Error as exc:
        error = translate(exc)
        if isinstance(error, InvalidParameterError):  # not an event: nothing was written
            return JSONResponse({"error": str(error)}, 400)
        raise error from exc
    return JSONResponse({"result": row[0] if row else None})
