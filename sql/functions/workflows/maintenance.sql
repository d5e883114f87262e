-- The sweeper (due timers, stalled executions, overdue approvals, scheduled
-- triggers), log partitions, and the org's webhook signing secret.

-- Fire the scheduled triggers whose cron matched a minute since they last
-- fired (at most the last day is looked at): one execution per matching
-- entity. Returns the executions started.
create or replace function app._wf_fire_schedules(p_limit integer)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_wf record;
    v_now timestamptz := date_trunc('minute', app.now());
    v_table text;
    v_soft boolean;
    v_docs jsonb [];
    v_ids uuid [];
    v_filter jsonb;
    v_org jsonb;
    v_started integer := 0;
    v_count integer;
    v_error text;
    v_wf_orgs uuid[];
    v_wf_ids uuid[];
begin
    -- The candidates unlocked, then each locked on its own (SKIP LOCKED: another
    -- sweep has it) and checked again: a row lock holds one org's rows, which is
    -- what Citus can take (docs/scale-out.md, "SQL shapes").
    select
        array_agg(c.org_id order by c.schedule_fired_at),
        array_agg(c.id order by c.schedule_fired_at)
    into v_wf_orgs, v_wf_ids
    from (
        select w.org_id, w.id, w.schedule_fired_at
        from app.workflows as w
        where
            w.schedule_cron is not null and w.is_active and w.deleted_at is null
            and w.schedule_fired_at < v_now
        order by w.schedule_fired_at
        limit p_limit
    ) as c;
    for i in 1 .. coalesce(cardinality(v_wf_ids), 0) loop
        select w.* into v_wf
        from app.workflows as w
        where
            w.org_id = v_wf_orgs[i] and w.id = v_wf_ids[i]
            and w.schedule_cron is not null and w.is_active and w.deleted_at is null
            and w.schedule_fired_at < v_now
        for update skip locked;
        continue when not found;
        begin
            if exists (
                select 1 from generate_series(
                    greatest(date_trunc('minute', v_wf.schedule_fired_at) + interval '1 minute', v_now - interval '1 day'),
                    v_now, interval '1 minute'
                ) as m (at)
                where app._wf_cron_matches(v_wf.schedule_cron, m.at at time zone v_wf.schedule_timezone)
            ) then
                select e.table_name into v_table from app.entity_types as e where e.entity_type = v_wf.entity_type;
                select exists (select 1 from app._wf_columns(v_table) as c where c.column_name = 'deleted_at')
                into v_soft;
                execute format(
                    'select array_agg(to_jsonb(t)) from app.%I as t where t.org_id = $1 %s',
                    v_table, case when v_soft then 'and t.deleted_at is null' else '' end
                ) into v_docs using v_wf.org_id;
                select t.v -> 'filter' into v_filter
                from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
                where t.v ->> 'type' = 'scheduled';
                select to_jsonb(o) into v_org from app.organizations as o where o.id = v_wf.org_id;
                select array_agg((d.doc ->> 'id')::uuid) into v_ids
                from unnest(v_docs) as d (doc)
                where
                    app._wf_holds(v_filter, d.doc, null, v_org)
                    and app._wf_holds(v_wf.definition -> 'conditions', d.doc, null, v_org);
                if v_ids is not null then
                    select count(*) into v_count from app._wf_start(
                        p_org_ids => array_fill(v_wf.org_id, array[cardinality(v_ids)]),
                        p_workflow_ids => array_fill(v_wf.id, array[cardinality(v_ids)]),
                        p_entity_ids => v_ids,
                        p_trigger_events => array_fill(
                            jsonb_build_object('event', 'scheduled', 'at', v_now), array[cardinality(v_ids)]
                        ),
                        p_trigger_type => 'scheduled'
                    );
                    v_started := v_started + v_count;
                end if;
            end if;
        exception when others then
            -- One workflow's trouble never stops another org's schedules.
            get stacked diagnostics v_error = message_text;
            raise warning 'scheduled workflow % (org %) failed: %', v_wf.id, v_wf.org_id, v_error;
        end;
        update app.workflows as w set schedule_fired_at = v_now
        where w.org_id = v_wf.org_id and w.id = v_wf.id;
    end loop;
    return v_started;
