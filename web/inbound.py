"""POST /webhooks/inbound: inbound mail, two ways in.

* Raw ``message/rfc822`` from an SMTP gateway, authenticated with
  ``Authorization: Bearer <INBOUND_WEBHOOK_TOKEN>`` (compared in constant time).
* Resend's ``email.received`` webhook (JSON, Svix-signed like the other Resend
  events): it carries metadata only, so the body and headers are fetched from
  ``GET {RESEND_BASE_URL}/emails/receiving/{email_id}``. A failed fetch answers
  502 and writes nothing, so Resend retries.

Either way the request is authenticated before its body is read (a Svix
signature needs the body: its headers are required first, then the body is
read, at most 1 MiB, and verified), the body is read with a byte cap and a
deadline (408), and only then does the request take a place among the parses
(``ParserSandbox.admit``, 503 when they are all taken): a client that trickles
its body, authenticated or not, holds no parser. The mail is parsed in a parser
process (web/sandbox.py, web/mime.py) with a time limit and caps on header
fields, recipients, MIME depth and parts. A message whose MIME structure breaks
a cap is recorded with its headers and without bodies (the answer says
``partial``); too many header fields or recipients is a 422. Then
``api.record_inbound_email`` matches the message to the send it answers,
classifies automatic mail (an out-of-office, a bounce report, other automatic
mail) and applies a bounce report to its send (docs/email.md, "Bounces").
The parser also extracts a reply's new text (without the quoted history and
the signature) and a bounce report's fields (``dsn``); for a report received
through Resend, whose JSON has only the text part, the raw message is fetched
too (``raw.download_url``: from RESEND_BASE_URL's origin, or over HTTPS from a
public address, intime/netguard.py; anything else is a 502 with nothing fetched).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse

from intime.errors import InvalidParameterError, translate
from intime.netguard import TargetGuard, TargetRefused, TargetUnresolved
from web import mime
from web import queries as q
from web.guards import Rejected, is_input_limit, read_body, rejected
from web.limits import MAX_FETCHED_BYTES, MAX_MESSAGE_BYTES
from web.metrics import counted
from web.sandbox import Busy, ParseFailed, ParserSandbox, Unavailable
from web.webhooks import read_signed_body, verified_event

__all__ = ["MAX_MESSAGE_BYTES", "InboundMessage", "inbound_webhook", "parse_message"]

log = logging.getLogger("intime.web.inbound")

# What a Resend id looks like (a UUID; letters, digits, ``_`` and ``-`` allowed):
# anything else is refused before it goes into the API path.
_EMAIL_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


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
    reply_text: str | None = None  # the new text, without quoted history and signature
    dsn: dict[str, Any] | None = None  # a bounce report's fields (web/mime.py)


@dataclasses.dataclass(frozen=True)
class Parsed:
    message: InboundMessage
    partial: str | None
    raw_url: str | None = None  # a Resend bounce report's raw message (see resend_received)


def _from_reply(reply: dict[str, Any]) -> Parsed:
    """A parser's reply (web/mime.py), or ``Rejected`` with its status."""
    if "refused" in reply:
        status, reason = reply["refused"]
        raise Rejected(int(status), str(reason))
    return Parsed(InboundMessage(**reply["message"]), reply.get("partial"), reply.get("raw_url"))


def parse_message(raw: bytes) -> InboundMessage:
    """Parse in this process (tests and tools; the app uses its parser processes)."""
    try:
        return _from_reply(mime.handle(b"M", raw)).message
    except Rejected as exc:
        raise ValueError(exc.message) from exc


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
            "reply_text": message.reply_text,
            "dsn": json.dumps(_no_nul(message.dsn)) if message.dsn is not None else None,
        }
    )


def _clean(params: dict[str, object]) -> dict[str, object]:
    return {key: _no_nul(value) for key, value in params.items()}


async def _parse(sandbox: ParserSandbox, kind: bytes, payload: bytes) -> Parsed:
    """Parse in a parser process. The place among the parses is taken here,
    once the request is authenticated and its body read in full, so a slow
    client cannot hold one."""
    try:
        with sandbox.admit():
            return _from_reply(await sandbox.parse(kind, payload))
    except Busy as exc:
        raise Rejected(503, "inbound mail is busy; retry later") from exc
    except ParseFailed as exc:
        raise Rejected(422, str(exc)) from exc
    except Unavailable as exc:
        log.error("%s", exc)
        raise Rejected(503, "inbound mail cannot be parsed right now") from exc


