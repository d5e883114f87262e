"""Campaigns: the tick's throughput on due email steps, against the seed's per-enrollment loop.

1. Tick throughput. One org with email settings; a campaign whose send window is open all
   week (00:00 to 23:59:59 on all seven days, America/New_York) with two steps: an email
   (a subject and an HTML body using contact, campaign and sender variables), then a
   follow-up email three days later. ENROLLMENTS contacts are enrolled with
   api.enroll_contacts in chunks (timed: the extra line under the table), with the
   application clock (app.fake_now) on a Monday 10:00 in New York, so every enrollment is
   due at once. The service role calls api.tick_campaigns(p_batch_size => N) in a loop, each
   call its own transaction, until none is due: each call renders and writes the
   email_sends rows, their email.send jobs (queue.pgqueuer) and the log lines, and moves
   the enrollments on to step 2. Email steps per second, wall clock from the first call to
   the last, for each batch size, and once more at SAMPLE_BATCH on the real clock (the
   enrollments due a minute ago; app.now() then skips its app.settings query). The counts
   (sends, jobs, logs, enrollments at step 2) are checked after every run. Before each run
   the campaign sends, jobs and logs are deleted, the enrollments set back to due, the
   tables vacuumed (their statistics are those of an ANALYZE after a warm-up run) and a
   CHECKPOINT taken, so that every run pays the same full-page writes.
2. Against the seed: its CampaignAutomationEngine.processScheduledSteps over the
   SEED_ENROLLMENTS enrollments of a second campaign with the same steps: fetch 100 due
   enrollments with their campaign and contact, the send window checked in Python, then
   per enrollment fetch the step, render (Python), send (app._email_insert_send: the
   email_sends row and its email.send job in one round trip), add to the enrollment's and
   the campaign's counters, insert the log, fetch the next step, schedule the enrollment:
   7 round trips, each autocommitted (the seed's REST calls), as the superuser (RLS
   bypassed, like its adminClient). The campaign-totals triggers are disabled during this
   run, since the seed keeps its counters itself. Beside it, our tick on the same
   enrollments. Every case runs once per round, ROUNDS rounds, the order rotated.
3. Where the tick's time goes, after the rounds: each statement's (of at least 1 ms) and
   trigger's time per batch (auto_explain with nested statements and triggers, as
   NOTICEs) over PROFILE_BATCHES batches of each size, and the plpgsql functions' self
   time (track_functions = all) over a whole run.

4. On time: due-time lateness with the worker running (a real worker process, its minute
   schedules and whatever wakes due work) under the tick's load: the ENROLLMENTS of part
   1 made due at once on the real clock, which the worker's tick drains meanwhile. Over
   PROBE_SECONDS, every 2 s, PROBE_BATCH contacts are enrolled in a campaign whose only
   step is an email after a 1-minute wait, and PROBE_BATCH deals are created that start a
   workflow whose first step waits 1 minute. Lateness is read from the rows: a campaign
   step's = its email_sends row's created_at minus the log's scheduled_at (when the step
   was due); a workflow wait's = the wait step's completed_at minus its wait_until. Work
   not done LATENESS_CAP seconds after the last due time counts with its lateness so far
   (a lower bound; the note says how many). With --quick, the waits are shorter: the
   workflow waits 5 s, and the campaign (no delay) has a send window that opens 8 s
   after the first probe, so the probes are due at that instant (steps are whole minutes).

Sizes: INTIME_BENCH_CAMP_* environment variables (see SIZES below: each has a full and a
--quick default); INTIME_BENCH_CAMP_BATCH_SIZES a comma-separated list.
"""

from __future__ import annotations

import html
import os
import re
import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bench.common import Case, Goal, Report, Sizes, bench_database, machine, pct, phase
from intime.config import as_role
from intime.db import actor
from intime.pgserver import PgServer
from intime_cli.seed import SeededOrg, seed_org

SIZES = Sizes(
    "CAMP",
    ENROLLMENTS=(100_000, 3000),  # 1. due enrollments per tick run
    ENROLL_CHUNK=(10_000, 3000),  # 1. contacts per api.enroll_contacts call
    ROUNDS=(3, 1),  # 1, 2. interleaved rounds
    SEED_ENROLLMENTS=(5000, 300),  # 2. enrollments of the seed's loop
    PROFILE_BATCHES=(4, 1),  # 3. batches explained per batch size
    PROBE_SECONDS=(60, 6),  # 4. how long probes are started, one round every 2 s
    PROBE_BATCH=(20, 10),  # 4. contacts enrolled and deals created per probe round
    LATENESS_CAP=(120, 15),  # 4. how long after the last due time to wait for the work
)


def _batch_sizes() -> tuple[int, ...]:
    raw = os.environ.get("INTIME_BENCH_CAMP_BATCH_SIZES")
    if not raw:
        raw = "1000" if SIZES.quick else "500,1000,5000"
    return tuple(int(x) for x in raw.split(","))


SAMPLE_BATCH = 1000  # 2. our tick's batch size on the seed's sample