end
$function$;

-- Executions and webhook deliveries left in flight without a live job: the
-- workflow part of the reconciliation, run by api.tick_workflows (every
-- minute) and by api.reconcile_in_flight. Callers hold the reconciliation
-- lock (app._ops_reconcile_lock), so two sweeps never queue the same row twice.
-- p_grace: how long a row may go untouched without a job; p_max_rounds: how
-- many re-queues make a row poison (failed for good, its owner notified).
create or replace function app._wf_reconcile(
    p_limit integer, p_grace interval, p_max_rounds integer
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_woken integer;
    v_stalled integer;
    v_poisoned integer;
    v_deliveries integer := 0;
    v_deliveries_failed integer := 0;
    v_row record;
begin
    -- A run that itself fails (its job held as failed by the worker, or
    -- re-queued here p_max_rounds times already) would fail forever: fail
    -- the execution for good instead, so its owner hears of it. That holds
    -- for a waiting execution whose due timer's run was held failed too (the
    -- run rolled back, so it is still waiting): no failed job stays behind
    -- an execution that is not over.
    select count(
        app._wf_fail_step(
            e.org_id, e.id, null,
            coalesce('the run failed: ' || app._ops_job_error(e.wake_job_id), 'the run failed repeatedly'),
            null, true
        )
    ) into v_poisoned
    from (
        (
            select e.org_id, e.id, e.wake_job_id
            from app.workflow_executions as e
            where
                e.status in ('pending', 'running') and e.updated_at < app.now() - p_grace
                and (
                    exists (
                        select 1 from queue.pgqueuer as j
                        where j.id = e.wake_job_id and j.status = 'failed'
                    )
                    or coalesce((e.execution_context ->> 'requeued')::integer, 0) >= p_max_rounds
                )
            limit p_limit
        )
        union all
        (
            select e.org_id, e.id, e.wake_job_id
            from app.workflow_executions as e
            where
                e.status = 'waiting' and e.wake_at <= app.now()
                and exists (
                    select 1 from queue.pgqueuer as j
                    where j.id = e.wake_job_id and j.status = 'failed'
                )
            limit p_limit
        )
    ) as e;

    -- Due timers and retries whose job is not queued (lost, or queued for a
    -- later real time than the application clock says): queue them now.
    -- No row locks: a runner that meets one would skip the execution, and
    -- a duplicate job is harmless (the runner locks, then checks the state).
    with due as (
        select e.org_id, e.id, e.wake_job_id
        from app.workflow_executions as e
        where e.status = 'waiting' and e.wake_at <= app.now()
        order by e.wake_at
        limit p_limit
    ),

    moved as (
        update queue.pgqueuer as j set execute_after = pg_catalog.now()
        from due as d
        where j.id = d.wake_job_id and j.status = 'queued' and j.execute_after > pg_catalog.now()
        returning j.id
    )

    select count(app._wf_schedule_run(d.org_id, d.id)) into v_woken
    from due as d
    where not exists (
        select 1 from queue.pgqueuer as j
        where j.id = d.wake_job_id and j.status in ('queued', 'picked')
    ) and not exists (select 1 from moved as m where m.id = d.wake_job_id);

    -- Pending or running executions with no job left (a crash between the
    -- job and its execution): p_grace of silence, then queue them.
    with stalled as (
        select e.org_id, e.id
        from app.workflow_executions as e
        where
            e.status in ('pending', 'running') and e.updated_at < app.now() - p_grace
            and not exists (
                select 1 from queue.pgqueuer as j
                where j.id = e.wake_job_id and j.status in ('queued', 'picked', 'failed')
            )
        limit p_limit
    ),

    counted as (
        update app.workflow_executions as e
        set execution_context = jsonb_set(
            e.execution_context, '{requeued}',
            to_jsonb(coalesce((e.execution_context ->> 'requeued')::integer, 0) + 1)
        )
        from stalled as s
        where e.org_id = s.org_id and e.id = s.id
        returning e.org_id, e.id
    )

    select count(app._wf_schedule_run(c.org_id, c.id)) into v_stalled from counted as c;

    -- Webhook deliveries of waiting executions whose job is gone or held
    -- failed (a job lost with its worker's queue row, a delivery that
    -- crashed the worker): queued again with the same message id (a held
    -- job is put back itself, so no failed job stays behind), until they were
    -- re-queued p_max_rounds times; then the delivery fails for good, which
    -- fails its step (and the execution, with its owner notified).
    for v_row in
        with stuck as (
            select
                a.org_id, a.id, a.reconciled,
                format('webhook.deliver:%s:%s', a.id, a.retry_count) as dedupe_key
            from app.workflow_actions as a
            inner join app.workflow_executions as e
                on e.org_id = a.org_id and e.id = a.execution_id
            where
                a.action_type = 'webhook' and a.status in ('pending', 'running')
                and e.status = 'waiting' and e.waiting_for = 'action'
                and coalesce(a.scheduled_at, a.created_at) < app.now() - p_grace
                and not exists (
                    select 1 from queue.pgqueuer as j
                    where
                        j.dedupe_key = format('webhook.deliver:%s:%s', a.id, a.retry_count)
                        and j.status in ('queued', 'picked')
                )
            order by coalesce(a.scheduled_at, a.created_at)
            limit p_limit
        ),

        held as (
            select distinct on (j.dedupe_key) j.dedupe_key, j.id
            from queue.pgqueuer as j
            where
                j.entrypoint = 'webhook.deliver' and j.status = 'failed'
                and j.dedupe_key in (select s.dedupe_key from stuck as s)
            order by j.dedupe_key, j.id desc
        )

        select s.org_id, s.id, s.reconciled, h.id as held_job_id
        from stuck as s
        left join held as h on h.dedupe_key = s.dedupe_key
    loop
        if v_row.reconciled >= p_max_rounds then
            perform app._wf_action_finished(
                v_row.org_id, v_row.id, false, '{}',
                format(
                    'the delivery was re-queued %s times without an outcome%s', v_row.reconciled,
                    coalesce(': ' || app._ops_job_error(v_row.held_job_id), '')
                ),
                true
            );
            v_deliveries_failed := v_deliveries_failed + 1;
        else
            update app.workflow_actions as a set reconciled = a.reconciled + 1
            where a.org_id = v_row.org_id and a.id = v_row.id;
            perform app._ops_revive_held_job(v_row.held_job_id);
            -- Queues a job unless the revived one holds the dedupe key.
            perform app._wf_queue_delivery(v_row.org_id, v_row.id);
            v_deliveries := v_deliveries + 1;
        end if;
    end loop;

    return jsonb_build_object(
        'woken', v_woken, 'stalled', v_stalled, 'poisoned', v_poisoned,
        'deliveries_requeued', v_deliveries, 'deliveries_failed', v_deliveries_failed
    );
