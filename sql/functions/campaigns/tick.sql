-- The campaign tick: due enrollments run their next step set-based, a
-- handful of statements per batch whatever its size.

-- Substitute the campaign variables into a normalised template ({{a.b}},
-- see app._campaign_normalize). p_values follow app._campaign_variables()
-- and come prepared by app._campaign_values (escaped for HTML or not, their
-- braces set aside as chr(1) so that contact data can't name another
-- variable). A {{ a.b | default: "text" }} renders its text (HTML-escaped
-- with p_html, as the values are) when the value is empty, like app._render.
-- A token the tick does not know (only possible through an org email
-- template) renders empty, or its default.
--
-- In three parts, so that the tick's plan makes no call for the usual
-- template (its known tokens only): app._campaign_fill_known substitutes the
-- known tokens and app._campaign_fill_finish puts the braces back, both
-- inlined; only a template with tokens left (a default, an unknown token)
-- reaches app._campaign_fill_rest. A PL/pgSQL call with its SET clause cost
-- about 1.5 us, three per recipient. api.preview_email calls the whole,
-- app._campaign_fill.
create or replace function app._campaign_fill_known(p_template text, p_values text[])
returns text
language sql
immutable
as $function$
    select case
        when strpos(p_template, '{{') = 0 then p_template
        else
            replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
                replace(
                    p_template,
                    '{{contact.first_name}}', p_values[1]),
                '{{contact.last_name}}', p_values[2]),
                '{{contact.full_name}}', p_values[3]),
                '{{contact.name}}', p_values[4]),
                '{{contact.email}}', p_values[5]),
                '{{contact.company}}', p_values[6]),
                '{{contact.title}}', p_values[7]),
                '{{campaign.name}}', p_values[8]),
                '{{sender.name}}', p_values[9]),
                '{{sender.first_name}}', p_values[10]),
                '{{sender.email}}', p_values[11])
    end
$function$;

-- The tokens app._campaign_fill_known left (with a default, or unknown), then
-- the braces back.
create or replace function app._campaign_fill_rest(
    p_filled text, p_values text[], p_html boolean default false
)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_out text := '';
    v_rest text := p_filled;
    v_pos integer;
    v_token text;
    v_match text[];
    v_value text;
    v_default text;
    v_pattern text := app._render_pattern();
begin
    if p_filled is null then
        return null;
    end if;
    loop
        v_pos := regexp_instr(v_rest, v_pattern);
        exit when v_pos = 0;
        v_token := regexp_substr(v_rest, v_pattern);
        v_match := regexp_match(v_token, v_pattern);
        v_value := p_values[array_position(app._campaign_variables(), v_match[1])];
        v_default := coalesce(v_match[2], v_match[3]);
        if v_default is not null and coalesce(btrim(v_value), '') = '' then
            v_value := replace(
                case when p_html then app._html_escape(v_default) else v_default end,
                '{', chr(1)
            );
        end if;
        v_out := v_out || left(v_rest, v_pos - 1) || coalesce(v_value, '');
        v_rest := substr(v_rest, v_pos + length(v_token));
    end loop;
    return replace(v_out || v_rest, chr(1), '{');
end
$function$;

-- What app._campaign_fill_known made of p_template, finished: the braces
-- back, or the tokens left rendered. A template without '{{' stays as written
-- (a chr(1) in it too), null stays null (a step without a text body). Called
-- with columns (the arguments are read several times).
drop function if exists app._campaign_fill_finish(text, text[], boolean);
create or replace function app._campaign_fill_finish(
    p_template text, p_filled text, p_values text[], p_html boolean default false
)
returns text
language sql
immutable
as $function$
    select case
        when p_template is null or strpos(p_template, '{{') = 0 then p_template
        when strpos(p_filled, '{{') = 0 then replace(p_filled, chr(1), '{')
        else app._campaign_fill_rest(p_filled, p_values, p_html)
    end
$function$;

create or replace function app._campaign_fill(
    p_template text, p_values text[], p_html boolean default false
)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- A variable, so that app._campaign_fill_finish (which reads it several
    -- times) is inlined; it keeps a template without '{{' as written.
    v_filled text := app._campaign_fill_known(p_template, p_values);
begin
    return app._campaign_fill_finish(p_template, v_filled, p_values, p_html);
end
$function$;

