"""GET /notifications/stream over real uvicorn, read by an httpx streaming client:
subscribers go when their stream does, bad parameters and tokens are refused,
and no event is lost or repeated across resumes, late or long transactions,
hub restarts and bursts; the server stops promptly with a stream open."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import psycopg
import pytest

from intime.db import actor, open_pool
from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream
from tests.web.streams import Hooked, open_send, opened, titles_within
from web import notifications
from web import queries as q
from web.app import create_app, redact_access_log
from web.hub import NotificationHub, StreamEvent, Subscriber
from web.notifications import Position, _Stream
from web.rechecks import Credential
from web.sse import frame


def test_an_event_arrives_after_the_commit(stream_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        seq = send(sam, "Deal won")
        event = stream.next()
    assert event.id == str(seq)
    assert json.loads(event.data)["title"] == "Deal won"


def test_the_response_is_an_unbuffered_event_stream(stream_url, token_for, two_orgs) -> None:
    with opened(stream_url, token=token_for(two_orgs.a.rep_ids[1])) as stream:
        headers = stream.response_headers
    assert headers is not None
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["x-accel-buffering"] == "no"
    assert headers["cache-control"] == "no-store"


def test_the_stream_sets_retry_and_sends_heartbeats(stream_url, token_for, two_orgs) -> None:
    stream = SseStream(f"{stream_url}/notifications/stream", token=token_for(two_orgs.a.rep_ids[1]))
    try:
        assert stream.next("retry").retry == 3000
        stream.next("comment", timeout=3)  # the banner
        assert stream.next("comment", timeout=3).comment.startswith("ping")
    finally:
        stream.close()


def test_a_rolled_back_transaction_sends_nothing(stream_url, token_for, send, db, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        with db.connect("intime_service") as conn:
            conn.execute(
                "select api.set_actor(p_org_id => %s, p_user_id => %s)", (two_orgs.a.org_id, sam)
            )
            conn.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => 'never happened', p_message => 'm')",
                (sam,),
            )
            conn.rollback()
        send(sam, "committed")
        event = stream.next()
    assert json.loads(event.data)["title"] == "committed"


def test_resume_with_last_event_id_is_exact(stream_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    seqs = [send(sam, f"missed {i}") for i in range(4)]
    stream = SseStream(
        f"{stream_url}/notifications/stream", token=token_for(sam), last_event_id=seqs[0]
    )
    try:
        replayed = [int(stream.next().id or 0) for _ in range(3)]
        stream.next("unread_count")
        live = send(sam, "live")
        after = stream.next()
    finally:
        stream.close()
    assert replayed == seqs[1:]
    assert int(after.id or 0) == live


def test_two_users_only_get_their_own_events(stream_url, token_for, send, two_orgs) -> None:
    sam, morgan = two_orgs.a.rep_ids[1], two_orgs.a.manager_id
    with (
        opened(stream_url, token=token_for(sam)) as sams,
        opened(stream_url, token=token_for(morgan)) as morgans,
    ):
        send(morgan, "for morgan")
        send(sam, "for sam")
        assert sams.next_json()["title"] == "for sam"
        assert morgans.next_json()["title"] == "for morgan"
        assert sams.nothing_within(0.3)
        assert morgans.nothing_within(0.3)


def test_another_orgs_user_with_the_same_seq_range_sees_nothing(
    stream_url, token_for, send, two_orgs
) -> None:
    b_user = two_orgs.b.rep_ids[1]
    with opened(stream_url, token=token_for(b_user, two_orgs.b.org_id)) as stream:
        send(two_orgs.a.rep_ids[1], "org a only")
        assert stream.nothing_within(0.5)


@pytest.mark.parametrize("token", [None, "not-a-token", "it_" + "0" * 40])
def test_a_bad_or_missing_token_gets_401(stream_url, token) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_revoked_token_gets_401(stream_url, service, two_orgs) -> None:
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => 'gone', p_user_id => %s)",
            (two_orgs.a.rep_ids[1],),
        ).fetchone()
        assert row is not None
        service.execute("select api.revoke_api_token(p_token_id => %s)", (row[0],))
    response = httpx.get(
        f"{stream_url}/notifications/stream", headers={"Authorization": f"Bearer {row[1]}"}
    )
    assert response.status_code == 401


def _ticket(stream_url: str, token: str) -> str:
    response = httpx.post(
        f"{stream_url}/notifications/stream-ticket", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["expires_in"] == 60
    assert body["ticket"].startswith("itst_")
    return str(body["ticket"])


def test_a_stream_ticket_opens_the_stream_for_eventsource(
    stream_url, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, params={"ticket": _ticket(stream_url, token_for(sam))}) as stream:
        assert stream.status_code == 200
        send(sam, "via a stream ticket")
        assert stream.next_json()["title"] == "via a stream ticket"


def test_a_stream_ticket_is_single_use(stream_url, token_for, two_orgs) -> None:
    ticket = _ticket(stream_url, token_for(two_orgs.a.rep_ids[1]))
    with opened(stream_url, params={"ticket": ticket}) as stream:
        assert stream.status_code == 200
    again = httpx.get(f"{stream_url}/notifications/stream", params={"ticket": ticket})
    assert again.status_code == 401


def test_an_expired_stream_ticket_is_refused(stream_url, token_for, db, two_orgs) -> None:
    ticket = _ticket(stream_url, token_for(two_orgs.a.rep_ids[1]))
    with db.connect(autocommit=True) as owner:
        owner.execute("update app.stream_tickets set expires_at = now() - interval '1 second'")
    response = httpx.get(f"{stream_url}/notifications/stream", params={"ticket": ticket})
    assert response.status_code == 401


def test_a_token_holds_at_most_ten_unused_tickets(stream_url, token_for, two_orgs) -> None:
    """Review of issue 14: tickets were unbounded per token. The eleventh live unused one
    is a 429; using one makes room."""
    token = token_for(two_orgs.a.rep_ids[0])
    tickets = [_ticket(stream_url, token) for _ in range(10)]
    url = f"{stream_url}/notifications/stream-ticket"
    refused = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 429
    assert "10 live at most" in refused.json()["error"]
    with opened(stream_url, params={"ticket": tickets[0]}) as stream:
        assert stream.status_code == 200
    assert _ticket(stream_url, token).startswith("itst_")


def test_a_ticket_of_a_revoked_token_is_refused(stream_url, service, two_orgs) -> None:
    with actor(service, two_orgs.a.org_id):
        token_id, token = service.execute(
            "select token_id, token from api.create_api_token(p_name => 't', p_user_id => %s)",
            (two_orgs.a.rep_ids[1],),
        ).fetchone()
    ticket = _ticket(stream_url, token)
    with actor(service, two_orgs.a.org_id):
        service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
    response = httpx.get(f"{stream_url}/notifications/stream", params={"ticket": ticket})
    assert response.status_code == 401


def test_a_ticket_stream_lives_on_after_its_spent_ticket_is_purged(
    stream_url, token_for, db, send, two_orgs
) -> None:
    """Spent tickets are deleted an hour after they expire (api.create_stream_ticket). A
    stream opened with one stands on the token that made it, not on the ticket's row:
    it was ended at its next re-check, and its EventSource could not reconnect with the
    spent ticket."""
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, params={"ticket": _ticket(stream_url, token_for(sam))}) as stream:
        with db.connect(autocommit=True) as owner:
            owner.execute("delete from app.stream_tickets")
        time.sleep(1.0)  # the stream checks its token every 0.5 s here (60 s by default)
        send(sam, "after the purge")
        assert stream.next_json(timeout=3)["title"] == "after the purge"


def test_revoking_the_token_ends_a_stream_opened_with_its_ticket(
    stream_url, service, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with actor(service, two_orgs.a.org_id):
        token_id, token = service.execute(
            "select token_id, token from api.create_api_token(p_name => 't', p_user_id => %s)",
            (sam,),
        ).fetchone()
    with opened(stream_url, params={"ticket": _ticket(stream_url, token)}) as stream:
        with actor(service, two_orgs.a.org_id):
            service.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
        time.sleep(1.0)
        send(sam, "after revocation")
        with pytest.raises(EOFError):
            stream.next(timeout=3)


def test_a_stream_ticket_needs_a_bearer_token(stream_url) -> None:
    assert httpx.post(f"{stream_url}/notifications/stream-ticket").status_code == 401
    bad = httpx.post(
        f"{stream_url}/notifications/stream-ticket", headers={"Authorization": "Bearer itk_nope"}
    )
    assert bad.status_code == 401


def test_a_long_lived_token_in_the_query_is_refused(stream_url, token_for, two_orgs) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream",
        params={"access_token": token_for(two_orgs.a.rep_ids[1])},
    )
    assert response.status_code == 401
    assert "stream-ticket" in response.json()["error"]


def test_the_access_log_keeps_no_query_string() -> None:
    create_app_filter = logging.getLogger("uvicorn.access")
    redact_access_log()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/notifications/stream?ticket=itst_secret", "1.1", 200),
        None,
    )
    assert all(f.filter(record) for f in create_app_filter.filters)
    line = record.getMessage()
    assert "itst_secret" not in line
    assert "/notifications/stream?<redacted>" in line


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        ("/approvals/apl_" + "ab" * 32, "/approvals/apl_<redacted>"),
        ("/approvals/apl_" + "ab" * 32 + "?x=1", "/approvals/apl_<redacted>?<redacted>"),
        ("/u/unsub-secret", "/u/<redacted>"),
    ],
)
def test_the_access_log_keeps_no_token_that_is_a_path(path: str, kept: str) -> None:
    """An emailed approval link and an unsubscribe link carry their secret in the path."""
    redact_access_log()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", path, "1.1", 303),
        None,
    )
    assert all(f.filter(record) for f in logging.getLogger("uvicorn.access").filters)
    line = record.getMessage()
    assert "abab" not in line
    assert "unsub-secret" not in line
    assert kept in line


def test_a_malformed_last_event_id_is_a_400(stream_url, token_for, two_orgs) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream",
        headers={
            "Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}",
            "Last-Event-ID": "abc",
        },
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "value", ["\u00b2", "1.\u00b2", "-1", "1..2", "1." + ".".join(["2"] * 300)]
)
def test_a_malformed_last_event_id_in_the_query_is_a_400(
    stream_url, token_for, two_orgs, value
) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream",
        params={"last_event_id": value},
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}"},
    )
    assert response.status_code == 400


def test_restarting_the_listen_connection_loses_nothing(
    stream_url, token_for, send, db, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream, db.connect(autocommit=True) as admin:
        killed = admin.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = current_database() and query like 'listen %'"
        ).fetchone()
        assert killed == (1,)
        # Written while nobody listens: the NOTIFY is lost, the rows are not.
        seqs = [send(sam, f"during outage {i}") for i in range(3)]
        got = [int(stream.next(timeout=10).id or 0) for _ in range(3)]
        health = httpx.get(f"{stream_url}/healthz").json()
    assert got == seqs
    assert health["stream"]["reconnects"] >= 1


def test_reading_in_one_tab_updates_the_badge_in_another(
    stream_url, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    with opened(stream_url, token=token) as other_tab:
        send(sam, "read me")
        nid = other_tab.next_json()["id"]
        response = httpx.post(
            f"{stream_url}/notifications/read",
            json={"ids": [nid]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert response.json()["updated"] == 1
        badge = other_tab.next_json("unread_count")
    assert badge == {"unread_count": response.json()["unread_count"]}


def test_the_json_inbox_lists_and_marks_all_read(stream_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    headers = {"Authorization": f"Bearer {token_for(sam)}"}
    send(sam, "listed")
    listed = httpx.get(f"{stream_url}/notifications", params={"limit": 5}, headers=headers).json()
    assert listed["notifications"][0]["title"] == "listed"
    assert listed["unread_count"] >= 1
    done = httpx.post(f"{stream_url}/notifications/read", json={"all": True}, headers=headers)
    assert done.json()["unread_count"] == 0


@pytest.mark.parametrize("body", [b"[]", b'{"ids": ["not-a-uuid"]}', b'{"ids": []}', b"{"])
def test_a_bad_read_request_is_a_400(stream_url, token_for, two_orgs, body) -> None:
    response = httpx.post(
        f"{stream_url}/notifications/read",
        content=body,
        headers={"Authorization": f"Bearer {token_for(two_orgs.a.rep_ids[1])}"},
    )
    assert response.status_code == 400


def test_a_full_queue_drops_to_a_catch_up_without_touching_others() -> None:
    async def scenario() -> tuple[list[bool], bool, str | None, int]:
        slow = Subscriber((uuid.uuid4(), uuid.uuid4()), queue_size=2)
        fast = Subscriber(slow.key, queue_size=2)
        accepted = [slow.offer(StreamEvent("notification", "{}", i)) for i in range(4)]
        fast.offer(StreamEvent("notification", "{}", 1))
        return accepted, slow.overflowed, slow.closed_reason, fast.queue.qsize()

    accepted, overflowed, reason, fast_size = asyncio.run(scenario())
    assert accepted == [True, True, False, False]  # kept what was queued, dropped the rest
    assert overflowed
    assert reason is None  # one burst is not a slow consumer: the stream catches up
    assert fast_size == 1


def test_a_consumer_that_keeps_overflowing_is_cut_off() -> None:
    async def scenario() -> list:
        sub = Subscriber((uuid.uuid4(), uuid.uuid4()), queue_size=1)
        for episode in range(3):
            sub.offer(StreamEvent("notification", "{}", 2 * episode))
            sub.offer(StreamEvent("notification", "{}", 2 * episode + 1))  # overflows
            sub.caught_up()  # the stream read the table, but never drained its queue
        return [sub.closed_reason, *(sub.queue.get_nowait() for _ in range(sub.queue.qsize()))]

    assert asyncio.run(scenario()) == ["slow consumer", None]


def test_many_notifications_arrive_in_order(stream_url, token_for, service, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        with actor(service, two_orgs.a.org_id):
            service.execute(
                "select api.send_notification_bulk(p_user_ids => array[%s]::uuid[], "
                "p_category => 'deal', p_title => 'bulk', p_message => 'm')",
                (sam,),
            )
        for i in range(20):
            with actor(service, two_orgs.a.org_id):
                service.execute(
                    "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                    "p_title => %s, p_message => 'm')",
                    (sam, f"n{i}"),
                )
        deadline = time.monotonic() + 10
        seqs = []
        while len(seqs) < 21 and time.monotonic() < deadline:
            seqs.append(int(stream.next().id or 0))
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 21


def _notifies_within(conn: psycopg.Connection, seconds: float) -> int:
    return len(list(conn.notifies(timeout=seconds, stop_after=1)))


def test_a_write_notifies_when_no_hub_polls(db, send, two_orgs) -> None:
    with db.connect("intime_service", autocommit=True) as listener:
        listener.execute("listen app_notifications")
        send(two_orgs.a.rep_ids[1], "wake up")
        assert _notifies_within(listener, 2) == 1


def _wait_until_polling(db) -> bool:
    """True once a hub has registered as polling (its heartbeat is its own write, so on
    a loaded machine it can commit after the next notification's write)."""
    deadline = time.monotonic() + 1.0
    with db.connect(autocommit=True) as admin:
        while time.monotonic() < deadline:
            row = admin.execute(
                "select coalesce(bool_or(polling_until > clock_timestamp() + interval '0.35 s'),"
                " false) from app.stream_hubs"
            ).fetchone()
            if row == (True,):
                return True
            time.sleep(0.005)
    return False


def _wait_until_idle(db) -> bool:
    """True once no hub is polling (it lingers 0.5 s after its last rows)."""
    deadline = time.monotonic() + 5
    with db.connect(autocommit=True) as admin:
        while time.monotonic() < deadline:
            row = admin.execute(
                "select coalesce(bool_or(polling_until > clock_timestamp()), false) "
                "from app.stream_hubs"
            ).fetchone()
            if row == (False,):
                return True
            time.sleep(0.05)
    return False


def test_a_busy_hub_reads_new_rows_by_polling_and_goes_idle_again(
    stream_url, db, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        assert _wait_until_idle(db)  # the seed's writes made it busy
        with db.connect("intime_service", autocommit=True) as listener:
            listener.execute("listen app_notifications")
            # A write wakes the idle hub, which then polls for a while (0.6 s at most).
            # On a loaded machine the window can pass before the next write: wake it
            # again until one starts with 0.35 s to spare.
            for attempt in range(8):
                send(sam, f"wake {attempt}")
                assert stream.next_json()["title"] == f"wake {attempt}"
                assert _notifies_within(listener, 1) == 1
                if _wait_until_polling(db):
                    break
            else:
                pytest.fail("the hub never polled with 0.35 s to spare")
            send(sam, "second")
            assert stream.next_json(timeout=2)["title"] == "second"
        assert _wait_until_idle(db)  # and it goes idle again


def test_a_write_skips_its_notify_while_every_live_hub_polls(db, send, two_orgs) -> None:
    """The skip itself, without the timing of a real hub's window (a loaded CI machine
    let a real window close between the check and the write): one live hub, polling
    for an hour."""
    with db.connect(autocommit=True) as admin:
        admin.execute(
            "insert into app.stream_hubs (hub_id, polling_until, seen_at) values "
            "(gen_random_uuid(), clock_timestamp() + interval '1 hour', clock_timestamp())"
        )
    with db.connect("intime_service", autocommit=True) as listener:
        listener.execute("listen app_notifications")
        send(two_orgs.a.rep_ids[1], "polled, not announced")
        assert _notifies_within(listener, 0.5) == 0  # no NOTIFY, no commit lock


def test_a_stale_hub_does_not_silence_writes(db, send, two_orgs) -> None:
    with db.connect(autocommit=True) as admin:
        admin.execute(
            "insert into app.stream_hubs (hub_id, polling_until, seen_at) values "
            "(gen_random_uuid(), clock_timestamp() + interval '1 hour', "
            "clock_timestamp() - interval '10 seconds')"
        )
    with db.connect("intime_service", autocommit=True) as listener:
        listener.execute("listen app_notifications")
        send(two_orgs.a.rep_ids[1], "still heard")
        assert _notifies_within(listener, 2) == 1


def test_a_login_cannot_register_a_hub(db, two_orgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.Error) as caught:
        conn.execute(
            "select api.renew_stream_hub(p_hub_id => gen_random_uuid(), "
            "p_polling_for => interval '1 minute')"
        )
    assert caught.value.sqlstate == "IT002"


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


def test_a_nul_in_the_query_token_is_a_401(stream_url) -> None:
    response = httpx.get(f"{stream_url}/notifications/stream?access_token=ab%00cd")
    assert response.status_code == 401


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


def test_healthz_counts_the_open_streams_re_checks(stream_url, token_for, two_orgs) -> None:
    """Three streams checking every 0.5 s (the stream app) go through the app's shared
    checker (web/rechecks.py; that checks coming together share a call is tested there)."""
    tokens = [token_for(user) for user in two_orgs.a.rep_ids[:3]]
    with contextlib.ExitStack() as streams:
        for token in tokens:
            streams.enter_context(opened(stream_url, token=token))
        time.sleep(2.0)
        rechecks = httpx.get(f"{stream_url}/healthz", timeout=5).json()["stream"]["rechecks"]
    assert rechecks["checked"] >= 6
    assert 1 <= rechecks["calls"] <= rechecks["checked"]
    assert rechecks["busy"] == 0


def test_one_logins_open_transaction_on_its_token_holds_no_other_orgs_stream(
    stream_url, token_for, send, db, admin, two_orgs
) -> None:
    """Review of the shared re-checks: a SQL login left a revoke of its own token open
    (its row locked); the call that checks every stream of the process waited on that
    row to record the token's use, and org B's stream got nothing until the rollback."""
    victim = two_orgs.b.rep_ids[0]
    with db.connect(two_orgs.login_a) as login:
        token_id, token = login.execute(
            "select token_id, token from api.create_api_token(p_name => 'mine')"
        ).fetchone()
        login.commit()
        with (
            opened(stream_url, token=token_for(victim, two_orgs.b.org_id)) as stream,
            opened(stream_url, token=token),
        ):
            admin.execute(
                "update app.api_tokens set last_used_at = now() - interval '2 minutes' "
                "where id = %s",
                (token_id,),
            )
            login.execute("select api.revoke_api_token(p_token_id => %s)", (token_id,))
            try:
                time.sleep(1.5)  # re-checks every 0.5 s here
                send(victim, "to org B", org_id=two_orgs.b.org_id)
                assert stream.next_json(timeout=4)["title"] == "to org B"
            finally:
                login.rollback()


def test_an_idle_stream_re_checks_its_token_with_no_heartbeat_to_wake_it(
    db, service, two_orgs
) -> None:
    """The hub's wheel wakes a stream whose re-check is due (no timer per stream): with
    no event and no heartbeat in between (30 s apart here), revoking its token still
    ends it within the 0.5 s interval."""
    app = create_app(db.dsn("intime_service"), stream_heartbeat=30, stream_reauth=0.5)
    with actor(service, two_orgs.a.org_id):
        row = service.execute(
            "select token_id, token from api.create_api_token(p_name => 'x', p_user_id => %s)",
            (two_orgs.a.rep_ids[1],),
        ).fetchone()
    assert row is not None
    with serve_in_thread(app) as url, opened(url, token=row[1]) as stream:
        with actor(service, two_orgs.a.org_id):
            service.execute("select api.revoke_api_token(p_token_id => %s)", (row[0],))
        revoked = time.monotonic()
        with pytest.raises(EOFError):
            stream.next(timeout=10)
        assert time.monotonic() - revoked < 3


@contextlib.contextmanager
def _stuck_recheck(db, monkeypatch, token: str) -> Iterator[tuple[SseStream, float]]:
    """A stream (re-checks every 4 s, at the earliest point: 2 s after it opened, then its
    deadline at 4 s) whose re-check takes 30 s (a database that long busy); and when it
    opened."""

    async def stuck(credential: Credential) -> bool:
        await asyncio.sleep(30)
        return True

    monkeypatch.setattr(notifications.random, "uniform", lambda low, high: low)
    app = create_app(db.dsn("intime_service"), stream_heartbeat=30, stream_reauth=4.0)
    with serve_in_thread(app) as url:
        monkeypatch.setattr(app.state.credential_checks, "check", stuck)
        started = time.monotonic()
        with opened(url, token=token) as stream:
            yield stream, started


def test_a_stream_goes_on_writing_while_its_re_check_waits(
    db, monkeypatch, token_for, send, two_orgs
) -> None:
    """Its re-check started at 2 s and waits for a slot: a notification at 3 s arrives at
    once, not after the check (a second, with 10,000 streams checking)."""
    sam = two_orgs.a.rep_ids[1]
    with _stuck_recheck(db, monkeypatch, token_for(sam)) as (stream, started):
        time.sleep(max(0.0, started + 3.0 - time.monotonic()))
        send(sam, "while checking")
        assert stream.next_json(timeout=0.8)["title"] == "while checking"
        assert time.monotonic() - started < 4.0


def test_a_stream_writes_nothing_past_its_deadline_until_a_re_check_is_done(
    db, monkeypatch, token_for, send, two_orgs
) -> None:
    """Last verified when it opened; at 4 s, with its re-check still waiting, a
    notification is held back: a revoked credential gets nothing once unverified for a
    whole interval."""
    sam = two_orgs.a.rep_ids[1]
    with _stuck_recheck(db, monkeypatch, token_for(sam)) as (stream, started):
        time.sleep(max(0.0, started + 4.5 - time.monotonic()))
        send(sam, "past the deadline")
        assert stream.nothing_within(1.5)


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


def test_a_new_streams_first_id_covers_what_came_before_it(
    stream_url, db, token_for, send, two_orgs
) -> None:
    """A lower seq still open holds the hub's watermark below "fast", which the hub fanned
    out before the stream opened. The stream does not send "fast" (it came before the
    stream), and its first id says so: a resume from it replays "slow" alone. Before,
    the id left "fast" out and a later resume counted it delivered (the soak's missing
    seq 118 on both webs); a first fix sent "fast" on every new stream while the gap
    stayed open (the review's reloads)."""
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    token = token_for(sam)
    slow = open_send(db, org, sam, "slow")  # takes the lower seq, commits last
    send(sam, "fast")
    time.sleep(0.5)  # the hub reads "fast" with nobody subscribed
    with opened(stream_url, token=token) as first:
        first_id = first.last_id
        assert titles_within(first, 0.5) == []
    slow.commit()
    slow.close()
    time.sleep(0.3)
    with opened(stream_url, token=token) as fresh:
        assert titles_within(fresh, 0.5) == []  # a reload: nothing old again
    resumed = SseStream(f"{stream_url}/notifications/stream", token=token, last_event_id=first_id)
    try:
        assert titles_within(resumed, 1.5) == ["slow"]
    finally:
        resumed.close()


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
            t_b.execute("select api.set_actor(p_org_id => %s, p_user_id => null)", (org,))
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


def test_a_seq_held_by_a_younger_xid_is_streamed(stream_url, db, token_for, two_orgs) -> None:
    """T takes its xid first, H second; H draws the lower seq, T the higher and commits.
    A snapshot's xmax is the latest completed xid + 1, so H's xid was not below it and
    its xmin could equal H's: the hub tagged the gap with that xmax and settled it at
    once while H still ran; H's commit was never streamed (the soak's missing seqs
    108 and 109 on web-2). The hub now tags a gap with an xid it draws itself."""
    org, sam = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    with opened(stream_url, token=token_for(sam)) as stream:
        t = db.connect("intime_service")
        try:
            t.execute("select api.set_actor(p_org_id => %s, p_user_id => null)", (org,))
            t.execute("select pg_current_xact_id()")
            h = open_send(db, org, sam, "late")  # an xid after T's, the lower seq
            t.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => 'early', p_message => 'm', p_channels => array['in_app'])",
                (sam,),
            )
            t.commit()
            assert titles_within(stream, 1) == ["early"]
            h.commit()
            h.close()
            assert titles_within(stream, 1.5) == ["late"]
        finally:
            t.close()


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


