"""The web app and a database that drops connections or goes away.

Regressions from issue 12: after ``pg_terminate_backend`` on the web's
connections it answered a burst of 500s (its pool had no ``check``), and a
database outage was a 500 on every route but /healthz (which had no
Retry-After). The gateway and Resend retry 500s forever; 503 with Retry-After
says "later".
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.support import Database, event
from tests.web.conftest import INBOUND_TOKEN
from tests.web.test_resend_webhook import signed

SERVICE_BACKENDS = (
    "select pid from pg_stat_activity where datname = current_database() "
    "and usename = 'intime_service' and pid <> all(%s)"
)


def _burst(url: str, token: str, count: int = 16) -> list[int]:
    def one(_: int) -> int:
        return httpx.get(
            f"{url}/notifications", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_requests_after_the_web_connections_are_terminated_all_succeed(
    serve, admin: psycopg.Connection, service: psycopg.Connection, token_for, two_orgs
) -> None:
    url = serve()
    token = token_for(two_orgs.a.rep_ids[0])
    assert _burst(url, token) == [200] * 16  # the pool grows to several connections
    keep = [admin.info.backend_pid, service.info.backend_pid]
    pids = [row[0] for row in admin.execute(SERVICE_BACKENDS, (keep,))]
    assert len(pids) >= 3, pids
    admin.execute("select pg_terminate_backend(pid) from unnest(%s::int[]) as pid", (pids,))
    deadline = time.monotonic() + 10
    while {row[0] for row in admin.execute(SERVICE_BACKENDS, (keep,))} & set(pids):
        assert time.monotonic() < deadline, "the backends did not go away"
        time.sleep(0.05)
    assert _burst(url, token) == [200] * 16


def test_webhooks_after_the_web_connections_are_terminated_all_succeed(
    serve, admin: psycopg.Connection, service: psycopg.Connection
) -> None:
    """The webhook's pool trusts a connection used within the last second without a
    check (web/pools.py): one found dead by its statement is replaced and the event
    tried again, so no event in the burst is answered 503."""
    url = serve()

    def burst() -> list[int]:
        def one(_: int) -> int:
            body = json.dumps(event("email.delivered", f"re_unknown_{uuid.uuid4().hex}"))
            return httpx.post(
                f"{url}/webhooks/resend", content=body, headers=signed(body), timeout=30
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(16)))

    assert burst() == [200] * 16
    keep = [admin.info.backend_pid, service.info.backend_pid]
    pids = [row[0] for row in admin.execute(SERVICE_BACKENDS, (keep,))]
    admin.execute("select pg_terminate_backend(pid) from unnest(%s::int[]) as pid", (pids,))
    deadline = time.monotonic() + 10
    while {row[0] for row in admin.execute(SERVICE_BACKENDS, (keep,))} & set(pids):
        assert time.monotonic() < deadline, "the backends did not go away"
        time.sleep(0.05)
    assert burst() == [200] * 16


@pytest.fixture
def outage(db: Database) -> Iterator[None]:
    """No new connection to the test database, and every open one terminated."""
    with psycopg.connect(db.server.dsn(), autocommit=True) as server:
        server.execute(f'alter database "{db.name}" allow_connections false')
        try:
            server.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (db.name,),
            )
            yield
        finally:
            server.execute(f'alter database "{db.name}" allow_connections true')


def test_every_route_answers_503_with_retry_after_when_the_database_is_unavailable(
    serve, token_for, two_orgs, fake_resend, request
) -> None:
    url = serve(db_timeout=1)
    token = token_for(two_orgs.a.rep_ids[0])
    bearer = {"Authorization": f"Bearer {token}"}
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@corp.example>\r\nFrom: client@corp.example\r\n"
        "To: sales@mail.acme.example\r\nSubject: s\r\n\r\nhello\r\n"
    ).encode()
    delivered = json.dumps(event("email.delivered", "re_unknown"))
    fake_resend.received["rcv_1"] = {
        "from": "client@corp.example",
        "to": ["sales@mail.acme.example"],
        "message_id": f"<{uuid.uuid4().hex}@corp.example>",
        "subject": "s",
        "text": "hello",
    }
    received = json.dumps({"type": "email.received", "data": {"email_id": "rcv_1"}})
    calls = {
        "GET /healthz": lambda c: c.get("/healthz"),
        "GET /notifications": lambda c: c.get("/notifications", headers=bearer),
        "POST /notifications/read": lambda c: c.post(
            "/notifications/read", json={"all": True}, headers=bearer
        ),
        "GET /u/{token}": lambda c: c.get("/u/some-token"),
        "POST /u/{token}": lambda c: c.post("/u/some-token"),
        "POST /webhooks/inbound (gateway)": lambda c: c.post(
            "/webhooks/inbound",
            content=raw,
            headers={"content-type": "message/rfc822", "authorization": f"Bearer {INBOUND_TOKEN}"},
        ),
        "POST /webhooks/inbound (Resend)": lambda c: c.post(
            "/webhooks/inbound", content=received, headers=signed(received)
        ),
        "POST /webhooks/resend": lambda c: c.post(
            "/webhooks/resend", content=delivered, headers=signed(delivered)
        ),
    }
    request.getfixturevalue("outage")
    answers: dict[str, tuple[int | str, bool]] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, call in calls.items():
            try:
                response = call(client)
            except httpx.TransportError as exc:  # e.g. a connection reset
                answers[name] = (type(exc).__name__, False)
                continue
            answers[name] = (response.status_code, "retry-after" in response.headers)
        with client.stream("GET", "/notifications/stream", headers=bearer) as response:
            answers["GET /notifications/stream"] = (
                response.status_code,
                "retry-after" in response.headers,
            )
    assert answers == dict.fromkeys(answers, (503, True))
