"""A migration that changes a table already distributed: migration 0029 adds
``notifications.announced_at`` (a default stored once, no rewrite) and its index to the
shards of a cluster that holds notifications, and the inbox then orders them."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import psycopg

from intime import migrate, pgcluster
from intime.db import actor
from intime.paths import sql_dir
from tests.citus.conftest import make_org

ANNOUNCED = ("0029_notification_announced_at.sql", "0030_notification_announced_index.sql")


def _send(service: psycopg.Connection, org_id: uuid.UUID, sender, user, title: str) -> None:
    with actor(service, org_id, sender):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => %s, p_message => 'm', p_channels => array['in_app'])",
            (user, title),
        )
    service.commit()


def test_a_cluster_with_notifications_takes_the_announced_column(
    citus: pgcluster.PgCluster,
) -> None:
    name = f"older_{uuid.uuid4().hex[:8]}"
    citus.create_database(name)
    admin_dsn = citus.coordinator.dsn(name)
    migrate.migrate(admin_dsn)
    org = make_org(citus, admin_dsn, name)
    # The database as it was before 0029: the table distributed, the column not there.
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("alter table app.notifications drop column announced_at")
        admin.execute("delete from app.schema_migrations where name = any(%s)", (list(ANNOUNCED),))
        # (written as the owner: the functions of this version name the column)
        admin.execute(
            "insert into app.notifications (org_id, user_id, title, message, category) "
            "values (%s, %s, 'before', 'm', 'deal')",
            (org.org_id, org.login_user_id),
        )

    result = migrate.migrate(admin_dsn)

    assert result.applied == list(ANNOUNCED)
    with psycopg.connect(citus.coordinator.dsn(name, "intime_service")) as service:
        _send(service, org.org_id, org.admin_id, org.login_user_id, "after")
        with actor(service, org.org_id, org.login_user_id):
            titles = [
                r[0]
                for r in service.execute(
                    "select title from api.list_notifications() where title in ('before', 'after')"
                ).fetchall()
            ]
    assert titles == ["after", "before"]
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        shards = admin.execute(
            "select result from run_command_on_shards('app.notifications', "
            "$$select count(*) from pg_index as i join pg_class as c on c.oid = i.indexrelid "
            "where i.indrelid = '%s'::regclass "
            "and starts_with(c.relname, 'notifications_announced_idx')$$)"
        ).fetchall()
    assert shards
    assert all(r[0] == "1" for r in shards)


def test_a_migration_of_several_ddl_statements_runs_on_a_distributed_table(
    citus: pgcluster.PgCluster, tmp_path: Path
) -> None:
    # Sent whole, the second statement made Citus fail (citusdata/citus#6608).
    name = f"ddl_{uuid.uuid4().hex[:8]}"
    citus.create_database(name)
    admin_dsn = citus.coordinator.dsn(name)
    migrate.migrate(admin_dsn)
    root = tmp_path / "sql"
    shutil.copytree(sql_dir(), root)
    (root / "schema" / "9999_two_indexes.sql").write_text(
        "create index probe_a_idx on app.notifications (org_id, created_at);\n"
        "create index probe_b_idx on app.notifications (org_id, updated_at);\n"
    )
    result = migrate.migrate(admin_dsn, root)
    assert result.applied == ["9999_two_indexes.sql"]
