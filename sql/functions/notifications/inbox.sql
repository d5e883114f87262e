-- The inbox: a user's own in-app notifications (expired ones never show),
-- read/seen/archive marks, and the reads the SSE stream makes.

-- The JSON a client receives for one notification (SSE data, replay).
create or replace function app._notification_json(p_row app.notifications)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select jsonb_build_object(
        'id', p_row.id,
        'seq', p_row.seq,
        'title', p_row.title,
        'message', p_row.message,
        'type', p_row.type,
        'category', p_row.category,
        'priority', p_row.priority,
        'entity_type', p_row.entity_type,
        'entity_id', p_row.entity_id,
        'action_url', p_row.action_url,
        'action_label', p_row.action_label,
        'data', p_row.data,
        'group_key', p_row.group_key,
        'group_count', p_row.group_count,
        'critical', p_row.critical,
        'silent', p_row.silent,
        'read_at', p_row.read_at,
        'seen_at', p_row.seen_at,
        'archived_at', p_row.archived_at,
        'expires_at', p_row.expires_at,
        'created_at', p_row.created_at,
        'updated_at', p_row.updated_at
    )
$function$;

create or replace function api.list_notifications(
    p_unread_only boolean default false,
    p_archived boolean default false,
    p_before_seq bigint default null,
    p_limit integer default 50
)
returns table (
    id uuid,
    seq bigint,
    title text,
    message text,
    type text,
    category text,
    priority text,
    entity_type text,
    entity_id uuid,
    action_url text,
    action_label text,
    data jsonb,
    group_key text,
    group_count integer,
    critical boolean,
    silent boolean,
    read_at timestamptz,
    seen_at timestamptz,
    archived_at timestamptz,
    expires_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    delivery_status jsonb
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
    v_now timestamptz := app.now();
begin
    if v_user_id is null then
        raise exception using
            errcode = 'IT008', message = 'no user in context',
            hint = 'These are a user''s own: as intime_service, pass p_user_id to '
            || 'api.set_actor; or use a SQL login mapped to a user.';
    end if;
    if p_limit is null or p_limit < 1 or p_limit > 500 then
        raise exception using errcode = 'IT005', message = 'p_limit must be between 1 and 500';
    end if;
    return query
    select
        n.id, n.seq, n.title, n.message, n.type, n.category, n.priority, n.entity_type,
        n.entity_id, n.action_url, n.action_label, n.data, n.group_key, n.group_count,
        n.critical, n.silent, n.read_at, n.seen_at, n.archived_at, n.expires_at, n.created_at,
        n.updated_at,
        (
            select jsonb_object_agg(d.channel, d.status order by d.channel)
            from app.notification_deliveries as d
            where d.org_id = n.org_id and d.notification_id = n.id
        )
    from app.notifications as n
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        and (n.archived_at is not null) = coalesce(p_archived, false)
        and (not coalesce(p_unread_only, false) or n.read_at is null)
        and (p_before_seq is null or n.seq < p_before_seq)
    order by n.seq desc
    limit p_limit;
end
$function$;

comment on function api.list_notifications(boolean, boolean, bigint, integer) is
$$The caller's in-app notifications, newest first (by seq): unread only with p_unread_only,
the archived ones with p_archived, older than p_before_seq for the next page, at most p_limit
(1..500). Expired notifications never show. delivery_status is the seed's summary,
{"in_app": "delivered", "email": "held", ...}.$$;

create or replace function api.count_unread_notifications()
returns bigint
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_now timestamptz := app.now();
begin
    return (
        select count(*)
        from app.notifications as n
        where
            n.org_id = v_org_id
            and n.user_id = app.current_user_id()
            and n.read_at is null
            and n.archived_at is null
            and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
    );
end
$function$;

comment on function api.count_unread_notifications() is
$$How many of the caller's in-app notifications are unread, not archived and not expired (the
badge). A collapsed group counts once.$$;

-- The shared body of the mark functions: p_mark is read, seen, archive or
-- all_read; returns the rows changed.
create or replace function app._notification_mark(p_ids uuid[], p_mark text)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_count integer;
begin
    if v_user_id is null then
        raise exception using
            errcode = 'IT008', message = 'no user in context',
            hint = 'These are a user''s own: as intime_service, pass p_user_id to '
            || 'api.set_actor; or use a SQL login mapped to a user.';
    end if;
    if p_mark <> 'all_read' and p_ids is null then
        raise exception using errcode = 'IT005', message = 'p_ids must not be null';
    end if;
    update app.notifications as n
    set
        read_at = case when p_mark in ('read', 'all_read') then v_now else n.read_at end,
        seen_at = case when p_mark in ('read', 'all_read', 'seen') then v_now else n.seen_at end,
        archived_at = case when p_mark = 'archive' then v_now else n.archived_at end,
        updated_at = v_now
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and (p_mark = 'all_read' or n.id = any(p_ids))
        and case p_mark
            when 'read' then n.read_at is null
            when 'all_read' then n.read_at is null and n.archived_at is null
            when 'seen' then n.seen_at is null
            else n.archived_at is null
        end;
    get diagnostics v_count = row_count;
    if v_count > 0 and p_mark <> 'seen' and app._may_notify() then
        -- The stream hub recounts this user's badge for their other tabs.
        -- The payload is a keyed hash of the user: any role may LISTEN, and ids
        -- of other tenants' users must not reach it.
        perform pg_catalog.pg_notify(
            'app_notification_reads',
            left(encode(sha256(
                (select k.secret from app.stream_secret as k)
                || convert_to(v_org_id || ':' || v_user_id, 'UTF8')
            ), 'hex'), 32)
        );
    end if;
    return v_count;
