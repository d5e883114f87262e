"""The queue's polling interval: the operator's on a single node (a NOTIFY wakes the
worker), one second on a Citus node (tests/citus/test_seed_criteria.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from tests.support import Database
from worker.app import WorkerOptions, start_worker
from worker.transports import OutboxTransport


def test_a_worker_on_a_single_node_keeps_its_dequeue_timeout(db: Database, tmp_path: Path) -> None:
    async def timeout() -> timedelta:
        worker = await start_worker(
            db.dsn("intime_service"),
            {"outbox": OutboxTransport(tmp_path)},
            "https://crm.example",
            options=WorkerOptions(dequeue_timeout=timedelta(seconds=30)),
        )
        try:
            return worker.options.dequeue_timeout
        finally:
            await worker.close()

    assert asyncio.run(timeout()) == timedelta(seconds=30)
