"""api.purge_expired_data and the org's history retention: rows older than
their retention go, newer ones stay, in bounded statements."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError, PermissionDeniedError, ServiceRoleRequiredError
from tests.sql.ops.conftest import Ops
from tests.support import Database


def unmatched(ops: Ops, days_ago: float, n: int = 1) -> None:
    ops.owner.execute(
        "insert into app.inbound_unmatched (message_id, provider, received_at) "
        "select gen_random_uuid()::text || '@spam.example', 'smtp', "
        "now() - make_interval(days => %s) - make_interval(secs => g) "
        "from generate_series(1, %s) as g",
        (days_ago, n),
    )


def receipts(ops: Ops, days_ago: float, n: int = 1) -> None:
    ops.owner.execute(
        "insert into app.webhook_receipts (provider, event_id, received_at) "
        "select 'resend', 'msg_' || gen_random_uuid(), now() - make_interval(days => %s) "
        "from generate_series(1, %s)",
        (days_ago, n),
    )


def pending_events(ops: Ops, days_ago: float, n: int = 1) -> None:
    ops.owner.execute(
        "insert into app.email_events_pending "
        "(provider_event_id, provider_message_id, payload, received_at) "
        "select 'msg_' || gen_random_uuid(), 're_unknown', '{}', "
        "now() - make_interval(days => %s) from generate_series(1, %s)",
        (days_ago, n),
    )


def history(ops: Ops, org_id: uuid.UUID, days_ago: float, n: int = 1) -> None:
    ops.owner.execute(
        "insert into app.entity_history (org_id, entity_type, entity_id, change_type, changed_at) "
        "select %s, 'deal', gen_random_uuid(), 'created', now() - make_interval(days => %s) "
        "from generate_series(1, %s)",
        (org_id, days_ago, n),
    )


def queue_log(ops: Ops, days_ago: float, n: int = 1, job_id: int = -1) -> None:
    """pgqueuer log rows of a job (by default one that left the queue long ago)."""
    ops.owner.execute(
        "insert into queue.pgqueuer_log (created, job_id, status, priority, entrypoint) "
        "select now() - make_interval(days => %s), %s, 'successful', 0, 'email.send' "
        "from generate_series(1, %s)",
        (days_ago, job_id, n),
    )


def queue_count(ops: Ops, table: str) -> int:
    assert table in {"pgqueuer_log", "pgqueuer_statistics"}
    row = ops.owner.execute(f"select count(*) from queue.{table}").fetchone()
    assert row is not None
    return row[0]


def count(ops: Ops, table: str, where: str = "true", params: tuple = ()) -> int:
    allowed = {"inbound_unmatched", "webhook_receipts", "email_events_pending", "entity_history"}
    assert table in allowed
    row = ops.owner.execute(f"select count(*) from app.{table} where {where}", params).fetchone()
    assert row is not None
    return row[0]


def old_history(ops: Ops, org_id: uuid.UUID, days: int) -> int:
    return count(
        ops,
        "entity_history",
        "org_id = %s and changed_at < now() - make_interval(days => %s)",
        (org_id, days),
    )


def set_retention(ops: Ops, days: int | None, user: uuid.UUID | None = None) -> int:
    with actor(ops.conn, ops.orgs.a.org_id, user or ops.orgs.a.admin_id):
        row = ops.conn.execute(
            "select api.set_entity_history_retention(p_days => %s)", (days,)
        ).fetchone()
    assert row is not None
    return row[0]


def test_unmatched_inbound_mail_older_than_its_retention_goes_and_newer_stays(ops: Ops) -> None:
    unmatched(ops, days_ago=31, n=2)
    unmatched(ops, days_ago=29, n=3)
    assert ops.purge()["inbound_unmatched"] == 2
    assert count(ops, "inbound_unmatched") == 3


def test_unmatched_inbound_mail_beyond_the_row_cap_goes_oldest_first(ops: Ops) -> None:
    ops.setting(inbound_unmatched_max_rows=1000)
    ops.owner.execute(
        "insert into app.inbound_unmatched (message_id, provider, received_at) "
        "select g || '@spam.example', 'smtp', now() - make_interval(mins => g) "
        "from generate_series(1, 1005) as g"
    )
    assert ops.purge()["inbound_unmatched"] == 5
    kept = ops.owner.execute(
        "select count(*), max(split_part(message_id, '@', 1)::integer) from app.inbound_unmatched"
    ).fetchone()
    assert kept == (1000, 1000)  # the five oldest went


def test_webhook_receipts_older_than_their_retention_go(ops: Ops) -> None:
    receipts(ops, days_ago=31, n=2)
    receipts(ops, days_ago=3)
    assert ops.purge()["webhook_receipts"] == 2
    assert count(ops, "webhook_receipts", "received_at < now() - interval '30 days'") == 0
    assert count(ops, "webhook_receipts", "received_at < now() - interval '2 days'") == 1


def test_a_replay_window_shorter_than_svix_retries_is_refused(ops: Ops) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        ops.setting(webhook_receipt_retention_days=1)


def test_pending_events_older_than_their_retention_go(ops: Ops) -> None:
    pending_events(ops, days_ago=8, n=2)
    pending_events(ops, days_ago=6)
    assert ops.purge()["email_events_pending"] == 2
    assert count(ops, "email_events_pending", "provider_message_id = 're_unknown'") == 1


def test_history_older_than_the_default_goes_and_newer_stays(ops: Ops) -> None:
    a = ops.orgs.a.org_id
    history(ops, a, days_ago=1096, n=2)
    history(ops, a, days_ago=1094)
    assert ops.purge()["entity_history"] == 2
    assert old_history(ops, a, 1095) == 0
    assert old_history(ops, a, 1000) == 1


def test_an_orgs_own_retention_applies_to_that_org_only(ops: Ops) -> None:
    a, b = ops.orgs.a.org_id, ops.orgs.b.org_id
    assert set_retention(ops, 90) == 90
    history(ops, a, days_ago=91, n=2)
    history(ops, b, days_ago=91, n=3)
    assert ops.purge()["entity_history"] == 2
    assert (old_history(ops, a, 90), old_history(ops, b, 90)) == (0, 3)


def test_a_longer_org_retention_keeps_what_the_default_would_purge(ops: Ops) -> None:
    a = ops.orgs.a.org_id
    set_retention(ops, 3650)
    history(ops, a, days_ago=2000)
    assert ops.purge()["entity_history"] == 0
    assert old_history(ops, a, 1999) == 1


def test_null_puts_the_org_back_on_the_default(ops: Ops) -> None:
    set_retention(ops, 90)
    assert set_retention(ops, None) == 1095
    row = ops.owner.execute(
        "select entity_history_retention_days from app.organizations where id = %s",
        (ops.orgs.a.org_id,),
    ).fetchone()
    assert row == (None,)


def test_a_member_may_not_set_the_history_retention(ops: Ops) -> None:
    with pytest.raises(PermissionDeniedError):
        set_retention(ops, 90, user=ops.orgs.a.rep_ids[0])


@pytest.mark.parametrize("days", [29, 36501])
def test_a_retention_out_of_range_is_refused(ops: Ops, days: int) -> None:
    with pytest.raises(InvalidParameterError):
        set_retention(ops, days)


def test_each_table_loses_at_most_p_limit_rows_per_call(ops: Ops) -> None:
    unmatched(ops, days_ago=40, n=5)
    receipts(ops, days_ago=40, n=5)
    pending_events(ops, days_ago=40, n=5)
    history(ops, ops.orgs.a.org_id, days_ago=2000, n=3)
    history(ops, ops.orgs.b.org_id, days_ago=2000, n=3)
    queue_log(ops, days_ago=20, n=5)
    limits = {
        "inbound_unmatched": 3,
        "webhook_receipts": 3,
        "email_events_pending": 3,
        "entity_history": 3,
        "queue_log": 3,
        "queue_statistics": 0,
        "send_log": 0,
    }
    assert ops.purge(limit=3) == limits
    assert ops.purge(limit=3) == {
        **{k: 2 if k != "entity_history" else 3 for k in limits},
        "queue_statistics": 0,
        "send_log": 0,
    }
    assert ops.purge(limit=3) == dict.fromkeys(limits, 0)


def test_the_queue_log_of_jobs_gone_longer_than_its_retention_goes(ops: Ops) -> None:
    ops.owner.execute("delete from queue.pgqueuer_log")
    queue_log(ops, days_ago=15, n=2)
    queue_log(ops, days_ago=13)
    assert ops.purge()["queue_log"] == 2
    assert queue_count(ops, "pgqueuer_log") == 1


def test_a_job_still_in_the_queue_keeps_its_log_however_old(ops: Ops) -> None:
    """A held failed job's traceback is in its log; the reconciliation reads it."""
    ops.owner.execute("delete from queue.pgqueuer_log")
    [[job_id]] = ops.owner.execute(
        "insert into queue.pgqueuer (priority, entrypoint, payload, status) "
        "values (0, 'email.send', null, 'failed') returning id"
    ).fetchall()
    queue_log(ops, days_ago=100, n=2, job_id=job_id)
    assert ops.purge()["queue_log"] == 0
    assert queue_count(ops, "pgqueuer_log") == 2


