"""The inbox: listing, counts, marks, expiry, replay, isolation and hot-query plans."""

from __future__ import annotations

import hashlib
import json

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError
from tests.sql.notifications.conftest import Notifier
from tests.support import TwoOrgs


@pytest.fixture
def sam(notifier: Notifier, two_orgs):
    """A rep whose seeded notifications are archived: an empty inbox."""
    user = two_orgs.a.rep_ids[1]
    notifier.as_user(
        user, "select api.archive_notifications(array(select id from api.list_notifications()))"
    )
    return user


def _three(notifier: Notifier, user) -> list:
    return [
        notifier.send(user, category="deal", title=f"n{i}", message="m", channels=["in_app"])
        for i in range(3)
    ]


def _titles(notifier: Notifier, user, query: str = "select title from api.list_notifications()"):
    return [r["title"] for r in notifier.as_user(user, query)]


def test_the_list_is_newest_first_and_pages_by_seq(notifier: Notifier, sam) -> None:
    _three(notifier, sam)
    rows = notifier.as_user(sam, "select title, seq from api.list_notifications(p_limit => 2)")
    assert [r["title"] for r in rows] == ["n2", "n1"]
    rest = notifier.as_user(
        sam,
        "select title from api.list_notifications(p_before_seq => %s)",
        (rows[-1]["seq"],),
    )
    assert next(r["title"] for r in rest) == "n0"


def _send(notifier: Notifier, user, title: str, at: str, **params) -> None:
    notifier.at(at)
    try:
        notifier.send(
            user, category="deal", title=title, message="m", channels=["in_app"], **params
        )
    finally:
        notifier.at(None)


def test_the_list_is_in_the_order_announced_not_the_order_of_seqs(notifier: Notifier, sam) -> None:
    # On a cluster seqs come in a range per node: a later seq can be an older row.
    _send(notifier, sam, "later", "2030-01-01T10:00:00Z")
    _send(notifier, sam, "earlier", "2030-01-01T09:00:00Z")
    assert _titles(notifier, sam) == ["later", "earlier"]


def test_a_page_goes_on_after_its_last_row_by_time_and_seq(notifier: Notifier, sam) -> None:
    for title in ("a", "b", "c"):  # one instant: the seq breaks the tie
        _send(notifier, sam, title, "2030-01-01T09:00:00Z")
    _send(notifier, sam, "z", "2030-01-01T08:00:00Z")
    first = notifier.as_user(sam, "select * from api.list_notifications(p_limit => 2)")
    assert [r["title"] for r in first] == ["c", "b"]
    last = first[-1]
    by_pair = notifier.as_user(
        sam,
        "select title from api.list_notifications(p_before_at => %s, p_before_seq => %s)",
        (last["announced_at"], last["seq"]),
    )
    by_seq = notifier.as_user(
        sam, "select title from api.list_notifications(p_before_seq => %s)", (last["seq"],)
    )
    assert [r["title"] for r in by_pair] == [r["title"] for r in by_seq] == ["a", "z"]


def test_a_re_announced_group_moves_to_the_top(notifier: Notifier, sam) -> None:
    _send(notifier, sam, "grouped", "2030-01-01T09:00:00Z", group_key="g")
    _send(notifier, sam, "plain", "2030-01-01T10:00:00Z")
    _send(notifier, sam, "grouped again", "2030-01-01T11:00:00Z", group_key="g")
    rows = notifier.as_user(sam, "select title, announced_at from api.list_notifications()")
    assert [r["title"] for r in rows] == ["grouped again", "plain"]
    assert rows[0]["announced_at"].hour == 11


