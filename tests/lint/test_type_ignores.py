"""No silencing comment for the type checker anywhere: mypy runs strict over the four
packages with ``warn_unused_ignores``, and ``tests/`` and ``bench/`` are not type-checked,
where such a comment no checker reads would only rot (docs/conventions.md)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("intime", "intime_cli", "web", "worker", "tests", "bench")
MARK = "type: " + "ignore"  # split, so that this file does not match itself


def test_no_python_file_silences_the_type_checker() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if MARK in line
    ]
    assert found == []
