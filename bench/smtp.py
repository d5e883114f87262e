"""SMTP send throughput to a local SMTP server (aiosmtpd in its own process):
the worker's transport reusing one connection against a connection per message.

Measures the transport alone (message built once per send, as the job does),
so the figure is what one worker process can hand to a relay.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import smtplib
import socket
import time
from email.message import EmailMessage

from bench.common import print_table
from worker.transports import SmtpTransport

MESSAGES = 1500


def _serve(port: int, ready: multiprocessing.synchronize.Event) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:
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


def run() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, ready), daemon=True)
    server.start()
    ready.wait(10)
    try:
        transport = SmtpTransport("127.0.0.1", port)

        async def reuse() -> float:
            start = time.perf_counter()
            for i in range(MESSAGES):
                await transport.send(_message(i), idempotency_key=str(i))
            elapsed = time.perf_counter() - start
            await transport.close()
            return MESSAGES / elapsed

        ours = asyncio.run(reuse())
        start = time.perf_counter()
        for i in range(MESSAGES // 3):
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as conn:
                conn.send_message(_message(i))
        baseline = (MESSAGES // 3) / (time.perf_counter() - start)
    finally:
        server.terminate()
        server.join(5)
    # print_table's ratio is baseline / ours, right for times; invert for rates.
    print_table(
        f"SMTP throughput, {MESSAGES:,} messages to aiosmtpd on loopback",
        [
            (
                "ms per message: reused connection (ours) vs connection per message",
                1000 / ours,
                1000 / baseline,
            )
        ],
        "ms",
        f"ours: {ours:,.0f} messages/s; connection per message: {baseline:,.0f} messages/s.",
    )


if __name__ == "__main__":
    run()
