"""Notifications: commit-to-SSE latency and write throughput with the stream live.

A real web process (uvicorn, 1 worker, in a subprocess) runs the stream hub;
the SSE clients are minimal asyncio HTTP/1.0 readers in this process, so a
client costs a socket and a few bytes of parsing. Latency is measured from the
moment COMMIT is sent (so it includes the WAL flush) to the event's arrival at
the client, both on this process's clock. The floor beside it is a bare
psycopg connection LISTENing on the same channel: what any NOTIFY-driven
design pays before doing anything.

Throughput is api.send_notification calls per second from concurrent writers,
each call its own transaction (pipelined: BEGIN, set_actor, send, COMMIT):
with the stream live (announce trigger on, hub reading, clients connected),
with it off (announce triggers disabled, no web process), and the naive
design (a row-level trigger NOTIFYing the row as JSON, one listener).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

from bench.common import bench_database, machine
from intime.config import as_role
from intime.db import actor
from intime.seed import seed_org
from intime.serving import free_port, wait_for_http

USERS = 1000
SINGLE_SAMPLES = 300
FLEET_RATE = 500  # notifications per second across the 1,000 clients
FLEET_SECONDS = 20
WRITERS = 16
THROUGHPUT_SENDS = 8000

SEND = (
    "select api.send_notification(p_user_id => %(user_id)s, p_category => 'deal', "
    "p_title => 'Deal won', p_message => %(message)s, p_channels => array['in_app'])"
)
SET_ACTOR = "select api.set_actor(p_org_id => %(org_id)s, p_user_id => %(actor)s)"
NAIVE = """
create or replace function app._bench_naive_notify() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    perform pg_notify('naive_notifications', row_to_json(new)::text);
    return null;
