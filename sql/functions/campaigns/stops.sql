-- Stop rules and engagement: a campaign email's reply, bounce, complaint,
-- opens and clicks (a row trigger on app.email_sends), suppressions (a row
-- trigger on app.suppressions), and the campaign totals (a statement
-- trigger on app.campaign_enrollments).

-- email_sends of a campaign enrollment changed: reply, bounce, complaint,
-- open or click.
create or replace function app._tg_email_send_campaign()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_stop_on_reply boolean;
    v_step integer;
    v_contact text;
    v_replied boolean := new.replied_at is not null and old.replied_at is null;
    v_bounced boolean := new.status = 'bounced' and old.status <> 'bounced';
    v_complained boolean := new.status = 'complained' and old.status <> 'complained';
    v_opens integer := greatest(new.open_count - old.open_count, 0);
    v_clicks integer := greatest(new.click_count - old.click_count, 0);
    v_stamp timestamptz;
begin
    if not (v_replied or v_bounced or v_complained or v_opens > 0 or v_clicks > 0) then
        return null;
    end if;
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = new.org_id and e.id = new.enrollment_id
    for update;
    if not found then
        return null;
    end if;

    if v_opens > 0 or v_clicks > 0 then
        update app.campaign_enrollments as e
        set
            engagement_score = least(100, e.engagement_score + 10 * v_opens + 25 * v_clicks),
            first_opened_at = coalesce(
                e.first_opened_at, case when v_opens > 0 then new.first_opened_at end
            ),
            first_clicked_at = coalesce(
                e.first_clicked_at, case when v_clicks > 0 then new.first_clicked_at end
            ),
            updated_at = app.now()
        where e.org_id = v_e.org_id and e.id = v_e.id;
    end if;

    if v_bounced or v_complained then
        v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
        update app.campaign_enrollments as e
        set
            status = case
                when e.status in ('active', 'paused', 'completed')
                    then case when v_bounced then 'bounced' else 'unsubscribed' end
                else e.status
            end,
            stop_reason = case
                when e.status in ('active', 'paused', 'completed')
                    then case when v_bounced then 'bounce' else 'complaint' end
                else e.stop_reason
            end,
            next_step_at = case
                when e.status in ('active', 'paused', 'completed') then null
                else e.next_step_at
            end,
            bounced_at = case when v_bounced then coalesce(e.bounced_at, v_stamp) else e.bounced_at end,
            unsubscribed_at = case
                when v_complained then coalesce(e.unsubscribed_at, v_stamp)
                else e.unsubscribed_at
            end,
            updated_at = v_stamp
        where e.org_id = v_e.org_id and e.id = v_e.id;
        if v_e.status in ('active', 'paused', 'completed') then
            insert into app.campaign_sequence_logs (
                org_id, campaign_id, enrollment_id, step_number, channel, status, detail,
                email_send_id
            )
            values (
                v_e.org_id, v_e.campaign_id, v_e.id, v_e.current_step, 'email', 'stopped',
                case when v_bounced then 'bounced' else 'complaint' end, new.id
            );
        end if;
    end if;

    if v_replied then
        -- The step that sent this email decides (stop_on_reply, default on).
        -- The send carries its step (variables.step_number), so this holds
        -- after its log line was archived too.
        select s.stop_on_reply, s.step_number into v_stop_on_reply, v_step
        from app.campaign_sequences as s
        where
            s.org_id = v_e.org_id and s.campaign_id = v_e.campaign_id
            and s.step_number = case
                when new.variables ->> 'step_number' ~ '^[0-9]{1,9}$'
                    then (new.variables ->> 'step_number')::integer
            end;
        v_stop_on_reply := coalesce(v_stop_on_reply, true);
        update app.campaign_enrollments as e
        set
            replied_at = coalesce(e.replied_at, new.replied_at),
            status = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed')
                    then 'replied'
                else e.status
            end,
            stop_reason = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed')
                    then 'reply'
                else e.stop_reason
            end,
            next_step_at = case
                when v_stop_on_reply and e.status in ('active', 'paused', 'completed') then null
                else e.next_step_at
            end,
            updated_at = app.now()
        where e.org_id = v_e.org_id and e.id = v_e.id;
        insert into app.campaign_sequence_logs (
            org_id, campaign_id, enrollment_id, step_number, channel, status, detail,
            email_send_id
        )
        values (
            v_e.org_id, v_e.campaign_id, v_e.id, coalesce(v_step, v_e.current_step), 'email',
            case
                when v_stop_on_reply and v_e.status in ('active', 'paused', 'completed')
                    then 'stopped'
                else 'completed'
            end,
            case
                when v_stop_on_reply and v_e.status in ('active', 'paused', 'completed')
                    then 'replied: sequence stopped'
                when v_e.status in ('active', 'paused', 'completed')
                    then 'replied (this step does not stop on reply)'
                else 'replied after the enrollment ended (' || v_e.status || ')'
            end,
            new.id
        );
        select c.* into v_c from app.campaigns as c where c.org_id = v_e.org_id and c.id = v_e.campaign_id;
        select k.full_name into v_contact
        from app.contacts as k
        where k.org_id = v_e.org_id and k.id = v_e.contact_id;
        perform app._campaign_notify(
            p_org_id => v_e.org_id,
            p_user_id => v_c.owner_id,
            p_template => 'campaign_reply',
            p_variables => jsonb_build_object(
                'campaign', jsonb_build_object('name', v_c.name),
                'contact', jsonb_build_object('name', coalesce(v_contact, new.to_email)),
                'step_number', coalesce(v_step, v_e.current_step),
                'outcome', case
                    when v_stop_on_reply and v_e.status in ('active', 'paused')
                        then 'the sequence stopped'
                    when v_e.status in ('active', 'paused') then 'the sequence goes on'
                    else 'after the sequence ended'
                end
            ),
            p_campaign_id => v_c.id
        );
    end if;
    return null;
