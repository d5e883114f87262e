"""web/ingest.py's group commit on a real pool: concurrent events go in one statement;
one that cannot be stored fails alone; an unreachable database answers every waiting
request."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from tests.support import Database, TwoOrgs, event, recorded_sends
from web.ingest import EventBatcher
from web.pools import open_event_pool

T = TypeVar("T")


def with_batcher(
    dsn: str,
    body: Callable[[EventBatcher], Awaitable[T]],
    *,
    pool_timeout: float = 5,
    **options: Any,
) -> T:
    """``body`` with a batcher on a pool of its own; one statement in flight unless
    ``options`` say otherwise (the production app keeps 2, up to the pool's 8)."""

    async def run() -> T:
        pool, check = await open_event_pool(dsn, min_size=8, max_size=8, timeout=pool_timeout)
        try:
            batcher = EventBatcher(pool, check, **({"in_flight": 1} | options))
            try:
                return await body(batcher)
            finally:
                await batcher.close()
        finally:
            await pool.close()

    return asyncio.run(run())


def sends_of_a(db: Database, two_orgs: TwoOrgs, count: int) -> list[tuple[uuid.UUID, str]]:
    return recorded_sends(db, two_orgs, [f"batch{i}@example.com" for i in range(count)])


@pytest.fixture
def messages(db: Database, two_orgs: TwoOrgs) -> list[str]:
    """Five recorded sends of org A, committed (the batcher's pool sees them)."""
    return [message_id for _, message_id in sends_of_a(db, two_orgs, 5)]


def opened(message_id: str) -> str:
    return json.dumps(event("email.opened", message_id))


Took = dict[str, tuple[object, float, float]]  # name -> outcome, seconds, when answered


async def timed(took: Took, name: str, message_id: str, batcher: EventBatcher) -> None:
    """Ingest an open of the message, noting in ``took`` how it went and how long it took."""
    start = time.monotonic()
    try:
        outcome: object = await batcher.ingest(f"{name}-{uuid.uuid4().hex}", opened(message_id))
    except psycopg.Error as exc:
        outcome = type(exc).__name__
    took[name] = (outcome, time.monotonic() - start, time.monotonic())


def test_events_that_arrive_together_are_recorded_in_one_statement(
    db: Database, messages: list[str]
) -> None:
    async def body(batcher: EventBatcher) -> list[str | None]:
        # The first goes alone at once; the other nine arrive while it runs.
        return await asyncio.gather(
            *(batcher.ingest(f"msg_{uuid.uuid4().hex}", opened(m)) for m in messages * 2)
        )

    calls: list[int] = []

    async def counted(batcher: EventBatcher) -> list[str | None]:
        outcomes = await body(batcher)
        calls.append(batcher.calls)
        return outcomes

    assert with_batcher(db.dsn("intime_service"), counted) == ["applied"] * 10
    assert calls == [2]
    with db.connect() as admin:
        counts = admin.execute(
            "select array_agg(open_count order by open_count) from app.email_sends "
            "where provider_message_id = any(%s)",
            (messages,),
        ).fetchone()
    assert counts == ([2] * 5,)


def test_an_event_that_cannot_be_stored_fails_alone(db: Database, messages: list[str]) -> None:
    bad = json.dumps(event("email.opened", messages[0], subject="nul \u0000 here"))

    async def body(batcher: EventBatcher) -> list[object]:
        return await asyncio.gather(
            batcher.ingest("first", opened(messages[0])),
            batcher.ingest("good-1", opened(messages[1])),
            batcher.ingest("bad", bad),
            batcher.ingest("good-2", opened(messages[2])),
            return_exceptions=True,
        )

    first, good_1, failed, good_2 = with_batcher(db.dsn("intime_service"), body)
    assert (first, good_1, good_2) == ("applied", "applied", "applied")
    assert isinstance(failed, psycopg.DataError)
    with db.connect() as admin:
        kept = admin.execute(
            "select array_agg(event_id order by event_id) from app.webhook_receipts "
            "where event_id in ('first', 'good-1', 'bad', 'good-2')"
        ).fetchone()
    assert kept == (["first", "good-1", "good-2"],)


def test_an_unreachable_database_answers_every_waiting_event(
    db: Database, messages: list[str]
) -> None:
    async def body(batcher: EventBatcher) -> list[object]:
        with db.connect(autocommit=True) as admin:
            # Every connection of the pool is ended under it; the retry on a checked
            # connection then finds the database refusing new ones for this role.
            admin.execute("alter role intime_service nologin")
            try:
                admin.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where usename = 'intime_service' and datname = current_database()"
                )
                return await asyncio.wait_for(
                    asyncio.gather(
                        *(batcher.ingest(f"down-{i}", opened(m)) for i, m in enumerate(messages)),
                        return_exceptions=True,
                    ),
                    timeout=30,
                )
            finally:
                admin.execute("alter role intime_service login")

    started = time.monotonic()
    outcomes = with_batcher(db.dsn("intime_service"), body, pool_timeout=1)
    assert [type(o).__name__ for o in outcomes if not isinstance(o, psycopg.OperationalError)] == []
    # Each statement waited for a connection once (1 s): the batch was not tried again
    # event by event, each waiting again.
    assert time.monotonic() - started < 4.5


