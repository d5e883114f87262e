"""The web app served by a real uvicorn on loopback, per test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from starlette.applications import Starlette

from intime.db import actor
from intime_cli.serving import serve_in_thread
from tests.peers import FakeResend, fake_resend
from tests.support import Database, TwoOrgs
from web.app import create_app

__all__ = ["fake_resend"]

INBOUND_TOKEN = "test-inbound-token"
SECRETS = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==")


@pytest.fixture
def serve(db: Database, fake_resend: FakeResend) -> Iterator[Callable[..., str]]:
    """Start the app (with the given Resend secrets and other ``create_app``
    options); returns its base URL."""
    with contextlib.ExitStack() as stack:

        def start(resend_secrets: tuple[str, ...] = SECRETS, **options: object) -> str:
            app = create_app(
                db.dsn("intime_service"),
                resend_secrets=resend_secrets,
                inbound_token=INBOUND_TOKEN,
                resend_api_key="re_test",
                resend_base_url=fake_resend.url,
                **options,
            )
            return stack.enter_context(serve_in_thread(app))

        yield start


@pytest.fixture
def base_url(serve: Callable[..., str]) -> str:
    return serve()


@pytest.fixture
def stream_app(db: Database) -> Starlette:
    """The app with a short heartbeat and token re-check, for the stream tests."""
    return create_app(db.dsn("intime_service"), stream_heartbeat=0.3, stream_reauth=0.5)


@pytest.fixture
def stream_url(stream_app: Starlette) -> Iterator[str]:
    with serve_in_thread(stream_app) as url:
        yield url


@pytest.fixture
def token_for(service: psycopg.Connection, two_orgs: TwoOrgs) -> Callable[[uuid.UUID], str]:
    def create(user_id: uuid.UUID, org_id: uuid.UUID | None = None) -> str:
        org = org_id or two_orgs.a.org_id
        with actor(service, org):
            row = service.execute(
                "select token from api.create_api_token(p_name => 'sse', p_user_id => %s)",
                (user_id,),
            ).fetchone()
        assert row is not None
        return row[0]

    return create


@pytest.fixture
def send(service: psycopg.Connection, two_orgs: TwoOrgs) -> Callable[..., int]:
    """Send a notification as org A's admin; returns its seq."""

    def send(user_id: uuid.UUID, title: str, org_id: uuid.UUID | None = None) -> int:
        org = org_id or two_orgs.a.org_id
        with actor(service, org, user_id):
            service.execute(
                "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                "p_title => %s, p_message => 'm', p_channels => array['in_app'])",
                (user_id, title),
            )
            row = service.execute(
                "select max(seq) from api.list_notifications() where title = %s", (title,)
            ).fetchone()
        assert row is not None
        return int(row[0])

    return send