end
$function$;

create or replace function api.tick_workflows(p_limit integer default 1000)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.settings%rowtype;
    v_reconciled jsonb := jsonb_build_object(
        'woken', 0, 'stalled', 0, 'poisoned', 0, 'deliveries_requeued', 0, 'deliveries_failed', 0
    );
    v_escalated integer;
    v_scheduled integer;
begin
    perform app._require_service();
    select s.* into v_settings from app.settings as s;
    -- A reconciliation running at the same time (api.reconcile_in_flight_work, or
    -- another sweep) does this part: skip it rather than queue twice. On a Citus
    -- cluster the queue is per node: the coordinator reconciles, asking every node's
    -- queue (docs/scale-out.md, "The reconciliation on a cluster").
    if app._on_citus() and not app._citus_on_coordinator() then
        v_reconciled := v_reconciled
            || jsonb_build_object('reconcile', 'skipped: the coordinator reconciles on a cluster');
    elsif app._ops_reconcile_lock() and app._on_citus() then
        v_reconciled := app._ops_reconcile_flows_cluster(
            p_limit, make_interval(secs => v_settings.reconcile_grace_seconds),
            v_settings.reconcile_max_rounds
        );
        if v_reconciled ? 'skipped' then
            v_reconciled := jsonb_build_object(
                'woken', 0, 'stalled', 0, 'poisoned', 0, 'deliveries_requeued', 0,
                'deliveries_failed', 0, 'reconcile', 'skipped: ' || (v_reconciled ->> 'skipped')
            );
        end if;
    elsif app._ops_reconcile_lock() then
        v_reconciled := app._wf_reconcile(
            p_limit, make_interval(secs => v_settings.reconcile_grace_seconds),
            v_settings.reconcile_max_rounds
        );
    end if;
    v_escalated := app._wf_escalate_due(p_limit);
    v_scheduled := app._wf_fire_schedules(p_limit);
    return jsonb_build_object(
        'woken', (v_reconciled ->> 'woken')::integer,
        'stalled',
        (v_reconciled ->> 'stalled')::integer + (v_reconciled ->> 'deliveries_requeued')::integer,
        'poisoned',
        (v_reconciled ->> 'poisoned')::integer + (v_reconciled ->> 'deliveries_failed')::integer,
        'escalated', v_escalated,
        'scheduled', v_scheduled
    ) || jsonb_strip_nulls(jsonb_build_object('reconcile', v_reconciled -> 'reconcile'));
