"""Outbound webhooks for workflow ``webhook`` steps: sign, guard the target, POST once.

Signing follows Standard Webhooks (https://www.standardwebhooks.com), byte for byte
what the ``standardwebhooks`` library verifies: ``v1,<base64 HMAC-SHA256>`` over
``{msg_id}.{timestamp}.{body}``, one space-separated entry per secret while rotating.

``TargetGuard`` (intime/netguard.py, shared with web/inbound.py) keeps workflows from
reaching the worker's own network (SSRF): every address the host resolves to must be
public unless an operator allow-listed it, and the request then goes to exactly the
address that was checked (no second lookup a rebinding DNS server could answer
differently), with the original ``Host`` header and, for https, the original hostname
for SNI and certificate verification.

``deliver`` makes one attempt and never raises for anything the network or the
receiver does: it returns a ``DeliveryOutcome`` the job handler stores and acts on
(``retry`` honours ``retry_after`` when given). No database here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import ClassVar, Literal, TypeAlias

import httpx

from intime.netguard import TargetGuard, TargetRefused, TargetUnresolved

WEBHOOK_TIMEOUT_SECONDS = 10.0
USER_AGENT = "InTime-Webhooks/1"
RETRY_AFTER_CAP_SECONDS = 3600.0
EXCERPT_CHARS = 500
_EXCERPT_BYTES = EXCERPT_CHARS * 4  # enough for 500 characters of any UTF-8
_ERROR_CHARS = 200
# Headers a step's extra headers may not set: the signature's, ours, and framing.
RESERVED_HEADERS = frozenset(
    {
        "idempotency-key",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "host",
        "user-agent",
    }
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
OutcomeKind: TypeAlias = Literal["delivered", "retry", "permanent"]


# -- signing ---------------------------------------------------------------------------


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret (the prefix is optional, padding too).

    Stricter than the reference library, which drops characters outside the base64
    alphabet without a word: here they are a ``ValueError``.
    """
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a webhook secret must be whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64>`` per secret, single spaces between."""
    if not secrets:
        raise ValueError("at least one webhook secret is required")
    content = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(secret_key(s), content, hashlib.sha256)).decode()
        for s in secrets
    )


# -- the request -------------------------------------------------------------------------


def is_reserved_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in RESERVED_HEADERS or lowered.startswith("webhook-")


@dataclass(frozen=True)
class WebhookRequest:
    """One webhook message; ``msg_id`` stays the same on every retry of it."""

    method: ClassVar[str] = "POST"

    url: str
    body: bytes
    msg_id: str
    secrets: tuple[str, ...]
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not self.msg_id or not self.msg_id.isascii() or not self.msg_id.isprintable():
            raise ValueError("msg_id must be non-empty printable ASCII")
        if any(c.isspace() for c in self.msg_id):
            raise ValueError("msg_id may not contain whitespace")
        if not self.secrets:
            raise ValueError("at least one webhook secret is required")
        for secret in self.secrets:
            secret_key(secret)
        try:
            json.loads(self.body)
        except ValueError as exc:  # also UnicodeDecodeError
            raise ValueError("the body must be UTF-8 JSON") from exc
        for name, value in self.headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"invalid header name {name!r}")
            if is_reserved_header(name):
                raise ValueError(f"header {name!r} is set by the webhook sender")
            if not (value.isascii() and value.isprintable()):
                raise ValueError(f"invalid value for header {name!r}")
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))


# -- delivery ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    kind: OutcomeKind
    status_code: int | None
    error: str | None
    retry_after: float | None
    response_excerpt: str
    duration_ms: float


@dataclass
class _Exchange:
    """What one attempt got so far (kept when the time runs out after the status)."""

    status_code: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    body: bytearray = field(default_factory=bytearray)


def new_client(*, verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """A client for ``deliver``: no proxies or settings from the environment."""
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        verify=verify,
    )


async def deliver(
    client: httpx.AsyncClient,
    guard: TargetGuard,
    request: WebhookRequest,
    *,
    now: Callable[[], float] = time.time,
    timeout: float = WEBHOOK_TIMEOUT_SECONDS,
) -> DeliveryOutcome:
    """POST ``request`` once; ``timeout`` bounds everything (DNS, connect, send, answer)."""
    started = time.perf_counter()
    got = _Exchange()

    def outcome(
        kind: OutcomeKind, error: str | None, retry_after: float | None = None
    ) -> DeliveryOutcome:
        return DeliveryOutcome(
            kind=kind,
            status_code=got.status_code,
            error=error if error is None else error[:_ERROR_CHARS],
            retry_after=retry_after,
            response_excerpt=bytes(got.body).decode("utf-8", errors="replace")[:EXCERPT_CHARS],
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    failure: tuple[OutcomeKind, str] | None = None
    try:
        await asyncio.wait_for(_exchange(client, guard, request, now, timeout, got), timeout)
    except TargetRefused as exc:
        failure = ("permanent", f"refused: {exc.reason}")
    except TargetUnresolved as exc:
        failure = ("retry", str(exc))
    except (TimeoutError, httpx.TimeoutException):
        if got.status_code is None:  # else it answered in time; only the body was slow
            failure = ("retry", f"timeout after {timeout:g} s")
    except httpx.InvalidURL as exc:
        failure = ("permanent", f"invalid URL: {exc}")
    except httpx.ConnectError as exc:
        failure = ("retry", f"cannot connect: {str(exc) or type(exc).__name__}")
    except httpx.TransportError as exc:  # protocol errors, resets before an answer
        failure = ("retry", f"{type(exc).__name__}: {exc}")
    if failure is not None:
        return outcome(*failure)
    assert got.status_code is not None
    kind, error = _classify(got.status_code, got.headers)
    retry_after = _retry_after(got.headers.get("retry-after"), now()) if kind == "retry" else None
    return outcome(kind, error, retry_after)


async def _exchange(
    client: httpx.AsyncClient,
    guard: TargetGuard,
    request: WebhookRequest,
    now: Callable[[], float],
    timeout: float,
    got: _Exchange,
) -> None:
    target = await guard.resolve(request.url)
    timestamp = int(now())
    headers = httpx.Headers(request.headers)
    headers.update(
        {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            "webhook-id": request.msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(request.secrets, request.msg_id, timestamp, request.body),
            "Idempotency-Key": request.msg_id,
        }
    )
    extensions: dict[str, object] = {"timeout": httpx.Timeout(timeout).as_dict()}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
        # The pool keys connections by address alone: a TLS connection verified for
        # one host name must not carry the next request for another one.
        headers["Connection"] = "close"
    for index, address in enumerate(target.addresses):
        outgoing = httpx.Request(
            request.method,
            target.url_for(address),
            headers=headers,
            content=request.body,
            extensions=extensions,
        )
        try:
            # auth=None: whatever the client was built with is not for these hosts.
            response = await client.send(outgoing, stream=True, follow_redirects=False, auth=None)
        except httpx.ConnectError:
            if index == len(target.addresses) - 1:
                raise
            continue  # nothing was sent: the next checked address
        try:
            got.status_code, got.headers = response.status_code, response.headers
            async for chunk in response.aiter_bytes():
                got.body += chunk
                if len(got.body) >= _EXCERPT_BYTES:
                    break
        except httpx.HTTPError:
            pass  # it answered; the body is only an excerpt
        finally:
            await response.aclose()
        return


def _classify(status: int, headers: httpx.Headers) -> tuple[OutcomeKind, str | None]:
    if 200 <= status < 300:
        return "delivered", None
    if 300 <= status < 400:
        location = headers.get("location")
        to = f" to {location[:120]}" if location else ""
        return "permanent", f"redirect not followed (HTTP {status}{to})"
    if status in {408, 429} or status >= 500:
        return "retry", f"HTTP {status}"
    return "permanent", f"HTTP {status}"


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date), at most an hour."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    return min(RETRY_AFTER_CAP_SECONDS, max(0.0, seconds))
