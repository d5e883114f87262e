"""The web app served by a real uvicorn on loopback, per test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn

from tests.peers import FakeResend, fake_resend
from tests.support import Database
from web.app import create_app

__all__ = ["fake_resend"]

INBOUND_TOKEN = "test-inbound-token"
SECRETS = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==")


@pytest.fixture
def serve(db: Database, fake_resend: FakeResend) -> Iterator[Callable[..., str]]:
    """Start the app (with the given Resend secrets); returns its base URL."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(resend_secrets: tuple[str, ...] = SECRETS) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        app = create_app(
            db.dsn("intime_service"),
            resend_secrets=resend_secrets,
            inbound_token=INBOUND_TOKEN,
            resend_api_key="re_test",
            resend_base_url=fake_resend.url,
        )
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def base_url(serve: Callable[..., str]) -> str:
    return serve()
