"""Campaign send windows: app._campaign_next_send_time (the window, the days, DST in
America/New_York, Europe/London and Australia/Sydney), app._campaign_timezone
(campaign zone vs contact zone, with real rows), app._campaign_assert_send_window and
app._is_time_zone. Expected instants are written in UTC by hand (checked
against Python's zoneinfo), never derived from the SQL under test. Nothing here
commits: each test runs in the rolled-back ``tx``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import psycopg
import pytest

from tests.support import TwoOrgs

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SYDNEY = "Australia/Sydney"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
NINE, FIVE = time(9), time(17)
TICK = timedelta(microseconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def next_send(
    conn: psycopg.Connection,
    ts: datetime | None,
    zone: str | None = NEW_YORK,
    start: time | None = NINE,
    end: time | None = FIVE,
    days: list[str] | None = None,
) -> datetime | None:
    row = conn.execute(
        "select app._campaign_next_send_time(%s, %s, %s, %s, %s)",
        (ts, zone, start, end, WEEKDAYS if days is None else days),
    ).fetchone()
    assert row is not None
    return row[0]


def sql_error(conn: psycopg.Connection, query: str, params: tuple) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(query, params)
    return caught.value


# --- The window and the days (America/New_York in February 2026: EST, UTC-5).
# 2026-02-04 is a Wednesday.


def test_an_instant_inside_the_window_is_unchanged(tx: psycopg.Connection) -> None:
    ts = utc("2026-02-04 17:00")  # Wed 12:00 EST
    assert next_send(tx, ts) == ts


def test_an_instant_before_the_window_moves_to_todays_opening(tx: psycopg.Connection) -> None:
    # Wed 07:00 EST -> Wed 09:00 EST
    assert next_send(tx, utc("2026-02-04 12:00")) == utc("2026-02-04 14:00")


def test_an_instant_after_the_window_moves_to_the_next_days_opening(
    tx: psycopg.Connection,
) -> None:
    # Wed 18:00 EST -> Thu 09:00 EST
    assert next_send(tx, utc("2026-02-04 23:00")) == utc("2026-02-05 14:00")


def test_a_friday_evening_moves_to_monday_morning(tx: psycopg.Connection) -> None:
    # Fri 2026-02-06 18:00 EST -> Mon 2026-02-09 09:00 EST
    assert next_send(tx, utc("2026-02-06 23:00")) == utc("2026-02-09 14:00")


def test_weekend_only_days_skip_the_working_week(tx: psycopg.Connection) -> None:
    # Wed 12:00 EST -> Sat 2026-02-07 09:00 EST
    got = next_send(tx, utc("2026-02-04 17:00"), days=["sat", "sun"])
    assert got == utc("2026-02-07 14:00")


def test_the_window_end_is_exclusive(tx: psycopg.Connection) -> None:
    # Wed 17:00:00 EST exactly is closed -> Thu 09:00 EST
    assert next_send(tx, utc("2026-02-04 22:00")) == utc("2026-02-05 14:00")


def test_the_last_instant_before_the_end_is_inside(tx: psycopg.Connection) -> None:
    ts = utc("2026-02-04 22:00") - TICK  # Wed 16:59:59.999999 EST
    assert next_send(tx, ts) == ts


def test_the_opening_instant_is_inside(tx: psycopg.Connection) -> None:
    ts = utc("2026-02-04 14:00")  # Wed 09:00 EST
    assert next_send(tx, ts) == ts


def test_the_local_date_decides_the_day_not_the_utc_date(tx: psycopg.Connection) -> None:
    # Thu 03:00 UTC is still Wed 22:00 in New York: Thursday's opening, not Friday's.
    got = next_send(tx, utc("2026-02-05 03:00"), days=["thu"])
    assert got == utc("2026-02-05 14:00")


def test_a_single_send_day_whose_window_is_over_waits_a_week(tx: psycopg.Connection) -> None:
    # Wed 18:00 EST, Wednesdays only -> Wed 2026-02-11 09:00 EST
    got = next_send(tx, utc("2026-02-04 23:00"), days=["wed"])
    assert got == utc("2026-02-11 14:00")


def test_a_window_may_end_at_midnight(tx: psycopg.Connection) -> None:
    ts = utc("2026-02-05 04:59:59.999999")  # Wed 23:59:59.999999 EST
    row = tx.execute(
        "select app._campaign_next_send_time(%s, %s, '20:00', '24:00', %s)",
        (ts, NEW_YORK, WEEKDAYS),
    ).fetchone()
    assert row == (ts,)


def test_the_campaign_zone_is_used_for_the_window(tx: psycopg.Connection) -> None:
    # Wed 08:00 GMT -> Wed 09:00 GMT (New York would open at 14:00 UTC)
    assert next_send(tx, utc("2026-02-04 08:00"), zone=LONDON) == utc("2026-02-04 09:00")


def test_a_null_instant_gives_null(tx: psycopg.Connection) -> None:
    assert next_send(tx, None) is None


def test_an_overnight_window_is_refused_when_computing(tx: psycopg.Connection) -> None:
    err = sql_error(
        tx,
        "select app._campaign_next_send_time(%s, %s, '22:00', '06:00', %s)",
        (utc("2026-02-04 17:00"), NEW_YORK, WEEKDAYS),
    )
    assert err.sqlstate == "IT005"
    assert "overnight" in str(err)


def test_an_unknown_zone_is_refused_when_computing(tx: psycopg.Connection) -> None:
    err = sql_error(
        tx,
        "select app._campaign_next_send_time(%s, 'Mars/Olympus', '09:00', '17:00', %s)",
        (utc("2026-02-04 17:00"), WEEKDAYS),
    )
    assert err.sqlstate == "IT005"
    assert "Mars/Olympus" in str(err)


def test_days_that_name_no_weekday_are_refused_when_computing(tx: psycopg.Connection) -> None:
    err = sql_error(
        tx,
        "select app._campaign_next_send_time(%s, %s, '09:00', '17:00', %s)",
        (utc("2026-02-04 17:00"), NEW_YORK, ["Monday"]),
    )
    assert err.sqlstate == "IT005"


# --- DST. A 09:00-17:00 window on each transition day, every day allowed.
# (zone, local midnight of the transition day in UTC, 09:00 local, 17:00 local,
# the next day's 09:00 local), all in UTC.
TRANSITION_DAYS = [
    # New York springs forward at 02:00 EST -> 03:00 EDT on Sun 2026-03-08.
    (NEW_YORK, "2026-03-08 05:00", "2026-03-08 13:00", "2026-03-08 21:00", "2026-03-09 13:00"),
    # ... and falls back at 02:00 EDT -> 01:00 EST on Sun 2026-11-01.
    (NEW_YORK, "2026-11-01 04:00", "2026-11-01 14:00", "2026-11-01 22:00", "2026-11-02 14:00"),
    # London: 01:00 GMT -> 02:00 BST on Sun 2026-03-29.
    (LONDON, "2026-03-29 00:00", "2026-03-29 08:00", "2026-03-29 16:00", "2026-03-30 08:00"),
    # ... 02:00 BST -> 01:00 GMT on Sun 2026-10-25.
    (LONDON, "2026-10-24 23:00", "2026-10-25 09:00", "2026-10-25 17:00", "2026-10-26 09:00"),
    # Sydney (southern hemisphere) goes back 03:00 AEDT -> 02:00 AEST on Sun 2026-04-05.
    (SYDNEY, "2026-04-04 13:00", "2026-04-04 23:00", "2026-04-05 07:00", "2026-04-05 23:00"),
    # ... and forward 02:00 AEST -> 03:00 AEDT on Sun 2026-10-04.
    (SYDNEY, "2026-10-03 14:00", "2026-10-03 22:00", "2026-10-04 06:00", "2026-10-04 22:00"),
]
TRANSITION_IDS = [
    "new-york-spring",
    "new-york-fall",
    "london-spring",
    "london-fall",
    "sydney-autumn",
    "sydney-spring",
]


@pytest.mark.parametrize(
    ("zone", "midnight", "opens", "closes", "next_opens"), TRANSITION_DAYS, ids=TRANSITION_IDS
)
def test_on_a_transition_day_the_window_opens_at_local_nine(
    tx: psycopg.Connection, zone: str, midnight: str, opens: str, closes: str, next_opens: str
) -> None:
    got = next_send(tx, utc(midnight), zone=zone, days=EVERY_DAY)
    assert got == utc(opens)


@pytest.mark.parametrize(
    ("zone", "midnight", "opens", "closes", "next_opens"), TRANSITION_DAYS, ids=TRANSITION_IDS
)
def test_on_a_transition_day_the_window_closes_at_local_five(
    tx: psycopg.Connection, zone: str, midnight: str, opens: str, closes: str, next_opens: str
) -> None:
    last = utc(closes) - TICK
    assert next_send(tx, last, zone=zone, days=EVERY_DAY) == last
    assert next_send(tx, utc(closes), zone=zone, days=EVERY_DAY) == utc(next_opens)


# Saturday 18:00 local -> Monday 09:00 local (mon-fri) across the Sunday change.
WEEKENDS_ACROSS_A_TRANSITION = [
    (NEW_YORK, "2026-03-07 23:00", "2026-03-09 13:00"),  # 18:00 EST -> 09:00 EDT
    (NEW_YORK, "2026-10-31 22:00", "2026-11-02 14:00"),  # 18:00 EDT -> 09:00 EST
    (LONDON, "2026-03-28 18:00", "2026-03-30 08:00"),  # 18:00 GMT -> 09:00 BST
    (LONDON, "2026-10-24 17:00", "2026-10-26 09:00"),  # 18:00 BST -> 09:00 GMT
    (SYDNEY, "2026-04-04 07:00", "2026-04-05 23:00"),  # 18:00 AEDT -> 09:00 AEST
    (SYDNEY, "2026-10-03 08:00", "2026-10-04 22:00"),  # 18:00 AEST -> 09:00 AEDT
]


@pytest.mark.parametrize(("zone", "saturday", "monday"), WEEKENDS_ACROSS_A_TRANSITION)
def test_a_weekend_across_a_transition_lands_on_mondays_local_opening(
    tx: psycopg.Connection, zone: str, saturday: str, monday: str
) -> None:
    assert next_send(tx, utc(saturday), zone=zone) == utc(monday)


# PostgreSQL's rule for a local time that does not exist: it takes the UTC
# offset from before the change, so it lands as far past the gap's end as it
# was past its start (02:30 -> 03:30 EDT, not 03:00). Python's fold=0 agrees.
GAP_OPENINGS = [
    (NEW_YORK, time(2, 30), "2026-03-08 05:00", "2026-03-08 07:30"),  # 03:30 EDT
    (LONDON, time(1, 30), "2026-03-29 00:00", "2026-03-29 01:30"),  # 02:30 BST
    (SYDNEY, time(2, 30), "2026-10-03 14:00", "2026-10-03 16:30"),  # 03:30 AEDT
]


@pytest.mark.parametrize(("zone", "start", "midnight", "opens"), GAP_OPENINGS)
def test_an_opening_in_the_spring_forward_gap_moves_forward_by_the_gap(
    tx: psycopg.Connection, zone: str, start: time, midnight: str, opens: str
) -> None:
    assert next_send(tx, utc(midnight), zone=zone, start=start, days=EVERY_DAY) == utc(opens)


# An ambiguous local time (it happens twice when clocks go back) is the later
# instant, in the offset after the change (Python's fold=1).
OVERLAP_OPENINGS = [
    (NEW_YORK, time(1, 30), "2026-11-01 04:00", "2026-11-01 06:30"),  # 01:30 EST, not EDT
    (LONDON, time(1, 30), "2026-10-24 23:30", "2026-10-25 01:30"),  # 01:30 GMT, not BST
    (SYDNEY, time(2, 30), "2026-04-04 13:00", "2026-04-04 16:30"),  # 02:30 AEST, not AEDT
]


@pytest.mark.parametrize(("zone", "start", "before", "opens"), OVERLAP_OPENINGS)
def test_an_ambiguous_opening_on_the_fall_back_day_is_the_later_instant(
    tx: psycopg.Connection, zone: str, start: time, before: str, opens: str
) -> None:
    assert next_send(tx, utc(before), zone=zone, start=start, days=EVERY_DAY) == utc(opens)


def test_just_before_spring_forward_waits_for_an_opening_just_after_it(
    tx: psycopg.Connection,
) -> None:
    # 01:59:59.999999 EST; the window opens at 03:00 EDT, the instant of the change.
    got = next_send(tx, utc("2026-03-08 07:00") - TICK, start=time(3), days=EVERY_DAY)
    assert got == utc("2026-03-08 07:00")


def test_just_after_spring_forward_is_inside_a_window_opening_then(
    tx: psycopg.Connection,
) -> None:
    ts = utc("2026-03-08 07:00")  # 03:00 EDT, the first instant after the gap
    assert next_send(tx, ts, start=time(3), days=EVERY_DAY) == ts


def test_the_first_pass_of_an_ambiguous_opening_hour_waits_for_the_second(
    tx: psycopg.Connection,
) -> None:
    # 01:59:59.999999 EDT, just before clocks go back: the wall clock is past a
    # 01:00 opening, but 01:00 means 01:00 EST, an hour later.
    got = next_send(tx, utc("2026-11-01 06:00") - TICK, start=time(1), days=EVERY_DAY)
    assert got == utc("2026-11-01 06:00")


def test_just_after_fall_back_is_inside_a_window_opening_at_the_repeated_hour(
    tx: psycopg.Connection,
) -> None:
    ts = utc("2026-11-01 06:00")  # 01:00 EST, the instant of the change
    assert next_send(tx, ts, start=time(1), days=EVERY_DAY) == ts


def test_a_window_entirely_in_the_gap_is_empty_that_day(tx: psycopg.Connection) -> None:
    # 02:30-03:15 on 2026-03-08 would open at 03:30 EDT, after it closes at
    # 03:15 EDT: the next Sunday's window, 02:30 EDT on 2026-03-15.
    got = next_send(tx, utc("2026-03-08 05:00"), start=time(2, 30), end=time(3, 15), days=["sun"])
    assert got == utc("2026-03-15 06:30")


# --- app._campaign_timezone, then the window: the campaign's zone or the
# contact's, with real rows.


def make_campaign(
    tx: psycopg.Connection,
    orgs: TwoOrgs,
    *,
    zone: str = NEW_YORK,
    use_contact_timezone: bool = False,
) -> uuid.UUID:
    row = tx.execute(
        "insert into app.campaigns (org_id, name, owner_id, timezone, use_contact_timezone) "
        "values (%s, 'Spring outreach', %s, %s, %s) returning id",
        (orgs.a.org_id, orgs.a.admin_id, zone, use_contact_timezone),
    ).fetchone()
    assert row is not None
    return row[0]


def make_contact(tx: psycopg.Connection, org_id: uuid.UUID, zone: str | None) -> uuid.UUID:
    row = tx.execute(
        "insert into app.contacts (org_id, first_name, timezone) values (%s, 'Casey', %s) "
        "returning id",
        (org_id, zone),
    ).fetchone()
    assert row is not None
    return row[0]


def campaign_send(
    tx: psycopg.Connection, ts: datetime, campaign: uuid.UUID, contact: uuid.UUID | None
) -> datetime:
    """When the tick would send: the zone chosen as the tick chooses it (the contact's,
    when the campaign uses contact zones and it is valid), then the next window."""
    # The contact's zone read first (on Citus a subquery on another table by a key
    # without the org is not planned inside a query on campaigns).
    zone = tx.execute(
        "select ct.timezone from app.contacts as ct where ct.id = %s", (contact,)
    ).fetchone()
    row = tx.execute(
        "select app._campaign_next_send_time(%(ts)s, app._campaign_timezone("
        "%(zone)s, c.timezone, c.use_contact_timezone), c.send_window_start, "
        "c.send_window_end, c.send_days) from app.campaigns as c where c.id = %(campaign)s",
        {"ts": ts, "campaign": campaign, "zone": zone[0] if zone else None},
    ).fetchone()
    assert row is not None
    return row[0]


WED_8_UTC = utc("2026-02-04 08:00")  # 08:00 GMT in London, 03:00 EST in New York
LONDON_OPENS = utc("2026-02-04 09:00")  # 09:00 GMT
NEW_YORK_OPENS = utc("2026-02-04 14:00")  # 09:00 EST


def test_a_campaign_without_a_contact_uses_its_own_zone(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    campaign = make_campaign(tx, seeded_template, use_contact_timezone=True)
    assert campaign_send(tx, WED_8_UTC, campaign, None) == NEW_YORK_OPENS


def test_a_campaign_using_contact_zones_uses_a_valid_contact_zone(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    campaign = make_campaign(tx, seeded_template, use_contact_timezone=True)
    contact = make_contact(tx, seeded_template.a.org_id, LONDON)
    assert campaign_send(tx, WED_8_UTC, campaign, contact) == LONDON_OPENS


@pytest.mark.parametrize("contact_zone", [None, ""])
def test_a_missing_contact_zone_falls_back_to_the_campaigns(
    tx: psycopg.Connection, seeded_template: TwoOrgs, contact_zone: str | None
) -> None:
    campaign = make_campaign(tx, seeded_template, use_contact_timezone=True)
    contact = make_contact(tx, seeded_template.a.org_id, contact_zone)
    assert campaign_send(tx, WED_8_UTC, campaign, contact) == NEW_YORK_OPENS


@pytest.mark.parametrize("contact_zone", ["", "Mars/Olympus", "UTC+3"])
def test_an_invalid_contact_zone_falls_back_to_the_campaigns(
    tx: psycopg.Connection, contact_zone: str
) -> None:
    # A contact can no longer store one (tests/sql/core/test_time_zones.py); the tick
    # still falls back rather than fail on a value from elsewhere.
    row = tx.execute(
        "select app._campaign_timezone(%s, %s, true)", (contact_zone, NEW_YORK)
    ).fetchone()
    assert row == (NEW_YORK,)


def test_a_campaign_not_using_contact_zones_ignores_the_contacts(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    campaign = make_campaign(tx, seeded_template, use_contact_timezone=False)
    contact = make_contact(tx, seeded_template.a.org_id, LONDON)
    assert campaign_send(tx, WED_8_UTC, campaign, contact) == NEW_YORK_OPENS


def test_the_campaign_window_and_days_are_used(
    tx: psycopg.Connection, seeded_template: TwoOrgs
) -> None:
    campaign = make_campaign(tx, seeded_template, zone=LONDON)
    tx.execute(
        "update app.campaigns set send_window_start = '13:00', send_window_end = '14:00', "
        "send_days = '{sat}' where id = %s",
        (campaign,),
    )
    # Wed 08:00 GMT -> Sat 2026-02-07 13:00 GMT
    assert campaign_send(tx, WED_8_UTC, campaign, None) == utc("2026-02-07 13:00")


# --- app._campaign_assert_send_window: what the campaign builder refuses.

ASSERT_WINDOW = "select app._campaign_assert_send_window(%s, %s, %s, %s)"


def test_a_valid_window_passes(tx: psycopg.Connection) -> None:
    cur = tx.execute(ASSERT_WINDOW, (NINE, FIVE, WEEKDAYS, NEW_YORK))  # no error
    assert cur.rowcount == 1


def test_an_overnight_window_is_refused(tx: psycopg.Connection) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (time(22), time(6), WEEKDAYS, NEW_YORK))
    assert err.sqlstate == "IT005"
    assert "overnight" in str(err)
    assert "22:00-06:00" in str(err)


def test_an_empty_window_is_refused(tx: psycopg.Connection) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (NINE, NINE, WEEKDAYS, NEW_YORK))
    assert err.sqlstate == "IT005"


def test_a_null_window_bound_is_refused(tx: psycopg.Connection) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (None, FIVE, WEEKDAYS, NEW_YORK))
    assert err.sqlstate == "IT005"


@pytest.mark.parametrize("day", ["funday", "Mon", "monday"])
def test_an_unknown_day_is_refused_and_the_valid_ones_listed(
    tx: psycopg.Connection, day: str
) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (NINE, FIVE, ["tue", day], NEW_YORK))
    assert err.sqlstate == "IT005"
    assert day in str(err)
    assert "mon, tue, wed, thu, fri, sat, sun" in str(err)


def test_a_repeated_day_is_refused(tx: psycopg.Connection) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (NINE, FIVE, ["mon", "tue", "mon"], NEW_YORK))
    assert err.sqlstate == "IT005"
    assert "repeat" in str(err)


@pytest.mark.parametrize("days", [[], None], ids=["empty", "null"])
def test_no_days_are_refused(tx: psycopg.Connection, days: list[str] | None) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (NINE, FIVE, days, NEW_YORK))
    assert err.sqlstate == "IT005"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "XYZ", "", None])
def test_an_unknown_zone_is_refused(tx: psycopg.Connection, zone: str | None) -> None:
    err = sql_error(tx, ASSERT_WINDOW, (NINE, FIVE, WEEKDAYS, zone))
    assert err.sqlstate == "IT005"
    assert "time zone" in str(err)


# --- app._is_time_zone (the one rule; tests/sql/core/test_time_zones.py covers it whole)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        (NEW_YORK, True),
        (SYDNEY, True),
        ("UTC", True),
        ("XYZ", False),  # looks like an abbreviation, is none
        ("Mars/Olympus", False),
        ("", False),
        (None, False),
        # PostgreSQL's `at time zone` takes these too; InTime does not: an abbreviation
        # with no zone of its name, a POSIX spec, a full name in another case.
        ("CEST", False),
        ("UTC+3", False),
        ("america/new_york", False),
    ],
)
def test_is_time_zone(tx: psycopg.Connection, name: str | None, valid: bool) -> None:
    assert tx.execute("select app._is_time_zone(%s)", (name,)).fetchone() == (valid,)
