"""The polymorphic-reference check (app._tg_entity_refs_check and its triggers) for every
registered entity type: a row of the org is accepted, a missing id or another org's row
is refused with IT004, an unregistered type with IT005; on UPDATE only changed refs."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, NotFoundError
from tests.support import TwoOrgs

INSERT_ACTIVITY = (
    "insert into app.activities (entity_type, entity_id, secondary_entity_type, "
    "secondary_entity_id, type, subject) values (%s, %s, %s, %s, 'task', 'x') returning id"
)


def _types(admin: psycopg.Connection) -> list[tuple[str, str]]:
    rows = admin.execute(
        "select entity_type, table_name from app.entity_types order by 1"
    ).fetchall()
    assert len(rows) >= 9
    return [(r[0], r[1]) for r in rows]


def _row_of(admin: psycopg.Connection, table: str, org_id: uuid.UUID) -> uuid.UUID:
    row = admin.execute(
        f"select id from app.{table} where org_id = %s order by id limit 1",
        (org_id,),
    ).fetchone()
    assert row is not None, f"the seed has no {table} row"
    return row[0]


def test_every_registered_type_accepts_a_row_of_the_org(service, admin, two_orgs: TwoOrgs) -> None:
    deal = two_orgs.a.deal_ids[0]
    made = 0
    for entity_type, table in _types(admin):
        target = _row_of(admin, table, two_orgs.a.org_id)
        with actor(service, two_orgs.a.org_id):
            service.execute(INSERT_ACTIVITY, (entity_type, target, None, None))
            service.execute(INSERT_ACTIVITY, ("deal", deal, entity_type, target))
            service.execute(
                "insert into app.notes (entity_type, entity_id, body) values (%s, %s, 'ok')",
                (entity_type, target),
            )
            service.execute(
                "insert into app.comments (entity_type, entity_id, body) values (%s, %s, 'ok')",
                (entity_type, target),
            )
        made += 1
    assert made == len(_types(admin))


@pytest.mark.parametrize("side", ["primary", "secondary", "note", "comment"])
def test_every_registered_type_refuses_a_missing_id(
    service, admin, two_orgs: TwoOrgs, side: str
) -> None:
    for entity_type, _table in _types(admin):
        missing = uuid.uuid4()
        if side == "primary":
            query, params = INSERT_ACTIVITY, (entity_type, missing, None, None)
        elif side == "secondary":
            query, params = INSERT_ACTIVITY, ("deal", two_orgs.a.deal_ids[0], entity_type, missing)
        else:
            query = f"insert into app.{side}s (entity_type, entity_id, body) values (%s, %s, 'x')"
            params = (entity_type, missing, None, None)[:2]
        with (
            pytest.raises(NotFoundError, match=f"{entity_type} {missing} not found"),
            actor(service, two_orgs.a.org_id),
        ):
            service.execute(query, params)


def test_every_registered_type_refuses_another_orgs_row(service, admin, two_orgs: TwoOrgs) -> None:
    for entity_type, table in _types(admin):
        theirs = _row_of(admin, table, two_orgs.b.org_id)
        with (
            pytest.raises(NotFoundError, match=f"{entity_type} {theirs} not found"),
            actor(service, two_orgs.a.org_id),
        ):
            service.execute(INSERT_ACTIVITY, ("deal", two_orgs.a.deal_ids[0], entity_type, theirs))


def test_one_bad_reference_refuses_the_whole_statement(service, admin, two_orgs: TwoOrgs) -> None:
    before = admin.execute("select count(*) from app.notes").fetchone()
    with pytest.raises(NotFoundError, match="contact"), actor(service, two_orgs.a.org_id):
        service.execute(
            "insert into app.notes (entity_type, entity_id, body) "
            "select 'contact', x, 'bulk' from unnest(%s::uuid[]) as x",
            ([*two_orgs.a.contact_ids, uuid.uuid4()],),
        )
    assert admin.execute("select count(*) from app.notes").fetchone() == before


def test_an_unregistered_secondary_type_is_refused_before_any_missing_row(
    service, two_orgs: TwoOrgs
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="unknown entity type 'spaceship'"),
        actor(service, two_orgs.a.org_id),
    ):
        service.execute(INSERT_ACTIVITY, ("deal", uuid.uuid4(), "spaceship", uuid.uuid4()))


def test_an_update_checks_only_references_that_changed(service, admin, two_orgs: TwoOrgs) -> None:
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            INSERT_ACTIVITY,
            ("contact", two_orgs.a.contact_ids[0], "deal", two_orgs.a.deal_ids[0]),
        ).fetchone()
    assert row is not None
    activity_id = row[0]
    # The targets go away behind the check's back (a polymorphic link may dangle).
    dangling = uuid.uuid4()
    with admin.transaction():
        admin.execute("set local session_replication_role = replica")
        admin.execute(
            "update app.activities set entity_id = %s, secondary_entity_id = %s where id = %s",
            (dangling, dangling, activity_id),
        )
    with actor(service, two_orgs.a.org_id):
        service.execute(
            "update app.activities set subject = 'still editable' where id = %s", (activity_id,)
        )
    with pytest.raises(NotFoundError, match="deal"), actor(service, two_orgs.a.org_id):
        service.execute(
            "update app.activities set secondary_entity_id = %s where id = %s",
            (uuid.uuid4(), activity_id),
        )
    with pytest.raises(NotFoundError, match="not found"), actor(service, two_orgs.a.org_id):
        service.execute(
            "update app.notes set entity_id = %s where org_id = %s",
            (uuid.uuid4(), two_orgs.a.org_id),
        )


def test_the_reference_check_is_planned_once_not_on_every_statement(
    admin: psycopg.Connection,
) -> None:
    """Each reference is a primary-key probe whatever its values: a generic plan serves
    every call (custom plans re-planned the nine probes on each insert, 4x the cost)."""
    row = admin.execute(
        "select proconfig from pg_proc "
        "where oid = 'app._tg_entity_refs_check(uuid[], text[], uuid[])'::regprocedure"
    ).fetchone()
    assert row is not None
    assert "plan_cache_mode=force_generic_plan" in row[0]
