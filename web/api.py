"""The JSON API under ``/api/v1`` (docs/http-api.md): what a front end needs, each
endpoint one ``api`` function called as the caller (an API token or a console
session; web/auth.py), so RLS and permissions apply unchanged. Declared in the
typed registry (web/openapi.py), which also serves ``GET /openapi.json``; errors
are problem documents (web/problems.py).
"""

from __future__ import annotations

import base64
import binascii
import importlib.metadata
import json
import uuid
from datetime import datetime
from typing import Any, LiteralString

from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from intime.db import async_actor
from web import queries as q
from web.limits import MAX_API_IDS, MAX_API_TEXT
from web.openapi import (
    Body,
    Boolean,
    Call,
    Endpoint,
    Field,
    Integer,
    Invalid,
    Json,
    ListOf,
    Param,
    Reply,
    Text,
    TimeOfDay,
    Timestamp,
    Uuid,
    document,
)

PREFIX = "/api/v1"


async def _rows(
    call: Call, query: LiteralString, params: dict[str, Any] | None = None
) -> list[Any]:
    """The first column of every row ``query`` returns, run as the caller."""
    pool: AsyncConnectionPool = call.request.app.state.pool
    p = call.principal
    async with pool.connection() as conn, async_actor(conn, p.org_id, p.user_id):
        cur = await conn.execute(query, params or {})
        return [r[0] for r in await cur.fetchall()]


async def _value(call: Call, query: LiteralString, params: dict[str, Any] | None = None) -> Any:
    rows = await _rows(call, query, params)
    return rows[0] if rows else None


# --- JSON Schemas of the answers ------------------------------------------------------


def _t(kind: str, fmt: str | None = None, *, null: bool = False) -> Json:
    out: Json = {"type": [kind, "null"] if null else kind}
    if fmt:
        out["format"] = fmt
    return out


def _obj(**props: Json) -> Json:
    return {"type": "object", "properties": props, "required": list(props)}


def _listing(name: str, item: Json, **extra: Json) -> Json:
    return _obj(**{name: {"type": "array", "items": item}}, **extra)


STR, INT, BOOL = _t("string"), _t("integer"), _t("boolean")
NSTR, NINT = _t("string", null=True), _t("integer", null=True)
UUID, NUUID = _t("string", "uuid"), _t("string", "uuid", null=True)
TS, NTS = _t("string", "date-time"), _t("string", "date-time", null=True)
ANY: Json = {}

