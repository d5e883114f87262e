"""The baseline of bench/smtp.py: the SMTP transport before issue 15, as it was in
worker/transports.py (stdlib smtplib in a thread, one reused connection behind one
process-wide lock, so one message at a time per worker). Kept here only to be
measured against; the worker no longer has it."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage

from worker.transports import PermanentError, TransientError


class SmtplibTransport:
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

    async def send(self, message: EmailMessage, *, idempotency_key: str, return_path: str) -> str:
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
