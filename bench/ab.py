"""Before and after: the engine's hot paths at an earlier commit beside this checkout's, on
one server, interleaved.

`python -m bench.ab --before REV [--rounds N] [CASE ...]`. Comparing the figures of two
benchmark processes run one after the other (each with its own server) measures the machine
as much as the change: on the 2-core machines here, two such runs of one commit differ by up
to 10%. This tool builds both databases on one server instead: ``after`` migrated from this
checkout, ``before`` from REV (a ``git worktree`` of it, migrated by its own code in a child
process), seeded alike. One case at a time, each round runs it once on each side, the side
that goes first alternating, so that the server's state (checkpoints, autovacuum, the page
cache) weighs on both alike. It prints each side's median, their ratio (after / before as a
speed: above 1 is faster) and the median of the rounds' paired ratios.

Cases (bench/README.md, "Before and after"):
- ``tick``: ``api.tick_campaigns(p_batch_size => 1,000)`` until 3,000 due email steps are
  done, after the campaigns bench's reset (steps/s);
- ``send``: ``api.send_notification`` from 8 writers for ``--seconds``, each send its own
  transaction, as the engine (no rate limit), the stream's announce triggers on and no hub
  registered (sends/s);
- ``send_notify``: the same with a hub registered, so that every write NOTIFYs (sends/s);
- ``builtin``: a 1,000-row UPDATE that assigns 1,000 tasks, each recipient in-app only, and
  again with email (ms);
- ``run_one``: 300 fresh executions of the workflows bench's 3-step database workflow,
  each run by ``api.run_execution`` in a transaction of its own, from 2 threads, as the
  worker's ``workflow.run`` jobs run them (executions/s);
- ``run_batch``: the same 300 run by ``api.run_executions(p_limit => 50)`` until none is
  due, as the worker's ``workflow.run_due`` job runs a bulk start: in groups, one
  statement per step (executions/s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from bench import campaigns, workflows
from bench.common import bench_database, machine
from intime.config import as_role
from intime.db import actor
from intime.pgserver import PgServer
from intime_cli.seed import SeededOrg, seed_org

CASES = (
    "tick", "send", "send_notify", "builtin_in_app", "builtin_email", "run_one", "run_batch",
)  # fmt: skip
RUNS = 300
RUN_DEALS = "where org_id = %s and name like 'AB deal %%'"
TICK_DUE = 3000
TICK_BATCH = 1000
WRITERS = 8
BUILTIN_TASKS = 1000
SEND = (
    "select api.send_notification(p_user_id => %s, p_category => 'deal', "
    "p_title => 'Deal won', p_message => %s, p_channels => array['in_app'])"
)
TASKS = "where org_id = %s and subject like 'Bench task %%'"


@dataclass
class Side:
    name: str
    dsn: str
    org: SeededOrg
    users: list[uuid.UUID]
    tick: tuple[campaigns.Ctx, campaigns.Campaign]
    results: dict[str, list[float]] = field(default_factory=dict)


@contextmanager
def _checkout(rev: str) -> Iterator[Path]:
    """A detached worktree of ``rev``, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="intime-ab-"))
    tree = root / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(tree), rev],
        check=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _migrate_with(tree: Path, dsn: str) -> None:
    """Migrate ``dsn`` with the code and SQL of ``tree`` (its own process: its packages)."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from intime.migrate import migrate; migrate(sys.argv[1])",
            dsn,
        ],
        env={**os.environ, "PYTHONPATH": str(tree)},
        cwd=tree,
        check=True,
    )


def _setup(server: PgServer, name: str, dsn: str) -> Side:
    service = as_role(dsn, "intime_service")
    svc = psycopg.connect(service, autocommit=True)
    admin = psycopg.connect(dsn, autocommit=True)
    admin.execute("update app.settings set allow_fake_clock = true")
    org = seed_org(svc, "Before and after", "ab", deals=1)
    for table in (
        "app.workflows",
        "app.campaigns",
        "app.campaign_sequence_logs",
        "app.campaign_sequence_logs_archive",
        "queue.pgqueuer",
    ):
        admin.execute(f"delete from {table}")
    users = [
        r[0]
        for r in admin.execute(
            "select id from app.user_profiles where org_id = %s order by id", (org.org_id,)
        ).fetchall()
    ]
    # The tick's campaign, as the campaigns bench builds it.
    svc.execute(campaigns.SET_CLOCK, (campaigns.NOW,))
    row = svc.execute("select app.now()").fetchone()
    assert row is not None
    ctx = campaigns.Ctx(server, dsn, service, svc, admin, org, row[0])
    contacts, _ = campaigns._contacts(ctx, TICK_DUE)
    campaign = campaigns.Campaign(campaigns._campaign(ctx, "Before and after"), TICK_DUE)
    campaigns._enroll(ctx, campaign.id, contacts)
    # The built-ins' tasks.
    with admin.transaction():
        admin.execute("select api.set_actor(%s, %s)", (org.org_id, org.admin_id))
        admin.execute(
            "insert into app.activities (entity_type, entity_id, type, subject) "
            "select 'deal', %s, 'task', 'Bench task ' || g from generate_series(1, %s) g",
            (org.deal_ids[0], BUILTIN_TASKS),
        )
    admin.execute("vacuum analyze")
    campaigns._ours(ctx, campaign, TICK_BATCH)  # warm-up
    admin.execute(f"analyze {campaigns.CAMPAIGN_TABLES}")
    # The runs' workflow (the workflows bench's 3 database steps on a deal's value) and
    # its deals.
    with actor(svc, org.org_id, org.admin_id):
        svc.execute(
            "select api.create_workflow(p_name => 'ab', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(workflows.ON_VALUE),),
        )
    with actor(svc, org.org_id):
        svc.execute(
            "insert into app.deals (name, owner_id, stage_id, value) "
            "select 'AB deal ' || g, %s, "
            "(select s.id from app.deal_stages as s where s.org_id = %s and s.name = 'Lead'), "
            "1000 from generate_series(1, %s) as g",
            (org.rep_ids[0], org.org_id, RUNS),
        )
    return Side(name, dsn, org, users, (ctx, campaign), {c: [] for c in CASES})


def _tick(side: Side) -> float:
    ctx, campaign = side.tick
    return campaigns._ours(ctx, campaign, TICK_BATCH).rate


def _sends(side: Side, seconds: float, notify: bool) -> float:
    service = as_role(side.dsn, "intime_service")
    with psycopg.connect(side.dsn, autocommit=True) as admin:
        admin.execute("delete from app.stream_hubs where seen_at = 'infinity'")
        if notify:
            admin.execute(
                "insert into app.stream_hubs values (gen_random_uuid(), '-infinity', 'infinity')"
            )
        counts = [0] * WRITERS
        stop = time.perf_counter() + seconds

        def writer(w: int) -> None:
            with psycopg.connect(service, autocommit=True) as conn:
                i = 0
                while time.perf_counter() < stop:
                    with conn.transaction():
                        conn.execute(
                            "select api.set_actor(p_org_id => %s, p_user_id => null)",
                            (side.org.org_id,),
                        )
                        conn.execute(SEND, (side.users[(w + i) % len(side.users)], f"ab {i}"))
                    i += 1
                counts[w] = i

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - start
        admin.execute("delete from app.stream_hubs where seen_at = 'infinity'")
    return sum(counts) / elapsed


def _builtin(side: Side, channels: list[str]) -> float:
    org = side.org
    rep = org.rep_ids[0]
    with psycopg.connect(side.dsn, autocommit=True) as admin:

        def tx(actor: uuid.UUID, query: str, params: tuple[object, ...]) -> None:
            with admin.transaction():
                admin.execute("select api.set_actor(%s, %s)", (org.org_id, actor))
                admin.execute(query, params)

        tx(
            rep,
            "select api.set_preference(p_category => 'assignment', p_channels => %s)",
            (channels,),
        )
        tx(org.admin_id, f"update app.activities set assignee_id = null {TASKS}", (org.org_id,))
        admin.execute(
            "delete from app.email_sends where notification_id in ("
            "select id from app.notifications where template_slug = 'task_assigned')"
        )
        admin.execute("delete from app.notifications where template_slug = 'task_assigned'")
        admin.execute("delete from queue.pgqueuer where entrypoint = 'email.send'")
        start = time.perf_counter()
        tx(org.admin_id, f"update app.activities set assignee_id = %s {TASKS}", (rep, org.org_id))
        elapsed = (time.perf_counter() - start) * 1000
        row = admin.execute(
            "select count(*) from app.notifications where template_slug = 'task_assigned'"
        ).fetchone()
        assert row == (BUILTIN_TASKS,), row
    return elapsed


def _fresh_executions(side: Side) -> list[uuid.UUID]:
    """No execution left, then one UPDATE of the runs' deals starts RUNS fresh ones (their
    jobs deleted: the case runs them)."""
    org = side.org
    with psycopg.connect(side.dsn, autocommit=True) as admin:
        for table in ("workflow_executions", "workflow_instances", "workflow_execution_logs"):
            admin.execute(f"delete from app.{table} where org_id = %s", (org.org_id,))
        admin.execute(
            "delete from app.activities where org_id = %s and metadata ? 'workflow_id'",
            (org.org_id,),
        )
        with admin.transaction():
            admin.execute("select api.set_actor(%s, %s)", (org.org_id, org.admin_id))
            admin.execute(f"update app.deals set value = value + 1 {RUN_DEALS}", (org.org_id,))
        admin.execute("delete from queue.pgqueuer")
        admin.execute(f"vacuum app.deals, app.activities, {workflows.ENGINE_TABLES}")
        ids = [
            r[0]
            for r in admin.execute(
                "select id from app.workflow_executions where org_id = %s and status = 'pending'",
                (org.org_id,),
            ).fetchall()
        ]
    assert len(ids) == RUNS, len(ids)
    return ids


def _run_one(side: Side) -> float:
    ids = _fresh_executions(side)
    service = as_role(side.dsn, "intime_service")

    def run(k: int) -> None:
        with psycopg.connect(service) as conn:
            for execution_id in ids[k::2]:
                with conn.transaction():
                    conn.execute(
                        "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                        (execution_id, side.org.org_id),
                    )

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(ids) / (time.perf_counter() - start)


def _run_batch(side: Side) -> float:
    ids = _fresh_executions(side)
    service = as_role(side.dsn, "intime_service")
    done: int = 0
    with psycopg.connect(service) as conn:
        start = time.perf_counter()
        while True:
            with conn.transaction():
                row = conn.execute(
                    "select picked, completed from api.run_executions(p_limit => 50)"
                ).fetchone()
            assert row is not None
            done += int(row[1])
            if row[0] == 0:
                break
        elapsed = time.perf_counter() - start
    assert done == len(ids), (done, len(ids))
    return done / elapsed


def _runners(seconds: float) -> dict[str, Callable[[Side], float]]:
    return {
        "tick": _tick,
        "send": lambda s: _sends(s, seconds, notify=False),
        "send_notify": lambda s: _sends(s, seconds, notify=True),
        "builtin_in_app": lambda s: _builtin(s, ["in_app"]),
        "builtin_email": lambda s: _builtin(s, ["in_app", "email"]),
        "run_one": _run_one,
        "run_batch": _run_batch,
    }


UNITS = {
    "tick": ("steps/s", True),
    "send": ("sends/s", True),
    "send_notify": ("sends/s", True),
    "builtin_in_app": ("ms", False),
    "builtin_email": ("ms", False),
    "run_one": ("executions/s", True),
    "run_batch": ("executions/s", True),
}


def speed(case: str, before: float, after: float) -> float:
    """after / before as a speed (above 1: after is faster), whatever the unit."""
    higher_is_better = UNITS[case][1]
    return after / before if higher_is_better else before / after


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.split("\n\n")[0])
    p.add_argument("--before", required=True, help="the earlier commit (any git revision)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--seconds", type=float, default=5.0, help="each send case's duration")
    p.add_argument("cases", nargs="*", metavar="CASE", help=f"some of: {', '.join(CASES)}")
    args = p.parse_args(argv)
    cases = args.cases or list(CASES)
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        p.error(f"unknown case {', '.join(unknown)}; one of {', '.join(CASES)}")
    campaigns.SIZES.configure(quick=True)
    runners = _runners(args.seconds)
    with _checkout(args.before) as tree, bench_database() as (server, dsn):
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("create database before")
        before_dsn = server.dsn("before")
        _migrate_with(tree, before_dsn)
        sides = [_setup(server, "before", before_dsn), _setup(server, "after", dsn)]
        # A case at a time (the sends grow the tables the others read), its rounds
        # interleaved.
        for case in cases:
            for r in range(args.rounds):
                for side in sides if r % 2 == 0 else sides[::-1]:
                    side.results[case].append(runners[case](side))
        before, after = sides
        print(f"\n### Before ({args.before}) and after (this checkout), {args.rounds} rounds\n")
        print("| case | unit | before | after | after / before (speed) | paired median |")
        print("|---|---|---:|---:|---:|---:|")
        for case in cases:
            b, a = statistics.median(before.results[case]), statistics.median(after.results[case])
            paired = statistics.median(
                speed(case, x, y)
                for x, y in zip(before.results[case], after.results[case], strict=True)
            )
            print(
                f"| {case} | {UNITS[case][0]} | {b:,.1f} | {a:,.1f} | "
                f"{speed(case, b, a):.3f} | {paired:.3f} |"
            )
        print(f"\nMachine: {machine(server)}; one server, two databases, rounds interleaved.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
