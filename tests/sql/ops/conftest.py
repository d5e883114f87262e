"""Helpers for the operations tests: retention, the send lease, the
reconciliation sweep and api.list_unsettled_work, called as the worker calls them
(the service role), with engine state read and aged through the owner."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from intime.db import actor, errors_translated
from tests.sql.workflows.conftest import Flows
from tests.support import Mail, TwoOrgs

# Tables whose rows the tests age (an allowlist for the identifiers below).
AGEABLE = {
    "email_sends": "updated_at",
    "workflow_executions": "updated_at",
    "workflow_actions": "scheduled_at",
    "notification_deliveries": "updated_at",
}


@dataclasses.dataclass
class Ops:
    conn: psycopg.Connection  # intime_service: every api call
    owner: psycopg.Connection  # superuser: engine state past RLS
    orgs: TwoOrgs
    mail: Mail

    def reconcile(self, limit: int = 1000) -> dict[str, Any]:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute(
                "select api.reconcile_in_flight_work(p_limit => %s)", (limit,)
            ).fetchone()
        assert row is not None
        return row[0]

    def purge(self, limit: int = 10000) -> dict[str, int]:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute(
                "select api.purge_expired_data(p_limit => %s)", (limit,)
            ).fetchone()
        assert row is not None
        return row[0]

    def unsettled(self) -> list[dict[str, Any]]:
        with errors_translated(), self.conn.transaction():
            cur = self.conn.cursor(row_factory=dict_row)
            return cur.execute("select * from api.list_unsettled_work()").fetchall()

    def claim(self, send_id: uuid.UUID) -> dict[str, Any]:
        with actor(self.conn, self.mail.org_id):
            cur = self.conn.cursor(row_factory=dict_row)
            row = cur.execute(
                "select * from api.claim_email_send(p_email_send_id => %s)", (send_id,)
            ).fetchone()
        assert row is not None
        return row

    def setting(self, **values: int) -> None:
        for name, value in values.items():
            self.owner.execute(
                sql.SQL("update app.settings set {} = %s").format(sql.Identifier(name)), (value,)
            )

    def age(self, table: str, row_id: uuid.UUID, by: str = "1 hour") -> None:
        """Move a row's last-change time back (what the sweep's grace looks at)."""
        column = AGEABLE[table]
        self.owner.execute(
            sql.SQL(
                "update app.{t} set {c} = coalesce({c}, created_at) - %s::interval where id = %s"
            ).format(t=sql.Identifier(table), c=sql.Identifier(column)),
            (by, row_id),
        )

    def expire_lease(self, send_id: uuid.UUID) -> None:
        self.owner.execute(
            # now(), the transaction's start: a Citus cluster takes no volatile function
            # in an UPDATE, and the sweep's clock reads later.
            "update app.email_sends set sending_until = now() - interval '1 second' "
            "where org_id = %s and id = %s",
            (self.mail.org_id, send_id),
        )

    def jobs(self, dedupe_key: str) -> list[dict[str, Any]]:
        cur = self.owner.cursor(row_factory=dict_row)
        rows = cur.execute(
            "select id, status::text, execute_after, payload from queue.pgqueuer "
            "where dedupe_key = %s order by id",
            (dedupe_key,),
        ).fetchall()
        for row in rows:
            row["payload"] = json.loads(bytes(row["payload"]))
        return rows

    def drop_jobs(self, dedupe_key: str) -> None:
        """The job vanished (a worker lost it with its queue row)."""
        self.owner.execute("delete from queue.pgqueuer where dedupe_key = %s", (dedupe_key,))

    def hold_failed(
        self, dedupe_key: str | None = None, *, job_id: int | None = None, error: str = "KeyError"
    ) -> int:
        """The worker held the job as failed, as pgqueuer's on_failure='hold' does."""
        row = self.owner.execute(
            "update queue.pgqueuer set status = 'failed', queue_manager_id = null "
            "where dedupe_key = %s or id = %s returning id, entrypoint",
            (dedupe_key, job_id),
        ).fetchone()
        assert row is not None
        self.owner.execute(
            "insert into queue.pgqueuer_log (job_id, status, priority, entrypoint, traceback) "
            "values (%s, 'failed', 0, %s, %s)",
            (row[0], row[1], json.dumps({"exception_message": error})),
        )
        return row[0]

    def row(self, table: str, row_id: uuid.UUID) -> dict[str, Any]:
        assert table in AGEABLE
        cur = self.owner.cursor(row_factory=dict_row)
        found = cur.execute(
            sql.SQL("select * from app.{} where id = %s").format(sql.Identifier(table)),
            (row_id,),
        ).fetchone()
        assert found is not None
        return found