def test_the_replay_and_its_unread_count_read_one_snapshot(db, service, send, two_orgs) -> None:
    """A notification that commits between the replay's rows and its count is
    in neither: it arrives live, and the badge counts it once, not twice."""
    sam = two_orgs.a.rep_ids[1]
    head = send(sam, "sent before the stream")
    with actor(service, two_orgs.a.org_id, sam):
        before = service.execute("select api.count_unread_notifications()").fetchone()

    async def scenario() -> tuple[list[bytes], int]:
        pool = await open_pool(db.dsn("intime_service"), max_size=1, autocommit=True)
        try:
            hooked = Hooked(
                pool,
                q.REPLAY_NOTIFICATIONS,
                lambda: asyncio.to_thread(send, sam, "committed in between"),
            )
            stream = _bare_stream(hooked, two_orgs, sam)
            return await stream.replay(Position({0: head}), {0: head})
        finally:
            await pool.close()

    backlog, unread = asyncio.run(scenario())
    assert backlog == []
    assert before is not None
    assert unread == before[0]  # the one committed in between is on its way live


def test_a_position_holding_many_seqs_replays_within_the_functions_limit(
    db, send, two_orgs
) -> None:
    """A stream that delivered 600 seqs above a seq still open replays (its query's
    limit stays within api.replay_notifications' 1,000) instead of ending."""
    sam = two_orgs.a.rep_ids[1]
    head = send(sam, "before")

    async def scenario() -> tuple[list[bytes], int]:
        pool = await open_pool(db.dsn("intime_service"), max_size=1, autocommit=True)
        try:
            stream = _bare_stream(pool, two_orgs, sam)
            pos = Position({0: head - 1}, set(range(head, head + 600)))
            return await stream.replay(pos, {0: head})
        finally:
            await pool.close()

    backlog, unread = asyncio.run(scenario())
    assert backlog == []  # "before" is in the position already
    assert unread >= 1


