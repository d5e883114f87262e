"""The worker's notification schedules, against real PostgreSQL and real SMTP."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from intime.db import actor, open_pool
from tests.peers import SmtpServer
from tests.support import Database, TwoOrgs
from worker.app import run_worker
from worker.notifications import purge_expired, run_tick
from worker.transports import SmtpTransport


def _tick(db: Database) -> dict:
    async def once() -> dict:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        try:
            return await run_tick(pool)
        finally:
            await pool.close()

    return asyncio.run(once())


def _drain(db: Database, smtp_server: SmtpServer) -> None:
    transports = {"smtp": SmtpTransport(smtp_server.host, smtp_server.port)}
    asyncio.run(
        asyncio.wait_for(
            run_worker(db.dsn("intime_service"), transports, "https://crm.example", drain=True),
            timeout=60,
        )
    )


def test_a_held_email_goes_out_over_smtp_after_the_tick(
    db: Database, service, admin, two_orgs: TwoOrgs, smtp_server: SmtpServer
) -> None:
    admin.execute("update app.email_settings set provider = 'smtp'")
    sam = two_orgs.a.rep_ids[1]
    # Five seconds: the send and the first tick must fall inside the window on a loaded
    # machine (one second was measured running out before the first tick).
    until = datetime.now(UTC) + timedelta(seconds=5)
    with actor(service, two_orgs.a.org_id, sam):
        service.execute("select api.set_preference(p_category => '*', p_dnd_until => %s)", (until,))
    with actor(service, two_orgs.a.org_id, two_orgs.a.admin_id):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_template_slug => 'task_assigned', "
            'p_variables => \'{"task": {"title": "Call <Ada>"}, "assigner": {"name": "A"}}\')',
            (sam,),
        )
    assert _tick(db)["released"] == 0  # still inside do-not-disturb
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)
    assert _tick(db)["released"] == 1
    _drain(db, smtp_server)
    [message] = smtp_server.messages
    assert message["Subject"] == "New Task: Call <Ada>"
    assert message["To"] == "sam@acme.example"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Call &lt;Ada&gt;" in html


def test_the_purge_schedule_deletes_expired_notifications(db: Database, service, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    service.execute("set app.fake_now = '2020-01-01T00:00:00Z'")
    with actor(service, two_orgs.a.org_id, sam):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => 't', "
            "p_message => 'm', p_expires_at => '2020-01-02T00:00:00Z')",
            (sam,),
        )

    async def purge() -> int:
        pool = await open_pool(db.dsn("intime_service"), max_size=2)
        try:
            return await purge_expired(pool)
        finally:
            await pool.close()

    assert asyncio.run(purge()) == 1
