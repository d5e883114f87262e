"""Web input is bounded before it is read (issue 12, rule 6).

Authentication comes first (a stale svix timestamp is refused before its body
is read), a Content-Length over the limit is refused before
anything is read, and a body is streamed with a byte cap (a chunked upload
too). Each test uses a raw socket (tests/web/rawhttp.py): the answer arriving
while most of the body was never sent shows, by construction, that the server
did not read (or hold) it. Before the fix, every route read the whole body
into memory first: an unauthenticated 300 MB POST took the web process from
85 MB to 600 MB before it answered 401.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx

from tests.web.conftest import INBOUND_TOKEN
from tests.web.rawhttp import chunked, exchange, repeat
from tests.web.test_resend_webhook import signed
from web import limits
from web.limits import MAX_EVENT_BYTES, MAX_MESSAGE_BYTES, MAX_READ_BODY_BYTES

HUGE = 300 * 1024 * 1024
PREFIX = 1024 * 1024  # what the client sends of a huge body before it waits
CHUNK = b"x" * 65536
# The cap plus what socket buffers on loopback can hold: far below HUGE.
FAR_BELOW_HUGE = 64 * 1024 * 1024


def test_an_unauthenticated_upload_is_answered_401_without_reading_its_body(base_url) -> None:
    answer = exchange(
        base_url,
        "/webhooks/inbound",
        {"Content-Type": "message/rfc822", "Content-Length": str(HUGE)},
        repeat(CHUNK, PREFIX),
    )
    assert answer.status == 401
    assert answer.headers.get("connection") == "close"  # no reading on to discard it
    assert answer.sent <= PREFIX


def test_an_unsigned_upload_to_the_resend_webhook_is_refused_without_reading_it(
    base_url,
) -> None:
    answer = exchange(
        base_url,
        "/webhooks/resend",
        {"Content-Type": "application/json", "Content-Length": str(HUGE)},
        repeat(CHUNK, PREFIX),
    )
    assert answer.status == 400
    assert answer.sent <= PREFIX


def test_an_unauthenticated_upload_to_mark_read_is_refused_without_reading_it(
    base_url,
) -> None:
    answer = exchange(
        base_url,
        "/notifications/read",
        {"Content-Type": "application/json", "Content-Length": str(HUGE)},
        repeat(CHUNK, PREFIX),
    )
    assert answer.status == 401
    assert answer.sent <= PREFIX


def test_a_content_length_over_the_message_limit_is_a_413_before_the_body(base_url) -> None:
    answer = exchange(
        base_url,
        "/webhooks/inbound",
        {
            "Authorization": f"Bearer {INBOUND_TOKEN}",
            "Content-Type": "message/rfc822",
            "Content-Length": str(MAX_MESSAGE_BYTES + 1),
        },
        [],  # nothing: the answer must not wait for a body
    )
    assert answer.status == 413


def test_a_signed_event_over_the_event_limit_is_a_413_before_the_body(base_url) -> None:
    headers = signed("{}") | {"Content-Length": str(MAX_EVENT_BYTES + 1)}
    answer = exchange(base_url, "/webhooks/resend", headers, [])
    assert answer.status == 413


def test_a_chunked_message_is_cut_off_at_the_cap(base_url) -> None:
    answer = exchange(
        base_url,
        "/webhooks/inbound",
        {
            "Authorization": f"Bearer {INBOUND_TOKEN}",
            "Content-Type": "message/rfc822",
            "Transfer-Encoding": "chunked",
        },
        chunked(repeat(CHUNK, HUGE)),
    )
    assert answer.status == 413
    assert answer.sent < FAR_BELOW_HUGE


def test_a_chunked_mark_read_body_is_cut_off_at_the_cap(base_url, token_for, two_orgs) -> None:
    answer = exchange(
        base_url,
        "/notifications/read",
        {
            "Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[0])}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        chunked(repeat(CHUNK, HUGE)),
    )
    assert answer.status == 413
    assert answer.sent < FAR_BELOW_HUGE


def test_a_mark_read_body_just_over_its_limit_is_a_413(base_url, token_for, two_orgs) -> None:
    response = httpx.post(
        f"{base_url}/notifications/read",
        content=b" " * (MAX_READ_BODY_BYTES + 1),
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[0])}"},
        timeout=10,
    )
    assert response.status_code == 413


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
