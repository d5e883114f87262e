"""Scale-out: the campaign tick, workflow executions and api.send_notification on a Citus
cluster of three nodes (a coordinator and two workers) beside one PostgreSQL node, on
this machine, in the same run (docs/scale-out.md).

Both sides run the same PostgreSQL 18 binaries (the cluster's with Citus loaded, the
single node's without), fsync on, the same migrations, the same orgs and the same
workloads, alternated:

1. ``api.send_notification``: writer threads, each its own service connection, one
   notification per transaction (set_actor, send, commit), for a fixed time.
2. Workflow executions: one UPDATE of the orgs' deals starts an execution of a 3-step
   DB-only workflow per deal (bench/workflows.py's), then threads run them with
   ``api.run_execution`` org-first in autocommit (the worker's call, without the queue),
   which the cluster delegates to the node that holds the org; then again with each
   call in a transaction block, which the cluster runs on the coordinator (the
   delegation's own effect).
3. The campaign tick: contacts enrolled in a one-step (task) campaign per org, then
   ``api.tick_campaigns(p_batch_size => 1000)`` until none is due.

On one machine the three nodes share its cores, and every statement of the coordinator
goes to a worker over a local socket: the cluster is expected to be slower. Where the
time goes is measured per node (CPU seconds of its processes, from /proc) and per
operation (Citus's ``citus_stat_counters``: the coordinator's shard executions). The
estimate for three machines of as many cores each: the busiest node's CPU per operation
bounds the rate at ``cores / cpu_per_op``; an operation's latency with the machines to
itself is its CPU on every node plus a network round trip (``RTT_MS``, a same-zone
figure, an assumption) per shard execution, which bounds a fixed number of writers at
``writers / latency``. The estimate is the lower of the two.

Sizes: INTIME_BENCH_CLUSTER_* (ORGS, WRITERS, SEND_SECONDS, EXECUTIONS, THREADS,
CONTACTS). Without a PostgreSQL with Citus (``make citus``) it reports that and measures
nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from bench.common import Case, Report, Sizes, cpu, phase
from bench.workflows import ON_VALUE
from intime import citus_build, migrate, pgcluster, pgserver
from intime.db import actor

S = Sizes(
    "CLUSTER",
    ORGS=(8, 4),  # orgs, spread over the workers' shards
    WRITERS=(8, 8),  # 1. send_notification writer threads
    SEND_SECONDS=(10, 3),  # 1. each measurement
    EXECUTIONS=(4000, 800),  # 2. workflow executions (deals updated)
    THREADS=(4, 4),  # 2. threads running executions
    CONTACTS=(8000, 1600),  # 3. enrollments ticked
)
DB = "bench"
RTT_MS = 0.25  # one network round trip between machines in one zone (assumed)
TASK_STEP = {"channel": "task", "delay_minutes": 0, "task_config": {"title": "Call"}}


@dataclasses.dataclass(frozen=True)
class Org:
    org_id: uuid.UUID
    admin_id: uuid.UUID
    rep_id: uuid.UUID


@dataclasses.dataclass
class Target:
    """One side: its admin and service DSNs and the servers whose CPU it uses."""

    name: str
    admin: str
    service: str
    nodes: list[pgserver.PgServer]
    citus: bool
    orgs: list[Org] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class Measured:
    ops: int
    seconds: float
    cpu: dict[str, float]  # CPU seconds per node
    trips: int  # the coordinator's shard executions (0 on one node)
    concurrency: int

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else float("nan")

    def estimate(self, cores: int) -> float:
        """Operations per second on one machine per node (see the module's docstring)."""
        if not self.ops:
            return float("nan")
        busiest = max(self.cpu.values()) / self.ops
        cpu_bound = cores / busiest if busiest else float("inf")
        # An operation's latency with nothing else on the machines: its CPU on each node
        # in turn, and a network round trip per shard execution.
        latency = sum(self.cpu.values()) / self.ops + (self.trips / self.ops) * RTT_MS / 1000
        return min(cpu_bound, self.concurrency / latency) if latency else cpu_bound


def _postmaster_pid(node: pgserver.PgServer) -> int:
    return int((node.data_dir / "postmaster.pid").read_text().split()[0])


def _cpu_seconds(node: pgserver.PgServer) -> float:
    """CPU seconds of the node's postmaster and its processes so far: the live ones',
    and the ended ones' (reaped into the postmaster's cutime and cstime)."""
    root = _postmaster_pid(node)
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            # After the command's closing parenthesis: state, ppid, ... utime (11),
            # stime (12), cutime (13), cstime (14).
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pid, ppid = int(entry.name), int(fields[1])
            if pid == root:
                total += sum(int(f) for f in fields[11:15])
            elif ppid == root:
                total += int(fields[11]) + int(fields[12])
    return total / tick


def _trips(target: Target) -> int:
    if not target.citus:
        return 0
    with psycopg.connect(target.admin) as conn:
        row = conn.execute(
            "select coalesce(sum(query_execution_single_shard + query_execution_multi_shard), 0)"
            " from pg_catalog.citus_stat_counters(0)"
        ).fetchone()
    return int(row[0]) if row else 0


def _measure(target: Target, concurrency: int, work: Callable[[], int]) -> Measured:
    before = {n.base_dir.name: _cpu_seconds(n) for n in target.nodes}
    trips = _trips(target)
    start = time.perf_counter()
    ops = work()
    seconds = time.perf_counter() - start
    after = {n.base_dir.name: _cpu_seconds(n) for n in target.nodes}
    return Measured(
        ops=ops,
        seconds=seconds,
        cpu={k: after[k] - before[k] for k in before},
        trips=_trips(target) - trips,
        concurrency=concurrency,
    )


# -- the two sides --------------------------------------------------------------------------


@contextlib.contextmanager
def _sides(binaries: pgserver.PgBinaries) -> Iterator[tuple[Target, Target]]:
    base = Path(tempfile.mkdtemp(prefix="intime-bench-cluster-"))
    base.chmod(0o755)
    single = pgserver.PgServer(binaries=binaries, base_dir=base / "single", fast_unsafe=False)
    cluster = pgcluster.PgCluster(binaries=binaries, base_dir=base / "cluster", workers=2)
    try:
        with single, cluster:
            with psycopg.connect(single.dsn(), autocommit=True) as conn:
                conn.execute(f"create database {DB}")
            migrate.migrate(single.dsn(DB))
            cluster.create_database(DB)
            for node in cluster.nodes:
                with psycopg.connect(node.dsn(), autocommit=True) as conn:
                    conn.execute(f"alter database {DB} set citus.enable_stat_counters = on")
            migrate.migrate(cluster.coordinator.dsn(DB))
            yield (
                Target(
                    "one node", single.dsn(DB), single.dsn(DB, "intime_service"), [single], False
                ),
                Target(
                    "cluster (3 nodes)",
                    cluster.coordinator.dsn(DB),
                    cluster.coordinator.dsn(DB, "intime_service"),
                    list(cluster.nodes),
                    True,
                ),
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _make_orgs(target: Target, count: int) -> None:
    with psycopg.connect(target.service) as service:
        for i in range(count):
            row = service.execute(
                "select api.create_organization(p_name => %s, p_slug => %s, p_timezone => 'UTC')",
                (f"Bench {i}", f"bench-{i}-{uuid.uuid4().hex[:6]}"),
            ).fetchone()
            service.commit()
            assert row is not None
            ids = []
            for role in ("admin", "member"):
                with actor(service, row[0]):
                    made = service.execute(
                        "select api.create_user(p_email => %s, p_full_name => 'Bench',"
                        " p_role => %s)",
                        (f"{role}-{uuid.uuid4().hex[:8]}@bench.example", role),
                    ).fetchone()
                assert made is not None
                ids.append(made[0])
            target.orgs.append(Org(row[0], ids[0], ids[1]))


def _threads(fn: Callable[[int], None], count: int, errors: list[BaseException]) -> None:
    """``fn(0) .. fn(count - 1)`` at once; the first error any of them kept is raised."""
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# -- 1. send_notification -------------------------------------------------------------------


def _sends(target: Target) -> Measured:
    stop = time.monotonic() + S.SEND_SECONDS
    counts = [0] * S.WRITERS
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        org = target.orgs[i % len(target.orgs)]
        try:
            with psycopg.connect(target.service) as conn:
                while time.monotonic() < stop:
                    # As the service, no user: the engine's sends (no per-user rate).
                    with actor(conn, org.org_id):
                        conn.execute(
                            "select api.send_notification(p_user_id => %s,"
                            " p_category => 'system', p_title => 'Bench', p_message => 'Hello',"
                            " p_channels => array['in_app'])",
                            (org.rep_id,),
                        )
                    counts[i] += 1
        except BaseException as exc:  # reported by _threads
            errors.append(exc)

    def work() -> int:
        _threads(writer, S.WRITERS, errors)
        return sum(counts)

    return _measure(target, S.WRITERS, work)


# -- 2. workflow executions -----------------------------------------------------------------


def _executions(target: Target) -> Measured:
    """Each call alone in its transaction: delegated on the cluster."""
    return _run_executions(target, in_blocks=False)


def _executions_in_blocks(target: Target) -> Measured:
    """Each call in a transaction block of its own: the cluster runs it on the
    coordinator (delegation off)."""
    return _run_executions(target, in_blocks=True)


def _run_executions(target: Target, *, in_blocks: bool) -> Measured:
    per_org = S.EXECUTIONS // len(target.orgs)
    tag = uuid.uuid4().hex[:8]  # this run's deals, and its workflow alone active
    with psycopg.connect(target.admin, autocommit=True) as admin:
        admin.execute(
            "update app.workflows set is_active = false where org_id = any(%s)",
            ([o.org_id for o in target.orgs],),
        )
    with psycopg.connect(target.service) as service:
        for org in target.orgs:
            with actor(service, org.org_id, org.admin_id):
                service.execute(
                    "select api.create_workflow(p_name => %s, p_entity_type => 'deal',"
                    " p_definition => %s)",
                    (f"bench {uuid.uuid4().hex[:6]}", Jsonb(ON_VALUE)),
                )
    with psycopg.connect(target.admin, autocommit=True) as admin:
        for org in target.orgs:
            admin.execute(
                "insert into app.deals (org_id, name, value, stage_id)"
                " select %s, %s || n, n, (select s.id from app.deal_stages as s"
                "  where s.org_id = %s and s.name = 'Lead')"
                " from generate_series(1, %s) as n",
                (org.org_id, f"Deal {tag} ", org.org_id, per_org),
            )
        ids = [o.org_id for o in target.orgs]
        admin.execute(
            "update app.deals set value = value + 1 where org_id = any(%s) and name like %s",
            (ids, f"Deal {tag} %"),
        )
        todo: queue.SimpleQueue[tuple[uuid.UUID, uuid.UUID]] = queue.SimpleQueue()
        for row in admin.execute(
            "select org_id, id from app.workflow_executions"
            " where org_id = any(%s) and status = 'pending'",
            (ids,),
        ).fetchall():
            todo.put((row[0], row[1]))
    done = [0] * S.THREADS
    errors: list[BaseException] = []

    def runner(i: int) -> None:
        try:
            with psycopg.connect(target.service, autocommit=True) as conn:
                while True:
                    try:
                        org_id, execution_id = todo.get_nowait()
                    except queue.Empty:
                        return
                    with conn.transaction() if in_blocks else contextlib.nullcontext():
                        conn.execute(
                            "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                            (execution_id, org_id),
                        )
                    done[i] += 1
        except BaseException as exc:  # reported by _threads
            errors.append(exc)

    def work() -> int:
        _threads(runner, S.THREADS, errors)
        return sum(done)

    measured = _measure(target, S.THREADS, work)
    with psycopg.connect(target.admin) as admin:
        row = admin.execute(
            "select count(*) from app.workflow_executions"
            " where org_id = any(%s) and status = 'completed'",
            ([o.org_id for o in target.orgs],),
        ).fetchone()
    assert row is not None
    assert row[0] >= measured.ops, f"{target.name}: {row[0]} of {measured.ops} completed"
    return measured


# -- 3. the campaign tick -------------------------------------------------------------------


def _tick(target: Target) -> Measured:
    per_org = S.CONTACTS // len(target.orgs)
    with psycopg.connect(target.admin, autocommit=True) as admin:
        contacts = {
            org.org_id: [
                r[0]
                for r in admin.execute(
                    "insert into app.contacts (org_id, first_name, last_name, email)"
                    " select %s, 'C', n::text, 'c' || n || '@bench.example'"
                    " from generate_series(1, %s) as n returning id",
                    (org.org_id, per_org),
                ).fetchall()
            ]
            for org in target.orgs
        }
    with psycopg.connect(target.service) as service:
        for org in target.orgs:
            with actor(service, org.org_id, org.admin_id):
                row = service.execute(
                    "select api.create_campaign(p_name => %s, p_send_window_start => '00:00',"
                    " p_send_window_end => '23:59:59', p_send_days => %s, p_timezone => 'UTC')",
                    (
                        f"bench {uuid.uuid4().hex[:6]}",
                        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                    ),
                ).fetchone()
                assert row is not None
                campaign = row[0]
                service.execute(
                    "select api.add_sequence_step(p_campaign_id => %s, p_channel => %s,"
                    " p_delay_minutes => %s, p_task_config => %s)",
                    (
                        campaign,
                        TASK_STEP["channel"],
                        TASK_STEP["delay_minutes"],
                        Jsonb(TASK_STEP["task_config"]),
                    ),
                )
                service.execute(
                    "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
                    (campaign, contacts[org.org_id]),
                )
                service.execute("select api.activate_campaign(p_campaign_id => %s)", (campaign,))

    def work() -> int:
        steps = 0
        with psycopg.connect(target.service, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "select processed, more_due from api.tick_campaigns(p_batch_size => 1000)"
                ).fetchone()
                assert row is not None
                steps += row[0]
                if not row[1]:
                    return steps

    return _measure(target, 1, work)


# -- the report -----------------------------------------------------------------------------


def _where(m: Measured) -> str:
    cpu_per_op = ", ".join(f"{k} {v / m.ops * 1000:,.2f} ms" for k, v in sorted(m.cpu.items()))
    trips = f"; {m.trips / m.ops:,.1f} shard executions per op" if m.trips else ""
    return f"CPU per op: {cpu_per_op}{trips}"


def run(quick: bool = False) -> Report:
    S.configure(quick=quick)
    report = Report("cluster", quick=quick)
    binaries = citus_build.find_citus_binaries(pgserver.default_home() / "pgbin")
    print("\n## Scale-out: one node and a 3-node Citus cluster on this machine\n")
    if binaries is None:
        print("skipped: no PostgreSQL with Citus (make citus builds it)")
        return report
    print(f"Machine: {cpu()}; PostgreSQL {binaries.major_version()} with Citus; {S.describe()}")
    cores = os.cpu_count() or 1
    workloads: list[tuple[str, str, Callable[[Target], Measured]]] = [
        ("api.send_notification, one per transaction", "sends/s", _sends),
        ("workflow executions (3 DB-only steps, api.run_execution)", "executions/s", _executions),
        (
            "workflow executions, each call in a transaction block (not delegated)",
            "executions/s",
            _executions_in_blocks,
        ),
        ("campaign tick, batch 1,000 (a task step)", "steps/s", _tick),
    ]
    with _sides(binaries) as (single, cluster):
        for side in (single, cluster):
            with phase(f"orgs on {side.name}"):
                _make_orgs(side, S.ORGS)
        cases: list[Case] = []
        notes: list[str] = []
        for title, unit, fn in workloads:
            results: dict[str, Measured] = {}
            for side in (cluster, single):  # the cluster first: a warm cache favours neither
                with phase(f"{title} on {side.name}"):
                    results[side.name] = fn(side)
            one, many = results[single.name], results[cluster.name]
            cases.append(Case(f"{title}: cluster vs one node", unit, many.rate, one.rate))
            cases.append(
                Case(
                    f"{title}: estimate on 3 machines of {cores} cores vs one node",
                    unit,
                    many.estimate(cores),
                    one.rate,
                )
            )
            notes.append(
                f"- {title}: one node {one.rate:,.0f} {unit} ({_where(one)}); cluster "
                f"{many.rate:,.0f} {unit} ({_where(many)})."
            )
        report.table(
            "Scale-out: the cluster on one machine, and the estimate on three",
            cases,
            "Ratio below 1: the cluster is slower. Where the time goes:\n"
            + "\n".join(notes)
            + f"\n\nThe estimate: min(cores / the busiest node's CPU per op, concurrency / "
            f"(the CPU per op of every node + shard executions per op x {RTT_MS} ms)), "
            f"{cores} cores per machine.",
        )
    return report


if __name__ == "__main__":
    run()
