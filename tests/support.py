"""Types shared by fixtures and tests."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from intime import pgserver
from intime.db import actor, errors_translated
from intime_cli.seed import SeededOrg

# Real-world fixtures (Svix vectors, Resend payloads, raw emails), vendored from
# ../shared/testdata; see tests/fixtures/README.md.
TESTDATA = Path(__file__).resolve().parent / "fixtures" / "testdata"


@dataclasses.dataclass
class Database:
    server: pgserver.PgServer
    name: str

    def dsn(self, user: str | None = None) -> str:
        return self.server.dsn(self.name, user)

    def connect(self, user: str | None = None, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(self.dsn(user), **kwargs)


@dataclasses.dataclass
class Queues:
    """The test database's job queue, read past RLS: on one server, the queue of
    ``conns[0]``; on a Citus cluster, one queue per node (docs/scale-out.md, "The queue:
    one per node"), so a read goes to every node and a job names its node. ``conns``:
    superuser sessions (autocommit) on the test database, the coordinator first."""

    conns: list[psycopg.Connection]

    def rows(self, query: str, params: Any = None) -> list[tuple[int, tuple[Any, ...]]]:
        """``query`` on every node's queue: (node, row) for each row, the nodes in order."""
        return [
            (node, row)
            for node, conn in enumerate(self.conns)
            for row in conn.execute(query, params).fetchall()
        ]

    def execute(self, query: str, params: Any = None, *, node: int | None = None) -> None:
        """``query`` on one node's queue, or on every node's (``node`` None)."""
        for conn in self.conns if node is None else [self.conns[node]]:
            conn.execute(query, params)

    def of_org(self, org_id: uuid.UUID) -> psycopg.Connection:
        """The session on the node whose queue an org's triggers write to: the node that
        holds the org's shards (on one server, the server)."""
        if len(self.conns) == 1:
            return self.conns[0]
        row = (
            self.conns[0]
            .execute(
                "select p.nodeport from pg_dist_shard_placement as p "
                "where p.shardid = get_shard_id_for_distribution_column('app.user_profiles', %s)",
                (org_id,),
            )
            .fetchone()
        )
        assert row is not None, f"no placement for org {org_id}"
        [conn] = [c for c in self.conns if c.info.port == row[0]]
        return conn


class CommittedInTestTx(AssertionError):
    """A test that was given a rolled-back transaction ended it (commit or rollback)."""


@contextlib.contextmanager
def rolled_back(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """Run the body in one transaction on ``conn`` (not autocommit) and roll it back
    (river's TestTx). The body may open savepoints (``conn.transaction()``) and fail
    statements inside them; if it ends the transaction itself (a commit), that is
    ``CommittedInTestTx`` after the rollback, since its writes then outlive it."""
    assert not conn.autocommit, "rolled_back needs a connection that is not autocommit"
    row = conn.execute("select pg_current_xact_id()::text").fetchone()
    assert row is not None
    xid = row[0]
    try:
        yield conn
    finally:
        status = conn.info.transaction_status
        same = status == psycopg.pq.TransactionStatus.INERROR
        if status == psycopg.pq.TransactionStatus.INTRANS:
            now = conn.execute("select pg_current_xact_id_if_assigned()::text").fetchone()
            same = now is not None and now[0] == xid
        conn.rollback()
    if not same:
        raise CommittedInTestTx("the test ended its transaction: use the db fixture instead of tx")


@dataclasses.dataclass(frozen=True)
class TwoOrgs:
    a: SeededOrg
    b: SeededOrg
    login_a: str  # SQL login mapped to a user of org A
    login_b: str


@dataclasses.dataclass
class Mail:
    conn: psycopg.Connection
    org_id: uuid.UUID
    user_id: uuid.UUID

    def queue(self, **params: object) -> uuid.UUID:
        names = ", ".join(f"p_{k} => %({k})s" for k in params)
        values = {k: Jsonb(v) if isinstance(v, dict) else v for k, v in params.items()}
        with actor(self.conn, self.org_id, self.user_id):
            row = self.conn.execute(f"select api.queue_email({names})", values).fetchone()
        assert row is not None
        return row[0]

    def sent(self, send_id: uuid.UUID, message_id: str) -> str:
        with actor(self.conn, self.org_id):
            row = self.conn.execute(
                "select api.record_email_sent(p_email_send_id => %s, p_provider => 'resend', "
                "p_provider_message_id => %s)",
                (send_id, message_id),
            ).fetchone()
        assert row is not None
        return row[0]

    def ingest(self, event_id: str, payload: dict) -> str:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute(
                "select api.ingest_email_event(p_provider_event_id => %s, p_payload => %s)",
                (event_id, Jsonb(payload)),
            ).fetchone()
        assert row is not None
        return row[0]

    def send_row(self, send_id: uuid.UUID) -> dict:
        with actor(self.conn, self.org_id):
            cur = self.conn.execute(
                "select to_jsonb(s) from app.email_sends s where id = %s", (send_id,)
            )
            row = cur.fetchone()
        assert row is not None
        return row[0]


def recorded_sends(
    db: Database, orgs: TwoOrgs, addresses: list[str]
) -> list[tuple[uuid.UUID, str]]:
    """Sends of org A to the addresses, queued and recorded as sent (id, provider message
    id), each committed (other connections see them), past the org's sending rate."""
    with db.connect(autocommit=True) as admin:
        admin.execute("update app.settings set email_rate_per_minute = 100000")
    with db.connect("intime_service", autocommit=True) as conn:
        mail = Mail(conn, orgs.a.org_id, orgs.a.admin_id)
        out = []
        for to in addresses:
            send_id = mail.queue(to=to, subject="Hi", text="x")
            message_id = f"re_{uuid.uuid4().hex}"
            mail.sent(send_id, message_id)
            out.append((send_id, message_id))
        return out


@contextlib.contextmanager
def autovacuum_paused(cluster: psycopg.Connection, wait: float = 30.0) -> Iterator[None]:
    """No autovacuum worker runs on the test server inside the body: a test that counts
    transaction ids on the cluster's counter would otherwise count an ANALYZE's too
    (one per table it writes statistics of). ``cluster`` is a superuser session in
    autocommit. Turned off, the launcher exits at its next reload (so no worker starts
    after the wait), and the workers already running are waited for."""
    cluster.execute("alter system set autovacuum = off")
    cluster.execute("select pg_reload_conf()")
    try:
        deadline = time.monotonic() + wait
        while True:
            row = cluster.execute(
                "select count(*) from pg_stat_activity "
                "where backend_type in ('autovacuum launcher', 'autovacuum worker')"
            ).fetchone()
            if row == (0,):
                break
            assert time.monotonic() < deadline, "autovacuum is still running"
            time.sleep(0.05)
        yield
    finally:
        cluster.execute("alter system reset autovacuum")
        cluster.execute("select pg_reload_conf()")


def event(
    kind: str, message_id: str, created_at: str = "2026-01-01T00:00:00Z", **extra: object
) -> dict:
    data = {"email_id": message_id, "created_at": created_at, "from": "a@b.c", "to": ["x@y.z"]}
    return {"type": kind, "created_at": created_at, "data": {**data, **extra}}


def behind(
    first: psycopg.Connection, second: psycopg.Connection, query: Any, params: Any = None
) -> tuple[bool, BaseException | None]:
    """Run ``query`` on ``second`` while ``first`` holds its open transaction, then commit
    ``first``: whether ``second`` was still waiting after half a second, and what it
    raised (translated to the project's errors), None when it went through."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            with errors_translated():
                second.execute(query, params)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(0.5)
    waited = thread.is_alive()
    first.commit()
    thread.join(10)
    assert len(outcome) == 1, "the second connection did not finish"
    return waited, outcome[0]
