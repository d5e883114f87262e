"""api.get_queue_stats, api.list_failed_jobs and api.requeue_job: who sees which jobs,
and a re-queue that never re-runs work that is already over."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from intime.db import actor, errors_translated
from intime.errors import (
    InvalidParameterError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.sql.ops.conftest import NOTE, Ops, email_key, started
from tests.support import Database


def call(
    conn: psycopg.Connection,
    query: str,
    params: tuple = (),
    *,
    org_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """``query`` as the service role: acting for no org, or for ``org_id``/``user_id``."""
    cur = conn.cursor(row_factory=dict_row)
    if org_id is None:
        with errors_translated(), conn.transaction():
            return cur.execute(query, params).fetchall()
    with actor(conn, org_id, user_id):
        return cur.execute(query, params).fetchall()


def failed_email(ops: Ops, error: str = "KeyError: 'subject'") -> tuple[uuid.UUID, int]:
    """A queued email whose email.send job the worker held as failed."""
    send_id = ops.mail.queue(to="held@example.com", subject="Hi", text="x")
    return send_id, ops.hold_failed(email_key(send_id), error=error)


def foreign_job(ops: Ops, org_id: uuid.UUID, status: str = "failed") -> int:
    """A job of another entrypoint whose payload names ``org_id``."""
    payload = json.dumps({"org_id": str(org_id), "thing": 1}).encode()
    row = ops.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'custom.job', %s, %s) returning id",
        (payload, status),
    ).fetchone()
    assert row is not None
    return row[0]


def empty_queue(ops: Ops) -> None:
    """The seed queued some emails: start from an empty queue."""
    ops.owner.execute("delete from queue.pgqueuer")


def job(ops: Ops, job_id: int) -> dict[str, Any] | None:
    cur = ops.owner.cursor(row_factory=dict_row)
    return cur.execute(
        "select id, status::text, attempts from queue.pgqueuer where id = %s", (job_id,)
    ).fetchone()


# Reading


def test_failed_jobs_show_their_org_error_and_payload(ops: Ops) -> None:
    send_id, job_id = failed_email(ops)
    [row] = call(ops.conn, "select * from api.list_failed_jobs()")
    assert row["job_id"] == job_id
    assert row["entrypoint"] == "email.send"
    assert row["org_id"] == ops.mail.org_id
    assert row["error"] == "KeyError: 'subject'"
    assert row["payload"] == {"org_id": str(ops.mail.org_id), "email_send_id": str(send_id)}
    assert row["failed_at"] is not None


def test_an_org_admin_sees_only_their_orgs_failed_jobs(ops: Ops) -> None:
    _, mine = failed_email(ops)
    foreign_job(ops, ops.orgs.b.org_id)
    a = ops.orgs.a
    rows = call(ops.conn, "select job_id from api.list_failed_jobs()", org_id=a.org_id,
                user_id=a.admin_id)  # fmt: skip
    assert [r["job_id"] for r in rows] == [mine]
    everyone = call(ops.conn, "select job_id from api.list_failed_jobs()")
    assert len(everyone) == 2


def test_the_failed_job_list_is_bounded(ops: Ops) -> None:
    for _ in range(3):
        foreign_job(ops, ops.orgs.a.org_id)
    assert len(call(ops.conn, "select * from api.list_failed_jobs(p_limit => 2)")) == 2
    with pytest.raises(InvalidParameterError):
        call(ops.conn, "select * from api.list_failed_jobs(p_limit => 0)")
    with pytest.raises(InvalidParameterError):
        call(ops.conn, "select * from api.list_failed_jobs(p_limit => 501)")


def test_queue_stats_count_jobs_per_entrypoint_and_status(ops: Ops) -> None:
    empty_queue(ops)
    failed_email(ops)
    ops.mail.queue(to="now@example.com", subject="Hi", text="x")
    ops.mail.queue(to="later@example.com", subject="Hi", text="x", send_after="2999-01-01Z")
    rows = call(ops.conn, "select * from api.get_queue_stats() where entrypoint = 'email.send'")
    by_status = {r["status"]: r for r in rows}
    assert by_status["queued"]["jobs"] == 2
    assert by_status["failed"]["jobs"] == 1
    # The oldest waiting job is the one due now; the one for 2999 is not waiting.
    assert by_status["queued"]["oldest_at"] is not None
    assert by_status["failed"]["oldest_at"] is not None


def test_queue_stats_of_a_scheduled_job_only_have_no_oldest_waiting(ops: Ops) -> None:
    empty_queue(ops)
    ops.mail.queue(to="later@example.com", subject="Hi", text="x", send_after="2999-01-01Z")
    [row] = call(ops.conn, "select * from api.get_queue_stats() where entrypoint = 'email.send'")
    assert (row["status"], row["jobs"], row["oldest_at"]) == ("queued", 1, None)


def test_an_org_admin_sees_their_orgs_queue_stats_only(ops: Ops) -> None:
    empty_queue(ops)
    failed_email(ops)
    foreign_job(ops, ops.orgs.b.org_id)
    b = ops.orgs.b
    rows = call(ops.conn, "select * from api.get_queue_stats()", org_id=b.org_id,
                user_id=b.admin_id)  # fmt: skip
    assert [(r["entrypoint"], r["status"], r["jobs"]) for r in rows] == [
        ("custom.job", "failed", 1)
    ]


def payload_parses(ops: Ops, query: str, org_id: uuid.UUID, user_id: uuid.UUID) -> tuple:
    """``query``'s rows as ``user_id`` of ``org_id`` (the service role acting for them), and
    how many payloads it parsed (calls of app._ops_job_payload, counted by PostgreSQL)."""
    conn = ops.owner  # a superuser may count function calls, then acts as the service role
    conn.execute("set track_functions = 'pl'")
    conn.execute("set role intime_service")
    try:
        with actor(conn, org_id, user_id):
            rows = conn.execute(query).fetchall()
            conn.execute("reset role")
            (parses,) = conn.execute(
                "select coalesce(sum(calls), 0) from pg_stat_xact_user_functions "
                "where schemaname = 'app' and funcname = '_ops_job_payload'"
            ).fetchone()
    finally:
        conn.execute("reset role")
        conn.execute("reset track_functions")
    return rows, parses


def test_an_org_admins_queue_stats_parse_no_payload(ops: Ops) -> None:
    """The org's jobs are found by a byte search, not by parsing every job's payload (with
    an exception block each: 8 times the service role's cost on a long queue)."""
    empty_queue(ops)
    a, b = ops.orgs.a, ops.orgs.b
    ops.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "select 0, 'custom.job', convert_to(jsonb_build_object('org_id', o, 'n', g)::text, "
        "'UTF8'), 'queued' from unnest(array[%s, %s]::uuid[]) as o, generate_series(1, 300) as g",
        (a.org_id, b.org_id),
    )
    ops.owner.execute(  # not JSON at all: neither counted nor an error
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'custom.job', '\\xff00'::bytea, 'queued')"
    )
    compact = json.dumps({"org_id": str(a.org_id)}, separators=(",", ":")).encode()
    ops.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'custom.job', %s, 'queued')",
        (compact,),
    )
    rows, parses = payload_parses(ops, "select * from api.get_queue_stats()", a.org_id, a.admin_id)
    assert [(r[0], r[1], r[2]) for r in rows] == [("custom.job", "queued", 301)]
    assert parses == 0


