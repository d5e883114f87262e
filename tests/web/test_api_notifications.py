"""The inbox over /api/v1: list, unread count, read, seen, archive, preferences; each
as the token's user, so another user's notifications are never touched."""

from __future__ import annotations

import uuid

from tests.web.apiclient import call, is_problem


def test_the_inbox_lists_the_callers_notifications_newest_first(
    base_url, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    send(sam, "first")
    send(sam, "second")
    response = call(base_url, "GET", "/notifications", token_for(sam))
    assert response.status_code == 200
    titles = [n["title"] for n in response.json()["notifications"]]
    assert titles.index("second") < titles.index("first")


def test_a_full_page_gives_the_next_pages_cursor(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    for i in range(3):
        send(sam, f"n{i}")
    page = call(base_url, "GET", "/notifications", token, params={"limit": 2}).json()
    rest = call(
        base_url,
        "GET",
        "/notifications",
        token,
        params={"limit": 2, "before_seq": page["next_before_seq"]},
    ).json()
    seen = [n["title"] for n in page["notifications"] + rest["notifications"]]
    assert seen[:3] == ["n2", "n1", "n0"]


def test_the_next_cursor_pages_through_the_inbox_once(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    for i in range(5):
        send(sam, f"c{i}")
    seen: list[str] = []
    params: dict = {"limit": 2}
    for _ in range(50):
        page = call(base_url, "GET", "/notifications", token, params=params).json()
        seen += [n["id"] for n in page["notifications"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    everything = call(base_url, "GET", "/notifications", token, params={"limit": 500}).json()
    assert seen == [n["id"] for n in everything["notifications"]]


def test_a_notification_cursor_this_server_did_not_give_is_a_bad_request(
    base_url, token_for, two_orgs
) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    forged = "WyIyMDMwLTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgIi0xIl0="  # ["2030-...", "-1"]
    for cursor in ("bm90IGEgY3Vyc29y", forged):
        response = call(base_url, "GET", "/notifications", token, params={"cursor": cursor})
        assert is_problem(response, 400)


def test_a_cursor_and_a_before_seq_together_are_a_bad_request(
    base_url, token_for, send, two_orgs
) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    send(sam, "one")
    page = call(base_url, "GET", "/notifications", token, params={"limit": 1}).json()
    response = call(
        base_url,
        "GET",
        "/notifications",
        token,
        params={"cursor": page["next_cursor"], "before_seq": page["next_before_seq"]},
    )
    assert is_problem(response, 400)


def test_the_unread_count_is_the_badge(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    before = call(base_url, "GET", "/notifications/unread-count", token).json()["unread_count"]
    send(sam, "one more")
    after = call(base_url, "GET", "/notifications/unread-count", token).json()
    assert after == {"unread_count": before + 1}


def _ids(base_url: str, token: str) -> list[str]:
    rows = call(base_url, "GET", "/notifications", token).json()["notifications"]
    return [n["id"] for n in rows]


def test_reading_by_id_marks_those_read(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    send(sam, "read me")
    [first, *_] = _ids(base_url, token)
    response = call(base_url, "POST", "/notifications/read", token, json={"ids": [first]})
    assert response.json() == {"updated": 1}
    rows = call(base_url, "GET", "/notifications", token).json()["notifications"]
    assert next(n for n in rows if n["id"] == first)["read_at"] is not None


def test_reading_all_clears_the_badge(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    send(sam, "a")
    send(sam, "b")
    assert (
        call(base_url, "POST", "/notifications/read", token, json={"all": True}).status_code == 200
    )
    count = call(base_url, "GET", "/notifications/unread-count", token).json()["unread_count"]
    assert count == 0


def test_read_needs_ids_or_all(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    assert is_problem(call(base_url, "POST", "/notifications/read", token, json={}), 400)


def test_another_users_notifications_are_not_changed(base_url, token_for, send, two_orgs) -> None:
    sam, other = two_orgs.a.rep_ids[1], two_orgs.a.rep_ids[0]
    send(sam, "sam's")
    [theirs, *_] = _ids(base_url, token_for(sam))
    response = call(
        base_url, "POST", "/notifications/read", token_for(other), json={"ids": [theirs]}
    )
    assert response.json() == {"updated": 0}


def test_seen_marks_seen_without_reading(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    send(sam, "glimpsed")
    [first, *_] = _ids(base_url, token)
    assert call(base_url, "POST", "/notifications/seen", token, json={"ids": [first]}).json() == {
        "updated": 1
    }
    row = next(
        n
        for n in call(base_url, "GET", "/notifications", token).json()["notifications"]
        if n["id"] == first
    )
    assert (row["seen_at"] is not None, row["read_at"]) == (True, None)


def test_archived_notifications_leave_the_inbox(base_url, token_for, send, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    token = token_for(sam)
    send(sam, "old news")
    [first, *_] = _ids(base_url, token)
    call(base_url, "POST", "/notifications/archive", token, json={"ids": [first]})
    archived = call(base_url, "GET", "/notifications", token, params={"archived": "true"}).json()
    assert first not in _ids(base_url, token)
    assert first in [n["id"] for n in archived["notifications"]]


def test_an_id_that_is_no_uuid_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    response = call(base_url, "POST", "/notifications/seen", token, json={"ids": ["nope"]})
    assert is_problem(response, 400)


def test_preferences_list_the_effective_rows(base_url, token_for, two_orgs) -> None:
    response = call(base_url, "GET", "/preferences", token_for(two_orgs.a.rep_ids[1]))
    assert "*" in [p["category"] for p in response.json()["preferences"]]


def test_a_preference_is_set_and_read_back(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    body = {"category": "deal", "channels": ["in_app"], "quiet_hours_timezone": "Europe/Paris"}
    stored = call(base_url, "PUT", "/preferences", token, json=body).json()["preference"]
    rows = call(base_url, "GET", "/preferences", token).json()["preferences"]
    deal = next(p for p in rows if p["category"] == "deal")
    assert (stored["channels"], deal["scope"], deal["quiet_hours_timezone"]) == (
        ["in_app"],
        "user",
        "Europe/Paris",
    )


def test_a_zone_that_is_no_iana_name_is_unprocessable(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    body = {"category": "deal", "quiet_hours_timezone": "Mars/Olympus"}
    assert is_problem(call(base_url, "PUT", "/preferences", token, json=body), 422, "IT005")


def test_a_member_may_not_set_the_org_default(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    body = {"category": "deal", "channels": ["email"], "org_default": True}
    assert is_problem(call(base_url, "PUT", "/preferences", token, json=body), 403, "IT003")


def test_an_admin_sets_the_org_default(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.admin_id)
    body = {"category": "deal", "channels": ["email"], "org_default": True}
    stored = call(base_url, "PUT", "/preferences", token, json=body).json()["preference"]
    assert (stored["user_id"], stored["channels"]) == (None, ["email"])


def test_an_unknown_member_is_a_bad_request(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    body = {"category": "deal", "chanels": ["email"]}
    assert is_problem(call(base_url, "PUT", "/preferences", token, json=body), 400)


def test_ids_are_uuids_of_any_notification(base_url, token_for, two_orgs) -> None:
    token = token_for(two_orgs.a.rep_ids[1])
    body = {"ids": [str(uuid.uuid4())]}
    assert call(base_url, "POST", "/notifications/archive", token, json=body).json() == {
        "updated": 0
    }