async def _fetch_received(client: httpx.AsyncClient, email_id: str) -> bytes:
    """The received email's JSON from Resend, read with a byte cap."""
    try:
        async with client.stream(
            "GET", f"/emails/receiving/{quote(email_id, safe='')}"
        ) as response:
            if response.status_code != 200:
                raise Rejected(
                    502, f"Resend answered {response.status_code} for the received email"
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_FETCHED_BYTES:
                    raise Rejected(422, f"the received email is over {MAX_FETCHED_BYTES} bytes")
                chunks.append(chunk)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # transport errors, a broken encoding
        raise Rejected(502, f"could not fetch the received email: {exc!r}") from exc
    return b"".join(chunks)


def _email_id(value: object) -> str:
    """``data.email_id`` as it goes into the API path, or ``Rejected(400)``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not value or not isinstance(value, str):
        raise Rejected(400, "email.received without data.email_id")
    if not _EMAIL_ID.fullmatch(value):
        raise Rejected(
            400, "data.email_id is not a Resend id (1 to 128 letters, digits, '_' or '-')"
        )
    return value


async def resend_received(request: Request, sandbox: ParserSandbox) -> Parsed:
    """Verify an email.received event and fetch its content, or ``Rejected``."""
    verifier = request.app.state.resend_verifier
    body = await read_signed_body(request, verifier)
    payload = verified_event(verifier, body, request.headers)
    if payload.get("type") != "email.received":
        raise Rejected(400, "only email.received events are taken here")
    data = payload.get("data")
    if not isinstance(data, dict):
        raise Rejected(400, "email.received without a data object")
    email_id = _email_id(data.get("email_id"))
    client: httpx.AsyncClient | None = request.app.state.resend_client
    if client is None:
        raise Rejected(503, "no Resend API key configured to fetch inbound mail")
    parsed = await _parse(sandbox, b"J", await _fetch_received(client, email_id))
    if not parsed.message.message_id or not parsed.message.from_email:
        raise Rejected(400, "the received email has no Message-ID or From")
    if parsed.raw_url:
        guard: TargetGuard = request.app.state.raw_guard
        parsed = await _with_raw_report(client, guard, sandbox, parsed, parsed.raw_url)
    return parsed


RAW_FETCH_SECONDS = 10.0  # resolving a raw message's host; each network step of its fetch


def _resend_origin(client: httpx.AsyncClient, url: str) -> bool:
    """Whether ``url`` is on the configured RESEND_BASE_URL's origin (a proxy, a test)."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return False
    base = client.base_url
    same = (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)
    return bool(target.host) and same


async def _checked_requests(guard: TargetGuard, url: str) -> list[httpx.Request]:
    """GETs of a raw message elsewhere than Resend's base URL, one per address its host
    resolved to, once every one is public (or allow-listed, INTIME_WEBHOOK_ALLOW): HTTPS
    only, sent to the checked address itself (the name for Host, SNI and the
    certificate), so a second lookup cannot lead elsewhere. Anything else is a 502
    before any connection (web or worker internals, a cloud's metadata address)."""
    try:
        scheme = httpx.URL(url).scheme
    except (httpx.InvalidURL, TypeError) as exc:
        raise Rejected(502, "the raw received email's URL is invalid") from exc
    if scheme != "https":
        raise Rejected(502, "the raw received email's URL is neither HTTPS nor Resend's")
    try:
        target = await asyncio.wait_for(guard.resolve(url), RAW_FETCH_SECONDS)
    except TargetRefused as exc:
        raise Rejected(502, f"the raw received email's URL is refused: {exc.reason}") from exc
    except (TargetUnresolved, TimeoutError) as exc:
        raise Rejected(502, f"the raw received email's host did not resolve: {exc}") from exc
    return [
        httpx.Request(
            "GET",
            target.url_for(address),
            headers={"Host": target.host_header},
            extensions={"sni_hostname": target.host},
        )
        for address in target.addresses
    ]


async def _read_raw(
    client: httpx.AsyncClient, requests: list[httpx.Request], message_id: str | None
) -> bytes | None:
    """The first address that answers, read with MAX_MESSAGE_BYTES (None: over it)."""
    for index, request in enumerate(requests):
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if index == len(requests) - 1:
                raise
            continue  # nothing was sent: the next checked address
        try:
            if response.status_code != 200:
                raise Rejected(502, f"the raw received email answered {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_MESSAGE_BYTES:
                    log.warning("inbound %s: raw message over the cap", message_id)
                    return None
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            await response.aclose()
    raise Rejected(502, "the raw received email's host has no address")


async def _with_raw_report(
    client: httpx.AsyncClient,
    guard: TargetGuard,
    sandbox: ParserSandbox,
    parsed: Parsed,
    url: str,
) -> Parsed:
    """A bounce report received through Resend, completed from its raw message: the JSON
    has the text part only, the delivery-status part (Action, Status, Diagnostic-Code)
    and the returned headers are in the raw message. Fetched without our API key (a
    signed URL of Resend's storage) from RESEND_BASE_URL's origin or a public HTTPS
    address (``_checked_requests``); a refused URL or a failed fetch is a 502 and writes
    nothing, so Resend retries; a raw message over MAX_MESSAGE_BYTES, or one the parser
    refuses, is left aside and the email recorded from its JSON."""
    message_id = parsed.message.message_id
    try:
        if _resend_origin(client, url):
            request = client.build_request("GET", url)
            del request.headers["authorization"]
            raw_message = await _read_raw(client, [request], message_id)
        else:
            requests = await _checked_requests(guard, url)
            async with httpx.AsyncClient(
                trust_env=False, follow_redirects=False, timeout=RAW_FETCH_SECONDS
            ) as pinned:
                raw_message = await _read_raw(pinned, requests, message_id)
    except Rejected as exc:
        log.warning("inbound %s: raw message not fetched: %s", message_id, exc.message)
        raise
    except httpx.HTTPError as exc:
        raise Rejected(502, f"could not fetch the raw received email: {exc!r}") from exc
    if raw_message is None:
        return parsed
    try:
        raw = await _parse(sandbox, b"M", raw_message)
    except Rejected as exc:
        if exc.status >= 500:
            raise  # busy: Resend retries
        log.warning("inbound %s: raw message refused: %s", message_id, exc)
        return parsed  # what the JSON says is still recorded
    dsn = raw.message.dsn or parsed.message.dsn
    return dataclasses.replace(parsed, message=dataclasses.replace(parsed.message, dsn=dsn))


def authenticate_gateway(token: str | None, request: Request) -> None:
    """The SMTP gateway's bearer token and content type, checked before the body is read."""
    if not token:
        raise Rejected(503, "inbound mail is not configured")
    offered = request.headers.get("authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        raise Rejected(401, "bad or missing bearer token")
    if request.headers.get("content-type", "").split(";")[0].strip() != "message/rfc822":
        raise Rejected(415, "send the raw message as message/rfc822")


async def gateway_message(request: Request, sandbox: ParserSandbox) -> Parsed:
    authenticate_gateway(request.app.state.inbound_token, request)
    raw = await read_body(request, MAX_MESSAGE_BYTES)
    if not raw:
        raise Rejected(400, "empty message")
    parsed = await _parse(sandbox, b"M", raw)
    if not parsed.message.message_id or not parsed.message.from_email:
        raise Rejected(400, "the message needs Message-ID and From")
    return parsed


@counted("inbound")
async def inbound_webhook(request: Request) -> JSONResponse:
    is_json = request.headers.get("content-type", "").startswith("application/json")
    sandbox: ParserSandbox = request.app.state.parser
    try:
        if is_json:
            parsed = await resend_received(request, sandbox)
        else:
            parsed = await gateway_message(request, sandbox)
    except Rejected as exc:
        return rejected(exc, request)
    if parsed.partial:
        log.info("inbound %s recorded in part: %s", parsed.message.message_id, parsed.partial)
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        async with pool.connection() as conn:  # autocommit: one statement, one round trip
            cur = await conn.execute(
                q.RECORD_INBOUND_EMAIL,
                record_params(parsed.message, "resend" if is_json else "smtp"),
            )
            row = await cur.fetchone()
    except psycopg.DataError as exc:  # a value PostgreSQL cannot store: the sender's fault
        return JSONResponse({"error": f"unstorable message: {exc.diag.message_primary}"}, 422)
    except psycopg.Error as exc:
        if is_input_limit(exc):  # e.g. a Message-ID too long for its index
            return JSONResponse({"error": f"unstorable message: {exc.diag.message_primary}"}, 422)
        error = translate(exc)
        if isinstance(error, InvalidParameterError):
            return JSONResponse({"error": str(error)}, 400)
        if error is exc:
            raise  # an outage is the app's 503 (web/guards.py)
        raise error from exc
    assert row is not None
    result, inbound_id, match_method, is_auto_reply, auto_reply_kind, bounce = row
    answer: dict[str, object] = {
        "result": result,
        "inbound_id": str(inbound_id) if inbound_id else None,
        "match_method": match_method,
        "is_auto_reply": is_auto_reply,
        "auto_reply_kind": auto_reply_kind,
        "bounce": bounce,
    }
    if parsed.partial:
        answer["partial"] = parsed.partial
    return JSONResponse(answer)