-- One recipient's variable values for app._campaign_fill, in the order of
-- app._campaign_variables(): the contact, the campaign's name and its owner
-- (the sender); nulls as '', braces set aside; vars_html HTML-escaped for an
-- HTML body. The tick's plan and api.preview_email both take them from here
-- (one call for both arrays: the tick makes it per recipient).
--
-- Inlined (docs/conventions.md, "Inlined SQL helpers"): plain LANGUAGE sql,
-- no SET clause, one SELECT of expressions, so that the tick's plan computes
-- them in its own query (about 8 us a recipient as a PL/pgSQL call).
drop function if exists app._campaign_values(app.contacts, text, text, text);
create or replace function app._campaign_values(
    p_first_name text,
    p_last_name text,
    p_full_name text,
    p_email text,
    p_company text,
    p_title text,
    p_campaign_name text,
    p_sender_name text,
    p_sender_email text
)
returns table (vars text[], vars_html text[])
language sql
immutable
as $function$
    select
        array[
            replace(coalesce(p_first_name, ''), '{', chr(1)),
            replace(coalesce(p_last_name, ''), '{', chr(1)),
            replace(coalesce(p_full_name, ''), '{', chr(1)),
            replace(coalesce(p_full_name, ''), '{', chr(1)),
            replace(coalesce(p_email, ''), '{', chr(1)),
            replace(coalesce(p_company, ''), '{', chr(1)),
            replace(coalesce(p_title, ''), '{', chr(1)),
            replace(coalesce(p_campaign_name, ''), '{', chr(1)),
            replace(coalesce(p_sender_name, ''), '{', chr(1)),
            replace(coalesce(split_part(p_sender_name, ' ', 1), ''), '{', chr(1)),
            replace(coalesce(p_sender_email, ''), '{', chr(1))
        ],
        array[
            replace(app._html_escape(coalesce(p_first_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_last_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_full_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_full_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_email, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_company, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_title, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_campaign_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_sender_name, '')), '{', chr(1)),
            replace(app._html_escape(coalesce(split_part(p_sender_name, ' ', 1), '')), '{', chr(1)),
            replace(app._html_escape(coalesce(p_sender_email, '')), '{', chr(1))
        ]
$function$;

-- Does any of a step's skip conditions hold for this document? Null when a
-- condition can't be evaluated (the tick counts an error for the enrollment
-- instead of failing the batch).
create or replace function app._campaign_skip_holds(p_conditions jsonb, p_doc jsonb)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return exists (
        select 1
        from jsonb_array_elements(p_conditions) as c (condition)
        where app._wf_holds(c.condition, p_doc, null, null)
    );
exception when others then
    return null;
end
$function$;

