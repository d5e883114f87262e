"""`intime demo` runs end to end against a real database."""

from __future__ import annotations

import pytest

from intime.config import Config
from intime.demo import run_demo
from tests.support import Database


def test_demo_seeds_two_orgs_and_finds_no_cross_tenant_leak(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Config(database_url=db.dsn(), service_url=None, home=None, pg_bindir=None)
    assert run_demo(config) == 0
    out = capsys.readouterr().out
    assert "Acme Staffing" in out
    assert "Globex Sales" in out
    assert "Negotiation  -> Closed Won" in out
    assert out.count("0 rows leaked, 0 writes allowed  [ok]") == 2
