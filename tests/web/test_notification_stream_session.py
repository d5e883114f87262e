"""/notifications/stream with the console's session cookie (what a console page's
EventSource sends): events arrive, and an ended session ends the stream."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.web.sessions import new_session
from tests.web.streams import opened


def test_a_notification_arrives_on_a_session_stream(stream_url, service, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    cookie, _ = new_session(service, two_orgs.a.org_id, sam)
    with opened(stream_url, headers={"Cookie": f"intime_session={cookie}"}) as stream:
        assert stream.status_code == 200
        send(sam, "via the console")
        event = stream.next()
    assert json.loads(event.data)["title"] == "via the console"


def test_ending_the_session_ends_its_stream(stream_url, service, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    cookie, _ = new_session(service, two_orgs.a.org_id, sam)
    with opened(stream_url, headers={"Cookie": f"intime_session={cookie}"}) as stream:
        service.execute("select api.end_web_session(p_session => %s)", (cookie,))
        time.sleep(1.0)  # the stream checks its session every 0.5 s here (60 s by default)
        send(sam, "after sign-out")
        with pytest.raises(EOFError):
            stream.next(timeout=3)


def test_an_unknown_session_is_a_401(stream_url) -> None:
    response = httpx.get(
        f"{stream_url}/notifications/stream", headers={"Cookie": "intime_session=nope"}
    )
    assert response.status_code == 401
