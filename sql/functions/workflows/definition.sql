-- Workflow definitions: validation (every problem, with its JSON path),
-- create, update (a new version) and activation.

-- The columns of an entity type's table (or of organizations), by name.
create or replace function app._wf_columns(p_table text)
returns table (column_name text, column_type text)
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select a.attname::text, format_type(a.atttypid, a.atttypmod)
    from pg_catalog.pg_attribute as a
    where
        a.attrelid = format('app.%I', p_table)::regclass
        and a.attnum > 0
        and not a.attisdropped
$function$;

-- A text that PostgreSQL reads as an interval ('P2D', '2 days', 'PT30M'), or null.
create or replace function app._wf_try_interval(p_value text)
returns interval
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return app._wf_interval(p_value);
exception when others then
    return null;
end
$function$;

-- An interval, accepting a signed ISO 8601 duration ('-P1D') too.
create or replace function app._wf_interval(p_value text)
returns interval
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case
        when p_value ~ '^\s*-\s*P' then -(regexp_replace(p_value, '^\s*-\s*', '')::interval)
        else p_value::interval
    end
$function$;

-- The columns of an app table that reference a user (a foreign key to
-- user_profiles): what a 'field:<column>' user reference may name.
create or replace function app._wf_user_columns(p_table text)
returns text[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(a.attname::text order by a.attname), '{}')
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_attribute as a on a.attrelid = c.conrelid and a.attnum = c.conkey[2]
    where
        c.conrelid = format('app.%I', p_table)::regclass and c.contype = 'f'
        and c.confrelid = 'app.user_profiles'::regclass and cardinality(c.conkey) = 2
$function$;

