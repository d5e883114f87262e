"""Real peers for the worker and the web app: an SMTP server (aiosmtpd) and a fake Resend API
(Starlette under uvicorn), both on loopback."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from intime.serving import free_port, serve_in_thread


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

    app = Starlette(
        routes=[
            Route("/emails", emails, methods=["POST"]),
            Route("/emails/receiving/{email_id}", received, methods=["GET"]),
        ]
    )
    with serve_in_thread(app, port=port):
        yield fake
