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
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from intime import queries as q
from intime.errors import translate

# SQLSTATEs a later attempt may not meet: a serialization failure or deadlock,
# a lock or statement timeout, the server shutting down or starting up. Class 08
# (connection exceptions) and 53 (insufficient resources: disk, memory, too many
# connections) count as a whole.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014", "57P01", "57P02", "57P03"})
TRANSIENT_CLASSES = ("08", "53")
# Citus: a statement whose connection to another node of the cluster failed in the middle
# of its transaction ends with this internal error (XX000, no SQLSTATE of its own:
# remote_transaction.c), as when that node restarts. The node is away, as with class 08.
CITUS_NODE_FAILURE = "failure on connection marked as essential"
# Keep a TCP connection to a peer that went silent (a failover that moved its
# address, a firewall that dropped the state) from hanging for the kernel's
# default of minutes to hours. libpq ignores these on Unix-domain sockets.
TCP_OPTIONS = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
    "tcp_user_timeout": "60000",
    "connect_timeout": "10",
}


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may go away by itself (retry later), as opposed to
    one no retry can cure (a bug, a value the database refuses: classes 22, 23, 42,
    54 ...). A connection that broke without a server error has no SQLSTATE."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:
        return isinstance(exc, psycopg.OperationalError)
    return (
        state in TRANSIENT_SQLSTATES or state.startswith(TRANSIENT_CLASSES) or is_node_failure(exc)
    )


def is_node_failure(exc: BaseException) -> bool:
    """A Citus node did not answer in the middle of the statement (``CITUS_NODE_FAILURE``):
    the cluster is partly away, which a later attempt may not meet."""
    return (
        isinstance(exc, psycopg.InternalError)
        and exc.sqlstate == "XX000"
        and (exc.diag.message_primary or "").startswith(CITUS_NODE_FAILURE)
    )


def is_unavailable(exc: BaseException) -> bool:
    """The database could not answer this request (a lost or refused connection, a server
    shutting down, a timeout, a Citus node away), as opposed to an answer about it: what a
    web request answers 503 (Retry-After). A program limit (class 54) is the input's."""
    if is_node_failure(exc):
        return True
    return isinstance(exc, psycopg.OperationalError) and not (exc.sqlstate or "").startswith("54")


def with_tcp_options(dsn: str) -> str:
    """``dsn`` with keepalives, a TCP user timeout and a connect timeout, unless it
    sets them itself."""
    params = conninfo_to_dict(dsn)
    for name, value in TCP_OPTIONS.items():
        params.setdefault(name, value)
    return make_conninfo("", **params)


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
        conn.row_factory = tuple_row
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
        with_tcp_options(dsn),
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


def scalar(cursor: psycopg.Cursor[Any]) -> Any:
    """The first value of the one row a statement returned (``LookupError`` if none)."""
    row = cursor.fetchone()
    if row is None:
        raise LookupError("the statement returned no row")
    return row[0]
