"""Regressions found by the review of issue 4, each pinned (they all failed once)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from intime.errors import InvalidParameterError
from tests.sql.notifications.conftest import Notifier


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def sam(two_orgs):
    return two_orgs.a.rep_ids[1]


def _deal(notifier: Notifier, user, **extra):
    params = {
        "category": "deal",
        "title": "Deal news",
        "message": "m",
        "channels": ["in_app", "email"],
    }
    return notifier.send(user, **{**params, **extra})


# 1. Another member of the org reads a user's private notification through email_sends.
def test_review_notification_email_is_private_to_its_user(db, notifier: Notifier, two_orgs, sam):
    nid = notifier.send(
        sam,
        category="deal",
        title="Your performance review",
        message="confidential: PIP starts Monday",
        channels=["in_app", "email"],
    )
    with db.connect(two_orgs.login_a) as riley:  # login mapped to rep_ids[0], a plain member
        own = riley.execute("select count(*) from app.notifications where id = %s", (nid,))
        assert own.fetchone() == (0,)  # the notification itself is private...
        leaked = riley.execute(
            "select subject, text_body from app.email_sends where notification_id = %s", (nid,)
        ).fetchall()
    assert leaked == [], f"member reads another user's notification email: {leaked}"


# 2. '//host' is refused, but '/<TAB>/host' is accepted; browsers strip TAB/LF -> '//host'.
@pytest.mark.parametrize("url", ["/\t/evil.example/login", "/\n/evil.example/login"])
def test_review_protocol_relative_url_with_tab_is_refused(notifier: Notifier, sam, url):
    with pytest.raises(InvalidParameterError, match="action URL"):
        notifier.send(sam, category="deal", title="t", message="m", action_url=url)


# 3. DND copied into a category row by copy-on-write can't be switched off with '*'.
def test_review_turning_global_dnd_off_ends_dnd_everywhere(notifier: Notifier, sam):
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_enabled=True)
    notifier.prefer(sam, category="deal", sound_enabled=False)  # unrelated tweak: copies dnd
    notifier.prefer(sam, category="*", dnd_enabled=False)  # the user's DND switch: off
    nid = _deal(notifier, sam)
    deliveries = notifier.deliveries(nid)
    assert deliveries["email"]["status"] == "pending", deliveries["email"]["reason"]
    assert deliveries["in_app"]["reason"] is None


# 4. A critical notification collapsing into a held group stays held until the old hold ends.
def test_review_critical_collapse_releases_held_email(notifier: Notifier, sam):
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-17T12:00:00Z")
    first = _deal(notifier, sam, group_key="outage")
    second = _deal(notifier, sam, group_key="outage", critical=True, title="PROD DOWN")
    assert second == first
    notifier.at("2026-06-10T12:05:00Z")
    notifier.tick()
    email = notifier.deliveries(first)["email"]
    assert email["status"] == "pending", (email["status"], email["deliver_after"])


# 5. A row without in_app (channels off, or p_channels email only) swallows the group forever.
def test_review_group_key_does_not_collapse_into_an_invisible_row(notifier: Notifier, sam):
    unread_before = notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"]
    notifier.prefer(sam, category="deal", channels=["email"])  # in-app off for deals
    a = _deal(notifier, sam, group_key="acct-1")
    b = _deal(notifier, sam, group_key="acct-1")
    c = _deal(notifier, sam, group_key="acct-1")
    emails = notifier.owner.execute(
        "select count(*) from app.email_sends where notification_id = any(%s)", ([a, b, c],)
    ).fetchone()
    notifier.prefer(sam, category="deal", channels=["in_app", "email"])  # in-app back on
    d = _deal(notifier, sam, group_key="acct-1", title="visible?")
    listed = notifier.as_user(sam, "select id from api.list_notifications() where id = %s", (d,))
    unread = notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"]
    # today: one email for three sends, d is a (collapsed into the hidden row), nothing listed
    assert (emails, listed, unread - unread_before) == ((3,), [{"id": d}], 1), (
        emails,
        listed,
        unread - unread_before,
        d == a,
    )


# 6a. Unsubscribing from email does not stop a digest that is already scheduled.
def test_review_digest_honours_a_later_email_unsubscribe(notifier: Notifier, sam):
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = _deal(notifier, sam)
    notifier.prefer(sam, category="deal", email_unsubscribed=True)
    notifier.at("2026-06-02T09:00:00Z")
    result = notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert (result["digests"], email["status"]) == (0, "skipped"), (result, email["status"])


# 6b. Digests go out inside quiet hours / do-not-disturb.
def test_review_hourly_digest_respects_quiet_hours(notifier: Notifier, sam):
    notifier.prefer(
        sam,
        category="deal",
        frequency="hourly_digest",
        quiet_hours_enabled=True,
        quiet_hours_timezone="UTC",
    )  # 22:00-08:00
    notifier.at("2026-06-10T22:30:00Z")
    nid = _deal(notifier, sam)
    notifier.at("2026-06-10T23:00:00Z")
    result = notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert result["digests"] == 0
    assert (email["status"], email["deliver_after"]) == ("digest", _utc("2026-06-11T08:00:00"))


def test_review_daily_digest_respects_dnd(notifier: Notifier, sam):
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = _deal(notifier, sam)
    notifier.prefer(sam, category="*", dnd_until="2026-06-03T00:00:00Z")
    notifier.at("2026-06-02T09:00:00Z")
    result = notifier.tick()
    assert result["digests"] == 0, (result, notifier.deliveries(nid)["email"]["status"])


# 7. One user whose address api.create_user accepts but _insert_email_send refuses poisons
#    the tick for every org (and blocks that user's set_preference).
def test_review_one_bad_address_does_not_stop_the_tick(notifier: Notifier, two_orgs, sam):
    admin = two_orgs.a.admin_id
    [row] = notifier.as_user(
        admin, "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id"
    )
    pat = row["id"]
    notifier.at("2026-06-10T12:00:00Z")
    for user in (pat, sam):
        notifier.prefer(user, category="*", dnd_until="2026-06-10T13:00:00Z")
        _deal(notifier, user)  # held: accepted, nothing validated yet
    sam_nid = notifier.owner.execute(
        "select id from app.notifications where user_id = %s and title = 'Deal news'", (sam,)
    ).fetchone()[0]
    notifier.at("2026-06-10T13:00:00Z")
    try:
        notifier.tick()
    except InvalidParameterError as exc:
        pytest.fail(f"tick aborted for everyone: {exc}")
    assert notifier.deliveries(sam_nid)["email"]["status"] == "pending"


def test_review_user_with_held_mail_can_still_turn_dnd_off(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    pat = row["id"]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(pat, category="*", dnd_enabled=True)
    _deal(notifier, pat)
    notifier.prefer(pat, category="*", dnd_enabled=False)  # raises IT005 'invalid recipient'


# 8. A long rendered title reaches a raw CHECK violation instead of IT005.
def test_review_long_title_is_an_it005_not_a_check_violation(notifier: Notifier, sam):
    with pytest.raises(InvalidParameterError):  # today: psycopg.errors.CheckViolation (23514)
        notifier.send(
            sam,
            template_slug="mention_comment",
            variables={"mentioner": {"name": "A" * 500}, "entity": {"name": "e"}},
        )


# 9. A group key collapses into an expired (hidden) row: the old count resurfaces and
#    the expired row's skipped email means the new notification is never emailed.
def test_review_group_key_does_not_collapse_into_an_expired_row(notifier: Notifier, sam):
    notifier.at("2026-06-10T03:30:00Z")
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone="UTC")
    first = _deal(notifier, sam, group_key="g", expires_at="2026-06-10T06:00:00Z")
    notifier.at("2026-06-10T09:00:00Z")
    notifier.tick()  # the held email of the expired row is skipped ('expired')
    second = _deal(notifier, sam, group_key="g", title="fresh")
    [row] = notifier.as_user(sam, "select * from api.list_notifications() where id = %s", (second,))
    email = notifier.deliveries(second)["email"]
    assert (second != first, row["group_count"], email["status"]) == (True, 1, "pending"), (
        second == first,
        row["group_count"],
        email["status"],
        email["reason"],
    )


# 10. api.queue_email's existing p_notification_id now hits a raw FK violation.
def test_review_queue_email_unknown_notification_id_is_an_it_error(mail):
    import uuid

    from intime.errors import InTimeError

    with pytest.raises(InTimeError):
        mail.queue(to="x@y.example", subject="s", text="t", notification_id=uuid.uuid4())


def test_review_bulk_with_one_bad_address_still_notifies_the_team(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    rows = notifier.bulk(
        [two_orgs.a.rep_ids[1], row["id"]],
        category="deal",
        title="Team",
        message="m",
        channels=["in_app", "email"],
    )  # raises IT005 today
    assert len(rows) == 2


def test_review_digest_to_a_bad_address_does_not_stop_the_tick(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(row["id"], category="deal", frequency="daily_digest")
    nid = _deal(notifier, row["id"])
    notifier.at("2026-06-02T09:00:00Z")
    assert notifier.tick()["digests"] == 0  # the bad address is skipped, the tick goes on
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["reason"]) == ("skipped", "invalid recipient address")


def test_review_two_ticks_send_one_digest(db, notifier: Notifier, two_orgs) -> None:
    users = [two_orgs.a.admin_id, two_orgs.a.manager_id, *two_orgs.a.rep_ids]
    notifier.at("2026-06-01T10:00:00Z")
    for u in users:
        notifier.prefer(
            u,
            category="deal",
            frequency="daily_digest",
            digest_time="09:00",
            quiet_hours_timezone="UTC",
        )
        _deal(notifier, u)
    with db.connect("intime_service") as one, db.connect("intime_service") as two:
        for c in (one, two):
            c.execute("set app.fake_now = '2026-06-02T09:00:00Z'")
        a = one.execute("select api.tick_notifications()").fetchone()[0]
        b = two.execute("select api.tick_notifications()").fetchone()[0]
        one.commit()
        two.commit()
    sends = notifier.owner.execute(
        "select count(*) from app.email_sends where entity_type = 'notification_digest'"
    ).fetchone()
    assert (a["digests"] + b["digests"], sends) == (len(users), (len(users),))


def test_review_collapse_keeps_original_sender(db, notifier: Notifier, two_orgs) -> None:
    """A plain member rewrites an admin's pending notification in place; created_by stays admin."""
    sam = two_orgs.a.rep_ids[1]
    nid = notifier.send(
        sam,
        category="workflow",
        title="Approve invoice #5",
        message="from admin",
        action_url="/approvals/5",
        group_key="approval-5",
        channels=["in_app"],
    )  # notifier acts as the org admin
    with db.connect(two_orgs.login_a) as riley:  # a plain member (rep_ids[0])
        riley.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'workflow', "
            "p_title => 'Approve invoice #5', p_message => 'urgent, log in again', "
            "p_action_url => 'https://evil.example/login', p_group_key => 'approval-5')",
            (sam,),
        )
        riley.commit()
    row = notifier.owner.execute(
        "select id, created_by, action_url from app.notifications where id = %s", (nid,)
    ).fetchone()
    assert row[2] == "https://evil.example/login"  # content replaced in place ...
    assert row[1] == two_orgs.a.rep_ids[0], f"created_by still says the admin: {row}"


