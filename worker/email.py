"""The email.send job: claim, build, send, report. Short on purpose.

1. ``api.claim_email_send`` (suppression checked again, the org's rate limit);
2. the message: Message-ID on our domain, Reply-To token, List-Unsubscribe
   (RFC 8058) on marketing and campaign mail, the HTML wrapped in a sandboxed,
   autoescaping Jinja2 layout, a text part made from it (inscriptis) unless the
   template wrote its own; the envelope sender is the send's VERP address
   (``bounce+TOKEN@reply domain``, docs/email.md);
3. the org's transport, behind a per-provider circuit breaker;
4. ``api.record_email_sent`` or ``api.fail_email_send``.

``Defer`` asks the queue to run the job again later (rate limit, open
circuit, transient failure); the worker turns it into pgqueuer's
``RetryRequested``. Every other failure of a hand-over is classified
(``_attempt``): an unforeseen exception ends the send ``failed`` with the
reason, never ``sending`` for good. The connection goes back to the pool
while the provider is talked to.
"""

from __future__ import annotations

import dataclasses
import html as htmllib
import logging
import random
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from inscriptis import get_text
from inscriptis.model.config import ParserConfig
from jinja2.sandbox import SandboxedEnvironment
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from intime.db import errors_translated
from intime.errors import NotFoundError
from worker import journal
from worker import queries as q
from worker.breaker import CircuitBreaker
from worker.jobs import Durability, Transient, one_line
from worker.metrics import WorkerMetrics
from worker.transports import PermanentError, TransientError, Transport

LAYOUT = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5">
{{ body | safe }}
{% if unsubscribe_url %}<hr><p style="font-size: 12px; color: #666">
<a href="{{ unsubscribe_url }}">Unsubscribe</a> from these emails.</p>{% endif %}
</body></html>
"""
# The layout's unsubscribe line, for a text part the template wrote itself.
UNSUBSCRIBE_TEXT = "Unsubscribe from these emails"
log = logging.getLogger("intime.worker.email")

BULK_CATEGORIES = ("marketing", "campaign")
MAX_BACKOFF = 3600.0
RECORD_TIMEOUT = 5.0


class Defer(Transient):
    """Send again after ``seconds`` (a rate limit, an open circuit, a transient failure)."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason, seconds)
        self.seconds: float = seconds


