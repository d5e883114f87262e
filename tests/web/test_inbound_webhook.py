"""POST /webhooks/inbound with raw messages over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.support import TESTDATA, Mail
from tests.web.conftest import INBOUND_TOKEN

OOO = (TESTDATA / "mail" / "ooo_auto_submitted_auto_replied.eml").read_bytes()


def post(base_url: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/webhooks/inbound",
        content=body,
        headers={"content-type": "message/rfc822", **headers},
        timeout=10,
    )


def test_a_raw_message_is_recorded_and_classified(base_url: str, mail: Mail) -> None:
    mail.queue(to="kijitora@example.net", subject="Hi", text="x")
    response = post(base_url, OOO, authorization=f"Bearer {INBOUND_TOKEN}")
    assert response.status_code == 200
    assert response.json() | {"inbound_id": None} == {
        "result": "recorded",
        "inbound_id": None,
        "match_method": "sender",
        "is_auto_reply": True,
    }


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"authorization": "Bearer wrong"}, 401),
        ({"authorization": f"Bearer {INBOUND_TOKEN}", "content-type": "text/plain"}, 415),
    ],
)
def test_unauthenticated_or_wrong_type_is_refused_and_writes_nothing(
    base_url: str, admin, headers: dict, status: int
) -> None:
    before = admin.execute("select count(*) from app.inbound_unmatched").fetchone()
    assert post(base_url, OOO, **headers).status_code == status
    assert admin.execute("select count(*) from app.inbound_unmatched").fetchone() == before


def test_a_message_without_message_id_is_a_400(base_url: str) -> None:
    body = b"From: a@b.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert post(base_url, body, authorization=f"Bearer {INBOUND_TOKEN}").status_code == 400
