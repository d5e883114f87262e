"""The reconciliation on the cluster (docs/scale-out.md, "The reconciliation on a
cluster"): the queue is per node, so the coordinator's sweep asks every node's queue
about the rows in flight. A job live on any node keeps its row from being queued again;
a row without one anywhere is queued once; a job held failed is put back on its own
node; a failed job on another node that happens to have the same id fails nothing. The
same decisions as on one node (tests/sql/ops/test_reconcile.py, which runs on the
cluster too)."""

from __future__ import annotations

import json
import uuid
from typing import Any, LiteralString

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from intime import migrate, pgcluster
from intime.db import actor
from intime_cli.seed import SeededOrg, seed_org
from tests.support import Mail

NOTE = [{"name": "note", "type": "create_activity", "subject": "hit"}]


@pytest.fixture(scope="module")
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> SeededOrg:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        return seed_org(service, "Reconcile Co", f"reconcile-{uuid.uuid4().hex[:8]}")


def _nodes(citus: pgcluster.PgCluster) -> list[str]:
    return [node.dsn("intime") for node in citus.nodes]


def _jobs(citus: pgcluster.PgCluster, key: str) -> list[tuple[int, int, str]]:
    """(node index, job id, status) of every node's jobs with this dedupe key."""
    found = []
    for n, dsn in enumerate(_nodes(citus)):
        with psycopg.connect(dsn) as node:
            rows = node.execute(
                "select id, status::text from queue.pgqueuer where dedupe_key = %s order by id",
                (key,),
            ).fetchall()
        found += [(n, int(r[0]), str(r[1])) for r in rows]
    return found


def _drop_everywhere(citus: pgcluster.PgCluster, where: LiteralString, *params: Any) -> None:
    for dsn in _nodes(citus):
        with psycopg.connect(dsn, autocommit=True) as node:
            node.execute(
                sql.SQL("delete from queue.pgqueuer where {}").format(sql.SQL(where)), params
            )


def _put_job(
    citus: pgcluster.PgCluster,
    node: int,
    entrypoint: str,
    payload: dict[str, Any],
    *,
    key: str | None = None,
    status: str = "queued",
    error: str | None = None,
    job_id: int | None = None,
) -> int:
    """A job in one node's queue, as that node's worker would have left it (with the id
    given: each node draws ids of its own, so another node's job may have it)."""
    with psycopg.connect(_nodes(citus)[node], autocommit=True) as conn:
        row = conn.execute(
            "insert into queue.pgqueuer (id, priority, entrypoint, payload, status,"
            " execute_after, dedupe_key) values (coalesce(%s, nextval('queue.pgqueuer_id_seq')),"
            " 0, %s, convert_to(%s, 'UTF8'), %s, now() + interval '1 hour', %s) returning id",
            (job_id, entrypoint, json.dumps(payload), status, key),
        ).fetchone()
        assert row is not None
        if error is not None:
            conn.execute(
                "insert into queue.pgqueuer_log (job_id, status, priority, entrypoint, traceback)"
                " values (%s, 'failed', 0, %s, %s)",
                (row[0], entrypoint, json.dumps({"exception_message": error})),
            )
    return int(row[0])


def _reconcile(
    citus: pgcluster.PgCluster, node: int = 0, limit: int = 1000, datestyle: str = "ISO, MDY"
) -> dict[str, Any]:
    with psycopg.connect(citus.nodes[node].dsn("intime", "intime_service")) as service:
        service.execute(sql.SQL("set datestyle = {}").format(sql.Literal(datestyle)))
        row = service.execute(
            "select api.reconcile_in_flight_work(p_limit => %s)", (limit,)
        ).fetchone()
        service.commit()
    assert row is not None
    return dict(row[0])


