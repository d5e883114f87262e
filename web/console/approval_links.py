"""``/approvals/{key}``: an emailed approval link (``apl_...``), or an approval id for
the signed-in approver.

A link needs no session: the token is the credential (single use, bound to one
approver's row, expiring). GET shows what is asked and changes nothing, since mail
scanners follow links; POST decides, from the page's form. The form carries the token
again and a cross-site POST (Origin or Referer of another site, when sent) is refused,
so another site cannot submit it. Pages say ``Referrer-Policy: same-origin`` so the
token never leaves in a Referer.
"""

from __future__ import annotations

import hmac
import json
import uuid
from typing import Any

import psycopg
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intime.errors import InTimeError, InvalidTokenError, translate
from web.console import pages
from web.console import queries as q
from web.console.base import (
    DECISIONS,
    PageError,
    Viewer,
    comment_of,
    error_page,
    known_notice,
    page,
    pool_of,
    read_form,
    render,
    same_origin,
    status_of,
)

LINK_PREFIX = "apl_"
MAX_LINK = 128
HEADERS = {"Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}


def _is_link(key: str) -> bool:
    return key.startswith(LINK_PREFIX) and len(key) <= MAX_LINK and key.isascii()


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


async def _service_call(request: Request, query: Any, params: dict[str, Any]) -> dict[str, Any]:
    """One api call as the service role (the pool's own; autocommit)."""
    try:
        async with pool_of(request).connection() as conn:
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
    except psycopg.DataError:
        raise InvalidTokenError("this link is not valid") from None
    except psycopg.Error as exc:
        error = translate(exc)
        if error is exc:
            raise
        raise error from exc
    return _as_dict(row[0] if row else None)


def _link_page(token: str, link: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    approval = _as_dict(link.get("approval"))
    return render(
        "approval.html",
        status,
        headers=HEADERS,
        viewer=None,
        nav=None,
        approval=approval,
        action=f"/approvals/{token}",
        form_secret=token,
        state=link.get("state"),
        approver=_as_dict(link.get("approver")),
        used_decision=link.get("used_decision"),
        used_at=link.get("used_at"),
        **extra,
    )


def _invalid_link() -> Response:
    response = error_page(
        404, "This approval link is not valid. Open the approval from your inbox instead."
    )
    response.headers.update(HEADERS)
    return response


async def show_link(request: Request, token: str) -> Response:
    try:
        link = await _service_call(request, q.GET_APPROVAL_LINK, {"token": token})
    except InvalidTokenError:
        return _invalid_link()
    return _link_page(token, link, notice=known_notice(request, "done", DECISIONS))


async def decide_link(request: Request, token: str) -> Response:
    if not same_origin(request):
        response = error_page(403, "This form must be sent from this site.")
        response.headers.update(HEADERS)
        return response
    try:
        form = await read_form(request)
        submitted = form.get("link_token", "")
        if not hmac.compare_digest(submitted.encode(), token.encode()):
            raise PageError(403, "The form does not belong to this link: open it again.")
        decision = form.get("decision", "")
        if decision not in DECISIONS:
            raise PageError(422, "The decision must be approve, reject or delegate.")
        delegate_to: uuid.UUID | None = None
        if decision == "delegate":
            try:
                delegate_to = uuid.UUID(form.get("delegate_to", ""))
            except ValueError:
                raise PageError(422, "Choose whom to delegate to.") from None
        params = {
            "token": token,
            "decision": decision,
            "comment": comment_of(form),
            "delegate_to": delegate_to,
        }
    except PageError as exc:
        response = error_page(exc.status, exc.detail)
        response.headers.update(HEADERS)
        return response
    try:
        await _service_call(request, q.DECIDE_APPROVAL_LINK, params)
    except InvalidTokenError:
        return _invalid_link()
    except InTimeError as exc:
        # Used, expired or superseded (IT013), or a decision the engine refused: the
        # page again, saying what happened.
        try:
            link = await _service_call(request, q.GET_APPROVAL_LINK, {"token": token})
        except InvalidTokenError:
            return _invalid_link()
        return _link_page(token, link, status_of(exc), refusal=str(exc))
    return RedirectResponse(f"/approvals/{token}?done={decision}", 303, headers=HEADERS)


_signed_in_get = page(lambda r, v: pages.approval(r, v, _approval_id(r)))
_signed_in_post = page(lambda r, v: pages.decide_approval(r, v, _approval_id(r)))


def _approval_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["key"])
    except ValueError:
        raise PageError(404, "There is no such approval.") from None


async def approval_key(request: Request) -> Response:
    """``GET|POST /approvals/{key}``."""
    key: str = request.path_params["key"]
    if _is_link(key):
        if request.method == "POST":
            return await decide_link(request, key)
        return await show_link(request, key)
    try:
        uuid.UUID(key)
    except ValueError:
        return _invalid_link() if key.startswith(LINK_PREFIX) else error_page(404, "Not found.")
    if request.method == "POST":
        return await _signed_in_post(request)
    return await _signed_in_get(request)


__all__ = ["Viewer", "approval_key"]
