-- Polymorphic references (entity_type, entity_id) must point at a row of the
-- same organization (activities also check their secondary reference).
do $refs$
declare
    v_table text;
    v_function text;
begin
    foreach v_table in array array['activities', 'comments', 'notes'] loop
        v_function := case v_table
            when 'activities' then 'app._tg_check_activity_refs'
            else 'app._tg_check_entity_refs'
        end;
        perform app._ensure_trigger(
            p_table => format('app.%I', v_table)::regclass,
            p_name => 'entity_refs_insert',
            p_body => 'after insert on %s referencing new table as new_rows '
            || 'for each statement execute function ' || v_function || '()'
        );
        perform app._ensure_trigger(
            p_table => format('app.%I', v_table)::regclass,
            p_name => 'entity_refs_update',
            p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
            || 'for each statement execute function ' || v_function || '_update()'
        );
    end loop;
end
$refs$;
