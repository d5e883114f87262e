"""api.claim_email_send's envelope sender (docs/email.md, "Bounces: VERP"): the send's
reply token on the reply domain, so a bounce report that comes back names its send."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.rows import dict_row

from intime.db import actor
from tests.support import Mail


def claim(service: psycopg.Connection, mail: Mail, send_id: uuid.UUID) -> dict:
    with actor(service, mail.org_id):
        cur = service.cursor(row_factory=dict_row)
        row = cur.execute(
            "select action, reply_to, return_path from api.claim_email_send(p_email_send_id => %s)",
            (send_id,),
        ).fetchone()
    assert row is not None
    return row


def test_a_claim_to_send_gives_the_verp_return_path(service, mail: Mail) -> None:
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    token = mail.send_row(send_id)["reply_token"]
    row = claim(service, mail, send_id)
    assert row["action"] == "send"
    assert row["return_path"] == f"bounce+{token}@mail.acme.example"
    assert row["reply_to"] == f"reply+{token}@mail.acme.example"


def test_a_claim_that_sends_nothing_gives_no_return_path(service, mail: Mail) -> None:
    send_id = mail.queue(to="lead@example.com", subject="Hi", text="x")
    mail.sent(send_id, "re_claimed")  # recorded already: a duplicate job's claim is done
    row = claim(service, mail, send_id)
    assert (row["action"], row["return_path"]) == ("done", None)
