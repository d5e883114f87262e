"""Refusals of the JSON API: one SQLSTATE to HTTP status table covering every
registered code, problem+json bodies, and the request-level refusals (401, 400, 413)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import psycopg

from intime.errors import BY_SQLSTATE, RateLimitedError, translate
from tests.web.apiclient import PROBLEM, call, is_problem
from web.problems import STATUS_BY_SQLSTATE, database_problem, retry_after, status_for


def test_every_registered_code_has_a_status() -> None:
    assert set(BY_SQLSTATE) <= set(STATUS_BY_SQLSTATE)


def test_every_code_in_the_registry_document_has_a_status() -> None:
    registry = (Path(__file__).parents[2] / "docs" / "errors.md").read_text()
    codes = set(re.findall(r"^\| `(IT\d{3})`", registry, re.MULTILINE))
    assert codes
    assert codes <= set(STATUS_BY_SQLSTATE)


def test_the_issues_examples_map_as_asked() -> None:
    assert [status_for(c) for c in ("IT003", "IT004", "IT005", "IT007", "IT016")] == [
        403,
        404,
        422,
        401,
        429,
    ]


def test_a_data_exception_is_unprocessable_not_a_server_error() -> None:
    assert status_for("22P02") == 422


def test_a_rate_limit_says_when_to_retry(service: psycopg.Connection) -> None:
    try:
        service.execute(
            "do $$ begin raise exception using errcode = 'IT016', message = 'slow down', "
            "hint = 'Retry in 5 seconds.'; end $$"
        )
    except psycopg.Error as exc:
        error = translate(exc)
        error.__cause__ = exc
    assert isinstance(error, RateLimitedError)
    response = database_problem(error)
    assert (response.status_code, response.headers["retry-after"]) == (429, "5")


def test_a_hint_without_seconds_waits_a_minute() -> None:
    assert retry_after("Use or let expire the tickets already made") == 60


def test_a_refusal_is_a_problem_document(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    response = call(base_url, "GET", f"/campaigns/{'0' * 8}-0000-0000-0000-{'0' * 12}/stats", token)
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert (body["type"], body["title"], body["status"], body["code"]) == (
        "about:blank",
        "Not Found",
        404,
        "IT004",
    )


def test_no_token_is_unauthorized(base_url) -> None:
    response = call(base_url, "GET", "/notifications")
    assert is_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_token_is_unauthorized(base_url) -> None:
    assert is_problem(call(base_url, "GET", "/approvals", "it_not_a_token"), 401)


def test_malformed_json_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    response = call(base_url, "POST", "/notifications/seen", token, content=b'{"ids": [')
    assert is_problem(response, 400)


def test_a_body_that_is_no_object_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    assert is_problem(call(base_url, "PUT", "/preferences", token, json=[1, 2]), 400)


def test_a_query_parameter_out_of_range_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    response = call(base_url, "GET", "/notifications", token, params={"limit": "501"})
    assert is_problem(response, 400)


def test_a_body_over_the_limit_is_too_large(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    body = b'{"ids": [' + b'"x",' * 20_000 + b'"x"]}'
    response = call(base_url, "POST", "/notifications/seen", token, content=body)
    assert is_problem(response, 413)


def test_an_unauthenticated_body_is_refused_unread(base_url) -> None:
    response = httpx.post(
        f"{base_url}/api/v1/notifications/seen",
        content=b"x" * 100_000,
        headers={"Authorization": "Bearer nope"},
        timeout=30,
    )
    assert is_problem(response, 401)
    assert response.headers["connection"] == "close"


def test_the_docs_table_is_the_table() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "http-api.md").read_text()
    rows = dict(re.findall(r"^\| `(\w{5})` \| (\d{3}) \|", docs, re.MULTILINE))
    assert {code: int(status) for code, status in rows.items()} == STATUS_BY_SQLSTATE


def test_an_unknown_api_route_is_a_problem_document(base_url) -> None:
    response = httpx.get(f"{base_url}/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_a_method_an_api_route_does_not_take_is_a_problem_document_with_allow(base_url) -> None:
    response = httpx.post(f"{base_url}/api/v1/notifications")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "GET" in response.headers["allow"]


def test_an_unknown_page_outside_the_api_stays_plain_text(base_url) -> None:
    response = httpx.get(f"{base_url}/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")
