"""A raw HTTP/1.1 client over a socket, for tests about when a server answers.

httpx (like most clients) sends the whole body before it reads the answer, so
it cannot show that a server answered *without reading* a body. ``exchange``
streams the body from a generator in one thread and reads the answer in
another: the answer may come while most of the body was never sent, and
``sent`` says how much was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit


@dataclasses.dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client got to send before it stopped


def repeat(chunk: bytes, total: int) -> Iterator[bytes]:
    """``total`` bytes of ``chunk`` repeated, produced lazily."""
    sent = 0
    while sent < total:
        piece = chunk[: total - sent]
        sent += len(piece)
        yield piece


def chunked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Transfer-Encoding: chunked framing, without the final empty chunk (a
    body that never ends unless the server stops reading)."""
    for chunk in chunks:
        yield b"%x\r\n%s\r\n" % (len(chunk), chunk)


def _read_answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return int(status_line.split()[1]), headers, body[:length]


def exchange(
    url: str,
    path: str,
    headers: dict[str, str],
    body: Iterable[bytes],
    *,
    method: str = "POST",
    timeout: float = 15.0,
) -> Answer:
    """Send the request, streaming ``body`` until it ends, the server answers
    or the connection breaks; returns the answer and how much body was sent."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    answered = threading.Event()
    sent = 0

    def send() -> None:
        nonlocal sent
        with contextlib.suppress(OSError):
            for chunk in body:
                if answered.is_set():
                    return
                sock.sendall(chunk)
                sent += len(chunk)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        status, answer_headers, answer_body = _read_answer(sock)
    finally:
        answered.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        sender.join(timeout)
    return Answer(status, answer_headers, answer_body, sent)
