"""The stream's send timeout (web/sse.py): one timer for every stream (SendWatch), not one
per send. A send that never completes (a client that stopped reading) ends its stream
after the timeout; the frames generator is closed; a stream that keeps up is left alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable

from starlette.types import Message

from web.sse import EventStreamResponse, SendWatch

SCOPE = {"type": "http", "method": "GET"}


async def _never_disconnects() -> Message:
    await asyncio.Event().wait()
    return {"type": "http.disconnect"}


def _run(
    frames: AsyncGenerator[bytes, None],
    send: Callable[[Message], Awaitable[None]],
    send_timeout: float = 0.2,
) -> float:
    """The response's seconds, under a watch that looks every 0.05 s (5 s at most)."""

    async def scenario() -> float:
        watch = SendWatch(period=0.05)
        watch.start()
        response = EventStreamResponse(
            frames, headers={}, on_disconnect=lambda: None, watch=watch, send_timeout=send_timeout
        )
        started = time.monotonic()
        try:
            await asyncio.wait_for(response(SCOPE, _never_disconnects, send), 5)
        finally:
            await watch.close()
        return time.monotonic() - started

    return asyncio.run(scenario())


def test_a_send_that_never_completes_ends_the_stream_after_its_timeout() -> None:
    closed: list[bool] = []

    async def frames() -> AsyncGenerator[bytes, None]:
        try:
            while True:
                yield b": ping\r\n\r\n"
        finally:
            closed.append(True)

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()  # the client's socket buffers are full

    assert 0.2 <= _run(frames(), send) < 2
    assert closed == [True]


def test_the_closing_send_is_watched_too() -> None:
    """A stream that ends (its credential revoked, the server exiting) while the client's
    socket is full: the last send waits for a drain that never comes, and is cut too."""

    async def frames() -> AsyncGenerator[bytes, None]:
        yield b": the frame that fills the socket\r\n\r\n"

    async def send(message: Message) -> None:
        # As uvicorn: the write that fills the buffer returns; the next one waits to drain.
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            await asyncio.Event().wait()

    assert _run(frames(), send) < 2


def test_a_response_start_that_never_completes_ends_the_stream() -> None:
    async def frames() -> AsyncGenerator[bytes, None]:
        yield b": never sent\r\n\r\n"

    async def send(message: Message) -> None:
        await asyncio.Event().wait()  # not even the headers go out

    assert _run(frames(), send) < 2


def test_the_app_watches_its_streams_sends_from_start_up(stream_app, stream_url) -> None:
    assert stream_app.state.send_watch.running


def test_a_stream_whose_sends_complete_is_not_cut(caplog) -> None:
    sent: list[bytes] = []

    async def frames() -> AsyncGenerator[bytes, None]:
        for i in range(20):
            await asyncio.sleep(0.02)  # 0.4 s in all: past the timeout, each send quick
            yield f": {i}\r\n\r\n".encode()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            sent.append(message["body"])

    async def scenario() -> None:
        watch = SendWatch(period=0.05)
        watch.start()
        response = EventStreamResponse(
            frames(), headers={}, on_disconnect=lambda: None, watch=watch, send_timeout=0.1
        )
        await asyncio.wait_for(response(SCOPE, _never_disconnects, send), 5)
        await watch.close()

    asyncio.run(scenario())
    assert len(sent) == 21  # every frame, then the end of the body
    assert sent[-1] == b""
    assert "stopped reading" not in caplog.text


def test_a_cancellation_from_outside_still_cancels_the_stream() -> None:
    """Only the watch's own cancellation is absorbed: a server shutting the task down
    gets its CancelledError."""

    async def frames() -> AsyncGenerator[bytes, None]:
        while True:
            await asyncio.sleep(0.01)
            yield b": x\r\n\r\n"

    async def send(message: Message) -> None:
        return None

    async def scenario() -> bool:
        watch = SendWatch(period=0.05)
        watch.start()
        response = EventStreamResponse(
            frames(), headers={}, on_disconnect=lambda: None, watch=watch, send_timeout=10
        )
        task = asyncio.create_task(response(SCOPE, _never_disconnects, send))
        await asyncio.sleep(0.1)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        finally:
            await watch.close()
        return False

    assert asyncio.run(scenario())
