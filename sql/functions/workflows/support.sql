-- Helpers the engine's steps share: logging, the entity row, template
-- variables, user references, field paths and the queue.

create or replace function app._wf_log(
    p_org_id uuid,
    p_execution_id uuid,
    p_level text,
    p_message text,
    p_data jsonb default null,
    p_step_id uuid default null,
    p_action_id uuid default null
)
returns void
language sql
set search_path = pg_catalog, pg_temp
as $function$
    insert into app.workflow_execution_logs (
        org_id, execution_id, step_id, action_id, level, message, data
    )
    values (p_org_id, p_execution_id, p_step_id, p_action_id, p_level, p_message, p_data)
$function$;

-- The entity's current row as jsonb, or null when it is gone.
create or replace function app._wf_entity_doc(p_org_id uuid, p_entity_type text, p_entity_id uuid)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_table text;
    v_doc jsonb;
begin
    select e.table_name into v_table from app.entity_types as e where e.entity_type = p_entity_type;
    execute format('select to_jsonb(t) from app.%I as t where t.org_id = $1 and t.id = $2', v_table)
    into v_doc using p_org_id, p_entity_id;
    return v_doc;
end
$function$;

-- Queue a workflow.run job for an execution, now or at p_at (application
-- clock; the queue runs on the real one), and remember it for the sweeper.
create or replace function app._wf_schedule_run(
    p_org_id uuid, p_execution_id uuid, p_at timestamptz default null
)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_job_id bigint;
begin
    -- Priority 5: ahead of a backlog of email.send jobs (0), so that a timer or a
    -- resume runs on time behind a campaign's burst; behind campaigns.wake (10).
    v_job_id := app._enqueue_job(
        p_entrypoint => 'workflow.run',
        p_payload => jsonb_build_object('org_id', p_org_id, 'execution_id', p_execution_id),
        p_at => p_at,
        p_priority => 5
    );
    update app.workflow_executions as e set wake_job_id = v_job_id
    where e.org_id = p_org_id and e.id = p_execution_id;
    return v_job_id;
end
$function$;

-- Queue a webhook.deliver job for an action. The dedupe key carries the
-- attempt, so a retry is never swallowed by the previous attempt's job
-- still finishing; the action remembers when it was queued, for the sweeper.
create or replace function app._wf_queue_delivery(p_org_id uuid, p_action_id uuid)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_attempt integer;
begin
    update app.workflow_actions as a set scheduled_at = app.now()
    where a.org_id = p_org_id and a.id = p_action_id
    returning a.retry_count into v_attempt;
    perform app._enqueue_job(
        p_entrypoint => 'webhook.deliver',
        p_payload => jsonb_build_object('org_id', p_org_id, 'action_id', p_action_id),
        p_dedupe_key => format('webhook.deliver:%s:%s', p_action_id, v_attempt),
        p_skip_duplicate => true
    );
    return true;
end
$function$;

-- Notify users with a system (or org) template: the engine's own messages
-- (approval requests, escalations, failures). Guarded: an org's template
-- override that cannot render (members may edit templates) costs the
-- message, logged as a warning on the execution, never the engine's work.
create or replace function app._wf_notify(
    p_org_id uuid,
    p_user_ids uuid[],
    p_template text,
    p_variables jsonb,
    p_entity_type text,
    p_entity_id uuid,
    p_type text default null,
    p_action_url text default null,
    p_action_label text default null,
    p_execution_id uuid default null
)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_message text;
    v_state text;
begin
    perform from app._notification_send(row(
        p_org_id,  -- org_id
        p_user_ids,  -- user_ids
        null,  -- category
        p_template,  -- template_slug
        null,  -- title
        null,  -- message
        p_variables,  -- variables
        p_type,  -- type
        null,  -- priority
        p_entity_type,  -- entity_type
        p_entity_id,  -- entity_id
        p_action_url,  -- action_url
        p_action_label,  -- action_label
        null,  -- channels
        null,  -- group_key
        null,  -- expires_at
        false  -- critical
    )::app.notification_request);
    return true;
