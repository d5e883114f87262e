"""SECURITY DEFINER hygiene: no caller-controlled name can reach owner code."""

from __future__ import annotations

import psycopg
import pytest

from tests.support import Database, TwoOrgs

PIN = "search_path=pg_catalog, pg_temp"

# Plain SQL helpers with no SET clause, so that PostgreSQL inlines them into the query of
# the (pinned) function that calls them (docs/conventions.md, "Inlined SQL helpers").
INLINED = {
    "app._campaign_fill_finish",
    "app._campaign_fill_known",
    "app._campaign_values",
    "app._email_is_plain_address",
    "app._email_status_rank",
    "app._html_escape",
    "app._is_service",
    "app._notification_delivery_state",
    "app._notification_effective_preference",
    "app._notification_json",
    "app._notification_plan",
    "app._notification_user_default",
    "app._notification_quiet_hours_end",
    "app._on_citus",
    "app._transaction_stamp",
    "app._uuid7",
    "app._wf_left_to_its_job",
}


def test_every_function_pins_its_search_path_with_pg_temp_last(admin) -> None:
    rows = admin.execute(
        """
        select p.oid::regprocedure::text, n.nspname || '.' || p.proname, p.proconfig
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('app', 'api')
        """
    ).fetchall()
    assert rows
    assert [
        signature
        for signature, name, config in rows
        if name not in INLINED and PIN not in (config or [])
    ] == []


def test_an_inlined_helper_is_plain_sql_that_runs_with_its_callers_rights(admin) -> None:
    """What PostgreSQL needs to inline it (SQL, no SET, not strict; a set-returning one not
    volatile either), and no SECURITY DEFINER: called on its own, under the caller's path, it
    has only their rights."""
    rows = admin.execute(
        """
        select n.nspname || '.' || p.proname, l.lanname, p.prosecdef, p.proconfig,
            p.proisstrict, not (p.proretset and p.provolatile = 'v')
        from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        join pg_language l on l.oid = p.prolang
        where n.nspname || '.' || p.proname = any(%s)
        """,
        (sorted(INLINED),),
    ).fetchall()
    assert sorted(name for name, *_ in rows) == sorted(INLINED)
    assert {tuple(row[1:]) for row in rows} == {("sql", False, None, False, True)}


def test_a_sql_login_cannot_create_temporary_objects(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("create domain pg_temp.uuid as pg_catalog.uuid")


def test_the_service_role_cannot_create_temporary_objects(service) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        service.execute("create temporary table shadow (id int)")


def test_a_shadowing_temp_type_never_runs_as_the_owner(
    admin, db: Database, two_orgs: TwoOrgs
) -> None:
    """Even where TEMP is granted again, the pinned path keeps pg_temp last."""
    admin.execute(f"grant temporary on database {db.name} to {two_orgs.login_a}")
    try:
        ran_as: list[str] = []
        with db.connect(two_orgs.login_a, autocommit=True) as conn:
            conn.add_notice_handler(lambda d: ran_as.append(d.message_primary or ""))
            conn.execute(
                "create function pg_temp.evil(v text) returns boolean language plpgsql as $f$ "
                "begin raise notice '%', current_user; return true; end $f$"
            )
            conn.execute(
                "create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.evil(value::text))"
            )
            row = conn.execute("select org_id from api.get_actor()").fetchone()
            conn.execute(
                "update app.deals set description = 'x' where id = %s", (two_orgs.a.deal_ids[0],)
            )
    finally:
        admin.execute(f"revoke temporary on database {db.name} from {two_orgs.login_a}")
    assert row == (two_orgs.a.org_id,)
    assert "intime_owner" not in ran_as
