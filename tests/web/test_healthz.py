"""The web app over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import httpx


def test_healthz_reports_ok_as_the_service_role(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "role": "intime_service"}
