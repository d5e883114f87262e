"""Webhook ingestion: signed Resend events per second through uvicorn (1 and 2 workers),
with the database write, and latency percentiles; against the seed's per-event
flow served by the same process.

The load generator is a minimal asyncio HTTP/1.1 client over keep-alive
connections sending pre-signed requests (each with its own svix-id), so the
client costs little next to the server. Server, client and PostgreSQL share the
machine's 2 cores.

Three servers run side by side: one uvicorn worker, two, and one worker with group
commit off (each event in a statement of its own, the design before web/ingest.py);
each round loads ours and the baseline on the first two and ours on the third
(ROUNDS interleaved rounds, medians). Sizes:
INTIME_BENCH_HOOK_EVENTS (quick: 1,500), INTIME_BENCH_HOOK_ROUNDS (quick: 2).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from svix.webhooks import Webhook

from bench.common import Case, Goal, Report, Sizes, bench_database, machine, pct
from bench.webhook_server import SECRET
from intime.config import as_role
from intime.db import actor
from intime_cli.seed import seed_org
from intime_cli.serving import free_port, wait_for_http

SIZES = Sizes("HOOK", EVENTS=(6000, 1500), ROUNDS=(3, 2), WARMUP=(500, 200))
CONCURRENCY = 32
SENDS = 500


def _request(path: str, email_id: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    body = json.dumps(
        {
            "type": "email.opened",
            "created_at": now,
            "data": {"email_id": email_id, "created_at": now, "to": ["x@y.z"], "subject": "s"},
        }
    )
    msg_id = f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC)
    signature = Webhook(SECRET).sign(msg_id, at, body)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body.encode())}\r\nsvix-id: {msg_id}\r\n"
        f"svix-timestamp: {int(at.timestamp())}\r\nsvix-signature: {signature}\r\n\r\n"
    )
    return head.encode() + body.encode()


async def _connection(
    port: int, requests: list[bytes], latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for raw in requests:
            start = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
            if b" 200 " not in status_line:
                errors.append(int(status_line.split()[1]))
    finally:
        writer.close()


def _load(port: int, requests: list[bytes]) -> tuple[float, list[float], list[int]]:
    latencies: list[float] = []
    errors: list[int] = []
    chunks = [requests[i::CONCURRENCY] for i in range(CONCURRENCY)]

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(_connection(port, c, latencies, errors) for c in chunks))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    return len(requests) / elapsed, latencies, errors


GOAL_RATE = Goal.of(ours=(">=", 2500))
OFF = 0  # the server key of 1 worker with group commit off
GOAL_P99 = Goal.of(ours=("<=", 50))


def _server(service: str, admin: str, workers: int, batch: int = 0) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {"INTIME_BENCH_SERVER_ADMIN_DSN": admin}
    if batch:
        env["INTIME_BENCH_SERVER_EVENT_BATCH"] = str(batch)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.webhook_server", service, str(port), str(workers)],
        cwd=Path(__file__).resolve().parents[1],
        env=os.environ | env,
    )
    try:  # a loaded machine takes a while to start two workers
        wait_for_http(
            f"http://127.0.0.1:{port}/healthz", timeout=120, alive=lambda: proc.poll() is None
        )
    except BaseException:
        proc.terminate()
        proc.wait(timeout=15)
        raise
    return proc, port


def run(quick: bool = False) -> Report:
    sz = SIZES.configure(quick=quick)
    report = Report("webhooks", quick)
    with bench_database() as (server, dsn):
        report.machine = machine(server)
        service = as_role(dsn, "intime_service")
        with psycopg.connect(service, autocommit=True) as svc:
            org = seed_org(svc, "Bench", "bench", deals=1)
            with actor(svc, org.org_id):
                svc.execute(
                    "select api.record_email_sent(p_email_send_id => api.queue_email("
                    "p_to => 'r' || g || '@example.com', p_subject => 's', p_text => 't'), "
                    "p_provider => 'resend', p_provider_message_id => 'bench-' || g) "
                    "from generate_series(1, %s) g",
                    (SENDS,),
                )
        # 1 and 2 workers; and 1 worker recording each event in a statement of its own
        # (OFF: group commit off, the design before web/ingest.py).
        servers: dict[int, tuple[subprocess.Popen, int]] = {}
        runs: dict[tuple[int, str], list[tuple[float, list[float], list[int]]]] = {}
        flows = (("ours", "/webhooks/resend"), ("baseline", "/baseline/resend"))
        try:
            for workers in (1, 2, OFF):
                servers[workers] = _server(
                    service, dsn, max(workers, 1), batch=1 if workers == OFF else 0
                )
            for workers, (_, port) in servers.items():
                for _label, path in flows:  # warm-up: every worker's pool and plans
                    _load(
                        port,
                        [
                            _request(path, f"bench-{i % SENDS + 1}")
                            for i in range(sz.WARMUP * max(workers, 1))
                        ],
                    )
            for r in range(sz.ROUNDS):
                order = [(w, f) for w in (1, 2) for f in flows] + [(OFF, flows[0])]
                for workers, (label, path) in order[r % 5 :] + order[: r % 5]:
                    reqs = [_request(path, f"bench-{i % SENDS + 1}") for i in range(sz.EVENTS)]
                    runs.setdefault((workers, label), []).append(_load(servers[workers][1], reqs))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
            for proc, _ in servers.values():
                proc.wait(timeout=15)

    def median_of(workers: int, label: str) -> tuple[float, float, float, int]:
        got = runs[(workers, label)]
        return (
            statistics.median(r[0] for r in got),
            statistics.median(pct(r[1], 50) for r in got),
            statistics.median(pct(r[1], 99) for r in got),
            sum(len(r[2]) for r in got),
        )

    cases = []
    errors = 0
    for workers in (1, 2):
        ours, base = median_of(workers, "ours"), median_of(workers, "baseline")
        errors += ours[3] + base[3]
        name = f"{workers} uvicorn worker{'s' if workers > 1 else ''}"
        cases += [
            Case(
                f"{name}: events/s, ours vs the seed's flow",
                "events/s",
                ours[0],
                base[0],
                GOAL_RATE if workers == 1 else None,
            ),
            Case(f"{name}: p50 latency", "ms", ours[1], base[1], lower_is_better=True),
            Case(
                f"{name}: p99 latency",
                "ms",
                ours[2],
                base[2],
                GOAL_P99 if workers == 1 else None,
                lower_is_better=True,
            ),
        ]
    grouped, alone = median_of(1, "ours"), median_of(OFF, "ours")
    errors += alone[3]
    cases += [
        Case(
            "1 uvicorn worker: group commit vs each event in its own statement",
            "events/s",
            grouped[0],
            alone[0],
        ),
        Case(
            "1 uvicorn worker: p99 latency, group commit vs each event alone",
            "ms",
            grouped[2],
            alone[2],
            lower_is_better=True,
        ),
    ]
    every = {
        f"{w}w {label}" if w != OFF else "1w each event alone": [round(r[0]) for r in v]
        for (w, label), v in runs.items()
    }
    report.table(
        f"Webhook ingestion: {sz.EVENTS:,} signed events a run, {CONCURRENCY} keep-alive "
        f"connections (median of {sz.ROUNDS} interleaved rounds)",
        cases,
        "ours = the events that arrive together recorded in one api.ingest_email_events call "
        "and one commit (web/ingest.py: dedupe, forward-only status, counters, log), each "
        "answered after its commit; each event alone = the same server with group commit off "
        "(create_app(event_batch=1): one api.ingest_email_event statement per event, up to 8 "
        "at once); baseline = the seed's select/update/insert/update round trips without "
        f"dedupe, served by the same process, as the superuser (RLS bypassed, like the seed's "
        f"adminClient). Non-200 responses over every run: {errors}. "
        f"Every run (events/s): {every}. Machine: {report.machine}; uvicorn (uvloop, "
        "httptools), fsync on; the load generator, the servers and PostgreSQL share the cores.",
    )
    return report


if __name__ == "__main__":
    run()
