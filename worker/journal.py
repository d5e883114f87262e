"""A local journal of sends the database has not recorded yet.

When the worker stops (SIGTERM, past its grace period) while the database is
away, a job may hold the fact that a provider accepted a message. That fact
is appended here (one JSON line, fsync'd) instead of being lost, and every
worker using the same ``INTIME_HOME`` replays what a stopped worker left:
at its start, and every ``REPLAY_SECONDS`` while it runs. The email is then
recorded ``sent`` (the webhook delivery ``completed``) and, as long as that
happens before the send lease runs out, not sent again.

Only successes are journaled: a failure nobody recorded costs a retry, never
a duplicate, while an old failure replayed over a newer attempt would undo
it. ``api.record_email_sent`` and ``api.complete_action`` are idempotent, so a
replay may be repeated safely.

Each process writes its own file. It is created under a temporary name,
locked (``flock``) and only then renamed into place, and it stays locked while
its process lives, so a replay never reads a file someone is writing. Keep
``INTIME_HOME`` on a persistent volume where workers are containers.
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

from intime.db import is_transient
from worker import queries as q

log = logging.getLogger("intime.worker")

# The statements an entry may name (worker.queries): a recorded success, nothing else.
REPLAYABLE = frozenset({"RECORD_EMAIL_SENT", "COMPLETE_ACTION"})
REPLAY_SECONDS = 15.0


def entry(query: str, params: dict[str, Any], actor_org: uuid.UUID | None = None) -> dict[str, Any]:
    """A journal entry: run ``worker.queries.<query>`` with ``params`` (as ``actor_org``)."""
    if query not in REPLAYABLE:
        raise ValueError(f"{query} cannot be journaled")
    return {
        "query": query,
        "actor_org": str(actor_org) if actor_org else None,
        "params": {
            k: v.obj if isinstance(v, Jsonb) else str(v) if isinstance(v, uuid.UUID) else v
            for k, v in params.items()
        },
    }


class OutcomeJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._file: IO[str] | None = None

    def check(self) -> None:
        """Raise ``OSError`` unless this process can create, lock and remove a file here."""
        self.folder.mkdir(parents=True, exist_ok=True)
        probe = self.folder / f".probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        with probe.open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        probe.unlink()

    def append(self, item: dict[str, Any]) -> None:
        """Write ``item`` durably (``OSError`` when the folder cannot take it)."""
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"outcomes-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            temporary = self.folder / f".{name}.tmp"
            handle = temporary.open("a", encoding="utf-8")
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            temporary.rename(self.folder / name)  # visible to replays only once locked
            self._file = handle
        self._file.write(json.dumps(item, default=str) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()  # releases the lock; the file stays for a replay
            self._file = None

    async def replay(self, pool: AsyncConnectionPool) -> int:
        """Record what stopped workers journaled; returns how many entries. Never raises:
        a file it cannot handle now is left for the next replay."""
        try:
            paths = sorted(self.folder.glob("outcomes-*.jsonl"))
        except OSError:
            return 0
        replayed = 0
        for path in paths:
            try:
                replayed += await self._replay_file(pool, path)
            except Exception as exc:
                log.error("journal %s not replayed now: %s", path.name, exc)
        if replayed:
            log.warning(
                "recorded %s outcome(s) a stopped worker had journaled",
                replayed,
                extra={"event": "journal_replayed", "count": replayed},
            )
        return replayed

    async def _replay_file(self, pool: AsyncConnectionPool, path: Path) -> int:
        try:
            handle = path.open("r+", encoding="utf-8")
        except FileNotFoundError:
            return 0  # another worker replayed it meanwhile
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0  # its worker is alive, or another replay holds it
            if self._file is not None and os.fstat(handle.fileno()) == os.fstat(
                self._file.fileno()
            ):
                return 0  # our own
            if os.fstat(handle.fileno()).st_nlink == 0:
                return 0  # replayed and removed by another worker before we locked it
            replayed = 0
            left: list[str] = []
            for line in handle.read().splitlines():
                if not line.strip():
                    continue
                try:
                    await _run(pool, json.loads(line))
                    replayed += 1
                except Exception as exc:
                    if is_transient(exc):
                        left.append(line)  # the database is away again: next replay
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
            return replayed


async def _run(pool: AsyncConnectionPool, item: dict[str, Any]) -> None:
    name = item.get("query")
    if name not in REPLAYABLE:
        raise ValueError(f"unknown journal query {name!r}")
    params = dict(item.get("params") or {})
    if "result" in params:
        params["result"] = Jsonb(params["result"])
    if item.get("actor_org"):
        # Every replayable statement is org-first; an entry written before that names
        # its org as the actor only.
        params.setdefault("org_id", item["actor_org"])
    async with pool.connection(timeout=5) as conn:
        await conn.execute(getattr(q, name), params)
