"""The intime command line against a real database (DATABASE_URL set)."""

from __future__ import annotations

import pytest

from intime.cli import main
from tests.support import Database, TwoOrgs


@pytest.fixture
def database_url(db: Database, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db.dsn())
    monkeypatch.delenv("INTIME_SERVICE_URL", raising=False)
    return db.dsn()


def test_db_status_lists_every_applied_migration(database_url: str, capsys) -> None:
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert "applied  0001_foundation.sql" in out
    assert "pending" not in out


def test_db_migrate_on_a_current_database_applies_nothing(database_url: str, capsys) -> None:
    assert main(["db", "migrate"]) == 0
    assert "0 migration(s) applied" in capsys.readouterr().out


def test_token_create_prints_a_token_that_authenticates(
    database_url: str, two_orgs: TwoOrgs, service, capsys
) -> None:
    assert main(["token", "create", "--org", "acme", "--email", "RILEY@acme.example"]) == 0
    out = capsys.readouterr().out
    token = next(line.split()[1] for line in out.splitlines() if line.startswith("token:"))
    with service.transaction():
        row = service.execute(
            "select user_id from api.authenticate(p_token => %s)", (token,)
        ).fetchone()
    assert row == (two_orgs.a.rep_ids[0],)


def test_token_create_for_an_unknown_user_fails_clearly(database_url: str, capsys) -> None:
    assert main(["token", "create", "--org", "nope", "--email", "x@y.z"]) == 1
    assert "no user x@y.z in organization nope" in capsys.readouterr().err
