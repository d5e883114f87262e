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

from intime import migrate
from intime.cli import embedded_server, ensure_database
from intime.config import Config, as_role
from intime.db import actor
from intime.probe import probe
from intime.seed import SeededOrg, seed_org

DEMO_DB = "intime_demo"
DEMO_LOGIN = "demo_riley"  # a human SQL login mapped to a rep of the first org


@contextmanager
def _demo_database(config: Config) -> Iterator[str]:
    if config.database_url:
        yield config.database_url
        return
    with embedded_server(config) as server:
        ensure_database(server.dsn(), DEMO_DB, recreate=True)
        print(
            f"PostgreSQL {server.binaries.major_version()} ({server.binaries.source}) "
            f"at {server.socket_dir}, database {DEMO_DB}"
        )
        yield server.dsn(DEMO_DB)


def _ensure_login(admin: psycopg.Connection, role: str) -> None:
    exists = admin.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
    if not exists:
        admin.execute(
            sql.SQL("create role {} login in role intime_user").format(sql.Identifier(role))
        )


def _print_org(conn: psycopg.Connection, org: SeededOrg) -> None:
    with actor(conn, org.org_id, org.admin_id):
        name = conn.execute("select name from app.organizations").fetchone()
        counts = conn.execute(
            "select (select count(*) from app.user_profiles), (select count(*) from app.accounts),"
            " (select count(*) from app.contacts), (select count(*) from app.deals),"
            " (select count(*) from app.jobs), (select count(*) from app.entity_history)"
        ).fetchone()
        assert name is not None
        assert counts is not None
        print(f"\n== {name[0]} ({org.slug})")
        print(
            f"   {counts[0]} users, {counts[1]} accounts, {counts[2]} contacts, {counts[3]} deals,"
            f" {counts[4]} jobs, {counts[5]} entity_history rows"
        )
        print("   deals:")
        for deal, stage, status, probability, value in conn.execute(
            "select d.name, s.name, d.status, d.probability, d.value from app.deals d "
            "join app.deal_stages s on s.org_id = d.org_id and s.id = d.stage_id order by d.name"
        ):
            print(f"     {deal:<28} {stage:<12} {status:<5} {probability:>3}%  {value:>10}")
        print("   stage history (deal_stages_history_legacy view):")
        for deal, old, new, meta in conn.execute(
            "select d.name, fs.name, ts.name, h.metadata from app.deal_stages_history_legacy h "
            "join app.deals d on d.org_id = h.org_id and d.id = h.entity_id "
            "left join app.deal_stages fs "
            "on fs.org_id = h.org_id and fs.id = (h.old_value->>0)::uuid "
            "join app.deal_stages ts on ts.org_id = h.org_id and ts.id = (h.new_value->>0)::uuid "
            "order by d.name, h.changed_at"
        ):
            print(
                f"     {deal:<28} {old or '-':<12} -> {new:<12} "
                f"{meta['from_probability']}% -> {meta['to_probability']}%"
            )
        print("   field history of the first deal (entity_history):")
        for field, old, new, who in conn.execute(
            "select h.field_name, h.old_value, h.new_value, u.full_name from app.entity_history h "
            "left join app.user_profiles u on u.org_id = h.org_id and u.id = h.changed_by "
            "where h.entity_type = 'deal' and h.entity_id = %s and h.change_type = 'updated' "
            "and h.field_name in ('status', 'probability') order by h.id",
            (org.deal_ids[0],),
        ):
            print(f"     {field:<12} {old!s:<8} -> {new!s:<8} by {who}")


def run_demo(config: Config) -> int:
    with _demo_database(config) as dsn:
        migrated = migrate.migrate(dsn)
        print(f"migrated: {len(migrated.applied)} migrations, queue schema {migrated.queue}")
        suffix = uuid.uuid4().hex[:6]
        with psycopg.connect(dsn, autocommit=True) as admin:
            _ensure_login(admin, DEMO_LOGIN)
            admin.execute(
                "update app.user_profiles set db_role = null where db_role = %s", (DEMO_LOGIN,)
            )
            with psycopg.connect(as_role(dsn, "intime_service")) as service:
                acme = seed_org(service, "Acme Staffing", f"acme-{suffix}", login_role=DEMO_LOGIN)
                globex = seed_org(service, "Globex Sales", f"globex-{suffix}")
                for org in (acme, globex):
                    _print_org(service, org)

                print("\n== Cross-tenant check (every tenant table, from the catalog)")
                with psycopg.connect(as_role(dsn, DEMO_LOGIN)) as login:
                    who = login.execute("select full_name from api.whoami()").fetchone()
                    as_login = probe(login, admin, globex.org_id)
                with psycopg.connect(as_role(dsn, "intime_service")) as svc:
                    as_service = probe(
                        svc,
                        admin,
                        globex.org_id,
                        before=lambda c: c.execute(
                            "select api.set_actor(p_org_id => %s)", (acme.org_id,)
                        ),
                    )
        ok = True
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
    print("\nDemo finished." if ok else "\nDemo found a tenancy leak.")
    return 0 if ok else 1
