"""Settings of one soak run (command line, else environment) and the fault schedule."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import random
from collections.abc import Sequence
from pathlib import Path

FAULT_KINDS = (
    "worker_kill",  # SIGKILL one worker; the harness restarts it
    "pg_terminate",  # pg_terminate_backend of every intime_service connection
    "pg_restart",  # pg_ctl stop -m fast, a few seconds down, start on the same port
    "smtp_451",  # the SMTP sink answers 451 to DATA for a while
    "webhook_hang",  # the webhook receiver accepts and never answers for a while
    "oversized_post",  # an unauthenticated POST of hundreds of MB to /webhooks/inbound
    "pg_down_sigterm",  # PostgreSQL stopped, SIGTERM to a worker with a send in flight,
    # PostgreSQL started once it exited; the worker is restarted on the same INTIME_HOME
)
LOG_FORMATS = ("mixed", "text", "json")


DEFAULT_SETTINGS = (
    ("reconcile_grace_seconds", "60"),
    ("email_send_lease_seconds", "60"),
    ("webhook_send_lease_seconds", "60"),
    # The soak's notifications come from each org's admin, far faster than a person sends.
    ("notification_rate_per_minute", "100000"),
)


def _settings(raw: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw.replace(",", " ").split():
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier() or not value:
            raise argparse.ArgumentTypeError(f"not name=value: {item!r}")
        pairs.append((name, value))
    return tuple(pairs)


@dataclasses.dataclass(frozen=True)
class SoakConfig:
    minutes: float = 10.0
    # After the load stops: how long in-flight work may take to settle. A SIGKILLed
    # worker's jobs wait for their heartbeat to expire (30 s) and the sweeper runs
    # each minute, so give it a few minutes.
    drain_seconds: float = 180.0
    seed: int = 0
    log_dir: Path | None = None  # copy the run's logs here before the run folder is removed
    pass_database_url: str = "auto"  # auto | yes | no (see processes.database_env)
    workers: int = 2
    webs: int = 2
    oversize_mb: int = 300
    smtp_refuse_seconds: float = 20.0
    hang_seconds: float = 25.0
    pg_down_seconds: float = 5.0
    # INTIME_WORKER_GRACE_SECONDS of the workers (the product's default is 30): a worker
    # stopped with the database down keeps it down for about grace + 20 s.
    worker_grace_seconds: float = 5.0
    # The workers' log format: mixed gives worker-1 json and worker-2 text, so that both
    # are exercised (and read: the worker id, the journal lines).
    worker_log_format: str = "mixed"
    # A process that exits by itself is counted as a failure, then restarted (as a
    # supervisor would), so that the rest of the run still measures something.
    restart_crashed: bool = True
    # app.settings the run applies (when the column exists): the product's defaults
    # re-queue a row in flight after 5 minutes and lease a claimed email for 2, longer
    # than a drain should take; these are the smallest the schema allows, near.
    settings: tuple[tuple[str, str], ...] = DEFAULT_SETTINGS
    # A Citus coordinator and this many worker nodes instead of one server (the PostgreSQL
    # 18 wheel with Citus, ``make citus``); one ``intime worker`` per node.
    citus: bool = False
    citus_workers: int = 2

    @property
    def worker_count(self) -> int:
        """``intime worker`` processes: ``workers``, or one per node of a cluster."""
        return self.citus_workers + 1 if self.citus else self.workers

    @property
    def load_seconds(self) -> float:
        return self.minutes * 60.0

    @property
    def worker_stop_limit(self) -> float:
        """Seconds a worker may take from SIGTERM to its exit (docs/operations.md)."""
        return self.worker_grace_seconds + 30.0

    def log_format(self, index: int) -> str:
        """The log format of worker ``index`` (0-based)."""
        if self.worker_log_format == "mixed":
            return ("json", "text")[index % 2]
        return self.worker_log_format

    @property
    def faults_per_kind(self) -> int:
        """3 in a 10-minute run, 1 in a 2-minute run; scales with the length."""
        return max(1, math.ceil(0.3 * self.minutes - 1e-9))


def fault_schedule(config: SoakConfig) -> list[tuple[float, str]]:
    """(seconds after the load starts, fault kind), evenly spread, kinds shuffled per round."""
    load = config.load_seconds
    start = min(20.0, 0.15 * load)
    end = load - min(15.0, 0.1 * load)
    rng = random.Random(config.seed)  # noqa: S311 - a reproducible schedule, not security
    order: list[str] = []
    for _ in range(config.faults_per_kind):
        kinds = list(FAULT_KINDS)
        rng.shuffle(kinds)
        if order and kinds[0] == order[-1]:
            kinds[0], kinds[-1] = kinds[-1], kinds[0]
        order += kinds
    step = (end - start) / len(order)
    return [(start + (i + 0.5) * step, kind) for i, kind in enumerate(order)]


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def parse_args(argv: Sequence[str] | None = None) -> SoakConfig:
    parser = argparse.ArgumentParser(
        prog="python -m tests.soak",
        description="Soak-and-chaos run of InTime: real processes, faults, then the invariants.",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=float(_env("SOAK_MINUTES", "10")),
        help="load duration (SOAK_MINUTES, default 10)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=float(_env("SOAK_DRAIN_SECONDS", "180")),
        help="budget for in-flight work to settle after the load (SOAK_DRAIN_SECONDS, 180)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(_env("SOAK_SEED", "0")) or random.SystemRandom().randrange(1, 10**6),
        help="seed of the fault order and the workload (SOAK_SEED; default random)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=Path(os.environ["SOAK_LOG_DIR"]) if os.environ.get("SOAK_LOG_DIR") else None,
        help="copy the process logs and the journal here (SOAK_LOG_DIR); the run folder "
        "itself is always removed",
    )
    parser.add_argument(
        "--pass-database-url",
        choices=("auto", "yes", "no"),
        default=_env("SOAK_PASS_DATABASE_URL", "auto"),
        help="also give web/worker DATABASE_URL (SOAK_PASS_DATABASE_URL; auto: only if the "
        "CLI still needs it besides INTIME_SERVICE_URL)",
    )
    parser.add_argument(
        "--oversize-mb",
        type=int,
        default=int(_env("SOAK_OVERSIZE_MB", "300")),
        help="size of the oversized unauthenticated POST (SOAK_OVERSIZE_MB, 300)",
    )
    parser.add_argument(
        "--settings",
        type=_settings,
        default=_settings(
            os.environ.get("SOAK_SETTINGS", " ".join(f"{k}={v}" for k, v in DEFAULT_SETTINGS))
        ),
        help="app.settings to apply, name=value ... (SOAK_SETTINGS; '' keeps the product's "
        "defaults; default: %(default)s)",
    )
    parser.add_argument(
        "--worker-grace-seconds",
        type=float,
        default=float(_env("SOAK_WORKER_GRACE_SECONDS", "5")),
        help="INTIME_WORKER_GRACE_SECONDS given to the workers (SOAK_WORKER_GRACE_SECONDS, 5; "
        "the product's default is 30); a worker must exit within it + 30 s of a SIGTERM",
    )
    parser.add_argument(
        "--worker-log-format",
        choices=LOG_FORMATS,
        default=_env("SOAK_WORKER_LOG_FORMAT", "mixed"),
        help="the workers' INTIME_LOG_FORMAT (SOAK_WORKER_LOG_FORMAT; mixed: worker-1 json, "
        "worker-2 text)",
    )
    parser.add_argument(
        "--citus",
        action="store_true",
        default=_env("SOAK_CITUS", "") not in ("", "0"),
        help="run on a Citus coordinator and two worker nodes, one intime worker per node "
        "(SOAK_CITUS=1; needs make citus)",
    )
    parser.add_argument(
        "--no-restart-crashed",
        action="store_true",
        help="leave a process that exited by itself down (it is counted either way)",
    )
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.drain_seconds < 0 or args.worker_grace_seconds < 0:
        parser.error(
            "--minutes must be positive, --drain-seconds and --worker-grace-seconds not negative"
        )
    if args.worker_log_format not in LOG_FORMATS:
        parser.error(f"--worker-log-format must be one of {', '.join(LOG_FORMATS)}")
    return SoakConfig(
        minutes=args.minutes,
        drain_seconds=args.drain_seconds,
        seed=args.seed,
        log_dir=args.log_dir,
        pass_database_url=args.pass_database_url,
        oversize_mb=args.oversize_mb,
        restart_crashed=not args.no_restart_crashed,
        settings=args.settings,
        worker_grace_seconds=args.worker_grace_seconds,
        worker_log_format=args.worker_log_format,
        citus=args.citus,
    )
