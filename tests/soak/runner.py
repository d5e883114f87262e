"""One soak run from start to end: setup, load with faults, drain, checks, report, clean-up.

Everything the run starts is registered for clean-up as soon as it exists (an
``AsyncExitStack``): on success, on an invariant failure, on a harness error, on Ctrl-C
and on SIGTERM, the processes are stopped, the server is stopped and the run folder is
removed (its logs copied first when ``--log-dir`` is given).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path

from intime_cli.serving import free_port
from tests.soak import checks as c
from tests.soak.clients import HttpStats, SseClient, Web, WebClients, cancel_all, run_all
from tests.soak.config import FAULT_KINDS, SoakConfig, fault_schedule
from tests.soak.faults import Faults
from tests.soak.journal import Journal
from tests.soak.peers import ResendStub, SmtpSink, WebhookReceiver
from tests.soak.processes import (
    Cluster,
    Database,
    ManagedProcess,
    Supervisor,
    clean_environ,
    cli_needs_database_url,
    database_env,
    intime_command,
    stop_stray_servers,
)
from tests.soak.report import render
from tests.soak.workload import Load, OrgWorld, build_world, new_svix_secret

RECOVERY_LOAD_SECONDS = 30.0  # load after the last PostgreSQL restart, at least
WEB_STOP_LIMIT = 15.0  # uvicorn closes open streams after 5 s (docs/operations.md)


async def run(config: SoakConfig) -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="intime-soak-"))
    run_dir.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach pg/
    journal = Journal(run_dir / "journal.log")
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await _run(config, run_dir, journal)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        journal.close()
        if config.log_dir is not None:
            kept = _keep_logs(run_dir, config.log_dir)
            print(f"soak: logs kept in {kept}", flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def _keep_logs(run_dir: Path, log_dir: Path) -> Path:
    target = log_dir / time.strftime("soak-%Y%m%d-%H%M%S")
    target.mkdir(parents=True, exist_ok=True)
    for path in [*run_dir.glob("*.log"), run_dir / "pg" / "postgres.log"]:
        if path.exists():
            shutil.copy2(path, target / path.name)
    for path in run_dir.glob("pg/*/postgres.log"):  # a cluster's nodes
        shutil.copy2(path, target / f"postgres-{path.parent.name}.log")
    return target


def _streams(
    world: list[OrgWorld], webs: list[Web], stats: HttpStats, journal: Journal, seed: int
) -> list[SseClient]:
    """Every streamed user on one web, and each org's first rep on both."""
    first, second = webs[0], webs[-1]
    clients = []
    for org in world:
        placement = [
            ("admin", org.admin_id, second),
            ("manager", org.manager_id, first),
            ("rep0", org.rep_ids[0], first),
            ("rep0", org.rep_ids[0], second),
            ("rep1", org.rep_ids[1], second),
        ]
        for label, user, web in placement:
            clients.append(
                SseClient(
                    name=f"{org.slug}/{label}@{web.name}",
                    web=web,
                    org_slug=org.slug,
                    user_id=str(user),
                    token=org.tokens[user],
                    stats=stats,
                    journal=journal,
                    rng=random.Random(f"{seed}:{org.slug}:{label}:{web.name}"),  # noqa: S311
                )
            )
    return clients


async def _run(config: SoakConfig, run_dir: Path, journal: Journal) -> int:
    journal.log(
        "setup",
        f"run folder {run_dir}; load {config.minutes:g} min, seed {config.seed}, "
        f"{config.faults_per_kind} fault(s) of each kind, drain budget {config.drain_seconds:g}s",
    )
    async with contextlib.AsyncExitStack() as stack:
        soak = Soak(config, run_dir, journal, stack)
        await soak.setup()
        await soak.start_processes()
        await soak.open_streams()
        await soak.load_with_faults()
        results = await soak.checks()
        results.insert(soak.shutdown_row, await soak.shutdown())
        title = (
            f"InTime soak: {config.minutes:g} min load, seed {config.seed}, "
            f"{config.worker_count} workers + {config.webs} webs"
            + (f" on Citus (coordinator + {config.citus_workers} nodes)" if config.citus else "")
            + "; app.settings "
            f"{', '.join(soak.applied_settings) or 'defaults'}"
        )
        print(render(title, results), flush=True)
        return 1 if any(r.ok is False for r in results) else 0


