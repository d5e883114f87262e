"""GET /metrics: the web app's Prometheus metrics (docs/operations.md, "Metrics").

Two kinds of samples:

- **the database's gauges** (queue depth, emails in flight, executions, the campaign
  backlog, held notifications): ``api.get_metrics()``, one statement per scrape, read
  when Prometheus asks. They are the same from any process. ``intime_database_up`` says
  whether that read worked (a scrape still answers 200 with the rest when it did not);
- **this process's** counters and gauges: webhook events ingested and rejected
  (``counted``, on the webhook routes), SSE clients connected (the hub's subscribers).

Several processes (``intime web --workers N``) share one port, so a scrape reaches one
of them at random. With ``PROMETHEUS_MULTIPROC_DIR`` set (prometheus_client's own
switch, read when it is imported; ``intime web`` sets a fresh one when it starts more
than one process) every process writes its counters to files there, and whichever
answers the scrape sums them all. Without it, each process reports its own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import Response

from intime.db import is_node_failure
from web import queries as q
from web.hub import NotificationHub

log = logging.getLogger("intime.web")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# What a scrape waits for a pooled connection before it reports the database down.
DATABASE_TIMEOUT = 2.0

# The families api.get_metrics() returns, with their help; a family is exposed (without
# samples) even when the database has none of its rows at the moment.
DATABASE_GAUGES = {
    "intime_queue_jobs": "Jobs in pgqueuer's queue by entrypoint and status "
    "(queued, picked, failed: held after an error).",
    "intime_queue_oldest_waiting_seconds": "Age of the oldest due queued job by entrypoint.",
    "intime_emails_in_flight": "Emails not settled yet (queued, sending) by status and provider.",
    "intime_workflow_executions": "Workflow executions not over, by status.",
    "intime_campaign_enrollments_due": "Active campaign enrollments whose next step is due.",
    "intime_campaign_due_oldest_seconds": "How late the most overdue campaign step is.",
    "intime_notifications_held": "Notification deliveries held back (held) or waiting for "
    "a digest (digest).",
}

Endpoint = Callable[[Request], Awaitable[Response]]
# prometheus_client's multiprocess helpers carry no annotations: their types, stated once.
_multiprocess_collector: Callable[[None, str], Collector] = MultiProcessCollector
_mark_process_dead: Callable[[int, str], None] = mark_process_dead


class Families(Collector):
    """A fixed list of families: one scrape's view."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


