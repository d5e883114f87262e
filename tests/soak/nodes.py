"""The harness's reads of every node's queue, merged (one server: that one).

On a Citus cluster each node has a queue of its own, whose job ids collide with the
other nodes'. A read of ``queue.*`` runs on every node and each row comes back with its
``node``; a node that does not answer fails the read (``psycopg.Error``), as one server
down does, rather than be counted as holding nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString, Protocol

import psycopg
from psycopg.rows import dict_row

from tests.soak.processes import HARNESS_APP


class HasNodes(Protocol):
    @property
    def nodes(self) -> list[tuple[str, str]]: ...


async def connect(dsn: str, timeout: int = 10) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(
        dsn, autocommit=True, application_name=HARNESS_APP, connect_timeout=timeout
    )


class NodeConnections:
    """One superuser connection per node, kept for repeated reads (``async with``)."""

    def __init__(self, db: HasNodes, timeout: int = 10) -> None:
        self.db, self.timeout = db, timeout
        self.conns: list[tuple[str, psycopg.AsyncConnection]] = []

    async def __aenter__(self) -> NodeConnections:
        try:
            for name, dsn in self.db.nodes:
                self.conns.append((name, await connect(dsn, self.timeout)))
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        for _, conn in self.conns:
            await conn.close()
        self.conns = []

    async def rows(self, query: LiteralString, params: Any = None) -> list[dict[str, Any]]:
        """The rows of ``query`` on every node, each with its ``node``."""
        out: list[dict[str, Any]] = []
        for name, conn in self.conns:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            out += [{**row, "node": name} for row in await cur.fetchall()]
        return out


async def rows_on_every_node(
    db: HasNodes, query: LiteralString, params: Any = None
) -> list[dict[str, Any]]:
    async with NodeConnections(db) as nodes:
        return await nodes.rows(query, params)


def single(db: HasNodes) -> bool:
    """One server (the rows need no node named)."""
    return len(db.nodes) == 1


def job_name(row: dict[str, Any], db: HasNodes, key: str = "id") -> str:
    """A job's id, with its node on a cluster (``worker1:1234``)."""
    return str(row[key]) if single(db) else f"{row['node']}:{row[key]}"


def best_job_status(statuses: Sequence[str | None]) -> str | None:
    """Across nodes: picked, else queued, else whatever else was seen, else none."""
    for wanted in ("picked", "queued"):
        if wanted in statuses:
            return wanted
    return next((s for s in statuses if s is not None), None)
