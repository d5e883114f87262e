"""After the load: the drain, then every invariant of issue 12, each with its evidence.

Everything is read directly from the database as the superuser, and from the peers' and
clients' own counts. A failing row carries details that name the rows, the processes
and, where a traceback says so, the function and line that caused it.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dataclasses
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, LiteralString

import psycopg
from psycopg.rows import dict_row

from tests.soak import logs, nodes
from tests.soak import queries as sq
from tests.soak.clients import SEQ_RANGE_BITS, HttpStats, SseClient
from tests.soak.faults import FaultRecord, InFlight
from tests.soak.journal import Journal
from tests.soak.peers import Delivery, ResendStub, SmtpSink, WebhookReceiver
from tests.soak.processes import HARNESS_APP, ManagedProcess, Postgres

TERMINAL_EMAIL = frozenset(
    {
        "sent",
        "delivery_delayed",
        "delivered",
        "opened",
        "clicked",
        "bounced",
        "complained",
        "failed",
        "suppressed",
    }
)
TERMINAL_EXECUTION = frozenset({"completed", "failed", "cancelled"})
TERMINAL_ACTION = frozenset({"completed", "failed", "skipped"})
LIVE_JOB = ("picked", "queued")
# A held or digest delivery whose time passed is due at the next notification tick.
TICK_GRACE_SECONDS = 120.0
DRAIN_EVIDENCE = 6  # lost rows the drain describes as they appear
# The lost-work row reads again this many times, this far apart, before it calls a row
# lost or stuck (a row that moved on between two reads was neither).
CONFIRM_READS = 3
CONFIRM_SECONDS = 5.0
# The oversized POST must be answered before its body is read: the kernel's socket
# buffers hold a few MB, so an answer within this many bytes sent counts as early.
EARLY_ANSWER_BYTES = 32 << 20
OVERSIZE_RSS_GROWTH_KB = 100 << 10
PG_RESTARTS = ("pg_restart", "pg_down_sigterm")  # faults that stop and start PostgreSQL

# The harness's own view, used when the product has no api.list_unsettled_work() (and
# reported beside it when it has). One row per non-terminal domain row, with the best
# live job for it (picked, else queued, else failed) and when it is due.

EVIDENCE_KEYS = (
    "status",
    "action_type",
    "channel",
    "attempts",
    "retry_count",
    "reconciled",
    "error",
    "error_message",
    "reason",
    "email_send_id",
    "sending_until",
    "scheduled_at",
    "started_at",
    "updated_at",
)

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
UUID_IN_MESSAGE_ID = re.compile(r"<([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@")
REPO_FRAME = re.compile(
    r'File "[^"]*?/(?P<path>(?:worker|web|intime|tests)/[^"]+\.py)", line (?P<line>\d+), '
    r"in (?P<func>\S+)"
)


@dataclasses.dataclass
class Check:
    name: str
    figure: str
    limit: str = ""
    ok: bool | None = None  # None: a figure that is reported, not judged
    details: list[str] = dataclasses.field(default_factory=list)
    show_details: bool = False  # also when ok


@dataclasses.dataclass
class Unsettled:
    kind: str
    org_id: Any
    id: str
    status: str
    job_status: str | None
    waiting_until: datetime | None
    future: bool
    age: float
    related: str | None
    verdict: str = ""  # timer | approval | follows | inflight | lost
    reason: str = ""


async def _connect(db: Postgres) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(
        db.admin_dsn, autocommit=True, application_name=HARNESS_APP, connect_timeout=10
    )


async def _rows(db: Postgres, query: LiteralString, params: Any = None) -> list[dict[str, Any]]:
    async with await _connect(db) as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(query, params)
        return list(await cur.fetchall())


# -- lost work ---------------------------------------------------------------------------


def _job_verdict(row: Unsettled) -> tuple[str, str]:
    if row.job_status == "picked":
        return "inflight", "its job is picked"
    if row.job_status == "queued":
        return ("timer", "retry scheduled") if row.future else ("inflight", "its job is due")
    if row.job_status == "failed":
        return "lost", "its job failed and is held"
    return "lost", "no job"


def _execution_verdict(row: Unsettled) -> tuple[str, str]:
    status = row.status
    if status == "waiting:approval":
        return "approval", "waits for a person"
    if status == "waiting:action" and row.related:
        return "follows", f"waits on its action(s) {row.related}"
    if status in ("waiting:timer", "waiting:retry") and row.future:
        return "timer", "wakes later"
    verdict, reason = _job_verdict(row)
    if verdict == "lost" and status == "waiting:action":
        reason = "its action ended, but nothing resumes it"
    elif verdict == "lost" and status.startswith("waiting:"):
        reason = f"wake time passed and {reason}"
    return verdict, reason


def _action_verdict(row: Unsettled) -> tuple[str, str]:
    if row.kind == "action:webhook":
        return _job_verdict(row)
    if row.kind == "action:send_email":
        if row.related in ("queued", "sending"):
            return "follows", f"its email is {row.related}"
        return "lost", f"its email is {row.related or 'missing'} but the action is {row.status}"
    if row.related in ("pending", "running", "waiting"):
        return "follows", f"its execution is {row.related}"
    return "lost", f"its execution is {row.related}"


def _delivery_verdict(row: Unsettled) -> tuple[str, str]:
    if row.status in ("held", "digest"):
        if row.future:
            return "timer", f"{row.status} until later"
        if row.age < TICK_GRACE_SECONDS:
            return "inflight", "due at the next notification tick"
        return "lost", f"{row.status} and overdue by {row.age:.0f}s"
    if row.related in ("queued", "sending"):
        return "follows", f"its email is {row.related}"
    return "lost", f"its email is {row.related or 'missing'} but the delivery is {row.status}"


def classify(row: Unsettled) -> Unsettled:
    """timer/approval/follows: legitimately not done; inflight/lost: not settled."""
    if row.kind == "email":
        row.verdict, row.reason = _job_verdict(row)
    elif row.kind == "execution":
        row.verdict, row.reason = _execution_verdict(row)
    elif row.kind.startswith("action:"):
        row.verdict, row.reason = _action_verdict(row)
    elif row.kind.startswith("delivery:"):
        row.verdict, row.reason = _delivery_verdict(row)
    elif row.future:  # a kind only api.list_unsettled_work() knows
        row.verdict, row.reason = "timer", "waits until later"
    else:
        row.verdict, row.reason = _job_verdict(row)
    return row


async def unsettled(db: Postgres) -> tuple[str, list[Unsettled]]:
    """(source, classified rows): api.list_unsettled_work() when the product has it."""
    async with await _connect(db) as conn:
        cur = await conn.execute(sq.HAS_UNSETTLED_WORK)
        row = await cur.fetchone()
    has_product = bool(row and row[0])
    if not has_product:
        return await _own_unsettled(db)
    rows = await _rows(db, sq.PRODUCT_UNSETTLED)
    return "api.list_unsettled_work()", [_unsettled(r) for r in rows]


def _tally(rows: Iterable[Unsettled], verdicts: Sequence[str]) -> Counter[str]:
    return Counter(r.kind for r in rows if r.verdict in verdicts)


@dataclasses.dataclass
class DrainResult:
    settled: bool
    seconds: float
    last: Counter[str]


async def drain(db: Postgres, journal: Journal, budget: float) -> DrainResult:
    """Poll every 5 s until, twice in a row, nothing is in flight or lost and no timer is
    due before the budget ends (so short waits and retries are seen through), or until
    the budget is spent. Rows that turn up lost are shown as they appear."""
    t0 = time.monotonic()
    deadline = datetime.now(UTC) + timedelta(seconds=budget)
    quiet = 0
    last: Counter[str] = Counter()
    shown: set[str] = set()
    while True:
        try:
            _, rows = await unsettled(db)
        except psycopg.Error as exc:
            journal.log("drain", f"cannot read the state yet: {exc!r}")
            rows = None
        if rows is not None:
            bad = [r for r in rows if r.verdict in ("inflight", "lost")]
            last = Counter(f"{r.kind} {r.verdict}" for r in bad)
            timers = [r for r in rows if r.verdict in ("timer", "approval")]
            due = [r for r in timers if r.waiting_until is not None and r.waiting_until < deadline]
            journal.log(
                "drain",
                f"{len(bad)} unsettled {dict(last) or ''}; {len(timers)} waiting on a timer or a "
                f"person, {len(due)} of them due within the budget",
            )
            if len(shown) < DRAIN_EVIDENCE:  # the first few, as they turn up
                new_lost = [r for r in bad if r.verdict == "lost" and r.id not in shown][:3]
                for line in await _evidence(db, new_lost):
                    journal.log("drain", "  " + line)
                shown |= {r.id for r in new_lost}
            quiet = quiet + 1 if not bad and not due else 0
            if quiet >= 2:
                return DrainResult(True, time.monotonic() - t0, last)
        if time.monotonic() - t0 > budget:
            return DrainResult(not last, time.monotonic() - t0, last)
        await asyncio.sleep(5.0)


async def _persistently_bad(
    db: Postgres, rows: list[Unsettled]
) -> tuple[list[Unsettled], list[Unsettled]]:
    """(still bad, moved on): the rows lost or in flight at the first read, read again
    up to ``CONFIRM_READS`` times ``CONFIRM_SECONDS`` apart; only a row bad at every read
    counts. Work keeps moving after the drain (a campaign's later steps come due on the
    real clock), and a send caught between its job's pick and its record is in flight
    for a moment; on a Citus cluster the listing reads every node's queue before the
    rows, in separate snapshots, so a send that moved between the two reads shows its
    job one step behind (docs/scale-out.md, "The reconciliation on a cluster"). Lost
    work stays lost: it is bad at every read."""
    bad = [r for r in rows if r.verdict in ("lost", "inflight")]
    moved: list[Unsettled] = []
    for _ in range(CONFIRM_READS):
        if not bad:
            break
        await asyncio.sleep(CONFIRM_SECONDS)
        _, again = await unsettled(db)
        still = {(r.kind, r.id) for r in again if r.verdict in ("lost", "inflight")}
        moved += [r for r in bad if (r.kind, r.id) not in still]
        bad = [r for r in bad if (r.kind, r.id) in still]
    return bad, moved


async def check_lost(db: Postgres) -> list[Check]:
    source, rows = await unsettled(db)
    bad, moved = await _persistently_bad(db, rows)
    lost = [r for r in bad if r.verdict == "lost"]
    stuck = [r for r in bad if r.verdict == "inflight"]
    waiting = [r for r in rows if r.verdict in ("timer", "approval")]
    check = Check(
        "lost work (not terminal, not waiting on a timer)",
        f"{len(lost) + len(stuck)}"
        + (f" ({_fmt_counter(_tally(bad, ('lost', 'inflight')))})" if lost or stuck else ""),
        "0",
        ok=not lost and not stuck,
    )
    check.details.append(f"source: {source}")
    if moved:
        check.details.append(
            f"{len(moved)} more unsettled at the first read moved on by a later one "
            f"({_fmt_counter(Counter(f'{r.kind} {r.status}: {r.reason}' for r in moved))})"
        )
    reasons = Counter(f"{r.kind} {r.status}: {r.reason}" for r in [*lost, *stuck])
    check.details += [f"{n:>5} x {reason}" for reason, n in reasons.most_common(20)]
    check.details += await _evidence(db, [*lost, *stuck][:8])
    if source != "the harness's queries":
        _, own = await _own_unsettled(db)
        own_bad = [r for r in own if r.verdict in ("lost", "inflight")]
        check.details.append(f"the harness's own queries count {len(own_bad)}")
    legit = Check(
        "  waiting legitimately (timer, approval)",
        f"{len(waiting)}"
        + (f" ({_fmt_counter(_tally(rows, ('timer', 'approval')))})" if waiting else ""),
    )
    return [check, legit]


async def _evidence(db: Postgres, rows: Sequence[Unsettled]) -> list[str]:
    """What the database says about a few of the rows: enough to see which step stopped."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    out = []
    executions = {r["id"]: r for r in await _rows(db, sq.EXECUTION_EVIDENCE, {"ids": ids})}
    job_ids = [e["wake_job_id"] for e in executions.values() if e["wake_job_id"] is not None]
    wake_jobs: dict[int, list[str]] = {}
    if job_ids:
        for j in await nodes.rows_on_every_node(db, sq.WAKE_JOBS, {"job_ids": job_ids}):
            text = j["wake_job"] if nodes.single(db) else f"{j['node']}: {j['wake_job']}"
            wake_jobs.setdefault(j["job_id"], []).append(text)
    others = {r["id"]: r["row"] for r in await _rows(db, sq.ROW_EVIDENCE, {"ids": ids})}
    for r in rows:
        head = f"e.g. {r.kind} {r.id} {r.status} job={r.job_status}: {r.reason}"
        if (e := executions.get(r.id)) is not None:
            wake = "; ".join(wake_jobs.get(e["wake_job_id"], []))
            out.append(
                f"{head}; wake_at {e['wake_at']} (overdue {e['overdue_s']}s), wake job "
                f"{e['wake_job_id']} [{wake or 'not in the log'}], retries "
                f"{e['retry_count']}, runs {e['runs']}; last log: {e['last_logs']}"
            )
        elif (row := others.get(r.id)) is not None:
            facts = ", ".join(f"{k}={row[k]}" for k in EVIDENCE_KEYS if row.get(k) is not None)
            out.append(f"{head}; {facts}")
        else:
            out.append(head)
    return out