GOAL_STEPS = 10_000.0
GOAL_RATIO = 25.0
GOAL = Goal.of(ours=(">=", GOAL_STEPS), ratio=(">=", GOAL_RATIO), text=">= 10,000/s and >= 25x")
GOAL_LATE = Goal.of(ours=("<=", 5), text="p99 <= 5 s")
SEED_BATCH = 100  # the seed's batchSize
NOW = "2026-06-01 10:00:00-04"  # a Monday 10:00 in New York: inside the window
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
STEPS: list[dict[str, Any]] = [
    {
        "channel": "email",
        "subject": "Quick question for {{contact.first_name}} at {{contact.company}}",
        "body_html": (
            "<p>Hi {{contact.first_name}},</p><p>I noticed {{contact.company}} is growing its "
            "team. Could {{campaign.name}} help you, as {{contact.title}}?</p>"
            "<p>Best,<br>{{sender.name}}</p>"
        ),
    },
    {
        "channel": "email",
        "delay_days": 3,
        "subject": "Re: {{contact.first_name}}, a follow-up",
        "body_html": "<p>{{contact.first_name}}, any thoughts? {{sender.first_name}}</p>",
    },
]

TICK = (
    "select processed, sent, errored, more_due, elapsed_ms "
    "from api.tick_campaigns(p_batch_size => %s)"
)
SET_CLOCK = "select set_config('app.fake_now', %s, false)"


@dataclass
class Ctx:
    server: PgServer
    dsn: str  # superuser
    service: str
    svc: psycopg.Connection  # intime_service, the application clock at NOW
    admin: psycopg.Connection  # superuser
    org: SeededOrg
    now: datetime


@dataclass
class TickRun:
    steps: int  # email steps sent
    seconds: float  # wall clock, first call to last
    calls: int
    server_ms: float  # sum of the tick's own elapsed_ms

    @property
    def rate(self) -> float:
        return self.steps / self.seconds


@dataclass
class Campaign:
    id: uuid.UUID
    enrollments: int
    enroll_chunks: list[float] = field(default_factory=list)
    results: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


# -- setup --------------------------------------------------------------------------------


def _contacts(ctx: Ctx, count: int, prefix: str = "bench") -> tuple[list[uuid.UUID], float]:
    with actor(ctx.svc, ctx.org.org_id, ctx.org.admin_id):
        start = time.perf_counter()
        rows = ctx.svc.execute(
            "insert into app.contacts (first_name, last_name, email, company_name, title, "
            "owner_id) select 'First' || g, 'Last' || g, %s || g || '@contacts.example', "
            "'Company ' || g || ' & Sons', 'Head of <Ops>', %s "
            "from generate_series(1, %s) as g returning id",
            (prefix, ctx.org.rep_ids[0], count),
        ).fetchall()
    return [r[0] for r in rows], time.perf_counter() - start


def _campaign(ctx: Ctx, name: str) -> uuid.UUID:
    """An active campaign, window open all week, with the two email steps."""
    with actor(ctx.svc, ctx.org.org_id, ctx.org.admin_id):
        row = ctx.svc.execute(
            "select api.create_campaign(p_name => %s, p_owner_id => %s, "
            "p_send_window_start => '00:00', p_send_window_end => '23:59:59', "
            "p_send_days => %s, p_timezone => 'America/New_York')",
            (name, ctx.org.rep_ids[0], DAYS),
        ).fetchone()
        assert row is not None
        campaign_id: uuid.UUID = row[0]
        for step in STEPS:
            names = ", ".join(f"p_{k} => %({k})s" for k in step)
            ctx.svc.execute(
                f"select api.add_sequence_step(p_campaign_id => %(campaign_id)s, {names})",
                {"campaign_id": campaign_id, **step},
            )
        ctx.svc.execute("select api.activate_campaign(p_campaign_id => %s)", (campaign_id,))
    return campaign_id


def _enroll(ctx: Ctx, campaign_id: uuid.UUID, contacts: list[uuid.UUID]) -> list[float]:
    """api.enroll_contacts in chunks of SIZES.ENROLL_CHUNK, each its own transaction on one
    connection; each chunk's seconds."""
    chunks = []
    for k in range(0, len(contacts), SIZES.ENROLL_CHUNK):
        start = time.perf_counter()
        with actor(ctx.svc, ctx.org.org_id, ctx.org.admin_id):
            row = ctx.svc.execute(
                "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
                (campaign_id, contacts[k : k + SIZES.ENROLL_CHUNK]),
            ).fetchone()
        assert row is not None
        chunk = len(contacts[k : k + SIZES.ENROLL_CHUNK])
        if row[0]["enrolled"] != chunk:
            raise RuntimeError(f"enrolled {row[0]} of {chunk}")
        chunks.append(time.perf_counter() - start)
    return chunks


CAMPAIGN_TABLES = (
    "app.email_sends, queue.pgqueuer, app.campaign_sequence_logs, "
    "app.campaign_enrollments, app.campaigns"
)


def _reset(ctx: Ctx, campaign_id: uuid.UUID, *, real_clock: bool = False) -> None:
    """No campaign send, job or log left; the campaign's enrollments due again (at NOW, or
    a minute ago on the real clock); vacuumed (without ANALYZE)."""
    a = ctx.admin
    a.execute("delete from app.email_sends where enrollment_id is not null")
    a.execute("delete from queue.pgqueuer")
    a.execute("delete from app.campaign_sequence_logs")
    a.execute(
        "update app.campaign_enrollments set status = 'active', current_step = 0, "
        "steps_completed = 0, emails_sent = 0, last_step_at = null, "
        "next_step_at = coalesce(%s, clock_timestamp() - interval '1 minute'), "
        "updated_at = %s where org_id = %s and campaign_id = %s",
        (None if real_clock else ctx.now, ctx.now, ctx.org.org_id, campaign_id),
    )
    a.execute(f"vacuum {CAMPAIGN_TABLES}")
    # Every run starts right after a checkpoint: each pays the full-page images of the
    # pages it touches first, as in steady state, whatever the previous run left.
    a.execute("checkpoint")


