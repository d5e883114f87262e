-- Polymorphic references (entity_type, entity_id) must point at a row of the
-- same organization.
do $refs$
declare
    v_table text;
begin
    foreach v_table in array array['activities', 'comments', 'notes'] loop
        perform app._ensure_trigger(
            p_table => format('app.%I', v_table)::regclass,
            p_name => 'entity_refs_insert',
            p_body => 'after insert on %s referencing new table as new_rows '
            || 'for each statement execute function app._tg_check_entity_refs()'
        );
        perform app._ensure_trigger(
            p_table => format('app.%I', v_table)::regclass,
            p_name => 'entity_refs_update',
            p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
            || 'for each statement execute function app._tg_check_entity_refs()'
        );
    end loop;
end
$refs$;
