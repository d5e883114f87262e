"""plpgsql_check over every PL/pgSQL function in app and api: zero errors."""

from __future__ import annotations

import os

import psycopg
import pytest

FUNCTIONS = """
select p.oid, p.oid::regprocedure::text, p.prorettype = 'trigger'::regtype
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where n.nspname in ('app', 'api') and l.lanname = 'plpgsql'
order by 2
"""

TRIGGERS = """
select t.tgrelid, t.tgoldtable, t.tgnewtable
from pg_trigger t where t.tgfoid = %s and not t.tgisinternal
"""


# Trigger functions that only a Citus database attaches (intime/citus.py), checked as if
# on a table they stand for there.
CITUS_ONLY_TRIGGERS = {
    "app._tg_citus_set_null()": "app.user_profiles",
    "app._tg_queue_changed()": "queue.pgqueuer",
}


@pytest.fixture
def plpgsql_check(admin: psycopg.Connection, pg_major: int) -> psycopg.Connection:
    available = admin.execute(
        "select 1 from pg_available_extensions where name = 'plpgsql_check'"
    ).fetchone()
    if not available:
        if os.environ.get("INTIME_REQUIRE_PLPGSQL_CHECK") and pg_major == 15:
            pytest.fail("plpgsql_check is required: apt-get install postgresql-15-plpgsql-check")
        pytest.skip(f"plpgsql_check is not installed for PostgreSQL {pg_major}")
    admin.execute("create extension if not exists plpgsql_check")
    return admin


def test_every_plpgsql_function_passes_plpgsql_check(plpgsql_check: psycopg.Connection) -> None:
    conn = plpgsql_check
    errors: list[str] = []
    checked = 0
    for oid, name, is_trigger in conn.execute(FUNCTIONS).fetchall():
        if not is_trigger:
            targets = [{}]
        else:
            targets = [
                {"relid": relid, "oldtable": old, "newtable": new}
                for relid, old, new in conn.execute(TRIGGERS, (oid,)).fetchall()
            ]
            if not targets and name in CITUS_ONLY_TRIGGERS:
                targets = [{"relid": CITUS_ONLY_TRIGGERS[name]}]
            assert targets, f"trigger function {name} is attached to no table, so it is unchecked"
        for target in targets:
            args = ", ".join(f"{k} => %({k})s" for k in target)
            rows = conn.execute(
                f"select level, message, lineno from plpgsql_check_function_tb(%(oid)s"
                f"{', ' + args if args else ''}, fatal_errors => false)",
                {"oid": oid, **target},
            ).fetchall()
            checked += 1
            errors += [f"{name}:{line}: {msg}" for level, msg, line in rows if level == "error"]
    assert checked > 0
    assert errors == []
