"""The stream position behind SSE event ids (web.notifications.Position): what a stream
has sent, exactly, and the bounded id it writes."""

from __future__ import annotations

import pytest

from intime.errors import InvalidParameterError
from web.notifications import MAX_HELD, MAX_LISTED, Position


def test_an_open_gap_stays_undelivered_past_the_listed_cap() -> None:
    """Review of issue 14: past 200 seqs above an open gap the position itself moved its
    watermark over the gap, so the gap's notification, committed late, was skipped live."""
    pos = Position({0: 100})
    for seq in range(102, 102 + MAX_LISTED + 50):
        pos.record(seq, 100)  # 101 is still open
    assert not pos.delivered(101)
    assert all(pos.delivered(seq) for seq in range(102, 102 + MAX_LISTED + 50))


def test_the_id_lists_at_most_the_cap() -> None:
    pos = Position({0: 100})
    for seq in range(102, 102 + MAX_LISTED + 50):
        pos.record(seq, 100)
    watermark, *listed = (int(p) for p in pos.event_id().split("."))
    assert len(listed) == MAX_LISTED
    assert watermark == 102 + 50 - 1  # the oldest give way in the id only
    assert Position.parse(pos.event_id()).above == set(listed)


def test_the_id_is_the_watermark_when_nothing_is_open() -> None:
    pos = Position({0: 100})
    pos.record(101, 101)
    assert pos.event_id() == "101"


# On a Citus cluster each node group draws seqs from its own range, (group << 48) + 1
# upwards (docs/scale-out.md, "The stream on a cluster"): a position keeps a watermark
# per range.
R1 = 1 << 48


def test_a_single_nodes_id_keeps_its_one_part_form() -> None:
    pos = Position({0: 100})
    pos.record(102, 100)
    assert pos.event_id() == "100.102"
    assert Position.parse("100.102") == pos


def test_each_range_has_its_own_watermark() -> None:
    pos = Position({0: 100, 1: R1 + 5})
    pos.record(R1 + 7, R1 + 5)  # R1 + 6 is still open in range 1
    pos.record(101, 101)
    assert pos.delivered(101)
    assert not pos.delivered(R1 + 6)
    assert pos.delivered(R1 + 7)
    assert not pos.delivered(102)
    assert pos.event_id() == f"101_{R1 + 5}.{R1 + 7}"


def test_a_ranged_id_parses_back_to_the_same_position() -> None:
    pos = Position({0: 100, 2: 2 * R1 + 9}, {103, 2 * R1 + 12})
    assert Position.parse(pos.event_id()) == pos


def test_a_range_the_position_does_not_name_is_undelivered_from_its_start() -> None:
    pos = Position({0: 100})
    assert not pos.delivered(R1 + 1)
    assert pos.mark(1) == R1


def test_a_listed_seq_outside_its_parts_range_is_refused() -> None:
    with pytest.raises(InvalidParameterError):
        Position.parse(f"100.{R1 + 3}")


def test_a_range_named_twice_is_refused() -> None:
    with pytest.raises(InvalidParameterError):
        Position.parse("100_101")


def test_the_listed_places_go_to_the_range_that_needs_them() -> None:
    """Review: an equal share per range listed 100 of range 1's seqs when range 0 listed
    none, and the id claimed range 1's open gap after 100 deliveries instead of 200."""
    pos = Position({0: 100, 1: R1})
    for seq in range(R1 + 2, R1 + 2 + 150):
        pos.record(seq, R1)  # R1 + 1 is still open
    resumed = Position.parse(pos.event_id())
    assert not resumed.delivered(R1 + 1)
    assert len(resumed.above) == 150


def test_past_the_held_cap_the_range_holding_most_gives_way() -> None:
    """Review: the lowest seq gave way first, always range 0's, however few it held."""
    pos = Position({0: 2, 1: R1})
    pos.record(4, 2)  # 3 is open in range 0
    for seq in range(R1 + 2, R1 + 2 + MAX_HELD):
        pos.record(seq, R1)  # R1 + 1 is open in range 1
    assert not pos.delivered(3)
    assert pos.delivered(R1 + 1)  # range 1's oldest gap gave way
