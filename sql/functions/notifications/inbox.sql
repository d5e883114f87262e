-- The inbox: a user's own in-app notifications (expired ones never show),
-- read/seen/archive marks, and the reads the SSE stream makes.

-- The JSON a client receives for one notification (SSE data, replay), from the
-- row's columns. Inlined (docs/conventions.md, "Inlined SQL helpers"; stable, as
-- jsonb_build_object is). Columns, not the row: on Citus a shard runs the call,
-- and a whole row there is of the shard's own type.
create or replace function app._notification_json(
    p_id uuid,
    p_seq bigint,
    p_title text,
    p_message text,
    p_type text,
    p_category text,
    p_priority text,
    p_entity_type text,
    p_entity_id uuid,
    p_action_url text,
    p_action_label text,
    p_data jsonb,
    p_group_key text,
    p_group_count integer,
    p_critical boolean,
    p_silent boolean,
    p_read_at timestamptz,
    p_seen_at timestamptz,
    p_archived_at timestamptz,
    p_expires_at timestamptz,
    p_created_at timestamptz,
    p_updated_at timestamptz,
    p_announced_at timestamptz
)
returns jsonb
language sql
stable
as $function$
    select jsonb_build_object(
        'id', p_id,
        'seq', p_seq,
        'title', p_title,
        'message', p_message,
        'type', p_type,
        'category', p_category,
        'priority', p_priority,
        'entity_type', p_entity_type,
        'entity_id', p_entity_id,
        'action_url', p_action_url,
        'action_label', p_action_label,
        'data', p_data,
        'group_key', p_group_key,
        'group_count', p_group_count,
        'critical', p_critical,
        'silent', p_silent,
        'read_at', p_read_at,
        'seen_at', p_seen_at,
        'archived_at', p_archived_at,
        'expires_at', p_expires_at,
        'created_at', p_created_at,
        'updated_at', p_updated_at,
        'announced_at', p_announced_at
    )
$function$;

create or replace function api.list_notifications(
    p_unread_only boolean default false,
    p_archived boolean default false,
    p_before_seq bigint default null,
    p_limit integer default 50,
    p_before_at timestamptz default null
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
    delivery_status jsonb,
    announced_at timestamptz
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
    -- The page's cursor: rows before (v_before_at, v_before_seq) in the inbox's
    -- order; the top of the inbox when neither is given, the rows older than
    -- p_before_at when only it is (seqs are positive).
    v_before_at timestamptz := p_before_at;
    v_before_seq bigint := coalesce(
        p_before_seq, case when p_before_at is null then 9223372036854775807 else 0 end
    );
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
    if p_before_seq < 1 then
        raise exception using errcode = 'IT005', message = 'p_before_seq must be positive';
    end if;
    if v_before_at is null and p_before_seq is not null then
        v_before_at := app._notification_cursor_at(v_org_id, v_user_id, p_before_seq);
        if v_before_at is null then
            return;  -- the seq's range holds no row of the caller's: nothing to go on from
        end if;
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
        ),
        n.announced_at
    from app.notifications as n
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
        and (n.archived_at is not null) = coalesce(p_archived, false)
        and (not coalesce(p_unread_only, false) or n.read_at is null)
        and (n.announced_at, n.seq) < (coalesce(v_before_at, 'infinity'), v_before_seq)
    order by n.announced_at desc, n.seq desc
    limit p_limit;
end
$function$;

comment on function api.list_notifications(boolean, boolean, bigint, integer, timestamptz) is
$$The caller's in-app notifications, newest first: by announced_at (when each was made or
last re-announced by its group), then seq. Unread only with p_unread_only, the archived ones
with p_archived, at most p_limit (1..500). The next page: the last row's announced_at and
seq as p_before_at and p_before_seq (p_before_at alone: the rows announced before it);
p_before_seq alone finds the row's announced_at (if the row has since been re-announced or
purged, the page goes on from the caller's row of the same seq range written just before it,
else just after it, else it is empty). Expired notifications never show. delivery_status is
the seed's summary, {"in_app": "delivered", "email": "held", ...}.$$;

-- Where a page given only by p_before_seq goes on (api.list_notifications): that
-- row's announced_at; if the row is gone (re-announced under a new seq, or
-- purged), the announced_at of the caller's row written just before it in the
-- same seq range (one per node on Citus), else of the one just after it. Null
-- when the range holds no row of the caller's.
create or replace function app._notification_cursor_at(
    p_org_id uuid,
    p_user_id uuid,
    p_before_seq bigint
)
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_at timestamptz;
    -- the bounds of p_before_seq's range (see app._notification_seq_ranges)
    v_low bigint := (p_before_seq >> 48) << 48;
    v_high bigint := ((p_before_seq >> 48) + 1) << 48;
