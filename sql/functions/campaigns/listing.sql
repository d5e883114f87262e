-- Listing campaigns for the console, the JSON API and the CLI (issue 16).

-- p_campaign_id was added after the first release: the old signature goes first.
drop function if exists api.list_campaigns(text, integer);

create or replace function api.list_campaigns(
    p_status text default null,
    p_limit integer default 100,
    p_campaign_id uuid default null
)
returns table (
    campaign_id uuid,
    name text,
    status text,
    owner_id uuid,
    owner_name text,
    step_count integer,
    enrolled integer,
    active integer,
    completed integer,
    replied integer,
    created_at timestamptz,
    activated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if p_limit is null or p_limit not between 1 and 500 then
        raise exception using errcode = 'IT005', message = 'p_limit must be between 1 and 500';
    end if;
    if p_status is not null
        and p_status not in ('draft', 'active', 'paused', 'completed', 'archived') then
        raise exception using
            errcode = 'IT005',
            message = format('unknown campaign status %L', p_status),
            hint = 'One of draft, active, paused, completed, archived.';
    end if;
    return query
    select
        c.id, c.name, c.status, c.owner_id, u.full_name,
        (
            select count(*)::integer from app.campaign_sequences as s
            where s.org_id = v_org_id and s.campaign_id = c.id
        ),
        c.total_enrolled, c.total_active, c.total_completed, c.total_replied,
        c.created_at, c.activated_at
    -- Every table named by the org: on Citus the statement is then routed to the org's
    -- shards whole (a correlated count on c.org_id alone is not planned).
    from app.campaigns as c
    left join app.user_profiles as u on u.org_id = v_org_id and u.id = c.owner_id
    where
        c.org_id = v_org_id
        and (p_status is null or c.status = p_status)
        and (p_campaign_id is null or c.id = p_campaign_id)
    order by c.created_at desc, c.id desc
    limit p_limit;
end
$function$;

comment on function api.list_campaigns(text, integer, uuid) is
$$The caller's org's campaigns, newest first, optionally of one status (draft, active, paused,
completed, archived; IT005 otherwise) or the one campaign p_campaign_id (no row when it is not
the caller's org's): owner, number of steps, and the running totals of
enrollments (enrolled, active, completed, replied). p_limit 1 to 500 (IT005).$$;
