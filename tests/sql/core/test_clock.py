"""app.now(): a fake clock only where the database allows one."""

from __future__ import annotations

from datetime import UTC, datetime

FAKE = "2031-03-04T05:06:07Z"


def test_fake_clock_is_honoured_where_allowed(admin) -> None:
    admin.execute("select set_config('app.fake_now', %s, false)", (FAKE,))
    assert admin.execute("select app.now()").fetchone() == (
        datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC),
    )


def test_fake_clock_is_ignored_where_not_allowed(admin) -> None:
    admin.execute("update app.settings set allow_fake_clock = false")
    admin.execute("select set_config('app.fake_now', %s, false)", (FAKE,))
    now = admin.execute("select app.now()").fetchone()
    assert now is not None
    assert abs((now[0] - datetime.now(UTC)).total_seconds()) < 60


def test_a_user_role_cannot_switch_the_fake_clock_on(db, two_orgs, admin) -> None:
    admin.execute("update app.settings set allow_fake_clock = false")
    with db.connect(two_orgs.login_a) as conn:
        denied = conn.execute("select has_table_privilege('app.settings', 'update')").fetchone()
        assert denied == (False,)
        conn.execute("select set_config('app.fake_now', %s, false)", (FAKE,))
        now = conn.execute("select app.now()").fetchone()
    assert now is not None
    assert now[0].year != 2031