@dataclasses.dataclass
class EmailDeps:
    pool: AsyncConnectionPool
    transports: Mapping[str, Transport]
    public_url: str
    breakers: dict[str, CircuitBreaker] = dataclasses.field(default_factory=dict)
    durability: Durability = dataclasses.field(default_factory=Durability)
    layout: SandboxedEnvironment = dataclasses.field(
        default_factory=lambda: SandboxedEnvironment(autoescape=True)
    )
    metrics: WorkerMetrics | None = None

    def breaker(self, provider: str) -> CircuitBreaker:
        return self.breakers.setdefault(provider, CircuitBreaker())


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s ... capped at an hour."""
    base = min(MAX_BACKOFF, 5.0 * 2 ** max(0, attempts - 1))
    return float(base) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security


# A relative URL in an HTML attribute (href="/approvals/...", src='/static/...'): a path
# from the root, never a protocol-relative //host.
RELATIVE_ATTRIBUTE = re.compile(
    r"""(?P<lead>\s(?:href|src)\s*=\s*)(?P<quote>["'])(?P<path>/(?!/)[^"'<>]*)(?P=quote)""",
    re.IGNORECASE,
)
# A relative app path standing alone on a line of the text part (the action URL line that
# sql/functions/notifications/send.sql appends, "/approvals/apl_...").
RELATIVE_LINE = re.compile(r"^(?P<lead>[ \t]*)(?P<path>/(?![/\\])[^\s]*)[ \t]*$", re.MULTILINE)


def absolute_urls(body: str, public_url: str, *, html: bool) -> str:
    """``body`` with every relative app URL made absolute from ``public_url``
    (``INTIME_PUBLIC_URL``): in HTML the href and src attributes, in text a path alone on
    its line. A mail client has no page to resolve a relative link against."""
    base = public_url.rstrip("/")
    if html:
        escaped = htmllib.escape(base, quote=True)
        return RELATIVE_ATTRIBUTE.sub(
            lambda m: f"{m['lead']}{m['quote']}{escaped}{m['path']}{m['quote']}", body
        )
    return RELATIVE_LINE.sub(lambda m: f"{m['lead']}{base}{m['path']}", body)


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
    body = absolute_urls(str(send["html_body"]), deps.public_url, html=True)
    html = deps.layout.from_string(LAYOUT).render(
        subject=send["subject"], body=body, unsubscribe_url=unsubscribe_url
    )
    if send["text_body"]:  # the template's own text wins; bulk mail still says how to leave
        own = absolute_urls(str(send["text_body"]), deps.public_url, html=False)
        text = own.rstrip() + "\n"
        if unsubscribe_url:
            text += f"\n{UNSUBSCRIBE_TEXT}: {unsubscribe_url}\n"
    else:
        text = html_to_text(html)  # the layout's unsubscribe link comes along
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def html_to_text(html: str) -> str:
    """The text part of an HTML message (inscriptis): paragraphs, lists and tables laid
    out as text, each link's URL after its words (``[words](url)``)."""
    text: str = get_text(html, ParserConfig(display_links=True))
    return text.strip() + "\n"


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What one hand-over to the provider came to."""

    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None


async def _claim(deps: EmailDeps, org_id: uuid.UUID, send_id: uuid.UUID) -> dict[str, Any] | None:
    """The claimed send (its action says what to do), or None when it no longer exists."""
    try:
        # Org-first and alone in its transaction: on a Citus cluster the call runs on
        # the node that holds the org (docs/scale-out.md, "Function delegation").
        async with deps.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            with errors_translated():  # IT004 as NotFoundError (async_actor did it before)
                await cur.execute(q.CLAIM_EMAIL_SEND, {"id": send_id, "org_id": org_id})
            return await cur.fetchone()
    except NotFoundError:
        return None  # the send (or its org) was deleted after it was queued


async def _attempt(deps: EmailDeps, send: Mapping[str, Any]) -> Attempt:
    """Build and hand over the message. Never raises: every failure is classified."""
    provider = str(send["provider"])
    transport = deps.transports.get(provider)
    if transport is None:
        return Attempt(error=f"no {provider} transport configured", permanent=True)
    breaker = deps.breaker(provider)
    wait = breaker.wait()
    if wait:
        return Attempt(error=f"{provider} circuit open", retry_after=wait)
    probe = breaker.probing  # this call is the half-open probe (nothing awaited since)
    try:
        return await _hand_over(deps, send, provider, transport, breaker)
    finally:
        if probe and breaker.probing:
            breaker.release()


async def _hand_over(
    deps: EmailDeps,
    send: Mapping[str, Any],
    provider: str,
    transport: Transport,
    breaker: CircuitBreaker,
) -> Attempt:
    """Build the message and hand it to ``transport``; the breaker hears whether the
    provider answered."""
    try:
        message = build_message(send, deps)
    except Exception as exc:  # e.g. a header or address the email package refuses
        return Attempt(error=f"cannot build the message: {one_line(exc)}", permanent=True)
    try:
        key = str(send["email_send_id"])
        provider_message_id = await transport.send(
            message, idempotency_key=key, return_path=str(send["return_path"])
        )
    except TransientError as exc:
        breaker.failure()
        return Attempt(error=str(exc), retry_after=exc.retry_after)
    except PermanentError as exc:
        breaker.success()  # the provider answered: it works, the message does not
        return Attempt(error=str(exc), permanent=True)
    except OSError as exc:  # the machine's trouble (a disk, a socket): try again later
        breaker.failure()
        return Attempt(error=f"{provider}: {one_line(exc)}")
    except Exception as exc:  # a transport bug: end the send, say why, keep the traceback
        log.error(
            "email %s: the %s transport failed unexpectedly",
            send["email_send_id"],
            provider,
            exc_info=exc,
        )
        breaker.failure()
        return Attempt(error=f"{provider} transport error: {one_line(exc)}", permanent=True)
    breaker.success()
    return Attempt(provider_message_id=provider_message_id)


async def _record(
    deps: EmailDeps, org_id: uuid.UUID, send_id: uuid.UUID, provider: str, attempt: Attempt
) -> None:
    # A short wait for a connection: an outage is noticed (and logged) in seconds.
    async with deps.pool.connection(timeout=RECORD_TIMEOUT) as conn:
        if attempt.provider_message_id is not None:
            await conn.execute(
                q.RECORD_EMAIL_SENT,
                {
                    "id": send_id,
                    "provider": provider,
                    "provider_message_id": attempt.provider_message_id,
                    "org_id": org_id,
                },
            )
        else:
            await conn.execute(
                q.FAIL_EMAIL_SEND,
                {
                    "id": send_id,
                    "error": attempt.error,
                    "permanent": attempt.permanent,
                    "org_id": org_id,
                },
            )


async def fail_send(deps: EmailDeps, org_id: uuid.UUID, send_id: uuid.UUID, error: str) -> None:
    """End a send as failed (best effort: the caller is already handling an error)."""
    attempt = Attempt(error=error, permanent=True)
    try:
        await _record(deps, org_id, send_id, "", attempt)
    except Exception as exc:
        log.error("email %s could not be marked failed: %s", send_id, one_line(exc))


def _journal_entry(
    org_id: uuid.UUID, send_id: uuid.UUID, provider: str, attempt: Attempt
) -> dict[str, Any] | None:
    """How to record a hand-over later (journal.py): successes only."""
    if attempt.provider_message_id is None:
        return None
    params = {
        "id": str(send_id),
        "provider": provider,
        "provider_message_id": attempt.provider_message_id,
        "org_id": str(org_id),
    }
    # The org as actor too: a worker of the release before org-first calls replays it so.
    return journal.entry("RECORD_EMAIL_SENT", params, org_id)


async def send_email(
    deps: EmailDeps, org_id: uuid.UUID, send_id: uuid.UUID, *, due: datetime | None = None
) -> str:
    """Run one email.send job: sent, failed, suppressed, done or missing; or raise
    ``Defer`` (try again later) or a transient database error (the job retries).

    The outcome of a hand-over is recorded durably (``deps.durability``): when
    the database is away after the provider accepted the message, this waits
    for it instead of losing the fact that it was sent, and a stopping worker
    does not release the job meanwhile. ``due``: when the email was committed (or due),
    for the commit-to-send latency.
    """
    send = await _claim(deps, org_id, send_id)
    if send is None:
        return "missing"
    if send["action"] == "defer":
        raise Defer(float(send["retry_after_seconds"]), "deferred: rate limit, lease or pause")
    if send["action"] != "send":
        return str(send["action"])  # done or suppressed

    provider = str(send["provider"])
    with deps.durability.critical():
        attempt = await _attempt(deps, send)
        await deps.durability.settle(
            lambda: _record(deps, org_id, send_id, provider, attempt),
            f"the outcome of email {send_id} "
            f"({'sent' if attempt.provider_message_id else 'failed'})",
            _journal_entry(org_id, send_id, provider, attempt),
        )
    if deps.metrics is not None:
        status = (
            "sent"
            if attempt.provider_message_id is not None
            else "failed"
            if attempt.permanent
            else "retried"
        )
        deps.metrics.email_handed_over(provider, status, due)
    if attempt.provider_message_id is not None:
        return "sent"
    if attempt.permanent:
        return "failed"
    raise Defer(
        attempt.retry_after if attempt.retry_after is not None else backoff(int(send["attempts"])),
        attempt.error or "transient failure",
    )
