"""`python -m bench [NAME ...] [--quick] [--json]`; `make bench` runs them all, in full.

Each benchmark prints its tables (ours beside a baseline measured in the same process);
``--json`` then prints one JSON object per benchmark, the last one on the last line of
stdout: {"bench", "quick", "machine", "cases": [{"case", "unit", "ours", "baseline",
"ratio", "goal", "met"}]}. ``--quick``: small sizes and fewer rounds, about a minute
each. bench/README.md says what each measures.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Sequence

from bench.common import Report

NAMES = (
    "history_trigger",
    "rls_policy",
    "webhooks",
    "smtp",
    "notifications",
    "workflows",
    "campaigns",
    "cluster",
)


def summary(module: str) -> str:
    """The first sentence of a benchmark module's docstring."""
    doc = (importlib.import_module(f"bench.{module}").__doc__ or "").strip()
    paragraph = " ".join(doc.split("\n\n", 1)[0].split())
    return paragraph.split(". ", 1)[0].rstrip(".") + "." if paragraph else ""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="InTime's benchmarks, each against a baseline run in the same process. "
        "No name: all of them (make bench).",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(NAMES)}")
    p.add_argument("--quick", action="store_true", help="small sizes: about a minute each")
    p.add_argument(
        "--json",
        action="store_true",
        help="after the tables, one JSON object per benchmark (the last line of stdout)",
    )
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        for name in NAMES:
            print(f"{name}\t{summary(name)}")
        return 0
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser().error(f"unknown benchmark {', '.join(unknown)}; one of: {', '.join(NAMES)}")
    names = args.names or list(NAMES)
    print("# InTime benchmarks" + (" (quick)" if args.quick else ""))
    reports: list[Report] = []
    from intime_cli.progress import progress_bar

    # A bar on stderr while they run (none when stderr is not a terminal, as under make).
    with progress_bar("bench", total=len(names)) as bar:
        for name in names:
            bar.step(name)
            module = importlib.import_module(f"bench.{name}")
            start = time.perf_counter()
            report: Report = module.run(quick=args.quick)
            print(f"\n_{name}: {time.perf_counter() - start:,.0f} s wall_", flush=True)
            reports.append(report)
    if args.json:
        for report in reports:
            print(report.json_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
