"""Approving from an email link, an execution's timeline, a campaign's A/B chart and the
queue page, in the browser. The worker's part (running executions, ticking campaigns)
is done the way the worker does it: one api call per job, as the service role."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from tests.browser.conftest import Console
from tests.browser.scenarios import ab_campaign, approval_execution, emailed_link, failed_job
from tests.support import TwoOrgs


def test_approving_from_the_email_link_decides_the_approval(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    console.get(path)  # no session: the link is the credential
    assert "20% discount on the Acme renewal" in console.find("h1").text
    assert console.all("#decide-form")
    console.screenshot("approval-link", docs=True)
    console.find("#comment").send_keys("Fine for a two-year term")
    console.find("#approve").click()
    console.wait_for("#link-state", "already used")
    row = admin.execute(
        "select status, response_notes from app.workflow_approvals where execution_id = %s",
        (execution_id,),
    ).fetchone()
    assert row == ("approved", "Fine for a two-year term")
    used = admin.execute(
        "select used_decision from app.approval_links where approval_id in "
        "(select id from app.workflow_approvals where execution_id = %s)",
        (execution_id,),
    ).fetchall()
    assert ("approved",) in used
    console.screenshot("approval-link-used")


def test_an_execution_timeline_shows_its_steps(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    token_for: Callable[..., str],
) -> None:
    a = two_orgs.a
    execution_id = approval_execution(service, admin, two_orgs)
    console.sign_in(token_for(a.admin_id))
    console.get("/executions")
    console.wait_for(f'a[href="/executions/{execution_id}"]')
    console.screenshot("executions", docs=True)
    console.find(f'a[href="/executions/{execution_id}"]').click()
    console.wait_for("#timeline")
    kinds = [e.get_attribute("class") for e in console.all("#timeline li.ev")]
    assert any("k-step" in k for k in kinds)
    assert any("k-approval" in k for k in kinds)
    assert "discount" in console.find("#timeline").text
    assert console.find("#execution-status").text == "waiting"
    console.screenshot("timeline", docs=True)


def test_the_campaign_page_charts_the_ab_arms(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    token_for: Callable[..., str],
) -> None:
    campaign_id = ab_campaign(service, admin, two_orgs)
    console.sign_in(token_for(two_orgs.a.admin_id))
    console.get("/campaigns")
    console.wait_for(f'a[href="/campaigns/{campaign_id}"]')
    console.screenshot("campaigns", docs=True)
    console.find(f'a[href="/campaigns/{campaign_id}"]').click()
    chart = console.wait_for("#ab-chart-1 svg")
    labels = chart.text
    assert "A (n=" in labels
    assert "B (n=" in labels
    assert len(console.all("#ab-chart-1 svg g.ci")) >= 2  # the intervals are drawn
    console.screenshot("campaign", docs=True)


def test_the_approvals_page_lists_what_waits_for_the_signed_in_approver(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    token_for: Callable[..., str],
) -> None:
    approval_execution(service, admin, two_orgs)
    console.sign_in(token_for(two_orgs.a.manager_id))
    console.get("/approvals")
    assert "20% discount on the Acme renewal" in console.wait_for("main").text
    console.screenshot("approvals", docs=True)


def test_an_enrollment_timeline_shows_its_steps(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    token_for: Callable[..., str],
) -> None:
    campaign_id = ab_campaign(service, admin, two_orgs)
    row = admin.execute(
        "select id from app.campaign_enrollments where campaign_id = %s order by id limit 1",
        (campaign_id,),
    ).fetchone()
    assert row is not None
    console.sign_in(token_for(two_orgs.a.admin_id))
    console.get(f"/enrollments/{row[0]}")
    assert console.all("#timeline li")
    console.screenshot("enrollment", docs=True)


def test_the_queue_page_requeues_a_failed_job(
    console: Console,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    token_for: Callable[..., str],
) -> None:
    job_id = failed_job(service, admin, two_orgs.a.org_id, two_orgs.a.admin_id)
    console.sign_in(token_for(two_orgs.a.admin_id))
    console.get("/queue")
    console.wait_for("#queue-depth")
    assert "SMTPServerDisconnected" in console.find("#failed-jobs").text
    console.screenshot("queue", docs=True)
    console.find(f'#failed-jobs input[value="{job_id}"] + button').click()
    console.wait_for(".flash.good", "Requeued as job")
    (status,) = admin.execute(
        "select status::text from queue.pgqueuer where id = %s", (job_id,)
    ).fetchone() or ("gone",)
    assert status != "failed"
