"""The preference plan as one inlined query (docs/notifications.md#performance): it decides
as the per-call PL/pgSQL plan did, case for generated case, and the planner folds it into
the sender's statement."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.support import TwoOrgs

# The decision table before the plan was inlined (main at fd657e0), frozen as the oracle:
# app._notification_effective_preference, _notification_quiet_hours_end and
# _notification_plan as they were, in a schema of their own.
ORACLE = r"""
create schema plan_oracle;

create function plan_oracle.effective_preference(
    p_org_id uuid, p_user_id uuid, p_category text
)
returns app.notification_preferences
language plpgsql stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_found record;
    v_row app.notification_preferences;
    v_timezone text;
begin
    select x.pref, u.timezone as user_tz, o.timezone as org_tz into v_found
    from app.organizations as o
    left join app.user_profiles as u on u.org_id = o.id and u.id = p_user_id
    left join lateral (
        select p as pref
        from app.notification_preferences as p
        where
            p.org_id = p_org_id
            and (p.user_id = p_user_id or p.user_id is null)
            and p.category in (p_category, '*')
        order by p.user_id is null, p.category = '*'
        limit 1
    ) as x on true
    where o.id = p_org_id;
    v_row := v_found.pref;
    if v_row.id is not null and v_row.user_id is not null then
        return v_row;
    end if;
    v_timezone := coalesce(v_found.user_tz, v_found.org_tz, 'UTC');
    if v_row.id is not null then
        v_row.quiet_hours_timezone := case
            when p_user_id is null then v_row.quiet_hours_timezone else v_timezone
        end;
        return v_row;
    end if;
    v_row.org_id := p_org_id;
    v_row.user_id := p_user_id;
    v_row.category := '*';
    v_row.channels := '["in_app", "email"]';
    v_row.frequency := 'immediate';
    v_row.digest_time := '09:00';
    v_row.digest_day := 'monday';
    v_row.quiet_hours_enabled := false;
    v_row.quiet_hours_start := '22:00';
    v_row.quiet_hours_end := '08:00';
    v_row.quiet_hours_timezone := v_timezone;
    v_row.dnd_enabled := false;
    v_row.sound_enabled := true;
    v_row.email_unsubscribed := false;
    return v_row;
end
$function$;

create function plan_oracle.quiet_hours_end(
    p_now timestamptz, p_start time, p_end time, p_timezone text
)
returns timestamptz
language sql stable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when p_start = p_end then null
        when p_start < p_end and l.t >= p_start and l.t < p_end
            then (l.d + p_end) at time zone p_timezone
        when p_start > p_end and l.t >= p_start
            then (l.d + 1 + p_end) at time zone p_timezone
        when p_start > p_end and l.t < p_end
            then (l.d + p_end) at time zone p_timezone
    end
    from (
        select
            (p_now at time zone p_timezone)::date as d,
            (p_now at time zone p_timezone)::time as t
    ) as l
$function$;

create function plan_oracle.plan(
    p_org_id uuid, p_user_id uuid, p_category text, p_requested jsonb, p_critical boolean,
    p_now timestamptz
)
returns table (
    channels jsonb, suppressed boolean, hold_until timestamptz, hold_reason text,
    silent boolean, digest_at timestamptz, email_unsubscribed boolean
)
language plpgsql stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_pref app.notification_preferences;
    v_global app.notification_preferences;
    v_dnd_until timestamptz;
    v_dnd boolean;
    v_pref_dnd boolean;
    v_global_dnd boolean;
    v_quiet_end timestamptz;
begin
    v_pref := plan_oracle.effective_preference(p_org_id, p_user_id, p_category);
    channels := (
        select coalesce(jsonb_agg(r.c order by r.o), '[]')
        from jsonb_array_elements_text(coalesce(p_requested, v_pref.channels)) with ordinality
            as r (c, o)
        where v_pref.channels ? r.c
    );
    suppressed := v_pref.frequency = 'never' and not p_critical;
    email_unsubscribed := v_pref.email_unsubscribed;
    silent := false;
    hold_until := null;
    hold_reason := null;
    digest_at := null;
    if p_critical then
        return next;
        return;
    end if;
    select p.* into v_global
    from app.notification_preferences as p
    where p.org_id = p_org_id and p.user_id = p_user_id and p.category = '*';
    v_pref_dnd := v_pref.dnd_enabled and (v_pref.dnd_until is null or v_pref.dnd_until > p_now);
    v_global_dnd := coalesce(
        v_global.dnd_enabled and (v_global.dnd_until is null or v_global.dnd_until > p_now), false
    );
    v_dnd := v_pref_dnd or v_global_dnd;
    if (v_pref_dnd and v_pref.dnd_until is null)
        or (v_global_dnd and v_global.dnd_until is null) then
        v_dnd_until := null;
    else
        v_dnd_until := greatest(
            case when v_pref_dnd then v_pref.dnd_until end,
            case when v_global_dnd then v_global.dnd_until end
        );
    end if;
    if v_pref.quiet_hours_enabled then
        v_quiet_end := plan_oracle.quiet_hours_end(
            p_now, v_pref.quiet_hours_start, v_pref.quiet_hours_end, v_pref.quiet_hours_timezone
        );
    end if;
    silent := v_dnd;
    if v_dnd then
        hold_until := greatest(coalesce(v_dnd_until, p_now + interval '1 hour'), v_quiet_end);
        hold_reason := case
            when v_dnd_until is null then 'do not disturb (no end set)'
            else 'do not disturb'
        end;
    elsif v_quiet_end is not null then
        hold_until := v_quiet_end;
        hold_reason := 'quiet hours';
    end if;
    if v_pref.frequency in ('hourly_digest', 'daily_digest', 'weekly_digest') then
        digest_at := app._notification_next_digest_at(
            p_now, v_pref.frequency, v_pref.digest_time, v_pref.digest_day,
            v_pref.quiet_hours_timezone
        );
    end if;
    return next;
