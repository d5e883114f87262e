"""A local journal of outcomes the database has not recorded yet.

When the worker stops (SIGTERM, past its grace period) while the database is
away, a job may hold the outcome of a send the provider already accepted. The
outcome is appended here (one JSON line, fsync'd) instead of being lost, and
the next worker started on this machine (the same ``INTIME_HOME``) replays it
before it takes jobs: the email is recorded ``sent`` and not sent again. Each
process writes its own file and holds an exclusive lock on it while it lives,
so a replay never touches the file of a running worker. Replaying is safe to
repeat: ``api.record_email_sent``, ``api.fail_email_send``,
``api.complete_action`` and ``api.fail_action`` are idempotent.

Keep ``INTIME_HOME`` on a persistent volume where workers are containers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from pathlib import Path
from typing import IO, Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from intime.db import async_actor, is_transient
from worker import queries as q

log = logging.getLogger("intime.worker")

# The statements an entry may name (worker.queries), nothing else.
REPLAYABLE = frozenset({"RECORD_EMAIL_SENT", "FAIL_EMAIL_SEND", "COMPLETE_ACTION", "FAIL_ACTION"})


def entry(query: str, params: dict[str, Any], actor_org: uuid.UUID | None = None) -> dict:
    """A journal entry: run ``worker.queries.<query>`` with ``params`` (as ``actor_org``)."""
    if query not in REPLAYABLE:
        raise ValueError(f"{query} cannot be journaled")
    return {
        "query": query,
        "actor_org": str(actor_org) if actor_org else None,
        "params": {k: (v.obj if isinstance(v, Jsonb) else v) for k, v in params.items()},
    }


class OutcomeJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: IO[str] | None = None

    def append(self, item: dict) -> None:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"outcomes-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._file = path.open("a", encoding="utf-8")
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file.write(json.dumps(item, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock; the file stays for the next start
            self._file = None

    async def replay(self, pool: AsyncConnectionPool) -> int:
        """Record what earlier (stopped) workers journaled; returns how many entries."""
        if not self.folder.is_dir():
            return 0
        replayed = 0
        for path in sorted(self.folder.glob("outcomes-*.jsonl")):
            with path.open("r+", encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a running worker's own journal
                left: list[str] = []
                for line in handle.read().splitlines():
                    if not line.strip():
                        continue
                    try:
                        await _run(pool, json.loads(line))
                        replayed += 1
                    except Exception as exc:
                        if is_transient(exc):
                            left.append(line)  # the database is away again: next start
                        else:
                            log.error("journal entry not replayable, dropped: %s (%s)", line, exc)
                if left:
                    handle.seek(0)
                    handle.truncate()
                    handle.write("\n".join(left) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        if replayed:
            log.warning(
                "recorded %s outcome(s) a stopped worker had journaled",
                replayed,
                extra={"event": "journal_replayed", "count": replayed},
            )
        return replayed


async def _run(pool: AsyncConnectionPool, item: dict) -> None:
    name = item.get("query")
    if name not in REPLAYABLE:
        raise ValueError(f"unknown journal query {name!r}")
    params = dict(item.get("params") or {})
    if "result" in params:
        params["result"] = Jsonb(params["result"])
    async with pool.connection() as conn:
        if item.get("actor_org"):
            async with async_actor(conn, uuid.UUID(item["actor_org"])):
                await conn.execute(getattr(q, name), params)
        else:
            await conn.execute(getattr(q, name), params)