def _unsettled(r: dict[str, Any]) -> Unsettled:
    return classify(
        Unsettled(
            kind=str(r["kind"]),
            org_id=r["org_id"],
            id=str(r["id"]),
            status=str(r["status"]),
            job_status=r["job_status"],
            waiting_until=r["waiting_until"],
            future=bool(r["future"]),
            age=float(r["age"] or 0.0),
            related=r["related"],
        )
    )


async def _own_unsettled(db: Postgres) -> tuple[str, list[Unsettled]]:
    """The harness's query on every node: each node lists every domain row with the job
    its own queue has for it; a row's job is the best one any node has. The nodes are
    read one after the other, so a row only some of them listed settled (or began)
    between two reads: it is left out rather than shown without its job."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    seen: Counter[tuple[str, str]] = Counter()
    for r in await nodes.rows_on_every_node(db, sq.HARNESS_UNSETTLED):
        key = (str(r["kind"]), str(r["id"]))
        seen[key] += 1
        have = merged.get(key)
        if (
            have is None
            or nodes.best_job_status([have["job_status"], r["job_status"]]) != (have["job_status"])
        ):
            merged[key] = r
    every = len(db.nodes)
    rows = [_unsettled(r) for key, r in merged.items() if seen[key] == every]
    return "the harness's queries", rows


# -- failed jobs -------------------------------------------------------------------------


def frame_of(traceback: str) -> str:
    """The innermost frame in the project's code: ``path:line in function``."""
    frames = list(REPO_FRAME.finditer(traceback or ""))
    if not frames:
        return "no project frame"
    m = frames[-1]
    return f"{m['path']}:{m['line']} in {m['func']}"


