"""The unread badge stays exact when writes race the stream's counts.

A client (the console's inbox.js, simulated here) adds one for each notification
event whose id it does not list yet, and sets the badge to each ``unread_count``.
The counts come from a stream's replay and from the hub (after a read mark, or a
LISTEN reconnect); each must hold exactly the notifications that came, or will
come, before it as events. Each test commits a notification at the worst moment
(a hook on the connection) and compares the badge with the table's count.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import psycopg

from intime.db import actor, open_pool
from tests.support import Database, TwoOrgs
from tests.web.streams import Hooked
from web import queries as q
from web.hub import PING, NotificationHub
from web.notifications import _Stream
from web.pools import open_event_pool
from web.rechecks import Credential


class Inbox:
    """web/static/inbox.js: +1 for a new unread notification, the count sets the badge."""

    def __init__(self, ids: set[str], badge: int) -> None:
        self.ids, self.badge = ids, badge
        self.log: list[str] = []

    def feed(self, chunk: bytes) -> None:
        event, data = "message", []
        for line in chunk.decode().split("\r\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if not data:
            return
        payload = json.loads("\n".join(data))
        if event == "notification":
            self.log.append(f"notification {payload['title']}")
            if payload["id"] not in self.ids:
                self.ids.add(payload["id"])
                self.badge += 0 if payload.get("read_at") else 1
        elif event == "unread_count":
            self.log.append(f"unread_count {payload['unread_count']}")
            self.badge = payload["unread_count"]


class Scene:
    def __init__(self, db: Database, service: psycopg.Connection, two_orgs: TwoOrgs) -> None:
        self.db, self.service = db, service
        self.org, self.user = two_orgs.a.org_id, two_orgs.a.rep_ids[1]

    @property
    def key(self) -> tuple[uuid.UUID, uuid.UUID]:
        return self.org, self.user

    def send(self, title: str, group_key: str | None = None) -> None:
        with actor(self.service, self.org, self.user):
            self.service.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => %s, p_message => 'm', p_channels => array['in_app'], "
                "p_group_key => %s)",
                (self.user, title, group_key),
            )

    async def send_later(self, title: str, group_key: str | None = None) -> None:
        await asyncio.to_thread(self.send, title, group_key)

    def unread(self) -> int:
        with actor(self.service, self.org, self.user):
            row = self.service.execute("select api.count_unread_notifications()").fetchone()
        assert row is not None
        return int(row[0])

    def page(self) -> Inbox:
        """The inbox as the page rendered it: its ids and its badge."""
        with actor(self.service, self.org, self.user):
            ids = {
                str(r[0]) for r in self.service.execute("select id from api.list_notifications()")
            }
        return Inbox(ids, self.unread())

    def run(self, body: Callable[[Any, NotificationHub], Awaitable[Inbox]]) -> Inbox:
        async def main() -> Inbox:
            dsn = self.db.dsn("intime_service")
            app_pool = await open_pool(dsn, max_size=2, autocommit=True)
            hub_pool = await open_pool(dsn, max_size=2, autocommit=True)
            try:
                hub = NotificationHub(dsn, hub_pool)
                async with hub_pool.connection() as conn:
                    cur = await conn.execute(q.GET_NOTIFICATION_FEED_HEADS)
                    heads = await cur.fetchall()
                hub._cursors = {r: head for r, head in heads}
                return await body(app_pool, hub)
            finally:
                await app_pool.close()
                await hub_pool.close()

        return asyncio.run(main())

    def stream(self, pool: Any, hub: NotificationHub) -> _Stream:
        return _Stream(
            pool=pool,
            hub=hub,
            user_id=self.user,
            credential=Credential(self.org, uuid.uuid4()),
            checks=cast(Any, None),
            resume=None,
            reauth_every=3600.0,
        )


async def _reading(stream: _Stream, inbox: Inbox) -> asyncio.Task[None]:
    async def consume() -> None:
        async for chunk in stream._events():
            inbox.feed(chunk)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    return task


async def _stop(task: asyncio.Task[None]) -> None:
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _count_racing(
    hub: NotificationHub, scene: Scene, hook: Callable[[], Awaitable[None]]
) -> None:
    """The hub counts the user (a read mark elsewhere, say) with ``hook`` run
    right after its read's snapshot, then reads once more (what the hook wrote)."""
    hub._pool = Hooked(hub._pool, q.READ_FEED, hook)
    hub.recount(scene.key)
    await hub._read_once(count=True)
    await hub._read_once(count=True)


