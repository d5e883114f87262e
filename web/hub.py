"""The notification stream hub: one LISTEN connection per web process.

A statement-level trigger sends ``NOTIFY app_notifications`` (no payload) when
notifications are written. The hub treats it as a wake-up only: it reads every
row past its cursor in one query (``api.read_notification_feed``) and fans the
rows out to the bounded queues of the users connected to this process. A lost
NOTIFY or a lost connection costs nothing but latency: after reconnecting, the
hub reads the table from its cursor again.

Sequence numbers are taken at insert and become visible at commit, so a lower
seq can commit after a higher one. Each seq the hub jumps over is kept as a
*gap*, tagged with an xid the hub draws right after the read that found it
(``pg_current_xact_id()`` in its own transaction), and asked for again on every
read. Every writer has an xid before it draws a seq (app._notification_send
sees to it), so the holder of a skipped seq took its xid before the higher seq
committed, before the read, before the tag was drawn: its xid is below the
tag. Once a snapshot's xmin passes the tag, every transaction that could still
commit that seq has ended and the gap is dropped: it was rolled back, or taken
by a re-announced group. (Not the snapshot's xmax: that is the latest
*completed* xid + 1, and a running writer's xid may be at or above it, so an
xmin can equal it while the writer runs.) A safety cap (count and age) bounds
the set; ``stats`` counts what it dropped.

Under load the hub polls instead of waiting: after a read that found rows it
reads every few milliseconds and registers as polling in app.stream_hubs, and
writes skip their NOTIFY while every live hub polls. NOTIFY takes a
database-wide lock from commit until the WAL flush, so notifying commits
cannot share a flush; skipping it keeps write throughput. When idle, the hub
unregisters (writes NOTIFY again) and still reads once a second, which also
bounds the delay of a long transaction that skipped its NOTIFY.

Heartbeats come from one timer for all the streams (a wheel of short slots), and
the hub reads on a small pool of its own (web/pools.py): neither grows with the
number of clients, and a burst of requests on the app's pool cannot delay a read.

The *watermark* is the highest seq below every open gap: everything at or
below it has been read and fanned out. Stream event ids are built from it
(web/notifications.py), so a client that resumes never misses a notification
that committed late.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import math
import random
import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import AsyncConnectionPool
from sse_starlette.sse import AppStatus

from intime.aio import wait_event
from web import queries as q
from web.sse import data_tail

log = logging.getLogger("intime.web.hub")

NOTIFY_CHANNEL = "app_notifications"
READS_CHANNEL = "app_notification_reads"
MAX_GAPS = 10_000
STARTUP_WINDOW = 10_000  # seqs below the head re-read at start, to find in-flight gaps

UserKey = tuple[uuid.UUID, uuid.UUID]

SEQ_RANGE_BITS = 48  # a Citus node group g draws seqs (g << 48) + 1 upwards
HORIZON_EVERY = 0.25  # seconds between a cluster's horizon reads while gaps are open


def seq_range(seq: int) -> int:
    """The range of a seq: 0 on a single node; on Citus the node group that drew it
    (app._notification_seq_ranges). Seqs are ordered only within a range."""
    return seq >> SEQ_RANGE_BITS


def range_start(r: int) -> int:
    """The position before range ``r``'s first seq."""
    return r << SEQ_RANGE_BITS


@dataclasses.dataclass(frozen=True)
class StreamEvent:
    """One SSE event: ``notification`` (with its seq and the watermark) or ``unread_count``."""

    kind: str
    data: str
    seq: int | None = None
    watermark: int = 0  # the hub's, in the seq's range
    # The frame's ``data:`` lines and end, encoded once for all its clients (web/sse.py).
    tail: bytes = b""
    # An unread_count's count: which of the hub's counts it is (NotificationHub.count_epoch).
    epoch: int = 0


