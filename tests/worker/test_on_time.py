"""On time (issue 17) for workflow timers: the job the worker gets for a timer is due at
the timer's own time on the real clock (never before it, so the runner never finds it
early and leaves it to the minute sweep), and the writes that park an execution again
(a resume) queue it again at the same time. The jobs run the way the worker runs them
(tests/sql/workflows/conftest.py: one api.run_execution per due job); the clock is the
real one, the queue's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.sql.workflows.conftest import Flows
from tests.support import TwoOrgs

NAP = [
    {"name": "nap", "type": "wait", "duration": "PT1M"},
    {"name": "note", "type": "create_activity", "subject": "after the nap"},
]


@pytest.fixture
def flows(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Flows:
    admin.execute("delete from queue.pgqueuer")  # only this test's jobs
    f = Flows(service, admin, two_orgs)
    f.at(None)
    return f


def start(flows: Flows, steps: list[dict[str, Any]]) -> uuid.UUID:
    wf = flows.create({"triggers": [{"type": "manual"}], "steps": steps})
    rows = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (wf, flows.orgs.a.deal_ids[0]),
        user=flows.orgs.a.rep_ids[0],
    )
    return rows[0]["id"]


def timer_jobs(flows: Flows, execution_id: uuid.UUID) -> list[datetime]:
    return [j["execute_after"] for j in flows.jobs() if j["execution_id"] == str(execution_id)]


def assert_due_at(job_time: datetime, wake_at: datetime) -> None:
    """The job's time is the timer's: not before it, and no later than the write's own
    moment (the enqueue reads the clock once more after the timer was computed)."""
    assert timedelta(0) <= job_time - wake_at < timedelta(seconds=1), (job_time, wake_at)


def test_a_wait_steps_job_is_due_at_its_wake_time_not_before(flows: Flows) -> None:
    execution = start(flows, NAP)
    assert flows.drain(due_only=True) == ["waiting"]
    row = flows.execution(execution)
    assert (row["status"], row["waiting_for"]) == ("waiting", "timer")
    [job_time] = timer_jobs(flows, execution)
    assert_due_at(job_time, row["wake_at"])


def test_a_resumed_timer_is_queued_again_at_its_wake_time(flows: Flows) -> None:
    execution = start(flows, NAP)
    flows.drain(due_only=True)
    wake_at = flows.execution(execution)["wake_at"]
    flows.call("select api.pause_execution(p_execution_id => %s)", (execution,))
    flows.call("select api.resume_execution(p_execution_id => %s)", (execution,))

    assert flows.drain(due_only=True) == ["waiting"]  # the resume's run parks it again
    row = flows.execution(execution)
    assert (row["status"], row["wake_at"]) == ("waiting", wake_at)
    jobs = timer_jobs(flows, execution)
    assert len(jobs) == 2  # the first timer's job, and the one the re-park queued
    for job_time in jobs:
        assert_due_at(job_time, wake_at)


def test_a_timers_job_is_claimed_ahead_of_an_older_email_backlog(
    flows: Flows, admin: psycopg.Connection
) -> None:
    """pgqueuer claims by priority, then id: a campaign's burst of email.send jobs queued
    earlier does not hold a workflow's timer (or start, or resume) back."""
    admin.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "select 0, 'email.send', convert_to('{}', 'UTF8'), 'queued' from generate_series(1, 50)"
    )
    execution = start(flows, NAP)
    flows.drain(due_only=True)
    [job] = [j for j in flows.jobs() if j["execution_id"] == str(execution)]
    admin.execute("update queue.pgqueuer set execute_after = now() where id = %s", (job["id"],))
    first = admin.execute(
        "select id from queue.pgqueuer where status = 'queued' and execute_after <= now() "
        "order by priority desc, id limit 1"
    ).fetchone()
    assert first == (job["id"],)
