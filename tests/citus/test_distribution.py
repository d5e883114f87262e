"""intime db migrate on a Citus database: which tables go where, and the three shapes
Citus refuses, adapted (intime/citus.py, docs/scale-out.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from intime import citus, migrate, pgcluster
from intime.paths import sql_dir

GLOBAL = {
    "organizations",
    "entity_types",
    "permissions",
    "notification_system_templates",
    "settings",
    "stream_secret",
    "webhook_receipts",
    "email_events_pending",
    "inbound_unmatched",
    "login_roles",
    "verified_domains",
}


def _kinds(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "select c.relname, coalesce(p.partmethod::text, 'local')"
            " from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " left join pg_dist_partition as p on p.logicalrelid = c.oid"
            " where n.nspname = 'app' and c.relkind in ('r', 'p') and not c.relispartition"
        ).fetchall()
    return dict(rows)


def test_every_tenant_table_is_distributed_by_org_id_in_one_colocation_group(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    dsn, _ = citus_db
    with psycopg.connect(dsn) as conn:
        tenant = {
            r[0]
            for r in conn.execute(
                "select c.relname from pg_class as c"
                " join pg_namespace as n on n.oid = c.relnamespace"
                " join pg_attribute as a on a.attrelid = c.oid and a.attname = 'org_id'"
                " where n.nspname = 'app' and c.relkind in ('r', 'p') and not c.relispartition"
            ).fetchall()
        }
        rows = conn.execute(
            "select logicalrelid::regclass::text, column_to_column_name(logicalrelid, partkey),"
            " colocationid from pg_dist_partition where partmethod = 'h'"
            " and logicalrelid::regclass::text like 'app.%' and not exists ("
            "   select from pg_inherits where inhrelid = logicalrelid)"
        ).fetchall()
    assert {r[0].removeprefix("app.") for r in rows} == tenant - citus.REFERENCE_WITH_ORG
    assert {r[1] for r in rows} == {"org_id"}
    assert len({r[2] for r in rows}) == 1
    assert len(tenant) > 50


def test_global_tables_are_reference_tables(citus_db: tuple[str, migrate.MigrateResult]) -> None:
    kinds = _kinds(citus_db[0])
    assert {t for t, kind in kinds.items() if kind == "n"} == GLOBAL


def test_the_ledger_and_the_hub_registry_stay_on_the_coordinator(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    kinds = _kinds(citus_db[0])
    assert {t for t, kind in kinds.items() if kind == "local"} == set(citus.LOCAL_TABLES)


def test_the_first_migrate_reports_what_it_distributed(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    _, result = citus_db
    kinds = _kinds(citus_db[0])
    assert set(result.distributed) == {t for t, kind in kinds.items() if kind != "local"}


def test_a_second_migrate_distributes_and_drops_nothing(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    again = migrate.migrate(citus_db[0])
    assert (again.applied, again.distributed, again.dropped) == ([], [], [])


def test_policies_call_the_context_functions_without_subqueries(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0]) as conn:
        rows = conn.execute(
            "select polrelid::regclass::text, polname,"
            " coalesce(pg_get_expr(polqual, polrelid), '')"
            " || coalesce(pg_get_expr(polwithcheck, polrelid), '')"
            " from pg_policy where polrelid::regclass::text like 'app.%'"
        ).fetchall()
    assert rows
    assert [r for r in rows if "SELECT" in r[2]] == []
    assert all("app.current_org_id()" in r[2] for r in rows if r[1] == "tenant_isolation")


def test_global_unique_keys_become_unique_per_org(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0]) as conn:
        rows = conn.execute(
            "select conname, pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = any(array['app.api_tokens', 'app.notifications']::regclass[])"
            " and contype = 'u' order by 1"
        ).fetchall()
        partial = conn.execute(
            "select pg_get_indexdef('app.email_sends_provider_message_id_key'::regclass)"
        ).fetchone()
    assert rows == [
        ("api_tokens_token_hash_key", "UNIQUE (org_id, token_hash)"),
        ("notifications_seq_key", "UNIQUE (org_id, seq)"),
    ]
    assert partial is not None
    assert "(org_id, provider_message_id) WHERE (provider_message_id IS NOT NULL)" in partial[0]


def test_each_set_null_key_is_no_action_with_a_trigger_on_its_parent(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    with psycopg.connect(citus_db[0]) as conn:
        keys = conn.execute(citus.SET_NULL_KEYS, {"tag": citus.SET_NULL_TAG}).fetchall()
        actions = conn.execute(
            "select distinct confdeltype from pg_constraint"
            " where obj_description(oid, 'pg_constraint') = %(tag)s",
            {"tag": citus.SET_NULL_TAG},
        ).fetchall()
        triggers = conn.execute(
            "select tgrelid::regclass::text, tgname from pg_trigger"
            " where tgfoid = 'app._tg_citus_set_null'::regproc"
        ).fetchall()
    assert len(keys) > 50
    assert actions == [("a",)]  # NO ACTION
    assert sorted(triggers) == sorted((f"app.{parent}", name) for _, name, parent, _, _ in keys)


def test_every_node_has_a_queue_of_its_own(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    for node in citus.nodes:
        with psycopg.connect(node.dsn("intime")) as conn:
            row = conn.execute(
                "select to_regclass('queue.pgqueuer') is not null,"
                " exists (select from pg_dist_partition"
                "  where logicalrelid = to_regclass('queue.pgqueuer'))"
            ).fetchone()
        assert row == (True, False), node.base_dir.name


def test_the_service_uses_every_nodes_queue_and_its_wake_up_trigger(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """Its grants there (a grant on a node-local table does not travel), and pgqueuer's
    NOTIFY trigger swapped for app._tg_queue_changed (no NOTIFY from a participant)."""
    for node in citus.nodes:
        with psycopg.connect(node.dsn("intime", "intime_service")) as service:
            service.execute("select count(*) from queue.pgqueuer")
        with psycopg.connect(node.dsn("intime")) as conn:
            triggers = conn.execute(
                "select tgname, tgenabled from pg_trigger"
                " where tgrelid = 'queue.pgqueuer'::regclass and not tgisinternal order by 1"
            ).fetchall()
        assert triggers == [("tg_pgqueuer_changed", "D"), ("tg_pgqueuer_changed_intime", "O")]


def test_no_routine_forces_generic_plans_or_inlines_a_table_read_on_the_cluster(
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    """intime.citus.adapt_routines undid both single-node tunings, and a later migrate
    (which re-creates the routines) does it again."""
    dsn, _ = citus_db
    migrate.migrate(dsn)
    with psycopg.connect(dsn) as conn:
        generic = conn.execute(citus.GENERIC_PLAN_ROUTINES).fetchall()
        inlined = conn.execute(citus.INLINED_TABLE_READERS).fetchall()
    assert generic == []
    assert inlined == []


def test_log_partitions_are_made_on_the_coordinator_and_skipped_on_a_worker(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service:
        made = service.execute("select api.maintain_workflow_logs()").fetchone()
    with psycopg.connect(citus.worker_nodes[0].dsn("intime", "intime_service")) as service:
        skipped = service.execute("select api.maintain_workflow_logs()").fetchone()
    with psycopg.connect(citus_db[0]) as conn:
        parts = conn.execute(
            "select count(*) from pg_inherits as i"
            " join pg_dist_partition as p on p.logicalrelid = i.inhrelid"
            " where i.inhparent = 'app.workflow_execution_logs'::regclass"
        ).fetchone()
    assert made is not None
    assert skipped == ({"skipped": "not the coordinator of the cluster"},)
    assert parts is not None
    assert parts[0] >= 2  # the default and at least this month, distributed with the table


def _later_migration(
    citus: pgcluster.PgCluster, tmp_path: Path, dbname: str, text: str
) -> tuple[str, migrate.MigrateResult]:
    """A database migrated as it is, then migrated again with one more migration."""
    citus.create_database(dbname)
    dsn = citus.coordinator.dsn(dbname)
    migrate.migrate(dsn)
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    (root / "schema" / "9999_later.sql").write_text(text)
    return dsn, migrate.migrate(dsn, root)


def _colocated_with_deals(dsn: str, table: str) -> tuple[str, bool] | None:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "select p.partmethod, p.colocationid = ("
            "  select colocationid from pg_dist_partition"
            "  where logicalrelid = 'app.deals'::regclass)"
            " from pg_dist_partition as p where p.logicalrelid = %s::regclass",
            (table,),
        ).fetchone()


def test_a_later_migrations_tenant_table_is_distributed_at_that_migrate(
    citus: pgcluster.PgCluster, tmp_path: Path
) -> None:
    """A migration written after the cluster exists (a tenant table keyed to organizations,
    with the RLS helper) needs nothing of Citus in it."""
    dsn, result = _later_migration(
        citus,
        tmp_path,
        "later_probe",
        "create table app.later_things (\n"
        "    org_id uuid not null references app.organizations (id) on delete cascade,\n"
        "    id uuid not null default gen_random_uuid(),\n"
        "    name text not null,\n"
        "    primary key (org_id, id)\n"
        ");\n"
        "select app._enable_tenant_rls('app.later_things');\n",
    )
    assert (result.applied, result.distributed) == (["9999_later.sql"], ["later_things"])
    assert _colocated_with_deals(dsn, "app.later_things") == ("h", True)


def test_a_later_tenant_table_keyed_to_another_distributes_itself_first(
    citus: pgcluster.PgCluster, tmp_path: Path
) -> None:
    """docs/conventions.md: CREATE TABLE, app._distribute_tenant_table, then the foreign key
    to another tenant table (Citus refuses it from a table it has not distributed)."""
    dsn, result = _later_migration(
        citus,
        tmp_path,
        "later_keyed",
        "create table app.later_deal_notes (\n"
        "    org_id uuid not null references app.organizations (id) on delete cascade,\n"
        "    id uuid not null default gen_random_uuid(),\n"
        "    deal_id uuid not null,\n"
        "    primary key (org_id, id)\n"
        ");\n"
        "select app._enable_tenant_rls('app.later_deal_notes');\n"
        "select app._distribute_tenant_table('app.later_deal_notes');\n"
        "alter table app.later_deal_notes add foreign key (org_id, deal_id)\n"
        "    references app.deals (org_id, id) on delete cascade;\n",
    )
    assert result.applied == ["9999_later.sql"]
    assert _colocated_with_deals(dsn, "app.later_deal_notes") == ("h", True)