def test_an_event_over_a_database_limit_fails_alone(db: Database, two_orgs: TwoOrgs) -> None:
    """A class-54 error (an email id too long for the pending table's index) is an answer
    about that event, not an unreachable database: the others are recorded."""
    sends = sends_of_a(db, two_orgs, 4)
    huge = json.dumps(event("email.opened", secrets.token_hex(8000)))  # incompressible

    async def body(batcher: EventBatcher) -> list[object]:
        return await asyncio.gather(
            batcher.ingest("first", opened(sends[0][1])),  # alone; the rest go together
            batcher.ingest("good-1", opened(sends[1][1])),
            batcher.ingest("huge", huge),
            batcher.ingest("good-2", opened(sends[2][1])),
            batcher.ingest("good-3", opened(sends[3][1])),
            return_exceptions=True,
        )

    outcomes = with_batcher(db.dsn("intime_service"), body)
    assert [o if isinstance(o, str) else type(o).__name__ for o in outcomes] == [
        "applied",
        "applied",
        "ProgramLimitExceeded",
        "applied",
        "applied",
    ]


def test_a_statement_waiting_for_a_lock_does_not_hold_up_other_events(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """A send row locked by a long transaction: its events wait (and give up after the
    functions' 2 s lock timeout, per lock), the others are recorded meanwhile."""
    sends = sends_of_a(db, two_orgs, 6)
    (locked_id, locked), others = sends[0], sends[1:]
    took: Took = {}

    async def body(batcher: EventBatcher) -> None:
        with db.connect() as holder:
            holder.execute("select from app.email_sends where id = %s for update", (locked_id,))
            tasks = [
                asyncio.create_task(timed(took, f"locked-{i}", locked, batcher)) for i in range(2)
            ]
            await asyncio.sleep(0.3)  # both statements in flight wait for the row
            tasks += [
                asyncio.create_task(timed(took, f"other-{i}", m, batcher))
                for i, (_, m) in enumerate(others)
            ]
            await asyncio.sleep(3)
            holder.rollback()
        await asyncio.gather(*tasks)

    with_batcher(db.dsn("intime_service"), body, in_flight=2)
    # A locked event gives up after 2 s on each lock it waits for: the second one waits
    # for the first's message lock, then may wait for the row and get it at release.
    assert {k: v[0] for k, v in took.items() if k.startswith("other")} == {
        f"other-{i}": "applied" for i in range(5)
    }
    assert {v[0] for k, v in took.items() if k.startswith("locked")} <= {
        "LockNotAvailable",
        "applied",
    }
    assert took["locked-0"][0] == "LockNotAvailable" or took["locked-1"][0] == "LockNotAvailable"
    # Each other event was answered while the locked ones still waited (before their
    # 2 s lock timeout), not after them.
    locked_done = min(v[2] for k, v in took.items() if k.startswith("locked"))
    assert max(v[2] for k, v in took.items() if k.startswith("other")) < locked_done - 0.2


def test_a_request_waits_for_its_outcome_at_most_the_timeout(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """Past ``timeout`` the request is answered 503 (PoolTimeout); the statement goes on
    and records the event later, which a retry of the provider finds a duplicate."""
    ((locked_id, locked),) = sends_of_a(db, two_orgs, 1)

    async def body(batcher: EventBatcher) -> tuple[str, float]:
        with db.connect() as holder:
            holder.execute("select from app.email_sends where id = %s for update", (locked_id,))
            start = time.monotonic()
            try:
                await batcher.ingest("patient", opened(locked))
            except PoolTimeout as exc:
                waited = time.monotonic() - start
                holder.rollback()
                return str(exc), waited
        raise AssertionError("the request did not time out")

    message, waited = with_batcher(db.dsn("intime_service"), body, timeout=0.5)
    assert "not recorded within 0.5 s" in message
    assert waited < 1.5
    with db.connect() as admin:
        assert admin.execute(
            "select count(*) from app.webhook_receipts where event_id = 'patient'"
        ).fetchone() == (1,)


def test_events_after_a_locked_send_in_a_refused_batch_are_not_held_up(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """A batch refused after the lock timeout is tried again per message, the messages
    side by side: the healthy events in it do not wait behind each locked one, and the
    locked message's events are answered together."""
    sends = sends_of_a(db, two_orgs, 7)
    (locked_id, locked), healthy = sends[0], sends[1:]
    took: Took = {}

    async def body(batcher: EventBatcher) -> int:
        with db.connect() as holder:
            holder.execute("select from app.email_sends where id = %s for update", (locked_id,))
            # The first goes alone; the rest, locked and healthy interleaved, together.
            names = [("locked-0", locked)]
            for i, (_, m) in enumerate(healthy):
                names += [(f"locked-{i + 1}", locked), (f"healthy-{i}", m)]
            tasks = [asyncio.create_task(timed(took, n, m, batcher)) for n, m in names]
            await asyncio.gather(*tasks)
            holder.rollback()
        return batcher.calls

    calls = with_batcher(db.dsn("intime_service"), body)
    assert {k: v[0] for k, v in took.items() if k.startswith("healthy")} == {
        f"healthy-{i}": "applied" for i in range(6)
    }
    assert {v[0] for k, v in took.items() if k.startswith("locked")} == {"LockNotAvailable"}
    # The batch waited once (2 s), then the locked message once more: not 2 s per event.
    assert max(v[1] for v in took.values()) < 7
    assert calls <= 1 + 1 + 1 + 6  # alone, the batch, the locked message once, each healthy


def test_an_event_whose_request_gave_up_is_not_tried_alone(db: Database, two_orgs: TwoOrgs) -> None:
    ((locked_id, locked),) = sends_of_a(db, two_orgs, 1)

    async def body(batcher: EventBatcher) -> tuple[list[str], int]:
        with db.connect() as holder:
            holder.execute("select from app.email_sends where id = %s for update", (locked_id,))
            outcomes = await asyncio.gather(
                *(batcher.ingest(f"gave-up-{i}", opened(locked)) for i in range(6)),
                return_exceptions=True,
            )
            await batcher.close()  # what was in flight ends (lock timeout)
            holder.rollback()
        return [type(o).__name__ for o in outcomes], batcher.calls

    outcomes, calls = with_batcher(db.dsn("intime_service"), body, timeout=0.5)
    assert outcomes == ["PoolTimeout"] * 6
    assert calls <= 2  # the first alone, the other five together; none of them alone again


def test_a_refused_batch_of_locked_sends_does_not_starve_later_events(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """Many messages whose sends are held (a campaign busy for long): their retry takes at
    most its share of the pool and gives up after a few of them, so events that arrive
    meanwhile about other sends go through at once."""
    sends = sends_of_a(db, two_orgs, 44)
    locked, healthy = sends[:40], sends[40:]
    took: Took = {}

    async def body(batcher: EventBatcher) -> None:
        with db.connect() as holder:
            holder.execute(
                "select from app.email_sends where id = any(%s) for update",
                ([send_id for send_id, _ in locked],),
            )
            tasks = [
                asyncio.create_task(timed(took, f"locked-{i}", m, batcher))
                for i, (_, m) in enumerate(locked)
            ]
            await asyncio.sleep(3)  # the batch gave up (2 s) and is being retried
            tasks += [
                asyncio.create_task(timed(took, f"healthy-{i}", m, batcher))
                for i, (_, m) in enumerate(healthy)
            ]
            await asyncio.gather(*tasks)
            holder.rollback()

    with_batcher(db.dsn("intime_service"), body, in_flight=2, timeout=10)
    assert {k: v[0] for k, v in took.items() if k.startswith("healthy")} == {
        f"healthy-{i}": "applied" for i in range(4)
    }
    assert max(v[1] for k, v in took.items() if k.startswith("healthy")) < 1.5
    assert {v[0] for k, v in took.items() if k.startswith("locked")} == {"LockNotAvailable"}


def test_an_event_whose_email_id_is_not_a_string_is_parked_not_a_crash(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """The database parks it (no send has such an id); the retry's grouping by message
    takes it as about no message."""
    payload = json.dumps({"type": "email.opened", "data": {"email_id": ["re_x"]}})

    async def body(batcher: EventBatcher) -> str | None:
        return await batcher.ingest("listed-id", payload)

    assert with_batcher(db.dsn("intime_service"), body) == "pending"
