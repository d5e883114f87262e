-- The console's execution list (api.list_executions, issue 16): newest first by
-- (created_at, id), keyset-paged, for the whole org or one workflow or one entity. The
-- existing (org_id, status, created_at desc) index serves a status filter only.
create index workflow_executions_listing_idx on app.workflow_executions (
    org_id, created_at, id
);
create index workflow_executions_workflow_listing_idx on app.workflow_executions (
    org_id, workflow_id, created_at, id
);
create index workflow_executions_entity_listing_idx on app.workflow_executions (
    org_id, entity_id, created_at, id
);
