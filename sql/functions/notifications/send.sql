-- Sending: render once, apply each recipient's preferences in one set-based
-- statement (insert or collapse the notification, one delivery per
-- channel), then queue the immediate emails. One transaction.

-- Render a request once: check it, pick the template (the org's active one wins
-- over the system one with that slug), render the title, message and action URL,
-- and the email version (the template's email fields with values HTML-escaped,
-- else the title and message). Reads templates; writes nothing.
create or replace function app._notification_content(p_request app.notification_request)
returns app.notification_content
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_vars jsonb := coalesce(p_request.variables, '{}');
    v_tpl record;
    v_missing text[];
    v_category text;
    v_title text;
    v_message text;
    v_type text;
    v_priority text;
    v_action_url text;
    v_action_label text;
    v_requested jsonb;
    v_email_vars jsonb;
    v_email_subject text;
    v_email_html text;
    v_email_text text;
    v_subject_tpl text;
    v_body_tpl text;
    v_text_tpl text;
begin
    if p_request.user_ids is null or cardinality(p_request.user_ids) = 0 then
        raise exception using errcode = 'IT005', message = 'no recipients given';
    end if;
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;
    perform app._notification_assert_channels(p_request.channels);
    if p_request.expires_at is not null and p_request.expires_at <= v_now then
        raise exception using errcode = 'IT005', message = 'p_expires_at is in the past';
    end if;
    if length(p_request.group_key) > 200 then
        raise exception using errcode = 'IT005', message = 'p_group_key is longer than 200';
    end if;

    if p_request.template_slug is not null then
        if p_request.title is not null or p_request.message is not null then
            raise exception using
                errcode = 'IT005',
                message = 'give p_template_slug, or p_title with p_message, not both';
        end if;
        -- The org's active template wins over the system one with that slug.
        select t.* into v_tpl
        from (
            select o.category, o.title_template, o.message_template, o.default_type,
                o.default_priority, o.action_url_template, o.action_label,
                o.email_subject_template, o.email_body_template, o.email_body_text_template,
                o.default_channels, o.variables, 0 as rank
            from app.notification_templates as o
            where o.org_id = p_request.org_id and o.slug = p_request.template_slug and o.is_active
            union all
            select s.category, s.title_template, s.message_template, s.default_type,
                s.default_priority, s.action_url_template, s.action_label,
                s.email_subject_template, s.email_body_template, s.email_body_text_template,
                s.default_channels, s.variables, 1 as rank
            from app.notification_system_templates as s
            where s.slug = p_request.template_slug and s.is_active
        ) as t
        order by t.rank
        limit 1;
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format('notification template %s not found', p_request.template_slug);
        end if;
        v_missing := app._missing_variables(
            p_declared => v_tpl.variables,
            p_vars => v_vars,
            p_templates => array[
                v_tpl.title_template, v_tpl.message_template, v_tpl.action_url_template,
                v_tpl.email_subject_template, v_tpl.email_body_template,
                v_tpl.email_body_text_template
            ]
        );
        if cardinality(v_missing) > 0 then
            raise exception using
                errcode = 'IT010',
                message = format(
                    'template %s is missing required variables: %s',
                    p_request.template_slug, array_to_string(v_missing, ', ')
                );
        end if;
        v_category := coalesce(p_request.category, v_tpl.category);
        v_title := app._render(v_tpl.title_template, v_vars, 'none');
        v_message := app._render(v_tpl.message_template, v_vars, 'none');
        v_action_url := coalesce(
            p_request.action_url, nullif(app._render(v_tpl.action_url_template, v_vars, 'url'), '')
        );
        v_action_label := coalesce(p_request.action_label, v_tpl.action_label);
        v_type := coalesce(p_request.type, v_tpl.default_type);
        v_priority := coalesce(p_request.priority, v_tpl.default_priority);
        v_requested := coalesce(to_jsonb(p_request.channels), v_tpl.default_channels);
        v_subject_tpl := v_tpl.email_subject_template;
        v_body_tpl := v_tpl.email_body_template;
        v_text_tpl := v_tpl.email_body_text_template;
    else
        if p_request.title is null or p_request.message is null or p_request.category is null then
            raise exception using
                errcode = 'IT005',
                message = 'give p_template_slug, or p_category with p_title and p_message';
        end if;
        v_category := p_request.category;
        v_title := p_request.title;
        v_message := p_request.message;
        v_action_url := p_request.action_url;
        v_action_label := p_request.action_label;
        v_type := coalesce(p_request.type, 'info');
        v_priority := coalesce(p_request.priority, 'normal');
        v_requested := to_jsonb(p_request.channels);
    end if;

    if length(v_title) > 500 then
        raise exception using
            errcode = 'IT005',
            message = format('the title is %s characters long (at most 500)', length(v_title));
    end if;
    if v_category is null or v_category !~ '^[a-z][a-z0-9_]*$' then
        raise exception using errcode = 'IT005', message = format('invalid category %L', v_category);
    end if;
    if v_type not in ('info', 'success', 'warning', 'error', 'action_required') then
        raise exception using errcode = 'IT005', message = format('invalid type %L', v_type);
    end if;
    if v_priority not in ('low', 'normal', 'high', 'urgent') then
        raise exception using errcode = 'IT005', message = format('invalid priority %L', v_priority);
    end if;
    -- A relative path or an http(s) URL: never javascript:, data: or //host
    -- links, and no whitespace or control characters (browsers drop a tab in
    -- "/\t/evil.example", which would make it //evil.example).
    if v_action_url is not null and v_action_url !~* (
        '^(/([^/\\[:cntrl:][:space:]][^[:cntrl:][:space:]]*)?'
        || '|https?://[^/\\?#[:cntrl:][:space:]]+([/?#][^[:cntrl:][:space:]]*)?)$'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('action URL %L must be a path or an http(s) URL', v_action_url);
    end if;

    -- The email version: the template's email fields (values HTML-escaped),
    -- else the title and message.
    v_email_vars := v_vars || jsonb_build_object('action_url', coalesce(v_action_url, ''));
    v_email_subject := regexp_replace(
        case
            when v_subject_tpl is not null then app._render(v_subject_tpl, v_vars, 'none')
            else v_title
        end,
        '[\r\n]+', ' ', 'g'
    );
    v_email_html := case
        when v_body_tpl is not null then app._render(v_body_tpl, v_email_vars, 'html')
        else '<p>' || app._html_escape(v_message) || '</p>'
            || case
                when v_action_url is not null then format(
                    '<p><a href="%s">%s</a></p>',
                    app._html_escape(v_action_url),
                    app._html_escape(coalesce(v_action_label, 'Open'))
                )
                else ''
            end
    end;
    v_email_text := case
        when v_text_tpl is not null then app._render(v_text_tpl, v_email_vars, 'none')
        else v_message || coalesce(E'\n\n' || v_action_url, '')
    end;
    return row(
        v_category, v_title, v_message, v_type, v_priority, v_action_url, v_action_label,
        v_requested, v_vars, v_email_subject, v_email_html, v_email_text
    )::app.notification_content;
end
$function$;

-- How one channel of a planned notification is delivered: its status and reason
-- (docs/notifications.md). In-app is delivered at once (silently during do not
-- disturb); SMS and push have no provider; email is skipped for an unsubscribed
-- user or an org without email settings, else goes to the digest, is held (quiet
-- hours, do not disturb) or is pending. Shared by app._notification_send and the
-- built-in notifications' sender. Inlined into their INSERTs (no SET clause:
-- docs/conventions.md, "Inlined SQL helpers").
create or replace function app._notification_delivery_state(
    p_channel text,
    p_silent boolean,
    p_email_unsubscribed boolean,
    p_has_email boolean,
    p_digest_at timestamptz,
    p_hold_until timestamptz,
    p_hold_reason text
)
returns table (status text, reason text)
language sql
immutable
as $function$
    select
        case
            when p_channel = 'in_app' then 'delivered'
            when p_channel in ('sms', 'push') then 'skipped'
            when p_email_unsubscribed or not p_has_email then 'skipped'
            when p_digest_at is not null then 'digest'
            when p_hold_until is not null then 'held'
            else 'pending'
        end,
        case
            when p_channel = 'in_app' and p_silent then 'silent: do not disturb'
            when p_channel in ('sms', 'push') then 'no provider configured'
            when p_channel = 'in_app' then null
            when p_email_unsubscribed then 'email unsubscribed'
            when not p_has_email then 'no email provider configured'
            when p_digest_at is not null then null
            else p_hold_reason
        end
$function$;

-- The engine behind api.send_notification, api.send_notification_bulk and the
-- workflow and campaign notifications: one request, for one or more users.
-- Its statements are planned once per session and kept (plan_cache_mode):
-- a custom plan per call, for a single recipient, cost more to plan than to
-- run. That plan guesses 10 recipients, for which it would cache each one's
-- preference plan (memoize): setting up the cache costs more than it saves.
-- Never JIT-compiled (jit): an OLTP write whose estimates multiply (a JSON
-- array of channels per recipient) could pass jit_above_cost, and compiling
-- then costs a thousand times the write (docs/notifications.md).
create or replace function app._notification_send(p_request app.notification_request)
returns table (user_id uuid, notification_id uuid, outcome text)
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_memoize = off
set jit = off
as $function$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
    v_content app.notification_content := app._notification_content(p_request);
    v_critical boolean := coalesce(p_request.critical, false);
    v_sender uuid := app.current_user_id();
    -- The transaction takes its xid before any seq is drawn: the stream hub
    -- settles a skipped seq once a snapshot's xmin passes an xid it drew after
    -- the read that skipped it (web/hub.py), and a transaction that drew a seq
    -- with no xid yet (an ON CONFLICT insert waits before it writes) could
    -- take an xid above that and commit the seq after that point.
    v_xid xid8 := pg_catalog.pg_current_xact_id();
    v_unknown uuid[];
    v_users uuid[];
    v_ids uuid[];
    v_outcomes text[];
    v_expected bigint;
    v_pending uuid[];
    v_found uuid[];
    v_found_active boolean[];
    v_p_channels jsonb[];
    v_p_suppressed boolean[];
    v_p_hold_until timestamptz[];
    v_p_hold_reason text[];
    v_p_silent boolean[];
    v_p_digest_at timestamptz[];
    v_p_unsubscribed boolean[];
begin
    -- A user's notification may not link off the app without the permission,
    -- whether the URL came as a parameter or out of a template and its variables.
    if v_sender is not null and v_content.action_url ~* '^https?://' then
        perform app._require_permission('notifications.link_external');
    end if;

    -- An expired notification still holds its group open (it is unread);
    -- archive it so this one starts a new row instead of reviving it.
    if p_request.group_key is not null then
        update app.notifications as n
        set archived_at = v_now, updated_at = v_now
        where
            n.org_id = p_request.org_id
            and n.user_id = any(p_request.user_ids)
            and n.group_key = p_request.group_key
            and n.created_by is not distinct from v_sender
            and n.read_at is null
            and n.archived_at is null
            and n.expires_at <= v_now;
    end if;

    -- Each recipient's profile, by key; then each is planned by
    -- app._notification_plan (inlined on a single node) in a statement of its
    -- own, on arrays: on Citus a query that reads a table may not also call a
    -- function that reads one, nor may a statement that writes (docs/scale-out.md).
    select array_agg(u.id), array_agg(u.is_active) into v_found, v_found_active
    from app.user_profiles as u
    where u.org_id = p_request.org_id and u.id = any(p_request.user_ids);
    select
        array_agg(u.id), array_agg(u.is_active), array_agg(p.channels), array_agg(p.suppressed),
        array_agg(p.hold_until), array_agg(p.hold_reason), array_agg(p.silent),
        array_agg(p.digest_at), array_agg(p.email_unsubscribed)
    into
        v_found, v_found_active, v_p_channels, v_p_suppressed, v_p_hold_until, v_p_hold_reason,
        v_p_silent, v_p_digest_at, v_p_unsubscribed
    from unnest(v_found, v_found_active) as u (id, is_active)
    cross join lateral app._notification_plan(
        p_request.org_id, u.id, v_content.category, v_content.requested_channels, v_critical, v_now
    ) as p;

    with plan as (
        select *
        from unnest(
            v_found, v_found_active, v_p_channels, v_p_suppressed, v_p_hold_until,
            v_p_hold_reason, v_p_silent, v_p_digest_at, v_p_unsubscribed
        ) as p (
            user_id, is_active, channels, suppressed, hold_until, hold_reason, silent,
            digest_at, email_unsubscribed
        )
    ),

    upserted as (
        insert into app.notifications as n (
            org_id, user_id, title, message, type, category, priority, entity_type, entity_id,
            action_url, action_label, channels, template_slug, data, group_key, critical,
            silent, email_subject, email_html, email_text, expires_at, created_by,
            created_at, updated_at, announced_at
        )
        select
            p_request.org_id, pl.user_id, v_content.title, v_content.message, v_content.type, v_content.category, v_content.priority,
            p_request.entity_type, p_request.entity_id, v_content.action_url, v_content.action_label, pl.channels,
            p_request.template_slug, v_content.variables, p_request.group_key, v_critical, pl.silent, v_content.email_subject,
            v_content.email_html, v_content.email_text, p_request.expires_at, v_sender, v_now, v_now,
            v_now
        from plan as pl
        where pl.is_active and not pl.suppressed
        on conflict (org_id, user_id, group_key, created_by)
        where group_key is not null and read_at is null and archived_at is null
        and channels ? 'in_app'
        do update set
            seq = excluded.seq,  -- a fresh seq: the one this row would have taken
            announced_at = excluded.announced_at,  -- and the inbox's order with it
            group_count = n.group_count + 1,
            title = excluded.title,
            message = excluded.message,
            type = excluded.type,
            priority = excluded.priority,
            entity_type = excluded.entity_type,
            entity_id = excluded.entity_id,
            action_url = excluded.action_url,
            action_label = excluded.action_label,
            data = excluded.data,
            channels = excluded.channels,
            critical = excluded.critical,
            silent = excluded.silent,
            email_subject = excluded.email_subject,
            email_html = excluded.email_html,
            email_text = excluded.email_text,
            expires_at = excluded.expires_at,
            seen_at = null,
            updated_at = excluded.updated_at
        returning n.id, n.user_id, n.xmax = 0 as inserted
    ),

    -- A collapsed row keeps its deliveries: a group emails once until it is
    -- read, and a held email goes out with the newest text. Only a critical
    -- send upgrades a waiting (held, digest) delivery to go now.
    deliveries as (
        insert into app.notification_deliveries as d (
            org_id, notification_id, user_id, channel, status, reason, deliver_after,
            created_at, updated_at
        )
        select
            p_request.org_id, up.id, up.user_id, c.channel, s.status, s.reason,
            case s.status when 'held' then pl.hold_until when 'digest' then pl.digest_at end,
            v_now, v_now
        from upserted as up
        inner join plan as pl on pl.user_id = up.user_id
        cross join lateral jsonb_array_elements_text(pl.channels) as c (channel)
        cross join lateral (
            select
                c.channel <> 'email' or exists (
                    select 1 from app.email_settings as e where e.org_id = p_request.org_id
                ) as has_email
        ) as cfg
        cross join lateral app._notification_delivery_state(
            c.channel, pl.silent, pl.email_unsubscribed, cfg.has_email, pl.digest_at,
            pl.hold_until, pl.hold_reason
        ) as s
        on conflict (org_id, notification_id, channel) do update set
            status = excluded.status,
            reason = excluded.reason,
            deliver_after = excluded.deliver_after,
            updated_at = excluded.updated_at
        where d.status in ('held', 'digest') and excluded.status = 'pending'
        returning d.id, d.channel, d.status
    )

    select
        array_agg(pl.user_id order by pl.user_id),
        array_agg(up.id order by pl.user_id),
        array_agg(
            case
                when not pl.is_active then 'inactive'
                when pl.suppressed then 'suppressed'
                when up.inserted then 'created'
                else 'collapsed'
            end
            order by pl.user_id
        ),
        (select array_agg(d.id) from deliveries as d where d.channel = 'email' and d.status = 'pending'),
        (select count(distinct r.id) from unnest(p_request.user_ids) as r (id))
    into v_users, v_ids, v_outcomes, v_pending, v_expected
    from plan as pl
    left join upserted as up on up.user_id = pl.user_id;

    -- A user outside the org: all or nothing (the raise undoes the writes).
    if coalesce(cardinality(v_users), 0) < v_expected then
        select array_agg(r.id order by r.id) into v_unknown
        from (select distinct unnest(p_request.user_ids) as id) as r
        where r.id <> all(coalesce(v_users, '{}'));
        raise exception using
            errcode = 'IT004',
            message = format(
                'no such user in this organization: %s', array_to_string(v_unknown[1:5], ', ')
            );
    end if;

    if v_pending is not null then
        perform app._notification_queue_emails(p_request.org_id, v_pending);
    end if;

    return query select * from unnest(v_users, v_ids, v_outcomes);
end
$function$;

create or replace function api.send_notification(
    p_user_id uuid,
    p_category text default null,
    p_template_slug text default null,
    p_title text default null,
    p_message text default null,
    p_variables jsonb default '{}',
    p_type text default null,
    p_priority text default null,
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_action_url text default null,
    p_action_label text default null,
    p_channels text[] default null,
    p_group_key text default null,
    p_expires_at timestamptz default null,
    p_critical boolean default false,
    p_org_id uuid default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._act_for_org(p_org_id);
    v_id uuid;
    v_outcome text;
    v_channels text[];
begin
    if p_user_id is null then
        raise exception using errcode = 'IT005', message = 'p_user_id must not be null';
    end if;
    v_channels := app._notification_check_sender(
        array[p_user_id], p_channels, p_critical, p_action_url
    );
    select s.notification_id, s.outcome into v_id, v_outcome
    from app._notification_send(row(
        v_org_id,  -- org_id
        array[p_user_id],  -- user_ids
        p_category,  -- category
        p_template_slug,  -- template_slug
        p_title,  -- title
        p_message,  -- message
        p_variables,  -- variables
        p_type,  -- type
        p_priority,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        v_channels,  -- channels
        p_group_key,  -- group_key
        p_expires_at,  -- expires_at
        p_critical  -- critical
    )::app.notification_request) as s;
    if v_outcome = 'inactive' then
        raise exception using
            errcode = 'IT004',
            message = format('user %s is not active', p_user_id);
    end if;
    return v_id;
end
$function$;

comment on function api.send_notification(
    uuid, text, text, text, text, jsonb, text, text, text, uuid, text, text, text[], text,
    timestamptz, boolean, uuid
) is
$$Notifies one active user of the caller's org, in one transaction. Content is the template
p_template_slug (the org's active one, else the system one) rendered with p_variables
({{ a.b }}; values percent-encoded in the action URL, HTML-escaped in the email body), or
p_category with p_title and p_message. Channels are p_channels (default: the template's
default channels, else the user's) intersected with the user's preference for the category.
Rules: frequency never stores nothing and returns null; do-not-disturb and quiet hours hold
email until they end (deliver_after) and do-not-disturb stores the in-app row silent; a
digest frequency moves email to the next digest; p_critical bypasses all of these. An unread
notification with the same p_group_key collapses: group_count + 1, the newest text, a new
seq (re-announced). Email is queued through the email engine; sms and push are skipped with
reason 'no provider configured'. A user sending needs notifications.send_critical for
p_critical, notifications.link_external for an absolute action URL and
notifications.send_email to email someone else (default channels become in-app only without
it), IT003 otherwise; and may send app.settings.notification_rate_per_minute a minute (IT016).
The service may name the org as p_org_id instead of setting an actor first (an org-first
call, which a Citus cluster runs on the node that holds the org; IT002 for anyone else).
Returns the notification id. Errors: IT004 unknown template or user, IT010 missing required
variables (named), IT005 bad input.$$;

create or replace function api.send_notification_bulk(
    p_user_ids uuid[],
    p_category text default null,
    p_template_slug text default null,
    p_title text default null,
    p_message text default null,
    p_variables jsonb default '{}',
    p_type text default null,
    p_priority text default null,
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_action_url text default null,
    p_action_label text default null,
    p_channels text[] default null,
    p_group_key text default null,
    p_expires_at timestamptz default null,
    p_critical boolean default false
)
returns table (user_id uuid, notification_id uuid, outcome text)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_channels text[] := app._notification_check_sender(
        array(select distinct u.id from unnest(p_user_ids) as u (id)),
        p_channels, p_critical, p_action_url
    );
begin
    return query
    select s.user_id, s.notification_id, s.outcome
    from app._notification_send(row(
        v_org_id,  -- org_id
        p_user_ids,  -- user_ids
        p_category,  -- category
        p_template_slug,  -- template_slug
        p_title,  -- title
        p_message,  -- message
        p_variables,  -- variables
        p_type,  -- type
        p_priority,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        v_channels,  -- channels
        p_group_key,  -- group_key
        p_expires_at,  -- expires_at
        p_critical  -- critical
    )::app.notification_request) as s;
end
$function$;

comment on function api.send_notification_bulk(
    uuid[], text, text, text, text, jsonb, text, text, text, uuid, text, text, text[], text,
    timestamptz, boolean
) is
$$The set-based form of api.send_notification for "notify the team": renders once, applies
every recipient's preferences in one statement, and returns one row per distinct user with
its notification id and outcome: created, collapsed (same unread group_key), suppressed
(frequency never) or inactive (nothing stored). All or nothing: a user outside the org
raises IT004 naming it. The sender's permissions and rate apply as for api.send_notification,
one notification per distinct recipient.$$;

-- What a user (not the engine) may send: p_user_ids (one notification each)
-- with p_channels, p_critical and p_action_url. Critical needs
-- notifications.send_critical and an absolute action URL
-- notifications.link_external (IT003). Without notifications.send_email a
-- notification to anyone but the caller goes in-app only: explicit email
-- channels are IT003, default channels become {in_app} (the return value).
-- Then the rate (app._require_send_rate): these notifications, collapsed or
-- not, and those the caller sent in the last minute may not pass
-- app.settings.notification_rate_per_minute (IT016). With no user in context:
-- p_channels unchanged, no limit.
create or replace function app._notification_check_sender(
    p_user_ids uuid[], p_channels text[], p_critical boolean, p_action_url text
)
returns text[]
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_user_id uuid := app.current_user_id();
    v_count integer := coalesce(cardinality(p_user_ids), 0);
    v_channels text[] := p_channels;
begin
    if v_user_id is null then
        return v_channels;
    end if;
    if coalesce(p_critical, false) then
        perform app._require_permission('notifications.send_critical');
    end if;
    if p_action_url ~* '^https?://' then
        perform app._require_permission('notifications.link_external');
    end if;
    if exists (select 1 from unnest(p_user_ids) as u (id) where u.id is distinct from v_user_id)
        and not app._has_permission('notifications.send_email') then
        if 'email' = any(v_channels) then
            perform app._require_permission('notifications.send_email');
        end if;
        v_channels := coalesce(v_channels, array['in_app']);
    end if;
    perform app._require_send_rate('notification', v_count);
    return v_channels;
end
$function$;
