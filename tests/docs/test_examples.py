"""Every SQL and shell example in README.md and docs/*.md runs, in order, as written.

Each document's fenced ``sql``, ``sh``, ``bash`` and ``console`` blocks run in the
order they appear, against one migrated database seeded with the demo's two
organizations (``acme`` and ``globex``, as ``make demo`` leaves them). The
conventions a document uses, in an HTML comment on the line before a block:

- ``<!-- example: psql as ROLE -->``: this SQL block and the ones after it run as
  ``ROLE`` (``postgres``, the superuser; ``intime_service``; or a login the document
  created). A document says who runs its first SQL block; the test fails otherwise.
- ``<!-- example: skip (reason) -->``: the block cannot run here (a real Resend key,
  another server); every skip is a skipped test item with its reason (``-ra``).

SQL blocks that follow each other run in one psql session (``ON_ERROR_STOP``, psql
variables and ``\\gset`` carry over); a shell block in between ends it, as it would
for a reader. A shell block runs in one ``bash -e`` in a scratch folder whose
``.venv/bin/intime`` (and ``intime``) is the real CLI, beside the venv's other tools,
with ``DATABASE_URL`` set to the test database (and ``INTIME_SERVICE_URL`` to it as
``intime_service``); ``make`` and ``pytest`` lines and the commands that start a
long-running server are skipped with the reason, and the test that runs them named.
docs/sql-api.md is generated: its blocks are signatures, not examples.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from intime import pgserver
from tests.support import Database, TwoOrgs

ROOT = Path(__file__).resolve().parents[2]
GENERATED = {"docs/sql-api.md": "generated signatures (intime db docs), not examples"}
LANGS = {"sql": "sql", "sh": "sh", "bash": "sh", "console": "sh"}
DIRECTIVE = re.compile(r"^<!--\s*example:\s*(?P<what>.*?)\s*-->$")
# Shell lines that are not run here, and why.
LINE_SKIPS = (
    (re.compile(r"^make\b"), "make rebuilds the venv and runs whole suites: CI runs it"),
    (re.compile(r"\bpytest\b"), "runs a test suite: CI runs it"),
    (
        re.compile(r"\bintime (up|web|worker)\b(?!.*--drain)"),
        "starts a long-running server: tests/e2e/test_new_user.py runs intime up, "
        "tests/infra the web app and the worker",
    ),
    (
        re.compile(r"\bintime pg run\b"),
        "runs the embedded server in the foreground: tests/e2e/test_new_user.py runs it "
        "under intime up",
    ),
    (
        re.compile(r"\bintime pg cluster\b"),
        "runs a Citus cluster in the foreground: "
        "tests/citus/test_cluster.py::test_pg_cluster_command_prints_every_node_and_stops_on_sigterm",
    ),
)


@dataclasses.dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str  # sql or sh
    text: str
    directive: str | None

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        if self.directive and self.directive.startswith("skip"):
            return self.directive[len("skip") :].strip(" ()") or "no reason given"
        return None

    @property
    def role(self) -> str | None:
        found = re.fullmatch(r"psql as (\S+)", self.directive or "")
        return found.group(1) if found else None


def _documents() -> list[str]:
    docs = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
    return [d for d in docs if d not in GENERATED]


def blocks_of(doc: str) -> list[Block]:
    lines = (ROOT / doc).read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = re.match(r"^```(\w+)\s*$", lines[i])
        if not opening and lines[i].startswith("```"):
            # A fence without a language (or another info string): skip to its end.
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            i += 1
            continue
        if opening:
            start = i
            i += 1
            body: list[str] = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            lang = LANGS.get(opening.group(1))
            if lang:
                prev = start - 1
                while prev >= 0 and not lines[prev].strip():
                    prev -= 1
                directive = DIRECTIVE.match(lines[prev].strip()) if prev >= 0 else None
                found.append(
                    Block(
                        doc,
                        start + 1,
                        lang,
                        "\n".join(body),
                        directive.group("what") if directive else None,
                    )
                )
        i += 1
    return found


def shell_lines(block: Block) -> list[tuple[str, str | None]]:
    """The block's commands (continuations joined, comments dropped; a ``$ `` prompt
    removed), each with the reason it is skipped, if it is."""
    commands: list[tuple[str, str | None]] = []
    pending = ""
    for raw in block.text.splitlines():
        line = raw.rstrip()
        if pending:
            line = pending + " " + line.lstrip()
            pending = ""
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        # The command without its prompt (``$ ``) and its trailing comment.
        line = re.sub(r"^\$ ", "", re.sub(r"(^|\s)#.*$", "", line).strip())
        if not line:
            continue
        reason = next((why for pattern, why in LINE_SKIPS if pattern.search(line)), None)
        commands.append((line, reason))
    return commands


def _skipped() -> list[tuple[str, str]]:
    items = [(doc, reason) for doc, reason in GENERATED.items()]
    for doc in _documents():
        for block in blocks_of(doc):
            if block.skip_reason:
                items.append((f"{block.where} ({block.lang})", block.skip_reason))
            elif block.lang == "sh":
                for command, reason in shell_lines(block):
                    if reason:
                        items.append((f"{block.where}: {command}", reason))
    return items


def _runnable_docs() -> list[str]:
    return [doc for doc in _documents() if any(not b.skip_reason for b in blocks_of(doc))]


@pytest.mark.parametrize(("where", "reason"), _skipped(), ids=[w for w, _ in _skipped()])
def test_example_skipped(where: str, reason: str) -> None:
    """One item per example not run, so the run lists each with its reason."""
    pytest.skip(f"{where}: {reason}")


class Runner:
    """Runs one document's examples in order against ``db``."""

    def __init__(self, server: pgserver.PgServer, db: Database, scratch: Path) -> None:
        self.server, self.db, self.scratch = server, db, scratch
        self.psql = str(server.binaries.bindir / "psql")
        bindir = scratch / ".venv" / "bin"
        bindir.mkdir(parents=True)
        # The venv's other tools (pgq, ...) as they are; intime runs this checkout's code.
        for tool in Path(sys.executable).parent.iterdir():
            if tool.name != "intime" and tool.is_file():
                (bindir / tool.name).symlink_to(tool)
        wrapper = bindir / "intime"
        wrapper.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m intime_cli.cli "$@"\n'
        )
        wrapper.chmod(0o755)
        self.env = {
            **os.environ,
            "PATH": f"{bindir}{os.pathsep}{server.binaries.bindir}{os.pathsep}"
            + os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db.dsn(),
            "INTIME_SERVICE_URL": db.dsn("intime_service"),
            "INTIME_HOME": str(scratch / "home"),
            "PSQLRC": os.devnull,
        }

    def sql(self, blocks: list[Block], role: str) -> None:
        script = []
        current = role
        for block in blocks:
            if block.role and block.role != current:
                current = block.role
                script.append(f"\\connect - {current}")
            script.append(f"\\echo '>>> {block.where}'")
            script.append(block.text)
        path = self.scratch / "session.sql"
        path.write_text("\n".join(script) + "\n")
        result = subprocess.run(
            [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.db.dsn(role), "-f", path],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or "warning:" in result.stderr:
            at = re.findall(r"^>>> (\S+)$", result.stdout, re.M)
            raise AssertionError(
                f"the SQL example at {at[-1] if at else blocks[0].where} failed:\n"
                f"{result.stderr.strip()}"
            )

    def shell(self, block: Block) -> None:
        """The block's lines in one bash (``export`` carries over), stopping at the
        first that fails."""
        script = ["set -e -o pipefail"]
        for command, reason in shell_lines(block):
            if not reason:
                script += [f"echo {shlex.quote('>>> ' + command)}", command]
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.scratch,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            ran = re.findall(r"^>>> (.*)$", result.stdout, re.M)
            raise AssertionError(
                f"the shell example at {block.where} failed: {ran[-1] if ran else '?'}\n"
                f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
            )


@pytest.mark.parametrize("doc", _runnable_docs())
def test_examples_run_in_order(
    doc: str,
    pg_server: pgserver.PgServer,
    cluster: psycopg.Connection,
    db: Database,
    two_orgs: TwoOrgs,
    tmp_path: Path,
) -> None:
    roles_before = {r for (r,) in cluster.execute("select rolname from pg_roles")}
    runner = Runner(pg_server, db, tmp_path)
    role: str | None = None
    pending: list[Block] = []

    def flush() -> None:
        nonlocal role
        if not pending:
            return
        first = pending[0].role or role
        assert first, f"{pending[0].where}: say who runs it (<!-- example: psql as ROLE -->)"
        runner.sql(list(pending), first)
        role = next((b.role for b in reversed(pending) if b.role), first)
        pending.clear()

    try:
        for block in blocks_of(doc):
            if block.skip_reason:
                continue
            if block.lang == "sql":
                pending.append(block)
            else:
                flush()
                runner.shell(block)
        flush()
    finally:
        # Logins a document created (alice) are cluster-wide: gone with the test.
        for (name,) in cluster.execute("select rolname from pg_roles").fetchall():
            if name not in roles_before:
                cluster.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
