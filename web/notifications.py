"""Notification routes: the SSE stream, and a JSON inbox for clients without SQL.

Every route authenticates an API token (``Authorization: Bearer``) and acts as its
user through ``api.set_actor``. A browser's EventSource cannot set a header, so the
stream also takes ``?ticket=``: a 60-second, single-use stream ticket that
``POST /notifications/stream-ticket`` mints for the bearer token. A long-lived token
in a URL (``?access_token=``) is refused: URLs end up in access logs and history.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncGenerator, Callable
from typing import Any, LiteralString

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from intime.db import async_actor, is_node_failure
from intime.errors import (
    InTimeError,
    InvalidParameterError,
    InvalidTokenError,
    RateLimitedError,
    translate,
)
from web import queries as q
from web.auth import SESSION_COOKIE, Unauthenticated, authenticate
from web.guards import Rejected, read_body, rejected
from web.hub import NotificationHub, StreamEvent, Subscriber, range_start, seq_range
from web.limits import MAX_READ_BODY_BYTES, JsonRefused, load_json
from web.rechecks import Credential, CredentialChecks
from web.sse import PING, EventStreamResponse, frame

log = logging.getLogger("intime.web.notifications")

RETRY_MS = 3000
REPLAY_CAP = 500
REPLAY_FETCH_MAX = 1000  # api.replay_notifications' p_limit at most
LIST_PAGE_MAX = 500  # a page of api.list_notifications or api.list_notification_seqs
MAX_LISTED = 200  # seqs an event id lists at most
MAX_HELD = 10_000  # seqs a stream's own position holds at most
MAX_RANGES = 1024  # seq ranges (Citus node groups) an event id names at most
MAX_BODY = MAX_READ_BODY_BYTES


class Unauthorized(Exception):
    pass


def _token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    if not token or len(token) > 512 or not token.isprintable():
        raise Unauthorized
    return token


def _ticket(request: Request) -> str | None:
    """The stream ticket in the query, if any (IT007-shaped refusal when malformed)."""
    if "access_token" in request.query_params:
        raise TokenInUrl
    ticket = request.query_params.get("ticket")
    if ticket is None:
        return None
    if not ticket or len(ticket) > 128 or not ticket.isprintable():
        raise Unauthorized
    return ticket


class TokenInUrl(Exception):
    pass


async def _credential_row(
    pool: AsyncConnectionPool, query: LiteralString, params: dict[str, str]
) -> tuple[Any, ...]:
    """The row a credential resolves to; Unauthorized when it is refused (IT007)."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
    except psycopg.Error as exc:
        if isinstance(translate(exc), InvalidTokenError):
            raise Unauthorized from None
        raise
    if row is None:
        raise Unauthorized
    return tuple(row)


async def _claim(pool: AsyncConnectionPool, ticket: str) -> tuple[uuid.UUID, Credential]:
    """The ticket's user, and the API token that made it (the stream lives while it does)."""
    org_id, user_id, _ticket_id, token_id = await _credential_row(
        pool, q.CLAIM_STREAM_TICKET, {"ticket": ticket}
    )
    return user_id, Credential(org_id, token_id)


async def _authenticate(pool: AsyncConnectionPool, token: str) -> tuple[uuid.UUID, Credential]:
    org_id, user_id, token_id = await _credential_row(pool, q.AUTHENTICATE_BEARER, {"token": token})
    return user_id, Credential(org_id, token_id)


def _unauthorized(message: str = "a valid API token is required") -> JSONResponse:
    return JSONResponse(
        {"error": message},
        401,
        headers={"WWW-Authenticate": 'Bearer realm="intime"'},
    )


URL_CREDENTIAL_REFUSED = (
    "an API token is refused in a URL: POST /notifications/stream-ticket with it as a "
    "bearer token, then open /notifications/stream?ticket=<ticket> within 60 seconds"
)


