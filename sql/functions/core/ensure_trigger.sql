-- Create a trigger, or re-create it when its definition changed. Used by the
-- re-applied sql/triggers files. An unchanged trigger is left alone: CREATE and
-- DROP TRIGGER lock the table against writes, and a migrate that changes nothing
-- must not wait behind live traffic. The definition's md5 is kept in the
-- trigger's comment ('intime:<md5>'); a trigger made before that (or by hand)
-- has none and is re-created once.
-- Each call also names the trigger in the transaction-local setting
-- intime.ensured_triggers ('<table oid>/<name>,...'): the migration runner drops
-- the triggers of app and api that no file named (intime/migrate.py).
-- Owner-only (no grant); p_body is project SQL from sql/triggers, never input.
create or replace function app._ensure_trigger(p_table regclass, p_name text, p_body text)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_statement text := format('create trigger %I %s', p_name, format(p_body, p_table));
    v_tag text := 'intime:' || md5(v_statement);
    v_comment text;
begin
    perform set_config(
        'intime.ensured_triggers',
        coalesce(current_setting('intime.ensured_triggers', true), '')
        || p_table::oid::bigint || '/' || p_name || ',',
        true
    );
    select pg_catalog.obj_description(t.oid, 'pg_trigger') into v_comment
    from pg_catalog.pg_trigger as t
    where t.tgrelid = p_table and t.tgname = p_name and not t.tgisinternal;
    if found then
        if v_comment is not distinct from v_tag then
            return false;
        end if;
        execute format('drop trigger %I on %s', p_name, p_table);
    end if;
    execute v_statement;
    execute format('comment on trigger %I on %s is %L', p_name, p_table, v_tag);
    return true;
end
$function$;
