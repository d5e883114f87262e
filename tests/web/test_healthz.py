"""The web app over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import gc

import httpx

from web.app import SERVER_GC_THRESHOLDS


def test_healthz_reports_ok_as_the_service_role(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["role"]) == ("ok", "intime_service")


def test_healthz_reports_the_stream_hub(base_url: str) -> None:
    stream = httpx.get(f"{base_url}/healthz", timeout=5).json()["stream"]
    assert stream["clients"] == 0
    assert stream["reconnects"] == 0
    assert {"delivered", "slow_consumers", "gaps_open", "listening"} <= set(stream)


def test_a_server_process_freezes_what_its_start_up_made(serve) -> None:
    """create_app(freeze_gc=True), as `intime web` runs it: the start-up objects are out
    of the collector's way (a full collection no longer walks them), and the young
    generations are collected less often."""
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        base = serve(freeze_gc=True)
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == SERVER_GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_an_app_in_a_test_or_demo_process_leaves_the_collector_alone(serve) -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    base = serve()
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds
