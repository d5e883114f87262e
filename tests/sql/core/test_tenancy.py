"""Tenancy and row-level security, checked from the catalog."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from intime.db import actor, errors_translated
from intime.errors import NotFoundError, ServiceRoleRequiredError
from intime_cli.probe import probe, probe_users, tenant_tables
from tests.support import Database, TwoOrgs

# Tables in schema app that are not tenant tables. Everything else must be
# probed; a new global table has to be listed here on purpose.
GLOBAL_TABLES = {
    "schema_migrations",
    "settings",
    "entity_types",
    "organizations",
    "permissions",  # read-only for all: the platform's permission list (0014)
    "webhook_receipts",  # engine-only: provider event ids, for deduplication
    "email_events_pending",  # engine-only: events waiting for their send
    "inbound_unmatched",  # engine-only: inbound mail that matched no org
    "notification_system_templates",  # read-only for all: the seed's 9 system templates
    "stream_secret",  # the stream hub's key: the service role reads it, nobody else
    "stream_hubs",  # engine-only: which web processes are polling the notifications
    "login_roles",  # owner-only: which user each SQL login is, keyed by login (0025)
    "verified_domains",  # owner-only: which org verified each sending domain (0028)
}

# Tables private to each user inside an org (the policy also checks the user).
# email_sends and email_events are private to their recipient when they carry
# a notification (recipient_user_id), org-wide otherwise; so are the replies
# to such a send and their threads.
USER_PRIVATE_TABLES = {
    "notifications",
    "notification_deliveries",
    "notification_preferences",
    "email_sends",
    "email_events",
    # A reply to a notification email, and its thread, are as private as the send (0015).
    "email_threads",
    "inbound_emails",
}


def _expected_tenant_tables(admin: psycopg.Connection) -> list[str]:
    """Every base table in app but the global ones and partitions (reached through
    their parent; see test_partitions_grant_nothing_and_force_rls): independent of
    the probe's query."""
    rows = admin.execute(
        "select t.tablename from pg_tables as t "
        "join pg_class as c on c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass "
        "where t.schemaname = 'app' and not c.relispartition order by 1"
    ).fetchall()
    return [r[0] for r in rows if r[0] not in GLOBAL_TABLES]


def test_partitions_grant_nothing_and_force_rls(admin: psycopg.Connection) -> None:
    """A partition is only reached through its parent: no role but the owner may
    touch it directly, and its own row-level security is on anyway."""
    admin.execute("select api.maintain_workflow_logs()")  # make the monthly partitions
    rows = admin.execute(
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "has_table_privilege('intime_service', c.oid, 'select,insert,update,delete'), "
        "has_table_privilege('intime_user', c.oid, 'select,insert,update,delete') "
        "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = 'app' and c.relispartition and c.relkind in ('r', 'p') order by 1"
    ).fetchall()
    assert len(rows) >= 2
    assert all(r[1:] == (True, True, False, False) for r in rows), rows


def _assert_clean(report, admin, capsys) -> None:
    tables = _expected_tenant_tables(admin)
    assert report.missing_seed == [], "seed a row of org B in these tables"
    assert sorted(report.tables) == sorted(tables)
    assert sorted(tenant_tables(admin)) == sorted(tables)
    assert report.total_leaked == 0, report.leaked_rows
    assert report.total_allowed_writes == 0, report.allowed_writes
    # Every blocked insert was stopped by RLS or privileges (42501), not by luck; on a
    # configuration table a caller without its permission is stopped before (IT003).
    gated = {
        r[0]
        for r in admin.execute(
            "select c.relname from pg_trigger as t join pg_class as c on c.oid = t.tgrelid "
            "where t.tgfoid = 'app._tg_require_permission'::regproc"
        ).fetchall()
    }
    assert gated, "the permission triggers (sql/triggers/permissions.sql) are missing"
    for table in tables:
        inserts = {b for b in report.blocked_by.get(table, set()) if b.startswith("insert:")}
        expected = [{"insert:42501"}] + ([{"insert:IT003"}] if table in gated else [])
        assert inserts in expected, (table, report.blocked_by.get(table))
    with capsys.disabled():
        print(
            f"\n  cross-tenant probe: {len(report.tables)} tenant tables "
            f"(of {len(tables)}) + {len(report.views)} views + organizations; "
            f"{report.total_leaked} rows leaked, {report.total_allowed_writes} writes allowed"
        )


