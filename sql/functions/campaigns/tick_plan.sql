-- What the campaign tick will do to one batch of enrollments, decided without
-- writing anything: app._campaign_run_batch calls it and carries the plan out.
--
-- One row per active enrollment of an active campaign among p_org_ids/p_ids
-- (pairs). act is the decision:
--   run              run the step (email: send; linkedin/phone/task: an
--                    activity; wait: move on)
--   skip             a skip condition holds
--   skip_sms         an sms step (no sms provider is configured)
--   defer_window     outside the send window, until open_at
--   defer_limit      the campaign's daily send limit is reached
--   error_address    the contact's address is missing or not a plain address
--   error_settings   the org has no email settings
--   error_condition  a skip condition could not be evaluated
--   suppressed       the address is suppressed
--   stop_contact     the contact is deleted (contact_gone) or do-not-contact
--   complete         no step is left
-- due_at is when the next step is due after run, skip, skip_sms (null when
-- the step was the last) and defer_limit; pauses says a third error in a row
-- pauses the enrollment. subject, body_html and body_text are the rendered
-- email (run on an email step only).
--
-- The daily limit reads app.campaign_daily_sends as it stands: the caller
-- locks the batch's counter rows first. Stable and read-only: it can run in a
-- read-only transaction, and tests call it on its own. row_ctid is the
-- enrollment row's address as this statement sees it: the caller, which holds
-- the rows locked, updates them by it (a TID scan per row) instead of joining
-- on the key, which the planner does by hashing the whole table.
drop function if exists app._campaign_plan_batch(timestamptz, uuid[], uuid[]);
create function app._campaign_plan_batch(
    p_now timestamptz, p_org_ids uuid[], p_ids uuid[]
)
returns setof app.campaign_plan_row
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
-- PL/pgSQL for its plan cache: as a LANGUAGE sql function (with its SET
-- clause) the query was planned again on every call, 8.6 ms a batch.
#variable_conflict use_column
declare
    -- Every table is filtered by the batch's orgs too (the tick passes one): on
    -- Citus that routes the whole query to the org's shards, where it runs as
    -- is (docs/scale-out.md, "SQL shapes").
    v_orgs uuid[] := array(select distinct o.id from unnest(p_org_ids) as o (id));