def test_an_org_admins_failed_job_list_parses_one_page_of_payloads(ops: Ops) -> None:
    empty_queue(ops)
    a = ops.orgs.a
    for _ in range(12):
        foreign_job(ops, a.org_id)
        foreign_job(ops, ops.orgs.b.org_id)
    query = "select job_id, org_id from api.list_failed_jobs(p_limit => 5)"
    rows, parses = payload_parses(ops, query, a.org_id, a.admin_id)
    assert len(rows) == 5
    assert {r[1] for r in rows} == {a.org_id}
    assert parses == 5


@pytest.mark.parametrize(
    "query",
    [
        "select * from api.get_queue_stats()",
        "select * from api.list_failed_jobs()",
        "select api.requeue_job(p_job_id => 1)",
    ],
)
def test_a_member_is_refused_the_queue(ops: Ops, query: str) -> None:
    a = ops.orgs.a
    with pytest.raises(PermissionDeniedError):
        call(ops.conn, query, org_id=a.org_id, user_id=a.rep_ids[0])


@pytest.mark.parametrize(
    "query",
    [
        "select * from api.get_queue_stats()",
        "select * from api.list_failed_jobs()",
        "select api.requeue_job(p_job_id => 1)",
    ],
)
def test_a_member_sql_login_is_refused_the_queue(db: Database, ops: Ops, query: str) -> None:
    with db.connect(ops.orgs.login_a) as conn, pytest.raises(PermissionDeniedError):  # a rep
        call(conn, query)


# Re-queueing


