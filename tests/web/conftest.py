"""The web app served by a real uvicorn on loopback, per test."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from intime.serving import serve_in_thread
from tests.peers import FakeResend, fake_resend
from tests.support import Database
from web.app import create_app

__all__ = ["fake_resend"]

INBOUND_TOKEN = "test-inbound-token"
SECRETS = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg==")


@pytest.fixture
def serve(db: Database, fake_resend: FakeResend) -> Iterator[Callable[..., str]]:
    """Start the app (with the given Resend secrets); returns its base URL."""
    with contextlib.ExitStack() as stack:

        def start(resend_secrets: tuple[str, ...] = SECRETS) -> str:
            app = create_app(
                db.dsn("intime_service"),
                resend_secrets=resend_secrets,
                inbound_token=INBOUND_TOKEN,
                resend_api_key="re_test",
                resend_base_url=fake_resend.url,
            )
            return stack.enter_context(serve_in_thread(app))

        yield start


@pytest.fixture
def base_url(serve: Callable[..., str]) -> str:
    return serve()
