"""entity_history: one generic statement-level trigger on every entity table."""

from __future__ import annotations

from intime.db import actor
from tests.support import TwoOrgs


def test_an_update_records_who_when_field_old_and_new(service, admin, two_orgs) -> None:
    org = two_orgs.a
    service.execute("set app.fake_now = '2030-05-06T07:08:09Z'")
    with actor(service, org.org_id, org.rep_ids[1]):
        service.execute(
            "update app.contacts set title = 'CTO', phone = '555-0100' where id = %s",
            (org.contact_ids[0],),
        )
    rows = admin.execute(
        "select field_name, old_value, new_value, changed_by, changed_at "
        "from app.entity_history where entity_id = %s and change_type = 'updated' "
        "order by field_name",
        (org.contact_ids[0],),
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("phone", None, "555-0100", org.rep_ids[1]),
        ("title", None, "CTO", org.rep_ids[1]),
    ]
    assert {r[4].isoformat() for r in rows} == {"2030-05-06T07:08:09+00:00"}


def test_an_update_that_changes_nothing_records_nothing(service, admin, two_orgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        service.execute("update app.accounts set name = name")
    count = admin.execute(
        "select count(*) from app.entity_history where entity_type = 'account' "
        "and change_type = 'updated'"
    ).fetchone()
    assert count == (0,)


def test_a_bulk_update_records_one_row_per_changed_field_and_entity(
    service, admin, two_orgs: TwoOrgs
) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        service.execute(
            "insert into app.candidates (first_name, last_name) "
            "select 'Bulk', 'C' || g from generate_series(1, 500) g"
        )
        service.execute("update app.candidates set status = 'inactive' where first_name = 'Bulk'")
    row = admin.execute(
        "select count(*), count(distinct entity_id) from app.entity_history "
        "where entity_type = 'candidate' and field_name = 'status' and new_value = '\"inactive\"'"
    ).fetchone()
    assert row == (500, 500)


def test_create_and_delete_are_recorded(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        account_id = service.execute(
            "insert into app.accounts (name) values ('Short-lived') returning id"
        ).fetchone()[0]
        service.execute("delete from app.accounts where id = %s", (account_id,))
    rows = admin.execute(
        "select change_type, old_value->>'name' from app.entity_history "
        "where entity_id = %s order by id",
        (account_id,),
    ).fetchall()
    assert rows == [("created", None), ("deleted", "Short-lived")]


def test_every_entity_table_carries_the_history_triggers(admin) -> None:
    missing = admin.execute(
        """
        select e.table_name, t.name
        from app.entity_types e
        cross join (values ('history_insert'), ('history_update'), ('history_delete'),
                           ('touch_updated')) as t(name)
        where not exists (
            select from pg_trigger g
            where g.tgrelid = ('app.' || e.table_name)::regclass and g.tgname = t.name)
        """
    ).fetchall()
    assert missing == []


def test_deleting_an_organization_cascades_cleanly(admin, two_orgs: TwoOrgs) -> None:
    admin.execute("delete from app.organizations where id = %s", (two_orgs.b.org_id,))
    left = admin.execute(
        "select count(*) from app.entity_history where org_id = %s", (two_orgs.b.org_id,)
    ).fetchone()
    assert left == (0,)
    assert admin.execute(
        "select count(*) from app.deals where org_id = %s", (two_orgs.a.org_id,)
    ).fetchone() == (len(two_orgs.a.deal_ids),)


def test_a_statement_larger_than_a_chunk_records_every_row(admin, two_orgs: TwoOrgs) -> None:
    """The delete trigger writes 5,000 rows at a time (sql/functions/core/triggers.sql):
    past that boundary, every created, changed and deleted row is still recorded once."""
    org = two_orgs.a
    ids = [
        r[0]
        for r in admin.execute(
            "insert into app.accounts (org_id, name) select %s, 'Bulk ' || n"
            " from generate_series(1, 5001) as n returning id",
            (org.org_id,),
        ).fetchall()
    ]
    admin.execute("update app.accounts set industry = 'Bulk' where id = any(%s)", (ids,))
    admin.execute("delete from app.accounts where id = any(%s)", (ids,))
    counts = admin.execute(
        "select change_type, count(*), count(distinct entity_id) from app.entity_history"
        " where entity_id = any(%s) group by 1 order by 1",
        (ids,),
    ).fetchall()
    assert counts == [("created", 5001, 5001), ("deleted", 5001, 5001), ("updated", 5001, 5001)]
