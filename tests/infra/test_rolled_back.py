"""The ``tx`` fixture's contract (``tests.support.rolled_back``, river's TestTx): a
test's writes are gone after it, savepoints and caught errors work inside, and a
test that commits is failed and the shared clone it wrote into dropped, so that no
later test sees its writes."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import SharedDb
from tests.support import CommittedInTestTx, Database, rolled_back


def _count(db: Database) -> int:
    with db.connect(autocommit=True) as other:
        row = other.execute("select count(*) from app.organizations").fetchone()
    assert row is not None
    return int(row[0])


def test_writes_in_a_rolled_back_transaction_are_gone_after_it(db: Database) -> None:
    before = _count(db)
    with db.connect() as conn:
        with rolled_back(conn):
            conn.execute("insert into app.organizations (name, slug) values ('T', 'tx-test')")
            assert conn.execute("select count(*) from app.organizations").fetchone() == (
                before + 1,
            )
        assert _count(db) == before


def _divide_by_zero(conn: psycopg.Connection) -> None:
    conn.execute("select 1 / 0")


def _write_then_fail(conn: psycopg.Connection) -> None:
    with rolled_back(conn):
        conn.execute("insert into app.organizations (name, slug) values ('T', 'tx-err')")
        conn.execute("select 1 / 0")


def _write_and_commit(conn: psycopg.Connection) -> None:
    with rolled_back(conn):
        conn.execute("insert into app.organizations (name, slug) values ('T', 'tx-commit')")
        conn.commit()
        conn.execute("select 1")


def test_an_error_caught_in_a_savepoint_leaves_the_transaction_usable(db: Database) -> None:
    with db.connect() as conn, rolled_back(conn):
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            _divide_by_zero(conn)
        assert conn.execute("select 2").fetchone() == (2,)


def test_an_uncaught_error_still_rolls_back_quietly(db: Database) -> None:
    before = _count(db)
    with db.connect() as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            _write_then_fail(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _count(db) == before


def test_a_commit_inside_is_refused(db: Database) -> None:
    before = _count(db)
    with db.connect() as conn, pytest.raises(CommittedInTestTx):
        _write_and_commit(conn)
    assert _count(db) == before + 1


def test_the_tx_fixture_sees_the_seeded_orgs(tx: psycopg.Connection, seeded_template) -> None:
    row = tx.execute(
        "select count(*) from app.organizations where id = any(%s)",
        ([seeded_template.a.org_id, seeded_template.b.org_id],),
    ).fetchone()
    assert row == (2,)


def test_a_discarded_shared_clone_comes_back_without_committed_writes(
    shared_db: SharedDb,
) -> None:
    before = _count(shared_db.get())
    with shared_db.get().connect(autocommit=True) as conn:
        conn.execute("insert into app.organizations (name, slug) values ('T', 'tx-leak')")
    assert _count(shared_db.get()) == before + 1
    shared_db.discard()
    assert _count(shared_db.get()) == before
