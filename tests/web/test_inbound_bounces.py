"""Bounce reports that come back as mail (DSN, RFC 3464, and a qmail text bounce read by
flufl.bounce), posted to /webhooks/inbound over real HTTP: each real-world-shaped sample
in tests/fixtures/testdata/mail ends as a hard or soft bounce (or a delay) on the send
it names, stops the campaign enrollment and suppresses a hard-bounced address; a third
soft bounce suppresses; a report that names no send of ours is kept with its reason; a
report delivered twice is applied once; a report received through Resend is read from
its raw message, fetched from Resend's base URL or a public HTTPS address only."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from psycopg.rows import dict_row

from tests.sql.campaigns.conftest import Campaigns, camp
from tests.support import TESTDATA, Mail
from tests.web.conftest import INBOUND_TOKEN
from tests.web.test_inbound_webhook import post
from tests.web.test_resend_webhook import signed
from web.app import create_app
from web.inbound import parse_message

__all__ = ["camp"]

MAIL = TESTDATA / "mail"
# The send every sample answers or returns (its Message-ID, and the token of its
# reply+TOKEN@ Reply-To and bounce+TOKEN@ envelope sender).
OUR_MESSAGE_ID = "<0d5c6a2e-8f3b-4c1d-9e7a-2b4f6c8d0e1f@mail.acme.example>"
OUR_TOKEN = "7c2f9e4a1b6d4c8e9a3f5b0d2e6c8a14"
AUTH = {"authorization": f"Bearer {INBOUND_TOKEN}"}


def sample(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def deliver(base_url: str, raw: bytes) -> dict[str, Any]:
    response = post(base_url, raw, **AUTH)
    assert response.status_code == 200, response.text
    return response.json() | {"inbound_id": None}


@dataclasses.dataclass
class Enrolled:
    """One contact enrolled in a two-step campaign whose first email was sent; the
    send carries the Message-ID and token the samples name."""

    camp: Campaigns
    campaign_id: uuid.UUID
    send_id: uuid.UUID

    def row(self, query: str, *params: Any) -> dict[str, Any]:
        row = self.camp.owner.cursor(row_factory=dict_row).execute(query, params).fetchone()
        assert row is not None
        return row

    def send(self) -> dict[str, Any]:
        return self.row("select * from app.email_sends where id = %s", self.send_id)

    def enrollment(self) -> dict[str, Any]:
        return self.row(
            "select e.* from app.campaign_enrollments as e join app.email_sends as s "
            "on s.org_id = e.org_id and s.enrollment_id = e.id where s.id = %s",
            self.send_id,
        )

    def suppressions(self) -> list[str]:
        rows = self.camp.owner.execute(
            "select reason from app.suppressions where email = lower(%s) order by reason",
            (self.send()["to_email"],),
        ).fetchall()
        return [r[0] for r in rows]

    def events(self) -> list[str]:
        rows = self.camp.owner.execute(
            "select type from app.email_events where email_send_id = %s order by id",
            (self.send_id,),
        ).fetchall()
        return [r[0] for r in rows]


@pytest.fixture
def enrolled(camp: Campaigns) -> Enrolled:
    cid = camp.create(name="Outreach")
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    assert camp.tick()["sent"] == 1
    [send] = camp.sends(cid)
    Mail(camp.conn, camp.org_id, camp.admin_id).sent(send["id"], f"smtp-{send['id']}")
    camp.owner.execute(
        "update app.email_sends set message_id = %s, reply_token = %s where id = %s",
        (OUR_MESSAGE_ID, OUR_TOKEN, send["id"]),
    )
    return Enrolled(camp, cid, send["id"])


HARD_AND_SOFT = [
    ("bounce_postfix_dsn_5_1_1.eml", "verp", "hard", "5.1.1"),
    ("bounce_exchange_online_ndr_5_1_10.eml", "verp", "hard", "5.1.10"),
    ("bounce_gmail_5_1_1.eml", "verp", "hard", "5.1.1"),
    # Auto-Submitted: auto-replied, X-Autoreply and Precedence: auto_reply, sent to the
    # From address (no VERP): a bounce, tied to its send by the returned Message-ID.
    ("bounce_dsn_auto_replied_to_from_address.eml", "returned_message_id", "hard", "5.2.1"),
    ("bounce_qmail_text_permanent.eml", "verp", "hard", "5.1.1"),
    ("bounce_postfix_dsn_soft_4_2_2.eml", "verp", "soft", "4.2.2"),
]


@pytest.mark.parametrize(
    ("name", "method", "kind", "status"), HARD_AND_SOFT, ids=[c[0] for c in HARD_AND_SOFT]
)
def test_a_bounce_report_bounces_its_send_and_stops_the_enrollment(
    base_url: str, enrolled: Enrolled, name: str, method: str, kind: str, status: str
) -> None:
    assert deliver(base_url, sample(name)) == {
        "result": "recorded",
        "inbound_id": None,
        "match_method": method,
        "is_auto_reply": True,
        "auto_reply_kind": "bounce",
        "bounce": kind,
    }
    send = enrolled.send()
    assert (send["status"], send["bounce_type"], send["bounce_status"]) == ("bounced", kind, status)
    assert send["replied_at"] is None
    enrollment = enrolled.enrollment()
    assert (enrollment["status"], enrollment["stop_reason"], enrollment["replied_at"]) == (
        "bounced",
        "bounce",
        None,
    )
    assert enrolled.camp.campaign(enrolled.campaign_id)["total_bounced"] == 1
    assert enrolled.suppressions() == (["hard_bounce"] if kind == "hard" else [])


def test_a_hard_bounce_report_keeps_its_diagnostic(base_url: str, enrolled: Enrolled) -> None:
    deliver(base_url, sample("bounce_exchange_online_ndr_5_1_10.eml"))
    assert enrolled.send()["error"] == (
        "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    )
    event = enrolled.row(
        "select provider_event_id, payload from app.email_events where email_send_id = %s",
        enrolled.send_id,
    )
    assert event["provider_event_id"] == (
        "dsn:<a2c7e9d1-6b4f-4e1a-8c3d-5f7b9e1a2c4d@AM0PR04MB6451.eurprd04.prod.outlook.com>"
    )
    assert event["payload"]["data"]["bounce"]["type"] == "Permanent"


@pytest.mark.parametrize(
    "name",
    [
        "bounce_postfix_delayed_4_4_1.eml",
        # Plain text, Auto-Submitted: auto-replied, no X-Failed-Recipients: flufl.bounce
        # calls it permanent; its subject and its 451 4.7.1 make it a delay.
        "bounce_exim_delay_warning_4_7_1.eml",
    ],
)
def test_a_delayed_report_is_a_delay_not_a_bounce(
    base_url: str, enrolled: Enrolled, name: str
) -> None:
    answer = deliver(base_url, sample(name))
    assert (answer["match_method"], answer["auto_reply_kind"], answer["bounce"]) == (
        "verp",
        "bounce",
        "delayed",
    )
    send = enrolled.send()
    assert (send["status"], send["bounce_type"], send["bounce_status"]) == (
        "delivery_delayed",
        None,
        None,
    )
    assert enrolled.enrollment()["status"] == "active"
    assert enrolled.events() == ["email.delivery_delayed"]
    assert enrolled.suppressions() == []


def test_an_unreadable_delay_report_is_kept_on_its_send_and_stops_nothing(
    base_url: str, enrolled: Enrolled
) -> None:
    """Gmail's "Delivery Status Notification (Delay)" whose delivery-status part a relay
    dropped: a bounce report by its headers, that names no recipient and no status. It is
    recorded on its send; the send, the enrollment and the suppressions stay as they are."""
    raw = (
        "Return-Path: <>\r\n"
        f"Delivered-To: bounce+{OUR_TOKEN}@mail.acme.example\r\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        f"To: bounce+{OUR_TOKEN}@mail.acme.example\r\n"
        "Subject: Delivery Status Notification (Delay)\r\n"
        "Message-ID: <69a1c2d3.050a0220.1b2c3d.0001.GMR@mx.google.com>\r\n"
        f"In-Reply-To: {OUR_MESSAGE_ID}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="00b1"\r\n'
        "\r\n--00b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
        "There was a temporary problem delivering your message. Gmail will retry for 46 more\r\n"
        "hours. You'll be notified if the delivery fails permanently.\r\n"
        "\r\n--00b1--\r\n"
    ).encode()
    assert deliver(base_url, raw) == {
        "result": "recorded",
        "inbound_id": None,
        "match_method": "verp",
        "is_auto_reply": True,
        "auto_reply_kind": "bounce",
        "bounce": "unreadable",
    }
    kept = enrolled.row(
        "select auto_reply_kind from app.inbound_emails where matched_send_id = %s",
        enrolled.send_id,
    )
    assert kept == {"auto_reply_kind": "bounce"}
    send = enrolled.send()
    assert (send["status"], send["bounce_type"], send["bounce_status"]) == ("sent", None, None)
    assert enrolled.enrollment()["status"] == "active"
    assert enrolled.camp.campaign(enrolled.campaign_id)["total_bounced"] == 0
    assert enrolled.events() == []
    assert enrolled.suppressions() == []


def test_a_report_delivered_twice_is_applied_once(base_url: str, enrolled: Enrolled) -> None:
    raw = sample("bounce_postfix_dsn_5_1_1.eml")
    assert deliver(base_url, raw)["result"] == "recorded"
    again = deliver(base_url, raw)
    assert (again["result"], again["bounce"]) == ("duplicate", None)
    assert enrolled.events().count("email.bounced") == 1
    assert enrolled.suppressions() == ["hard_bounce"]
    assert enrolled.camp.campaign(enrolled.campaign_id)["total_bounced"] == 1


def test_the_third_soft_bounce_suppresses_the_address(base_url: str, mail: Mail, admin) -> None:
    template = sample("bounce_postfix_dsn_soft_4_2_2.eml")
    suppressed = []
    for i in range(3):
        send_id = mail.queue(to="jane.doe@globex.example", subject="Hi", text="x")
        token = uuid.uuid4().hex
        admin.execute("update app.email_sends set reply_token = %s where id = %s", (token, send_id))
        raw = template.replace(OUR_TOKEN.encode(), token.encode()).replace(
            b"4XmT7p3Lk2z1vBn@", f"soft{i}@".encode()
        )
        assert deliver(base_url, raw)["bounce"] == "soft"
        suppressed.append(
            admin.execute(
                "select count(*) from app.suppressions where email = 'jane.doe@globex.example'"
            ).fetchone()[0]
        )
    assert suppressed == [0, 0, 1]
    reason = admin.execute(
        "select reason from app.suppressions where email = 'jane.doe@globex.example'"
    ).fetchone()
    assert reason == ("soft_bounce",)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (
            "bounce_postfix_dsn_5_1_1.eml",
            "bounce report names no send of ours (unknown VERP token)",
        ),
        (
            "dsn_rfc3464_sendmail_user_unknown.eml",
            "bounce report names no send of ours (unknown returned Message-ID)",
        ),
    ],
)
def test_a_report_that_names_no_send_is_kept_with_its_reason(
    base_url: str, mail: Mail, admin, name: str, reason: str
) -> None:
    other = mail.queue(to="jane.doe@globex.example", subject="Hi", text="x")
    answer = deliver(base_url, sample(name))
    assert (answer["result"], answer["auto_reply_kind"], answer["bounce"]) == (
        "unmatched",
        "bounce",
        None,
    )
    message_id = parse_message(sample(name)).message_id
    kept = admin.execute(
        "select reason from app.inbound_unmatched where message_id = %s", (message_id,)
    ).fetchall()
    assert kept == [(reason,)]
    assert (mail.send_row(other)["status"], mail.send_row(other)["bounce_type"]) == (
        "queued",
        None,
    )
    dsn_events = "select count(*) from app.email_events where provider_event_id like 'dsn:%'"
    assert admin.execute(dsn_events).fetchone() == (0,)


def test_unmatched_ordinary_mail_says_why(base_url: str, mail: Mail, admin) -> None:
    message_id = f"<{uuid.uuid4().hex}@corp.example>"
    raw = (
        f"Message-ID: {message_id}\r\nFrom: someone@corp.example\r\n"
        "To: sales@mail.acme.example\r\nSubject: Hello\r\n\r\nAre you hiring?\r\n"
    ).encode()
    assert deliver(base_url, raw)["result"] == "unmatched"
    kept = "select reason from app.inbound_unmatched where message_id = %s"
    assert admin.execute(kept, (message_id,)).fetchall() == [
        (
            "carries no id of a send of ours and its sender got no mail from the domain's org "
            "in the last 30 days",
        )
    ]


def _received(fake_resend, raw_url: str) -> str:
    """A bounce report as Resend's received-email API shows it (text part and headers;
    the delivery-status part only in the raw message); returns the webhook body."""
    fake_resend.received["rcv_dsn"] = {
        "object": "email",
        "id": "rcv_dsn",
        "from": "MAILER-DAEMON@smtp-out.acme.example (Mail Delivery System)",
        "to": [f"bounce+{OUR_TOKEN}@mail.acme.example"],
        "subject": "Undelivered Mail Returned to Sender",
        "text": "This is the mail system at host smtp-out.acme.example.\n\nI'm sorry to have "
        "to inform you that your message could not\nbe delivered to one or more recipients.",
        "html": None,
        "message_id": "<20260601150211.4XkQ2m0Vq8z9tRw@smtp-out.acme.example>",
        "headers": {
            "Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"',
            "Auto-Submitted": "auto-replied",
        },
        "raw": {"download_url": raw_url, "expires_at": "2026-06-01T16:02:11Z"},
    }
    return json.dumps(
        {
            "type": "email.received",
            "created_at": "2026-06-01T15:02:11Z",
            "data": {"email_id": "rcv_dsn", "to": [], "subject": "x"},
        }
    )


def test_a_report_received_through_resend_is_read_from_its_raw_message(
    base_url: str, enrolled: Enrolled, fake_resend
) -> None:
    fake_resend.raw["dsn_1"] = sample("bounce_postfix_dsn_5_1_1.eml")
    body = _received(fake_resend, f"{fake_resend.url}/raw/dsn_1")
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=30
    )
    assert response.status_code == 200, response.text
    assert (response.json()["match_method"], response.json()["bounce"]) == ("verp", "hard")
    assert enrolled.send()["bounce_status"] == "5.1.1"
    [fetch] = [r for r in fake_resend.requests if r.get("raw") == "dsn_1"]
    assert "authorization" not in fetch["headers"]  # the API key stays with Resend's API


def test_a_delay_warning_read_from_its_resend_json_alone_is_not_a_bounce(
    base_url: str, enrolled: Enrolled, fake_resend
) -> None:
    """Postfix's "Delayed Mail" as Resend's JSON shows it, without a raw message: the
    text part says no status code, and flufl.bounce calls it a permanent failure."""
    notification = parse_message(sample("bounce_postfix_delayed_4_4_1.eml"))
    fake_resend.received["rcv_delay"] = {
        "object": "email",
        "id": "rcv_delay",
        "from": "MAILER-DAEMON@smtp-out.acme.example (Mail Delivery System)",
        "to": [f"bounce+{OUR_TOKEN}@mail.acme.example"],
        "subject": notification.subject,
        "text": notification.text,
        "html": None,
        "message_id": notification.message_id,
        "headers": {
            "Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"',
            "Auto-Submitted": "auto-generated (delayed)",
        },
    }
    body = json.dumps(
        {
            "type": "email.received",
            "created_at": "2026-06-01T19:02:15Z",
            "data": {"email_id": "rcv_delay", "to": [], "subject": "x"},
        }
    )
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=30
    )
    assert response.status_code == 200, response.text
    assert (response.json()["auto_reply_kind"], response.json()["bounce"]) == ("bounce", "delayed")
    send = enrolled.send()
    assert (send["status"], send["bounce_type"]) == ("delivery_delayed", None)
    assert enrolled.enrollment()["status"] == "active"
    assert enrolled.suppressions() == []


@dataclasses.dataclass
class Listener:
    """TCP listeners on loopback (IPv4 and IPv6, one port each) that count the
    connections made to them and close each at once: whether anything was fetched."""

    port: int
    port6: int
    accepted: list[str]


@pytest.fixture
def listener() -> Iterator[Listener]:
    sockets: list[socket.socket] = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, 0))
        sock.listen(8)
        sock.settimeout(0.1)
        sockets.append(sock)
    found = Listener(sockets[0].getsockname()[1], sockets[1].getsockname()[1], [])
    stop = threading.Event()

    def accept(sock: socket.socket) -> None:
        while not stop.is_set():
            try:
                conn, peer = sock.accept()
            except TimeoutError:
                continue
            found.accepted.append(str(peer[0]))
            conn.close()

    threads = [threading.Thread(target=accept, args=(s,), daemon=True) for s in sockets]
    for thread in threads:
        thread.start()
    yield found
    stop.set()
    for thread in threads:
        thread.join()
    for sock in sockets:
        sock.close()


def _post_received(base_url: str, body: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=30
    )


INTERNAL_URLS = [
    "https://127.0.0.1:{port}/x",
    "https://localhost:{port}/admin",  # a name that resolves to loopback
    "https://[::1]:{port6}/",
    "http://127.0.0.1:{port}/raw/dsn_1",  # neither HTTPS nor Resend's base URL
    "https://127.0.0.1:5432/x",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/",
    "https://[::ffff:10.0.0.5]/",  # an IPv4 address inside an IPv6 one
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_a_raw_message_url_on_an_internal_address_is_refused_before_any_connection(
    base_url: str, enrolled: Enrolled, fake_resend, listener: Listener, url: str
) -> None:
    target = url.format(port=listener.port, port6=listener.port6)
    response = _post_received(base_url, _received(fake_resend, target))
    assert response.status_code == 502, response.text
    assert "raw received email" in response.json()["error"]
    assert listener.accepted == []
    assert [r for r in fake_resend.requests if "raw" in r] == []
    assert enrolled.send()["status"] == "sent"
    recorded = enrolled.camp.owner.execute(
        "select count(*) from app.inbound_emails where matched_send_id = %s", (enrolled.send_id,)
    )
    assert recorded.fetchone() == (0,)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1:{port}/x", "127.0.0.1 is a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://10.0.0.5/", "10.0.0.5 is a private address"),
    ],
)
def test_the_refusal_says_why(
    base_url: str, enrolled: Enrolled, fake_resend, listener: Listener, url: str, reason: str
) -> None:
    body = _received(fake_resend, url.format(port=listener.port))
    assert reason in _post_received(base_url, body).json()["error"]


def test_an_allow_listed_internal_address_is_fetched(
    serve, enrolled: Enrolled, fake_resend, listener: Listener
) -> None:
    """INTIME_WEBHOOK_ALLOW lets the fetch reach it, as it does a workflow webhook: the
    connection is made (the listener speaks no TLS, so the fetch fails: a 502)."""
    base_url = serve(webhook_allow=("127.0.0.0/8",))
    body = _received(fake_resend, f"https://127.0.0.1:{listener.port}/raw/dsn_1")
    assert _post_received(base_url, body).status_code == 502
    assert listener.accepted == ["127.0.0.1"]


def test_a_missing_raw_message_is_a_502_and_writes_nothing(
    base_url: str, enrolled: Enrolled, fake_resend
) -> None:
    body = _received(fake_resend, f"{fake_resend.url}/raw/gone")
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=30
    )
    assert response.status_code == 502
    assert enrolled.send()["status"] == "sent"
    recorded = enrolled.camp.owner.execute(
        "select count(*) from app.inbound_emails where matched_send_id = %s", (enrolled.send_id,)
    )
    assert recorded.fetchone() == (0,)


def test_a_raw_message_the_parser_refuses_leaves_the_json_to_record(
    base_url: str, enrolled: Enrolled, fake_resend
) -> None:
    fake_resend.raw["dsn_big"] = b"X-Filler: x\r\n" * 600 + sample("bounce_postfix_dsn_5_1_1.eml")
    body = _received(fake_resend, f"{fake_resend.url}/raw/dsn_big")
    response = httpx.post(
        f"{base_url}/webhooks/inbound", content=body, headers=signed(body), timeout=30
    )
    assert response.status_code == 200, response.text
    assert (response.json()["match_method"], response.json()["bounce"]) == ("verp", "unreadable")
    assert (enrolled.send()["status"], enrolled.enrollment()["status"]) == ("sent", "active")


def test_a_bad_allow_list_entry_stops_the_app_from_being_built(db) -> None:
    with pytest.raises(ValueError, match="neither a CIDR nor a host name"):
        create_app(db.dsn("intime_service"), webhook_allow=("10.0.0.0/33",))
