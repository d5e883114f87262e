"""Serve an ASGI app on loopback in a background thread (demo, tests, peers)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import random
import resource
import socket
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

# File descriptors a web process needs besides its client connections: database
# connections, the parser processes' pipes, logs, the listening socket ...
FD_HEADROOM = 1024


def raise_open_file_limit(connections: int) -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (never lower it), so
    that ``connections`` clients plus ``FD_HEADROOM`` fit where the hard limit allows:
    a 10,000-client stream needs more than the common soft default of 1,024. Returns
    (the soft limit now, the descriptors wanted); the caller warns when it is short."""
    wanted = connections + FD_HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return soft, wanted


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PICK = 20000


def free_port() -> int:
    """A loopback TCP port free now, for a server that binds it later (a peer process,
    a test's receiver). Picked at random below the kernel's ephemeral range: a port the
    kernel hands out for port 0 comes from that range, where every outgoing connection
    also takes its local port, so one could take it before the server binds (a CI run
    failed so). Below it, only another explicit bind can. Falls back to port 0 when no
    port there is free after a few tries."""
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    if low > LOWEST_PICK + 1000:
        for _ in range(50):
            port = random.randrange(LOWEST_PICK, low)  # noqa: S311 - spread, not security
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(
    app: Any, *, port: int | None = None, timeout: float = 15.0, exit_timeout: float = 10.0
) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 until the block ends; yields its base URL.
    A server still running ``exit_timeout`` seconds after the block ends is left
    behind (a daemon thread) with a RuntimeWarning.
    With no ``port``, the listening socket is bound here (port 0) and handed to uvicorn:
    a port picked free and bound later could be taken meanwhile (by any outgoing
    connection's ephemeral port, or another test process)."""
    sockets: list[socket.socket] | None = None
    if port is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        sockets = [sock]
    # Open event streams end within a second on exit (uvicorn otherwise waits
    # for them forever).
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    loops: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=sockets)

    def run() -> None:
        # As uvicorn's Server.run, keeping the loop: a server that does not stop is
        # reported with what its tasks are waiting in.
        loop_factory = getattr(server.config, "get_loop_factory", None)  # newer uvicorn: its loop
        if loop_factory is None:
            server.config.setup_event_loop()
        with asyncio.Runner(loop_factory=loop_factory() if loop_factory else None) as runner:
            runner.run(serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            for listening in sockets or []:
                listening.close()
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=exit_timeout)
        for listening in sockets or []:
            listening.close()
        if thread.is_alive():
            # Its app (pools, stream hub) lives on; in a test run the warnings summary
            # names the test, which went on silently before.
            warnings.warn(
                f"the server on port {port} was still running {exit_timeout} s after it was "
                f"told to exit; its thread:\n{_thread_stack(thread)}its tasks:\n"
                f"{_waiting_in(loops)}",
                RuntimeWarning,
                stacklevel=3,
            )


def _thread_stack(thread: threading.Thread) -> str:
    """Where the thread runs now: the line a synchronous call blocks on."""
    frame = sys._current_frames().get(thread.ident or -1)
    return "".join(traceback.format_stack(frame, limit=8)) if frame is not None else "(gone)\n"


def _waiting_in(loops: list[asyncio.AbstractEventLoop], limit: int = 4000) -> str:
    """Where each task of a running loop waits (read from another thread: a diagnostic,
    which a task that moves meanwhile may spoil; it never raises)."""
    if not loops:
        return "(no loop)"
    out = io.StringIO()
    try:
        tasks = list(asyncio.all_tasks(loops[0]))
        for task in tasks[:20]:
            out.write(f"- {task.get_name()}\n")
            for where in _await_chain(task.get_coro())[-8:]:
                out.write(f"    {where}\n")
    except Exception as exc:  # the task set changed while read, or an object raised
        out.write(f"(the tasks could not be read: {exc!r})")
    return out.getvalue()[-limit:] or "(none: the loop is closing)"


def _await_chain(coro: object) -> list[str]:
    """file:line in function, outermost first, down the coroutines one awaits."""
    chain: list[str] = []
    while coro is not None and len(chain) < 40:
        frame = _first(coro, ("cr_frame", "ag_frame", "gi_frame"))
        if frame is not None:
            code = frame.f_code
            chain.append(f"{code.co_filename}:{frame.f_lineno} in {code.co_name}")
        coro = _first(coro, ("cr_await", "ag_await", "gi_yieldfrom")) or next(
            # an async generator's step (``anext``: an asynccontextmanager's exit)
            # names its generator only to the garbage collector
            (r for r in gc.get_referents(coro) if _first(r, ("ag_frame",)) is not None),
            None,
        )
    return chain


def _first(obj: object, names: tuple[str, ...]) -> Any:
    """The first of the attributes ``obj`` has; None for an object whose attributes raise
    (a task's arguments are anyone's objects)."""
    for name in names:
        with contextlib.suppress(Exception):
            value = getattr(obj, name, None)
            if value is not None:
                return value
    return None


def wait_for_http(url: str, *, timeout: float = 30.0, alive: Any = None) -> None:
    """Poll ``url`` until it answers 200; ``alive()`` false (a dead process) stops early."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or (alive is not None and not alive()):
            raise RuntimeError(f"{url} did not answer 200")
        time.sleep(0.1)