begin
    select n.announced_at into v_at
    from app.notifications as n
    where n.org_id = p_org_id and n.user_id = p_user_id and n.seq = p_before_seq;
    if found then
        return v_at;
    end if;
    select n.announced_at into v_at
    from app.notifications as n
    where
        n.org_id = p_org_id and n.user_id = p_user_id
        and n.seq < p_before_seq and n.seq >= v_low
    order by n.seq desc
    limit 1;
    if found then
        return v_at;
    end if;
    select n.announced_at into v_at
    from app.notifications as n
    where
        n.org_id = p_org_id and n.user_id = p_user_id
        and n.seq > p_before_seq and n.seq < v_high
    order by n.seq
    limit 1;
    return v_at;
end
$function$;

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
        -- Not CASE p_mark WHEN ...: Citus sends that form to a shard as one that
        -- fails there ("operator does not exist: text = boolean"); this one runs.
        and (
            (p_mark = 'read' and n.read_at is null)
            or (p_mark = 'all_read' and n.read_at is null and n.archived_at is null)
            or (p_mark = 'seen' and n.seen_at is null)
            or (p_mark not in ('read', 'all_read', 'seen') and n.archived_at is null)
        );
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

-- Notification seqs come in ranges. On a single node there is one, range 0. On
-- Citus each node group draws from its own, (group << 48) + 1 upwards (Citus
-- gives a bigint sequence a range per node: AlterSequenceMinMax), so a seq is
-- unique in the cluster but ordered only within its range: the stream keeps a
-- cursor and a watermark per range (web/hub.py, docs/scale-out.md). A seq's
-- range is seq >> 48: range r holds (r << 48) + 1 to ((r + 1) << 48) - 1, and a
-- position r << 48 is range r's start. (Citus lets a node draw two seqs past that
-- after 2^48 of them: never reached.)
-- The ranges of this database: 0, and on Citus every primary node's group. On a
-- single node also any range that holds rows (a database restored from a
-- cluster), found by one index probe per range past 0.
create or replace function app._notification_seq_ranges()
returns integer[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_ranges integer[] := array[0];
    v_next bigint;
begin
    if app._on_citus() then
        -- Dynamic: Citus's catalog exists only on a Citus node.
        execute format(
            'select array_agg(n.groupid) from %I as n where n.noderole = %L',
            'pg_dist_node', 'primary'
        )
        into v_ranges;
        return array(
            select distinct g.id from unnest(array[0] || v_ranges) as g (id) order by g.id
        );
    end if;
    v_next := (select min(n.seq) from app.notifications as n where n.seq >= 1::bigint << 48);
    while v_next is not null loop
        v_ranges := v_ranges || (v_next >> 48)::integer;
        v_next := (
            select min(n.seq) from app.notifications as n
            where n.seq >= ((v_next >> 48) + 1) << 48
        );
    end loop;
    return v_ranges;
end
$function$;

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
    p_after_seq := greatest(p_after_seq, 0);
    return query
    select r.seq, r.notification
    from (
        select n.seq, app._notification_json(
                n.id, n.seq, n.title, n.message, n.type, n.category, n.priority,
                n.entity_type, n.entity_id, n.action_url, n.action_label, n.data,
                n.group_key, n.group_count, n.critical, n.silent, n.read_at, n.seen_at,
                n.archived_at, n.expires_at, n.created_at, n.updated_at, n.announced_at
            ) as notification
        from app.notifications as n
        where
            n.org_id = v_org_id
            and n.user_id = v_user_id
            and n.seq > p_after_seq
            -- within p_after_seq's range (see app._notification_seq_ranges)
            and n.seq < ((p_after_seq >> 48) + 1) << 48
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
first: the newest p_limit unarchived, unexpired in-app notifications with a greater seq in
the same seq range (one range on a single node; one per node on a Citus cluster, where a
stream resumes each range from its own position). A collapsed group appears once, at its
newest seq.$$;

create or replace function api.list_notification_seqs(
    p_before_seq bigint,
    p_limit integer default 200
)
returns table (seq bigint)
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
    if p_before_seq is null or p_limit is null or p_limit < 1 or p_limit > 1000 then
        raise exception using
            errcode = 'IT005',
            message = 'p_before_seq is required and p_limit must be between 1 and 1000';
    end if;
    return query
    select n.seq
    from app.notifications as n
    where
        n.org_id = v_org_id
        and n.user_id = v_user_id
        and n.seq < p_before_seq
        -- within p_before_seq's range (see app._notification_seq_ranges)
        and n.seq >= (p_before_seq >> 48) << 48
        and n.archived_at is null
        and (n.channels ? 'in_app' and (n.expires_at is null or n.expires_at > v_now))
    order by n.seq desc
    limit p_limit;
end
$function$;

comment on function api.list_notification_seqs(bigint, integer) is
$$The seqs below stream position p_before_seq in its seq range, newest first, at most p_limit
(1..1000), under api.replay_notifications' filter (the caller's unarchived, unexpired in-app
notifications): a stream checks with it whether a resume missed rows below its replay.$$;

create or replace function api.read_notification_feed(
    p_after_seqs bigint[],
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
    v_ranges integer[];
    v_afters bigint[];
    v_range integer;
    v_after bigint;
begin
    perform app._require_service();
    if p_limit is null or p_limit < 1 or p_limit > 10000 or cardinality(p_gaps) > 10000 then
        raise exception using
            errcode = 'IT005',
            message = 'p_limit must be between 1 and 10,000, and p_gaps hold at most 10,000';
    end if;
    -- The ranges: the reader's, and on Citus every node's (a node added since). A
    -- single node draws only range 0; a range a database restored from a cluster
    -- holds comes from the heads a reader starts with (api.get_notification_feed_heads).
    -- The usual case first, without a statement: a single node's reader of range 0.
    if
        cardinality(p_after_seqs) = 1 and p_after_seqs[1] >= 0
        and p_after_seqs[1] < 1::bigint << 48 and not app._on_citus()
    then
        v_ranges := array[0];
        v_afters := p_after_seqs;
    else
        select array_agg(r.id order by r.id), array_agg(r.after order by r.id)
        into v_ranges, v_afters
        from (
            select u.id, coalesce(max(a.seq), u.id::bigint << 48) as after
            from (
                select distinct g.id
                from unnest(
                    case when app._on_citus() then app._notification_seq_ranges() else '{0}' end
                    || array(
                        select (x.seq >> 48)::integer from unnest(p_after_seqs) as x (seq)
                        where x.seq >= 0
                    )
                ) as g (id)
            ) as u
            left join unnest(p_after_seqs) as a (seq)
                on a.seq >= 0 and (a.seq >> 48) = u.id
            group by u.id
        ) as r;
    end if;
    -- Each range past its cursor, in seq order, at most p_limit; on Citus each is one
    -- ordered, limited read of the shards. One range (a single node): one statement.
    foreach v_range in array v_ranges loop
        v_after := v_afters[array_position(v_ranges, v_range)];
        return query
        select
            a.seq, a.org_id, a.user_id,
            case when a.channels ? 'in_app' and (a.expires_at is null or a.expires_at > v_now)
            then app._notification_json(
                a.id, a.seq, a.title, a.message, a.type, a.category, a.priority,
                a.entity_type, a.entity_id, a.action_url, a.action_label, a.data,
                a.group_key, a.group_count, a.critical, a.silent, a.read_at, a.seen_at,
                a.archived_at, a.expires_at, a.created_at, a.updated_at, a.announced_at
            ) end
        from (
            select g.*
            from app.notifications as g
            where v_range = v_ranges[1] and g.seq = any(p_gaps)
            union all
            (
                select r.*
                from app.notifications as r
                where r.seq > v_after and r.seq < (v_range::bigint + 1) << 48
                order by r.seq
                limit p_limit
            )
        ) as a;
    end loop;
end
$function$;

comment on function api.read_notification_feed(bigint[], integer, bigint[]) is
$$Service role only (the web process's stream hub). Every org's notifications past the
reader's cursors: p_after_seqs holds one cursor per seq range (one range on a single node,
one per node group on Citus; a range not given is read from its start), each range read in
seq order, at most p_limit rows per range; plus the rows whose seq is in p_gaps (seqs the
reader skipped while their transaction was still open). notification is null for a row that
must not be streamed (no in-app channel, or expired), so the reader still advances past it.
It is STABLE: called in the same statement as pg_current_snapshot(), it reads with that
snapshot.$$;

create or replace function api.get_notification_feed_heads()
returns table (seq_range integer, head bigint)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_range integer;
begin
    perform app._require_service();
    foreach v_range in array app._notification_seq_ranges() loop
        seq_range := v_range;
        head := coalesce(
            (
                select max(n.seq) from app.notifications as n
                where n.seq > v_range::bigint << 48 and n.seq < (v_range::bigint + 1) << 48
            ),
            v_range::bigint << 48
        );
        return next;
    end loop;
end
$function$;

comment on function api.get_notification_feed_heads() is
$$Service role only. Per seq range (one on a single node, one per node group on a Citus
cluster), the highest notification seq written so far, or the range's start (range << 48)
when none: where a starting stream hub begins reading, and what a resumed stream position
may not pass.$$;

-- How the stream hub settles its gaps on a cluster. On a single node the hub tags a
-- gap with an xid it draws after the read and drops the gap once a read's snapshot
-- xmin passes that tag (web/hub.py). On Citus the writer of a seq in range r holds an
-- xid on node r (it drew the seq there, and the engine's writers take an xid first),
-- so the tag is an xid drawn on node r and the horizon node r's xmin; but a writer's
-- rows on other nodes commit in two phases after its own node's part, so no gap
-- settles while a transaction prepared before the horizon was read still waits on any
-- node (docs/scale-out.md, "The stream on a cluster").
-- Its result gained seq_range and tag after a commit of main had it without them;
-- CREATE OR REPLACE cannot change a result, so a database migrated then needs this.
drop function if exists api.get_stream_horizon();

create or replace function api.get_stream_horizon()
returns table (seq_range integer, xmin bigint, tag bigint)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_groups integer[];
    v_xmins bigint[];
    v_tags bigint[];
    v_read timestamptz;
    v_waiting bigint;
begin
    perform app._require_service();
    if not app._on_citus() then
        perform pg_catalog.set_config('synchronous_commit', 'off', true);
        return query
        select
            r.id, pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint,
            pg_catalog.pg_current_xact_id()::text::bigint
        from unnest(app._notification_seq_ranges()) as r (id);
        return;
    end if;
    -- On each node, in one statement there: the xmin of a snapshot, then a new xid
    -- (above every xid assigned there before).
    select
        array_agg(e.node_group), array_agg(split_part(e.result, ' ', 1)::bigint),
        array_agg(split_part(e.result, ' ', 2)::bigint)
    into v_groups, v_xmins, v_tags
    from app._on_every_node(
        'select pg_catalog.pg_snapshot_xmin(s)::text || '' '' '
        '|| pg_catalog.pg_current_xact_id()::text '
        'from pg_catalog.pg_current_snapshot() as s, '
        'pg_catalog.set_config(''synchronous_commit'', ''off'', true)'
    ) as e
    where e.succeeded;
    v_read := pg_catalog.clock_timestamp();
    -- Then, on every node, this database's transactions prepared before the xmins
    -- were read (with 100 ms for the nodes' clocks): a writer that ended on its own
    -- node may still be committing its rows on another. While one waits (or a node
    -- does not answer), no xmin: the tags still go out.
    select count(*) into v_waiting
    from app._on_every_node(
        format(
            'select count(*) from pg_catalog.pg_prepared_xacts '
            'where database = pg_catalog.current_database() and prepared <= %L',
            v_read + interval '100 milliseconds'
        )
    ) as e
    where not e.succeeded or e.result::bigint > 0;
    return query
    select x.id, case when v_waiting = 0 then x.xmin end, x.tag
    from unnest(v_groups, v_xmins, v_tags) as x (id, xmin, tag);
end
$function$;

comment on function api.get_stream_horizon() is
$$Service role only (the stream hub of a Citus cluster, while gaps are open, at most every
250 ms, before a read). Per seq range, from the node that draws it: xmin, a snapshot's xmin
there now (a gap whose tag is at or below it can no longer be filled by a read that
follows), null while a transaction of this database prepared before the xmins were read
still waits on any node (its rows may still commit) or a node does not answer; and tag, a
new xid there, above every xid assigned before (the tag of the gaps the hub noticed
before this call). On a single node the same from this node, for each range.$$;

create or replace function api.get_stream_tags()
returns table (seq_range integer, tag bigint)
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $function$
    -- The new xids api.get_stream_horizon draws beside its xmins, each node's own.
    select h.seq_range, h.tag from api.get_stream_horizon() as h
$function$;

comment on function api.get_stream_tags() is
$$Service role only (the stream hub of a single node, after a read that skipped seqs; on a
cluster the tags come with api.get_stream_horizon). Per seq range, a new xid of the node
that draws that range's seqs: above every xid assigned there before. On a single node this
node's xid, for each range. A node that did not answer has no row (its gaps then wait for
their rows or the hub's time limit).$$;

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
