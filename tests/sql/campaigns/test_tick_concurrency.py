"""Two ticks at once run each step exactly once (FOR UPDATE SKIP LOCKED),
and the tick's due scan uses the partial index."""

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
