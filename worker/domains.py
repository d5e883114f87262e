"""The domains.verify job: does a claimed sending domain publish its TXT record?

``api.check_sending_domain`` queues it with the org and the domain. The job reads the
record the claim needs (``api.list_sending_domains``), asks DNS for the TXT records of
``_intime-verify.<domain>`` through a ``Resolver`` (dnspython's, over the system's
resolver configuration, by default; tests inject answers) and reports:

- the value is among them: ``api.verify_sending_domain`` (another org verified the
  domain first: the claim records why it was refused);
- it is not (no such name, no TXT record, other values): ``api.record_sending_domain_check``
  says what was found. Permanent for this check; the org asks again when it has fixed
  its DNS;
- DNS did not answer (a timeout, no nameserver reachable, any other DNS error):
  ``LookupFailed``, which the job runner retries with backoff (``worker.jobs``), up to
  ``MAX_ATTEMPTS`` attempts; the last one records the failure on the claim;
- the name cannot be asked (``LookupRefused``: too long, a bad label): recorded at once.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Protocol

import dns.asyncresolver
import dns.exception
import dns.rdtypes.txtbase
import dns.resolver
import psycopg
from pgqueuer import PgQueuer
from pgqueuer.domain.models import Job
from psycopg_pool import AsyncConnectionPool

from intime.db import async_actor
from worker import queries as q
from worker.jobs import JobRunner, Transient, job_payload

log = logging.getLogger("intime.worker.domains")

ENTRYPOINT = "domains.verify"
LOOKUP_SECONDS = 10.0
MAX_ATTEMPTS = 6
TAKEN = "IT006"


class LookupFailed(Exception):
    """DNS gave no answer either way (a timeout, a server failure): try again later."""


class LookupRefused(Exception):
    """The name cannot be asked at all (too long, a bad label): asking again won't help."""


class Resolver(Protocol):
    async def txt(self, name: str) -> list[str]:
        """The TXT records of ``name``, each one's strings joined; empty when the name
        or its TXT records do not exist. Raises ``LookupFailed`` when DNS did not say."""
        ...


@dataclasses.dataclass(frozen=True)
class DnsResolver:
    """The system's resolver configuration (/etc/resolv.conf) through dnspython, or the
    given ``nameservers`` (on ``port``). ``lifetime``: seconds for one lookup in all."""

    lifetime: float = LOOKUP_SECONDS
    nameservers: tuple[str, ...] = ()
    port: int = 53

    def _resolver(self) -> dns.asyncresolver.Resolver:
        if not self.nameservers:
            return dns.asyncresolver.Resolver()
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = list(self.nameservers)
        resolver.port = self.port
        return resolver

    async def txt(self, name: str) -> list[str]:
        try:
            resolver = self._resolver()  # no resolv.conf: NoResolverConfiguration
            answer = await resolver.resolve(name, "TXT", lifetime=self.lifetime)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.exception.FormError, dns.exception.SyntaxError) as exc:
            # NameTooLong; LabelTooLong, EmptyLabel: the name cannot be asked.
            raise LookupRefused(f"{name}: {exc}") from exc
        except dns.exception.DNSException as exc:  # Timeout, NoNameservers, YXDOMAIN, ...
            raise LookupFailed(f"{name}: {exc}") from exc
        return [
            b"".join(rdata.strings).decode("utf-8", "replace")
            for rdata in answer
            if isinstance(rdata, dns.rdtypes.txtbase.TXTBase)
        ]


def record_name(domain: str) -> str:
    return f"_intime-verify.{domain}"


async def _claim(
    pool: AsyncConnectionPool, org_id: uuid.UUID, domain: str
) -> tuple[str, str, bool] | None:
    """The claim's record name and value and whether it is verified; None when gone."""
    async with pool.connection() as conn, async_actor(conn, org_id):
        cur = await conn.execute(q.SENDING_DOMAIN, {"domain": domain})
        row = await cur.fetchone()
    if row is None:
        return None
    name, value, verified_at = row
    return str(name), str(value), verified_at is not None


async def _record_failure(
    pool: AsyncConnectionPool, org_id: uuid.UUID, domain: str, error: str
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            q.RECORD_SENDING_DOMAIN_CHECK, {"org_id": org_id, "domain": domain, "error": error}
        )


async def _lookup(
    pool: AsyncConnectionPool,
    resolver: Resolver,
    org_id: uuid.UUID,
    domain: str,
    name: str,
    attempts: int,
) -> list[str] | None:
    """The TXT records of ``name``; None when the failure was recorded on the claim."""
    try:
        return await resolver.txt(name)
    except LookupRefused as exc:
        await _record_failure(pool, org_id, domain, f"DNS refused the name {name}: {exc}")
        return None
    except LookupFailed as exc:
        if attempts + 1 < MAX_ATTEMPTS:
            raise Transient(f"DNS lookup of {name} failed: {exc}") from exc
        await _record_failure(
            pool, org_id, domain, f"DNS lookup of {name} failed {MAX_ATTEMPTS} times: {exc}"
        )
        return None


async def verify_domain(
    pool: AsyncConnectionPool,
    resolver: Resolver,
    org_id: uuid.UUID,
    domain: str,
    *,
    attempts: int = 0,
) -> str:
    """One check: 'verified', 'mismatch', 'taken' (another org verified it), 'gone' (the
    claim was removed) or 'already' (verified before); raises ``Transient`` when DNS did
    not answer and attempts are left (``attempts``: the job's earlier ones)."""
    claim = await _claim(pool, org_id, domain)
    if claim is None:
        return "gone"
    name, value, verified = claim
    if verified:
        return "already"
    found = await _lookup(pool, resolver, org_id, domain, name, attempts)
    if found is None:
        return "mismatch"
    if value not in found:
        seen = "no TXT record" if not found else f"TXT records {found!r}"
        await _record_failure(pool, org_id, domain, f"{name}: {seen}; expected {value!r}")
        return "mismatch"
    try:
        async with pool.connection() as conn:
            await conn.execute(q.VERIFY_SENDING_DOMAIN, {"org_id": org_id, "domain": domain})
    except psycopg.Error as exc:
        if exc.sqlstate != TAKEN:  # IT006: another org verified it first
            raise
        await _record_failure(pool, org_id, domain, exc.diag.message_primary or str(exc))
        return "taken"
    log.info("sending domain %s verified for org %s", domain, org_id)
    return "verified"


def register(
    pgq: PgQueuer, pool: AsyncConnectionPool, runner: JobRunner, resolver: Resolver
) -> None:
    """Add the domains.verify entrypoint to a worker."""

    @runner.entrypoint(pgq, ENTRYPOINT)
    async def verify(job: Job) -> None:
        payload = job_payload(job)
        org_id = uuid.UUID(str(payload["org_id"]))
        await verify_domain(pool, resolver, org_id, str(payload["domain"]), attempts=job.attempts)
