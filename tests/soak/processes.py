"""The real processes of a soak run: the embedded PostgreSQL (one server, or a Citus
coordinator and workers), ``intime web`` and ``intime worker``.

Each web and worker is a subprocess in a session of its own, with stdout and stderr in
one log file under the run folder (one header line per incarnation). A supervisor
samples their RSS from ``/proc`` and restarts one that exited by itself; every such
exit is recorded, since none is expected.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from intime import citus_build, migrate, pgcluster, pgserver
from intime.config import SERVICE_ROLE, as_role
from intime_cli.cli import ensure_database
from tests.soak import logs
from tests.soak.journal import Journal

DBNAME = "intime"
HARNESS_APP = "soak-harness"  # application_name of the harness's own connections

# Process groups and servers still alive: the last-resort clean-up in __main__ uses
# them if the orderly one could not run (a second Ctrl-C, a crash of the harness).
LIVE_GROUPS: set[int] = set()
LIVE_SERVERS: list[pgserver.PgServer] = []


class _Entry:
    """Where the load, the webs and the checks connect: ``entry()``, the one server or a
    cluster's coordinator."""

    def entry(self) -> pgserver.PgServer:
        raise NotImplementedError

    @property
    def admin_dsn(self) -> str:
        return self.entry().dsn(DBNAME)

    @property
    def service_dsn(self) -> str:
        return as_role(self.admin_dsn, SERVICE_ROLE)

    @property
    def admin_url(self) -> str:
        return self.entry().url(DBNAME)

    @property
    def service_url(self) -> str:
        return self.entry().url(DBNAME, SERVICE_ROLE)


class Database(_Entry):
    """The embedded server on a private folder, fsync on, restartable on its port."""

    def __init__(self, base_dir: Path) -> None:
        binaries = pgserver.find_binaries(pgserver.default_home() / "pgbin")
        self.server = pgserver.PgServer(binaries=binaries, base_dir=base_dir, fast_unsafe=False)

    def entry(self) -> pgserver.PgServer:
        return self.server

    @property
    def where(self) -> str:
        return f"port {self.server.port}"

    @property
    def nodes(self) -> list[tuple[str, str]]:
        """(name, superuser DSN) of every node whose queue a worker drains: this one."""
        return [("postgresql", self.admin_dsn)]

    def worker_node(self, index: int) -> tuple[str, str, str]:
        """(node name, service URL, superuser URL) worker ``index`` (0-based) attaches to."""
        return "", self.service_url, self.admin_url

    def start(self, settings: Sequence[tuple[str, str]] = ()) -> list[str]:
        """initdb, start, create and migrate the database, apply ``settings`` to
        app.settings; returns what was applied (a column the schema lacks is skipped)."""
        self.server.start()
        LIVE_SERVERS.append(self.server)
        ensure_database(self.server.dsn(), DBNAME)
        migrate.migrate(self.admin_dsn)
        return apply_settings(self.admin_dsn, settings)

    def stop(self, node: str = "") -> None:
        """``pg_ctl stop --mode=fast`` (``node`` is for a cluster's: one server here)."""
        self.server.stop()

    def start_again(self, node: str = "") -> None:
        """Start on the same port and folders (``PgServer`` keeps its port)."""
        self.server.start()

    def node_for_fault(self, index: int) -> str:
        """The node the ``index``-th PostgreSQL fault of a kind stops: the one server."""
        return ""

    def close(self) -> None:
        self.server.stop()
        with contextlib.suppress(ValueError):
            LIVE_SERVERS.remove(self.server)


def apply_settings(admin_dsn: str, settings: Sequence[tuple[str, str]]) -> list[str]:
    """Apply ``settings`` to app.settings; returns what was applied (a column the schema
    lacks is skipped)."""
    applied = []
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name, value in settings:
            exists = conn.execute(
                "select 1 from information_schema.columns where table_schema = 'app' "
                "and table_name = 'settings' and column_name = %s",
                (name,),
            ).fetchone()
            if exists:
                conn.execute(
                    sql.SQL("update app.settings set {} = %s").format(sql.Identifier(name)),
                    (value,),
                )
                applied.append(f"{name}={value}")
    return applied


