"""The console over plain HTTP (httpx against uvicorn): sign-in, CSRF, who may act,
error pages instead of 500s, and approval links that a GET never uses up. The browser
tests (tests/browser) cover the same pages in Chromium."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from intime.db import actor
from intime_cli.sse import SseStream
from tests.browser.scenarios import ab_campaign, approval_execution, emailed_link, failed_job
from tests.support import Database, TwoOrgs
from tests.web.streams import open_send

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as c:
        yield c


def sign_in(client: httpx.Client, token: str) -> str:
    """Signs in; returns the session's CSRF token (from the inbox page)."""
    response = client.post("/signin", data={"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    page = client.get("/inbox")
    assert page.status_code == 200
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def notify(service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID, title: str) -> None:
    with actor(service, org_id, user_id):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => %s, p_message => 'm', p_channels => array['in_app'])",
            (user_id, title),
        )


def test_the_root_leads_to_the_inbox(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"


def test_a_page_without_a_session_leads_to_sign_in(client: httpx.Client) -> None:
    response = client.get("/inbox")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"


def test_sign_in_sets_an_http_only_strict_cookie(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    response = client.post("/signin", data={"token": token_for(two_orgs.a.admin_id)})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/" in cookie


@pytest.mark.parametrize("token", ["", "it_nope", "x" * 600, "bad\x00token"])
def test_a_bad_token_shows_the_form_again_not_an_error(client: httpx.Client, token: str) -> None:
    response = client.post("/signin", data={"token": token})
    assert response.status_code in (401, 422)
    assert 'name="token"' in response.text
    assert "set-cookie" not in response.headers


def test_sign_in_from_another_site_is_refused(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    response = client.post(
        "/signin",
        data={"token": token_for(two_orgs.a.admin_id)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_the_inbox_escapes_what_a_notification_says(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    a = two_orgs.a
    notify(service, a.org_id, a.admin_id, "<script>alert(1)</script>")
    sign_in(client, token_for(a.admin_id))
    page = client.get("/inbox").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_inbox_older_link_goes_on_after_the_last_row_shown(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
) -> None:
    a = two_orgs.a
    for i in range(55):
        notify(service, a.org_id, a.rep_ids[1], f"page-test {i:02d}")
    sign_in(client, token_for(a.rep_ids[1]))
    first = client.get("/inbox").text
    older = re.search(r'href="(/inbox\?before_seq=[^"]+)">Older', first)
    assert older is not None
    assert "before_at=" in older.group(1)
    second = client.get(older.group(1).replace("&amp;", "&")).text
    shown = [re.findall(r"page-test (\d\d)", page) for page in (first, second)]
    assert shown[0][:1] == ["54"]
    assert not set(shown[0]) & set(shown[1])
    assert sorted(shown[0] + shown[1], reverse=True)[: len(shown[0]) + 5] == [
        f"{i:02d}" for i in range(54, 54 - len(shown[0]) - 5, -1)
    ]


def test_the_inbox_streams_from_below_a_notification_still_in_flight(
    client: httpx.Client,
    base_url: str,
    db: Database,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    """A notification whose transaction is still open when the page renders, below
    one that committed: the page's stream position is below it, and the stream
    then sends it when it commits."""
    a = two_orgs.a
    token = token_for(a.admin_id)
    late = open_send(db, a.org_id, a.admin_id, "committed after the page")
    try:
        notify(service, a.org_id, a.rep_ids[0], "someone else's, committed first")
        (head,) = admin.execute("select max(seq) from app.notifications").fetchone()
        sign_in(client, token)
        found = re.search(r'data-stream-from="(\d+)"', client.get("/inbox").text)
        assert found is not None
        assert int(found.group(1)) < head
        stream = SseStream(
            f"{base_url}/notifications/stream", token=token, last_event_id=found.group(1)
        )
        late.commit()
    finally:
        late.close()
    titles: list[str] = []
    try:  # what the page already shows may come again first: the client skips its ids
        while "committed after the page" not in titles:
            titles.append(stream.next_json(timeout=10)["title"])
    finally:
        stream.close()


def test_a_post_without_the_csrf_token_is_refused(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    notify(service, a.org_id, a.admin_id, "keep me unread")
    sign_in(client, token_for(a.admin_id))
    (nid,) = admin.execute(
        "select id from app.notifications where title = 'keep me unread'"
    ).fetchone()
    response = client.post("/inbox/read", data={"id": str(nid)})
    assert response.status_code == 403
    (read_at,) = admin.execute(
        "select read_at from app.notifications where id = %s", (nid,)
    ).fetchone()
    assert read_at is None


def test_read_and_archive_change_the_notification(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    notify(service, a.org_id, a.admin_id, "read me")
    csrf = sign_in(client, token_for(a.admin_id))
    (nid,) = admin.execute("select id from app.notifications where title = 'read me'").fetchone()
    assert client.post("/inbox/read", data={"id": str(nid), "csrf_token": csrf}).status_code == 303
    assert (
        client.post("/inbox/archive", data={"id": str(nid), "csrf_token": csrf}).status_code == 303
    )
    row = admin.execute(
        "select read_at is not null, archived_at is not null from app.notifications where id = %s",
        (nid,),
    ).fetchone()
    assert row == (True, True)


def test_another_users_notification_is_not_changed(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    notify(service, a.org_id, a.manager_id, "the manager's")
    csrf = sign_in(client, token_for(a.rep_ids[0]))
    (nid,) = admin.execute(
        "select id from app.notifications where title = 'the manager''s'"
    ).fetchone()
    client.post("/inbox/read", data={"id": str(nid), "csrf_token": csrf})
    (read_at,) = admin.execute(
        "select read_at from app.notifications where id = %s", (nid,)
    ).fetchone()
    assert read_at is None


@pytest.mark.parametrize(
    "path",
    [
        "/executions/not-a-uuid",
        "/executions/6d1e1f0e-0000-4000-8000-000000000001",
        "/enrollments/6d1e1f0e-0000-4000-8000-000000000002",
        "/inbox?before_seq=-1",
        "/inbox?before_seq=5&before_at=yesterday",
        "/executions?status=bogus",
        "/executions?before_created_at=yesterday",
    ],
)
def test_bad_input_is_an_error_page_not_a_500(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str], path: str
) -> None:
    sign_in(client, token_for(two_orgs.a.admin_id))
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert "<h1>" in response.text


def test_an_unknown_approval_link_is_a_404_page(client: httpx.Client, two_orgs: TwoOrgs) -> None:
    response = client.get("/approvals/apl_" + "0" * 64)
    assert response.status_code == 404
    assert response.headers["referrer-policy"] == "same-origin"
    assert "not valid" in response.text


def test_a_cross_site_post_to_an_approval_link_is_refused(client: httpx.Client) -> None:
    token = "apl_" + "0" * 64
    response = client.post(
        f"/approvals/{token}",
        data={"link_token": token, "decision": "approve"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_sign_out_ends_the_session_server_side(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    csrf = sign_in(client, token_for(two_orgs.a.admin_id))
    old = client.cookies["intime_session"]
    response = client.post("/signout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    client.cookies.clear()
    client.cookies.set("intime_session", old)  # a copy of the cookie kept from before
    assert client.get("/inbox").headers["location"] == "/signin"


def test_an_execution_can_be_paused_by_an_admin_not_by_another_rep(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    execution_id = approval_execution(service, admin, two_orgs)  # started by rep 0
    csrf = sign_in(client, token_for(a.rep_ids[1]))
    page = client.get(f"/executions/{execution_id}").text
    assert f"/executions/{execution_id}/pause" not in page  # no button for rep 1
    refused = client.post(f"/executions/{execution_id}/pause", data={"csrf_token": csrf})
    assert refused.status_code == 403
    (status,) = admin.execute(
        "select status from app.workflow_executions where id = %s", (execution_id,)
    ).fetchone()
    assert status == "waiting"
    client.cookies.clear()
    csrf = sign_in(client, token_for(a.admin_id))
    assert f"/executions/{execution_id}/pause" in client.get(f"/executions/{execution_id}").text
    done = client.post(f"/executions/{execution_id}/pause", data={"csrf_token": csrf})
    assert done.status_code == 303
    (status,) = admin.execute(
        "select status from app.workflow_executions where id = %s", (execution_id,)
    ).fetchone()
    assert status == "paused"


def test_an_unknown_execution_action_is_a_404_page(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    csrf = sign_in(client, token_for(two_orgs.a.admin_id))
    response = client.post(
        "/executions/6d1e1f0e-0000-4000-8000-000000000001/explode", data={"csrf_token": csrf}
    )
    assert response.status_code == 404


def test_the_stylesheet_is_served(client: httpx.Client) -> None:
    response = client.get("/static/console.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")


def test_the_approvals_page_lists_the_callers_pending_approvals_only(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    approval_execution(service, admin, two_orgs)  # asks the manager
    sign_in(client, token_for(a.manager_id))
    assert "20% discount on the Acme renewal" in client.get("/approvals").text
    client.cookies.clear()
    sign_in(client, token_for(a.rep_ids[1]))
    assert "20% discount on the Acme renewal" not in client.get("/approvals").text


def test_the_ab_chart_is_an_svg_without_scripts(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    campaign_id = ab_campaign(service, admin, two_orgs)
    sign_in(client, token_for(two_orgs.a.admin_id))
    response = client.get(f"/campaigns/{campaign_id}/ab.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in response.text
    assert "<script" not in response.text
    assert "A (n=" in response.text
    assert client.get(f"/campaigns/{campaign_id}/ab.svg?step=9").status_code == 404


def test_another_orgs_campaign_is_not_found(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    campaign_id = ab_campaign(service, admin, two_orgs)  # org A's
    sign_in(client, token_for(two_orgs.b.admin_id, two_orgs.b.org_id))
    assert client.get(f"/campaigns/{campaign_id}").status_code == 404
    assert client.get(f"/campaigns/{campaign_id}/ab.svg").status_code == 404


def approval_status(admin: psycopg.Connection, execution_id: uuid.UUID) -> list[tuple]:
    return admin.execute(
        "select status, delegated_to from app.workflow_approvals where execution_id = %s "
        "order by created_at, id",
        (execution_id,),
    ).fetchall()


def test_opening_an_approval_link_changes_nothing(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    for _ in range(2):  # a mail scanner, then the approver
        page = client.get(path)
        assert page.status_code == 200
        assert 'name="decision" value="approve"' in page.text
    assert approval_status(admin, execution_id) == [("pending", None)]
    used = admin.execute("select count(*) from app.approval_links where used_at is not null")
    assert used.fetchone() == (0,)


def test_a_used_link_says_so_and_decides_nothing_more(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    token = path.rsplit("/", 1)[1]
    first = client.post(path, data={"link_token": token, "decision": "reject"})
    assert first.status_code == 303
    again = client.post(path, data={"link_token": token, "decision": "approve"})
    assert again.status_code == 409
    assert "already used" in again.text
    assert 'name="decision"' not in again.text
    assert approval_status(admin, execution_id) == [("rejected", None)]


def test_a_link_delegates_to_the_person_chosen(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, a.manager_id)
    token = path.rsplit("/", 1)[1]
    assert str(a.admin_id) in client.get(path).text  # offered as a delegate
    response = client.post(
        path,
        data={
            "link_token": token,
            "decision": "delegate",
            "delegate_to": str(a.admin_id),
            "comment": "on leave",
        },
    )
    assert response.status_code == 303
    assert ("delegated", a.admin_id) in approval_status(admin, execution_id)


@pytest.mark.parametrize(
    "form",
    [
        {"decision": "approve"},  # the token is not in the form
        {"link_token": "apl_" + "1" * 64, "decision": "approve"},  # another link's
    ],
)
def test_a_link_post_needs_its_own_token_in_the_form(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
    form: dict[str, str],
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    assert client.post(path, data=form).status_code == 403
    assert approval_status(admin, execution_id) == [("pending", None)]


def test_a_link_refuses_a_decision_it_does_not_know(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    token = path.rsplit("/", 1)[1]
    response = client.post(path, data={"link_token": token, "decision": "maybe"})
    assert response.status_code == 422
    assert approval_status(admin, execution_id) == [("pending", None)]


def test_the_signed_in_approver_decides_on_the_approval_page(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    execution_id = approval_execution(service, admin, two_orgs)
    (approval_id,) = admin.execute(
        "select id from app.workflow_approvals where execution_id = %s", (execution_id,)
    ).fetchone()
    csrf = sign_in(client, token_for(a.rep_ids[1]))
    refused = client.post(
        f"/approvals/{approval_id}", data={"decision": "approve", "csrf_token": csrf}
    )
    assert refused.status_code in (403, 404)
    client.cookies.clear()
    csrf = sign_in(client, token_for(a.manager_id))
    assert "20% discount on the Acme renewal" in client.get(f"/approvals/{approval_id}").text
    done = client.post(
        f"/approvals/{approval_id}", data={"decision": "approve", "csrf_token": csrf}
    )
    assert done.status_code == 303
    assert approval_status(admin, execution_id) == [("approved", None)]
    listed = client.get("/approvals").text
    decided = listed[listed.index("<h2>Decided</h2>") :]
    assert f'href="/approvals/{approval_id}"' in decided
    assert "s-approved" in decided


def test_a_member_may_not_requeue_a_job(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    job_id = failed_job(service, admin, a.org_id, a.admin_id)
    csrf = sign_in(client, token_for(a.rep_ids[0]))
    response = client.post("/queue/requeue", data={"job_id": str(job_id), "csrf_token": csrf})
    assert response.status_code == 403
    (status,) = admin.execute(
        "select status::text from queue.pgqueuer where id = %s", (job_id,)
    ).fetchone()
    assert status == "failed"


@pytest.mark.parametrize("job_id", ["", "abc", "-1", "99999999999999999999"])
def test_a_requeue_of_no_job_number_is_refused(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str], job_id: str
) -> None:
    csrf = sign_in(client, token_for(two_orgs.a.admin_id))
    response = client.post("/queue/requeue", data={"job_id": job_id, "csrf_token": csrf})
    assert response.status_code == 422


def test_the_approvals_page_delegates_a_pending_approval(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    a = two_orgs.a
    execution_id = approval_execution(service, admin, two_orgs)
    (approval_id,) = admin.execute(
        "select id from app.workflow_approvals where execution_id = %s", (execution_id,)
    ).fetchone()
    csrf = sign_in(client, token_for(a.manager_id))
    listed = client.get("/approvals").text
    assert f'<option value="{a.admin_id}">' in listed  # the list's delegate form offers them
    response = client.post(
        f"/approvals/{approval_id}",
        data={"decision": "delegate", "delegate_to": str(a.admin_id), "csrf_token": csrf},
    )
    assert response.status_code == 303
    assert ("delegated", a.admin_id) in approval_status(admin, execution_id)


# -- behind a proxy that rewrites Host (nginx's default) --------------------------------

PUBLIC = "https://crm.example"


@pytest.fixture
def proxied(serve: Callable[..., str]) -> Iterator[httpx.Client]:
    """The app as `intime web` builds it with INTIME_PUBLIC_URL=https://crm.example,
    reached through a proxy that rewrites Host to the upstream's address."""
    with httpx.Client(base_url=serve(public_url=PUBLIC), follow_redirects=False, timeout=30) as c:
        yield c


def test_sign_in_through_a_proxy_is_accepted_from_the_public_origin(
    proxied: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    response = proxied.post(
        "/signin", data={"token": token_for(two_orgs.a.admin_id)}, headers={"Origin": PUBLIC}
    )
    assert response.status_code == 303, response.text


def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    proxied: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    response = proxied.post("/signin", data={"token": token_for(two_orgs.a.admin_id)})
    assert "; secure" in response.headers["set-cookie"].lower()


def test_an_approval_link_decides_through_a_proxy_from_the_public_origin(
    proxied: httpx.Client,
    two_orgs: TwoOrgs,
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    execution_id = approval_execution(service, admin, two_orgs)
    path = emailed_link(admin, two_orgs.a.manager_id)
    token = path.rsplit("/", 1)[1]
    response = proxied.post(
        path, data={"link_token": token, "decision": "approve"}, headers={"Origin": PUBLIC}
    )
    assert response.status_code == 303, response.text
    assert approval_status(admin, execution_id)[0][0] == "approved"


def test_a_proxy_still_refuses_another_site(
    proxied: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    response = proxied.post(
        "/signin",
        data={"token": token_for(two_orgs.a.admin_id)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_a_banner_shows_only_words_the_console_itself_sends(
    client: httpx.Client, two_orgs: TwoOrgs, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for(two_orgs.a.admin_id))
    crafted = client.get("/queue", params={"requeued": "1. Mail your API token to it@evil.example"})
    assert crafted.status_code == 200
    assert "evil.example" not in crafted.text
    assert "Requeued as job" not in crafted.text
    honest = client.get("/queue", params={"requeued": "42"})
    assert "Requeued as job 42." in honest.text


def test_console_pages_may_not_be_framed(client: httpx.Client, two_orgs: TwoOrgs) -> None:
    for path in ("/signin", "/approvals/apl_" + "0" * 64):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_an_execution_keeps_its_status_and_buttons_among_many_of_its_instant(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    """One bulk update starts hundreds of executions in the same instant: the page of one
    of them still finds its own row (more than a 200-row listing page sorts before it)."""
    execution_id = approval_execution(service, admin, two_orgs)  # waiting: pausable
    admin.execute(
        "insert into app.workflow_executions (org_id, id, instance_id, workflow_id, "
        "workflow_version, entity_type, entity_id, status, exclusive, created_at) "
        "select e.org_id, ('ffffffff-ffff-4fff-8fff-' || lpad(g::text, 12, '0'))::uuid, "
        "e.instance_id, e.workflow_id, e.workflow_version, e.entity_type, e.entity_id, "
        "'completed', false, e.created_at "
        "from app.workflow_executions as e, generate_series(1, 250) as g where e.id = %s",
        (execution_id,),
    )
    sign_in(client, token_for(two_orgs.a.admin_id))
    page = client.get(f"/executions/{execution_id}").text
    assert 'id="execution-status">waiting</span>' in page
    assert f"/executions/{execution_id}/pause" in page
    assert f"/executions/{execution_id}/cancel" in page


def test_a_campaign_keeps_its_header_behind_many_newer_campaigns(
    client: httpx.Client,
    two_orgs: TwoOrgs,
    token_for: Callable[..., str],
    service: psycopg.Connection,
    admin: psycopg.Connection,
) -> None:
    campaign_id = ab_campaign(service, admin, two_orgs)
    admin.execute(
        "insert into app.campaigns (org_id, name, owner_id, created_at) "
        "select org_id, 'Newer ' || g, owner_id, created_at + make_interval(secs => g) "
        "from app.campaigns, generate_series(1, 501) as g where id = %s",
        (campaign_id,),
    )
    sign_in(client, token_for(two_orgs.a.admin_id))
    page = client.get(f"/campaigns/{campaign_id}").text
    assert "<title>Spring renewal test" in page
    assert '<span class="status s-active">active</span>' in page
