"""The domains.verify job: the TXT record through an injected resolver (a match verifies,
anything else records why not, a timeout is retried), end to end through the worker, and
the default dnspython resolver against a loopback DNS server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import dns.message
import dns.rcode
import dns.rrset
import psycopg
import pytest

from intime.db import actor, open_pool
from tests.support import Database, TwoOrgs
from worker.app import run_worker
from worker.domains import DnsResolver, LookupFailed, LookupRefused, verify_domain
from worker.jobs import Transient

DOMAIN = "new-acme.example"
NAME = f"_intime-verify.{DOMAIN}"


class FakeResolver:
    """Set answers: a name's TXT records, or an exception to raise for it."""

    def __init__(self, answers: dict[str, list[str] | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def txt(self, name: str) -> list[str]:
        self.asked.append(name)
        answer = self.answers.get(name, [])
        if isinstance(answer, Exception):
            raise answer
        return answer


def claim(service: psycopg.Connection, org, domain: str = DOMAIN) -> str:
    """Claim ``domain`` for ``org``; returns the TXT value to publish."""
    with actor(service, org.org_id, org.admin_id):
        row = service.execute(
            "select record_value from api.add_sending_domain(p_domain => %s)", (domain,)
        ).fetchone()
    assert row is not None
    return row[0]


def state(admin, org, domain: str = DOMAIN) -> tuple:
    row = admin.execute(
        "select verified_at is not null, last_checked_at is not null, last_error "
        "from app.sending_domains where org_id = %s and domain = %s",
        (org.org_id, domain),
    ).fetchone()
    assert row is not None
    return row


def run(db: Database, body: Callable[[Any], Coroutine]) -> Any:
    async def scenario() -> Any:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(scenario())


def check(db: Database, org, resolver: FakeResolver, attempts: int = 0) -> str:
    return run(
        db, lambda pool: verify_domain(pool, resolver, org.org_id, DOMAIN, attempts=attempts)
    )


def test_a_matching_txt_record_verifies_the_domain(
    db: Database, service, admin, two_orgs: TwoOrgs
) -> None:
    value = claim(service, two_orgs.a)
    resolver = FakeResolver({NAME: ["v=spf1 -all", value]})
    assert check(db, two_orgs.a, resolver) == "verified"
    assert resolver.asked == [NAME]
    assert state(admin, two_orgs.a) == (True, True, None)
    assert check(db, two_orgs.a, resolver) == "already"
    assert resolver.asked == [NAME], "a verified domain is not looked up again"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ([], "no TXT record"),
        (["intime-verification=0000"], "TXT records ['intime-verification=0000']"),
    ],
)
def test_a_missing_or_other_record_leaves_the_domain_unverified_with_the_reason(
    db: Database, service, admin, two_orgs: TwoOrgs, answer: list[str], error: str
) -> None:
    value = claim(service, two_orgs.a)
    assert check(db, two_orgs.a, FakeResolver({NAME: answer})) == "mismatch"
    verified, checked, last_error = state(admin, two_orgs.a)
    assert (verified, checked) == (False, True)
    assert last_error == f"{NAME}: {error}; expected {value!r}"


def test_a_dns_timeout_is_retried_then_recorded(
    db: Database, service, admin, two_orgs: TwoOrgs
) -> None:
    claim(service, two_orgs.a)
    resolver = FakeResolver({NAME: LookupFailed("timed out")})
    with pytest.raises(Transient, match="timed out"):
        check(db, two_orgs.a, resolver, attempts=0)
    assert state(admin, two_orgs.a) == (False, False, None), "nothing recorded while retrying"
    assert check(db, two_orgs.a, resolver, attempts=5) == "mismatch"
    verified, checked, last_error = state(admin, two_orgs.a)
    assert (verified, checked) == (False, True)
    assert "failed 6 times: timed out" in last_error


def test_a_domain_another_org_verified_first_is_not_verified(
    db: Database, service, admin, two_orgs: TwoOrgs
) -> None:
    a_value = claim(service, two_orgs.a)
    b_value = claim(service, two_orgs.b)
    resolver = FakeResolver({NAME: [a_value, b_value]})
    assert check(db, two_orgs.a, resolver) == "verified"
    assert check(db, two_orgs.b, resolver) == "taken"
    verified, _, last_error = state(admin, two_orgs.b)
    assert not verified
    assert last_error == f"the domain {DOMAIN} is verified by another organization"


