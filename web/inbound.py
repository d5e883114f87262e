"""POST /webhooks/inbound: inbound mail, two ways in.

* Raw ``message/rfc822`` from an SMTP gateway, authenticated with
  ``Authorization: Bearer <INBOUND_WEBHOOK_TOKEN>`` (compared in constant time)
  and parsed with the stdlib ``email`` package.
* Resend's ``email.received`` webhook (JSON, Svix-signed like the other Resend
  events): it carries metadata only, so the body and headers are fetched from
  ``GET {RESEND_BASE_URL}/emails/receiving/{email_id}``. A failed fetch answers
  502 and writes nothing, so Resend retries.

Either way ``api.record_inbound_email`` matches the message to the send it
answers and flags automatic replies.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hmac
import json
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse

from intime.errors import InvalidParameterError, translate
from web import queries as q
from web.webhooks import Rejected, verified_event

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    message_id: str | None
    from_email: str
    from_name: str | None
    to: list[str]
    subject: str | None
    in_reply_to: str | None
    references: list[str]
    text: str | None
    html: str | None
    headers: dict[str, str]


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None
    return content if isinstance(content, str) else None


def parse_message(raw: bytes) -> InboundMessage:
    """The parts of a raw RFC 5322 message that matching and threading need."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers: dict[str, str] = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), str(value))
    name, address = parseaddr(str(message.get("from", "")))
    recipients = [
        addr
        for _, addr in getaddresses(
            [str(v) for key in ("to", "cc", "delivered-to") for v in message.get_all(key, [])]
        )
        if addr
    ]
    return InboundMessage(
        message_id=str(message["message-id"]).strip() if message["message-id"] else None,
        from_email=address,
        from_name=name or None,
        to=recipients,
        subject=str(message["subject"]) if message["subject"] is not None else None,
        in_reply_to=str(message["in-reply-to"]).strip() if message["in-reply-to"] else None,
        references=str(message.get("references", "")).split(),
        text=_body(message, "plain"),
        html=_body(message, "html"),
        headers=headers,
    )


def _no_nul(value: object) -> object:
    """PostgreSQL text cannot hold NUL; mail from the internet sometimes does."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_no_nul(v) for v in value]
    if isinstance(value, dict):
        return {_no_nul(k): _no_nul(v) for k, v in value.items()}
    return value


def record_params(message: InboundMessage, provider: str) -> dict[str, object]:
    return _clean(
        {
            "message_id": message.message_id,
            "from": message.from_email,
            "from_name": message.from_name,
            "to": message.to,
            "subject": message.subject,
            "in_reply_to": message.in_reply_to,
            "references": message.references,
            "text": message.text,
            "html": message.html,
            "headers": json.dumps(_no_nul(message.headers)),
            "provider": provider,
        }
    )


def _clean(params: dict[str, object]) -> dict[str, object]:
    return {key: _no_nul(value) for key, value in params.items()}


def message_from_resend(email: Mapping[str, Any]) -> InboundMessage:
    """An InboundMessage from Resend's received-email object."""
    raw_headers = email.get("headers") or {}
    if isinstance(raw_headers, list):  # [{"name": ..., "value": ...}] in some SDKs
        raw_headers = {h.get("name", ""): h.get("value", "") for h in raw_headers}
    headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
    name, address = parseaddr(str(email.get("from") or ""))
    recipients = [
        addr
        for _, addr in getaddresses(
            [str(a) for a in [*(email.get("to") or []), *(email.get("cc") or [])]]
        )
        if addr
    ]
    return InboundMessage(
        message_id=str(email.get("message_id") or headers.get("message-id") or "") or None,
        from_email=address,
        from_name=name or None,
        to=recipients,
        subject=email.get("subject"),
        in_reply_to=headers.get("in-reply-to"),
        references=headers.get("references", "").split(),
        text=email.get("text"),
        html=email.get("html"),
        headers=headers,
    )


async def resend_received(request: Request, body: bytes) -> InboundMessage:
    """Verify an email.received event and fetch its content, or ``Rejected``."""
    payload = verified_event(request.app.state.resend_verifier, body, request.headers)
    if payload.get("type") != "email.received":
        raise Rejected(400, "only email.received events are taken here")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise Rejected(400, "email.received without a data object")
    email_id = str(data.get("email_id") or "")
    client: httpx.AsyncClient | None = request.app.state.resend_client
    if not email_id:
        raise Rejected(400, "email.received without data.email_id")
    if client is None:
        raise Rejected(503, "no Resend API key configured to fetch inbound mail")
    try:
        response = await client.get(f"/emails/receiving/{email_id}")
    except httpx.TransportError as exc:
        raise Rejected(502, f"could not fetch the received email: {exc!r}") from exc
    if response.status_code != 200:
        raise Rejected(502, f"Resend answered {response.status_code} for the received email")
    try:
        message = message_from_resend(response.json())
    except (ValueError, AttributeError, TypeError) as exc:
        raise Rejected(502, "Resend answered with an unreadable received email") from exc
    if not message.message_id or not message.from_email:
        raise Rejected(400, "the received email has no Message-ID or From")
    return message


def accepted_message(token: str | None, headers: Mapping[str, str], raw: bytes) -> InboundMessage:
    """The parsed message of an authenticated, well-formed request, or ``Rejected``."""
    if not token:
        raise Rejected(503, "inbound mail is not configured")
    offered = headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        raise Rejected(401, "bad or missing bearer token")
    if headers.get("content-type", "").split(";")[0].strip() != "message/rfc822":
        raise Rejected(415, "send the raw message as message/rfc822")
    if not raw or len(raw) > MAX_MESSAGE_BYTES:
        raise Rejected(400, "empty or oversized message")
    message = parse_message(raw)
    if not message.message_id or not message.from_email:
        raise Rejected(400, "the message needs Message-ID and From")
    return message


async def inbound_webhook(request: Request) -> JSONResponse:
    body = await request.body()
    is_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        if is_json:
            message = await resend_received(request, body)
        else:
            message = accepted_message(request.app.state.inbound_token, request.headers, body)
    except Rejected as rejected:
        return JSONResponse({"error": rejected.message}, rejected.status)
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection() as conn:  # autocommit: one statement, one round trip
            cur = await conn.execute(
                q.RECORD_INBOUND_EMAIL, record_params(message, "resend" if is_json else "smtp")
            )
            row = await cur.fetchone()
    except psycopg.DataError as exc:  # a value PostgreSQL cannot store: the sender's fault
        return JSONResponse({"error": f"unstorable message: {exc.diag.message_primary}"}, 422)
    except psycopg.Error as exc:
        error = translate(exc)
        if isinstance(error, InvalidParameterError):
            return JSONResponse({"error": str(error)}, 400)
        raise error from exc
    assert row is not None
    result, inbound_id, match_method, is_auto_reply = row
    return JSONResponse(
        {
            "result": result,
            "inbound_id": str(inbound_id) if inbound_id else None,
            "match_method": match_method,
            "is_auto_reply": is_auto_reply,
        }
    )
