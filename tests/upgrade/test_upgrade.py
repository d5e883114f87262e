"""Upgrading a database: a database built by the previous release, migrated by this
code, must equal a freshly migrated one; `migrate` drops the functions and triggers
that no file defines any more, and says which.

The previous release is `v0.1.0.tar.gz` beside this file: `git archive v0.1.0` of
`sql/` and the migration runner (`make upgrade-fixture` makes it again), so the test
does not depend on the clone having tags. `test_the_vendored_release_is_the_tag`
checks it against the tag when the tag is there.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from intime import migrate, pgserver
from intime_cli.cli import schema_dump
from tests.conftest import create_database, drop_database
from tests.support import Database

RELEASE = "v0.1.0"
ARCHIVE = Path(__file__).with_name(f"{RELEASE}.tar.gz")
ROOT = Path(__file__).resolve().parents[2]

ROUTINES = (
    "select p.oid::regprocedure::text from pg_proc p "
    "join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('app', 'api')"
)
TRIGGERS = (
    "select 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text from pg_trigger t "
    "join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace "
    "where n.nspname in ('app', 'api') and not t.tgisinternal"
)


def definitions(database: Database) -> set[str]:
    with database.connect() as conn:
        return {row[0] for query in (ROUTINES, TRIGGERS) for row in conn.execute(query)}


@pytest.fixture(scope="module")
def release_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("release")
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(root, filter="data")
    return root


def migrate_with_release(tree: Path, dsn: str) -> None:
    """Run the release's own migration runner on its own sql/ tree."""
    script = (
        "import sys, intime.migrate as m; "
        "assert m.__file__.startswith(sys.argv[2]), m.__file__; "
        "m.migrate(sys.argv[1])"
    )
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", script, dsn, str(tree)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def dump(server: pgserver.PgServer, dsn: str) -> str:
    """The schema with comments, grants and owners."""
    return schema_dump(server.binaries.bindir, dsn, comments=True)


def difference(fresh: str, upgraded: str) -> str:
    return "".join(
        difflib.unified_diff(
            fresh.splitlines(keepends=True),
            upgraded.splitlines(keepends=True),
            "freshly migrated",
            f"migrated from {RELEASE}",
            n=2,
        )
    )


@pytest.fixture
def release_db(
    pg_server: pgserver.PgServer, cluster: psycopg.Connection, release_tree: Path
) -> Iterator[Database]:
    """A database migrated by the release, nothing else."""
    name = f"r_{uuid.uuid4().hex[:16]}"
    create_database(cluster, name)
    try:
        migrate_with_release(release_tree, pg_server.dsn(name))
        yield Database(pg_server, name)
    finally:
        drop_database(cluster, name)


def test_a_release_database_migrated_by_this_code_equals_a_fresh_one(
    release_db: Database, db: Database, pg_server: pgserver.PgServer
) -> None:
    # Renamed or removed since the release: exactly what the upgrade drops.
    gone = definitions(release_db) - definitions(db)
    result = migrate.migrate(release_db.dsn())
    assert set(result.dropped) == gone
    change = difference(dump(pg_server, db.dsn()), dump(pg_server, release_db.dsn()))
    assert change == "", change


def test_a_stale_function_left_in_an_upgraded_database_fails_the_comparison(
    release_db: Database, db: Database, pg_server: pgserver.PgServer
) -> None:
    migrate.migrate(release_db.dsn())
    with release_db.connect(autocommit=True) as conn:
        conn.execute("set role intime_owner")
        conn.execute("create function app._stale_helper() returns int language sql return 1")
    change = difference(dump(pg_server, db.dsn()), dump(pg_server, release_db.dsn()))
    assert "+CREATE FUNCTION app._stale_helper() RETURNS integer" in change


def test_migrate_drops_the_functions_and_triggers_no_file_defines(
    admin: psycopg.Connection, db: Database
) -> None:
    admin.execute("set role intime_owner")
    admin.execute(
        "create function app._tg_orphan() returns trigger language plpgsql "
        "as $$ begin return new; end $$"
    )
    admin.execute(
        "create trigger orphan before update on app.deals "
        "for each row execute function app._tg_orphan()"
    )
    admin.execute("create function api.orphan(p_id uuid) returns int language sql return 1")
    admin.execute("reset role")
    result = migrate.migrate(db.dsn())
    assert result.dropped == [
        "trigger orphan on app.deals",
        "api.orphan(uuid)",
        "app._tg_orphan()",
    ]
    left = admin.execute(
        "select count(*) from pg_proc where proname in ('_tg_orphan', 'orphan')"
    ).fetchone()
    assert left == (0,)


