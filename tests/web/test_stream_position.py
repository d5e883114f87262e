"""The stream position behind SSE event ids (web.notifications.Position): what a stream
has sent, exactly, and the bounded id it writes."""

from __future__ import annotations

from web.notifications import MAX_LISTED, Position


def test_an_open_gap_stays_undelivered_past_the_listed_cap() -> None:
    """Review of issue 14: past 200 seqs above an open gap the position itself moved its
    watermark over the gap, so the gap's notification, committed late, was skipped live."""
    pos = Position(100)
    for seq in range(102, 102 + MAX_LISTED + 50):
        pos.record(seq, 100)  # 101 is still open
    assert not pos.delivered(101)
    assert all(pos.delivered(seq) for seq in range(102, 102 + MAX_LISTED + 50))


def test_the_id_lists_at_most_the_cap() -> None:
    pos = Position(100)
    for seq in range(102, 102 + MAX_LISTED + 50):
        pos.record(seq, 100)
    watermark, *listed = (int(p) for p in pos.event_id().split("."))
    assert len(listed) == MAX_LISTED
    assert watermark == 102 + 50 - 1  # the oldest give way in the id only
    assert Position.parse(pos.event_id()).above == set(listed)


def test_the_id_is_the_watermark_when_nothing_is_open() -> None:
    pos = Position(100)
    pos.record(101, 101)
    assert pos.event_id() == "101"