end
$function$;

create or replace function api.mark_notifications_read(p_ids uuid[])
returns integer
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._notification_mark(p_ids, 'read')
$function$;

comment on function api.mark_notifications_read(uuid[]) is
$$Marks the caller's notifications p_ids read (and seen). Ids that are not the caller's, or
already read, are ignored. Returns how many changed; the stream then sends unread_count to
the user's other tabs.$$;

create or replace function api.mark_all_notifications_read()
returns integer
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._notification_mark(null, 'all_read')
$function$;

comment on function api.mark_all_notifications_read() is
$$Marks every unread, unarchived notification of the caller read. Returns how many changed.$$;

create or replace function api.mark_notifications_seen(p_ids uuid[])
returns integer
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._notification_mark(p_ids, 'seen')
$function$;

comment on function api.mark_notifications_seen(uuid[]) is
$$Marks the caller's notifications p_ids seen (shown in a list, not necessarily read).
Returns how many changed.$$;

create or replace function api.archive_notifications(p_ids uuid[])
returns integer
language sql
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select app._notification_mark(p_ids, 'archive')
$function$;

comment on function api.archive_notifications(uuid[]) is
$$Archives the caller's notifications p_ids: they leave the inbox and the unread count and
show with api.list_notifications(p_archived => true). Returns how many changed.$$;

create or replace function api.replay_notifications(p_after_seq bigint, p_limit integer default 200)
returns table (seq bigint, notification jsonb)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
begin
    if p_after_seq is null or p_limit is null or p_limit < 1 or p_limit > 1000 then
        raise exception using
            errcode = 'IT005',
            message = 'p_after_seq is required and p_limit must be between 1 and 1000';
    end if;
    return query
    select r.seq, r.notification
    from (
        select n.seq, app._notification_json(n) as notification
        from app.notifications as n
        where
            n.org_id = v_org_id
            and n.user_id = v_user_id
            and n.seq > p_after_seq
            and n.archived_at is null
            and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        order by n.seq desc
        limit p_limit
    ) as r
    order by r.seq;
end
$function$;

comment on function api.replay_notifications(bigint, integer) is
$$What the caller missed after stream position p_after_seq (an SSE Last-Event-ID), oldest
first: the newest p_limit unarchived, unexpired in-app notifications with a greater seq. A
collapsed group appears once, at its newest seq.$$;

create or replace function api.read_notification_feed(
    p_after_seq bigint,
    p_limit integer,
    p_gaps bigint[] default '{}'
)
returns table (seq bigint, org_id uuid, user_id uuid, notification jsonb)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
begin
    perform app._require_service();
    return query
    select
        n.seq, n.org_id, n.user_id,
        case when (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now)) then app._notification_json(n) end
    from (
        select g.*
        from app.notifications as g
        where g.seq = any(p_gaps)
        union all
        (
            select a.*
            from app.notifications as a
            where a.seq > p_after_seq
            order by a.seq
            limit p_limit
        )
    ) as n
    order by n.seq;
end
$function$;

comment on function api.read_notification_feed(bigint, integer, bigint[]) is
$$Service role only (the web process's stream hub). Every org's notifications with seq >
p_after_seq, in seq order, at most p_limit, plus those whose seq is in p_gaps (seqs the
reader skipped while their transaction was still open); notification is null for a row that
must not be streamed (no in-app channel, or expired), so the reader still advances past it.
It is STABLE: called in the same statement as pg_current_snapshot(), it reads with that
snapshot.$$;

create or replace function api.get_notification_feed_head()
returns bigint
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    return coalesce((select max(n.seq) from app.notifications as n), 0);
end
$function$;

comment on function api.get_notification_feed_head() is
$$Service role only. The highest notification seq written so far (0 when none): where a
starting stream hub begins reading.$$;

create or replace function api.count_unread_notifications_for(p_org_ids uuid[], p_user_ids uuid[])
returns table (org_id uuid, user_id uuid, unread bigint)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_now timestamptz := app.now();
begin
    perform app._require_service();
    return query
    select
        k.org_id, k.user_id,
        (
            select count(*)
            from app.notifications as n
            where
                n.org_id = k.org_id
                and n.user_id = k.user_id
                and n.read_at is null
                and n.archived_at is null
                and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        )
    from unnest(p_org_ids, p_user_ids) as k (org_id, user_id);
end
$function$;

comment on function api.count_unread_notifications_for(uuid[], uuid[]) is
$$Service role only (the stream hub). The unread count of each (p_org_ids[i], p_user_ids[i])
pair, as api.count_unread_notifications computes it for one user.$$;
