"""SMTP send throughput of one worker process to a local relay (aiosmtpd in its own
process): the worker's transport (aiosmtplib, a pool of SMTP_CONCURRENCY connections)
against the transport it replaced (smtplib in a thread behind one lock,
bench/smtplib_transport.py), in the same run.

Both get the same load: IN_FLIGHT email.send jobs at once (the worker's default
in-flight cap), each building its message and handing it over, as the job does.
Two relays: one that accepts each message at once, and one that takes RELAY_DELAY
to accept it, as a real relay does (its queue file written and synced). Rounds
alternate between the two transports; the figures are the medians. Sizes:
INTIME_BENCH_SMTP_MESSAGES (quick: 300), INTIME_BENCH_SMTP_ROUNDS (quick: 3).
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import multiprocessing.synchronize
import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage

from bench.common import Case, Report, Sizes, cpu
from bench.smtplib_transport import SmtplibTransport
from intime_cli.serving import free_port
from worker.transports import SMTP_CONCURRENCY, SmtpTransport, Transport

SIZES = Sizes("SMTP", MESSAGES=(1500, 300), ROUNDS=(5, 3))
IN_FLIGHT = 20  # INTIME_WORKER_MAX_IN_FLIGHT's default
RELAY_DELAY = 0.005


def _serve(port: int, delay: float, ready: multiprocessing.synchronize.Event) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:
            if delay:
                await asyncio.sleep(delay)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def _message(i: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Bench <bench@mail.example>"
    message["To"] = f"r{i}@example.com"
    message["Subject"] = f"Bench {i}"
    message["Message-ID"] = f"<bench-{i}@mail.example>"
    message.set_content("Hello " * 50)
    message.add_alternative("<p>" + "Hello " * 50 + "</p>", subtype="html")
    return message


async def _round(transport: Transport, count: int) -> float:
    """Messages per second: ``count`` sends, IN_FLIGHT at a time."""
    numbers = iter(range(count))

    async def job_slot() -> None:
        for i in numbers:  # shared: each slot takes the next message
            await transport.send(
                _message(i), idempotency_key=str(i), return_path=f"bounce+{i}@mail.example"
            )

    start = time.perf_counter()
    await asyncio.gather(*(job_slot() for _ in range(IN_FLIGHT)))
    return count / (time.perf_counter() - start)


def _compare(port: int) -> dict[str, list[float]]:
    makers: dict[str, Callable[[], Transport]] = {
        "ours": lambda: SmtpTransport("127.0.0.1", port),
        "baseline": lambda: SmtplibTransport("127.0.0.1", port),
    }

    async def rounds() -> dict[str, list[float]]:
        transports = {label: make() for label, make in makers.items()}
        rates: dict[str, list[float]] = {label: [] for label in transports}
        try:
            for transport in transports.values():
                await _round(transport, 50 if SIZES.quick else 100)  # warm-up: connections opened
            for _, (label, transport) in itertools.product(range(SIZES.ROUNDS), transports.items()):
                rates[label].append(await _round(transport, SIZES.MESSAGES))
        finally:
            for transport in transports.values():
                await transport.close()
        return rates

    return asyncio.run(rounds())


def run(quick: bool = False) -> Report:
    sz = SIZES.configure(quick=quick)
    report = Report("smtp", quick)
    results: dict[float, dict[str, float]] = {}
    for delay in (0.0, RELAY_DELAY):
        port = free_port()
        ready = multiprocessing.Event()
        server = multiprocessing.Process(target=_serve, args=(port, delay, ready), daemon=True)
        server.start()
        ready.wait(10)
        try:
            rates = _compare(port)
        finally:
            server.terminate()
            server.join(5)
        results[delay] = {label: statistics.median(r) for label, r in rates.items()}

    report.table(
        f"SMTP throughput of one worker: {sz.MESSAGES:,} messages, {IN_FLIGHT} sends at once, "
        f"median of {sz.ROUNDS} rounds",
        [
            Case(
                "relay accepts at once: aiosmtplib pool (ours) vs smtplib behind one lock",
                "messages/s",
                results[0.0]["ours"],
                results[0.0]["baseline"],
            ),
            Case(
                f"relay takes {RELAY_DELAY * 1000:.0f} ms per message: the same",
                "messages/s",
                results[RELAY_DELAY]["ours"],
                results[RELAY_DELAY]["baseline"],
            ),
        ],
        f"Ours: {SMTP_CONCURRENCY} connections (SMTP_CONCURRENCY). Machine: {cpu()}.",
    )
    return report


if __name__ == "__main__":
    run()
