"""Regressions found by the review of the web app's input hardening (issue 12).

* Ten unauthenticated connections that sent their headers and then trickled
  their body took every MIME-parser admission slot (2 parses + 8 waiting) and
  held it for as long as they stayed open: every inbound message, correctly
  authenticated or not, answered 503 meanwhile. The slot was taken before the
  body was read (and, for Resend's JSON, before its signature could be checked),
  and a body read had no deadline.
* A correctly signed ``email.received`` whose ``data.email_id`` held a control
  character answered 500 (``httpx.InvalidURL``), and ``../`` in it walked the
  Resend API path.

The slow clients are raw sockets (tests/web/rawhttp.py), since an HTTP client
sends its whole body at once.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.web.conftest import INBOUND_TOKEN
from tests.web.rawhttp import exchange
from tests.web.test_inbound_limits import AUTH, message
from tests.web.test_inbound_webhook import post
from tests.web.test_resend_webhook import signed
from web import limits

# Enough to take every admission slot of the default parser (2 running + 8 waiting).
SLOW_CLIENTS = limits.PARSE_PROCESSES + limits.PARSE_QUEUE + 2


class _UnsignedJson(dict):
    """Svix headers with a fresh timestamp (read when the test runs) and no valid signature."""

    def items(self):  # type: ignore[override]
        return {**dict(super().items()), "svix-timestamp": str(int(time.time()))}.items()


UNSIGNED_JSON = _UnsignedJson(
    {"Content-Type": "application/json", "svix-id": "msg_x", "svix-signature": "v1,x"}
)
GATEWAY = {"Authorization": f"Bearer {INBOUND_TOKEN}", "Content-Type": "message/rfc822"}


@contextlib.contextmanager
def trickling(url: str, headers: dict[str, str], count: int, length: int) -> Iterator[None]:
    """``count`` POSTs to /webhooks/inbound that announce ``length`` body bytes
    and send one byte per connection every half second while the block runs."""
    parts = urlsplit(url)
    head = "".join(
        [
            f"POST /webhooks/inbound HTTP/1.1\r\nHost: {parts.netloc}\r\n",
            *(f"{name}: {value}\r\n" for name, value in headers.items()),
            f"Content-Length: {length}\r\n\r\n",
        ]
    ).encode("latin-1")
    socks = []
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(b"{")

    try:
        for _ in range(count):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
            socks.append(sock)
            sock.sendall(head + b"{")
        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        # The app has seen every slow request once a later request on the same
        # event loop was answered (and a second more, for a loaded machine).
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200
        time.sleep(1.0)
        yield
    finally:
        stop.set()
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    "slow", [UNSIGNED_JSON, GATEWAY], ids=["unsigned-resend-json", "authenticated-gateway"]
)
def test_slow_bodies_do_not_take_the_parser_from_authenticated_mail(
    base_url, slow: dict[str, str]
) -> None:
    with trickling(base_url, slow, SLOW_CLIENTS, length=100_000):
        answers = []
        for _ in range(3):
            response = post(base_url, message(), **AUTH)
            answers.append((response.status_code, response.text))
            time.sleep(0.5)
    assert [status for status, _ in answers] == [200, 200, 200], answers


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


# -- data.email_id of email.received ------------------------------------------------------


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


def test_a_stale_svix_timestamp_is_refused_before_the_body_is_read(base_url) -> None:
    """It can never verify: no reason to buffer its body first."""
    stale = {
        "Content-Type": "application/json",
        "svix-id": "msg_x",
        "svix-timestamp": str(int(time.time()) - 3600),
        "svix-signature": "v1,x",
        "Content-Length": str(limits.MAX_EVENT_BYTES),
    }

    def slowly() -> Iterator[bytes]:
        for _ in range(1000):
            yield b"{" * 1024
            time.sleep(0.05)

    for path in ("/webhooks/resend", "/webhooks/inbound"):
        answer = exchange(base_url, path, stale, slowly(), timeout=30)
        assert answer.status == 401, answer
        assert answer.sent < limits.MAX_EVENT_BYTES // 2


def test_unverified_bodies_past_the_process_budget_answer_503(serve, monkeypatch) -> None:
    """Connections that only carry the svix-* headers may not buffer without bound: past
    the budget of bodies read before their signature is checked, 503 at once."""
    monkeypatch.setattr(limits, "UNVERIFIED_BODY_BUDGET", 3 * 100_000)
    url = serve()
    with trickling(url, UNSIGNED_JSON, 3, length=100_000):
        answer = exchange(
            url,
            "/webhooks/resend",
            {**dict(UNSIGNED_JSON.items()), "Content-Length": "100000"},
            iter([b"{"]),
            timeout=30,
        )
    assert answer.status == 503, answer
    assert answer.headers.get("retry-after") == str(limits.RETRY_AFTER_SECONDS)