-- Daily send limits: one counter row per campaign and local day, locked
-- (in key order) so that concurrent ticks of one campaign never exceed it.
-- Every tick takes these before it locks campaigns (the totals trigger).
create or replace function app._campaign_lock_daily(
    p_now timestamptz, p_org_ids uuid[], p_ids uuid[]
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    -- Most batches have no limited campaign: the orgs' few campaigns say so
    -- without looking up each enrollment.
    if not exists (
        select 1
        from app.campaigns as c
        where
            c.org_id = any(p_org_ids)
            and c.daily_send_limit is not null and c.status = 'active'
    ) then
        return;
    end if;
    insert into app.campaign_daily_sends as d (org_id, campaign_id, local_date, sent)
    select distinct e.org_id, e.campaign_id, (p_now at time zone c.timezone)::date, 0
    from unnest(p_org_ids, p_ids) as x (org_id, id)
    inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
    inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
    where
        c.daily_send_limit is not null
        and e.org_id = any(p_org_ids) and c.org_id = any(p_org_ids)  -- for Citus (SQL shapes)
    order by 1, 2
    on conflict (org_id, campaign_id, local_date) do update set sent = d.sent;
end
$function$;

-- Run the next step of the given enrollments (locked by the caller) at
-- p_now. Statements: lock the daily counters; then one statement that takes
-- the read-only plan (app._campaign_plan_batch, tick_plan.sql), writes the
-- sends, jobs, activities, logs and daily counts, and moves every enrollment
-- on; then the owners of enrollments paused by a third error hear of it.
create or replace function app._campaign_run_batch(
    p_now timestamptz, p_org_ids uuid[], p_ids uuid[]
)
returns app.campaign_batch_counts
language plpgsql
set search_path = pg_catalog, pg_temp
-- The batch's rows were read a moment ago and sit in shared buffers: a random
-- read costs what a sequential one does. With the default (4) the planner
-- updates the enrollments by hashing the whole table (40 ms a batch at 100,000
-- enrollments) rather than fetching the 1,000 rows by address (about 1 ms).
set random_page_cost = 1.1
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_counts app.campaign_batch_counts;
    v_moved integer;
    v_paused record;
    v_plan app.campaign_plan_row[];
    v_plan_ids uuid[];
    v_paused_ids uuid[];
    v_retry_ids uuid[];
    v_retry_ats timestamptz[];
    -- Every table is filtered by the batch's orgs too (the tick passes one org):
    -- on Citus that routes each statement to the org's shards (docs/scale-out.md).
    v_orgs uuid[] := array(select distinct o.id from unnest(p_org_ids) as o (id));
begin
    perform app._campaign_lock_daily(p_now => p_now, p_org_ids => p_org_ids, p_ids => p_ids);

    -- What to do is decided read-only (app._campaign_plan_batch), in a statement
    -- of its own: on Citus a statement that writes may not call a function that
    -- reads the shards. The next statement adds the new rows' ids and tokens and
    -- carries it out.
    v_plan := array(
        select d from app._campaign_plan_batch(p_now => p_now, p_org_ids => p_org_ids, p_ids => p_ids) as d
    );
    v_plan_ids := array(select d.id from unnest(v_plan) as d);
    -- An error's back-off: the next window after 5 minutes per error in a row (the
    -- window function has an EXCEPTION block: not in the statement that writes).
    select array_agg(d.id), array_agg(
        app._campaign_next_send_time(
            p_ts => p_now + interval '5 minutes' * (d.error_count + 1),
            p_timezone => d.zone, p_window_start => d.send_window_start,
            p_window_end => d.send_window_end, p_send_days => d.send_days
        )
    )
    into v_retry_ids, v_retry_ats
    from unnest(v_plan) as d
    where d.act in ('error_address', 'error_settings', 'error_condition') and not d.pauses;
    with plan as materialized (
        select
            d.*,
            -- Time-ordered: the sends' key and message id indexes grow at one edge.
            case when d.act = 'run' and d.channel = 'email' then app._uuid7() end
                as send_id,
            case when d.act = 'run' and d.channel in ('linkedin', 'phone', 'task')
                    then gen_random_uuid() end as activity_id,
            case when d.act = 'run' and d.channel = 'email'
                    then replace(gen_random_uuid()::text, '-', '') end as reply_token,
            r.retry_at,
            -- Here, not in the UPDATE below: Citus takes no function call (format)
            -- in an UPDATE's CASE (docs/scale-out.md, "SQL shapes").
            case
                when d.act = 'error_address'
                    then format('invalid or missing email address %L', d.email)
                when d.act = 'error_settings'
                    then 'email is not configured for this organization'
                when d.act = 'error_condition'
                    then 'a skip condition could not be evaluated'
            end as error_text
        from unnest(v_plan) as d
        left join unnest(v_retry_ids, v_retry_ats) as r (id, retry_at) on r.id = d.id
    ),

    sends as (
        insert into app.email_sends (
            org_id, id, to_email, from_email, from_name, reply_to, subject, html_body, text_body,
            category, template_id, variables, entity_type, entity_id, enrollment_id, status,
            provider, message_id, reply_token, unsubscribe_token, queued_at, created_by,
            created_at, updated_at
        )
        select
            p.org_id, p.send_id, p.email, st.from_email, st.from_name,
            format('reply+%s@%s', p.reply_token, st.reply_domain),
            p.subject, p.body_html, p.body_text, 'campaign', p.template_id,
            jsonb_build_object(
                'campaign_id', p.campaign_id, 'step_number', p.step_number,
                'ab_variant', p.variant
            ),
            'contact', p.contact_id, p.id, 'queued', st.provider,
            format('<%s@%s>', p.send_id, st.reply_domain), p.reply_token,
            replace(gen_random_uuid()::text, '-', ''),
            -- The batch's clock, not a column default per row (app.now() per
            -- row and column was a fifth of the tick's time).
            p_now, null, p_now, p_now
        from plan as p
        inner join app.email_settings as st on st.org_id = p.org_id
        where p.send_id is not null and st.org_id = any(v_orgs)
        returning email_sends.org_id, email_sends.id
    ),

    jobs as (
        insert into queue.pgqueuer (
            priority, entrypoint, payload, status, execute_after, dedupe_key
        )
        select
            0, 'email.send',
            convert_to(
                format('{"org_id": "%s", "email_send_id": "%s"}', s.org_id, s.id), 'UTF8'
            ),
            'queued', pg_catalog.now(), 'email.send:' || s.id
        from sends as s
    ),

    activities as (
        insert into app.activities (
            org_id, id, entity_type, entity_id, type, subject, description, status, priority,
            due_date, assignee_id, metadata
        )
        select
            p.org_id, p.activity_id, 'contact', p.contact_id,
            case p.channel when 'phone' then 'call' else 'task' end,
            case p.channel
                when 'linkedin'
                    then 'LinkedIn: ' || coalesce(p.task_config ->> 'title', 'Send LinkedIn message')
                when 'phone'
                    then 'Call: ' || coalesce(p.task_config ->> 'title', 'Campaign follow-up call')
                else coalesce(p.task_config ->> 'title', 'Campaign task')
            end,
            p.task_config ->> 'description',
            case p.channel when 'phone' then 'scheduled' else 'open' end,
            coalesce(p.task_config ->> 'priority', 'normal'),
            p_now + make_interval(
                secs => coalesce((p.task_config ->> 'due_hours')::numeric, 24) * 3600
            ),
            p.owner_id,
            jsonb_build_object(
                'campaign_id', p.campaign_id, 'enrollment_id', p.id,
                'sequence_step', p.step_number, 'channel', p.channel
            )
        from plan as p
        where p.activity_id is not null
    ),

    daily as (
        update app.campaign_daily_sends as d
        set sent = d.sent + n.sends
        from (
            select p.org_id, p.campaign_id, p.local_date, count(*) as sends
            from plan as p
            where p.send_id is not null and p.daily_send_limit is not null
            group by p.org_id, p.campaign_id, p.local_date
        ) as n
        where
            d.org_id = any(v_orgs)
            and d.org_id = n.org_id and d.campaign_id = n.campaign_id
            and d.local_date = n.local_date
    ),

    moved as (
        update app.campaign_enrollments as e
        set
            status = case
                when p.act in ('run', 'skip', 'skip_sms') and p.next_number is null
                    then 'completed'
                when p.act = 'complete' then 'completed'
                when p.act = 'stop_contact' then 'stopped'
                when p.act = 'suppressed' then 'stopped'
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses then 'paused'
                else e.status
            end,
            stop_reason = case
                when p.act = 'stop_contact' then case
                    when p.contact_gone then 'contact_deleted'
                    else 'do_not_contact'
                end
                when p.act = 'suppressed' then 'suppressed'
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses
                    then 'errors'
                else e.stop_reason
            end,
            current_step = case
                when p.act in ('run', 'skip', 'skip_sms') then p.step_number
                else e.current_step
            end,
            steps_completed = e.steps_completed
            + (p.act in ('run', 'skip', 'skip_sms'))::integer,
            last_step_at = case
                when p.act in ('run', 'skip', 'skip_sms') then p_now
                else e.last_step_at
            end,
            next_step_at = case
                when p.act in ('run', 'skip', 'skip_sms', 'defer_limit') then p.due_at
                when p.act = 'defer_window' then p.open_at
                when p.act in ('error_address', 'error_settings', 'error_condition') and not p.pauses
                    then p.retry_at
                when p.act in ('error_address', 'error_settings', 'error_condition') then e.next_step_at
            end,
            emails_sent = e.emails_sent + (p.send_id is not null)::integer,
            linkedin_sent = e.linkedin_sent
            + (p.activity_id is not null and p.channel = 'linkedin')::integer,
            calls_made = e.calls_made + (p.activity_id is not null and p.channel = 'phone')::integer,
            tasks_created = e.tasks_created
            + (p.activity_id is not null and p.channel = 'task')::integer,
            ab_variant = coalesce(e.ab_variant, p.variant),
            error_count = case
                when p.act in ('error_address', 'error_settings', 'error_condition') then e.error_count + 1
                when p.act in ('run', 'skip', 'skip_sms') then 0
                else e.error_count
            end,
            last_error = coalesce(p.error_text, e.last_error),
            last_error_at = case
                when p.act in ('error_address', 'error_settings', 'error_condition') then p_now
                else e.last_error_at
            end,
            completed_at = case
                when (p.act in ('run', 'skip', 'skip_sms') and p.next_number is null)
                    or p.act = 'complete' then p_now
                else e.completed_at
            end,
            updated_at = p_now
        from plan as p
        -- By the keys in an array (an index probe each): a join on the key alone
        -- hashes the whole table. Not by the row's address (ctid), which Citus
        -- refuses in a modification that reads a CTE (docs/scale-out.md).
        where
            e.org_id = any(v_orgs) and e.id = any(v_plan_ids)
            and e.org_id = p.org_id and e.id = p.id
        returning e.id
    ),

    logged as (
        insert into app.campaign_sequence_logs (
            org_id, campaign_id, enrollment_id, sequence_id, step_number, channel, status,
            detail, ab_variant, email_send_id, activity_id, scheduled_at, sent_at, created_at
        )
        select
            p.org_id, p.campaign_id, p.id, p.step_id, coalesce(p.step_number, p.current_step),
            coalesce(p.channel, 'none'),
            case p.act
                when 'run' then case when p.channel = 'wait' then 'completed' else 'sent' end
                when 'skip' then 'skipped'
                when 'skip_sms' then 'skipped'
                when 'defer_window' then 'deferred'
                when 'defer_limit' then 'deferred'
                when 'error_address' then 'failed'
                when 'error_settings' then 'failed'
                when 'error_condition' then 'failed'
                when 'suppressed' then 'suppressed'
                when 'stop_contact' then 'stopped'
                when 'complete' then 'completed'
            end,
            case p.act
                when 'run' then case when p.channel = 'wait' then 'wait elapsed' end
                when 'skip' then 'skipped: a skip condition holds'
                when 'skip_sms' then 'skipped: no sms provider configured'
                when 'defer_window' then 'outside the send window until ' || p.open_at
                when 'defer_limit' then 'daily send limit reached'
                when 'error_address' then format('invalid or missing email address %L', p.email)
                when 'error_settings' then 'email is not configured for this organization'
                when 'error_condition' then 'a skip condition could not be evaluated'
                when 'suppressed' then 'recipient is suppressed'
                when 'stop_contact' then case
                    when p.contact_gone then 'contact deleted'
                    else 'contact is do not contact'
                end
                when 'complete' then 'no steps left'
            end
            || case
                when p.act in ('error_address', 'error_settings', 'error_condition') and p.pauses
                    then ' (3 errors in a row: paused)'
                else ''
            end,
            p.variant, p.send_id, p.activity_id, p.next_step_at,
            case when p.act = 'run' then p_now end, p_now
        from plan as p
    )

    select
        count(*)::integer,
        (count(*) filter (where p.act = 'run'))::integer,
        (count(*) filter (where p.act in ('skip', 'skip_sms')))::integer,
        (count(*) filter (where p.act in ('error_address', 'error_settings', 'error_condition')))::integer,
        (count(*) filter (where p.act in ('defer_window', 'defer_limit')))::integer,
        (
            count(*) filter (
                where p.act = 'complete'
                or (p.act in ('run', 'skip', 'skip_sms') and p.next_number is null)
            )
        )::integer,
        (count(*) filter (where p.act in ('stop_contact', 'suppressed')))::integer,
        (select count(*) from moved)::integer
    into
        v_counts.processed, v_counts.sent, v_counts.skipped, v_counts.errored,
        v_counts.deferred, v_counts.completed, v_counts.stopped, v_moved
    from plan as p;
    if v_moved <> v_counts.processed then
        -- Every planned enrollment moves on, or none: a step written for an
        -- enrollment left where it was would run again on the next tick.
        raise exception using
            errcode = 'XX000',
            message = format(
                'campaign tick: %s of %s planned enrollments moved on', v_moved,
                v_counts.processed
            );
    end if;

    -- The owner hears about enrollments the third error in a row paused: the plan
    -- says which (most batches: none, and no query).
    v_paused_ids := array(
        select d.id from unnest(v_plan) as d
        where d.pauses and d.act in ('error_address', 'error_settings', 'error_condition')
    );
    if cardinality(v_paused_ids) = 0 then
        return v_counts;
    end if;
    for v_paused in
        select e.org_id, e.campaign_id, c.name as campaign_name, c.owner_id, e.last_error,
            k.full_name
        from unnest(p_org_ids, p_ids) as x (org_id, id)
        inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
        inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
        left join app.contacts as k
            on k.org_id = e.org_id and k.id = e.contact_id and k.org_id = any(v_orgs)
        where
            e.status = 'paused' and e.stop_reason = 'errors' and e.last_error_at = p_now
            and e.org_id = any(v_orgs) and c.org_id = any(v_orgs) and x.id = any(v_paused_ids)
    loop
        perform app._campaign_notify(
            p_org_id => v_paused.org_id,
            p_user_id => v_paused.owner_id,
            p_template => 'campaign_enrollment_paused',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_paused.campaign_name),
                'contact', jsonb_build_object('name', v_paused.full_name),
                'error', v_paused.last_error
            ),
            p_campaign_id => v_paused.campaign_id
        );
    end loop;
    return v_counts;
