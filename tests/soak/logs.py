"""Reading the process logs: one section per incarnation, text or JSON lines.

A process log holds every incarnation of one web or worker, each after a header line
``===== soak: worker-1 incarnation 2 at ...`` (``processes.ManagedProcess.start``). A
worker writes ``text`` lines (``<ts> <LEVEL> <logger>: <message>``) or, with
``--log-format json`` / ``INTIME_LOG_FORMAT=json``, one JSON object per line with
``message``, ``event`` and the event's fields; the readers here accept both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER = re.compile(r"^===== soak: \S+ incarnation (?P<number>\d+) at ")
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UUID_ONLY = re.compile(rf"^{UUID}$")
# The worker's start line as the lead is changing it: ``worker <uuid> started: ...``.
TEXT_START = re.compile(rf"\bworker (?P<id>{UUID}) started\b")
TEXT_LINE = re.compile(r"^\S+ [A-Z]+ [\w.]+: (?P<message>.*)$")
REPLAYED = re.compile(r"recorded (?P<n>\d+) outcome\(s\) a stopped worker had journaled")


@dataclass(frozen=True)
class Line:
    """One log line: its message (the JSON ``message``, or the text after the logger),
    the JSON fields (empty for text) and the raw line."""

    message: str
    fields: dict[str, Any]
    raw: str


def parse(raw: str) -> Line:
    if raw.startswith("{"):
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            return Line(str(obj.get("message", "")), obj, raw)
    m = TEXT_LINE.match(raw)
    return Line(m["message"] if m else raw, {}, raw)


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


def section(path: Path, number: int) -> list[str]:
    """The lines incarnation ``number`` wrote (empty when there is no such header)."""
    out: list[str] = []
    inside = False
    for raw in read_lines(path):
        m = HEADER.match(raw)
        if m:
            inside = int(m["number"]) == number
            continue
        if inside:
            out.append(raw)
    return out


def lines(path: Path) -> Iterator[Line]:
    for raw in read_lines(path):
        if not HEADER.match(raw):
            yield parse(raw)


def worker_id(raw_lines: list[str]) -> tuple[str, str] | None:
    """(the worker's pgqueuer ``queue_manager_id``, where it was read) from its start line:
    ``worker <uuid> started: ...`` (text) or the JSON field ``worker_id``."""
    for raw in raw_lines:
        line = parse(raw)
        value = line.fields.get("worker_id")
        if isinstance(value, str) and UUID_ONLY.match(value.lower()):
            return value.lower(), "the JSON field worker_id"
        m = TEXT_START.search(line.message)
        if m:
            return m["id"].lower(), "the start line 'worker <uuid> started'"
    return None


@dataclass
class OutcomeJournalCounts:
    """What the worker logs say about outcomes a stopping worker could not record (rule 4)."""

    journaled: int = 0  # "journaled ...: the database is away and the worker is stopping"
    replayed: int = 0  # "recorded N outcome(s) a stopped worker had journaled"
    dropped: int = 0  # "not recorded, will be retried: ..." (a failure, let go)
    lost: int = 0  # "lost ...: ..." (no journal, or the journal could not take it)
    abandoned: int = 0  # "job cancelled mid-send at shutdown"

    def add(self, other: OutcomeJournalCounts) -> None:
        self.journaled += other.journaled
        self.replayed += other.replayed
        self.dropped += other.dropped
        self.lost += other.lost
        self.abandoned += other.abandoned


def journal_counts(parsed: Iterator[Line] | list[Line]) -> OutcomeJournalCounts:
    """Counted from the ``event`` field (JSON) or the message (text)."""
    counts = OutcomeJournalCounts()
    for line in parsed:
        event, message = line.fields.get("event"), line.message
        if event == "journal_replayed" or REPLAYED.search(message):
            m = REPLAYED.search(message)
            n = line.fields.get("count")
            counts.replayed += int(n) if isinstance(n, int) else int(m["n"]) if m else 1
        elif event == "outcome_journaled" or message.startswith("journaled "):
            counts.journaled += 1
        elif event == "outcome_dropped" or message.startswith("not recorded, will be retried"):
            counts.dropped += 1
        elif message.startswith("lost "):  # not "could not record": that one is permanent
            counts.lost += 1
        elif event == "send_abandoned" or message.startswith("job cancelled mid-send"):
            counts.abandoned += 1
    return counts


def journal_entries(folder: Path) -> int:
    """Entries still in the workers' outcome journal (``$INTIME_HOME/journal``)."""
    total = 0
    for path in folder.glob("outcomes-*.jsonl"):
        total += sum(1 for line in read_lines(path) if line.strip())
    return total
