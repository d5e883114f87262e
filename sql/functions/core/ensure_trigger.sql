-- Create a trigger unless one of that name exists on the table. Used by the
-- re-applied sql/triggers files: CREATE (OR REPLACE) TRIGGER locks the table
-- against writes, and a migrate that changes nothing must not wait behind live
-- traffic. Changing an existing trigger is a numbered migration that drops it.
-- Owner-only (no grant); p_body is project SQL from sql/triggers, never input.
create or replace function app._ensure_trigger(p_table regclass, p_name text, p_body text)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    if exists (
        select from pg_catalog.pg_trigger as t
        where t.tgrelid = p_table and t.tgname = p_name and not t.tgisinternal
    ) then
        return false;
    end if;
    execute format('create trigger %I %s', p_name, format(p_body, p_table));
    return true;
end
$function$;
