"""Webhook ingestion: signed Resend events per second through uvicorn (1 worker),
with the database write, and latency percentiles; against the seed's per-event
flow served by the same process.

The load generator is a minimal asyncio HTTP/1.1 client over keep-alive
connections sending pre-signed requests (each with its own svix-id), so the
client costs little next to the server. Server, client and PostgreSQL share the
machine's 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from svix.webhooks import Webhook

from bench.common import bench_database, machine
from bench.webhook_server import SECRET
from intime.config import as_role
from intime.db import actor
from intime_cli.seed import seed_org
from intime_cli.serving import free_port, wait_for_http

EVENTS = 6000
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


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1]


def run() -> None:
    with bench_database() as (server, dsn):
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
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook_server", service, str(port)],
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: proc.poll() is None)
            results = {}
            for label, path in (("ours", "/webhooks/resend"), ("baseline", "/baseline/resend")):
                warm = [_request(path, f"bench-{i % SENDS + 1}") for i in range(500)]
                _load(port, warm)
                reqs = [_request(path, f"bench-{i % SENDS + 1}") for i in range(EVENTS)]
                results[label] = _load(port, reqs)
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    print(
        f"\n### Webhook ingestion: {EVENTS:,} signed events, {CONCURRENCY} keep-alive connections\n"
    )
    print("| flow | events/s | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|")
    for label in ("ours", "baseline"):
        rate, lat, errors = results[label]
        print(
            f"| {label} | {rate:,.0f} | {_pct(lat, 50):.1f} | {_pct(lat, 99):.1f} | {len(errors)} |"
        )
    print(
        f"\nours / baseline throughput: {results['ours'][0] / results['baseline'][0]:.2f}x. "
        "ours = api.ingest_email_event (dedupe, forward-only status, counters, log) in one "
        "transaction; baseline = the seed's select/update/insert/update round trips without "
        f"dedupe. Machine: {machine(server)}; uvicorn 1 worker (uvloop, httptools), fsync on."
    )


if __name__ == "__main__":
    run()
