"""Signing in, and the inbox: a notification sent while the page is open appears
without a reload (the browser's own EventSource on /notifications/stream)."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from selenium.webdriver.support.wait import WebDriverWait

from intime.db import actor
from tests.browser.conftest import WAIT, Console
from tests.support import TwoOrgs


def send(service: psycopg.Connection, org_id, user_id, title: str) -> None:
    with actor(service, org_id, user_id):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => %s, p_message => 'Acme renewal moved to Negotiation', "
            "p_channels => array['in_app'], p_action_url => '/executions')",
            (user_id, title),
        )


def test_a_token_signs_in_and_lands_on_the_inbox(
    console: Console, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    console.sign_in(token_for(two_orgs.a.admin_id))
    assert console.driver.current_url.endswith("/inbox")
    assert "Acme Staffing Admin" in console.find(".who").text
    console.screenshot("signed-in")
    console.screenshot("signed-in-phone", width=390)


def test_a_bad_token_is_refused_on_the_form(console: Console) -> None:
    console.get("/signin")
    console.screenshot("signin", docs=True)
    console.find("#token").send_keys("it_not-a-token")
    console.find("form button[type=submit]").click()
    assert "not valid" in console.wait_for(".flash.bad").text
    assert console.driver.current_url.endswith("/signin")
    console.screenshot("signin-refused")


def test_a_new_notification_appears_live_on_the_inbox(
    console: Console,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    a = two_orgs.a
    send(service, a.org_id, a.admin_id, "Earlier: deal won")
    console.sign_in(token_for(a.admin_id))
    console.wait_for("#notifications li[data-id]")
    before = console.find("#unread-badge").text
    console.wait_for("#live-status", "Live")
    send(service, a.org_id, a.admin_id, "Live: contract signed")
    item = console.wait_for("#notifications li.fresh .item-title", "Live: contract signed")
    assert item is not None
    console.wait_for("#unread-badge", str(int(before) + 1))
    console.screenshot("inbox", docs=True)


def test_a_collapse_into_a_notification_off_the_page_keeps_the_badge_right(
    console: Console,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    """The page lists 50; a collapse re-announces an older unread notification that
    the badge already counts: the client takes it for a new one, and the count the
    hub sends after a collapse sets the badge right."""
    a = two_orgs.a

    def grouped(title: str) -> None:
        with actor(service, a.org_id, a.admin_id):
            service.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => %s, p_message => 'm', p_channels => array['in_app'], "
                "p_group_key => 'deal-42')",
                (a.admin_id, title),
            )

    grouped("Deal 42: first update")
    for i in range(50):
        send(service, a.org_id, a.admin_id, f"Newer {i}")
    console.sign_in(token_for(a.admin_id))
    console.wait_for("#live-status", "Live")
    before = console.find("#unread-badge").text
    grouped("Deal 42: second update")
    console.wait_for("#notifications li.fresh .item-title", "Deal 42: second update")
    with actor(service, a.org_id, a.admin_id):
        row = service.execute("select api.count_unread_notifications()").fetchone()
    assert row is not None
    assert str(row[0]) == before
    deadline = time.monotonic() + 10
    while console.find("#unread-badge").text != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert console.find("#unread-badge").text == before


def _burst(service: psycopg.Connection, org_id, user_id, count: int, prefix: str) -> None:
    """``count`` notifications in one transaction, sent as the engine sends them (a
    workflow: no user in context, no sending rate). The hub fans out one read of up to
    1,000: a stream's queue takes 256 of them, then its replay from the table sends at
    most 500; past 756 it sends a reset first."""
    with actor(service, org_id):
        for i in range(count):
            service.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => %s, p_message => 'm', p_channels => array['in_app'])",
                (user_id, f"{prefix} {i}"),
            )


def test_a_burst_beyond_what_the_stream_replays_reloads_the_inbox(
    console: Console,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    """The stream sends `reset`; the page loads afresh: the newest 50 from the server,
    none of them added live, and the badge counts the whole burst."""
    a = two_orgs.a
    console.sign_in(token_for(a.admin_id))
    console.wait_for("#live-status", "Live")
    console.driver.execute_script("window.intimeBeforeReload = true")
    _burst(service, a.org_id, a.admin_id, 1000, "Burst")
    WebDriverWait(console.driver, WAIT).until(
        lambda d: d.execute_script("return window.intimeBeforeReload === undefined")
    )
    first = console.wait_for("#notifications li[data-id] .item-title", "Burst 999")
    assert first is not None
    assert console.all("#notifications li.fresh") == []
    assert len(console.all("#notifications li[data-id]")) == 50
    with actor(service, a.org_id, a.admin_id):
        row = service.execute("select api.count_unread_notifications()").fetchone()
    assert row is not None
    console.wait_for("#unread-badge", str(row[0]))


def test_a_second_burst_within_a_minute_asks_for_a_reload_instead(
    console: Console,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    """No reload loop: after one reset's reload, another within a minute leaves the page
    and says why."""
    a = two_orgs.a
    console.sign_in(token_for(a.admin_id))
    console.wait_for("#live-status", "Live")
    _burst(service, a.org_id, a.admin_id, 1000, "First")
    console.wait_for("#notifications li[data-id] .item-title", "First 999")
    console.wait_for("#live-status", "Live")
    console.driver.execute_script("window.intimeBeforeReload = true")
    _burst(service, a.org_id, a.admin_id, 1000, "Second")
    console.wait_for("#live-status", "More notifications arrived")
    assert console.driver.execute_script("return window.intimeBeforeReload") is True


def test_a_reset_where_storage_is_blocked_asks_for_a_reload_instead(
    console: Console,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    """With sessionStorage blocked (the site's storage refused), the page cannot tell
    whether it reloaded a moment ago: it does not reload, and says why."""
    blocked = console.driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": "Object.defineProperty(window, 'sessionStorage', {get() "
            "{ throw new DOMException('blocked', 'SecurityError'); }});"
        },
    )
    try:
        a = two_orgs.a
        console.sign_in(token_for(a.admin_id))
        console.wait_for("#live-status", "Live")
        console.driver.execute_script("window.intimeBeforeReload = true")
        _burst(service, a.org_id, a.admin_id, 1000, "Blocked")
        console.wait_for("#live-status", "More notifications arrived")
        assert console.driver.execute_script("return window.intimeBeforeReload") is True
    finally:
        console.driver.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": blocked["identifier"]}
        )