class Cluster(_Entry):
    """A Citus coordinator and worker nodes (``intime.pgcluster``, the PostgreSQL 18 wheel
    with Citus: ``make citus``), fsync on, each node stopped and started on its own.

    The load, the webs and the checks connect to the coordinator; worker process ``i``
    attaches to node ``i`` modulo the nodes (each node's queue has its own jobs), and the
    queue reads run on every node (``nodes``). A fault stops one node at a time
    (``node_for_fault``): a node down is the fault a cluster adds (what needs its shards
    fails as an outage, 503 or a retry, until it is back).
    """

    def __init__(self, base_dir: Path, workers: int = 2) -> None:
        binaries = citus_build.find_citus_binaries(pgserver.default_home() / "pgbin")
        if binaries is None:
            raise RuntimeError("no PostgreSQL with Citus found: run make citus")
        self.cluster = pgcluster.PgCluster(
            binaries=binaries, base_dir=base_dir, workers=workers, fast_unsafe=False
        )
        self._names = ["coordinator", *(f"worker{i}" for i in range(1, workers + 1))]

    @property
    def server(self) -> pgserver.PgServer:
        """The coordinator (its binaries name the run in the journal)."""
        return self.cluster.coordinator

    def entry(self) -> pgserver.PgServer:
        return self.cluster.coordinator

    def _node(self, name: str) -> pgserver.PgServer:
        return self.cluster.nodes[self._names.index(name)] if name else self.server

    @property
    def where(self) -> str:
        ports = ", ".join(f"{name} :{node.port}" for name, node in self._pairs())
        return f"a Citus cluster ({ports})"

    @property
    def nodes(self) -> list[tuple[str, str]]:
        return [(name, node.dsn(DBNAME)) for name, node in self._pairs()]

    def _pairs(self) -> list[tuple[str, pgserver.PgServer]]:
        """(name, server) of every node started."""
        return list(zip(self._names, self.cluster.nodes, strict=False))

    def worker_node(self, index: int) -> tuple[str, str, str]:
        name = self._names[index % len(self._names)]
        node = self._node(name)
        return name, node.url(DBNAME, SERVICE_ROLE), node.url(DBNAME)

    def node_for_fault(self, index: int) -> str:
        """worker1, worker2, ..., then the coordinator, round and round (from ``index``)."""
        order = [*self._names[1:], self._names[0]]
        return order[index % len(order)]

    def start(self, settings: Sequence[tuple[str, str]] = ()) -> list[str]:
        """initdb and start every node, create the database with Citus on each, join the
        workers, migrate (which distributes the tables), apply ``settings``."""
        try:
            self.cluster.start()
        finally:
            LIVE_SERVERS.extend(self.cluster.nodes)
        self.cluster.create_database(DBNAME)
        migrate.migrate(self.admin_dsn)
        return apply_settings(self.admin_dsn, settings)

    def stop(self, node: str = "") -> None:
        """``pg_ctl stop --mode=fast`` of one node (the coordinator by default)."""
        self._node(node).stop()

    def start_again(self, node: str = "") -> None:
        """Start that node again on its port and folders."""
        self._node(node).start()

    def close(self) -> None:
        self.cluster.stop()
        for node in self.cluster.nodes:
            with contextlib.suppress(ValueError):
                LIVE_SERVERS.remove(node)


# What a run's PostgreSQL is: one server, or a Citus cluster.
Postgres = Database | Cluster


def cli_needs_database_url(setting: str) -> bool:
    """Whether ``intime web``/``intime worker`` need DATABASE_URL besides INTIME_SERVICE_URL.

    The one switch of the harness: ``yes``/``no`` decide; ``auto`` reads the CLI. Until
    issue 12 lands, ``_cmd_web`` and ``_cmd_worker`` open ``admin_database(config)``,
    which starts an embedded server unless DATABASE_URL is set, even with
    INTIME_SERVICE_URL. Whatever is chosen, the checks report an embedded server that a
    web or worker started under the run's INTIME_HOME.
    """
    if setting in ("yes", "no"):
        return setting == "yes"
    from intime_cli import cli

    try:
        source = inspect.getsource(cli._cmd_web) + inspect.getsource(cli._cmd_worker)
    except (AttributeError, OSError, TypeError):
        return False  # a rewritten CLI: assume it honours INTIME_SERVICE_URL alone
    return "admin_database(" in source


def database_env(service_url: str, admin_url: str, *, pass_database_url: bool) -> dict[str, str]:
    """How a web or worker process finds the database (a worker on a cluster: its node)."""
    env = {"INTIME_SERVICE_URL": service_url}
    if pass_database_url:
        env["DATABASE_URL"] = admin_url
    return env


def clean_environ() -> dict[str, str]:
    """The harness's environment without anything that configures InTime."""
    prefixes = ("INTIME_", "SMTP_", "RESEND_", "INBOUND_", "PG")
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(prefixes) and k not in ("DATABASE_URL",)
    }


def _own_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return members


def rss_kb(pid: int) -> int | None:
    """RSS of the process and of everything in its process group (a web's MIME parser
    processes count: they are its memory)."""
    own = _own_rss_kb(pid)
    if own is None:
        return None
    return own + sum(_own_rss_kb(p) or 0 for p in _group_members(pid) if p != pid)


