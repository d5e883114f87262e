"""The local cluster itself: nodes, databases, refusal without Citus."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest

from intime import pgcluster, pgserver


def test_create_database_registers_every_worker(citus: pgcluster.PgCluster) -> None:
    citus.create_database("nodes_probe")
    with psycopg.connect(citus.coordinator.dsn("nodes_probe")) as conn:
        rows = conn.execute(
            "select nodename, nodeport, isactive from pg_dist_node"
            " where groupid <> 0 order by nodeport"
        ).fetchall()
    expected = sorted((str(n.socket_dir), n.port, True) for n in citus.worker_nodes)
    assert sorted(rows) == expected


def test_create_database_twice_keeps_one_entry_per_node(citus: pgcluster.PgCluster) -> None:
    citus.create_database("twice_probe")
    citus.create_database("twice_probe")
    with psycopg.connect(citus.coordinator.dsn("twice_probe")) as conn:
        row = conn.execute("select count(*) from pg_dist_node").fetchone()
    assert row == (3,)


def test_a_distributed_table_spreads_its_shards_over_the_workers(
    citus: pgcluster.PgCluster,
) -> None:
    citus.create_database("shards_probe")
    with psycopg.connect(citus.coordinator.dsn("shards_probe"), autocommit=True) as conn:
        conn.execute("create table t (org_id uuid, id int, primary key (org_id, id))")
        conn.execute("select create_distributed_table('t', 'org_id')")
        nodes = conn.execute(
            "select count(distinct nodeport) from citus_shards where table_name = 't'::regclass"
        ).fetchone()
    assert nodes == (2,)


def test_binaries_without_citus_are_refused(tmp_path: Path) -> None:
    plain = pgserver.PgBinaries(tmp_path / "bin", "test")
    with pytest.raises(pgcluster.CitusMissingError, match="make citus"):
        pgcluster.PgCluster(binaries=plain, base_dir=tmp_path / "cluster").start()


def test_pg_cluster_command_prints_every_node_and_stops_on_sigterm(
    citus_binaries: pgserver.PgBinaries,
) -> None:
    # Not under tmp_path: as root the servers run as another OS user, who must reach it.
    home = Path(tempfile.mkdtemp(prefix="intime-cluster-cli-"))
    home.chmod(0o755)
    env = {**os.environ, "INTIME_HOME": str(home), "INTIME_PG_BINDIR": str(citus_binaries.bindir)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "intime"), "pg", "cluster", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C stops it." in line:
                break
        proc.send_signal(signal.SIGTERM)
        # Keep reading: a process blocked on a full pipe would never stop. Each node's
        # shutdown checkpoint (fsync on) takes its time on a busy disk.
        rest = proc.communicate(timeout=180)[0]
        assert proc.returncode == 0, "".join(lines) + (rest or "")
    finally:
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(home, ignore_errors=True)
    text = "".join(lines)
    assert "coordinator: psql 'postgresql://postgres@/intime" in text
    assert "worker 1:" in text
    assert "worker 2:" not in text
