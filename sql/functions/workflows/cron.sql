-- Five-field cron expressions (minute hour day-of-month month day-of-week):
-- *, lists, ranges and steps (*/15, 1-5, 0,30, 8-18/2). Day-of-week 0 and 7
-- are Sunday. As in Vixie cron, when both day fields are restricted a day
-- matches either.

-- Does one field match a value?
create or replace function app._wf_cron_field_matches(
    p_field text, p_value integer, p_min integer, p_max integer
)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_part text;
    v_range text;
    v_step integer;
    v_lo integer;
    v_hi integer;
begin
    foreach v_part in array string_to_array(p_field, ',') loop
        v_range := split_part(v_part, '/', 1);
        v_step := coalesce(nullif(split_part(v_part, '/', 2), '')::integer, 1);
        if v_range = '*' then
            v_lo := p_min;
            v_hi := p_max;
        elsif v_range like '%-%' then
            v_lo := split_part(v_range, '-', 1)::integer;
            v_hi := split_part(v_range, '-', 2)::integer;
        else
            v_lo := v_range::integer;
            v_hi := case when v_part like '%/%' then p_max else v_lo end;
        end if;
        if p_value between v_lo and v_hi and (p_value - v_lo) % v_step = 0 then
            return true;
        end if;
    end loop;
    return false;
end
$function$;

-- Is the expression well formed (five fields, numbers in range)?
create or replace function app._wf_cron_valid(p_expr text)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_min constant integer[] := array[0, 0, 1, 1, 0];
    c_max constant integer[] := array[59, 23, 31, 12, 7];
    v_fields text[] := regexp_split_to_array(btrim(coalesce(p_expr, '')), '\s+');
    v_i integer;
    v_part text;
    v_n text;
begin
    if cardinality(v_fields) <> 5 then
        return false;
    end if;
    for v_i in 1 .. 5 loop
        foreach v_part in array string_to_array(v_fields[v_i], ',') loop
            if v_part !~ '^(\*|[0-9]{1,2}(-[0-9]{1,2})?)(/[1-9][0-9]?)?$' then
                return false;
            end if;
            foreach v_n in array regexp_split_to_array(split_part(v_part, '/', 1), '-') loop
                if v_n <> '*' and v_n::integer not between c_min[v_i] and c_max[v_i] then
                    return false;
                end if;
            end loop;
        end loop;
    end loop;
    return true;
end
$function$;

-- Does the expression match this local wall-clock minute?
create or replace function app._wf_cron_matches(p_expr text, p_local timestamp)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_f text[] := regexp_split_to_array(btrim(p_expr), '\s+');
    v_dow integer := extract(dow from p_local)::integer;
    v_dom_ok boolean;
    v_dow_ok boolean;
begin
    if not (
        app._wf_cron_field_matches(v_f[1], extract(minute from p_local)::integer, 0, 59)
        and app._wf_cron_field_matches(v_f[2], extract(hour from p_local)::integer, 0, 23)
        and app._wf_cron_field_matches(v_f[4], extract(month from p_local)::integer, 1, 12)
    ) then
        return false;
    end if;
    v_dom_ok := app._wf_cron_field_matches(v_f[3], extract(day from p_local)::integer, 1, 31);
    v_dow_ok := app._wf_cron_field_matches(v_f[5], v_dow, 0, 7)
        or (v_dow = 0 and app._wf_cron_field_matches(v_f[5], 7, 0, 7));
    -- Vixie cron: a day field that starts with * does not restrict; when
    -- both are restricted, either may match.
    if v_f[3] like '*%' or v_f[5] like '*%' then
        return v_dom_ok and v_dow_ok;
    end if;
    return v_dom_ok or v_dow_ok;
end
$function$;
