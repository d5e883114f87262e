"""Parser processes: MIME is parsed off the event loop, with a time limit.

A parse runs in a separate process (``python -m web.mime``), never on the
event loop or in a thread of the web process:

* a thread cannot be stopped, so a time limit would only stop *waiting*: a
  pathological message would keep burning CPU (and holding the GIL against the
  event loop) for as long as it takes, and a few of them would pile up;
* a process can be stopped. Each parse gets a CPU budget (``cpu_seconds``)
  that the kernel enforces in the parser process (RLIMIT_CPU): past it the
  process dies of SIGXCPU and the request is answered 422, since the message
  itself is too costly. CPU time, not wall time, so a busy machine does not
  turn a normal message into a refusal. A wall-clock backstop
  (``wall_seconds``) kills a parse that makes no progress at all; that is the
  machine's fault, so it answers 503 with Retry-After and the sender retries.
  Parser processes run at a lower CPU priority (nice 10) than the web process,
  with a cap on their address space and no core dumps.

Concurrency is bounded twice: ``processes`` parses run at once (one per
process) and at most ``queue`` more requests wait for one; past that,
``admit()`` answers ``Busy`` (503 with Retry-After) at once. A request takes
its place only once it is authenticated and its body has arrived in full
(web/inbound.py): a client that sends its body slowly, or never, holds no
place, so it cannot keep other mail out. Processes start
on first use and are replaced after ``max_jobs`` parses and after a kill.
Replies are JSON, so a parser process that a message managed to subvert still
cannot run code in the web process; it gets no secrets either (a minimal
environment, no inherited file descriptors).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from web.limits import (
    MAX_FETCHED_BYTES,
    MAX_MESSAGE_BYTES,
    PARSE_CPU_SECONDS,
    PARSE_MEMORY,
    PARSE_PROCESSES,
    PARSE_QUEUE,
    PARSE_WALL_SECONDS,
)

log = logging.getLogger("intime.web.sandbox")

_REQUEST = struct.Struct(">cQ")
_REPLY = struct.Struct(">Q")
# A reply holds the bodies as JSON text: a few times the largest input at most.
_MAX_REPLY = 8 * max(MAX_MESSAGE_BYTES, MAX_FETCHED_BYTES)
_START_TIMEOUT = 30.0
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


class Busy(Exception):
    """Every parser process is busy and the queue is full (answer 503)."""


class Unavailable(Exception):
    """No parser process could do the work now (answer 503)."""


class ParseFailed(Exception):
    """The message broke the CPU budget, or killed its parser (answer 422)."""


class _Worker:
    def __init__(self, memory_limit: int, cpu_seconds: int) -> None:
        self._argv = [sys.executable, "-m", "web.mime", str(memory_limit), str(cpu_seconds)]
        self.proc: asyncio.subprocess.Process | None = None
        self.jobs = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self) -> None:
        # Only what Python needs: the process that reads hostile input holds
        # none of the web process's secrets (API keys, tokens, DSNs).
        env = {k: v for k, v in os.environ.items() if k in _ENVIRONMENT}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PROJECT_ROOT, os.environ.get("PYTHONPATH", "")) if p
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
            )
        except OSError as exc:
            raise Unavailable(f"could not start a parser process: {exc}") from exc
        self.proc, self.jobs = proc, 0
        try:
            assert proc.stdout is not None
            ready = await asyncio.wait_for(proc.stdout.readexactly(1), _START_TIMEOUT)
        except (TimeoutError, asyncio.IncompleteReadError) as exc:
            self.kill()
            raise Unavailable("a parser process did not start") from exc
        if ready != b"R":
            self.kill()
            raise Unavailable("a parser process started badly")

    async def exchange(self, kind: bytes, payload: bytes) -> dict[str, Any]:
        proc = self.proc
        assert proc is not None
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(_REQUEST.pack(kind, len(payload)))
        proc.stdin.write(payload)
        await proc.stdin.drain()
        (size,) = _REPLY.unpack(await proc.stdout.readexactly(_REPLY.size))
        if size > _MAX_REPLY:
            raise ValueError("the parser answered out of protocol")
        reply = json.loads(await proc.stdout.readexactly(size))
        if not isinstance(reply, dict):
            raise ValueError("the parser answered out of protocol")
        self.jobs += 1
        return reply

    def kill(self) -> asyncio.subprocess.Process | None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        return proc


class ParserSandbox:
    def __init__(
        self,
        *,
        processes: int = PARSE_PROCESSES,
        queue: int = PARSE_QUEUE,
        cpu_seconds: int = PARSE_CPU_SECONDS,
        wall_seconds: float = PARSE_WALL_SECONDS,
        memory_limit: int = PARSE_MEMORY,
        max_jobs: int = 1000,
    ) -> None:
        if processes < 1 or cpu_seconds < 1:
            raise ValueError("at least one parser process and one CPU second are needed")
        self.cpu_seconds = cpu_seconds
        self.wall_seconds = wall_seconds
        self._capacity = processes + queue
        self._max_jobs = max_jobs
        self._workers = [_Worker(memory_limit, cpu_seconds) for _ in range(processes)]
        self._idle = list(self._workers)
        self._slots = asyncio.Semaphore(processes)
        self._admitted = 0
        self._reaping: set[asyncio.Task[Any]] = set()
        self.killed = 0  # parses stopped by a limit, or lost with their process

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """A place among the parses running or waiting, or ``Busy`` at once."""
        if self._admitted >= self._capacity:
            raise Busy("every parser is busy")
        self._admitted += 1
        try:
            yield
        finally:
            self._admitted -= 1

    def pids(self) -> list[int]:
        return [pid for w in self._workers if (pid := w.pid) is not None]

    async def parse(self, kind: bytes, payload: bytes) -> dict[str, Any]:
        """The parser's reply for ``payload`` (``b"M"`` raw message, ``b"J"`` Resend JSON)."""
        async with self._slots:
            worker = self._idle.pop()
            try:
                return await self._run(worker, kind, payload)
            finally:
                self._idle.append(worker)

    async def _run(self, worker: _Worker, kind: bytes, payload: bytes) -> dict[str, Any]:
        if worker.proc is not None and (
            worker.proc.returncode is not None or worker.jobs >= self._max_jobs
        ):
            self._retire(worker)
        if worker.proc is None:
            await worker.start()
        proc = worker.proc
        assert proc is not None
        try:
            return await asyncio.wait_for(worker.exchange(kind, payload), self.wall_seconds)
        except TimeoutError as exc:
            self._retire(worker, killed=True)
            log.warning(
                "a parse made no progress in %ss; its process was killed", self.wall_seconds
            )
            raise Unavailable("the parser is overloaded") from exc
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            self._retire(worker, killed=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
            if proc.returncode == -signal.SIGXCPU:
                log.warning(
                    "a parse used its %ss of CPU; its process was stopped", self.cpu_seconds
                )
                raise ParseFailed(
                    f"the message took more than {self.cpu_seconds}s of CPU to parse"
                ) from exc
            log.warning("a parser process died (%s): %r", proc.returncode, exc)
            raise ParseFailed("the message could not be parsed") from exc
        except BaseException:  # cancelled mid-exchange: the process's state is unknown
            self._retire(worker)
            raise

    def _retire(self, worker: _Worker, *, killed: bool = False) -> None:
        proc = worker.kill()
        self.killed += killed
        if proc is not None:
            task = asyncio.ensure_future(proc.wait())
            self._reaping.add(task)
            task.add_done_callback(self._reaping.discard)

    async def close(self) -> None:
        for worker in self._workers:
            proc = worker.kill()
            if proc is not None:
                with contextlib.suppress(ProcessLookupError, TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5)
        if self._reaping:
            await asyncio.wait(self._reaping, timeout=5)