def test_db_migrate_names_what_it_dropped(admin: psycopg.Connection, db: Database) -> None:
    admin.execute("set role intime_owner")
    admin.execute("create function app._gone() returns int language sql return 1")
    admin.execute("reset role")
    done = subprocess.run(
        [sys.executable, "-m", "intime_cli.cli", "db", "migrate"],
        env={**os.environ, "DATABASE_URL": db.dsn()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "dropped app._gone() (no file under sql/ defines it any more)" in done.stdout
    assert "1 stale function(s)/trigger(s) dropped" in done.stdout


def test_a_stale_function_something_still_uses_fails_the_migrate_and_changes_nothing(
    admin: psycopg.Connection, db: Database
) -> None:
    admin.execute("set role intime_owner")
    admin.execute("create function app._still_used() returns int language sql return 7")
    admin.execute("alter table app.deals add column stale_probe int default app._still_used()")
    admin.execute("reset role")
    before = admin.execute("select count(*) from pg_proc").fetchone()
    with pytest.raises(psycopg.errors.DependentObjectsStillExist):
        migrate.migrate(db.dsn())
    assert admin.execute("select count(*) from pg_proc").fetchone() == before
    assert admin.execute("select to_regprocedure('app._still_used()') is not null").fetchone() == (
        True,
    )


def test_a_trigger_whose_definition_changed_is_made_again(
    admin: psycopg.Connection, db: Database
) -> None:
    """A trigger changed by hand (or made by an older release) carries no matching
    tag: migrate re-creates it from its file."""

    def definition() -> str:
        row = admin.execute(
            "select pg_get_triggerdef(oid) from pg_trigger "
            "where tgrelid = 'app.email_sends'::regclass and tgname = 'email_sends_workflow_action'"
        ).fetchone()
        assert row is not None
        return str(row[0])

    expected = definition()
    admin.execute("set role intime_owner")
    admin.execute("drop trigger email_sends_workflow_action on app.email_sends")
    admin.execute(
        "create trigger email_sends_workflow_action after update on app.email_sends "
        "for each row execute function app._tg_email_send_workflow_action()"
    )
    admin.execute("reset role")
    assert definition() != expected
    migrate.migrate(db.dsn())
    assert definition() == expected


def test_a_second_migrate_drops_nothing_and_leaves_every_trigger_alone(
    admin: psycopg.Connection, db: Database
) -> None:
    query = (
        "select t.oid, t.xmin::text from pg_trigger t join pg_class c on c.oid = t.tgrelid "
        "where c.relnamespace = 'app'::regnamespace and not t.tgisinternal order by 1"
    )
    before = admin.execute(query).fetchall()
    assert len(before) > 30
    result = migrate.migrate(db.dsn())
    assert result.dropped == []
    assert admin.execute(query).fetchall() == before


def reapplied_files() -> list[Path]:
    """The files migrate applies every time: only what they define survives a migrate."""
    sql = ROOT / "sql"
    return [
        sql / "bootstrap.sql",
        *sorted((sql / "functions").rglob("*.sql")),
        *sorted((sql / "triggers").rglob("*.sql")),
    ]


DEFINES = re.compile(
    r"create\s+(?:or\s+replace\s+)?(?:function|procedure)\s+(app|api)\.(\w+)\s*\(", re.I
)


def reapplied_definitions() -> set[str]:
    """schema.name of every routine the re-applied files define."""
    return {
        f"{schema}.{name}".lower()
        for path in reapplied_files()
        for schema, name in DEFINES.findall(path.read_text())
    }


def test_every_function_in_the_database_is_defined_in_a_file_under_sql(
    admin: psycopg.Connection,
) -> None:
    defined = reapplied_definitions()
    present = {
        name
        for (name,) in admin.execute(
            "select n.nspname || '.' || p.proname from pg_proc p "
            "join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('app', 'api')"
        ).fetchall()
    }
    assert present, "the database has no functions"
    assert present - defined == set()


def test_the_vendored_release_is_the_tag() -> None:
    tag = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{RELEASE}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if tag.returncode != 0:
        pytest.skip(f"this clone has no tag {RELEASE} (the vendored archive is used as is)")
    with tarfile.open(ARCHIVE) as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        assert members
        for member in members:
            vendored = tar.extractfile(member)
            assert vendored is not None
            tagged = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{RELEASE}:{member.name}"],
                capture_output=True,
                check=True,
            ).stdout
            assert vendored.read() == tagged, member.name


def test_a_numbered_migration_defines_no_routine_or_trigger_of_its_own() -> None:
    """Numbered migrations run once; migrate drops every routine and trigger that the
    re-applied files do not define. So a migration may create a routine only if a
    re-applied file defines it too (0001 creates app.now() and the context functions,
    which sql/functions/core redefines), and never a trigger (app._ensure_trigger in
    sql/triggers instead)."""
    reapplied = reapplied_definitions()
    own: list[str] = []
    for path in sorted((ROOT / "sql" / "schema").glob("*.sql")):
        text = path.read_text()
        own += [
            f"{path.name}: {schema}.{name}"
            for schema, name in DEFINES.findall(text)
            if f"{schema}.{name}".lower() not in reapplied
        ]
        own += [f"{path.name}: a trigger" for _ in re.finditer(r"create\s+trigger", text, re.I)]
    assert own == []


def test_routines_made_with_a_type_are_not_taken_for_stale(
    admin: psycopg.Connection, db: Database
) -> None:
    """A range type's constructor functions belong to the type (review finding)."""
    admin.execute("set role intime_owner")
    admin.execute("create type app.hour_range as range (subtype = integer)")
    admin.execute("reset role")
    result = migrate.migrate(db.dsn())
    assert result.dropped == []
    assert admin.execute("select to_regprocedure('app.hour_range(integer, integer)')").fetchone()[0]


def test_a_stale_trigger_on_a_partitioned_table_goes_with_its_partition_copies(
    admin: psycopg.Connection, db: Database
) -> None:
    admin.execute("set role intime_owner")
    admin.execute(
        "select app._ensure_trigger('app.workflow_execution_logs', 'logs_probe', "
        "'before update on %s for each row execute function app._tg_touch()')"
    )
    admin.execute("reset role")
    result = migrate.migrate(db.dsn())
    assert result.dropped == ["trigger logs_probe on app.workflow_execution_logs"]
    left = admin.execute("select count(*) from pg_trigger where tgname = 'logs_probe'").fetchone()
    assert left == (0,)


def test_the_domains_email_settings_named_before_0020_stay_usable(release_db: Database) -> None:
    """Migration 0020 claims the domains each org's settings already name, verified where
    no other org names the same one (so its mail keeps going out); a domain two orgs name
    stays unverified for both."""
    with release_db.connect(autocommit=True) as conn:
        orgs = {}
        for slug, from_email, reply_domain in (
            ("one", "sales@one.example", "mail.shared.example"),
            ("two", "Sales@Two.example", "mail.shared.example"),
        ):
            orgs[slug] = conn.execute(
                "insert into app.organizations (name, slug) values (%s, %s) returning id",
                (slug, slug),
            ).fetchone()[0]
            conn.execute(
                "insert into app.email_settings (org_id, from_email, reply_domain, provider) "
                "values (%s, %s, %s, 'smtp')",
                (orgs[slug], from_email, reply_domain),
            )
    migrate.migrate(release_db.dsn())
    with release_db.connect(autocommit=True) as conn:
        rows = conn.execute(
            "select o.slug, d.domain, d.verified_at is not null, d.token ~ '^[0-9a-f]{32}$' "
            "from app.sending_domains d join app.organizations o on o.id = d.org_id "
            "order by 1, 2"
        ).fetchall()
    assert rows == [
        ("one", "mail.shared.example", False, True),
        ("one", "one.example", True, True),
        ("two", "mail.shared.example", False, True),
        ("two", "two.example", True, True),
    ]