exception when others then
    get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
    if p_execution_id is not null then
        perform app._wf_log(
            p_org_id, p_execution_id, 'warning',
            format('notification %s not sent: %s (%s)', p_template, v_message, v_state),
            jsonb_build_object('users', to_jsonb(p_user_ids))
        );
    end if;
    return false;
end
$function$;

-- A user reference resolved against the entity: 'owner', 'manager' (the
-- owner's manager), 'triggered_by', a user id, or 'field:<column>'. Null
-- when it names nobody; IT004 for a user id outside the org.
create or replace function app._wf_resolve_user(
    p_org_id uuid, p_ref text, p_doc jsonb, p_owner_field text, p_triggered_by uuid
)
returns uuid
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_id uuid;
begin
    if p_ref is null then
        return null;
    end if;
    v_id := case
        when p_ref = 'owner' then (p_doc ->> p_owner_field)::uuid
        when p_ref = 'triggered_by' then p_triggered_by
        when p_ref = 'manager' then (
            select u.manager_id from app.user_profiles as u
            where u.org_id = p_org_id and u.id = (p_doc ->> p_owner_field)::uuid
        )
        when p_ref like 'field:%' then (p_doc ->> substr(p_ref, 7))::uuid
        else p_ref::uuid
    end;
    if v_id is not null and not exists (
        select 1 from app.user_profiles as u where u.org_id = p_org_id and u.id = v_id
    ) then
        raise exception using errcode = 'IT004', message = format('user %s not found', v_id);
    end if;
    return v_id;
end
$function$;

-- A dotted path from the entity: plain keys descend into the row (and into
-- jsonb columns); a segment X with a column X_id that is a foreign key into
-- another app table loads that row ("lead_contact.email", "owner.email",
-- "account.name"). Table names come from the catalog, never from the path.
create or replace function app._wf_resolve_path(
    p_org_id uuid, p_table text, p_doc jsonb, p_path text
)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_doc jsonb := p_doc;
    v_rel regclass := format('app.%I', p_table)::regclass;
    v_segment text;
    v_target regclass;
begin
    foreach v_segment in array string_to_array(p_path, '.') loop
        if v_doc is null then
            return null;
        end if;
        if v_doc ? v_segment then
            v_doc := v_doc -> v_segment;
            v_rel := null;
            continue;
        end if;
        if v_rel is null or not v_doc ? (v_segment || '_id') then
            return null;
        end if;
        select c.confrelid::regclass into v_target
        from pg_catalog.pg_constraint as c
        inner join pg_catalog.pg_attribute as a
            on a.attrelid = c.conrelid and a.attnum = c.conkey[2]
        inner join pg_catalog.pg_class as t on t.oid = c.confrelid
        inner join pg_catalog.pg_namespace as n on n.oid = t.relnamespace
        where
            c.conrelid = v_rel and c.contype = 'f' and cardinality(c.conkey) = 2
            and a.attname = v_segment || '_id' and n.nspname = 'app';
        if v_target is null then
            return null;
        end if;
        execute format('select to_jsonb(t) from %s as t where t.org_id = $1 and t.id = $2', v_target)
        into v_doc using p_org_id, (v_doc ->> (v_segment || '_id'))::uuid;
        v_rel := v_target;
    end loop;
    return v_doc;
end
$function$;

-- A template rendered with the variables; null stays null.
create or replace function app._wf_text(p_template text, p_vars jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case when p_template is not null then app._render(p_template, p_vars, 'none') end
$function$;

-- Render every string inside a JSON value with the template variables.
create or replace function app._wf_render_json(p_value jsonb, p_vars jsonb)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case jsonb_typeof(p_value)
        when 'string' then to_jsonb(app._render(p_value #>> '{}', p_vars, 'none'))
        when 'object' then coalesce(
            (select jsonb_object_agg(e.key, app._wf_render_json(e.value, p_vars))
            from jsonb_each(p_value) as e),
            '{}'
        )
        when 'array' then coalesce(
            (select jsonb_agg(app._wf_render_json(e.value, p_vars) order by e.i)
            from jsonb_array_elements(p_value) with ordinality as e (value, i)),
            '[]'
        )
        else p_value
    end
$function$;

-- The variables a step's templates see: entity (also under its type's name,
-- like deal), owner, org, workflow, execution, trigger, the earlier steps'
-- results and now. app._wf_template_variables lists them for the check when a
-- definition is saved: keep the two in step.
create or replace function app._wf_vars(
    p_exec app.workflow_executions, p_doc jsonb, p_workflow_name text
)
returns jsonb
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select jsonb_build_object(
        'entity', p_doc,
        p_exec.entity_type, p_doc,
        'owner', (
            select jsonb_build_object('id', u.id, 'name', u.full_name, 'email', u.email)
            from app.user_profiles as u
            inner join app.entity_types as e on e.entity_type = p_exec.entity_type
            where u.org_id = p_exec.org_id and u.id = (p_doc ->> e.owner_field)::uuid
        ),
        'org', (
            select jsonb_build_object('id', o.id, 'name', o.name, 'timezone', o.timezone)
            from app.organizations as o where o.id = p_exec.org_id
        ),
        'workflow', jsonb_build_object(
            'id', p_exec.workflow_id, 'name', p_workflow_name, 'version', p_exec.workflow_version
        ),
        'execution', jsonb_build_object('id', p_exec.id, 'started_at', p_exec.started_at),
        'trigger', p_exec.trigger_event,
        'steps', coalesce(p_exec.execution_context -> 'steps', '{}'),
        'now', app.now()
    )
$function$;

-- The variables a step's templates may use (what app._wf_vars gives them), for a workflow
-- on p_entity_type whose steps are p_step_names: entity.<column> and <entity
-- type>.<column> (and paths below a json column), owner, org, workflow, execution,
-- trigger (its fields by trigger kind; a manual start's payload and the trigger's own
-- definition are free-form), steps.<step name>.<result key>, and now.
create or replace function app._wf_template_variables(p_entity_type text, p_step_names text[])
returns text[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select array(
        select r.root || '.' || c.column_name || x.below
        from app.entity_types as e
        cross join lateral app._wf_columns(e.table_name) as c
        cross join (values ('entity'), (p_entity_type), ('trigger.row')) as r (root)
        cross join lateral (
            select ''
            union all
            select '.*' where c.column_type in ('json', 'jsonb')
        ) as x (below)
        where e.entity_type = p_entity_type
        union all
        select unnest(array[
            'owner.id', 'owner.name', 'owner.email', 'org.id', 'org.name', 'org.timezone',
            'workflow.id', 'workflow.name', 'workflow.version', 'execution.id',
            'execution.started_at', 'trigger.event', 'trigger.trigger.*', 'trigger.payload.*',
            'trigger.transition', 'trigger.from', 'trigger.to', 'trigger.notes', 'trigger.at',
            'now'
        ])
        union all
        select 'steps.' || n.name || '.*' from unnest(p_step_names) as n (name)
        where n.name is not null
    )
$function$;

-- Every string inside a JSON value, with its JSON path below p_path ($.steps[0].body.a).
create or replace function app._wf_json_strings(p_value jsonb, p_path text)
returns table (path text, value text)
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    case jsonb_typeof(p_value)
        when 'string' then
            return query select p_path, p_value #>> '{}';
        when 'object' then
            return query
            select s.path, s.value
            from jsonb_each(p_value) as e (key, value)
            cross join lateral app._wf_json_strings(e.value, p_path || '.' || e.key) as s;
        when 'array' then
            return query
            select s.path, s.value
            from jsonb_array_elements(p_value) with ordinality as e (value, i)
            cross join lateral app._wf_json_strings(
                e.value, format('%s[%s]', p_path, e.i - 1)
            ) as s;
        else
            return;
    end case;
end
$function$;

-- Exponential backoff for step retries: 10 s, 20 s, 40 s ... capped at an hour.
create or replace function app._wf_backoff(p_attempt integer)
returns interval
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select least(interval '1 hour', interval '10 seconds' * power(2, greatest(p_attempt - 1, 0)))
$function$;

-- Refuse a change to an entity while another execution's approval locks it.
create or replace function app._wf_assert_unlocked(
    p_org_id uuid, p_entity_type text, p_entity_id uuid, p_execution_id uuid
)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_lock app.workflow_entity_locks%rowtype;
begin
    select l.* into v_lock from app.workflow_entity_locks as l
    where
        l.org_id = p_org_id and l.entity_type = p_entity_type and l.entity_id = p_entity_id
        and l.execution_id is distinct from p_execution_id
    limit 1;
    if found then
        raise exception using
            errcode = 'IT014',
            message = format('%s %s is locked: %s', p_entity_type, p_entity_id, v_lock.reason),
            hint = 'It unlocks when the approval is decided or recalled.';
    end if;
end
$function$;

-- The entity fields an approval's workflow depends on: those its triggers,
-- their filters, its conditions and its condition steps read, p_status_field
-- when a trigger is a status_change, and those its approvers are resolved
-- from (a field approver's field; the owner field for an owner or manager
-- approver). A path locks its column: new.x and x lock x, a.b locks a (a jsonb
-- column) and a_id (a related row's key); old.x and org.x read no current
-- value of the entity. From the approval request until the execution ends
-- these may not change, so that the approver decides on the value that will
-- stand and on the approvers the workflow names.
create or replace function app._wf_locked_fields(
    p_definition jsonb, p_status_field text, p_owner_field text
)
returns text[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    with
    paths as (
        select regexp_replace(v.value #>> '{}', '^new\.', '') as path
        from jsonb_path_query(
            p_definition,
            'lax $.triggers[*].field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.triggers[*].filter.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.conditions.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select regexp_replace(v.value #>> '{}', '^new\.', '')
        from jsonb_path_query(
            p_definition, 'lax $.steps[*].if.**.field ? (@.type() == "string")'
        ) as v (value)
        union all
        select p_status_field
        where
            p_status_field is not null
            and jsonb_path_exists(p_definition, 'lax $.triggers[*] ? (@.type == "status_change")')
        union all
        select v.value #>> '{}'
        from jsonb_path_query(
            p_definition,
            'lax $.steps[*] ? (@.type == "approval").approvers[*].field ? (@.type() == "string")'
        ) as v (value)
        union all
        select p_owner_field
        where
            p_owner_field is not null
            and jsonb_path_exists(
                p_definition,
                (
                    'lax $.steps[*] ? (@.type == "approval").approvers[*] ? '
                    || '(exists (@.owner) || exists (@.manager))'
                )::jsonpath
            )
    ),

    roots as (
        select split_part(p.path, '.', 1) as root, p.path ~ '\.' as dotted
        from paths as p
        where p.path is not null and p.path !~ '^(old|org)\.'
    )

    select coalesce(array_agg(distinct f.name order by f.name), '{}')
    from (
        select r.root as name from roots as r
        union all
        select r.root || '_id' from roots as r where r.dotted
    ) as f
$function$;

-- After an UPDATE of an entity table (statement trigger, argument: the entity
-- type): IT014 when a row changed a field (app._wf_locked_fields) of a
-- workflow whose execution asked for an approval and has not ended, unless
-- the change is that execution's own run. Whether or not the step locks the
-- entity, and after the decision too: so the subject of an approval cannot
-- raise a discount after asking for a smaller one, nor once it is approved
-- while the execution goes on (a change then would start no new execution:
-- re-enrollment waits for the exit). They have it recalled, or wait.
create or replace function app._tg_approval_field_lock()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_hit record;
    v_running uuid;
    -- The transition tables are read apart from the statements on the tables (a
    -- Citus worker cannot mix them, docs/scale-out.md).
    v_org_ids uuid [];
    v_locked_orgs uuid [];
    v_locked_ids uuid [];
    v_new jsonb [];
    v_old jsonb [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    -- Most often no approval is pending anywhere: one probe of the partial index and
    -- out. (On Citus a trigger's query must name its orgs, so there the probe below
    -- is the first.)
    if not app._on_citus() then
        -- (Its own statement: Citus would plan it whatever the other condition says.)
        if not exists (
            select 1 from app.workflow_executions as e
            where
                e.approval_requested_at is not null
                and e.status in ('pending', 'running', 'waiting', 'paused')
        ) then
            return null;
        end if;
    end if;
    v_org_ids := array(select distinct n.org_id from new_rows as n);
    -- The rows of this type that an approval holds, in the statement's orgs: most
    -- often none, and the statement is done.
    select array_agg(e.org_id), array_agg(e.entity_id) into v_locked_orgs, v_locked_ids
    from app.workflow_executions as e
    where
        e.org_id = any(v_org_ids)
        and e.entity_type = tg_argv[0]
        and e.approval_requested_at is not null
        and e.status in ('pending', 'running', 'waiting', 'paused');
    if v_locked_ids is null then
        return null;
    end if;
    -- Only those rows' images, as jsonb.
    select array_agg(to_jsonb(n)), array_agg(to_jsonb(o)) into v_new, v_old
    from new_rows as n
    inner join old_rows as o on o.org_id = n.org_id and o.id = n.id
    where (n.org_id, n.id) in (select * from unnest(v_locked_orgs, v_locked_ids));
    if v_new is null then
        return null;
    end if;
    -- The one execution this transaction runs now: a batch
    -- (api.run_executions) runs many in one transaction, so run_xid alone
    -- would exempt every execution the batch ran before this one too.
    select c.execution_id into v_running from app._wf_run_context() as c;
    select x.id, f.field, w.name as workflow, e.waiting_for into v_hit
    from (
        select (r.n ->> 'org_id')::uuid as org_id, (r.n ->> 'id')::uuid as id, r.n, r.o
        from unnest(v_new, v_old) as r (n, o)
    ) as x
    inner join app.workflow_executions as e
        on
            e.org_id = x.org_id and e.entity_type = tg_argv[0] and e.entity_id = x.id
            and e.approval_requested_at is not null
            and e.status in ('pending', 'running', 'waiting', 'paused')
    inner join app.workflow_versions as v
        on v.org_id = e.org_id and v.workflow_id = e.workflow_id and v.version = e.workflow_version
    inner join app.workflows as w on w.org_id = e.org_id and w.id = e.workflow_id
    inner join app.entity_types as t on t.entity_type = tg_argv[0]
    cross join lateral unnest(
        app._wf_locked_fields(v.definition, t.status_field, t.owner_field)
    ) as f (field)
    where
        -- Each table named by the orgs (on Citus the statement is then routed to
        -- the trigger's own shard: a join on the arrays alone is not).
        e.org_id = any(v_locked_orgs)
        and v.org_id = any(v_locked_orgs)
        and w.org_id = any(v_locked_orgs)
        and e.id is distinct from v_running
        and x.n -> f.field is distinct from x.o -> f.field
    limit 1;
    if found then
        raise exception using
            errcode = 'IT014',
            message = format(
                '%s %s: %s is locked while workflow %L %s',
                tg_argv[0], v_hit.id, v_hit.field, v_hit.workflow,
                case
                    when v_hit.waiting_for = 'approval' then 'waits for its approval'
                    else 'carries out its approval'
                end
            ),
            hint = 'Change it when the workflow has ended, or ask an admin or the workflow''s '
            || 'owner to recall or cancel it.';
    end if;
    return null;
end
$function$;
