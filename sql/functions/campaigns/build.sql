-- Building campaigns: create, configure, steps, and the status changes
-- (activate, pause, resume, complete).

-- The variables a campaign email may use, as {{name}} (spaces inside the
-- braces allowed). The tick substitutes exactly these.
create or replace function app._campaign_variables()
returns text[]
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return array[
        'contact.first_name', 'contact.last_name', 'contact.full_name', 'contact.name',
        'contact.email', 'contact.company', 'contact.title', 'campaign.name',
        'sender.name', 'sender.first_name', 'sender.email'
    ];
end
$function$;

-- {{ a.b }} → {{a.b}}: templates are normalised so that the tick can
-- substitute with plain replace().
create or replace function app._campaign_normalize(p_text text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return regexp_replace(
        p_text, '\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}', '{{\1}}', 'g'
    );
end
$function$;

-- Raise IT005 when p_text uses a variable the tick does not know, or a
-- filter other than a default ({{ contact.first_name | default: "there" }},
-- app._render_check).
create or replace function app._campaign_assert_tokens(p_text text, p_where text)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_unknown text[];
begin
    perform app._render_check(p_text, p_where);
    select array_agg(distinct t.name order by t.name) into v_unknown
    from (
        select m[1]
        from regexp_matches(coalesce(p_text, ''), app._render_pattern(), 'g') as m
        union all
        -- Whatever else stands between braces ({{ contact.first name }}).
        select m[1]
        from regexp_matches(
            regexp_replace(coalesce(p_text, ''), app._render_pattern(), '', 'g'),
            '\{\{\s*([^}]*?)\s*\}\}', 'g'
        ) as m
    ) as t (name)
    where t.name <> all(app._campaign_variables());
    if v_unknown is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                '%s uses unknown variables: %s (known: %s)',
                p_where, array_to_string(v_unknown, ', '),
                array_to_string(app._campaign_variables(), ', ')
            );
    end if;
end
$function$;

