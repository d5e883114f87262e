"""The hub's wheel (web/hub.py) on a fake clock: one timer for every stream's heartbeat and
credential re-check. A stream that behaves like notifications._Stream (it re-checks when
the clock has passed its deadline, after any item, then re-arms) is re-checked within a
slot or two of the deadline, wherever that falls against its heartbeat."""

from __future__ import annotations

import asyncio
import types
import uuid
from typing import Any

import pytest

import web.hub as hub_mod
from web.hub import NotificationHub

START = 1000.0


def _recheck_times(
    monkeypatch: pytest.MonkeyPatch,
    *,
    first_beat: float,
    first_recheck: float,
    heartbeat: float = 15,
    reauth: float = 60,
    until: float = 40,
    phase: float = 0.0,
) -> list[float]:
    """When the stream re-checked, in seconds from the start."""
    clock = {"t": START + phase}
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        for _ in range(5):  # the streams woken by a tick run at its time
            await real_sleep(0)
        clock["t"] += delay

    monkeypatch.setattr(hub_mod, "time", types.SimpleNamespace(monotonic=lambda: clock["t"]))
    fake_asyncio: Any = types.SimpleNamespace(
        **{k: getattr(asyncio, k) for k in dir(asyncio) if not k.startswith("__")}
    )
    fake_asyncio.sleep = fake_sleep
    monkeypatch.setattr(hub_mod, "asyncio", fake_asyncio)
    checks: list[float] = []
    taken: list[str] = []

    async def main() -> None:
        no_pool: Any = None  # the wheel reads nothing
        hub = NotificationHub("", no_pool, heartbeat=heartbeat)
        sub = hub.subscribe(uuid.uuid4(), uuid.uuid4())
        hub._beats.clear()  # a known first beat instead of the random one
        sub.beat_slot = None
        hub._schedule_beat(sub, START + first_beat)
        next_auth = START + first_recheck
        hub.recheck_at(sub, next_auth)
        wheel = asyncio.create_task(hub._heartbeats())

        async def stream() -> None:
            nonlocal next_auth
            while True:
                item = await sub.queue.get()
                taken.append(item.kind if item is not None else "end")
                if clock["t"] >= next_auth:
                    checks.append(round(clock["t"] - START, 2))
                    next_auth = clock["t"] + reauth
                    hub.recheck_at(sub, next_auth)
                if item is not None and item.kind == "ping":
                    sub.last_write = clock["t"]

        consumer = asyncio.create_task(stream())
        while clock["t"] < START + until:
            await real_sleep(0)
        wheel.cancel()
        consumer.cancel()

    asyncio.run(main())
    # An idle stream is woken by its heartbeats (40 s / 15 s) and its re-checks, no more:
    # a wheel that beat it every slot would wake it hundreds of times.
    assert len(taken) <= until / heartbeat + until / reauth + 2, taken
    return checks


def test_a_re_check_due_between_heartbeats_runs_on_time(monkeypatch) -> None:
    checks = _recheck_times(monkeypatch, first_beat=15.0, first_recheck=10.0)
    assert checks
    assert checks[0] < 10.3


@pytest.mark.parametrize("offset", [i / 100 for i in range(-10, 21)])
def test_a_re_check_due_next_to_a_heartbeat_is_not_put_off_to_the_next(
    monkeypatch, offset: float
) -> None:
    """Due within a slot of a heartbeat: the beat that pings must not leave it for the
    next heartbeat, 15 s later."""
    checks = _recheck_times(monkeypatch, first_beat=15.0, first_recheck=15.0 + offset, phase=0.047)
    assert checks
    assert checks[0] - (15.0 + offset) < 0.3
