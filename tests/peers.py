"""Real peers for the worker and the web app, all on loopback: an SMTP server (aiosmtpd), a
fake Resend API (Starlette under uvicorn) and a webhook receiver that verifies what it gets
with the ``standardwebhooks`` library."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from intime_cli.serving import free_port, serve_in_thread


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclasses.dataclass
class SmtpServer:
    host: str
    port: int
    collector: _Collector

    @property
    def messages(self) -> list[EmailMessage]:
        return self.collector.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, collector)
    finally:
        controller.stop()


@dataclasses.dataclass
class FakeResend:
    url: str
    requests: list[dict] = dataclasses.field(default_factory=list)
    # Responses to give, in order: (status, json, headers); then 200s.
    script: list[tuple[int, dict, dict]] = dataclasses.field(default_factory=list)
    # Received emails served by GET /emails/receiving/{id}.
    received: dict[str, dict] = dataclasses.field(default_factory=dict)
    # Raw messages served by GET /raw/{id} (a received email's raw.download_url).
    raw: dict[str, bytes] = dataclasses.field(default_factory=dict)


@pytest.fixture
def fake_resend() -> Iterator[FakeResend]:
    port = free_port()
    fake = FakeResend(url=f"http://127.0.0.1:{port}")

    async def emails(request: Request) -> JSONResponse:
        fake.requests.append({"headers": dict(request.headers), "json": await request.json()})
        if fake.script:
            status, body, headers = fake.script.pop(0)
            return JSONResponse(body, status, headers=headers)
        return JSONResponse({"id": f"re_{len(fake.requests)}"})

    async def received(request: Request) -> JSONResponse:
        email_id = request.path_params["email_id"]
        fake.requests.append({"headers": dict(request.headers), "get": email_id})
        if email_id not in fake.received:
            return JSONResponse({"message": "not found"}, 404)
        return JSONResponse(fake.received[email_id])

    async def raw(request: Request) -> Response:
        email_id = request.path_params["email_id"]
        fake.requests.append({"headers": dict(request.headers), "raw": email_id})
        if email_id not in fake.raw:
            return Response(status_code=404)
        return Response(fake.raw[email_id], media_type="message/rfc822")

    app = Starlette(
        routes=[
            Route("/emails", emails, methods=["POST"]),
            Route("/emails/receiving/{email_id}", received, methods=["GET"]),
            Route("/raw/{email_id}", raw, methods=["GET"]),
        ]
    )
    with serve_in_thread(app, port=port):
        yield fake


# -- a webhook receiver: verifies every request with the standardwebhooks library ------

BLOCK = "block"  # a scripted answer: hold the request until the test releases it


@dataclasses.dataclass(frozen=True)
class Hit:
    headers: dict[str, str]
    body: bytes
    verified: bool  # the standardwebhooks library accepted it with the org's secret

    @property
    def msg_id(self) -> str:
        return self.headers["webhook-id"]


@dataclasses.dataclass
class Receiver:
    port: int
    secret: str = ""
    hits: list[Hit] = dataclasses.field(default_factory=list)
    # Answers to give, in order (a status, a status with headers, or BLOCK); then ``default``.
    script: list[int | tuple[int, dict[str, str]] | str] = dataclasses.field(default_factory=list)
    default: int = 200
    release: threading.Event = dataclasses.field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for_hits(self, count: int, timeout: float = 30.0, alive: Callable[[], bool] = bool):
        deadline = time.monotonic() + timeout
        while len(self.hits) < count:
            assert time.monotonic() < deadline, f"{len(self.hits)} of {count} requests arrived"
            assert alive(), "the worker died"
            time.sleep(0.02)


def receiver_app(receiver: Receiver) -> Starlette:
    async def hook(request: Request) -> PlainTextResponse:
        body = await request.body()
        headers = dict(request.headers)
        try:
            Webhook(receiver.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        receiver.hits.append(Hit(headers, body, verified))
        answer = receiver.script.pop(0) if receiver.script else receiver.default
        if answer == BLOCK:
            deadline = time.monotonic() + 60
            while not receiver.release.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            answer = 200
        status, extra = answer if isinstance(answer, tuple) else (int(answer), {})
        return PlainTextResponse(f"answer {status}", status, headers=extra)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])
