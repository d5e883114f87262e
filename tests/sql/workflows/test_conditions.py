"""Condition evaluation: every operator, matching and not, type-aware
comparisons and nested groups (app._wf_holds, as the matcher calls it). Nothing
here commits: each test runs in the rolled-back ``tx``."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

NEW = {
    "value": 12500.5,
    "name": "Acme renewal",
    "status": "won",
    "tags": ["vip", "renewal"],
    "metadata": {"source": "referral", "score": 7},
    "expected_close_date": "2026-12-01",
    "closed_at": "2026-11-29T10:00:00+00:00",
    "description": None,
    "won": True,
}
OLD = {**NEW, "value": 9000, "status": "open", "closed_at": None}
ORG = {"name": "Acme Staffing", "timezone": "America/New_York"}


def holds(
    tx: psycopg.Connection, condition: dict[str, Any], new: Any = NEW, old: Any = OLD
) -> bool:
    row = tx.execute(
        "select app._wf_holds(%s, %s, %s, %s)",
        (Jsonb(condition), Jsonb(new), Jsonb(old) if old is not None else None, Jsonb(ORG)),
    ).fetchone()
    assert row is not None
    return bool(row[0])


def leaf(field: str, operator: str, value: Any = ..., /) -> dict[str, Any]:
    out: dict[str, Any] = {"field": field, "operator": operator}
    if value is not ...:
        out["value"] = value
    return out


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (leaf("status", "eq", "won"), True),
        (leaf("status", "eq", "lost"), False),
        (leaf("status", "neq", "lost"), True),
        (leaf("status", "neq", "won"), False),
        (leaf("value", "gt", 12000), True),
        (leaf("value", "gt", 12500.5), False),
        (leaf("value", "gte", 12500.5), True),
        (leaf("value", "gte", 12501), False),
        (leaf("value", "lt", 13000), True),
        (leaf("value", "lt", 12500.5), False),
        (leaf("value", "lte", 12500.5), True),
        (leaf("value", "lte", 100), False),
        (leaf("name", "contains", "RENEW"), True),
        (leaf("name", "contains", "churn"), False),
        (leaf("name", "not_contains", "churn"), True),
        (leaf("name", "not_contains", "acme"), False),
        (leaf("tags", "contains", "vip"), True),
        (leaf("tags", "contains", "smb"), False),
        (leaf("metadata", "contains", "source"), True),
        (leaf("status", "in", ["won", "lost"]), True),
        (leaf("status", "in", ["open"]), False),
        (leaf("status", "not_in", ["open", "lost"]), True),
        (leaf("status", "not_in", ["won"]), False),
        (leaf("description", "is_null"), True),
        (leaf("name", "is_null"), False),
        (leaf("missing_key", "is_null"), True),
        (leaf("name", "is_not_null"), True),
        (leaf("description", "is_not_null"), False),
        (leaf("status", "changed"), True),
        (leaf("name", "changed"), False),
    ],
)
def test_each_operator_matches_and_refuses(tx: psycopg.Connection, condition, expected) -> None:
    assert holds(tx, condition) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # Numbers compare as numbers, not text ("9" > "10" as text).
        (leaf("value", "gt", 9), True),
        (leaf("metadata.score", "lt", 10), True),
        # A numeric string against a number compares numerically.
        (leaf("value", "eq", "12500.50"), True),
        (leaf("value", "gt", "1e4"), True),
        # Dates and timestamps compare as instants, whatever their offsets.
        (leaf("expected_close_date", "gt", "2026-11-30"), True),
        (leaf("expected_close_date", "lt", "2026-11-30"), False),
        (leaf("closed_at", "eq", "2026-11-29T05:00:00-05:00"), True),
        (leaf("closed_at", "lt", "2026-11-29T10:30:00Z"), True),
        # Booleans compare as booleans.
        (leaf("won", "eq", True), True),
        (leaf("won", "eq", False), False),
        # A null cannot be ordered: every ordering is false.
        (leaf("description", "gt", 1), False),
        (leaf("description", "lt", 1), False),
        # eq null is is_null; neq is true for a null.
        (leaf("description", "eq", None), True),
        (leaf("description", "neq", "x"), True),
        # Text compares as text.
        (leaf("name", "gt", "Acme"), True),
    ],
)
def test_comparisons_are_type_aware(tx: psycopg.Connection, condition, expected) -> None:
    assert holds(tx, condition) is expected


def test_old_and_org_fields_are_read_from_their_rows(tx: psycopg.Connection) -> None:
    assert holds(tx, leaf("old.status", "eq", "open"))
    assert holds(tx, leaf("old.value", "lt", 10000))
    assert holds(tx, leaf("new.value", "gt", 10000))
    assert holds(tx, leaf("org.timezone", "eq", "America/New_York"))
    assert not holds(tx, leaf("org.name", "contains", "globex"))


def test_changed_is_true_on_insert_for_a_set_value(tx: psycopg.Connection) -> None:
    assert holds(tx, leaf("status", "changed"), NEW, None)
    assert not holds(tx, leaf("description", "changed"), NEW, None)


def test_nested_groups_combine_all_and_any(tx: psycopg.Connection) -> None:
    condition = {
        "all": [
            leaf("status", "eq", "won"),
            {"any": [leaf("value", "gt", 50000), {"all": [leaf("tags", "contains", "vip")]}]},
        ]
    }
    assert holds(tx, condition)
    condition["all"][1]["any"][1]["all"].append(leaf("name", "contains", "nope"))
    assert not holds(tx, condition)


def test_an_empty_condition_always_holds(tx: psycopg.Connection) -> None:
    assert holds(tx, {})
