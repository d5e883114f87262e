"""api.get_email_stats: counts and rates per entity and per template."""

from __future__ import annotations

import uuid

from intime.db import actor
from tests.support import Mail, event


def test_stats_count_each_message_once_and_divide_safely(mail: Mail, two_orgs) -> None:
    entity = uuid.uuid4()
    outcomes = ["email.opened", "email.clicked", "email.delivered", None]
    for i, outcome in enumerate(outcomes):
        send_id = mail.queue(
            to=f"s{i}@example.com",
            subject="s",
            text="x",
            entity_type="deal",
            entity_id=str(two_orgs.a.deal_ids[0]),
        )
        message_id = f"re_{uuid.uuid4().hex}"
        mail.sent(send_id, message_id)
        mail.ingest(f"d{i}", event("email.delivered", message_id))
        if outcome:
            mail.ingest(f"o{i}", event(outcome, message_id))
            mail.ingest(f"o{i}b", event(outcome, message_id))  # a second open or click
    del entity
    with actor(mail.conn, mail.org_id):
        row = mail.conn.execute(
            "select sent, delivered, opened, clicked, bounced, open_rate, click_rate, bounce_rate "
            "from api.get_email_stats(p_entity_type => 'deal', p_entity_id => %s)",
            (two_orgs.a.deal_ids[0],),
        ).fetchone()
    # The seed sent two mails about this deal too (one delivered, one bounced).
    assert row[:5] == (6, 5, 2, 1, 1)
    assert (float(row[5]), float(row[6]), float(row[7])) == (0.4, 0.2, round(1 / 6, 4))


def test_stats_of_nothing_have_no_rates(mail: Mail) -> None:
    with actor(mail.conn, mail.org_id):
        row = mail.conn.execute(
            "select sent, open_rate, bounce_rate from api.get_email_stats(p_entity_id => %s)",
            (uuid.uuid4(),),
        ).fetchone()
    assert row == (0, None, None)
