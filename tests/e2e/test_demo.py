"""`intime demo` runs end to end against a real database."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from intime import pgserver
from intime.config import Config
from intime_cli.demo import DemoRefused, _remove_previous_run, run_demo
from tests.conftest import create_database, drop_database
from tests.support import Database, TwoOrgs


@dataclasses.dataclass(frozen=True)
class DemoRun:
    exit_code: int
    output: str
    db: Database
    home: Path


@pytest.fixture(scope="module")
def demo_run(
    pg_server: pgserver.PgServer,
    cluster: psycopg.Connection,
    template_db: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DemoRun]:
    """One demo run (about 20 s) whose printout and database the tests below read."""
    name = f"demo_{uuid.uuid4().hex[:12]}"
    create_database(cluster, name, template_db)
    try:
        db = Database(pg_server, name)
        home = tmp_path_factory.mktemp("demo-home")
        config = Config(
            database_url=db.dsn(),
            service_url=None,
            home=home,
            pg_bindir=None,
            public_url="http://console.example:8000",
        )
        with db.connect(autocommit=True) as admin:  # as in a database of one's own
            admin.execute("update app.settings set allow_fake_clock = false")
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exit_code = run_demo(config)
        yield DemoRun(exit_code, buffer.getvalue(), db, home)
    finally:
        drop_database(cluster, name)


@pytest.fixture(scope="module")
def demo_output(demo_run: DemoRun) -> str:
    return demo_run.output


def test_demo_finds_nothing_wrong(demo_run: DemoRun) -> None:
    assert demo_run.exit_code == 0, "\n".join(
        line for line in demo_run.output.splitlines() if "FAIL" in line or "no seed row" in line
    )
    assert demo_run.output.rstrip().endswith("Demo finished.")


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


def test_demo_ends_with_a_sign_in_token_for_every_demo_user(demo_run: DemoRun) -> None:
    out = demo_run.output.split("== Use it yourself")[1]
    assert "console (INTIME_PUBLIC_URL): http://console.example:8000/inbox" in out
    rows = re.findall(
        r"^\s+(acme|globex)\s+(\S+@\S+)\s+(admin|manager|member)\s+(itk_\w+)$", out, re.M
    )
    with demo_run.db.connect() as conn:
        users = conn.execute(
            "select o.slug, u.email, u.role from app.user_profiles as u "
            "join app.organizations as o on o.id = u.org_id order by 1, 2"
        ).fetchall()
        for _, _, _, token in rows:
            assert conn.execute(
                "select count(*) from api.authenticate_token(p_token => %s)", (token,)
            ).fetchone() == (1,)
    assert sorted((org, email, role) for org, email, role, _ in rows) == users
    assert len(users) == 8


def test_demo_prints_a_psql_url_of_its_mapped_login(demo_run: DemoRun) -> None:
    found = re.search(r"^\s+psql '(.+)'$", demo_run.output, re.M)
    assert found is not None
    with psycopg.connect(found.group(1)) as conn:
        actor = conn.execute("select email, via from api.get_actor()").fetchone()
    assert actor == ("riley@acme.example", "db_role")


def test_demo_leaves_an_approval_pending_with_its_email_in_the_outbox(demo_run: DemoRun) -> None:
    out = demo_run.output
    assert re.search(
        r"approval pending: Discount sign-off of Acme Staffing deal 3, approver Morgan Manager "
        r"\(manager@acme\.example\)",
        out,
    )
    found = re.search(r"its email: (\S+)\n\s+its link:  (\S+)", out)
    assert found is not None
    path, link = Path(found.group(1)), found.group(2)
    # Absolute, from INTIME_PUBLIC_URL (the worker's), with the approver's own token.
    assert re.fullmatch(r"http://console\.example:8000/approvals/apl_[0-9a-f]{64}", link)
    assert path.is_relative_to(demo_run.home / "demo-outbox")
    assert link in path.read_text().replace("=\n", "")
    with demo_run.db.connect() as conn:
        pending = conn.execute(
            "select count(*) from app.workflow_approvals as a "
            "join app.organizations as o on o.id = a.org_id "
            "where o.slug = 'acme' and a.status = 'pending'"
        ).fetchone()
    assert pending == (1,)


def test_demo_puts_the_fake_clock_switch_back(demo_run: DemoRun) -> None:
    with demo_run.db.connect() as conn:
        assert conn.execute("select allow_fake_clock from app.settings").fetchone() == (False,)


def test_demo_timelines_read_in_order_and_name_their_clock(demo_output: str) -> None:
    for part in demo_output.split("timeline of execution")[1:]:
        header, *lines = part.split("\n== ")[0].splitlines()
        assert "real clock, UTC" in header
        offsets = [
            float(m) for m in re.findall(r"^\s+\S+\s+\+\s*([\d.]+) ms", "\n".join(lines), re.M)
        ]
        assert offsets == sorted(offsets)
        assert len(offsets) > 5
    assert re.search(r"== Campaigns: .* a fake clock, .* every time below is on it", demo_output)
    assert "Mon 08 Jun 09:00  tick (Edsger is back" in demo_output


def test_demo_calls_the_campaign_by_its_step_count(demo_output: str) -> None:
    part = demo_output.split("== Campaigns")[1].split("== Who may", maxsplit=1)[0]
    steps = re.findall(r"^\s+step\s+(\d+) ", part, re.M)
    assert steps == ["1", "2", "3", "4"]
    assert "through a 4-step sequence" in part


def test_a_rerun_deletes_the_demo_orgs_with_every_row_they_own(
    db: Database, two_orgs: TwoOrgs, cluster: psycopg.Connection
) -> None:
    """The seeded template has the demo's two orgs with a row in every tenant table."""
    with db.connect(autocommit=True) as admin:
        _remove_previous_run(admin)
        left = admin.execute(
            "select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
            "join pg_attribute as a on a.attrelid = c.oid and a.attname = 'org_id' "
            "where n.nspname = 'app' and c.relkind in ('r', 'p') and c.relrowsecurity"
        ).fetchall()
        for (table,) in left:
            count = admin.execute(f"select count(*) from app.{table}").fetchone()
            assert count == (0,), table
        assert admin.execute("select count(*) from app.organizations").fetchone() == (0,)


def test_a_rerun_refuses_an_org_with_a_demo_slug_it_did_not_make(db: Database) -> None:
    with db.connect(autocommit=True) as admin:
        admin.execute(
            "insert into app.organizations (name, slug) values ('Acme Inc. (real)', 'acme')"
        )
        with pytest.raises(DemoRefused, match=r"'acme' .* is not the demo's"):
            _remove_previous_run(admin)
        assert admin.execute("select count(*) from app.organizations").fetchone() == (1,)
