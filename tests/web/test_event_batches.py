"""web/ingest.py's group commit on a real pool: concurrent events go in one statement;
one that cannot be stored fails alone; an unreachable database answers every waiting
request."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
import pytest

from tests.support import Database, Mail, TwoOrgs, event
from web.ingest import EventBatcher
from web.pools import open_event_pool

T = TypeVar("T")


def with_batcher(
    dsn: str, body: Callable[[EventBatcher], Awaitable[T]], *, timeout: float = 5
) -> T:
    async def run() -> T:
        pool, check = await open_event_pool(dsn, min_size=1, max_size=2, timeout=timeout)
        try:
            batcher = EventBatcher(pool, check, in_flight=1)
            try:
                return await body(batcher)
            finally:
                await batcher.close()
        finally:
            await pool.close()

    return asyncio.run(run())


@pytest.fixture
def messages(db: Database, two_orgs: TwoOrgs) -> list[str]:
    """Five recorded sends of org A, committed (the batcher's pool sees them)."""
    with db.connect("intime_service", autocommit=True) as conn:
        mail = Mail(conn, two_orgs.a.org_id, two_orgs.a.admin_id)
        out = []
        for i in range(5):
            send_id = mail.queue(to=f"batch{i}@example.com", subject="Hi", text="x")
            message_id = f"re_{uuid.uuid4().hex}"
            mail.sent(send_id, message_id)
            out.append(message_id)
        return out


def opened(message_id: str) -> str:
    return json.dumps(event("email.opened", message_id))


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

    outcomes = with_batcher(db.dsn("intime_service"), body, timeout=1)
    assert [type(o).__name__ for o in outcomes if not isinstance(o, psycopg.OperationalError)] == []
