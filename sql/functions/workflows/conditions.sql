-- Trigger matching and condition evaluation over jsonb rows. Pure functions:
-- the matcher calls them once per changed row and active workflow.

-- Type-aware comparison: -1, 0 or 1, or null when the two cannot be ordered
-- (a null, or types that do not meet). Numbers (and numeric strings against
-- numbers) compare as numeric, ISO dates and timestamps as timestamptz (in
-- UTC), booleans as booleans, everything else as text.
create or replace function app._wf_compare(p_a jsonb, p_b jsonb)
returns integer
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $function$
declare
    c_number constant text := '^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$';
    c_time constant text := '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+)?(Z|[+-][0-9:]+)?$';
    v_ta text := jsonb_typeof(p_a);
    v_tb text := jsonb_typeof(p_b);
    v_sa text := p_a #>> '{}';
    v_sb text := p_b #>> '{}';
    v_na numeric;
    v_nb numeric;
    v_xa timestamptz;
    v_xb timestamptz;
begin
    if v_ta is null or v_tb is null or v_ta = 'null' or v_tb = 'null' then
        return null;
    end if;
    if v_ta in ('object', 'array') or v_tb in ('object', 'array') then
        return case when p_a = p_b then 0 end;
    end if;
    if (v_ta = 'number' or v_sa ~ c_number) and (v_tb = 'number' or v_sb ~ c_number)
        and 'number' in (v_ta, v_tb) then
        begin
            v_na := v_sa::numeric;
            v_nb := v_sb::numeric;
            return sign(v_na - v_nb)::integer;
        exception when others then
            null;  -- out of numeric's range: compare as text
        end;
    end if;
    if v_ta = 'boolean' and v_tb = 'boolean' then
        return case when v_sa = v_sb then 0 when v_sa < v_sb then -1 else 1 end;
    end if;
    if v_ta = 'string' and v_tb = 'string' and v_sa ~ c_time and v_sb ~ c_time then
        begin
            v_xa := v_sa::timestamptz;
            v_xb := v_sb::timestamptz;
            return case when v_xa = v_xb then 0 when v_xa < v_xb then -1 else 1 end;
        exception when others then
            null;  -- not a real date after all (or out of range): compare as text
        end;
    end if;
    return case when v_sa = v_sb then 0 when v_sa < v_sb then -1 else 1 end;
end
$function$;

-- Equality with the comparison's types; values that cannot be ordered are
-- equal only when they are the same JSON.
create or replace function app._wf_equals(p_a jsonb, p_b jsonb)
returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(app._wf_compare(p_a, p_b) = 0, coalesce(p_a, 'null') = coalesce(p_b, 'null'))
$function$;

-- The value a condition's field names: "value" and "new.value" read the new
-- row, "old.value" the old one, "org.name" the organization; further
-- segments descend into jsonb columns ("metadata.source").
create or replace function app._wf_field_value(
    p_field text, p_new jsonb, p_old jsonb, p_org jsonb
)
returns jsonb
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select case split_part(p_field, '.', 1)
        when 'new' then p_new #> (string_to_array(p_field, '.'))[2:]
        when 'old' then p_old #> (string_to_array(p_field, '.'))[2:]
        when 'org' then p_org #> (string_to_array(p_field, '.'))[2:]
        else p_new #> string_to_array(p_field, '.')
    end
$function$;

-- One leaf condition: {"field", "operator", "value"}.
create or replace function app._wf_leaf_holds(
    p_leaf jsonb, p_new jsonb, p_old jsonb, p_org jsonb
)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_field text := p_leaf ->> 'field';
    v_op text := p_leaf ->> 'operator';
    v_want jsonb := p_leaf -> 'value';
    v_have jsonb := app._wf_field_value(v_field, p_new, p_old, p_org);
    v_null boolean := v_have is null or jsonb_typeof(v_have) = 'null';
    v_bare text;
    v_contains boolean;
