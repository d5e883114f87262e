"""Ways to hand a message to the world: SMTP, the Resend HTTP API, a Maildir outbox.

Every transport raises ``TransientError`` (try again later, maybe after
``retry_after`` seconds) or ``PermanentError`` (never retry), so the job
handler treats them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx

# Provider message ids are short tokens (Resend: a UUID); a longer one could not be indexed.
MAX_PROVIDER_ID = 256
# Messages an SMTP transport hands over at once, each on its own connection (SMTP_CONCURRENCY).
SMTP_CONCURRENCY = 4
CLOSING = 421  # SMTP: service not available, closing the channel


class TransientError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    pass


class Transport(Protocol):
    name: str

    async def send(self, message: EmailMessage, *, idempotency_key: str, return_path: str) -> str:
        """Send; return the provider's message id. ``return_path`` is the envelope sender
        (the send's VERP address) where the transport can set it."""
        ...

    async def close(self) -> None: ...


class OutboxTransport:
    """Writes real .eml files into a Maildir: development and the demo."""

    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._box: mailbox.Maildir | None = None

    async def send(self, message: EmailMessage, *, idempotency_key: str, return_path: str) -> str:
        if self._box is None:  # created once: concurrent first sends would race on mkdir
            self._box = self._open()
        box = self._box
        # The envelope sender, recorded as the delivering MTA would (RFC 5321, 4.4): first.
        raw = f"Return-Path: <{return_path}>\n".encode() + message.as_bytes()
        try:
            key = await asyncio.to_thread(box.add, raw)
        except FileNotFoundError:
            # The folder went away under us (cleaned up, a volume remounted): make it
            # again and try once more; a second failure is an OSError, i.e. transient.
            self._box = box = await asyncio.to_thread(self._open)
            key = await asyncio.to_thread(box.add, raw)
        return f"outbox-{key}"

    def _open(self) -> mailbox.Maildir:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path, create=True)

    async def close(self) -> None:
        return None