def _one_tab_while_the_hub_counts(
    scene: Scene, inbox: Inbox, hook: Callable[[], Awaitable[None]]
) -> Inbox:
    """One tab open while the hub counts its user, ``hook`` run right after the
    hub's read: the tab as it ends."""

    async def body(app_pool: Any, hub: NotificationHub) -> Inbox:
        await hub._read_once()
        task = await _reading(scene.stream(app_pool, hub), inbox)
        await _count_racing(hub, scene, hook)
        await _stop(task)
        return inbox

    return scene.run(body)


def test_a_hub_count_leaves_out_what_committed_after_its_read(db, service, two_orgs) -> None:
    scene = Scene(db, service, two_orgs)
    scene.send("before")
    inbox = scene.page()

    seen = _one_tab_while_the_hub_counts(scene, inbox, lambda: scene.send_later("after the read"))
    assert seen.badge == scene.unread(), seen.log


def test_a_collapse_between_the_hubs_read_and_its_count_keeps_its_place(
    db, service, two_orgs
) -> None:
    """A collapsed notification keeps its id and takes a new seq: the client has
    it already, so its event adds nothing, and the count must still hold it."""
    scene = Scene(db, service, two_orgs)
    scene.send("X v1", "deal-1")
    inbox = scene.page()

    seen = _one_tab_while_the_hub_counts(scene, inbox, lambda: scene.send_later("X v2", "deal-1"))
    assert seen.badge == scene.unread(), seen.log
    assert "notification X v2" in seen.log


def test_a_hub_count_older_than_a_streams_replay_is_not_written_after_it(
    db, service, two_orgs
) -> None:
    """The hub counts (without N), N commits, the new stream's replay sends N and
    counts it: the hub's count, queued meanwhile, must not set the badge back."""
    scene = Scene(db, service, two_orgs)
    scene.send("old")
    inbox = scene.page()

    async def body(app_pool: Any, hub: NotificationHub) -> Inbox:
        await hub._read_once()

        async def hub_counts_then_n_commits() -> None:
            hub.recount(scene.key)
            await hub._read_once(count=True)
            await scene.send_later("N")

        # The stream subscribes, then (before its replay reads) the hub counts
        # and N commits; the replay's snapshot then holds N.
        stream = scene.stream(Hooked(app_pool, None, hub_counts_then_n_commits), hub)
        task = await _reading(stream, inbox)
        await hub._read_once(count=True)  # N live (already replayed), and the fresh count
        await _stop(task)
        return inbox

    seen = scene.run(body)
    assert seen.badge == scene.unread(), seen.log


def test_a_hub_count_whose_read_began_before_a_replay_ended_is_not_written_after_it(
    db, service, two_orgs
) -> None:
    """The hub's read has taken its snapshot (without N); N commits; a second tab
    opens and its replay sends N. The hub's count, taken in the older snapshot but
    offered after that replay, must not set the second tab back (the count's epoch
    is drawn before its snapshot)."""
    scene = Scene(db, service, two_orgs)
    scene.send("old")
    first, second = scene.page(), scene.page()
    tasks: list[asyncio.Task[None]] = []

    async def body(app_pool: Any, hub: NotificationHub) -> Inbox:
        await hub._read_once()
        tasks.append(await _reading(scene.stream(app_pool, hub), first))

        async def n_commits_then_a_second_tab_opens() -> None:
            await scene.send_later("N")
            tasks.append(await _reading(scene.stream(app_pool, hub), second))

        await _count_racing(hub, scene, n_commits_then_a_second_tab_opens)
        for task in tasks:
            await _stop(task)
        return second

    seen = scene.run(body)
    assert seen.badge == scene.unread(), seen.log
    assert first.badge == scene.unread(), first.log