end $$;
create trigger bench_naive after insert on app.notifications
for each row execute function app._bench_naive_notify();
"""
ANNOUNCE_TRIGGERS = ("notifications_announce_insert", "notifications_announce_update")


def _pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=1000)[int(p * 10) - 1]


class Fleet:
    """SSE clients; ``waiters`` maps a notification id to a future or a start time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent_at: dict[str, float] = {}
        self.latencies: list[float] = []
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.ready = 0

    async def client(self, token: str, ready: asyncio.Event, total: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(
            f"GET /notifications/stream HTTP/1.0\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"stream refused: {status!r}")
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        event = ""
        try:
            while line := await reader.readline():
                text = line.decode().rstrip("\r\n")
                if text.startswith("event:"):
                    event = text[6:].strip()
                elif text.startswith("data:") and event == "notification":
                    now = time.perf_counter()
                    nid = json.loads(text[5:])["id"]
                    start = self.sent_at.pop(nid, None)
                    if start is not None:
                        self.latencies.append((now - start) * 1000)
                    waiter = self.waiters.pop(nid, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(now)
                elif text.startswith("data:") and event == "unread_count":
                    self.ready += 1
                    if self.ready == total:
                        ready.set()
        finally:
            writer.close()

    async def connect(self, tokens: list[str]) -> None:
        ready = asyncio.Event()
        self.tasks = [asyncio.create_task(self.client(t, ready, len(tokens))) for t in tokens]
        await asyncio.wait_for(ready.wait(), timeout=120)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _send(
    conn: psycopg.AsyncConnection, org_id: uuid.UUID, user_id: uuid.UUID, message: str
) -> tuple[str, float]:
    """One notification in its own transaction; returns its id and when COMMIT was sent."""
    await conn.execute("begin")
    await conn.execute(SET_ACTOR, {"org_id": org_id, "actor": None})
    cur = await conn.execute(SEND, {"user_id": user_id, "message": message})
    row = await cur.fetchone()
    assert row is not None
    started = time.perf_counter()
    await conn.execute("commit")
    return str(row[0]), started


async def _single_client(service: str, port: int, org_id, user, token) -> tuple[list, list]:
    fleet = Fleet(port)
    await fleet.connect([token])
    ours: list[float] = []
    floor: list[float] = []
    async with (
        await psycopg.AsyncConnection.connect(service, autocommit=True) as conn,
        await psycopg.AsyncConnection.connect(service, autocommit=True) as listener,
    ):
        await listener.execute("listen app_notifications")
        notifies = listener.notifies()
        for i in range(SINGLE_SAMPLES + 20):
            # The floor: the bare NOTIFY reaching a LISTEN connection.
            _, started = await _send(conn, org_id, user, f"floor {i}")
            await asyncio.wait_for(anext(notifies), 10)
            floor_ms = (time.perf_counter() - started) * 1000
            await asyncio.sleep(0.01)  # let that write's own SSE event pass
            # Ours: the same write, to the SSE client through the hub.
            arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            await conn.execute("begin")
            await conn.execute(SET_ACTOR, {"org_id": org_id, "actor": None})
            cur = await conn.execute(SEND, {"user_id": user, "message": f"sse {i}"})
            row = await cur.fetchone()
            assert row is not None
            fleet.waiters[str(row[0])] = arrived
            started = time.perf_counter()
            await conn.execute("commit")
            await asyncio.wait_for(anext(notifies), 10)
            ours_ms = (await asyncio.wait_for(arrived, 10) - started) * 1000
            if i >= 20:  # warm-up
                floor.append(floor_ms)
                ours.append(ours_ms)
    await fleet.close()
    return ours, floor


async def _fleet(service: str, port: int, org_id, users, tokens) -> tuple[list[float], float]:
    fleet = Fleet(port)
    await fleet.connect(tokens)
    total = FLEET_RATE * FLEET_SECONDS
    per_writer = 10
    interval = per_writer / FLEET_RATE

    async def writer(k: int) -> None:
        async with await psycopg.AsyncConnection.connect(service, autocommit=True) as conn:
            next_at = time.perf_counter()
            for i in range(k, total, per_writer):
                nid, started = await _send(conn, org_id, users[i % len(users)], f"fleet {i}")
                fleet.sent_at[nid] = started
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    start = time.perf_counter()
    await asyncio.gather(*(writer(k) for k in range(per_writer)))
    elapsed = time.perf_counter() - start
    deadline = time.perf_counter() + 10
    while len(fleet.latencies) < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await fleet.close()
    return fleet.latencies, total / elapsed


async def _throughput(service: str, org_id, users, on_listen: Callable | None = None) -> float:
    per = THROUGHPUT_SENDS // WRITERS

    async def writer(k: int) -> None:
        async with await psycopg.AsyncConnection.connect(service, autocommit=True) as conn:
            for i in range(per):
                async with conn.pipeline():
                    await conn.execute("begin")
                    await conn.execute(SET_ACTOR, {"org_id": org_id, "actor": None})
                    await conn.execute(
                        SEND, {"user_id": users[(k * per + i) % len(users)], "message": "t"}
                    )
                    await conn.execute("commit")

    start = time.perf_counter()
    await asyncio.gather(*(writer(k) for k in range(WRITERS)))
    return THROUGHPUT_SENDS / (time.perf_counter() - start)


async def _naive_throughput(service: str, org_id, users) -> tuple[float, int]:
    received = 0

    async def listen(stop: asyncio.Event) -> None:
        nonlocal received
        async with await psycopg.AsyncConnection.connect(service, autocommit=True) as conn:
            await conn.execute("listen naive_notifications")
            gen = conn.notifies(timeout=0.5)
            while not stop.is_set():
                async for n in gen:
                    json.loads(n.payload)
                    received += 1
                gen = conn.notifies(timeout=0.5)

    stop = asyncio.Event()
    task = asyncio.create_task(listen(stop))
    await asyncio.sleep(0.2)
    rate = await _throughput(service, org_id, users)
    await asyncio.sleep(1)
    stop.set()
    await task
    return rate, received


def _with_fleet(service: str, port: int, tokens: list[str], body: Callable) -> float:
    async def run() -> float:
        fleet = Fleet(port)
        await fleet.connect(tokens)
        try:
            return await body()
        finally:
            await fleet.close()

    return asyncio.run(run())


def run() -> None:
    with bench_database() as (server, dsn):
        service = as_role(dsn, "intime_service")
        with psycopg.connect(service, autocommit=True) as svc:
            org = seed_org(svc, "Bench", "bench", deals=1)
            with actor(svc, org.org_id):
                rows = svc.execute(
                    "select u.id, t.token from generate_series(1, %s) g "
                    "cross join lateral api.create_user(p_email => 'u' || g || '@bench.example', "
                    "p_full_name => 'User ' || g) as u(id) "
                    "cross join lateral "
                    "api.create_api_token(p_name => 'bench', p_user_id => u.id) as t",
                    (USERS,),
                ).fetchall()
        users = [r[0] for r in rows]
        tokens = [r[1] for r in rows]

        with psycopg.connect(dsn, autocommit=True) as admin:
            for trigger in ANNOUNCE_TRIGGERS:
                admin.execute(f"alter table app.notifications disable trigger {trigger}")
            asyncio.run(_throughput(service, org.org_id, users))  # warm-up
            off = statistics.median(
                asyncio.run(_throughput(service, org.org_id, users)) for _ in range(3)
            )
            admin.execute(NAIVE)
            naive = [asyncio.run(_naive_throughput(service, org.org_id, users)) for _ in range(3)]
            admin.execute("drop trigger bench_naive on app.notifications")
            for trigger in ANNOUNCE_TRIGGERS:
                admin.execute(f"alter table app.notifications enable trigger {trigger}")

        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook_server", service, str(port)],
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: proc.poll() is None)
            single, floor = asyncio.run(
                _single_client(service, port, org.org_id, users[0], tokens[0])
            )
            fleet, fleet_rate = asyncio.run(_fleet(service, port, org.org_id, users, tokens))
            live = statistics.median(
                _with_fleet(service, port, tokens, lambda: _throughput(service, org.org_id, users))
                for _ in range(3)
            )
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    naive_rate = statistics.median(r for r, _ in naive)
    print("\n### Notifications: commit-to-SSE latency (ms, COMMIT sent -> event at the client)\n")
    print("| case | p50 | p95 | p99 | floor p50 | floor p99 | samples |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| 1 client, one at a time | {_pct(single, 50):.2f} | {_pct(single, 95):.2f} | "
        f"{_pct(single, 99):.2f} | {_pct(floor, 50):.2f} | {_pct(floor, 99):.2f} | {len(single)} |"
    )
    print(
        f"| {USERS:,} clients, {fleet_rate:,.0f} notifications/s for {FLEET_SECONDS} s | "
        f"{_pct(fleet, 50):.2f} | {_pct(fleet, 95):.2f} | {_pct(fleet, 99):.2f} | | | "
        f"{len(fleet):,} of {FLEET_RATE * FLEET_SECONDS:,} |"
    )
    print(
        "\nfloor = the same COMMIT reaching a bare LISTEN connection (fsync + NOTIFY, no hub, "
        "no HTTP). Targets: 1 client p50 <= 5 ms; 1,000 clients at 500/s p99 <= 50 ms."
    )
    print(f"\n### Notifications: api.send_notification throughput, {WRITERS} writers\n")
    print("| configuration | notifications/s | vs stream off |")
    print("|---|---:|---:|")
    print(f"| stream off (announce triggers disabled, no web process) | {off:,.0f} | 1.00 |")
    print(
        f"| **stream live** (statement NOTIFY, hub, {USERS:,} SSE clients) | **{live:,.0f}** | "
        f"**{live / off:.2f}** |"
    )
    print(
        f"| naive: row-level NOTIFY of the row as JSON, one listener | {naive_rate:,.0f} | "
        f"{naive_rate / off:.2f} |"
    )
    print(
        f"\nGoal: live / off >= 0.8 at >= 2,000/s. Medians of 3 runs of {THROUGHPUT_SENDS:,} "
        f"sends each (in-app channel). Hub counters after the run: {health.get('stream', {})}. "
        f"Machine: {machine(server)}; fsync on."
    )


if __name__ == "__main__":
    run()
