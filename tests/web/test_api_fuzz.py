"""Hypothesis over /openapi.json: requests generated from each JSON API operation's
declared parameters and body (and some that ignore them), with an admin's, a member's,
another org's, a bad or no token. No answer is a 5xx; a 2xx body fits the operation's
declared response schema; every refusal is a problem document. Bounded: a fixed
number of examples against one server."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from tests.sql.workflows.conftest import Flows
from tests.web.apiclient import PROBLEM

EXAMPLES = 300

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
    ]


def _as_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


@st.composite
def objects(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """An object for a body schema: its required members, some optional ones, now and
    then an unknown one. (hypothesis-jsonschema 0.23.1's own object strategy fails on
    hypothesis 6.170: 'many' object has no attribute 'more'.)"""
    out: dict[str, Any] = {}
    for name, member in schema["properties"].items():
        if name in schema["required"] or draw(st.booleans()):
            out[name] = draw(from_schema(member) | JSON_VALUES, label=name)
    if draw(st.integers(0, 9)) == 0:
        out[draw(st.text(max_size=10))] = draw(JSON_VALUES)
    return out


@st.composite
def requests(draw: st.DrawFn, operations: list, ids: list[str], tokens: list[str | None]) -> dict:
    method, path, operation = draw(st.sampled_from(operations))
    url = path
    query: dict[str, str] = {}
    for p in operation.get("parameters", []):
        schema = p["schema"]
        if p["in"] == "path":
            value = draw(st.sampled_from(ids) | from_schema(schema) | st.text(max_size=40))
            url = url.replace("{" + p["name"] + "}", urllib.parse.quote(str(value), safe="") or "x")
        elif draw(st.booleans()):
            query[p["name"]] = draw(
                from_schema(schema).map(_as_text) | st.text(max_size=40), label=p["name"]
            )
    body = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = draw(objects(schema) | st.none() | JSON_VALUES, label="body")
    return {
        "method": method,
        "url": url,
        "query": query,
        "body": body,
        "token": draw(st.sampled_from(tokens)),
        "operation": operation,
    }


@pytest.fixture
def targets(flows_setup, token_for, admin, two_orgs) -> tuple[list[str], list[str | None]]:
    """Ids that exist (an approval, its execution, a campaign, an enrollment of org A,
    and of org B) and tokens (admin, manager, member, org B's admin, a bad one, none)."""
    a, b = two_orgs.a, two_orgs.b
    rows = admin.execute(
        "select (select id::text from app.campaigns where org_id = o.id limit 1), "
        "(select id::text from app.campaign_enrollments where org_id = o.id limit 1) "
        "from unnest(%s::uuid[]) as o(id)",
        ([a.org_id, b.org_id],),
    ).fetchall()
    ids = [*flows_setup, *(i for row in rows for i in row if i), str(uuid.uuid4())]
    tokens = [
        token_for(a.admin_id),
        token_for(a.manager_id),
        token_for(a.rep_ids[1]),
        token_for(b.admin_id, b.org_id),
        "it_bad",
        None,
    ]
    return ids, tokens


@pytest.fixture
def flows_setup(service, admin, two_orgs) -> list[str]:
    """A pending approval of org A's manager and its execution."""
    flows = Flows(service, admin, two_orgs)
    a = two_orgs.a
    workflow_id = flows.create(
        {
            "triggers": [{"type": "manual"}],
            "steps": [
                {"name": "ok", "type": "approval", "approvers": [{"user": str(a.manager_id)}]},
                {"name": "done", "type": "create_activity", "subject": "approved"},
            ],
        },
        name="fuzz",
    )
    [row] = flows.call(
        "select api.start_workflow(%s, %s) as id", (workflow_id, a.deal_ids[0]), user=a.rep_ids[0]
    )
    flows.drain()
    found = admin.execute(
        "select id::text from app.workflow_approvals where execution_id = %s", (row["id"],)
    ).fetchone()
    assert found is not None
    return [found[0], str(row["id"])]


def _response_schema(operation: dict[str, Any], status: int) -> dict[str, Any] | None:
    content = operation["responses"].get(str(status), {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def test_no_generated_request_is_answered_with_a_server_error(base_url, targets) -> None:
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    operations = _operations(document)
    ids, tokens = targets
    client = httpx.Client(base_url=base_url, timeout=30)
    statuses: set[int] = set()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(request=requests(operations, ids, tokens))
    def check(request: dict[str, Any]) -> None:
        headers = {"Authorization": f"Bearer {request['token']}"} if request["token"] else {}
        response = client.request(
            request["method"],
            request["url"],
            params=request["query"],
            headers=headers,
            **({"json": request["body"]} if request["body"] is not None else {}),
        )
        statuses.add(response.status_code)
        assert response.status_code < 500, (request, response.text)
        if response.status_code < 300:
            schema = _response_schema(request["operation"], response.status_code)
            if schema is not None:
                jsonschema.validate(response.json(), schema)
        elif response.status_code not in (404, 405):  # a path that matches no route: plain
            assert response.headers["content-type"] == PROBLEM, (request, response.text)

    try:
        check()
    finally:
        client.close()
    # The generated requests got past validation to the database, and were refused too.
    assert {200, 400, 401, 404} <= statuses