def test_an_overflow_catch_up_drops_a_hub_count_older_than_it(db, service, two_orgs) -> None:
    scene = Scene(db, service, two_orgs)
    scene.send("old")
    inbox = scene.page()

    async def body(app_pool: Any, hub: NotificationHub) -> Inbox:
        await hub._read_once()
        stream = scene.stream(app_pool, hub)
        task = await _reading(stream, inbox)
        sub = stream.sub
        assert sub is not None

        async def n_commits_then_the_stream_catches_up() -> None:
            await scene.send_later("N")
            sub.overflowed = True  # as if its queue had overflowed: it reads the table
            sub.queue.put_nowait(PING)
            await asyncio.sleep(0.3)

        await _count_racing(hub, scene, n_commits_then_the_stream_catches_up)
        await _stop(task)
        return inbox

    seen = scene.run(body)
    assert seen.badge == scene.unread(), seen.log


def test_a_dropped_hub_count_is_replaced_by_a_fresh_one(db, service, two_orgs) -> None:
    """A read mark commits after the replay's snapshot and the hub counts it before
    the replay ends: the stream drops that count (it cannot tell it from an older
    one) and must get the mark from the count it asks for."""
    scene = Scene(db, service, two_orgs)
    scene.send("one")
    scene.send("two")
    inbox = scene.page()

    def mark_all_read() -> None:
        with actor(scene.service, scene.org, scene.user):
            scene.service.execute("select api.mark_all_notifications_read()")

    async def body(app_pool: Any, hub: NotificationHub) -> Inbox:
        await hub._read_once()

        async def a_read_mark_then_the_hub_counts() -> None:
            await asyncio.to_thread(mark_all_read)
            hub.recount(scene.key)  # its NOTIFY
            await hub._read_once(count=True)

        pool = Hooked(app_pool, q.COUNT_UNREAD_NOTIFICATIONS, a_read_mark_then_the_hub_counts)
        task = await _reading(scene.stream(pool, hub), inbox)
        await hub._read_once(count=True)  # the count the stream asked for
        await _stop(task)
        return inbox

    seen = scene.run(body)
    assert seen.badge == scene.unread() == 0, seen.log


def test_the_hubs_connection_is_back_to_read_committed_after_a_count(db, two_orgs) -> None:
    """The hub's pool (web/pools.py) resets nothing on return: the count's
    repeatable read must not stay on the connection."""

    async def scenario() -> tuple[Any, bool]:
        dsn = db.dsn("intime_service")
        pool, _ = await open_event_pool(dsn, min_size=1, max_size=1, timeout=10, name="hub")
        try:
            hub = NotificationHub(dsn, pool)
            key = (two_orgs.a.org_id, two_orgs.a.rep_ids[1])
            hub._subscribers[key] = set()
            hub.recount(key)
            await hub._read_once(count=True)
            async with pool.connection() as conn:
                level = conn.isolation_level
            return level, hub._recount == set()
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == (None, True)


def test_a_recount_of_everyone_with_nobody_connected_is_done_with(db) -> None:
    """After a LISTEN (re)connect the hub counts every connected user once; with
    nobody connected there is nothing to count, and the first stream to open
    later gets its count from its own replay, not a second one from the hub."""

    async def scenario() -> bool:
        dsn = db.dsn("intime_service")
        pool, _ = await open_event_pool(dsn, min_size=1, max_size=1, timeout=10, name="hub")
        try:
            hub = NotificationHub(dsn, pool)
            hub._recount_all = True
            await hub._read_once(count=True)
            return hub._recount_all
        finally:
            await pool.close()

    assert asyncio.run(scenario()) is False
