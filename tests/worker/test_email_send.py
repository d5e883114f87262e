"""The email.send job end to end: real SMTP, a loopback Resend, a Maildir outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import mailbox
import re
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from intime.db import actor, open_pool
from tests.peers import FakeResend, SmtpServer
from tests.support import Database, Mail, event
from worker.app import run_worker
from worker.breaker import CircuitBreaker
from worker.email import Defer, EmailDeps, send_email
from worker.transports import OutboxTransport, ResendTransport, SmtpTransport, Transport

PUBLIC = "https://crm.example"
EVIL = {"contact": {"first_name": "<script>alert(1)</script>"}, "deal": {"name": "D&D"}}


def use_provider(admin, mail: Mail, provider: str, rate: int = 100) -> None:
    admin.execute(
        "update app.email_settings set provider = %s, rate_limit_per_minute = %s, "
        "rate_tokens = null where org_id = %s",
        (provider, rate, mail.org_id),
    )


def run(
    db: Database, transports: dict[str, Transport], body: Callable[[EmailDeps], Coroutine]
) -> Any:
    async def scenario() -> Any:
        pool = await open_pool(db.dsn("intime_service"), max_size=4)
        try:
            return await body(EmailDeps(pool=pool, transports=transports, public_url=PUBLIC))
        finally:
            await pool.close()
            for transport in transports.values():
                await transport.close()

    return asyncio.run(scenario())


def test_smtp_delivers_with_threading_and_unsubscribe_headers(
    db: Database, mail: Mail, admin, smtp_server: SmtpServer
) -> None:
    use_provider(admin, mail, "smtp")
    send_id = mail.queue(to="lead@example.com", template_slug="intro", variables=EVIL)
    smtp = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
    assert run(db, smtp, lambda d: send_email(d, mail.org_id, send_id)) == "sent"
    [message] = smtp_server.messages
    row = mail.send_row(send_id)
    assert message["Message-ID"] == row["message_id"]
    assert message["Message-ID"].endswith("@mail.acme.example>")
    assert message["Reply-To"] == row["reply_to"]
    assert message["Reply-To"].startswith("reply+")
    assert message["List-Unsubscribe"] == f"<{PUBLIC}/u/{row['unsubscribe_token']}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert row["status"] == "sent"


def test_transactional_mail_has_no_unsubscribe_header(
    db: Database, mail: Mail, admin, smtp_server: SmtpServer
) -> None:
    use_provider(admin, mail, "smtp")
    send_id = mail.queue(to="buyer@example.com", subject="Your receipt", text="Thanks")
    run(
        db,
        {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    [message] = smtp_server.messages
    assert message["List-Unsubscribe"] is None


def test_a_recipient_suppressed_after_queueing_is_not_sent(
    db: Database, mail: Mail, admin, smtp_server: SmtpServer
) -> None:
    use_provider(admin, mail, "smtp")
    send_id = mail.queue(to="late@example.com", subject="Hi", text="x")
    admin.execute(
        "insert into app.suppressions (org_id, email, reason) values (%s, 'late@example.com', "
        "'manual')",
        (mail.org_id,),
    )
    result = run(
        db,
        {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    assert result == "suppressed"
    assert smtp_server.messages == []


def test_resend_gets_the_send_id_as_idempotency_key(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    use_provider(admin, mail, "resend")
    send_id = mail.queue(to="api@example.com", subject="Hi", text="x")
    resend = {"resend": ResendTransport("re_test", fake_resend.url)}
    assert run(db, resend, lambda d: send_email(d, mail.org_id, send_id)) == "sent"
    [request] = fake_resend.requests
    assert request["headers"]["idempotency-key"] == str(send_id)
    assert request["headers"]["authorization"] == "Bearer re_test"
    assert mail.send_row(send_id)["provider_message_id"] == "re_1"


def test_a_429_is_retried_after_retry_after_with_the_same_key(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    use_provider(admin, mail, "resend")
    send_id = mail.queue(to="busy@example.com", subject="Hi", text="x")
    fake_resend.script.append((429, {"message": "slow down"}, {"Retry-After": "7"}))

    async def twice(deps: EmailDeps) -> tuple[float, str]:
        with pytest.raises(Defer) as deferred:
            await send_email(deps, mail.org_id, send_id)
        status = await send_email(deps, mail.org_id, send_id)
        return deferred.value.seconds, status

    seconds, status = run(db, {"resend": ResendTransport("k", fake_resend.url)}, twice)
    assert (seconds, status) == (7.0, "sent")
    keys = [r["headers"]["idempotency-key"] for r in fake_resend.requests]
    assert keys == [str(send_id), str(send_id)]


def test_repeated_5xx_open_the_circuit_and_defer_without_calling(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    use_provider(admin, mail, "resend")
    sends = [mail.queue(to=f"c{i}@example.com", subject="Hi", text="x") for i in range(3)]
    fake_resend.script.extend([(503, {}, {})] * 2)

    async def scenario(deps: EmailDeps) -> list[str]:
        deps.breakers["resend"] = CircuitBreaker(threshold=2, cooldown=60)
        outcomes = []
        for send_id in sends:
            try:
                outcomes.append(await send_email(deps, mail.org_id, send_id))
            except Defer as defer:
                outcomes.append(str(defer))
        return outcomes

    outcomes = run(db, {"resend": ResendTransport("k", fake_resend.url)}, scenario)
    assert outcomes[2] == "resend circuit open"
    assert len(fake_resend.requests) == 2
    assert mail.send_row(sends[2])["status"] == "queued"  # deferred, never dropped


def test_a_4xx_fails_the_send_for_good(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    use_provider(admin, mail, "resend")
    send_id = mail.queue(to="bad@example.com", subject="Hi", text="x")
    fake_resend.script.append((422, {"message": "invalid from"}, {}))
    assert (
        run(
            db,
            {"resend": ResendTransport("k", fake_resend.url)},
            lambda d: send_email(d, mail.org_id, send_id),
        )
        == "failed"
    )
    row = mail.send_row(send_id)
    assert row["status"] == "failed"
    assert "422" in row["error"]


def test_the_org_rate_limit_defers_instead_of_dropping(
    db: Database, mail: Mail, admin, tmp_path: Path
) -> None:
    use_provider(admin, mail, "outbox", rate=1)
    first = mail.queue(to="r1@example.com", subject="Hi", text="x")
    second = mail.queue(to="r2@example.com", subject="Hi", text="x")

    async def both(deps: EmailDeps) -> tuple[str, float]:
        sent = await send_email(deps, mail.org_id, first)
        with pytest.raises(Defer) as deferred:
            await send_email(deps, mail.org_id, second)
        return sent, deferred.value.seconds

    sent, wait = run(db, {"outbox": OutboxTransport(tmp_path / "outbox")}, both)
    assert sent == "sent"
    assert 50 < wait <= 60
    assert mail.send_row(second)["status"] == "queued"


def test_the_outbox_writes_a_real_eml(db: Database, mail: Mail, admin, tmp_path: Path) -> None:
    use_provider(admin, mail, "outbox")
    send_id = mail.queue(to="dev@example.com", subject="Local", text="hello")
    run(
        db,
        {"outbox": OutboxTransport(tmp_path / "outbox")},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    [message] = list(mailbox.Maildir(tmp_path / "outbox"))
    assert message["To"] == "dev@example.com"
    assert message["Message-ID"] == mail.send_row(send_id)["message_id"]


def test_the_outbox_records_the_envelope_sender_as_return_path(
    db: Database, mail: Mail, admin, tmp_path: Path
) -> None:
    use_provider(admin, mail, "outbox")
    send_id = mail.queue(to="dev@example.com", subject="Local", text="hello")
    run(
        db,
        {"outbox": OutboxTransport(tmp_path / "outbox")},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    [message] = list(mailbox.Maildir(tmp_path / "outbox"))
    token = mail.send_row(send_id)["reply_token"]
    assert message["Return-Path"] == f"<bounce+{token}@mail.acme.example>"
    assert message.keys()[0] == "Return-Path"


def sent_text(db: Database, mail: Mail, tmp_path: Path, **params: object) -> tuple[str, dict]:
    """The text/plain part of the message a send of ``params`` puts in the outbox, and
    the send."""
    send_id = mail.queue(to="reader@example.com", subject="Hi", **params)
    run(
        db,
        {"outbox": OutboxTransport(tmp_path / "outbox")},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    [stored] = list(mailbox.Maildir(tmp_path / "outbox"))
    message = email.message_from_bytes(stored.as_bytes(), policy=email.policy.default)
    return message.get_body(preferencelist=("plain",)).get_content(), mail.send_row(send_id)


def test_the_text_part_is_made_from_the_html(
    db: Database, mail: Mail, admin, tmp_path: Path
) -> None:
    use_provider(admin, mail, "outbox")
    html = (
        "<h1>Spring offer</h1><p>Hello <b>Ada</b> &amp; team,</p>"
        '<p>See <a href="https://acme.example/pricing?plan=pro&amp;y=1">our pricing</a>.</p>'
        "<ul><li>Fast</li><li>Cheap</li></ul>"
    )
    text, row = sent_text(db, mail, tmp_path, html=html, category="marketing")
    for words in ("Spring offer", "Hello Ada & team,", "our pricing", "Fast", "Cheap"):
        assert words in text
    assert "https://acme.example/pricing?plan=pro&y=1" in text, "links stay usable"
    assert "Unsubscribe" in text
    assert f"({PUBLIC}/u/{row['unsubscribe_token']})" in text, "bulk mail says how to leave"
    assert not re.search(r"</?[a-z]", text), "no HTML tags"
    assert "best viewed as HTML" not in text


def test_a_send_with_its_own_text_keeps_it(db: Database, mail: Mail, admin, tmp_path: Path) -> None:
    use_provider(admin, mail, "outbox")
    text, _ = sent_text(db, mail, tmp_path, html="<p>Rich</p>", text="Plain version, by hand.")
    assert text == "Plain version, by hand.\n"


def test_bulk_mail_with_its_own_text_gets_the_unsubscribe_line(
    db: Database, mail: Mail, admin, tmp_path: Path
) -> None:
    use_provider(admin, mail, "outbox")
    text, row = sent_text(
        db, mail, tmp_path, html="<p>Rich</p>", text="Plain, by hand.", category="marketing"
    )
    assert text == (
        f"Plain, by hand.\n\nUnsubscribe from these emails: {PUBLIC}/u/{row['unsubscribe_token']}\n"
    )


def test_two_workers_racing_on_one_job_send_once(
    db: Database, mail: Mail, admin, smtp_server: SmtpServer
) -> None:
    use_provider(admin, mail, "smtp")
    admin.execute("delete from queue.pgqueuer")  # only this test's job
    send_id = mail.queue(to="once@example.com", subject="Once", text="x")

    async def race() -> None:
        await asyncio.gather(
            *(
                run_worker(
                    db.dsn("intime_service"),
                    {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)},
                    PUBLIC,
                    drain=True,
                )
                for _ in range(2)
            )
        )

    asyncio.run(asyncio.wait_for(race(), timeout=60))
    assert len(smtp_server.messages) == 1
    assert mail.send_row(send_id)["status"] == "sent"


def test_an_event_that_beat_the_send_response_lands(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    use_provider(admin, mail, "resend")
    send_id = mail.queue(to="fast@example.com", subject="Hi", text="x")
    assert mail.ingest(f"early-{uuid.uuid4().hex}", event("email.delivered", "re_1")) == "pending"
    run(
        db,
        {"resend": ResendTransport("k", fake_resend.url)},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    assert mail.send_row(send_id)["status"] == "delivered"


def test_a_send_interrupted_mid_flight_is_resent_with_the_same_key(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    """A worker that dies after claiming (status sending) loses nothing: the
    re-delivered job sends again with the same Idempotency-Key."""
    use_provider(admin, mail, "resend")
    send_id = mail.queue(to="crash@example.com", subject="Hi", text="x")
    with actor(mail.conn, mail.org_id):
        action = mail.conn.execute(
            "select action from api.claim_email_send(p_email_send_id => %s)", (send_id,)
        ).fetchone()
    assert action == ("send",)
    assert mail.send_row(send_id)["status"] == "sending"  # ... and the worker died here
    # Its lease runs out (api.claim_email_send defers a live one: docs/operations.md, rule 4).
    admin.execute(
        "update app.email_sends set sending_until = clock_timestamp() where id = %s", (send_id,)
    )
    assert (
        run(
            db,
            {"resend": ResendTransport("k", fake_resend.url)},
            lambda d: send_email(d, mail.org_id, send_id),
        )
        == "sent"
    )
    assert [r["headers"]["idempotency-key"] for r in fake_resend.requests] == [str(send_id)]
    assert mail.send_row(send_id)["attempts"] == 2


def test_a_permanent_refusal_of_the_probe_closes_the_circuit(
    db: Database, mail: Mail, admin, fake_resend: FakeResend
) -> None:
    """The provider answered the half-open probe, if with a 4xx for that message: it
    works, so the sends after it go ahead instead of waiting for a probe that ended."""
    use_provider(admin, mail, "resend")
    sends = [mail.queue(to=f"p{i}@example.com", subject="Hi", text="x") for i in range(2)]
    fake_resend.script.extend(
        [(503, {}, {}), (422, {"message": "bad"}, {}), (200, {"id": "re_after"}, {})]
    )

    async def scenario(deps: EmailDeps) -> list[str]:
        breaker = CircuitBreaker(threshold=1, cooldown=0.05)
        deps.breakers["resend"] = breaker
        first = mail.queue(to="opens@example.com", subject="Hi", text="x")
        with pytest.raises(Defer):
            await send_email(deps, mail.org_id, first)  # the 503 opens it
        await asyncio.sleep(0.06)
        probe = await send_email(deps, mail.org_id, sends[0])  # the 422
        after = await send_email(deps, mail.org_id, sends[1])
        return [probe, after, breaker.state]

    outcomes = run(db, {"resend": ResendTransport("k", fake_resend.url)}, scenario)
    assert outcomes == ["failed", "sent", "closed"]


def test_a_send_deleted_after_it_was_queued_is_missing_not_a_failed_job(
    db: Database, mail: Mail, admin, tmp_path: Path
) -> None:
    """The org-first claim's IT004 is the "missing" outcome, as it was under an actor."""
    use_provider(admin, mail, "outbox")
    send_id = mail.queue(to="gone@example.com", subject="Hi", text="x")
    admin.execute("delete from app.email_sends where id = %s", (send_id,))
    outcome = run(
        db,
        {"outbox": OutboxTransport(tmp_path / "outbox")},
        lambda d: send_email(d, mail.org_id, send_id),
    )
    assert outcome == "missing"
