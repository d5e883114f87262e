"""``intime demo``: what InTime can show so far, end to end, on a real server.

Two organizations with users, accounts, contacts and deals moved through their
pipelines; the stage history (and its legacy view); field-level entity
history; email, notifications, workflows, campaigns and permissions on the real
worker and web app; and a cross-tenant check from a mapped SQL login and from the
service role. It ends by printing how to use what it left: a sign-in token per
demo user, the console's URL, the psql URL of its SQL login and the approval it
left pending.

It writes to the database every other command uses (``intime`` on the embedded
server, or DATABASE_URL), so ``intime up`` serves the demo's data afterwards. Its
two organizations have fixed slugs, ``acme`` and ``globex``: a re-run deletes them
(with every row they own) and seeds them again; an organization with one of those
slugs that the demo did not make stops it. It maps a passwordless login role
``demo_riley`` to a rep of Acme: point DATABASE_URL at a scratch database, never at
production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from intime import migrate, pgserver
from intime.config import Config, as_role
from intime.db import actor
from intime.queries import SET_ACTOR
from intime_cli import demo_queries as dq
from intime_cli import queries as q
from intime_cli.cli import DEFAULT_DB, embedded_server, ensure_database
from intime_cli.demo_campaigns import run_campaigns_demo
from intime_cli.demo_email import run_email_demo
from intime_cli.demo_notifications import run_notifications_demo
from intime_cli.demo_permissions import run_permissions_demo
from intime_cli.demo_usage import pending_approval, print_how_to_use, sign_in_tokens
from intime_cli.demo_workflows import run_workflows_demo
from intime_cli.probe import probe
from intime_cli.progress import progress_bar
from intime_cli.seed import SeededOrg, seed_org

DEMO_LOGIN = "demo_riley"  # a human SQL login mapped to a rep of the first org
DEMO_ORGS = {"acme": "Acme Staffing", "globex": "Globex Sales"}


class DemoRefused(Exception):
    """The database holds an organization with a demo slug that the demo did not make."""


@contextmanager
def _demo_database(config: Config, dbname: str) -> Iterator[tuple[str, str]]:
    """The admin DSN and the psql URL of the demo's SQL login (DATABASE_URL is used as
    it is: ``intime demo --database`` has put the name in it)."""
    if config.database_url:
        yield config.database_url, as_role(config.database_url, DEMO_LOGIN)
        return
    with embedded_server(config) as server:
        ensure_database(server.dsn(), dbname)
        print(
            f"PostgreSQL {server.binaries.major_version()} ({server.binaries.source}) "
            f"at {server.socket_dir}, database {dbname}"
        )
        yield server.dsn(dbname), server.url(dbname, DEMO_LOGIN)


def _remove_previous_run(admin: psycopg.Connection) -> None:
    """Delete the orgs a previous demo run made (each with all its rows)."""
    found = admin.execute(dq.DEMO_ORGS_BY_SLUG, {"slugs": list(DEMO_ORGS)}).fetchall()
    for slug, name in found:
        if DEMO_ORGS[slug] != name:
            raise DemoRefused(
                f"organization {slug!r} ({name}) exists and is not the demo's: "
                "run the demo against another database (DATABASE_URL)"
            )
    if found:
        admin.execute(dq.DELETE_DEMO_ORGS, {"slugs": list(DEMO_ORGS)})
        print(f"removed the previous run's organizations: {', '.join(s for s, _ in found)}")


def _ensure_login(admin: psycopg.Connection, role: str) -> None:
    if not admin.execute(q.LOGIN_EXISTS, {"role": role}).fetchone():
        admin.execute(
            sql.SQL("create role {} login in role intime_user").format(sql.Identifier(role))
        )


def _print_org(conn: psycopg.Connection, org: SeededOrg) -> None:
    with actor(conn, org.org_id, org.admin_id):
        name = conn.execute(q.ORG_NAME).fetchone()
        counts = conn.execute(q.ORG_COUNTS).fetchone()
        assert name is not None
        assert counts is not None
        print(f"\n== {name[0]} ({org.slug})")
        print(
            f"   {counts[0]} users, {counts[1]} accounts, {counts[2]} contacts, {counts[3]} deals,"
            f" {counts[4]} jobs, {counts[5]} entity_history rows"
        )
        print("   deals:")
        for deal, stage, status, probability, value in conn.execute(q.DEALS_WITH_STAGES):
            print(f"     {deal:<28} {stage:<12} {status:<5} {probability:>3}%  {value:>10}")
        print("   stage history (deal_stages_history_legacy view):")
        for deal, old, new, meta in conn.execute(q.LEGACY_STAGE_HISTORY):
            print(
                f"     {deal:<28} {old or '-':<12} -> {new:<12} "
                f"{meta['from_probability']}% -> {meta['to_probability']}%"
            )
        print("   field history of the first deal (entity_history):")
        for field, old, new, who in conn.execute(
            q.DEAL_FIELD_HISTORY, {"deal_id": org.deal_ids[0]}
        ):
            print(f"     {field:<12} {old!s:<8} -> {new!s:<8} by {who}")


def run_demo(config: Config, database: str | None = None) -> int:
    """The demo on ``database`` (default: ``intime``, the one every command uses)."""
    try:
        return _run_demo(config, database or DEFAULT_DB)
    except DemoRefused as exc:
        print(f"error: {exc}")
        return 2


def _run_demo(config: Config, dbname: str) -> int:
    home = config.home.resolve() if config.home else pgserver.default_home()
    outbox = home / "demo-outbox"
    with _demo_database(config, dbname) as (dsn, psql_url):
        with progress_bar("migrate") as bar:
            migrated = migrate.migrate(dsn, progress=bar.update)
        print(f"migrated: {len(migrated.applied)} migrations, queue schema {migrated.queue}")
        service = as_role(dsn, "intime_service")
        with psycopg.connect(dsn, autocommit=True) as admin:
            _remove_previous_run(admin)
            _ensure_login(admin, DEMO_LOGIN)
            # The campaign demo moves the application clock (app.fake_now): allowed for
            # the demo's run only, then put back as it was.
            row = admin.execute(dq.FAKE_CLOCK_ALLOWED).fetchone()
            fake_clock_was = bool(row and row[0])
            admin.execute(q.ALLOW_FAKE_CLOCK)
            admin.execute(q.UNMAP_LOGIN, {"role": DEMO_LOGIN})
        try:
            ok, who = _run_parts(config, dsn, outbox)
        finally:
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute(dq.SET_FAKE_CLOCK, {"allowed": fake_clock_was})
        acme, globex = who[0], who[1]
        print_how_to_use(
            public_url=config.public_url,
            psql_url=psql_url,
            login=DEMO_LOGIN,
            login_name=who[2],
            tokens=sign_in_tokens(service, (acme, globex)),
            approval=pending_approval(dsn, acme, outbox),
            embedded=not config.database_url,
            database=None if dbname == DEFAULT_DB else dbname,
        )
    print("\nDemo finished." if ok else "\nDemo found a problem (see FAIL above).")
    return 0 if ok else 1


def _run_parts(
    config: Config, dsn: str, outbox: Path
) -> tuple[bool, tuple[SeededOrg, SeededOrg, str]]:
    service = as_role(dsn, "intime_service")
    with psycopg.connect(dsn, autocommit=True) as admin:
        with psycopg.connect(service) as svc:
            acme = seed_org(svc, DEMO_ORGS["acme"], "acme", login_role=DEMO_LOGIN)
            globex = seed_org(svc, DEMO_ORGS["globex"], "globex")
            for org in (acme, globex):
                _print_org(svc, org)

            with psycopg.connect(as_role(dsn, DEMO_LOGIN)) as login:
                who = login.execute(q.ACTOR_NAME).fetchone()
                as_login = probe(login, admin, globex.org_id)
        with psycopg.connect(service) as svc:
            as_service = probe(
                svc,
                admin,
                globex.org_id,
                before=lambda c: c.execute(SET_ACTOR, {"org_id": acme.org_id, "user_id": None}),
            )
    # A bar on stderr while the parts run (none when stderr is not a terminal).
    with progress_bar("demo", total=5) as bar:
        bar.step("email")
        run_email_demo(service, acme, outbox, config.public_url)
        bar.step("notifications")
        run_notifications_demo(service, acme)
        bar.step("workflows")
        run_workflows_demo(service, acme, outbox, config.public_url)
        bar.step("campaigns")
        run_campaigns_demo(service, acme, outbox, config.public_url)
        bar.step("permissions")
        ok = run_permissions_demo(service, as_role(dsn, DEMO_LOGIN), acme)
    login_name = who[0] if who else "?"
    print("\n== Cross-tenant check (every tenant table, from the catalog)")
    for label, report in (
        (f"SQL login {DEMO_LOGIN} ({login_name}, Acme)", as_login),
        ("intime_service acting for Acme", as_service),
    ):
        clean = (
            report.total_leaked == 0
            and report.total_allowed_writes == 0
            and not report.missing_seed
        )
        ok = ok and clean
        print(
            f"   {label}: probed {len(report.tables)} tenant tables + "
            f"{len(report.views)} views + organizations against Globex -> "
            f"{report.total_leaked} rows leaked, "
            f"{report.total_allowed_writes} writes allowed  [{'ok' if clean else 'FAIL'}]"
        )
        if report.missing_seed:
            print(f"     no seed row to probe in: {', '.join(sorted(report.missing_seed))}")
    with psycopg.connect(dsn, autocommit=True) as admin:
        failed = admin.execute(q.FAILED_JOBS).fetchone()
    held = int(failed[0]) if failed else 0
    ok = ok and held == 0
    print("\n== The queue after the demo")
    print(f"   jobs held failed: {held}  [{'ok' if held == 0 else 'FAIL'}]")
    return ok, (acme, globex, login_name)