@dataclasses.dataclass
class Position:
    """Where a stream stands, sent as each event's id: in each seq range, every
    notification with seq <= the range's watermark was delivered (or is not this user's),
    and so was each seq in ``above``. Written "W" or "W.s1.s2" per range, the ranges
    joined by "_" (a single node has one range, 0; a Citus cluster one per node group,
    whose seqs are ordered only within it). A resume replays each range past its W minus
    those listed, so a notification that committed late is not missed and none is sent
    twice. A range the position does not name is replayed from its start.
    """

    marks: dict[int, int]
    above: set[int] = dataclasses.field(default_factory=set)

    @classmethod
    def at(cls, marks: dict[int, int]) -> Position:
        """A new stream's position: the hub's watermarks."""
        return cls(dict(marks))

    @classmethod
    def parse(cls, raw: str) -> Position:
        parts = raw.split("_")
        seqs = [p.split(".") for p in parts]
        if (
            len(parts) > MAX_RANGES
            or sum(len(p) for p in seqs) > MAX_LISTED + len(parts)
            or not all(
                p.isascii() and p.isdigit() and 0 < len(p) <= 18 for part in seqs for p in part
            )
        ):
            raise InvalidParameterError("Last-Event-ID is not a position this server sent")
        pos = cls({})
        for part in seqs:
            watermark, *above = (int(p) for p in part)
            r = seq_range(watermark)
            if r in pos.marks or any(seq_range(s) != r for s in above if s > watermark):
                raise InvalidParameterError("Last-Event-ID is not a position this server sent")
            pos.marks[r] = watermark
            pos.above |= {s for s in above if s > watermark}
        return pos

    def mark(self, r: int) -> int:
        """Range ``r``'s watermark (its start when the position has none)."""
        return self.marks.get(r, range_start(r))

    def ranges(self) -> set[int]:
        return set(self.marks) | {seq_range(s) for s in self.above}

    def delivered(self, seq: int) -> bool:
        return seq <= self.mark(seq_range(seq)) or seq in self.above

    def record(self, seq: int, watermark: int) -> None:
        """``seq`` was delivered; ``watermark`` is the hub's in the seq's range."""
        r = seq_range(seq)
        if seq > self.mark(r):
            self.above.add(seq)
        if seq_range(watermark) == r and watermark > self.mark(r):
            self.marks[r] = watermark
            self.above = {s for s in self.above if s > watermark or seq_range(s) != r}
        while len(self.above) > MAX_HELD:
            # Bounded memory: past the cap the oldest open gap of the range holding the
            # most gives way (seqs of different ranges say nothing of their age).
            held: dict[int, list[int]] = {}
            for s in self.above:
                held.setdefault(seq_range(s), []).append(s)
            most = max(held, key=lambda r: len(held[r]))
            oldest = min(held[most])
            self.marks[seq_range(oldest)] = oldest
            self.above.discard(oldest)

    def event_id(self) -> str:
        """The position as an id, at most MAX_LISTED seqs listed: past that, resume
        exactness gives way for the oldest open gaps (the id claims them), while this
        stream's own record, which live delivery checks, stays exact."""
        ranges = sorted(self.ranges()) or [0]
        listed = {r: sorted(s for s in self.above if seq_range(s) == r) for r in ranges}
        # The MAX_LISTED places go to the ranges that need them: the shortest lists
        # whole, what is left shared by the longer ones.
        room: dict[int, int] = {}
        left = MAX_LISTED
        for i, r in enumerate(sorted(ranges, key=lambda r: len(listed[r]))):
            room[r] = min(len(listed[r]), left // (len(ranges) - i))
            left -= room[r]
        parts = []
        for r in ranges:
            above = listed[r]
            cut = len(above) - room[r]
            watermark = above[cut - 1] if cut else self.mark(r)
            parts.append(".".join(str(s) for s in [watermark, *above[cut:]]))
        return "_".join(parts)


def _last_event_id(request: Request) -> Position | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
    if not raw:
        return None
    return Position.parse(raw)


def _live_frame(item: StreamEvent, pos: Position) -> bytes | None:
    """What a live item writes: None for a re-check's wake-up and a notification the
    stream delivered already (recording the others in ``pos``)."""
    if item.kind == "ping":
        return PING
    if item.kind == "recheck":
        return None
    if item.seq is None:
        return b"event: " + item.kind.encode() + b"\r\n" + item.tail
    if pos.delivered(item.seq):
        return None
    pos.record(item.seq, item.watermark)
    return b"id: " + pos.event_id().encode() + b"\r\nevent: notification\r\n" + item.tail


@dataclasses.dataclass
class _Stream:
    """One authenticated stream: the replay, then live events from the hub."""

    pool: AsyncConnectionPool
    hub: NotificationHub
    user_id: uuid.UUID
    # What it was opened with, re-checked every ``reauth_every`` seconds: the API
    # token of a bearer or a ticket, or the console's session and its token.
    credential: Credential
    checks: CredentialChecks
    resume: Position | None
    reauth_every: float
    sub: Subscriber | None = None
    gone: bool = False

    @property
    def org_id(self) -> uuid.UUID:
        return self.credential.org_id

    async def replay(
        self,
        pos: Position,
        floor: dict[int, int],
        before: Callable[[int], bool] | None = None,
    ) -> tuple[list[bytes], int]:
        """Events for what the table has past ``pos`` (recording them), and the unread count.

        ``floor`` is the hub's watermark per seq range, taken after subscribing:
        everything at or below it that the table shows now has been replayed once the
        rows up to it are sent. A row for which ``before`` is true is recorded but not
        sent: the hub fanned it out before this stream subscribed. Each seq range is
        replayed from the position's own watermark in it (one range on a single node).
        """
        async with self.pool.connection() as conn:
            # One snapshot for the rows and the count. Under read committed each
            # statement has its own: a notification that committed between them
            # was counted here, then counted again when it arrived live. (The
            # pool's reset puts the isolation level back.)
            await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
            async with async_actor(conn, self.org_id, self.user_id):
                cur = await conn.execute(q.GET_NOTIFICATION_FEED_HEADS)
                heads: dict[int, int] = {int(r): int(h) for r, h in await cur.fetchall()}
                out: list[bytes] = []
                if any(
                    pos.mark(r) > max(heads.get(r, range_start(r)), floor.get(r, range_start(r)))
                    for r in pos.ranges()
                ):
                    # A position from another database (a restore, a failover), or naming
                    # ranges this one has not. Not one at the hub's watermark: the newest
                    # rows may have been purged (expired) since the hub read them.
                    out.append(_reset("Last-Event-ID is ahead of this server"))
                    pos.marks, pos.above = dict(floor), set()
                ranges = sorted(set(heads) | set(floor) | pos.ranges())
                rows: list[Any] = []
                missed = False
                for r in ranges:
                    # The rows past the range's watermark, less those the position lists
                    # (up to MAX_HELD of them): as many as the function gives at most.
                    listed = sum(1 for s in pos.above if seq_range(s) == r)
                    limit = min(REPLAY_CAP + listed + 1, REPLAY_FETCH_MAX)
                    cur = await conn.execute(
                        q.REPLAY_NOTIFICATIONS, {"after": pos.mark(r), "limit": limit}
                    )
                    fetched = await cur.fetchall()
                    rows += [row for row in fetched if not pos.delivered(row[0])]
                    # At the function's cap a full fetch (the newest rows) may have
                    # left missed ones below it.
                    missed = (
                        missed
                        or len(rows) > REPLAY_CAP
                        or (
                            limit == REPLAY_FETCH_MAX
                            and len(fetched) == limit
                            and await _missed_below(conn, pos, fetched[0][0])
                        )
                    )
                missed = missed or len(rows) > REPLAY_CAP
                cur = await conn.execute(q.COUNT_UNREAD_NOTIFICATIONS)
                unread_row = await cur.fetchone()
        if len({seq_range(row[0]) for row in rows}) > 1:
            # Rows of several ranges: in the order they were announced (seqs of different
            # ranges say nothing of it), so that a cut keeps the newest.
            rows.sort(key=lambda row: (str(row[1].get("announced_at", "")), row[0]))
        if missed:
            out.append(_reset("more notifications were missed than a stream replays"))
            rows = rows[-REPLAY_CAP:]
        for seq, notification in rows:
            r = seq_range(seq)
            pos.record(seq, min(seq, floor.get(r, range_start(r))))
            if before is not None and before(seq):
                continue
            out.append(
                frame(
                    event="notification",
                    event_id=pos.event_id(),
                    data=json.dumps(notification, separators=(",", ":")),
                )
            )
        return out, unread_row[0] if unread_row else 0

    async def still_authorized(self) -> bool | None:
        """Whether the credential still holds; None when the database was too busy to
        say. Many streams' checks go in one query (web/rechecks.py); the check runs
        beside the stream (``_Recheck``), which goes on writing meanwhile."""
        return await self.checks.check(self.credential)

    def disconnected(self) -> None:
        """The client went away: end the stream (its task reads ``None``)."""
        self.gone = True
        if self.sub is not None:
            self.sub.close("client went away")

    async def events(self) -> AsyncGenerator[bytes, None]:
        """The stream's events. Once the response has started a lost database
        cannot become a 503: the stream ends, and the client resumes from its
        last id when it reconnects."""
        try:
            async with contextlib.aclosing(self._events()) as events:
                async for event in events:
                    yield event
        except psycopg.Error as exc:
            if not (isinstance(exc, psycopg.OperationalError) or is_node_failure(exc)):
                raise
            log.warning("a notification stream ended: database unavailable: %r", exc)

    async def _events(self) -> AsyncGenerator[bytes, None]:
        if self.gone:
            return
        # Subscribe before reading the table, so nothing falls between the two.
        sub = self.sub = self.hub.subscribe(self.org_id, self.user_id)
        # The credential was verified when the request came in: the first interval
        # runs from here, the replay's wait for a connection included.
        guard = _Recheck(self, sub, time.monotonic())
        try:
            floor = self.hub.watermark()
            before = self.hub.fanned_out_test()  # taken with the subscription: no await between
            pos = self.resume if self.resume is not None else Position.at(floor)
            yield self._wrote(sub, frame(comment="intime notifications", retry=RETRY_MS))
            # A new stream starts at the hub's watermark. Above it, what the hub
            # fanned out before this subscribed (past a seq still open) counts
            # as before the stream: recorded in its position, not sent. What it
            # had not read yet is sent, from the table or live, once.
            backlog, unread = await self.replay(pos, floor, before if self.resume is None else None)
            # The hub's counts taken so far may be older than the replay's: see below.
            count_floor = self.hub.count_epoch
            # Before anything is written, and again before each frame: a client that
            # reads slowly takes a while to pull a backlog of 500.
            for chunk in [*backlog, _count(unread, pos)]:
                if not await guard.poll():
                    return
                yield self._wrote(sub, chunk)
            while True:
                if sub.overflowed and sub.queue.empty():
                    # Events were dropped while the queue was full: read them
                    # from the table, then take live events again.
                    sub.caught_up()
                    backlog, unread = await self.replay(pos, self.hub.watermark())
                    count_floor = self.hub.count_epoch
                    for chunk in [*backlog, _count(unread, pos)]:
                        if not await guard.poll():
                            return
                        yield self._wrote(sub, chunk)
                item = await sub.queue.get()
                if item is None:
                    return
                if not await guard.poll():
                    return  # revoked, or unverified for too long
                if item.kind == "unread_count" and item.epoch <= count_floor:
                    # Taken before the replay's snapshot, or about then: written
                    # after the replay's count, it could set the badge back past a
                    # notification the replay sent. Ask for a count taken after.
                    self.hub.recount(sub.key)
                    continue
                live = _live_frame(item, pos)
                if live is not None:
                    yield self._wrote(sub, live)
        finally:
            guard.cancel()
            self.hub.unsubscribe(sub)

    @staticmethod
    def _wrote(sub: Subscriber, chunk: bytes) -> bytes:
        sub.last_write = time.monotonic()  # the hub's heartbeat timer reads it
        return chunk


class _Recheck:
    """When a stream re-checks its credential, beside the stream.

    A check starts at a random point of 50-80 % of the interval after the stream
    opened (streams opened together do not check together), then of 70-85 % after the
    last one that verified. It runs as a task of its own while the stream goes on
    writing: a check waits for others to join its query (web/rechecks.py) and for a
    pooled connection, up to a second among thousands of streams, and the events must
    not wait behind it. The stream polls before every frame it writes. None goes out
    past the deadline (a full interval after the credential was last verified) until
    a check is done, and none after a check has seen the credential revoked. While the
    database cannot say (no connection or no answer in time, the connection lost) the
    stream goes on until two intervals unverified, trying again every few seconds, then
    ends: its client reconnects and is authenticated afresh."""

    def __init__(self, stream: _Stream, sub: Subscriber, now: float) -> None:
        self.stream, self.sub = stream, sub
        self.interval = stream.reauth_every
        self.verified = now
        self.deadline = now + self.interval
        self.start_at = now + self.interval * random.uniform(0.5, 0.8)  # noqa: S311
        self.task: asyncio.Task[bool | None] | None = None
        self.started = now
        self._arm()

    def _arm(self) -> None:
        """The hub's wheel wakes the stream then (one timer for every stream); the
        stream looks at the time after every item, whatever woke it."""
        due = self.deadline if self.task else min(self.start_at, self.deadline)
        self.stream.hub.recheck_at(self.sub, due)

    async def poll(self) -> bool:
        """After each item: start a check when one is due, take its outcome when it is
        done, or wait for it past the deadline. False ends the stream."""
        now = time.monotonic()
        if self.task is None and now >= min(self.start_at, self.deadline):
            self.started = now
            self.task = asyncio.create_task(self.stream.still_authorized())
            self.task.add_done_callback(lambda _task: self.sub.wake())
            self._arm()
        if self.task is None or not (self.task.done() or now >= self.deadline):
            return True
        authorized = await self.task  # a database error ends the stream (see events)
        self.task = None
        now = time.monotonic()
        if authorized:
            self.verified = self.started
            self.deadline = self.started + self.interval
            self.start_at = self.started + self.interval * random.uniform(0.7, 0.85)  # noqa: S311
        elif authorized is None and now - self.verified <= 2 * self.interval:
            self.deadline = self.verified + 2 * self.interval
            self.start_at = now + min(self.interval, 5.0) * random.uniform(0.5, 1.0)  # noqa: S311
        else:
            return False
        self._arm()
        return True

    def cancel(self) -> None:
        """The stream ended: stop a check in flight, or take a finished one's outcome
        (an error included: nobody waits for it any more)."""
        if self.task is not None:
            # A check that ended before the cancel keeps its outcome: taken here.
            self.task.add_done_callback(_outcome_taken)
            self.task.cancel()


def _outcome_taken(task: asyncio.Task[bool | None]) -> None:
    if not task.cancelled():
        task.exception()


async def stream(request: Request) -> Response:
    """``GET /notifications/stream``: the caller's notifications as Server-Sent Events.
    Credentials: a stream ticket (``?ticket=``), a bearer token, or else the console's
    session cookie (a browser's EventSource on a console page sends it)."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        resume = _last_event_id(request)
        ticket = _ticket(request)
        if ticket is not None:
            user_id, credential = await _claim(pool, ticket)
        elif "authorization" in request.headers or SESSION_COOKIE not in request.cookies:
            user_id, credential = await _authenticate(pool, _token(request))
        else:
            principal = await authenticate(request)
            user_id = principal.user_id
            credential = Credential(principal.org_id, principal.token_id, principal.session_id)
    except TokenInUrl:
        return _unauthorized(URL_CREDENTIAL_REFUSED)
    except (Unauthorized, Unauthenticated):
        return _unauthorized(
            "a valid API token (Authorization: Bearer), stream ticket or console session "
            "is required"
        )
    except InvalidParameterError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    session = _Stream(
        pool=pool,
        hub=request.app.state.hub,
        user_id=user_id,
        credential=credential,
        checks=request.app.state.credential_checks,
        resume=resume,
        reauth_every=request.app.state.stream_reauth,
    )
    return EventStreamResponse(
        session.events(),
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        on_disconnect=session.disconnected,
        watch=request.app.state.send_watch,
        send_timeout=30,
    )


async def stream_ticket(request: Request) -> Response:
    """``POST /notifications/stream-ticket``: a 60-second, single-use ticket for
    ``/notifications/stream?ticket=``, for the bearer token's user."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        token = _token(request)
        async with pool.connection() as conn:
            cur = await conn.execute(q.CREATE_STREAM_TICKET, {"token": token})
            row = await cur.fetchone()
    except Unauthorized:
        return _unauthorized()
    except psycopg.Error as exc:
        error = translate(exc)
        if isinstance(error, InvalidTokenError):
            return _unauthorized()
        if isinstance(error, RateLimitedError):
            return JSONResponse({"error": str(error)}, 429, headers={"Retry-After": "60"})
        raise
    assert row is not None
    return JSONResponse(
        {"ticket": row[0], "expires_at": row[1].isoformat(), "expires_in": 60},
        201,
        headers={"Cache-Control": "no-store"},
    )


async def _missed_below(conn: psycopg.AsyncConnection, pos: Position, before: int) -> bool:
    """Whether a row that ``pos`` has not delivered lies between its watermark and
    ``before``: pages down from ``before`` until a seq at or below the watermark. Every
    seq of a full page that is not missed is one the position holds, so this reads at
    most MAX_HELD / LIST_PAGE_MAX + 1 pages. Within ``before``'s seq range: the seqs
    below it in other ranges are below its watermark there."""
    mark = pos.mark(seq_range(before))
    while True:
        cur = await conn.execute(
            q.NOTIFICATION_SEQS_BEFORE, {"before": before, "limit": LIST_PAGE_MAX}
        )
        seqs = [row[0] for row in await cur.fetchall()]
        for seq in seqs:
            if seq <= mark:
                return False
            if not pos.delivered(seq):
                return True
        if len(seqs) < LIST_PAGE_MAX:
            return False
        before = seqs[-1]


def _reset(reason: str) -> bytes:
    return frame(event="reset", data=json.dumps({"reason": reason}))


def _count(unread: int, pos: Position) -> bytes:
    """The badge; it carries the position too, so a client always has one to resume from."""
    return frame(
        event="unread_count", event_id=pos.event_id(), data=json.dumps({"unread_count": unread})
    )


def _bounded_int(raw: str, low: int, high: int) -> int:
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise ValueError(raw)
    return int(raw)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("1", "true", "yes")


async def list_notifications(request: Request) -> Response:
    """``GET /notifications``: the caller's inbox as JSON (same filters as the SQL api)."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        user_id, credential = await _authenticate(pool, _token(request))
        org_id = credential.org_id
    except Unauthorized:
        return _unauthorized()
    try:
        before = request.query_params.get("before_seq")
        params = {
            "unread_only": _flag(request, "unread_only"),
            "archived": _flag(request, "archived"),
            "before_seq": _bounded_int(before, 1, 2**63 - 1) if before else None,
            "limit": _bounded_int(request.query_params.get("limit", "50"), 1, 500),
        }
    except ValueError:
        return JSONResponse(
            {"error": "before_seq must be a positive integer and limit 1 to 500"}, 400
        )
    try:
        async with pool.connection() as conn, async_actor(conn, org_id, user_id):
            cur = await conn.execute(q.LIST_NOTIFICATIONS, params)
            rows = [r[0] for r in await cur.fetchall()]
            cur = await conn.execute(q.COUNT_UNREAD_NOTIFICATIONS)
            unread = await cur.fetchone()
    except InvalidParameterError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return JSONResponse({"notifications": rows, "unread_count": unread[0] if unread else 0})


async def mark_read(request: Request) -> Response:
    """``POST /notifications/read`` with ``{"ids": [...]}`` or ``{"all": true}``."""
    pool: AsyncConnectionPool = request.app.state.pool
    try:
        user_id, credential = await _authenticate(pool, _token(request))
        org_id = credential.org_id
    except Unauthorized:
        return _unauthorized()
    try:
        raw = await read_body(request, MAX_BODY)
    except Rejected as exc:
        return rejected(exc, request)
    try:
        body = load_json(raw or b"{}")
    except JsonRefused as exc:
        return JSONResponse({"error": str(exc)}, 400)
    try:
        if not isinstance(body, dict):
            raise ValueError
        if body.get("all") is True:
            query, params = q.MARK_ALL_NOTIFICATIONS_READ, {}
        else:
            ids = [uuid.UUID(str(i)) for i in body["ids"]]
            if not ids or len(ids) > 1000:
                raise ValueError
            query, params = q.MARK_NOTIFICATIONS_READ, {"ids": ids}
    except (ValueError, KeyError, TypeError, RecursionError):
        return JSONResponse(
            {"error": 'send {"ids": [notification ids]} (1 to 1000) or {"all": true}'}, 400
        )
    try:
        async with pool.connection() as conn, async_actor(conn, org_id, user_id):
            cur = await conn.execute(query, params)
            changed = await cur.fetchone()
            cur = await conn.execute(q.COUNT_UNREAD_NOTIFICATIONS)
            unread = await cur.fetchone()
    except InTimeError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return JSONResponse(
        {"updated": changed[0] if changed else 0, "unread_count": unread[0] if unread else 0}
    )
