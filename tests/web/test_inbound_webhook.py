"""POST /webhooks/inbound with raw messages over real HTTP: a body that does not
arrive in time is a 408 (on /webhooks/resend too), and a Resend email_id is
checked before it is fetched."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.support import TESTDATA, Mail
from tests.web.conftest import INBOUND_TOKEN
from tests.web.rawhttp import exchange
from tests.web.test_resend_webhook import signed
from web import limits

# Addressed to Acme's reply domain, so the sender fallback may match it.
OOO = (
    (TESTDATA / "mail" / "ooo_auto_submitted_auto_replied.eml")
    .read_bytes()
    .replace(b"To: neko@libsisimai.org", b"To: sales@mail.acme.example")
)


GATEWAY = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"}


def post(base_url: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/webhooks/inbound",
        content=body,
        headers={"content-type": "message/rfc822", **headers},
        timeout=60,  # generous: the suite runs eight processes on two cores
    )


def test_a_raw_message_is_recorded_and_classified(base_url: str, mail: Mail) -> None:
    mail.queue(to="kijitora@example.net", subject="Hi", text="x")
    response = post(base_url, OOO, authorization=f"Bearer {INBOUND_TOKEN}")
    assert response.status_code == 200
    assert response.json() | {"inbound_id": None} == {
        "result": "recorded",
        "inbound_id": None,
        "match_method": "sender",
        "is_auto_reply": True,
        "auto_reply_kind": "out_of_office",
        "bounce": None,
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": f"Bearer {INBOUND_TOKEN}", "content-type": "text/plain"}, 415),
    ],
)
def test_unauthenticated_or_wrong_type_is_refused_and_writes_nothing(
    base_url: str, admin, headers: dict, status: int
) -> None:
    before = admin.execute("select count(*) from app.inbound_unmatched").fetchone()
    assert post(base_url, OOO, **headers).status_code == status
    assert admin.execute("select count(*) from app.inbound_unmatched").fetchone() == before


def test_a_message_without_message_id_is_a_400(base_url: str) -> None:
    body = b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert post(base_url, body, authorization=f"Bearer {INBOUND_TOKEN}").status_code == 400


def _signed_json(body: str) -> dict[str, str]:
    from tests.web.test_resend_webhook import signed

    return signed(body)


def test_resend_email_received_is_fetched_and_recorded(
    base_url: str, mail: Mail, fake_resend, admin
) -> None:
    send_id = mail.queue(to="client@corp.example", subject="Proposal", text="x")
    our_message_id = mail.send_row(send_id)["message_id"]
    fake_resend.received["rcv_1"] = {
        "object": "email",
        "id": "rcv_1",
        "from": "Client <client@corp.example>",
        "to": ["reply@mail.acme.example"],
        "subject": "Re: Proposal",
        "text": "Yes, let's go.",
        "html": None,
        "message_id": "<client-1@corp.example>",
        "headers": {"In-Reply-To": our_message_id, "References": our_message_id},
    }
    body = json.dumps(
        {
            "type": "email.received",
            "created_at": "2026-01-01T00:00:00Z",
            "data": {"email_id": "rcv_1", "from": "client@corp.example", "to": [], "subject": "x"},
        }
    )
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=_signed_json(body), timeout=10
    )
    assert response.status_code == 200, response.text
    assert (response.json()["result"], response.json()["match_method"]) == (
        "recorded",
        "in_reply_to",
    )
    assert fake_resend.requests[-1]["headers"]["authorization"] == "Bearer re_test"
    assert mail.send_row(send_id)["replied_at"] is not None


def test_a_received_email_the_api_cannot_find_is_a_502_and_writes_nothing(
    base_url: str, admin
) -> None:
    body = json.dumps(
        {
            "type": "email.received",
            "created_at": "x",
            "data": {"email_id": "missing", "to": [], "subject": "x"},
        }
    )
    before = admin.execute("select count(*) from app.inbound_emails").fetchone()
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=_signed_json(body), timeout=10
    )
    assert response.status_code == 502
    assert admin.execute("select count(*) from app.inbound_emails").fetchone() == before


def test_an_unsigned_received_event_is_refused(base_url: str) -> None:
    body = json.dumps({"type": "email.received", "data": {"email_id": "rcv_1"}})
    response = httpx.post(
        f"{base_url}/webhooks/inbound",
        content=body,
        headers={"content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


def test_a_nul_byte_in_a_message_is_stored_without_it(base_url: str, mail: Mail, admin) -> None:
    import base64
    import uuid

    mail.queue(to="nul@example.com", subject="Hi", text="x")
    body = base64.b64encode(b"hello\x00world").decode()
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@x.example>\r\nFrom: nul@example.com\r\n"
        "To: sales@mail.acme.example\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{body}\r\n"
    ).encode()
    response = post(base_url, raw, authorization=f"Bearer {INBOUND_TOKEN}")
    assert response.status_code == 200, response.text
    stored = admin.execute(
        "select text_body from app.inbound_emails where id = %s", (response.json()["inbound_id"],)
    ).fetchone()
    assert stored == ("helloworld",)


def test_a_signed_received_event_without_a_data_object_is_a_400(base_url: str) -> None:
    body = json.dumps({"type": "email.received", "created_at": "x", "data": [1]})
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=_signed_json(body), timeout=10
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "make_headers"),
    [
        ("/webhooks/inbound", lambda: GATEWAY),
        # Signed when the test runs: a timestamp from collection time may be stale by then.
        ("/webhooks/inbound", lambda: signed('{"type": "email.received"}')),
        ("/webhooks/resend", lambda: signed("{}")),
    ],
    ids=["gateway", "resend-received", "resend-event"],
)
def test_a_body_that_does_not_arrive_in_time_is_a_408(
    base_url, monkeypatch, path: str, make_headers: Callable[[], dict[str, str]]
) -> None:
    headers = make_headers()
    # The deadline is read when a body read starts: shortened here, so the test
    # need not wait out the real one (10 s plus 1 s per 32 KiB announced).
    monkeypatch.setattr(limits, "BODY_SECONDS", 1.0, raising=False)

    def one_byte_a_second() -> Iterator[bytes]:
        for _ in range(100):
            yield b"{"
            time.sleep(1.0)

    start = time.monotonic()
    answer = exchange(
        base_url, path, headers | {"Content-Length": "100"}, one_byte_a_second(), timeout=30
    )
    assert answer.status == 408, answer
    assert answer.headers.get("connection") == "close"
    assert "error" in json.loads(answer.body)
    assert time.monotonic() - start < 20


def test_the_body_deadline_lets_a_full_message_through_a_slow_link() -> None:
    slow_link = 256_000 / 8  # bytes per second on a 256 kbit/s uplink
    assert limits.body_deadline(limits.MAX_MESSAGE_BYTES) >= limits.MAX_MESSAGE_BYTES / slow_link
    assert limits.body_deadline(0) >= 10


def post_received(base_url: str, email_id: object) -> httpx.Response:
    body = json.dumps(
        {
            "type": "email.received",
            "created_at": "2026-01-01T00:00:00Z",
            "data": {"email_id": email_id, "to": [], "subject": "x"},
        }
    )
    return httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=10
    )


def _received_email(email_id: str) -> dict:
    return {
        "object": "email",
        "id": email_id,
        "from": "Client <client@corp.example>",
        "to": ["reply@mail.acme.example"],
        "subject": "Re: x",
        "text": "hi",
        "html": None,
        "message_id": f"<{uuid.uuid4().hex}@corp.example>",
        "headers": {},
    }


@pytest.mark.parametrize(
    "email_id",
    ["rcv\x01x", "rcv\x7f", "rcv 1", "rcv_1/../rcv_1", "../../emails", "..", "r" * 129, "é"],
    ids=["control", "del", "space", "dot-dot-inside", "dot-dot-up", "dot-dot", "too-long", "utf8"],
)
def test_a_malformed_email_id_is_a_400_and_fetches_nothing(
    base_url, fake_resend, admin, email_id: str
) -> None:
    fake_resend.received["rcv_1"] = _received_email("rcv_1")
    before = admin.execute("select count(*) from app.inbound_emails").fetchone()
    response = post_received(base_url, email_id)
    assert response.status_code == 400, response.text
    assert "email_id" in response.json()["error"]
    assert not [r for r in fake_resend.requests if "get" in r]
    assert admin.execute("select count(*) from app.inbound_emails").fetchone() == before


def test_a_resend_style_email_id_is_fetched(base_url, fake_resend) -> None:
    email_id = str(uuid.uuid4())  # Resend's ids are UUIDs (tests/fixtures/testdata)
    fake_resend.received[email_id] = _received_email(email_id)
    response = post_received(base_url, email_id)
    assert response.status_code == 200, response.text
    assert fake_resend.requests[-1]["get"] == email_id
