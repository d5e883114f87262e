"""POST /webhooks/resend over real HTTP, signed with the svix library's signer."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svix.webhooks import Webhook

from tests.support import Mail, event
from tests.web.conftest import SECRETS


def signed(
    body: str, secret: str = SECRETS[0], msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/json",
    }


def post(base_url: str, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base_url}/webhooks/resend", content=body, headers=headers, timeout=10)


def receipts(admin: psycopg.Connection) -> int:
    return admin.execute("select count(*) from app.webhook_receipts").fetchone()[0]


@pytest.fixture
def sent(mail: Mail) -> tuple[uuid.UUID, str]:
    send_id = mail.queue(to="web@example.com", subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    mail.sent(send_id, message_id)
    return send_id, message_id


def test_a_signed_event_is_applied(base_url: str, mail: Mail, sent) -> None:
    send_id, message_id = sent
    body = json.dumps(event("email.delivered", message_id))
    response = post(base_url, body, signed(body))
    assert (response.status_code, response.json()) == (200, {"result": "applied"})
    assert mail.send_row(send_id)["status"] == "delivered"


def test_a_replay_is_answered_200_and_counted_once(base_url: str, mail: Mail, sent) -> None:
    send_id, message_id = sent
    body = json.dumps(event("email.opened", message_id))
    headers = signed(body)
    first, second = post(base_url, body, headers), post(base_url, body, headers)
    assert (first.json(), second.status_code, second.json()) == (
        {"result": "applied"},
        200,
        {"result": "duplicate"},
    )
    assert mail.send_row(send_id)["open_count"] == 1


def test_a_rotated_secret_is_accepted(base_url: str, sent) -> None:
    body = json.dumps(event("email.delivered", sent[1]))
    assert post(base_url, body, signed(body, secret=SECRETS[1])).status_code == 200


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("bad_signature", 401),
        ("stale", 401),
        ("missing_header", 400),
        ("not_json", 400),
        ("not_an_object", 400),
        ("not_an_event", 400),
    ],
)
def test_a_rejection_writes_nothing(base_url: str, admin, sent, case: str, status: int) -> None:
    body = json.dumps(event("email.delivered", sent[1]))
    headers = signed(body)
    if case == "bad_signature":
        headers = signed(body, secret="whsec_" + "A" * 32)
    elif case == "stale":
        headers = signed(body, at=datetime.now(UTC) - timedelta(minutes=6))
    elif case == "missing_header":
        del headers["svix-signature"]
    elif case in ("not_json", "not_an_object", "not_an_event"):
        body = {"not_json": "{oops", "not_an_object": "[1, 2]", "not_an_event": '{"a": 1}'}[case]
        headers = signed(body)
    before = receipts(admin)
    response = post(base_url, body, headers)
    assert response.status_code == status, response.text
    assert receipts(admin) == before


def test_without_secrets_the_endpoint_is_unavailable(serve: Callable[..., str]) -> None:
    url = serve(resend_secrets=())
    body = "{}"
    assert post(url, body, signed(body)).status_code == 503


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    header_values=st.lists(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        min_size=3,
        max_size=3,
    ),
    sign_it=st.booleans(),
)
def test_fuzzed_requests_never_fail_and_rejections_write_nothing(
    base_url: str, admin, body: bytes, header_values: list[str], sign_it: bool
) -> None:
    if sign_it:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            text = body.decode("latin-1")
        body = text.encode()
        headers = signed(text)
    else:
        names = ("svix-id", "svix-timestamp", "svix-signature")
        headers = {k: v.strip() for k, v in zip(names, header_values, strict=True)}
    before = receipts(admin)
    response = post(base_url, body, headers)
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert receipts(admin) == before


def test_every_resend_event_type_is_accepted_over_http(
    base_url: str, mail: Mail, resend_events: list[dict]
) -> None:
    for i, fixture in enumerate(resend_events):
        send_id = mail.queue(to=f"h{i}@example.com", subject="Hi", text="x")
        message_id = f"re_{uuid.uuid4().hex}"
        mail.sent(send_id, message_id)
        payload = {
            **fixture["payload"],
            "data": {**fixture["payload"]["data"], "email_id": message_id},
        }
        body = json.dumps(payload)
        response = post(base_url, body, signed(body))
        expected = "ignored" if fixture["type"] == "email.received" else "applied"
        assert (response.status_code, response.json()) == (200, {"result": expected}), fixture[
            "type"
        ]


def test_a_burst_of_events_is_answered_each_with_its_own_outcome(
    base_url: str, mail: Mail, sent
) -> None:
    """Concurrent requests are recorded together (web/ingest.py); a replay inside the
    same burst is still a duplicate, and every open counts once."""
    send_id, message_id = sent
    bodies = [json.dumps(event("email.opened", message_id)) for _ in range(24)]
    requests = [(body, signed(body)) for body in bodies]
    requests.append(requests[0])  # the provider's retry, racing the first delivery

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{base_url}/webhooks/resend", content=body, headers=headers)
                    for body, headers in requests
                )
            )

    responses = asyncio.run(burst())
    assert sorted((r.status_code, r.json()["result"]) for r in responses) == [
        (200, "applied")
    ] * 24 + [(200, "duplicate")]
    assert mail.send_row(send_id)["open_count"] == 24
