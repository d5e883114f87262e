-- Attach the generic triggers to every table registered in app.entity_types
-- (an allowlist), and the touch and authorship triggers to the other tables
-- that have those columns. %s in a body is the table.
do $triggers$
declare
    v_spec record;
begin
    for v_spec in
        with specs (name, body) as (
            values
            ('touch_updated', 'before update on %s for each row execute function app._tg_touch()'),
            (
                'stamp_created',
                'before insert on %s for each row execute function app._tg_stamp_created()'
            ),
            (
                'immutable_keys',
                'before update of id, org_id on %s '
                || 'for each row execute function app._tg_immutable_keys()'
            ),
            (
                'history_insert',
                'after insert on %s referencing new table as new_rows for each statement '
                || 'execute function app._tg_entity_history_insert({type})'
            ),
            (
                'history_update',
                'after update on %s referencing old table as old_rows new table as new_rows '
                || 'for each statement execute function app._tg_entity_history_update({type})'
            ),
            (
                'history_delete',
                'after delete on %s referencing old table as old_rows for each statement '
                || 'execute function app._tg_entity_history_delete({type})'
            )
        )

        select e.table_name, s.name, replace(s.body, '{type}', quote_literal(e.entity_type)) as body
        from app.entity_types as e
        cross join specs as s
        union all
        select t.table_name, s.name, s.body
        from unnest(array['organizations', 'user_profiles', 'comments', 'notes']) as t (table_name)
        cross join specs as s
        where
            s.name = 'touch_updated'
            or (s.name = 'stamp_created' and t.table_name in ('comments', 'notes'))
        order by 1, 2
    loop
        perform app._ensure_trigger(
            p_table => format('app.%I', v_spec.table_name)::regclass,
            p_name => v_spec.name,
            p_body => v_spec.body
        );
    end loop;
end
$triggers$;
