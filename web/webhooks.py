"""POST /webhooks/resend: signed provider events, verified, recorded once.

Order: no secrets configured is a 503; missing Svix headers a 400; a
``Content-Length`` over 1 MiB a 413, before anything is read; the body is then
streamed with the same cap (413) and verified (401 for a bad or stale
signature); a body that is not UTF-8 JSON, nests deeper than the JSON cap or is
not an event is a 400. Rejections write nothing. An accepted event is recorded with
the others that arrive with it, in one call of ``api.ingest_email_events`` and one
commit (web/ingest.py), and answered after that commit; a replayed ``svix-id`` is
answered 200 and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse

from intime.errors import InvalidParameterError, translate
from web.guards import ByteBudget, Rejected, is_input_limit, read_body, rejected
from web.limits import MAX_EVENT_BYTES, SIGNATURE_TOLERANCE_SECONDS, JsonRefused, load_json
from web.metrics import counted
from web.signatures import SVIX_HEADERS, SignatureVerifier, Verdict

__all__ = ["MAX_BODY_BYTES", "Rejected", "resend_webhook", "verified_event"]

MAX_BODY_BYTES = MAX_EVENT_BYTES  # Resend events are small; refuse anything absurd


def require_signed(verifier: SignatureVerifier | None, headers: Mapping[str, str]) -> None:
    """What can be checked before the body is read: configured, Svix headers present."""
    if verifier is None:
        raise Rejected(503, "resend webhooks are not configured")
    if not all(headers.get(name) for name in SVIX_HEADERS):
        raise Rejected(400, Verdict.MISSING_HEADERS.value)


def require_fresh(headers: Mapping[str, str], now: float | None = None) -> None:
    """A ``svix-timestamp`` outside the signature tolerance can never verify: refused
    before its body is read."""
    raw = headers.get("svix-timestamp", "").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise Rejected(401, Verdict.BAD_SIGNATURE.value)
    current = time.time() if now is None else now
    if abs(int(raw) - current) > SIGNATURE_TOLERANCE_SECONDS:
        raise Rejected(401, Verdict.BAD_SIGNATURE.value)


async def read_signed_body(request: Request, verifier: SignatureVerifier | None) -> bytes:
    """The body of a Svix-signed request: headers first (present, a fresh timestamp),
    then a capped read within the process's budget for bodies not yet verified."""
    require_signed(verifier, request.headers)
    require_fresh(request.headers)
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.strip().isdigit() else MAX_BODY_BYTES
    budget: ByteBudget = request.app.state.unverified_bodies
    with budget.reserve(min(size, MAX_BODY_BYTES)):
        return await read_body(request, MAX_BODY_BYTES)


def verified_event(
    verifier: SignatureVerifier | None, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON event of a correctly signed request, or ``Rejected``."""
    require_signed(verifier, headers)
    assert verifier is not None
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(413, "body too large")
    verdict = verifier.verify(body, headers)
    if verdict is Verdict.MISSING_HEADERS:
        raise Rejected(400, verdict.value)
    if verdict is not Verdict.OK:
        raise Rejected(401, verdict.value)
    try:
        payload = load_json(body)
    except JsonRefused as exc:
        raise Rejected(400, str(exc)) from exc
    if not isinstance(payload, dict):
        raise Rejected(400, "an event is a JSON object")
    return payload


@counted("resend")
async def resend_webhook(request: Request) -> JSONResponse:
    verifier = request.app.state.resend_verifier
    try:
        body = await read_signed_body(request, verifier)
    except Rejected as exc:
        return rejected(exc, request)
    try:
        verified_event(verifier, body, request.headers)
    except Rejected as exc:
        return rejected(exc)
    # The verified raw body (UTF-8, checked above), parsed once more by PostgreSQL:
    # no re-serialising.
    params = {"event_id": request.headers["svix-id"], "payload": body.decode()}
    try:
        outcome = await request.app.state.event_batcher.ingest(
            params["event_id"], params["payload"]
        )
    except psycopg.DataError as exc:  # e.g. a NUL in a string: not storable, not our fault
        return JSONResponse({"error": f"unstorable event: {exc.diag.message_primary}"}, 422)
    except psycopg.Error as exc:
        if is_input_limit(exc):
            return JSONResponse({"error": f"unstorable event: {exc.diag.message_primary}"}, 422)
        error = translate(exc)
        if isinstance(error, InvalidParameterError):  # not an event: nothing was written
            return JSONResponse({"error": str(error)}, 400)
        if error is exc:
            raise  # an outage is the app's 503 (web/guards.py)
        raise error from exc
    return JSONResponse({"result": outcome})
