-- The built-in notifications (docs/notifications.md, "Built-in notifications"):
-- the seed's system templates that fire on their own, from statement-level
-- AFTER triggers (sql/triggers/builtin_notifications.sql, comments.sql,
-- deals.sql), in the statement that made the change. Each trigger keeps the
-- rows that concern it (a cheap pass over its transition tables: nothing
-- relevant, nothing else runs), a builder below turns them into one item per
-- recipient with its variables, and app._notification_send_builtin sends all
-- items of one template in one set-based statement.

-- The built-in notifications, in display order: the template slug and the event.
create or replace function app._notification_builtins()
returns table (slug text, event text, ord integer)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select b.slug, b.event, b.ord::integer
    from (
        values
        (
            'task_assigned',
            'A task (an activity of type task) gets an assignee, on insert or when it is '
            || 'reassigned: to the assignee.',
            1
        ),
        (
            'mention_comment',
            'A comment mentions a user (on insert, or a mention an edit adds): to each '
            || 'mentioned user.',
            2
        ),
        (
            'submission_created',
            'A candidate is submitted to a job: to the job''s owner.',
            3
        ),
        (
            'submission_status_changed',
            'A submission''s status changes: to the job''s owner.',
            4
        ),
        (
            'interview_scheduled',
            'An interview is scheduled, rescheduled or given another interviewer: to the '
            || 'interviewer.',
            5
        ),
        (
            'deal_stage_changed',
            'A deal moves to another stage: to the deal''s owner.',
            6
        ),
        (
            'deal_closed_won',
            'A deal moves to a won stage (in place of deal_stage_changed, which covers it when '
            || 'this one is off): to the deal''s owner.',
            7
        )
    ) as b (slug, event, ord)
$function$;

-- Whether org p_org_id has built-in notification p_slug on (no row: on).
create or replace function app._notification_builtin_enabled(p_org_id uuid, p_slug text)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select not exists (
        select 1
        from app.builtin_notification_settings as s
        where s.org_id = p_org_id and s.slug = p_slug and not s.enabled
    )
$function$;

-- The display name of the user p_user_id of org p_org_id, or 'InTime' for the
-- engine (no user: a workflow, an import as the service).
create or replace function app._notification_actor_name(p_org_id uuid, p_user_id uuid)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(
        (
            select u.full_name
            from app.user_profiles as u
            where u.org_id = p_org_id and u.id = p_user_id
        ),
        'InTime'
    )
$function$;