def test_review_inactive_user_gets_no_held_email(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T13:00:00Z")
    nid = _deal(notifier, sam)
    notifier.as_user(
        two_orgs.a.admin_id, "select api.update_user(%s, '{\"is_active\": false}')", (sam,)
    )
    notifier.at("2026-06-10T13:00:00Z")
    notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert email["status"] == "skipped", (email["status"], email["to_email"])


def test_review_org_default_change_releases_held(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    admin = two_orgs.a.admin_id
    notifier.prefer(
        admin, category="*", quiet_hours_enabled=True, quiet_hours_timezone="UTC", org_default=True
    )
    notifier.at("2026-06-10T23:00:00Z")
    nid = _deal(notifier, sam)
    assert notifier.deliveries(nid)["email"]["status"] == "held"
    notifier.prefer(admin, category="*", quiet_hours_enabled=False, org_default=True)
    assert notifier.deliveries(nid)["email"]["status"] == "pending"


def test_review_never_after_hold_stops_the_email(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T13:00:00Z")
    nid = _deal(notifier, sam)
    notifier.prefer(sam, category="deal", frequency="never")
    notifier.at("2026-06-10T13:00:00Z")
    notifier.tick()
    assert notifier.deliveries(nid)["email"]["status"] == "skipped"


def test_review_login_cannot_learn_other_tenants_ids_from_reads(
    db, service, admin, two_orgs
) -> None:
    b = Notifier(service, admin, two_orgs.b.org_id, two_orgs.b.admin_id)
    victim = two_orgs.b.rep_ids[1]
    nid = b.send(victim, category="deal", title="t", message="m", channels=["in_app"])
    with db.connect(two_orgs.login_a, autocommit=True) as spy:  # a member of org A
        spy.execute("listen app_notification_reads")
        b.as_user(victim, "select api.mark_notifications_read(%s)", ([nid],))
        got = [n.payload for n in spy.notifies(timeout=1, stop_after=1)]
    assert len(got) == 1  # a wake-up any role may see, but only a keyed hash
    assert str(victim) not in got[0]
    assert str(two_orgs.b.org_id) not in got[0]


def test_review_login_cannot_call_engine_internals(db, two_orgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select app._notification_release_held()")


def test_review_digest_honours_channel_turned_off(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = _deal(notifier, sam)
    notifier.prefer(sam, category="deal", channels=["in_app"])  # email off for deals
    notifier.at("2026-06-02T09:00:00Z")
    notifier.tick()
    assert notifier.deliveries(nid)["email"]["status"] == "skipped"