end
$function$;

comment on function api.tick_workflows(integer) is
'Service role only (the worker runs it every minute). Queues executions whose timer or retry is '
'due but whose job is missing or late; re-queues pending/running executions, and webhook '
'deliveries of waiting executions, left without a live job for '
'app.settings.reconcile_grace_seconds (default 300; a held failed delivery job is put back '
'rather than left failed); fails for good a run whose job is held failed and any execution or '
'delivery already re-queued reconcile_max_rounds times (default 3); escalates approvals past '
'due_at; and fires scheduled triggers. The re-queueing is skipped while another sweep or '
'api.reconcile_in_flight_work holds the reconciliation lock; on a Citus cluster the coordinator '
'does it (asking every node''s queue) and the other nodes skip it (then reconcile says so). '
'Returns the counts as JSON: woken, stalled (executions and deliveries re-queued), poisoned '
'(failed for good), escalated, scheduled.';

-- Log partitions: one per month, made workflow_log_premake_months ahead;
-- rows caught by the default partition move into their month; months past
-- the retention are dropped or detached. Returns what it did.
create or replace function api.maintain_workflow_logs()
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.settings%rowtype;
    v_month date;
    v_name text;
    v_made text [] := '{}';
    v_expired text [] := '{}';
    v_busy text [] := '{}';
    v_moved bigint := 0;
    v_count bigint;
    v_part record;
    v_first date;
    v_cutoff date;
    v_citus boolean;
    v_coordinator boolean;
