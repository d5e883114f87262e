"""The outside world of a soak run, on loopback, in the harness's event loop.

- ``SmtpSink`` (aiosmtpd): counts accepted messages per Message-ID; on a schedule
  answers ``451`` to DATA for a while.
- ``ResendStub``: ``POST /emails`` returns an id and honours ``Idempotency-Key`` like
  Resend (the same key returns the same id); counts POSTs per key.
- ``WebhookReceiver``: verifies Standard Webhooks signatures with the
  ``standardwebhooks`` library (each org's secret), counts deliveries per
  ``webhook-id`` (received, and acknowledged with a 2xx); on a schedule hangs: accepts
  and never answers, then drops the connection.

Each answers after a short delay (``Pace``); a fault may stretch it for a few seconds so
that sends are surely in flight when it strikes.

The two HTTP peers run on ``TinyHttpServer``, a minimal HTTP/1.1 server (keep-alive,
Content-Length bodies) that can also drop a request unanswered, which an ASGI server
cannot do without sending a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from email import policy
from email.parser import BytesHeaderParser
from http import HTTPStatus
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.soak.journal import Journal

MAX_REQUEST_BYTES = 16 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One message a provider accepted (the SMTP sink or the Resend stub)."""

    at: float  # journal time
    channel: str  # smtp | resend
    key: str  # the duplicate key: Message-ID (smtp) or Idempotency-Key (resend)
    message_id: str
    to: str
    reply_to: str
    subject: str
    provider_id: str | None = None  # the Resend id


# -- a minimal HTTP/1.1 server ------------------------------------------------------------


