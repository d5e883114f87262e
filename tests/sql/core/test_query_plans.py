"""EXPLAIN checks for the hot paths of row-level security."""

from __future__ import annotations

import psycopg

from tests.support import Database, TwoOrgs


def _plan(conn: psycopg.Connection, query: str, params: tuple) -> str:
    conn.execute("set enable_seqscan = off")  # tiny tables: ask what the planner can do
    return "\n".join(r[0] for r in conn.execute(f"explain {query}", params).fetchall())


def test_rls_evaluates_the_org_once_per_query_as_an_index_condition(
    db: Database, two_orgs: TwoOrgs
) -> None:
    with db.connect(two_orgs.login_a) as conn:
        plan = _plan(conn, "select * from app.contacts where title = %s", ("CTO",))
    assert "InitPlan 1" in plan  # app.current_org_id() runs once, not per row
    assert "Index Cond: (org_id = " in plan


def test_a_lookup_by_id_uses_the_org_scoped_primary_key(db: Database, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn:
        plan = _plan(conn, "select * from app.deals where id = %s", (two_orgs.a.deal_ids[0],))
    assert "Index Scan using deals_pkey" in plan
    assert "InitPlan 1" in plan


def test_engine_email_lookup_uses_the_case_insensitive_index(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    plan = _plan(
        admin,
        "select id from app.contacts where org_id = %s and lower(email) = lower(%s)",
        (two_orgs.a.org_id, "ADA.LOVELACE@client.acme.example"),
    )
    assert "contacts_email_key" in plan
    assert "lower(email) = " in plan.split("Index Cond:")[1].splitlines()[0]
