"""GET /metrics over real HTTP, parsed with prometheus_client's own parsers: every family
the web app owes is there, and the values follow what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Mail, event
from tests.web.conftest import INBOUND_TOKEN
from tests.web.streams import opened
from tests.web.test_resend_webhook import signed
from web.metrics import shared_metrics_dir

# The families the web app serves: the database's gauges and this process's figures.
WEB_FAMILIES = {
    "intime_queue_jobs": "gauge",
    "intime_queue_oldest_waiting_seconds": "gauge",
    "intime_emails_in_flight": "gauge",
    "intime_workflow_executions": "gauge",
    "intime_campaign_enrollments_due": "gauge",
    "intime_campaign_due_oldest_seconds": "gauge",
    "intime_notifications_held": "gauge",
    "intime_database_up": "gauge",
    "intime_database_scrape_seconds": "gauge",
    "intime_webhook_events_ingested": "counter",
    "intime_webhook_events_rejected": "counter",
    "intime_sse_clients_connected": "gauge",
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str) -> tuple[dict[str, str], Samples]:
    """The families (name -> type) and every sample (name, sorted labels) -> value."""
    response = httpx.get(f"{base_url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def post_resend(base_url: str, body: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base_url}/webhooks/resend", content=body, headers=headers, timeout=30)


def test_every_family_the_web_app_owes_is_served(base_url: str) -> None:
    families, samples = scrape(base_url)
    missing = {name: kind for name, kind in WEB_FAMILIES.items() if families.get(name) != kind}
    assert missing == {}
    assert value(samples, "intime_database_up") == 1
    assert value(samples, "intime_sse_clients_connected") == 0
    # The process's own figures come along (single process).
    assert "process_cpu_seconds" in families


def test_a_rejected_webhook_is_counted_by_source_and_status(base_url: str) -> None:
    _, before = scrape(base_url)
    body = json.dumps(event("email.delivered", "re_nothing"))
    headers = signed(body) | {"svix-signature": "v1,AAAA"}
    assert post_resend(base_url, body, headers).status_code == 401
    inbound = httpx.post(
        f"{base_url}/webhooks/inbound",
        content=b"x",
        headers={"content-type": "message/rfc822", "authorization": "Bearer wrong"},
        timeout=30,
    )
    assert inbound.status_code == 401
    _, after = scrape(base_url)
    name = "intime_webhook_events_rejected_total"
    for source in ("resend", "inbound"):
        grew = value(after, name, source=source, code="401") - value(
            before, name, source=source, code="401"
        )
        assert grew == 1, source
    assert value(after, "intime_webhook_events_ingested_total", source="resend") == 0


def test_an_accepted_webhook_is_counted_as_ingested(base_url: str, mail: Mail) -> None:
    send_id = mail.queue(to="web@example.com", subject="Hi", text="x")
    mail.sent(send_id, "re_metrics")
    body = json.dumps(event("email.delivered", "re_metrics"))
    assert post_resend(base_url, body, signed(body)).status_code == 200
    _, samples = scrape(base_url)
    assert value(samples, "intime_webhook_events_ingested_total", source="resend") == 1
    assert value(samples, "intime_webhook_events_rejected_total", source="resend", code="401") == 0


def test_a_refused_inbound_message_is_counted_with_its_status(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/webhooks/inbound",
        content=b"From: a@b.example\r\nSubject: x\r\n\r\nno message id\r\n",
        headers={"content-type": "message/rfc822", "authorization": f"Bearer {INBOUND_TOKEN}"},
        timeout=60,
    )
    assert response.status_code == 400
    _, samples = scrape(base_url)
    name = "intime_webhook_events_rejected_total"
    assert value(samples, name, source="inbound", code="400") == 1


def test_an_open_stream_is_a_connected_sse_client(
    base_url: str, token_for: Callable, two_orgs
) -> None:
    with opened(base_url, token=token_for(two_orgs.a.rep_ids[1])):
        assert value(scrape(base_url)[1], "intime_sse_clients_connected") == 1
    deadline = time.monotonic() + 10
    while value(scrape(base_url)[1], "intime_sse_clients_connected") and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert value(scrape(base_url)[1], "intime_sse_clients_connected") == 0


def test_the_queue_depth_follows_the_database(base_url: str, mail: Mail) -> None:
    _, before = scrape(base_url)
    mail.queue(to="depth@example.com", subject="Hi", text="x")
    mail.queue(to="depth2@example.com", subject="Hi", text="x")
    _, after = scrape(base_url)
    labels = {"entrypoint": "email.send", "status": "queued"}
    assert (
        value(after, "intime_queue_jobs", **labels) - value(before, "intime_queue_jobs", **labels)
        == 2
    )


def test_openmetrics_is_served_to_who_asks_for_it(base_url: str) -> None:
    response = httpx.get(
        f"{base_url}/metrics", headers={"Accept": "application/openmetrics-text"}, timeout=30
    )
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics_families(response.text)}
    assert {"intime_queue_jobs", "intime_webhook_events_rejected"} <= names


def test_a_database_that_cannot_answer_is_database_up_0(
    base_url: str, admin: psycopg.Connection
) -> None:
    """The scrape still answers, with the process's figures: a down database is a
    value to alert on, not a failed scrape."""
    admin.execute("revoke execute on function api.get_metrics() from intime_service")
    families, samples = scrape(base_url)
    assert value(samples, "intime_database_up") == 0
    assert "intime_queue_jobs" not in families
    assert "intime_webhook_events_rejected" in families


MULTIPROCESS_CHILD = """
import sys
from web.metrics import WebMetrics
metrics = WebMetrics()
for _ in range(int(sys.argv[1])):
    metrics.webhook_answered("resend", 401)
metrics.sse_clients.set(int(sys.argv[2]))
if sys.argv[3] == "exit":
    metrics.close()
"""

MULTIPROCESS_SCRAPE = """
from prometheus_client.exposition import generate_latest
from web.metrics import Families, WebMetrics
print(generate_latest(Families(WebMetrics().process_families())).decode())
"""


def test_with_a_multiprocess_dir_one_scrape_sums_every_process(tmp_path: Path) -> None:
    """What ``intime web --workers N`` relies on: counters add up across processes, and
    a process that stopped no longer counts its streams."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]

    def python(code: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    python(MULTIPROCESS_CHILD, "2", "3", "stay")
    python(MULTIPROCESS_CHILD, "1", "5", "exit")  # a process that stopped cleanly
    samples: Samples = {}
    for family in text_string_to_metric_families(python(MULTIPROCESS_SCRAPE)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    rejected = value(samples, "intime_webhook_events_rejected_total", source="resend", code="401")
    assert rejected == 3
    assert value(samples, "intime_sse_clients_connected") == 3


def test_several_web_processes_get_a_shared_metrics_folder_for_their_run(
    monkeypatch, tmp_path: Path
) -> None:
    """``intime web --workers N`` starts its processes inside ``shared_metrics_dir``: a
    fresh folder, gone afterwards; one the operator chose is kept."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with shared_metrics_dir() as made:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == made
        assert Path(made).is_dir()
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert not Path(made).exists()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with shared_metrics_dir() as given:
        assert given == str(tmp_path)
    assert tmp_path.is_dir()
