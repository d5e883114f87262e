"""The stream hub's fan-out at scale, over real uvicorn: each event goes only to its
user's streams, one timer beats every idle stream, and a stream cut off as a slow
consumer resumes from its Last-Event-ID without losing anything."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette

from intime_cli.sse import SseStream
from tests.web.streams import opened
from web.rechecks import Credential


def test_an_event_reaches_every_stream_of_its_user_and_no_other(
    stream_url, token_for, send, two_orgs
) -> None:
    sam, morgan = two_orgs.a.rep_ids[1], two_orgs.a.manager_id
    with (
        opened(stream_url, token=token_for(sam)) as first,
        opened(stream_url, token=token_for(sam)) as second,
        opened(stream_url, token=token_for(morgan)) as other,
    ):
        seq = send(sam, "for sam")
        got = [first.next(), second.next()]
        assert other.nothing_within(0.5)
    assert [(int(e.id or 0), e.data) for e in got] == [(seq, got[0].data)] * 2
    assert '"title":"for sam"' in got[0].data


def test_every_idle_stream_gets_heartbeats(stream_url, token_for, two_orgs) -> None:
    users = [*two_orgs.a.rep_ids, two_orgs.a.manager_id]
    streams = [opened(stream_url, token=token_for(u)) for u in users for _ in range(2)]
    opened_streams = [s.__enter__() for s in streams]
    try:
        # The stream app beats every 0.3 s: two beats each within 3 s.
        beats = [[s.next("comment", timeout=3).comment for _ in range(2)] for s in opened_streams]
        health = httpx.get(f"{stream_url}/healthz").json()["stream"]
    finally:
        for s in streams:
            s.__exit__(None, None, None)
    assert all(c.startswith("ping") for pair in beats for c in pair)
    assert health["heartbeats"] >= 2 * len(opened_streams)


def test_a_slow_consumer_is_cut_off_and_resumes_without_loss(
    stream_app: Starlette, stream_url, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    stream = SseStream(f"{stream_url}/notifications/stream", token=token)
    try:
        stream.next("unread_count")
        send(sam, "before")
        stream.next()
        # What the hub does to a stream that overflowed its queue again before it
        # caught up (web/hub.py): the stream ends, the client reconnects.
        (sub,) = stream_app.state.hub.subscribers_of(two_orgs.a.org_id, sam)
        sub.close("slow consumer")
        with pytest.raises(EOFError):
            stream.next(timeout=5)
        last = stream.last_id
        missed = [send(sam, f"missed {i}") for i in range(3)]
    finally:
        stream.close()
    resumed = SseStream(f"{stream_url}/notifications/stream", token=token, last_event_id=last)
    try:
        replayed = [int(resumed.next().id or 0) for _ in range(3)]
        assert resumed.nothing_within(0.3)
    finally:
        resumed.close()
    assert replayed == missed


def test_a_stream_whose_client_left_is_dropped_by_the_hub(
    stream_app: Starlette, stream_url, token_for, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)):
        assert len(stream_app.state.hub.subscribers_of(two_orgs.a.org_id, sam)) == 1
    deadline = time.monotonic() + 5
    while stream_app.state.hub.subscribers_of(two_orgs.a.org_id, sam):
        assert time.monotonic() < deadline, "the subscriber outlived its client"
        time.sleep(0.05)


def test_a_stream_whose_credential_no_re_check_could_verify_for_two_intervals_ends(
    stream_app: Starlette, stream_url, token_for, two_orgs
) -> None:
    """The database busy throughout (here: every check finds no pooled connection in
    time): a stream does not go on unchecked; it ends after two intervals (0.5 s each in
    the stream app), and its client reconnects and is authenticated afresh."""

    async def busy(credential: Credential) -> bool | None:
        await asyncio.sleep(0.05)
        return None

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream_app.state.credential_checks, "check", busy)
        with (
            opened(stream_url, token=token_for(two_orgs.a.rep_ids[1])) as stream,
            pytest.raises(EOFError),
        ):
            stream.next("never sent", timeout=15)
