"""The console's pages for a signed-in user: inbox, approvals, executions,
campaigns, enrollments and the queue. Each is a thin view of ``api`` functions run as
the user (web/console/base.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intime.errors import InTimeError, NotFoundError
from web.console import charts
from web.console import queries as q
from web.console.base import (
    DECISIONS,
    EXECUTION_VERBS,
    PageError,
    Viewer,
    acting,
    comment_of,
    form_ids,
    form_of,
    known_notice,
    load_viewer,
    one,
    render,
    rows,
    uuid_param,
)
from web.notifications import Position

PAGE_SIZE = 50
DECIDED_SHOWN = 20
EXECUTION_STATUSES = (
    "pending",
    "running",
    "waiting",
    "paused",
    "completed",
    "failed",
    "cancelled",
)
CAMPAIGN_STATUSES = ("draft", "active", "paused", "completed", "archived")


def _instant(raw: str | None, name: str) -> datetime | None:
    """A page position's time, ISO 8601."""
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise PageError(422, f"{name} is not a timestamp") from None


def _positive_int(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise PageError(400, "a page position must be a positive integer")
    return int(raw)


def _uuid_or_none(raw: str | None, name: str) -> uuid.UUID | None:
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise PageError(422, f"{name} is not a valid id") from None


# --- inbox -------------------------------------------------------------------------


async def inbox(request: Request, viewer: Viewer) -> Response:
    """``GET /inbox``: the caller's notifications, newest first, 50 a page."""
    archived = request.query_params.get("archived") == "1"
    unread_only = request.query_params.get("unread") == "1"
    before = _positive_int(request.query_params.get("before_seq"))
    before_at = _instant(request.query_params.get("before_at"), "before_at")
    # The live stream resumes from the stream hub's watermark, taken before the page
    # reads: every seq at or below it is committed (and so on this page, or older)
    # or will never be. Not the feed's head: a seq below the head can still be in
    # flight, and the stream would take it as delivered.
    stream_from = Position.at(request.app.state.hub.watermark()).event_id()
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        items = await rows(
            conn,
            q.LIST_NOTIFICATIONS,
            {
                "unread_only": unread_only,
                "archived": archived,
                "before_seq": before,
                "before_at": before_at,
                "limit": PAGE_SIZE + 1,
            },
        )
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    return render(
        "inbox.html",
        viewer=viewer,
        nav="inbox",
        items=items,
        archived=archived,
        unread_only=unread_only,
        next_before=items[-1]["seq"] if more else None,
        next_before_at=items[-1]["announced_at"].isoformat() if more else None,
        stream_from=stream_from if before is None and before_at is None and not archived else None,
    )


def _inbox_action(query: Any) -> Any:
    async def action(request: Request, viewer: Viewer) -> Response:
        ids = form_ids(form_of(request))
        async with acting(request, viewer) as conn:
            await conn.execute(query, {"ids": ids})
        return RedirectResponse(_inbox_return(form_of(request)), 303)

    return action


def _inbox_return(form: dict[str, str]) -> str:
    return "/inbox?archived=1" if form.get("archived") == "1" else "/inbox"


inbox_read = _inbox_action(q.MARK_READ)
inbox_seen = _inbox_action(q.MARK_SEEN)
inbox_archive = _inbox_action(q.ARCHIVE)


async def inbox_read_all(request: Request, viewer: Viewer) -> Response:
    """``POST /inbox/read-all``."""
    async with acting(request, viewer) as conn:
        await conn.execute(q.MARK_ALL_READ)
    return RedirectResponse("/inbox", 303)


# --- approvals ---------------------------------------------------------------------


async def _approval_or_none(conn: psycopg.AsyncConnection, approval_id: uuid.UUID) -> Any:
    """api.get_approval in a savepoint: None when it is not the caller's to see."""
    try:
        async with conn.transaction():
            return await one(conn, q.GET_APPROVAL, {"id": approval_id})
    except psycopg.Error as exc:
        if (exc.sqlstate or "").startswith("IT"):
            return None
        raise


async def approvals(request: Request, viewer: Viewer) -> Response:
    """``GET /approvals``: pending (oldest first), then recently decided ones."""
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        pending = (await rows(conn, q.LIST_MY_APPROVALS))[:PAGE_SIZE]
        for row in pending:  # whom each may be handed to, for its delegate form
            shown = await _approval_or_none(conn, row["approval_id"])
            row["delegates"] = (shown.get("delegates") or []) if isinstance(shown, dict) else []
        asked = await rows(conn, q.LIST_ASKED_APPROVALS, {"limit": 200})
        pending_ids = {p["approval_id"] for p in pending}
        asked.sort(key=lambda r: r["created_at"], reverse=True)
        decided: list[dict[str, Any]] = []
        for row in asked:
            if len(decided) >= DECIDED_SHOWN:
                break
            if row["id"] in pending_ids:
                continue
            approval = await _approval_or_none(conn, row["id"])
            if approval is not None and approval.get("status") != "pending":
                decided.append(approval)
    return render(
        "approvals.html", viewer=viewer, nav="approvals", pending=pending, decided=decided
    )


async def approval(request: Request, viewer: Viewer, approval_id: uuid.UUID) -> Response:
    """``GET /approvals/{uuid}``: one approval as its approver sees it."""
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        data = await one(conn, q.GET_APPROVAL, {"id": approval_id})
    return render(
        "approval.html",
        viewer=viewer,
        nav="approvals",
        approval=data,
        action=f"/approvals/{approval_id}",
        form_secret=None,
        state=data.get("status") if isinstance(data, dict) else None,
        approver=None,
        notice=known_notice(request, "done", DECISIONS),
    )


async def decide_approval(request: Request, viewer: Viewer, approval_id: uuid.UUID) -> Response:
    """``POST /approvals/{uuid}``: approve, reject or delegate as the signed-in user."""
    form = form_of(request)
    decision = form.get("decision", "")
    comment = comment_of(form)
    params: dict[str, Any] = {"id": approval_id, "comment": comment}
    if decision == "approve":
        query = q.APPROVE
    elif decision == "reject":
        query = q.REJECT
    elif decision == "delegate":
        params["to"] = _uuid_or_none(form.get("delegate_to"), "the delegate")
        if params["to"] is None:
            raise PageError(422, "choose whom to delegate to")
        query = q.DELEGATE
    else:
        raise PageError(422, "the decision must be approve, reject or delegate")
    async with acting(request, viewer) as conn:
        await conn.execute(query, params)
    return RedirectResponse(f"/approvals/{approval_id}?done={decision}", 303)


# --- executions --------------------------------------------------------------------


def _execution_filters(request: Request) -> dict[str, Any]:
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in EXECUTION_STATUSES:
        raise PageError(422, "unknown status")
    entity_type = params.get("entity_type") or None
    if entity_type is not None and len(entity_type) > 100:
        raise PageError(422, "entity_type is too long")
    before_at = _instant(params.get("before_created_at"), "before_created_at")
    return {
        "status": status,
        "workflow_id": _uuid_or_none(params.get("workflow_id"), "workflow_id"),
        "entity_type": entity_type,
        "entity_id": _uuid_or_none(params.get("entity_id"), "entity_id"),
        "before_created_at": before_at,
        "before_id": _uuid_or_none(params.get("before_id"), "before_id"),
        "limit": PAGE_SIZE + 1,
    }


async def executions(request: Request, viewer: Viewer) -> Response:
    """``GET /executions``: newest first, with filters and keyset pages."""
    filters = _execution_filters(request)
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        found = await rows(conn, q.LIST_EXECUTIONS, filters)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    next_page = None
    if more:
        last = found[-1]
        keep = {
            k: str(v)
            for k, v in filters.items()
            if v is not None and k in ("status", "workflow_id", "entity_type", "entity_id")
        }
        next_page = {
            **keep,
            "before_created_at": last["created_at"].isoformat(),
            "before_id": str(last["execution_id"]),
        }
    return render(
        "executions.html",
        viewer=viewer,
        nav="executions",
        executions=found,
        filters=filters,
        statuses=EXECUTION_STATUSES,
        next_page=next_page,
    )


async def execution(request: Request, viewer: Viewer) -> Response:
    """``GET /executions/{id}``: the timeline (steps, attempts, waits, log lines)."""
    execution_id = uuid_param(request)
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        timeline = await rows(conn, q.GET_EXECUTION_TIMELINE, {"id": execution_id})
        summary = next(iter(await rows(conn, q.GET_EXECUTION, {"id": execution_id})), None)
    return render(
        "execution.html",
        viewer=viewer,
        nav="executions",
        execution_id=execution_id,
        summary=summary,
        timeline=timeline,
        notice=known_notice(request, "done", EXECUTION_VERBS),
    )


async def control_execution(request: Request, viewer: Viewer) -> Response:
    """``POST /executions/{id}/retry|cancel|pause|resume``."""
    execution_id = uuid_param(request)
    verb = request.path_params["action"]
    query = {
        "retry": q.RETRY_EXECUTION,
        "cancel": q.CANCEL_EXECUTION,
        "pause": q.PAUSE_EXECUTION,
        "resume": q.RESUME_EXECUTION,
    }.get(verb)
    if query is None:
        raise PageError(404, "There is no such action.")
    params: dict[str, Any] = {"id": execution_id}
    if verb == "cancel":
        params["reason"] = comment_of(form_of(request))
    async with acting(request, viewer) as conn:
        await conn.execute(query, params)
    return RedirectResponse(f"/executions/{execution_id}?done={verb}", 303)


# --- campaigns ---------------------------------------------------------------------


async def campaigns(request: Request, viewer: Viewer) -> Response:
    """``GET /campaigns``."""
    status = request.query_params.get("status") or None
    if status is not None and status not in CAMPAIGN_STATUSES:
        raise PageError(422, "unknown status")
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        found = await rows(conn, q.LIST_CAMPAIGNS, {"status": status, "limit": 200})
    return render(
        "campaigns.html",
        viewer=viewer,
        nav="campaigns",
        campaigns=found,
        campaign_status=status,
        statuses=CAMPAIGN_STATUSES,
    )


async def _campaign(
    request: Request, viewer: Viewer, campaign_id: uuid.UUID
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        stats = await rows(conn, q.GET_CAMPAIGN_STATS, {"id": campaign_id})
        header = next(iter(await rows(conn, q.GET_CAMPAIGN, {"id": campaign_id})), None)
    return header, stats


async def campaign(request: Request, viewer: Viewer) -> Response:
    """``GET /campaigns/{id}``: totals, the funnel per step, the A/B arms and chart."""
    campaign_id = uuid_param(request)
    header, stats = await _campaign(request, viewer, campaign_id)
    total = next((s for s in stats if s["scope"] == "campaign"), None)
    steps = [s for s in stats if s["scope"] == "step"]
    arms = charts.arms_of(stats)
    svgs = {n: charts.ab_chart(n, a) for n, a in sorted(arms.items())}
    return render(
        "campaign.html",
        viewer=viewer,
        nav="campaigns",
        campaign_id=campaign_id,
        campaign=header,
        total=total,
        steps=steps,
        arms=arms,
        charts=svgs,
        metrics=charts.METRICS,
    )


async def campaign_chart(request: Request, viewer: Viewer) -> Response:
    """``GET /campaigns/{id}/ab.svg[?step=N]``: the A/B chart of one step (the first
    A/B step by default) as an SVG document."""
    campaign_id = uuid_param(request)
    _header, stats = await _campaign(request, viewer, campaign_id)
    arms = charts.arms_of(stats)
    step = _positive_int(request.query_params.get("step"))
    if not arms or (step is not None and step not in arms):
        raise PageError(404, "This campaign has no A/B step to chart.")
    number = step if step is not None else min(arms)
    svg = charts.ab_chart(number, arms[number])
    return Response(
        '<?xml version="1.0" encoding="utf-8"?>\n' + svg,
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store", "Content-Security-Policy": "script-src 'none'"},
    )


async def enrollment(request: Request, viewer: Viewer) -> Response:
    """``GET /enrollments/{id}``: an enrollment's steps, sends and stops."""
    enrollment_id = uuid_param(request)
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        timeline = await rows(conn, q.GET_ENROLLMENT_TIMELINE, {"id": enrollment_id})
    return render(
        "enrollment.html",
        viewer=viewer,
        nav="campaigns",
        enrollment_id=enrollment_id,
        timeline=timeline,
    )


async def open_enrollment(request: Request, viewer: Viewer) -> Response:
    """``GET /enrollments?id=...``: the form on a campaign page that opens a timeline."""
    enrollment_id = _uuid_or_none(request.query_params.get("id"), "the enrollment id")
    if enrollment_id is None:
        raise PageError(422, "give an enrollment id")
    return RedirectResponse(f"/enrollments/{enrollment_id}", 303)


# --- queue -------------------------------------------------------------------------


async def queue(request: Request, viewer: Viewer) -> Response:
    """``GET /queue``: depth by entrypoint and status, the oldest job, failed jobs."""
    async with acting(request, viewer) as conn:
        await load_viewer(conn, viewer)
        stats = await rows(conn, q.GET_QUEUE_STATS)
        failed = await rows(conn, q.LIST_FAILED_JOBS, {"limit": PAGE_SIZE})
    return render(
        "queue.html",
        viewer=viewer,
        nav="queue",
        stats=stats,
        failed=failed,
        notice=known_notice(request, "requeued", None),
    )


async def requeue(request: Request, viewer: Viewer) -> Response:
    """``POST /queue/requeue`` with ``job_id``."""
    raw = form_of(request).get("job_id", "")
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise PageError(422, "job_id must be a job's number")
    async with acting(request, viewer) as conn:
        new_id = await one(conn, q.REQUEUE_JOB, {"id": int(raw)})
    return RedirectResponse(f"/queue?requeued={new_id}", 303)


__all__ = ["InTimeError", "NotFoundError"]
