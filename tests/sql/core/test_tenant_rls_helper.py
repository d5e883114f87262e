"""app._enable_tenant_rls: what a new migration calls for a tenant table."""

from __future__ import annotations

import psycopg


def test_the_helper_forces_rls_with_the_tenant_policy_and_may_run_twice(
    admin: psycopg.Connection,
) -> None:
    admin.execute("set role intime_owner")
    admin.execute("create table app.rls_probe (org_id uuid not null, note text)")
    admin.execute("select app._enable_tenant_rls('app.rls_probe')")
    admin.execute("select app._enable_tenant_rls('app.rls_probe')")
    row = admin.execute(
        "select c.relrowsecurity, c.relforcerowsecurity, count(p.*), "
        "min(pg_get_expr(p.polqual, p.polrelid)), min(pg_get_expr(p.polwithcheck, p.polrelid)) "
        "from pg_class c left join pg_policy p on p.polrelid = c.oid "
        "where c.oid = 'app.rls_probe'::regclass group by 1, 2"
    ).fetchone()
    assert row is not None
    assert row[:3] == (True, True, 1)
    assert row[3] == row[4] == "(org_id = ( SELECT app.current_org_id() AS current_org_id))"


def test_distributing_a_tenant_table_does_nothing_on_a_single_node(admin) -> None:
    admin.execute(
        "create table app.lonely (org_id uuid not null, id uuid, primary key (org_id, id))"
    )
    admin.execute("select app._distribute_tenant_table('app.lonely')")
    row = admin.execute("select to_regclass('pg_catalog.pg_dist_partition')").fetchone()
    assert row == (None,)
