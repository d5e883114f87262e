"""A small typed route registry: each JSON endpoint declares its method, path,
parameters, request body and response schema once. From that one declaration come
the Starlette route (which parses and bounds its inputs by the same types) and the
OpenAPI 3.1 document at ``GET /openapi.json``, so the two cannot drift.

A parameter or body that does not fit its declaration is a 400 problem before any
SQL runs; what the database then refuses maps through web/problems.py.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, time
from typing import Any, Literal

import psycopg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from intime.db import is_unavailable
from intime.errors import InTimeError
from web.auth import (
    SESSION_COOKIE,
    CsrfRefused,
    Principal,
    Unauthenticated,
    authenticate,
    require_csrf,
)
from web.guards import Rejected, body_pending, read_body
from web.limits import MAX_READ_BODY_BYTES, RETRY_AFTER_SECONDS, JsonRefused, load_json
from web.problems import MEDIA_TYPE, database_problem, problem

Json = dict[str, Any]
log = logging.getLogger("intime.web.api")


class Invalid(ValueError):
    """An input that does not fit its declared type (a 400)."""


# --- types: each gives its JSON Schema and parses a value (JSON, or query text) -----


class Kind:
    def schema(self) -> Json:
        raise NotImplementedError

    def from_json(self, value: Any) -> Any:
        raise NotImplementedError

    def from_text(self, raw: str) -> Any:
        """A path or query parameter's value."""
        return self.from_json(raw)


def _text(value: Any, max_length: int) -> str:
    if not isinstance(value, str):
        raise Invalid("must be a string")
    if len(value) > max_length:
        raise Invalid(f"must be at most {max_length} characters")
    if "\x00" in value:
        raise Invalid("must not contain NUL")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise Invalid("must be valid Unicode") from None
    return value


@dataclasses.dataclass(frozen=True)
class Text(Kind):
    max_length: int = 1000
    min_length: int = 0
    enum: tuple[str, ...] = ()

    def schema(self) -> Json:
        if self.enum:
            return {"type": "string", "enum": list(self.enum)}
        out: Json = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            out["minLength"] = self.min_length
        return out

    def from_json(self, value: Any) -> str:
        text = _text(value, self.max_length)
        if self.enum and text not in self.enum:
            raise Invalid(f"must be one of {', '.join(self.enum)}")
        if len(text) < self.min_length:
            raise Invalid(f"must be at least {self.min_length} characters")
        return text


@dataclasses.dataclass(frozen=True)
class Uuid(Kind):
    def schema(self) -> Json:
        return {"type": "string", "format": "uuid"}

    def from_json(self, value: Any) -> uuid.UUID:
        try:
            return uuid.UUID(_text(value, 64))
        except ValueError:
            raise Invalid("must be a UUID") from None


@dataclasses.dataclass(frozen=True)
class Integer(Kind):
    minimum: int
    maximum: int

    def schema(self) -> Json:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def from_json(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"must be from {self.minimum} to {self.maximum}")
        return value

    def from_text(self, raw: str) -> int:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
            raise Invalid("must be an integer")
        return self.from_json(int(raw))