class Subscriber:
    """One connected stream. ``None`` in the queue ends it.

    A full queue does not end it at once: the event is dropped and
    ``overflowed`` set, and the stream catches up from the table. Overflowing
    again before it caught up marks a slow consumer, which is cut off (its
    client resumes with Last-Event-ID and loses nothing).
    """

    def __init__(self, key: UserKey, queue_size: int) -> None:
        self.key = key
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=queue_size + 1)
        self.capacity = queue_size
        self.overflowed = False
        self.overflows = 0
        self.closed_reason: str | None = None
        self.last_write = time.monotonic()  # the stream's last write (web/notifications.py)
        # When the stream re-checks its credential (NotificationHub.recheck_at), and
        # the wheel slot of its next beat (one at a time: see _schedule_beat).
        self.recheck_at: float | None = None
        self.beat_slot: int | None = None

    def ping(self) -> bool:
        """Queue a heartbeat unless something is queued already (it will be written)."""
        if self.closed_reason is not None or not self.queue.empty():
            return False
        self.queue.put_nowait(PING)
        return True

    def wake(self) -> None:
        """Wake the stream's task (its re-check is due) unless something is queued:
        it checks the time after every item it takes."""
        if self.closed_reason is None and self.queue.empty():
            self.queue.put_nowait(RECHECK)

    def offer(self, event: StreamEvent) -> bool:
        if self.closed_reason is not None:
            return False
        if self.overflowed:
            return False  # the catch-up will read it from the table
        if self.queue.qsize() >= self.capacity:
            self.overflows += 1
            if self.overflows > 2:
                self.close("slow consumer")
            else:
                self.overflowed = True
            return False
        self.queue.put_nowait(event)
        return True

    def caught_up(self) -> None:
        """The stream re-read the table: deliver live events again."""
        self.overflowed = False

    def close(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


PING = StreamEvent("ping", "")
RECHECK = StreamEvent("recheck", "")  # written as nothing: the stream re-checks its credential


def server_exiting() -> bool:
    """Whether uvicorn was told to exit. sse_starlette's flag is set only where its
    patch of ``uvicorn.Server.handle_exit`` came before uvicorn bound its signal
    handlers, which an app loaded by import string (``intime web``) misses; so also the
    server behind the SIGTERM handler (a bound ``Server.handle_exit``), as sse_starlette
    finds it."""
    if AppStatus.should_exit:
        return True
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))


@dataclasses.dataclass
class HubStats:
    reads: int = 0
    rows: int = 0
    delivered: int = 0
    overflows: int = 0
    slow_consumers: int = 0
    reconnects: int = 0
    gaps_open: int = 0
    gaps_filled: int = 0
    gaps_settled: int = 0
    gaps_given_up: int = 0
    heartbeats: int = 0


