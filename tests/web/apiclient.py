"""A small client for the JSON API tests: requests as a bearer token over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def call(
    base_url: str,
    method: str,
    path: str,
    token: str | None = None,
    *,
    json: Any = None,
    content: bytes | None = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """``method`` ``/api/v1`` + ``path`` with ``token`` as the bearer token."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return httpx.request(
        method,
        f"{base_url}/api/v1{path}",
        json=json,
        content=content,
        params=params,
        headers=sent,
        timeout=30,
    )


def is_problem(response: httpx.Response, status: int, code: str | None = None) -> bool:
    """Whether ``response`` is a problem document with ``status`` (and ``code``)."""
    if response.status_code != status:
        return False
    if not response.headers.get("content-type", "").startswith(PROBLEM):
        return False
    body = response.json()
    return body["status"] == status and (code is None or body.get("code") == code)
