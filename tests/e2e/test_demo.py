"""`intime demo` runs end to end against a real database."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from intime import pgserver
from intime.config import Config
from intime_cli.demo import run_demo
from tests.conftest import create_database, drop_database
from tests.support import Database


@pytest.fixture(scope="module")
def demo_output(
    pg_server: pgserver.PgServer,
    cluster: psycopg.Connection,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """One demo run (about 20 s) whose printout the tests below read."""
    name = f"demo_{uuid.uuid4().hex[:12]}"
    create_database(cluster, name, template_db)
    try:
        db = Database(pg_server, name)
        home = tmp_path_factory.mktemp("demo-home")
        config = Config(database_url=db.dsn(), service_url=None, home=home, pg_bindir=None)
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert run_demo(config) == 0
        yield buffer.getvalue()
    finally:
        drop_database(cluster, name)


def test_demo_seeds_two_orgs_and_finds_no_cross_tenant_leak(demo_output: str) -> None:
    out = demo_output
    assert "Acme Staffing" in out
    assert "Globex Sales" in out
    assert "Negotiation  -> Closed Won" in out
    assert out.count("0 rows leaked, 0 writes allowed  [ok]") == 2


def test_demo_leaves_no_failed_job(demo_output: str) -> None:
    """A plain demo once left 10 jobs held failed (a pooled connection kept dict_row)."""
    assert "jobs held failed: 0  [ok]" in demo_output


def test_demo_sends_mail_and_drives_the_web_app(demo_output: str) -> None:
    out = demo_output
    assert re.search(r"\.eml files: these 3, and \d+ more from the seed", out)
    assert re.search(
        r"Return-Path \(VERP.*\): <bounce\+[0-9a-f]{32}@mail\.acme[-0-9a-f]*\.example>", out
    )
    assert re.search(r"opened before delivered\s+-> 200 applied", out)
    assert re.search(
        r"human reply \(In-Reply-To\)\s+-> 200 recorded, matched by in_reply_to, auto-reply: False",
        out,
    )
    assert re.search(r"out-of-office \(RFC 3834\)\s+-> 200 recorded, .* auto-reply: True", out)
    assert re.search(r"ada\.lovelace\S+\s+clicked\s+opens 1 clicks 1 delivered_at set: True", out)
    assert re.search(r"alan\.turing\S+\s+bounced", out)


def test_demo_shows_live_notifications_with_latency(demo_output: str) -> None:
    out = demo_output
    assert "/notifications/stream -> 200 text/event-stream" in out
    lines = {line.strip().split("  ")[0]: line for line in out.splitlines() if " ms  x" in line}
    assert set(lines) >= {
        "plain (immediate)",
        "deal, in quiet hours",
        "mention #1 (group)",
        "mention #2 (collapses)",
        "during DND",
        "critical, during DND",
    }
    assert "x2" in lines["mention #2 (collapses)"]
    assert re.search(r"email held \(quiet hours\) until \d\d:\d\d UTC", out)
    assert re.search(
        r"email held \(do not disturb\) until \d\d:\d\d UTC, in_app delivered "
        r"\(silent: do not disturb\)",
        out,
    )
    assert re.search(r"critical, during DND .*\n\s+email pending, in_app delivered\n", out)


def test_demo_runs_the_won_deal_workflow_through_the_worker(demo_output: str) -> None:
    out = demo_output
    assert re.search(r'SSE event for Sam \d+ ms after the commit: "Won: Acme Staffing deal 2"', out)
    assert 'task for Sam Rep: "Kick-off call for Acme Staffing deal 2"' in out
    assert re.search(r"email to grace\.hopper\S+ .* status sent, 1 message in the outbox", out)
    part = out.split("== Workflows 1")[1].split("== Workflows 2")[0]
    for line in ("step     kickoff_task", "action   send_email", "log      execution completed"):
        assert line in part


def test_demo_escalates_and_approves_the_discount(demo_output: str) -> None:
    part = demo_output.split("== Workflows 2")[1]
    assert "parked on the approval: execution waiting (approval)" in part
    assert "escalated approvals of the execution: 1" in part
    assert re.search(r"Acme Staffing Admin\s+escalation pending", part)
    assert "the admin (escalation target) approves: step approved" in part
    assert "decided: execution completed" in part
    assert "approval escalated to Acme Staffing Admin" in part


def test_demo_runs_ten_enrollments_through_the_campaign(demo_output: str) -> None:
    out = demo_output
    assert "'enrolled': 10" in out
    assert re.search(r"Mon 01 Jun 09:00  tick \(intro emails\): 10 due -> 10 run", out)
    assert "the worker sent the 10 intro emails to the outbox" in out
    assert "Barbara replies (inbound email) -> 200 recorded" in out
    assert re.search(r"Donald's server refuses: .* -> 200 recorded, matched by verp", out)
    assert "Donald's send: bounced (hard, 5.1.1); address suppressed: True" in out
    assert re.search(r"Edsger's iCloud vacation reply .* -> 200 recorded, auto-reply: True", out)
    assert re.search(
        r"Edsger Dijkstra: paused \(out_of_office\) until Mon 08 Jun 09:00, .* step 2 "
        r"rescheduled to Mon 08 Jun 09:00, not skipped",
        out,
    )
    assert re.search(r"tick \(A/B follow-ups\): 7 due -> 7 run, .* 7 completed", out)
    assert re.search(r"tick \(his follow-up\): 1 due -> 1 run, .* 1 completed", out)
    assert re.search(
        r"Barbara Liskov\s+replied\s+Mon 01 Jun 09:00 1:sent\s+\S+ \S+ \S+ \S+ 1:stopped", out
    )
    assert re.search(r"Donald Knuth\s+bounced\s+", out)
    assert len(re.findall(r"completed\s+Mon 01 Jun 09:00 1:sent .* 4:sent\[[AB]\]", out)) == 8
    assert re.search(r"campaign\s+10\s+18\s+\d+\s+\d+\s+\d+\s+1\s+1\s+0\s+8", out)
    assert "LinkedIn tasks for the owner: 8" in out
    assert "replied to Q3 platform outreach" in out


def test_demo_shows_a_member_refused_a_template_edit_until_an_admin_grants_it(
    demo_output: str,
) -> None:
    out = demo_output
    assert "edits the 'intro' email template: refused: IT003 permission templates.manage" in out
    assert "the member edits it again: 1 template changed" in out
