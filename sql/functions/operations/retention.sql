-- Retention of the tables that grow without bound (settings in app.settings,
-- an org's own entity_history retention on app.organizations). The worker
-- runs api.purge_expired_data on a schedule, again while a table still had
-- p_limit rows to delete. Ages are on the application clock. See
-- docs/retention.md.

create or replace function api.purge_expired_data(p_limit integer default 10000)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.settings%rowtype;
    v_now timestamptz := app.now();
    v_inbound integer;
    v_capped integer := 0;
    v_receipts integer;
    v_pending integer;
    v_history integer;
    v_queue_log integer;
    v_queue_stats integer;
    v_send_log integer;
    v_keys text[];
    v_providers text[];
    v_orgs uuid[];
    v_days integer[];
    v_deleted integer;
    v_org_id uuid;
    v_ids uuid[];
begin
    perform app._require_service();
    if p_limit is null or p_limit < 1 then
        raise exception using errcode = 'IT005', message = 'p_limit must be at least 1';
    end if;
    select s.* into v_settings from app.settings as s;

    -- Each delete takes at most p_limit rows, oldest first, found through an index
    -- on the age column: their keys are read in a statement of their own (FOR
    -- UPDATE SKIP LOCKED: a concurrent purge has the others), then deleted by key
    -- (an index probe each). On Citus these tables are reference tables, copied on
    -- every node: a delete that chose its rows itself would choose on each copy.
    v_keys := array(
        select x.message_id
        from app.inbound_unmatched as x
        where x.received_at < v_now - make_interval(days => v_settings.inbound_unmatched_retention_days)
        order by x.received_at
        limit p_limit
        for update skip locked
    );
    delete from app.inbound_unmatched as u where u.message_id = any(v_keys);
    get diagnostics v_inbound = row_count;

    -- Any internet sender can add unmatched mail: past the row cap the
    -- oldest go, whatever their age (within the same p_limit).
    if v_inbound < p_limit then
        v_keys := array(
            select x.message_id
            from app.inbound_unmatched as x
            order by x.received_at desc
            offset v_settings.inbound_unmatched_max_rows
            limit p_limit - v_inbound
            for update skip locked
        );
        delete from app.inbound_unmatched as u where u.message_id = any(v_keys);
        get diagnostics v_capped = row_count;
    end if;

    select array_agg(x.provider), array_agg(x.event_id) into v_providers, v_keys
    from (
        select r.provider, r.event_id
        from app.webhook_receipts as r
        where r.received_at < v_now - make_interval(days => v_settings.webhook_receipt_retention_days)
        order by r.received_at
        limit p_limit
        for update skip locked
    ) as x;
    delete from app.webhook_receipts as r
    where
        r.event_id = any(v_keys)
        and (r.provider, r.event_id) in (select k.p, k.e from unnest(v_providers, v_keys) as k (p, e));
    get diagnostics v_receipts = row_count;

    v_keys := array(
        select x.provider_event_id
        from app.email_events_pending as x
        where
            x.received_at
            < v_now - make_interval(days => v_settings.email_events_pending_retention_days)
        order by x.received_at
        limit p_limit
        for update skip locked
    );
    delete from app.email_events_pending as p where p.provider_event_id = any(v_keys);
    get diagnostics v_pending = row_count;

    -- Per org: its own retention, else the default. Each org's oldest rows come
    -- from entity_history_changed_idx (org_id, changed_at) and go by their tuple ids
    -- (a TID scan: never a plan that reads an org's whole history). On a single
    -- node in one statement. On Citus one org at a time, until p_limit rows in all:
    -- a statement on the org's shard, where its tuple ids are its own (a tuple id
    -- without the org would be taken on every shard).
    if not app._on_citus() then
        delete from app.entity_history as h
        where h.ctid = any(array(
            select x.ctid
            from app.organizations as o
            cross join lateral (
                select e.ctid
                from app.entity_history as e
                where
                    e.org_id = o.id
                    and e.changed_at < v_now - make_interval(
                        days => coalesce(
                            o.entity_history_retention_days, v_settings.entity_history_retention_days
                        )
                    )
                order by e.changed_at
                limit p_limit
            ) as x
            limit p_limit
        ));
        get diagnostics v_history = row_count;
    else
        v_history := 0;
        select array_agg(o.id order by o.id), array_agg(
            coalesce(o.entity_history_retention_days, v_settings.entity_history_retention_days)
            order by o.id
        )
        into v_orgs, v_days
        from app.organizations as o;
        for i in 1 .. coalesce(cardinality(v_orgs), 0) loop
            exit when v_history >= p_limit;
            delete from app.entity_history as h
            where
                h.org_id = v_orgs[i]
                and h.ctid = any(array(
                    select e.ctid
                    from app.entity_history as e
                    where
                        e.org_id = v_orgs[i]
                        and e.changed_at < v_now - make_interval(days => v_days[i])
                    order by e.changed_at
                    limit p_limit - v_history
                    for update skip locked
                ));
            get diagnostics v_deleted = row_count;
            v_history := v_history + v_deleted;
        end loop;
    end if;

    -- pgqueuer's history, on the real clock (the queue's own): the log rows
    -- of jobs that left the queue (a held job keeps its traceback, which the
    -- sweep reads), and the per-second statistics buckets.
    delete from queue.pgqueuer_log as l
    where l.ctid = any(array(
        select x.ctid
        from queue.pgqueuer_log as x
        where
            x.created < pg_catalog.now() - make_interval(days => v_settings.queue_log_retention_days)
            and not exists (select 1 from queue.pgqueuer as j where j.id = x.job_id)
        order by x.created
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_queue_log = row_count;

    delete from queue.pgqueuer_statistics as t
    where t.ctid = any(array(
        select x.ctid
        from queue.pgqueuer_statistics as x
        where
            x.created
            < pg_catalog.now() - make_interval(days => v_settings.queue_statistics_retention_days)
        order by x.created
        limit p_limit
        for update skip locked
    ));
    get diagnostics v_queue_stats = row_count;

    -- The per-user send rates read the last minute; an hour is kept. The oldest
    -- rows unlocked, then each org's locked and deleted.
    v_send_log := 0;
    for v_org_id, v_ids in
        select c.org_id, array_agg(c.id)
        from (
            select l.org_id, l.id
            from app.send_log as l
            where l.sent_at < v_now - interval '1 hour'
            order by l.sent_at
            limit p_limit
        ) as c
        group by c.org_id
        order by c.org_id
    loop
        delete from app.send_log as l
        where
            l.org_id = v_org_id
            and l.id = any(array(
                select x.id from app.send_log as x
                where x.org_id = v_org_id and x.id = any(v_ids)
                for update skip locked
            ));
        get diagnostics v_deleted = row_count;
        v_send_log := v_send_log + v_deleted;
    end loop;

    return jsonb_build_object(
        'inbound_unmatched', v_inbound + v_capped,
        'webhook_receipts', v_receipts,
        'email_events_pending', v_pending,
        'entity_history', v_history,
        'queue_log', v_queue_log,
        'queue_statistics', v_queue_stats,
        'send_log', v_send_log
    );
end
$function$;

comment on function api.purge_expired_data(integer) is
$$Service role only (the worker's retention job). Deletes, oldest first and at most p_limit
rows per table per call, what is older than its retention in app.settings (application
clock): inbound_unmatched past inbound_unmatched_retention_days (default 30) and beyond its
newest inbound_unmatched_max_rows (default 100000); webhook_receipts past
webhook_receipt_retention_days (default 30; Svix retries for about 28 hours, so at least 2);
email_events_pending past email_events_pending_retention_days (default 7); entity_history past
the org's entity_history_retention_days (api.set_entity_history_retention), else
app.settings.entity_history_retention_days (default 1095); pgqueuer's job log
(queue.pgqueuer_log, rows of jobs no longer in the queue) past queue_log_retention_days
(default 14) and its statistics past queue_statistics_retention_days (default 90), both on
the real clock; send_log (the per-user send rates) past an hour. Notifications have their
own purge (api.purge_expired_notifications). Returns the rows deleted per table, e.g.
{"inbound_unmatched": 0, "webhook_receipts": 12, "email_events_pending": 0, "entity_history":
10000, "queue_log": 0, "queue_statistics": 0, "send_log": 40}; call again while any count
equals p_limit.$$;

create or replace function api.set_entity_history_retention(p_days integer)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_days integer;
begin
    if not app._is_org_admin() then
        raise exception using
            errcode = 'IT003', message = 'only an org admin may change the history retention',
            hint = 'Act as a user with role admin.';
    end if;
    if p_days is not null and p_days not between 30 and 36500 then
        raise exception using
            errcode = 'IT005',
            message = format('the history retention must be 30 to 36500 days, not %s', p_days);
    end if;
    update app.organizations as o
    set entity_history_retention_days = p_days
    where o.id = v_org_id;
    select coalesce(p_days, s.entity_history_retention_days) into v_days from app.settings as s;
    return v_days;
end
$function$;

comment on function api.set_entity_history_retention(integer) is
$$Org admins (or the service acting for the org): how many days the org's field-level history
(app.entity_history) is kept, 30 to 36500; null goes back to the default
(app.settings.entity_history_retention_days, 1095 days unless the DBA changed it). Rows
older than that are deleted by api.purge_expired_data. Returns the retention now in force,
in days. IT003 for anyone but an admin, IT005 out of range.$$;
