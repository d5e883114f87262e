"""A JSON body nested too deep is a 400 on every route that takes JSON (one too
large for its route is a 413).

Before the fix a correctly signed Resend event nested 50,000 deep answered 500
(``RecursionError`` in the JSON parser), which Resend retries; a body nested
less deeply than the parser's recursion limit went on to PostgreSQL.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.web.test_resend_webhook import signed
from web.limits import MAX_JSON_DEPTH


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def event_with(payload: str) -> str:
    return '{"type": "email.delivered", "data": {"email_id": "re_x", "deep": ' + payload + "}}"


def test_a_signed_event_nested_50000_deep_is_a_400(base_url, admin) -> None:
    body = deep(50_000)
    response = httpx.post(f"{base_url}/webhooks/resend", content=body, headers=signed(body))
    assert response.status_code == 400, response.text
    assert admin.execute("select count(*) from app.webhook_receipts").fetchone() == (0,)


def test_a_signed_event_nested_past_the_cap_is_a_400(base_url, admin) -> None:
    body = event_with(deep(MAX_JSON_DEPTH))  # inside an object inside an object
    response = httpx.post(f"{base_url}/webhooks/resend", content=body, headers=signed(body))
    assert response.status_code == 400, response.text
    assert "nested deeper" in response.json()["error"]
    assert admin.execute("select count(*) from app.webhook_receipts").fetchone() == (0,)


def test_a_signed_received_event_nested_50000_deep_is_a_400(base_url) -> None:
    body = deep(50_000)
    response = httpx.post(f"{base_url}/webhooks/inbound", content=body, headers=signed(body))
    assert response.status_code == 400, response.text


def test_a_mark_read_body_nested_too_deep_is_a_400_and_marks_nothing(
    base_url, token_for, two_orgs, send, admin
) -> None:
    user = two_orgs.a.rep_ids[0]
    send(user, "unread one")
    query = "select count(*) from app.notifications where user_id = %s and read_at is null"
    before = admin.execute(query, (user,)).fetchone()
    assert before is not None
    assert before[0] > 0
    body = json.dumps({"all": True, "note": json.loads(deep(MAX_JSON_DEPTH))})
    response = httpx.post(
        f"{base_url}/notifications/read",
        content=body,
        headers={"Authorization": f"Bearer {token_for(user)}"},
    )
    assert response.status_code == 400, response.text
    assert admin.execute(query, (user,)).fetchone() == before


@pytest.mark.parametrize(("body", "status"), [(b"[" * 50_000, 400), (b"[" * 100_000, 413)])
def test_deeply_nested_or_huge_json_is_refused(stream_url, token_for, two_orgs, body, status):
    response = httpx.post(
        f"{stream_url}/notifications/read",
        content=body,
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}"},
    )
    assert response.status_code == status
