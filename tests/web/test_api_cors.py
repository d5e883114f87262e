"""CORS: none by default; the configured origins only (INTIME_CORS_ORIGINS)."""

from __future__ import annotations

import httpx
import pytest

from intime.config import Config, ConfigError

ALLOWED = "https://crm.example"


def _preflight(base_url: str, origin: str) -> httpx.Response:
    return httpx.options(
        f"{base_url}/api/v1/notifications",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=30,
    )


def test_no_origin_is_allowed_by_default(base_url) -> None:
    response = httpx.get(f"{base_url}/openapi.json", headers={"Origin": ALLOWED}, timeout=30)
    assert "access-control-allow-origin" not in response.headers


def test_an_allowed_origin_may_read_the_answer(serve) -> None:
    base_url = serve(cors_origins=(ALLOWED,))
    response = httpx.get(f"{base_url}/openapi.json", headers={"Origin": ALLOWED}, timeout=30)
    assert response.headers["access-control-allow-origin"] == ALLOWED


def test_an_allowed_origin_may_send_a_bearer_token(serve) -> None:
    response = _preflight(serve(cors_origins=(ALLOWED,)), ALLOWED)
    assert response.status_code == 200
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_another_origin_is_refused(serve) -> None:
    base_url = serve(cors_origins=(ALLOWED,))
    response = httpx.get(
        f"{base_url}/openapi.json", headers={"Origin": "https://evil.example"}, timeout=30
    )
    assert "access-control-allow-origin" not in response.headers


def test_another_origins_preflight_is_refused(serve) -> None:
    response = _preflight(serve(cors_origins=(ALLOWED,)), "https://evil.example")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_the_origins_come_from_the_environment() -> None:
    env = {"INTIME_CORS_ORIGINS": "https://crm.example, http://localhost:3000/"}
    config = Config.from_env(env)
    assert config.cors_origins == ("https://crm.example", "http://localhost:3000")


def test_none_are_configured_by_default() -> None:
    assert Config.from_env({}).cors_origins == ()


def test_an_origin_with_a_path_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError):
        Config.from_env({"INTIME_CORS_ORIGINS": "https://crm.example/app"})