def _check(ctx: Ctx, campaign_id: uuid.UUID, expected: int) -> None:
    """Every enrollment of the campaign ran step 1: one send, one job, one log line each,
    and waits for step 2 (three days on)."""
    row = ctx.admin.execute(
        """
        select
            (select count(*) from app.email_sends as s
             inner join app.campaign_enrollments as e
                on e.org_id = s.org_id and e.id = s.enrollment_id
             where e.campaign_id = %(c)s and s.status = 'queued'),
            (select count(*) from queue.pgqueuer as j
             inner join app.email_sends as s
                on s.id = (convert_from(j.payload, 'UTF8')::jsonb ->> 'email_send_id')::uuid
             inner join app.campaign_enrollments as e
                on e.org_id = s.org_id and e.id = s.enrollment_id
             where j.entrypoint = 'email.send' and e.campaign_id = %(c)s),
            (select count(*) from app.campaign_sequence_logs
             where campaign_id = %(c)s and step_number = 1 and status = 'sent'),
            (select count(*) from app.campaign_enrollments
             where campaign_id = %(c)s and status = 'active' and current_step = 1
               and emails_sent = 1 and next_step_at > %(now)s + interval '2 days')
        """,
        {"c": campaign_id, "now": ctx.now},
    ).fetchone()
    assert row is not None
    if tuple(row) != (expected,) * 4:
        raise RuntimeError(
            f"expected {expected:,} sends, email.send jobs, logs and enrollments at step 1; "
            f"got {tuple(row)}"
        )


# -- 1. ours ------------------------------------------------------------------------------


def _tick_until_done(conn: psycopg.Connection, batch: int) -> TickRun:
    """api.tick_campaigns in a loop, each call its own transaction, until none is due."""
    steps = calls = 0
    server_ms = 0.0
    start = time.perf_counter()
    while True:
        row = conn.execute(TICK, (batch,)).fetchone()
        assert row is not None
        processed, sent, errored, more_due, elapsed_ms = row
        if errored:
            raise RuntimeError(f"the tick reported {errored} errors")
        steps += sent
        calls += 1
        server_ms += float(elapsed_ms)
        if not more_due or processed == 0:
            break
    return TickRun(steps, time.perf_counter() - start, calls, server_ms)


def _ours(ctx: Ctx, campaign: Campaign, batch: int, *, real_clock: bool = False) -> TickRun:
    _reset(ctx, campaign.id, real_clock=real_clock)
    if real_clock:
        with psycopg.connect(ctx.service, autocommit=True) as conn:
            run = _tick_until_done(conn, batch)
    else:
        run = _tick_until_done(ctx.svc, batch)
    _check(ctx, campaign.id, campaign.enrollments)
    return run


# -- 2. the seed's loop -------------------------------------------------------------------

SEED_DUE = """
select
    e.org_id, e.id, e.campaign_id, e.contact_id, e.current_step, e.ab_variant, e.next_step_at,
    c.name as campaign_name, c.status as campaign_status, c.send_window_start,
    c.send_window_end, c.send_days, c.timezone,
    k.email, k.first_name, k.last_name, k.company_name, k.title
from app.campaign_enrollments as e
inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
inner join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id
where e.status = 'active' and c.status = 'active' and e.next_step_at <= %s
limit %s
"""
SEED_STEP = (
    "select * from app.campaign_sequences where org_id = %s and campaign_id = %s "
    "and step_number = %s and is_active"
)
SEED_SEND = (
    "select (app._email_insert_send(p_org_id => %(org_id)s, p_to => %(to)s, "
    "p_subject => %(subject)s, p_html => %(html)s, p_text => null, p_category => 'campaign', "
    "p_template_id => %(template_id)s, p_variables => %(variables)s, "
    "p_entity_type => 'contact', p_entity_id => %(contact_id)s, "
    "p_enrollment_id => %(enrollment_id)s)).id"
)
SEED_COUNT_ENROLLMENT = (
    "update app.campaign_enrollments set emails_sent = emails_sent + 1, last_step_at = %s "
    "where org_id = %s and id = %s"
)
SEED_COUNT_CAMPAIGN = (
    "update app.campaigns set total_sent = total_sent + 1 where org_id = %s and id = %s"
)
SEED_LOG = (
    "insert into app.campaign_sequence_logs (org_id, campaign_id, enrollment_id, sequence_id, "
    "step_number, channel, status, ab_variant, email_send_id, scheduled_at, sent_at) "
    "values (%s, %s, %s, %s, %s, %s, 'sent', %s, %s, %s, %s)"
)
SEED_NEXT = (
    "select step_number, delay_days, delay_hours, delay_minutes from app.campaign_sequences "
    "where org_id = %s and campaign_id = %s and step_number = %s and is_active"
)
SEED_SCHEDULE = (
    "update app.campaign_enrollments set current_step = %s, steps_completed = %s, "
    "next_step_at = %s where org_id = %s and id = %s"
)
SEED_COMPLETE = (
    "update app.campaign_enrollments set status = 'completed', next_step_at = null "
    "where org_id = %s and id = %s"
)
TOKEN = re.compile(r"\{\{(\w+(?:\.\w+)*)\}\}")
TOTALS_TRIGGERS = ("campaign_totals_insert", "campaign_totals_update", "campaign_totals_delete")


