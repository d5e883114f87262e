-- AFTER INSERT/UPDATE, per statement, on tables with polymorphic references
-- (activities, comments, notes): every (entity_type, entity_id), and for
-- activities every (secondary_entity_type, secondary_entity_id), must name a
-- registered type and a row of the same organization. One query per entity
-- type in the statement; table names come from app.entity_types via %I.
-- A reference is checked when written; a later delete of its target leaves
-- it dangling (readers join and skip), as with any polymorphic link.
create or replace function app._tg_check_entity_refs()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- On UPDATE only references that changed are checked, so a row whose
    -- target was deleted since stays editable.
    v_changed text := case when tg_op = 'UPDATE' then
        ' inner join old_rows as o on o.org_id = r.org_id and o.id = r.id where '
        else ' where ' end;
    v_refs text := 'select r.org_id, r.entity_type as ref_type, r.entity_id as ref_id '
        || 'from new_rows as r' || v_changed
        || case when tg_op = 'UPDATE'
            then '(r.entity_type, r.entity_id) is distinct from (o.entity_type, o.entity_id)'
            else 'true' end;
    v_bad text;
    v_missing uuid;
    v_entity_type text;
    v_table_name text;
begin
    if tg_table_name = 'activities' then
        v_refs := v_refs
            || ' union all select r.org_id, r.secondary_entity_type, r.secondary_entity_id '
            || 'from new_rows as r' || v_changed || 'r.secondary_entity_type is not null'
            || case when tg_op = 'UPDATE'
                then ' and (r.secondary_entity_type, r.secondary_entity_id) is distinct from '
                || '(o.secondary_entity_type, o.secondary_entity_id)'
                else '' end;
    end if;

    execute format(
        'select refs.ref_type from (%s) as refs where not exists ('
        || 'select from app.entity_types as e where e.entity_type = refs.ref_type) limit 1',
        v_refs
    ) into v_bad;
    if v_bad is not null then
        raise exception using
            errcode = 'IT005', message = format('unknown entity type %L', v_bad);
    end if;

    for v_entity_type, v_table_name in execute format(
        'select distinct e.entity_type, e.table_name from (%s) as refs '
        || 'inner join app.entity_types as e on e.entity_type = refs.ref_type',
        v_refs
    ) loop
        execute format(
            'select refs.ref_id from (%s) as refs where refs.ref_type = $1 and not exists ('
            || 'select from app.%I as t where t.org_id = refs.org_id and t.id = refs.ref_id) '
            || 'limit 1',
            v_refs, v_table_name
        ) into v_missing using v_entity_type;
        if v_missing is not null then
            raise exception using
                errcode = 'IT004',
                message = format('%s %s not found', v_entity_type, v_missing);
        end if;
    end loop;
    return null;
end
$function$;
