"""make citus: where the source is found, and a clear error without one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from intime import citus_build


def test_source_is_found_beside_the_checkout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("INTIME_CITUS_SOURCE", raising=False)
    checkout = tmp_path / "main"
    checkout.mkdir()
    archives = tmp_path / "shared" / "citus"
    archives.mkdir(parents=True)
    (archives / "citus-9.5.0.tar.gz").write_bytes(b"")
    (archives / "citus-14.0.1.tar.gz").write_bytes(b"")
    assert citus_build.default_source(checkout) == archives / "citus-14.0.1.tar.gz"


def test_a_clone_finds_the_source_beside_its_origin(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("INTIME_CITUS_SOURCE", raising=False)
    origin = tmp_path / "work" / "main"
    origin.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    archives = tmp_path / "work" / "shared" / "citus"
    archives.mkdir(parents=True)
    (archives / "citus-14.0.1.tar.gz").write_bytes(b"")
    clone = tmp_path / "elsewhere" / "clone"
    clone.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "remote", "add", "origin", str(origin)], check=True)
    assert citus_build.default_source(clone) == archives / "citus-14.0.1.tar.gz"


def test_the_environment_names_the_source(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("INTIME_CITUS_SOURCE", str(tmp_path / "mine.tar.gz"))
    assert citus_build.default_source(tmp_path) == tmp_path / "mine.tar.gz"


def test_no_source_and_no_citus_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("INTIME_PG_BINDIR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config to find a system Citus
    with pytest.raises(citus_build.CitusBuildError, match="INTIME_CITUS_SOURCE"):
        citus_build.build(tmp_path / "pgbin", None, tmp_path / "build")