def _in_window(now: datetime, e: dict[str, Any]) -> bool:
    """The seed's isWithinSendWindow: the day and the time of day in the campaign's zone."""
    local = now.astimezone(ZoneInfo(e["timezone"] or "America/New_York"))
    if DAYS[local.weekday()] not in e["send_days"]:
        return False
    return bool(e["send_window_start"] <= local.time() <= e["send_window_end"])


def _merge(template: str, variables: dict[str, str], escape: bool) -> str:
    """The seed's mergeVariables (values HTML-escaped in the body, as ours are)."""

    def value(m: re.Match[str]) -> str:
        v = variables.get(m.group(1))
        if v is None:
            return m.group(0)
        return html.escape(v) if escape else v

    return TOKEN.sub(value, template)


def _seed_step(conn: psycopg.Connection, e: dict[str, Any], now: datetime) -> bool:
    """The seed's executeNextStep for one email step; True when it sent."""
    step = conn.execute(
        SEED_STEP, (e["org_id"], e["campaign_id"], e["current_step"] + 1)
    ).fetchone()
    if step is None:
        conn.execute(SEED_COMPLETE, (e["org_id"], e["id"]))
        return False
    if step["skip_conditions"]:
        raise RuntimeError("the bench campaign has no skip conditions")
    variables = {
        "contact.first_name": e["first_name"] or "",
        "contact.last_name": e["last_name"] or "",
        "contact.email": e["email"],
        "contact.company": e["company_name"] or "",
        "contact.title": e["title"] or "",
        "campaign.name": e["campaign_name"],
        "sender.name": e["sender_name"],
        "sender.first_name": e["sender_name"].split(" ")[0],
    }
    send = conn.execute(
        SEED_SEND,
        {
            "org_id": e["org_id"],
            "to": e["email"],
            "subject": _merge(step["subject"] or "", variables, False),
            "html": _merge(step["body_html"] or "", variables, True),
            "template_id": step["template_id"],
            "variables": Jsonb(
                {"campaign_id": str(e["campaign_id"]), "step_number": step["step_number"]}
            ),
            "contact_id": e["contact_id"],
            "enrollment_id": e["id"],
        },
    ).fetchone()
    assert send is not None
    conn.execute(SEED_COUNT_ENROLLMENT, (now, e["org_id"], e["id"]))
    conn.execute(SEED_COUNT_CAMPAIGN, (e["org_id"], e["campaign_id"]))
    conn.execute(
        SEED_LOG,
        (
            e["org_id"],
            e["campaign_id"],
            e["id"],
            step["id"],
            step["step_number"],
            step["channel"],
            e["ab_variant"],
            send["id"],
            e["next_step_at"],
            now,
        ),
    )
    following = conn.execute(
        SEED_NEXT, (e["org_id"], e["campaign_id"], step["step_number"] + 1)
    ).fetchone()
    due = None
    if following is not None:
        due = now + timedelta(
            days=following["delay_days"],
            hours=following["delay_hours"],
            minutes=following["delay_minutes"],
        )
    conn.execute(
        SEED_SCHEDULE,
        (step["step_number"], step["step_number"], due, e["org_id"], e["id"]),
    )
    return True


