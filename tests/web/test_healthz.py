"""The web app over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import httpx


def test_healthz_reports_ok_as_the_service_role(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["role"]) == ("ok", "intime_service")


def test_healthz_reports_the_stream_hub(base_url: str) -> None:
    stream = httpx.get(f"{base_url}/healthz", timeout=5).json()["stream"]
    assert stream["clients"] == 0
    assert stream["reconnects"] == 0
    assert {"delivered", "slow_consumers", "gaps_open", "listening"} <= set(stream)
