"""How every worker entrypoint treats its errors (docs/operations.md, rule 2).

``JobRunner.entrypoint`` registers a handler with pgqueuer and wraps it:

- **transient** errors (``Transient``, a lost or refused database connection,
  a pool timeout, a deadlock or serialization failure) re-queue the job with
  exponential backoff and jitter (pgqueuer's ``RetryRequested``): the retry is
  a row in ``queue.pgqueuer``, so it survives this process;
- anything else is a **bug** or an input no handler foresaw: the job is held
  ``failed`` (with its traceback in ``queue.pgqueuer_log``) after the handler
  had its chance to settle its domain row (each handler does, before it
  raises: an email ``failed``, an execution ``failed``). One log line names
  the entrypoint, the job and the error;
- when the worker stops and its grace period is over, a job still running is
  **released**: its task is cancelled and the job goes back to ``queued`` for
  another worker (``release_all``).

``Durability`` is rule 4: a result the outside world has already seen (a
message the provider accepted) is written to the database with retries until
it is recorded, however long the database is away; a job inside such a
stretch is not released by a stopping worker, and an outcome still held at
the very end of a stop goes to the local journal (``worker.journal``).
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
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from pgqueuer import PgQueuer
from pgqueuer.domain.errors import RetryRequested
from pgqueuer.domain.models import Job
from pgqueuer.types import OnFailure

from intime.aio import wait_event
from intime.db import is_transient
from worker.driver import backoff_delays
from worker.journal import OutcomeJournal
from worker.metrics import WorkerMetrics

log = logging.getLogger("intime.worker")

T = TypeVar("T")
Handler = Callable[[Job], Awaitable[None]]

RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0
DATABASE_RETRY_STEPS = 3  # database_retry_delay: at most 5 s x 2^3


class Transient(Exception):
    """Try the job again later (after ``seconds``, or the backoff when None)."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        super().__init__(reason)
        self.seconds = seconds


def is_transient_db_error(exc: BaseException) -> bool:
    """A database error that a later attempt may not meet (``intime.db.is_transient``:
    a lost or refused connection, a pool timeout, a deadlock, a serialization failure,
    a lock or statement timeout). A value the database refuses (a too-long key, a bad
    byte, a constraint) is permanent: no retry cures it."""
    return is_transient(exc)


def retry_delay(attempts: int) -> float:
    """5 s, 10 s, 20 s ... capped at 5 minutes, with ±20 % jitter."""
    base = min(RETRY_MAX_SECONDS, RETRY_FIRST_SECONDS * 2 ** min(max(attempts, 0), 16))
    return float(base) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def database_retry_delay(attempts: int) -> float:
    """After a database error: 5 s, 10 s, 20 s, then 40 s (±20 %). A job's attempts count
    its deliberate deferrals too (an open circuit, a rate limit, a lease), which say
    nothing about the database; and the queue lives in the database, so a job waits
    for it anyway. Uncapped, six deferrals and one lost connection put an email five
    minutes out."""
    return retry_delay(min(attempts, DATABASE_RETRY_STEPS))


def job_payload(job: Job) -> dict[str, Any]:
    """The job's JSON payload; a malformed payload is a bug upstream (ValueError)."""
    payload = json.loads(job.payload or b"{}")
    if not isinstance(payload, dict):
        raise ValueError(f"job {job.id}: the payload is not a JSON object")
    return payload


def payload_ids(job: Job, *names: str) -> tuple[uuid.UUID, ...]:
    """UUIDs from the job's JSON payload; a malformed payload is a bug upstream (ValueError)."""
    payload = job_payload(job)
    return tuple(uuid.UUID(str(payload[name])) for name in names)


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]


