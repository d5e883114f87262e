"""web/rechecks.py: open streams' credentials re-checked many at a time, on a real pool."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import psycopg
import pytest

from intime.db import actor, open_pool
from tests.support import Database, TwoOrgs
from web import rechecks
from web.rechecks import Credential, CredentialChecks


def _tokens(service: psycopg.Connection, two_orgs: TwoOrgs, n: int) -> list[Credential]:
    org = two_orgs.a.org_id
    with actor(service, org):
        rows = service.execute(
            # A name per row: a call with no reference to g would be made once.
            "select t.token_id from generate_series(1, %s) as g "
            "cross join lateral api.create_api_token(p_name => 'stream ' || g, p_user_id => %s) "
            "as t",
            (n, two_orgs.a.rep_ids[0]),
        ).fetchall()
    return [Credential(org, row[0]) for row in rows]


def _revoke(service: psycopg.Connection, cred: Credential) -> None:
    with actor(service, cred.org_id):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (cred.token_id,))


SLOW = "select array[true] from pg_sleep(30) where %(org_ids)s::uuid[] is not null"


@contextlib.contextmanager
def _answering(query: str) -> Iterator[None]:
    """The checker's query replaced by ``query`` (the real one back at the end)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rechecks.q, "CHECK_STREAM_CREDENTIALS", query)
        yield


def _run(
    db: Database,
    body: Callable[[CredentialChecks, Any], Awaitable[Any]],
    *,
    max_size: int = 2,
    **kw: Any,
) -> Any:
    async def main() -> Any:
        pool = await open_pool(
            db.dsn("intime_service"), min_size=1, max_size=max_size, autocommit=True
        )
        checks = CredentialChecks(pool, **kw)
        try:
            return await body(checks, pool)
        finally:
            await checks.close()
            await pool.close()

    return asyncio.run(main())


def test_checks_that_come_together_go_in_one_query(db, service, two_orgs: TwoOrgs) -> None:
    creds = _tokens(service, two_orgs, 40)
    _revoke(service, creds[7])

    async def body(checks: CredentialChecks, pool: Any) -> tuple[list[bool | None], tuple]:
        results = await asyncio.gather(*(checks.check(c) for c in creds))
        return results, (checks.stats.calls, checks.stats.checked)

    results, counts = _run(db, body)
    assert results == [i != 7 for i in range(40)]
    assert counts == (1, 40)


def test_checks_within_the_linger_share_a_call(db, service, two_orgs: TwoOrgs) -> None:
    creds = _tokens(service, two_orgs, 2)

    async def body(checks: CredentialChecks, pool: Any) -> tuple[list[bool | None], int]:
        first = asyncio.create_task(checks.check(creds[0]))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(checks.check(creds[1]))
        return [await first, await second], checks.stats.calls

    assert _run(db, body, linger=0.3) == ([True, True], 1)


def test_more_checks_than_a_batch_go_in_several_queries(db, service, two_orgs: TwoOrgs) -> None:
    creds = _tokens(service, two_orgs, 25)

    async def body(checks: CredentialChecks, pool: Any) -> tuple[list[bool | None], int]:
        results = await asyncio.gather(*(checks.check(c) for c in creds))
        return results, checks.stats.calls

    results, calls = _run(db, body, batch=10)
    assert results == [True] * 25
    assert calls == 3


def test_a_check_cancelled_while_it_waits_is_left_out_of_its_query(
    db, service, two_orgs: TwoOrgs
) -> None:
    creds = _tokens(service, two_orgs, 2)

    async def body(checks: CredentialChecks, pool: Any) -> tuple[bool | None, int]:
        gone = asyncio.create_task(checks.check(creds[0]))
        kept = asyncio.create_task(checks.check(creds[1]))
        await asyncio.sleep(0)
        gone.cancel()
        return await kept, checks.stats.checked

    assert _run(db, body, linger=0.2) == (True, 1)


def test_a_check_is_none_when_no_connection_is_free_in_time(db, service, two_orgs: TwoOrgs) -> None:
    """The database too busy to say: the stream tries again later (web/notifications.py)."""
    creds = _tokens(service, two_orgs, 1)

    async def body(checks: CredentialChecks, pool: Any) -> tuple[bool | None, int]:
        async with pool.connection():  # the pool's only connection, held
            result = await checks.check(creds[0])
        return result, checks.stats.busy

    assert _run(db, body, max_size=1, wait=0.2) == (None, 1)