NOTIFICATION = _obj(
    id=UUID,
    seq=INT,
    title=STR,
    message=NSTR,
    type=NSTR,
    category=NSTR,
    priority=NSTR,
    entity_type=NSTR,
    entity_id=NUUID,
    action_url=NSTR,
    action_label=NSTR,
    data=ANY,
    group_key=NSTR,
    group_count=NINT,
    critical=BOOL,
    silent=BOOL,
    read_at=NTS,
    seen_at=NTS,
    archived_at=NTS,
    expires_at=NTS,
    created_at=TS,
    updated_at=NTS,
    delivery_status=ANY,
    announced_at=TS,
)
PREFERENCE_FIELDS: dict[str, Json] = {
    "category": STR,
    "channels": {"type": "array", "items": STR},
    "frequency": STR,
    "digest_time": STR,
    "digest_day": STR,
    "quiet_hours_enabled": BOOL,
    "quiet_hours_start": STR,
    "quiet_hours_end": STR,
    "quiet_hours_timezone": STR,
    "dnd_enabled": BOOL,
    "dnd_until": NTS,
    "sound_enabled": BOOL,
    "email_unsubscribed": BOOL,
}
PREFERENCE = _obj(scope=STR, **PREFERENCE_FIELDS)
STORED_PREFERENCE = _obj(
    user_id=NUUID, email_unsubscribed_at=NTS, created_at=TS, updated_at=TS, **PREFERENCE_FIELDS
)
APPROVAL = _obj(
    approval_id=UUID,
    execution_id=UUID,
    title=NSTR,
    entity_type=STR,
    entity_id=UUID,
    requested_at=NTS,
    due_at=NTS,
    approver_type=NSTR,
)
EXECUTION = _obj(
    execution_id=UUID,
    workflow_id=UUID,
    workflow_name=STR,
    workflow_version=INT,
    entity_type=STR,
    entity_id=UUID,
    status=STR,
    waiting_for=NSTR,
    trigger_type=STR,
    triggered_by=NUUID,
    current_step_index=NINT,
    total_steps=NINT,
    created_at=TS,
    started_at=NTS,
    completed_at=NTS,
    error_message=NSTR,
    can_retry=BOOL,
    can_cancel=BOOL,
    can_pause=BOOL,
    can_resume=BOOL,
)
EXECUTION_EVENT = _obj(occurred_at=TS, kind=STR, name=NSTR, status=NSTR, message=NSTR, detail=ANY)
CAMPAIGN = _obj(
    campaign_id=UUID,
    name=STR,
    status=STR,
    owner_id=UUID,
    owner_name=NSTR,
    step_count=INT,
    enrolled=INT,
    active=INT,
    completed=INT,
    replied=INT,
    created_at=TS,
    activated_at=NTS,
)
CAMPAIGN_STAT = _obj(
    scope=STR,
    step_number=NINT,
    channel=NSTR,
    ab_variant=NSTR,
    enrolled=NINT,
    sent=NINT,
    delivered=NINT,
    opened=NINT,
    clicked=NINT,
    replied=NINT,
    bounced=NINT,
    unsubscribed=NINT,
    completed=NINT,
)
ENROLLMENT_EVENT = _obj(
    at=TS,
    step_number=NINT,
    channel=NSTR,
    status=STR,
    detail=NSTR,
    ab_variant=NSTR,
    email_status=NSTR,
)
UPDATED = _obj(updated=INT)

# --- handlers -----------------------------------------------------------------------


async def list_notifications(call: Call) -> Reply:
    a = call.args
    limit = a["limit"] or 50
    before_at, before_seq = None, a["before_seq"]
    if a["cursor"]:
        if before_seq is not None:
            raise Invalid('send either "cursor" or "before_seq"')
        before_at, seq = _decode_cursor(a["cursor"])
        before_seq = _seq(seq)
    rows = await _rows(
        call,
        q.API_LIST_NOTIFICATIONS,
        {
            "unread_only": bool(a["unread_only"]),
            "archived": bool(a["archived"]),
            "before_seq": before_seq,
            "before_at": before_at,
            "limit": limit,
        },
    )
    last = rows[-1] if len(rows) == limit else None
    return Reply(
        {
            "notifications": rows,
            "next_cursor": encode_cursor(last["announced_at"], str(last["seq"])) if last else None,
            "next_before_seq": last["seq"] if last else None,
        }
    )


def _seq(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) < 2**63:
        raise Invalid("the cursor is not one this server gave")
    return int(raw)


async def unread_count(call: Call) -> Reply:
    return Reply({"unread_count": await _value(call, q.API_COUNT_UNREAD) or 0})


async def mark_read(call: Call) -> Reply:
    if call.args["all"]:
        if call.args["ids"] is not None:
            raise Invalid('send either "ids" or "all": true')
        return Reply({"updated": await _value(call, q.API_MARK_ALL_READ)})
    if call.args["ids"] is None:
        raise Invalid('send "ids" (1 to 1000 notification ids) or "all": true')
    return Reply({"updated": await _value(call, q.API_MARK_READ, {"ids": call.args["ids"]})})


async def mark_seen(call: Call) -> Reply:
    return Reply({"updated": await _value(call, q.API_MARK_SEEN, {"ids": call.args["ids"]})})


async def archive(call: Call) -> Reply:
    return Reply({"updated": await _value(call, q.API_ARCHIVE, {"ids": call.args["ids"]})})