-- The campaign for a change by the caller: it must exist in the caller's org
-- (IT004) and the caller must be its owner or hold campaigns.manage_any (IT003). Locks it.
create or replace function app._campaign_for_change(
    p_campaign_id uuid, p_lock_enrollments boolean default false
)
returns app.campaigns
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_campaign app.campaigns%rowtype;
begin
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id),
            hint = 'Ids are looked up in the caller''s organization only (api.get_actor).';
    end if;
    if not (
        v_campaign.owner_id is not distinct from app.current_user_id()
        or app._has_permission('campaigns.manage_any')
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'only the campaign''s owner or a holder of campaigns.manage_any may change it',
            hint = 'An org admin grants campaigns.manage_any to a role with '
            || 'api.set_role_permission, or makes you the owner (api.update_campaign).';
    end if;
    -- Lock order everywhere: enrollments (in key order), then the campaign.
    -- The tick and the stop-rule triggers lock enrollments and then, through
    -- the totals trigger, the campaign; taking the campaign first here while
    -- changing its enrollments would deadlock with them.
    if p_lock_enrollments then
        perform
        from app.campaign_enrollments as e
        where
            e.org_id = v_org_id and e.campaign_id = p_campaign_id
            and e.status in ('active', 'paused')
        order by e.id
        for update;
    end if;
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    return v_campaign;
end
$function$;

create or replace function api.create_campaign(
    p_name text,
    p_description text default null,
    p_owner_id uuid default null,
    p_send_window_start time default '09:00',
    p_send_window_end time default '17:00',
    p_send_days text[] default array['mon', 'tue', 'wed', 'thu', 'fri'],
    p_timezone text default 'America/New_York',
    p_use_contact_timezone boolean default false,
    p_daily_send_limit integer default null,
    p_ab_metric text default 'reply',
    p_ab_min_sample_per_variant integer default 100,
    p_ab_alpha numeric default 0.05,
    p_ab_auto_select boolean default true,
    p_ab_metric_window interval default '3 days',
    p_out_of_office_resume_days integer default 7
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_owner uuid := coalesce(p_owner_id, app.current_user_id());
    v_id uuid := gen_random_uuid();
begin
    if v_owner is null then
        raise exception using
            errcode = 'IT005', message = 'a campaign needs an owner: give p_owner_id';
    end if;
    if p_owner_id is not null and p_owner_id is distinct from app.current_user_id()
        and not app._has_permission('campaigns.manage_any') then
        raise exception using
            errcode = 'IT003',
            message = 'only a holder of campaigns.manage_any may create a campaign for someone else',
            hint = 'Leave p_owner_id out to own it yourself; an org admin grants '
            || 'campaigns.manage_any with api.set_role_permission.';
    end if;
    if not exists (
        select 1 from app.user_profiles as u
        where u.org_id = v_org_id and u.id = v_owner and u.is_active
    ) then
        raise exception using
            errcode = 'IT004', message = format('user %s not found', v_owner);
    end if;
    if coalesce(length(btrim(p_name)), 0) not between 1 and 200 then
        raise exception using
            errcode = 'IT005', message = 'a campaign name has 1 to 200 characters';
    end if;
    perform app._campaign_assert_send_window(
        p_window_start => p_send_window_start,
        p_window_end => p_send_window_end,
        p_send_days => p_send_days,
        p_timezone => p_timezone
    );
    perform app._campaign_assert_ab_settings(
        p_metric => p_ab_metric,
        p_min_sample => p_ab_min_sample_per_variant,
        p_alpha => p_ab_alpha,
        p_window => p_ab_metric_window,
        p_daily_limit => p_daily_send_limit
    );
    perform app._campaign_assert_out_of_office_days(p_out_of_office_resume_days);
    insert into app.campaigns (
        org_id, id, name, description, owner_id, send_window_start, send_window_end, send_days,
        timezone, use_contact_timezone, daily_send_limit, ab_metric, ab_min_sample_per_variant,
        ab_alpha, ab_auto_select, ab_metric_window, out_of_office_resume_days, created_by
    )
    values (
        v_org_id, v_id, btrim(p_name), p_description, v_owner, p_send_window_start,
        p_send_window_end, p_send_days, p_timezone, coalesce(p_use_contact_timezone, false),
        p_daily_send_limit, p_ab_metric, p_ab_min_sample_per_variant, p_ab_alpha,
        coalesce(p_ab_auto_select, true), p_ab_metric_window, p_out_of_office_resume_days,
        app.current_user_id()
    );
    return v_id;
end
$function$;

comment on function api.create_campaign(
    text, text, uuid, time, time, text[], text, boolean, integer, text, integer, numeric,
    boolean, interval, integer
) is
$$Create a draft campaign in the caller's org, owned by the caller (or p_owner_id, with
campaigns.manage_any). The send window is [start, end) local time on p_send_days ('mon'..'sun') in
p_timezone, or the contact's zone when p_use_contact_timezone (falling back to the
campaign's). An overnight window (end <= start), unknown days or zone raise IT005.
p_daily_send_limit caps email steps a day (campaign zone); the rest roll to the next window.
A/B: p_ab_metric reply, click or open; the winner needs p_ab_min_sample_per_variant closed
sends per arm (a send is closed p_ab_metric_window after it went out) and significance at
p_ab_alpha, Bonferroni-corrected. An out-of-office reply without a return date pauses the
contact's enrollment for p_out_of_office_resume_days (1 to 90, IT005 otherwise; default 7).
Returns the campaign id.$$;

create or replace function app._campaign_assert_ab_settings(
    p_metric text, p_min_sample integer, p_alpha numeric, p_window interval, p_daily_limit integer
)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_metric is null or p_metric not in ('reply', 'click', 'open') then
        raise exception using
            errcode = 'IT005', message = format('A/B metric %L: use reply, click or open', p_metric);
    end if;
    if p_min_sample is null or p_min_sample < 1 then
        raise exception using
            errcode = 'IT005', message = 'the A/B minimum sample per variant must be at least 1';
    end if;
    if p_alpha is null or p_alpha <= 0 or p_alpha >= 0.5 then
        raise exception using
            errcode = 'IT005', message = 'the A/B significance level must be in (0, 0.5)';
    end if;
    if p_window is null or p_window < interval '0' or p_window > interval '365 days' then
        raise exception using
            errcode = 'IT005', message = 'the A/B metric window is 0 to 365 days';
    end if;
    if p_daily_limit is not null and p_daily_limit < 1 then
        raise exception using
            errcode = 'IT005', message = 'the daily send limit must be at least 1 (or null)';
    end if;
end
$function$;

create or replace function api.update_campaign(p_campaign_id uuid, p_changes jsonb)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(p_campaign_id);
begin
    perform app._assert_changes(
        p_changes,
        array[
            'name', 'description', 'send_window_start', 'send_window_end', 'send_days',
            'timezone', 'use_contact_timezone', 'daily_send_limit', 'ab_metric',
            'ab_min_sample_per_variant', 'ab_alpha', 'ab_auto_select', 'ab_metric_window',
            'owner_id', 'out_of_office_resume_days'
        ],
        array[
            'name', 'send_window_start', 'send_window_end', 'send_days', 'timezone',
            'use_contact_timezone', 'ab_metric', 'ab_min_sample_per_variant', 'ab_alpha',
            'ab_auto_select', 'ab_metric_window', 'owner_id', 'out_of_office_resume_days'
        ]
    );
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    v_c := app._apply_changes(v_c, p_changes);
    -- A new owner (an active user of the org) gets the tasks, the replies and
    -- the notifications from now on; the current owner or a holder of campaigns.manage_any hands over.
    if p_changes ? 'owner_id' and not exists (
        select 1 from app.user_profiles as u
        where u.org_id = v_c.org_id and u.id = v_c.owner_id and u.is_active
    ) then
        raise exception using
            errcode = 'IT004', message = format('user %s not found', v_c.owner_id);
    end if;
    v_c.name := btrim(v_c.name);
    if length(v_c.name) not between 1 and 200 then
        raise exception using
            errcode = 'IT005', message = 'a campaign name has 1 to 200 characters';
    end if;
    perform app._campaign_assert_send_window(
        p_window_start => v_c.send_window_start,
        p_window_end => v_c.send_window_end,
        p_send_days => v_c.send_days,
        p_timezone => v_c.timezone
    );
    perform app._campaign_assert_ab_settings(
        p_metric => v_c.ab_metric,
        p_min_sample => v_c.ab_min_sample_per_variant,
        p_alpha => v_c.ab_alpha,
        p_window => v_c.ab_metric_window,
        p_daily_limit => v_c.daily_send_limit
    );
    perform app._campaign_assert_out_of_office_days(v_c.out_of_office_resume_days);
    update app.campaigns as c
    set
        name = v_c.name,
        description = v_c.description,
        send_window_start = v_c.send_window_start,
        send_window_end = v_c.send_window_end,
        send_days = v_c.send_days,
        timezone = v_c.timezone,
        use_contact_timezone = v_c.use_contact_timezone,
        daily_send_limit = v_c.daily_send_limit,
        ab_metric = v_c.ab_metric,
        ab_min_sample_per_variant = v_c.ab_min_sample_per_variant,
        ab_alpha = v_c.ab_alpha,
        ab_auto_select = v_c.ab_auto_select,
        ab_metric_window = v_c.ab_metric_window,
        owner_id = v_c.owner_id,
        out_of_office_resume_days = v_c.out_of_office_resume_days,
        updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
end
$function$;

comment on function api.update_campaign(uuid, jsonb) is
$$Change a campaign's settings (owner or campaigns.manage_any; not once completed or archived,
IT013).
p_changes is a JSON object of the fields to change: name, description, send_window_start,
send_window_end ("HH:MM"), send_days (["mon", ...]), timezone, use_contact_timezone,
daily_send_limit (null removes the limit), ab_metric, ab_min_sample_per_variant, ab_alpha,
ab_auto_select, ab_metric_window (an interval, "3 days"), owner_id; description and
daily_send_limit may be null. The same checks as api.create_campaign (IT005). Enrollments
already scheduled keep their next step time; the tick re-checks the window when a step falls
due. owner_id hands the campaign to another active user of the org (IT004 otherwise): later
tasks, reply and A/B notifications and {{sender.name}} are theirs.
out_of_office_resume_days (1 to 90) is how long an out-of-office reply without a return
date pauses an enrollment; a pause already under way keeps its resume time.$$;

