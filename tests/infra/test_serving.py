"""intime_cli.serving.serve_in_thread: a server that does not stop is reported."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from intime_cli.serving import serve_in_thread


def _app(shutdown_seconds: float) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await asyncio.sleep(shutdown_seconds)

    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def test_a_server_that_stops_in_time_says_nothing(recwarn: pytest.WarningsRecorder) -> None:
    with serve_in_thread(_app(0.0), exit_timeout=5.0) as url:
        assert httpx.get(url, timeout=5).text == "hello"
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_server_still_running_after_the_exit_timeout_is_reported() -> None:
    """It was left running silently: its app's pools then retried for minutes against a
    database that was gone (seen in CI's log, with no test named)."""
    with (
        pytest.warns(RuntimeWarning, match="still running 0.5 s after it was told to exit"),
        serve_in_thread(_app(3.0), exit_timeout=0.5) as url,
    ):
        assert httpx.get(url, timeout=5).text == "hello"


def test_the_report_names_what_the_stuck_shutdown_waits_in() -> None:
    with (
        pytest.warns(RuntimeWarning, match=r"(?s)its tasks:.*test_serving.py:\d+ in lifespan"),
        serve_in_thread(_app(3.0), exit_timeout=0.5) as url,
    ):
        assert httpx.get(url, timeout=5).text == "hello"


class _Raising:
    def __getattr__(self, name: str) -> object:
        raise KeyError(name)


async def _later(arg: object) -> None:
    await asyncio.sleep(10)


def test_the_report_survives_tasks_whose_objects_raise_and_names_a_blocked_line() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        asyncio.get_running_loop().create_task(_later(_Raising()))  # not started yet
        await asyncio.sleep(0)
        time.sleep(2)  # the loop blocked: only the thread's stack says where

    app = Starlette(routes=[], lifespan=lifespan)
    with (
        pytest.warns(RuntimeWarning, match=r"(?s)its thread:.*time.sleep\(2\)"),
        serve_in_thread(app, exit_timeout=0.5),
    ):
        pass
