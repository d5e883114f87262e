"""The notification stream on the cluster (the seed's real-time criterion): the web app on
the coordinator streams a notification sent there and one a trigger wrote on a worker,
whose seq comes from that worker's range (docs/scale-out.md, "The stream on a cluster")."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from starlette.applications import Starlette

from intime import migrate, pgcluster
from intime.db import actor
from intime_cli.serving import serve_in_thread
from intime_cli.sse import SseStream
from tests.citus.conftest import Org, make_org
from web.app import create_app
from web.hub import seq_range
from web.notifications import Position

SEND = (
    "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => %s,"
    " p_message => 'm', p_channels => array['in_app'])"
)


@pytest.fixture
def app(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> Starlette:
    return create_app(
        citus.coordinator.dsn("intime", "intime_service"), stream_heartbeat=0.3, stream_reauth=5
    )


@pytest.fixture
def url(app: Starlette) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def org(citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]) -> Org:
    return make_org(citus, citus_db[0])


@pytest.fixture
def service(citus: pgcluster.PgCluster) -> Iterator[psycopg.Connection]:
    with psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as conn:
        yield conn


def _token(service: psycopg.Connection, org: Org) -> str:
    with actor(service, org.org_id):
        row = service.execute(
            "select token from api.create_api_token(p_name => 'sse', p_user_id => %s)",
            (org.login_user_id,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def _send(service: psycopg.Connection, org: Org, title: str) -> None:
    with actor(service, org.org_id, org.admin_id):
        service.execute(SEND, (org.login_user_id, title))


def _assign_task(service: psycopg.Connection, org: Org, subject: str) -> None:
    """A task assigned to the user: the built-in notification is written by the
    trigger on the worker that holds the org's shard."""
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(
            "insert into app.contacts (first_name, last_name, email) "
            "values ('Ada', 'Lovelace', %s) returning id",
            (f"ada-{uuid.uuid4().hex[:8]}@example.com",),
        ).fetchone()
        assert row is not None
        service.execute(
            "insert into app.activities (entity_type, entity_id, type, subject, assignee_id) "
            "values ('contact', %s, 'task', %s, %s)",
            (row[0], subject, org.login_user_id),
        )


def _seq(admin_dsn: str, org: Org, title_like: str) -> int:
    """The seq of the org's notification whose title or message is like ``title_like``."""
    with psycopg.connect(admin_dsn) as admin:
        row = admin.execute(
            "select seq from app.notifications where org_id = %s"
            " and (title like %s or message like %s)",
            (org.org_id, title_like, title_like),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _opened(url: str, token: str, last_event_id: str | None = None) -> SseStream:
    stream = SseStream(f"{url}/notifications/stream", token=token, last_event_id=last_event_id)
    assert stream.status_code == 200
    return stream


def test_a_notification_sent_on_the_coordinator_arrives_in_real_time(url, service, org) -> None:
    stream = _opened(url, _token(service, org))
    try:
        stream.next("unread_count")
        started = time.monotonic()
        _send(service, org, "Deal won")
        event = stream.next(timeout=5)
        took = time.monotonic() - started
    finally:
        stream.close()
    assert json.loads(event.data)["title"] == "Deal won"
    assert took < 5


def test_a_notification_a_worker_wrote_arrives_beside_the_coordinators(
    url, service, org, citus_db
) -> None:
    stream = _opened(url, _token(service, org))
    try:
        stream.next("unread_count")
        _assign_task(service, org, "Call Ada")
        from_worker = stream.next(timeout=5)
        _send(service, org, "After the task")
        from_coordinator = stream.next(timeout=5)
    finally:
        stream.close()
    worker_seq = _seq(citus_db[0], org, "%Call Ada%")
    coordinator_seq = _seq(citus_db[0], org, "After the task")
    # Two ranges: the worker's group and the coordinator's (0).
    assert seq_range(worker_seq) != 0
    assert seq_range(coordinator_seq) == 0
    assert "Call Ada" in json.loads(from_worker.data)["message"]
    assert json.loads(from_coordinator.data)["title"] == "After the task"
    assert from_coordinator.id is not None
    pos = Position.parse(from_coordinator.id)
    assert pos.delivered(worker_seq)
    assert pos.delivered(coordinator_seq)


def test_resume_on_the_cluster_replays_what_each_range_missed(url, service, org, citus_db) -> None:
    token = _token(service, org)
    stream = _opened(url, token)
    try:
        stream.next("unread_count")
        _send(service, org, "Seen")
        seen = stream.next(timeout=5)
    finally:
        stream.close()
    _assign_task(service, org, "Missed task")
    _send(service, org, "Missed send")
    stream = _opened(url, token, last_event_id=seen.id)
    try:
        replayed = [json.loads(stream.next(timeout=5).data) for _ in range(2)]
    finally:
        stream.close()
    assert "Missed send" in {n["title"] for n in replayed}
    assert any("Missed task" in n["message"] for n in replayed)


def test_a_rolled_back_send_leaves_a_gap_that_settles(app, url, service, org) -> None:
    stream = _opened(url, _token(service, org))
    try:
        stream.next("unread_count")
        with actor(service, org.org_id, org.admin_id):
            service.execute(SEND, (org.login_user_id, "Never"))
            raise psycopg.Rollback
        _send(service, org, "After the rollback")
        event = stream.next(timeout=5)
        hub = app.state.hub
        deadline = time.monotonic() + 10
        while hub.stats.gaps_open and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stream.close()
    assert json.loads(event.data)["title"] == "After the rollback"
    assert hub.stats.gaps_open == 0
    assert hub.stats.gaps_settled >= 1
