"""Sending domains (docs/email.md, "Sending domains"): an org claims a domain, publishes
the TXT record it gets, and the platform verifies it. Email settings name only the org's
own domains (verified ones for smtp and resend), a send from a domain no longer verified
is refused, and mail to a verified domain is filed under its org only.

The seed claims and verifies each org's acme.example / mail.acme.example (globex for B)."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import (
    AlreadyExistsError,
    InvalidParameterError,
    InvalidStateError,
    NotFoundError,
    ServiceRoleRequiredError,
)
from tests.support import Database, Mail, TwoOrgs, behind
from web import queries as web_queries
from web.inbound import parse_message, record_params

RECORD = (
    "select domain, record_name, record_value, verified_at, last_checked_at, last_error "
    "from api.{}(p_domain => %s)"
)


def add(service: psycopg.Connection, org, domain: str) -> tuple:
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(RECORD.format("add_sending_domain"), (domain,)).fetchone()
    assert row is not None
    return row


def verify(service: psycopg.Connection, org, domain: str) -> tuple:
    with errors_translated(), service.transaction():
        row = service.execute(
            "select domain, verified_at from api.verify_sending_domain(p_org_id => %s, "
            "p_domain => %s)",
            (org.org_id, domain),
        ).fetchone()
    assert row is not None
    return row


def set_settings(
    service: psycopg.Connection, org, from_email: str, reply_domain: str, provider: str = "outbox"
) -> None:
    with actor(service, org.org_id, org.admin_id):
        service.execute(
            "select api.set_email_settings(p_from_email => %s, p_reply_domain => %s, "
            "p_provider => %s)",
            (from_email, reply_domain, provider),
        )


def listed(service: psycopg.Connection, org) -> dict[str, tuple]:
    with actor(service, org.org_id, org.admin_id):
        rows = service.execute(
            "select domain, verified_at, last_checked_at, last_error "
            "from api.list_sending_domains()"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def inbound(service: psycopg.Connection, sender: str, to: str) -> tuple:
    raw = (
        f"Message-ID: <{uuid.uuid4().hex}@customer.example>\r\nFrom: {sender}\r\n"
        f"To: {to}\r\nSubject: Re: hello\r\n\r\nyes\r\n"
    ).encode()
    with service.transaction():
        row = service.execute(
            web_queries.RECORD_INBOUND_EMAIL, record_params(parse_message(raw), "smtp")
        ).fetchone()
    assert row is not None
    return row


# -- the claim --------------------------------------------------------------------------


def test_adding_a_domain_returns_the_txt_record_to_publish(service, two_orgs: TwoOrgs) -> None:
    domain, name, value, verified_at, checked_at, error = add(
        service, two_orgs.a, "Mail.New-Acme.example"
    )
    assert domain == "mail.new-acme.example"
    assert name == "_intime-verify.mail.new-acme.example"
    assert re.fullmatch(r"intime-verification=[0-9a-f]{32}", value)
    assert (verified_at, checked_at, error) == (None, None, None)
    assert "mail.new-acme.example" in listed(service, two_orgs.a)


def test_adding_the_same_domain_again_returns_the_same_record(
    service, admin, two_orgs: TwoOrgs
) -> None:
    first = add(service, two_orgs.a, "again.example")
    assert add(service, two_orgs.a, "AGAIN.example") == first
    count = admin.execute(
        "select count(*) from app.sending_domains where domain = 'again.example'"
    ).fetchone()
    assert count == (1,)


def test_several_orgs_may_claim_a_domain_nobody_verified(service, two_orgs: TwoOrgs) -> None:
    a_record = add(service, two_orgs.a, "shared.example")
    b_record = add(service, two_orgs.b, "shared.example")
    assert a_record[2] != b_record[2], "each claim has its own token"


BAD_DOMAINS = [
    "a..b.com",
    ".a.example",
    "a.example.",
    "example",
    "",
    "a b.example",
    "a_b.example",
    "-a.example",
    "a-.example",
    "a.b.c",
    "a.example.123",
    "sales@acme.example",
    "acme.example/x",
    f"{'x' * 64}.example",
    ".".join(["a" * 63] * 4) + ".example",  # 260 characters
    ".".join(["a" * 59] * 4) + ".example",  # 247: its TXT name would pass 253
]


@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_a_domain_that_is_not_a_plain_dns_name_is_refused(
    service, two_orgs: TwoOrgs, domain: str
) -> None:
    with pytest.raises(InvalidParameterError, match="invalid domain"):
        add(service, two_orgs.a, domain)


@pytest.mark.parametrize(
    "domain", [f"{'x' * 63}.example", "a.b.c.example.co", "xn--bcher-kva.example", "a-b.xn--p1ai"]
)
def test_a_plain_dns_name_is_accepted(tx: psycopg.Connection, domain: str) -> None:
    assert tx.execute("select app._email_is_domain(%s)", (domain,)).fetchone() == (True,)


def test_a_null_domain_is_refused(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(InvalidParameterError):
        add(service, two_orgs.a, None)


# -- verification -----------------------------------------------------------------------


def test_only_the_platform_verifies(db: Database, service, two_orgs: TwoOrgs) -> None:
    a = two_orgs.a
    add(service, a, "platform.example")
    query = (
        "select * from api.verify_sending_domain(p_org_id => %s, p_domain => 'platform.example')"
    )
    # A SQL login of org A (a member) ...
    with (
        db.connect(two_orgs.login_a, autocommit=True) as login,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        login.execute(query, (a.org_id,))
    # ... and the service acting for org A's admin (as the web app would) are refused.
    with pytest.raises(ServiceRoleRequiredError), actor(service, a.org_id, a.admin_id):
        service.execute(query, (a.org_id,))
    with pytest.raises(ServiceRoleRequiredError), actor(service, a.org_id, a.admin_id):
        service.execute(
            "select api.record_sending_domain_check(p_org_id => %s, "
            "p_domain => 'platform.example', p_error => 'x')",
            (a.org_id,),
        )
    assert listed(service, a)["platform.example"][0] is None
    domain, verified_at = verify(service, a, "platform.example")
    assert domain == "platform.example"
    assert verified_at is not None
    assert verify(service, a, "platform.example")[1] == verified_at, "verified once"


def test_verifying_a_domain_the_org_did_not_claim_is_not_found(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(NotFoundError):
        verify(service, two_orgs.a, "unclaimed.example")


def test_a_verified_domain_belongs_to_one_org(service, admin, two_orgs: TwoOrgs) -> None:
    a, b = two_orgs.a, two_orgs.b
    add(service, a, "contested.example")
    add(service, b, "contested.example")  # before A verified: allowed
    verify(service, a, "contested.example")
    with pytest.raises(AlreadyExistsError, match="verified by another organization"):
        verify(service, b, "contested.example")
    with pytest.raises(AlreadyExistsError, match="verified by another organization"):
        add(service, b, "contested.example")
    assert listed(service, b)["contested.example"][0] is None
    # The index holds even past the functions.
    with pytest.raises(psycopg.errors.UniqueViolation):
        admin.execute(
            "update app.sending_domains set verified_at = now() "
            "where domain = 'contested.example' and org_id = %s",
            (b.org_id,),
        )


# -- email settings and sending ---------------------------------------------------------


def test_the_domain_claim(service, admin, two_orgs: TwoOrgs) -> None:
    """The regression: org B's admin cannot take org A's (verified) domains, B's claim that
    nobody verified cannot send through smtp or resend, and a reply to A's reply domain is
    filed under A even when B wrote to that sender more recently."""
    a, b = two_orgs.a, two_orgs.b
    # 1. A's verified domains, named by B: refused whatever the provider.
    for provider in ("outbox", "smtp", "resend"):
        with pytest.raises(InvalidParameterError, match="verified by another organization"):
            set_settings(service, b, "sales@acme.example", "mail.acme.example", provider)
    with pytest.raises(InvalidParameterError, match="verified by another organization"):
        set_settings(service, b, "sales@globex.example", "mail.acme.example")
    # 2. B's claim that nobody verified: the outbox only.
    add(service, b, "unverified-globex.example")
    for provider in ("smtp", "resend"):
        with pytest.raises(InvalidParameterError, match="not verified"):
            set_settings(
                service, b, "sales@unverified-globex.example", "mail.globex.example", provider
            )
    set_settings(service, b, "sales@unverified-globex.example", "mail.globex.example")
    # 3. Settings that name A's reply domain in B (as before this check existed): B's
    # more recent send to the same person does not take A's reply.
    acme = Mail(service, a.org_id, a.admin_id)
    globex = Mail(service, b.org_id, b.admin_id)
    acme_send = acme.queue(to="carol@customer.example", subject="From Acme", text="x")
    admin.execute(
        "update app.email_settings set from_email = 'sales@acme.example', "
        "reply_domain = 'mail.acme.example' where org_id = %s",
        (b.org_id,),
    )
    globex.queue(to="carol@customer.example", subject="From Globex", text="y")  # more recent
    result, inbound_id, method, *_ = inbound(
        service, "carol@customer.example", "sales@mail.acme.example"
    )
    row = admin.execute(
        "select org_id, matched_send_id from app.inbound_emails where id = %s", (inbound_id,)
    ).fetchone()
    assert (result, method, row) == ("recorded", "sender", (a.org_id, acme_send))


def test_settings_need_a_claimed_domain(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(InvalidParameterError, match="not claimed by this organization"):
        set_settings(service, two_orgs.a, "sales@nowhere.example", "mail.acme.example")
    with pytest.raises(InvalidParameterError, match="not claimed by this organization"):
        set_settings(service, two_orgs.a, "sales@acme.example", "mail.nowhere.example")
    set_settings(service, two_orgs.a, "sales@acme.example", "mail.acme.example", "resend")


def claim_as(service, mail: Mail, send_id: uuid.UUID) -> tuple:
    with actor(service, mail.org_id):
        row = service.execute(
            "select action, to_email from api.claim_email_send(p_email_send_id => %s)",
            (send_id,),
        ).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize(
    ("provider", "sent"), [("smtp", False), ("resend", False), ("outbox", True)]
)
def test_a_send_from_a_domain_no_longer_verified_is_refused_at_the_claim(
    service, admin, mail: Mail, provider: str, sent: bool
) -> None:
    admin.execute(
        "update app.email_settings set provider = %s where org_id = %s", (provider, mail.org_id)
    )
    send_id = mail.queue(to="dave@customer.example", subject="Hi", text="x")
    admin.execute(
        "update app.sending_domains set verified_at = null "
        "where org_id = %s and domain = 'acme.example'",
        (mail.org_id,),
    )
    action, to_email = claim_as(service, mail, send_id)
    row = mail.send_row(send_id)
    if sent:
        assert (action, to_email, row["status"]) == ("send", "dave@customer.example", "sending")
        return
    assert (action, to_email, row["status"]) == ("failed", None, "failed")
    assert row["error"] == "not sent: the domain acme.example is not verified (needed for " + (
        f"{provider})"
    )
    assert row["failed_at"] is not None
    assert claim_as(service, mail, send_id)[0] == "done"


def test_a_send_from_a_verified_domain_goes_out(service, admin, mail: Mail) -> None:
    admin.execute(
        "update app.email_settings set provider = 'smtp' where org_id = %s", (mail.org_id,)
    )
    send_id = mail.queue(to="erin@customer.example", subject="Hi", text="x")
    assert claim_as(service, mail, send_id)[0] == "send"


# -- checking and removing ---------------------------------------------------------------


def jobs(admin, org_id: uuid.UUID) -> list[tuple]:
    return admin.execute(
        "select convert_from(payload, 'UTF8')::jsonb ->> 'domain', dedupe_key "
        "from queue.pgqueuer where entrypoint = 'domains.verify' "
        "and convert_from(payload, 'UTF8')::jsonb ->> 'org_id' = %s",
        (str(org_id),),
    ).fetchall()


def test_checking_a_domain_queues_one_dns_check(service, admin, two_orgs: TwoOrgs) -> None:
    a = two_orgs.a
    add(service, a, "check.example")
    assert jobs(admin, a.org_id) == [], "adding does not check: the record is not out yet"
    for _ in range(2):
        with actor(service, a.org_id, a.admin_id):
            row = service.execute(
                "select api.check_sending_domain(p_domain => 'Check.example')"
            ).fetchone()
        assert row == ("queued",)
    assert jobs(admin, a.org_id) == [("check.example", f"domains.verify:{a.org_id}:check.example")]
    with actor(service, a.org_id, a.admin_id):
        row = service.execute("select api.check_sending_domain(p_domain => 'acme.example')")
        assert row.fetchone() == ("verified",)
    with pytest.raises(NotFoundError), actor(service, a.org_id, a.admin_id):
        service.execute("select api.check_sending_domain(p_domain => 'unclaimed.example')")


def test_removing_a_domain(service, two_orgs: TwoOrgs) -> None:
    a = two_orgs.a
    add(service, a, "old.example")
    remove = "select api.remove_sending_domain(p_domain => %s)"
    with actor(service, a.org_id, a.admin_id):
        service.execute(remove, ("old.example",))
    assert "old.example" not in listed(service, a)
    with pytest.raises(NotFoundError), actor(service, a.org_id, a.admin_id):
        service.execute(remove, ("old.example",))
    for in_use in ("acme.example", "mail.acme.example"):
        with pytest.raises(InvalidStateError, match="in use"), actor(service, a.org_id, a.admin_id):
            service.execute(remove, (in_use,))


def test_an_org_sees_only_its_own_domains(db: Database, service, two_orgs: TwoOrgs) -> None:
    assert set(listed(service, two_orgs.b)) == {"globex.example", "mail.globex.example"}
    with db.connect(two_orgs.login_a, autocommit=True) as login:
        rows = login.execute("select domain from app.sending_domains order by 1").fetchall()
    assert rows == [("acme.example",), ("mail.acme.example",)]


def test_a_sender_alone_never_files_mail_to_an_unverified_domain(
    service, admin, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: after the upgrade two orgs may name one unverified domain (or B a
    subdomain of A's); the sender step filed a reply to it under whoever wrote last. Without
    a verified owner the sender does not decide: the mail is unmatched."""
    a, b = two_orgs.a, two_orgs.b
    for org in (a, b):
        add(service, org, "shared.example")
        admin.execute(
            "update app.email_settings set reply_domain = 'shared.example' where org_id = %s",
            (org.org_id,),
        )
    Mail(service, a.org_id, a.admin_id).queue(to="carol@customer.example", subject="A", text="x")
    Mail(service, b.org_id, b.admin_id).queue(to="carol@customer.example", subject="B", text="y")
    result, *_ = inbound(service, "carol@customer.example", "support@shared.example")
    assert result == "unmatched"