class NotificationHub:
    def __init__(
        self,
        dsn: str,
        pool: AsyncConnectionPool,
        *,
        queue_size: int = 256,
        batch: int = 1000,
        gap_ttl: float = 600.0,
        reconnect_delay: float = 0.5,
        poll_interval: float = 0.005,
        linger: float = 0.5,
        idle_poll: float = 1.0,
        heartbeat: float = 15.0,
    ) -> None:
        self._dsn = dsn
        self._pool = pool
        self._queue_size = queue_size
        self._batch = batch
        self._gap_ttl = gap_ttl
        self._reconnect_delay = reconnect_delay
        self._poll_interval = poll_interval
        self._linger = linger
        self._idle_poll = idle_poll
        self.heartbeat = heartbeat
        # One timer for every stream's heartbeat and credential re-check: a wheel of
        # slots ``_tick`` wide. A timer per stream's wait (an ``asyncio.timeout``) lived
        # past the young collections and hastened the full ones (docs/operations.md).
        self._tick = min(0.1, heartbeat / 4)
        self._beats: dict[int, list[Subscriber]] = defaultdict(list)
        self._slot = math.floor(time.monotonic() / self._tick)  # the next slot to run
        self.hub_id = uuid.uuid4()
        self._subscribers: dict[UserKey, set[Subscriber]] = defaultdict(set)
        self._read_keys: dict[str, UserKey] = {}
        self._secret = b""
        # Per seq range (one on a single node; one per node group on a Citus cluster,
        # docs/scale-out.md): the highest seq read. A gap is a seq, its range's tag and
        # when it was noticed; on a cluster its tag comes with the next horizon (None
        # until then).
        self._cursors: dict[int, int] = {0: 0}
        self._gaps: dict[int, tuple[float | None, float]] = {}
        # On a cluster (more than one range) the gaps settle by api.get_stream_horizon,
        # read before a read, at most every HORIZON_EVERY seconds while gaps are open:
        # each node's xmin, and a new xid there that tags the gaps noticed before it.
        self._sharded = False
        self._horizon_at = 0.0
        self._wake = asyncio.Event()
        self._recount: set[UserKey] = set()
        self._recount_all = False
        self.count_epoch = 0  # how many counts the hub has taken (StreamEvent.epoch)
        self._tasks: list[asyncio.Task[None]] = []
        self._listen_conn: psycopg.AsyncConnection[Any] | None = None
        self.listening = asyncio.Event()
        self.stats = HubStats()
        # Told the subscriber count whenever it changes (web/metrics.py).
        self.on_connected: Callable[[int], None] | None = None

    async def start(self) -> None:
        """Read a window below the head first, so transactions in flight across
        a restart become gaps (and are streamed when they commit)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(q.STREAM_KEY)
            row = await cur.fetchone()
            self._secret = bytes(row[0]) if row else b""
            cur = await conn.execute(q.GET_NOTIFICATION_FEED_HEADS)
            heads = await cur.fetchall()
        self._cursors = {
            int(r): max(range_start(int(r)), int(head) - STARTUP_WINDOW) for r, head in heads
        } or {0: 0}
        self._sharded = len(self._cursors) > 1
        while (await self._read_once())[0]:
            pass
        await self._register(0)
        self._tasks = [
            asyncio.create_task(self._listen(), name="hub-listen"),
            asyncio.create_task(self._read_loop(), name="hub-read"),
            asyncio.create_task(self._heartbeats(), name="hub-heartbeats"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(psycopg.Error, OSError):
            async with self._pool.connection() as conn:
                await conn.execute(q.REMOVE_STREAM_HUB, {"hub_id": self.hub_id})
        self._close_all("server shutting down")
        self._subscribers.clear()
        self._beats.clear()
        self._read_keys.clear()

    def watermark(self) -> dict[int, int]:
        """Per seq range: every seq at or below it has been read and fanned out."""
        return {r: self.watermark_of(r) for r in self._cursors}

    def watermark_of(self, r: int) -> int:
        """Range ``r``'s watermark: the highest seq below its open gaps."""
        gaps = [seq for seq in self._gaps if seq_range(seq) == r] if self._sharded else self._gaps
        if gaps:
            return min(gaps) - 1
        return self._cursors.get(r, range_start(r))

    def fanned_out_test(self) -> Callable[[int], bool]:
        """Whether a seq was fanned out before now: at or below its range's cursor and
        not a gap."""
        cursors, gaps = dict(self._cursors), frozenset(self._gaps)
        return lambda seq: (
            seq <= cursors.get(seq_range(seq), range_start(seq_range(seq))) and seq not in gaps
        )

    def read_key(self, key: UserKey) -> str:
        """The keyed hash the mark functions NOTIFY for a user (see inbox.sql)."""
        return hashlib.sha256(self._secret + f"{key[0]}:{key[1]}".encode()).hexdigest()[:32]

    def subscribe(self, org_id: uuid.UUID, user_id: uuid.UUID) -> Subscriber:
        sub = Subscriber((org_id, user_id), self._queue_size)
        self._subscribers[sub.key].add(sub)
        # The first beat at a random point of the interval: streams opened together
        # (a deploy, a bench) do not all beat in the same tick.
        self._schedule_beat(sub, sub.last_write + self.heartbeat * random.uniform(0.5, 1.0))  # noqa: S311
        self._read_keys[self.read_key(sub.key)] = sub.key
        if self.on_connected is not None:
            self.on_connected(self.connected)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subscribers = self._subscribers.get(sub.key)
        if subscribers is not None:
            subscribers.discard(sub)
            if not subscribers:
                del self._subscribers[sub.key]
                self._read_keys.pop(self.read_key(sub.key), None)
        if self.on_connected is not None:
            self.on_connected(self.connected)

    def recheck_at(self, sub: Subscriber, due: float) -> None:
        """The stream re-checks its credential at ``due``: the wheel wakes it then if
        nothing else has (web/notifications.py)."""
        sub.recheck_at = due
        self._schedule_beat(sub, due)

    def _schedule_beat(self, sub: Subscriber, due: float) -> None:
        """One beat per stream in the wheel: a later one waits for the earlier, which
        schedules the next; an earlier one replaces it (the later entry is skipped)."""
        slot = max(math.ceil(due / self._tick), self._slot)
        if sub.beat_slot is not None and sub.beat_slot <= slot:
            return
        sub.beat_slot = slot
        self._beats[slot].append(sub)

    async def _heartbeats(self) -> None:
        """Every tick, the streams whose beat is due: a comment for those that wrote
        nothing for ``heartbeat`` seconds (their task writes it), the next beat
        ``heartbeat`` after their last write for the others. A stream that ended is
        dropped when its slot comes. Also ends every stream when the server is told to
        exit (sse_starlette's flag, set by uvicorn's signal handler)."""
        self._slot = math.floor(time.monotonic() / self._tick)
        while True:
            await asyncio.sleep(self._tick)
            if server_exiting():
                self._close_all("server shutting down")
            now = time.monotonic()
            current = math.floor(now / self._tick)
            while self._slot <= current:
                slot = self._slot
                self._slot += 1  # what the beats schedule goes to a later slot
                for sub in self._beats.pop(slot, ()):
                    if sub.beat_slot == slot:  # else replaced by an earlier beat
                        sub.beat_slot = None
                        self._beat(sub, now)

    def _beat(self, sub: Subscriber, now: float) -> None:
        if sub.closed_reason is not None or sub not in self._subscribers.get(sub.key, ()):
            return  # ended: it leaves the wheel
        recheck = sub.recheck_at
        if now - sub.last_write >= self.heartbeat - self._tick:
            if sub.ping():
                self.stats.heartbeats += 1
            due = now + self.heartbeat
        else:
            due = sub.last_write + self.heartbeat
            if recheck is not None and recheck <= now:
                sub.wake()
        if recheck is not None and recheck > now:
            # Not due yet (the stream checks the time itself): a beat then, at the
            # latest the next slot, whatever woke the stream now.
            due = min(due, recheck)
        self._schedule_beat(sub, due)

    def _close_all(self, reason: str) -> None:
        for subscribers in self._subscribers.values():
            for sub in subscribers:
                sub.close(reason)

    def subscribers_of(self, org_id: uuid.UUID, user_id: uuid.UUID) -> list[Subscriber]:
        """The streams of one user open on this process."""
        return list(self._subscribers.get((org_id, user_id), ()))

    @property
    def connected(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._dsn, autocommit=True
                ) as conn:
                    self._listen_conn = conn
                    await conn.execute(f"listen {NOTIFY_CHANNEL}")
                    await conn.execute(f"listen {READS_CHANNEL}")
                    # Anything committed while nobody listened is in the table.
                    self._recount_all = True
                    self._wake.set()
                    self.listening.set()
                    async for notify in conn.notifies():
                        if notify.channel == READS_CHANNEL:
                            self._note_read(notify.payload)
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("stream hub lost its LISTEN connection: %s", exc)
            finally:
                self._listen_conn = None
                self.listening.clear()
            self.stats.reconnects += 1
            await asyncio.sleep(self._reconnect_delay)

    def _note_read(self, payload: str) -> None:
        key = self._read_keys.get(payload)
        if key is not None:  # anyone may NOTIFY: an unknown payload is ignored
            self._recount.add(key)

    async def _register(self, polling_for: float) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(q.RENEW_STREAM_HUB, {"hub_id": self.hub_id, "seconds": polling_for})

    async def _read_loop(self) -> None:
        """Idle: read when a NOTIFY wakes the hub (and once a second anyway).
        Busy: after a read that found rows, poll every ``poll_interval`` and
        register as polling, so that writes skip their NOTIFY (which would
        serialize their commits); ``linger`` seconds without rows, unregister
        and read once more."""
        active_until = 0.0  # local monotonic deadlines
        registered_until = 0.0
        beat_at = 0.0
        while True:
            busy = time.monotonic() < max(active_until, registered_until)
            await wait_event(self._wake, self._poll_interval if busy else self._idle_poll)
            self._wake.clear()
            try:
                found = 0
                while True:
                    more, new = await self._read_once(count=True)
                    found += new
                    if not more:
                        break
                now = time.monotonic()
                if found:
                    active_until = now + self._linger
                    if registered_until - now < self._linger / 2:
                        await self._register(self._linger + 0.1)
                        registered_until = now + self._linger + 0.1
                        beat_at = now
                elif registered_until and now > max(active_until, registered_until):
                    await self._register(0)  # idle: writes NOTIFY again
                    registered_until = 0.0
                    beat_at = now
                    self._wake.set()  # and read what committed just before
                elif now - beat_at > 2.0:
                    await self._register(max(registered_until - now, 0.0))
                    beat_at = now
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("stream hub read failed, retrying: %s", exc)
                await asyncio.sleep(self._reconnect_delay)
                self._wake.set()

    async def _read_once(self, count: bool = False) -> tuple[bool, int]:
        """Read and fan out one batch: (more rows may be waiting, new rows read).

        ``count``: when the batch is the last one and unread counts are due, count
        them in the read's snapshot and send them after its events. Each count then
        holds exactly the rows the hub has read: one committed later comes as an
        event (which the client adds), one committed earlier was read (and the
        count, sent after its event, sets the badge). A collapsed notification
        keeps its id, and so its place in the count, whichever side it falls on.
        """
        every, keys = self._take_counts_due() if count else (False, set())
        counts: list[Any] | None = None
        try:
            rows, tags, horizon, counts, epoch = await self._fetch(keys)
        finally:
            if keys and counts is None:  # not counted (more to read, or the read failed)
                self._recount |= keys
                self._recount_all = self._recount_all or every
        self.stats.reads += 1
        if horizon is None:  # a single node: the read's own snapshot
            horizon = {0: int(rows[0][0])}
        else:  # a cluster: the gaps noticed before the horizon take its new xids
            self._tag_gaps(tags)
            tags = {}  # and this read's gaps wait for the next horizon
        now = time.monotonic()
        new_rows: dict[int, int] = defaultdict(int)
        for _, _, seq, org_id, user_id, notification in rows:
            if seq is None:
                continue
            r = seq_range(seq)
            cursor = self._cursors.get(r, range_start(r))
            if seq > cursor:
                new_rows[r] += 1
                room = MAX_GAPS - len(self._gaps)
                missing = range(cursor + 1, seq)
                # A range whose node gave no tag: its gaps wait for the next horizon (a
                # cluster), or their rows or gap_ttl.
                tag = tags.get(r)
                for gap in missing[: max(room, 0)]:
                    self._gaps[gap] = (tag, now)
                self.stats.gaps_given_up += max(len(missing) - max(room, 0), 0)
                self._cursors[r] = seq
                self._sharded = self._sharded or r != 0
            elif self._gaps.pop(seq, None) is not None:
                self.stats.gaps_filled += 1
            else:
                continue
            self.stats.rows += 1
            if notification is not None:
                self._fan_out(org_id, user_id, seq, notification)
        self._settle_gaps(horizon, now)
        if counts:
            self._send_counts(counts, epoch)
        return any(n >= self._batch for n in new_rows.values()), sum(new_rows.values())

    def _tag_gaps(self, tags: dict[int, int]) -> None:
        """Tag the untagged gaps (noticed before the horizon that drew ``tags``)."""
        for seq, (tag, noticed) in list(self._gaps.items()):
            if tag is None and seq_range(seq) in tags:
                self._gaps[seq] = (tags[seq_range(seq)], noticed)

    def _settle_gaps(self, horizon: dict[int, int], now: float) -> None:
        """Forget the gaps that can no longer fill (their tag is at or below their
        range's horizon: the read's xmin on a single node) and those waited for
        longer than ``gap_ttl``."""
        for seq, (tag, noticed) in list(self._gaps.items()):
            if tag is not None and tag <= horizon.get(seq_range(seq), -1):
                del self._gaps[seq]
                self.stats.gaps_settled += 1
            elif now - noticed > self._gap_ttl:
                del self._gaps[seq]
                self.stats.gaps_given_up += 1
                log.warning("stream hub gave up waiting for seq %s after %ss", seq, self._gap_ttl)
        self.stats.gaps_open = len(self._gaps)

    async def _fetch(
        self, keys: set[UserKey]
    ) -> tuple[list[Any], dict[int, int], dict[int, int] | None, list[Any] | None, int]:
        """A batch of the feed; its tags per range (a single node: drawn after the read
        if it opens gaps; a cluster: the horizon's new xids); on a cluster the horizon
        read before it (None on a single node: the read's own xmin is); and the unread
        counts of ``keys`` in the same snapshot when the batch is the last (else None),
        with the counts' epoch: drawn before the snapshot, so that a stream whose
        replay ended after it knows the count may be older than its replay
        (web/notifications.py)."""
        counts = None
        epoch = 0
        horizon: dict[int, int] | None = None
        tags: dict[int, int] = {}
        async with self._pool.connection() as conn:
            if self._sharded:
                # Before the read: a gap whose writer ended by now (its rows committed
                # on every node) is in the read that follows, or never will be.
                horizon = {}
                if self._gaps and time.monotonic() - self._horizon_at >= HORIZON_EVERY:
                    self._horizon_at = time.monotonic()
                    cur = await conn.execute(q.GET_HORIZON)
                    for r, xmin, tag in await cur.fetchall():
                        tags[int(r)] = int(tag)
                        if xmin is not None:
                            horizon[int(r)] = int(xmin)
            if keys:  # one snapshot for the read and the count
                await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
            try:
                async with conn.transaction() if keys else contextlib.nullcontext():
                    if keys:
                        self.count_epoch += 1
                        epoch = self.count_epoch
                    cur = await conn.execute(
                        q.READ_FEED,
                        {
                            "after": sorted(self._cursors.values()),
                            "limit": self._batch,
                            "gaps": sorted(self._gaps),
                        },
                    )
                    rows = await cur.fetchall()
                    if keys and not self._full(rows):  # the last batch: count now
                        cur = await conn.execute(
                            q.COUNT_UNREAD_FOR,
                            {"org_ids": [k[0] for k in keys], "user_ids": [k[1] for k in keys]},
                        )
                        counts = await cur.fetchall()
            finally:
                if keys:  # the hub's pool has no reset: put the default back
                    with contextlib.suppress(psycopg.Error):  # a broken one is discarded
                        await conn.set_isolation_level(None)
            if not self._sharded and self._opens_gaps(rows):
                cur = await conn.execute(q.DRAW_TAGS)  # its own transaction: autocommit
                tags = {int(r): int(t) for r, t in await cur.fetchall()}
        return rows, tags, horizon, counts, epoch

    def _full(self, rows: list[Any]) -> bool:
        """Whether some range gave a full batch past its cursor (more may wait)."""
        read: dict[int, int] = defaultdict(int)
        for row in rows:
            seq = row[2]
            if seq is not None and seq > self._cursors.get(
                seq_range(seq), range_start(seq_range(seq))
            ):
                read[seq_range(seq)] += 1
        return any(n >= self._batch for n in read.values())

    def _opens_gaps(self, rows: list[Any]) -> bool:
        """Whether the rows skip a seq past their range's cursor (which becomes a gap).
        The rows come in seq order, so each range's rows are in order."""
        expected: dict[int, int] = {}
        for row in rows:
            seq = row[2]
            if seq is None:
                continue
            r = seq_range(seq)
            cursor = self._cursors.get(r, range_start(r))
            if seq <= cursor:
                continue
            if seq != expected.get(r, cursor + 1):
                return True
            expected[r] = seq + 1
        return False

    def _fan_out(self, org_id: uuid.UUID, user_id: uuid.UUID, seq: int, notification: Any) -> None:
        subscribers = self._subscribers.get((org_id, user_id))
        if not subscribers:
            return
        data = json.dumps(notification, separators=(",", ":"))
        event = StreamEvent(
            "notification", data, seq, self.watermark_of(seq_range(seq)), data_tail(data)
        )
        if notification.get("group_count", 1) > 1:
            # A collapse re-announces a notification under a new seq. A client that
            # lists it skips the event; one that does not (an older row than its
            # page shows, or a group it never saw) adds it. Either may be off by
            # one: a count taken after this read sets it right.
            self.recount((org_id, user_id))
        for sub in list(subscribers):
            if sub.offer(event):
                self.stats.delivered += 1
            elif sub.closed_reason == "slow consumer":
                self.stats.slow_consumers += 1
                self.unsubscribe(sub)
            else:
                self.stats.overflows += 1

    def _take_counts_due(self) -> tuple[bool, set[UserKey]]:
        """Whether every count was due, and the connected users whose unread count
        is to be sent. Taken before the snapshot: a read mark noticed from now on
        is counted next time."""
        every = self._recount_all
        # Not `self._recount & set(self._subscribers)`: that hashed every connected
        # user's key at each read, 44 % of the web process at 10,000 streams.
        if every:
            keys = set(self._subscribers)
        else:
            keys = {key for key in self._recount if key in self._subscribers}
        self._recount_all = False
        self._recount.clear()
        return every, keys

    def recount(self, key: UserKey) -> None:
        """Send this user's streams a fresh unread count (at the next read)."""
        self._recount.add(key)
        self._wake.set()

    def _send_counts(self, counts: list[Any], epoch: int) -> None:
        for org_id, user_id, unread in counts:
            data = json.dumps({"unread_count": unread})
            event = StreamEvent("unread_count", data, tail=data_tail(data), epoch=epoch)
            for sub in list(self._subscribers.get((org_id, user_id), ())):
                sub.offer(event)
