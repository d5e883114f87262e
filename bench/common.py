"""Shared benchmark plumbing: a migrated throwaway server, timing, tables."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator

import psycopg

from intime import migrate, pgserver


@contextlib.contextmanager
def bench_database() -> Iterator[tuple[pgserver.PgServer, str]]:
    """A fresh server (fsync on, like production) with a migrated database."""
    with pgserver.temporary_server(pgserver.default_home() / "pgbin", fast_unsafe=False) as s:
        with psycopg.connect(s.dsn(), autocommit=True) as conn:
            conn.execute("create database bench")
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
    return f"{cpu()}, PostgreSQL {server.binaries.major_version()} ({server.binaries.source})"


def print_table(title: str, rows: list[tuple[str, float, float]], unit: str, note: str) -> None:
    """rows: (case, ours, baseline). Ratio is baseline / ours (higher is better for us)."""
    print(f"\n### {title}\n")
    print(f"| case | ours ({unit}) | baseline ({unit}) | baseline / ours |")
    print("|---|---:|---:|---:|")
    for case, ours, base in rows:
        print(f"| {case} | {ours:,.2f} | {base:,.2f} | {base / ours:,.2f}x |")
    print(f"\n{note}")
