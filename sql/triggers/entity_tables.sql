-- Attach the generic triggers to every table registered in app.entity_types,
-- and the touch trigger to the other tables with updated_at. Table names come
-- from the registry (an allowlist) and are quoted with format('%I').
do $triggers$
declare
    v_entity record;
    v_table text;
begin
    for v_entity in
        select e.entity_type, e.table_name from app.entity_types as e order by e.entity_type
    loop
        execute format(
            'create or replace trigger touch_updated before update on app.%I '
            'for each row execute function app._tg_touch()',
            v_entity.table_name
        );
        execute format(
            'create or replace trigger history_insert after insert on app.%I '
            'referencing new table as new_rows '
            'for each statement execute function app._tg_entity_history_insert(%L)',
            v_entity.table_name, v_entity.entity_type
        );
        execute format(
            'create or replace trigger history_update after update on app.%I '
            'referencing old table as old_rows new table as new_rows '
            'for each statement execute function app._tg_entity_history_update(%L)',
            v_entity.table_name, v_entity.entity_type
        );
        execute format(
            'create or replace trigger history_delete after delete on app.%I '
            'referencing old table as old_rows '
            'for each statement execute function app._tg_entity_history_delete(%L)',
            v_entity.table_name, v_entity.entity_type
        );
    end loop;

    foreach v_table in array array['organizations', 'user_profiles', 'comments', 'notes'] loop
        execute format(
            'create or replace trigger touch_updated before update on app.%I '
            'for each row execute function app._tg_touch()',
            v_table
        );
    end loop;
end
$triggers$;