def test_requeue_puts_an_in_flight_emails_job_back_as_it_was(ops: Ops) -> None:
    send_id, job_id = failed_email(ops)
    ops.owner.execute("update queue.pgqueuer set attempts = 3 where id = %s", (job_id,))
    [row] = call(ops.conn, "select api.requeue_job(p_job_id => %s) as id", (job_id,))
    assert row["id"] == job_id
    assert job(ops, job_id) == {"id": job_id, "status": "queued", "attempts": 0}
    assert ops.row("email_sends", send_id)["status"] == "queued"
    logged = ops.owner.execute(
        "select status::text from queue.pgqueuer_log where job_id = %s order by id", (job_id,)
    ).fetchall()
    assert logged == [("failed",), ("queued",)]


def test_an_org_admin_requeues_their_orgs_job(ops: Ops) -> None:
    _, job_id = failed_email(ops)
    a = ops.orgs.a
    [row] = call(ops.conn, "select api.requeue_job(p_job_id => %s) as id", (job_id,),
                 org_id=a.org_id, user_id=a.admin_id)  # fmt: skip
    assert row["id"] == job_id
    assert job(ops, job_id)["status"] == "queued"


def test_an_org_admin_cannot_requeue_another_orgs_job(ops: Ops) -> None:
    _, job_id = failed_email(ops)
    b = ops.orgs.b
    with pytest.raises(NotFoundError):
        call(ops.conn, "select api.requeue_job(p_job_id => %s)", (job_id,),
             org_id=b.org_id, user_id=b.admin_id)  # fmt: skip
    assert job(ops, job_id)["status"] == "failed"


def test_requeue_of_an_unknown_job_is_not_found(ops: Ops) -> None:
    with pytest.raises(NotFoundError):
        call(ops.conn, "select api.requeue_job(p_job_id => -5)")


def test_requeue_refuses_a_job_that_did_not_fail(ops: Ops) -> None:
    job_id = foreign_job(ops, ops.orgs.a.org_id, status="queued")
    with pytest.raises(InvalidStateError, match="only a failed job"):
        call(ops.conn, "select api.requeue_job(p_job_id => %s)", (job_id,))


def test_requeue_refuses_the_job_of_an_email_already_sent(ops: Ops) -> None:
    """The provider accepted it since: running the job again must not send it twice."""
    send_id, job_id = failed_email(ops)
    ops.claim(send_id)
    ops.mail.sent(send_id, "re_once")
    with pytest.raises(InvalidStateError, match="its email is sent already"):
        call(ops.conn, "select api.requeue_job(p_job_id => %s)", (job_id,))
    assert job(ops, job_id)["status"] == "failed"


def test_requeue_of_a_failed_executions_run_points_to_retry(ops: Ops) -> None:
    _, execution, job_id = started(ops, NOTE)
    ops.hold_failed(job_id=job_id)
    ops.owner.execute(
        "update app.workflow_executions set status = 'failed', completed_at = now() where id = %s",
        (execution,),
    )
    with pytest.raises(InvalidStateError, match=r"api\.retry_execution"):
        call(ops.conn, "select api.requeue_job(p_job_id => %s)", (job_id,))


def test_requeue_of_a_pending_executions_run_keeps_its_job_id(ops: Ops) -> None:
    flows, execution, job_id = started(ops, NOTE)
    ops.hold_failed(job_id=job_id)
    [row] = call(ops.conn, "select api.requeue_job(p_job_id => %s) as id", (job_id,))
    assert row["id"] == job_id == flows.execution(execution)["wake_job_id"]
    assert flows.run(execution) == "completed"


def test_requeue_answers_the_live_job_that_took_over(ops: Ops) -> None:
    """The sweep queued a new job for the same email meanwhile: the failed one goes."""
    send_id, held = failed_email(ops)
    payload = json.dumps({"org_id": str(ops.mail.org_id), "email_send_id": str(send_id)})
    (live,) = ops.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status, dedupe_key) "
        "values (0, 'email.send', %s, 'queued', %s) returning id",
        (payload.encode(), email_key(send_id)),
    ).fetchone()
    [row] = call(ops.conn, "select api.requeue_job(p_job_id => %s) as id", (held,))
    assert row["id"] == live
    assert job(ops, held) is None
    assert [j["id"] for j in ops.jobs(email_key(send_id))] == [live]


def test_requeue_of_a_job_with_no_known_domain_row_is_pgqueuers_requeue(ops: Ops) -> None:
    job_id = foreign_job(ops, ops.orgs.a.org_id)
    [row] = call(ops.conn, "select api.requeue_job(p_job_id => %s) as id", (job_id,))
    assert row["id"] == job_id
    assert job(ops, job_id)["status"] == "queued"