end
$function$;

-- One enrollment whose step raised an unexpected error: count it (the third
-- in a row pauses), retry at the next window after a back-off.
create or replace function app._campaign_record_error(
    p_now timestamptz, p_org_id uuid, p_id uuid, p_error text
)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_zone text;
    v_retry_at timestamptz;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = p_org_id and e.id = p_id;
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = v_e.campaign_id;
    select app._campaign_timezone(
        p_contact_timezone => k.timezone,
        p_campaign_timezone => v_c.timezone,
        p_use_contact => v_c.use_contact_timezone
    ) into v_zone
    from app.contacts as k
    where k.org_id = p_org_id and k.id = v_e.contact_id;
    v_zone := coalesce(v_zone, v_c.timezone);
    -- The back-off first: no function call in an UPDATE's CASE on Citus (SQL shapes).
    v_retry_at := app._campaign_next_send_time(
        p_ts => p_now + interval '5 minutes' * (v_e.error_count + 1),
        p_timezone => v_zone, p_window_start => v_c.send_window_start,
        p_window_end => v_c.send_window_end, p_send_days => v_c.send_days
    );
    update app.campaign_enrollments as e
    set
        error_count = e.error_count + 1,
        last_error = left(p_error, 1000),
        last_error_at = p_now,
        status = case when e.error_count + 1 >= 3 then 'paused' else e.status end,
        stop_reason = case when e.error_count + 1 >= 3 then 'errors' else e.stop_reason end,
        next_step_at = case
            when e.error_count + 1 >= 3 then e.next_step_at
            else v_retry_at
        end,
        updated_at = p_now
    where e.org_id = p_org_id and e.id = p_id;
    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail, scheduled_at
    )
    values (
        p_org_id, v_e.campaign_id, p_id, v_e.current_step + 1, 'none', 'failed',
        left(p_error, 1000)
        || case when v_e.error_count + 1 >= 3 then ' (3 errors in a row: paused)' else '' end,
        v_e.next_step_at
    );
    if v_e.error_count + 1 >= 3 then
        perform app._campaign_notify(
            p_org_id => p_org_id,
            p_user_id => v_c.owner_id,
            p_template => 'campaign_enrollment_paused',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_c.name),
                'contact', jsonb_build_object(
                    'name',
                    (
                        select k.full_name from app.contacts as k
                        where k.org_id = p_org_id and k.id = v_e.contact_id
                    )
                ),
                'error', left(p_error, 200)
            ),
            p_campaign_id => v_c.id
        );
    end if;
