"""Suppression management: api.add_suppression (reason manual, with a note and its author),
api.remove_suppression (a hard bounce, a complaint, an unsubscribe or a provider suppression
only with p_force), api.list_suppressions; suppressions.manage for the writes (admins by
default); every change audited, the engine's too; a suppression added by hand stops the
address's enrollments and blocks every email, transactional included."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from intime.db import actor, errors_translated
from intime.errors import (
    AlreadyExistsError,
    ForceRequiredError,
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import Mail, TwoOrgs

BOUNCED = "nobody@bounce.acme.example"  # the seed bounced it hard


class Suppressions:
    def __init__(self, service: psycopg.Connection, admin: psycopg.Connection, orgs: TwoOrgs):
        self.conn, self.owner, self.orgs = service, admin, orgs

    def call(
        self, fn: str, user: uuid.UUID | None = None, org_id: uuid.UUID | None = None, **params
    ) -> list[dict[str, Any]]:
        names = ", ".join(f"p_{k} => %({k})s" for k in params)
        a = self.orgs.a
        with errors_translated(), actor(self.conn, org_id or a.org_id, user or a.admin_id):
            cur = self.conn.cursor(row_factory=dict_row)
            return cur.execute(f"select * from api.{fn}({names})", params).fetchall()

    def add(self, email: str, note: str | None = None, **kwargs: Any) -> uuid.UUID:
        return self.call("add_suppression", email=email, note=note, **kwargs)[0]["add_suppression"]

    def remove(self, email: str, **params: Any) -> int:
        return self.call("remove_suppression", email=email, **params)[0]["remove_suppression"]

    def reasons(self, email: str) -> list[str]:
        rows = self.owner.execute(
            "select reason from app.suppressions where org_id = %s and email = %s order by 1",
            (self.orgs.a.org_id, email),
        ).fetchall()
        return [r[0] for r in rows]

    def changes(self, email: str) -> list[tuple]:
        return self.owner.execute(
            "select action, reason, note, changed_by from app.suppression_changes "
            "where org_id = %s and email = %s order by id",
            (self.orgs.a.org_id, email),
        ).fetchall()


@pytest.fixture
def sup(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Suppressions:
    return Suppressions(service, admin, two_orgs)


def test_an_admin_adds_a_suppression_by_hand_with_its_note_and_author(sup: Suppressions) -> None:
    sid = sup.add(" Customer@Client.Example ", "asked by phone")
    row = sup.owner.execute(
        "select email, reason, note, created_by from app.suppressions where id = %s", (sid,)
    ).fetchone()
    admin_id = sup.orgs.a.admin_id
    assert row == ("customer@client.example", "manual", "asked by phone", admin_id)
    assert sup.changes("customer@client.example") == [
        ("added", "manual", "asked by phone", admin_id)
    ]


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_may_not_add_or_lift_by_default(sup: Suppressions, role: str) -> None:
    a = sup.orgs.a
    user = {"manager": a.manager_id, "member": a.rep_ids[1]}[role]
    sup.add("manual@client.example")
    with pytest.raises(PermissionDeniedError, match=r"suppressions\.manage"):
        sup.add("other@client.example", user=user)
    with pytest.raises(PermissionDeniedError, match=r"suppressions\.manage"):
        sup.remove("manual@client.example", user=user)
    assert sup.reasons("other@client.example") == []
    assert sup.reasons("manual@client.example") == ["manual"]


def test_a_role_the_org_grants_it_to_may_manage_suppressions(sup: Suppressions) -> None:
    a = sup.orgs.a
    with actor(sup.conn, a.org_id, a.admin_id):
        sup.conn.execute(
            "select api.set_role_permission(p_role => 'member', "
            "p_permission => 'suppressions.manage', p_granted => true)"
        )
    sup.add("granted@client.example", user=a.rep_ids[1])
    assert sup.remove("granted@client.example", user=a.rep_ids[1]) == 1


def test_the_same_manual_suppression_twice_already_exists(sup: Suppressions) -> None:
    sup.add("twice@client.example")
    with pytest.raises(AlreadyExistsError):
        sup.add("TWICE@client.example")


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@b.example, c@d.example", "Bob <bob@x.example>", "", None]
)
def test_a_bad_address_is_refused(sup: Suppressions, email: str | None) -> None:
    before = sup.owner.execute("select count(*) from app.suppressions").fetchone()
    with pytest.raises(InvalidParameterError):
        sup.add(email)
    assert sup.owner.execute("select count(*) from app.suppressions").fetchone() == before


def test_a_note_over_1000_characters_is_refused(sup: Suppressions) -> None:
    with pytest.raises(InvalidParameterError, match="1000"):
        sup.add("long@client.example", "x" * 1001)


def test_lifting_a_hard_bounce_needs_p_force(sup: Suppressions) -> None:
    with pytest.raises(ForceRequiredError, match="needs p_force") as caught:
        sup.remove(BOUNCED, note="fixed")
    assert caught.value.sqlstate == "IT017"
    assert sup.reasons(BOUNCED) == ["hard_bounce"]
    assert sup.remove(BOUNCED, note="the mailbox exists again", force=True) == 1
    assert sup.reasons(BOUNCED) == []
    assert sup.changes(BOUNCED)[-1] == (
        "removed",
        "hard_bounce",
        "the mailbox exists again",
        sup.orgs.a.admin_id,
    )


def test_the_refusal_explains_the_risk(sup: Suppressions) -> None:
    with pytest.raises(ForceRequiredError) as caught:
        sup.remove(BOUNCED, reason="hard_bounce")
    # The hint, on the database error the project error was translated from.
    cause = caught.value.__cause__
    assert isinstance(cause, psycopg.Error)
    assert "sender reputation" in (cause.diag.message_hint or "")


@pytest.mark.parametrize("reason", ["complaint", "unsubscribe", "provider"])
def test_lifting_a_complaint_an_unsubscribe_or_a_provider_suppression_needs_p_force(
    sup: Suppressions, reason: str
) -> None:
    sup.owner.execute(
        "insert into app.suppressions (org_id, email, reason) values (%s, 'r@client.example', %s)",
        (sup.orgs.a.org_id, reason),
    )
    with pytest.raises(ForceRequiredError):
        sup.remove("r@client.example")
    assert sup.remove("r@client.example", force=True) == 1


def test_a_soft_bounce_and_a_manual_suppression_lift_without_force(sup: Suppressions) -> None:
    sup.owner.execute(
        "insert into app.suppressions (org_id, email, reason) "
        "values (%s, 'soft@client.example', 'soft_bounce')",
        (sup.orgs.a.org_id,),
    )
    sup.add("soft@client.example", "and asked not to")
    assert sup.remove("soft@client.example", reason="manual") == 1
    assert sup.reasons("soft@client.example") == ["soft_bounce"]
    assert sup.remove("soft@client.example") == 1
    assert sup.reasons("soft@client.example") == []


def test_lifting_what_is_not_suppressed_is_not_found(sup: Suppressions) -> None:
    with pytest.raises(NotFoundError):
        sup.remove("never@client.example")
    with pytest.raises(NotFoundError):
        sup.remove(BOUNCED, reason="manual")
    with pytest.raises(InvalidParameterError, match="unknown reason"):
        sup.remove(BOUNCED, reason="nope")


def test_the_engines_suppressions_are_audited_without_an_author(sup: Suppressions) -> None:
    # The seed's hard bounce came from a provider event (no user).
    assert sup.changes(BOUNCED) == [("added", "hard_bounce", None, None)]


def test_a_manual_suppression_blocks_transactional_mail_too(mail: Mail, sup: Suppressions) -> None:
    sup.add("receipts@client.example")
    send = mail.send_row(mail.queue(to="receipts@client.example", subject="Receipt", text="x"))
    assert (send["status"], send["suppression_reason"]) == ("suppressed", "manual")


def test_a_manual_suppression_stops_the_addresss_enrollments(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs, sup: Suppressions
) -> None:
    camp = Campaigns(service, admin, two_orgs)
    camp.at(MONDAY_10)
    cid = camp.create()
    camp.email_step(cid)
    contacts = camp.contacts(2)
    camp.enroll(cid, contacts)
    camp.activate(cid)
    email = camp.one("select email from app.contacts where id = %s", (contacts[0],))
    sup.add(email.upper(), "do not email")
    by_contact = {e["contact_id"]: e for e in camp.enrollments(cid)}
    stopped, other = by_contact[contacts[0]], by_contact[contacts[1]]
    assert (stopped["status"], stopped["stop_reason"], stopped["next_step_at"]) == (
        "unsubscribed",
        "manual",
        None,
    )
    assert stopped["unsubscribed_at"] is not None
    assert other["status"] == "active"
    assert [
        (g["enrollment_id"], g["detail"]) for g in camp.logs(cid) if g["status"] == "stopped"
    ] == [(stopped["id"], "suppressed: manual")]
    assert camp.campaign(cid)["total_unsubscribed"] == 1


def test_the_list_is_filtered_and_bounded_and_any_user_reads_it(sup: Suppressions) -> None:
    for i in range(3):
        sup.add(f"list{i}@client.example", f"n{i}")
    member = sup.orgs.a.rep_ids[1]
    rows = sup.call("list_suppressions", user=member, email_like="list%", limit=2)
    assert [r["email"] for r in rows] == ["list2@client.example", "list1@client.example"]
    rows = sup.call("list_suppressions", user=member, email_like="list%", limit=2, offset=2)
    assert [(r["email"], r["note"]) for r in rows] == [("list0@client.example", "n0")]
    rows = sup.call("list_suppressions", user=member, reason="hard_bounce")
    assert [r["email"] for r in rows] == [BOUNCED]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        with pytest.raises(InvalidParameterError):
            sup.call("list_suppressions", **bad)
    changes = sup.call("list_suppression_changes", user=member, email="LIST0@client.example")
    assert [(c["action"], c["note"]) for c in changes] == [("added", "n0")]


def test_another_orgs_suppressions_are_invisible(sup: Suppressions) -> None:
    a, b = sup.orgs.a, sup.orgs.b
    sup.add("only.a@client.example")
    theirs = sup.call("list_suppressions", user=b.admin_id, org_id=b.org_id, limit=1000)
    assert all(r["email"] != "only.a@client.example" for r in theirs)
    assert all(not r["email"].endswith("acme.example") for r in theirs)
    changes = sup.call("list_suppression_changes", user=b.admin_id, org_id=b.org_id, limit=1000)
    assert all(c["email"] != "only.a@client.example" for c in changes)
    with pytest.raises(NotFoundError):
        sup.call(
            "remove_suppression",
            user=b.admin_id,
            org_id=b.org_id,
            email="only.a@client.example",
        )
    assert sup.reasons("only.a@client.example") == ["manual"]
    assert a.org_id != b.org_id


def test_an_org_with_suppressions_can_still_be_deleted(sup: Suppressions) -> None:
    sup.add("gone@client.example")
    sup.owner.execute("delete from app.organizations where id = %s", (sup.orgs.a.org_id,))
    left = sup.owner.execute(
        "select count(*) from app.suppression_changes where org_id = %s", (sup.orgs.a.org_id,)
    ).fetchone()
    assert left == (0,)


def _soft_bounce(mail: Mail, to: str) -> None:
    send_id = mail.queue(to=to, subject="Hi", text="x")
    provider_id = f"re_{uuid.uuid4().hex}"
    mail.sent(send_id, provider_id)
    event = {
        "type": "email.bounced",
        "data": {"email_id": provider_id, "bounce": {"type": "Transient", "message": "full"}},
    }
    assert mail.ingest(f"msg_{uuid.uuid4().hex}", event) == "applied"


def test_a_lifted_soft_bounce_counts_three_new_soft_bounces_again(
    mail: Mail, sup: Suppressions
) -> None:
    to = "full.mailbox@client.example"
    for _ in range(3):
        _soft_bounce(mail, to)
    assert sup.reasons(to) == ["soft_bounce"]
    assert sup.remove(to, note="the mailbox has room again") == 1
    for _ in range(2):
        _soft_bounce(mail, to)
        assert sup.reasons(to) == []
    _soft_bounce(mail, to)
    assert sup.reasons(to) == ["soft_bounce"]
