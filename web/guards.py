"""Request guards shared by the routes: refusals, capped body reads, and the
answer to an unavailable database.

Order on every route that takes a body: authenticate (or, for a Svix-signed
webhook, require its headers), refuse a ``Content-Length`` over the limit,
then stream the body with a byte cap and a deadline (``limits.body_deadline``:
a body that has not arrived in full by then is a 408). A refusal sent before
the body was read carries ``Connection: close``, so the server does not go on
receiving (and discarding) an upload nobody will read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import psycopg
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from intime.db import is_node_failure
from web import limits
from web.limits import RETRY_AFTER_SECONDS

log = logging.getLogger("intime.web")


class Rejected(Exception):
    """A request refused before anything is written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def body_pending(request: Request) -> bool:
    """Whether the client announced a body that has not been read."""
    if getattr(request.state, "body_read", False):
        return False
    length = request.headers.get("content-length")
    return bool(length and length.strip() != "0") or "transfer-encoding" in request.headers


def refusal(status: int, message: str, *, request: Request | None = None) -> JSONResponse:
    """``{"error": message}``; 503 with Retry-After; ``Connection: close`` when
    ``request`` still has an unread body."""
    headers: dict[str, str] = {}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    if request is not None and body_pending(request):
        headers["Connection"] = "close"
    return JSONResponse({"error": message}, status, headers=headers)


def rejected(exc: Rejected, request: Request | None = None) -> JSONResponse:
    return refusal(exc.status, exc.message, request=request)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, at most ``limit`` bytes, or ``Rejected(413)`` without reading
    more than the limit (a chunked upload is cut off at the limit too).

    The whole body must arrive within ``limits.body_deadline`` of the size
    announced (of ``limit`` for a chunked upload), or ``Rejected(408)``.
    """
    declared = request.headers.get("content-length")
    expected = limit
    if declared is not None:
        if not declared.strip().isdigit():
            raise Rejected(400, "invalid Content-Length")
        expected = int(declared)
        if expected > limit:
            raise Rejected(413, f"the body is over {limit} bytes")
    seconds = limits.body_deadline(expected)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Rejected(413, f"the body is over {limit} bytes")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise Rejected(408, f"the body did not arrive within {seconds:.0f} s") from exc
    except ClientDisconnect as exc:
        raise Rejected(400, "the client went away while sending the body") from exc
    request.state.body_read = True  # a refusal from here on keeps the connection
    return b"".join(chunks)


class ByteBudget:
    """Bytes that may be buffered at once by requests not yet authenticated."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0

    @contextlib.contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold ``size`` bytes for the block, or ``Rejected(503)`` when they are not free."""
        if self.used + size > self.capacity:
            raise Rejected(503, "too many unverified bodies in flight; retry later")
        self.used += size
        try:
            yield
        finally:
            self.used -= size


def unavailable(error: str = "the database is unavailable; retry later") -> JSONResponse:
    return refusal(503, error)


def is_input_limit(exc: psycopg.Error) -> bool:
    """SQLSTATE class 54 (e.g. an index row too large): the request's fault, not an outage."""
    return (exc.sqlstate or "").startswith("54")


async def database_error(request: Request, exc: Exception) -> Response:
    """The app's handler for ``psycopg.OperationalError`` and ``psycopg.InternalError``
    from any route.

    A lost connection, a pool timeout, a server shutting down, a statement
    timeout, a serialization failure or a Citus node away (an internal error of
    its own, ``intime.db.is_node_failure``) is temporary: 503 with Retry-After, so
    the gateway, Resend and browsers retry. A program limit (class 54) is the
    input's fault: 422, so nobody retries it forever. Any other internal error is
    a bug: raised again, the 500 it always was.
    """
    if isinstance(exc, psycopg.InternalError) and not is_node_failure(exc):
        raise exc
    if isinstance(exc, psycopg.Error) and is_input_limit(exc):
        log.info("%s %s: refused by a database limit: %s", request.method, request.url.path, exc)
        return refusal(422, "the request exceeds a database limit")
    log.warning("%s %s: database unavailable: %r", request.method, request.url.path, exc)
    return unavailable()