def _bulk(db, send, user, count: int) -> list[int]:
    """``count`` more notifications like a sent one, inserted at once: the user's seqs."""
    first = send(user, "template")
    with db.connect() as owner:
        owner.execute(
            "insert into app.notifications overriding system value "
            "select (jsonb_populate_record(n, jsonb_build_object('id', gen_random_uuid(), "
            "'seq', nextval(pg_get_serial_sequence('app.notifications', 'seq')), "
            "'title', 'bulk ' || g))).* "
            "from app.notifications as n, generate_series(1, %s) as g where n.seq = %s "
            "order by g",
            (count, first),
        )
        rows = owner.execute(
            "select seq from app.notifications where user_id = %s and seq >= %s order by seq",
            (user, first),
        ).fetchall()
    return [r[0] for r in rows]


def _replay(db, two_orgs, user, pos: Position, floor: int) -> tuple[int, int]:
    """(resets, notifications) that a stream's replay from ``pos`` sends."""

    async def scenario() -> list[bytes]:
        pool = await open_pool(db.dsn("intime_service"), max_size=1, autocommit=True)
        try:
            stream = _bare_stream(pool, two_orgs, user)
            return (await stream.replay(pos, {0: floor}))[0]
        finally:
            await pool.close()

    backlog = asyncio.run(scenario())
    resets = sum(1 for b in backlog if b.startswith(b"event: reset"))
    return resets, sum(1 for b in backlog if b"event: notification" in b)


