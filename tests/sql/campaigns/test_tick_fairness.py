"""The per-org tick (api.tick_campaigns, app._campaign_tick_org) shares one batch fairly:
the oldest due steps run first whatever their org, a second tick at once takes what the
first does not hold, and resumes stay within the batch. Found by a review of the per-org
rewrite (issue 18)."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from psycopg.rows import dict_row

from tests.sql.campaigns.conftest import MONDAY_10, Campaigns
from tests.support import Database


def _org_campaign(camp: Campaigns, org: Any, n: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    kw = {"org_id": org.org_id, "user": org.admin_id}
    cid = camp.one("select api.create_campaign(p_name => 'R')", **kw)
    camp.one(
        "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'email', "
        "p_subject => 'Hi', p_body_html => '<p>x</p>')",
        (cid,),
        **kw,
    )
    tag = uuid.uuid4().hex[:6]
    rows = camp.call(
        "insert into app.contacts (first_name, last_name, email) "
        "select 'F' || g, 'L' || g, 'r' || g || '.' || %(tag)s || '@ex.test' "
        "from generate_series(1, %(n)s) as g returning id",
        {"n": n, "tag": tag},
        **kw,
    )
    contacts = [r["id"] for r in rows]
    camp.one(
        "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
        (cid, contacts),
        **kw,
    )
    camp.one("select api.activate_campaign(p_campaign_id => %s)", (cid,), **kw)
    return cid, contacts


def _touched(camp: Campaigns, cid: uuid.UUID) -> int:
    row = camp.owner.execute(
        "select count(*) from app.campaign_enrollments "
        "where campaign_id = %s and (last_step_at is not null or last_error_at is not null "
        "or status <> 'active')",
        (cid,),
    ).fetchone()
    return row[0]


def test_the_oldest_due_step_runs_first_whatever_its_orgs_key(
    camp: Campaigns,
) -> None:
    lo, hi = sorted([camp.orgs.a, camp.orgs.b], key=lambda o: o.org_id)
    _org_campaign(camp, lo, 30)
    cid_hi, _ = _org_campaign(camp, hi, 1)
    # hi's one step has been due for an hour, lo's 30 just became due.
    # Shifted in UTC: an immutable expression, which Citus takes in an UPDATE (a
    # timestamptz minus an interval is stable).
    camp.owner.execute(
        "update app.campaign_enrollments set "
        "next_step_at = (next_step_at at time zone 'UTC' - interval '1 hour') at time zone 'UTC' "
        "where campaign_id = %s",
        (cid_hi,),
    )
    ticks = []
    for _ in range(3):
        ticks.append(camp.tick(10)["processed"])
    assert _touched(camp, cid_hi) == 1, "the step due longest did not run in 3 ticks"


TICK = "select * from api.tick_campaigns(p_batch_size => 10)"


def test_a_second_tick_at_once_takes_another_orgs_due_steps(camp: Campaigns, db: Database) -> None:
    x, y = camp.orgs.a, camp.orgs.b
    cid_x, _ = _org_campaign(camp, x, 10)
    _org_campaign(camp, y, 10)
    camp.owner.execute(
        "update app.campaign_enrollments set "
        "next_step_at = (next_step_at at time zone 'UTC' - interval '1 hour') at time zone 'UTC' "
        "where campaign_id = %s",
        (cid_x,),
    )
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    with (
        db.connect("intime_service", row_factory=dict_row) as one,
        db.connect("intime_service", row_factory=dict_row) as two,
    ):
        for conn in (one, two):
            conn.execute("select set_config('app.fake_now', %s, false)", (MONDAY_10,))
            conn.commit()
        one.execute(TICK).fetchone()  # holds x's 10 rows
        pid = two.info.backend_pid

        def second() -> None:
            try:
                row = two.execute(TICK).fetchone()
                results.append(row)
                two.commit()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and camp.owner.execute(
            "select wait_event_type is distinct from 'Lock' from pg_stat_activity where pid = %s",
            (pid,),
        ).fetchone() == (True,):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        one.commit()
        thread.join(30)
    assert errors == []
    assert results[0]["processed"] == 10, "the second tick left org y's 10 due steps alone"


def test_one_tick_resumes_no_more_than_its_batch(camp: Campaigns) -> None:
    cid_a, _ = _org_campaign(camp, camp.orgs.a, 8)
    cid_b, _ = _org_campaign(camp, camp.orgs.b, 8)
    # Every enrollment is on an out-of-office pause that is over (in a paused campaign
    # nothing runs: resumes only).
    camp.owner.execute(
        "update app.campaign_enrollments set status = 'paused', stop_reason = 'out_of_office', "
        "resume_at = (next_step_at at time zone 'UTC' - interval '1 minute') at time zone 'UTC',"
        " next_step_at = (next_step_at at time zone 'UTC' + interval '1 day') at time zone 'UTC' "
        "where campaign_id = any(%s)",
        ([cid_a, cid_b],),
    )
    # one of b's over first, so that both orgs are among the first due rows
    camp.owner.execute(
        "update app.campaign_enrollments set "
        "resume_at = (resume_at at time zone 'UTC' - interval '10 minutes') at time zone 'UTC' "
        "where id = (select id from app.campaign_enrollments where campaign_id = %s limit 1)",
        (cid_b,),
    )
    camp.tick(5)
    n = camp.owner.execute(
        "select count(*) from app.campaign_enrollments"
        " where campaign_id = any(%s) and resume_at is null",
        ([cid_a, cid_b],),
    ).fetchone()[0]
    assert n <= 5, f"one tick of batch 5 resumed {n}"
