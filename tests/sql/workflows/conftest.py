"""Helpers for the workflow tests: define workflows as org A's admin, change
rows as a rep, and drain workflow.run jobs the way the worker does (one
api.run_execution per job), so SQL-level tests need no worker process."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from tests.support import Queues, TwoOrgs


@dataclasses.dataclass
class Flows:
    conn: psycopg.Connection  # intime_service: every api call
    owner: psycopg.Connection  # superuser: reads engine state past RLS
    orgs: TwoOrgs
    # The job queue (every node's on a Citus cluster); None: the owner's.
    queues: Queues | None = None

    @property
    def queue(self) -> Queues:
        return self.queues or Queues([self.owner])

    def clear_queue(self, entrypoint: str | None = None) -> None:
        """Delete the queued jobs (of ``entrypoint``, or all), as a worker taking them."""
        self.queue.execute(
            "delete from queue.pgqueuer where %(e)s::text is null or entrypoint = %(e)s",
            {"e": entrypoint},
        )

    @property
    def org_id(self) -> uuid.UUID:
        return self.orgs.a.org_id

    @property
    def admin_id(self) -> uuid.UUID:
        return self.orgs.a.admin_id

    def at(self, when: str | None) -> None:
        """Set the application clock (None: the real clock)."""
        self.conn.execute("select set_config('app.fake_now', %s, false)", (when or "",))

    def create(
        self,
        definition: dict[str, Any],
        entity_type: str = "deal",
        name: str = "wf",
        org_id: uuid.UUID | None = None,
        admin_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        with (
            errors_translated(),
            actor(self.conn, org_id or self.org_id, admin_id or self.admin_id),
        ):
            row = self.conn.execute(
                "select api.create_workflow(p_name => %s, p_entity_type => %s, p_definition => %s)",
                (name, entity_type, Jsonb(definition)),
            ).fetchone()
        assert row is not None
        return row[0]

    def call(
        self,
        query: str,
        params: Any = None,
        *,
        user: uuid.UUID | None = None,
        org_id: uuid.UUID | None = None,
    ) -> list[dict[str, Any]]:
        """Run an api query as a user of org A (default: the admin)."""
        with errors_translated(), actor(self.conn, org_id or self.org_id, user or self.admin_id):
            cur = self.conn.cursor(row_factory=dict_row)
            rows = cur.execute(query, params).fetchall()
        return rows

    def write(
        self,
        query: str,
        params: Any = None,
        *,
        user: uuid.UUID | None = None,
        org_id: uuid.UUID | None = None,
    ) -> None:
        with errors_translated(), actor(self.conn, org_id or self.org_id, user or self.admin_id):
            self.conn.execute(query, params)

    def jobs(self, entrypoint: str = "workflow.run") -> list[dict[str, Any]]:
        """The queued jobs of ``entrypoint``: their payload, id, node and due time."""
        rows = self.queue.rows(
            "select id, payload, execute_after from queue.pgqueuer "
            "where entrypoint = %s order by id",
            (entrypoint,),
        )
        return [
            {"id": r[0], "node": node, **json.loads(bytes(r[1])), "execute_after": r[2]}
            for node, r in rows
        ]

    def take(self, job: dict[str, Any]) -> None:
        """Delete a job :meth:`jobs` returned, as the worker that took it."""
        self.queue.execute(
            "delete from queue.pgqueuer where id = %s", (job["id"],), node=job["node"]
        )

    def drain(self, *, due_only: bool = False, limit: int = 100) -> list[str]:
        """Run queued workflow.run jobs until none is left (each once per round), and
        workflow.run_due jobs the way the worker does (api.run_executions until no
        execution is due; one outcome per execution run)."""
        outcomes: list[str] = []
        for _ in range(limit):
            jobs = self.jobs()
            batches = self.jobs("workflow.run_due")
            if due_only:
                jobs = [j for j in jobs if j["execute_after"] <= self._real_now()]
            if not jobs and not batches:
                break
            for batch in batches:
                self.take(batch)
                outcomes.extend(self.run_due())
            for job in jobs:
                self.take(job)
                outcomes.append(self.run(uuid.UUID(job["execution_id"]), uuid.UUID(job["org_id"])))
        return outcomes

    def run_batch(self, limit: int = 50, *, sets: bool = True) -> dict[str, int]:
        """One api.run_executions transaction: its counts. ``sets``: False runs every
        execution one by one (intime.workflow_sets = off)."""
        with errors_translated(), self.conn.transaction():
            if not sets:
                self.conn.execute("select set_config('intime.workflow_sets', 'off', true)")
            cur = self.conn.cursor(row_factory=dict_row)
            row = cur.execute(
                "select * from api.run_executions(p_limit => %s)", (limit,)
            ).fetchone()
        assert row is not None
        return dict(row)

    def run_due(self, limit: int = 50, *, sets: bool = True) -> list[str]:
        """api.run_executions until a batch finds none: one outcome per execution."""
        outcomes: list[str] = []
        for _ in range(100):
            counts = self.run_batch(limit, sets=sets)
            for outcome in ("completed", "waiting", "retrying", "failed", "deferred"):
                outcomes.extend([outcome] * counts[outcome])
            # As the worker does: until a batch finds none (one runs 20 at most one
            # by one, and may leave more due), or makes no progress.
            if counts["picked"] == 0 or counts["picked"] == counts["deferred"]:
                break
        return outcomes

    def run(self, execution_id: uuid.UUID, org_id: uuid.UUID | None = None) -> str:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute(
                "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                (execution_id, org_id or self.org_id),
            ).fetchone()
        assert row is not None
        return row[0]

    def _real_now(self) -> Any:
        return self.owner.execute("select now()").fetchone()[0]

    def executions(self, workflow_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        return cur.execute(
            "select * from app.workflow_executions "
            "where (%(w)s::uuid is null or workflow_id = %(w)s) "
            "order by created_at, id",
            {"w": workflow_id},
        ).fetchall()

    def execution(self, execution_id: uuid.UUID) -> dict[str, Any]:
        cur = self.owner.cursor(row_factory=dict_row)
        row = cur.execute(
            "select * from app.workflow_executions where id = %s", (execution_id,)
        ).fetchone()
        assert row is not None
        return row

    def steps(self, execution_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        return cur.execute(
            "select * from app.workflow_steps where execution_id = %s "
            "order by created_at, position",
            (execution_id,),
        ).fetchall()

    def logs(self, execution_id: uuid.UUID) -> list[str]:
        rows = self.owner.execute(
            "select message from app.workflow_execution_logs where execution_id = %s "
            "order by occurred_at, seq",
            (execution_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def deal(self, deal_id: uuid.UUID) -> dict[str, Any]:
        cur = self.owner.cursor(row_factory=dict_row)
        row = cur.execute("select * from app.deals where id = %s", (deal_id,)).fetchone()
        assert row is not None
        return row

    def sweep(self) -> dict[str, int]:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute("select api.tick_workflows()").fetchone()
        assert row is not None
        return row[0]


@pytest.fixture
def flows(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs, queues: Queues
) -> Flows:
    """Both orgs as seeded, minus the seed's workflow (and its executions,
    approvals, locks, logs and queued jobs), so every test starts from none."""
    admin.execute("delete from app.workflows")
    admin.execute("delete from app.workflow_execution_logs")
    flows = Flows(service, admin, two_orgs, queues)
    flows.clear_queue()
    return flows


@contextlib.contextmanager
def nested_plans(conn: psycopg.Connection, *, analyze: bool = False) -> Iterator[list[str]]:
    """Every statement's plan while the block runs, nested ones too (auto_explain on a
    superuser connection; ``analyze``: with row counts); skipped where auto_explain is
    not installed."""
    try:
        conn.execute("load 'auto_explain'")
    except psycopg.errors.UndefinedFile:
        pytest.skip("auto_explain is not installed with this PostgreSQL")
    plans: list[str] = []
    conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    conn.execute("set auto_explain.log_min_duration = 0")
    conn.execute("select set_config('auto_explain.log_analyze', %s, false)", (str(analyze),))
    conn.execute("set auto_explain.log_timing = off")
    conn.execute("set auto_explain.log_nested_statements = on")
    conn.execute("set auto_explain.log_level = notice")
    try:
        yield plans
    finally:
        conn.execute("set auto_explain.log_min_duration = -1")