@dataclasses.dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass
class HttpResponse:
    status: int
    body: Any = None  # JSON-encoded

    def encode(self) -> bytes:
        payload = json.dumps(self.body if self.body is not None else {}).encode()
        head = (
            f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload


Handler = Callable[[HttpRequest], Awaitable[HttpResponse | None]]


class TinyHttpServer:
    """A handler returning None closes the connection without an answer."""

    def __init__(self, handler: Handler, port: int, host: str = "127.0.0.1") -> None:
        self.handler, self.host, self.port = handler, host, port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            while True:
                line = await reader.readline()
                if not line:
                    return
                parts = line.decode("latin-1").split()
                if len(parts) != 3:
                    return
                method, path, _version = parts
                headers: dict[str, str] = {}
                while True:
                    raw = await reader.readline()
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = raw.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_REQUEST_BYTES:
                    return
                body = await reader.readexactly(length) if length else b""
                response = await self.handler(HttpRequest(method, path, headers, body))
                if response is None:
                    return
                writer.write(response.encode())
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return


# -- SMTP ---------------------------------------------------------------------------------


# Providers take a moment to answer; a window this wide lets a SIGKILL catch a send in
# flight now and then.
SMTP_DELAY = 0.2
HTTP_DELAY = 0.1


class Pace:
    """How long a peer takes to answer: ``base``, or ``slow`` seconds within a window."""

    def __init__(self, base: float) -> None:
        self.base = base
        self.slow = base
        self.slow_until = 0.0  # monotonic

    def slow_for(self, seconds: float, delay: float) -> None:
        self.slow, self.slow_until = delay, time.monotonic() + seconds

    def normal(self) -> None:
        self.slow_until = 0.0

    async def wait(self) -> None:
        await asyncio.sleep(self.slow if time.monotonic() < self.slow_until else self.base)


class SmtpSink:
    def __init__(self, journal: Journal, port: int) -> None:
        self.journal, self.port = journal, port
        self.pace = Pace(SMTP_DELAY)
        self.counts: Counter[str] = Counter()
        self.deliveries: list[Delivery] = []
        self.refused = 0
        self.refuse_until = 0.0  # monotonic
        self._server: asyncio.Server | None = None

    def refuse_for(self, seconds: float) -> None:
        self.refuse_until = time.monotonic() + seconds

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if time.monotonic() < self.refuse_until:
            self.refused += 1
            return "451 4.3.0 soak: mail refused for now, try again later"
        await self.pace.wait()
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
        message_id = str(headers.get("Message-ID", "")).strip()
        self.counts[message_id] += 1
        self.deliveries.append(
            Delivery(
                at=self.journal.now(),
                channel="smtp",
                key=message_id,
                message_id=message_id,
                to=str(headers.get("To", "")),
                reply_to=str(headers.get("Reply-To", "")),
                subject=str(headers.get("Subject", "")),
            )
        )
        return "250 2.0.0 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="soak-sink"), "127.0.0.1", self.port
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


# -- Resend -------------------------------------------------------------------------------


class ResendStub:
    def __init__(self, journal: Journal, port: int, api_key: str) -> None:
        self.journal, self.port, self.api_key = journal, port, api_key
        self.pace = Pace(HTTP_DELAY)
        self.ids: dict[str, str] = {}
        self.counts: Counter[str] = Counter()  # POSTs per Idempotency-Key
        self.deliveries: list[Delivery] = []
        self.unauthorized = 0
        self.on_new: Callable[[Delivery], None] | None = None
        self.http = TinyHttpServer(self.handle, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        if request.method != "POST" or request.path != "/emails":
            return HttpResponse(404, {"message": "not found"})
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            self.unauthorized += 1
            return HttpResponse(401, {"message": "bad api key"})
        try:
            payload = json.loads(request.body)
        except ValueError:
            return HttpResponse(422, {"message": "not JSON"})
        await self.pace.wait()
        key = request.headers.get("idempotency-key") or f"none-{uuid.uuid4().hex}"
        self.counts[key] += 1
        if key in self.ids:
            return HttpResponse(200, {"id": self.ids[key]})
        provider_id = f"re_{uuid.uuid4().hex}"
        self.ids[key] = provider_id
        headers = payload.get("headers") or {}
        to = payload.get("to") or [""]
        delivery = Delivery(
            at=self.journal.now(),
            channel="resend",
            key=key,
            message_id=str(headers.get("Message-ID", "")),
            to=str(to[0] if isinstance(to, list) and to else to),
            reply_to=str(payload.get("reply_to") or ""),
            subject=str(payload.get("subject") or ""),
            provider_id=provider_id,
        )
        self.deliveries.append(delivery)
        if self.on_new is not None:
            self.on_new(delivery)
        return HttpResponse(200, {"id": provider_id})

    async def start(self) -> None:
        await self.http.start()

    async def stop(self) -> None:
        await self.http.stop()


# -- outbound webhooks --------------------------------------------------------------------


class WebhookReceiver:
    def __init__(self, journal: Journal, port: int) -> None:
        self.journal, self.port = journal, port
        self.pace = Pace(HTTP_DELAY)
        self.verifiers: dict[str, Webhook] = {}
        self.received: Counter[str] = Counter()  # per webhook-id, every request
        self.acked: Counter[str] = Counter()  # per webhook-id, answered 2xx
        self.ack_times: list[float] = []
        self.invalid: list[str] = []  # why a signature did not verify
        self.hung = 0
        self.hang_until = 0.0  # monotonic
        self.http = TinyHttpServer(self.handle, port)

    def url_for(self, slug: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{slug}"

    def add_org(self, slug: str, secret: str) -> None:
        self.verifiers[slug] = Webhook(secret)

    def hang_for(self, seconds: float) -> None:
        self.hang_until = time.monotonic() + seconds

    def stop_hanging(self) -> None:
        self.hang_until = 0.0

    async def handle(self, request: HttpRequest) -> HttpResponse | None:
        slug = request.path.removeprefix("/hooks/")
        if request.method != "POST" or slug == request.path or slug not in self.verifiers:
            return HttpResponse(404, {"error": "no such hook"})
        msg_id = request.headers.get("webhook-id", "")
        self.received[msg_id] += 1
        if time.monotonic() < self.hang_until:
            self.hung += 1
            while time.monotonic() < self.hang_until:
                await asyncio.sleep(min(1.0, max(0.01, self.hang_until - time.monotonic())))
            return None  # accepted, never answered
        await self.pace.wait()
        signed = {k: v for k, v in request.headers.items() if k.startswith("webhook-")}
        try:
            self.verifiers[slug].verify(request.body, signed)
        except WebhookVerificationError as exc:
            self.invalid.append(f"{msg_id}: {exc}")
            return HttpResponse(401, {"error": "bad signature"})
        self.acked[msg_id] += 1
        self.ack_times.append(self.journal.now())
        return HttpResponse(200, {"ok": True})

    async def start(self) -> None:
        await self.http.start()

    async def stop(self) -> None:
        self.stop_hanging()
        await self.http.stop()