class SmtpTransport:
    """SMTP over a pool of aiosmtplib connections (STARTTLS and AUTH when configured).

    Up to ``concurrency`` messages are handed over at once, each on a connection of
    its own; a connection goes back to the pool after its message and is reused by
    the next one (no lock around the transport, no thread). The envelope sender
    (MAIL FROM) is the send's VERP address (``return_path``).

    4xx replies and connection problems are transient; 5xx replies permanent; a
    refused recipient by its code. A pooled connection the server dropped while it
    was idle is replaced, once, by a new one. SMTP has no idempotency key: a worker
    that dies between the server's OK and the database commit re-sends with the same
    Message-ID.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        concurrency: int = SMTP_CONCURRENCY,
    ) -> None:
        if concurrency < 1:
            raise ValueError("the SMTP concurrency must be at least 1")
        self.host, self.port = host, port
        self.username, self.password = username or None, password
        self.starttls, self.timeout = starttls, timeout
        self.concurrency = concurrency
        self._local_hostname: str | None = None
        # Bound to the event loop of their first use (``_slots``).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore = asyncio.Semaphore(concurrency)
        self._idle: list[aiosmtplib.SMTP] = []  # connected, waiting for a message
        self._open: set[aiosmtplib.SMTP] = set()  # every connection of the pool

    def _slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # First use, or a transport used again under another event loop (a test's
            # asyncio.run): connections of the old loop cannot serve this one.
            for conn in self._open:
                with contextlib.suppress(RuntimeError):  # its loop is closed already
                    conn.close()
            self._loop, self._idle, self._open = loop, [], set()
            self._semaphore = asyncio.Semaphore(self.concurrency)
        return self._semaphore

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._local_hostname is None:  # what EHLO says, looked up once
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        conn = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=(self.password or "") if self.username else None,
            local_hostname=self._local_hostname,
            timeout=self.timeout,
            start_tls=self.starttls,  # no opportunistic STARTTLS: only when configured
        )
        await conn.connect()  # greeting, STARTTLS, AUTH; closes itself on failure
        self._open.add(conn)
        return conn

    def _pooled(self) -> aiosmtplib.SMTP | None:
        """An idle connection still open (one the server closed meanwhile is dropped)."""
        while self._idle:
            conn = self._idle.pop()
            if conn.is_connected:
                return conn
            self._discard(conn)
        return None

    def _discard(self, conn: aiosmtplib.SMTP) -> None:
        self._open.discard(conn)
        conn.close()

    async def _deliver(self, message: EmailMessage, sender: str) -> None:
        conn = self._pooled()
        if conn is not None:
            try:
                await self._send_on(conn, message, sender)
                return
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPResponseException) as exc:
                if not _stale(exc):
                    raise
                # The reused connection went stale (the server's idle timeout, or its limit
                # of messages per connection: it hung up, or said 421): reconnect once.
        await self._send_on(await self._connect(), message, sender)

    async def _send_on(self, conn: aiosmtplib.SMTP, message: EmailMessage, sender: str) -> None:
        try:
            await conn.send_message(message, sender=sender)
        except aiosmtplib.SMTPRecipientsRefused:
            self._release(conn)  # the envelope was reset (RSET): the connection serves on
            raise
        except BaseException:
            self._discard(conn)  # in an unknown state: never reused
            raise
        self._release(conn)

    def _release(self, conn: aiosmtplib.SMTP) -> None:
        if conn in self._open and conn.is_connected:
            self._idle.append(conn)
        else:
            self._discard(conn)  # the pool was closed meanwhile, or the server hung up

    async def send(self, message: EmailMessage, *, idempotency_key: str, return_path: str) -> str:
        async with self._slots():
            try:
                await self._deliver(message, return_path)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [refused.code for refused in exc.recipients]
                error = "recipient refused: " + "; ".join(
                    f"{refused.recipient}: {refused.code} {refused.message}"
                    for refused in exc.recipients
                )
                if all(400 <= code < 500 for code in codes):
                    raise TransientError(error) from exc
                raise PermanentError(error) from exc
            except aiosmtplib.SMTPResponseException as exc:
                error = f"SMTP {exc.code}: {exc.message!r}"
                if 400 <= exc.code < 500:
                    raise TransientError(error) from exc
                raise PermanentError(error) from exc
            except (OSError, aiosmtplib.SMTPException) as exc:
                raise TransientError(f"SMTP connection: {exc}") from exc
            except ValueError as exc:  # an address aiosmtplib will not put in an envelope
                raise PermanentError(f"SMTP: {exc}") from exc
        return str(message["Message-ID"])

    async def close(self) -> None:
        """Close every connection of the pool: QUIT on the idle ones, then the sockets
        (a connection still carrying a message is cut off, and its send fails transient)."""
        idle, self._idle = self._idle, []
        conns, self._open = self._open, set()
        ours = self._loop is asyncio.get_running_loop()

        async def close_one(conn: aiosmtplib.SMTP) -> None:
            try:
                if ours and conn in idle and conn.is_connected:
                    await asyncio.wait_for(conn.quit(), self.timeout)
            except (OSError, aiosmtplib.SMTPException, TimeoutError):
                pass
            finally:
                with contextlib.suppress(RuntimeError):  # a connection of a closed loop
                    conn.close()

        await asyncio.gather(*(close_one(conn) for conn in conns))


class ResendTransport:
    """The Resend API: POST {base_url}/emails with an Idempotency-Key.

    Resend sets the envelope sender itself (``return_path`` is not sent) and reports
    bounces through its webhooks (``email.bounced``)."""

    name = "resend"

    def __init__(
        self, api_key: str, base_url: str = "https://api.resend.com", timeout: float = 10.0
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "intime/0.1"},
        )

    async def send(self, message: EmailMessage, *, idempotency_key: str, return_path: str) -> str:
        html = message.get_body(preferencelist=("html",))
        text = message.get_body(preferencelist=("plain",))
        extra = {
            name: str(message[name])
            for name in ("Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post")
            if message[name]
        }
        body = {
            "from": str(message["From"]),
            "to": [str(message["To"])],
            "reply_to": str(message["Reply-To"]),
            "subject": str(message["Subject"]),
            "html": html.get_content() if html else None,
            "text": text.get_content() if text else None,
            "headers": extra,
        }
        try:
            response = await self._client.post(
                "/emails", json=body, headers={"Idempotency-Key": idempotency_key}
            )
        except httpx.TransportError as exc:  # timeouts, refused connections
            raise TransientError(f"Resend unreachable: {exc!r}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(
                f"Resend {response.status_code}: {response.text[:300]}",
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if response.status_code >= 400:
            raise PermanentError(f"Resend {response.status_code}: {response.text[:300]}")
        try:
            provider_id = response.json()["id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransientError(f"Resend answered without an id: {response.text[:300]}") from exc
        if not (
            isinstance(provider_id, str)
            and 0 < len(provider_id) <= MAX_PROVIDER_ID
            and provider_id.isascii()
            and provider_id.isprintable()
        ):
            # Accepted, but with an id we cannot store or match events by: the send is
            # not retried (the idempotency key would return the same id anyway).
            raise PermanentError(f"Resend answered with an unusable id: {str(provider_id)[:80]!r}")
        return provider_id

    async def close(self) -> None:
        await self._client.aclose()


def _stale(exc: aiosmtplib.SMTPException) -> bool:
    """A pooled connection the server is done with: hung up, or 421 (closing)."""
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code == CLOSING


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
