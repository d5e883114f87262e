-- Issue 17: the engine's own inserts stop paying for checks that cannot fail.
--
-- Every row of the tables below is written only by project functions
-- (SECURITY DEFINER; sql/grants.sql gives users and the service SELECT only),
-- each copying its keys from a parent row it has just read or written. The
-- foreign keys dropped here re-proved, row by row, what another kept key
-- already proves; each is named with the key that still holds it and what a
-- delete does instead. docs/architecture.md ("The engine's write path") has
-- the same list and the figures.

-- Workflow engine (a bulk match inserts an instance and an execution per
-- matched row; every run step inserts steps, actions and locks).

-- workflow_instances.org_id: (org_id, workflow_id) -> workflows (cascade)
-- proves the org (workflows.org_id -> organizations, cascade); an org delete
-- reaches its instances through its workflows.
alter table app.workflow_instances drop constraint workflow_instances_org_id_fkey;
-- workflow_instances.entity_type: app._wf_start copies it from the
-- workflow row, whose own entity_type -> entity_types key holds; entity
-- types are registered by migrations and never deleted.
alter table app.workflow_instances drop constraint workflow_instances_entity_type_fkey;
-- workflow_executions.org_id: (org_id, instance_id) -> workflow_instances
-- (cascade) and (org_id, workflow_id, workflow_version) -> workflow_versions
-- (cascade) both prove it; an org delete reaches executions through both.
alter table app.workflow_executions drop constraint workflow_executions_org_id_fkey;
-- workflow_steps.org_id: (org_id, execution_id) -> workflow_executions
-- (cascade) proves it and carries the delete.
alter table app.workflow_steps drop constraint workflow_steps_org_id_fkey;
-- workflow_actions.org_id: (org_id, execution_id) -> workflow_executions and
-- (org_id, step_id) -> workflow_steps (both cascade).
alter table app.workflow_actions drop constraint workflow_actions_org_id_fkey;
-- workflow_entity_locks.org_id and entity_type: (org_id, execution_id) ->
-- workflow_executions (cascade) proves the org; the engine copies the type
-- from the execution, which copied it from its workflow.
alter table app.workflow_entity_locks drop constraint workflow_entity_locks_org_id_fkey;
alter table app.workflow_entity_locks drop constraint workflow_entity_locks_entity_type_fkey;
-- Kept: the user keys (created_by, triggered_by: ON DELETE SET NULL), the
-- state and transition keys (a definition edit deletes states: SET NULL),
-- the composite parent keys above, and workflow_execution_logs.org_id (the
-- logs have no other parent; the org delete needs its cascade).

-- Campaign tick and sends (every email step inserts a send and a log line).

-- email_sends.org_id and campaign_sequence_logs.org_id: every insert is a
-- project function writing the org of the actor (app._require_org) or of a
-- locked enrollment, campaign or notification of that org. They were the
-- tables' only link to the org, so the org delete's cascade moves to
-- app._tg_organizations_purge (sql/triggers/organizations.sql): an AFTER
-- DELETE statement trigger on organizations that deletes their sends (their
-- events and deliveries follow by their own cascades) and log lines.
alter table app.email_sends drop constraint email_sends_org_id_fkey;
alter table app.campaign_sequence_logs drop constraint campaign_sequence_logs_org_id_fkey;
-- Kept on email_sends: created_by, recipient_user_id, notification_id and
-- template_id (ON DELETE SET NULL: a user, a notification or a template may
-- be deleted while its sends stay).

-- Index entries per email step (the tick writes a send, a job, a log line and
-- moves the enrollment).
-- A send's provider message id arrives after it is sent (NULL at insert):
-- the unique constraint indexed every NULL. Lookups are by equality (a
-- webhook event's message id), which implies NOT NULL, so a partial unique
-- index serves them with the same uniqueness.
alter table app.email_sends drop constraint email_sends_provider_message_id_key;
create unique index email_sends_provider_message_id_key on app.email_sends (provider_message_id)
where provider_message_id is not null;
-- No query looks log lines up by their send: the statistics join from the
-- lines (found by campaign or enrollment) to the sends' primary key.
drop index app.campaign_sequence_logs_send_idx;