async def get_preferences(call: Call) -> Reply:
    return Reply({"preferences": await _rows(call, q.API_GET_PREFERENCES)})


async def set_preference(call: Call) -> Reply:
    return Reply({"preference": await _value(call, q.API_SET_PREFERENCE, call.args)})


async def list_approvals(call: Call) -> Reply:
    return Reply({"approvals": await _rows(call, q.API_LIST_MY_APPROVALS)})


async def approve(call: Call) -> Reply:
    return Reply({"step_status": await _value(call, q.API_APPROVE, call.args)})


async def reject(call: Call) -> Reply:
    return Reply({"step_status": await _value(call, q.API_REJECT, call.args)})


async def delegate(call: Call) -> Reply:
    return Reply({"approval_id": str(await _value(call, q.API_DELEGATE, call.args))}, 201)


def encode_cursor(at: str, key: str) -> str:
    """The opaque position after a row of a keyset listing: its time and its key."""
    return base64.urlsafe_b64encode(json.dumps([at, key]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw_at, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(raw_at)
        if at.tzinfo is None or not isinstance(key, str):
            raise ValueError(raw_at)
        return at, key
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("the cursor is not one this server gave") from None


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    at, key = _decode_cursor(cursor)
    try:
        return at, uuid.UUID(key)
    except ValueError:
        raise Invalid("the cursor is not one this server gave") from None


async def list_executions(call: Call) -> Reply:
    a = dict(call.args)
    cursor = a.pop("cursor")
    a["before_created_at"], a["before_id"] = decode_cursor(cursor) if cursor else (None, None)
    a["limit"] = a["limit"] or 50
    rows = await _rows(call, q.API_LIST_EXECUTIONS, a)
    last = rows[-1] if len(rows) == a["limit"] else None
    following = encode_cursor(last["created_at"], last["execution_id"]) if last else None
    return Reply({"executions": rows, "next_cursor": following})


async def execution_timeline(call: Call) -> Reply:
    return Reply({"timeline": await _rows(call, q.API_EXECUTION_TIMELINE, call.args)})


async def retry_execution(call: Call) -> Reply:
    await _rows(call, q.API_RETRY_EXECUTION, call.args)
    return Reply(status=204)


async def cancel_execution(call: Call) -> Reply:
    await _rows(call, q.API_CANCEL_EXECUTION, call.args)
    return Reply(status=204)


async def list_campaigns(call: Call) -> Reply:
    params = {
        "status": call.args["status"],
        "campaign_id": call.args["campaign_id"],
        "limit": call.args["limit"] or 100,
    }
    return Reply({"campaigns": await _rows(call, q.API_LIST_CAMPAIGNS, params)})


async def campaign_stats(call: Call) -> Reply:
    return Reply({"stats": await _rows(call, q.API_CAMPAIGN_STATS, call.args)})


async def enrollment_timeline(call: Call) -> Reply:
    return Reply({"timeline": await _rows(call, q.API_ENROLLMENT_TIMELINE, call.args)})


# --- the declarations ---------------------------------------------------------------

ID = Param("id", Uuid(), "path")
IDS = Body((Field("ids", ListOf(Uuid(), 1, MAX_API_IDS), True, "the caller's notification ids"),))
COMMENT = Body((Field("comment", Text(MAX_API_TEXT)),), required=False)


def _ep(
    method: Any,
    path: str,
    op: str,
    summary: str,
    tag: str,
    function: str,
    handler: Any,
    response: Json | None,
    *params: Param,
    body: Body | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
) -> Endpoint:
    return Endpoint(
        method,
        PREFIX + path,
        op,
        summary,
        tag,
        function,
        handler,
        response,
        params,
        body,
        status,
        errors,
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    _ep(
        "GET",
        "/notifications",
        "listNotifications",
        "The caller's inbox, newest first",
        "notifications",
        "api.list_notifications",
        list_notifications,
        _listing("notifications", NOTIFICATION, next_cursor=NSTR, next_before_seq=NINT),
        Param("unread_only", Boolean()),
        Param("archived", Boolean(), description="the archived ones instead of the inbox"),
        Param("cursor", Text(300), description="next page: next_cursor"),
        Param(
            "before_seq",
            Integer(1, 2**63 - 1),
            description="next page: next_before_seq (older clients; next_cursor is exact)",
        ),
        Param("limit", Integer(1, 500), description="at most (default 50)"),
        errors=(422,),
    ),
    _ep(
        "GET",
        "/notifications/unread-count",
        "countUnreadNotifications",
        "The unread badge",
        "notifications",
        "api.count_unread_notifications",
        unread_count,
        _obj(unread_count=INT),
    ),
    _ep(
        "POST",
        "/notifications/read",
        "markNotificationsRead",
        "Mark notifications read: {ids} or {all: true}",
        "notifications",
        "api.mark_notifications_read / api.mark_all_notifications_read",
        mark_read,
        UPDATED,
        body=Body(
            (
                Field("ids", ListOf(Uuid(), 1, MAX_API_IDS)),
                Field("all", Boolean(), description="every unread notification"),
            ),
            description='{"ids": [...]} or {"all": true}',
        ),
    ),
    _ep(
        "POST",
        "/notifications/seen",
        "markNotificationsSeen",
        "Mark notifications seen",
        "notifications",
        "api.mark_notifications_seen",
        mark_seen,
        UPDATED,
        body=IDS,
    ),
    _ep(
        "POST",
        "/notifications/archive",
        "archiveNotifications",
        "Archive notifications",
        "notifications",
        "api.archive_notifications",
        archive,
        UPDATED,
        body=IDS,
    ),
    _ep(
        "GET",
        "/preferences",
        "getPreferences",
        "The caller's effective preferences",
        "notifications",
        "api.get_preferences",
        get_preferences,
        _listing("preferences", PREFERENCE),
    ),
    _ep(
        "PUT",
        "/preferences",
        "setPreference",
        "Set a preference of the caller (or, for an admin, the org's default)",
        "notifications",
        "api.set_preference",
        set_preference,
        _obj(preference=STORED_PREFERENCE),
        body=Body(
            (
                Field("category", Text(100, 1), True, "a category, or * for every one"),
                Field("channels", ListOf(Text(20), 0, 10)),
                Field("frequency", Text(32)),
                Field("digest_time", TimeOfDay()),
                Field("digest_day", Text(16)),
                Field("quiet_hours_enabled", Boolean()),
                Field("quiet_hours_start", TimeOfDay()),
                Field("quiet_hours_end", TimeOfDay()),
                Field("quiet_hours_timezone", Text(64)),
                Field("dnd_enabled", Boolean()),
                Field("dnd_until", Timestamp()),
                Field("sound_enabled", Boolean()),
                Field("email_unsubscribed", Boolean()),
                Field("org_default", Boolean(), description="the org's default (admins)"),
            ),
            description="members left out keep their current value",
        ),
        errors=(403, 422),
    ),
    _ep(
        "GET",
        "/approvals",
        "listApprovals",
        "The caller's pending approvals, oldest first",
        "approvals",
        "api.list_my_approvals",
        list_approvals,
        _listing("approvals", APPROVAL),
    ),
    _ep(
        "POST",
        "/approvals/{id}/approve",
        "approveApproval",
        "Approve",
        "approvals",
        "api.approve_approval",
        approve,
        _obj(step_status=STR),
        ID,
        body=COMMENT,
        errors=(403, 404, 409, 422),
    ),
    _ep(
        "POST",
        "/approvals/{id}/reject",
        "rejectApproval",
        "Reject",
        "approvals",
        "api.reject_approval",
        reject,
        _obj(step_status=STR),
        ID,
        body=COMMENT,
        errors=(403, 404, 409, 422),
    ),
    _ep(
        "POST",
        "/approvals/{id}/delegate",
        "delegateApproval",
        "Hand to another user",
        "approvals",
        "api.delegate_approval",
        delegate,
        _obj(approval_id=UUID),
        ID,
        body=Body(
            (
                Field("to_user_id", Uuid(), True, "an active user of the org"),
                Field("reason", Text(MAX_API_TEXT)),
            )
        ),
        status=201,
        errors=(403, 404, 409, 422),
    ),
    _ep(
        "GET",
        "/executions",
        "listExecutions",
        "Workflow executions, newest first",
        "executions",
        "api.list_executions",
        list_executions,
        _listing("executions", EXECUTION, next_cursor=NSTR),
        Param(
            "status",
            Text(
                enum=(
                    "pending",
                    "running",
                    "waiting",
                    "completed",
                    "failed",
                    "cancelled",
                    "paused",
                )
            ),
        ),
        Param("workflow_id", Uuid()),
        Param("entity_type", Text(64)),
        Param("entity_id", Uuid()),
        Param("execution_id", Uuid(), description="just this execution"),
        Param("cursor", Text(300), description="next page: next_cursor"),
        Param("limit", Integer(1, 200), description="at most (default 50)"),
        errors=(422,),
    ),
    _ep(
        "GET",
        "/executions/{id}/timeline",
        "getExecutionTimeline",
        "An execution's steps, actions, approvals and log lines",
        "executions",
        "api.get_execution_timeline",
        execution_timeline,
        _listing("timeline", EXECUTION_EVENT),
        ID,
        errors=(404,),
    ),
    _ep(
        "POST",
        "/executions/{id}/retry",
        "retryExecution",
        "Retry a failed execution",
        "executions",
        "api.retry_execution",
        retry_execution,
        None,
        ID,
        status=204,
        errors=(403, 404, 409),
    ),
    _ep(
        "POST",
        "/executions/{id}/cancel",
        "cancelExecution",
        "Cancel an execution",
        "executions",
        "api.cancel_execution",
        cancel_execution,
        None,
        ID,
        body=Body(
            (
                Field("reason", Text(MAX_API_TEXT)),
                Field("keep_changes", Boolean(), description="admins: undo nothing"),
            ),
            required=False,
        ),
        status=204,
        errors=(403, 404, 409),
    ),
    _ep(
        "GET",
        "/campaigns",
        "listCampaigns",
        "Campaigns with their enrollment counts",
        "campaigns",
        "api.list_campaigns",
        list_campaigns,
        _listing("campaigns", CAMPAIGN),
        Param("status", Text(enum=("draft", "active", "paused", "completed", "archived"))),
        Param("campaign_id", Uuid(), description="just this campaign"),
        Param("limit", Integer(1, 500), description="at most (default 100)"),
        errors=(422,),
    ),
    _ep(
        "GET",
        "/campaigns/{id}/stats",
        "getCampaignStats",
        "A campaign's totals, per step and per A/B arm",
        "campaigns",
        "api.get_campaign_stats",
        campaign_stats,
        _listing("stats", CAMPAIGN_STAT),
        ID,
        errors=(404,),
    ),
    _ep(
        "GET",
        "/enrollments/{id}/timeline",
        "getEnrollmentTimeline",
        "An enrollment's step log",
        "campaigns",
        "api.get_enrollment_timeline",
        enrollment_timeline,
        _listing("timeline", ENROLLMENT_EVENT),
        ID,
        errors=(404,),
    ),
)


def _version() -> str:
    try:
        return importlib.metadata.version("intime")
    except importlib.metadata.PackageNotFoundError:
        return "0"


async def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI 3.1 document of this app (the JSON API in full, every route listed)."""
    routes: list[BaseRoute] = request.app.routes
    return JSONResponse(document(ENDPOINTS, routes, _version()))


def routes() -> list[BaseRoute]:
    """The JSON API's routes and ``GET /openapi.json``."""
    return [*(e.route() for e in ENDPOINTS), Route("/openapi.json", openapi_json)]
