"""The worker's /metrics on its own port, scraped over real HTTP after it ran real jobs
(emails over real SMTP, a job that fails), parsed with prometheus_client's parser."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import timedelta

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from intime.config import ConfigError
from intime_cli.cli import build_parser
from tests.peers import SmtpServer
from tests.support import Database, Mail
from worker.app import WorkerOptions, start_worker
from worker.metrics import MetricsAddress, parse_address
from worker.transports import SmtpTransport

# The families the worker serves: jobs by entrypoint, and its hand-overs of email.
WORKER_FAMILIES = {
    "intime_job_duration_seconds": "histogram",
    "intime_job_wait_seconds": "histogram",
    "intime_jobs": "counter",
    "intime_email_sends": "counter",
    "intime_email_commit_to_send_seconds": "histogram",
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def run_and_scrape(db: Database, smtp_server: SmtpServer) -> tuple[dict[str, str], Samples]:
    """Run the real worker until the queue is drained, with metrics on a free port;
    scrape it before it stops."""
    worker = await start_worker(
        db.dsn("intime_service"),
        {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)},
        "https://crm.example",
        options=WorkerOptions(
            dequeue_timeout=timedelta(seconds=1),
            metrics_address=MetricsAddress("127.0.0.1", 0),
            campaign_schedules=False,
        ),
    )
    try:
        await asyncio.wait_for(worker.run(drain=True), timeout=120)
        assert worker.metrics_server is not None
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"http://127.0.0.1:{worker.metrics_server.port}/metrics", timeout=30
            )
    finally:
        await worker.close()
    assert response.status_code == 200
    families: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, samples


@pytest.fixture
def worked(
    db: Database, mail: Mail, admin: psycopg.Connection, smtp_server: SmtpServer
) -> tuple[dict[str, str], Samples]:
    """Two emails sent over SMTP and one job that fails (a payload naming no email), on
    a queue emptied of the seed's jobs first."""
    admin.execute("delete from queue.pgqueuer")
    admin.execute(
        "update app.email_settings set provider = 'smtp', rate_limit_per_minute = 100, "
        "rate_tokens = null where org_id = %s",
        (mail.org_id,),
    )
    for to in ("one@example.com", "two@example.com"):
        mail.queue(to=to, subject="Hi", text="x")
    admin.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'email.send', %s, 'queued')",
        (json.dumps({"org_id": str(mail.org_id)}).encode(),),
    )
    return asyncio.run(run_and_scrape(db, smtp_server))


def test_every_family_the_worker_owes_is_served(worked, smtp_server: SmtpServer) -> None:
    families, _ = worked
    assert len(smtp_server.messages) == 2
    missing = {n: kind for n, kind in WORKER_FAMILIES.items() if families.get(n) != kind}
    assert missing == {}


def test_jobs_are_timed_and_counted_by_entrypoint_and_outcome(worked) -> None:
    _, samples = worked
    assert value(samples, "intime_job_duration_seconds_count", entrypoint="email.send") == 3
    assert value(samples, "intime_job_duration_seconds_sum", entrypoint="email.send") > 0
    assert value(samples, "intime_job_wait_seconds_count", entrypoint="email.send") == 3
    completed = value(samples, "intime_jobs_total", entrypoint="email.send", outcome="completed")
    failed = value(samples, "intime_jobs_total", entrypoint="email.send", outcome="failed")
    assert (completed, failed) == (2, 1)


def test_sends_are_counted_and_their_latency_observed_by_provider(worked) -> None:
    _, samples = worked
    assert value(samples, "intime_email_sends_total", provider="smtp", status="sent") == 2
    assert value(samples, "intime_email_commit_to_send_seconds_count", provider="smtp") == 2
    # Every send took less than an hour from its commit.
    assert (
        value(samples, "intime_email_commit_to_send_seconds_bucket", provider="smtp", le="3600.0")
        == 2
    )


@pytest.mark.parametrize(
    ("given", "address"),
    [
        ("9108", MetricsAddress("127.0.0.1", 9108)),
        ("0.0.0.0:9108", MetricsAddress("0.0.0.0", 9108)),  # noqa: S104 - an operator's choice
        ("[::1]:0", MetricsAddress("::1", 0)),
    ],
)
def test_a_metrics_address_is_a_port_or_host_and_port(given: str, address) -> None:
    assert parse_address(given) == address


@pytest.mark.parametrize("given", ["", "x", "host:", "70000", "1:2:x"])
def test_a_bad_metrics_address_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="metrics port"):
        parse_address(given)


def test_the_worker_command_takes_a_metrics_port() -> None:
    args = build_parser().parse_args(["worker", "--metrics-port", "9108"])
    assert args.metrics_port == "9108"
    assert build_parser().parse_args(["worker"]).metrics_port is None


def test_a_metrics_port_in_use_is_one_line_of_error(db: Database) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def start() -> None:
            await start_worker(
                db.dsn("intime_service"),
                {},
                "https://crm.example",
                options=WorkerOptions(metrics_address=MetricsAddress("127.0.0.1", port)),
            )

        with pytest.raises(ConfigError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            asyncio.run(start())
