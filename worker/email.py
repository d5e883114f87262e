"""The email.send job: claim, build, send, report. Short on purpose.

1. ``api.claim_email_send`` (suppression checked again, the org's rate limit);
2. the message: Message-ID on our domain, Reply-To token, List-Unsubscribe
   (RFC 8058) on marketing and campaign mail, the HTML wrapped in a sandboxed,
   autoescaping Jinja2 layout;
3. the org's transport, behind a per-provider circuit breaker;
4. ``api.record_email_sent`` or ``api.fail_email_send``.

``Defer`` asks the queue to run the job again later (rate limit, open
circuit, transient failure); the worker turns it into pgqueuer's
``RetryRequested``.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from jinja2.sandbox import SandboxedEnvironment
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from intime.db import async_actor
from worker import queries as q
from worker.breaker import CircuitBreaker
from worker.transports import PermanentError, TransientError, Transport

LAYOUT = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5">
{{ body | safe }}
{% if unsubscribe_url %}<hr><p style="font-size: 12px; color: #666">
<a href="{{ unsubscribe_url }}">Unsubscribe</a> from these emails.</p>{% endif %}
</body></html>
"""
BULK_CATEGORIES = ("marketing", "campaign")
MAX_BACKOFF = 3600.0


class Defer(Exception):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclasses.dataclass
class EmailDeps:
    pool: AsyncConnectionPool
    transports: Mapping[str, Transport]
    public_url: str
    breakers: dict[str, CircuitBreaker] = dataclasses.field(default_factory=dict)
    layout: SandboxedEnvironment = dataclasses.field(
        default_factory=lambda: SandboxedEnvironment(autoescape=True)
    )

    def breaker(self, provider: str) -> CircuitBreaker:
        return self.breakers.setdefault(provider, CircuitBreaker())


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s ... capped at an hour."""
    base = min(MAX_BACKOFF, 5.0 * 2 ** max(0, attempts - 1))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


def build_message(send: Mapping[str, object], deps: EmailDeps) -> EmailMessage:
    unsubscribe_url = (
        f"{deps.public_url.rstrip('/')}/u/{send['unsubscribe_token']}"
        if send["category"] in BULK_CATEGORIES
        else None
    )
    message = EmailMessage()
    message["Message-ID"] = str(send["message_id"])
    message["Date"] = formatdate(localtime=False)
    message["From"] = formataddr((str(send["from_name"] or ""), str(send["from_email"])))
    message["To"] = str(send["to_email"])
    message["Reply-To"] = str(send["reply_to"])
    message["Subject"] = str(send["subject"])
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    html = deps.layout.from_string(LAYOUT).render(
        subject=send["subject"], body=send["html_body"], unsubscribe_url=unsubscribe_url
    )
    message.set_content(str(send["text_body"] or "This message is best viewed as HTML."))
    message.add_alternative(html, subtype="html")
    return message


async def send_email(deps: EmailDeps, org_id: uuid.UUID, send_id: uuid.UUID) -> str:
    """Run one email.send job. Returns the outcome, or raises ``Defer``."""
    async with deps.pool.connection() as conn:
        conn.row_factory = dict_row  # type: ignore[assignment]
        async with async_actor(conn, org_id):
            cur = await conn.execute(q.CLAIM_EMAIL_SEND, {"id": send_id})
            send = await cur.fetchone()
        assert send is not None
        if send["action"] == "defer":
            raise Defer(float(send["retry_after_seconds"]), "rate limit")
        if send["action"] != "send":
            return str(send["action"])  # done or suppressed

        provider = str(send["provider"])
        transport = deps.transports.get(provider)
        breaker = deps.breaker(provider)
        wait = breaker.wait()
        error: str | None = None
        permanent = False
        retry_after: float | None = None
        provider_message_id: str | None = None
        if transport is None:
            error, permanent = f"no {provider} transport configured", True
        elif wait:
            error, retry_after = f"{provider} circuit open", wait
        else:
            try:
                message = build_message(send, deps)
            except (ValueError, TypeError) as exc:  # e.g. a header the email package refuses
                error, permanent = f"cannot build the message: {exc}", True
        if error is None and transport is not None:
            try:
                provider_message_id = await transport.send(message, idempotency_key=str(send_id))
                breaker.success()
            except TransientError as exc:
                breaker.failure()
                error, retry_after = str(exc), exc.retry_after
            except PermanentError as exc:
                error, permanent = str(exc), True

        async with async_actor(conn, org_id):
            if provider_message_id is not None:
                await conn.execute(
                    q.RECORD_EMAIL_SENT,
                    {
                        "id": send_id,
                        "provider": provider,
                        "provider_message_id": provider_message_id,
                    },
                )
                return "sent"
            await conn.execute(
                q.FAIL_EMAIL_SEND, {"id": send_id, "error": error, "permanent": permanent}
            )
        if permanent:
            return "failed"
        raise Defer(
            retry_after if retry_after is not None else backoff(int(send["attempts"])),
            error or "transient failure",
        )