@pytest.fixture
def ops(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs, mail: Mail
) -> Ops:
    return Ops(service, admin, two_orgs, mail)


WEBHOOK = [
    {"name": "hook", "type": "webhook", "url": "https://hooks.example/x"},
    {"name": "after", "type": "create_activity", "subject": "hooked"},
]
NOTE = [{"name": "note", "type": "create_activity", "subject": "x"}]


def kind(counts: dict[str, Any], name: str) -> dict[str, int]:
    """One kind's counts from api.reconcile_in_flight_work: emails_requeued -> requeued."""
    prefix = f"{name}_"
    return {k.removeprefix(prefix): v for k, v in counts.items() if k.startswith(prefix)}


def email_key(send_id: uuid.UUID) -> str:
    return f"email.send:{send_id}"


def lost_email(ops: Ops, **params: Any) -> uuid.UUID:
    """A queued email whose job vanished, untouched for an hour."""
    send_id = ops.mail.queue(to="lost@example.com", subject="Hi", text="x", **params)
    ops.drop_jobs(email_key(send_id))
    ops.age("email_sends", send_id)
    return send_id


def started(ops: Ops, steps: list[dict[str, Any]]) -> tuple[Flows, uuid.UUID, int]:
    """A manual workflow started on a deal: its execution and its run job."""
    flows = Flows(ops.conn, ops.owner, ops.orgs)
    wf = flows.create({"triggers": [{"type": "manual"}], "steps": steps})
    [row] = flows.call(
        "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s) as id",
        (wf, ops.orgs.a.deal_ids[0]),
    )
    execution = flows.execution(row["id"])
    return flows, row["id"], execution["wake_job_id"]


def parked_on_webhook(ops: Ops) -> tuple[Flows, uuid.UUID, uuid.UUID]:
    """An execution waiting for its webhook delivery: (flows, execution, action)."""
    flows, execution, job_id = started(ops, WEBHOOK)
    ops.owner.execute("delete from queue.pgqueuer where id = %s", (job_id,))
    assert flows.run(execution) == "waiting"
    (action,) = ops.owner.execute(
        "select id from app.workflow_actions where execution_id = %s", (execution,)
    ).fetchone()
    return flows, execution, action


def run_jobs(ops: Ops, execution: uuid.UUID) -> list[tuple]:
    return ops.owner.execute(
        "select id, status::text from queue.pgqueuer where entrypoint = 'workflow.run' "
        "and convert_from(payload, 'UTF8')::jsonb ->> 'execution_id' = %s",
        (str(execution),),
    ).fetchall()


def email_delivery(ops: Ops) -> dict[str, Any]:
    with errors_translated(), ops.conn.transaction():
        ops.conn.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)",
            (ops.orgs.a.org_id, ops.orgs.a.admin_id),
        )
        (nid,) = ops.conn.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'Deal news', p_message => 'm', p_channels => array['in_app', 'email'])",
            (ops.orgs.a.rep_ids[1],),
        ).fetchone()
    (delivery,) = ops.owner.execute(
        "select id from app.notification_deliveries where notification_id = %s "
        "and channel = 'email'",
        (nid,),
    ).fetchone()
    row = ops.row("notification_deliveries", delivery)
    assert row["status"] == "pending"
    return row
