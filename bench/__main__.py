"""`make bench`: every benchmark, one after another."""

from __future__ import annotations

from bench import campaigns, history_trigger, notifications, rls_policy, smtp, webhooks, workflows
from intime_cli.progress import progress_bar

BENCHMARKS = (history_trigger, rls_policy, webhooks, smtp, notifications, workflows, campaigns)


def main() -> None:
    print("# InTime benchmarks")
    # A bar on stderr while they run (none when stderr is not a terminal, as under make).
    with progress_bar("bench", total=len(BENCHMARKS)) as bar:
        for bench in BENCHMARKS:
            bar.step(bench.__name__.rsplit(".", 1)[1])
            bench.run()


if __name__ == "__main__":
    main()
