"""The tick renders in its own query: the usual template (known tokens only) costs no
function call per recipient, and contact data can't name a variable. Also the tick's
invariant: every planned enrollment moves on in the statement that writes its step."""

from __future__ import annotations

import psycopg
import pytest

from tests.sql.campaigns.conftest import Campaigns

VALUES = ["Ada", "Lovelace", "Ada Lovelace", "Ada Lovelace", "ada@x.test", "Acme", "CTO",
          "Outreach", "Sam Seller", "Sam", "sam@y.test"]  # fmt: skip


def _explain(conn: psycopg.Connection, query: str) -> str:
    return "\n".join(r[0] for r in conn.execute(f"explain (verbose) {query}").fetchall())


def test_the_recipient_values_are_computed_in_the_callers_query(camp: Campaigns) -> None:
    plan = _explain(
        camp.owner,
        "select v.* from app._campaign_values("
        "  p_first_name => 'Ada', p_last_name => null, p_full_name => 'Ada', p_email => 'a@x',"
        "  p_company => 'R&D {x}', p_title => null, p_campaign_name => 'C',"
        "  p_sender_name => 'Sam Seller', p_sender_email => 's@y') as v",
    )
    assert "_campaign_values" not in plan
    assert "Function Scan" not in plan


def test_a_template_of_known_tokens_is_filled_without_a_call(camp: Campaigns) -> None:
    plan = _explain(
        camp.owner,
        "select app._campaign_fill_finish(f.x, t.v) from"
        " (values ('Hi {{contact.first_name}}', %s::text[])) as t (s, v),"
        " lateral (select app._campaign_fill_known(t.s, t.v) as x offset 0) as f"
        % ("'{" + ",".join(VALUES) + "}'"),
    )
    assert "_campaign_fill_known" not in plan
    assert "_campaign_fill_finish" not in plan
    # The rest of the work is only reached when tokens are left.
    assert "CASE WHEN" in plan
    assert "strpos(" in plan


@pytest.mark.parametrize(
    ("template", "html"),
    [
        ("Hi {{contact.first_name}} of {{contact.company}}, {{sender.first_name}}", False),
        ('Hi {{ contact.title | default: "there" }} {{contact.last_name}}', False),
        ("<p>{{ contact.nickname | default: 'R&D <x>' }} {{campaign.name}}</p>", True),
        ("no tokens {here}", False),
        ("{{contact.email}}}} {{{sender.email}}", False),
        (None, False),
    ],
)
def test_the_parts_fill_as_the_whole(camp: Campaigns, template: str | None, html: bool) -> None:
    row = camp.owner.execute(
        "select app._campaign_fill(%(t)s, v.vars, %(h)s),"
        " app._campaign_fill_finish(app._campaign_fill_known(%(t)s, v.vars), v.vars, %(h)s)"
        " from app._campaign_values("
        "  p_first_name => 'Ada {{contact.email}}', p_last_name => null, p_full_name => 'Ada',"
        "  p_email => 'a@x.test', p_company => 'Acme {', p_title => '', p_campaign_name => 'C',"
        "  p_sender_name => 'Sam Seller', p_sender_email => 's@y.test') as v",
        {"t": template, "h": html},
    ).fetchone()
    assert row is not None
    assert row[0] == row[1]
    assert template is None or "\x01" not in row[0]


def test_contact_data_that_looks_like_a_token_is_sent_as_written(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid, subject="Hi {{contact.first_name}}", body_html="<p>{{contact.first_name}}</p>"
    )
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set first_name = %s where id = %s",
        ("{{contact.email}} {{ contact.title | default: 'x' }}", contact),
    )
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert send["subject"] == "Hi {{contact.email}} {{ contact.title | default: 'x' }}"
    assert (
        send["html_body"] == "<p>{{contact.email}} {{ contact.title | default: &#39;x&#39; }}</p>"
    )


def test_an_enrollment_that_does_not_move_on_gets_no_step(camp: Campaigns) -> None:
    """If the statement that writes a step could not move an enrollment on (here a trigger
    skips its update), the batch rolls back and runs one at a time: the others send once,
    the stuck one records an error and has no send, so the next tick can't send it twice."""
    cid = camp.create()
    camp.email_step(cid)
    contacts = camp.contacts(3)
    camp.enroll(cid, contacts)
    camp.activate(cid)
    stuck = camp.owner.execute(
        "select id from app.campaign_enrollments where contact_id = %s", (contacts[0],)
    ).fetchone()
    assert stuck is not None
    camp.owner.execute(
        "create function public.skip_one() returns trigger language plpgsql as $$"
        f" begin if old.id = '{stuck[0]}' then return null; end if; return new; end $$"
    )
    camp.owner.execute(
        "create trigger skip_one before update on app.campaign_enrollments"
        " for each row execute function public.skip_one()"
    )
    try:
        counts = camp.tick()
    finally:
        camp.owner.execute("drop trigger skip_one on app.campaign_enrollments")
        camp.owner.execute("drop function public.skip_one()")
    assert (counts["sent"], counts["errored"]) == (2, 1)
    sends = camp.sends(cid)
    assert len(sends) == 2
    assert all(s["enrollment_id"] != stuck[0] for s in sends)
    logs = camp.owner.execute(
        "select status, detail from app.campaign_sequence_logs where enrollment_id = %s",
        (stuck[0],),
    ).fetchall()
    assert [
        (status, "0 of 1 planned enrollments moved on" in detail) for status, detail in logs
    ] == [("failed", True)]
