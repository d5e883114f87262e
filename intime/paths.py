"""Where the project's SQL lives: the checkout's sql/ or the wheel's copy."""

from __future__ import annotations

from pathlib import Path


def sql_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):
        if (candidate / "bootstrap.sql").is_file():
            return candidate
    raise FileNotFoundError("cannot find the InTime sql/ directory")