end
$function$;

-- Two batches' counts added up.
create or replace function app._campaign_add_counts(
    p_a app.campaign_batch_counts, p_b app.campaign_batch_counts
)
returns app.campaign_batch_counts
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select row(
        p_a.processed + p_b.processed, p_a.sent + p_b.sent, p_a.skipped + p_b.skipped,
        p_a.errored + p_b.errored, p_a.deferred + p_b.deferred,
        p_a.completed + p_b.completed, p_a.stopped + p_b.stopped
    )::app.campaign_batch_counts
$function$;

-- One org's part of a tick (api.tick_campaigns): lock the org's candidates
-- that are still due (FOR UPDATE SKIP LOCKED: a concurrent tick holds the
-- others), resume its out-of-office pauses that are over, and run the due ones
-- and up to p_budget resumed ones now due. Locks, in the order of every tick:
-- enrollments, daily counters, campaigns. On Citus every statement here is on
-- one org's shards (docs/scale-out.md).
create or replace function app._campaign_tick_org(
    p_now timestamptz, p_org_id uuid, p_due_ids uuid[], p_resume_ids uuid[], p_budget integer
)
returns app.campaign_batch_counts
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_ids uuid[];
    v_resume_ids uuid[];
    v_all uuid[];
    v_counts app.campaign_batch_counts := row(0, 0, 0, 0, 0, 0, 0);
    v_one app.campaign_batch_counts;
    v_error text;