@dataclasses.dataclass(frozen=True)
class Boolean(Kind):
    def schema(self) -> Json:
        return {"type": "boolean"}

    def from_json(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value

    def from_text(self, raw: str) -> bool:
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise Invalid("must be true or false")


@dataclasses.dataclass(frozen=True)
class Timestamp(Kind):
    """An RFC 3339 date-time with its offset."""

    def schema(self) -> Json:
        return {"type": "string", "format": "date-time"}

    def from_json(self, value: Any) -> datetime:
        try:
            parsed = datetime.fromisoformat(_text(value, 64))
        except ValueError:
            raise Invalid("must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise Invalid("must carry a UTC offset (or Z)")
        return parsed


_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")


@dataclasses.dataclass(frozen=True)
class TimeOfDay(Kind):
    """A wall-clock time, HH:MM or HH:MM:SS."""

    def schema(self) -> Json:
        return {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}

    def from_json(self, value: Any) -> time:
        text = _text(value, 8)
        if not _TIME.fullmatch(text):
            raise Invalid("must be a time HH:MM or HH:MM:SS")
        return time.fromisoformat(text)


@dataclasses.dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    max_items: int = 100

    def schema(self) -> Json:
        return {
            "type": "array",
            "items": self.item.schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }

    def from_json(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid("must be an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise Invalid(f"must have {self.min_items} to {self.max_items} items")
        return [self.item.from_json(v) for v in value]


# --- declarations --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Param:
    """A path or query parameter; a path parameter is always required."""

    name: str
    kind: Kind
    where: Literal["path", "query"] = "query"
    required: bool = False
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    description: str = ""


@dataclasses.dataclass(frozen=True)
class Body:
    """A JSON object body; unknown members are refused (a typo is not ignored)."""

    fields: tuple[Field, ...]
    required: bool = True
    max_bytes: int = MAX_READ_BODY_BYTES
    description: str = ""

    def schema(self) -> Json:
        return {
            "type": "object",
            "properties": {
                f.name: {
                    **f.kind.schema(),
                    **({"description": f.description} if f.description else {}),
                }
                for f in self.fields
            },
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }

    def parse(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid("the body must be a JSON object")
        known = {f.name: f for f in self.fields}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise Invalid(f"unknown member {unknown[0][:64]!r}")
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in value:
                if f.required:
                    raise Invalid(f"{f.name} is required")
                out[f.name] = None
                continue
            try:
                out[f.name] = f.kind.from_json(value[f.name])
            except Invalid as exc:
                raise Invalid(f"{f.name} {exc}") from None
        return out


@dataclasses.dataclass(frozen=True)
class Call:
    """What a handler gets: the caller and its parsed inputs (by declared name)."""

    request: Request
    principal: Principal
    args: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Reply:
    body: Any = None
    status: int = 200


Handler = Callable[[Call], Awaitable[Reply]]
Method = Literal["GET", "POST", "PUT"]


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One JSON endpoint. ``function`` names the api function it calls; ``errors``
    the problem statuses it documents besides the ones every endpoint may answer."""

    method: Method
    path: str
    operation_id: str
    summary: str
    tag: str
    function: str
    handler: Handler
    response: Json | None
    params: tuple[Param, ...] = ()
    body: Body | None = None
    status: int = 200
    errors: tuple[int, ...] = ()

    def route(self) -> Route:
        return Route(self.path, _dispatcher(self), methods=[self.method], name=self.operation_id)


# --- serving ------------------------------------------------------------------------


def _refuse(status: int, detail: str, request: Request, **headers: str) -> JSONResponse:
    if body_pending(request):
        headers["Connection"] = "close"
    return problem(status, detail=detail, headers=headers)


def _unauthenticated(request: Request) -> JSONResponse:
    return _refuse(
        401,
        "a valid API token (Authorization: Bearer) or console session is required",
        request,
        **{"WWW-Authenticate": 'Bearer realm="intime"'},
    )


def _parse_params(endpoint: Endpoint, request: Request) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for p in endpoint.params:
        raw = (
            request.path_params.get(p.name)
            if p.where == "path"
            else request.query_params.get(p.name)
        )
        if raw is None or (raw == "" and p.where == "query"):
            if p.required:
                raise Invalid(f"the {p.where} parameter {p.name} is required")
            args[p.name] = None
            continue
        try:
            args[p.name] = p.kind.from_text(str(raw))
        except Invalid as exc:
            raise Invalid(f"the {p.where} parameter {p.name} {exc}") from None
    return args


class _Answer(Exception):
    """A refusal made while reading the request: answered as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _inputs(endpoint: Endpoint, request: Request) -> tuple[Principal, dict[str, Any]]:
    """The caller and the parsed inputs, in this order: authenticate, CSRF (a session's
    POST or PUT), parameters, then the body (bounded). Refusals are ``_Answer``."""
    try:
        principal = await authenticate(request)
    except Unauthenticated:
        raise _Answer(_unauthenticated(request)) from None
    if endpoint.method != "GET":
        try:
            require_csrf(request, principal, request.headers.get("x-csrf-token"))
        except CsrfRefused:
            raise _Answer(
                _refuse(403, "a session's request needs its X-CSRF-Token, from its origin", request)
            ) from None
    try:
        args = _parse_params(endpoint, request)
    except Invalid as exc:
        raise _Answer(_refuse(400, str(exc), request)) from None
    if endpoint.body is not None:
        try:
            raw = await read_body(request, endpoint.body.max_bytes)
        except Rejected as exc:
            raise _Answer(_refuse(exc.status, exc.message, request)) from None
        if not raw.strip() and not endpoint.body.required:
            raw = b"{}"
        try:
            args.update(endpoint.body.parse(load_json(raw)))
        except JsonRefused as exc:
            raise Invalid(str(exc)) from None
    return principal, args


def _failure(exc: InTimeError | psycopg.Error, request: Request) -> Response:
    """A database refusal as a problem; an unavailable database is 503 (Retry-After)."""
    if is_unavailable(exc):
        log.warning("%s %s: database unavailable: %r", request.method, request.url.path, exc)
        return _refuse(
            503,
            "the database is unavailable; retry later",
            request,
            **{"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return database_problem(exc)


def _dispatcher(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            principal, args = await _inputs(endpoint, request)
            reply = await endpoint.handler(Call(request, principal, args))
        except _Answer as exc:
            return exc.response
        except Invalid as exc:
            return problem(400, detail=str(exc))
        except (InTimeError, psycopg.Error) as exc:
            return _failure(exc, request)
        if reply.status == 204:
            return Response(status_code=204)
        return JSONResponse(reply.body, reply.status, headers={"Cache-Control": "no-store"})

    run.__doc__ = endpoint.summary
    return run


# --- the document -------------------------------------------------------------------

PROBLEM_SCHEMA: Json = {
    "type": "object",
    "description": "RFC 9457 problem details (application/problem+json).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "the SQLSTATE, when the database refused"},
    },
    "required": ["type", "title", "status"],
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "the parameters or body do not fit this document",
    401: "no valid API token or session",
    403: "refused: a missing permission, or a session request without its CSRF token",
    404: "not found in the caller's organization",
    408: "the body did not arrive in time",
    409: "the state does not allow it",
    413: "the body is too large",
    422: "the database refused a value",
    429: "rate limited (Retry-After)",
    503: "the database is unavailable (Retry-After)",
}


def _operation(e: Endpoint) -> Json:
    statuses = sorted({400, 401, 503, *e.errors, *((403, 408, 413) if e.method != "GET" else ())})
    responses: Json = {
        str(s): {
            "description": _DESCRIPTIONS.get(s, "refused"),
            "content": {MEDIA_TYPE: {"schema": _PROBLEM_REF}},
        }
        for s in statuses
    }
    if e.response is None:
        responses[str(e.status)] = {"description": "done"}
    else:
        responses[str(e.status)] = {
            "description": e.summary,
            "content": {"application/json": {"schema": e.response}},
        }
    op: Json = {
        "operationId": e.operation_id,
        "summary": e.summary,
        "description": f"Calls `{e.function}` as the caller.",
        "tags": [e.tag],
        "security": [{"bearer": []}, {"session": []}],
        "parameters": [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "schema": p.kind.schema(),
                **({"description": p.description} if p.description else {}),
            }
            for p in e.params
        ],
        "responses": responses,
    }
    if e.body is not None:
        op["requestBody"] = {
            "required": e.body.required,
            "content": {"application/json": {"schema": e.body.schema()}},
            **({"description": e.body.description} if e.body.description else {}),
        }
    return op


_CONVERTER = re.compile(r"\{(\w+)(:\w+)?\}")


def _other_routes(routes: Sequence[BaseRoute], declared: set[tuple[str, str]]) -> Json:
    """Every route that is not a declared endpoint, described by its path, methods and
    docstring: the document lists the whole app, and the JSON API in full."""
    paths: Json = {}
    for r in routes:
        if isinstance(r, Route):
            path = _CONVERTER.sub(r"{\1}", r.path)
            methods = sorted((r.methods or {"GET"}) - {"HEAD"})
            doc = inspect.getdoc(r.endpoint) or r.name
        elif isinstance(r, Mount):
            path, methods, doc = f"{r.path}/{{path}}", ["GET"], f"Files under {r.path}/"
        else:
            continue
        names = [m[0] for m in _CONVERTER.findall(path)]
        for method in methods:
            if (method, path) in declared:
                continue
            slug = re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "root"
            paths.setdefault(path, {})[method.lower()] = {
                "operationId": f"{method.lower()}_{slug}",
                "summary": doc.strip().splitlines()[0][:200] if doc.strip() else path,
                "description": doc,
                "tags": ["other"],
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                    for n in names
                ],
                "responses": {"default": {"description": "see docs/http-api.md"}},
            }
    return paths


def document(endpoints: Sequence[Endpoint], routes: Sequence[BaseRoute], version: str) -> Json:
    """The OpenAPI 3.1 document: the endpoints in full, then every other route."""
    paths: Json = {}
    for e in endpoints:
        paths.setdefault(e.path, {})[e.method.lower()] = _operation(e)
    declared: set[tuple[str, str]] = {(e.method, e.path) for e in endpoints}
    for path, ops in _other_routes(routes, declared).items():
        paths.setdefault(path, {}).update(ops)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "InTime HTTP API",
            "version": version,
            "description": "The JSON API under /api/v1 (docs/http-api.md). Errors are "
            "application/problem+json; the SQLSTATE to status table is in the docs.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "an API token"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "the console's session; POST and PUT need X-CSRF-Token",
                },
            },
        },
    }
