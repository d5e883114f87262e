"""Two ticks at once run each step exactly once (FOR UPDATE SKIP LOCKED), a
pause during a tick waits for it instead of deadlocking, and the tick's due
scan uses the partial index."""

from __future__ import annotations

import threading
import time
from typing import Any

from psycopg.rows import dict_row

from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import Database

TICK = "select * from api.tick_campaigns(p_batch_size => 150)"


def test_two_ticks_at_once_run_each_step_exactly_once(camp: Campaigns, db: Database) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.enroll(cid, camp.contacts(200))
    camp.activate(cid)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    with (
        db.connect("intime_service", row_factory=dict_row) as one,
        db.connect("intime_service", row_factory=dict_row) as two,
    ):
        for conn in (one, two):
            conn.execute("select set_config('app.fake_now', %s, false)", (MONDAY_10,))
            conn.commit()
        first = one.execute(TICK).fetchone()  # its transaction stays open
        pid = two.info.backend_pid

        def second() -> None:
            try:
                row = two.execute(TICK).fetchone()
                assert row is not None
                results.append(row)
                two.commit()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and camp.owner.execute(
            "select wait_event_type is distinct from 'Lock' from pg_stat_activity where pid = %s",
            (pid,),
        ).fetchone() == (True,):
            assert time.monotonic() < deadline, "the second tick neither waited nor finished"
            time.sleep(0.02)
        one.commit()
        thread.join(30)
    assert errors == []
    assert first is not None
    [other] = results
    assert (first["processed"], other["processed"]) == (150, 50)
    assert (first["sent"] + other["sent"], other["errored"]) == (200, 0)

    sends = camp.sends(cid)
    assert len(sends) == 200
    assert len({s["entity_id"] for s in sends}) == 200
    jobs = camp.jobs()
    assert len(jobs) == 200
    assert {j["email_send_id"] for j in jobs} == {str(s["id"]) for s in sends}
    logs = camp.logs(cid)
    assert len(logs) == 200
    assert len({log["enrollment_id"] for log in logs}) == 200
    assert {(log["status"], log["step_number"]) for log in logs} == {("sent", 1)}
    enrollments = camp.enrollments(cid)
    assert {(e["current_step"], e["emails_sent"]) for e in enrollments} == {(1, 1)}
    c = camp.campaign(cid)
    assert (c["total_sent"], c["total_active"]) == (200, 200)


def test_the_due_scan_uses_the_partial_index(camp: Campaigns) -> None:
    camp.owner.execute("set enable_seqscan = off")
    rows = camp.owner.execute(
        "explain (costs off) select e.org_id, e.id from app.campaign_enrollments as e "
        "where e.status = 'active' and e.next_step_at <= now() order by e.next_step_at "
        "limit 1000 for update skip locked"
    ).fetchall()
    plan = "\n".join(r[0] for r in rows)
    assert "campaign_enrollments_due_idx" in plan
    assert "Sort" not in plan


def _wait_lock(camp: Campaigns, pid: int, deadline: float = 10) -> None:
    end = time.monotonic() + deadline
    while camp.owner.execute(
        "select wait_event_type is distinct from 'Lock' from pg_stat_activity where pid = %s",
        (pid,),
    ).fetchone() == (True,):
        assert time.monotonic() < end
        time.sleep(0.02)


def test_pausing_a_campaign_during_a_tick_waits_instead_of_deadlocking(
    camp: Campaigns, db: Database
) -> None:
    cid = camp.create(daily_send_limit=1000)
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.enroll(cid, camp.contacts(5))
    camp.activate(cid)
    camp.owner.execute(
        "insert into app.campaign_daily_sends (org_id, campaign_id, local_date, sent) "
        "values (%s, %s, '2026-06-01', 0)",
        (camp.org_id, cid),
    )
    errors: dict[str, BaseException] = {}
    parked: list[int] = []
    with (
        db.connect() as gate,  # holds the daily counter so the tick stops half-way
        db.connect("intime_service") as t,
        db.connect("intime_service") as p,
    ):
        for c in (t, p):
            c.execute("select set_config('app.fake_now', %s, false)", (MONDAY_10,))
            c.commit()
        gate.execute(
            # By org too: Citus locks one org's rows (docs/scale-out.md, "SQL shapes").
            "select from app.campaign_daily_sends where org_id = %s and campaign_id = %s "
            "for update",
            (camp.org_id, cid),
        )

        def tick() -> None:
            try:
                t.execute("select * from api.tick_campaigns(p_batch_size => 100)").fetchone()
                t.commit()
            except BaseException as exc:
                errors["tick"] = exc
                t.rollback()

        def pause() -> None:
            try:
                p.execute(
                    "select api.set_actor(p_org_id => %s, p_user_id => %s)",
                    (camp.org_id, camp.admin_id),
                )
                row = p.execute("select api.pause_campaign(p_campaign_id => %s)", (cid,))
                parked.append(row.fetchone()[0])
                p.commit()
            except BaseException as exc:
                errors["pause"] = exc
                p.rollback()

        ticking = threading.Thread(target=tick)
        ticking.start()
        _wait_lock(camp, t.info.backend_pid)  # the tick holds the enrollments
        pausing = threading.Thread(target=pause)
        pausing.start()
        _wait_lock(camp, p.info.backend_pid)  # the pause waits for them
        gate.commit()
        ticking.join(30)
        pausing.join(30)
    assert errors == {}
    assert parked == [5]
    assert {e["status"] for e in camp.enrollments(cid)} == {"paused"}
    assert len(camp.sends(cid)) == 5
