"""The stream across seq ranges. On a Citus cluster each node group draws notification seqs
from its own range, (group << 48) + 1 upwards, so seqs are ordered only within a range
(docs/scale-out.md, "The stream on a cluster"). Here, on a single node, a notification is
moved into range 1 in the transaction that sends it, as a worker node's write would number
it, in a database that held a row of range 1 when the web process started (as one restored
from a cluster would): the hub keeps a cursor per range, the ids a watermark per range, and
a resume replays each range from its own."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream
from tests.conftest import Database
from tests.web.streams import opened
from web.app import create_app
from web.notifications import Position

R1 = 1 << 48


def _open_send_in_range_1(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID, title: str, seq: int
) -> psycopg.Connection:
    """Send as the engine and give the row range 1's ``seq``, in a transaction left open
    (it holds an xid from the send on, as a writer does); the caller commits and closes."""
    conn = db.connect()
    conn.execute("select api.set_actor(p_org_id => %s, p_user_id => null)", (org_id,))
    conn.execute(
        "select api.send_notification(p_user_id => %s, p_category => 'deal', "
        "p_title => %s, p_message => 'm', p_channels => array['in_app'])",
        (user_id, title),
    )
    conn.execute("update app.notifications set seq = %s where title = %s", (seq, title))
    return conn


def _send_in_range_1(
    db: Database, org_id: uuid.UUID, user_id: uuid.UUID, title: str, seq: int
) -> None:
    with _open_send_in_range_1(db, org_id, user_id, title, seq) as conn:
        conn.commit()


@pytest.fixture
def stream_url(db: Database, two_orgs) -> Iterator[str]:
    """The stream app, started after org B's user got a notification of range 1."""
    _send_in_range_1(db, two_orgs.b.org_id, two_orgs.b.rep_ids[0], "range 1 exists", R1 + 1)
    app = create_app(db.dsn("intime_service"), stream_heartbeat=0.3, stream_reauth=0.5)
    with serve_in_thread(app) as url:
        yield url


def test_a_row_of_another_range_is_streamed_and_the_first_range_goes_on(
    stream_url, token_for, send, db, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        _send_in_range_1(db, two_orgs.a.org_id, sam, "from node 1", R1 + 10)
        first = stream.next()
        seq = send(sam, "from the coordinator")
        second = stream.next()
    assert json.loads(first.data)["title"] == "from node 1"
    assert json.loads(second.data)["title"] == "from the coordinator"
    # One part per range: range 0's "W" or "W.s1...", then range 1's.
    assert second.id is not None
    assert len(second.id.split("_")) == 2
    pos = Position.parse(second.id)
    assert all(pos.delivered(s) for s in (seq, R1 + 10))
    assert not pos.delivered(R1 + 11)


def test_a_late_commit_in_another_range_is_streamed(stream_url, token_for, db, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        # R1 + 19's writer is open while R1 + 20 commits and is read: a gap of range 1.
        early = _open_send_in_range_1(db, two_orgs.a.org_id, sam, "first", R1 + 19)
        try:
            _send_in_range_1(db, two_orgs.a.org_id, sam, "second", R1 + 20)
            assert json.loads(stream.next().data)["title"] == "second"
            time.sleep(1.0)  # several horizon reads: the gap stays open
            early.commit()
        finally:
            early.close()
        late = stream.next()
    assert json.loads(late.data)["title"] == "first"


def test_resume_replays_each_range_from_its_own_watermark(
    stream_url, token_for, send, db, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        _send_in_range_1(db, two_orgs.a.org_id, sam, "node 1, seen", R1 + 30)
        seen = stream.next()
    assert seen.id is not None
    missed_0 = send(sam, "coordinator, missed")
    _send_in_range_1(db, two_orgs.a.org_id, sam, "node 1, missed", R1 + 31)
    stream = SseStream(
        f"{stream_url}/notifications/stream", token=token_for(sam), last_event_id=seen.id
    )
    try:
        replayed = {json.loads(stream.next().data)["title"] for _ in range(2)}
        count = stream.next("unread_count")
    finally:
        stream.close()
    assert replayed == {"coordinator, missed", "node 1, missed"}
    assert count.id is not None
    pos = Position.parse(count.id)
    assert all(pos.delivered(s) for s in (missed_0, R1 + 30, R1 + 31))
    assert not pos.delivered(R1 + 32)