@dataclasses.dataclass
class JobRunner:
    """The worker's entrypoints, and the tasks running them right now."""

    running: dict[asyncio.Task[Any], Job] = dataclasses.field(default_factory=dict)
    # Tasks between a hand-over to a provider and its record: never released.
    critical: set[asyncio.Task[Any]] = dataclasses.field(default_factory=set)
    # Of those, the ones recording an outcome (the hand-over is done).
    recording: set[asyncio.Task[Any]] = dataclasses.field(default_factory=set)
    releasing: bool = False
    # The worker stopped taking jobs (Worker.stop), before the grace period: a job
    # that loops (workflow.run_due) hands the rest of its work back between rounds.
    stopping: bool = False
    released: int = 0
    # Past the last window of a stop: held outcomes go to the journal.
    finalizing: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    metrics: WorkerMetrics | None = None

    def entrypoint(
        self, pgq: PgQueuer, name: str, *, on_failure: OnFailure = "hold"
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            async def run(job: Job) -> None:
                await self._run(name, handler, job)

            pgq.entrypoint(name, on_failure=on_failure)(run)
            return handler

        return register

    async def _run(self, name: str, handler: Handler, job: Job) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.running[task] = job
        started = time.monotonic()
        clock = self.metrics.job_picked(job) if self.metrics is not None else started
        outcome = "completed"
        try:
            await handler(job)
        except RetryRequested:
            outcome = "retried"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            if not self.releasing:
                raise
            outcome = "released"
            self.released += 1
            log.warning(
                "job released at shutdown: %s %s",
                name,
                job.id,
                extra={"event": "job_released", "entrypoint": name, "job_id": job.id},
            )
            raise RetryRequested(timedelta(0), "released by a worker shutting down") from None
        except Exception as exc:
            transient = isinstance(exc, Transient) or is_transient_db_error(exc)
            outcome = "retried" if transient else "failed"
            if not transient:
                log.error(
                    "job failed: %s %s: %s",
                    name,
                    job.id,
                    one_line(exc),
                    exc_info=exc,
                    extra={
                        "event": "job_failed",
                        "entrypoint": name,
                        "job_id": job.id,
                        "seconds": round(time.monotonic() - started, 3),
                    },
                )
                raise
            seconds = exc.seconds if isinstance(exc, Transient) else None
            if seconds is not None:
                delay = seconds
            elif isinstance(exc, Transient):
                delay = retry_delay(job.attempts)
            else:
                delay = database_retry_delay(job.attempts)
            log.info(
                "job retried in %.0f s: %s %s: %s",
                delay,
                name,
                job.id,
                one_line(exc),
                extra={
                    "event": "job_retried",
                    "entrypoint": name,
                    "job_id": job.id,
                    "delay": round(delay, 3),
                },
            )
            raise RetryRequested(timedelta(seconds=delay), one_line(exc)) from exc
        finally:
            self.running.pop(task, None)
            if self.metrics is not None:
                self.metrics.job_done(job, clock, outcome)

    def release_all(self) -> int:
        """Cancel every running job outside a critical section; each goes back to the
        queue. Returns how many."""
        self.releasing = True
        tasks = [task for task in self.running if task not in self.critical]
        for task in tasks:
            task.cancel()
        return len(tasks)

    def cancel_sends(self) -> list[Job]:
        """The very end of a stop: cancel what is still talking to a provider (its
        outcome is then unknown, and the send may be made again after its lease).
        A job recording an outcome is left to journal it. Returns the jobs cancelled."""
        tasks = [t for t in self.critical - self.recording if t in self.running]
        for task in tasks:
            task.cancel()
        return [self.running[t] for t in tasks]


@dataclasses.dataclass
class Durability:
    """How a job keeps what the outside world has already seen (rule 4).

    ``critical()`` marks the stretch from the hand-over to a provider to its
    record: a stopping worker does not release a job inside it. ``settle()``
    records an outcome, waiting out a database outage; when the worker is past
    the last window of its stop, an outcome still unrecorded goes to the
    journal, which the next worker on this machine replays.
    """

    runner: JobRunner | None = None
    journal: OutcomeJournal | None = None

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        task = asyncio.current_task()
        if self.runner is None or task is None:
            yield
            return
        self.runner.critical.add(task)
        try:
            yield
        finally:
            self.runner.critical.discard(task)

    def _journal(self, what: str, journal_entry: dict[str, Any] | None) -> None:
        """Keep an unrecorded outcome past this process: a success goes to the journal;
        a failure is let go (the send is retried, never duplicated)."""
        if journal_entry is None:
            log.warning(
                "not recorded, will be retried: %s (the database is away, the worker stopping)",
                what,
                extra={"event": "outcome_dropped", "what": what},
            )
            return
        if self.journal is None:
            log.error(
                "lost %s: the database is away, the worker is stopping and keeps no journal: %s",
                what,
                json.dumps(journal_entry, default=str),
                extra={"event": "outcome_lost", "what": what},
            )
            return
        try:
            self.journal.append(journal_entry)
        except OSError as exc:
            log.error(
                "lost %s: the journal cannot take it (%s): %s",
                what,
                one_line(exc),
                json.dumps(journal_entry, default=str),
                extra={"event": "outcome_lost", "what": what},
            )
            return
        log.warning(
            "journaled %s: the database is away and the worker is stopping",
            what,
            extra={"event": "outcome_journaled", "what": what},
        )

    def _finalizing(self) -> bool:
        return self.runner is not None and self.runner.finalizing.is_set()

    async def _pause(self, seconds: float) -> None:
        if self.runner is None:
            await asyncio.sleep(seconds)
            return
        await wait_event(self.runner.finalizing, seconds)

    async def settle(
        self,
        call: Callable[[], Awaitable[T]],
        what: str,
        journal_entry: dict[str, Any] | None = None,
    ) -> T | None:
        """``call()`` until it succeeds; only transient database errors are waited out,
        any other is raised at once. ``journal_entry``: how to record a success later
        (None for a failure). Returns None when the outcome was journaled or let go."""
        task = asyncio.current_task()
        if self.runner is not None and task is not None:
            self.runner.recording.add(task)
        try:
            return await self._settle(call, what, journal_entry)
        except asyncio.CancelledError:
            # Cancelled before the record was made (the very end of a stop): keep it.
            self._journal(what, journal_entry)
            raise
        finally:
            if self.runner is not None and task is not None:
                self.runner.recording.discard(task)

    async def _settle(
        self,
        call: Callable[[], Awaitable[T]],
        what: str,
        journal_entry: dict[str, Any] | None,
    ) -> T | None:
        delays = backoff_delays()
        first_failure: float | None = None
        while True:
            try:
                result = await call()
            except Exception as exc:
                if not is_transient_db_error(exc):
                    if first_failure is not None:
                        log.error(
                            "could not record %s: %s",
                            what,
                            one_line(exc),
                            extra={"event": "outcome_lost", "what": what},
                        )
                    raise
                if first_failure is None:
                    first_failure = time.monotonic()
                    log.warning(
                        "holding %s until the database is back: %s",
                        what,
                        one_line(exc),
                        extra={"event": "outcome_held", "what": what},
                    )
                if not self._finalizing():
                    await self._pause(next(delays))
                if self._finalizing():  # the worker's last window is over: no more waiting
                    self._journal(what, journal_entry)
                    return None
                continue
            if first_failure is not None:
                log.warning(
                    "recorded %s after %.1f s",
                    what,
                    time.monotonic() - first_failure,
                    extra={"event": "outcome_recorded", "what": what},
                )
            return result
