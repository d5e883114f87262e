"""GET /openapi.json: made from the route declarations, so every route of the app is
in it and every JSON API operation it lists is served."""

from __future__ import annotations

from pathlib import Path

import httpx
import jsonschema
from starlette.routing import Mount, Route

from web.api import ENDPOINTS
from web.app import create_app


def _document(base_url: str) -> dict:
    response = httpx.get(f"{base_url}/openapi.json", timeout=30)
    assert response.status_code == 200
    return response.json()


def test_every_route_of_the_app_is_in_the_document(base_url, db) -> None:
    paths = _document(base_url)["paths"]
    app = create_app(db.dsn("intime_service"))
    missing = []
    for route in app.routes:
        if isinstance(route, Route):
            path = route.path.replace(":str}", "}").replace(":path}", "}")
            methods = (route.methods or {"GET"}) - {"HEAD"}
        elif isinstance(route, Mount):
            path, methods = f"{route.path}/{{path}}", {"GET"}
        else:
            continue
        missing += [(m, path) for m in methods if m.lower() not in paths.get(path, {})]
    assert missing == []


def test_every_endpoint_is_described_in_full(base_url) -> None:
    paths = _document(base_url)["paths"]
    for endpoint in ENDPOINTS:
        operation = paths[endpoint.path][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.operation_id
        assert str(endpoint.status) in operation["responses"]


def test_every_api_operation_in_the_document_is_served(base_url) -> None:
    paths = _document(base_url)["paths"]
    statuses = {
        (method, path): httpx.request(
            method,
            base_url + path.replace("{id}", "00000000-0000-0000-0000-000000000000"),
            timeout=30,
        ).status_code
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    }
    assert set(statuses.values()) == {401}


def test_every_schema_in_the_document_is_valid_json_schema(base_url) -> None:
    document = _document(base_url)
    for operations in document["paths"].values():
        for operation in operations.values():
            schemas = [p["schema"] for p in operation.get("parameters", [])]
            for part in [operation.get("requestBody", {}), *operation["responses"].values()]:
                schemas += [c["schema"] for c in part.get("content", {}).values()]
            for schema in schemas:
                jsonschema.Draft202012Validator.check_schema(schema)


def test_the_document_is_openapi_3_1(base_url) -> None:
    document = _document(base_url)
    assert (document["openapi"], document["info"]["title"]) == ("3.1.0", "InTime HTTP API")


def test_the_docs_list_every_endpoint() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "http-api.md").read_text()
    missing = [e.path for e in ENDPOINTS if f"| {e.method} | `{e.path}` |" not in docs]
    assert missing == []
