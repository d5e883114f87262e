-- The preference rules, in one place: which row applies, whether a quiet
-- window or do-not-disturb holds external channels, and when a digest goes.

-- The preference row that applies to (user, category): the most specific of
-- user+category, user+'*', org+category, org+'*', else the built-in default
-- (in-app and email, immediate, no quiet hours). An org row or the default
-- applies in the user's own time zone (their profile's; the org's when
-- p_user_id is null, which resolves the org's default). Always one row.
--
-- Inlined (docs/conventions.md, "Inlined SQL helpers"): plain LANGUAGE sql,
-- no SET clause, schema-qualified names, so that app._notification_plan and
-- api.get_preferences plan it into their own query (one plan, no call). It
-- lists the table's columns in order: a new column of
-- app.notification_preferences needs its default here too.
drop function if exists app._notification_effective_preference(uuid, uuid, text);
create function app._notification_effective_preference(
    p_org_id uuid,
    p_user_id uuid,
    p_category text
)
returns setof app.notification_preferences
language sql
stable
as $function$
    select
        coalesce(x.org_id, p_org_id),
        x.id,
        case when x.id is null then p_user_id else x.user_id end,
        coalesce(x.category, '*'),
        coalesce(x.channels, '["in_app", "email"]'),
        coalesce(x.frequency, 'immediate'),
        coalesce(x.digest_time, '09:00'),
        coalesce(x.digest_day, 'monday'),
        coalesce(x.quiet_hours_enabled, false),
        coalesce(x.quiet_hours_start, '22:00'),
        coalesce(x.quiet_hours_end, '08:00'),
        case
            when x.user_id is not null or (x.id is not null and p_user_id is null)
                then x.quiet_hours_timezone
            else coalesce(u.timezone, o.timezone, 'UTC')
        end,
        coalesce(x.dnd_enabled, false),
        x.dnd_until,
        coalesce(x.sound_enabled, true),
        coalesce(x.email_unsubscribed, false),
        x.email_unsubscribed_at,
        x.created_at,
        x.updated_at
    from (select) as one
    left join app.organizations as o on o.id = p_org_id
    left join app.user_profiles as u on u.org_id = o.id and u.id = p_user_id
    left join lateral (
        select p.*
        from app.notification_preferences as p
        where
            p.org_id = p_org_id
            and (p.user_id = p_user_id or p.user_id is null)
            and p.category in (p_category, '*')
        order by p.user_id is null, p.category = '*'
        limit 1
    ) as x on true
$function$;

-- When the quiet window around p_now ends, or null outside it. Times are wall
-- clock times in p_timezone, so the window follows DST; a window whose start
-- is after its end runs overnight; start = end is an empty window. A wall
-- time that a DST jump skips resolves as PostgreSQL does (it moves forward).
-- Inlined (one expression, no SET clause): see app._notification_plan.
create or replace function app._notification_quiet_hours_end(
    p_now timestamptz,
    p_start time,
    p_end time,
    p_timezone text
)
returns timestamptz
language sql
stable
as $function$
    select case
        when p_start = p_end then null
        when
            p_start < p_end
            and (p_now at time zone p_timezone)::time >= p_start
            and (p_now at time zone p_timezone)::time < p_end
            then ((p_now at time zone p_timezone)::date + p_end) at time zone p_timezone
        when p_start > p_end and (p_now at time zone p_timezone)::time >= p_start
            then ((p_now at time zone p_timezone)::date + 1 + p_end) at time zone p_timezone
        when p_start > p_end and (p_now at time zone p_timezone)::time < p_end
            then ((p_now at time zone p_timezone)::date + p_end) at time zone p_timezone
    end
$function$;

-- The first digest slot strictly after p_after: the next hour (local), the
-- next p_time (daily), or the next p_day at p_time (weekly), in p_timezone.
create or replace function app._notification_next_digest_at(
    p_after timestamptz,
    p_frequency text,
    p_time time,
    p_day text,
    p_timezone text
)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_local timestamp := p_after at time zone p_timezone;
    v_candidate timestamptz;
    v_dow integer;
