"""app.now(): a fake clock only where the database allows one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def test_a_job_for_a_time_is_never_due_before_that_time(admin) -> None:
    """app._enqueue_job measured the delay from the clock (app.now()) but added it to the
    transaction's start: in a transaction that had run for a while, a workflow's wake job
    became due before its wake time, the runner found the timer not yet due and dropped
    the job, and only the minute sweep woke the execution."""
    with admin.transaction():
        admin.execute("select pg_sleep(0.3)")
        # The clock before the call: the wake time it is given is later still. (Read
        # after the call, in its statement, it was later than the wake time by as long
        # as the call took: 51 ms once in a loaded CI.)
        floor = admin.execute("select clock_timestamp() + interval '1 second'").fetchone()
        row = admin.execute(
            "select app._enqueue_job(p_entrypoint => 'test.noop', p_payload => '{}', "
            "p_at => app.now() + interval '1 second')"
        ).fetchone()
        assert row is not None
        assert floor is not None
        after = admin.execute(
            "select execute_after from queue.pgqueuer where id = %s", (row[0],)
        ).fetchone()
    assert after is not None
    assert after[0] >= floor[0] - timedelta(milliseconds=50)
