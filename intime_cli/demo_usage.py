"""The end of ``intime demo``: how to use what it left behind.

A sign-in token per demo user, the console's URL, the psql URL of the demo's SQL login,
the command that starts the web app and the worker, and the approval left pending with
the outbox file of the email that asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_binary_file
from email.message import Message
from pathlib import Path

import psycopg

from intime.db import actor
from intime_cli import demo_queries as dq
from intime_cli.seed import SeededOrg


@dataclass(frozen=True)
class SignIn:
    org: str
    email: str
    role: str
    name: str
    token: str


@dataclass(frozen=True)
class PendingApproval:
    workflow: str
    approver: str
    approver_email: str
    deal: str | None
    link: str | None
    email_file: Path | None


def sign_in_tokens(service_dsn: str, orgs: tuple[SeededOrg, ...]) -> list[SignIn]:
    """A new API token (named ``demo``) for every user of the demo's orgs."""
    tokens: list[SignIn] = []
    with psycopg.connect(service_dsn, autocommit=True) as conn:
        for org in orgs:
            with actor(conn, org.org_id, org.admin_id):
                for user_id, email, role, name in conn.execute(dq.DEMO_USERS).fetchall():
                    row = conn.execute(
                        dq.NEW_SIGN_IN, {"name": "demo", "user_id": user_id}
                    ).fetchone()
                    assert row is not None
                    tokens.append(SignIn(org.slug, email, role, name, row[0]))
    return tokens


def _text_of(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", "replace")
    return ""


def pending_approval(admin_dsn: str, org: SeededOrg, outbox: Path) -> PendingApproval | None:
    """The org's approval still pending and the outbox email that carries its link."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        row = conn.execute(dq.PENDING_APPROVAL, {"org_id": org.org_id}).fetchone()
    if row is None:
        return None
    _, workflow, approver, email, action_url, deal = row
    files = sorted(p for sub in ("new", "cur") for p in (outbox / sub).glob("*") if p.is_file())
    for path in files:
        with path.open("rb") as handle:
            message = message_from_binary_file(handle)
        if email not in str(message["To"]):
            continue
        # The worker writes the link absolute (INTIME_PUBLIC_URL); it ends its line.
        found = re.search(rf"\S*{re.escape(action_url)}(?=\s|$)", _text_of(message))
        if found:
            return PendingApproval(workflow, approver, email, deal, found.group(0), path)
    return PendingApproval(workflow, approver, email, deal, None, None)


def print_how_to_use(
    *,
    public_url: str,
    psql_url: str,
    login: str,
    login_name: str,
    tokens: list[SignIn],
    approval: PendingApproval | None,
    embedded: bool,
    database: str | None = None,
) -> None:
    console = f"{public_url.rstrip('/')}/inbox"
    print("\n== Use it yourself")
    print(
        "   start the web app and the worker: .venv/bin/intime up"
        + (f" --database {database}" if database else "")
        + ("   (the embedded PostgreSQL too; Ctrl-C stops all)" if embedded else "")
    )
    print(f"   console (INTIME_PUBLIC_URL): {console}   sign in with a token below")
    print("   sign-in API tokens, one per demo user (new on every run; shown once):")
    width = max(len(t.email) for t in tokens)
    for t in tokens:
        print(f"     {t.org:<7} {t.email:<{width}} {t.role:<8} {t.token}")
    print(
        f"   psql as {login_name} (SQL login {login}, mapped to the user; "
        "row-level security applies):"
    )
    print(f"     psql '{psql_url}'")
    if embedded:
        print("     (the embedded server runs while `intime up` or `intime pg run` does)")
    print(
        "   e.g. curl -N -H 'Authorization: Bearer <token>' "
        f"{public_url.rstrip('/')}/notifications/stream"
    )
    if approval is None:
        print("   no approval is pending")
        return
    print(
        f"   approval pending: {approval.workflow} of {approval.deal or 'an entity'}, "
        f"approver {approval.approver} ({approval.approver_email})"
    )
    if approval.email_file is not None:
        print(f"     its email: {approval.email_file}")
        print(f"     its link:  {approval.link}")
    else:
        print("     its email is not in the outbox (held by the approver's preferences)")