def test_cross_tenant_probe_as_mapped_login_covers_every_tenant_table(
    db: Database, admin: psycopg.Connection, two_orgs: TwoOrgs, capsys: pytest.CaptureFixture
) -> None:
    with db.connect(two_orgs.login_a) as attacker:
        # The login sees its own org's rows, so the probe is not vacuous.
        own = attacker.execute("select count(*) from app.deals").fetchone()
        assert own == (len(two_orgs.a.deal_ids),)
        report = probe(attacker, admin, two_orgs.b.org_id)
    _assert_clean(report, admin, capsys)


def test_cross_tenant_probe_as_service_with_actor(
    db: Database, admin: psycopg.Connection, two_orgs: TwoOrgs, capsys: pytest.CaptureFixture
) -> None:
    def set_actor(conn: psycopg.Connection) -> None:
        conn.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)",
            (two_orgs.a.org_id, two_orgs.a.admin_id),
        )

    with db.connect("intime_service") as attacker:
        report = probe(attacker, admin, two_orgs.b.org_id, before=set_actor)
    _assert_clean(report, admin, capsys)


def test_every_tenant_table_has_forced_rls_and_an_org_scoped_primary_key(
    admin: psycopg.Connection,
) -> None:
    rows = admin.execute(
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (select array_agg(a.attname order by k.ord)
                from pg_index i
                cross join unnest(i.indkey) with ordinality as k(attnum, ord)
                join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
                where i.indrelid = c.oid and i.indisprimary) as pk,
               (select a.attnotnull from pg_attribute a
                where a.attrelid = c.oid and a.attname = 'org_id') as org_not_null,
               (select count(*) from pg_policy p where p.polrelid = c.oid) as policies
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'app' and c.relkind in ('r', 'p')
          and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'org_id')
        """
    ).fetchall()
    assert rows
    problems = [
        r
        for r in rows
        if not (r[1] and r[2] and r[3] is not None and r[3][0] == "org_id" and r[4] and r[5])
    ]
    assert problems == []


def test_every_foreign_key_between_tenant_tables_includes_org_id(
    admin: psycopg.Connection,
) -> None:
    rows = admin.execute(
        """
        select con.conname, con.conrelid::regclass::text, con.confrelid::regclass::text,
               (select array_agg(a.attname) from unnest(con.conkey) k
                join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k) as cols
        from pg_constraint con
        join pg_class c on c.oid = con.confrelid
        join pg_namespace n on n.oid = c.relnamespace
        where con.contype = 'f' and n.nspname = 'app'
          and exists (select from pg_attribute a
                      where a.attrelid = con.confrelid and a.attname = 'org_id')
        """
    ).fetchall()
    assert rows
    assert [r for r in rows if "org_id" not in r[3]] == []


def test_org_guc_set_by_a_user_role_is_ignored(db: Database, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn:
        conn.execute("select set_config('intime.org_id', %s, false)", (str(two_orgs.b.org_id),))
        conn.execute("select set_config('intime.user_id', %s, false)", (str(two_orgs.b.admin_id),))
        row = conn.execute("select org_id, user_id, via from api.get_actor()").fetchone()
        assert row == (two_orgs.a.org_id, two_orgs.a.login_user_id, "db_role")
        visible = conn.execute(
            "select count(*) from app.deals where org_id = %s", (two_orgs.b.org_id,)
        )
        assert visible.fetchone() == (0,)


def test_a_user_role_cannot_set_an_actor(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select api.set_actor(p_org_id => %s)", (two_orgs.b.org_id,))


def test_unmapped_user_role_sees_no_rows(db: Database, two_orgs: TwoOrgs, make_login) -> None:
    stranger = make_login()
    with db.connect(stranger) as conn:
        assert conn.execute("select count(*) from app.deals").fetchone() == (0,)
        assert conn.execute("select org_id from api.get_actor()").fetchone() == (None,)


def test_composite_foreign_key_rejects_another_orgs_row(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation), actor(service, two_orgs.a.org_id):
        service.execute(
            "update app.deals set owner_id = %s where id = %s",
            (two_orgs.b.admin_id, two_orgs.a.deal_ids[0]),
        )


def test_set_actor_rejects_a_user_of_another_org(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with pytest.raises(NotFoundError), actor(service, two_orgs.a.org_id, two_orgs.b.admin_id):
        pass


def test_actor_does_not_leak_into_the_next_pooled_transaction(
    db: Database, two_orgs: TwoOrgs
) -> None:
    with ConnectionPool(db.dsn("intime_service"), min_size=1, max_size=1) as pool:
        with pool.connection() as conn:
            with actor(conn, two_orgs.a.org_id, two_orgs.a.admin_id):
                seen = conn.execute("select count(*) from app.deals").fetchone()
                assert seen == (len(two_orgs.a.deal_ids),)
            pid = conn.info.backend_pid
        with pool.connection() as conn:
            assert conn.info.backend_pid == pid  # the same pooled session
            row = conn.execute(
                "select app.current_org_id(), app.current_user_id(), count(*) from app.deals"
            ).fetchone()
            assert row == (None, None, 0)


def test_service_without_actor_sees_no_rows(service: psycopg.Connection, two_orgs: TwoOrgs) -> None:
    assert service.execute("select count(*) from app.contacts").fetchone() == (0,)


def test_api_functions_treat_another_orgs_ids_as_not_found(
    db: Database, admin: psycopg.Connection, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    b = two_orgs.b
    b_token = admin.execute(
        "select id from app.api_tokens where org_id = %s limit 1", (b.org_id,)
    ).fetchone()
    calls = [
        (
            "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
            (b.deal_ids[0], b.stage_ids["Proposal"]),
        ),
        ("select api.revoke_api_token(p_token_id => %s)", b_token),
    ]
    with db.connect(two_orgs.login_a, autocommit=True) as conn:
        for query, params in calls:
            with pytest.raises(NotFoundError), errors_translated():
                conn.execute(query, params)
    # update_user needs an admin (a member is refused before any lookup).
    with pytest.raises(NotFoundError), actor(service, two_orgs.a.org_id):
        service.execute(
            "select api.update_user(p_user_id => %s, p_changes => '{\"available\": false}')",
            (b.rep_ids[0],),
        )


@pytest.mark.parametrize(
    "table",
    [
        "webhook_receipts",
        "email_events_pending",
        "inbound_unmatched",
        "schema_migrations",
        "stream_tickets",
        "web_sessions",
        "approval_links",
    ],
)
def test_engine_only_tables_are_closed_to_clients(
    db: Database, two_orgs: TwoOrgs, table: str
) -> None:
    for role in (two_orgs.login_a, "intime_service"):
        with (
            db.connect(role, autocommit=True) as conn,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            conn.execute(f"select count(*) from app.{table}")


def _assert_users_clean(report) -> None:
    assert set(report.tables) == USER_PRIVATE_TABLES
    assert report.missing_seed == [], "seed a row of another user of org A in these tables"
    assert report.total_leaked == 0, report.leaked_rows
    assert report.total_allowed_writes == 0, report.allowed_writes
    for table in report.tables:
        inserts = {b for b in report.blocked_by.get(table, set()) if b.startswith("insert:")}
        assert inserts == {"insert:42501"}, (table, report.blocked_by.get(table))


def test_cross_user_probe_as_mapped_login(db: Database, admin, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as attacker:
        own = attacker.execute("select count(*) from app.notifications").fetchone()
        assert own is not None
        assert own[0] > 0
        report = probe_users(attacker, admin, two_orgs.a.org_id, two_orgs.a.rep_ids[0])
    _assert_users_clean(report)


def test_cross_user_probe_as_service_acting_for_a_user(
    db: Database, admin, two_orgs: TwoOrgs
) -> None:
    def act(conn: psycopg.Connection) -> None:
        conn.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)",
            (two_orgs.a.org_id, two_orgs.a.rep_ids[0]),
        )

    with db.connect("intime_service") as attacker:
        report = probe_users(attacker, admin, two_orgs.a.org_id, two_orgs.a.rep_ids[0], before=act)
    _assert_users_clean(report)


# Tables that reference a user-private row (a foreign key) but are not private
# themselves, each with its reason. None today.
REFERENCES_PRIVATE_BY_DESIGN: dict[str, str] = {}


def test_every_table_referencing_a_user_private_row_is_private_or_justified(
    admin: psycopg.Connection,
) -> None:
    rows = admin.execute(
        "select distinct c.conrelid::regclass::text, c.confrelid::regclass::text "
        "from pg_constraint as c where c.contype = 'f' "
        "and c.confrelid = any(%s::regclass[]) and c.conrelid <> c.confrelid",
        ([f"app.{t}" for t in USER_PRIVATE_TABLES],),
    ).fetchall()
    referencing = {r[0].removeprefix("app.") for r in rows}
    closed = {"webhook_receipts", "email_events_pending", "inbound_unmatched"}
    unexplained = referencing - USER_PRIVATE_TABLES - closed - set(REFERENCES_PRIVATE_BY_DESIGN)
    assert unexplained == set(), rows