-- What a skip condition may name: the enrollment's columns (bare), contact.*
-- and campaign.*.
create or replace function app._campaign_condition_fields()
returns text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return (
        select array_agg(a.attname::text order by a.attnum) || array['contact', 'campaign']
        from pg_catalog.pg_attribute as a
        where
            a.attrelid = 'app.campaign_enrollments'::regclass and a.attnum > 0
            and not a.attisdropped
    );
end
$function$;

-- Validate one step's fields (IT005 naming the problem).
create or replace function app._campaign_assert_step(
    p_org_id uuid,
    p_channel text,
    p_template_id uuid,
    p_subject text,
    p_body_html text,
    p_body_text text,
    p_task_config jsonb,
    p_skip_conditions jsonb,
    p_ab_variants jsonb,
    p_delays integer[]
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_variant jsonb;
    v_problems text;
    v_ids text[] := '{}';
    v_id text;
    v_template_slug text;
    v_unknown text[];
begin
    if p_channel is null
        or p_channel not in ('email', 'linkedin', 'phone', 'sms', 'task', 'wait') then
        raise exception using
            errcode = 'IT005',
            message = format(
                'channel %L: use email, linkedin, phone, sms, task or wait', p_channel
            );
    end if;
    if p_delays[1] not between 0 and 365 or p_delays[2] not between 0 and 1000
        or p_delays[3] not between 0 and 100000 or array_position(p_delays, null) is not null then
        raise exception using
            errcode = 'IT005',
            message = 'delays: days 0-365, hours 0-1000, minutes 0-100000';
    end if;
    if p_channel <> 'email' and (
        p_template_id is not null or p_subject is not null or p_body_html is not null
        or p_ab_variants is not null
    ) then
        raise exception using
            errcode = 'IT005',
            message = format(
                'a %s step has no email content (template, subject, body, A/B variants)',
                p_channel
            );
    end if;
    if p_template_id is not null then
        select t.slug, app._template_unknown_variables(
            concat_ws(' ', t.subject_template, t.html_template, t.text_template),
            app._campaign_variables()
        )
        into v_template_slug, v_unknown
        from app.email_templates as t
        where t.org_id = p_org_id and t.id = p_template_id;
        if not found then
            raise exception using
                errcode = 'IT004', message = format('email template %s not found', p_template_id);
        end if;
        -- The tick gives a template the campaign's variables only (issue 16).
        if cardinality(v_unknown) > 0 then
            raise exception using
                errcode = 'IT005',
                message = format(
                    'email template %L uses unknown variables: %s (known: %s)',
                    v_template_slug, array_to_string(v_unknown, ', '),
                    array_to_string(app._campaign_variables(), ', ')
                ),
                hint = 'A campaign step renders its template with the campaign''s variables '
                || 'only: use those, or write the step''s own subject and body.';
        end if;
    end if;
    perform app._campaign_assert_tokens(p_subject, 'subject');
    perform app._campaign_assert_tokens(p_body_html, 'body_html');
    perform app._campaign_assert_tokens(p_body_text, 'body_text');

    if jsonb_typeof(p_task_config) is distinct from 'object' then
        raise exception using errcode = 'IT005', message = 'task_config must be a JSON object';
    end if;
    if exists (
        select 1 from jsonb_object_keys(p_task_config) as k
        where k not in ('title', 'description', 'priority', 'due_hours')
    ) then
        raise exception using
            errcode = 'IT005',
            message = 'task_config keys: title, description, priority, due_hours';
    end if;
    if p_task_config ? 'priority'
        and p_task_config ->> 'priority' not in ('low', 'normal', 'high', 'urgent') then
        raise exception using
            errcode = 'IT005', message = 'task_config.priority: low, normal, high or urgent';
    end if;
    if p_task_config ? 'due_hours' and (
        jsonb_typeof(p_task_config -> 'due_hours') <> 'number'
        or (p_task_config ->> 'due_hours')::numeric not between 0 and 8760
    ) then
        raise exception using
            errcode = 'IT005', message = 'task_config.due_hours: a number of hours, 0-8760';
    end if;
    if length(p_task_config ->> 'title') > 200 then
        raise exception using
            errcode = 'IT005', message = 'task_config.title: at most 200 characters';
    end if;

    if jsonb_typeof(p_skip_conditions) is distinct from 'array' then
        raise exception using
            errcode = 'IT005', message = 'skip_conditions must be a JSON array of conditions';
    end if;
    -- The workflow engine's checker, over the enrollment's columns plus
    -- contact.* and campaign.*.
    select string_agg(format('%s: %s', x.path, x.problem), '; ') into v_problems
    from jsonb_array_elements(p_skip_conditions) with ordinality as e (v, i)
    cross join lateral app._wf_condition_problems(
        p_cond => e.v,
        p_path => format('skip_conditions[%s]', e.i - 1),
        p_columns => app._campaign_condition_fields(),
        p_org_columns => '{}'::text[],
        p_depth => 0
    ) as x;
    if v_problems is not null then
        raise exception using
            errcode = 'IT005', message = 'invalid skip conditions: ' || v_problems;
    end if;

    if p_ab_variants is not null then
        if jsonb_typeof(p_ab_variants) <> 'array' or jsonb_array_length(p_ab_variants) < 2 then
            raise exception using
                errcode = 'IT005', message = 'ab_variants is an array of at least 2 variants';
        end if;
        for v_variant in select e.v from jsonb_array_elements(p_ab_variants) as e (v) loop
            v_id := v_variant ->> 'id';
            if jsonb_typeof(v_variant) <> 'object' or v_id is null
                or v_id !~ '^[A-Za-z0-9_-]{1,32}$' then
                raise exception using
                    errcode = 'IT005',
                    message = 'each A/B variant has an "id" of 1-32 letters, digits, _ or -';
            end if;
            if v_id = any(v_ids) then
                raise exception using
                    errcode = 'IT005', message = format('A/B variant id %L is repeated', v_id);
            end if;
            v_ids := v_ids || v_id;
            if exists (
                select 1 from jsonb_object_keys(v_variant) as k
                where k not in ('id', 'subject', 'body_html', 'body_text', 'weight')
            ) then
                raise exception using
                    errcode = 'IT005',
                    message = 'A/B variant keys: id, subject, body_html, body_text, weight';
            end if;
            if jsonb_typeof(coalesce(v_variant -> 'weight', '1')) <> 'number'
                or coalesce((v_variant ->> 'weight')::numeric, 1) <= 0 then
                raise exception using
                    errcode = 'IT005',
                    message = format('A/B variant %s: weight must be a positive number', v_id);
            end if;
            perform app._campaign_assert_tokens(
                v_variant ->> 'subject', format('variant %s subject', v_id)
            );
            perform app._campaign_assert_tokens(
                v_variant ->> 'body_html', format('variant %s body_html', v_id)
            );
            perform app._campaign_assert_tokens(
                v_variant ->> 'body_text', format('variant %s body_text', v_id)
            );
        end loop;
    end if;
end
$function$;

-- A variants array with every weight present (default 1) and its content
-- normalised.
create or replace function app._campaign_normalize_variants(p_variants jsonb)
returns jsonb
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_variants is null then
        return null;
    end if;
    return (
        select jsonb_agg(
            jsonb_strip_nulls(jsonb_build_object(
                'id', v ->> 'id',
                'subject', app._campaign_normalize(v ->> 'subject'),
                'body_html', app._campaign_normalize(v ->> 'body_html'),
                'body_text', app._campaign_normalize(v ->> 'body_text'),
                'weight', coalesce(v -> 'weight', '1')
            ))
            order by o
        )
        from jsonb_array_elements(p_variants) with ordinality as e (v, o)
    );
end
$function$;

create or replace function api.add_sequence_step(
    p_campaign_id uuid,
    p_channel text,
    p_step_number integer default null,
    p_delay_days integer default 0,
    p_delay_hours integer default 0,
    p_delay_minutes integer default 0,
    p_template_id uuid default null,
    p_subject text default null,
    p_body_html text default null,
    p_body_text text default null,
    p_task_config jsonb default '{}',
    p_skip_conditions jsonb default '[]',
    p_stop_on_reply boolean default true,
    p_ab_variants jsonb default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(p_campaign_id);
    v_id uuid := gen_random_uuid();
    v_number integer;
begin
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    perform app._campaign_assert_step(
        p_org_id => v_c.org_id,
        p_channel => p_channel,
        p_template_id => p_template_id,
        p_subject => p_subject,
        p_body_html => p_body_html,
        p_body_text => p_body_text,
        p_task_config => coalesce(p_task_config, '{}'),
        p_skip_conditions => coalesce(p_skip_conditions, '[]'),
        p_ab_variants => p_ab_variants,
        p_delays => array[p_delay_days, p_delay_hours, p_delay_minutes]
    );
    v_number := coalesce(
        p_step_number,
        (
            select coalesce(max(s.step_number), 0) + 1
            from app.campaign_sequences as s
            where s.org_id = v_c.org_id and s.campaign_id = v_c.id
        )
    );
    if v_number not between 1 and 1000 then
        raise exception using errcode = 'IT005', message = 'step numbers are 1 to 1000';
    end if;
    if exists (
        select 1 from app.campaign_sequences as s
        where s.org_id = v_c.org_id and s.campaign_id = v_c.id and s.step_number = v_number
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('the campaign already has a step %s', v_number),
            hint = 'Use api.update_sequence_step to change it.';
    end if;
    insert into app.campaign_sequences (
        org_id, id, campaign_id, step_number, channel, delay_days, delay_hours, delay_minutes,
        template_id, subject, body_html, body_text, task_config, skip_conditions, stop_on_reply,
        ab_variants
    )
    values (
        v_c.org_id, v_id, v_c.id, v_number, p_channel, p_delay_days, p_delay_hours,
        p_delay_minutes, p_template_id, app._campaign_normalize(p_subject),
        app._campaign_normalize(p_body_html), app._campaign_normalize(p_body_text),
        coalesce(p_task_config, '{}'), coalesce(p_skip_conditions, '[]'),
        coalesce(p_stop_on_reply, true), app._campaign_normalize_variants(p_ab_variants)
    );
    if v_c.status in ('active', 'paused') then
        perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    end if;
    return v_id;
end
$function$;

comment on function api.add_sequence_step(
    uuid, text, integer, integer, integer, integer, uuid, text, text, text, jsonb, jsonb, boolean,
    jsonb
) is
$$Add a step to a campaign (owner or campaigns.manage_any): channel email, linkedin, phone,
sms, task or
wait; the delay after the previous step (after enrollment for step 1); for email a template
(p_template_id) or p_subject with p_body_html/p_body_text, or p_ab_variants
([{"id", "subject", "body_html", "body_text", "weight"}], at least 2). Email content may use
{{contact.first_name}}, {{contact.last_name}}, {{contact.full_name}}, {{contact.name}},
{{contact.email}}, {{contact.company}}, {{contact.title}}, {{campaign.name}},
{{sender.name}}, {{sender.first_name}}, {{sender.email}}; anything else is IT005.
p_task_config {title, description, priority, due_hours} shapes linkedin/phone/task
activities. p_skip_conditions: conditions (docs/workflows.md format) over the enrollment
(bare fields) and contact.* / campaign.*; the step is skipped when any holds. p_step_number
defaults to the next number. Returns the step id.$$;

create or replace function api.update_sequence_step(p_step_id uuid, p_changes jsonb)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_s app.campaign_sequences%rowtype;
    v_c app.campaigns%rowtype;
begin
    perform app._assert_changes(
        p_changes,
        array[
            'channel', 'delay_days', 'delay_hours', 'delay_minutes', 'template_id', 'subject',
            'body_html', 'body_text', 'task_config', 'skip_conditions', 'stop_on_reply',
            'ab_variants', 'is_active'
        ],
        array[
            'channel', 'delay_days', 'delay_hours', 'delay_minutes', 'stop_on_reply', 'is_active'
        ]
    );
    select s.* into v_s
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.id = p_step_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign step %s not found', p_step_id);
    end if;
    v_c := app._campaign_for_change(v_s.campaign_id);
    if v_c.status in ('completed', 'archived') then
        raise exception using
            errcode = 'IT013', message = format('campaign is %s and can''t change', v_c.status);
    end if;
    select s.* into v_s
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.id = p_step_id
    for update;
    v_s := app._apply_changes(v_s, p_changes);
    perform app._campaign_assert_step(
        p_org_id => v_org_id,
        p_channel => v_s.channel,
        p_template_id => v_s.template_id,
        p_subject => v_s.subject,
        p_body_html => v_s.body_html,
        p_body_text => v_s.body_text,
        p_task_config => v_s.task_config,
        p_skip_conditions => v_s.skip_conditions,
        p_ab_variants => v_s.ab_variants,
        p_delays => array[v_s.delay_days, v_s.delay_hours, v_s.delay_minutes]
    );
    update app.campaign_sequences as s
    set
        channel = v_s.channel,
        delay_days = v_s.delay_days,
        delay_hours = v_s.delay_hours,
        delay_minutes = v_s.delay_minutes,
        template_id = v_s.template_id,
        subject = app._campaign_normalize(v_s.subject),
        body_html = app._campaign_normalize(v_s.body_html),
        body_text = app._campaign_normalize(v_s.body_text),
        task_config = v_s.task_config,
        skip_conditions = v_s.skip_conditions,
        stop_on_reply = v_s.stop_on_reply,
        ab_variants = app._campaign_normalize_variants(v_s.ab_variants),
        is_active = v_s.is_active,
        updated_at = app.now()
    where s.org_id = v_org_id and s.id = p_step_id;
    if v_c.status = 'active' then
        perform app._campaign_assert_runnable(v_org_id, v_c.id);
    end if;
end
$function$;

comment on function api.update_sequence_step(uuid, jsonb) is
$$Change a step (owner or campaigns.manage_any). p_changes is a JSON object of the fields to change:
channel, delay_days, delay_hours, delay_minutes, template_id, subject, body_html, body_text,
task_config, skip_conditions, stop_on_reply, ab_variants (null removes the A/B test),
is_active (false makes the tick pass over the step); the content fields may be null. The
same checks as api.add_sequence_step (IT005); on an active campaign the sequence must stay
runnable (every active email step has content). Enrollments keep their place: the change
applies to steps not run yet.$$;

-- IT005 unless the campaign can run: steps numbered 1..n without gaps, at
-- least one active step, every active email step with content; IT011 when it
-- has an active email step and the org no email settings.
create or replace function app._campaign_assert_runnable(p_org_id uuid, p_campaign_id uuid)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_count integer;
    v_max integer;
    v_bad integer;
begin
    select count(*), max(s.step_number) into v_count, v_max
    from app.campaign_sequences as s
    where s.org_id = p_org_id and s.campaign_id = p_campaign_id;
    if v_count = 0 or not exists (
        select 1 from app.campaign_sequences as s
        where s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
    ) then
        raise exception using errcode = 'IT005', message = 'the campaign has no active steps';
    end if;
    if v_max <> v_count then
        raise exception using
            errcode = 'IT005',
            message = format(
                'steps must be numbered 1 to %s without gaps (found %s)',
                v_count,
                (
                    select string_agg(s.step_number::text, ', ' order by s.step_number)
                    from app.campaign_sequences as s
                    where s.org_id = p_org_id and s.campaign_id = p_campaign_id
                )
            );
    end if;
    select s.step_number into v_bad
    from app.campaign_sequences as s
    where
        s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
        and s.channel = 'email'
        and s.template_id is null
        and (
            case
                when s.ab_variants is not null then exists (
                    select 1 from jsonb_array_elements(s.ab_variants) as v (variant)
                    where
                        coalesce(v.variant ->> 'subject', s.subject, '') = ''
                        or coalesce(
                            v.variant ->> 'body_html', v.variant ->> 'body_text',
                            s.body_html, s.body_text, ''
                        ) = ''
                )
                else coalesce(s.subject, '') = ''
                or coalesce(s.body_html, s.body_text, '') = ''
            end
        )
    order by s.step_number
    limit 1;
    if v_bad is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                'email step %s has no content: give a template, or a subject and a body '
                || '(for every A/B variant)',
                v_bad
            );
    end if;
    if not exists (select 1 from app.email_settings as s where s.org_id = p_org_id)
        and exists (
            select 1 from app.campaign_sequences as s
            where
                s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.is_active
                and s.channel = 'email'
        ) then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;
end
$function$;

create or replace function api.activate_campaign(p_campaign_id uuid)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_enrolled integer;
begin
    -- RAISE refuses a null HINT: the paused case has its own statement.
    if v_c.status = 'paused' then
        raise exception using
            errcode = 'IT013',
            message = 'only a draft campaign can be activated (this one is paused)',
            hint = 'Use api.resume_campaign.';
    elsif v_c.status <> 'draft' then
        raise exception using
            errcode = 'IT013',
            message = format('only a draft campaign can be activated (this one is %s)', v_c.status);
    end if;
    perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    update app.campaigns as c
    set status = 'active', activated_at = app.now(), updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    perform app._campaign_release_parked(v_c.org_id, v_c.id);
    select c.total_enrolled into v_enrolled
    from app.campaigns as c
    where c.org_id = v_c.org_id and c.id = v_c.id;
    perform app._campaign_notify(
        p_org_id => v_c.org_id,
        p_user_id => v_c.owner_id,
        p_template => 'campaign_activated',
        p_variables => jsonb_build_object(
            'campaign', jsonb_build_object('name', v_c.name, 'enrolled_count', v_enrolled)
        ),
        p_campaign_id => v_c.id
    );
    return v_enrolled;
end
$function$;

comment on function api.activate_campaign(uuid) is
$$Start a draft campaign (owner or campaigns.manage_any): the steps must be numbered 1..n
without gaps,
at least one active, and every active email step must have content (IT005); email steps need
the org's email settings (IT011). Enrollments made while it was a draft start now (each at
its next send window). The owner gets the campaign_activated notification. Returns the number
enrolled.$$;

-- Enrollments parked by a pause (or made while the campaign was a draft)
-- become active again, due at the latest of their step time and now.
create or replace function app._campaign_release_parked(p_org_id uuid, p_campaign_id uuid)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_count integer;
begin
    update app.campaign_enrollments as e
    set
        status = 'active',
        stop_reason = null,
        next_step_at = greatest(e.next_step_at, app.now()),
        updated_at = app.now()
    where
        e.org_id = p_org_id and e.campaign_id = p_campaign_id and e.status = 'paused'
        and e.stop_reason = 'campaign_paused';
    get diagnostics v_count = row_count;
    return v_count;
end
$function$;

create or replace function api.pause_campaign(p_campaign_id uuid)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_count integer;
begin
    if v_c.status <> 'active' then
        raise exception using
            errcode = 'IT013',
            message = format('only an active campaign can be paused (this one is %s)', v_c.status);
    end if;
    update app.campaigns as c
    set status = 'paused', updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    update app.campaign_enrollments as e
    set status = 'paused', stop_reason = 'campaign_paused', updated_at = app.now()
    where e.org_id = v_c.org_id and e.campaign_id = v_c.id and e.status = 'active';
    get diagnostics v_count = row_count;
    return v_count;
end
$function$;

comment on function api.pause_campaign(uuid) is
$$Pause an active campaign (owner or campaigns.manage_any; IT013 otherwise): its active
enrollments are
parked (status paused, stop_reason campaign_paused) and keep their next step time; nothing
is sent until api.resume_campaign. Replies, bounces and unsubscribes still stop enrollments.
Returns the number parked.$$;

create or replace function api.resume_campaign(p_campaign_id uuid)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
begin
    if v_c.status <> 'paused' then
        raise exception using
            errcode = 'IT013',
            message = format('only a paused campaign can be resumed (this one is %s)', v_c.status);
    end if;
    perform app._campaign_assert_runnable(v_c.org_id, v_c.id);
    update app.campaigns as c
    set status = 'active', updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    return app._campaign_release_parked(v_c.org_id, v_c.id);
end
$function$;

comment on function api.resume_campaign(uuid) is
$$Resume a paused campaign (owner or campaigns.manage_any; IT013 otherwise). Parked enrollments
become
active; steps that fell due during the pause run at the next tick inside the send window
(nothing is sent twice, nothing is dropped). Enrollments paused for errors stay paused.
Returns the number resumed.$$;

create or replace function api.complete_campaign(p_campaign_id uuid)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_c app.campaigns%rowtype := app._campaign_for_change(
        p_campaign_id => p_campaign_id, p_lock_enrollments => true
    );
    v_count integer;
begin
    if v_c.status not in ('draft', 'active', 'paused') then
        raise exception using
            errcode = 'IT013', message = format('campaign is already %s', v_c.status);
    end if;
    update app.campaigns as c
    set status = 'completed', completed_at = app.now(), updated_at = app.now()
    where c.org_id = v_c.org_id and c.id = v_c.id;
    with stopped as (
        update app.campaign_enrollments as e
        set
            status = 'stopped', stop_reason = 'campaign_completed', next_step_at = null,
            updated_at = app.now()
        where
            e.org_id = v_c.org_id and e.campaign_id = v_c.id
            and e.status in ('active', 'paused')
        returning e.org_id, e.campaign_id, e.id, e.current_step
    )

    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    select s.org_id, s.campaign_id, s.id, s.current_step, 'none', 'stopped', 'campaign completed'
    from stopped as s;
    get diagnostics v_count = row_count;
    return v_count;
end
$function$;

comment on function api.complete_campaign(uuid) is
$$End a campaign (owner or campaigns.manage_any): it stops sending, and its active and paused
enrollments stop (status stopped, stop_reason campaign_completed, one log line each).
Returns the number stopped. IT013 when already completed or archived.$$;

-- A guarded notification from the campaign engine: a failure (an org's
-- broken template override, a missing user) is a warning, never an error.
create or replace function app._campaign_notify(
    p_org_id uuid,
    p_user_id uuid,
    p_template text,
    p_variables jsonb,
    p_campaign_id uuid
)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_message text;
begin
    if p_user_id is null then
        return false;
    end if;
    perform from app._notification_send(row(
        p_org_id,  -- org_id
        array[p_user_id],  -- user_ids
        null,  -- category
        p_template,  -- template_slug
        null,  -- title
        null,  -- message
        p_variables,  -- variables
        null,  -- type
        null,  -- priority
        'campaign',  -- entity_type
        p_campaign_id,  -- entity_id
        format('/campaigns/%s', p_campaign_id),  -- action_url
        'Open campaign',  -- action_label
        null,  -- channels
        null,  -- group_key
        null,  -- expires_at
        false  -- critical
    )::app.notification_request);
    return true;
exception when others then
    get stacked diagnostics v_message = message_text;
    raise warning 'campaign notification % not sent: %', p_template, v_message;
    return false;
end
$function$;

-- An email template a campaign step uses can't be deleted (IT013, naming the
-- step) instead of the raw foreign-key error.
create or replace function app._tg_email_template_in_campaign()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_step integer;
    v_campaign text;
begin
    select s.step_number, c.name into v_step, v_campaign
    from app.campaign_sequences as s
    inner join app.campaigns as c on c.org_id = s.org_id and c.id = s.campaign_id
    where s.org_id = old.org_id and s.template_id = old.id
    order by c.name, s.step_number
    limit 1;
    if found then
        raise exception using
            errcode = 'IT013',
            message = format(
                'email template %s is used by step %s of campaign %s', old.slug, v_step, v_campaign
            ),
            hint = 'Point the step at other content with api.update_sequence_step first.';
    end if;
    return old;
end
$function$;