def _terminal(entrypoint: str, status: str | None) -> bool:
    if status is None:
        return True  # the domain row is gone: nothing is waiting on it
    return status in {
        "email.send": TERMINAL_EMAIL,
        "workflow.run": TERMINAL_EXECUTION,
        "webhook.deliver": TERMINAL_ACTION,
    }.get(entrypoint, frozenset({status}))


async def _failed_jobs(db: Postgres) -> list[dict[str, Any]]:
    """Every node's failed jobs, each with its domain row's status (read apart: Citus
    plans no join from a node's own table to a distributed one)."""
    rows = await nodes.rows_on_every_node(db, sq.FAILED_JOBS)
    wanted: dict[str, list[str]] = {"email.send": [], "workflow.run": [], "webhook.deliver": []}
    for r in rows:
        if r["entrypoint"] in wanted and UUID.fullmatch(str(r["domain_id"] or "")):
            wanted[r["entrypoint"]].append(r["domain_id"])
    statuses = {
        (s["entrypoint"], s["id"]): s["status"]
        for s in await _rows(
            db,
            sq.DOMAIN_STATUSES,
            {
                "emails": wanted["email.send"],
                "executions": wanted["workflow.run"],
                "actions": wanted["webhook.deliver"],
            },
        )
    }
    for r in rows:
        r["domain_status"] = statuses.get((r["entrypoint"], str(r["domain_id"]).lower()))
        r["id"] = nodes.job_name(r, db)
    return rows


