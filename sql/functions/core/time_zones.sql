-- One time zone rule (issue 16, docs/conventions.md): a zone that InTime stores or takes
-- is an IANA name, spelled exactly as pg_timezone_names lists it ('Europe/Paris', not
-- 'europe/paris'), minus the copies and aliases that are no place: 'posix/...',
-- 'right/...', 'posixrules', 'localtime' and 'Factory'. Abbreviations ('CEST') and POSIX
-- strings ('UTC+3', 'abc+99'), which PostgreSQL's `at time zone` also takes, are refused.
-- The legacy names the IANA database still ships ('EST5EDT', 'US/Eastern', 'Etc/GMT+5')
-- are kept: they are in pg_timezone_names, and migration 0022 kept them too.

-- True when p_zone is such a name. Reading pg_timezone_names costs some 70 ms (it loads
-- every zone file), so only a name with a digit, which a POSIX string always has (its
-- offset), is looked up there. Any other name is set as the function's own TimeZone
-- (restored on return): PostgreSQL then reports a zone file's real spelling, so a name
-- that is no file, or is misspelled in case, fails.
create or replace function app._is_time_zone(p_zone text)
returns boolean
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set timezone = 'UTC'
as $function$
begin
    if p_zone is null
        or p_zone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'
        or p_zone ~ '^(posix|right)/'
        or p_zone in ('posixrules', 'localtime', 'Factory') then
        return false;
    end if;
    perform pg_catalog.set_config('timezone', p_zone, true);
    if pg_catalog.current_setting('timezone') <> p_zone then
        return false;
    end if;
    if p_zone !~ '[0-9]' then
        return true;
    end if;
    return exists (select 1 from pg_catalog.pg_timezone_names as z where z.name = p_zone);
exception
    when invalid_parameter_value then
        return false;
end
$function$;

-- Raise IT005 unless p_zone is an IANA time zone name (app._is_time_zone). p_what names
-- what it is for in the message ('the campaign', 'contacts.timezone').
create or replace function app._assert_time_zone(p_zone text, p_what text)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_zone is null then
        raise exception using
            errcode = 'IT005',
            message = format('the time zone for %s must not be null', p_what),
            hint = 'Give an IANA time zone name, like Europe/Paris or America/New_York.';
    end if;
    if not app._is_time_zone(p_zone) then
        raise exception using
            errcode = 'IT005',
            message = format('unknown time zone %s for %s', p_zone, p_what),
            hint = 'Use an IANA time zone name, spelled as in pg_timezone_names, like '
            || 'Europe/Paris or America/New_York; abbreviations (CEST) and POSIX strings '
            || '(UTC+3) are not accepted.';
    end if;
end
$function$;

-- Row trigger: the column named by tg_argv[0] must hold an IANA time zone name (IT005),
-- whether an api function or plain DML writes it. A null passes (the triggers skip it;
-- a not-null column's own constraint refuses it). With tg_argv[1] = 'blank_is_null', a
-- blank value is stored as null (a contact's empty zone field is no zone). An UPDATE that
-- leaves the value as it was is not checked again. Security definer: a SQL login may not
-- call app helpers.
create or replace function app._tg_time_zone()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_column text := tg_argv[0];
    v_zone text := to_jsonb(new) ->> v_column;
begin
    if tg_op = 'UPDATE' and v_zone is not distinct from (to_jsonb(old) ->> v_column) then
        return new;
    end if;
    if v_zone is not null and btrim(v_zone) = '' and tg_argv[1] = 'blank_is_null' then
        return jsonb_populate_record(new, jsonb_build_object(v_column, null));
    end if;
    if v_zone is not null then
        perform app._assert_time_zone(v_zone, format('%s.%s', tg_table_name, v_column));
    end if;
    return new;
end
$function$;
