"""The web app over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.support import Database
from web.app import create_app


@pytest.fixture
def base_url(db: Database) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(db.dsn("intime_service"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_healthz_reports_ok_as_the_service_role(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "role": "intime_service"}
