"""``intime worker`` and ``intime web`` as the processes production runs: started from the
environment, stopped by signals, and living through a PostgreSQL restart.

Each test that restarts PostgreSQL gets a server of its own (a throwaway data folder,
migrated), so the session's server and its other databases are not disturbed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller

from intime import migrate, pgserver
from intime.config import as_role
from intime.db import actor
from intime_cli.seed import seed_org
from intime_cli.serving import EPHEMERAL_RANGE, LOWEST_PICK, free_port, wait_for_http
from tests.support import Database, TwoOrgs

INTIME = [sys.executable, "-m", "intime_cli.cli"]


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTIME_", "DATABASE_URL"))}
    env.update({"INTIME_HOME": str(tmp_path / "home"), **extra})
    if "INTIME_PG_BINDIR" in os.environ:
        env["INTIME_PG_BINDIR"] = os.environ["INTIME_PG_BINDIR"]
    return env


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([*INTIME, *argv], env=env, stdout=out, stderr=out)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def wait_for(check: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        time.sleep(0.1)


class SlowSink:
    """An SMTP sink that takes ``delay`` seconds per message and counts each Message-ID."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.seen: Counter[str] = Counter()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        await asyncio.sleep(self.delay)
        content: bytes = envelope.content
        for line in content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.seen[line.split(b":", 1)[1].strip().decode()] += 1
        return "250 OK"


@pytest.fixture
def slow_sink() -> Iterator[tuple[SlowSink, int]]:
    sink = SlowSink(delay=0.7)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def own_server(pg_server: pgserver.PgServer) -> Iterator[pgserver.PgServer]:
    """A migrated server of this test's own, that the test may stop and start."""
    base = Path(tempfile.mkdtemp(prefix="intime-restart-"))
    base.chmod(0o755)
    server = pgserver.PgServer(binaries=pg_server.binaries, base_dir=base, fast_unsafe=True)
    try:
        server.start()
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("create database intime")
        migrate.migrate(server.dsn("intime"))
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_a_worker_lives_through_a_postgresql_restart_and_sends_each_email_once(
    own_server: pgserver.PgServer, slow_sink: tuple[SlowSink, int], tmp_path: Path
) -> None:
    """``pg_ctl stop -m fast`` with emails in flight, then start: the worker reconnects (and
    says so), records what the SMTP server accepted, sends the rest, and never exits."""
    sink, port = slow_sink
    dsn = own_server.dsn("intime")
    with psycopg.connect(as_role(dsn, "intime_service"), autocommit=True) as service:
        org = seed_org(service, "Restart Co", "restart")
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("delete from queue.pgqueuer")
            admin.execute(
                "update app.email_settings set provider = 'smtp', rate_limit_per_minute = 1000, "
                "rate_tokens = null"
            )
        with actor(service, org.org_id, org.admin_id):
            sends = [
                service.execute(
                    "select api.queue_email(p_to => %s, p_subject => 'Hi', p_text => 'x')",
                    (f"r{i}@example.com",),
                ).fetchone()[0]
                for i in range(8)
            ]
    env = base_env(
        tmp_path,
        INTIME_SERVICE_URL=as_role(dsn, "intime_service"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
    )
    log = tmp_path / "worker.log"

    def statuses() -> Counter[str]:
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(
                "select status from app.email_sends where id = any(%s)", (sends,)
            ).fetchall()
        return Counter(r[0] for r in rows)

    with process(["worker"], env, log) as worker:
        wait_for(lambda: sum(sink.seen.values()) >= 2, what="the first sends")
        own_server.stop()
        time.sleep(3)
        assert worker.poll() is None, log.read_text()
        own_server.start()
        wait_for(lambda: statuses() == Counter({"sent": 8}), timeout=90, what="all sent")
        assert worker.poll() is None, log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=40) == 0
    text = log.read_text()
    assert "database connection lost" in text
    assert "database connection back" in text
    assert "worker stopped" in text
    assert len(sink.seen) == 8
    assert set(sink.seen.values()) == {1}, sink.seen
    with psycopg.connect(dsn) as conn:
        assert conn.execute(
            "select count(*) from queue.pgqueuer where status = 'failed'"
        ).fetchone() == (0,)


