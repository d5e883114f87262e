"""RLS policy shape: `org_id = (select app.current_org_id())` against the plain call.

Wrapped in a scalar subquery, the org is computed once per query (an
InitPlan) and used as an index condition. Written as a bare function call,
PostgreSQL calls the SECURITY DEFINER function for every row. Both are
measured on the same table as a mapped SQL login counting its org's rows. Sizes:
INTIME_BENCH_RLS_ROWS (quick: 5,000), INTIME_BENCH_RLS_REPEAT (quick: 3).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from bench.common import Case, Report, Sizes, bench_database, machine, median_ms
from intime.config import as_role
from intime.db import actor
from intime_cli.seed import seed_org

SIZES = Sizes("RLS", ROWS=(20_000, 5000), REPEAT=(7, 3))
LOGIN = "bench_login"


def run(quick: bool = False) -> Report:
    sz = SIZES.configure(quick=quick)
    report = Report("rls_policy", quick)
    with bench_database() as (server, dsn):
        report.machine = machine(server)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(LOGIN)))
            admin.execute(
                sql.SQL("create role {} login in role intime_user").format(sql.Identifier(LOGIN))
            )
        try:
            with psycopg.connect(as_role(dsn, "intime_service"), autocommit=True) as svc:
                org = seed_org(svc, "Bench", "bench", login_role=LOGIN, deals=1)
                other = seed_org(svc, "Other", "other", deals=1)
                for org_id in (org.org_id, other.org_id):
                    with actor(svc, org_id):
                        svc.execute(
                            "insert into app.contacts (first_name, last_name) "
                            "select 'F', 'L' || g from generate_series(1, %s) g",
                            (sz.ROWS,),
                        )
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("analyze app.contacts")
            query = "select count(*) from app.contacts where title is null"
            with psycopg.connect(as_role(dsn, LOGIN), autocommit=True) as login:
                ours = median_ms(lambda: login.execute(query).fetchone(), repeat=sz.REPEAT)
                with psycopg.connect(dsn, autocommit=True) as admin:
                    admin.execute(
                        "alter policy tenant_isolation on app.contacts "
                        "using (org_id = app.current_org_id())"
                    )
                naive = median_ms(lambda: login.execute(query).fetchone(), repeat=sz.REPEAT)
        finally:
            with psycopg.connect(server.dsn(), autocommit=True) as admin:
                admin.execute(sql.SQL("drop database if exists bench with (force)"))
                admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(LOGIN)))
        report.table(
            f"RLS policy on a count over one org's {sz.ROWS:,} contacts "
            f"(2 orgs, median of {sz.REPEAT})",
            [
                Case(
                    "(select app.current_org_id()) (ours) vs app.current_org_id()",
                    "ms",
                    ours,
                    naive,
                    lower_is_better=True,
                )
            ],
            f"Machine: {report.machine}.",
        )
    return report


if __name__ == "__main__":
    run()