def test_a_page_after_a_row_re_announced_since_skips_nothing_older(notifier: Notifier, sam) -> None:
    _send(notifier, sam, "oldest", "2030-01-01T08:00:00Z")
    _send(notifier, sam, "older", "2030-01-01T09:00:00Z")
    _send(notifier, sam, "grouped", "2030-01-01T10:00:00Z", group_key="g")
    _send(notifier, sam, "newest", "2030-01-01T11:00:00Z")
    [*_, cut] = notifier.as_user(sam, "select seq from api.list_notifications(p_limit => 2)")
    _send(notifier, sam, "grouped again", "2030-01-01T12:00:00Z", group_key="g")
    rest = notifier.as_user(
        sam, "select title from api.list_notifications(p_before_seq => %s)", (cut["seq"],)
    )
    assert [r["title"] for r in rest] == ["older", "oldest"]


def test_a_time_alone_lists_the_rows_announced_before_it(notifier: Notifier, sam) -> None:
    for title in ("a", "b"):
        _send(notifier, sam, title, "2030-01-01T09:00:00Z")
    _send(notifier, sam, "z", "2030-01-01T08:00:00Z")
    rows = notifier.as_user(
        sam,
        "select title from api.list_notifications(p_before_at => '2030-01-01T09:00:00Z')",
    )
    assert [r["title"] for r in rows] == ["z"]


def test_a_seq_whose_range_holds_nothing_of_the_callers_gives_an_empty_page(
    notifier: Notifier, sam
) -> None:
    # (on a cluster: every row of the caller's that one node wrote is gone)
    _send(notifier, sam, "kept", "2030-01-01T09:00:00Z")
    rows = notifier.as_user(
        sam, "select title from api.list_notifications(p_before_seq => %s)", ((5 << 48) + 1,)
    )
    assert rows == []


def test_a_seq_below_one_is_refused(notifier: Notifier, sam) -> None:
    with pytest.raises(InvalidParameterError):
        notifier.as_user(sam, "select * from api.list_notifications(p_before_seq => 0)")


def test_the_stream_lists_seqs_below_a_position_in_its_range(notifier: Notifier, sam) -> None:
    _send(notifier, sam, "later", "2030-01-01T10:00:00Z")
    _send(notifier, sam, "earlier", "2030-01-01T09:00:00Z")
    seqs = [r["seq"] for r in notifier.as_user(sam, "select seq from api.list_notifications()")]
    below = notifier.as_user(
        sam, "select seq from api.list_notification_seqs(p_before_seq => %s)", (max(seqs) + 1,)
    )
    assert [r["seq"] for r in below] == sorted(seqs, reverse=True)


def test_unread_count_follows_reads(notifier: Notifier, sam) -> None:
    ids = _three(notifier, sam)
    count = "select api.count_unread_notifications() as n"
    assert notifier.as_user(sam, count)[0]["n"] == 3
    assert (
        notifier.as_user(sam, "select api.mark_notifications_read(%s) as n", ([ids[0]],))[0]["n"]
        == 1
    )
    assert notifier.as_user(sam, count)[0]["n"] == 2
    assert notifier.as_user(sam, "select api.mark_all_notifications_read() as n")[0]["n"] == 2
    assert notifier.as_user(sam, count)[0]["n"] == 0


def test_marking_someone_elses_notification_changes_nothing(
    notifier: Notifier, two_orgs, sam
) -> None:
    [nid, *_] = _three(notifier, sam)
    other = two_orgs.a.manager_id
    assert (
        notifier.as_user(other, "select api.mark_notifications_read(%s) as n", ([nid],))[0]["n"]
        == 0
    )
    assert (
        notifier.as_user(other, "select api.archive_notifications(%s) as n", ([nid],))[0]["n"] == 0
    )
    assert notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"] == 3


def test_seen_is_not_read(notifier: Notifier, sam) -> None:
    [nid, *_] = _three(notifier, sam)
    notifier.as_user(sam, "select api.mark_notifications_seen(%s)", ([nid],))
    [row] = notifier.as_user(
        sam, "select seen_at, read_at from api.list_notifications() where id = %s", (nid,)
    )
    assert row["seen_at"] is not None
    assert row["read_at"] is None


