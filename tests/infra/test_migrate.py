"""The migration runner: once each, checksummed, locked, re-applied functions."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from intime import migrate, pgserver
from intime.errors import MigrationChangedError, MigrationLockTimeoutError
from intime.paths import sql_dir
from intime_cli.cli import schema_dump
from tests.support import Database


def _applied(db: Database) -> list[tuple[str, str]]:
    with db.connect() as conn:
        return conn.execute(
            "select name, checksum from app.schema_migrations order by 1"
        ).fetchall()


def test_migrate_applies_every_file_once(empty_db: Database) -> None:
    result = migrate.migrate(empty_db.dsn())
    files = [m.name for m in migrate.schema_migrations()]
    assert result.applied == files
    assert [name for name, _ in _applied(empty_db)] == files
    assert result.queue == "installed"


def test_second_migrate_changes_nothing(empty_db: Database) -> None:
    migrate.migrate(empty_db.dsn())
    before = schema_dump(empty_db.server.binaries.bindir, empty_db.dsn())
    ledger = _applied(empty_db)
    again = migrate.migrate(empty_db.dsn())
    assert again.applied == []
    assert again.queue == "current"
    assert _applied(empty_db) == ledger
    assert schema_dump(empty_db.server.binaries.bindir, empty_db.dsn()) == before


def test_changed_applied_migration_is_refused(empty_db: Database, tmp_path: Path) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    migrate.migrate(empty_db.dsn(), root)
    first = sorted((root / "schema").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an edit after release\n")
    with pytest.raises(MigrationChangedError, match=first.name) as info:
        migrate.migrate(empty_db.dsn(), root)
    assert info.value.sqlstate == "IT001"
    with pytest.raises(MigrationChangedError):
        migrate.status(empty_db.dsn(), root)


def test_status_lists_applied_and_pending(empty_db: Database, tmp_path: Path) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    migrate.migrate(empty_db.dsn(), root)
    (root / "schema" / "9000_later.sql").write_text("create table app.later (id int);\n")
    state = migrate.status(empty_db.dsn(), root)
    assert [name for name, _ in state.applied] == [m.name for m in migrate.schema_migrations()]
    assert state.pending == ["9000_later.sql"]


def test_a_failing_migration_leaves_no_trace(empty_db: Database, tmp_path: Path) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    migrate.migrate(empty_db.dsn(), root)
    (root / "schema" / "9000_broken.sql").write_text(
        "create table app.half_done (id int);\nselect * from app.no_such_table;\n"
    )
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate.migrate(empty_db.dsn(), root)
    with empty_db.connect() as conn:
        assert conn.execute("select to_regclass('app.half_done')").fetchone() == (None,)
        recorded = conn.execute(
            "select count(*) from app.schema_migrations where name = '9000_broken.sql'"
        ).fetchone()
        assert recorded == (0,)


def test_a_migration_is_split_into_its_statements_by_the_postgresql_parser(
    tmp_path: Path,
) -> None:
    # One at a time: Citus forwards some DDL to the shards as its query's whole text.
    path = tmp_path / "0001_x.sql"
    path.write_text(
        "-- a; comment\ncreate table t (a text default 'x;y');\n"
        "do $$ begin perform 1; perform 2; end $$;\n"
        "comment on table t is $c$one; two$c$;"
    )
    statements = [s.as_string() for s in migrate._statements(path)]
    assert statements == [
        "create table t (a text default 'x;y')",
        "do $$ begin perform 1; perform 2; end $$",
        "comment on table t is $c$one; two$c$",
    ]


def test_a_migration_pglast_cannot_parse_goes_whole_and_the_server_judges_it(
    tmp_path: Path,
) -> None:
    # system_user is reserved from PostgreSQL 16 (pglast's grammar), a column name on 15.
    path = tmp_path / "0001_x.sql"
    path.write_text("create table t (system_user text);\nselect 1;")
    assert [s.as_string() for s in migrate._statements(path)] == [path.read_text()]


def test_a_sql_function_may_call_one_a_later_file_defines(
    empty_db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    (root / "functions" / "aa_first.sql").write_text(
        "create function app._later_caller() returns integer language sql stable\n"
        "as $$ select app._later_callee() + 1 $$;\n"
    )
    (root / "functions" / "zz_last.sql").write_text(
        "create function app._later_callee() returns integer language sql immutable\n"
        "as $$ select 41 $$;\n"
    )
    migrate.migrate(empty_db.dsn(), root)
    with empty_db.connect() as conn:
        assert conn.execute("select app._later_caller()").fetchone() == (42,)


def test_a_function_file_with_a_broken_body_is_refused_and_leaves_no_trace(
    empty_db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    migrate.migrate(empty_db.dsn(), root)
    (root / "functions" / "zz_new.sql").write_text(
        "create function app._fine() returns integer language sql as $$ select 1 $$;\n"
        "create function app._broken() returns integer language sql\n"
        "as $$ select count(*)::integer from app.no_such_table $$;\n"
    )
    with pytest.raises(psycopg.errors.UndefinedTable, match="no_such_table"):
        migrate.migrate(empty_db.dsn(), root)
    with empty_db.connect() as conn:
        found = conn.execute(
            "select to_regprocedure('app._fine()'), to_regprocedure('app._broken()')"
        ).fetchone()
        assert found == (None, None)


def test_a_body_is_validated_under_the_search_path_it_pins(
    empty_db: Database, tmp_path: Path
) -> None:
    """Not under the migrating session's path: a database whose path includes app
    would otherwise pass a body that fails at its first call."""
    with empty_db.connect(autocommit=True) as conn:
        conn.execute(f'alter database "{empty_db.name}" set search_path = app, public')
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    (root / "functions" / "zz_new.sql").write_text(
        "create function app._unqualified() returns bigint language sql stable\n"
        "set search_path = pg_catalog, pg_temp\n"
        "as $$ select count(*) from contacts $$;\n"
    )
    with pytest.raises(psycopg.errors.UndefinedTable, match="contacts"):
        migrate.migrate(empty_db.dsn(), root)


def test_a_plpgsql_function_with_a_syntax_error_is_refused(
    empty_db: Database, tmp_path: Path
) -> None:
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    (root / "functions" / "zz_new.sql").write_text(
        "create function app._broken() returns integer language plpgsql\n"
        "as $$ begin retrun 1; end $$;\n"
    )
    with pytest.raises(psycopg.errors.SyntaxError, match="retrun"):
        migrate.migrate(empty_db.dsn(), root)


def test_concurrent_migrators_apply_each_migration_once(empty_db: Database) -> None:
    results: list[migrate.MigrateResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate.migrate(empty_db.dsn()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    applied = sorted(name for r in results for name in r.applied)
    assert applied == [m.name for m in migrate.schema_migrations()]


def test_objects_are_owned_by_intime_owner(db: Database) -> None:
    with db.connect() as conn:
        owners = conn.execute(
            """
            select distinct pg_get_userbyid(c.relowner)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname in ('app', 'queue') and c.relkind in ('r', 'v', 'p', 'S')
            union
            select distinct pg_get_userbyid(p.proowner)
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('app', 'api')
            """
        ).fetchall()
    assert owners == [("intime_owner",)]


def test_queue_schema_is_installed_by_pgqueuer(db: Database) -> None:
    with db.connect() as conn:
        row = conn.execute("select to_regclass('queue.pgqueuer')").fetchone()
    assert row == ("queue.pgqueuer",)


def test_databases_of_a_new_cluster_migrate_concurrently() -> None:
    """Roles are cluster-wide and the lock is per database: creating them must not race."""
    with pgserver.temporary_server(pgserver.default_home() / "pgbin") as server:
        names = [f"c{i}" for i in range(4)]
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            for name in names:
                conn.execute(f"create database {name}")
        errors: list[BaseException] = []

        def run(name: str) -> None:
            try:
                migrate.migrate(server.dsn(name))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []


def test_a_migrate_that_changes_nothing_does_not_wait_for_writers(db: Database, two_orgs) -> None:
    with db.connect("intime_service") as writer:
        writer.execute("select api.set_actor(p_org_id => %s)", (two_orgs.a.org_id,))
        writer.execute("update app.contacts set title = 'busy'")  # an open write transaction
        result = migrate.migrate(db.dsn() + " options='-c lock_timeout=3000'")
        writer.rollback()
    assert result.applied == []


def test_a_held_migration_lock_is_reported_with_its_holder(db: Database, two_orgs) -> None:
    # A human login may not take advisory locks any more (test_login_reach.py); a stuck
    # service session still can.
    with db.connect("intime_service", autocommit=True) as squatter:
        squatter.execute("select pg_advisory_lock(%s)", (migrate.LOCK_KEY,))
        with pytest.raises(MigrationLockTimeoutError, match="intime_service") as info:
            migrate.migrate(db.dsn(), lock_timeout=0.5)
    assert info.value.sqlstate == "IT009"


def test_migrate_turns_jit_off_for_new_sessions_of_the_database(empty_db: Database) -> None:
    migrate.migrate(empty_db.dsn())
    with empty_db.connect() as conn:
        assert conn.execute("select current_setting('jit')").fetchone() == ("off",)


def test_migrate_keeps_a_jit_value_the_operator_set(empty_db: Database) -> None:
    with empty_db.connect() as conn:
        conn.execute(f'alter database "{empty_db.name}" set jit = on')
    migrate.migrate(empty_db.dsn())
    with empty_db.connect() as conn:
        assert conn.execute("select current_setting('jit')").fetchone() == ("on",)
