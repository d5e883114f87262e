"""api.get_email_timeline: an entity's emails, a reply shown by what the person wrote."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError
from tests.support import Mail, TwoOrgs
from web import queries as web_queries
from web.inbound import parse_message, record_params

TIMELINE = (
    "select direction, subject, body, status, auto_reply_kind from api.get_email_timeline("
    "p_entity_type => 'deal', p_entity_id => %s)"
)


def _reply(service: psycopg.Connection, mail: Mail, send_id: uuid.UUID, body: str) -> None:
    row = mail.send_row(send_id)
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@client.example>\r\nFrom: {row['to_email']}\r\n"
        f"In-Reply-To: {row['message_id']}\r\nSubject: Re: {row['subject']}\r\n\r\n{body}"
    ).encode()
    with service.transaction():
        service.execute(web_queries.RECORD_INBOUND_EMAIL, record_params(parse_message(raw), "smtp"))


def test_a_reply_shows_what_the_person_wrote_not_the_quoted_history(
    mail: Mail, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    deal_id = two_orgs.a.deal_ids[1]
    send_id = mail.queue(
        to="ada.lovelace@client.acme.example",
        subject="Pricing",
        text="Our pricing is 10.",
        entity_type="deal",
        entity_id=deal_id,
    )
    _reply(
        service,
        mail,
        send_id,
        "Sounds good, send the contract.\r\n\r\nOn Mon, 1 Jun 2026 at 09:00, Acme Sales "
        "<sales@acme.example> wrote:\r\n> Our pricing is 10.\r\n> Best, Acme\r\n",
    )
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        rows = service.execute(TIMELINE, (deal_id,)).fetchall()
    assert [(d, s) for d, s, *_ in rows] == [("inbound", "Re: Pricing"), ("outbound", "Pricing")]
    assert rows[0][2].strip() == "Sounds good, send the contract."
    assert rows[1][2] == "Our pricing is 10."


def test_another_orgs_entity_has_no_emails(
    mail: Mail, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    deal_id = two_orgs.a.deal_ids[1]
    mail.queue(
        to="x@client.acme.example", subject="Hi", text="x", entity_type="deal", entity_id=deal_id
    )
    with actor(service, two_orgs.b.org_id, two_orgs.b.admin_id):
        assert service.execute(TIMELINE, (deal_id,)).fetchall() == []


@pytest.mark.parametrize("limit", [0, 501, None])
def test_a_page_size_out_of_bounds_is_refused(
    service: psycopg.Connection, two_orgs: TwoOrgs, limit: int | None
) -> None:
    with (
        pytest.raises(InvalidParameterError),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select * from api.get_email_timeline(p_entity_type => 'deal', p_entity_id => %s, "
            "p_limit => %s)",
            (two_orgs.a.deal_ids[0], limit),
        )


def test_paging_neither_skips_nor_repeats_rows_of_one_instant(
    mail: Mail, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    deal_id = two_orgs.a.deal_ids[2]
    # One instant for the three sends (a tick's batch): the session's fake clock.
    service.execute("select set_config('app.fake_now', '2026-06-01 09:00:00+00', false)")
    subjects = {f"S{i}" for i in range(3)}
    for subject in sorted(subjects):
        mail.queue(
            to="x@client.acme.example",
            subject=subject,
            text="x",
            entity_type="deal",
            entity_id=deal_id,
        )
    seen: list[str] = []
    instants = set()
    before: tuple = (None, None)
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        for _ in range(4):
            rows = service.execute(
                "select at, id, subject from api.get_email_timeline(p_entity_type => 'deal', "
                "p_entity_id => %s, p_before => %s, p_before_id => %s, p_limit => 1)",
                (deal_id, *before),
            ).fetchall()
            if not rows:
                break
            seen.append(rows[0][2])
            instants.add(rows[0][0])
            before = (rows[0][0], rows[0][1])
    service.execute("select set_config('app.fake_now', '', false)")
    assert sorted(seen) == sorted(subjects)
    assert len(instants) == 1
