-- AFTER INSERT/UPDATE, per statement, on tables with polymorphic references
-- (activities, comments, notes): every (entity_type, entity_id), and for
-- activities every (secondary_entity_type, secondary_entity_id), must name a
-- registered type and a row of the same organization.
-- A reference is checked when written; a later delete of its target leaves
-- it dangling (readers join and skip), as with any polymorphic link.
--
-- Static statements only: the triggers gather the statement's references
-- into arrays and app._tg_entity_refs_check probes each one's table through a
-- CASE over the registered types (one primary-key probe per reference). The
-- dynamic SQL this replaces (one EXECUTE per type, planned on every
-- statement) cost about 0.4 ms per single-row insert. A type registered in
-- app.entity_types must be added to the CASE (tests/sql/crm/test_integrity.py
-- checks every registered type); until it is, its references are refused.

-- Raises IT005 for an unregistered type, then IT004 for a reference whose
-- row does not exist in its organization. Arrays are pairwise.
create or replace function app._tg_entity_refs_check(
    p_org_ids uuid[], p_types text[], p_ids uuid[]
)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- One plan for every call: each reference is a primary-key probe whatever the
-- values, but plpgsql's custom plans re-planned the nine probes on every
-- statement (470 µs a call; 105 µs generic, a DO loop of 400 activity inserts).
set plan_cache_mode = force_generic_plan
as $function$
declare
    v_type text;
    v_id uuid;
    -- Each probe names the statement's orgs too: on a Citus shard's trigger a
    -- probe must prune to that shard (docs/scale-out.md).
    v_orgs uuid[];
begin
    if p_types is null then
        return;
    end if;
    v_orgs := array(select distinct o.id from unnest(p_org_ids) as o (id));
    select r.ref_type into v_type
    from unnest(p_types) as r (ref_type)
    where not exists (select 1 from app.entity_types as e where e.entity_type = r.ref_type)
    limit 1;
    if found then
        raise exception using
            errcode = 'IT005', message = format('unknown entity type %L', v_type);
    end if;
    select r.ref_type, r.ref_id into v_type, v_id
    from unnest(p_org_ids, p_types, p_ids) as r (org_id, ref_type, ref_id)
    where not coalesce(
        case r.ref_type
            when 'account' then exists (
                select 1 from app.accounts as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'contact' then exists (
                select 1 from app.contacts as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'deal' then exists (
                select 1 from app.deals as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'activity' then exists (
                select 1 from app.activities as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'job' then exists (
                select 1 from app.jobs as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'candidate' then exists (
                select 1 from app.candidates as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'submission' then exists (
                select 1 from app.submissions as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'interview' then exists (
                select 1 from app.interviews as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
            when 'placement' then exists (
                select 1 from app.placements as t
                where t.org_id = any(v_orgs) and t.org_id = r.org_id and t.id = r.ref_id
            )
        end,
        false
    )
    limit 1;
    if found then
        raise exception using
            errcode = 'IT004', message = format('%s %s not found', v_type, v_id);
    end if;
end
$function$;

-- comments and notes, AFTER INSERT: (entity_type, entity_id).
create or replace function app._tg_check_entity_refs()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [];
    v_types text [];
    v_ids uuid [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select array_agg(r.org_id), array_agg(r.entity_type), array_agg(r.entity_id)
    into v_org_ids, v_types, v_ids
    from new_rows as r;
    perform app._tg_entity_refs_check(p_org_ids => v_org_ids, p_types => v_types, p_ids => v_ids);
    return null;
end
$function$;

-- comments and notes, AFTER UPDATE: only references that changed are
-- checked, so a row whose target was deleted since stays editable. EXECUTE
-- (a fixed text): planned for this statement's row count; a plan cached from
-- a one-row UPDATE would join a bulk one's old and new rows in a loop.
create or replace function app._tg_check_entity_refs_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [];
    v_types text [];
    v_ids uuid [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    execute 'select array_agg(r.org_id), array_agg(r.entity_type), array_agg(r.entity_id) '
        'from new_rows as r where not exists (select 1 from old_rows as o '
        'where o.org_id = r.org_id and o.id = r.id and o.entity_type = r.entity_type '
        'and o.entity_id = r.entity_id)'
    into v_org_ids, v_types, v_ids;
    perform app._tg_entity_refs_check(p_org_ids => v_org_ids, p_types => v_types, p_ids => v_ids);
    return null;
end
$function$;

-- activities, AFTER INSERT: the primary and the secondary reference (when set).
create or replace function app._tg_check_activity_refs()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [];
    v_types text [];
    v_ids uuid [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select array_agg(x.org_id), array_agg(x.ref_type), array_agg(x.ref_id)
    into v_org_ids, v_types, v_ids
    from (
        select r.org_id, r.entity_type as ref_type, r.entity_id as ref_id
        from new_rows as r
        union all
        select r.org_id, r.secondary_entity_type, r.secondary_entity_id
        from new_rows as r
        where r.secondary_entity_type is not null
    ) as x;
    perform app._tg_entity_refs_check(p_org_ids => v_org_ids, p_types => v_types, p_ids => v_ids);
    return null;
end
$function$;

-- activities, AFTER UPDATE: the references that changed (as above).
create or replace function app._tg_check_activity_refs_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_ids uuid [];
    v_types text [];
    v_ids uuid [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    execute 'select array_agg(x.org_id), array_agg(x.ref_type), array_agg(x.ref_id) from ('
        'select r.org_id, r.entity_type as ref_type, r.entity_id as ref_id '
        'from new_rows as r '
        'where not exists (select 1 from old_rows as o '
        'where o.org_id = r.org_id and o.id = r.id and o.entity_type = r.entity_type '
        'and o.entity_id = r.entity_id) '
        'union all '
        'select r.org_id, r.secondary_entity_type, r.secondary_entity_id '
        'from new_rows as r '
        'where r.secondary_entity_type is not null '
        'and not exists (select 1 from old_rows as o '
        'where o.org_id = r.org_id and o.id = r.id '
        'and o.secondary_entity_type = r.secondary_entity_type '
        'and o.secondary_entity_id = r.secondary_entity_id)) as x'
    into v_org_ids, v_types, v_ids;
    perform app._tg_entity_refs_check(p_org_ids => v_org_ids, p_types => v_types, p_ids => v_ids);
    return null;
end
$function$;