-- Is this a user reference: 'owner', 'manager', 'triggered_by', the id of an
-- active user of the caller's org, or 'field:<column>' with a user column
-- (p_user_columns)?
create or replace function app._wf_is_user_ref(p_ref jsonb, p_user_columns text[])
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select jsonb_typeof(p_ref) = 'string' and (
        p_ref #>> '{}' in ('owner', 'manager', 'triggered_by')
        or (
            p_ref #>> '{}' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            and exists (
                select 1 from app.user_profiles as u
                where
                    u.org_id = app.current_org_id() and u.id = (p_ref #>> '{}')::uuid
                    and u.is_active
            )
        )
        or (p_ref #>> '{}' like 'field:%' and substr(p_ref #>> '{}', 7) = any(p_user_columns))
    )
$function$;

-- Problems of a condition tree, appended to p_out.
create or replace function app._wf_condition_problems(
    p_cond jsonb, p_path text, p_columns text[], p_org_columns text[], p_depth integer
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_ops constant text[] := array[
        'eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'not_contains', 'in', 'not_in',
        'is_null', 'is_not_null', 'changed'
    ];
    v_key text;
    v_field text;
    v_root text;
    v_op text;
    v_i integer;
begin
    if jsonb_typeof(p_cond) is distinct from 'object' then
        return query select p_path, 'a condition must be an object';
        return;
    end if;
    if p_depth > 10 then
        return query select p_path, 'conditions nest at most 10 deep';
        return;
    end if;
    if p_cond ? 'all' or p_cond ? 'any' then
        v_key := case when p_cond ? 'all' then 'all' else 'any' end;
        if (select count(*) from jsonb_object_keys(p_cond)) <> 1 then
            return query select p_path, 'a group has exactly one key, "all" or "any"';
        end if;
        if jsonb_typeof(p_cond -> v_key) is distinct from 'array'
            or jsonb_array_length(p_cond -> v_key) = 0 then
            return query select p_path || '.' || v_key, 'must be a non-empty array';
            return;
        end if;
        for v_i in 0 .. jsonb_array_length(p_cond -> v_key) - 1 loop
            return query select * from app._wf_condition_problems(
                p_cond -> v_key -> v_i, format('%s.%s[%s]', p_path, v_key, v_i),
                p_columns, p_org_columns, p_depth + 1
            );
        end loop;
        return;
    end if;
    if exists (
        select 1 from jsonb_object_keys(p_cond) as k (key)
        where k.key not in ('field', 'operator', 'value')
    ) then
        return query select p_path, 'a condition has only "field", "operator" and "value"';
    end if;
    v_field := p_cond ->> 'field';
    v_op := p_cond ->> 'operator';
    if v_field is null or v_field !~ '^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_]+)*$' then
        return query select p_path || '.field', 'must name a field, like "value" or "old.status"';
    else
        v_root := split_part(v_field, '.', 1);
        if v_root = 'org' then
            if split_part(v_field, '.', 2) <> all(p_org_columns) then
                return query select p_path || '.field',
                    format('organizations has no column %L', split_part(v_field, '.', 2));
            end if;
        else
            if v_root in ('new', 'old') then
                v_root := split_part(v_field, '.', 2);
            end if;
            if v_root <> all(p_columns) then
                return query select p_path || '.field', format('unknown field %L', v_root);
            end if;
        end if;
    end if;
    if v_op is null or v_op <> all(c_ops) then
        return query select p_path || '.operator',
            format('unknown operator %L; one of %s', v_op, array_to_string(c_ops, ', '));
    elsif v_op in ('is_null', 'is_not_null', 'changed') then
        if p_cond ? 'value' then
            return query select p_path || '.value', format('%s takes no value', v_op);
        end if;
        if v_op = 'changed' and v_field ~ '^(old|org)\.' then
            return query select p_path || '.field', 'changed compares the old and new row';
        end if;
    elsif not p_cond ? 'value' then
        return query select p_path || '.value', format('%s needs a value', v_op);
    elsif v_op in ('in', 'not_in') and jsonb_typeof(p_cond -> 'value') <> 'array' then
        return query select p_path || '.value', format('%s needs an array', v_op);
    elsif v_op in ('gt', 'gte', 'lt', 'lte')
        and jsonb_typeof(p_cond -> 'value') not in ('number', 'string') then
        return query select p_path || '.value', format('%s needs a number, date or text', v_op);
    end if;
end
$function$;

-- Problems of a create_task or create_activity step (shared checks: app._wf_steps_problems).
create or replace function app._wf_step_problems_task(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if coalesce(p_step ->> 'title', p_step ->> 'subject') is null then
        return query select p_at || '.title', 'needs a title';
    end if;
    if p_step ? 'assignee' and not app._wf_is_user_ref(p_step -> 'assignee', p_user_columns) then
        return query select p_at || '.assignee',
            'a user: owner, manager, triggered_by, a user id or field:<column>';
    end if;
    if p_step ? 'due_in' and app._wf_try_interval(p_step ->> 'due_in') is null then
        return query select p_at || '.due_in', 'an interval, like "P2D" or "2 days"';
    end if;
    if p_step ? 'priority'
        and p_step ->> 'priority' not in ('low', 'normal', 'high', 'urgent') then
        return query select p_at || '.priority', 'low, normal, high or urgent';
    end if;
    if p_step ? 'activity_type' and p_step ->> 'activity_type'
        not in ('task', 'call', 'email', 'meeting', 'note', 'linkedin') then
        return query select p_at || '.activity_type',
            'task, call, email, meeting, note or linkedin';
    end if;
end
$function$;

-- Problems of an update_field step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_update_field(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_step ->> 'field' is null or p_step ->> 'field' <> all(p_type.updatable_fields) then
        return query select p_at || '.field', format(
            '%L is not updatable on %s; allowed: %s', p_step ->> 'field', p_type.entity_type,
            array_to_string(p_type.updatable_fields, ', ')
        );
    end if;
    if not p_step ? 'value' then
        return query select p_at || '.value', 'needs a value (null clears the field)';
    end if;
end
$function$;

-- Problems of an assign step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_assign(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_j integer;
    v_ref jsonb;
begin
    if coalesce(p_step ->> 'mode', '') not in ('user', 'round_robin', 'manager') then
        return query select p_at || '.mode', 'user, round_robin or manager';
    end if;
    if coalesce(p_step ->> 'field', p_type.owner_field) <> all(p_type.updatable_fields) then
        return query select p_at || '.field', format(
            '%L is not an updatable user field of %s',
            coalesce(p_step ->> 'field', p_type.owner_field), p_type.entity_type
        );
    end if;
    if p_step ->> 'mode' = 'user' and not app._wf_is_user_ref(p_step -> 'user', p_user_columns) then
        return query select p_at || '.user', 'the user to assign';
    end if;
    if p_step ->> 'mode' = 'round_robin' then
        if jsonb_typeof(p_step -> 'users') is distinct from 'array'
            or jsonb_array_length(p_step -> 'users') = 0 then
            return query select p_at || '.users', 'a non-empty array of users';
        else
            for v_j in 0 .. jsonb_array_length(p_step -> 'users') - 1 loop
                v_ref := p_step -> 'users' -> v_j;
                if not (
                    (
                        app._wf_is_user_ref(v_ref, '{}')
                        and v_ref #>> '{}' not in ('owner', 'manager', 'triggered_by')
                    )
                    or (
                        jsonb_typeof(v_ref) = 'object'
                        and app._wf_is_user_ref(v_ref -> 'user', '{}')
                        and coalesce(v_ref ->> 'weight', '1') ~ '^[1-9][0-9]?$'
                    )
                ) then
                    return query select format('%s.users[%s]', p_at, v_j),
                        'a user id, or {"user": id, "weight": 1-99}';
                end if;
            end loop;
        end if;
    end if;
end
$function$;

-- Problems of a send_notification step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_send_notification(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_step ? 'to' and (
        jsonb_typeof(p_step -> 'to') <> 'array'
        or exists (
            select 1 from jsonb_array_elements(p_step -> 'to') as r (v)
            where not app._wf_is_user_ref(r.v, p_user_columns)
        )
    ) then
        return query select p_at || '.to', 'an array of users';
    end if;
    if p_step ->> 'template' is null and p_step ->> 'title' is null then
        return query select p_at, 'needs a template or a title';
    end if;
    if p_step ->> 'template' is not null and not exists (
        select 1 from app.notification_system_templates as t where t.slug = p_step ->> 'template'
    ) and not exists (
        select 1 from app.notification_templates as t
        where t.slug = p_step ->> 'template' and t.org_id = app.current_org_id()
    ) then
        return query select p_at || '.template',
            format('no notification template %L', p_step ->> 'template');
    end if;
    if p_step ? 'variables' and jsonb_typeof(p_step -> 'variables') <> 'object' then
        return query select p_at || '.variables', 'an object';
    end if;
end
$function$;

-- Problems of a send_email step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_send_email(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_step ->> 'to' is null then
        return query select p_at || '.to',
            'an address, a field path like "lead_contact.email", or a {{template}}';
    end if;
    if p_step ->> 'template' is null and p_step ->> 'subject' is null then
        return query select p_at, 'needs a template, or a subject and html or text';
    end if;
    if p_step ->> 'template' is not null and not exists (
        select 1 from app.email_templates as t
        where t.slug = p_step ->> 'template' and t.org_id = app.current_org_id()
    ) then
        return query select p_at || '.template',
            format('no email template %L', p_step ->> 'template');
    end if;
    if p_step ? 'category'
        and p_step ->> 'category' not in ('transactional', 'marketing', 'campaign') then
        return query select p_at || '.category', 'transactional, marketing or campaign';
    end if;
end
$function$;

-- Problems of a webhook step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_webhook(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_url text;
begin
    v_url := p_step ->> 'url';
    if v_url is null or v_url !~ '^https?://[^/\s@]+(/\S*)?$' then
        return query select p_at || '.url', 'an http(s) URL without credentials';
    end if;
    if p_step ? 'headers' and (
        jsonb_typeof(p_step -> 'headers') <> 'object'
        or exists (
            select 1 from jsonb_each(p_step -> 'headers') as h (k, v)
            where jsonb_typeof(h.v) <> 'string' or h.k !~ '^[A-Za-z0-9-]{1,64}$'
                or h.v #>> '{}' !~ '^[ -~]*$'
                or lower(h.k) like 'webhook-%'
                or lower(h.k) in (
                    'host', 'content-type', 'content-length', 'idempotency-key',
                    'transfer-encoding', 'connection', 'user-agent'
                )
        )
    ) then
        return query select p_at || '.headers',
            'an object of extra headers with printable ASCII values (not Host, Content-Type, '
            || 'Content-Length, Connection, Transfer-Encoding, User-Agent, Idempotency-Key '
            || 'or webhook-*)';
    end if;
end
$function$;

-- Problems of a wait step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_wait(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if (p_step ? 'duration')::integer + (p_step ? 'until_field')::integer
        + (p_step ? 'until')::integer <> 1 then
        return query select p_at, 'give exactly one of duration, until_field or until';
    elsif p_step ? 'duration' and (
        app._wf_try_interval(p_step ->> 'duration') is null
        or app._wf_try_interval(p_step ->> 'duration') < interval '0'
    ) then
        return query select p_at || '.duration', 'a positive interval, like "PT2H" or "3 days"';
    elsif p_step ? 'until_field' and p_step ->> 'until_field' <> all(p_columns) then
        return query select p_at || '.until_field',
            format('unknown field %L', p_step ->> 'until_field');
    elsif p_step ? 'offset' and app._wf_try_interval(p_step ->> 'offset') is null then
        return query select p_at || '.offset', 'an interval, like "-P1D"';
    elsif p_step ? 'until' then
        if jsonb_typeof(p_step -> 'until') <> 'object'
            or coalesce(p_step #>> '{until,time}', '') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' then
            return query select p_at || '.until.time', 'a time of day, "HH:MM"';
        end if;
        if p_step #> '{until,weekdays}' is not null and (
            jsonb_typeof(p_step #> '{until,weekdays}') <> 'array'
            or not (p_step #> '{until,weekdays}') <@ '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'
            or jsonb_array_length(p_step #> '{until,weekdays}') = 0
        ) then
            return query select p_at || '.until.weekdays',
                'an array of mon, tue, wed, thu, fri, sat, sun';
        end if;
        if coalesce(p_step #>> '{until,timezone}', 'org') not in ('org', 'owner')
            and not app._is_time_zone(p_step #>> '{until,timezone}') then
            return query select p_at || '.until.timezone',
                'org, owner or an IANA time zone name';
        end if;
    end if;
end
$function$;

-- Problems of a condition step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_condition(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if not p_step ? 'if' then
        return query select p_at || '.if', 'a condition';
    else
        return query select * from app._wf_condition_problems(
            p_step -> 'if', p_at || '.if', p_columns, p_org_columns, 1
        );
    end if;
end
$function$;

-- Problems of an escalate step (app._wf_steps_problems checks what every step shares).
create or replace function app._wf_step_problems_escalate(
    p_step jsonb, p_at text, p_type app.entity_types, p_columns text[], p_org_columns text[],
    p_user_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_step ? 'to' and p_step ->> 'to' <> 'manager'
        and not app._wf_is_user_ref(p_step -> 'to', p_user_columns) then
        return query select p_at || '.to', 'manager or a user';
    end if;
    if coalesce(p_step ->> 'action', 'notify') not in ('notify', 'reassign') then
        return query select p_at || '.action', 'notify or reassign';
    elsif p_step ->> 'action' = 'reassign'
        and coalesce(p_type.owner_field, '') <> all(p_type.updatable_fields) then
        return query select p_at || '.action', format(
            'the owner field of %s is not updatable: reassign cannot work',
            p_type.entity_type
        );
    end if;
    if coalesce(p_step ->> 'levels', '1') !~ '^[1-9]$' then
        return query select p_at || '.levels', 'how many managers up: 1-9';
    end if;
end
$function$;

-- Problems of one step list (the workflow's, or a transition's): what every step
-- shares (name, type, keys, jumps) here, the rest in one checker per kind.
create or replace function app._wf_steps_problems(
    p_steps jsonb, p_path text, p_entity_type text, p_columns text[], p_org_columns text[]
)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_kinds constant text[] := array[
        'create_task', 'create_activity', 'update_field', 'assign', 'send_notification',
        'send_email', 'webhook', 'wait', 'condition', 'approval', 'escalate'
    ];
    v_type app.entity_types%rowtype;
    v_names text[];
    v_step jsonb;
    v_kind text;
    v_at text;
    v_i integer;
    v_target text;
    v_user_columns text [];
    v_allowed text [];
    v_known text [];
    v_known_help text;
    v_step_known text [];
    v_template_text text;
    v_unknown text [];
begin
    select e.* into v_type from app.entity_types as e where e.entity_type = p_entity_type;
    v_user_columns := app._wf_user_columns(v_type.table_name);
    if jsonb_typeof(p_steps) is distinct from 'array' then
        return query select p_path, 'must be an array of steps';
        return;
    end if;
    select array_agg(s.v ->> 'name') into v_names from jsonb_array_elements(p_steps) as s (v);
    v_known := app._wf_template_variables(p_entity_type, v_names);
    v_known_help := format(
        'a %s workflow gives %s.<column>, entity.<column>, owner.id|name|email, '
        || 'org.id|name|timezone, workflow.id|name|version, execution.id|started_at, '
        || 'trigger.event, trigger.payload.*, steps.<step name>.<result key> and now',
        p_entity_type, p_entity_type
    );
    for v_i in 0 .. jsonb_array_length(p_steps) - 1 loop
        v_step := p_steps -> v_i;
        v_at := format('%s[%s]', p_path, v_i);
        if jsonb_typeof(v_step) <> 'object' then
            return query select v_at, 'a step must be an object';
            continue;
        end if;
        v_kind := v_step ->> 'type';
        if v_step ->> 'name' is null or v_step ->> 'name' !~ '^[a-z][a-z0-9_]{0,62}$' then
            return query select v_at || '.name',
                'every step needs a name: lowercase letters, digits and _';
        elsif v_step ->> 'name' = 'end' then
            return query select v_at || '.name', '"end" is reserved';
        elsif (select count(*) from unnest(v_names) as n where n = v_step ->> 'name') > 1 then
            return query select v_at || '.name', format('duplicate step name %L', v_step ->> 'name');
        end if;
        if v_kind is null or v_kind <> all(c_kinds) then
            return query select v_at || '.type',
                format('unknown step type %L; one of %s', v_kind, array_to_string(c_kinds, ', '));
            continue;
        end if;
        v_allowed := array['name', 'type', 'next'] || case v_kind
            when 'create_task' then array['title', 'description', 'assignee', 'due_in', 'priority']
            when 'create_activity' then array[
                'subject', 'title', 'activity_type', 'description', 'status', 'assignee', 'due_in',
                'priority'
            ]
            when 'update_field' then array['field', 'value']
            when 'assign' then array['mode', 'user', 'users', 'field']
            when 'send_notification' then array[
                'to', 'template', 'title', 'message', 'variables', 'category', 'channels',
                'priority', 'critical', 'action_url', 'action_label', 'notification_type',
                'group_key'
            ]
            when 'send_email' then array[
                'to', 'template', 'subject', 'html', 'text', 'variables', 'category'
            ]
            when 'webhook' then array['url', 'body', 'headers']
            when 'wait' then array['duration', 'until_field', 'offset', 'until']
            when 'condition' then array['if', 'then', 'else']
            when 'approval' then array[
                'approvers', 'mode', 'quorum', 'due_in', 'escalate_to', 'on_reject', 'lock_entity',
                'title'
            ]
            when 'escalate' then array['to', 'levels', 'action', 'message']
        end;
        return query
        select v_at || '.' || k.key, format('%s takes no %L', v_kind, k.key)
        from jsonb_object_keys(v_step) as k (key)
        where k.key <> all(v_allowed);
        -- A text with a malformed filter ({{ x | default: "..." }} is the one filter),
        -- refused at save as for email, notification and campaign templates.
        return query
        select v_at || '.' || k.key,
            format(
                'malformed filter %s (the one filter is default, with a quoted text: '
                || '{{ contact.first_name | default: "there" }})',
                left(regexp_substr(
                    regexp_replace(k.value, app._render_pattern(), '', 'g'),
                    '\{\{[^}]*\|[^}]*(\}\})?'
                ), 100)
            )
        from jsonb_each_text(v_step) as k (key, value)
        where
            k.key in (
                'title', 'description', 'subject', 'message', 'html', 'text', 'body',
                'action_url', 'action_label'
            )
            and jsonb_typeof(v_step -> k.key) = 'string'
            and regexp_replace(k.value, app._render_pattern(), '', 'g') ~ '\{\{[^}]*\|';
        -- Unknown variables, refused as campaigns refuse them (else they render as empty):
        -- the step's texts, and the strings inside body, value and variables.
        return query
        select t.path, format(
            'unknown variable%s %s (%s)',
            case when cardinality(t.unknown) > 1 then 's' else '' end,
            array_to_string(t.unknown, ', '), v_known_help
        )
        from (
            select s.path, app._template_unknown_variables(s.value, v_known) as unknown
            from jsonb_each(v_step) as k (key, value)
            cross join lateral app._wf_json_strings(k.value, v_at || '.' || k.key) as s
            where
                k.key in (
                    'title', 'description', 'subject', 'message', 'html', 'text', 'action_url',
                    'url', 'body', 'value', 'variables'
                )
                or (k.key = 'to' and v_kind = 'send_email')
                or (k.key = 'group_key' and v_kind = 'send_notification')
        ) as t
        where cardinality(t.unknown) > 0;
        -- The email or notification template a step sends is rendered with the workflow's
        -- variables and the step's own: it may use nothing else.
        if v_kind in ('send_email', 'send_notification')
            and jsonb_typeof(v_step -> 'template') = 'string' then
            v_step_known := v_known || array(
                select k.key || x.below
                from jsonb_object_keys(
                    case when jsonb_typeof(v_step -> 'variables') = 'object'
                        then v_step -> 'variables' else '{}' end
                ) as k (key)
                cross join (values (''), ('.*')) as x (below)
            );
            if v_kind = 'send_email' then
                select concat_ws(' ', t.subject_template, t.html_template, t.text_template)
                into v_template_text
                from app.email_templates as t
                where t.org_id = app.current_org_id() and t.slug = v_step ->> 'template';
            else
                v_step_known := v_step_known || 'action_url'::text;
                select coalesce(
                    (
                        select concat_ws(
                            ' ', t.title_template, t.message_template, t.action_url_template,
                            t.email_subject_template, t.email_body_template,
                            t.email_body_text_template, t.sms_template, t.push_title_template,
                            t.push_body_template
                        )
                        from app.notification_templates as t
                        where
                            t.org_id = app.current_org_id() and t.slug = v_step ->> 'template'
                            and t.is_active
                    ),
                    (
                        select concat_ws(
                            ' ', t.title_template, t.message_template, t.action_url_template,
                            t.email_subject_template, t.email_body_template,
                            t.email_body_text_template, t.sms_template, t.push_title_template,
                            t.push_body_template
                        )
                        from app.notification_system_templates as t
                        where t.slug = v_step ->> 'template'
                    )
                )
                into v_template_text;
            end if;
            v_unknown := app._template_unknown_variables(v_template_text, v_step_known);
            if cardinality(v_unknown) > 0 then
                return query select v_at || '.template', format(
                    '%s template %L uses %s, which this workflow does not give it: pass %s in '
                    || 'the step''s variables (%s)',
                    case v_kind when 'send_email' then 'email' else 'notification' end,
                    v_step ->> 'template', array_to_string(v_unknown, ', '),
                    case when cardinality(v_unknown) = 1 then 'it' else 'them' end,
                    v_known_help
                );
            end if;
        end if;
        if p_path like '%.steps' and p_path <> '$.steps'
            and v_step ->> 'name' in ('approval', 'move') then
            return query select v_at || '.name',
                'approval and move are reserved in a transition''s steps';
        end if;
        -- Jumps: next (any step), then/else (condition), on_reject (approval).
        foreach v_target in array array['next', 'then', 'else', 'on_reject'] loop
            if v_step ? v_target and (
                jsonb_typeof(v_step -> v_target) <> 'string'
                or (v_step ->> v_target <> 'end' and v_step ->> v_target <> all(v_names))
            ) then
                return query select v_at || '.' || v_target,
                    format('no step named %L (use a step name or "end")', v_step ->> v_target);
            end if;
        end loop;
        case v_kind
            when 'create_task', 'create_activity' then
                return query select * from app._wf_step_problems_task(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'update_field' then
                return query select * from app._wf_step_problems_update_field(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'assign' then
                return query select * from app._wf_step_problems_assign(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'send_notification' then
                return query select * from app._wf_step_problems_send_notification(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'send_email' then
                return query select * from app._wf_step_problems_send_email(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'webhook' then
                return query select * from app._wf_step_problems_webhook(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'wait' then
                return query select * from app._wf_step_problems_wait(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'condition' then
                return query select * from app._wf_step_problems_condition(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
            when 'approval' then
                return query select * from app._wf_approval_problems(v_step, v_at, v_user_columns);
            when 'escalate' then
                return query select * from app._wf_step_problems_escalate(
                    v_step, v_at, v_type, p_columns, p_org_columns, v_user_columns
                );
        end case;
    end loop;
end
$function$;

-- Problems of an approval configuration (a step, or a transition's gate).
create or replace function app._wf_approval_problems(p_step jsonb, p_at text, p_columns text[])
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_mode text := coalesce(p_step ->> 'mode', 'sequential');
    v_count integer;
    v_i integer;
    v_ref jsonb;
begin
    if jsonb_typeof(p_step -> 'approvers') is distinct from 'array'
        or jsonb_array_length(p_step -> 'approvers') = 0 then
        return query select p_at || '.approvers', 'a non-empty array of approvers';
        return;
    end if;
    v_count := jsonb_array_length(p_step -> 'approvers');
    -- A transition's gate takes no step keys (name, type, next, on_reject).
    if p_at ~ '\.approval$' then
        return query
        select p_at || '.' || k.key, format('an approval gate takes no %L', k.key)
        from jsonb_object_keys(p_step) as k (key)
        where k.key not in ('approvers', 'mode', 'quorum', 'due_in', 'escalate_to', 'lock_entity', 'title');
    end if;
    for v_i in 0 .. v_count - 1 loop
        v_ref := p_step -> 'approvers' -> v_i;
        if not (
            (v_ref ? 'user' and app._wf_is_user_ref(v_ref -> 'user', '{}'))
            or (v_ref ->> 'role') in ('admin', 'manager', 'member')
            or v_ref = '{"manager": true}'
            or v_ref = '{"owner": true}'
            or (v_ref ? 'field' and v_ref ->> 'field' = any(p_columns))
        ) then
            return query select format('%s.approvers[%s]', p_at, v_i),
                'one of {"user": id}, {"role": "manager"}, {"manager": true}, {"owner": true}, '
                || '{"field": "<user id column>"}';
        end if;
    end loop;
    if v_mode not in ('sequential', 'any', 'all', 'quorum') then
        return query select p_at || '.mode', 'sequential, any, all or quorum';
    end if;
    if v_mode = 'quorum' and coalesce(p_step ->> 'quorum', '') !~ '^[1-9][0-9]*$' then
        return query select p_at || '.quorum', 'how many approvals are needed (1 or more)';
    end if;
    if p_step ? 'quorum' and v_mode <> 'quorum' then
        return query select p_at || '.quorum', 'only with mode quorum';
    end if;
    if p_step ? 'due_in' and (
        app._wf_try_interval(p_step ->> 'due_in') is null
        or app._wf_try_interval(p_step ->> 'due_in') <= interval '0'
    ) then
        return query select p_at || '.due_in', 'a positive interval, like "P1D"';
    end if;
    if p_step ? 'escalate_to' and not app._wf_is_user_ref(p_step -> 'escalate_to', p_columns) then
        return query select p_at || '.escalate_to', 'a user';
    end if;
    if p_step ? 'lock_entity' and jsonb_typeof(p_step -> 'lock_entity') <> 'boolean' then
        return query select p_at || '.lock_entity', 'true or false';
    end if;
end
$function$;

-- Every problem of a definition for an entity type; empty when it is valid.
create or replace function app._wf_problems(p_entity_type text, p_definition jsonb)
returns table (path text, problem text)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_trigger_types constant text[] := array[
        'created', 'updated', 'deleted', 'status_change', 'field_change', 'manual', 'scheduled'
    ];
    v_type app.entity_types%rowtype;
    v_columns text[];
    v_org_columns text[];
    v_trigger jsonb;
    v_at text;
    v_i integer;
    v_states text[];
    v_transition jsonb;
begin
    select e.* into v_type from app.entity_types as e where e.entity_type = p_entity_type;
    if not found then
        return query select '$', format('unknown entity type %L', p_entity_type);
        return;
    end if;
    if jsonb_typeof(p_definition) is distinct from 'object' then
        return query select '$', 'a definition is a JSON object';
        return;
    end if;
    select array_agg(c.column_name) into v_columns from app._wf_columns(v_type.table_name) as c;
    select array_agg(c.column_name) into v_org_columns from app._wf_columns('organizations') as c;

    return query
    select '$.' || k.key, format('unknown key %L', k.key)
    from jsonb_object_keys(p_definition) as k (key)
    where k.key not in (
        'triggers', 'conditions', 'steps', 'states', 'transitions', 'reenrollment', 'max_retries'
    );

    if jsonb_typeof(p_definition -> 'triggers') is distinct from 'array'
        or jsonb_array_length(p_definition -> 'triggers') = 0 then
        return query select '$.triggers', 'a non-empty array of triggers';
    else
        for v_i in 0 .. jsonb_array_length(p_definition -> 'triggers') - 1 loop
            v_trigger := p_definition -> 'triggers' -> v_i;
            v_at := format('$.triggers[%s]', v_i);
            if jsonb_typeof(v_trigger) <> 'object' or v_trigger ->> 'type' <> all(c_trigger_types)
                or v_trigger ->> 'type' is null then
                return query select v_at || '.type', format(
                    'unknown trigger %L; one of %s', v_trigger ->> 'type',
                    array_to_string(c_trigger_types, ', ')
                );
                continue;
            end if;
            return query
            select v_at || '.' || k.key, format('%s takes no %L', v_trigger ->> 'type', k.key)
            from jsonb_object_keys(v_trigger) as k (key)
            where k.key <> 'type' and k.key <> all(
                case v_trigger ->> 'type'
                    when 'status_change' then array['from', 'to']
                    when 'field_change' then array['field', 'from', 'to']
                    when 'scheduled' then array['cron', 'timezone', 'filter']
                    else array[]::text[]
                end
            );
            if v_trigger ->> 'type' = 'status_change' and v_type.status_field is null then
                return query select v_at, format('%s has no status field', p_entity_type);
            end if;
            if v_trigger ->> 'type' = 'field_change'
                and coalesce(v_trigger ->> 'field', '') <> all(v_columns) then
                return query select v_at || '.field', format('unknown field %L', v_trigger ->> 'field');
            end if;
            if v_trigger ->> 'type' = 'scheduled' then
                if not app._wf_cron_valid(v_trigger ->> 'cron') then
                    return query select v_at || '.cron',
                        'a five-field cron expression, like "0 9 * * 1-5"';
                end if;
                if not app._is_time_zone(coalesce(v_trigger ->> 'timezone', 'UTC')) then
                    return query select v_at || '.timezone', 'an IANA time zone name';
                end if;
                if v_trigger ? 'filter' then
                    return query select * from app._wf_condition_problems(
                        v_trigger -> 'filter', v_at || '.filter', v_columns, v_org_columns, 1
                    );
                end if;
            end if;
        end loop;
        if (
            select count(*) from jsonb_array_elements(p_definition -> 'triggers') as t (v)
            where t.v ->> 'type' = 'scheduled'
        ) > 1 then
            return query select '$.triggers', 'at most one scheduled trigger';
        end if;
    end if;

    if p_definition ? 'conditions' then
        return query select * from app._wf_condition_problems(
            p_definition -> 'conditions', '$.conditions', v_columns, v_org_columns, 1
        );
    end if;

    if not p_definition ? 'steps' and not p_definition ? 'transitions' then
        return query select '$.steps', 'a workflow needs steps (or a state machine''s transitions)';
    elsif p_definition ? 'steps' then
        return query select * from app._wf_steps_problems(
            p_definition -> 'steps', '$.steps', p_entity_type, v_columns, v_org_columns
        );
        if jsonb_typeof(p_definition -> 'steps') = 'array'
            and jsonb_array_length(p_definition -> 'steps') > 200 then
            return query select '$.steps', 'at most 200 steps';
        end if;
    end if;

    if p_definition ? 'reenrollment'
        and p_definition ->> 'reenrollment' not in ('never', 'after_exit', 'concurrent') then
        return query select '$.reenrollment', 'never, after_exit or concurrent';
    end if;
    if p_definition ? 'max_retries'
        and coalesce(p_definition ->> 'max_retries', '') !~ '^([0-9]|1[0-9]|2[0-5])$' then
        return query select '$.max_retries', 'a whole number from 0 to 25';
    end if;

    -- The state machine.
    if p_definition ? 'states' then
        if jsonb_typeof(p_definition -> 'states') <> 'array'
            or jsonb_array_length(p_definition -> 'states') = 0 then
            return query select '$.states', 'a non-empty array of states';
        else
            select array_agg(s.v ->> 'name') into v_states
            from jsonb_array_elements(p_definition -> 'states') as s (v);
            return query
            select format('$.states[%s].name', s.i - 1), 'a unique name: lowercase letters, digits and _'
            from jsonb_array_elements(p_definition -> 'states') with ordinality as s (v, i)
            where
                coalesce(s.v ->> 'name', '') !~ '^[a-z][a-z0-9_]{0,62}$'
                or (select count(*) from unnest(v_states) as n where n = s.v ->> 'name') > 1;
            return query
            select format('$.states[%s].type', s.i - 1), 'initial, intermediate or final'
            from jsonb_array_elements(p_definition -> 'states') with ordinality as s (v, i)
            where coalesce(s.v ->> 'type', 'intermediate') not in ('initial', 'intermediate', 'final');
            if (
                select count(*) from jsonb_array_elements(p_definition -> 'states') as s (v)
                where s.v ->> 'type' = 'initial'
            ) <> 1 then
                return query select '$.states', 'exactly one state has type initial';
            end if;
        end if;
    end if;
    if p_definition ? 'transitions' then
        if not p_definition ? 'states' then
            return query select '$.transitions', 'transitions need states';
        elsif jsonb_typeof(p_definition -> 'transitions') <> 'array' then
            return query select '$.transitions', 'an array of transitions';
        else
            for v_i in 0 .. jsonb_array_length(p_definition -> 'transitions') - 1 loop
                v_transition := p_definition -> 'transitions' -> v_i;
                v_at := format('$.transitions[%s]', v_i);
                if coalesce(v_transition ->> 'name', '') !~ '^[a-z][a-z0-9_]{0,62}$'
                    or (
                        select count(*) from jsonb_array_elements(p_definition -> 'transitions') as t (v)
                        where t.v ->> 'name' = v_transition ->> 'name'
                    ) > 1 then
                    return query select v_at || '.name', 'a unique name: lowercase letters, digits and _';
                end if;
                if v_transition ? 'from' and v_transition ->> 'from' <> all(coalesce(v_states, '{}')) then
                    return query select v_at || '.from', format('no state %L', v_transition ->> 'from');
                end if;
                if coalesce(v_transition ->> 'to', '') <> all(coalesce(v_states, '{}')) then
                    return query select v_at || '.to', format('no state %L', v_transition ->> 'to');
                end if;
                if v_transition ? 'required_role'
                    and v_transition ->> 'required_role' not in ('admin', 'manager', 'member') then
                    return query select v_at || '.required_role', 'admin, manager or member';
                end if;
                if v_transition ? 'approval' then
                    return query select * from app._wf_approval_problems(
                        v_transition -> 'approval', v_at || '.approval',
                        app._wf_user_columns(v_type.table_name)
                    );
                end if;
                if v_transition ? 'steps' then
                    return query select * from app._wf_steps_problems(
                        v_transition -> 'steps', v_at || '.steps', p_entity_type, v_columns,
                        v_org_columns
                    );
                end if;
            end loop;
        end if;
    end if;
end
$function$;

create or replace function api.validate_workflow_definition(
    p_definition jsonb, p_entity_type text default 'deal'
)
returns table (path text, problem text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select p.path, p.problem from app._wf_problems(p_entity_type, p_definition) as p
$function$;

comment on function api.validate_workflow_definition(jsonb, text) is
'Every problem of a workflow definition for an entity type, one row each with its JSON path '
'(like $.steps[2].field); no rows when the definition is valid. '
'Templates are looked up in the caller''s organization.';

-- Raise IT012 naming every problem, or do nothing.
create or replace function app._wf_assert_valid(p_entity_type text, p_definition jsonb)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_problems text;
begin
    select string_agg(format('%s: %s', p.path, p.problem), '; ' order by p.path)
    into v_problems
    from app._wf_problems(p_entity_type, p_definition) as p;
    if v_problems is not null then
        raise exception using
            errcode = 'IT012',
            message = 'invalid workflow definition: ' || v_problems,
            hint = 'api.validate_workflow_definition lists the problems with their JSON paths.';
    end if;
end
$function$;

-- Save a definition's derived columns, its version and its states and
-- transitions. The states are upserted by name; a state that instances are in
-- cannot be removed.
create or replace function app._wf_store_version(p_org_id uuid, p_workflow_id uuid)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_wf app.workflows%rowtype;
    v_scheduled jsonb;
    v_busy text;
    v_stamp timestamptz;
begin
    select w.* into v_wf from app.workflows as w where w.org_id = p_org_id and w.id = p_workflow_id;
    select t.v into v_scheduled
    from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
    where t.v ->> 'type' = 'scheduled';

    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.workflows as w
    set
        reenrollment = coalesce(v_wf.definition ->> 'reenrollment', 'after_exit'),
        max_retries = coalesce((v_wf.definition ->> 'max_retries')::integer, 3),
        trigger_events = array(
            -- A searched CASE: Citus sends a simple one (CASE x WHEN ..) to a worker as
            -- text = boolean (docs/scale-out.md).
            select distinct case
                when t.v ->> 'type' = 'created' then 'insert'
                when t.v ->> 'type' = 'deleted' then 'delete'
                else 'update'
            end
            from jsonb_array_elements(v_wf.definition -> 'triggers') as t (v)
            where t.v ->> 'type' in ('created', 'updated', 'deleted', 'status_change', 'field_change')
            order by 1
        ),
        schedule_cron = v_scheduled ->> 'cron',
        schedule_timezone = case
            when v_scheduled is not null then coalesce(v_scheduled ->> 'timezone', 'UTC')
        end,
        schedule_fired_at = case
            when v_scheduled is null then null
            else coalesce(w.schedule_fired_at, v_stamp)
        end
    where w.org_id = p_org_id and w.id = p_workflow_id;

    insert into app.workflow_versions (org_id, workflow_id, version, definition, created_by)
    values (p_org_id, p_workflow_id, v_wf.version, v_wf.definition, app.current_user_id());

    -- States: removed ones must be empty.
    select string_agg(s.name, ', ') into v_busy
    from app.workflow_states as s
    where
        s.org_id = p_org_id and s.workflow_id = p_workflow_id
        and not exists (
            select 1 from jsonb_array_elements(v_wf.definition -> 'states') as d (v)
            where d.v ->> 'name' = s.name
        )
        and exists (
            select 1 from app.workflow_instances as i
            where i.org_id = p_org_id and i.current_state_id = s.id
        );
    if v_busy is not null then
        raise exception using
            errcode = 'IT012',
            message = format('states still hold entities and cannot be removed: %s', v_busy);
    end if;
    -- Transitions are kept by name (a pending transition execution refers
    -- to its row); those no longer defined go.
    delete from app.workflow_transitions as t
    where
        t.org_id = p_org_id and t.workflow_id = p_workflow_id
        and not exists (
            select 1 from jsonb_array_elements(v_wf.definition -> 'transitions') as d (v)
            where d.v ->> 'name' = t.name
        );
    delete from app.workflow_states as s
    where
        s.org_id = p_org_id and s.workflow_id = p_workflow_id
        and not exists (
            select 1 from jsonb_array_elements(v_wf.definition -> 'states') as d (v)
            where d.v ->> 'name' = s.name
        );
    -- Demote first, so that a new initial state never meets the old one.
    update app.workflow_states as s set state_type = 'intermediate'
    where s.org_id = p_org_id and s.workflow_id = p_workflow_id;
    insert into app.workflow_states (org_id, workflow_id, name, label, state_type, position)
    select
        p_org_id, p_workflow_id, d.v ->> 'name', coalesce(d.v ->> 'label', d.v ->> 'name'),
        coalesce(d.v ->> 'type', 'intermediate'), d.i::integer
    from jsonb_array_elements(v_wf.definition -> 'states') with ordinality as d (v, i)
    on conflict (org_id, workflow_id, name) do update
    set label = excluded.label, state_type = excluded.state_type, position = excluded.position;
    insert into app.workflow_transitions (
        org_id, workflow_id, name, from_state_id, to_state_id, required_role, approval, steps
    )
    select
        p_org_id, p_workflow_id, d.v ->> 'name', f.id, t.id, d.v ->> 'required_role',
        d.v -> 'approval', coalesce(d.v -> 'steps', '[]')
    from jsonb_array_elements(v_wf.definition -> 'transitions') as d (v)
    inner join app.workflow_states as t
        on t.org_id = p_org_id and t.workflow_id = p_workflow_id and t.name = d.v ->> 'to'
    left join app.workflow_states as f
        on f.org_id = p_org_id and f.workflow_id = p_workflow_id and f.name = d.v ->> 'from'
    on conflict (org_id, workflow_id, name) do update
    set
        from_state_id = excluded.from_state_id, to_state_id = excluded.to_state_id,
        required_role = excluded.required_role, approval = excluded.approval,
        steps = excluded.steps;
end
$function$;

create or replace function api.create_workflow(
    p_name text,
    p_entity_type text,
    p_definition jsonb,
    p_description text default null,
    p_is_active boolean default true
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_id uuid := gen_random_uuid();
begin
    perform app._require_permission('workflows.manage');
    perform app._wf_assert_valid(p_entity_type, p_definition);
    insert into app.workflows (
        org_id, id, name, description, entity_type, is_active, definition, created_by
    )
    values (
        v_org_id, v_id, p_name, p_description, p_entity_type, coalesce(p_is_active, true),
        p_definition, app.current_user_id()
    );
    perform app._wf_store_version(v_org_id, v_id);
    return v_id;
end
$function$;

comment on function api.create_workflow(text, text, jsonb, text, boolean) is
'Create a workflow (workflows.manage: admins by default; IT003). The definition is validated '
'first: IT012 names every problem. '
'Returns the workflow id; version 1 is stored in app.workflow_versions.';

create or replace function api.update_workflow(p_workflow_id uuid, p_changes jsonb)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_wf app.workflows%rowtype;
    v_new_definition boolean := p_changes ? 'definition';
begin
    perform app._assert_changes(
        p_changes,
        array['definition', 'name', 'description', 'is_active'],
        array['definition', 'name', 'is_active']
    );
    perform app._require_permission('workflows.manage');
    select w.* into v_wf from app.workflows as w
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
    v_wf := app._apply_changes(v_wf, p_changes);
    if length(btrim(v_wf.name)) not between 1 and 200 then
        raise exception using errcode = 'IT005', message = 'a workflow name has 1 to 200 characters';
    end if;
    if v_new_definition then
        perform app._wf_assert_valid(v_wf.entity_type, v_wf.definition);
    end if;
    update app.workflows as w
    set
        name = v_wf.name,
        description = v_wf.description,
        is_active = v_wf.is_active,
        definition = v_wf.definition,
        version = w.version + case when v_new_definition then 1 else 0 end,
        updated_by = app.current_user_id()
    where w.org_id = v_org_id and w.id = p_workflow_id
    returning w.* into v_wf;
    if v_new_definition then
        perform app._wf_store_version(v_org_id, p_workflow_id);
    end if;
    return v_wf.version;
end
$function$;

comment on function api.update_workflow(uuid, jsonb) is
'Change a workflow (workflows.manage; IT003). p_changes is a JSON object of the fields to '
'change: definition, '
'name, description (may be null), is_active. A new definition is validated (IT012) and becomes '
'a new version; executions already started keep the version they started with. Returns the '
'current version.';

create or replace function api.delete_workflow(p_workflow_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    perform app._require_permission('workflows.manage');
    update app.workflows as w
    set deleted_at = app.now(), is_active = false, updated_by = app.current_user_id()
    where w.org_id = v_org_id and w.id = p_workflow_id and w.deleted_at is null;
    if not found then
        raise exception using errcode = 'IT004', message = format('workflow %s not found', p_workflow_id);
    end if;
end
$function$;

comment on function api.delete_workflow(uuid) is
'Soft-delete a workflow (workflows.manage; IT003): it stops matching; running executions go on '
'to the end.';