end
$function$;

-- A new suppression stops the org's running enrollments of that address at
-- once: unsubscribe, complaint and manual (a "don't email me" recorded by
-- hand, api.add_suppression) → unsubscribed; bounces → bounced; a provider
-- suppression → stopped. stop_reason is the suppression's reason.
create or replace function app._tg_suppression_campaign()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stamp timestamptz;
begin
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    with stopped as (
        update app.campaign_enrollments as e
        set
            status = case
                when new.reason in ('unsubscribe', 'complaint', 'manual') then 'unsubscribed'
                when new.reason in ('hard_bounce', 'soft_bounce') then 'bounced'
                else 'stopped'
            end,
            stop_reason = new.reason,
            next_step_at = null,
            unsubscribed_at = case
                when new.reason in ('unsubscribe', 'complaint', 'manual') then v_stamp
                else e.unsubscribed_at
            end,
            bounced_at = case
                when new.reason in ('hard_bounce', 'soft_bounce') then coalesce(e.bounced_at, v_stamp)
                else e.bounced_at
            end,
            updated_at = v_stamp
        from app.contacts as k
        where
            k.org_id = new.org_id and lower(k.email) = new.email
            and e.org_id = k.org_id and e.contact_id = k.id
            and e.status in ('active', 'paused')
        returning e.org_id, e.campaign_id, e.id, e.current_step
    )

    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    select s.org_id, s.campaign_id, s.id, s.current_step, 'none', 'stopped', 'suppressed: ' || new.reason
    from stopped as s;
    return null;
end
$function$;

