"""Committed files generated from a migrated database stay current."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from intime.errors import BY_SQLSTATE
from intime.paths import sql_dir
from intime_cli.cli import api_docs, permission_docs, schema_dump
from intime_cli.queries import API_DOCS
from tests.support import Database

ROOT = Path(__file__).resolve().parents[2]


def test_schema_snapshot_matches_a_freshly_migrated_database(db: Database, pg_major: int) -> None:
    if pg_major != 15:
        pytest.skip("sql/schema.snapshot.sql is pg_dump 15 output; `make snapshot` refreshes it")
    current = schema_dump(db.server.binaries.bindir, db.dsn())
    committed = (ROOT / "sql" / "schema.snapshot.sql").read_text()
    assert committed == current, "schema changed: run `make snapshot` and commit the result"


def test_every_api_function_has_a_comment(admin: psycopg.Connection) -> None:
    rows = admin.execute(API_DOCS).fetchall()
    assert rows
    assert [r[0] for r in rows if not (r[4] or "").strip()] == []


def test_sql_api_reference_is_current(db: Database) -> None:
    committed = (ROOT / "docs" / "sql-api.md").read_text()
    assert committed == api_docs(db.dsn()), "run `make docs` and commit docs/sql-api.md"


def test_permissions_reference_is_current(db: Database) -> None:
    committed = (ROOT / "docs" / "permissions.md").read_text()
    assert committed == permission_docs(db.dsn()), "run `make docs` and commit docs/permissions.md"


def test_every_permission_is_checked_somewhere(db: Database) -> None:
    assert "**nowhere**" not in permission_docs(db.dsn())


def test_every_project_sqlstate_is_registered() -> None:
    raised = set()
    for path in sql_dir().rglob("*.sql"):
        raised |= set(re.findall(r"errcode = '(IT\d{3})'", path.read_text()))
    registry = (ROOT / "docs" / "errors.md").read_text()
    documented = set(re.findall(r"^\| `(IT\d{3})` \|", registry, flags=re.MULTILINE))
    assert raised
    assert raised <= documented, raised - documented
    assert documented <= set(BY_SQLSTATE), documented - set(BY_SQLSTATE)
