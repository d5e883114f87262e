"""`intime demo` runs end to end against a real database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intime.config import Config
from intime.demo import run_demo
from tests.support import Database


def test_demo_seeds_two_orgs_and_finds_no_cross_tenant_leak(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = Config(database_url=db.dsn(), service_url=None, home=tmp_path, pg_bindir=None)
    assert run_demo(config) == 0
    out = capsys.readouterr().out
    assert "Acme Staffing" in out
    assert "Globex Sales" in out
    assert "Negotiation  -> Closed Won" in out
    assert out.count("0 rows leaked, 0 writes allowed  [ok]") == 2


def test_demo_sends_mail_and_drives_the_web_app(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = Config(database_url=db.dsn(), service_url=None, home=tmp_path, pg_bindir=None)
    assert run_demo(config) == 0
    out = capsys.readouterr().out
    assert "holds 3 .eml files" in out
    assert re.search(r"opened before delivered\s+-> 200 applied", out)
    assert re.search(
        r"human reply \(In-Reply-To\)\s+-> 200 recorded, matched by in_reply_to, auto-reply: False",
        out,
    )
    assert re.search(r"out-of-office \(RFC 3834\)\s+-> 200 recorded, .* auto-reply: True", out)
    assert re.search(r"ada\.lovelace\S+\s+clicked\s+opens 1 clicks 1 delivered_at set: True", out)
    assert re.search(r"alan\.turing\S+\s+bounced", out)