@dataclasses.dataclass
class Incarnation:
    number: int
    pid: int
    started: float
    ready_at: float | None = None
    rss_ready_kb: int | None = None
    rss_last_kb: int | None = None
    rss_max_kb: int = 0
    ended: float | None = None
    returncode: int | None = None
    expected_exit: bool = False  # killed by a fault, or stopped at the end
    # A worker's pgqueuer queue_manager_id, read from its start line (logs.worker_id).
    worker_id: str | None = None
    worker_id_source: str = ""

    @property
    def alive(self) -> bool:
        return self.ended is None


class ManagedProcess:
    """One ``intime web`` or ``intime worker``, restartable."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        log_path: Path,
        journal: Journal,
        *,
        health_url: str | None = None,
        stop_limit: float = 15.0,
        node: str = "",
    ) -> None:
        self.name = name
        self.node = node  # a worker on a cluster: the node it attaches to
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path
        self.journal = journal
        self.health_url = health_url
        # Seconds from SIGTERM to its exit that the process is allowed (a web 15 s, a
        # worker its grace + 30 s: docs/operations.md, rule 5).
        self.stop_limit = stop_limit
        self.incarnations: list[Incarnation] = []
        self.stopping = False
        self.restarts_pending = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._watch: asyncio.Task[None] | None = None
        self._crash_handler: asyncio.Queue[ManagedProcess] | None = None

    @property
    def current(self) -> Incarnation | None:
        return self.incarnations[-1] if self.incarnations else None

    @property
    def pid(self) -> int | None:
        cur = self.current
        return cur.pid if cur is not None and cur.alive else None

    @property
    def unexpected_exits(self) -> list[Incarnation]:
        return [i for i in self.incarnations if i.ended is not None and not i.expected_exit]

    def worker_id(self, inc: Incarnation | None = None) -> str | None:
        """The pgqueuer ``queue_manager_id`` of this worker's incarnation (the current one
        by default), from its start line; None while it has not logged one."""
        inc = inc or self.current
        if inc is None:
            return None
        if inc.worker_id is None:
            found = logs.worker_id(logs.section(self.log_path, inc.number))
            if found is not None:
                inc.worker_id, inc.worker_id_source = found
        return inc.worker_id

    @property
    def ready(self) -> bool:
        """Alive and past ``wait_ready`` (a signal before that may find no handler yet)."""
        inc = self.current
        return inc is not None and inc.alive and inc.ready_at is not None

    async def start(self) -> Incarnation:
        number = len(self.incarnations) + 1
        with self.log_path.open("ab") as log:
            log.write(
                f"===== soak: {self.name} incarnation {number} at "
                f"{time.strftime('%H:%M:%S')} (t={self.journal.now():.1f}s)\n".encode()
            )
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        LIVE_GROUPS.add(proc.pid)
        self._proc = proc
        inc = Incarnation(number=number, pid=proc.pid, started=self.journal.now())
        self.incarnations.append(inc)
        self._watch = asyncio.create_task(self._wait_exit(proc, inc))
        self.journal.log("process", f"{self.name} started (pid {proc.pid}, #{number})")
        return inc

    async def _wait_exit(self, proc: asyncio.subprocess.Process, inc: Incarnation) -> None:
        code = await proc.wait()
        LIVE_GROUPS.discard(proc.pid)
        inc.ended, inc.returncode = self.journal.now(), code
        if inc.expected_exit:
            return
        self.journal.log(
            "EXIT", f"{self.name} (pid {inc.pid}) exited by itself with {code}: see {self.log_path}"
        )
        if self._crash_handler is not None and not self.stopping:
            self._crash_handler.put_nowait(self)

    async def wait_ready(self, timeout: float = 60.0) -> bool:
        """A web answers /healthz 200; a worker is still alive after a few seconds."""
        inc = self.current
        assert inc is not None
        deadline = time.monotonic() + timeout
        if self.health_url is None:
            await asyncio.sleep(3.0)
            ok = inc.alive
        else:
            ok = False
            async with httpx.AsyncClient(timeout=2.0) as client:
                while inc.alive and time.monotonic() < deadline:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(self.health_url)).status_code == 200:
                            ok = True
                            break
                    await asyncio.sleep(0.2)
        if ok:
            inc.ready_at = self.journal.now()
            inc.rss_ready_kb = rss_kb(inc.pid)
        else:
            self.journal.log("process", f"{self.name} (pid {inc.pid}) not ready in {timeout:.0f}s")
        return ok

    def sample_rss(self) -> None:
        inc = self.current
        if inc is None or not inc.alive:
            return
        value = rss_kb(inc.pid)
        if value is not None:
            inc.rss_last_kb = value
            inc.rss_max_kb = max(inc.rss_max_kb, value)

    def send(self, sig: int) -> None:
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    async def kill(self) -> Incarnation | None:
        """SIGKILL (an expected exit) and wait for it."""
        inc = self.current
        if inc is None or not inc.alive:
            return None
        inc.expected_exit = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(inc.pid, signal.SIGKILL)
        if self._watch is not None:
            await self._watch
        return inc

    async def sigterm(self, limit: float) -> tuple[int | None, float | None]:
        """SIGTERM the current incarnation (an expected exit), wait up to ``limit`` seconds,
        then SIGKILL the group. (exit code, or None when it had to be killed; seconds).
        The process may be started again afterwards (``terminate`` is for the end)."""
        inc = self.current
        if inc is None or not inc.alive:
            return None, None
        inc.expected_exit = True
        t0 = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(inc.pid, signal.SIGTERM)
        assert self._watch is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._watch), limit)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(inc.pid, signal.SIGKILL)
            await self._watch
            return None, time.monotonic() - t0
        # Anything the process left in its group (it should leave nothing).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(inc.pid, signal.SIGKILL)
        return inc.returncode, time.monotonic() - t0

    async def terminate(self, grace: float | None = None) -> tuple[int | None, float | None]:
        """The end: SIGTERM, wait ``grace`` (default ``stop_limit``), then SIGKILL; no restart."""
        self.stopping = True
        return await self.sigterm(self.stop_limit if grace is None else grace)


class Supervisor:
    """Samples RSS and restarts processes that exited by themselves."""

    def __init__(self, journal: Journal, *, restart_crashed: bool) -> None:
        self.journal = journal
        self.restart_crashed = restart_crashed
        self.processes: list[ManagedProcess] = []
        self._crashed: asyncio.Queue[ManagedProcess] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, process: ManagedProcess) -> ManagedProcess:
        process._crash_handler = self._crashed
        self.processes.append(process)
        return process

    @property
    def workers(self) -> list[ManagedProcess]:
        return [p for p in self.processes if p.name.startswith("worker")]

    @property
    def webs(self) -> list[ManagedProcess]:
        return [p for p in self.processes if p.name.startswith("web")]

    async def start_all(self) -> None:
        for process in self.processes:
            await process.start()
        ready = await asyncio.gather(*(p.wait_ready() for p in self.processes))
        if not all(ready):
            names = [p.name for p, ok in zip(self.processes, ready, strict=True) if not ok]
            raise RuntimeError(f"not ready: {', '.join(names)} (see their logs)")
        self._tasks = [
            asyncio.create_task(self._sample_loop()),
            asyncio.create_task(self._restart_loop()),
        ]

    async def _sample_loop(self) -> None:
        while True:
            for process in self.processes:
                process.sample_rss()
            await asyncio.sleep(2.0)

    async def _restart_loop(self) -> None:
        while True:
            process = await self._crashed.get()
            if not self.restart_crashed or process.stopping:
                continue
            await asyncio.sleep(2.0)
            if process.stopping:
                continue
            await process.start()
            await process.wait_ready()

    async def restart(self, process: ManagedProcess, delay: float = 1.0) -> None:
        """After a fault killed it."""
        await asyncio.sleep(delay)
        if not process.stopping:
            await process.start()
            await process.wait_ready()

    def sample_all(self) -> None:
        for process in self.processes:
            process.sample_rss()

    async def stop_sampling(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def worker_names(self) -> dict[str, str]:
        """queue_manager_id -> ``worker-1 #2`` for every incarnation whose id is known."""
        out = {}
        for process in self.workers:
            for inc in process.incarnations:
                wid = process.worker_id(inc)
                if wid is not None:
                    out[wid] = f"{process.name} #{inc.number}"
        return out

    async def terminate_all(
        self, grace: float | None = None
    ) -> dict[str, tuple[int | None, float | None]]:
        """SIGTERM every process at once; each gets ``grace`` or, when None, its own limit."""
        await self.stop_sampling()
        for process in self.processes:
            process.stopping = True
        results = await asyncio.gather(*(p.terminate(grace) for p in self.processes))
        return {p.name: r for p, r in zip(self.processes, results, strict=True)}


def intime_command() -> str:
    """The ``intime`` entry point of the interpreter running the harness (the venv's)."""
    return str(Path(sys.executable).parent / "intime")


def last_resort_cleanup() -> None:
    """Kill what is left of our process groups and stop our server (synchronous)."""
    for group in list(LIVE_GROUPS):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        LIVE_GROUPS.discard(group)
    for server in list(LIVE_SERVERS):
        with contextlib.suppress(Exception):
            server.stop()
        LIVE_SERVERS.remove(server)


def stop_stray_servers(home: Path) -> list[Path]:
    """Stop any embedded server a web or worker started under ``home`` (none should):
    SIGINT to its postmaster is PostgreSQL's fast shutdown."""
    stray = [p.parent for p in home.glob("pg*/data/PG_VERSION")]
    for data in stray:
        with contextlib.suppress(OSError, ValueError, IndexError, ProcessLookupError):
            pid = int((data / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGINT)
    return stray
