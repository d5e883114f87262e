"""The operations commands (intime_cli/ops.py) through the real ``intime`` entry point, in a
subprocess, against a test database (DATABASE_URL set): what each prints, what it changes,
and what it refuses, in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from intime import migrate
from intime.db import actor
from tests.support import Database, TwoOrgs

Intime = Callable[..., subprocess.CompletedProcess[str]]
NAP = [
    {"name": "nap", "type": "wait", "duration": "PT1H"},
    {"name": "note", "type": "create_activity", "subject": "after the nap"},
]


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "intime_cli.cli", *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def intime(db: Database, tmp_path) -> Intime:
    """``intime ARGS`` against the test database; returns the finished process."""
    env = {**os.environ, "DATABASE_URL": db.dsn(), "INTIME_HOME": str(tmp_path)}
    env.pop("INTIME_SERVICE_URL", None)
    env.pop("COLUMNS", None)  # into a pipe, tables are 200 columns wide
    return lambda *args: _run(env, *args)


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _one_line_error(result: subprocess.CompletedProcess[str], status: int = 1) -> str:
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error"), result.stderr
    return lines[0]


def _failed_execution(service: psycopg.Connection, orgs: TwoOrgs) -> uuid.UUID:
    """An execution of a manual workflow started by Riley (a rep), then failed."""
    org = orgs.a
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(
            "select api.create_workflow(p_name => 'cli', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb({"triggers": [{"type": "manual"}], "steps": NAP}),),
        ).fetchone()
    assert row is not None
    with actor(service, org.org_id, org.rep_ids[0]):
        started = service.execute(
            "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)",
            (row[0], org.deal_ids[0]),
        ).fetchone()
    assert started is not None
    with service.transaction():
        service.execute(
            "select api.fail_execution(p_execution_id => %s, p_error => 'boom', p_org_id => %s)",
            (started[0], org.org_id),
        )
    return uuid.UUID(str(started[0]))


def _status(admin: psycopg.Connection, execution_id: uuid.UUID) -> str:
    row = admin.execute(
        "select status from app.workflow_executions where id = %s", (execution_id,)
    ).fetchone()
    assert row is not None
    return str(row[0])


# -- help, version, usage -------------------------------------------------------------


def test_version_prints_the_installed_package_version(intime: Intime) -> None:
    from importlib import metadata

    result = intime("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"intime {metadata.version('intime')}"


def test_top_level_help_is_plain_text_without_backticks(intime: Intime) -> None:
    result = intime("--help")
    assert result.returncode == 0
    assert "`" not in result.stdout
    assert "intime executions list" in result.stdout


def test_web_help_shows_the_host_and_port_defaults(intime: Intime) -> None:
    result = intime("web", "--help")
    assert "(default: 127.0.0.1)" in result.stdout
    assert "(default: 8000)" in result.stdout


def test_an_id_that_is_no_uuid_is_a_usage_error(intime: Intime) -> None:
    result = intime("executions", "show", "nope", "--org", "acme")
    assert result.returncode == 2
    assert "is not an id" in result.stderr


# -- org, user, token -------------------------------------------------------------------


def test_a_new_org_user_and_token_work_end_to_end(intime: Intime, service, admin) -> None:
    assert intime("org", "create", "--slug", "initech", "--name", "Initech").returncode == 0
    made = intime(
        "user",
        "create",
        "--org",
        "initech",
        "--email",
        "peter@initech.example",
        "--name",
        "Peter Gibbons",
        "--role",
        "admin",
    )
    assert made.returncode == 0, made.stderr
    result = intime(
        "token", "create", "--org", "initech", "--email", "peter@initech.example", "--name", "cli"
    )
    assert result.returncode == 0, result.stderr
    token = next(
        line.split()[1] for line in result.stdout.splitlines() if line.startswith("token:")
    )
    with service.transaction():
        row = service.execute(
            "select user_id from api.authenticate_token(p_token => %s)", (token,)
        ).fetchone()
    assert row is not None
    user = admin.execute(
        "select email, role from app.user_profiles where id = %s", (row[0],)
    ).fetchone()
    assert user == ("peter@initech.example", "admin")


def test_org_create_refuses_a_taken_slug_in_one_line(intime: Intime, two_orgs: TwoOrgs) -> None:
    line = _one_line_error(intime("org", "create", "--slug", "acme", "--name", "Again"))
    assert line.startswith("error IT006: organization slug acme is taken")


def test_an_unknown_org_slug_is_a_one_line_error_with_a_hint(intime: Intime) -> None:
    line = _one_line_error(intime("executions", "list", "--org", "nope"))
    assert line.startswith("error: no organization with slug 'nope'")
    assert "intime org create" in line


def test_user_create_with_db_role_maps_the_login_to_the_user(
    intime: Intime, two_orgs: TwoOrgs, db: Database, make_login
) -> None:
    login = make_login()
    result = intime(
        "user",
        "create",
        "--org",
        "acme",
        "--email",
        "dana@acme.example",
        "--name",
        "Dana",
        "--db-role",
        login,
    )
    assert result.returncode == 0, result.stderr
    with db.connect(login) as conn:
        row = conn.execute("select email, via from api.get_actor()").fetchone()
    assert row == ("dana@acme.example", "db_role")


def test_user_create_with_a_db_role_that_does_not_exist_creates_the_login(
    intime: Intime, two_orgs: TwoOrgs, db: Database, cluster
) -> None:
    login = f"cli_{uuid.uuid4().hex[:12]}"
    try:
        result = intime(
            "user",
            "create",
            "--org",
            "acme",
            "--email",
            "lee@acme.example",
            "--name",
            "Lee",
            "--db-role",
            login,
        )
        assert result.returncode == 0, result.stderr
        assert f"created login role {login}" in result.stdout
        with db.connect(login) as conn:
            row = conn.execute("select email from api.get_actor()").fetchone()
        assert row == ("lee@acme.example",)
    finally:
        cluster.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


def test_a_refused_user_create_leaves_no_new_login_behind(
    intime: Intime, two_orgs: TwoOrgs, cluster
) -> None:
    login = f"cli_{uuid.uuid4().hex[:12]}"
    try:
        line = _one_line_error(
            intime(
                "user",
                "create",
                "--org",
                "acme",
                "--email",
                "riley@acme.example",
                "--name",
                "Riley Again",
                "--db-role",
                login,
            )
        )
        assert line.startswith("error IT006:")
        exists = cluster.execute("select 1 from pg_roles where rolname = %s", (login,)).fetchone()
        assert exists is None
    finally:
        cluster.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(login)))


def test_user_create_shows_the_sql_hint_of_a_bad_role_value(
    intime: Intime, two_orgs: TwoOrgs
) -> None:
    line = _one_line_error(
        intime(
            "user",
            "create",
            "--org",
            "acme",
            "--email",
            "x@acme.example",
            "--name",
            "X",
            "--timezone",
            "Mars/Olympus",
        )
    )
    assert line.startswith("error IT005: unknown time zone Mars/Olympus")


def test_a_member_cannot_create_a_user(intime: Intime, two_orgs: TwoOrgs) -> None:
    line = _one_line_error(
        intime(
            "user",
            "create",
            "--org",
            "acme",
            "--as",
            "riley@acme.example",
            "--email",
            "x@acme.example",
            "--name",
            "X",
        )
    )
    assert line.startswith("error IT003:")


def test_token_create_for_an_unknown_user_says_how_to_create_one(
    intime: Intime, two_orgs: TwoOrgs
) -> None:
    line = _one_line_error(
        intime("token", "create", "--org", "acme", "--email", "nobody@acme.example")
    )
    assert line.startswith("error: no user nobody@acme.example in organization acme")
    assert "intime user create --org acme" in line


def test_token_list_shows_each_token_without_its_secret(intime: Intime, two_orgs: TwoOrgs) -> None:
    created = intime("token", "create", "--org", "acme", "--email", "sam@acme.example")
    secret = created.stdout.split("token:")[1].split()[0]
    rows = _json(intime("token", "list", "--org", "acme", "--email", "sam@acme.example", "--json"))
    assert [row["user_email"] for row in rows] == ["sam@acme.example"]
    assert secret not in json.dumps(rows)


def test_a_member_lists_only_their_own_tokens(intime: Intime, two_orgs: TwoOrgs) -> None:
    intime("token", "create", "--org", "acme", "--email", "sam@acme.example")
    intime("token", "create", "--org", "acme", "--email", "riley@acme.example")
    rows = _json(intime("token", "list", "--org", "acme", "--as", "riley@acme.example", "--json"))
    assert {row["user_email"] for row in rows} == {"riley@acme.example"}


def test_token_revoke_stops_the_token_authenticating(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    created = intime("token", "create", "--org", "acme", "--email", "sam@acme.example")
    token_id = created.stdout.split("token id:")[1].split()[0]
    secret = created.stdout.split("token:")[1].split()[0]
    result = intime("token", "revoke", token_id, "--org", "acme")
    assert result.stdout.strip() == f"revoked token {token_id}"
    with pytest.raises(psycopg.Error, match="invalid, expired or revoked token"):
        service.execute("select * from api.authenticate_token(p_token => %s)", (secret,))


def test_a_member_cannot_revoke_another_users_token(intime: Intime, two_orgs: TwoOrgs) -> None:
    created = intime("token", "create", "--org", "acme", "--email", "sam@acme.example")
    token_id = created.stdout.split("token id:")[1].split()[0]
    line = _one_line_error(
        intime("token", "revoke", token_id, "--org", "acme", "--as", "riley@acme.example")
    )
    assert line.startswith("error IT003: only the owner or an org admin may revoke a token")


# -- executions ---------------------------------------------------------------------------


def test_executions_show_prints_the_timeline_as_json(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    execution = _failed_execution(service, two_orgs)
    rows = _json(intime("executions", "show", str(execution), "--org", "acme", "--json"))
    assert rows[0]["message"] == "execution queued"
    assert "boom" in json.dumps(rows)


def test_executions_show_prints_a_table_for_people(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    execution = _failed_execution(service, two_orgs)
    result = intime("executions", "show", str(execution), "--org", "acme")
    assert result.returncode == 0, result.stderr
    assert f"Execution {execution}" in result.stdout
    assert "execution queued" in result.stdout


def test_executions_show_says_its_status_and_what_the_caller_may_do(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    execution = _failed_execution(service, two_orgs)
    result = intime("executions", "show", str(execution), "--org", "acme")
    assert result.returncode == 0, result.stderr
    assert "failed; you may retry" in " ".join(result.stdout.split())


def test_executions_retry_restarts_a_failed_execution(
    intime: Intime, two_orgs: TwoOrgs, service, admin
) -> None:
    execution = _failed_execution(service, two_orgs)
    result = intime("executions", "retry", str(execution), "--org", "acme")
    assert result.stdout.strip() == f"retried execution {execution}"
    assert _status(admin, execution) == "running"


def test_a_member_cannot_retry_someone_elses_execution(
    intime: Intime, two_orgs: TwoOrgs, service, admin
) -> None:
    execution = _failed_execution(service, two_orgs)
    line = _one_line_error(
        intime("executions", "retry", str(execution), "--org", "acme", "--as", "sam@acme.example")
    )
    assert line.startswith("error IT003: only an admin, the workflow's owner")
    assert _status(admin, execution) == "failed"


def test_whoever_started_an_execution_may_retry_it(
    intime: Intime, two_orgs: TwoOrgs, service, admin
) -> None:
    execution = _failed_execution(service, two_orgs)
    result = intime(
        "executions", "retry", str(execution), "--org", "acme", "--as", "riley@acme.example"
    )
    assert result.returncode == 0, result.stderr
    assert _status(admin, execution) == "running"


def test_executions_cancel_of_an_ended_execution_is_refused(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    execution = _failed_execution(service, two_orgs)
    line = _one_line_error(intime("executions", "cancel", str(execution), "--org", "acme"))
    assert line.startswith(f"error IT013: execution {execution} already ended (failed)")


def test_executions_cancel_cancels_a_waiting_execution(
    intime: Intime, two_orgs: TwoOrgs, service, admin
) -> None:
    execution = _failed_execution(service, two_orgs)
    intime("executions", "retry", str(execution), "--org", "acme")
    result = intime(
        "executions", "cancel", str(execution), "--org", "acme", "--reason", "wrong deal"
    )
    assert result.returncode == 0, result.stderr
    assert _status(admin, execution) == "cancelled"


def test_executions_list_filters_by_status(intime: Intime, two_orgs: TwoOrgs, service) -> None:
    execution = _failed_execution(service, two_orgs)
    rows = _json(intime("executions", "list", "--org", "acme", "--status", "failed", "--json"))
    assert [row["execution_id"] for row in rows] == [str(execution)]


def test_executions_list_prints_the_cursor_of_the_next_page(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    first = _failed_execution(service, two_orgs)
    second = _failed_execution(service, two_orgs)
    page = intime("executions", "list", "--org", "acme", "--status", "failed", "--limit", "1")
    assert page.returncode == 0, page.stderr
    cursor = page.stdout.strip().splitlines()[-1].split("--cursor ")[1].strip("'")
    assert str(second) in page.stdout
    rows = _json(
        intime(
            "executions",
            "list",
            "--org",
            "acme",
            "--status",
            "failed",
            "--cursor",
            cursor,
            "--json",
        )
    )
    assert [row["execution_id"] for row in rows] == [str(first)]


# -- campaigns, approvals, queue ---------------------------------------------------------------


def test_campaigns_stats_prints_the_funnel(intime: Intime, two_orgs: TwoOrgs, admin) -> None:
    row = admin.execute(
        "select id from app.campaigns where org_id = %s limit 1", (two_orgs.a.org_id,)
    ).fetchone()
    assert row is not None
    rows = _json(intime("campaigns", "stats", str(row[0]), "--org", "acme", "--json"))
    assert sum(r["sent"] for r in rows if r["scope"] == "step") > 0


def test_campaigns_stats_of_another_orgs_campaign_is_not_found(
    intime: Intime, two_orgs: TwoOrgs, admin
) -> None:
    row = admin.execute(
        "select id from app.campaigns where org_id = %s limit 1", (two_orgs.b.org_id,)
    ).fetchone()
    assert row is not None
    line = _one_line_error(intime("campaigns", "stats", str(row[0]), "--org", "acme"))
    assert line.startswith(f"error IT004: campaign {row[0]} not found")


def test_campaigns_list_lists_the_orgs_campaigns(intime: Intime, two_orgs: TwoOrgs) -> None:
    rows = _json(intime("campaigns", "list", "--org", "acme", "--json"))
    assert len(rows) >= 1
    assert all(row["campaign_id"] for row in rows)


def test_approvals_list_for_a_user_shows_what_waits_for_them(
    intime: Intime, two_orgs: TwoOrgs
) -> None:
    mine = _json(
        intime("approvals", "list", "--org", "acme", "--user", "manager@acme.example", "--json")
    )
    assert len(mine) == 1
    theirs = _json(
        intime("approvals", "list", "--org", "acme", "--user", "sam@acme.example", "--json")
    )
    assert theirs == []


def test_approvals_list_without_a_user_shows_the_whole_orgs_with_approvers(
    intime: Intime, two_orgs: TwoOrgs
) -> None:
    rows = _json(intime("approvals", "list", "--org", "acme", "--json"))
    assert [row["approver_email"] for row in rows] == ["manager@acme.example"]


def test_queue_shows_queued_jobs_by_entrypoint(intime: Intime, mail) -> None:
    mail.queue(to="queue@example.com", subject="waiting", text="x")
    report = _json(intime("queue", "--json"))
    assert any(
        row["entrypoint"] == "email.send" and row["status"] == "queued" and row["jobs"] >= 1
        for row in report["queue"]
    )


def test_queue_names_the_pgq_command(intime: Intime) -> None:
    result = intime("queue")
    assert result.returncode == 0, result.stderr
    assert 'pgq --schema queue --pg-dsn "$DATABASE_URL"' in result.stdout


# -- connections, privileges, --database --------------------------------------------------------


def test_a_connection_failure_names_the_url_with_its_password_masked(tmp_path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://bob:s3cret@127.0.0.1:1/intime",
        "INTIME_HOME": str(tmp_path),
    }
    line = _one_line_error(_run(env, "token", "list", "--org", "acme"))
    assert "postgresql://bob:***@127.0.0.1:1/intime" in line
    assert "s3cret" not in line
    assert "hint:" in line


def test_a_non_superuser_database_url_says_which_role_it_needs(
    db: Database, make_login, tmp_path
) -> None:
    login = make_login()
    env = {**os.environ, "DATABASE_URL": db.dsn(login), "INTIME_HOME": str(tmp_path)}
    line = _one_line_error(_run(env, "token", "list", "--org", "acme"))
    assert f"connects as {login}, which is no superuser" in line
    assert "DATABASE_URL must be a superuser" in line


def test_migrate_as_a_non_superuser_names_the_missing_privilege(
    empty_db: Database, make_login, tmp_path
) -> None:
    login = make_login()
    env = {**os.environ, "DATABASE_URL": empty_db.dsn(login), "INTIME_HOME": str(tmp_path)}
    line = _one_line_error(_run(env, "db", "migrate"))
    assert f"role {login} lacks a privilege:" in line
    assert "(SQLSTATE 42501)" in line
    assert "DATABASE_URL must be a superuser" in line


def test_database_flag_points_a_command_at_another_database(
    intime: Intime, empty_db: Database
) -> None:
    assert intime("db", "migrate", "--database", empty_db.name).returncode == 0
    created = intime(
        "org", "create", "--slug", "elsewhere", "--name", "E", "--database", empty_db.name
    )
    assert created.returncode == 0, created.stderr
    with empty_db.connect() as conn:
        assert conn.execute("select slug from app.organizations").fetchall() == [("elsewhere",)]


def test_migrate_reports_every_step_to_its_progress_callback(db: Database) -> None:
    seen: list[tuple[str, int, int]] = []
    migrate.migrate(db.dsn(), progress=lambda label, done, total: seen.append((label, done, total)))
    assert [done for _, done, _ in seen] == list(range(len(seen)))
    assert {total for _, _, total in seen} == {len(seen)}
    assert seen[0][0] == "bootstrap.sql"
    assert seen[-1][0] == "validating routines"


def test_with_only_the_service_url_queue_runs_and_slug_lookups_ask_for_database_url(
    db: Database, tmp_path
) -> None:
    env = {**os.environ, "INTIME_SERVICE_URL": db.dsn("intime_service")}
    env |= {"INTIME_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    assert _run(env, "queue").returncode == 0
    line = _one_line_error(_run(env, "token", "list", "--org", "acme"))
    assert "needs DATABASE_URL" in line


def test_an_sql_error_prints_its_hint_on_the_same_line(intime: Intime, two_orgs: TwoOrgs) -> None:
    line = _one_line_error(intime("executions", "list", "--org", "acme", "--status", "bogus"))
    assert line.startswith("error IT005:")
    assert line.endswith(
        "(hint: One of pending, running, waiting, paused, completed, failed, cancelled.)"
    )


def test_executions_list_says_what_the_caller_may_do(
    intime: Intime, two_orgs: TwoOrgs, service
) -> None:
    _failed_execution(service, two_orgs)
    mine = intime("executions", "list", "--org", "acme", "--as", "riley@acme.example")
    assert "retry" in mine.stdout.split("\n", 3)[-1]
    theirs = _json(
        intime("executions", "list", "--org", "acme", "--as", "sam@acme.example", "--json")
    )
    assert [row["can_retry"] for row in theirs if row["status"] == "failed"] == [False]