def test_a_replay_that_cannot_reach_every_missed_row_resets_the_client(db, send, two_orgs) -> None:
    """The 600 newest delivered, the 500 before them not: the fetch (1,000 at most)
    reaches only 400 of those, so the client is told to reload."""
    sam = two_orgs.a.rep_ids[1]
    seqs = _bulk(db, send, sam, 1100)
    assert _replay(db, two_orgs, sam, Position({0: seqs[0]}, set(seqs[-600:])), seqs[-1]) == (
        1,
        400,
    )


def test_a_replay_whose_full_fetch_left_nothing_missed_below_does_not_reset(
    db, send, two_orgs
) -> None:
    """All 1,100 above the watermark delivered (a seq long in flight below them): the
    fetch is full and sends nothing, and nothing below it was missed either."""
    sam = two_orgs.a.rep_ids[1]
    seqs = _bulk(db, send, sam, 1100)
    assert _replay(db, two_orgs, sam, Position({0: seqs[0]}, set(seqs[1:])), seqs[-1]) == (0, 0)


def test_a_replay_finds_a_missed_row_pages_below_its_full_fetch(db, send, two_orgs) -> None:
    """One missed row 1,600 below the newest, the others delivered: the fetch of the
    newest 1,000 sends nothing, and the pages below it find the missed one: reset."""
    sam = two_orgs.a.rep_ids[1]
    seqs = _bulk(db, send, sam, 1700)
    assert _replay(db, two_orgs, sam, Position({0: seqs[0]}, set(seqs[2:])), seqs[-1]) == (1, 0)


