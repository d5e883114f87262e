"""api.get_stream_horizon on the cluster (docs/scale-out.md, "The stream on a cluster"):
each node's xmin and a new xid there, the xmins withheld while a transaction of this
database prepared before they were read still waits (its rows may still commit)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from intime import migrate, pgcluster

HORIZON = "select seq_range, xmin, tag from api.get_stream_horizon()"


@pytest.fixture
def service(citus: pgcluster.PgCluster) -> Iterator[psycopg.Connection]:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service"), autocommit=True) as c:
        yield c


def test_the_horizon_gives_every_node_its_xmin_and_a_new_xid(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], service
) -> None:
    rows = service.execute(HORIZON).fetchall()
    assert sorted(r[0] for r in rows) == [0, 1, 2]  # the coordinator and two workers
    assert all(xmin is not None and tag >= xmin for _, xmin, tag in rows)


def test_a_prepared_transaction_of_another_database_does_not_hold_the_horizon(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], service
) -> None:
    """Review: any database's prepared transaction held every gap for gap_ttl."""
    with psycopg.connect(citus.worker_nodes[0].dsn("postgres"), autocommit=True) as other:
        other.execute("begin")
        other.execute("select 1")
        other.execute("prepare transaction 'another_database'")
        try:
            rows = service.execute(HORIZON).fetchall()
        finally:
            other.execute("rollback prepared 'another_database'")
    assert all(xmin is not None for _, xmin, _ in rows)


def test_a_transaction_prepared_before_the_xmins_were_read_holds_the_horizon(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult], service
) -> None:
    """Review: the bound was taken when the call began, so a transaction prepared after
    it plus 100 ms but before a slow node's xmin was read did not count, and a gap could
    settle before its row committed. The coordinator's logins of the owner (which the
    horizon's node calls open) are slowed by 200 ms here; a transaction is prepared on a
    worker 130 ms into the call."""
    with psycopg.connect(citus_db[0], autocommit=True) as admin:
        admin.execute("create table if not exists public.slow_logins (on_ boolean)")
        admin.execute("truncate public.slow_logins")
        admin.execute("grant select on public.slow_logins to public")
        admin.execute(
            "create or replace function public.slow_login() returns event_trigger"
            " language plpgsql security definer as $$ begin"
            " if session_user::text = 'intime_owner'"
            " and exists (select 1 from public.slow_logins where on_) then"
            " perform pg_sleep(0.2); end if; end $$"
        )
        admin.execute("drop event trigger if exists slow_login")
        admin.execute(
            "create event trigger slow_login on login execute function public.slow_login()"
        )
        try:
            with psycopg.connect(citus.worker_nodes[0].dsn("intime"), autocommit=True) as worker:
                admin.execute("insert into public.slow_logins values (true)")
                out: dict[str, list[tuple[int, int | None, int]]] = {}
                call = threading.Thread(
                    target=lambda: out.setdefault("rows", service.execute(HORIZON).fetchall())
                )
                call.start()
                time.sleep(0.13)
                worker.execute("begin")
                worker.execute("select 1")
                worker.execute("prepare transaction 'prepared_during_the_call'")
                call.join()
                worker.execute("rollback prepared 'prepared_during_the_call'")
        finally:
            admin.execute("drop event trigger if exists slow_login")
            admin.execute("truncate public.slow_logins")
    assert out["rows"]
    assert all(xmin is None for _, xmin, _ in out["rows"])