-- Campaign totals follow the enrollments: per statement, the status counts,
-- first opens (a click counts as an open, as in api.get_campaign_stats) and
-- clicks, and the step counters' changes, one UPDATE per campaign touched.
create or replace function app._tg_campaign_enrollment_totals()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_any boolean;
    v_rows text;
    v_org_ids uuid [];
    v_campaign_ids uuid [];
    v_deltas jsonb [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    -- (EXECUTE: one function serves INSERT, UPDATE and DELETE, whose transition
    -- tables differ.)
    execute format(
        'select exists (select 1 from %I)',
        case when tg_op = 'DELETE' then 'old_rows' else 'new_rows' end
    )
    into v_any;
    if not v_any then
        return null;
    end if;
    -- Signed rows: +1 for the new image, -1 for the old one. The cumulative
    -- totals (enrolled, sent, opened, clicked, tasks) use csign, 0 for a
    -- deleted enrollment (its contact deleted): what was sent stays sent, as
    -- in the logs; the status totals count the enrollments that exist. Planned per
    -- statement (EXECUTE): a plan kept from a one-row statement would join a
    -- 10,000-row batch with nested loops. Each trigger has only its own
    -- transition tables (format: so that no check looks for the other's).
    v_rows := case tg_op
        when 'INSERT' then format('select 1 as sign, 1 as csign, n.* from %I as n', 'new_rows')
        when 'DELETE' then format('select -1 as sign, 0 as csign, o.* from %I as o', 'old_rows')
        else format(
            'select 1 as sign, 1 as csign, n.* from %I as n '
            'union all select -1 as sign, -1 as csign, o.* from %I as o',
            'new_rows', 'old_rows'
        )
    end;
    -- The deltas, one per campaign touched, from the transition tables alone;
    -- then the campaigns, from the deltas (a Citus worker cannot mix the two,
    -- docs/scale-out.md).
    execute format(
        $sql$
        select array_agg(d.org_id), array_agg(d.campaign_id), array_agg(d.delta)
        from (
            select
                r.org_id, r.campaign_id,
                jsonb_build_object(
                    'enrolled', coalesce(sum(r.csign) filter (where %1$s), 0),
                    'active', coalesce(sum(r.sign) filter (where r.status = 'active'), 0),
                    'completed', coalesce(sum(r.sign) filter (where r.status = 'completed'), 0),
                    'replied', coalesce(sum(r.sign) filter (where r.status = 'replied'), 0),
                    'bounced', coalesce(sum(r.sign) filter (where r.status = 'bounced'), 0),
                    'unsubscribed',
                    coalesce(sum(r.sign) filter (where r.status = 'unsubscribed'), 0),
                    'stopped', coalesce(sum(r.sign) filter (where r.status = 'stopped'), 0),
                    'paused', coalesce(sum(r.sign) filter (where r.status = 'paused'), 0),
                    'sent', coalesce(sum(r.csign * r.emails_sent), 0),
                    'opened', coalesce(
                        sum(r.csign) filter (
                            where r.first_opened_at is not null or r.first_clicked_at is not null
                        ),
                        0
                    ),
                    'clicked', coalesce(sum(r.csign) filter (where r.first_clicked_at is not null), 0),
                    'tasks', coalesce(
                        sum(r.csign * (r.linkedin_sent + r.calls_made + r.tasks_created)), 0
                    )
                ) as delta
            from (%2$s) as r
            group by r.org_id, r.campaign_id
        ) as d
        $sql$,
        case tg_op when 'UPDATE' then 'false' else 'true' end,
        v_rows
    )
    into v_org_ids, v_campaign_ids, v_deltas;
    if v_org_ids is null then
        return null;
    end if;
    -- Lock the campaigns in key order first: concurrent ticks over the same
    -- campaigns then queue instead of deadlocking.
    perform
    from app.campaigns as c
    where
        c.org_id = any(v_org_ids)  -- on Citus: this shard's orgs, one shard (docs/scale-out.md)
        and (c.org_id, c.id) in (select * from unnest(v_org_ids, v_campaign_ids))
    order by c.org_id, c.id
    for update of c;
    update app.campaigns as c
    set
        total_enrolled = c.total_enrolled + (d.delta ->> 'enrolled')::integer,
        total_active = c.total_active + (d.delta ->> 'active')::integer,
        total_completed = c.total_completed + (d.delta ->> 'completed')::integer,
        total_replied = c.total_replied + (d.delta ->> 'replied')::integer,
        total_bounced = c.total_bounced + (d.delta ->> 'bounced')::integer,
        total_unsubscribed = c.total_unsubscribed + (d.delta ->> 'unsubscribed')::integer,
        total_stopped = c.total_stopped + (d.delta ->> 'stopped')::integer,
        total_paused = c.total_paused + (d.delta ->> 'paused')::integer,
        total_sent = c.total_sent + (d.delta ->> 'sent')::integer,
        total_opened = c.total_opened + (d.delta ->> 'opened')::integer,
        total_clicked = c.total_clicked + (d.delta ->> 'clicked')::integer,
        total_tasks = c.total_tasks + (d.delta ->> 'tasks')::integer
    from unnest(v_org_ids, v_campaign_ids, v_deltas) as d (org_id, campaign_id, delta)
    where c.org_id = any(v_org_ids) and c.org_id = d.org_id and c.id = d.campaign_id;
    return null;
end
$function$;