def test_a_new_stream_is_not_reset_after_the_newest_row_was_purged(db, send, two_orgs) -> None:
    """The hub read the newest notification, which then expired and was purged: the
    table's highest seq is below the hub's watermark, where a new stream starts. That is
    not a position from another database (a reset would reload the console at once)."""
    sam = two_orgs.a.rep_ids[1]
    newest = send(sam, "expires")
    with db.connect() as owner:
        owner.execute("delete from app.notifications where seq = %s", (newest,))
    assert _replay(db, two_orgs, sam, Position({0: newest}), newest) == (0, 0)


def test_a_position_above_the_table_and_the_hub_is_reset(db, send, two_orgs) -> None:
    """A Last-Event-ID from another database (a restore, a failover): above both the
    table's highest seq and the hub's watermark."""
    sam = two_orgs.a.rep_ids[1]
    newest = send(sam, "here")
    assert _replay(db, two_orgs, sam, Position({0: newest + 1000}), newest) == (1, 0)


def test_a_slow_reader_gets_no_more_of_its_backlog_once_a_check_saw_the_credential_revoked() -> (
    None
):
    """The first replay's 20 rows go out one by one to a client that takes 50 ms a
    frame; the check that starts meanwhile finds the token revoked: no frame after it."""

    async def scenario(patch: pytest.MonkeyPatch) -> tuple[list[float], float]:
        stream = _unstarted_hub_stream(reauth_every=1.0)
        refused: list[float] = []

        async def replay(pos: Position, floor: int, before: Any = None) -> tuple[list[bytes], int]:
            return [frame(event="notification", data=str(i)) for i in range(20)], 0

        async def still_authorized() -> bool:
            await asyncio.sleep(0.1)
            refused.append(time.monotonic())
            return False

        patch.setattr(stream, "replay", replay)
        patch.setattr(stream, "still_authorized", still_authorized)
        written: list[float] = []
        async for chunk in stream._events():
            if b"event: notification" in chunk:
                written.append(time.monotonic())
            await asyncio.sleep(0.05)
        return written, refused[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notifications.random, "uniform", lambda low, high: low)
        written, refused = asyncio.run(scenario(patch))
    assert written  # the check starts at 0.5 s: some went out before it
    assert len(written) < 20
    assert max(written) <= refused