class Soak:
    """The phases of a run; everything started is pushed on ``stack`` for clean-up."""

    def __init__(
        self, config: SoakConfig, run_dir: Path, journal: Journal, stack: contextlib.AsyncExitStack
    ) -> None:
        self.config, self.run_dir, self.journal, self.stack = config, run_dir, journal, stack
        self.db: Database | Cluster = (
            Cluster(run_dir / "pg", workers=config.citus_workers)
            if config.citus
            else Database(run_dir / "pg")
        )
        self.resend_key, self.inbound_token = secrets.token_hex(16), secrets.token_hex(16)
        self.resend_secret = new_svix_secret()
        self.sink = SmtpSink(journal, free_port())
        self.stub = ResendStub(journal, free_port(), self.resend_key)
        self.receiver = WebhookReceiver(journal, free_port())
        self.home = run_dir / "home"
        self.webs = [
            Web(f"web-{i + 1}", f"http://127.0.0.1:{free_port()}") for i in range(config.webs)
        ]
        self.pass_db = cli_needs_database_url(config.pass_database_url)
        self.supervisor = Supervisor(journal, restart_crashed=config.restart_crashed)
        self.stats = HttpStats(journal)
        self.world: list[OrgWorld] = []
        self.streams: list[SseClient] = []
        self.stream_tasks: list[asyncio.Task[None]] = []
        self.faults: Faults | None = None
        self.load: Load | None = None
        self.drained: c.DrainResult | None = None
        self.applied_settings: list[str] = []
        self.shutdown_row = 0  # where the SIGTERM-at-the-end row goes in the table

    async def setup(self) -> None:
        self.stack.callback(self.db.close)
        applied = await asyncio.to_thread(self.db.start, self.config.settings)
        self.journal.log(
            "setup",
            f"PostgreSQL {self.db.server.binaries.major_version()} (fsync on) on {self.db.where}, "
            f"migrated; app.settings: {', '.join(applied) or 'defaults'}",
        )
        self.applied_settings = applied
        self.world = await asyncio.to_thread(
            build_world, self.db.service_dsn, self.receiver.url_for
        )
        for org in self.world:
            self.receiver.add_org(org.slug, org.webhook_secret)
        for peer in (self.sink, self.stub, self.receiver):
            await peer.start()
            self.stack.push_async_callback(peer.stop)
        self.journal.log(
            "setup",
            f"orgs {', '.join(f'{o.slug} ({o.provider})' for o in self.world)} seeded; SMTP "
            f"sink :{self.sink.port}, Resend stub :{self.stub.port}, webhook receiver "
            f":{self.receiver.port}",
        )

    def _env(self) -> dict[str, str]:
        return {
            **clean_environ(),
            "PYTHONUNBUFFERED": "1",
            "INTIME_HOME": str(self.home),
            "INTIME_PUBLIC_URL": self.webs[0].base,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.sink.port),
            "RESEND_API_KEY": self.resend_key,
            "RESEND_BASE_URL": self.stub.url,
            "RESEND_WEBHOOK_SECRETS": self.resend_secret,
            "INBOUND_WEBHOOK_TOKEN": self.inbound_token,
            "INTIME_WEBHOOK_ALLOW": "127.0.0.0/8",
            **database_env(self.db.service_url, self.db.admin_url, pass_database_url=self.pass_db),
        }

    async def start_processes(self) -> None:
        self.home.mkdir()
        env = self._env()
        self.journal.log(
            "setup",
            "web and worker get INTIME_SERVICE_URL"
            + (" and DATABASE_URL (the CLI still needs it)" if self.pass_db else " only"),
        )
        intime = intime_command()
        for web in self.webs:
            port = web.base.rsplit(":", 1)[1]
            self.supervisor.add(
                ManagedProcess(
                    web.name,
                    [intime, "web", "--port", port],
                    env,
                    self.run_dir / f"{web.name}.log",
                    self.journal,
                    health_url=f"{web.base}/healthz",
                    stop_limit=WEB_STOP_LIMIT,
                )
            )
        # Every worker shares the one INTIME_HOME, as several workers on one host would:
        # the journal of a stopped worker is replayed by the next one started there.
        grace = self.config.worker_grace_seconds
        formats = []
        for i in range(self.config.worker_count):
            name = f"worker-{i + 1}"
            fmt = self.config.log_format(i)
            node, service_url, admin_url = self.db.worker_node(i)
            formats.append(f"{name} {fmt}" + (f" on {node}" if node else ""))
            worker_env = {
                **env,
                **database_env(service_url, admin_url, pass_database_url=self.pass_db),
                "INTIME_WORKER_GRACE_SECONDS": f"{grace:g}",
                "INTIME_LOG_FORMAT": fmt,
            }
            self.supervisor.add(
                ManagedProcess(
                    name,
                    [intime, "worker"],
                    worker_env,
                    self.run_dir / f"{name}.log",
                    self.journal,
                    stop_limit=self.config.worker_stop_limit,
                    node=node,
                )
            )
        self.journal.log(
            "setup",
            f"workers: INTIME_WORKER_GRACE_SECONDS={grace:g} (exit within "
            f"{self.config.worker_stop_limit:g}s of a SIGTERM), logs {', '.join(formats)}; "
            f"INTIME_HOME {self.home} shared by every process",
        )
        self.stack.callback(stop_stray_servers, self.home)
        self.stack.push_async_callback(self.supervisor.terminate_all, 5.0)
        await self.supervisor.start_all()

    async def open_streams(self) -> None:
        self.clients = WebClients(self.webs, self.stats)
        self.stack.push_async_callback(self.clients.aclose)
        self.streams = _streams(self.world, self.webs, self.stats, self.journal, self.config.seed)
        self.stream_tasks = await run_all(self.streams)
        self.stack.push_async_callback(cancel_all, self.stream_tasks)
        await asyncio.wait_for(asyncio.gather(*(s.connected.wait() for s in self.streams)), 60)
        self.journal.log(
            "setup",
            f"{len(self.streams)} SSE streams open on {', '.join(w.name for w in self.webs)}",
        )

    async def load_with_faults(self) -> None:
        load = self.load = Load(
            world=self.world,
            service_dsn=self.db.service_dsn,
            webs=self.clients,
            web_list=self.webs,
            sink=self.sink,
            stub=self.stub,
            journal=self.journal,
            seed=self.config.seed,
            resend_secret=self.resend_secret,
            inbound_token=self.inbound_token,
        )
        faults = self.faults = Faults(
            config=self.config,
            journal=self.journal,
            db=self.db,
            supervisor=self.supervisor,
            webs=self.webs,
            sink=self.sink,
            stub=self.stub,
            receiver=self.receiver,
            stats=self.stats,
            home=self.home,
        )
        self.stack.push_async_callback(faults.cancel)
        self.stack.push_async_callback(load.stop)
        schedule = fault_schedule(self.config)
        self.journal.log(
            "load", "starting; faults at " + ", ".join(f"{t:.0f}s {k}" for t, k in schedule)
        )
        started = self.journal.now()
        load.start()
        fault_task = asyncio.create_task(faults.run(schedule, started))
        await asyncio.sleep(self.config.load_seconds)
        if not fault_task.done():
            fault_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fault_task
        await faults.finish()
        # The load outlasts the faults: a PostgreSQL restart that ends at or after the
        # load's time gets RECOVERY_LOAD_SECONDS of load after it, or there is no email
        # left to show the recovery (a soak failed on that, not on the product).
        ups = [r.t_up for r in faults.records if r.kind in c.PG_RESTARTS and r.t_up is not None]
        wait = max(ups, default=0.0) + RECOVERY_LOAD_SECONDS - self.journal.now()
        if wait > 0:
            self.journal.log("load", f"goes on {wait:.0f}s after the last PostgreSQL restart")
            await asyncio.sleep(wait)
        await load.stop()
        self.journal.log("load", f"stopped after {self.journal.now() - started:.0f}s; draining")
        self.drained = await c.drain(self.db, self.journal, self.config.drain_seconds)
        self.journal.log(
            "drain",
            ("settled" if self.drained.settled else "NOT settled")
            + f" after {self.drained.seconds:.0f}s",
        )
        for stream in self.streams:
            stream.keep_open()
        await c.sse_catch_up(self.db, self.streams, 60.0)
        self.supervisor.sample_all()

    async def checks(self) -> list[c.Check]:
        assert self.faults is not None
        assert self.load is not None
        assert self.drained is not None
        db, faults, load = self.db, self.faults, self.load
        sink, stub, receiver = self.sink, self.stub, self.receiver
        sse = await c.sse_tally(db, self.streams)
        results: list[c.Check] = [
            c.check_faults(faults.records, FAULT_KINDS, self.config.faults_per_kind),
            await c.check_workload(db, self.config.minutes, sink, stub, receiver, self.stats, sse),
            *await c.check_lost(db),
            c.Check(
                "  drain",
                ("settled" if self.drained.settled else "not settled")
                + f" in {self.drained.seconds:.0f}s (budget {self.config.drain_seconds:g}s)",
            ),
            *await c.check_duplicates(
                db, sink, stub, receiver, faults.records, self.supervisor.worker_names()
            ),
            *await c.check_failed_jobs(db),
            *c.check_http(self.stats),
            *c.check_sse(sse, self.streams),
            *c.check_processes(self.supervisor.processes),
            c.check_rescues(self.supervisor.workers),
            *c.check_recovery(faults.records, [*sink.deliveries, *stub.deliveries]),
            c.check_pg_down_sigterm(faults.records),
            c.check_outcome_journal(self.supervisor.workers, self.home),
        ]
        self.shutdown_row = len(results)
        results += [
            c.check_oversized(faults.records),
            c.check_signatures(receiver),
            c.check_embedded(self.home, self.pass_db),
            c.Check(
                "  peers",
                f"SMTP sink accepted {len(sink.deliveries)} (451 x{sink.refused}); Resend stub "
                f"{len(stub.deliveries)}; webhooks acked {sum(receiver.acked.values())} of "
                f"{sum(receiver.received.values())} received (hung {receiver.hung})",
            ),
            c.Check(
                "  workload",
                ", ".join(f"{k} {n}" for k, n in sorted(load.counters.items())),
                details=[f"{n:>5} x {e}" for e, n in load.errors.most_common(10)],
            ),
            *await c.totals(db),
        ]
        signatures = await c.job_error_signatures(db)
        if signatures:
            results.append(
                c.Check("  job errors (queue log)", f"{len(signatures)} kinds", details=signatures)
            )
        return results

    async def shutdown(self) -> c.Check:
        """SIGTERM every web and worker at once; each gets its own limit."""
        await cancel_all(self.stream_tasks)
        results = await self.supervisor.terminate_all()
        return c.check_shutdown(self.supervisor.processes, results)
