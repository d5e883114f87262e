"""Database helpers shared by the CLI, the worker and the web app.

- ``actor`` / ``async_actor``: a transaction that acts for an org and user
  through ``api.set_actor`` (transaction-local, safe on pooled connections);
- ``errors_translated``: psycopg errors with an IT SQLSTATE become
  ``intime.errors`` exceptions;
- ``open_pool``: the psycopg 3 async pool.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from intime import queries as q
from intime.errors import translate


@contextlib.contextmanager
def errors_translated() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc


@contextlib.contextmanager
def actor(
    conn: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> Iterator[psycopg.Connection]:
    """Run a transaction on ``conn`` as ``org_id``/``user_id`` (service role).

    It must be a transaction of its own: nested in an open one it would be a
    savepoint, and the actor would outlive the block.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("actor() must start its own transaction; the connection is in one")
    with errors_translated(), conn.transaction():
        conn.execute(q.SET_ACTOR, {"org_id": org_id, "user_id": user_id})
        yield conn


@contextlib.asynccontextmanager
async def async_actor(
    conn: psycopg.AsyncConnection, org_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> AsyncIterator[psycopg.AsyncConnection]:
    """The async twin of ``actor``."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("async_actor() must start its own transaction; the connection is in one")
    try:
        async with conn.transaction():
            await conn.execute(q.SET_ACTOR, {"org_id": org_id, "user_id": user_id})
            yield conn
    except psycopg.Error as exc:
        raise translate(exc) from exc


def pool_reset(autocommit: bool) -> Callable[[psycopg.AsyncConnection], Awaitable[None]]:
    """The pool's ``reset``: whatever a job changed on a connection, the next
    borrower gets the defaults back (client side: row factory, autocommit and
    transaction characteristics; server side: every session setting)."""

    async def reset(conn: psycopg.AsyncConnection) -> None:
        conn.row_factory = tuple_row  # type: ignore[assignment]
        for name in ("isolation_level", "read_only", "deferrable"):
            if getattr(conn, name) is not None:
                await getattr(conn, f"set_{name}")(None)
        if not conn.autocommit:
            await conn.set_autocommit(True)
        await conn.execute("reset all")
        if not autocommit:
            await conn.set_autocommit(False)

    return reset


async def open_pool(
    dsn: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    autocommit: bool = False,
    timeout: float = 30.0,
    name: str | None = None,
    wait: bool = True,
) -> AsyncConnectionPool:
    """An open async pool. With ``autocommit`` a lone statement is its own
    transaction in one round trip (``conn.transaction()`` still works).

    Every connection is checked before it is handed out (a dropped backend is
    replaced, not given to a request) and reset when it comes back
    (``pool_reset``). ``wait``: block until ``min_size`` connections are open
    (``PoolTimeout`` after ``timeout`` seconds)."""
    pool = AsyncConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        open=False,
        kwargs={"autocommit": autocommit},
        check=AsyncConnectionPool.check_connection,
        reset=pool_reset(autocommit),
        timeout=timeout,
        name=name,
    )
    await pool.open(wait=wait, timeout=timeout)
    return pool
