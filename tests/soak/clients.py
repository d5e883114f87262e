"""The harness's HTTP clients of the web processes: every response counted by status, and
SSE clients that resume with ``Last-Event-ID`` and record every notification they get."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx

from intime_cli.sse import SseParser
from tests.soak.journal import Journal

# A notification's seq carries its range in the bits above these (one server: range 0; a
# Citus cluster: one per node group, ordered only within it; docs/scale-out.md).
SEQ_RANGE_BITS = 48


@dataclasses.dataclass(frozen=True)
class Web:
    name: str
    base: str


class HttpStats:
    """Every answer a harness client got, per (web, endpoint, status); transport errors apart."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.statuses: Counter[tuple[str, str, int]] = Counter()
        self.errors: Counter[tuple[str, str, str]] = Counter()
        self.bad: list[str] = []  # the first 5xx (other than 503) answers, for attribution
        self.healthz_max: dict[str, float] = {}

    def record(self, web: str, endpoint: str, status: int, body: str = "") -> None:
        self.statuses[(web, endpoint, status)] += 1
        if status >= 500 and status != 503:
            line = f"t={self.journal.now():.1f}s {web} {endpoint} -> {status} {body[:160]!r}"
            if len(self.bad) < 40:
                self.bad.append(line)

    def error(self, web: str, endpoint: str, exc: BaseException) -> None:
        self.errors[(web, endpoint, type(exc).__name__)] += 1

    def count(self, predicate: Any) -> int:
        return sum(n for (_, _, status), n in self.statuses.items() if predicate(status))

    def by_status(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for (_, _, status), n in self.statuses.items():
            out[status] += n
        return out


class WebClients:
    """Round-robin over the web processes, with accounting."""

    def __init__(self, webs: list[Web], stats: HttpStats) -> None:
        self.webs = webs
        self.stats = stats
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        self._next = 0

    def pick(self) -> Web:
        web = self.webs[self._next % len(self.webs)]
        self._next += 1
        return web

    async def post(
        self, endpoint: str, *, web: Web | None = None, label: str | None = None, **kw: Any
    ) -> httpx.Response | None:
        web = web or self.pick()
        try:
            response = await self.client.post(web.base + endpoint, **kw)
        except httpx.HTTPError as exc:
            self.stats.error(web.name, label or endpoint, exc)
            return None
        self.stats.record(web.name, label or endpoint, response.status_code, response.text)
        return response

    async def probe_health(self, web: Web) -> None:
        t0 = time.monotonic()
        try:
            response = await self.client.get(web.base + "/healthz", timeout=30.0)
        except httpx.HTTPError as exc:
            self.stats.error(web.name, "/healthz", exc)
            return
        elapsed = time.monotonic() - t0
        self.stats.healthz_max[web.name] = max(self.stats.healthz_max.get(web.name, 0.0), elapsed)
        self.stats.record(web.name, "/healthz", response.status_code, response.text)

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclasses.dataclass
class SseClient:
    """One user's notification stream on one web process, reconnecting forever."""

    name: str
    web: Web
    org_slug: str
    user_id: str
    token: str
    stats: HttpStats
    journal: Journal
    first_position: str | None = None  # the id of the first unread_count: the stream's start
    last_id: str | None = None
    received: Counter[tuple[str, int]] = dataclasses.field(default_factory=Counter)
    max_seq: dict[int, int] = dataclasses.field(default_factory=dict)  # per seq range
    connects: int = 0
    drops: int = 0
    resets: int = 0
    hangups: int = 0  # the client's own disconnects (to exercise the resume)
    connected: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    live: bool = False
    # Each connection lasts this long at most (seconds, drawn per connection), then the
    # client hangs up and resumes with Last-Event-ID; None keeps it open.
    lifetime: tuple[float, float] | None = (15.0, 45.0)
    rng: random.Random = dataclasses.field(default_factory=random.Random)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=45.0)) as client:
            while True:
                limit = self.rng.uniform(*self.lifetime) if self.lifetime else None
                try:
                    async with asyncio.timeout(limit):
                        await self._session(client)
                    self.drops += 1  # the server ended the stream
                except TimeoutError:
                    self.hangups += 1
                except (httpx.HTTPError, ValueError) as exc:
                    self.drops += 1
                    self.stats.error(self.web.name, "/notifications/stream", exc)
                self.live = False
                await asyncio.sleep(self.rng.uniform(0.1, 1.0))

    def keep_open(self) -> None:
        """No more hang-ups (the final catch-up)."""
        self.lifetime = None

    async def _session(self, client: httpx.AsyncClient) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        async with client.stream(
            "GET", f"{self.web.base}/notifications/stream", headers=headers
        ) as response:
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")
                self.stats.record(
                    self.web.name, "/notifications/stream", response.status_code, body
                )
                await asyncio.sleep(0.5)
                return
            self.stats.record(self.web.name, "/notifications/stream", 200)
            self.connects += 1
            async for event in _events(response.aiter_lines()):
                if event.id is not None:
                    self.last_id = event.id
                if event.event == "unread_count":
                    if self.first_position is None:
                        self.first_position = event.id
                    self.live = True
                    self.connected.set()
                elif event.event == "notification":
                    data = json.loads(event.data)
                    seq = int(data["seq"])
                    self.received[(str(data["id"]), seq)] += 1
                    r = seq >> SEQ_RANGE_BITS
                    self.max_seq[r] = max(self.max_seq.get(r, 0), seq)
                elif event.event == "reset":
                    self.resets += 1
                    self.journal.log("sse", f"{self.name}: reset event {event.data}")


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    parser = SseParser()
    async for line in lines:
        event = parser.feed(line)
        if event is not None and event.event not in ("comment", "retry"):
            yield event


async def run_all(clients: list[SseClient]) -> list[asyncio.Task[None]]:
    tasks = [asyncio.create_task(c.run()) for c in clients]
    await asyncio.sleep(0)
    return tasks


async def cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