def _seed_loop(ctx: Ctx, sender_name: str) -> TickRun:
    """The seed's processScheduledSteps: batches of 100 until fewer come back."""
    steps = calls = 0
    with psycopg.connect(ctx.dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.execute(SET_CLOCK, (NOW,))
        start = time.perf_counter()
        while True:
            due = conn.execute(SEED_DUE, (ctx.now, SEED_BATCH)).fetchall()
            calls += 1
            due = [e for e in due if _in_window(ctx.now, e)]
            if not due:
                break
            for e in due:
                steps += _seed_step(conn, e | {"sender_name": sender_name}, ctx.now)
            if len(due) < SEED_BATCH:
                break
        seconds = time.perf_counter() - start
    return TickRun(steps, seconds, calls, 0.0)


def _totals_triggers(ctx: Ctx, enabled: bool) -> None:
    for name in TOTALS_TRIGGERS:
        verb = "enable" if enabled else "disable"
        ctx.admin.execute(f"alter table app.campaign_enrollments {verb} trigger {name}")


def _seed(ctx: Ctx, campaign: Campaign, sender_name: str) -> TickRun:
    _reset(ctx, campaign.id)
    _totals_triggers(ctx, False)
    try:
        run = _seed_loop(ctx, sender_name)
    finally:
        _totals_triggers(ctx, True)
    _check(ctx, campaign.id, campaign.enrollments)
    return run


# -- 3. profile ---------------------------------------------------------------------------

DURATION = re.compile(r"duration: ([\d.]+) ms")
TRIGGER = re.compile(r"Trigger (?:for constraint )?(.+?)(?: on \S+)?: time=([\d.]+) calls=(\d+)")
STATEMENTS = (
    ("from api.tick_campaigns", "api.tick_campaigns: the whole call"),
    ("for update skip locked", "select the due enrollments ... for update skip locked"),
    ("insert into app.campaign_daily_sends", "insert campaign_daily_sends (daily limit counters)"),
    ("with b as materialized", "the plan (app._campaign_plan_batch): classify, render"),
    ("with plan as materialized", "the batch statement: plan, sends, jobs, logs, moves"),
    ("e.stop_reason = 'errors'", "select enrollments the batch paused (notifications)"),
    ("exists ( select from app.campaign_enrollments", "more_due: exists(due enrollment)"),
    ("for update of c", "totals trigger: lock the campaigns"),
    ("update app.campaigns as c", "totals trigger: update the campaigns"),
)


def _statement_label(message: str) -> str:
    """A short name for a statement auto_explain logged inside the tick."""
    body = " ".join(message.split("Query Text:", 1)[-1].split()).lower()
    for needle, label in STATEMENTS:
        if needle in body:
            return label
    return "other: " + body[:60]


def _explain_batches(ctx: Ctx, campaign: Campaign, batch: int) -> dict[str, float]:
    """SIZES.PROFILE_BATCHES ticks under auto_explain (analyze with timing, nested statements
    and triggers; the plans arrive as NOTICEs): ms per batch of each statement that took
    at least 1 ms and of each trigger. A superuser session: app._is_service() holds for
    it, and it may LOAD the module."""
    _reset(ctx, campaign.id)
    found: dict[str, float] = defaultdict(float)
    notices: list[str] = []
    with psycopg.connect(ctx.dsn, autocommit=True) as conn:
        conn.execute(SET_CLOCK, (NOW,))
        try:
            conn.execute("load 'auto_explain'")
        except psycopg.Error as exc:
            return {f"(auto_explain unavailable: {exc})": 0.0}
        for setting in (
            "auto_explain.log_min_duration = 1",
            "auto_explain.log_analyze = on",
            "auto_explain.log_timing = on",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_triggers = on",
            "auto_explain.log_level = notice",
            "client_min_messages = notice",
        ):
            conn.execute(f"set {setting}")
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        for _ in range(SIZES.PROFILE_BATCHES):
            conn.execute(TICK, (batch,))
    for message in notices:
        duration = DURATION.search(message)
        if duration:
            found[_statement_label(message)] += float(duration.group(1)) / SIZES.PROFILE_BATCHES
        for name, ms, _calls in TRIGGER.findall(message):
            found[f"trigger {name}"] += float(ms) / SIZES.PROFILE_BATCHES
    return found


def _function_profile(ctx: Ctx, campaign: Campaign, batch: int, top: int = 8) -> str:
    """Self time of the top plpgsql/sql functions over one whole run (a fresh superuser
    connection with track_functions = all)."""
    _reset(ctx, campaign.id)
    query = (
        "select schemaname || '.' || funcname, calls, self_time, total_time "
        "from pg_stat_user_functions"
    )

    def snapshot() -> dict[str, tuple[int, float, float]]:
        ctx.admin.execute("select pg_stat_clear_snapshot()")
        return {r[0]: (r[1], r[2], r[3]) for r in ctx.admin.execute(query).fetchall()}

    before = snapshot()
    with psycopg.connect(ctx.dsn, autocommit=True) as conn:
        conn.execute(SET_CLOCK, (NOW,))
        conn.execute("set track_functions = 'all'")
        run = _tick_until_done(conn, batch)
        conn.execute("select pg_stat_force_next_flush()")
    time.sleep(0.5)
    after = snapshot()
    diffs = []
    for name, (calls, self_ms, total_ms) in after.items():
        b = before.get(name, (0, 0.0, 0.0))
        diffs.append((self_ms - b[1], name, calls - b[0], total_ms - b[2]))
    diffs.sort(reverse=True)
    listed = "; ".join(
        f"{name} {self_ms:,.0f} ms self ({calls:,} calls, {total_ms:,.0f} ms total)"
        for self_ms, name, calls, total_ms in diffs[:top]
    )
    return f"{run.seconds * 1000:,.0f} ms for the run, batch {batch:,}: {listed}"


# -- 4. on time ---------------------------------------------------------------------------


@dataclass
class Lateness:
    campaign: list[float]  # s, per probe enrollment's step
    workflow: list[float]  # s, per probe deal's wait step
    campaign_undone: int
    workflow_undone: int
    probes: int
    load_done: int  # load enrollments the worker's tick ran meanwhile
    seconds: float  # the whole measurement


LATE_CAMPAIGN = """
select
    coalesce(extract(epoch from s.created_at - l.scheduled_at), extract(epoch from
        clock_timestamp() - e.next_step_at)) as late,
    s.id is not null as done
from app.campaign_enrollments as e
left join app.campaign_sequence_logs as l
    on l.org_id = e.org_id and l.enrollment_id = e.id and l.status = 'sent'
left join app.email_sends as s on s.org_id = l.org_id and s.id = l.email_send_id
where e.campaign_id = %s
"""
LATE_WORKFLOW = """
select
    extract(epoch from coalesce(s.completed_at, clock_timestamp()) - s.wait_until) as late,
    s.completed_at is not null as done
from app.workflow_steps as s
inner join app.workflow_executions as x on x.org_id = s.org_id and x.id = s.execution_id
where x.workflow_id = %s and s.step_kind = 'wait' and s.wait_until is not null
"""


def _probe_campaign(ctx: Ctx, quick: bool) -> tuple[uuid.UUID, datetime | None]:
    """The probes' campaign: one email step after a 1-minute wait, the window open all day;
    quick: no wait, the window opening 8 s from now (None when that wraps past midnight:
    then the full run's 1-minute wait)."""
    opens: datetime | None = None
    start, delay = "00:00", 1
    if quick:
        now = datetime.now(ZoneInfo("UTC"))
        candidate = now + timedelta(seconds=8)
        if candidate.date() == now.date() and candidate.hour < 23:
            opens = candidate.replace(microsecond=0)
            start, delay = opens.strftime("%H:%M:%S"), 0
    with actor(ctx.svc, ctx.org.org_id, ctx.org.admin_id):
        row = ctx.svc.execute(
            "select api.create_campaign(p_name => 'Lateness', p_owner_id => %s, "
            "p_send_window_start => %s, p_send_window_end => '23:59:59', "
            "p_send_days => %s, p_timezone => 'UTC')",
            (ctx.org.rep_ids[0], start, DAYS),
        ).fetchone()
        assert row is not None
        ctx.svc.execute(
            "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'email', "
            "p_delay_minutes => %s, p_subject => 'On time, {{contact.first_name}}?', "
            "p_body_html => '<p>Hi</p>')",
            (row[0], delay),
        )
        ctx.svc.execute("select api.activate_campaign(p_campaign_id => %s)", (row[0],))
    return row[0], opens


def _probe_workflow(ctx: Ctx, wait: str) -> uuid.UUID:
    definition = {
        "triggers": [{"type": "created"}],
        "steps": [
            {"name": "pause", "type": "wait", "duration": wait},
            {"name": "note", "type": "create_activity", "subject": "On time {{deal.name}}"},
        ],
    }
    with actor(ctx.svc, ctx.org.org_id, ctx.org.admin_id):
        row = ctx.svc.execute(
            "select api.create_workflow(p_name => 'Lateness', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(definition),),
        ).fetchone()
    assert row is not None
    return row[0]


def _lateness(ctx: Ctx, load: Campaign, quick: bool) -> Lateness:
    """Part 4: a worker process runs while probes with due times arrive (see the module
    docstring); the tick's load is ``load``'s enrollments, due at once on the real clock."""
    from bench.workflows import _workers

    probes_contacts, _ = _contacts(
        ctx, SIZES.PROBE_BATCH * (SIZES.PROBE_SECONDS // 2 + 1), prefix="probe"
    )
    campaign_id, opens = _probe_campaign(ctx, quick)
    workflow_id = _probe_workflow(ctx, "5 seconds" if quick else "1 minute")
    _reset(ctx, load.id, real_clock=True)  # the load: every enrollment due a minute ago
    start = time.monotonic()
    probes = 0
    # The probes on the real clock (ctx.svc has the application clock at NOW).
    with _workers(ctx, 1, {}), psycopg.connect(ctx.service, autocommit=True) as real:
        probe_start = time.monotonic()
        k = 0
        while time.monotonic() - probe_start < SIZES.PROBE_SECONDS:
            batch = probes_contacts[k : k + SIZES.PROBE_BATCH]
            k += SIZES.PROBE_BATCH
            if not batch:
                break
            with actor(real, ctx.org.org_id, ctx.org.admin_id):
                real.execute(
                    "select api.enroll_contacts(p_campaign_id => %s, p_contact_ids => %s)",
                    (campaign_id, batch),
                )
            with actor(real, ctx.org.org_id, ctx.org.rep_ids[0]):
                real.execute(
                    "insert into app.deals (name, owner_id, stage_id, value) "
                    "select 'Probe ' || g, %s, (select id from app.deal_stages "
                    "where name = 'Lead'), 1 from generate_series(1, %s) as g",
                    (ctx.org.rep_ids[0], len(batch)),
                )
            probes += len(batch)
            time.sleep(max(0.0, probe_start + k / SIZES.PROBE_BATCH * 2 - time.monotonic()))
        due_by = time.monotonic() + (5 if quick else 60) + (8 if opens else 0)
        while True:
            campaign = ctx.admin.execute(LATE_CAMPAIGN, (campaign_id,)).fetchall()
            workflow = ctx.admin.execute(LATE_WORKFLOW, (workflow_id,)).fetchall()
            undone = sum(not r[1] for r in campaign) + sum(not r[1] for r in workflow)
            if (
                len(campaign) == probes and len(workflow) == probes and not undone
            ) or time.monotonic() > due_by + SIZES.LATENESS_CAP:
                break
            time.sleep(0.5)
    row = ctx.admin.execute(
        "select count(*) from app.campaign_enrollments where campaign_id = %s "
        "and current_step >= 1",
        (load.id,),
    ).fetchone()
    return Lateness(
        [max(0.0, float(r[0])) for r in campaign if r[0] is not None],
        [max(0.0, float(r[0])) for r in workflow if r[0] is not None],
        sum(not r[1] for r in campaign),
        sum(not r[1] for r in workflow) + max(0, probes - len(workflow)),
        probes,
        row[0] if row else 0,
        time.monotonic() - start,
    )


def _report_lateness(late: Lateness, load: Campaign, report: Report, quick: bool) -> None:
    wait = "window opening 8 s after the first probe" if quick else "1-minute wait"
    report.table(
        f"On time: due-time lateness with the worker running, under the tick's load "
        f"({load.enrollments:,} enrollments due at once)",
        [
            Case(f"campaign step ({wait}): p50 lateness", "s", pct(late.campaign, 50)),
            Case(
                f"campaign step ({wait}): p99 lateness",
                "s",
                pct(late.campaign, 99),
                goal=GOAL_LATE,
            ),
            Case(
                f"workflow wait ({'5 s' if quick else '1 minute'}): p50 lateness",
                "s",
                pct(late.workflow, 50),
            ),
            Case(
                f"workflow wait ({'5 s' if quick else '1 minute'}): p99 lateness",
                "s",
                pct(late.workflow, 99),
                goal=GOAL_LATE,
            ),
        ],
        f"{late.probes:,} campaign enrollments and {late.probes:,} deals (each starting the "
        f"waiting workflow), {SIZES.PROBE_BATCH} of each every 2 s for {SIZES.PROBE_SECONDS} s, "
        f"with one worker process (worker.app.run_worker, its schedules on the real clock, no "
        f"email transport: the sends fail at once and for good). Lateness from the rows: a "
        f"campaign step's email_sends.created_at minus its log's scheduled_at; a wait step's "
        f"completed_at minus its wait_until. Not done {SIZES.LATENESS_CAP} s after the last "
        f"due time (counted at their lateness so far, a lower bound): campaign "
        f"{late.campaign_undone}, workflow {late.workflow_undone}. Meanwhile the worker's tick "
        f"ran {late.load_done:,} of the load's {load.enrollments:,} steps. No baseline: the "
        f"minute tick before issue 17 is up to 60 s late by design. Measurement "
        f"{late.seconds:.0f} s wall.",
    )


# -- the report ---------------------------------------------------------------------------


@dataclass
class Results:
    ours: Campaign
    sample: Campaign
    contacts_seconds: float
    explained: dict[int, dict[str, float]] = field(default_factory=dict)
    functions: str = ""


def _runs(values: list[float]) -> str:
    return ", ".join(f"{x:,.0f}" for x in values)


def _report(ctx: Ctx, res: Results, report: Report) -> None:
    ours, sample = res.ours, res.sample
    seed = statistics.median(sample.results["seed"])
    rows: list[tuple[str, list[float]]] = [
        (
            f"api.tick_campaigns(p_batch_size => {batch:,}) until none is due, "
            f"{ours.enrollments:,} due",
            ours.results[f"rate {batch}"],
        )
        for batch in _batch_sizes()
    ]
    rows.append(
        (
            f"the same, batch {SAMPLE_BATCH:,}, on the real clock (no app.fake_now)",
            ours.results["rate real"],
        )
    )
    rows.append(
        (
            f"the same, batch {SAMPLE_BATCH:,}, on the baseline's {sample.enrollments:,} "
            f"enrollments",
            sample.results["ours"],
        )
    )
    print(f"\n### Campaign tick: email steps per second (median of {SIZES.ROUNDS} rounds)\n")
    print(
        "| case | ours (steps/s) | baseline: the seed's loop (steps/s) | ours / baseline "
        "| goal met? (>= 10,000/s and >= 25x) | every run (steps/s) |"
    )
    print("|---|---:|---:|---:|---|---|")
    for label, rates in rows:
        rate = statistics.median(rates)
        met = "yes" if rate >= GOAL_STEPS and rate / seed >= GOAL_RATIO else "no"
        print(
            f"| {label} | {rate:,.0f} | {seed:,.0f} | {rate / seed:,.1f}x | {met} | "
            f"{_runs(rates)} |"
        )
        report.add(Case(f"campaign tick: {label} vs the seed's loop", "steps/s", rate, seed, GOAL))
    calls = {b: statistics.median(ours.results[f"calls {b}"]) for b in _batch_sizes()}
    server = {b: statistics.median(ours.results[f"server {b}"]) for b in _batch_sizes()}
    chunks = ours.enroll_chunks
    print(
        f"\nBaseline: the seed's processScheduledSteps over {sample.enrollments:,} "
        f"enrollments, 7 autocommitted round trips per step plus one per {SEED_BATCH} "
        f"(every run: {_runs(sample.results['seed'])} steps/s). Server time inside "
        f"api.tick_campaigns (its elapsed_ms, summed over the calls of a run, median): "
        + ", ".join(
            f"batch {b:,}: {server[b] / 1000:,.1f} s in {calls[b]:,.0f} calls"
            for b in _batch_sizes()
        )
        + "."
    )
    print(
        f"\nEnrollment (setup): {ours.enrollments:,} enrollments with api.enroll_contacts in "
        f"chunks of {SIZES.ENROLL_CHUNK:,} on one connection: {sum(chunks):.1f} s "
        f"({ours.enrollments / sum(chunks):,.0f} enrollments/s); each chunk (s): "
        f"{', '.join(f'{x:.1f}' for x in chunks)}. The {ours.enrollments + sample.enrollments:,} "
        f"contacts (one INSERT ... SELECT generate_series as the service role): "
        f"{res.contacts_seconds:.1f} s."
    )
    print(
        "\nEach step renders the subject and HTML body (contact, campaign and sender variables, "
        "HTML-escaped), writes the email_sends row (reply and unsubscribe tokens), its "
        "email.send job and a log line, and moves the enrollment to step 2, due three days "
        "later inside the window; the counts (sends, jobs pointing at them, logs, "
        "enrollments at step 1) are checked after every run. Before each run the campaign "
        "sends, jobs and logs are deleted, the enrollments set back to due, the tables "
        "vacuumed (statistics from an ANALYZE after a warm-up run) and a CHECKPOINT taken. "
        "The application clock (app.fake_now) costs a query of app.settings in every "
        "app.now() call: the real-clock row shows the engine without it."
    )
    print(
        f"\nWhere a batch's time goes (auto_explain over {SIZES.PROFILE_BATCHES} batches: ms per "
        f"batch, statements of at least 1 ms and triggers; timing instrumentation on, so "
        f"totals run above the measured ones):\n"
    )
    explained = res.explained
    print("| statement or trigger | " + " | ".join(f"batch {b:,}" for b in explained) + " |")
    print("|---|" + "---:|" * len(explained))
    labels: list[str] = []
    for found in explained.values():
        labels += [k for k in found if k not in labels]
    last = explained[max(explained)] if explained else {}
    labels.sort(key=lambda k: -last.get(k, 0.0))
    for label in labels:
        cells = [f"{found[label]:,.1f}" if label in found else "-" for found in explained.values()]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nplpgsql self time over one run (track_functions = all): {res.functions}.")
    print(
        f"\nMachine: {machine(ctx.server)}; fsync on, synchronous_commit on, the embedded "
        f"server's shared_buffers (128MB)."
    )


def _round(ctx: Ctx, r: int, res: Results, sender: str) -> None:
    ours, sample = res.ours, res.sample
    cases: list[int | str] = [*_batch_sizes(), "real", "seed", "sample"]
    for case in cases[r % len(cases) :] + cases[: r % len(cases)]:
        if case == "real":
            ours.results["rate real"].append(_ours(ctx, ours, SAMPLE_BATCH, real_clock=True).rate)
        elif case == "seed":
            sample.results["seed"].append(_seed(ctx, sample, sender).rate)
        elif case == "sample":
            sample.results["ours"].append(_ours(ctx, sample, SAMPLE_BATCH).rate)
        else:
            assert isinstance(case, int)
            run = _ours(ctx, ours, case)
            ours.results[f"rate {case}"].append(run.rate)
            ours.results[f"calls {case}"].append(run.calls)
            ours.results[f"server {case}"].append(run.server_ms)


def run(quick: bool = False) -> Report:
    SIZES.configure(quick=quick)
    report = Report("campaigns", quick)
    with bench_database() as (server, dsn):
        report.machine = machine(server)
        service = as_role(dsn, "intime_service")
        with (
            psycopg.connect(service, autocommit=True) as svc,
            psycopg.connect(dsn, autocommit=True) as admin,
        ):
            admin.execute("update app.settings set allow_fake_clock = true")
            org = seed_org(svc, "Campaigns", "campaigns", deals=1)
            # The seed's workflows would start executions on every contact insert, and its
            # campaign's enrollments would join the runs.
            admin.execute("delete from app.workflows")
            admin.execute("delete from app.campaigns")
            admin.execute("delete from app.campaign_sequence_logs")
            admin.execute("delete from app.campaign_sequence_logs_archive")
            admin.execute("delete from queue.pgqueuer")
            svc.execute(SET_CLOCK, (NOW,))
            row = svc.execute("select app.now()").fetchone()
            assert row is not None
            ctx = Ctx(server, dsn, service, svc, admin, org, row[0])
            sender = admin.execute(
                "select full_name from app.user_profiles where id = %s", (org.rep_ids[0],)
            ).fetchone()
            assert sender is not None

            with phase("campaigns: setup"):
                contacts, contacts_seconds = _contacts(
                    ctx, SIZES.ENROLLMENTS + SIZES.SEED_ENROLLMENTS
                )
                res = Results(
                    Campaign(_campaign(ctx, "Bench outreach"), SIZES.ENROLLMENTS),
                    Campaign(_campaign(ctx, "Seed sample"), SIZES.SEED_ENROLLMENTS),
                    contacts_seconds,
                )
                res.ours.enroll_chunks = _enroll(ctx, res.ours.id, contacts[: SIZES.ENROLLMENTS])
                _enroll(ctx, res.sample.id, contacts[SIZES.ENROLLMENTS :])
                # Settle the setup's writes (so that autovacuum has nothing left of them), then a
                # warm-up and the statistics of populated tables (kept through the resets).
                admin.execute("vacuum analyze")
                _ours(ctx, res.ours, SAMPLE_BATCH)
                admin.execute(f"analyze {CAMPAIGN_TABLES}")
            with phase("campaigns: rounds"):
                for r in range(SIZES.ROUNDS):
                    _round(ctx, r, res, sender[0])
            with phase("campaigns: profile"):
                res.explained = {b: _explain_batches(ctx, res.ours, b) for b in _batch_sizes()}
                res.functions = _function_profile(ctx, res.ours, SAMPLE_BATCH)
            _report(ctx, res, report)
            with phase("campaigns: on time"):
                late = _lateness(ctx, res.ours, quick)
            _report_lateness(late, res.ours, report, quick)
    return report


if __name__ == "__main__":
    run()