def test_a_worker_that_cannot_reach_the_database_exits_2_with_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = base_env(
        tmp_path,
        INTIME_SERVICE_URL=f"host=127.0.0.1 port={port} dbname=intime user=intime_service",
        INTIME_CONNECT_TIMEOUT="1",
    )
    for command in (["worker"], ["web", "--port", str(free_port())]):
        result = subprocess.run(
            [*INTIME, *command], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines[-1].startswith("error: cannot reach the database"), result.stderr
        assert "Traceback" not in result.stderr


def test_web_and_worker_run_from_the_service_url_alone_without_an_embedded_server(
    db: Database, mail, admin: psycopg.Connection, tmp_path: Path
) -> None:
    """INTIME_SERVICE_URL and nothing else: no DATABASE_URL, no embedded PostgreSQL."""
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "update app.email_settings set provider = 'outbox', rate_tokens = null where org_id = %s",
        (mail.org_id,),
    )
    send_id = mail.queue(to="alone@example.com", subject="Hi", text="x")
    env = base_env(tmp_path, INTIME_SERVICE_URL=db.dsn("intime_service"))
    port = free_port()
    with process(["web", "--port", str(port)], env, tmp_path / "web.log") as web:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: web.poll() is None)
        result = subprocess.run(
            [*INTIME, "worker", "--drain"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=30) == 0
    assert mail.send_row(send_id)["status"] == "sent"
    assert not (tmp_path / "home" / f"pg{db.server.binaries.major_version()}").exists()


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    """A folder the embedded server's OS user can reach (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="intime-sigterm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("command", ["worker", "web"])
def test_sigterm_stops_the_embedded_server_the_command_started(
    command: str, world_readable_dir: Path
) -> None:
    """No URL at all: the command starts the embedded PostgreSQL, and on SIGTERM (how
    systemd and Docker stop services) it stops it again and exits 0."""
    tmp_path = world_readable_dir
    env = base_env(tmp_path)
    home = tmp_path / "home"
    migrated = subprocess.run(
        [*INTIME, "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    pid_files = list(home.glob("pg*/data/postmaster.pid"))
    assert pid_files == []  # migrate stopped the server it started
    argv = [command] + (["--port", str(free_port())] if command == "web" else [])
    with process(argv, env, tmp_path / f"{command}.log") as proc:
        wait_for(lambda: list(home.glob("pg*/data/postmaster.pid")) != [], what="the server")
        time.sleep(3)  # well into serving
        assert proc.poll() is None, (tmp_path / f"{command}.log").read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / f"{command}.log").read_text()
    assert list(home.glob("pg*/data/postmaster.pid")) == []


def test_the_worker_logs_json_lines_with_log_format_json(db: Database, tmp_path: Path) -> None:
    env = base_env(tmp_path, INTIME_SERVICE_URL=db.dsn("intime_service"))
    result = subprocess.run(
        [*INTIME, "worker", "--drain", "--log-format", "json"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    events = [r.get("event") for r in records]
    assert "worker_started" in events
    assert "worker_stopped" in events
    assert all({"ts", "level", "logger", "message"} <= r.keys() for r in records)


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("INTIME_WORKER_MAX_IN_FLIGHT", "x", "INTIME_WORKER_MAX_IN_FLIGHT='x' is not a number"),
        ("SMTP_PORT", "smtp", "SMTP_PORT='smtp' is not a number"),
        ("SMTP_CONCURRENCY", "0", "smtp_concurrency must be at least 1"),
        ("INTIME_SERVICE_URL", "host=a port", "INTIME_SERVICE_URL is not a connection string"),
        ("INTIME_WEBHOOK_ALLOW", "not/a/cidr", "webhook allow-list entry 'not/a/cidr'"),
        ("INTIME_LOG_FORMAT", "xml", "INTIME_LOG_FORMAT must be"),
        ("INTIME_CONNECT_TIMEOUT", "nan", "INTIME_CONNECT_TIMEOUT='nan' must be a number"),
        ("INTIME_WORKER_GRACE_SECONDS", "inf", "INTIME_WORKER_GRACE_SECONDS='inf' must be"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2(
    setting: str, value: str, says: str, tmp_path: Path
) -> None:
    env = base_env(tmp_path, INTIME_SERVICE_URL="host=/nowhere")
    env[setting] = value
    result = subprocess.run(
        [*INTIME, "worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {says}"), result.stderr


def test_sigterm_to_a_worker_whose_database_is_down_exits_0_promptly(
    own_server: pgserver.PgServer, tmp_path: Path
) -> None:
    """Idle, with PostgreSQL gone: no grace period to wait out, no reconnect to finish."""
    dsn = own_server.dsn("intime")
    env = base_env(tmp_path, INTIME_SERVICE_URL=as_role(dsn, "intime_service"))
    log = tmp_path / "worker.log"
    with process(["worker"], env, log) as worker:
        wait_for(lambda: " started: " in log.read_text(), what="the worker to start")
        own_server.stop()
        wait_for(lambda: "database connection lost" in log.read_text(), what="the loss")
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log.read_text()
        assert time.monotonic() - started < 20, log.read_text()
        own_server.start()  # for the fixture's clean stop


def test_web_with_two_worker_processes_serves_and_stops_on_sigterm(
    db: Database, tmp_path: Path
) -> None:
    env = base_env(tmp_path, INTIME_SERVICE_URL=db.dsn("intime_service"))
    port = free_port()
    log = tmp_path / "web.log"
    with process(["web", "--port", str(port), "--workers", "2"], env, log) as web:
        for _ in range(4):
            wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: web.poll() is None)
        wait_for(lambda: log.read_text().count("Application startup complete") == 2)
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=30) == 0, log.read_text()


def test_a_worker_on_a_database_without_the_queue_schema_exits_2_with_one_line(
    own_server: pgserver.PgServer, tmp_path: Path
) -> None:
    """Restarting pgqueuer's loop cannot cure a missing piece of its schema: one line,
    exit 2, instead of a worker that retries forever."""
    dsn = own_server.dsn("intime")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("drop index queue.pgqueuer_log_job_id_status")
    env = base_env(tmp_path, INTIME_SERVICE_URL=as_role(dsn, "intime_service"))
    result = subprocess.run(
        [*INTIME, "worker"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the worker cannot run:"), result.stderr
    assert "intime db migrate" in last
    assert "Traceback" not in result.stderr


def test_sigterm_ends_open_notification_streams_at_once(
    db: Database, service: psycopg.Connection, two_orgs: TwoOrgs, tmp_path: Path
) -> None:
    """``intime web`` loads its app by import string, after uvicorn bound its signal
    handlers: on SIGTERM the hub still sees the server exiting and ends every stream
    itself, so the process exits well inside uvicorn's graceful-shutdown wait and no
    stream is cut by cancellation (one traceback each)."""
    org = two_orgs.a
    with actor(service, org.org_id):
        row = service.execute(
            "select token from api.create_api_token(p_name => 'sse', p_user_id => %s)",
            (org.rep_ids[0],),
        ).fetchone()
    assert row is not None
    env = base_env(tmp_path, INTIME_SERVICE_URL=db.dsn("intime_service"))
    port = free_port()
    log = tmp_path / "web.log"
    with process(["web", "--port", str(port)], env, log) as web:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: web.poll() is None)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as stream:
            stream.sendall(
                f"GET /notifications/stream HTTP/1.1\r\nHost: test\r\n"
                f"Authorization: Bearer {row[0]}\r\nAccept: text/event-stream\r\n\r\n".encode()
            )
            first = stream.recv(4096)
            assert b" 200 " in first.split(b"\r\n", 1)[0], first
            web.send_signal(signal.SIGTERM)
            started = time.monotonic()
            while stream.recv(4096):  # the server ends the response, then closes
                pass
            ended = time.monotonic() - started
        assert web.wait(timeout=30) == 0, log.read_text()
    assert ended < 3, ended
    text = log.read_text()
    assert "Exception in ASGI application" not in text, text
    assert "timeout graceful shutdown exceeded" not in text, text


def test_a_free_port_is_picked_below_the_ephemeral_range() -> None:
    """Outgoing connections take their local ports from the ephemeral range; a port
    picked there could be taken before its server binds it."""
    low = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(LOWEST_PICK <= port < low for port in ports)
    assert len(ports) > 1  # spread, so that parallel tests rarely pick the same