def test_a_send_whose_reply_domain_another_org_verified_is_refused_at_the_claim(
    service, admin, mail: Mail, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: the claim checked the From domain only; Reply-To and the
    Message-ID are on the reply domain, which another org verified since."""
    b = two_orgs.b
    admin.execute(
        "update app.email_settings set provider = 'smtp' where org_id = %s", (mail.org_id,)
    )
    send_id = mail.queue(to="dave@customer.example", subject="Hi", text="x")
    admin.execute(
        "update app.sending_domains set verified_at = null "
        "where org_id = %s and domain = 'mail.acme.example'",
        (mail.org_id,),
    )
    admin.execute("delete from app.verified_domains where domain = 'mail.acme.example'")
    add(service, b, "mail.acme.example")
    verify(service, b, "mail.acme.example")
    action, _ = claim_as(service, mail, send_id)
    assert action == "failed"
    assert mail.send_row(send_id)["error"] == (
        "not sent: the domain mail.acme.example is verified by another organization"
    )


@pytest.mark.parametrize(
    "name", ["Acme Billing <billing@acme.example>", 'Acme "Billing"', "x" * 101]
)
def test_a_from_name_that_looks_like_an_address_is_refused(
    service, two_orgs: TwoOrgs, name: str
) -> None:
    """Review of issue 14: a display name can show the reader another org's address."""
    a = two_orgs.a
    with (
        pytest.raises(InvalidParameterError, match="invalid from name"),
        actor(service, a.org_id, a.admin_id),
    ):
        service.execute(
            "select api.set_email_settings(p_from_email => 'sales@acme.example', "
            "p_reply_domain => 'mail.acme.example', p_provider => 'outbox', p_from_name => %s)",
            (name,),
        )


def test_the_platform_may_revoke_a_verification(service, two_orgs: TwoOrgs) -> None:
    """A squatted domain, or one the upgrade verified for the wrong org: the platform takes
    the verification back, and the rightful owner can verify it."""
    a, b = two_orgs.a, two_orgs.b
    with errors_translated(), service.transaction():
        row = service.execute(
            "select domain, verified_at, last_error from api.revoke_sending_domain("
            "p_org_id => %s, p_domain => 'ACME.example')",
            (a.org_id,),
        ).fetchone()
    assert row == ("acme.example", None, "verification revoked by the platform")
    add(service, b, "acme.example")
    assert verify(service, b, "acme.example")[1] is not None
    with (
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
        actor(service, a.org_id, a.admin_id),
    ):
        service.execute(
            "select api.revoke_sending_domain(p_org_id => %s, p_domain => 'globex.example')",
            (b.org_id,),
        )


def test_two_orgs_verifying_one_domain_at_once_get_it_taken_not_a_crash(
    db: Database, service, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: the second concurrent verify hit the unique index (23505), which
    the worker did not treat as taken; now it waits for the first and gets IT006."""
    a, b = two_orgs.a, two_orgs.b
    for org in (a, b):
        add(service, org, "contested.example")
    first, second = db.connect("intime_service"), db.connect("intime_service")
    verify_sql = "select api.verify_sending_domain(p_org_id => %s, p_domain => 'contested.example')"
    try:
        first.execute(verify_sql, (a.org_id,))
        _, raised = behind(first, second, verify_sql, (b.org_id,))
        assert isinstance(raised, AlreadyExistsError)
    finally:
        first.close()
        second.close()
