"""The JSON API with the console's session cookie: reads as the session's user; a
write needs the session's X-CSRF-Token, from this origin."""

from __future__ import annotations

import httpx

from tests.web.apiclient import is_problem
from tests.web.sessions import new_session


def _request(base_url: str, method: str, path: str, cookie: str, **headers: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{base_url}/api/v1{path}",
        headers={"Cookie": f"intime_session={cookie}", **headers},
        json={"all": True} if method == "POST" else None,
        timeout=30,
    )


def test_a_session_reads_as_its_user(base_url, service, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    send(sam, "for the console")
    cookie, _ = new_session(service, two_orgs.a.org_id, sam)
    response = _request(base_url, "GET", "/notifications", cookie)
    assert "for the console" in [n["title"] for n in response.json()["notifications"]]


def test_a_sessions_write_without_its_csrf_token_is_refused(base_url, service, two_orgs) -> None:
    cookie, _ = new_session(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1])
    assert is_problem(_request(base_url, "POST", "/notifications/read", cookie), 403)


def test_a_sessions_write_with_its_csrf_token_is_done(base_url, service, two_orgs) -> None:
    cookie, csrf = new_session(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1])
    response = _request(base_url, "POST", "/notifications/read", cookie, **{"X-CSRF-Token": csrf})
    assert response.status_code == 200


def test_a_sessions_write_from_another_origin_is_refused(base_url, service, two_orgs) -> None:
    cookie, csrf = new_session(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1])
    response = _request(
        base_url,
        "POST",
        "/notifications/read",
        cookie,
        **{"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )
    assert is_problem(response, 403)


def test_an_ended_session_is_unauthorized(base_url, service, two_orgs) -> None:
    cookie, _ = new_session(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1])
    service.execute("select api.end_web_session(p_session => %s)", (cookie,))
    assert is_problem(_request(base_url, "GET", "/approvals", cookie), 401)
