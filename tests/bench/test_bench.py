"""`python -m bench`: its command line, and the result model every benchmark reports with
(bench/common.py). No figure is asserted: a benchmark's numbers are not a test's."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import NAMES
from bench.common import Case, Goal, Report, Sizes

ROOT = Path(__file__).resolve().parents[2]
JSON_KEYS = {"case", "unit", "ours", "baseline", "ratio", "goal", "met"}


def _bench(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def test_list_names_every_benchmark_module():
    modules = {
        p.stem
        for p in (ROOT / "bench").glob("*.py")
        if not p.stem.startswith("_")
        and p.stem not in {"common", "webhook_server", "smtplib_transport", "ab"}
    }
    out = _bench("--list")
    assert out.returncode == 0, out.stderr
    listed = [line.split("\t")[0] for line in out.stdout.splitlines()]
    assert listed == list(NAMES)
    assert set(listed) == modules


def test_an_unknown_benchmark_is_refused_with_the_names():
    out = _bench("nosuch")
    assert out.returncode == 2
    assert "unknown benchmark nosuch" in out.stderr
    assert "rls_policy" in out.stderr


def test_quick_json_prints_one_parsable_object_on_the_last_line():
    out = _bench("rls_policy", "--quick", "--json", timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert (last["bench"], last["quick"]) == ("rls_policy", True)
    assert "PostgreSQL" in last["machine"]
    assert last["cases"]
    for case in last["cases"]:
        assert set(case) == JSON_KEYS
        assert case["ours"] > 0


def test_the_ratio_is_how_many_times_better_ours_is():
    assert Case("t", "ms", 10, 30, lower_is_better=True).ratio == 3
    assert Case("r", "events/s", 3000, 1500).ratio == 2
    assert Case("none", "s", 4.0).ratio is None


def test_a_goal_holds_when_every_condition_does():
    goal = Goal.of(ours=(">=", 10_000), ratio=(">=", 25))
    assert Case("c", "steps/s", 12_000, 400, goal).met is True
    assert Case("c", "steps/s", 12_000, 600, goal).met is False  # 20x
    assert Case("c", "steps/s", 9_000, 100, goal).met is False
    assert Case("c", "steps/s", 12_000, None, goal).met is None  # no ratio to judge
    assert Case("c", "steps/s", 12_000).met is None  # no goal


def test_a_goal_names_itself_unless_given_a_text():
    assert Goal.of(ours=("<=", 50)).text == "ours <= 50"
    assert Goal.of(ours=("<=", 5), text="p99 <= 5 s").text == "p99 <= 5 s"


def test_a_goal_refuses_an_unknown_field_or_operator():
    with pytest.raises(ValueError, match="bad goal"):
        Goal.of(baseline=(">=", 1))
    with pytest.raises(ValueError, match="bad goal"):
        Goal.of(ours=("==", 1))


def test_json_has_null_for_a_figure_that_is_not_a_number():
    case = Case("empty", "ms", math.nan, 0.0, Goal.of(ours=("<=", 50)), lower_is_better=True)
    assert case.as_json() == {
        "case": "empty",
        "unit": "ms",
        "ours": None,
        "baseline": 0.0,
        "ratio": None,
        "goal": "ours <= 50",
        "met": None,
    }


def test_a_report_keeps_the_cases_it_printed_in_order(capsys):
    report = Report("demo", quick=True, machine="test box")
    report.table(
        "A table", [Case("a", "ms", 2, 4, lower_is_better=True), Case("b", "x/s", 5, 10)], "note"
    )
    report.add(Case("c", "s", 1.5, goal=Goal.of(ours=("<=", 5))))
    printed = capsys.readouterr().out
    assert "### A table" in printed
    assert "| a | ms | 2.00 | 4.00 | 2.00x |" in printed
    assert "note" in printed
    line = json.loads(report.json_line())
    assert line["bench"] == "demo"
    assert line["quick"] is True
    assert line["machine"] == "test box"
    assert [c["case"] for c in line["cases"]] == ["a", "b", "c"]
    assert [c["met"] for c in line["cases"]] == [None, None, True]


def test_sizes_take_the_quick_default_unless_the_environment_names_one(monkeypatch):
    sizes = Sizes("TESTSZ", EVENTS=(6000, 1500), ROUNDS=(3, 1))
    assert (sizes.EVENTS, sizes.ROUNDS) == (6000, 3)
    sizes.configure(quick=True)
    assert (sizes.EVENTS, sizes.ROUNDS) == (1500, 1)
    monkeypatch.setenv("INTIME_BENCH_TESTSZ_EVENTS", "42")
    sizes.configure(quick=True)
    assert (sizes.EVENTS, sizes.ROUNDS) == (42, 1)
    sizes.configure(quick=False)
    assert (sizes.EVENTS, sizes.ROUNDS) == (42, 3)


def test_the_cluster_bench_says_it_skips_without_citus(monkeypatch, capsys):
    import bench.cluster

    monkeypatch.setattr(bench.cluster.citus_build, "find_citus_binaries", lambda _home: None)
    report = bench.cluster.run(quick=True)
    assert report.cases == []
    assert "skipped: no PostgreSQL with Citus (make citus builds it)" in capsys.readouterr().out


def test_the_before_and_after_tool_refuses_an_unknown_case(capsys):
    """bench/ab.py compares an earlier commit with this checkout; a case it does not have
    is a usage error before any checkout or server."""
    from bench import ab

    with pytest.raises(SystemExit) as exited:
        ab.main(["--before", "HEAD", "nosuch"])
    assert exited.value.code == 2
    assert "unknown case nosuch" in capsys.readouterr().err