class WebMetrics:
    """The process's metrics (one per app) and the scrape."""

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        self.multiprocess_dir = (
            os.environ.get(MULTIPROC_ENV) if multiprocess_dir is None else multiprocess_dir
        ) or None
        self.registry = CollectorRegistry()
        self.webhook_ingested = Counter(
            "intime_webhook_events_ingested",
            "Webhook requests accepted (2xx) by source: resend (provider events), "
            "inbound (received email).",
            ["source"],
            registry=self.registry,
        )
        self.webhook_rejected = Counter(
            "intime_webhook_events_rejected",
            "Webhook requests refused, by source and HTTP status (401 bad signature, 400 not "
            "an event, 413 too large, 503 unavailable ...).",
            ["source", "code"],
            registry=self.registry,
        )
        self.sse_clients = Gauge(
            "intime_sse_clients_connected",
            "Notification streams (SSE) open on the web app.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.sse_clients.set(0)
        if self.multiprocess_dir is None:
            # The process's own figures; in multiprocess mode they would describe only
            # whichever process answered.
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def watch_hub(self, hub: NotificationHub) -> None:
        """Keep ``intime_sse_clients_connected`` equal to the hub's subscriber count."""
        hub.on_connected = self.sse_clients.set
        self.sse_clients.set(hub.connected)

    def close(self) -> None:
        """This process is going away: its live gauges stop counting (multiprocess)."""
        if self.multiprocess_dir is not None:
            _mark_process_dead(os.getpid(), self.multiprocess_dir)

    def webhook_answered(self, source: str, status: int) -> None:
        if 200 <= status < 300:
            self.webhook_ingested.labels(source=source).inc()
        else:
            self.webhook_rejected.labels(source=source, code=str(status)).inc()

    def process_families(self) -> list[Metric]:
        if self.multiprocess_dir is not None:
            return list(_multiprocess_collector(None, self.multiprocess_dir).collect())
        return list(self.registry.collect())

    async def scrape(self, pool: AsyncConnectionPool) -> Collector:
        """Everything one scrape shows: the database's gauges read now, and the process's."""
        return Families(self.process_families() + await database_families(pool))


async def database_families(pool: AsyncConnectionPool) -> list[Metric]:
    """The families of ``api.get_metrics()``, with ``intime_database_up`` and the time the
    read took. A database that cannot answer is ``intime_database_up 0``, not an error."""
    started = time.monotonic()
    up = GaugeMetricFamily(
        "intime_database_up", "Whether the last scrape could read the database's gauges."
    )
    seconds = GaugeMetricFamily(
        "intime_database_scrape_seconds", "How long reading the database's gauges took."
    )
    try:
        async with pool.connection(timeout=DATABASE_TIMEOUT) as conn:
            cur = await conn.execute(q.GET_METRICS)
            rows = await cur.fetchall()
    except (psycopg.Error, OSError) as exc:
        log.warning("metrics: the database's gauges could not be read: %s", exc)
        up.add_metric([], 0)
        seconds.add_metric([], time.monotonic() - started)
        return [up, seconds]
    up.add_metric([], 1)
    seconds.add_metric([], time.monotonic() - started)
    return [up, seconds, *gauge_families(rows)]


def gauge_families(rows: Iterable[tuple[str, dict[str, Any], float]]) -> list[Metric]:
    """(name, labels, value) rows as gauge families, one per name."""
    grouped: dict[str, list[tuple[dict[str, Any], float]]] = {name: [] for name in DATABASE_GAUGES}
    for name, labels, value in rows:
        grouped.setdefault(name, []).append((labels or {}, value))
    families: list[Metric] = []
    for name, samples in grouped.items():
        keys = sorted({key for labels, _ in samples for key in labels})
        family = GaugeMetricFamily(
            name, DATABASE_GAUGES.get(name, "A gauge read from the database."), labels=keys
        )
        for labels, value in samples:
            family.add_metric([str(labels.get(key, "")) for key in keys], float(value))
        families.append(family)
    return families


async def metrics_endpoint(request: Request) -> Response:
    metrics: WebMetrics = request.app.state.metrics
    collector = await metrics.scrape(request.app.state.pool)
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(collector), headers={"Content-Type": content_type})


def counted(source: str) -> Callable[[Endpoint], Endpoint]:
    """Count a webhook endpoint's answers: 2xx ingested, anything else rejected (by
    status; an exception counts as the 503 or 500 it becomes)."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def run(request: Request) -> Response:
            app = request.scope.get("app")
            metrics: WebMetrics | None = getattr(getattr(app, "state", None), "metrics", None)
            try:
                response = await endpoint(request)
            except Exception as exc:
                if metrics is not None:
                    unavailable = isinstance(exc, psycopg.OperationalError) or is_node_failure(exc)
                    metrics.webhook_answered(source, 503 if unavailable else 500)
                raise
            if metrics is not None:
                metrics.webhook_answered(source, response.status_code)
            return response

        return run

    return wrap


@contextlib.contextmanager
def shared_metrics_dir() -> Iterator[str]:
    """For several server processes on one port: ``PROMETHEUS_MULTIPROC_DIR`` as the
    operator set it (empty it between runs), else a fresh folder, removed at the end.
    Set before the processes start: prometheus_client reads it when it is imported."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        yield given
        return
    path = tempfile.mkdtemp(prefix="intime-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
