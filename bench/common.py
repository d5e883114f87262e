"""Shared benchmark plumbing: a migrated throwaway server, sizes, timing, and the results.

Every benchmark module has ``run(quick: bool = False) -> Report``: it prints its tables
as it goes and returns the cases it measured (``Case``: ours beside its baseline, the
ratio, and the issue's goal when there is one), which ``python -m bench --json`` prints
as one JSON object on the last line of stdout.
"""

from __future__ import annotations

import contextlib
import json
import math
import operator
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from intime import migrate, pgserver


@contextlib.contextmanager
def bench_database() -> Iterator[tuple[pgserver.PgServer, str]]:
    """A fresh server (fsync on, like production) with a migrated database."""
    with pgserver.temporary_server(pgserver.default_home() / "pgbin", fast_unsafe=False) as s:
        with psycopg.connect(s.dsn(), autocommit=True) as conn:
            conn.execute("create database bench")
            jit = os.environ.get("INTIME_BENCH_JIT")
            if jit:  # "off": the bench database without JIT (the server's default otherwise)
                conn.execute(sql.SQL("alter database bench set jit = {}").format(sql.Literal(jit)))
        dsn = s.dsn("bench")
        migrate.migrate(dsn)
        yield s, dsn


def median_ms(fn: Callable[[], None], *, repeat: int = 7, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (p in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[
        min(998, max(0, round(p * 10) - 1))
    ]


def cpu() -> str:
    """The cores, the CPU model and Python."""
    model = "unknown cpu"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: SIM115
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def machine(server: pgserver.PgServer) -> str:
    """The CPU, the PostgreSQL, and whether its JIT is on for the bench database."""
    jit = "jit unknown"
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(server.dsn("bench"), autocommit=True) as conn,
    ):
        row = conn.execute("select current_setting('jit'), pg_jit_available()").fetchone()
        if row is not None:  # pg_jit_available(): a provider loaded and jit on
            jit = f"jit {row[0]}" + (" (no provider)" if row[0] == "on" and not row[1] else "")
    return (
        f"{cpu()}, PostgreSQL {server.binaries.major_version()} ({server.binaries.source}, {jit})"
    )


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Say on stderr how long a part of a benchmark took (stdout keeps the tables)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        print(f"[bench] {name}: {time.perf_counter() - start:,.1f} s", file=sys.stderr, flush=True)


# -- sizes --------------------------------------------------------------------------------


class Sizes:
    """A benchmark's sizes: ``INTIME_BENCH_<PREFIX>_<NAME>`` when set, else the full run's
    default or, with ``--quick``, the quick one. Read as attributes (``SIZES.EVENTS``)
    after ``configure``; before it, the full defaults (``python -m bench.NAME``)."""

    def __init__(self, prefix: str, **defaults: tuple[int, int]) -> None:
        self._prefix = prefix
        self._defaults = defaults
        self.quick = False
        self.configure(quick=False)

    def configure(self, *, quick: bool) -> Sizes:
        self.quick = quick
        for name, (full, fast) in self._defaults.items():
            raw = os.environ.get(f"INTIME_BENCH_{self._prefix}_{name}")
            setattr(self, name, int(raw) if raw else (fast if quick else full))
        return self

    def __getattr__(self, name: str) -> int:  # for the type checker: the sizes are ints
        raise AttributeError(name)

    def describe(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in self._defaults)


# -- results ------------------------------------------------------------------------------

OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Goal:
    """The issue's goal for a case: every condition must hold. A condition compares
    ``ours`` or ``ratio`` with a number: ``Goal.of(ours=(">=", 1000))``."""

    conditions: tuple[tuple[str, str, float], ...]
    text: str

    @staticmethod
    def of(text: str = "", **conditions: tuple[str, float]) -> Goal:
        for name, (op, _) in conditions.items():
            if name not in ("ours", "ratio") or op not in OPS:
                raise ValueError(f"bad goal condition {name} {op}")
        found = tuple((name, op, float(value)) for name, (op, value) in conditions.items())
        return Goal(found, text or " and ".join(f"{n} {op} {v:g}" for n, op, v in found))

    def met(self, case: Case) -> bool | None:
        results = []
        for name, op, value in self.conditions:
            actual = case.ours if name == "ours" else case.ratio
            if actual is None or math.isnan(actual):
                return None
            results.append(OPS[op](actual, value))
        return all(results)


@dataclass(frozen=True)
class Case:
    """One measured figure beside its baseline (None: the case has none).

    ``ratio`` is how many times better ours is: baseline / ours when lower is better
    (``lower_is_better``: times, latencies), ours / baseline otherwise (rates)."""

    case: str
    unit: str
    ours: float
    baseline: float | None = None
    goal: Goal | None = None
    lower_is_better: bool = False

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or math.isnan(self.baseline) or math.isnan(self.ours):
            return None
        if self.lower_is_better:
            return self.baseline / self.ours if self.ours else math.inf
        return self.ours / self.baseline if self.baseline else math.inf

    @property
    def met(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self)

    def as_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "unit": self.unit,
            "ours": _number(self.ours),
            "baseline": _number(self.baseline),
            "ratio": _number(self.ratio),
            "goal": self.goal.text if self.goal else None,
            "met": self.met,
        }


def _number(value: float | None) -> float | None:
    """JSON has no NaN or infinity: null."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 4)


def _cell(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:,.2f}"


@dataclass
class Report:
    """What one benchmark measured: its cases, in the order it printed them."""

    bench: str
    quick: bool = False
    machine: str = field(default_factory=cpu)
    cases: list[Case] = field(default_factory=list)

    def add(self, *cases: Case) -> None:
        self.cases.extend(cases)

    def table(self, title: str, cases: list[Case], note: str) -> None:
        """Print ``cases`` as a table (ours, baseline, ratio, goal) and keep them."""
        print(f"\n### {title}\n")
        print("| case | unit | ours | baseline | ratio (x better) | goal | met |")
        print("|---|---|---:|---:|---:|---|---|")
        for c in cases:
            ratio = c.ratio
            met = {None: "", True: "yes", False: "**no**"}[c.met]
            print(
                f"| {c.case} | {c.unit} | {_cell(c.ours)} | {_cell(c.baseline)} | "
                f"{'-' if ratio is None else f'{ratio:,.2f}x'} | "
                f"{c.goal.text if c.goal else ''} | {met} |"
            )
        print(f"\n{note}")
        self.add(*cases)

    def as_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "quick": self.quick,
            "machine": self.machine,
            "cases": [c.as_json() for c in self.cases],
        }

    def json_line(self) -> str:
        return json.dumps(self.as_json(), separators=(",", ":"), allow_nan=False)


def print_table(
    title: str, rows: list[tuple[str, float, float]], unit: str, note: str, report: Report
) -> None:
    """rows: (case, ours, baseline) in a unit where lower is better (ms): the ratio is
    baseline / ours. Printed and added to ``report``."""
    report.table(
        title,
        [Case(case, unit, ours, base, lower_is_better=True) for case, ours, base in rows],
        note,
    )
