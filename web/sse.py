"""A minimal Server-Sent Events response for the notification stream.

One stream is one task (the request's own) writing frames that are bytes already,
plus one task waiting for the client to go away. Heartbeats come from the hub's one
timer (web/hub.py), not from a task per stream, and a notification's ``data:`` line
is encoded once per event, not once per client. (sse_starlette's response runs four
tasks per stream and encodes every event for every client: at 10,000 streams that is
40,000 tasks and 10,000 timers.) Likewise a send that does not complete in time is
found by one timer for every stream (``SendWatch``), not a timer per send: at 10,000
streams the timers per send (2,500 a second, each kept 30 s) outlived the young
collections and made the full ones, 1.5 s each at 1.3 million objects, the p99.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger("intime.web.sse")

SEP = b"\r\n"


def frame(
    *,
    event: str | None = None,
    data: str | None = None,
    event_id: str | None = None,
    comment: str | None = None,
    retry: int | None = None,
) -> bytes:
    """One SSE frame (``\\r\\n`` line ends, as sse_starlette wrote them)."""
    lines: list[str] = []
    if comment is not None:
        lines.extend(f": {line}" for line in comment.splitlines() or [""])
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event is not None:
        lines.append(f"event: {event}")
    if data is not None:
        lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    if retry is not None:
        lines.append(f"retry: {retry}")
    return "\r\n".join(lines).encode() + SEP + SEP


def data_tail(data: str) -> bytes:
    """The ``data:`` lines and the frame's end, encoded once for every client."""
    return b"".join(b"data: " + line.encode() + SEP for line in data.splitlines() or [""]) + SEP


PING = frame(comment="ping")


class SendWatch:
    """One timer for every stream's sends: every ``period`` seconds, a stream whose
    send has waited longer than its ``send_timeout`` (a client that stopped reading,
    its socket buffers full) is cancelled, and ends. The app keeps one
    (``app.state.send_watch``) and closes it at shutdown."""

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self._streams: set[EventStreamResponse] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """In the app's lifespan: the task carries no request's context."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sse-send-watch")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def add(self, stream: EventStreamResponse) -> None:
        self._streams.add(stream)

    def discard(self, stream: EventStreamResponse) -> None:
        self._streams.discard(stream)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            now = time.monotonic()
            for stream in self._streams:
                stream.check_send(now)


class EventStreamResponse(Response):
    """``frames`` as ``text/event-stream``. ``on_disconnect`` is called once when the
    client goes away (the generator should then end by itself); a send that cannot
    complete within ``send_timeout`` seconds (a client that stopped reading, its
    socket buffers full) ends the stream, found by ``watch``. A HEAD request gets the
    headers only, without starting ``frames``."""

    def __init__(
        self,
        frames: AsyncGenerator[bytes, None],
        *,
        headers: dict[str, str],
        on_disconnect: Callable[[], None],
        watch: SendWatch,
        send_timeout: float = 30.0,
    ) -> None:
        self.frames = frames
        self.on_disconnect = on_disconnect
        self.watch = watch
        self.send_timeout = send_timeout
        self.status_code = 200
        self.media_type = "text/event-stream"
        self.background = None
        self.init_headers(headers)  # no body attribute: no Content-Length
        self._task: asyncio.Task[object] | None = None
        self._sending_since: float | None = None
        self._stalled = False

    def check_send(self, now: float) -> None:
        """Cancel the stream if its send has waited past the timeout (SendWatch)."""
        since = self._sending_since
        if since is not None and now - since > self.send_timeout and not self._stalled:
            self._stalled = True
            if self._task is not None:
                self._task.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
        if scope["method"] == "HEAD":
            await self.frames.aclose()
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        self._task = asyncio.current_task()
        watcher = asyncio.create_task(self._watch(receive))
        self.watch.add(self)
        try:
            await self._send(send, start)
            async with contextlib.aclosing(self.frames) as frames:
                async for chunk in frames:
                    await self._send(
                        send, {"type": "http.response.body", "body": chunk, "more_body": True}
                    )
            # Watched too: a stream that ends (revoked, server exiting) while the
            # client's buffers are full would otherwise wait here for good.
            await self._send(send, {"type": "http.response.body", "body": b"", "more_body": False})
        except asyncio.CancelledError:
            # Our own cancellation (check_send) ends the stream, not the request; one
            # from the server too, in the same loop step, still propagates.
            if not self._stalled or (self._task is not None and self._task.uncancel() > 0):
                raise
            log.info("a notification stream ended: the client stopped reading")
        finally:
            self.watch.discard(self)
            watcher.cancel()

    async def _send(self, send: Send, message: Message) -> None:
        self._sending_since = time.monotonic()
        try:
            await send(message)
        finally:
            self._sending_since = None

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.on_disconnect()
