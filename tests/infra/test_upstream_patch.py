"""The patch we offer pgqueuer (docs/upstream/) still applies to the pinned release,
and the patched driver keeps LISTEN off the query connection."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pgqueuer

PATCH = (
    Path(__file__).resolve().parents[2]
    / "docs"
    / "upstream"
    / ("pgqueuer-psycopg-listen-connection.patch")
)


def test_the_pgqueuer_patch_applies_to_the_pinned_release(tmp_path: Path) -> None:
    installed = Path(pgqueuer.__file__).parent
    tree = tmp_path / "pgqueuer"
    shutil.copytree(installed, tree, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        ["git", "apply", "-p1", str(PATCH)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    patched = (tree / "adapters" / "drivers" / "psycopg.py").read_text()
    assert "listen_connection: psycopg.AsyncConnection | None = None" in patched
    assert "self._listen_connection.notifies(" in patched
    compile(patched, "psycopg.py", "exec")
