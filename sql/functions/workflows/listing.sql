-- Listing executions for the console, the JSON API and the CLI (issue 16).

-- p_execution_id was added after the first release: the old signature goes first.
drop function if exists api.list_executions(text, uuid, text, uuid, timestamptz, uuid, integer);

create or replace function api.list_executions(
    p_status text default null,
    p_workflow_id uuid default null,
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_before_created_at timestamptz default null,
    p_before_id uuid default null,
    p_limit integer default 50,
    p_execution_id uuid default null
)
returns table (
    execution_id uuid,
    workflow_id uuid,
    workflow_name text,
    workflow_version integer,
    entity_type text,
    entity_id uuid,
    status text,
    waiting_for text,
    trigger_type text,
    triggered_by uuid,
    current_step_index integer,
    total_steps integer,
    created_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    error_message text,
    can_retry boolean,
    can_cancel boolean,
    can_pause boolean,
    can_resume boolean
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
    v_admin boolean := app._is_org_admin();
begin
    if p_limit is null or p_limit not between 1 and 200 then
        raise exception using errcode = 'IT005', message = 'p_limit must be between 1 and 200';
    end if;
    if p_status is not null and p_status not in (
        'pending', 'running', 'waiting', 'paused', 'completed', 'failed', 'cancelled'
    ) then
        raise exception using
            errcode = 'IT005',
            message = format('unknown execution status %L', p_status),
            hint = 'One of pending, running, waiting, paused, completed, failed, cancelled.';
    end if;
    if p_entity_type is not null
        and not exists (select 1 from app.entity_types as t where t.entity_type = p_entity_type) then
        raise exception using
            errcode = 'IT005', message = format('unknown entity type %L', p_entity_type);
    end if;
    if p_before_id is not null and p_before_created_at is null then
        raise exception using
            errcode = 'IT005', message = 'p_before_id needs p_before_created_at';
    end if;

    -- The page is cut first (an index range read backwards, at most p_limit rows), then
    -- joined to its workflows. One execution asked for by id is its own branch (a primary
    -- key read) so that even a generic plan never scans the org's range looking for it.
    return query
    select
        e.id, e.workflow_id, w.name, e.workflow_version, e.entity_type, e.entity_id,
        e.status, e.waiting_for, e.trigger_type, e.triggered_by, e.current_step_index,
        e.total_steps, e.created_at, e.started_at, e.completed_at, e.error_message,
        -- The same rules as app._wf_controlled and api.retry_execution & co.
        c.may and e.status = 'failed' and not (
            e.exclusive and exists (
                select 1 from app.workflow_executions as o
                where
                    o.org_id = v_org_id and o.workflow_id = e.workflow_id
                    and o.entity_id = e.entity_id and o.id <> e.id and o.exclusive
                    and o.status in ('pending', 'running', 'waiting', 'paused')
            )
        ),
        c.may and e.status not in ('completed', 'failed', 'cancelled'),
        c.may and e.status in ('pending', 'running', 'waiting'),
        c.may and e.status = 'paused'
    from (
        select x.*
        from app.workflow_executions as x
        where
            x.id = p_execution_id
            and x.org_id = v_org_id
            and (p_status is null or x.status = p_status)
            and (p_workflow_id is null or x.workflow_id = p_workflow_id)
            and (p_entity_type is null or x.entity_type = p_entity_type)
            and (p_entity_id is null or x.entity_id = p_entity_id)
            and (x.created_at, x.id) < (
                coalesce(p_before_created_at, 'infinity'::timestamptz),
                coalesce(p_before_id, '00000000-0000-0000-0000-000000000000'::uuid)
            )
        union all
        (
            select x.*
            from app.workflow_executions as x
            where
                p_execution_id is null
                and x.org_id = v_org_id
                and (p_status is null or x.status = p_status)
                and (p_workflow_id is null or x.workflow_id = p_workflow_id)
                and (p_entity_type is null or x.entity_type = p_entity_type)
                and (p_entity_id is null or x.entity_id = p_entity_id)
                -- One row comparison, whatever was passed, so that it is an index condition:
                -- no uuid sorts below the zero one, and every stored time below infinity.
                and (x.created_at, x.id) < (
                    coalesce(p_before_created_at, 'infinity'::timestamptz),
                    coalesce(p_before_id, '00000000-0000-0000-0000-000000000000'::uuid)
                )
            order by x.created_at desc, x.id desc
            limit p_limit
        )
    ) as e
    -- Every table named by the org (on Citus the statement is then routed to the org's
    -- shards whole: a join on e.org_id alone, past the page's LIMIT, is not planned).
    inner join app.workflows as w on w.org_id = v_org_id and w.id = e.workflow_id
    cross join lateral (
        select (
            v_admin
            or w.created_by = v_user_id
            or (e.trigger_type in ('manual', 'api', 'transition') and e.triggered_by = v_user_id)
        ) is true as may
    ) as c
    order by e.created_at desc, e.id desc;
end
$function$;

comment on function api.list_executions(
    text, uuid, text, uuid, timestamptz, uuid, integer, uuid
) is
$$The caller's org's workflow executions, newest first, optionally of one status, workflow,
entity type or entity. p_execution_id reads that one execution (a primary key read; the
other filters still apply; no row when it is not the caller's org's). Keyset paging: pass the last row's created_at and execution_id as
p_before_created_at and p_before_id for the next page (rows created in the same instant are
neither skipped nor repeated). p_limit 1 to 200; an unknown status or entity type, or
p_before_id without p_before_created_at: IT005. can_retry, can_cancel, can_pause and can_resume
say whether the caller may do that now: an admin, the workflow's owner, or whoever started it
by hand (api.retry_execution, cancel_execution, pause_execution, resume_execution).$$;