async def check_failed_jobs(db: Postgres) -> list[Check]:
    rows = await _failed_jobs(db)
    bad = [r for r in rows if not _terminal(r["entrypoint"], r["domain_status"])]
    check = Check(
        "failed jobs whose domain row is non-terminal",
        str(len(bad))
        + (f" ({_fmt_counter(Counter(r['entrypoint'] for r in bad))})" if bad else ""),
        "0",
        ok=not bad,
    )
    causes = Counter(
        f"{r['entrypoint']} ({r['domain_status']}): "
        f"{_exc_line(r['traceback'])} @ {frame_of((r['traceback'] or {}).get('traceback', ''))}"
        for r in bad
    )
    check.details += [f"{n:>5} x {cause}" for cause, n in causes.most_common(12)]
    check.details += [
        f"e.g. job {r['id']} {r['entrypoint']} -> {r['domain_id']} {r['domain_status']}"
        for r in bad[:5]
    ]
    log_only = sum(r["count"] for r in await nodes.rows_on_every_node(db, sq.FAILED_LOG_ONLY))
    held = Check(
        "  failed jobs held in total (any domain state)",
        f"{len(rows)}; {log_only} more in the log only",
    )
    return [check, held]


def _exc_line(traceback: dict[str, Any] | None) -> str:
    if not traceback:
        return "?"
    message = str(traceback.get("exception_message", ""))[:100]
    return f"{traceback.get('exception_type', '?')}: {message}"


async def job_error_signatures(db: Postgres) -> list[str]:
    """Why jobs failed or raised, grouped, with the project frame that raised."""
    rows = await nodes.rows_on_every_node(db, sq.JOB_ERRORS)
    causes = Counter(
        f"{r['entrypoint']} {r['status']}: {_exc_line(r['traceback'])} @ "
        f"{frame_of(str(r['traceback'].get('traceback', '')))}"
        for r in rows
    )
    return [f"{n:>5} x {cause}" for cause, n in causes.most_common(15)]


# -- duplicates --------------------------------------------------------------------------


def _norm(key: str) -> str:
    """One spelling for ids: a webhook-id is ``msg_<hex>``, the snapshot has the uuid."""
    return key.removeprefix("msg_").replace("-", "").lower()