def test_a_catch_up_writes_nothing_once_a_check_saw_the_credential_revoked() -> None:
    """An overflow's catch-up replay waits for a connection while the re-check finds the
    token revoked: the stream ends before writing what the replay read."""

    async def scenario(patch: pytest.MonkeyPatch) -> list[bytes]:
        stream = _unstarted_hub_stream(reauth_every=2.0)
        replays: list[float] = []

        async def replay(pos: Position, floor: int, before: Any = None) -> tuple[list[bytes], int]:
            replays.append(time.monotonic())
            if len(replays) == 1:
                return [], 0
            await asyncio.sleep(0.8)  # a busy pool
            return [frame(event="notification", data="from the catch-up")], 0

        async def still_authorized() -> bool:
            await asyncio.sleep(0.2)
            return False

        patch.setattr(stream, "replay", replay)
        patch.setattr(stream, "still_authorized", still_authorized)
        written: list[bytes] = []

        async def read() -> None:
            async for chunk in stream._events():
                written.append(chunk)

        reader = asyncio.create_task(read())
        await asyncio.sleep(1.2)  # the check is due (at 1 s: the lowest point; deadline 2 s)
        assert stream.sub is not None
        for seq in range(1, 300):  # past the queue's 256: the stream catches up
            stream.sub.offer(StreamEvent("notification", "", seq, seq, b"data: {}\r\n\r\n"))
        await asyncio.wait_for(reader, 5)
        return written

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(notifications.random, "uniform", lambda low, high: low)
        written = asyncio.run(scenario(patch))
    assert len(written) > 200  # the queued events went out while the check ran
    assert not any(b"from the catch-up" in chunk for chunk in written)


def _unstarted_hub_stream(reauth_every: float) -> _Stream:
    """A stream on a hub that was never started (no pool, no wheel): for tests that stub
    its replay and its credential check and drive its queue themselves."""
    return _Stream(
        pool=cast(Any, None),
        hub=NotificationHub("", cast(Any, None), heartbeat=30),
        user_id=uuid.uuid4(),
        credential=Credential(uuid.uuid4(), uuid.uuid4()),
        checks=cast(Any, None),
        resume=None,
        reauth_every=reauth_every,
    )


def _bare_stream(pool: Any, two_orgs, user) -> _Stream:
    """A stream of org A's ``user`` on ``pool`` with no hub: for its replay alone."""
    return _Stream(
        pool=pool,
        hub=None,
        user_id=user,
        credential=Credential(two_orgs.a.org_id, uuid.uuid4()),
        checks=cast(Any, None),
        resume=None,
        reauth_every=60.0,
    )
