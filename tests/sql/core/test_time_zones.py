"""One time zone rule (issue 16): every stored zone is an IANA name as pg_timezone_names
spells it (app._is_time_zone), checked on every write of every zone column, by api
functions and plain DML alike (IT005, with a hint), and on every zone an api function
takes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError
from tests.support import Database, TwoOrgs

BAD_ZONES = ["Mars/Olympus", "abc+99", "posix/Europe/Paris"]
GOOD_ZONE = "Europe/Paris"


def _one(tx: psycopg.Connection, query: str, params: dict[str, object]) -> uuid.UUID:
    row = tx.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _organization(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.organizations (name, slug, timezone) "
        "values ('Zones Inc', 'zones-inc', %(zone)s) returning id",
        {"zone": zone},
    )


def _user_profile(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.user_profiles (org_id, email, full_name, timezone) "
        "values (%(org)s, 'zoned@acme.example', 'Zoned Person', %(zone)s) returning id",
        {"org": orgs.a.org_id, "zone": zone},
    )


def _contact(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.contacts (org_id, first_name, timezone) "
        "values (%(org)s, 'Casey', %(zone)s) returning id",
        {"org": orgs.a.org_id, "zone": zone},
    )


def _candidate(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.candidates (org_id, first_name, timezone) "
        "values (%(org)s, 'Robin', %(zone)s) returning id",
        {"org": orgs.a.org_id, "zone": zone},
    )


def _interview(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "with j as (insert into app.jobs (org_id, title) values (%(org)s, 'Engineer') "
        "returning id), "
        "c as (insert into app.candidates (org_id, first_name) values (%(org)s, 'Robin') "
        "returning id), "
        "s as (insert into app.submissions (org_id, job_id, candidate_id) "
        "select %(org)s, j.id, c.id from j, c returning id) "
        "insert into app.interviews (org_id, submission_id, scheduled_at, timezone) "
        "select %(org)s, s.id, now() + interval '1 day', %(zone)s from s returning id",
        {"org": orgs.a.org_id, "zone": zone},
    )


def _notification_preference(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.notification_preferences (org_id, user_id, category, "
        "quiet_hours_timezone) values (%(org)s, %(user)s, 'zones', %(zone)s) returning id",
        {"org": orgs.a.org_id, "user": orgs.a.admin_id, "zone": zone},
    )


def _campaign(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.campaigns (org_id, name, owner_id, timezone) "
        "values (%(org)s, 'Zoned outreach', %(owner)s, %(zone)s) returning id",
        {"org": orgs.a.org_id, "owner": orgs.a.admin_id, "zone": zone},
    )


def _workflow(tx: psycopg.Connection, orgs: TwoOrgs, zone: str) -> uuid.UUID:
    return _one(
        tx,
        "insert into app.workflows (org_id, name, entity_type, definition, is_active, "
        "schedule_cron, schedule_timezone) values (%(org)s, 'Zoned', 'deal', %(definition)s, "
        "false, '0 9 * * 1', %(zone)s) returning id",
        {"org": orgs.a.org_id, "zone": zone, "definition": Jsonb({"steps": []})},
    )


# Every zone column of the schema, with a way to insert a row holding a given zone.
ZONE_COLUMNS: dict[tuple[str, str], Callable[[psycopg.Connection, TwoOrgs, str], uuid.UUID]] = {
    ("organizations", "timezone"): _organization,
    ("user_profiles", "timezone"): _user_profile,
    ("contacts", "timezone"): _contact,
    ("candidates", "timezone"): _candidate,
    ("interviews", "timezone"): _interview,
    ("notification_preferences", "quiet_hours_timezone"): _notification_preference,
    ("campaigns", "timezone"): _campaign,
    ("workflows", "schedule_timezone"): _workflow,
}
COLUMN_IDS = [f"{table}.{column}" for table, column in ZONE_COLUMNS]


def test_every_zone_column_of_the_schema_is_covered(tx: psycopg.Connection) -> None:
    columns = tx.execute(
        "select c.table_name, c.column_name from information_schema.columns as c "
        "where c.table_schema = 'app' and c.column_name ~ '(timezone|time_zone)$' "
        "and c.data_type = 'text' "
        "and c.table_name in (select t.table_name from information_schema.tables as t "
        "where t.table_schema = 'app' and t.table_type = 'BASE TABLE') order by 1, 2"
    ).fetchall()
    assert sorted(columns) == sorted(ZONE_COLUMNS)
    checked = tx.execute(
        "select t.tgrelid::regclass::text from pg_trigger as t "
        "where t.tgname = 'time_zone_check' order by 1"
    ).fetchall()
    assert sorted(r[0] for r in checked) == sorted(f"app.{t}" for t, _ in ZONE_COLUMNS)


@pytest.mark.parametrize("zone", BAD_ZONES)
@pytest.mark.parametrize("table_column", list(ZONE_COLUMNS), ids=COLUMN_IDS)
def test_an_insert_with_a_zone_that_is_no_iana_name_is_refused(
    tx: psycopg.Connection, seeded_template: TwoOrgs, table_column: tuple[str, str], zone: str
) -> None:
    with pytest.raises(psycopg.Error) as caught, tx.transaction():
        ZONE_COLUMNS[table_column](tx, seeded_template, zone)
    assert caught.value.sqlstate == "IT005"
    assert zone in str(caught.value)
    assert f"{table_column[0]}.{table_column[1]}" in str(caught.value)
    assert "IANA" in (caught.value.diag.message_hint or "")


@pytest.mark.parametrize("zone", BAD_ZONES)
@pytest.mark.parametrize("table_column", list(ZONE_COLUMNS), ids=COLUMN_IDS)
def test_an_update_to_a_zone_that_is_no_iana_name_is_refused(
    tx: psycopg.Connection, seeded_template: TwoOrgs, table_column: tuple[str, str], zone: str
) -> None:
    table, column = table_column
    row_id = ZONE_COLUMNS[table_column](tx, seeded_template, "UTC")
    with pytest.raises(psycopg.Error) as caught, tx.transaction():
        tx.execute(
            f"update app.{table} set {column} = %s where id = %s",
            (zone, row_id),
        )
    assert caught.value.sqlstate == "IT005"


@pytest.mark.parametrize("table_column", list(ZONE_COLUMNS), ids=COLUMN_IDS)
def test_an_iana_name_is_stored(
    tx: psycopg.Connection, seeded_template: TwoOrgs, table_column: tuple[str, str]
) -> None:
    table, column = table_column
    row_id = ZONE_COLUMNS[table_column](tx, seeded_template, GOOD_ZONE)
    tx.execute(
        f"update app.{table} set {column} = 'America/New_York' where id = %s",
        (row_id,),
    )
    row = tx.execute(
        f"select {column} from app.{table} where id = %s",
        (row_id,),
    ).fetchone()
    assert row == ("America/New_York",)


@pytest.mark.parametrize("maker", [_contact, _candidate], ids=["contacts", "candidates"])
def test_a_blank_contact_or_candidate_zone_is_stored_as_null(
    tx: psycopg.Connection,
    seeded_template: TwoOrgs,
    maker: Callable[[psycopg.Connection, TwoOrgs, str], uuid.UUID],
) -> None:
    table = "contacts" if maker is _contact else "candidates"
    row_id = maker(tx, seeded_template, "  ")
    row = tx.execute(
        f"select timezone from app.{table} where id = %s",
        (row_id,),
    ).fetchone()
    assert row == (None,)


def test_a_blank_zone_is_refused_where_a_zone_is_required(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    with pytest.raises(psycopg.Error) as caught, tx.transaction():
        _campaign(tx, seeded_template, "")
    assert caught.value.sqlstate == "IT005"


def test_a_sql_login_cannot_store_a_posix_zone_on_a_contact(
    db: Database, two_orgs: TwoOrgs
) -> None:
    contact = two_orgs.a.contact_ids[0]
    with db.connect(two_orgs.login_a, autocommit=True) as login:
        with pytest.raises(psycopg.Error) as caught:
            login.execute("update app.contacts set timezone = 'abc+99' where id = %s", (contact,))
        assert caught.value.sqlstate == "IT005"
        login.execute("update app.contacts set timezone = 'Europe/Paris' where id = %s", (contact,))
        row = login.execute(
            "select timezone from app.contacts where id = %s", (contact,)
        ).fetchone()
    assert row == ("Europe/Paris",)


def test_an_unchanged_legacy_zone_does_not_block_other_updates(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    interview = _interview(tx, seeded_template, "UTC")
    # A value stored before the rule (the trigger is skipped to make one).
    tx.execute("set local session_replication_role = replica")
    tx.execute("update app.interviews set timezone = 'EST5' where id = %s", (interview,))
    tx.execute("set local session_replication_role = origin")
    tx.execute("update app.interviews set duration_minutes = 30 where id = %s", (interview,))
    tx.execute("update app.interviews set timezone = timezone where id = %s", (interview,))
    row = tx.execute(
        "select timezone, duration_minutes from app.interviews where id = %s", (interview,)
    ).fetchone()
    assert row == ("EST5", 30)


# --- the rule itself


def test_every_iana_name_of_pg_timezone_names_is_a_time_zone(tx: psycopg.Connection) -> None:
    refused = tx.execute(
        "select z.name from pg_timezone_names as z "
        "where z.name !~ '^(posix|right)/' and z.name not in ('posixrules', 'localtime', "
        "'Factory') and not app._is_time_zone(z.name) order by 1"
    ).fetchall()
    assert refused == []


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "abc+99",  # a POSIX spec: PostgreSQL reads it as 99 hours west of UTC
        "UTC+3",
        "EST5",
        "ABC/DEF+3",
        "posix/Europe/Paris",
        "right/UTC",
        "posixrules",
        "localtime",
        "Factory",
        "CEST",  # an abbreviation, no zone
        "europe/paris",  # a name in another case
        "GMT ",
        "Europe",  # a folder
        "NaN",
        "",
    ],
)
def test_what_is_no_iana_name_is_no_time_zone(tx: psycopg.Connection, zone: str) -> None:
    assert tx.execute("select app._is_time_zone(%s)", (zone,)).fetchone() == (False,)


@pytest.mark.parametrize(
    "zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "UTC", "GMT", "EST5EDT", "Etc/GMT+5"]
)
def test_iana_names_and_legacy_links_are_time_zones(tx: psycopg.Connection, zone: str) -> None:
    assert tx.execute("select app._is_time_zone(%s)", (zone,)).fetchone() == (True,)


def test_checking_a_zone_leaves_the_session_zone_alone(tx: psycopg.Connection) -> None:
    tx.execute("set local timezone = 'Asia/Tokyo'")
    tx.execute("select app._is_time_zone('Europe/Paris'), app._is_time_zone('Mars/Olympus')")
    assert tx.execute("show timezone").fetchone() == ("Asia/Tokyo",)


def test_migration_0022_clears_exactly_what_the_rule_refuses(tx: psycopg.Connection) -> None:
    """The migration's test, with the helper's: they agree on every sample."""
    samples = [*BAD_ZONES, "UTC+3", "europe/paris", "CEST", "Europe/Paris", "EST5EDT", "Zulu"]
    rows = tx.execute(
        "select s.zone, app._is_time_zone(s.zone), not ("
        "s.zone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' "
        "or s.zone ~ '^(posix|right)/' or s.zone in ('posixrules', 'localtime', 'Factory') "
        "or s.zone not in (select z.name from pg_catalog.pg_timezone_names as z)) "
        "from unnest(%s::text[]) as s (zone)",
        (samples,),
    ).fetchall()
    assert [(zone, helper) for zone, helper, _ in rows] == [
        (zone, migration) for zone, _, migration in rows
    ]


# --- the api functions that take a zone


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_api_functions_refuse_a_zone_that_is_no_iana_name(
    service: psycopg.Connection, two_orgs: TwoOrgs, zone: str
) -> None:
    calls = [
        ("select api.create_user(p_email => 'z@acme.example', p_full_name => 'Z', "
         "p_timezone => %(zone)s)"),
        ("select api.update_user(p_user_id => %(user)s, "
         "p_changes => jsonb_build_object('timezone', %(zone)s::text))"),
        "select api.set_preference(p_category => 'workflow', p_quiet_hours_timezone => %(zone)s)",
        ("select api.create_campaign(p_name => 'Zoned', p_timezone => %(zone)s)"),
    ]  # fmt: skip
    for call in calls:
        with (
            pytest.raises(InvalidParameterError, match="time zone") as caught,
            errors_translated(),
            actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
        ):
            service.execute(call, {"zone": zone, "user": two_orgs.a.admin_id})
        assert "IANA" in (caught.value.hint or ""), call


@pytest.mark.parametrize("zone", BAD_ZONES)
def test_create_organization_refuses_a_zone_that_is_no_iana_name(
    service: psycopg.Connection, zone: str
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="time zone"),
        errors_translated(),
        service.transaction(),
    ):
        service.execute(
            "select api.create_organization(p_name => 'Zoned', p_slug => 'zoned', "
            "p_timezone => %s)",
            (zone,),
        )
