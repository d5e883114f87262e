# ruff: noqa: E501 - node ids and reasons, one per line, as the generator writes them
"""The tests of the SQL suites that do not run on a Citus cluster, each with the reason
(``INTIME_TEST_CITUS=1``, tests/conftest.py; docs/scale-out.md, "The SQL suites on the
cluster"): :data:`DIAGNOSED`, read by hand. To see what a change did, run every test on
the cluster (``INTIME_TEST_CITUS=all``, ``pytest -rfE``), then ``python -m
tests.citus_exclusions LOG IDS`` (the run's output and the suites' collected ids) prints
the failures DIAGNOSED does not name, by the error they met ("engine gap: <the Citus
error> (<function>)", or "not diagnosed yet" when an assertion failed), for
:data:`_BY_REASON` until they are read, and the DIAGNOSED tests that passed. The kinds of
reason:

- a check made for one server (its clock, plans, statistics or lock waits), which a
  cluster answers elsewhere: the behaviour the test holds is the same;
- a behaviour of the engine on a cluster that differs on purpose, with where it is
  written down;
- "engine gap": a path of the engine that does not run on Citus yet (docs/scale-out.md,
  "Open").
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

CLOCK = (
    "the fake clock (app.fake_now, a session setting of the test's connection, which "
    "production keeps off: app.settings.allow_fake_clock) holds on the coordinator only: "
    "a trigger or a statement that runs on a worker reads the real clock there"
)
PLAN = (
    "reads how one server plans or counts a statement (EXPLAIN, auto_explain, or the "
    "function and row statistics of the test's own backend): on a cluster Citus plans it "
    "and the workers run it"
)
WAIT = (
    "watches the test backend wait for a row lock (pg_stat_activity on the coordinator): "
    "on a cluster the lock is waited for on the worker that holds the row, and the "
    "coordinator's backend waits for the worker (wait event Client)"
)
PARTITIONS = (
    "on a cluster the log partitions are made on the coordinator as partitions of the "
    "distributed table (so a worker names them with a shard's suffix), and a month the "
    "default partition holds rows of waits instead of moving them (docs/scale-out.md, "
    "item 7)"
)

# Read by hand: the reason of each test that does not run on a cluster, by its node id
# (without parameters: every parameter of the test).
DIAGNOSED: dict[str, str] = {
    **dict.fromkeys(
        [
            "tests/sql/campaigns/test_on_time.py::test_a_step_due_outside_the_send_window_wakes_at_the_windows_opening",
            "tests/sql/campaigns/test_on_time.py::test_a_step_the_tick_defers_to_the_next_window_wakes_it_then",
            "tests/sql/campaigns/test_on_time.py::test_a_tick_leaving_nothing_due_drops_the_wake_ups_it_saw",
            "tests/sql/campaigns/test_on_time.py::test_a_tick_re_arms_for_a_due_time_it_did_not_write",
            "tests/sql/campaigns/test_on_time.py::test_a_tick_that_leaves_steps_due_arms_no_wake_up_for_later",
            "tests/sql/campaigns/test_on_time.py::test_an_earlier_due_time_moves_the_wake_up_and_a_later_one_adds_no_job",
            "tests/sql/campaigns/test_on_time.py::test_an_enrollment_holds_the_wake_up_not_yet_due_it_relies_on_until_it_commits",
            "tests/sql/campaigns/test_on_time.py::test_completing_a_step_re_arms_the_wake_up_for_the_next_step",
            "tests/sql/campaigns/test_on_time.py::test_enrolling_arms_a_wake_up_at_the_first_steps_due_time",
            "tests/sql/campaigns/test_on_time.py::test_the_minute_tick_leaves_one_wake_up_when_two_were_queued",
            "tests/sql/campaigns/test_on_time.py::test_the_tick_drops_the_wake_ups_of_rows_it_saw",
            "tests/sql/campaigns/test_stats.py::test_archiving_moves_old_logs_and_keeps_the_stats",
            "tests/sql/notifications/test_stream_credentials.py::test_an_expired_token_does_not_hold",
            "tests/sql/workflows/test_approval_links.py::test_a_link_expires_after_seven_days",
        ],
        CLOCK,
    ),
    **dict.fromkeys(
        [
            "tests/sql/campaigns/test_tick_concurrency.py::test_the_due_scan_uses_the_partial_index",
            "tests/sql/notifications/test_builtin.py::test_1000_tasks_assigned_in_one_update_give_1000_notifications_in_one_pass",
            "tests/sql/notifications/test_builtin.py::test_an_update_of_other_columns_never_reaches_the_sender",
            "tests/sql/notifications/test_builtin.py::test_the_emails_of_a_bulk_assignment_are_queued_in_one_statement",
            "tests/sql/notifications/test_inbox.py::test_the_feed_query_reads_the_seq_index",
            "tests/sql/notifications/test_inbox.py::test_the_unread_count_uses_the_partial_index",
            "tests/sql/notifications/test_inbox.py::test_the_inbox_page_reads_the_announced_index",
            "tests/sql/notifications/test_plan.py::test_a_send_calls_no_preference_function",
            "tests/sql/notifications/test_plan.py::test_the_preference_plan_is_inlined_into_the_senders_query",
            "tests/sql/workflows/test_batches.py::test_the_due_pick_reads_the_partial_indexes",
            "tests/sql/workflows/test_listing.py::test_one_execution_by_id_is_a_primary_key_read_even_in_a_generic_plan",
            "tests/sql/workflows/test_listing.py::test_the_hot_path_reads_the_listing_index_in_order",
            "tests/sql/workflows/test_set_order.py::test_a_group_whose_change_would_start_a_workflow_runs_one_by_one_once",
            "tests/sql/workflows/test_set_order.py::test_the_second_pick_reads_only_the_groups_workflow",
        ],
        PLAN,
    ),
    **dict.fromkeys(
        [
            "tests/sql/campaigns/test_ab.py::test_concurrent_evaluations_select_once",
            "tests/sql/campaigns/test_tick_concurrency.py::test_pausing_a_campaign_during_a_tick_waits_instead_of_deadlocking",
            "tests/sql/campaigns/test_tick_concurrency.py::test_two_ticks_at_once_run_each_step_exactly_once",
            "tests/sql/workflows/test_approval_links.py::test_two_connections_deciding_at_once_land_one_decision",
        ],
        WAIT,
    ),
    **dict.fromkeys(
        [
            "tests/sql/workflows/test_running.py::test_maintenance_makes_monthly_partitions_ahead",
            "tests/sql/workflows/test_running.py::test_maintenance_moves_rows_from_the_default_partition",
        ],
        PARTITIONS,
    ),
    "tests/sql/ops/test_reconcile.py::test_a_requeued_email_still_waits_for_its_send_after": (
        "on a cluster an email scheduled for later is no candidate of the reconciliation "
        "until its time (a backlog of scheduled sends would fill every window of "
        "candidates): a lost one is queued again by the first sweep after its send_after, "
        'not ahead for that time (docs/scale-out.md, "The reconciliation on a cluster")'
    ),
    "tests/sql/workflows/test_batches.py::test_a_full_batch_stays_within_the_subtransaction_cache[as a set]": (
        "on a cluster a batch adds no more of a group's executions after its pick (the "
        "query that finds them locks across orgs; api.run_executions says so): they run in "
        "the next batch"
    ),
}

# Written by the generator: the tests that failed on a cluster and DIAGNOSED does not name,
# by the error they met, to be read and moved to DIAGNOSED.
_BY_REASON: dict[str, list[str]] = {}


EXCLUDED: dict[str, str] = {
    nodeid: reason for reason, nodeids in _BY_REASON.items() for nodeid in nodeids
}


def reason_for(nodeid: str) -> str | None:
    """Why ``nodeid`` does not run on a cluster, or None when it does."""
    return DIAGNOSED.get(nodeid) or DIAGNOSED.get(nodeid.split("[", 1)[0]) or EXCLUDED.get(nodeid)


def _reason(body: str) -> str:
    """The reason a failed test's traceback gives."""
    es = [line[4:].strip() for line in body.split("\n") if line.startswith("E   ")]
    err = next((e for e in es if re.search(r"psycopg\.(errors\.)?\w+:", e)), None)
    where = None
    for e in es:
        found = re.search(r'(?:PL/pgSQL|SQL) function "?(app\.|api\.)?([a-z_]+)', e)
        if found:
            where = (found.group(1) or "app.") + found.group(2)
            if where.startswith("api."):
                break
    if err:
        message = re.sub(r"^psycopg\.(errors\.)?\w+: ", "", err)
        message = re.sub(r"_\d{5,}", "", message)  # a shard's suffix
        message = re.sub(r"\S+/run:\d+", "<node>", message)
        message = re.sub(r"type \d+", "type <oid>", message)
        return f"engine gap: {message[:110]}" + (f" ({where})" if where else "")
    first = re.sub(
        r"UUID\('[0-9a-f.-]+'\)|\b[0-9a-f]{8}-[0-9a-f-]{27}\b", "<id>", es[0] if es else "?"
    )
    first = re.sub(r"_y\d{4}m\d{2}(_\d+)?", "_<month>", first)
    return f"not diagnosed yet, fails on a cluster with: {first[:110]}"


