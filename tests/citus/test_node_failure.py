"""A worker node that goes away is an outage, not a bug: its errors are transient for the
worker (retried durably) and 503 for the web app (docs/scale-out.md, "A node away").

A backend of the coordinator keeps its connections to the nodes between transactions
(Citus caches them). When a node stops, the first statement that uses a cached one fails
with Citus's internal error "failure on connection marked as essential" (XX000, no
SQLSTATE of its own), the next ones with class 08. The soak on a cluster found the
first one failing workflow runs for good and answering Resend's webhook 500.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from svix.webhooks import Webhook

from intime import migrate, pgcluster
from intime.db import actor, is_node_failure, is_transient, is_unavailable, open_pool
from intime_cli.serving import serve_in_thread
from tests.citus.conftest import make_org
from tests.support import event
from web.app import create_app
from web.ingest import unreachable
from web.rechecks import Credential, CredentialChecks

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def worker_node_stopped_later(citus: pgcluster.PgCluster) -> Iterator[pgcluster.PgCluster]:
    """The test stops worker 1; it is started again whatever happens."""
    node = citus.worker_nodes[0]
    try:
        yield citus
    finally:
        node.start()


@pytest.fixture
def worker_nodes_stopped_later(citus: pgcluster.PgCluster) -> Iterator[pgcluster.PgCluster]:
    """The test stops every worker node; they are started again whatever happens."""
    try:
        yield citus
    finally:
        for node in citus.worker_nodes:
            node.start()


def _lost_mid_statement(citus: pgcluster.PgCluster, admin_dsn: str) -> psycopg.Error:
    """The error of a reference-table write on a backend whose cached connection to
    worker 1 died with the node."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute("create table if not exists public.node_probe (id uuid primary key)")
        if not conn.execute(
            "select 1 from pg_dist_partition where logicalrelid = 'public.node_probe'::regclass"
        ).fetchone():
            conn.execute("select create_reference_table('public.node_probe')")
        conn.execute("insert into public.node_probe values (gen_random_uuid())")
        citus.worker_nodes[0].stop()
        with pytest.raises(psycopg.Error) as caught:
            conn.execute("insert into public.node_probe values (gen_random_uuid())")
        return caught.value


def test_a_node_lost_under_a_cached_connection_is_transient(
    worker_node_stopped_later: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    exc = _lost_mid_statement(worker_node_stopped_later, citus_db[0])
    assert (type(exc), exc.sqlstate) == (psycopg.errors.InternalError_, "XX000"), exc
    assert str(exc).startswith("failure on connection marked as essential")
    assert is_node_failure(exc)
    assert is_transient(exc)
    assert is_unavailable(exc)
    assert unreachable(exc)


def test_another_internal_error_stays_a_bug(citus_db: tuple[str, migrate.MigrateResult]) -> None:
    with (
        psycopg.connect(citus_db[0], autocommit=True) as conn,
        pytest.raises(psycopg.InternalError) as caught,
    ):
        conn.execute("select pg_catalog.undistribute_table('pg_catalog.pg_class')")
    assert caught.value.sqlstate == "XX000"  # Citus's own, with no SQLSTATE of its own
    assert not is_node_failure(caught.value)
    assert not is_transient(caught.value)


def _signed(body: str) -> dict[str, str]:
    msg_id = f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(SECRET).sign(msg_id, at, body),
        "content-type": "application/json",
    }


def test_resend_webhooks_are_answered_503_while_a_node_is_away(
    worker_node_stopped_later: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    citus = worker_node_stopped_later
    # One connection for the events, so that the request after the stop meets the
    # backend whose cached connection to the node died.
    app = create_app(
        citus.coordinator.dsn("intime", "intime_service"),
        resend_secrets=[SECRET],
        event_pool_size=1,
    )
    with serve_in_thread(app) as url:

        def post() -> httpx.Response:
            body = json.dumps(event("email.delivered", f"re_{uuid.uuid4().hex}"))
            return httpx.post(
                f"{url}/webhooks/resend", content=body, headers=_signed(body), timeout=30
            )

        first = post()
        assert first.status_code == 200, first.text  # parked: an email not yet recorded
        citus.worker_nodes[0].stop()
        answers = [post() for _ in range(3)]
        assert [a.status_code for a in answers] == [503, 503, 503], [a.text for a in answers]
        assert all(a.headers.get("retry-after") for a in answers)
        citus.worker_nodes[0].start()
        assert post().status_code == 200


def test_a_stream_recheck_with_the_nodes_away_cannot_tell(
    worker_nodes_stopped_later: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    """An open stream's credential re-check with the nodes away: the database could not
    say (None: the stream goes on and asks again), not an error that ends every stream
    of the batch. (The check only reads, so Citus answers it with class 08 here; the
    checker treats a node failure, ``is_node_failure``, the same way.)"""
    citus = worker_nodes_stopped_later
    org = make_org(citus, citus_db[0])
    service_dsn = citus.coordinator.dsn("intime", "intime_service")
    with psycopg.connect(service_dsn) as service, actor(service, org.org_id):
        row = service.execute(
            "select token_id from api.create_api_token(p_name => 'stream', p_user_id => %s)",
            (org.login_user_id,),
        ).fetchone()
    assert row is not None
    credential = Credential(org.org_id, row[0])

    async def main() -> list[bool | None]:
        pool = await open_pool(service_dsn, min_size=1, max_size=1, autocommit=True)
        checks = CredentialChecks(pool, linger=0.01)
        try:
            answers = [await checks.check(credential)]  # its backend now holds connections
            for node in citus.worker_nodes:
                node.stop()
            answers += [await checks.check(credential) for _ in range(2)]
            return answers
        finally:
            await checks.close()
            await pool.close()

    assert asyncio.run(main()) == [True, None, None]


def test_a_stream_recheck_that_meets_a_node_failure_cannot_tell(
    worker_node_stopped_later: pgcluster.PgCluster,
    citus_db: tuple[str, migrate.MigrateResult],
) -> None:
    """The checker's call failing with the node failure itself (the real error, taken
    from a stopped node): the streams waiting for it are told None, as for a lost
    connection, and none of them ends."""
    failure = _lost_mid_statement(worker_node_stopped_later, citus_db[0])
    assert is_node_failure(failure)

    class Failing(CredentialChecks):
        async def _query(self, creds: list[Credential]) -> list[bool]:
            raise failure

    async def main() -> list[bool | None]:
        pool = await open_pool(citus_db[0], min_size=1, max_size=1, autocommit=True)
        checks = Failing(pool, linger=0.01)
        try:
            credential = Credential(uuid.uuid4(), uuid.uuid4())
            return list(await asyncio.gather(checks.check(credential), checks.check(credential)))
        finally:
            await checks.close()
            await pool.close()

    assert asyncio.run(main()) == [None, None]
