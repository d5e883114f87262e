"""Ways to hand a message to the world: SMTP, the Resend HTTP API, a Maildir outbox.

Every transport raises ``TransientError`` (try again later, maybe after
``retry_after`` seconds) or ``PermanentError`` (never retry), so the job
handler treats them alike.
"""

from __future__ import annotations

import asyncio
import mailbox
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol

import httpx

# Provider message ids are short tokens (Resend: a UUID); a longer one could not be indexed.
MAX_PROVIDER_ID = 256


class TransientError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    pass


class Transport(Protocol):
    name: str

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        """Send; return the provider's message id."""
        ...

    async def close(self) -> None: ...


class OutboxTransport:
    """Writes real .eml files into a Maildir: development and the demo."""

    name = "outbox"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._box: mailbox.Maildir | None = None

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        if self._box is None:  # created once: concurrent first sends would race on mkdir
            self._box = self._open()
        box = self._box
        try:
            key = await asyncio.to_thread(box.add, message)
        except FileNotFoundError:
            # The folder went away under us (cleaned up, a volume remounted): make it
            # again and try once more; a second failure is an OSError, i.e. transient.
            self._box = box = await asyncio.to_thread(self._open)
            key = await asyncio.to_thread(box.add, message)
        return f"outbox-{key}"

    def _open(self) -> mailbox.Maildir:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return mailbox.Maildir(self.path, create=True)

    async def close(self) -> None:
        return None


class SmtpTransport:
    """SMTP with one reused connection (STARTTLS and AUTH when configured).

    4xx replies and connection problems are transient; 5xx replies permanent.
    SMTP has no idempotency key: a worker that dies between the server's OK and
    the database commit re-sends with the same Message-ID.
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
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout
        self._conn: smtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    def _connect(self) -> smtplib.SMTP:
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            conn.starttls(context=ssl.create_default_context())
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def _send(self, message: EmailMessage) -> None:
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.send_message(message)
                return
            except smtplib.SMTPServerDisconnected:
                self._conn = None  # a reused connection went stale: reconnect once
                if attempt == 2:
                    raise

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
        async with self._lock:
            try:
                await asyncio.to_thread(self._send, message)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                error = f"recipient refused: {exc.recipients}"
                if all(400 <= code < 500 for code in codes):
                    raise TransientError(error) from exc
                raise PermanentError(error) from exc
            except smtplib.SMTPResponseException as exc:
                error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
                self._conn = None
                if 400 <= exc.smtp_code < 500:
                    raise TransientError(error) from exc
                raise PermanentError(error) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self._conn = None
                raise TransientError(f"SMTP connection: {exc}") from exc
        return str(message["Message-ID"])

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await asyncio.to_thread(conn.quit)
            except (OSError, smtplib.SMTPException):
                conn.close()


class ResendTransport:
    """The Resend API: POST {base_url}/emails with an Idempotency-Key."""

    name = "resend"

    def __init__(
        self, api_key: str, base_url: str = "https://api.resend.com", timeout: float = 10.0
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "intime/0.1"},
        )

    async def send(self, message: EmailMessage, *, idempotency_key: str) -> str:
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
