"""The README as a new user follows it: ``make demo``, then ``intime up``, then what the
demo printed, then an org, a user and a token of one's own made with the CLI.

Everything runs as a user would run it: the CLI in subprocesses, the embedded server
under a scratch ``INTIME_HOME`` (no DATABASE_URL), real HTTP against the running app,
the real ``psql`` with the printed URL.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from intime import pgserver
from intime_cli.serving import free_port, wait_for_http
from intime_cli.sse import SseStream

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class NewUser:
    env: dict[str, str]
    demo_exit: int
    demo_output: str
    base: str
    psql: str

    def intime(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``.venv/bin/intime ARGS`` as the README writes it."""
        return subprocess.run(
            [sys.executable, "-m", "intime_cli.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def token_of(self, org: str, email: str) -> str:
        found = re.search(
            rf"^\s+{org}\s+{re.escape(email)}\s+\w+\s+(itk_\w+)$", self.demo_output, re.M
        )
        assert found, f"the demo printed no token for {email}"
        return found.group(1)


@pytest.fixture(scope="module")
def new_user(pg_server: pgserver.PgServer) -> Iterator[NewUser]:
    """``make demo`` (``.venv/bin/intime demo``), then ``intime up`` left running."""
    # A checkout of one's own; as root, PostgreSQL runs as another OS user, which must
    # reach the data folder (pytest's tmp_path is private to root).
    checkout = Path(tempfile.mkdtemp(prefix="intime-new-user-"))
    checkout.chmod(0o755)
    home = checkout / ".intime"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "INTIME_", "PG"))
    }
    env |= {
        "INTIME_HOME": str(home),
        "INTIME_PG_BINDIR": str(pg_server.binaries.bindir),
        "INTIME_PUBLIC_URL": base,
        "PYTHONPATH": str(ROOT),
    }
    demo = subprocess.run(
        [sys.executable, "-m", "intime_cli.cli", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = (checkout / "up.log").open("w")
    up = subprocess.Popen(
        [sys.executable, "-m", "intime_cli.cli", "up", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_http(f"{base}/healthz", alive=lambda: up.poll() is None)
        yield NewUser(
            env,
            demo.returncode,
            demo.stdout + demo.stderr,
            base,
            str(pg_server.binaries.bindir / "psql"),
        )
    finally:
        up.send_signal(signal.SIGINT)
        try:
            assert up.wait(timeout=60) == 0
        finally:
            if up.poll() is None:
                up.kill()
            log.close()
            shutil.rmtree(checkout, ignore_errors=True)


def test_make_demo_succeeds_and_prints_how_to_use_it(new_user: NewUser) -> None:
    out = new_user.demo_output
    assert new_user.demo_exit == 0, out[-3000:]
    assert f"console (INTIME_PUBLIC_URL): {new_user.base}/inbox" in out
    assert "start the web app and the worker: .venv/bin/intime up" in out
    assert re.search(r"at \S+, database intime$", out, re.M)


def test_the_printed_token_opens_the_notification_stream(new_user: NewUser) -> None:
    token = new_user.token_of("acme", "riley@acme.example")
    stream = SseStream(f"{new_user.base}/notifications/stream", token=token)
    try:
        stream.next("unread_count", timeout=30)
        assert stream.status_code == 200
    finally:
        stream.close()


def test_the_printed_psql_url_logs_in_and_reads_through_the_api(new_user: NewUser) -> None:
    found = re.search(r"^\s+psql '(.+)'$", new_user.demo_output, re.M)
    assert found is not None
    result = subprocess.run(
        [
            new_user.psql,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            found.group(1),
            "-c",
            "select email, org_id is not null from api.get_actor()",
            "-c",
            "select count(*) > 0 from app.deals",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["riley@acme.example|t", "t"]


def test_the_readme_token_command_works_on_the_demo_data(new_user: NewUser) -> None:
    """README: ``intime token create --org acme --email riley@acme.example --name laptop``."""
    made = new_user.intime(
        "token", "create", "--org", "acme", "--email", "riley@acme.example", "--name", "laptop"
    )
    assert made.returncode == 0, made.stderr
    found = re.search(r"(itk_\w+)", made.stdout)
    assert found is not None
    stream = SseStream(f"{new_user.base}/notifications/stream", token=found.group(1))
    try:
        stream.next("unread_count", timeout=30)
        assert stream.status_code == 200
    finally:
        stream.close()


def test_the_pending_approval_is_decided_through_its_email_link(new_user: NewUser) -> None:
    """The link the demo printed (from the outbox email) opens on the running app and its
    form decides the approval it names, as the approver's browser would."""
    found = re.search(r"its email: (\S+)\n\s+its link:  (\S+)", new_user.demo_output)
    assert found is not None
    email, link = Path(found.group(1)), found.group(2)
    assert link in email.read_text().replace("=\n", "")  # quoted-printable soft breaks
    token = re.fullmatch(rf"{re.escape(new_user.base)}/approvals/(apl_[0-9a-f]{{64}})", link)
    assert token is not None, link
    with httpx.Client(timeout=30, follow_redirects=False) as browser:
        page = browser.get(link)
        assert page.status_code == 200
        assert 'name="decision" value="approve"' in page.text
        decided = browser.post(
            link,
            data={"link_token": token.group(1), "decision": "approve", "comment": "from the email"},
            headers={"Origin": new_user.base},
        )
        assert decided.status_code == 303, decided.text
    psql = re.search(r"^\s+psql '(.+)'$", new_user.demo_output, re.M)
    assert psql is not None
    service = psql.group(1).replace("demo_riley@", "intime_service@")
    with psycopg.connect(service, autocommit=True) as conn:
        shown = conn.execute("select api.get_approval_link(%s)", (token.group(1),)).fetchone()
    assert shown is not None
    assert shown[0]["state"] == "used"
    assert shown[0]["approver"]["email"] == "manager@acme.example"
    assert shown[0]["approval"]["status"] == "approved"


def test_a_new_org_user_and_token_made_with_the_cli_work_on_the_stream(
    new_user: NewUser,
) -> None:
    """README: ``intime org create``, ``intime user create``, ``intime token create``; the
    new user's token opens the stream of the running app, and ``token list`` shows it."""
    made = new_user.intime("org", "create", "--slug", "initech", "--name", "Initech")
    assert made.returncode == 0, made.stderr
    made = new_user.intime(
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
    made = new_user.intime(
        "token",
        "create",
        "--org",
        "initech",
        "--email",
        "peter@initech.example",
        "--name",
        "laptop",
    )
    assert made.returncode == 0, made.stderr
    found = re.search(r"(itk_\w+)", made.stdout)
    assert found is not None, made.stdout
    stream = SseStream(f"{new_user.base}/notifications/stream", token=found.group(1))
    try:
        stream.next("unread_count", timeout=30)
        assert stream.status_code == 200
    finally:
        stream.close()
    listed = new_user.intime("token", "list", "--org", "initech", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "laptop" in listed.stdout
    assert "peter@initech.example" in listed.stdout
