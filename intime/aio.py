"""Asyncio helpers that web and worker share."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` was set within ``seconds``. A cancel always goes through: on
    Python 3.11 ``asyncio.wait_for(event.wait(), seconds)`` returns normally when the
    cancel arrives as the event is set, and a loop around it then runs on after its task
    was cancelled (the stream hub's read loop held a web server's shutdown forever)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