begin
    case v_op
        when 'is_null' then
            return v_null;
        when 'is_not_null' then
            return not v_null;
        when 'changed' then
            v_bare := regexp_replace(v_field, '^new\.', '');
            -- A missing row or key counts as a JSON null.
            return coalesce(p_new #> string_to_array(v_bare, '.'), 'null')
                is distinct from coalesce(p_old #> string_to_array(v_bare, '.'), 'null');
        when 'eq' then
            return case when v_want is null or jsonb_typeof(v_want) = 'null' then v_null
                else not v_null and app._wf_equals(v_have, v_want) end;
        when 'neq' then
            return case when v_want is null or jsonb_typeof(v_want) = 'null' then not v_null
                else v_null or not app._wf_equals(v_have, v_want) end;
        when 'gt' then
            return coalesce(app._wf_compare(v_have, v_want) > 0, false);
        when 'gte' then
            return coalesce(app._wf_compare(v_have, v_want) >= 0, false);
        when 'lt' then
            return coalesce(app._wf_compare(v_have, v_want) < 0, false);
        when 'lte' then
            return coalesce(app._wf_compare(v_have, v_want) <= 0, false);
        when 'in', 'not_in' then
            v_contains := not v_null and exists (
                select 1 from jsonb_array_elements(v_want) as e (v) where app._wf_equals(v_have, e.v)
            );
            return case when v_op = 'in' then v_contains else not v_contains end;
        when 'contains', 'not_contains' then
            v_contains := case jsonb_typeof(v_have)
                when 'array' then exists (
                    select 1 from jsonb_array_elements(v_have) as e (v) where app._wf_equals(e.v, v_want)
                )
                when 'object' then v_have ? (v_want #>> '{}')
                when 'string' then
                    strpos(lower(v_have #>> '{}'), lower(v_want #>> '{}')) > 0
                else false
            end;
            return case when v_op = 'contains' then v_contains else not v_contains end;
        else
            raise exception using
                errcode = 'IT005', message = format('unknown condition operator %L', v_op);
    end case;
end
$function$;

-- A condition tree: {"all": [...]}, {"any": [...]}, or a leaf. Null or {}
-- holds.
create or replace function app._wf_holds(
    p_condition jsonb, p_new jsonb, p_old jsonb, p_org jsonb
)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_child jsonb;
begin
    if p_condition is null or p_condition = '{}'::jsonb then
        return true;
    end if;
    if p_condition ? 'all' then
        for v_child in select e.v from jsonb_array_elements(p_condition -> 'all') as e (v) loop
            if not app._wf_holds(v_child, p_new, p_old, p_org) then
                return false;
            end if;
        end loop;
        return true;
    end if;
    if p_condition ? 'any' then
        for v_child in select e.v from jsonb_array_elements(p_condition -> 'any') as e (v) loop
            if app._wf_holds(v_child, p_new, p_old, p_org) then
                return true;
            end if;
        end loop;
        return false;
    end if;
    return app._wf_leaf_holds(p_condition, p_new, p_old, p_org);
end
$function$;

-- Does this trigger fire for a row event ('insert', 'update', 'delete')?
-- p_status_field is the entity type's status column.
create or replace function app._wf_trigger_fires(
    p_trigger jsonb, p_event text, p_new jsonb, p_old jsonb, p_status_field text
)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_field text;
begin
    case p_trigger ->> 'type'
        when 'created' then
            return p_event = 'insert';
        when 'deleted' then
            return p_event = 'delete';
        when 'updated' then
            return p_event = 'update'
                and (p_new - 'updated_at' - 'updated_by') <> (p_old - 'updated_at' - 'updated_by');
        when 'status_change', 'field_change' then
            if p_event <> 'update' then
                return false;
            end if;
            v_field := case p_trigger ->> 'type'
                when 'status_change' then p_status_field else p_trigger ->> 'field'
            end;
            return (p_new -> v_field) is distinct from (p_old -> v_field)
                and (not p_trigger ? 'from' or app._wf_equals(p_old -> v_field, p_trigger -> 'from'))
                and (not p_trigger ? 'to' or app._wf_equals(p_new -> v_field, p_trigger -> 'to'));
        else
            return false;  -- manual and scheduled start elsewhere
    end case;
end
$function$;
