"""The intime command line against a real database (DATABASE_URL set)."""

from __future__ import annotations

import pytest

from intime_cli.cli import main
from tests.support import Database, TwoOrgs


@pytest.fixture
def database_url(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db.dsn())
    monkeypatch.delenv("INTIME_SERVICE_URL", raising=False)
    return db.dsn()


def test_db_status_lists_every_applied_migration(database_url: str, capsys) -> None:
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "applied  0001_foundation.sql" in out
    assert "pending" not in out


def test_db_migrate_on_a_current_database_applies_nothing(database_url: str, capsys) -> None:
    assert main(["db", "migrate"]) == 0
    assert "0 migration(s) applied" in capsys.readouterr().out


def test_token_create_prints_a_token_that_authenticates(
    database_url: str, two_orgs: TwoOrgs, service, capsys
) -> None:
    assert main(["token", "create", "--org", "acme", "--email", "RILEY@acme.example"]) == 0
    out = capsys.readouterr().out
    token = next(line.split()[1] for line in out.splitlines() if line.startswith("token:"))
    with service.transaction():
        row = service.execute(
            "select user_id from api.authenticate_token(p_token => %s)", (token,)
        ).fetchone()
    assert row == (two_orgs.a.rep_ids[0],)


def test_token_create_in_an_unknown_org_fails_clearly(database_url: str, capsys) -> None:
    assert main(["token", "create", "--org", "nope", "--email", "x@y.z"]) == 1
    assert "no organization with slug 'nope'" in capsys.readouterr().err


def test_worker_drain_sends_queued_mail_to_the_outbox(
    database_url: str, mail, admin, tmp_path, monkeypatch
) -> None:
    import mailbox

    monkeypatch.setenv("INTIME_HOME", str(tmp_path))
    admin.execute("delete from queue.pgqueuer")
    send_id = mail.queue(to="cli@example.com", subject="From the CLI", text="x")
    assert main(["worker", "--drain"]) == 0
    assert mail.send_row(send_id)["status"] == "sent"
    [message] = list(mailbox.Maildir(tmp_path / "outbox"))
    assert message["Subject"] == "From the CLI"


def test_up_serves_and_stops_cleanly_on_ctrl_c(database_url: str, tmp_path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from intime_cli.serving import free_port, wait_for_http

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "INTIME_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "intime_cli.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", alive=lambda: proc.poll() is None)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
