"""intime.aio.wait_event: an event wait with a time limit whose cancel always goes through."""

from __future__ import annotations

import asyncio

from intime.aio import wait_event


async def _cancel_as_the_event_is_set() -> str:
    event = asyncio.Event()

    async def loop() -> None:
        while True:  # as the stream hub's read loop
            await wait_event(event, 10)
            event.clear()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    event.set()
    task.cancel()  # in the same step: asyncio.wait_for on 3.11 dropped this cancel
    try:
        await asyncio.wait_for(asyncio.shield(task), 2)
    except asyncio.CancelledError:
        return "cancelled"
    except TimeoutError:
        task.cancel()
        return "still running"
    return "returned"


def test_a_cancel_that_arrives_as_the_event_is_set_still_ends_the_task() -> None:
    assert asyncio.run(_cancel_as_the_event_is_set()) == "cancelled"


def test_it_says_whether_the_event_was_set_in_time() -> None:
    async def both() -> tuple[bool, bool]:
        event = asyncio.Event()
        late = await wait_event(event, 0.01)
        event.set()
        return late, await wait_event(event, 0.01)

    assert asyncio.run(both()) == (False, True)