def test_a_removed_claim_is_not_looked_up(db: Database, service, two_orgs: TwoOrgs) -> None:
    resolver = FakeResolver({})
    assert check(db, two_orgs.a, resolver) == "gone"
    assert resolver.asked == []


def test_checking_a_domain_runs_the_job_in_the_worker(
    db: Database, service, admin, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    value = claim(service, a)
    with actor(service, a.org_id, a.admin_id):
        service.execute("select api.check_sending_domain(p_domain => %s)", (DOMAIN,))
    resolver = FakeResolver({NAME: [value]})
    worker = run_worker(
        db.dsn("intime_service"), {}, "https://crm.example", drain=True, resolver=resolver
    )
    asyncio.run(asyncio.wait_for(worker, timeout=60))
    assert resolver.asked == [NAME]
    assert state(admin, a) == (True, True, None)
    # Verified: the org may now send from it through smtp.
    with actor(service, a.org_id, a.admin_id):
        service.execute(
            "select api.set_email_settings(p_from_email => %s, "
            "p_reply_domain => 'mail.acme.example', p_provider => 'smtp')",
            (f"sales@{DOMAIN}",),
        )


# -- the default resolver, against a DNS server on loopback ---------------------------------


class DnsServer(asyncio.DatagramProtocol):
    """Answers TXT queries from ``records``; a name in ``silent`` gets no answer at all."""

    def __init__(self, records: dict[str, list[str]], silent: set[str]) -> None:
        self.records, self.silent = records, silent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        query = dns.message.from_wire(data)
        name = query.question[0].name.to_text(omit_final_dot=True)
        if name in self.silent:
            return
        response = dns.message.make_response(query)
        if name in self.records:
            texts = [f'"{value}"' for value in self.records[name]]
            response.answer.append(dns.rrset.from_text(name + ".", 60, "IN", "TXT", *texts))
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


def resolve(records: dict[str, list[str]], silent: set[str], name: str) -> list[str]:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: DnsServer(records, silent), local_addr=("127.0.0.1", 0)
        )
        port = transport.get_extra_info("sockname")[1]
        try:
            resolver = DnsResolver(lifetime=1.0, nameservers=("127.0.0.1",), port=port)
            return await resolver.txt(name)
        finally:
            transport.close()

    return asyncio.run(scenario())


def test_the_default_resolver_reads_txt_records() -> None:
    records = {NAME: ["intime-verification=abc", "v=spf1 -all"]}
    assert sorted(resolve(records, set(), NAME)) == ["intime-verification=abc", "v=spf1 -all"]


def test_the_default_resolver_reads_no_such_name_as_no_record() -> None:
    assert resolve({}, set(), f"_intime-verify.{uuid.uuid4().hex}.example") == []


def test_the_default_resolver_reports_a_timeout_as_a_failed_lookup() -> None:
    with pytest.raises(LookupFailed):
        resolve({}, {NAME}, NAME)


@pytest.mark.parametrize(
    "name",
    [
        "_intime-verify." + ".".join(["a" * 59] * 4) + ".example",  # 262 characters
        f"_intime-verify.{'x' * 64}.example",
    ],
)
def test_the_default_resolver_refuses_a_name_dns_cannot_carry(name: str) -> None:
    """Review of issue 14: dnspython's NameTooLong went past the job's classification (held
    failed, nothing recorded on the claim); it is a refusal, recorded at once."""
    with pytest.raises(LookupRefused):
        resolve({}, set(), name)


def test_a_name_dns_refuses_is_recorded_at_once(
    db: Database, service, admin, two_orgs: TwoOrgs
) -> None:
    claim(service, two_orgs.a)
    resolver = FakeResolver({NAME: LookupRefused("name too long")})
    assert check(db, two_orgs.a, resolver) == "mismatch"
    verified, checked, last_error = state(admin, two_orgs.a)
    assert (verified, checked) == (False, True)
    assert "DNS refused the name" in last_error
