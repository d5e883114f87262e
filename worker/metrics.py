"""The worker's Prometheus metrics (docs/operations.md, "Metrics"), served on a port of
its own when one is given (``intime worker --metrics-port``, INTIME_WORKER_METRICS_PORT;
off by default).

Every worker process has its own port and its own figures: Prometheus scrapes each
(``sum by (entrypoint)`` adds them up). The database's gauges are the web app's
``/metrics``: they are the same from any process and are read once per scrape there.

- ``intime_job_duration_seconds{entrypoint}``: how long a job's handler ran;
- ``intime_job_wait_seconds{entrypoint}``: from the moment a job was due (its creation,
  or the later time it was scheduled or retried for) to its pickup;
- ``intime_jobs_total{entrypoint, outcome}``: completed, failed (held), retried, released;
- ``intime_email_sends_total{provider, status}``: hand-overs to a provider: sent, failed
  (for good), retried (a transient failure);
- ``intime_email_commit_to_send_seconds{provider}``: from the commit of an email to the
  provider's acceptance, retries included (for an email scheduled for later: from when
  it was due).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIServer

from pgqueuer.domain.models import Job
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

ENV_PORT = "INTIME_WORKER_METRICS_PORT"
DEFAULT_HOST = "127.0.0.1"

# Jobs take milliseconds (a workflow step) to minutes (a slow provider, a long tick).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# Waits and send latencies: milliseconds when idle, minutes under a backlog or a rate
# limit, hours when a provider is down.
WAIT_BUCKETS = (
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
    14400,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class MetricsAddress:
    host: str
    port: int


def parse_address(value: str) -> MetricsAddress:
    """``PORT`` (on 127.0.0.1) or ``HOST:PORT``; ``0`` picks a free port. ValueError
    otherwise."""
    host, _, port = value.strip().rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"a metrics port is PORT or HOST:PORT, not {value!r}")
    return MetricsAddress(host, int(port))


def due_at(job: Job) -> datetime:
    """When a job became due: its creation, or the later time it was scheduled for. A
    retried job counts from its creation (the retries are part of the wait)."""
    if job.attempts == 0 and job.execute_after > job.created:
        return job.execute_after
    return job.created


def seconds_since(moment: datetime) -> float:
    """Seconds from ``moment`` (the database's clock) to now; never negative (clocks
    of two machines may disagree a little)."""
    return max(0.0, (datetime.now(UTC) - moment).total_seconds())


class WorkerMetrics:
    """One worker process's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.job_duration = Histogram(
            "intime_job_duration_seconds",
            "How long a job's handler ran, by entrypoint.",
            ["entrypoint"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.job_wait = Histogram(
            "intime_job_wait_seconds",
            "From the moment a job was due to its pickup, by entrypoint.",
            ["entrypoint"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Counter(
            "intime_jobs",
            "Jobs run, by entrypoint and outcome (completed, failed: held for a person, "
            "retried, released: a stopping worker gave it back).",
            ["entrypoint", "outcome"],
            registry=self.registry,
        )
        self.email_sends = Counter(
            "intime_email_sends",
            "Emails handed to a provider, by provider and status (sent, failed, retried).",
            ["provider", "status"],
            registry=self.registry,
        )
        self.commit_to_send = Histogram(
            "intime_email_commit_to_send_seconds",
            "From an email's commit (or the time it was scheduled for) to the provider's "
            "acceptance, by provider.",
            ["provider"],
            buckets=WAIT_BUCKETS,
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)

    def job_picked(self, job: Job) -> float:
        """Record the wait; returns the monotonic start of the run."""
        self.job_wait.labels(entrypoint=job.entrypoint).observe(seconds_since(due_at(job)))
        return time.monotonic()

    def job_done(self, job: Job, started: float, outcome: str) -> None:
        self.job_duration.labels(entrypoint=job.entrypoint).observe(time.monotonic() - started)
        self.jobs.labels(entrypoint=job.entrypoint, outcome=outcome).inc()

    def email_handed_over(self, provider: str, status: str, due: datetime | None) -> None:
        self.email_sends.labels(provider=provider, status=status).inc()
        if status == "sent" and due is not None:
            self.commit_to_send.labels(provider=provider).observe(seconds_since(due))

    def serve(self, address: MetricsAddress) -> MetricsServer:
        """Serve ``/metrics`` (any path, in fact) on ``address`` in a thread."""
        server, thread = start_http_server(address.port, address.host, registry=self.registry)
        return MetricsServer(server, thread)


@dataclasses.dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