begin
    if p_resume_ids is not null then
        select array_agg(r.id) into v_resume_ids
        from (
            select e.id
            from app.campaign_enrollments as e
            where
                e.org_id = p_org_id and e.id = any(p_resume_ids)
                and e.status = 'paused' and e.resume_at is not null and e.resume_at <= p_now
                and e.stop_reason = 'out_of_office'
            order by e.resume_at
            for update skip locked
        ) as r;
    end if;
    if p_due_ids is not null then
        select array_agg(d.id) into v_ids
        from (
            select e.id
            from app.campaign_enrollments as e
            where
                e.org_id = p_org_id and e.id = any(p_due_ids)
                and e.status = 'active' and e.next_step_at <= p_now
            order by e.next_step_at
            for update skip locked
        ) as d;
    end if;

    if v_resume_ids is not null then
        v_all := coalesce(v_ids, '{}') || v_resume_ids;
        perform app._campaign_lock_daily(
            p_now => p_now, p_org_ids => array_fill(p_org_id, array[cardinality(v_all)]),
            p_ids => v_all
        );
        perform
        from app.campaigns as c
        where
            c.org_id = p_org_id
            and c.id in (
                select e.campaign_id
                from app.campaign_enrollments as e
                where e.org_id = p_org_id and e.id = any(v_all)
            )
        order by c.id
        for update;
        -- Back to active, or parked like the rest of a campaign paused meanwhile
        -- (api.resume_campaign releases it); the next step keeps its time,
        -- which the pause set to the resume time or later.
        with resumed as (
            update app.campaign_enrollments as e
            set
                status = case when c.status = 'active' then 'active' else 'paused' end,
                stop_reason = case when c.status = 'active' then null else 'campaign_paused' end,
                resume_at = null,
                next_step_at = coalesce(e.next_step_at, p_now),
                updated_at = p_now
            from app.campaigns as c
            where
                e.org_id = p_org_id and e.id = any(v_resume_ids)
                and c.org_id = p_org_id and c.id = e.campaign_id
            returning e.id, e.status, e.next_step_at
        )

        -- Those due now run in this call, within the budget.
        select coalesce(v_ids, '{}') || coalesce(array_agg(d.id), '{}')
        into v_ids
        from (
            select r.id
            from resumed as r
            where r.status = 'active' and r.next_step_at <= p_now
            order by r.next_step_at
            limit greatest(p_budget, 0)
        ) as d;
        if cardinality(v_ids) = 0 then
            v_ids := null;
        end if;
    end if;

    if v_ids is null then
        return v_counts;
    end if;
    begin
        v_counts := app._campaign_run_batch(
            p_now => p_now, p_org_ids => array_fill(p_org_id, array[cardinality(v_ids)]),
            p_ids => v_ids
        );
    exception when others then
        -- Something in the batch raised: run it one enrollment at a time so
        -- that one bad row (a trigger, a template) can't hold up the rest.
        for i in 1 .. cardinality(v_ids) loop
            begin
                v_one := app._campaign_run_batch(
                    p_now => p_now, p_org_ids => array[p_org_id], p_ids => array[v_ids[i]]
                );
                v_counts := app._campaign_add_counts(v_counts, v_one);
            exception when others then
                get stacked diagnostics v_error = message_text;
                perform app._campaign_record_error(
                    p_now => p_now, p_org_id => p_org_id, p_id => v_ids[i], p_error => v_error
                );
                v_counts.processed := v_counts.processed + 1;
                v_counts.errored := v_counts.errored + 1;
            end;
        end loop;
    end;
    return v_counts;
