-- The update functions' one style (docs/conventions.md): api.update_<noun>(p_<noun>_id,
-- p_changes jsonb), where p_changes names the fields to change and a JSON null clears
-- a nullable one. This checks its shape: an object, only keys from p_keys, and no
-- null for a key in p_not_null (IT005, naming them).
create or replace function app._assert_changes(
    p_changes jsonb, p_keys text[], p_not_null text[] default '{}'
)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_bad text[];
begin
    if p_changes is null or jsonb_typeof(p_changes) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_changes must be a JSON object';
    end if;
    select array_agg(k order by k) into v_bad
    from jsonb_object_keys(p_changes) as k
    where k <> all(p_keys);
    if v_bad is not null then
        raise exception using
            errcode = 'IT005',
            message = format('cannot change %s', array_to_string(v_bad, ', ')),
            hint = format('Changeable: %s.', array_to_string(p_keys, ', '));
    end if;
    select array_agg(k order by k) into v_bad
    from unnest(p_not_null) as k
    where jsonb_typeof(p_changes -> k) = 'null';
    if v_bad is not null then
        raise exception using
            errcode = 'IT005', message = format('%s cannot be null', array_to_string(v_bad, ', '));
    end if;
end
$function$;

-- p_row with the fields p_changes names replaced (jsonb_populate_record), a value of
-- the wrong type being IT005. p_row is any row type: the caller casts the result back.
create or replace function app._apply_changes(p_row anyelement, p_changes jsonb)
returns anyelement
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return jsonb_populate_record(p_row, p_changes);
exception when data_exception or program_limit_exceeded then
    raise exception using errcode = 'IT005', message = format('p_changes: %s', sqlerrm);
end
$function$;
