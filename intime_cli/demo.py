"""``intime demo``: what InTime can show so far, end to end, on a real server.

Two organizations with users, accounts, contacts and deals moved through their
pipelines; the stage history (and its legacy view); field-level entity
history; and a cross-tenant check from a mapped SQL login and from the service
role. On the embedded server the demo database is recreated on every run. With
DATABASE_URL set it adds two new organizations (unique slugs) to that database
and maps a passwordless login role ``demo_riley``: point it at a scratch
database, never at production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from intime import migrate, pgserver
from intime.config import Config, as_role
from intime.db import actor
from intime.queries import SET_ACTOR
from intime_cli import queries as q
from intime_cli.cli import embedded_server, ensure_database
from intime_cli.demo_campaigns import run_campaigns_demo
from intime_cli.demo_email import run_email_demo
from intime_cli.demo_notifications import run_notifications_demo
from intime_cli.demo_permissions import run_permissions_demo
from intime_cli.demo_workflows import run_workflows_demo
from intime_cli.probe import probe
from intime_cli.seed import SeededOrg, seed_org

DEMO_DB = "intime_demo"
DEMO_LOGIN = "demo_riley"  # a human SQL login mapped to a rep of the first org


@contextmanager
def _demo_database(config: Config, dbname: str = DEMO_DB) -> Iterator[str]:
    if config.database_url:
        yield config.database_url
        return
    with embedded_server(config) as server:
        ensure_database(server.dsn(), dbname, recreate=True)
        print(
            f"PostgreSQL {server.binaries.major_version()} ({server.binaries.source}) "
            f"at {server.socket_dir}, database {dbname}"
        )
        yield server.dsn(dbname)


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


def run_demo(config: Config, database: str = DEMO_DB) -> int:
    with _demo_database(config, database) as dsn:
        migrated = migrate.migrate(dsn)
        print(f"migrated: {len(migrated.applied)} migrations, queue schema {migrated.queue}")
        suffix = uuid.uuid4().hex[:6]
        with psycopg.connect(dsn, autocommit=True) as admin:
            _ensure_login(admin, DEMO_LOGIN)
            # The campaign demo moves the application clock (app.fake_now).
            admin.execute(q.ALLOW_FAKE_CLOCK)
            admin.execute(q.UNMAP_LOGIN, {"role": DEMO_LOGIN})
            with psycopg.connect(as_role(dsn, "intime_service")) as service:
                acme = seed_org(service, "Acme Staffing", f"acme-{suffix}", login_role=DEMO_LOGIN)
                globex = seed_org(service, "Globex Sales", f"globex-{suffix}")
                for org in (acme, globex):
                    _print_org(service, org)

                with psycopg.connect(as_role(dsn, DEMO_LOGIN)) as login:
                    who = login.execute(q.ACTOR_NAME).fetchone()
                    as_login = probe(login, admin, globex.org_id)
                with psycopg.connect(as_role(dsn, "intime_service")) as svc:
                    as_service = probe(
                        svc,
                        admin,
                        globex.org_id,
                        before=lambda c: c.execute(
                            SET_ACTOR, {"org_id": acme.org_id, "user_id": None}
                        ),
                    )
        outbox = (config.home.resolve() if config.home else pgserver.default_home()) / "demo-outbox"
        run_email_demo(as_role(dsn, "intime_service"), acme, outbox)
        run_notifications_demo(as_role(dsn, "intime_service"), acme)
        run_workflows_demo(as_role(dsn, "intime_service"), acme, outbox)
        run_campaigns_demo(as_role(dsn, "intime_service"), acme, outbox)
        ok = run_permissions_demo(as_role(dsn, "intime_service"), as_role(dsn, DEMO_LOGIN), acme)
        print("\n== Cross-tenant check (every tenant table, from the catalog)")
        for label, report in (
            (f"SQL login {DEMO_LOGIN} ({who[0] if who else '?'}, Acme)", as_login),
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
        with psycopg.connect(dsn, autocommit=True) as admin:
            failed = admin.execute(q.FAILED_JOBS).fetchone()
        held = int(failed[0]) if failed else 0
        ok = ok and held == 0
        print("\n== The queue after the demo")
        print(f"   jobs held failed: {held}  [{'ok' if held == 0 else 'FAIL'}]")
    print("\nDemo finished." if ok else "\nDemo found a problem (see FAIL above).")
    return 0 if ok else 1