def _lost_email(
    citus: pgcluster.PgCluster, org: SeededOrg, admin: psycopg.Connection
) -> tuple[uuid.UUID, str]:
    """An email queued ten minutes ago whose job is on no node's queue."""
    with psycopg.connect(
        citus.coordinator.dsn("intime", "intime_service"), autocommit=True
    ) as service:
        send_id = Mail(service, org.org_id, org.admin_id).queue(
            to="lost@example.com", subject="Hi", text="x"
        )
    key = f"email.send:{send_id}"
    _drop_everywhere(citus, "dedupe_key = %s", key)
    admin.execute(
        "update app.email_sends set updated_at = now() - interval '10 minutes'"
        " where org_id = %s and id = %s",
        (org.org_id, send_id),
    )
    return send_id, key


def _reconciled(admin: psycopg.Connection, org: SeededOrg, send_id: uuid.UUID) -> int:
    row = admin.execute(
        "select reconciled from app.email_sends where org_id = %s and id = %s",
        (org.org_id, send_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_email_whose_job_vanished_from_every_node_is_queued_again_once(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        first = _reconcile(citus)
        second = _reconcile(citus)
        reconciled = _reconciled(admin, org, send_id)
    assert first["emails_requeued"] >= 1
    assert reconciled == 1
    assert [(node, status) for node, _, status in _jobs(citus, key)] == [(0, "queued")]
    assert second["emails_requeued"] == 0


def test_an_email_whose_job_is_live_on_a_worker_node_is_not_queued_again(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        job = _put_job(
            citus,
            2,
            "email.send",
            {"org_id": str(org.org_id), "email_send_id": str(send_id)},
            key=key,
        )
        _reconcile(citus)
        reconciled = _reconciled(admin, org, send_id)
    assert reconciled == 0
    assert _jobs(citus, key) == [(2, job, "queued")]


def test_an_email_job_held_failed_on_a_worker_node_is_put_back_there(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        held = _put_job(
            citus,
            1,
            "email.send",
            {"org_id": str(org.org_id), "email_send_id": str(send_id)},
            key=key,
            status="failed",
            error="KeyError",
        )
        _reconcile(citus)
        reconciled = _reconciled(admin, org, send_id)
    assert reconciled == 1
    assert _jobs(citus, key) == [(1, held, "queued")]  # none queued beside it


def test_an_email_whose_job_keeps_failing_on_a_worker_node_ends_failed_with_its_error(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        admin.execute(
            "update app.email_sends set reconciled = 3 where org_id = %s and id = %s",
            (org.org_id, send_id),
        )
        _put_job(
            citus,
            2,
            "email.send",
            {"org_id": str(org.org_id), "email_send_id": str(send_id)},
            key=key,
            status="failed",
            error="AttributeError: 'NoneType'",
        )
        counts = _reconcile(citus)
        row = admin.execute(
            "select status, error from app.email_sends where org_id = %s and id = %s",
            (org.org_id, send_id),
        ).fetchone()
    assert counts["emails_failed"] >= 1
    assert row is not None
    assert row[0] == "failed"
    assert str(row[1]).endswith("the job last failed with: AttributeError: 'NoneType'")


def _execution(
    citus: pgcluster.PgCluster, org: SeededOrg, admin: psycopg.Connection
) -> tuple[uuid.UUID, int]:
    """A manual workflow's execution started on a deal, its run job dropped from every
    node, untouched for ten minutes: (the execution, its wake_job_id)."""
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        with actor(service, org.org_id, org.admin_id):
            row = service.execute(
                "select api.create_workflow(p_name => %s, p_entity_type => 'deal',"
                " p_definition => %s)",
                (
                    f"manual {uuid.uuid4().hex[:6]}",
                    Jsonb({"triggers": [{"type": "manual"}], "steps": NOTE}),
                ),
            ).fetchone()
        assert row is not None
        with actor(service, org.org_id, org.admin_id):
            started = service.execute(
                "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)",
                (row[0], org.deal_ids[0]),
            ).fetchone()
    assert started is not None
    execution = uuid.UUID(str(started[0]))
    job = admin.execute(
        "select wake_job_id from app.workflow_executions where org_id = %s and id = %s",
        (org.org_id, execution),
    ).fetchone()
    assert job is not None
    _drop_everywhere(
        citus,
        "entrypoint = 'workflow.run'"
        " and convert_from(payload, 'UTF8')::jsonb ->> 'execution_id' = %s",
        str(execution),
    )
    admin.execute(
        "update app.workflow_executions set updated_at = now() - interval '10 minutes'"
        " where org_id = %s and id = %s",
        (org.org_id, execution),
    )
    return execution, int(job[0])


def _state(admin: psycopg.Connection, org: SeededOrg, execution: uuid.UUID) -> dict[str, Any]:
    row = admin.execute(
        "select status, error_message, wake_job_id, execution_context ->> 'requeued'"
        " from app.workflow_executions where org_id = %s and id = %s",
        (org.org_id, execution),
    ).fetchone()
    assert row is not None
    return {"status": row[0], "error": row[1], "wake_job_id": row[2], "requeued": row[3]}


def test_an_execution_whose_run_job_is_held_failed_on_a_worker_node_ends_failed_with_the_error(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        execution, _ = _execution(citus, org, admin)
        held = _put_job(
            citus,
            2,
            "workflow.run",
            {"org_id": str(org.org_id), "execution_id": str(execution)},
            status="failed",
            error="ZeroDivisionError: division by zero",
        )
        admin.execute(
            "update app.workflow_executions set wake_job_id = %s where org_id = %s and id = %s",
            (held, org.org_id, execution),
        )
        counts = _reconcile(citus)
        state = _state(admin, org, execution)
    assert counts["executions_failed"] >= 1
    assert state["status"] == "failed"
    assert "the run failed: ZeroDivisionError: division by zero" in str(state["error"])


def test_another_nodes_failed_job_of_the_same_id_fails_no_execution(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """Each node draws job ids from a sequence of its own: a failed job of the execution's
    wake_job_id on another node, running another execution, is not its job."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        execution, _ = _execution(citus, org, admin)
        other = _put_job(
            citus,
            1,
            "workflow.run",
            {"org_id": str(org.org_id), "execution_id": str(uuid.uuid4())},
            status="failed",
            error="KeyError",
        )
        admin.execute(
            "update app.workflow_executions set wake_job_id = %s where org_id = %s and id = %s",
            (other, org.org_id, execution),
        )
        _reconcile(citus)
        state = _state(admin, org, execution)
    assert state["status"] == "pending"
    assert state["requeued"] == "1"
    assert state["wake_job_id"] != other


def test_an_execution_with_a_live_run_job_on_a_worker_node_is_left_alone(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        execution, _ = _execution(citus, org, admin)
        live = _put_job(
            citus, 1, "workflow.run", {"org_id": str(org.org_id), "execution_id": str(execution)}
        )
        admin.execute(
            "update app.workflow_executions set wake_job_id = %s where org_id = %s and id = %s",
            (live, org.org_id, execution),
        )
        _reconcile(citus)
        state = _state(admin, org, execution)
    assert state == {"status": "pending", "error": None, "wake_job_id": live, "requeued": None}


def test_a_worker_nodes_sweep_leaves_the_reconciliation_to_the_coordinator(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    counts = _reconcile(citus, node=1)
    with psycopg.connect(citus.nodes[1].dsn("intime", "intime_service")) as service:
        tick = service.execute("select api.tick_workflows(p_limit => 1000)").fetchone()
    assert counts["skipped"] == "the coordinator reconciles on a cluster"
    assert tick is not None
    assert tick[0]["reconcile"] == "skipped: the coordinator reconciles on a cluster"


def test_migrating_a_cluster_counts_its_steps_to_the_end(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """`intime db migrate` shows a progress bar: on Citus it has one step more (the node
    queues), which the count once left out (the command stopped before that step)."""
    steps: list[tuple[str, int, int]] = []
    migrate.migrate(citus_db[0], progress=lambda *step: steps.append(step))
    assert steps[-1][0] == "node queues"
    assert [done for _, done, _ in steps] == list(range(len(steps)))
    assert {total for _, _, total in steps} == {len(steps)}


def test_the_unsettled_list_shows_a_job_in_a_worker_nodes_queue(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        _put_job(
            citus,
            2,
            "email.send",
            {"org_id": str(org.org_id), "email_send_id": str(send_id)},
            key=key,
        )
        execution, _ = _execution(citus, org, admin)
        # Its job on node 1; jobs of the same id on the other nodes run other executions
        # (one of them held failed).
        live = _put_job(
            citus,
            1,
            "workflow.run",
            {"org_id": str(org.org_id), "execution_id": str(execution)},
            job_id=800_000_000 + uuid.uuid4().int % 1_000_000,
        )
        for node, status in ((0, "failed"), (2, "queued")):
            other = {"org_id": str(org.org_id), "execution_id": str(uuid.uuid4())}
            _put_job(citus, node, "workflow.run", other, status=status, job_id=live)
        admin.execute(
            "update app.workflow_executions set wake_job_id = %s where org_id = %s and id = %s",
            (live, org.org_id, execution),
        )
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        rows = service.execute(
            "select kind, id, job_status, waiting_until is not null"
            " from api.list_unsettled_work() where id = any(%s)",
            ([send_id, execution],),
        ).fetchall()
    assert sorted(rows) == sorted(
        [("email", send_id, "queued", True), ("execution", execution, "queued", True)]
    )


def test_a_node_whose_queue_cannot_be_read_makes_the_sweep_skip_not_requeue(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """Its silence is not "no job": a row whose job may be there is left for the next
    sweep rather than queued a second time."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, _ = _lost_email(citus, org, admin)
        with psycopg.connect(_nodes(citus)[2], autocommit=True) as node:
            node.execute("alter table queue.pgqueuer rename to pgqueuer_away")
            try:
                counts = _reconcile(citus)
            finally:
                node.execute("alter table queue.pgqueuer_away rename to pgqueuer")
        reconciled = _reconciled(admin, org, send_id)
    assert str(counts["skipped"]).startswith("a node did not answer: ")
    assert reconciled == 0


def test_the_largest_limit_reads_a_bounded_window_on_the_cluster(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        row = service.execute(
            "select api.reconcile_in_flight_work(p_limit => 2147483647)"
        ).fetchone()
    with psycopg.connect(citus_db[0]) as admin:
        window = admin.execute("select app._ops_cluster_window(2147483647)").fetchone()
    assert row is not None
    assert "skipped" not in row[0]
    assert window == (50000,)


def _queued_email(
    citus: pgcluster.PgCluster, org: SeededOrg, admin: psycopg.Connection, **params: object
) -> uuid.UUID:
    """An email queued a day ago, its job where the queue put it."""
    with psycopg.connect(
        citus.coordinator.dsn("intime", "intime_service"), autocommit=True
    ) as service:
        send_id = Mail(service, org.org_id, org.admin_id).queue(
            to="backlog@example.com", subject="Hi", text="x", **params
        )
    admin.execute(
        "update app.email_sends set updated_at = now() - interval '1 day'"
        " where org_id = %s and id = %s",
        (org.org_id, send_id),
    )
    return send_id


def test_a_lost_email_behind_older_ones_with_live_jobs_is_found(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """Older rows in flight whose jobs are live (scheduled sends, a backlog) do not hide a
    lost one: the sweep pages past them (p_limit 1 reads 5 at a time)."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        for _ in range(5):
            _queued_email(citus, org, admin, send_after="2030-01-01T00:00:00Z")
        for _ in range(7):
            _queued_email(citus, org, admin)
        send_id, key = _lost_email(citus, org, admin)
        counts = _reconcile(citus, limit=1)
        reconciled = _reconciled(admin, org, send_id)
    assert counts["emails_requeued"] == 1
    assert reconciled == 1
    assert [status for _, _, status in _jobs(citus, key)] == ["queued"]


def test_a_held_job_revived_in_any_session_style_is_due_when_its_email_is(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """The time travels to the node as a number: a session whose date style reads
    03/01 as the 3rd of January still revives the job for the 3rd of January."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        _, key = _lost_email(citus, org, admin)
        held = _put_job(
            citus, 1, "email.send", {"org_id": str(org.org_id)}, key=key, status="failed"
        )
        admin.execute("set datestyle = 'SQL, DMY'")
        revived = admin.execute(
            "select app._ops_cluster_revive(%s::bigint[], %s::text[], %s::timestamptz[])",
            ([held], [key], ["2027-01-03T10:00:00Z"]),
        ).fetchone()
        with psycopg.connect(_nodes(citus)[1]) as node:
            row = node.execute(
                "select status::text,"
                " abs(extract(epoch from execute_after - '2027-01-03T10:00:00Z')) < 60"
                " from queue.pgqueuer where id = %s",
                (held,),
            ).fetchone()
    assert revived == ([key],)
    assert row == ("queued", True)


def test_a_held_job_someone_put_back_meanwhile_gets_no_second_job(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """The revive, asked of every node, counts a key whose job is live there as put
    back: the sweep then queues none of its own."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        send_id, key = _lost_email(citus, org, admin)
        live = _put_job(
            citus,
            1,
            "email.send",
            {"org_id": str(org.org_id), "email_send_id": str(send_id)},
            key=key,
        )
        row = admin.execute(
            "select app._ops_cluster_revive(%s::bigint[], %s::text[], array[null]::timestamptz[])",
            ([live + 1], [key]),
        ).fetchone()
    assert row == ([key],)
    assert _jobs(citus, key) == [(1, live, "queued")]


def test_the_unsettled_list_refuses_to_answer_without_every_nodes_queue(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    with psycopg.connect(_nodes(citus)[2], autocommit=True) as node:
        node.execute("alter table queue.pgqueuer rename to pgqueuer_away")
        try:
            with (
                psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
                pytest.raises(psycopg.Error) as caught,
            ):
                service.execute("select * from api.list_unsettled_work()")
        finally:
            node.execute("alter table queue.pgqueuer_away rename to pgqueuer")
    assert caught.value.sqlstate == "IT018"
    assert "did not answer" in str(caught.value)


def test_a_locked_lost_email_does_not_make_the_sweep_pass_over_the_next_oldest(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], org: SeededOrg
) -> None:
    """A row someone holds is skipped and counts for nothing: the sweep moves on to the
    next oldest lost one, not past the rest of the page."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        lost = [_lost_email(citus, org, admin)[0] for _ in range(4)]
        for n, send_id in enumerate(lost):  # oldest first
            admin.execute(
                "update app.email_sends set updated_at = now() - make_interval(hours => %s)"
                " where org_id = %s and id = %s",
                (10 - n, org.org_id, send_id),
            )
        with psycopg.connect(citus_db[0]) as holder:
            holder.execute(
                "select from app.email_sends where org_id = %s and id = %s for update",
                (org.org_id, lost[0]),
            )
            _reconcile(citus, limit=1)
            holder.rollback()
        reconciled = [_reconciled(admin, org, send_id) for send_id in lost]
    assert reconciled == [0, 1, 0, 0]


def test_a_job_with_a_malformed_payload_does_not_silence_its_node(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    with psycopg.connect(_nodes(citus)[2], autocommit=True) as node:
        row = node.execute(
            "insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after)"
            " values (0, 'workflow.run', '\\xff00'::bytea, 'queued', now() + interval '1 hour')"
            " returning id"
        ).fetchone()
        assert row is not None
        try:
            counts = _reconcile(citus)
            with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
                listed = service.execute(
                    "select count(*) from api.list_unsettled_work()"
                ).fetchone()
        finally:
            node.execute("delete from queue.pgqueuer where id = %s", (row[0],))
    assert "skipped" not in counts
    assert listed is not None
