"""Shared pieces of the notification stream tests (fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import psycopg

from intime_cli.sse import SseStream
from tests.support import Database


@contextlib.contextmanager
def opened(url: str, **kwargs) -> Iterator[SseStream]:
    """A stream read up to its first unread_count: live from there on."""
    stream = SseStream(f"{url}/notifications/stream", **kwargs)
    try:
        if stream.status_code == 200:
            stream.next("unread_count")
        yield stream
    finally:
        stream.close()


def open_send(
    db: Database, org: uuid.UUID, user: uuid.UUID, title: str, group: str | None = None
) -> psycopg.Connection:
    """Send in a transaction left open; the caller commits or rolls it back, and closes.
    It sends as the engine (no user): a user's own sends wait for each other (the rate),
    and these tests hold one open while others send."""
    conn = db.connect("intime_service")
    conn.execute("select api.set_actor(p_org_id => %s, p_user_id => null)", (org,))
    conn.execute(
        "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => %s, "
        "p_message => 'm', p_channels => array['in_app'], p_group_key => %s)",
        (user, title, group),
    )
    return conn


def titles_within(stream: SseStream, seconds: float) -> list[str]:
    """The titles of the notification events that arrive within ``seconds``."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = stream.next(timeout=left)
        except TimeoutError:
            break
        got.append(json.loads(event.data)["title"])
    return got


class Hooked:
    """A pool that runs ``hook`` once: right after the first statement that starts
    with ``after`` (before anything else on that connection), or, with ``after``
    None, before it hands out its first connection."""

    def __init__(self, pool: Any, after: str | None, hook: Callable[[], Awaitable[None]]) -> None:
        self.pool, self.after, self.hook = pool, after, hook
        self.fired = False

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        if self.after is None and not self.fired:
            self.fired = True
            await self.hook()
        async with self.pool.connection() as conn:
            yield _HookedConn(conn, self)


class _HookedConn:
    def __init__(self, conn: Any, owner: Hooked) -> None:
        self.conn, self.owner = conn, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    async def execute(self, query: Any, params: Any = None) -> Any:
        cur = await self.conn.execute(query, params)
        after = self.owner.after
        if not self.owner.fired and after is not None and str(query).startswith(after):
            self.owner.fired = True
            await self.owner.hook()
        return cur