def test_queue_statistics_older_than_their_retention_go(ops: Ops) -> None:
    ops.owner.execute("delete from queue.pgqueuer_statistics")
    ops.owner.execute(
        "insert into queue.pgqueuer_statistics (created, count, priority, status, entrypoint) "
        "select date_trunc('sec', now() - make_interval(days => d)), 1, 0, 'successful', "
        "'email.send' from unnest(array[91, 92, 89]) as d"
    )
    assert ops.purge()["queue_statistics"] == 2
    assert queue_count(ops, "pgqueuer_statistics") == 1


def test_the_send_log_keeps_an_hour(ops: Ops) -> None:
    a = ops.orgs.a
    ops.owner.execute(
        "insert into app.send_log (org_id, user_id, kind, sent_at, sent) "
        "select %s, %s, 'email', now() - make_interval(mins => m), 1 "
        "from unnest(array[61, 70, 59]) as m",
        (a.org_id, a.rep_ids[0]),
    )
    assert ops.purge()["send_log"] == 2
    assert ops.owner.execute(
        "select count(*) filter (where sent_at < now() - interval '1 hour'), "
        "count(*) filter (where sent_at < now() - interval '58 minutes') from app.send_log"
    ).fetchone() == (0, 1)


def test_the_purge_is_for_the_service_role_only(db: Database, ops: Ops) -> None:
    with (
        db.connect(ops.orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select api.purge_expired_data()")


def test_a_limit_below_one_is_refused(ops: Ops) -> None:
    with pytest.raises(InvalidParameterError):
        ops.purge(limit=0)


def test_the_history_purge_reads_each_orgs_oldest_rows_through_its_index(ops: Ops) -> None:
    """The real statement's plan (auto_explain): per org, an index range on
    (org_id, changed_at), never a scan of the whole table."""
    history(ops, ops.orgs.a.org_id, days_ago=2000, n=3)
    plans: list[str] = []
    conn = ops.owner
    try:
        conn.execute("load 'auto_explain'")
    except psycopg.errors.UndefinedFile:
        pytest.skip("auto_explain is not installed with this PostgreSQL")
    conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    conn.execute("set auto_explain.log_min_duration = 0")
    conn.execute("set auto_explain.log_nested_statements = on")
    conn.execute("set auto_explain.log_level = notice")
    conn.execute("set enable_seqscan = off")  # tiny tables: ask what the planner can do
    conn.execute("select api.purge_expired_data()")
    [plan] = [p for p in plans if "delete from app.entity_history" in p]
    assert "Tid Scan on entity_history h" in plan
    # An index scan, or an index-only one once autovacuum has set the visibility map
    # (a CI run under load saw the plan change), or a bitmap over the same index.
    assert re.search(
        r"(Index Scan|Index Only Scan) using entity_history_changed_idx on entity_history e"
        r"|Bitmap Index Scan on entity_history_changed_idx",
        plan,
    ), plan
    assert "Seq Scan on entity_history" not in plan