def test_a_check_is_none_when_its_connection_is_lost_and_the_next_one_answers(
    db, service, two_orgs: TwoOrgs
) -> None:
    """A restart or failover: one lost connection must not end every stream of its batch.
    The first call's backend ends while it runs (the pool then replaces the connection)."""
    creds = _tokens(service, two_orgs, 1)

    async def body(checks: CredentialChecks, pool: Any) -> list[bool | None]:
        with _answering("select pg_terminate_backend(pg_backend_pid())"):
            first = await checks.check(creds[0])
        second = await checks.check(creds[0])
        return [first, second]

    assert _run(db, body, max_size=1, wait=5.0) == [None, True]


def test_another_error_reaches_every_check_of_its_batch(
    db, service, two_orgs: TwoOrgs, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = _tokens(service, two_orgs, 3)
    monkeypatch.setattr(rechecks.q, "CHECK_STREAM_CREDENTIALS", "select 1 / 0")  # the whole test

    async def body(checks: CredentialChecks, pool: Any) -> list[Any]:
        return await asyncio.gather(*(checks.check(c) for c in creds), return_exceptions=True)

    results = _run(db, body)
    assert [type(r) for r in results] == [psycopg.errors.DivisionByZero] * 3


def test_closing_cancels_the_checks_still_waiting(db, service, two_orgs: TwoOrgs) -> None:
    creds = _tokens(service, two_orgs, 1)

    async def body(checks: CredentialChecks, pool: Any) -> bool:
        waiting = asyncio.create_task(checks.check(creds[0]))
        await asyncio.sleep(0)
        await checks.close()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return True

    assert _run(db, body, linger=5.0)


def test_an_unknown_credential_does_not_hold(db, two_orgs: TwoOrgs) -> None:
    async def body(checks: CredentialChecks, pool: Any) -> bool | None:
        return await checks.check(Credential(two_orgs.a.org_id, uuid.uuid4()))

    assert _run(db, body) is False


def test_a_call_with_no_answer_in_time_says_none_and_the_next_one_answers(
    db, service, two_orgs: TwoOrgs
) -> None:
    """The query is cancelled at the timeout, and its pooled connection serves the next."""
    creds = _tokens(service, two_orgs, 1)

    async def body(checks: CredentialChecks, pool: Any) -> list[bool | None]:
        with _answering(SLOW):
            first = await checks.check(creds[0])
        return [first, await checks.check(creds[0])]

    assert _run(db, body, max_size=1, timeout=0.5) == [None, True]


def test_a_wrong_length_answer_fails_its_checks_and_the_next_ones_answer(
    db, service, two_orgs: TwoOrgs
) -> None:
    creds = _tokens(service, two_orgs, 2)

    async def body(checks: CredentialChecks, pool: Any) -> list[Any]:
        with _answering("select array[true] where %(org_ids)s::uuid[] is not null"):
            results = await asyncio.wait_for(
                asyncio.gather(*(checks.check(c) for c in creds), return_exceptions=True), 10
            )
        return [type(r) for r in results] + [await checks.check(creds[1])]

    assert _run(db, body) == [RuntimeError, RuntimeError, True]


def test_closing_during_a_call_cancels_its_checks(db, service, two_orgs: TwoOrgs) -> None:
    creds = _tokens(service, two_orgs, 1)

    async def body(checks: CredentialChecks, pool: Any) -> bool:
        with _answering(SLOW):
            waiting = asyncio.create_task(checks.check(creds[0]))
            await asyncio.sleep(0.5)  # in the call
            await checks.close()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(waiting, 2)
        return True

    assert _run(db, body, linger=0.0)


def test_a_call_past_its_timeout_is_left_to_end_in_the_background(
    db, service, two_orgs: TwoOrgs
) -> None:
    """Review: on a network that drops packets psycopg's cancel of the query took 10 s
    more, and every check of the process waited behind it. The check answers at the
    timeout; the call ends by itself later."""
    creds = _tokens(service, two_orgs, 1)

    async def stubborn(credentials: list[Credential]) -> list[bool]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(3)  # the cancel's own round trips, lost
            raise
        return [True]

    async def body(checks: CredentialChecks, pool: Any) -> tuple[bool | None, float, int]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(checks, "_query", stubborn)
            started = asyncio.get_running_loop().time()
            result = await checks.check(creds[0])
            took = asyncio.get_running_loop().time() - started
        return result, took, checks.stats.busy

    result, took, busy = _run(db, body, timeout=0.3)
    assert (result, busy) == (None, 1)
    assert took < 2.0