-- Sends built-in notification p_slug for each item of p_items, a JSON array
-- of {org_id, user_id (the recipient), actor_id, variables, entity_type,
-- entity_id}: one notification per item, in one statement for all of them.
-- Unlike app._notification_send (one rendering for many users), the
-- variables differ per item (each task has its title): the template is
-- rendered once per distinct (org, variables) with app._notification_content,
-- the same renderer, and each recipient's preferences are planned once per
-- distinct (org, user) with app._notification_plan, the same rules; then one
-- INSERT writes every notification and one every delivery, and the immediate
-- emails are queued. Dropped: an item for its own actor (nobody is notified of
-- their own action), for an org that turned p_slug off, for a user who is
-- not an active user of the item's org; a recipient whose preference for
-- the category is frequency never gets nothing. The engine sends them: no
-- sender permissions, no send rate (the actor did not choose to notify).
-- An org template that the event's variables do not satisfy (IT010), that
-- renders something invalid (IT005) or no template at all (IT004) must not
-- undo the change that fired it: the items that fail are dropped with a
-- WARNING each (found by halving the failed batch), the others are sent.
-- Returns how many notifications were stored.
create or replace function app._notification_send_builtin(p_slug text, p_items jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_orgs uuid[];
    v_off uuid[];
    -- the items that may go, each with the id of its notification
    v_i_orgs uuid[];
    v_i_ids uuid[];
    v_i_users uuid[];
    v_i_actors uuid[];
    v_i_variables jsonb[];
    v_i_entity_types text[];
    v_i_entity_ids uuid[];
    -- one rendering per (org, variables)
    v_c_orgs uuid[];
    v_c_variables jsonb[];
    v_contents app.notification_content[];
    -- the active recipients, the actors that are users, the orgs with email
    v_r_orgs uuid[];
    v_r_users uuid[];
    v_a_orgs uuid[];
    v_a_users uuid[];
    v_email_orgs uuid[];
    -- each recipient's plan
    v_p_orgs uuid[];
    v_p_users uuid[];
    v_p_channels jsonb[];
    v_p_silent boolean[];
    v_p_unsubscribed boolean[];
    v_p_digest_at timestamptz[];
    v_p_hold_until timestamptz[];
    v_p_hold_reason text[];
    v_stored integer;
    v_org_id uuid;
    v_ids uuid[];
    v_count integer;
begin
    if p_items is null or jsonb_array_length(p_items) = 0 then
        return 0;
    end if;
    -- The transaction takes its xid before a seq is drawn (see
    -- app._notification_send); a trigger's statement already wrote, so this
    -- is free.
    perform pg_catalog.pg_current_xact_id();
    -- Each statement reads one table, filtered by the items' orgs, or works on
    -- arrays and calls the helpers that read tables: on a Citus shard's
    -- trigger both in one statement are refused (docs/scale-out.md).
    begin
        v_orgs := array(
            select distinct (i.value ->> 'org_id')::uuid from jsonb_array_elements(p_items) as i
        );
        select array_agg(s.org_id) into v_off
        from app.builtin_notification_settings as s
        where s.org_id = any(v_orgs) and s.slug = p_slug and not s.enabled;

        select
            array_agg(i.org_id), array_agg(gen_random_uuid()), array_agg(i.user_id),
            array_agg(i.actor_id), array_agg(i.variables), array_agg(i.entity_type),
            array_agg(i.entity_id)
        into
            v_i_orgs, v_i_ids, v_i_users, v_i_actors, v_i_variables, v_i_entity_types,
            v_i_entity_ids
        from jsonb_to_recordset(p_items) as i (
            org_id uuid, user_id uuid, actor_id uuid, variables jsonb, entity_type text,
            entity_id uuid
        )
        where
            i.user_id is not null
            and i.user_id is distinct from i.actor_id
            and not i.org_id = any(coalesce(v_off, '{}'));
        if v_i_ids is null then
            return 0;
        end if;

        select array_agg(v.org_id), array_agg(v.variables), array_agg(app._notification_content(row(
            v.org_id,  -- org_id
            array[v.any_user],  -- user_ids (checked not empty, not used to render)
            null,  -- category
            p_slug,  -- template_slug
            null,  -- title
            null,  -- message
            v.variables,  -- variables
            null,  -- type
            null,  -- priority
            null,  -- entity_type
            null,  -- entity_id
            null,  -- action_url
            null,  -- action_label
            null,  -- channels
            null,  -- group_key
            null,  -- expires_at
            false  -- critical
        )::app.notification_request))
        into v_c_orgs, v_c_variables, v_contents
        from (
            select i.org_id, i.variables, (array_agg(i.user_id))[1] as any_user
            from unnest(v_i_orgs, v_i_users, v_i_variables) as i (org_id, user_id, variables)
            group by i.org_id, i.variables
        ) as v;

        select array_agg(u.org_id), array_agg(u.id) into v_r_orgs, v_r_users
        from app.user_profiles as u
        inner join (
            select distinct i.org_id, i.user_id from unnest(v_i_orgs, v_i_users) as i (org_id, user_id)
        ) as i on u.org_id = i.org_id and u.id = i.user_id
        where u.org_id = any(v_orgs) and u.is_active;
        select array_agg(u.org_id), array_agg(u.id) into v_a_orgs, v_a_users
        from app.user_profiles as u
        inner join (
            select distinct i.org_id, i.actor_id
            from unnest(v_i_orgs, v_i_actors) as i (org_id, actor_id)
        ) as i on u.org_id = i.org_id and u.id = i.actor_id
        where u.org_id = any(v_orgs);
        select array_agg(e.org_id) into v_email_orgs
        from app.email_settings as e
        where e.org_id = any(v_orgs);

        select
            array_agg(r.org_id), array_agg(r.user_id), array_agg(p.channels), array_agg(p.silent),
            array_agg(p.email_unsubscribed), array_agg(p.digest_at), array_agg(p.hold_until),
            array_agg(p.hold_reason)
        into
            v_p_orgs, v_p_users, v_p_channels, v_p_silent, v_p_unsubscribed, v_p_digest_at,
            v_p_hold_until, v_p_hold_reason
        from unnest(v_r_orgs, v_r_users) as r (org_id, user_id)
        inner join (
            -- (unnest of several arrays expands a composite element's columns)
            select distinct on (c.org_id) c.org_id, c.category, c.requested_channels
            from unnest(v_c_orgs, v_contents) as c (org_id, category, title, message, type,
                priority, action_url, action_label, requested_channels)
            order by c.org_id
        ) as k on k.org_id = r.org_id
        cross join lateral app._notification_plan(
            r.org_id, r.user_id, k.category, k.requested_channels, false, v_now
        ) as p
        where not p.suppressed;

        insert into app.notifications (
            org_id, id, user_id, title, message, type, category, priority, entity_type,
            entity_id, action_url, action_label, channels, template_slug, data, critical,
            silent, email_subject, email_html, email_text, created_by, created_at, updated_at,
            announced_at
        )
        select
            i.org_id, i.id, i.user_id, c.title, c.message, c.type, c.category, c.priority,
            i.entity_type, i.entity_id, c.action_url, c.action_label, pl.channels, p_slug,
            c.variables, false, pl.silent, c.email_subject, c.email_html, c.email_text,
            a.user_id, v_now, v_now, v_now
        from unnest(
            v_i_orgs, v_i_ids, v_i_users, v_i_actors, v_i_variables, v_i_entity_types,
            v_i_entity_ids
        ) as i (org_id, id, user_id, actor_id, variables, entity_type, entity_id)
        inner join unnest(v_c_orgs, v_c_variables, v_contents) as c (
            org_id, item_variables, category, title, message, type, priority, action_url,
            action_label, requested_channels, variables, email_subject, email_html, email_text
        ) on c.org_id = i.org_id and c.item_variables = i.variables
        inner join unnest(v_p_orgs, v_p_users, v_p_channels, v_p_silent)
            as pl (org_id, user_id, channels, silent)
            on pl.org_id = i.org_id and pl.user_id = i.user_id
        left join unnest(v_a_orgs, v_a_users) as a (org_id, user_id)
            on a.org_id = i.org_id and a.user_id = i.actor_id;
        get diagnostics v_stored = row_count;

        -- As app._notification_send decides each channel's delivery.
        insert into app.notification_deliveries (
            org_id, notification_id, user_id, channel, status, reason, deliver_after,
            created_at, updated_at
        )
        select
            i.org_id, i.id, i.user_id, ch.channel, s.status, s.reason,
            case s.status when 'held' then pl.hold_until when 'digest' then pl.digest_at end,
            v_now, v_now
        from unnest(v_i_orgs, v_i_ids, v_i_users, v_i_variables)
            as i (org_id, id, user_id, variables)
        inner join (
            select distinct c.org_id, c.variables
            from unnest(v_c_orgs, v_c_variables) as c (org_id, variables)
        ) as c on c.org_id = i.org_id and c.variables = i.variables
        inner join unnest(
            v_p_orgs, v_p_users, v_p_channels, v_p_silent, v_p_unsubscribed, v_p_digest_at,
            v_p_hold_until, v_p_hold_reason
        ) as pl (
            org_id, user_id, channels, silent, email_unsubscribed, digest_at, hold_until,
            hold_reason
        ) on pl.org_id = i.org_id and pl.user_id = i.user_id
        cross join lateral jsonb_array_elements_text(pl.channels) as ch (channel)
        cross join lateral app._notification_delivery_state(
            ch.channel, pl.silent, pl.email_unsubscribed,
            ch.channel <> 'email' or i.org_id = any(coalesce(v_email_orgs, '{}')),
            pl.digest_at, pl.hold_until, pl.hold_reason
        ) as s;

        -- The pending email deliveries, read back, when some recipient's plan has
        -- the email channel (most built-ins go in-app only: no read then).
        if exists (select 1 from unnest(v_p_channels) as c (channels) where c.channels ? 'email') then
            for v_org_id, v_ids in
                select d.org_id, array_agg(d.id)
                from app.notification_deliveries as d
                where
                    d.org_id = any(v_orgs) and d.notification_id = any(v_i_ids)
                    and d.channel = 'email' and d.status = 'pending'
                group by d.org_id
            loop
                perform app._notification_queue_emails(v_org_id, v_ids);
            end loop;
        end if;
    exception
        when sqlstate 'IT004' or sqlstate 'IT005' or sqlstate 'IT010' then
            -- Which items failed: each half again, so that the others still go
            -- out, as they would one statement each.
            v_count := jsonb_array_length(p_items);
            if v_count > 1 then
                return app._notification_send_builtin(
                    p_slug,
                    jsonb_path_query_array(
                        p_items, '$[0 to $n]', jsonb_build_object('n', v_count / 2 - 1)
                    )
                ) + app._notification_send_builtin(
                    p_slug,
                    jsonb_path_query_array(
                        p_items, '$[$m to last]', jsonb_build_object('m', v_count / 2)
                    )
                );
            end if;
            raise warning using
                message = format('built-in notification %s not sent: %s', p_slug, sqlerrm),
                hint = 'Check the org''s template with this slug (its required variables).';
            return 0;
    end;
    return v_stored;
end
$function$;

-- task_assigned for the activities in p_rows ({org_id, id, subject,
-- assignee_id}: tasks that just got that assignee). The actor is the
-- current user.
create or replace function app._notification_builtin_tasks(p_rows jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_items jsonb;
begin
    select jsonb_agg(jsonb_build_object(
        'org_id', r.org_id,
        'user_id', r.assignee_id,
        'actor_id', v_actor,
        'entity_type', 'activity',
        'entity_id', r.id,
        'variables', jsonb_build_object(
            'task', jsonb_build_object('title', r.subject, 'id', r.id),
            'assigner', jsonb_build_object('name', a.name)
        )
    ))
    into v_items
    from jsonb_to_recordset(p_rows) as r (org_id uuid, id uuid, subject text, assignee_id uuid)
    cross join lateral (
        select app._notification_actor_name(r.org_id, v_actor) as name
    ) as a;
    return app._notification_send_builtin('task_assigned', v_items);
end
$function$;

-- mention_comment for the comments in p_rows ({org_id, id, entity_type,
-- entity_id, author_id, body, user_ids}: user_ids are the mentions to
-- announce). The author is the actor. entity.name is the commented row's
-- display name (app.entity_types.name_field: one query per entity type in
-- the statement), else its type's label.
create or replace function app._notification_builtin_mentions(p_rows jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_orgs uuid[] := array(
        select distinct (r.value ->> 'org_id')::uuid from jsonb_array_elements(p_rows) as r
    );
    v_names jsonb := '{}';
    v_type app.entity_types;
    v_found jsonb;
    v_items jsonb;
begin
    for v_type in
        select e.*
        from app.entity_types as e
        where e.entity_type in (
            select distinct r.entity_type from jsonb_to_recordset(p_rows) as r (entity_type text)
        ) and e.name_field <> 'id'
    loop
        execute format(
            'select jsonb_object_agg(t.id::text, t.%I) from app.%I as t '
            || 'where t.org_id = any($3) and (t.org_id, t.id) in ('
            || 'select r.org_id, r.entity_id '
            || 'from jsonb_to_recordset($1) as r (org_id uuid, entity_type text, entity_id uuid) '
            || 'where r.entity_type = $2)',
            v_type.name_field, v_type.table_name
        )
        into v_found
        using p_rows, v_type.entity_type, v_orgs;
        v_names := v_names || jsonb_build_object(v_type.entity_type, coalesce(v_found, '{}'));
    end loop;

    select jsonb_agg(jsonb_build_object(
        'org_id', r.org_id,
        'user_id', m.user_id,
        'actor_id', r.author_id,
        'entity_type', r.entity_type,
        'entity_id', r.entity_id,
        'variables', jsonb_build_object(
            'mentioner', jsonb_build_object(
                'name', app._notification_actor_name(r.org_id, r.author_id)
            ),
            'entity', jsonb_build_object(
                'type', r.entity_type,
                'id', r.entity_id,
                'name', coalesce(
                    nullif(btrim(v_names -> r.entity_type ->> r.entity_id::text), ''), e.label
                )
            ),
            'comment', jsonb_build_object('id', r.id, 'excerpt', x.excerpt)
        )
    ))
    into v_items
    from jsonb_to_recordset(p_rows) as r (
        org_id uuid, id uuid, entity_type text, entity_id uuid, author_id uuid, body text,
        user_ids uuid[]
    )
    inner join app.entity_types as e on e.entity_type = r.entity_type
    cross join lateral (
        select regexp_replace(btrim(r.body), '\s+', ' ', 'g') as flat
    ) as f
    cross join lateral (
        select case
            when length(f.flat) > 200 then left(f.flat, 199) || '…'
            else f.flat
        end as excerpt
    ) as x
    cross join lateral (select distinct u.user_id from unnest(r.user_ids) as u (user_id)) as m;
    return app._notification_send_builtin('mention_comment', v_items);
end
$function$;

-- submission_created (p_slug) or submission_status_changed for the
-- submissions in p_rows ({org_id, id, job_id, candidate_id, submitted_by,
-- status}), to the owner of each one's job (app.jobs has one user column for
-- it, owner_id; a deleted job notifies nobody). The actor is the current user.
create or replace function app._notification_builtin_submissions(p_slug text, p_rows jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_orgs uuid[] := array(
        select distinct (r.value ->> 'org_id')::uuid from jsonb_array_elements(p_rows) as r
    );
    v_items jsonb;
begin
    select jsonb_agg(jsonb_build_object(
        'org_id', r.org_id,
        'user_id', j.owner_id,
        'actor_id', v_actor,
        'entity_type', 'submission',
        'entity_id', r.id,
        'variables', jsonb_build_object(
            'job', jsonb_build_object('id', j.id, 'title', j.title),
            'candidate', jsonb_build_object('id', c.id, 'name', c.full_name),
            'submitter', jsonb_build_object(
                'name', app._notification_actor_name(r.org_id, r.submitted_by)
            ),
            'submission', jsonb_build_object('id', r.id),
            'status', replace(r.status, '_', ' ')
        )
    ))
    into v_items
    from jsonb_to_recordset(p_rows) as r (
        org_id uuid, id uuid, job_id uuid, candidate_id uuid, submitted_by uuid, status text
    )
    inner join app.jobs as j on j.org_id = r.org_id and j.id = r.job_id
    inner join app.candidates as c on c.org_id = r.org_id and c.id = r.candidate_id
    where
        j.org_id = any(v_orgs) and c.org_id = any(v_orgs)
        and j.owner_id is not null and j.deleted_at is null;
    return app._notification_send_builtin(p_slug, v_items);
end
$function$;

-- interview_scheduled for the interviews in p_rows ({org_id, id,
-- submission_id, scheduled_at, timezone, interviewer_id}), to the
-- interviewer: the date and time in the interview's time zone (UTC when it
-- is not a zone PostgreSQL knows). The actor is the current user.
create or replace function app._notification_builtin_interviews(p_rows jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_orgs uuid[] := array(
        select distinct (r.value ->> 'org_id')::uuid from jsonb_array_elements(p_rows) as r
    );
    v_items jsonb;
begin
    with tz as (
        select z.timezone, app._is_time_zone(z.timezone) as valid
        from (
            select distinct r.timezone from jsonb_to_recordset(p_rows) as r (timezone text)
        ) as z
    )

    select jsonb_agg(jsonb_build_object(
        'org_id', r.org_id,
        'user_id', r.interviewer_id,
        'actor_id', v_actor,
        'entity_type', 'interview',
        'entity_id', r.id,
        'variables', jsonb_build_object(
            'interview', jsonb_build_object(
                'id', r.id,
                'date', to_char(r.scheduled_at at time zone t.zone, 'YYYY-MM-DD'),
                'time', to_char(r.scheduled_at at time zone t.zone, 'HH24:MI') || ' ' || t.zone
            ),
            'candidate', jsonb_build_object('id', c.id, 'name', c.full_name),
            'job', jsonb_build_object('id', j.id, 'title', j.title)
        )
    ))
    into v_items
    from jsonb_to_recordset(p_rows) as r (
        org_id uuid, id uuid, submission_id uuid, scheduled_at timestamptz, timezone text,
        interviewer_id uuid
    )
    inner join tz on tz.timezone is not distinct from r.timezone
    cross join lateral (
        select case when tz.valid then r.timezone else 'UTC' end as zone
    ) as t
    inner join app.submissions as s on s.org_id = r.org_id and s.id = r.submission_id
    inner join app.jobs as j on j.org_id = s.org_id and j.id = s.job_id
    inner join app.candidates as c on c.org_id = s.org_id and c.id = s.candidate_id
    where s.org_id = any(v_orgs) and j.org_id = any(v_orgs) and c.org_id = any(v_orgs);
    return app._notification_send_builtin('interview_scheduled', v_items);
end
$function$;

-- deal_stage_changed for the deals in p_rows ({org_id, id, name, value,
-- currency, stage_id, owner_id}: deals that just entered stage_id), to the
-- owner; a move into a won stage sends deal_closed_won instead when the org
-- has it on. The actor is the current user.
create or replace function app._notification_builtin_deals(p_rows jsonb)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_orgs uuid[] := array(
        select distinct (r.value ->> 'org_id')::uuid from jsonb_array_elements(p_rows) as r
    );
    v_won_orgs uuid[];
    v_won jsonb;
    v_moved jsonb;
begin
    v_won_orgs := array(
        select o.id from unnest(v_orgs) as o (id)
        where app._notification_builtin_enabled(o.id, 'deal_closed_won')
    );
    select
        jsonb_agg(x.item) filter (where x.won),
        jsonb_agg(x.item) filter (where not x.won)
    into v_won, v_moved
    from jsonb_to_recordset(p_rows) as r (
        org_id uuid, id uuid, name text, value numeric, currency text, stage_id uuid,
        owner_id uuid
    )
    inner join app.deal_stages as st on st.org_id = r.org_id and st.id = r.stage_id
    cross join lateral (
        select
            st.is_won and r.org_id = any(v_won_orgs) as won,
            jsonb_build_object(
                'org_id', r.org_id,
                'user_id', r.owner_id,
                'actor_id', v_actor,
                'entity_type', 'deal',
                'entity_id', r.id,
                'variables', jsonb_build_object(
                    'deal', jsonb_build_object(
                        'id', r.id,
                        'name', r.name,
                        'value', r.currency || ' ' || to_char(r.value, 'FM999,999,999,999,990.00')
                    ),
                    'stage', st.name
                )
            ) as item
    ) as x
    where st.org_id = any(v_orgs);
    return app._notification_send_builtin('deal_closed_won', v_won)
        + app._notification_send_builtin('deal_stage_changed', v_moved);
end
$function$;

create or replace function api.list_builtin_notifications()
returns table (
    slug text,
    name text,
    category text,
    event text,
    enabled boolean,
    changed_by uuid,
    changed_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    return query
    select
        b.slug, t.name, t.category, b.event, coalesce(s.enabled, true), s.changed_by,
        s.changed_at
    from app._notification_builtins() as b
    inner join app.notification_system_templates as t on t.slug = b.slug
    left join app.builtin_notification_settings as s on s.org_id = v_org_id and s.slug = b.slug
    order by b.ord;
end
$function$;

comment on function api.list_builtin_notifications() is
$$The built-in notifications (system templates that fire on their own when a task is
assigned, a user mentioned, a candidate submitted, a submission's status changes, an
interview scheduled, a deal moves or is won) of the caller's org: slug, template name,
category, the event that fires it and to whom, enabled (true unless an admin turned it off
with api.set_builtin_notification), and who changed that and when (null: never changed). Any
user of the org.$$;

create or replace function api.set_builtin_notification(p_slug text, p_enabled boolean)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003',
            message = 'only an org admin may turn a built-in notification on or off',
            hint = 'Act as a user with role admin.';
    end if;
    if not exists (select 1 from app._notification_builtins() as b where b.slug = p_slug) then
        raise exception using
            errcode = 'IT004',
            message = format('no built-in notification %L', p_slug),
            hint = 'api.list_builtin_notifications() lists them.';
    end if;
    if p_enabled is null then
        raise exception using errcode = 'IT005', message = 'p_enabled must not be null';
    end if;
    insert into app.builtin_notification_settings as s (
        org_id, slug, enabled, changed_by, changed_at
    )
    values (v_org_id, p_slug, p_enabled, app.current_user_id(), app.now())
    on conflict (org_id, slug) do update
    set enabled = excluded.enabled, changed_by = excluded.changed_by,
        changed_at = excluded.changed_at;
end
$function$;

comment on function api.set_builtin_notification(text, boolean) is
$$Org admins. Turns the built-in notification p_slug (api.list_builtin_notifications) off
(p_enabled false) or back on (true) for the caller's org; recorded with who and when. While
off, its event sends nothing to anyone of the org; each user's own preferences still apply
when it is on. IT003 for a caller who is not an admin, IT004 for a slug that is not a
built-in notification, IT005 for a null p_enabled.$$;

-- The triggers. Each keeps the rows that concern its event in one pass over
-- the transition tables and returns at once when there are none (an UPDATE
-- of other columns costs one scan of rows PostgreSQL already captured).

-- activities, AFTER INSERT: tasks created with an assignee.
create or replace function app._tg_activity_notify_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
    v_orgs uuid[];
    v_campaign_orgs uuid[];
    v_campaign_ids text[];
    v_campaign_owners uuid[];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    -- The transition table first, the campaigns then: a Citus worker cannot read
    -- both in one statement (docs/scale-out.md).
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'subject', n.subject, 'assignee_id', n.assignee_id,
        'campaign_id', n.metadata ->> 'campaign_id'
    ))
    into v_rows
    from new_rows as n
    where
        n.type = 'task' and n.assignee_id is not null
        and n.status in ('open', 'scheduled', 'in_progress');
    if v_rows is null then
        return null;
    end if;
    -- A campaign's step task goes to the campaign's owner, who set the sequence up:
    -- the owner's own action, carried out by the tick (docs/notifications.md). The
    -- campaign must be the assignee's: a metadata key alone silences nothing. The
    -- campaigns are read apart (on Citus no correlated probe per row: SQL shapes).
    v_orgs := array(
        select distinct (r.v ->> 'org_id')::uuid from jsonb_array_elements(v_rows) as r (v)
    );
    v_campaign_ids := array(
        select r.v ->> 'campaign_id' from jsonb_array_elements(v_rows) as r (v)
        where r.v ->> 'campaign_id' is not null
    );
    select array_agg(c.org_id), array_agg(c.id::text), array_agg(c.owner_id)
    into v_campaign_orgs, v_campaign_ids, v_campaign_owners
    from app.campaigns as c
    where c.org_id = any(v_orgs) and c.id::text = any(v_campaign_ids);
    select jsonb_agg(r.v - 'campaign_id') into v_rows
    from jsonb_array_elements(v_rows) as r (v)
    where not exists (
        select 1
        from unnest(v_campaign_orgs, v_campaign_ids, v_campaign_owners) as c (org_id, id, owner_id)
        where
            c.org_id = (r.v ->> 'org_id')::uuid
            and c.id = r.v ->> 'campaign_id'
            and c.owner_id = (r.v ->> 'assignee_id')::uuid
    );
    if v_rows is not null then
        perform app._notification_builtin_tasks(v_rows);
    end if;
    return null;
end
$function$;

-- activities, AFTER UPDATE: tasks whose assignee changed to a user.
create or replace function app._tg_activity_notify_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'subject', n.subject, 'assignee_id', n.assignee_id
    ))
    into v_rows
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    where
        n.type = 'task'
        and n.assignee_id is not null
        and n.assignee_id is distinct from o.assignee_id
        -- Reassigning done work (someone leaves, their tasks move) is no news.
        and n.status in ('open', 'scheduled', 'in_progress');
    if v_rows is not null then
        perform app._notification_builtin_tasks(v_rows);
    end if;
    return null;
end
$function$;

-- comments, AFTER INSERT: every mention of a comment that is not deleted.
create or replace function app._tg_comment_notify_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'entity_type', n.entity_type,
        'entity_id', n.entity_id, 'author_id', n.author_id, 'body', n.body,
        'user_ids', n.mentioned_user_ids
    ))
    into v_rows
    from new_rows as n
    where cardinality(n.mentioned_user_ids) > 0 and n.deleted_at is null;
    if v_rows is not null then
        perform app._notification_builtin_mentions(v_rows);
    end if;
    return null;
