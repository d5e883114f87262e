"""Regressions found by the review of the notification stream, each pinned.

Every scenario here lost, repeated or leaked an event, or answered 500, before
the fix it names.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from intime.db import actor
from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream
from tests.web.streams import open_send, opened, titles_within
from web.app import create_app


def _clients(url: str) -> int:
    return httpx.get(f"{url}/healthz").json()["stream"]["clients"]


def test_a_head_request_leaves_no_subscriber(stream_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    for _ in range(3):
        response = httpx.head(
            f"{stream_url}/notifications/stream", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
    assert _clients(stream_url) == 0


def test_closing_a_stream_removes_its_subscriber(stream_url, token_for, two_orgs) -> None:
    with opened(stream_url, token=token_for(two_orgs.a.rep_ids[1])):
        assert _clients(stream_url) == 1
    deadline = time.monotonic() + 5
    while _clients(stream_url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _clients(stream_url) == 0


@pytest.mark.parametrize(
    "value", ["\u00b2", "1.\u00b2", "-1", "1..2", "1." + ".".join(["2"] * 300)]
)
def test_a_malformed_last_event_id_is_a_400(stream_url, token_for, two_orgs, value) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream",
        params={"last_event_id": value, "access_token": token_for(two_orgs.a.rep_ids[1])},
    )
    assert response.status_code == 400


def test_a_nul_in_the_query_token_is_a_401(stream_url) -> None:
    response = httpx.get(f"{stream_url}/notifications/stream?access_token=ab%00cd")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "params", [{"before_seq": "99999999999999999999"}, {"limit": "99999999999"}, {"limit": "0"}]
)
def test_out_of_range_list_parameters_are_a_400(stream_url, token_for, two_orgs, params) -> None:
    response = httpx.get(
        f"{stream_url}/notifications",
        params=params,
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(("body", "status"), [(b"[" * 50_000, 400), (b"[" * 100_000, 413)])
def test_deeply_nested_or_huge_json_is_refused(stream_url, token_for, two_orgs, body, status):
    response = httpx.post(
        f"{stream_url}/notifications/read",
        content=body,
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}"},
    )
    assert response.status_code == status


def test_revoking_the_token_ends_an_open_stream(stream_url, service, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => 'x', p_user_id => %s)",
            (sam,),
        ).fetchone()
    assert row is not None
    with opened(stream_url, token=row[1]) as stream:
        with actor(service, two_orgs.a.org_id):
            service.execute("select api.revoke_api_token(p_token_id => %s)", (row[0],))
        time.sleep(1.0)  # the stream checks its token every 0.5 s here (60 s by default)
        send(sam, "after revocation")
        with pytest.raises(EOFError):
            stream.next(timeout=3)


def test_a_late_commit_below_the_last_id_is_replayed_on_resume(
    stream_url, db, token_for, send, two_orgs
) -> None:
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    token = token_for(sam)
    with opened(stream_url, token=token) as first:
        slow = open_send(db, org, sam, "slow")  # takes the lower seq, commits last
        send(sam, "fast")
        assert titles_within(first, 1) == ["fast"]
        resume_from = first.last_id
    slow.commit()
    slow.close()
    time.sleep(0.3)
    second = SseStream(f"{stream_url}/notifications/stream", token=token, last_event_id=resume_from)
    try:
        assert titles_within(second, 1.5) == ["slow"]  # once, and "fast" not again
    finally:
        second.close()


def test_a_transaction_open_across_hub_start_is_streamed(db, token_for, send, two_orgs) -> None:
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    token = token_for(sam)
    slow = open_send(db, org, sam, "in flight at startup")
    send(sam, "committed before startup")
    app = create_app(db.dsn("intime_service"), stream_heartbeat=0.3)
    with serve_in_thread(app) as url, opened(url, token=token) as stream:
        slow.commit()
        slow.close()
        assert titles_within(stream, 2) == ["in flight at startup"]


def test_a_collapse_that_waited_on_a_rolled_back_row_is_streamed(
    stream_url, db, token_for, send, two_orgs
) -> None:
    """T_B draws its seq, then waits on T_A's conflicting group row; T_A rolls back.

    Before the fix T_B had no xid while it waited, so a read taken meanwhile
    settled its seq as dead and its commit was never streamed.
    """
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream, db.connect(autocommit=True) as admin:
        t_a = open_send(db, org, sam, "A", group="g")
        t_b = db.connect("intime_service")
        pid = t_b.info.backend_pid
        done = threading.Event()

        def run_b() -> None:
            t_b.execute("select api.set_actor(p_org_id => %s, p_user_id => %s)", (org, sam))
            t_b.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => 'B', p_message => 'm', p_channels => array['in_app'], "
                "p_group_key => 'g')",
                (sam,),
            )
            done.set()

        thread = threading.Thread(target=run_b)
        thread.start()
        for _ in range(100):
            row = admin.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", (pid,)
            ).fetchone()
            if row and row[0] == "Lock":
                break
            time.sleep(0.05)
        else:
            raise AssertionError("T_B did not wait on T_A")
        send(sam, "C")
        assert titles_within(stream, 1) == ["C"]
        t_a.rollback()
        t_a.close()
        assert done.wait(5)
        send(sam, "D")  # a read while T_B is still open
        assert titles_within(stream, 1) == ["D"]
        t_b.commit()
        t_b.close()
        thread.join()
        assert titles_within(stream, 2) == ["B"]


def test_a_long_transaction_is_still_streamed(stream_url, db, token_for, send, two_orgs) -> None:
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        slow = open_send(db, org, sam, "long transaction")
        send(sam, "x1")
        time.sleep(1.5)
        send(sam, "x2")
        assert titles_within(stream, 1) == ["x1", "x2"]
        slow.commit()
        slow.close()
        assert titles_within(stream, 2) == ["long transaction"]


def test_resume_on_a_lagging_hub_does_not_repeat(
    stream_app, stream_url, db, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    stream_app.state.hub._reconnect_delay = 3.0  # the hub falls behind for 3 s
    with db.connect(autocommit=True) as admin:
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and query like 'listen %'"
        )
    time.sleep(0.2)
    with opened(stream_url, token=token) as first:
        start = first.last_id
    send(sam, "once")
    replaying = SseStream(f"{stream_url}/notifications/stream", token=token, last_event_id=start)
    try:
        assert titles_within(replaying, 1) == ["once"]  # from the table: the hub is behind
        resume_from = replaying.last_id
    finally:
        replaying.close()
    with opened(stream_url, token=token, last_event_id=resume_from) as again:
        assert titles_within(again, 4) == []  # the hub catches up: nothing twice


def test_a_burst_larger_than_the_queue_reaches_a_fast_reader(
    stream_url, service, token_for, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        with actor(service, two_orgs.a.org_id):
            service.execute(
                "select api.send_notification_bulk(p_user_ids => array[%s]::uuid[], "
                "p_category => 'deal', p_title => 'b' || g, p_message => 'm') "
                "from generate_series(1, 300) as g",
                (sam,),
            )
        titles = titles_within(stream, 5)
        health = httpx.get(f"{stream_url}/healthz").json()["stream"]
    assert len(titles) == 300
    assert len(set(titles)) == 300
    assert health["slow_consumers"] == 0
    assert health["overflows"] >= 1  # it overflowed, and caught up from the table


def test_the_server_stops_promptly_with_an_open_stream(db, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    app = create_app(db.dsn("intime_service"), stream_heartbeat=0.3)
    with serve_in_thread(app) as url:
        stream = SseStream(f"{url}/notifications/stream", token=token)
        stream.next("unread_count")
        started = time.monotonic()
    took = time.monotonic() - started
    stream.close()
    assert took < 5