begin
    return query
    with b as materialized (
        select
            e.org_id, e.id, e.ctid as row_ctid, e.campaign_id, e.contact_id, e.current_step,
            e.next_step_at, e.ab_variant, e.error_count,
            c.name as campaign_name, c.owner_id, c.timezone as campaign_zone,
            c.use_contact_timezone, c.send_window_start, c.send_window_end, c.send_days,
            c.daily_send_limit, c.ab_winner_variant,
            (p_now at time zone c.timezone)::date as local_date,
            k.id as k_id, k.deleted_at, k.status as contact_status, k.email, k.first_name,
            k.last_name, k.full_name, k.company_name, k.title,
            coalesce(k.timezone, '') as contact_zone,
            u.full_name as sender_name, u.email as sender_email
        from unnest(p_org_ids, p_ids) as x (org_id, id)
        inner join app.campaign_enrollments as e on e.org_id = x.org_id and e.id = x.id
        inner join app.campaigns as c on c.org_id = e.org_id and c.id = e.campaign_id
        left join app.contacts as k
            on k.org_id = e.org_id and k.id = e.contact_id and k.org_id = any(v_orgs)
        left join app.user_profiles as u
            on u.org_id = c.org_id and u.id = c.owner_id and u.org_id = any(v_orgs)
        where
            e.status = 'active' and c.status = 'active'
            and e.org_id = any(v_orgs) and c.org_id = any(v_orgs)
    ),

    zones as materialized (
        -- One zone decision and window check per distinct (campaign, zone).
        select
            z.org_id, z.campaign_id, z.contact_zone, z.zone,
            app._campaign_next_send_time(
                p_ts => p_now, p_timezone => z.zone, p_window_start => z.send_window_start,
                p_window_end => z.send_window_end, p_send_days => z.send_days
            ) as open_at
        from (
            select
                d.org_id, d.campaign_id, d.contact_zone, d.send_window_start, d.send_window_end,
                d.send_days,
                app._campaign_timezone(
                    p_contact_timezone => nullif(d.contact_zone, ''),
                    p_campaign_timezone => d.campaign_zone,
                    p_use_contact => d.use_contact_timezone
                ) as zone
            from (
                select distinct
                    b.org_id, b.campaign_id, b.contact_zone, b.campaign_zone,
                    b.use_contact_timezone, b.send_window_start, b.send_window_end, b.send_days
                from b
            ) as d
        ) as z
    ),

    seq as materialized (
        -- The batch's campaigns' active steps with their neighbours.
        select
            s.org_id, s.campaign_id, s.id, s.step_number, s.channel, s.template_id,
            s.subject, s.body_html, s.body_text, s.task_config, s.skip_conditions,
            s.ab_variants,
            coalesce(lag(s.step_number) over w, 0) as prev_number,
            lead(s.step_number) over w as next_number,
            lead(s.delay_days) over w as next_delay_days,
            lead(make_interval(hours => s.delay_hours, mins => s.delay_minutes)) over w
                as next_delay_hm
        from app.campaign_sequences as s
        where
            s.is_active and s.org_id = any(v_orgs)
            and (s.org_id, s.campaign_id) in (select b.org_id, b.campaign_id from b)
        window w as (partition by s.org_id, s.campaign_id order by s.step_number)
    ),

    contents as materialized (
        -- Each email step's content per A/B arm ('' without a test):
        -- the variant's fields, else the step's, else its template's. One row
        -- per arm id, the first in the array, even where a row written past
        -- the API repeats an id: the plan stays one row per enrollment.
        select distinct on (s.id, coalesce(v.variant ->> 'id', ''))
            s.id as step_id, coalesce(v.variant ->> 'id', '') as variant_id,
            coalesce(
                v.variant ->> 'subject', s.subject, app._campaign_normalize(t.subject_template)
            ) as subject,
            -- Null without HTML: the plain text, filled and then escaped, stands in.
            coalesce(
                v.variant ->> 'body_html', s.body_html, app._campaign_normalize(t.html_template)
            ) as body_html,
            coalesce(
                v.variant ->> 'body_text', s.body_text, app._campaign_normalize(t.text_template)
            ) as body_text,
            s.template_id
        from seq as s
        left join app.email_templates as t
            on t.org_id = s.org_id and t.id = s.template_id and t.org_id = any(v_orgs)
        left join lateral jsonb_array_elements(s.ab_variants) with ordinality as v (variant, n)
            on true
        where s.channel = 'email'
        order by s.id, coalesce(v.variant ->> 'id', ''), v.n
    ),

    classified as materialized (
        select
            b.*, z.zone, z.open_at, s.id as step_id, s.step_number, s.channel,
            s.task_config, s.next_number, s.next_delay_days, s.next_delay_hm,
            case
                when s.ab_variants is null then null
                when b.ab_winner_variant is not null
                    and s.ab_variants @> jsonb_build_array(
                        jsonb_build_object('id', b.ab_winner_variant)
                    ) then b.ab_winner_variant
                when b.ab_variant is not null
                    and s.ab_variants @> jsonb_build_array(jsonb_build_object('id', b.ab_variant))
                    then b.ab_variant
                else app._campaign_ab_pick_variant(b.id, s.ab_variants)
            end as variant,
            case
                when b.k_id is null or b.deleted_at is not null then 'stop_contact'
                when s.id is null then 'complete'
                when z.open_at > p_now then 'defer_window'
                when b.contact_status = 'do_not_contact' then 'stop_contact'
                when sk.skip then 'skip'
                when sk.skip is null then 'error_condition'
                when s.channel = 'email' and (
                    not coalesce(app._email_is_plain_address(b.email), false)
                ) then 'error_address'
                when s.channel = 'email' and not exists (
                    select 1 from app.email_settings as st
                    where st.org_id = any(v_orgs) and st.org_id = b.org_id
                ) then 'error_settings'
                when s.channel = 'email' and exists (
                    select 1 from app.suppressions as sp
                    where
                        sp.org_id = any(v_orgs)
                        and sp.org_id = b.org_id and sp.email = lower(b.email)
                ) then 'suppressed'
                when s.channel = 'sms' then 'skip_sms'
                else 'run'
            end as act
        from b
        inner join zones as z
            on
                z.org_id = b.org_id and z.campaign_id = b.campaign_id
                and z.contact_zone = b.contact_zone
        left join seq as s
            on
                s.org_id = b.org_id and s.campaign_id = b.campaign_id
                and b.current_step >= s.prev_number and b.current_step < s.step_number
        cross join lateral (
            select case
                when s.id is null or jsonb_array_length(s.skip_conditions) = 0 then false
                else app._campaign_skip_holds(
                    p_conditions => s.skip_conditions,
                    -- The rows read again, only for a step with conditions:
                    -- carried through the plan, they made every row wide.
                    p_doc => (
                        select to_jsonb(e) || jsonb_build_object(
                            'contact', to_jsonb(k),
                            'campaign',
                            jsonb_build_object('id', b.campaign_id, 'name', b.campaign_name)
                        )
                        from app.campaign_enrollments as e
                        left join app.contacts as k
                            on k.org_id = e.org_id and k.id = e.contact_id and k.org_id = any(v_orgs)
                        where e.org_id = any(v_orgs) and e.org_id = b.org_id and e.id = b.id
                    )
                )
            end as skip
        ) as sk
    ),

    limited as materialized (
        -- Email sends beyond the campaign's daily limit roll to the next day.
        select
            c.*,
            case
                when c.act = 'run' and c.channel = 'email' and c.daily_send_limit is not null
                    and row_number() over (
                        partition by c.org_id, c.campaign_id, (c.act = 'run' and c.channel = 'email')
                        order by c.next_step_at, c.id
                    ) > c.daily_send_limit - coalesce(d.sent, 0)
                    then 'defer_limit'
                else c.act
            end as final_act
        from classified as c
        left join app.campaign_daily_sends as d
            on
                d.org_id = c.org_id and d.campaign_id = c.campaign_id
                and d.local_date = c.local_date and d.org_id = any(v_orgs)
    ),

    timing as materialized (
        -- When each enrollment's next step is due: one window computation
        -- per distinct (campaign, zone, delay).
        select
            g.org_id, g.campaign_id, g.zone, g.next_delay_days, g.next_delay_hm, g.final_act,
            app._campaign_next_send_time(
                p_ts => case
                    when g.final_act = 'defer_limit'
                        then (g.local_date + 1)::timestamp at time zone g.campaign_zone
                    -- Days are calendar days in the zone (a day across a DST
                    -- change is 23 or 25 hours); hours and minutes elapse.
                    else ((p_now at time zone g.zone) + make_interval(days => g.next_delay_days))
                        at time zone g.zone + g.next_delay_hm
                end,
                p_timezone => g.zone, p_window_start => g.send_window_start,
                p_window_end => g.send_window_end, p_send_days => g.send_days
            ) as due_at
        from (
            select distinct
                l.org_id, l.campaign_id, l.zone, l.next_delay_days, l.next_delay_hm,
                l.final_act, l.local_date, l.campaign_zone, l.send_window_start,
                l.send_window_end, l.send_days
            from limited as l
            where
                l.final_act = 'defer_limit'
                or (l.final_act in ('run', 'skip', 'skip_sms') and l.next_number is not null)
        ) as g
    )

    select
        l.org_id, l.id, l.row_ctid, l.campaign_id, l.contact_id, l.owner_id, l.email,
        l.k_id is null or l.deleted_at is not null, l.current_step, l.next_step_at,
        l.error_count, l.local_date, l.daily_send_limit, l.zone, l.send_window_start,
        l.send_window_end, l.send_days, l.open_at, l.step_id, l.step_number, l.channel,
        l.task_config, l.next_number, l.variant, l.final_act, l.error_count + 1 >= 3, t.due_at,
        ct.template_id,
        regexp_replace(
            app._campaign_fill_finish(ct.subject, f.subject, r.vars), '[\r\n]+', ' ', 'g'
        ),
        coalesce(
            app._campaign_fill_finish(ct.body_html, f.body_html, r.vars_html, true),
            app._html_escape(app._campaign_fill_finish(ct.body_text, f.body_text, r.vars))
        ),
        app._campaign_fill_finish(ct.body_text, f.body_text, r.vars)
    from limited as l
    left join timing as t
        on
            t.org_id = l.org_id and t.campaign_id = l.campaign_id and t.zone = l.zone
            and t.final_act = l.final_act
            -- Days and hours apart: interval '1 day' = '24 hours' in SQL,
            -- but not across a DST change.
            and t.next_delay_days is not distinct from l.next_delay_days
            and t.next_delay_hm is not distinct from l.next_delay_hm
    left join contents as ct
        on
            l.final_act = 'run' and l.channel = 'email'
            and ct.step_id = l.step_id and ct.variant_id = coalesce(l.variant, '')
    -- The recipient's values, in the order of app._campaign_variables().
    left join lateral (
        select v.vars, v.vars_html
        from app._campaign_values(
            p_first_name => l.first_name, p_last_name => l.last_name,
            p_full_name => l.full_name, p_email => l.email, p_company => l.company_name,
            p_title => l.title, p_campaign_name => l.campaign_name,
            p_sender_name => l.sender_name, p_sender_email => l.sender_email
        ) as v
        where ct.step_id is not null
    ) as r on true
    -- The known tokens substituted once per field (app._campaign_fill, in
    -- parts: tick.sql); OFFSET 0 keeps the planner from copying each
    -- expression into every place that reads it.
    left join lateral (
        select
            app._campaign_fill_known(ct.subject, r.vars) as subject,
            app._campaign_fill_known(ct.body_html, r.vars_html) as body_html,
            app._campaign_fill_known(ct.body_text, r.vars) as body_text
        offset 0
    ) as f on true;
end
$function$;
