"""Console sessions for the web tests, made the way /signin makes them."""

from __future__ import annotations

import uuid

import psycopg

from intime.db import actor


def new_session(
    service: psycopg.Connection, org_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[str, str]:
    """A console session of a new API token of ``user_id``: (cookie value, CSRF token)."""
    with actor(service, org_id):
        row = service.execute(
            "select token from api.create_api_token(p_name => 'console', p_user_id => %s)",
            (user_id,),
        ).fetchone()
    assert row is not None
    session = service.execute(
        "select session, csrf_token from api.create_web_session(p_token => %s)", (row[0],)
    ).fetchone()
    assert session is not None
    return session[0], session[1]
