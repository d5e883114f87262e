"""Every URL in an outgoing email is absolute (INTIME_PUBLIC_URL): an approval request's
link, through real SMTP, and the rewrite itself."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor, open_pool
from tests.peers import SmtpServer
from tests.support import Database, TwoOrgs
from worker.email import EmailDeps, absolute_urls, send_email
from worker.transports import SmtpTransport

PUBLIC = "https://crm.example/"


def _request_approval(service: psycopg.Connection, two_orgs: TwoOrgs) -> uuid.UUID:
    """Rep 0 starts a workflow whose approval asks the manager; its run (as the worker's
    workflow.run job would) notifies them. Returns the approval row."""
    a = two_orgs.a
    definition = {
        "triggers": [{"type": "manual"}],
        "steps": [{"name": "ok", "type": "approval", "approvers": [{"manager": True}]}],
    }
    with actor(service, a.org_id, a.admin_id):
        row = service.execute(
            "select api.create_workflow(p_name => 'Discount', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(definition),),
        ).fetchone()
    assert row is not None
    with actor(service, a.org_id, a.rep_ids[0]):
        started = service.execute(
            "select api.start_workflow(p_workflow_id => %s, p_entity_id => %s)",
            (row[0], a.deal_ids[0]),
        ).fetchone()
    assert started is not None
    with service.transaction():
        service.execute(
            "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
            (started[0], a.org_id),
        )
    with actor(service, a.org_id):
        approval = service.execute(
            "select id from app.workflow_approvals where execution_id = %s", (started[0],)
        ).fetchone()
    assert approval is not None
    return approval[0]


def test_an_approval_request_email_links_absolutely_to_its_token(
    db: Database, admin, service, two_orgs: TwoOrgs, smtp_server: SmtpServer
) -> None:
    admin.execute(
        "update app.email_settings set provider = 'smtp', rate_limit_per_minute = 100, "
        "rate_tokens = null where org_id = %s",
        (two_orgs.a.org_id,),
    )
    approval_id = _request_approval(service, two_orgs)
    send = admin.execute(
        "select s.id from app.email_sends as s "
        "join app.notification_deliveries as d on d.org_id = s.org_id and d.email_send_id = s.id "
        "join app.notifications as n on n.org_id = d.org_id and n.id = d.notification_id "
        "join app.approval_links as l on l.org_id = n.org_id "
        "and l.token_hash = sha256(convert_to(substr(n.action_url, 12), 'UTF8')) "
        "where n.template_slug = 'approval_required' and l.approval_id = %s",
        (approval_id,),
    ).fetchone()
    assert send is not None

    async def scenario() -> str:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        transport = SmtpTransport(smtp_server.host, smtp_server.port)
        try:
            deps = EmailDeps(pool=pool, transports={"smtp": transport}, public_url=PUBLIC)
            return await send_email(deps, two_orgs.a.org_id, send[0])
        finally:
            await transport.close()
            await pool.close()

    assert asyncio.run(scenario()) == "sent"
    [message] = smtp_server.messages
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = re.findall(r'href="(https://crm\.example/approvals/(apl_[0-9a-f]{64}))"', html)
    assert len(links) == 1, html
    url, token = links[0]
    assert url in text
    assert 'href="/' not in html
    assert not re.search(r"^/approvals/", text, re.MULTILINE)
    stored = admin.execute(
        "select approval_id, approver_id from app.approval_links where token_hash = %s",
        (hashlib.sha256(token.encode()).digest(),),
    ).fetchone()
    assert stored == (approval_id, two_orgs.a.manager_id)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<a href="/approvals/apl_1">Review</a>', '<a href="https://x.example/approvals/apl_1">'),
        ("<img src='/static/logo.png'>", "<img src='https://x.example/static/logo.png'>"),
        ('<a  HREF = "/inbox?a=1&amp;b=2">', '<a  HREF = "https://x.example/inbox?a=1&amp;b=2">'),
    ],
)
def test_relative_html_links_become_absolute(body: str, expected: str) -> None:
    assert expected in absolute_urls(body, "https://x.example/", html=True)


@pytest.mark.parametrize(
    "body",
    [
        '<a href="https://other.example/x">',
        '<a href="//evil.example/x">',
        '<a href="mailto:a@b.example">',
        '<a href="#top">',
        "<p>Paths like /inbox in prose stay text</p>",
    ],
)
def test_other_html_is_left_alone(body: str) -> None:
    assert absolute_urls(body, "https://x.example", html=True) == body


def test_a_path_alone_on_a_text_line_becomes_absolute() -> None:
    text = "Approve it:\n\n/approvals/apl_1\n  /inbox  \nsee /docs here\n//evil.example/x\n"
    assert absolute_urls(text, "https://x.example/app/", html=False) == (
        "Approve it:\n\nhttps://x.example/app/approvals/apl_1\n  https://x.example/app/inbox\n"
        "see /docs here\n//evil.example/x\n"
    )