end
$function$;

create or replace function api.tick_campaigns(p_batch_size integer default 1000)
returns table (
    processed integer,
    sent integer,
    skipped integer,
    errored integer,
    deferred integer,
    completed integer,
    stopped integer,
    more_due boolean,
    elapsed_ms numeric
)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_started timestamptz := clock_timestamp();
    v_now timestamptz := app.now();
    v_org_ids uuid[];
    v_ids uuid[];
    v_resume_org_ids uuid[];
    v_resume_ids uuid[];
    v_org_id uuid;
    v_org_due uuid[];
    v_org_resumes uuid[];
    v_budget integer;
    v_counts app.campaign_batch_counts := row(0, 0, 0, 0, 0, 0, 0);
    v_one app.campaign_batch_counts;
begin
    perform app._require_service();
    if p_batch_size is null or p_batch_size not between 1 and 10000 then
        raise exception using errcode = 'IT005', message = 'p_batch_size: 1 to 10,000';
    end if;
    -- The candidates, unlocked, in due order: out-of-office pauses that are over
    -- (app._campaign_pause_out_of_office, by their resume time:
    -- campaign_enrollments_resume_idx) and the first p_batch_size due steps. Then
    -- each org's part in key order (app._campaign_tick_org), which locks its
    -- candidates that no other tick holds: a row lock holds one org's rows at a
    -- time, which is what Citus can take (docs/scale-out.md), each org gets its
    -- share of the oldest due work, and two ticks take the orgs in one order. When
    -- another tick holds every candidate, the next window of due rows is tried
    -- (nothing is locked yet then, so the key order still holds).
    for v_window in 0 .. 2 loop
        if v_window = 0 then
            select array_agg(r.org_id), array_agg(r.id) into v_resume_org_ids, v_resume_ids
            from (
                select e.org_id, e.id
                from app.campaign_enrollments as e
                where
                    e.status = 'paused' and e.resume_at is not null and e.resume_at <= v_now
                    and e.stop_reason = 'out_of_office'
                order by e.resume_at
                limit p_batch_size
            ) as r;
        else
            v_resume_org_ids := null;
            v_resume_ids := null;
        end if;
        select array_agg(d.org_id), array_agg(d.id) into v_org_ids, v_ids
        from (
            select e.org_id, e.id
            from app.campaign_enrollments as e
            where e.status = 'active' and e.next_step_at <= v_now
            order by e.next_step_at
            limit p_batch_size
            offset v_window * p_batch_size
        ) as d;
        exit when v_ids is null and v_resume_ids is null;
        v_budget := p_batch_size - coalesce(cardinality(v_ids), 0);
        for v_org_id, v_org_due, v_org_resumes in
            select
                o.id,
                (
                    select array_agg(x.id) from unnest(v_org_ids, v_ids) as x (org_id, id)
                    where x.org_id = o.id
                ),
                (
                    select array_agg(x.id)
                    from unnest(v_resume_org_ids, v_resume_ids) as x (org_id, id)
                    where x.org_id = o.id
                )
            from (
                select distinct u.id
                from unnest(coalesce(v_org_ids, '{}') || coalesce(v_resume_org_ids, '{}')) as u (id)
            ) as o
            order by o.id
        loop
            v_one := app._campaign_tick_org(
                p_now => v_now, p_org_id => v_org_id, p_due_ids => v_org_due,
                p_resume_ids => v_org_resumes, p_budget => v_budget
            );
            v_budget := v_budget - greatest(v_one.processed - coalesce(cardinality(v_org_due), 0), 0);
            v_counts := app._campaign_add_counts(v_counts, v_one);
        end loop;
        exit when v_counts.processed > 0 or v_resume_ids is not null;
    end loop;

    -- On time: the wake-up for the next due time, once nothing is due (schedule.sql).
    perform app._campaign_arm_next_wake(p_now => v_now);

    return query select
        v_counts.processed, v_counts.sent, v_counts.skipped, v_counts.errored, v_counts.deferred,
        v_counts.completed, v_counts.stopped,
        exists (
            select 1 from app.campaign_enrollments as e
            where e.status = 'active' and e.next_step_at <= v_now
        ) or exists (
            select 1 from app.campaign_enrollments as e
            where
                e.status = 'paused' and e.resume_at is not null and e.resume_at <= v_now
                and e.stop_reason = 'out_of_office'
        ),
        round(extract(epoch from clock_timestamp() - v_started)::numeric * 1000, 1);
end
$function$;

comment on function api.tick_campaigns(integer) is
$$Service role only (the worker's campaigns.tick, every minute). First the resume pass: at
most p_batch_size enrollments an out-of-office reply paused whose resume_at has come become
active again (or, in a campaign paused meanwhile, parked with stop_reason campaign_paused for
api.resume_campaign); their next step, same number, runs in this call when due. Then runs
the next step of at most p_batch_size due enrollments (active, in an active campaign,
next_step_at <= app.now()), locked FOR UPDATE SKIP LOCKED so concurrent ticks share the
work, in a few set-based statements: outside the send window → deferred to its next opening; skip conditions → skipped;
email → rendered and queued (email_sends + email.send job; List-Unsubscribe and the reply
token as for api.queue_email); linkedin/phone/task → an activity for the campaign owner; sms →
skipped: no sms provider configured; wait → only the timing moves. Sends over the daily
limit roll to the next window. Then the log lines, the counters and the next step time
(app._campaign_next_send_time after the next step's delay); enrollments without a next step complete.
A batch that raises is re-run one enrollment at a time; a failing enrollment counts an error
(three in a row pause it). Returns the counts, whether more are due, and the time taken.$$;
