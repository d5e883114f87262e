"""app._uuid7: time-ordered ids (RFC 9562 version 7) for rows that arrive in bulk."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg


def test_a_time_ordered_id_is_a_version_7_uuid(admin: psycopg.Connection) -> None:
    row = admin.execute("select app._uuid7()").fetchone()
    assert row is not None
    value: uuid.UUID = row[0]
    assert (value.version, value.variant) == (7, uuid.RFC_4122)


def test_a_time_ordered_id_starts_with_the_unix_time_in_milliseconds(
    admin: psycopg.Connection,
) -> None:
    row = admin.execute("select app._uuid7(), clock_timestamp()").fetchone()
    assert row is not None
    value, clock = row
    millis = int.from_bytes(value.bytes[:6], "big")
    stamped = datetime.fromtimestamp(millis / 1000, tz=UTC)
    assert abs((clock - stamped).total_seconds()) < 0.01


def test_ids_made_in_later_milliseconds_sort_later(admin: psycopg.Connection) -> None:
    ids = []
    for _ in range(20):
        row = admin.execute("select app._uuid7() from pg_sleep(0.002)").fetchone()
        assert row is not None
        ids.append(row[0])
    assert ids == sorted(ids)
    assert len(set(ids)) == 20


def test_the_rest_of_a_time_ordered_id_is_random(admin: psycopg.Connection) -> None:
    rows = admin.execute("select app._uuid7() from generate_series(1, 1000)").fetchall()
    tails = {r[0].bytes[6:] for r in rows}
    assert len(tails) == 1000