end
$function$;

-- comments, AFTER UPDATE: the mentions an edit added.
create or replace function app._tg_comment_notify_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
    v_actor uuid := app.current_user_id();
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'entity_type', n.entity_type,
        -- The edit's mentioner is whoever edits (the author when no user is in
        -- context): an admin adding a mention to another's comment is the actor.
        'entity_id', n.entity_id, 'author_id', coalesce(v_actor, n.author_id),
        'body', n.body, 'user_ids', a.added
    ))
    into v_rows
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    cross join lateral (
        select array(
            select m.id from unnest(n.mentioned_user_ids) as m (id)
            except
            select m.id from unnest(o.mentioned_user_ids) as m (id)
        ) as added
    ) as a
    where
        n.deleted_at is null
        and not (n.mentioned_user_ids <@ o.mentioned_user_ids)
        and cardinality(a.added) > 0;
    if v_rows is not null then
        perform app._notification_builtin_mentions(v_rows);
    end if;
    return null;
end
$function$;

-- submissions, AFTER INSERT: a candidate submitted to a job.
create or replace function app._tg_submission_notify_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'job_id', n.job_id, 'candidate_id', n.candidate_id,
        'submitted_by', n.submitted_by, 'status', n.status
    ))
    into v_rows
    from new_rows as n;
    if v_rows is not null then
        perform app._notification_builtin_submissions('submission_created', v_rows);
    end if;
    return null;