begin
    perform app._require_service();
    -- On Citus the partitions are made on the coordinator (DDL on a distributed
    -- table is refused elsewhere), one shard at a time (a DDL after a parallel
    -- statement on the same tables is refused), and as `partition of` the log
    -- table, which Citus distributes with it (docs/scale-out.md).
    v_citus := app._on_citus();
    if v_citus then
        execute format('select l.groupid = 0 from %I as l', 'pg_dist_local_group')
        into v_coordinator;
        if not v_coordinator then
            return jsonb_build_object('skipped', 'not the coordinator of the cluster');
        end if;
        perform pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    end if;
    -- One maintainer at a time; a second (or anyone holding the lock) is
    -- not waited for: maintenance runs again tomorrow.
    if not pg_catalog.pg_try_advisory_xact_lock(444770001) then
        return jsonb_build_object('skipped', 'another maintenance run holds the lock');
    end if;
    -- DETACH and ATTACH lock the log table: never queue every log write
    -- behind a long reader. A lock not had in half a second skips the step.
    perform pg_catalog.set_config('lock_timeout', '500ms', true);
    select s.* into v_settings from app.settings as s;
    v_cutoff := (date_trunc('month', app.now() at time zone 'UTC')
        - make_interval(months => v_settings.workflow_log_retention_months))::date;
    -- From this month (or the oldest month the default partition holds, if
    -- earlier and still within the retention).
    select min(date_trunc('month', l.occurred_at at time zone 'UTC'))::date
    into v_first
    from app.workflow_execution_logs_default as l;
    v_first := greatest(
        least(
            coalesce(v_first, date_trunc('month', app.now() at time zone 'UTC')::date),
            date_trunc('month', app.now() at time zone 'UTC')::date
        ),
        v_cutoff
    );

    for v_month in
        select m::date from generate_series(
            v_first,
            date_trunc('month', app.now() at time zone 'UTC')
            + make_interval(months => v_settings.workflow_log_premake_months),
            interval '1 month'
        ) as m
    loop
        v_name := format('workflow_execution_logs_y%sm%s', to_char(v_month, 'YYYY'), to_char(v_month, 'MM'));
        continue when to_regclass(format('app.%I', v_name)) is not null;
        if v_citus then
            -- A month the default partition holds rows of waits: moving them is a
            -- DDL and a data move in one transaction, which Citus refuses.
            if exists (
                select 1 from app.workflow_execution_logs_default as l
                where
                    l.occurred_at >= (v_month::timestamp at time zone 'UTC')
                    and l.occurred_at < ((v_month + interval '1 month')::timestamp at time zone 'UTC')
            ) then
                v_busy := v_busy || v_name;
                continue;
            end if;
            -- A log line of the month committed since the look (or not yet
            -- committed: its lock outwaits lock_timeout) fails the make, which
            -- scans the default partition: the month waits for a later run.
            begin
                execute format(
                    'create table app.%I partition of app.workflow_execution_logs '
                    'for values from (%L) to (%L)',
                    v_name, v_month::timestamp at time zone 'UTC',
                    (v_month + interval '1 month')::timestamp at time zone 'UTC'
                );
                perform app._enable_tenant_rls(format('app.%I', v_name)::regclass);
                v_made := v_made || v_name;
            exception when check_violation or lock_not_available then
                v_busy := v_busy || v_name;
            end;
            continue;
        end if;
        begin
            -- Nothing may land in the default partition between the move and the
            -- attach (the attach would then fail its scan of the default).
            lock table app.workflow_execution_logs_default in share row exclusive mode;
            execute format(
                'create table app.%I (like app.workflow_execution_logs including defaults including constraints)',
                v_name
            );
            execute format(
                'with moved as (delete from app.workflow_execution_logs_default '
                'where occurred_at >= $1 and occurred_at < $2 returning *) '
                'insert into app.%I select * from moved',
                v_name
            ) using (v_month::timestamp at time zone 'UTC'), ((v_month + interval '1 month')::timestamp at time zone 'UTC');
            get diagnostics v_count = row_count;
            v_moved := v_moved + v_count;
            execute format(
                'alter table app.workflow_execution_logs attach partition app.%I '
                'for values from (%L) to (%L)',
                v_name, v_month::timestamp at time zone 'UTC',
                (v_month + interval '1 month')::timestamp at time zone 'UTC'
            );
            -- Forced RLS and the tenant policy, in the form the database takes (the
            -- plain call on Citus, which refuses a subquery in a policy).
            perform app._enable_tenant_rls(format('app.%I', v_name)::regclass);
            v_made := v_made || v_name;
        exception when lock_not_available then
            v_busy := v_busy || v_name;
        end;
    end loop;

    for v_part in
        select c.relname, to_date(substring(c.relname from 'y([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') as month
        from pg_catalog.pg_inherits as i
        inner join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where
            i.inhparent = 'app.workflow_execution_logs'::regclass
            and c.relname ~ '^workflow_execution_logs_y[0-9]{4}m[0-9]{2}$'
    loop
        continue when v_part.month + interval '1 month' > v_cutoff;
        begin
            execute format(
                'alter table app.workflow_execution_logs detach partition app.%I', v_part.relname
            );
            if v_settings.workflow_log_expiry = 'drop' then
                execute format('drop table app.%I', v_part.relname);
            end if;
            v_expired := v_expired || v_part.relname::text;
        exception when lock_not_available then
            v_busy := v_busy || v_part.relname::text;
        end;
    end loop;
    -- Rows older than the retention that sat in the default partition.
    delete from app.workflow_execution_logs_default as l
    where l.occurred_at < (v_cutoff::timestamp at time zone 'UTC');
    return jsonb_build_object(
        'created', to_jsonb(v_made), 'expired', to_jsonb(v_expired),
        'expiry', v_settings.workflow_log_expiry, 'moved_from_default', v_moved,
        'skipped_busy', to_jsonb(v_busy)
    );
end
$function$;

comment on function api.maintain_workflow_logs() is
'Service role only (the worker''s daily maintenance job). Makes monthly partitions of '
'workflow_execution_logs up to workflow_log_premake_months ahead (moving rows the default '
'partition caught into their month), and expires months older than '
'workflow_log_retention_months: dropped, or detached and kept when workflow_log_expiry is detach. '
'Returns the partitions created and expired.';

-- 32 random bytes (two v4 UUIDs: 244 bits from the strong generator) as a
-- Standard Webhooks secret.
create or replace function app._wf_new_webhook_secret()
returns text
language sql
volatile
set search_path = pg_catalog, pg_temp
as $function$
    select 'whsec_' || encode(
        decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'), 'base64'
    )
$function$;

-- The org's signing secret, made on first use.
create or replace function app._wf_webhook_settings(p_org_id uuid)
returns app.webhook_settings
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row app.webhook_settings%rowtype;
begin
    insert into app.webhook_settings (org_id, secret)
    values (p_org_id, app._wf_new_webhook_secret())
    on conflict (org_id) do nothing;
    select s.* into v_row from app.webhook_settings as s where s.org_id = p_org_id;
    return v_row;
end
$function$;

create or replace function api.get_webhook_signing_secret()
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    perform app._require_permission('webhook_settings.manage');
    return (app._wf_webhook_settings(v_org_id)).secret;
end
$function$;

comment on function api.get_webhook_signing_secret() is
'The org''s Standard Webhooks signing secret (whsec_...; webhook_settings.manage: admins by '
'default), made on first use. Receivers '
'verify webhook-signature with it.';

create or replace function api.rotate_webhook_secret()
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_secret text := app._wf_new_webhook_secret();
begin
    perform app._require_permission('webhook_settings.manage');
    perform app._wf_webhook_settings(v_org_id);
    update app.webhook_settings as s
    set
        previous_secret = s.secret, previous_valid_until = app.now() + interval '24 hours',
        secret = v_secret, rotated_at = app.now()
    where s.org_id = v_org_id;
    return v_secret;
end
$function$;

comment on function api.rotate_webhook_secret() is
'Make a new webhook signing secret (webhook_settings.manage) and return it. For 24 hours '
'deliveries carry '
'signatures by both the new and the previous secret, so receivers can switch without a gap.';
