-- The executions that may hold a pending approval (waiting for one, or paused with
-- one open), by entity: app._tg_approval_field_lock looks them up on every UPDATE of
-- an entity table, whether or not the approval step locks the entity (lock_entity).
create index workflow_executions_awaiting_idx on app.workflow_executions (
    org_id, entity_type, entity_id
)
where waiting_for = 'approval' or status = 'paused';
