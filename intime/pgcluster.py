"""A local Citus cluster: a coordinator and N workers, each an embedded server.

Every node is a :class:`~intime.pgserver.PgServer` of the same binaries, with Citus
preloaded. The nodes reach each other over their Unix socket folders (a node's name
in ``pg_dist_node`` is its socket folder): nothing listens on TCP, as for one server.

``create_database`` makes a database on every node, creates the ``citus`` extension
in each and registers the workers with the coordinator; clients then connect to the
coordinator only. Citus is built from source by :mod:`intime.citus_build`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

from intime import pgserver

CITUS_SETTINGS = {
    "shared_preload_libraries": "citus",
    # Citus commits a multi-node transaction in two phases.
    "max_prepared_transactions": "200",
    # Shard moves (the rebalancer, isolate_tenant_to_new_shard) use logical replication.
    "wal_level": "logical",
}


class CitusMissingError(pgserver.PgServerError):
    """The binaries have no Citus extension (run ``make citus``)."""


def has_citus(binaries: pgserver.PgBinaries) -> bool:
    """Whether ``binaries`` can load Citus (its library and control file are installed)."""
    root = binaries.bindir.parent
    return (root / "lib" / "citus.so").is_file() and (
        root / "share" / "extension" / "citus.control"
    ).is_file()


@dataclasses.dataclass
class PgCluster:
    """A coordinator and ``workers`` worker nodes under ``base_dir`` (one folder each)."""

    binaries: pgserver.PgBinaries
    base_dir: Path
    workers: int = 2
    fast_unsafe: bool = False
    nodes: list[pgserver.PgServer] = dataclasses.field(default_factory=list, init=False)

    @property
    def coordinator(self) -> pgserver.PgServer:
        return self.nodes[0]

    @property
    def worker_nodes(self) -> list[pgserver.PgServer]:
        return self.nodes[1:]

    def start(self) -> PgCluster:
        if not has_citus(self.binaries):
            raise CitusMissingError(
                f"no Citus in {self.binaries.bindir.parent} (make citus builds it)"
            )
        names = ["coordinator", *(f"worker{i}" for i in range(1, self.workers + 1))]
        self.base_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in names:
                node = pgserver.PgServer(
                    binaries=self.binaries,
                    base_dir=self.base_dir / name,
                    fast_unsafe=self.fast_unsafe,
                    settings=dict(CITUS_SETTINGS),
                )
                self.nodes.append(node)
                node.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def create_database(self, dbname: str) -> None:
        """Create ``dbname`` on every node with Citus in it, and join the workers to the
        coordinator. Idempotent: an existing database and a known node are kept."""
        for node in self.nodes:
            with psycopg.connect(node.dsn(), autocommit=True) as conn:
                exists = conn.execute(
                    "select 1 from pg_catalog.pg_database where datname = %(name)s",
                    {"name": dbname},
                ).fetchone()
                if exists is None:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            with psycopg.connect(node.dsn(dbname), autocommit=True) as conn:
                conn.execute("create extension if not exists citus")
        coordinator = self.coordinator
        with psycopg.connect(coordinator.dsn(dbname), autocommit=True) as conn:
            conn.execute(
                "select pg_catalog.citus_set_coordinator_host(%(host)s, %(port)s)",
                {"host": str(coordinator.socket_dir), "port": coordinator.port},
            )
            for node in self.worker_nodes:
                known = conn.execute(
                    "select 1 from pg_catalog.pg_dist_node"
                    " where nodename = %(host)s and nodeport = %(port)s",
                    {"host": str(node.socket_dir), "port": node.port},
                ).fetchone()
                if known is None:
                    conn.execute(
                        "select pg_catalog.citus_add_node(%(host)s, %(port)s)",
                        {"host": str(node.socket_dir), "port": node.port},
                    )


@contextlib.contextmanager
def temporary_cluster(
    binaries: pgserver.PgBinaries, *, workers: int = 2, parent: Path | None = None
) -> Iterator[PgCluster]:
    """A throwaway cluster (fsync off) in a temporary folder, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="intime-citus-", dir=parent))
    base.chmod(0o755)
    cluster = PgCluster(binaries=binaries, base_dir=base, workers=workers, fast_unsafe=True)
    try:
        with cluster:
            yield cluster
    finally:
        shutil.rmtree(base, ignore_errors=True)