def test_archived_notifications_leave_the_inbox(notifier: Notifier, sam) -> None:
    [nid, *_] = _three(notifier, sam)
    notifier.as_user(sam, "select api.archive_notifications(%s)", ([nid],))
    assert "n0" not in _titles(notifier, sam)
    archived = "select title from api.list_notifications(p_archived => true, p_limit => 1)"
    assert _titles(notifier, sam, archived) == ["n0"]
    assert notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"] == 2


def test_unread_only_filters(notifier: Notifier, sam) -> None:
    ids = _three(notifier, sam)
    notifier.as_user(sam, "select api.mark_notifications_read(%s)", ([ids[1]],))
    assert _titles(
        notifier, sam, "select title from api.list_notifications(p_unread_only => true)"
    ) == ["n2", "n0"]


def test_expired_notifications_never_show_and_are_purged(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    nid = notifier.send(
        sam, category="deal", title="flash", message="m", expires_at="2026-06-10T13:00:00Z"
    )
    assert "flash" in _titles(notifier, sam)
    notifier.at("2026-06-10T13:00:00Z")
    assert "flash" not in _titles(notifier, sam)
    assert notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"] == 0
    purged = notifier.conn.execute("select api.purge_expired_notifications()").fetchone()
    assert purged == (1,)
    assert notifier.deliveries(nid) == {}


def test_replay_returns_what_was_missed_in_order(notifier: Notifier, sam) -> None:
    notifier.send(sam, category="deal", title="before", message="m")
    [mark] = notifier.as_user(sam, "select max(seq) as s from api.list_notifications()")
    _three(notifier, sam)
    rows = notifier.as_user(sam, "select * from api.replay_notifications(%s)", (mark["s"],))
    assert [r["notification"]["title"] for r in rows] == ["n0", "n1", "n2"]
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def test_replay_is_capped_to_the_newest(notifier: Notifier, sam) -> None:
    _three(notifier, sam)
    rows = notifier.as_user(sam, "select * from api.replay_notifications(0, 2)")
    assert [r["notification"]["title"] for r in rows] == ["n1", "n2"]


def test_a_login_sees_only_its_own_notifications(db, notifier: Notifier, two_orgs: TwoOrgs) -> None:
    login_user = two_orgs.a.rep_ids[0]
    notifier.send(two_orgs.a.manager_id, category="deal", title="for the manager", message="m")
    notifier.send(login_user, category="deal", title="for the rep", message="m")
    with db.connect(two_orgs.login_a) as conn:
        owners = {r[0] for r in conn.execute("select user_id from app.notifications").fetchall()}
        deliveries = {
            r[0] for r in conn.execute("select user_id from app.notification_deliveries").fetchall()
        }
        titles = [
            r[0] for r in conn.execute("select title from api.list_notifications()").fetchall()
        ]
    assert owners == deliveries == {login_user}
    assert "for the rep" in titles
    assert "for the manager" not in titles


def test_the_feed_is_for_the_service_only(db, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute("select * from api.read_notification_feed('{0}', 10)")
    assert caught.value.sqlstate == "IT002"


def test_the_feed_marks_rows_that_must_not_stream(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", channels=["email"])
    nid = notifier.send(sam, category="deal", title="email only", message="m")
    rows = notifier.conn.execute(
        "select org_id, notification from api.read_notification_feed('{0}', 1000) "
        "where notification is null or notification ->> 'id' = %s",
        (str(nid),),
    ).fetchall()
    assert len(rows) == 1
    assert rows[0][1] is None


def _plan(conn: psycopg.Connection, query: str, params: tuple) -> str:
    conn.execute("set enable_seqscan = off")
    try:
        rows = conn.execute(f"explain (format json) {query}", params).fetchall()
    finally:
        conn.execute("reset enable_seqscan")
    return json.dumps(rows[0][0])


def test_the_feed_query_reads_the_seq_index(notifier: Notifier) -> None:
    plan = _plan(
        notifier.owner,
        "select * from app.notifications where seq > %s order by seq limit 100",
        (0,),
    )
    assert "notifications_seq_key" in plan


def _history(notifier: Notifier, org_id, user_id, count: int = 2000) -> None:
    """A user's inbox of ``count`` read notifications, analyzed: the plans of a used inbox."""
    notifier.owner.execute(
        "insert into app.notifications (org_id, user_id, title, message, category, read_at) "
        "select %s, %s, 'old', 'm', 'deal', app.now() from generate_series(1, %s)",
        (org_id, user_id, count),
    )
    notifier.owner.execute("analyze app.notifications")


def test_the_unread_count_uses_the_partial_index(notifier: Notifier, two_orgs, sam) -> None:
    _history(notifier, two_orgs.a.org_id, sam)
    plan = _plan(
        notifier.owner,
        "select count(*) from app.notifications where org_id = %s and user_id = %s "
        "and read_at is null and archived_at is null",
        (two_orgs.a.org_id, sam),
    )
    assert "notifications_unread_idx" in plan


def test_the_inbox_page_reads_the_announced_index(notifier: Notifier, two_orgs, sam) -> None:
    _history(notifier, two_orgs.a.org_id, sam)
    plan = _plan(
        notifier.owner,
        "select id from app.notifications where org_id = %s and user_id = %s "
        "and (announced_at, seq) < (%s, %s) order by announced_at desc, seq desc limit 50",
        (two_orgs.a.org_id, sam, "infinity", 2**62),
    )
    assert "notifications_announced_idx" in plan
    assert "ROW(announced_at, seq) < ROW(" in plan  # the cursor bounds the scan
    assert '"Sort"' not in plan


def test_the_tick_scan_uses_the_due_index(notifier: Notifier) -> None:
    plan = _plan(
        notifier.owner,
        "select id from app.notification_deliveries where status = 'held' "
        "and deliver_after <= %s order by deliver_after limit 1000",
        ("2030-01-01",),
    )
    assert "notification_deliveries_due_idx" in plan


def test_marks_wake_the_stream_with_a_keyed_hash_of_the_user(
    db, notifier: Notifier, two_orgs, sam
) -> None:
    [nid, *_] = _three(notifier, sam)
    with db.connect("intime_service", autocommit=True) as listener:
        [(secret,)] = listener.execute("select secret from app.stream_secret").fetchall()
        listener.execute("listen app_notification_reads")
        with actor(notifier.conn, two_orgs.a.org_id, sam):
            notifier.conn.execute("select api.mark_notifications_read(%s)", ([nid],))
        got = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    key = hashlib.sha256(bytes(secret) + f"{two_orgs.a.org_id}:{sam}".encode()).hexdigest()[:32]
    assert got == [key]
    assert str(sam) not in got[0]


def test_a_login_cannot_read_the_stream_key(db, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select secret from app.stream_secret")


def test_login_cannot_learn_other_tenants_ids_from_reads(db, service, admin, two_orgs) -> None:
    b = Notifier(service, admin, two_orgs.b.org_id, two_orgs.b.admin_id)
    victim = two_orgs.b.rep_ids[1]
    nid = b.send(victim, category="deal", title="t", message="m", channels=["in_app"])
    with db.connect(two_orgs.login_a, autocommit=True) as spy:  # a member of org A
        spy.execute("listen app_notification_reads")
        b.as_user(victim, "select api.mark_notifications_read(%s)", ([nid],))
        got = [n.payload for n in spy.notifies(timeout=1, stop_after=1)]
    assert len(got) == 1  # a wake-up any role may see, but only a keyed hash
    assert str(victim) not in got[0]
    assert str(two_orgs.b.org_id) not in got[0]


def test_login_cannot_call_engine_internals(db, two_orgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select app._notification_release_held()")