end
$function$;
"""

ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"]
CHANNELS = ["in_app", "email", "sms", "push"]
FREQUENCIES = ["immediate", "hourly_digest", "daily_digest", "weekly_digest", "never"]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
# Around the 2026 DST changes in New York (8 March, 1 November), London (29 March,
# 25 October) and Lord Howe (a half-hour shift, 5 April), and an ordinary day.
INSTANTS = [
    datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 45, tzinfo=UTC),
    datetime(2026, 4, 4, 14, 50, tzinfo=UTC),
    datetime(2026, 6, 10, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
]

COLUMNS = (
    "org_id, user_id, category, channels, frequency, digest_time, digest_day, "
    "quiet_hours_enabled, quiet_hours_start, quiet_hours_end, quiet_hours_timezone, "
    "dnd_enabled, dnd_until, sound_enabled, email_unsubscribed"
)


@pytest.fixture
def oracle(admin: psycopg.Connection) -> psycopg.Connection:
    """The superuser connection, with the old decision table in schema plan_oracle."""
    admin.execute(ORACLE)
    return admin


def _subset(rng: random.Random) -> list[str]:
    chosen = [c for c in CHANNELS if rng.random() < 0.5]
    rng.shuffle(chosen)
    return chosen


def _preference(rng: random.Random, now: datetime) -> dict[str, Any]:
    hours = [rng.choice([0, 1, 7, 8, 9, 12, 21, 22, 23]) for _ in range(2)]
    return {
        "channels": json.dumps(_subset(rng)),
        "frequency": rng.choice(FREQUENCIES),
        "digest_time": f"{rng.randrange(24):02d}:{rng.choice(['00', '30'])}",
        "digest_day": rng.choice(DAYS),
        "quiet_hours_enabled": rng.random() < 0.6,
        "quiet_hours_start": f"{hours[0]:02d}:{rng.choice(['00', '30'])}",
        "quiet_hours_end": f"{hours[1]:02d}:00",
        "quiet_hours_timezone": rng.choice(ZONES),
        "dnd_enabled": rng.random() < 0.4,
        "dnd_until": rng.choice([None, now - timedelta(hours=1), now + timedelta(hours=3)]),
        "sound_enabled": rng.random() < 0.5,
        "email_unsubscribed": rng.random() < 0.2,
    }


def _arrange(
    conn: psycopg.Connection, rng: random.Random, org: uuid.UUID, user: uuid.UUID, now: datetime
) -> None:
    """A random set of the four rows that may apply, and random profile and org zones."""
    conn.execute("delete from app.notification_preferences where org_id = %s", (org,))
    conn.execute(
        "update app.organizations set timezone = %s where id = %s", (rng.choice(ZONES), org)
    )
    conn.execute(
        "update app.user_profiles set timezone = %s where org_id = %s and id = %s",
        (rng.choice(ZONES), org, user),
    )
    for owner in (user, None):
        for category in ("deal", "*"):
            if rng.random() < 0.45:
                row = {"org_id": org, "user_id": owner, "category": category}
                row |= _preference(rng, now)
                names = ", ".join(f"%({k})s" for k in row)
                conn.execute(
                    f"insert into app.notification_preferences ({COLUMNS}) values ({names})", row
                )


def test_the_inlined_plan_decides_as_the_per_call_plan_did(
    oracle: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    rng = random.Random(17)  # noqa: S311 - reproducible cases, not secrets
    org, user = two_orgs.a.org_id, two_orgs.a.rep_ids[1]
    compared = 0
    seen: set[Any] = set()
    for _ in range(150):
        now = rng.choice(INSTANTS) + timedelta(minutes=rng.randrange(-90, 90, 15))
        _arrange(oracle, rng, org, user, now)
        for _ in range(3):
            requested = rng.choice([None, json.dumps(_subset(rng))])
            critical = rng.choice([False, True, None])
            category = rng.choice(["deal", "task"])
            args = (org, user, category, requested, critical, now)
            new = oracle.execute(
                "select * from app._notification_plan(%s, %s, %s, %s, %s, %s)", args
            ).fetchall()
            old = oracle.execute(
                "select * from plan_oracle.plan(%s, %s, %s, %s, %s, %s)", args
            ).fetchall()
            assert new == old, (args, new, old)
            compared += 1
            [(channels, suppressed, _, reason, silent, digest_at, unsubscribed)] = new
            seen |= {reason, ("suppressed", suppressed), ("silent", silent)}
            seen |= {("digest", digest_at is not None), ("unsubscribed", unsubscribed)}
            seen.add(("channels", len(channels)))
        for who in (user, None):
            new = oracle.execute(
                "select * from app._notification_effective_preference(%s, %s, 'deal')",
                (org, who),
            ).fetchall()
            old = oracle.execute(
                "select * from plan_oracle.effective_preference(%s, %s, 'deal')", (org, who)
            ).fetchall()
            assert new == old, (who, new, old)
    assert compared == 450
    # Every branch of the decision was taken.
    assert {"quiet hours", "do not disturb", "do not disturb (no end set)", None} <= seen
    for flag in ("suppressed", "silent", "digest", "unsubscribed"):
        assert {(flag, True), (flag, False)} <= seen, flag
    assert {("channels", n) for n in range(4)} <= seen


def test_quiet_hours_end_as_before_at_every_quarter_hour_across_dst(
    oracle: psycopg.Connection,
) -> None:
    row = oracle.execute(
        """
        select count(*), count(*) filter (
            where app._notification_quiet_hours_end(t, s, e, z)
                is distinct from plan_oracle.quiet_hours_end(t, s, e, z)
        )
        from generate_series(
            timestamptz '2026-03-07 00:00Z', '2026-03-09 00:00Z', interval '15 minutes'
        ) as t
        cross join (values (time '22:00'), ('02:30'), ('08:00'), ('13:00')) as s (s)
        cross join (values (time '08:00'), ('02:30'), ('22:00')) as e (e)
        cross join unnest(array['UTC', 'America/New_York', 'Australia/Lord_Howe']) as z
        """
    ).fetchone()
    assert row == (193 * 4 * 3 * 3, 0)


def _function_scans(plan: dict) -> set[str]:
    found = {plan["Function Name"]} if "Function Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= _function_scans(child)
    return found


def test_the_preference_plan_is_inlined_into_the_senders_query(
    admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """Planned under the pinned path, as app._notification_send plans it: no call of the
    plan, the effective preference or the delivery state is left, only table scans."""
    admin.execute("set search_path = pg_catalog, pg_temp")
    [[explain]] = admin.execute(
        """
        explain (format json, verbose)
        select pl.*, s.*
        from app.user_profiles as u
        cross join lateral app._notification_plan(
            u.org_id, u.id, 'deal', '["in_app", "email"]', false, now()
        ) as pl
        cross join lateral jsonb_array_elements_text(pl.channels) as c (channel)
        cross join lateral app._notification_delivery_state(
            c.channel, pl.silent, pl.email_unsubscribed, true, pl.digest_at, pl.hold_until,
            pl.hold_reason
        ) as s
        where u.org_id = %s and u.id = %s
        """,
        (two_orgs.a.org_id, two_orgs.a.rep_ids[1]),
    ).fetchone()
    text = json.dumps(explain)
    assert _function_scans(explain["Plan"]) == {"jsonb_array_elements_text"}
    for helper in (
        "_notification_plan",
        "_notification_effective_preference",
        "_notification_quiet_hours_end",
        "_notification_delivery_state",
    ):
        assert helper not in text, helper


def test_a_send_calls_no_preference_function(
    admin: psycopg.Connection, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """The real send path, counted by the statistics collector (functions are counted
    only when they are called, not when they are inlined)."""
    admin.execute("alter database " + _current_database(admin) + " set track_functions = 'all'")
    with psycopg.connect(service.info.dsn, autocommit=True) as conn, conn.transaction():
        conn.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => null)", (two_orgs.a.org_id,)
        )
        conn.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 't', p_message => 'm', p_channels => array['in_app', 'email'])",
            (two_orgs.a.rep_ids[1],),
        )
        counted = dict(
            conn.execute(
                "select funcname, calls from pg_stat_xact_user_functions where schemaname = 'app'"
            ).fetchall()
        )
    assert counted["_notification_send"] == 1
    assert {
        "_notification_plan",
        "_notification_effective_preference",
        "_notification_quiet_hours_end",
        "_notification_delivery_state",
        "_html_escape",
    } & counted.keys() == set()


def _current_database(conn: psycopg.Connection) -> str:
    row = conn.execute("select quote_ident(current_database())").fetchone()
    assert row is not None
    return str(row[0])
