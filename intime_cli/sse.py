"""A small Server-Sent Events client (WHATWG parsing rules) for the demo and tests."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import queue
import socket
import threading
import time
from typing import Any

import httpx


@dataclasses.dataclass
class SseEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    comment: str | None = None  # set for a comment line (a heartbeat), alone
    received: float = dataclasses.field(default_factory=time.perf_counter)


class SseParser:
    """Feed it lines without their line ending; it returns each complete event."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return SseEvent(event="comment", comment=line[1:].lstrip())
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self._id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SseEvent | None:
        if self._id is not None:
            self.last_event_id = self._id
        retry = self._retry
        if not self._data:
            self._event, self._id, self._retry = "message", None, None
            return SseEvent(event="retry", retry=retry) if retry is not None else None
        event = SseEvent(self._event, "\n".join(self._data), self._id, retry)
        self._event, self._data, self._id, self._retry = "message", [], None, None
        return event


class SseStream:
    """A blocking SSE client over real HTTP (httpx streaming) on a background thread."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        last_event_id: int | str | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.headers.update(headers or {})
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.events: queue.Queue[SseEvent | None] = queue.Queue()
        self.status_code: int | None = None
        self.response_headers: httpx.Headers | None = None
        self.body: bytes = b""
        self.error: Exception | None = None
        # The id of the last event taken with next() (skipped ones too), as a
        # browser's EventSource keeps it: what a reconnect sends as Last-Event-ID.
        self.last_id: str | None = None
        self._ready = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, args=(url, params), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("no response from the stream")

    def _run(self, url: str, params: dict[str, str] | None) -> None:
        parser = SseParser()
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
                client.stream("GET", url, headers=self.headers, params=params) as response,
            ):
                self._response = response
                self.status_code = response.status_code
                self.response_headers = response.headers
                if response.status_code != 200:
                    self.body = response.read()
                    self._ready.set()
                    return
                self._ready.set()
                for line in response.iter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        self.events.put(event)
        except Exception as exc:
            self.error = exc
        finally:
            self._ready.set()
            self.events.put(None)

    def next(self, kind: str = "notification", timeout: float = 5.0) -> SseEvent:
        """The next event of ``kind`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} event within {timeout}s")
            try:
                event = self.events.get(timeout=remaining)
            except queue.Empty:
                raise TimeoutError(f"no {kind} event within {timeout}s") from None
            if event is None:
                raise EOFError("the stream ended")
            if event.id is not None:
                self.last_id = event.id
            if event.event == kind:
                return event

    def next_json(self, kind: str = "notification", timeout: float = 5.0) -> Any:
        return json.loads(self.next(kind, timeout).data)

    def nothing_within(self, seconds: float, kind: str = "notification") -> bool:
        try:
            self.next(kind, seconds)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        """Stop reading: shut the socket down so the blocked read returns at once."""
        response = self._response
        if response is not None:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            response.close()
        self._thread.join(timeout=5)
