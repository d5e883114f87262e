-- Reading and writing preferences. A user's row starts as a copy of what
-- applied to them before (copy on write), so setting one field never resets
-- the others to column defaults.

create or replace function api.get_preferences()
returns table (
    category text,
    scope text,
    channels text[],
    frequency text,
    digest_time time,
    digest_day text,
    quiet_hours_enabled boolean,
    quiet_hours_start time,
    quiet_hours_end time,
    quiet_hours_timezone text,
    dnd_enabled boolean,
    dnd_until timestamptz,
    sound_enabled boolean,
    email_unsubscribed boolean
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_categories text [];
begin
    if v_user_id is null then
        raise exception using
            errcode = 'IT008', message = 'no user in context',
            hint = 'These are a user''s own: as intime_service, pass p_user_id to '
            || 'api.set_actor; or use a SQL login mapped to a user.';
    end if;
    -- The categories first, in a statement of their own; then each one's effective
    -- preference, in a statement that reads no table itself (on Citus a statement
    -- that reads a table goes to a shard, where a helper that reads tables is
    -- refused: docs/scale-out.md, "SQL shapes").
    v_categories := array(
        select x.category
        from (
            select '*' as category
            union
            select s.category from app.notification_system_templates as s
            union
            select t.category from app.notification_templates as t where t.org_id = v_org_id
            union
            select p.category from app.notification_preferences as p
            where p.org_id = v_org_id and (p.user_id is null or p.user_id = v_user_id)
        ) as x
        order by x.category <> '*', x.category
    );
    return query
    select
        c.category,
        case
            when e.id is null then 'default'
            when e.user_id is not null and e.category = '*' then 'user_all'
            when e.user_id is not null then 'user'
            when e.category = '*' then 'org_all'
            else 'org'
        end,
        array(select jsonb_array_elements_text(e.channels)),
        e.frequency, e.digest_time, e.digest_day, e.quiet_hours_enabled, e.quiet_hours_start,
        e.quiet_hours_end, e.quiet_hours_timezone, e.dnd_enabled, e.dnd_until, e.sound_enabled,
        e.email_unsubscribed
    from unnest(v_categories) with ordinality as c (category, n)
    cross join lateral app._notification_effective_preference(v_org_id, v_user_id, c.category) as e
    order by c.n;
end
$function$;

comment on function api.get_preferences() is
$$The caller's effective notification preferences: one row for '*' (every category) and one
per category that a template or a preference row names. scope tells where each row comes
from: user (the caller's row for the category), user_all (the caller's '*' row), org or
org_all (the org's defaults), default (built in: in-app and email, immediate, no quiet
hours).$$;

create or replace function api.set_preference(
    p_category text,
    p_channels text[] default null,
    p_frequency text default null,
    p_digest_time time default null,
    p_digest_day text default null,
    p_quiet_hours_enabled boolean default null,
    p_quiet_hours_start time default null,
    p_quiet_hours_end time default null,
    p_quiet_hours_timezone text default null,
    p_dnd_enabled boolean default null,
    p_dnd_until timestamptz default null,
    p_sound_enabled boolean default null,
    p_email_unsubscribed boolean default null,
    p_org_default boolean default false
)
returns app.notification_preferences
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_base app.notification_preferences;
    v_row app.notification_preferences;
begin
    if coalesce(p_org_default, false) then
        if not app._is_org_admin() then
            raise exception using
                errcode = 'IT003',
                message = 'only an org admin sets the org''s default preferences',
                hint = 'Without p_org_default, api.set_preference sets your own.';
        end if;
        v_user_id := null;
    elsif v_user_id is null then
        raise exception using
            errcode = 'IT008', message = 'no user in context',
            hint = 'These are a user''s own: as intime_service, pass p_user_id to '
            || 'api.set_actor; or use a SQL login mapped to a user.';
    end if;
    if p_category is null or (p_category <> '*' and p_category !~ '^[a-z][a-z0-9_]*$') then
        raise exception using
            errcode = 'IT005',
            message = format('invalid category %L (a lower-case name, or * for all)', p_category);
    end if;
    perform app._notification_assert_channels(p_channels);
    if p_frequency is not null and p_frequency not in (
        'immediate', 'hourly_digest', 'daily_digest', 'weekly_digest', 'never'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'invalid frequency %L (immediate, hourly_digest, daily_digest, weekly_digest, '
                || 'never)', p_frequency
            );
    end if;
    if p_digest_day is not null and p_digest_day not in (
        'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid digest day %L (monday .. sunday)', p_digest_day);
    end if;
    if p_quiet_hours_timezone is not null then
        perform app._assert_time_zone(p_quiet_hours_timezone, 'quiet hours');
    end if;
    if p_dnd_until is not null and p_dnd_until <= v_now then
        raise exception using errcode = 'IT005', message = 'p_dnd_until is in the past';
    end if;

    select e.* into v_base
    from app._notification_effective_preference(v_org_id, v_user_id, p_category) as e;
    -- Do-not-disturb is copied only into '*' rows: a category row that took
    -- it over would stay silent after the user switched it off at '*'.
    if p_category <> '*' and not (
        v_base.category = p_category and v_base.user_id is not distinct from v_user_id
    ) then
        v_base.dnd_enabled := false;
        v_base.dnd_until := null;
    end if;
    insert into app.notification_preferences as p (
        org_id, user_id, category, channels, frequency, digest_time, digest_day,
        quiet_hours_enabled, quiet_hours_start, quiet_hours_end, quiet_hours_timezone,
        dnd_enabled, dnd_until, sound_enabled, email_unsubscribed, email_unsubscribed_at,
        created_at, updated_at
    )
    values (
        v_org_id, v_user_id, p_category,
        coalesce(to_jsonb(p_channels), v_base.channels),
        coalesce(p_frequency, v_base.frequency),
        coalesce(p_digest_time, v_base.digest_time),
        coalesce(p_digest_day, v_base.digest_day),
        coalesce(p_quiet_hours_enabled, v_base.quiet_hours_enabled),
        coalesce(p_quiet_hours_start, v_base.quiet_hours_start),
        coalesce(p_quiet_hours_end, v_base.quiet_hours_end),
        coalesce(p_quiet_hours_timezone, v_base.quiet_hours_timezone),
        coalesce(p_dnd_enabled, p_dnd_until is not null or v_base.dnd_enabled),
        case
            when p_dnd_enabled is false then null
            when p_dnd_enabled or p_dnd_until is not null then p_dnd_until
            else v_base.dnd_until
        end,
        coalesce(p_sound_enabled, v_base.sound_enabled),
        coalesce(p_email_unsubscribed, v_base.email_unsubscribed),
        case
            when p_email_unsubscribed then coalesce(v_base.email_unsubscribed_at, v_now)
            when p_email_unsubscribed is false then null
            else v_base.email_unsubscribed_at
        end,
        v_now, v_now
    )
    on conflict on constraint unique_user_category do update set
        channels = excluded.channels,
        frequency = excluded.frequency,
        digest_time = excluded.digest_time,
        digest_day = excluded.digest_day,
        quiet_hours_enabled = excluded.quiet_hours_enabled,
        quiet_hours_start = excluded.quiet_hours_start,
        quiet_hours_end = excluded.quiet_hours_end,
        quiet_hours_timezone = excluded.quiet_hours_timezone,
        dnd_enabled = excluded.dnd_enabled,
        dnd_until = excluded.dnd_until,
        sound_enabled = excluded.sound_enabled,
        email_unsubscribed = excluded.email_unsubscribed,
        email_unsubscribed_at = excluded.email_unsubscribed_at,
        updated_at = excluded.updated_at
    returning p.* into v_row;

    -- A window that ended early (do-not-disturb off, quiet hours moved)
    -- releases what it held now, not at the old end: the user's, or with an
    -- org default every user's.
    perform app._notification_release_held(p_org_id => v_org_id, p_user_id => v_user_id, p_limit => 10000);
    return v_row;
end
$function$;

comment on function api.set_preference(
    text, text[], text, time, text, boolean, time, time, text, boolean, timestamptz, boolean,
    boolean, boolean
) is
$$Sets the caller's notification preference for p_category ('*' for every category that has
no row of its own), or with p_org_default (org admins) the org's default. Null arguments keep
the current value; a new row starts from what applied before. p_dnd_enabled => true with no
p_dnd_until is do-not-disturb without an end; giving p_dnd_until alone turns it on until
then; p_dnd_enabled => false clears it. Changing a window releases the caller's held
deliveries that it no longer holds. Returns the stored row. Errors: IT005 names the invalid
argument (category, channel, frequency, digest day, time zone, a past p_dnd_until), IT003
for a non-admin org default.$$;
