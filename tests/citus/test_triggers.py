"""The engine's statement triggers on distributed tables: each reads its transition
tables into arrays first (docs/scale-out.md), so they run on the workers' shards."""

from __future__ import annotations

import uuid

import psycopg

from intime import migrate


def _orgs(conn: psycopg.Connection, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    for org_id in ids:
        conn.execute(
            "insert into app.organizations (id, name, slug) values (%s, 'Org', %s)",
            (org_id, f"org-{org_id.hex[:12]}"),
        )
    return ids


def test_one_insert_across_shards_writes_each_rows_history(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as conn:
        orgs = _orgs(conn, 8)
        conn.execute(
            "insert into app.accounts (org_id, name)"
            " select o, 'Account ' || n from unnest(%s::uuid[]) as o, generate_series(1, 3) as n",
            (orgs,),
        )
        shards = conn.execute(
            "select count(distinct get_shard_id_for_distribution_column('app.accounts', o))"
            " from unnest(%s::uuid[]) as o",
            (orgs,),
        ).fetchone()
        history = conn.execute(
            "select count(*) from app.entity_history"
            " where org_id = any(%s) and entity_type = 'account' and change_type = 'created'",
            (orgs,),
        ).fetchone()
    assert shards is not None
    assert shards[0] > 1
    assert history == (24,)


def test_one_update_across_shards_records_each_changed_field(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0], autocommit=True) as conn:
        orgs = _orgs(conn, 6)
        conn.execute(
            "insert into app.accounts (org_id, name) select o, 'Before' from unnest(%s::uuid[]) o",
            (orgs,),
        )
        conn.execute("update app.accounts set name = 'After' where org_id = any(%s)", (orgs,))
        rows = conn.execute(
            "select org_id, old_value, new_value from app.entity_history"
            " where org_id = any(%s) and change_type = 'updated' and field_name = 'name'",
            (orgs,),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(orgs)
    assert {(r[1], r[2]) for r in rows} == {("Before", "After")}