begin
    if p_frequency = 'hourly_digest' then
        return (date_trunc('hour', v_local) + interval '1 hour') at time zone p_timezone;
    elsif p_frequency = 'daily_digest' then
        v_candidate := (v_local::date + p_time) at time zone p_timezone;
        if v_candidate <= p_after then
            v_candidate := (v_local::date + 1 + p_time) at time zone p_timezone;
        end if;
        return v_candidate;
    elsif p_frequency = 'weekly_digest' then
        v_dow := array_position(
            array['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
            p_day
        ) - 1;
        for v_i in 0..7 loop
            if extract(dow from v_local::date + v_i) = v_dow then
                v_candidate := (v_local::date + v_i + p_time) at time zone p_timezone;
                if v_candidate > p_after then
                    return v_candidate;
                end if;
            end if;
        end loop;
    end if;
    return null;
end
$function$;

-- The user's own '*' row of the preferences, if any. Inlined into
-- app._notification_plan; a function of its own so that the plan's query reads
-- no table itself: on Citus, where no helper is inlined (intime.citus), a query
-- that reads a distributed table runs on its shard, and a helper called there
-- may not read one (docs/scale-out.md).
create or replace function app._notification_user_default(p_org_id uuid, p_user_id uuid)
returns setof app.notification_preferences
language sql
stable
as $function$
    select p.*
    from app.notification_preferences as p
    where p.org_id = p_org_id and p.user_id = p_user_id and p.category = '*'
$function$;

-- What the preferences decide for one recipient of one notification at
-- p_now: the channels (requested ∩ allowed), whether nothing is stored
-- (never), whether external channels are held and until when, whether the
-- in-app row is silent, the digest slot, and email opt-out. p_critical
-- bypasses never, do-not-disturb, quiet hours and digests.
--
-- Do-not-disturb is the user's switch: the applying row or the user's '*'
-- row turns it on for this category. Open-ended do-not-disturb holds for an
-- hour at a time, re-checked then (and at once when the user changes it
-- through api.set_preference); with quiet hours too, the later end wins.
--
-- One query, inlined into its callers' (docs/conventions.md, "Inlined SQL
-- helpers"): a sender plans every recipient in the statement that writes
-- the notifications, with no function call per recipient.
create or replace function app._notification_plan(
    p_org_id uuid,
    p_user_id uuid,
    p_category text,
    p_requested jsonb,
    p_critical boolean,
    p_now timestamptz
)
returns table (
    channels jsonb,
    suppressed boolean,
    hold_until timestamptz,
    hold_reason text,
    silent boolean,
    digest_at timestamptz,
    email_unsubscribed boolean
)
language sql
stable
as $function$
    select
        (
            select coalesce(jsonb_agg(r.c order by r.o), '[]')
            from jsonb_array_elements_text(coalesce(p_requested, e.channels)) with ordinality
                as r (c, o)
            where e.channels ? r.c
        ),
        e.frequency = 'never' and not p_critical,
        case
            when p_critical then null
            when w.dnd then greatest(coalesce(w.dnd_until, p_now + interval '1 hour'), w.quiet_end)
            else w.quiet_end
        end,
        case
            when p_critical then null
            when w.dnd and w.dnd_until is null then 'do not disturb (no end set)'
            when w.dnd then 'do not disturb'
            when w.quiet_end is not null then 'quiet hours'
        end,
        case when p_critical then false else w.dnd end,
        case
            when p_critical then null
            when e.frequency in ('hourly_digest', 'daily_digest', 'weekly_digest')
                then app._notification_next_digest_at(
                    p_now, e.frequency, e.digest_time, e.digest_day, e.quiet_hours_timezone
                )
        end,
        e.email_unsubscribed
    from app._notification_effective_preference(p_org_id, p_user_id, p_category) as e
    left join app._notification_user_default(p_org_id, p_user_id) as g on true
    cross join lateral (
        select
            d.pref_dnd or d.global_dnd as dnd,
            case
                when (d.pref_dnd and e.dnd_until is null) or (d.global_dnd and g.dnd_until is null)
                    then null
                else greatest(
                    case when d.pref_dnd then e.dnd_until end,
                    case when d.global_dnd then g.dnd_until end
                )
            end as dnd_until,
            case
                when e.quiet_hours_enabled then app._notification_quiet_hours_end(
                    p_now, e.quiet_hours_start, e.quiet_hours_end, e.quiet_hours_timezone
                )
            end as quiet_end
        from (
            select
                e.dnd_enabled and (e.dnd_until is null or e.dnd_until > p_now) as pref_dnd,
                coalesce(
                    g.dnd_enabled and (g.dnd_until is null or g.dnd_until > p_now), false
                ) as global_dnd
        ) as d
    ) as w
$function$;

-- Raise IT005 unless every channel is one InTime knows (null is allowed).
create or replace function app._notification_assert_channels(p_channels text[])
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_channels is not null and not (p_channels <@ array['in_app', 'email', 'sms', 'push']) then
        raise exception using
            errcode = 'IT005',
            message = format('unknown channel in %s (known: in_app, email, sms, push)', p_channels);
    end if;
end
$function$;