end
$function$;

-- submissions, AFTER UPDATE: a status change.
create or replace function app._tg_submission_notify_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'job_id', n.job_id, 'candidate_id', n.candidate_id,
        'submitted_by', n.submitted_by, 'status', n.status
    ))
    into v_rows
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    where n.status is distinct from o.status;
    if v_rows is not null then
        perform app._notification_builtin_submissions('submission_status_changed', v_rows);
    end if;
    return null;
end
$function$;

-- interviews, AFTER INSERT: a scheduled interview with an interviewer.
create or replace function app._tg_interview_notify_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'submission_id', n.submission_id,
        'scheduled_at', n.scheduled_at, 'timezone', n.timezone,
        'interviewer_id', n.interviewer_id
    ))
    into v_rows
    from new_rows as n
    where n.status = 'scheduled' and n.interviewer_id is not null;
    if v_rows is not null then
        perform app._notification_builtin_interviews(v_rows);
    end if;
    return null;
end
$function$;

-- interviews, AFTER UPDATE: a scheduled interview that got another
-- interviewer (told, the previous one is not) or another time.
create or replace function app._tg_interview_notify_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'submission_id', n.submission_id,
        'scheduled_at', n.scheduled_at, 'timezone', n.timezone,
        'interviewer_id', n.interviewer_id
    ))
    into v_rows
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    where
        n.status = 'scheduled'
        and n.interviewer_id is not null
        and (
            n.interviewer_id is distinct from o.interviewer_id
            or n.scheduled_at is distinct from o.scheduled_at
            or n.timezone is distinct from o.timezone
            or o.status <> 'scheduled'
        );
    if v_rows is not null then
        perform app._notification_builtin_interviews(v_rows);
    end if;
    return null;
end
$function$;

-- deals, AFTER UPDATE: a stage change of a deal that is not deleted.
create or replace function app._tg_deal_notify_stage()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_rows jsonb;
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select jsonb_agg(jsonb_build_object(
        'org_id', n.org_id, 'id', n.id, 'name', n.name, 'value', n.value,
        'currency', n.currency, 'stage_id', n.stage_id, 'owner_id', n.owner_id
    ))
    into v_rows
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    where
        n.stage_id is distinct from o.stage_id
        and n.owner_id is not null
        and n.deleted_at is null;
    if v_rows is not null then
        perform app._notification_builtin_deals(v_rows);
    end if;
    return null;
end
$function$;