def main(log_path: str, ids_path: str) -> None:
    """Print ``_BY_REASON`` for a run's log (its FAILED and ERROR lines, whose ids
    ``pytest -rfE`` cuts at a space, are completed from the collected ids): the failures
    DIAGNOSED does not name, by their error; then the DIAGNOSED tests that passed (to
    drop from it)."""
    log = Path(log_path).read_text()
    full = [line.strip() for line in Path(ids_path).read_text().splitlines() if "::" in line]
    ids: list[str] = []
    for cut in re.findall(r"^(?:FAILED|ERROR) (\S+)", log, re.MULTILINE):
        ids.extend([cut] if cut in full else [f for f in full if f.startswith(cut)])
    parts = re.split(r"\n_+ ((?:ERROR at \w+ of )?test_.*?) _+\n", log)
    sections: dict[str, str] = {}
    for i in range(1, len(parts), 2):
        sections.setdefault(re.sub(r"^ERROR at \w+ of ", "", parts[i]), parts[i + 1])
    by_reason: dict[str, set[str]] = collections.defaultdict(set)
    diagnosed: set[str] = set()
    for nodeid in ids:
        if nodeid in DIAGNOSED or nodeid.split("[", 1)[0] in DIAGNOSED:
            diagnosed.update({nodeid, nodeid.split("[", 1)[0]})
            continue
        reason = _reason(sections.get(nodeid.split("::", 1)[1], ""))
        if "is being accessed by other users" not in reason:  # a teardown's, not the test's
            by_reason[reason].add(nodeid)
    print("_BY_REASON: dict[str, list[str]] = {")
    for reason, nodeids in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"    {reason!r}: [")
        for nodeid in sorted(nodeids):
            print(f"        {nodeid!r},")
        print("    ],")
    print("}")
    passed = sorted(set(DIAGNOSED) - diagnosed)
    print(f"# DIAGNOSED tests that passed (drop them from DIAGNOSED): {passed}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
