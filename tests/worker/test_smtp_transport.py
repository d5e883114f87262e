"""The SMTP transport (docs/email.md, "SMTP"): a pool of aiosmtplib connections per
transport, several messages in flight at once, the VERP envelope sender, and the
classification of every failure. Against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from intime_cli.serving import free_port
from tests.support import Database, Mail
from tests.worker.test_email_send import PUBLIC, run, use_provider
from worker.app import run_worker
from worker.email import Defer, send_email
from worker.transports import PermanentError, SmtpTransport


@dataclasses.dataclass
class Relay:
    """An SMTP server that records what it is given, and misbehaves when told to."""

    hold: float = 0.0  # seconds each DATA waits before its answer
    data_reply: str = "250 2.0.0 OK"
    rcpt_reply: str | None = None  # None: accept
    # On a connection's second MAIL FROM: "hang up" (close without a word) or a reply.
    second_mail: str | None = None
    mail_from: list[str] = dataclasses.field(default_factory=list)
    contents: list[bytes] = dataclasses.field(default_factory=list)
    sessions: set[tuple] = dataclasses.field(default_factory=set)
    quits: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    _mails: dict[tuple, int] = dataclasses.field(default_factory=dict)

    async def handle_MAIL(self, server, session, envelope, address, options) -> str:
        peer = session.peer
        self.sessions.add(peer)
        self._mails[peer] = self._mails.get(peer, 0) + 1
        if self._mails[peer] == 2 and self.second_mail is not None:
            if self.second_mail == "hang up":
                server.transport.close()
                return "250 OK"  # never reaches the client
            return self.second_mail
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.in_flight -= 1
        if self.data_reply.startswith("250"):
            self.mail_from.append(envelope.mail_from)
            self.contents.append(envelope.content)
        return self.data_reply

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.quits += 1
        return "221 Bye"


@dataclasses.dataclass
class Served:
    relay: Relay
    port: int

    def transport(self, concurrency: int = 4) -> SmtpTransport:
        return SmtpTransport("127.0.0.1", self.port, concurrency=concurrency)


@pytest.fixture
def relay() -> Iterator[Served]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield Served(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def relay_with_auth() -> Iterator[tuple[Served, list]]:
    """A relay that asks for AUTH and records each login."""
    handler = Relay()
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server, session, envelope, mechanism, data) -> AuthResult:
        logins.append((data.login, data.password))
        # handled=False: aiosmtpd answers a refusal itself (535).
        return AuthResult(success=data.password == b"s3cret", handled=False)

    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,  # loopback: aiosmtpd warns (ignored by the tests' mark)
    )
    controller.start()
    try:
        yield Served(handler, port), logins
    finally:
        controller.stop()


def queue_sends(mail: Mail, count: int) -> list[uuid.UUID]:
    return [
        mail.queue(to=f"lead{i}@example.com", subject=f"Hello {i}", text="x") for i in range(count)
    ]


def attempt(db: Database, mail: Mail, transport: SmtpTransport, send_id: uuid.UUID) -> str:
    """One email.send job: its result, or "deferred" (it asked to run again later)."""
    try:
        return run(db, {"smtp": transport}, lambda d: send_email(d, mail.org_id, send_id))
    except Defer:
        return "deferred"


def test_one_worker_hands_several_messages_to_the_relay_at_once(
    db: Database, mail: Mail, admin, relay: Served
) -> None:
    """The relay holds each message for a moment: one worker process with one SMTP
    transport still has more than one message in the relay at once."""
    use_provider(admin, mail, "smtp")
    admin.execute("delete from queue.pgqueuer")  # only this test's jobs
    relay.relay.hold = 0.4
    sends = queue_sends(mail, 8)

    async def drain() -> None:
        transport = relay.transport(concurrency=4)
        try:
            await run_worker(db.dsn("intime_service"), {"smtp": transport}, PUBLIC, drain=True)
        finally:
            await transport.close()

    asyncio.run(asyncio.wait_for(drain(), timeout=60))
    assert len(relay.relay.contents) == 8
    assert {mail.send_row(s)["status"] for s in sends} == {"sent"}
    assert 1 < relay.relay.max_in_flight <= 4
    assert 1 < len(relay.relay.sessions) <= 4, "one connection per message in flight, reused"


def test_the_envelope_sender_is_the_sends_verp_address(
    db: Database, mail: Mail, admin, relay: Served
) -> None:
    use_provider(admin, mail, "smtp")
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    transports = {"smtp": relay.transport()}
    assert run(db, transports, lambda d: send_email(d, mail.org_id, send_id)) == "sent"
    row = mail.send_row(send_id)
    assert relay.relay.mail_from == [f"bounce+{row['reply_token']}@mail.acme.example"]
    assert row["reply_to"] == f"reply+{row['reply_token']}@mail.acme.example"
    # The relay that delivers it writes Return-Path; the sender does not (RFC 5321, 4.4).
    assert b"Return-Path" not in relay.relay.contents[0]


def test_a_5xx_reply_fails_the_send_for_good(
    db: Database, mail: Mail, admin, relay: Served
) -> None:
    use_provider(admin, mail, "smtp")
    relay.relay.data_reply = "554 5.7.1 Message rejected as spam"
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    assert attempt(db, mail, relay.transport(), send_id) == "failed"
    row = mail.send_row(send_id)
    assert row["status"] == "failed"
    assert "SMTP 554" in row["error"]


def test_a_4xx_reply_defers_the_send(db: Database, mail: Mail, admin, relay: Served) -> None:
    use_provider(admin, mail, "smtp")
    relay.relay.data_reply = "451 4.3.0 Try again later"
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    assert attempt(db, mail, relay.transport(), send_id) == "deferred"
    row = mail.send_row(send_id)
    assert row["status"] == "queued"
    assert "SMTP 451" in row["error"]


@pytest.mark.parametrize(
    ("reply", "result", "status"),
    [
        ("550 5.1.1 No such user", "failed", "failed"),
        ("450 4.2.1 Mailbox busy", "deferred", "queued"),
    ],
)
def test_a_refused_recipient_is_classified_by_its_code(
    db: Database, mail: Mail, admin, relay: Served, reply: str, result: str, status: str
) -> None:
    use_provider(admin, mail, "smtp")
    relay.relay.rcpt_reply = reply
    send_id = mail.queue(to="gone@example.com", subject="Hi", text="x")
    assert attempt(db, mail, relay.transport(), send_id) == result
    row = mail.send_row(send_id)
    assert row["status"] == status
    assert row["error"].startswith(f"recipient refused: gone@example.com: {reply[:3]}")


@pytest.mark.parametrize("drop", ["hang up", "421 4.4.2 Idle timeout, closing connection"])
def test_a_pooled_connection_the_relay_dropped_is_replaced_once(
    db: Database, mail: Mail, admin, relay: Served, drop: str
) -> None:
    """The relay is done with the first connection when the second message comes (an
    idle timeout, a limit of messages per connection): a new connection carries it."""
    use_provider(admin, mail, "smtp")
    relay.relay.second_mail = drop
    first, second = queue_sends(mail, 2)
    transport = relay.transport(concurrency=1)

    async def both(deps) -> list[str]:
        return [await send_email(deps, mail.org_id, s) for s in (first, second)]

    assert run(db, {"smtp": transport}, both) == ["sent", "sent"]
    assert len(relay.relay.contents) == 2
    assert len(relay.relay.sessions) == 2


def test_a_relay_that_cannot_be_reached_defers_the_send(db: Database, mail: Mail, admin) -> None:
    use_provider(admin, mail, "smtp")
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    nobody = SmtpTransport("127.0.0.1", free_port(), timeout=2)
    assert attempt(db, mail, nobody, send_id) == "deferred"
    row = mail.send_row(send_id)
    assert row["status"] == "queued"
    assert row["error"].startswith("SMTP connection")


def message(i: int) -> EmailMessage:
    """A message as the email.send job hands it to the transport."""
    m = EmailMessage()
    m["From"] = "a@mail.acme.example"
    m["To"] = f"r{i}@example.com"
    m["Subject"] = "x"
    m["Message-ID"] = f"<{i}@mail.acme.example>"
    m.set_content("x")
    return m


def test_close_quits_every_pooled_connection(relay: Served) -> None:
    relay.relay.hold = 0.2
    transport = relay.transport(concurrency=3)

    async def scenario() -> None:
        await asyncio.gather(
            *(
                transport.send(message(i), idempotency_key=str(i), return_path="b@x.example")
                for i in range(6)
            )
        )
        await transport.close()

    asyncio.run(scenario())
    assert len(relay.relay.contents) == 6
    assert len(relay.relay.sessions) == 3
    assert relay.relay.quits == 3


NO_TLS_WARNING = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@NO_TLS_WARNING
def test_the_transport_logs_in_once_per_connection(relay_with_auth: tuple[Served, list]) -> None:
    served, logins = relay_with_auth
    transport = SmtpTransport(
        "127.0.0.1", served.port, username="intime", password="s3cret", concurrency=1
    )

    async def scenario() -> None:
        for i in range(3):
            await transport.send(message(i), idempotency_key=str(i), return_path="b@x.example")
        await transport.close()

    asyncio.run(scenario())
    assert logins == [(b"intime", b"s3cret")], "one connection, reused, logged in once"
    assert len(served.relay.contents) == 3


@NO_TLS_WARNING
def test_wrong_credentials_fail_the_message_for_good(relay_with_auth: tuple[Served, list]) -> None:
    served, _ = relay_with_auth
    transport = SmtpTransport("127.0.0.1", served.port, username="intime", password="wrong")

    async def scenario() -> None:
        try:
            await transport.send(message(0), idempotency_key="0", return_path="b@x.example")
        finally:
            await transport.close()

    with pytest.raises(PermanentError, match="SMTP 535"):
        asyncio.run(scenario())
    assert served.relay.contents == []
