"""Preference rules: never, critical, do-not-disturb, quiet hours, digests, holds;
a bad address or an inactive user never stops the tick."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError, NoActorError, PermissionDeniedError
from tests.sql.notifications.conftest import Notifier, deal_notification

NY = "America/New_York"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_defaults_apply_without_any_row(notifier: Notifier, sam) -> None:
    rows = notifier.as_user(sam, "select * from api.get_preferences() where category = 'deal'")
    assert rows[0]["scope"] == "default"
    assert rows[0]["channels"] == ["in_app", "email"]
    assert rows[0]["frequency"] == "immediate"
    assert rows[0]["quiet_hours_timezone"] == "UTC"  # the user's profile time zone


def test_never_stores_nothing(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", frequency="never")
    before = notifier.owner.execute("select count(*) from app.notifications").fetchone()
    assert deal_notification(notifier, sam) is None
    assert notifier.owner.execute("select count(*) from app.notifications").fetchone() == before


def test_critical_bypasses_never(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", frequency="never")
    nid = deal_notification(notifier, sam, critical=True)
    assert notifier.deliveries(nid)["email"]["status"] == "pending"


def test_email_unsubscribed_skips_email_only(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", email_unsubscribed=True)
    deliveries = notifier.deliveries(deal_notification(notifier, sam))
    assert deliveries["in_app"]["status"] == "delivered"
    assert (deliveries["email"]["status"], deliveries["email"]["reason"]) == (
        "skipped",
        "email unsubscribed",
    )


def test_do_not_disturb_holds_email_and_stores_in_app_silently(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T14:00:00Z")
    nid = deal_notification(notifier, sam)
    deliveries = notifier.deliveries(nid)
    assert deliveries["email"]["status"] == "held"
    assert deliveries["email"]["reason"] == "do not disturb"
    assert deliveries["email"]["deliver_after"] == _utc("2026-06-10T14:00:00")
    assert deliveries["email"]["email_send_id"] is None
    assert deliveries["in_app"]["reason"] == "silent: do not disturb"
    [row] = notifier.as_user(
        sam, "select silent from api.list_notifications() where id = %s", (nid,)
    )
    assert row["silent"] is True


def test_critical_bypasses_do_not_disturb(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T14:00:00Z")
    nid = deal_notification(notifier, sam, critical=True)
    deliveries = notifier.deliveries(nid)
    assert deliveries["email"]["status"] == "pending"
    assert deliveries["in_app"]["reason"] is None


def test_open_ended_do_not_disturb_is_rechecked_hourly(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_enabled=True)
    email = notifier.deliveries(deal_notification(notifier, sam))["email"]
    assert email["status"] == "held"
    assert email["deliver_after"] == _utc("2026-06-10T13:00:00")
    assert email["reason"] == "do not disturb (no end set)"


def test_quiet_hours_overnight_hold_until_morning_in_the_users_zone(
    notifier: Notifier, sam
) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T03:30:00Z")  # 23:30 EDT on the 9th
    email = notifier.deliveries(deal_notification(notifier, sam))["email"]
    assert (email["status"], email["reason"]) == ("held", "quiet hours")
    assert email["deliver_after"] == _utc("2026-06-10T12:00:00")  # 08:00 EDT


def test_quiet_hours_after_midnight_end_the_same_morning(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T06:00:00Z")  # 02:00 EDT
    email = notifier.deliveries(deal_notification(notifier, sam))["email"]
    assert email["deliver_after"] == _utc("2026-06-10T12:00:00")


def test_outside_quiet_hours_email_goes_at_once(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T13:00:00Z")  # 09:00 EDT
    assert notifier.deliveries(deal_notification(notifier, sam))["email"]["status"] == "pending"


@pytest.mark.parametrize(
    ("now", "end"),
    [
        # The night clocks spring forward (8 March 2026): 23:00 EST to 08:00 EDT.
        ("2026-03-08T04:00:00Z", "2026-03-08T12:00:00"),
        # The night clocks fall back (1 November 2026): 23:00 EDT to 08:00 EST.
        ("2026-11-01T03:00:00Z", "2026-11-01T13:00:00"),
    ],
)
def test_quiet_hours_end_at_local_wall_time_across_dst(notifier: Notifier, sam, now, end) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at(now)
    assert notifier.deliveries(deal_notification(notifier, sam))["email"]["deliver_after"] == _utc(
        end
    )


def test_a_same_day_quiet_window_holds_inside_it_only(notifier: Notifier, sam) -> None:
    notifier.prefer(
        sam,
        category="deal",
        quiet_hours_enabled=True,
        quiet_hours_start="12:00",
        quiet_hours_end="13:30",
        quiet_hours_timezone="UTC",
    )
    notifier.at("2026-06-10T12:15:00Z")
    assert notifier.deliveries(deal_notification(notifier, sam))["email"]["deliver_after"] == _utc(
        "2026-06-10T13:30:00"
    )
    notifier.at("2026-06-10T13:30:00Z")
    assert notifier.deliveries(deal_notification(notifier, sam))["email"]["status"] == "pending"


def test_held_email_is_released_when_the_window_ends(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T03:30:00Z")
    nid = deal_notification(notifier, sam)
    notifier.at("2026-06-10T11:59:00Z")
    assert notifier.tick()["released"] == 0
    notifier.at("2026-06-10T12:00:00Z")
    assert notifier.tick()["released"] == 1
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["email_status"]) == ("pending", "queued")
    assert email["to_email"] == "sam@acme.example"


def test_a_notification_read_while_held_is_not_emailed(notifier: Notifier, sam) -> None:
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T03:30:00Z")
    nid = deal_notification(notifier, sam)
    notifier.as_user(sam, "select api.mark_notifications_read(%s)", ([nid],))
    notifier.at("2026-06-10T12:00:00Z")
    assert notifier.tick() == {"released": 0, "rescheduled": 0, "skipped": 1, "digests": 0}
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["reason"]) == ("skipped", "read before delivery")


def test_turning_do_not_disturb_off_releases_at_once(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T18:00:00Z")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="*", dnd_enabled=False)
    assert notifier.deliveries(nid)["email"]["status"] == "pending"


def test_an_extended_window_reschedules_the_hold(notifier: Notifier, sam) -> None:
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T13:00:00Z")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T16:00:00Z")
    notifier.at("2026-06-10T13:00:00Z")
    assert notifier.tick()["released"] == 0
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["deliver_after"]) == ("held", _utc("2026-06-10T16:00:00"))


def test_daily_digest_is_built_at_the_users_local_time(notifier: Notifier, sam) -> None:
    notifier.prefer(
        sam,
        category="deal",
        frequency="daily_digest",
        digest_time="09:00",
        quiet_hours_timezone="Europe/Berlin",
    )
    notifier.at("2026-06-01T10:00:00Z")  # 12:00 in Berlin: the next digest is tomorrow 09:00
    ids = [deal_notification(notifier, sam, title=f"Deal {i}") for i in range(3)]
    email = notifier.deliveries(ids[0])["email"]
    assert (email["status"], email["deliver_after"]) == ("digest", _utc("2026-06-02T07:00:00"))
    notifier.as_user(sam, "select api.mark_notifications_read(%s)", ([ids[2]],))

    notifier.at("2026-06-02T06:59:00Z")
    assert notifier.tick()["digests"] == 0
    notifier.at("2026-06-02T07:00:00Z")
    assert notifier.tick()["digests"] == 1

    first, second, read = (notifier.deliveries(i)["email"] for i in ids)
    assert first["email_send_id"] == second["email_send_id"] is not None
    assert first["subject"] == "Your digest: 2 new notifications"
    assert "Deal 0" in first["html_body"]
    assert "Deal 1" in first["html_body"]
    assert "Deal 2" not in first["html_body"]
    assert (read["status"], read["reason"]) == ("skipped", "read before the digest")
    assert notifier.tick()["digests"] == 0


def test_weekly_digest_waits_for_the_chosen_day(notifier: Notifier, sam) -> None:
    notifier.prefer(
        sam,
        category="deal",
        frequency="weekly_digest",
        digest_day="friday",
        digest_time="17:00",
        quiet_hours_timezone="America/Los_Angeles",
    )
    notifier.at("2026-06-03T12:00:00Z")  # a Wednesday
    email = notifier.deliveries(deal_notification(notifier, sam))["email"]
    assert email["deliver_after"] == _utc("2026-06-06T00:00:00")  # Friday 17:00 PDT


def test_hourly_digest_follows_local_hours_in_half_hour_zones(notifier: Notifier, sam) -> None:
    notifier.prefer(
        sam, category="deal", frequency="hourly_digest", quiet_hours_timezone="Asia/Kolkata"
    )
    notifier.at("2026-06-03T10:20:00Z")  # 15:50 in Kolkata
    email = notifier.deliveries(deal_notification(notifier, sam))["email"]
    assert email["deliver_after"] == _utc("2026-06-03T10:30:00")


def test_critical_bypasses_digests_and_quiet_hours(notifier: Notifier, sam) -> None:
    notifier.prefer(
        sam,
        category="deal",
        frequency="daily_digest",
        quiet_hours_enabled=True,
        quiet_hours_timezone=NY,
    )
    notifier.at("2026-06-10T03:30:00Z")
    assert (
        notifier.deliveries(deal_notification(notifier, sam, critical=True))["email"]["status"]
        == "pending"
    )


def test_two_ticks_at_once_release_each_delivery_once(db, notifier: Notifier, two_orgs) -> None:
    users = [two_orgs.a.admin_id, two_orgs.a.manager_id, *two_orgs.a.rep_ids]
    for user in users:
        notifier.prefer(user, category="deal", quiet_hours_enabled=True, quiet_hours_timezone=NY)
    notifier.at("2026-06-10T03:30:00Z")
    for user in users:
        deal_notification(notifier, user)
    with db.connect("intime_service") as one, db.connect("intime_service") as two:
        for conn in (one, two):
            conn.execute("set app.fake_now = '2026-06-10T12:00:00Z'")
        first = one.execute("select api.tick_notifications()").fetchone()
        second = two.execute("select api.tick_notifications()").fetchone()
        one.commit()
        two.commit()
    assert first is not None
    assert second is not None
    assert first[0]["released"] + second[0]["released"] == len(users)
    assert second[0]["released"] == 0  # the first holds the rows: SKIP LOCKED
    sends = notifier.owner.execute(
        "select count(*) from app.email_sends where notification_id in "
        "(select id from app.notifications where title = 'Deal news')"
    ).fetchone()
    assert sends == (len(users),)


def test_the_org_default_applies_to_users_without_rows(notifier: Notifier, two_orgs, sam) -> None:
    notifier.prefer(two_orgs.a.admin_id, category="deal", channels=["in_app"], org_default=True)
    assert set(notifier.deliveries(deal_notification(notifier, sam))) == {"in_app"}
    # The seeded reps[0] has their own 'deal' row with email: it wins.
    assert "email" in notifier.deliveries(deal_notification(notifier, two_orgs.a.rep_ids[0]))


def test_only_an_admin_sets_org_defaults(notifier: Notifier, sam) -> None:
    with pytest.raises(PermissionDeniedError):
        notifier.prefer(sam, category="deal", channels=["in_app"], org_default=True)


def test_a_new_row_starts_from_what_applied_before(notifier: Notifier, two_orgs, sam) -> None:
    notifier.prefer(
        two_orgs.a.admin_id, category="*", channels=["in_app", "push"], org_default=True
    )
    row = notifier.prefer(sam, category="*", quiet_hours_enabled=True)
    assert row["channels"] == ["in_app", "push"]
    assert row["quiet_hours_timezone"] == "UTC"
    scopes = notifier.as_user(sam, "select scope from api.get_preferences() where category = '*'")
    assert scopes == [{"scope": "user_all"}]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"category": "Bad Category"}, "invalid category"),
        ({"category": "deal", "channels": ["in_app", "fax"]}, "unknown channel"),
        ({"category": "deal", "frequency": "sometimes"}, "invalid frequency"),
        ({"category": "deal", "digest_day": "funday"}, "invalid digest day"),
        ({"category": "deal", "quiet_hours_timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"category": "*", "dnd_until": "2000-01-01T00:00:00Z"}, "in the past"),
    ],
)
def test_bad_preferences_are_refused_with_a_clear_error(
    notifier: Notifier, sam, params, named
) -> None:
    with pytest.raises(InvalidParameterError, match=named):
        notifier.prefer(sam, **params)


def test_a_login_reads_its_own_and_the_orgs_rows_only(db, notifier: Notifier, two_orgs) -> None:
    notifier.prefer(two_orgs.a.admin_id, category="deal", channels=["in_app"], org_default=True)
    with db.connect(two_orgs.login_a) as conn:
        owners = {
            r[0]
            for r in conn.execute("select user_id from app.notification_preferences").fetchall()
        }
    assert owners == {two_orgs.a.rep_ids[0], None}


def test_the_service_needs_a_user_to_read_preferences(notifier: Notifier, two_orgs) -> None:
    with (
        pytest.raises(NoActorError, match="no user"),
        errors_translated(),
        actor(notifier.conn, two_orgs.a.org_id),
    ):
        notifier.conn.execute("select * from api.get_preferences()")


# DND copied into a category row by copy-on-write is switched off with '*' too.
def test_turning_global_dnd_off_ends_dnd_everywhere(notifier: Notifier, sam):
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_enabled=True)
    notifier.prefer(sam, category="deal", sound_enabled=False)  # unrelated tweak: copies dnd
    notifier.prefer(sam, category="*", dnd_enabled=False)  # the user's DND switch: off
    nid = deal_notification(notifier, sam)
    deliveries = notifier.deliveries(nid)
    assert deliveries["email"]["status"] == "pending", deliveries["email"]["reason"]
    assert deliveries["in_app"]["reason"] is None


# A critical notification collapsing into a held group releases its held email.
def test_critical_collapse_releases_held_email(notifier: Notifier, sam):
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-17T12:00:00Z")
    first = deal_notification(notifier, sam, group_key="outage")
    second = deal_notification(notifier, sam, group_key="outage", critical=True, title="PROD DOWN")
    assert second == first
    notifier.at("2026-06-10T12:05:00Z")
    notifier.tick()
    email = notifier.deliveries(first)["email"]
    assert email["status"] == "pending", (email["status"], email["deliver_after"])


# Unsubscribing from email also stops a digest that is already scheduled.
def test_digest_honours_a_later_email_unsubscribe(notifier: Notifier, sam):
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="deal", email_unsubscribed=True)
    notifier.at("2026-06-02T09:00:00Z")
    result = notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert (result["digests"], email["status"]) == (0, "skipped"), (result, email["status"])


# Digests wait out quiet hours and do-not-disturb.
def test_hourly_digest_respects_quiet_hours(notifier: Notifier, sam):
    notifier.prefer(
        sam,
        category="deal",
        frequency="hourly_digest",
        quiet_hours_enabled=True,
        quiet_hours_timezone="UTC",
    )  # 22:00-08:00
    notifier.at("2026-06-10T22:30:00Z")
    nid = deal_notification(notifier, sam)
    notifier.at("2026-06-10T23:00:00Z")
    result = notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert result["digests"] == 0
    assert (email["status"], email["deliver_after"]) == ("digest", _utc("2026-06-11T08:00:00"))


def test_daily_digest_respects_dnd(notifier: Notifier, sam):
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="*", dnd_until="2026-06-03T00:00:00Z")
    notifier.at("2026-06-02T09:00:00Z")
    result = notifier.tick()
    assert result["digests"] == 0, (result, notifier.deliveries(nid)["email"]["status"])


def test_digest_honours_channel_turned_off(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(sam, category="deal", frequency="daily_digest", digest_time="09:00")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="deal", channels=["in_app"])  # email off for deals
    notifier.at("2026-06-02T09:00:00Z")
    notifier.tick()
    assert notifier.deliveries(nid)["email"]["status"] == "skipped"


def test_digest_to_a_bad_address_does_not_stop_the_tick(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    notifier.at("2026-06-01T10:00:00Z")
    notifier.prefer(row["id"], category="deal", frequency="daily_digest")
    nid = deal_notification(notifier, row["id"])
    notifier.at("2026-06-02T09:00:00Z")
    assert notifier.tick()["digests"] == 0  # the bad address is skipped, the tick goes on
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["reason"]) == ("skipped", "invalid recipient address")


def test_two_ticks_send_one_digest(db, notifier: Notifier, two_orgs) -> None:
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
        deal_notification(notifier, u)
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


# One user whose address api.create_user accepts but _insert_email_send refuses poisons
# neither the tick for every org nor that user's set_preference.
def test_one_bad_address_does_not_stop_the_tick(notifier: Notifier, two_orgs, sam):
    admin = two_orgs.a.admin_id
    [row] = notifier.as_user(
        admin, "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id"
    )
    pat = row["id"]
    notifier.at("2026-06-10T12:00:00Z")
    for user in (pat, sam):
        notifier.prefer(user, category="*", dnd_until="2026-06-10T13:00:00Z")
        deal_notification(notifier, user)  # held: accepted, nothing validated yet
    sam_nid = notifier.owner.execute(
        "select id from app.notifications where user_id = %s and title = 'Deal news'", (sam,)
    ).fetchone()[0]
    notifier.at("2026-06-10T13:00:00Z")
    try:
        notifier.tick()
    except InvalidParameterError as exc:
        pytest.fail(f"tick aborted for everyone: {exc}")
    assert notifier.deliveries(sam_nid)["email"]["status"] == "pending"


def test_user_with_held_mail_can_still_turn_dnd_off(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    pat = row["id"]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(pat, category="*", dnd_enabled=True)
    deal_notification(notifier, pat)
    notifier.prefer(pat, category="*", dnd_enabled=False)  # raises IT005 'invalid recipient'


def test_inactive_user_gets_no_held_email(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T13:00:00Z")
    nid = deal_notification(notifier, sam)
    notifier.as_user(
        two_orgs.a.admin_id, "select api.update_user(%s, '{\"is_active\": false}')", (sam,)
    )
    notifier.at("2026-06-10T13:00:00Z")
    notifier.tick()
    email = notifier.deliveries(nid)["email"]
    assert email["status"] == "skipped", (email["status"], email["to_email"])


def test_org_default_change_releases_held(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    admin = two_orgs.a.admin_id
    notifier.prefer(
        admin, category="*", quiet_hours_enabled=True, quiet_hours_timezone="UTC", org_default=True
    )
    notifier.at("2026-06-10T23:00:00Z")
    nid = deal_notification(notifier, sam)
    assert notifier.deliveries(nid)["email"]["status"] == "held"
    notifier.prefer(admin, category="*", quiet_hours_enabled=False, org_default=True)
    assert notifier.deliveries(nid)["email"]["status"] == "pending"


def test_never_after_hold_stops_the_email(notifier: Notifier, two_orgs) -> None:
    sam = two_orgs.a.rep_ids[1]
    notifier.at("2026-06-10T12:00:00Z")
    notifier.prefer(sam, category="*", dnd_until="2026-06-10T13:00:00Z")
    nid = deal_notification(notifier, sam)
    notifier.prefer(sam, category="deal", frequency="never")
    notifier.at("2026-06-10T13:00:00Z")
    notifier.tick()
    assert notifier.deliveries(nid)["email"]["status"] == "skipped"
