-- The preference rules, in one place: which row applies, whether a quiet
-- window or do-not-disturb holds external channels, and when a digest goes.

-- The preference row that applies to (user, category): the most specific of
-- user+category, user+'*', org+category, org+'*', else the built-in default
-- (in-app and email, immediate, no quiet hours). An org row or the default
-- applies in the user's own time zone (their profile's; the org's when
-- p_user_id is null, which resolves the org's default).
create or replace function app._notification_effective_preference(
    p_org_id uuid,
    p_user_id uuid,
    p_category text
)
returns app.notification_preferences
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_found record;
    v_row app.notification_preferences;
    v_timezone text;
begin
    -- One query: the applying row, and the zones a default would use.
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

-- When the quiet window around p_now ends, or null outside it. Times are wall
-- clock times in p_timezone, so the window follows DST; a window whose start
-- is after its end runs overnight; start = end is an empty window. A wall
-- time that a DST jump skips resolves as PostgreSQL does (it moves forward).
create or replace function app._notification_quiet_hours_end(
    p_now timestamptz,
    p_start time,
    p_end time,
    p_timezone text
)
returns timestamptz
language sql
stable
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

-- What the preferences decide for one recipient of one notification at
-- p_now: the channels (requested ∩ allowed), whether nothing is stored
-- (never), whether external channels are held and until when, whether the
-- in-app row is silent, the digest slot, and email opt-out. p_critical
-- bypasses never, do-not-disturb, quiet hours and digests.
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
language plpgsql
stable
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
    v_pref := app._notification_effective_preference(p_org_id, p_user_id, p_category);
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

    -- Do-not-disturb is the user's switch: the applying row or the user's
    -- '*' row turns it on for this category.
    select p.* into v_global
    from app.notification_preferences as p
    where p.org_id = p_org_id and p.user_id = p_user_id and p.category = '*';
    v_pref_dnd := v_pref.dnd_enabled and (v_pref.dnd_until is null or v_pref.dnd_until > p_now);
    v_global_dnd := coalesce(
        v_global.dnd_enabled and (v_global.dnd_until is null or v_global.dnd_until > p_now), false
    );
    v_dnd := v_pref_dnd or v_global_dnd;
    if (v_pref_dnd and v_pref.dnd_until is null) or (v_global_dnd and v_global.dnd_until is null) then
        v_dnd_until := null;
    else
        v_dnd_until := greatest(
            case when v_pref_dnd then v_pref.dnd_until end,
            case when v_global_dnd then v_global.dnd_until end
        );
    end if;
    if v_pref.quiet_hours_enabled then
        v_quiet_end := app._notification_quiet_hours_end(
            p_now, v_pref.quiet_hours_start, v_pref.quiet_hours_end, v_pref.quiet_hours_timezone
        );
    end if;

    silent := v_dnd;
    if v_dnd then
        -- Open-ended do-not-disturb is re-checked hourly (and at once when the
        -- user changes it through api.set_preference).
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