def _names(holders: Iterable[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(h, h[:8]) for h in sorted(holders)) or "no worker"


def _attribute(
    keys: set[str], faults: Sequence[FaultRecord], names: dict[str, str]
) -> tuple[bool, str]:
    """Was one of ``keys`` (send ids, Message-IDs, action ids) held by a worker when it
    was SIGKILLed? Only a job the killed worker held (its queue_manager_id on the picked
    ``email.send`` / ``webhook.deliver`` job) excuses a duplicate; when the killed
    worker's id is unknown, anything in flight database-wide at the kill does, as the
    evidence then says. Anything else in flight at a fault is named, not excused."""
    wanted = {_norm(k) for k in keys}

    def hits(rows: Iterable[InFlight]) -> list[InFlight]:
        return [r for r in rows if wanted & {_norm(k) for k in r.ids()}]

    others = []
    for record in faults:
        snap = record.snapshot
        if snap is None or snap.error:
            continue
        if record.kind == "worker_kill":
            if snap.worker_id is not None:
                if hits(snap.held()):
                    return True, (
                        f"held by {names.get(snap.worker_id, record.target)} (queue_manager_id "
                        f"{snap.worker_id[:8]}) when it was killed: {record.label}, "
                        f"t={record.t:.1f}s"
                    )
            elif hits(snap.in_flight()):
                return True, (
                    f"in flight database-wide at {record.label}, t={record.t:.1f}s; NOT "
                    f"matched to the killed worker's jobs: {snap.worker_id_note}"
                )
        found = hits(snap.rows)
        if found:
            holders = {h for r in found for h in r.holders}
            others.append(
                f"{record.label} t={record.t:.1f}s ({found[0].status}, job held by "
                f"{_names(holders, names)})"
            )
    if others:
        return False, "in flight at " + "; ".join(others) + ": not a job of a killed worker"
    return False, "not in flight at any fault"


async def check_duplicates(
    db: Postgres,
    sink: SmtpSink,
    stub: ResendStub,
    receiver: WebhookReceiver,
    faults: Sequence[FaultRecord],
    names: dict[str, str],
) -> list[Check]:
    smtp = {mid: n for mid, n in sink.counts.items() if n > 1}
    resend = {key: n for key, n in stub.counts.items() if n > 1}
    hooks = {mid: n for mid, n in receiver.acked.items() if n > 1}
    ids = [key for key in resend if len(key) == 36]
    ids += [m[1] for mid in smtp if (m := UUID_IN_MESSAGE_ID.search(mid))]
    emails = {}
    if ids or smtp:
        for r in await _rows(db, sq.EMAILS_BY_ID, {"ids": ids, "mids": list(smtp)}):
            emails[r["id"]] = r
            emails[r["message_id"]] = r
    kills = [r for r in faults if r.kind == "worker_kill" and r.snapshot is not None]
    unmatched = [r for r in kills if r.snapshot is not None and r.snapshot.worker_id is None]
    checks = []
    for label, dups, to_keys in (
        ("SMTP sink, per Message-ID", smtp, _smtp_keys),
        ("Resend stub, POSTs per Idempotency-Key", resend, lambda k: {k}),
        ("webhook receiver, 2xx per webhook-id", hooks, lambda k: {k}),
    ):
        excused, unexcused = [], []
        for key, n in sorted(dups.items()):
            ok, why = _attribute(to_keys(key), faults, names)
            row = emails.get(key) or next((emails[k] for k in to_keys(key) if k in emails), None)
            state = f" [{row['status']}, attempts {row['attempts']}]" if row else ""
            (excused if ok else unexcused).append(f"{key} x{n}{state}: {why}")
        check = Check(
            f"duplicates: {label}",
            f"{len(unexcused)} unexplained, {len(excused)} from a SIGKILL",
            "0 unexplained",
            ok=not unexcused,
        )
        check.details += [f"UNEXPLAINED {line}" for line in unexcused[:15]]
        check.details += [f"from SIGKILL {line}" for line in excused[:15]]
        if excused and unmatched:
            check.details.append(
                "the killed worker's id was not in its log at "
                + ", ".join(r.label for r in unmatched)
                + ": duplicates there are attributed by the database-wide snapshot (any "
                "worker's send in flight), which excuses more than the kill explains"
            )
        check.show_details = bool(excused)
        checks.append(check)
    by_id = [r for r in kills if r.snapshot is not None and r.snapshot.worker_id is not None]
    checks.append(
        Check(
            "  SIGKILLed worker's jobs matched by",
            f"its id from its log {len(by_id)}, database-wide fallback {len(unmatched)}",
            details=[
                f"{r.label}: {r.snapshot.worker_id_note}" for r in kills if r.snapshot is not None
            ],
            show_details=bool(unmatched),
        )
    )
    return checks


def _smtp_keys(message_id: str) -> set[str]:
    m = UUID_IN_MESSAGE_ID.search(message_id)
    return {message_id, m[1]} if m else {message_id}


# -- HTTP --------------------------------------------------------------------------------


def check_http(stats: HttpStats) -> list[Check]:
    bad = stats.count(lambda s: s >= 500 and s != 503)
    per_endpoint = Counter()
    for (web, endpoint, status), n in stats.statuses.items():
        if status >= 500 and status != 503:
            per_endpoint[f"{endpoint} {status} on {web}"] += n
    check = Check(
        "HTTP 5xx other than 503",
        f"{bad}" + (f" ({_fmt_counter(per_endpoint)})" if bad else ""),
        "0",
        ok=bad == 0,
    )
    check.details += stats.bad[:12]
    statuses = stats.by_status()
    total = sum(statuses.values())
    errors = sum(stats.errors.values())
    info = Check(
        "  HTTP answers by status",
        f"{total}: "
        + ", ".join(f"{s} x{n}" for s, n in sorted(statuses.items()))
        + (f"; {errors} transport errors" if errors else ""),
    )
    info.details += [f"{n:>5} x {w} {e} {kind}" for (w, e, kind), n in stats.errors.most_common(8)]
    health = Check(
        "  slowest /healthz per web",
        ", ".join(f"{w} {s:.2f}s" for w, s in sorted(stats.healthz_max.items())) or "-",
    )
    return [check, info, health]


# -- SSE ---------------------------------------------------------------------------------


def _position(raw: str) -> tuple[dict[int, int], set[int]]:
    """A stream position ("W" or "W.s1.s2" per seq range, the ranges joined by "_"): each
    range's watermark, and the seqs above one that were delivered too."""
    marks: dict[int, int] = {}
    above: set[int] = set()
    for part in raw.split("_"):
        watermark, *listed = (int(p) for p in part.split("."))
        marks[watermark >> SEQ_RANGE_BITS] = watermark
        above |= set(listed)
    return marks, above


def _covered(seq: int, marks: dict[int, int], above: set[int]) -> bool:
    """Whether a position says ``seq`` was delivered (or is not to be): a range it does not
    name is replayed from its start."""
    r = seq >> SEQ_RANGE_BITS
    return seq <= marks.get(r, r << SEQ_RANGE_BITS) or seq in above


async def sse_catch_up(db: Postgres, clients: Sequence[SseClient], timeout: float) -> None:
    """Wait (bounded) until each stream got, in each seq range, the user's newest
    notification that its first position did not cover."""
    deadline = time.monotonic() + timeout
    heads: dict[str, dict[int, int]] = {}
    async with await _connect(db) as conn:
        for c in clients:
            cur = await conn.execute(sq.STREAM_HEADS, {"user_id": c.user_id})
            marks, above = _position(c.first_position) if c.first_position else ({}, set())
            heads[c.name] = {
                int(r): int(head)
                for r, head in await cur.fetchall()
                if not _covered(int(head), marks, above)
            }
    while time.monotonic() < deadline:
        if all(
            c.live and all(c.max_seq.get(r, 0) >= head for r, head in heads[c.name].items())
            for c in clients
        ):
            return
        await asyncio.sleep(0.5)


@dataclasses.dataclass
class SseTally:
    streams: int = 0
    expected: int = 0
    missing: int = 0
    duplicated: int = 0
    details: list[str] = dataclasses.field(default_factory=list)


async def sse_tally(db: Postgres, clients: Sequence[SseClient]) -> SseTally:
    tally = SseTally(streams=len(clients))
    async with await _connect(db) as conn:
        for c in clients:
            if c.first_position is None:
                tally.details.append(f"{c.name}: never connected")
                tally.missing += 1
                continue
            marks, above = _position(c.first_position)
            cur = await conn.execute(sq.STREAMED, {"user_id": c.user_id})
            expected = {
                (str(i), int(s)) for i, s in await cur.fetchall() if not _covered(s, marks, above)
            }
            missing = expected - set(c.received)
            dups = {k: n for k, n in c.received.items() if n > 1}
            tally.expected += len(expected)
            tally.missing += len(missing)
            tally.duplicated += sum(n - 1 for n in dups.values())
            if missing or dups:
                tally.details.append(
                    f"{c.name}: expected {len(expected)}, missing {len(missing)}, "
                    f"duplicated {len(dups)} (connects {c.connects}, resets {c.resets})"
                    + (f"; missing seqs {sorted(s for _, s in missing)[:10]}" if missing else "")
                    + (f"; duplicated seqs {sorted(s for _, s in dups)[:10]}" if dups else "")
                )
    return tally


def check_sse(tally: SseTally, clients: Sequence[SseClient]) -> list[Check]:
    check = Check(
        "SSE: each notification to a streaming user exactly once",
        f"{tally.expected} expected over {tally.streams} streams: {tally.missing} missing, "
        f"{tally.duplicated} duplicated",
        "0 missing, 0 duplicated",
        ok=tally.missing == 0 and tally.duplicated == 0,
        details=tally.details,
    )
    resumes = sum(max(0, c.connects - 1) for c in clients)
    info = Check(
        "  SSE resumes with Last-Event-ID",
        f"{resumes} over {len(clients)} streams (the client hung up "
        f"{sum(c.hangups for c in clients)} times, the server ended or dropped "
        f"{sum(c.drops for c in clients)})",
    )
    return [check, info]


# -- processes ---------------------------------------------------------------------------


CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def log_error_signatures(path: Path) -> Counter[str]:
    """Tracebacks in a process log: the exception line and the innermost project frame."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return Counter()
    out: Counter[str] = Counter()
    i = 0
    while i < len(lines):
        if "Traceback (most recent call last):" in lines[i]:
            frame = "no project frame"
            j = i + 1
            while j < len(lines) and (lines[j][:1] in (" ", "|", "\t", "+") or not lines[j]):
                if m := REPO_FRAME.search(lines[j]):
                    frame = f"{m['path']}:{m['line']} in {m['func']}"
                j += 1
            exception = lines[j].strip() if j < len(lines) else "?"
            following = next((t for t in lines[j + 1 : j + 4] if t.strip()), "")
            if not following.startswith(CHAINED):  # a cause is counted with its effect
                out[f"{exception[:120]} @ {frame}"] += 1
            i = j
        i += 1
    return out


SWEEP_LINE = re.compile(r"(workflow sweep|reconciled work left in flight): (\{.*\})")


def check_rescues(processes: Sequence[ManagedProcess]) -> Check:
    """What the worker's minute sweeps had to pick up (from their log lines, text or JSON):
    work that no job would have moved on. Context, not an invariant: a wake the sweeper
    makes is up to a minute late."""
    totals: Counter[str] = Counter()
    for p in processes:
        for line in logs.lines(p.log_path):
            m = SWEEP_LINE.search(line.message)
            if not m:
                continue
            with contextlib.suppress(ValueError, SyntaxError):
                counts = ast.literal_eval(m[2])
                for key, value in counts.items():
                    if isinstance(value, int) and value:
                        totals[f"{m[1].split()[0]} {key}"] += value
    return Check("  picked up by the minute sweeps", _fmt_counter(totals) or "nothing")


def check_processes(processes: Sequence[ManagedProcess]) -> list[Check]:
    unexpected = [(p, inc) for p in processes for inc in p.unexpected_exits]
    check = Check(
        "processes that exited unexpectedly",
        str(len(unexpected))
        + (f" ({_fmt_counter(Counter(p.name for p, _ in unexpected))})" if unexpected else ""),
        "0",
        ok=not unexpected,
    )
    for p, inc in unexpected[:10]:
        check.details.append(
            f"{p.name} pid {inc.pid} (#{inc.number}) exit {inc.returncode} at t={inc.ended:.1f}s"
        )
    logs = Check("  tracebacks in the process logs", "0")
    total = 0
    for p in processes:
        sigs = log_error_signatures(p.log_path)
        total += sum(sigs.values())
        logs.details += [f"{p.name}: {n:>4} x {sig}" for sig, n in sigs.most_common(8)]
    logs.figure = str(total)
    rss = Check(
        "  RSS start -> end (max), per process group", "; ".join(_rss(p) for p in processes)
    )
    return [check, logs, rss]


def _rss(p: ManagedProcess) -> str:
    inc = p.current
    if inc is None:
        return f"{p.name} -"
    start = inc.rss_ready_kb
    end = inc.rss_last_kb
    growth = f"{(end - start) / 1024:+.0f}" if start and end else "?"
    extra = f", #{inc.number}" if inc.number > 1 else ""
    return f"{p.name} {_mb(start)}->{_mb(end)} MB ({growth}; max {_mb(inc.rss_max_kb)}{extra})"


def _mb(kb: int | None) -> str:
    return "?" if not kb else f"{kb / 1024:.0f}"


# -- recovery, faults, peers -------------------------------------------------------------


def check_recovery(faults: Sequence[FaultRecord], deliveries: Sequence[Delivery]) -> list[Check]:
    restarts = [r for r in faults if r.kind in PG_RESTARTS and r.t_up is not None]
    times = sorted(d.at for d in deliveries)
    figures, failed = [], []
    for r in restarts:
        assert r.t_up is not None
        nxt = next((t for t in times if t > r.t_up), None)
        if nxt is None or nxt - r.t_up > 120.0:
            failed.append(r.label)
            figures.append(f"{r.label}: " + ("none" if nxt is None else f"{nxt - r.t_up:.1f}s"))
        else:
            figures.append(f"{r.label}: {nxt - r.t_up:.1f}s")
    return [
        Check(
            "recovery after each PostgreSQL restart (next email sent)",
            ", ".join(figures) or "no restart",
            "each <= 120s",
            ok=not failed if restarts else None,
            details=[f"no email within 120 s after {label}" for label in failed],
        )
    ]


def check_pg_down_sigterm(faults: Sequence[FaultRecord]) -> Check:
    """Rule 5: a worker SIGTERMed while PostgreSQL is down exits 0 within grace + 30 s."""
    stops = [r for r in faults if r.kind == "pg_down_sigterm" and r.exit_limit is not None]
    bad = [
        r
        for r in stops
        if r.exit_code != 0 or r.exit_seconds is None or r.exit_seconds > (r.exit_limit or 0)
    ]
    limit = max((r.exit_limit or 0 for r in stops), default=0.0)
    return Check(
        "SIGTERM with PostgreSQL down: the worker exits 0 in time",
        ", ".join(
            f"{r.target} "
            + ("killed" if r.exit_code is None else f"exit {r.exit_code}")
            + f" in {r.exit_seconds or 0:.1f}s"
            for r in stops
        )
        or "not done",
        f"0, <= {limit:.0f}s" if stops else "0, grace+30s",
        ok=not bad if stops else None,
        details=[f"{r.label} t={r.t:.1f}s: {r.detail}" for r in bad],
    )


def check_outcome_journal(processes: Sequence[ManagedProcess], home: Path) -> Check:
    """Rule 4's last resort, from the worker logs: outcomes a stopping worker could not
    record (the database away) and journaled under $INTIME_HOME/journal/, and those a
    worker started later recorded from there. Context: a journaled outcome that is never
    replayed shows up as lost work or a duplicate."""
    counts = logs.OutcomeJournalCounts()
    for p in processes:
        counts.add(logs.journal_counts(logs.lines(p.log_path)))
    left = logs.journal_entries(home / "journal")
    return Check(
        "  outcomes journaled at a stop / replayed at a start",
        f"journaled {counts.journaled}, replayed {counts.replayed}; failures let go (retried) "
        f"{counts.dropped}, lost {counts.lost}, cancelled mid-send {counts.abandoned}; "
        f"{left} entries left in INTIME_HOME/journal",
    )


# Minimum evidence that the load happened, per minute of load: a run where nothing was
# sent proves nothing, and every invariant above would hold. A healthy 2-minute run on a
# 2-core machine, every fault included (PostgreSQL is down about 30 s of it), gave per
# minute 23 emails through SMTP, 26 through Resend, 30 webhooks, 30 completed workflow
# executions, 82 SSE notifications and 45 webhook POSTs answered 2xx: these floors are a
# sixth of that or less, so that a slow or busy CI machine does not fail on them.
WORKLOAD_PER_MINUTE = (
    ("emails accepted by the SMTP sink (distinct Message-IDs)", "smtp", 4.0),
    ("emails accepted by the Resend stub (distinct Idempotency-Keys)", "resend", 4.0),
    ("webhooks delivered (distinct webhook-ids answered 2xx)", "webhooks", 4.0),
    ("workflow executions completed", "executions", 4.0),
    ("SSE notifications expected by the streams", "sse", 8.0),
    ("Resend events and inbound mail POSTed and answered 2xx", "http", 8.0),
)


async def check_workload(
    db: Postgres,
    minutes: float,
    sink: SmtpSink,
    stub: ResendStub,
    receiver: WebhookReceiver,
    stats: HttpStats,
    sse: SseTally,
) -> Check:
    executions = await _rows(db, sq.EXECUTION_TOTALS)
    figures = {
        "smtp": len(sink.counts),
        "resend": len(stub.ids),
        "webhooks": len(receiver.acked),
        "executions": sum(int(r["count"]) for r in executions if r["status"] == "completed"),
        "sse": sse.expected,
        "http": sum(
            n
            for (_, endpoint, status), n in stats.statuses.items()
            if 200 <= status < 300 and endpoint in ("/webhooks/resend", "/webhooks/inbound")
        ),
    }
    parts, short = [], []
    for label, key, per_minute in WORKLOAD_PER_MINUTE:
        need = math.ceil(per_minute * minutes)
        parts.append(f"{key} {figures[key]}/{need}")
        if figures[key] < need:
            short.append(
                f"only {figures[key]} {label} in {minutes:g} min of load, at least {need} "
                f"expected ({per_minute:g} per minute)"
            )
    if short:
        short.append(
            "the workload did not happen as it should, so the invariants above prove little: "
            "see the journal (faults, exits) and the process logs"
        )
    return Check(
        "workload happened (figure/minimum)",
        ", ".join(parts),
        ">= minimum each",
        ok=not short,
        details=short,
    )


def check_shutdown(
    processes: Sequence[ManagedProcess], results: dict[str, tuple[int | None, float | None]]
) -> Check:
    """Rule 5 at the end of the run: SIGTERM to every web and worker at once; each must
    exit 0 within its limit (a web 15 s, a worker its grace + 30 s)."""
    parts, bad = [], []
    for p in processes:
        code, secs = results.get(p.name, (None, None))
        if secs is None:
            parts.append(f"{p.name} not running")
            bad.append(f"{p.name} was not running at the end (see the exits above)")
            continue
        parts.append(f"{p.name} " + ("killed" if code is None else f"{code}") + f" {secs:.1f}s")
        if code is None:
            bad.append(f"{p.name} had not exited {p.stop_limit:.0f}s after SIGTERM: SIGKILLed")
        elif code != 0:
            bad.append(f"{p.name} exited {code} after {secs:.1f}s: see {p.log_path.name}")
        elif secs > p.stop_limit:
            bad.append(f"{p.name} took {secs:.1f}s, over its {p.stop_limit:.0f}s")
    limits = sorted({(p.name.split("-")[0], p.stop_limit) for p in processes})
    return Check(
        "SIGTERM at the end: every process exits 0 in time",
        "; ".join(parts),
        "0, " + ", ".join(f"{kind} <= {limit:.0f}s" for kind, limit in limits),
        ok=not bad,
        details=bad,
    )


def check_faults(faults: Sequence[FaultRecord], kinds: Sequence[str], required: int) -> Check:
    counts = Counter(r.kind for r in faults if r.done)
    short = [k for k in kinds if counts[k] < required]
    return Check(
        "faults injected (each kind)",
        ", ".join(f"{k} {counts[k]}" for k in kinds),
        f">= {required} each",
        ok=not short,
        details=[f"{r.label} t={r.t:.1f}s: {r.detail}" for r in faults],
        show_details=True,
    )


def check_oversized(faults: Sequence[FaultRecord]) -> Check:
    """Issue 12, rule 6: a body is refused before it is read (auth first, Content-Length)."""
    posts = [r for r in faults if r.kind == "oversized_post" and r.done]
    late = [
        r
        for r in posts
        if r.answered_after is None
        or r.answered_after > EARLY_ANSWER_BYTES
        or (r.rss_growth_kb or 0) > OVERSIZE_RSS_GROWTH_KB
    ]
    return Check(
        "oversized unauthenticated POST refused before reading",
        ", ".join(
            f"{r.target}: answered after {_short_mb(r.answered_after)}, web "
            f"+{(r.rss_growth_kb or 0) >> 10} MB"
            for r in posts
        )
        or "not sent",
        f"<= {EARLY_ANSWER_BYTES >> 20} MB, < +{OVERSIZE_RSS_GROWTH_KB >> 10} MB",
        ok=not late if posts else None,
        details=[f"{r.label}: {r.detail}" for r in late],
    )


def _short_mb(n: int | None) -> str:
    return "no answer" if n is None else f"{n >> 20} MB"


def check_signatures(receiver: WebhookReceiver) -> Check:
    return Check(
        "webhook signatures that did not verify",
        str(len(receiver.invalid)),
        "0",
        ok=not receiver.invalid,
        details=receiver.invalid[:10],
    )


def check_embedded(home: Path, passed_database_url: bool) -> Check:
    stray = [str(p.parent) for p in home.glob("pg*/data/PG_VERSION")]
    how = "INTIME_SERVICE_URL + DATABASE_URL" if passed_database_url else "INTIME_SERVICE_URL only"
    return Check(
        "web/worker started an embedded PostgreSQL",
        f"{len(stray)} (given {how})",
        "0",
        ok=not stray,
        details=[f"data folder {p}" for p in stray],
    )


async def totals(db: Postgres) -> list[Check]:
    emails = await _rows(db, sq.EMAIL_TOTALS)
    by_org: dict[str, list[str]] = {}
    for r in emails:
        by_org.setdefault(r["slug"], []).append(f"{r['status']} {r['count']}")
    executions = await _rows(db, sq.EXECUTION_TOTALS)
    jobs: Counter[tuple[str, str]] = Counter()
    for r in await nodes.rows_on_every_node(db, sq.JOB_STATUS_COUNTS):
        jobs[(r["entrypoint"], r["status"])] += r["count"]
    job_summary: dict[str, list[str]] = {}
    for (entrypoint, status), count in sorted(jobs.items()):
        if status in ("successful", "exception", "failed"):
            job_summary.setdefault(entrypoint, []).append(f"{status} {count}")
    return [
        Check(f"  emails of {slug}", ", ".join(parts)) for slug, parts in sorted(by_org.items())
    ] + [
        Check(
            "  workflow executions", ", ".join(f"{r['status']} {r['count']}" for r in executions)
        ),
        Check(
            "  jobs by outcome (queue log)",
            "; ".join(f"{e}: {', '.join(v)}" for e, v in sorted(job_summary.items())),
        ),
    ]


def _fmt_counter(counter: Counter[str]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counter.most_common())
