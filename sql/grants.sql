-- Privileges, re-applied last on every migrate. Nothing is granted to PUBLIC;
-- row-level security decides which rows a granted role sees.

revoke all on schema app, api from public;
-- This file is the whole truth about table privileges: start from nothing.
revoke all on all tables in schema app from public, intime_service, intime_user;
grant usage on schema app, api to intime_service, intime_user;

revoke execute on all functions in schema app from public;
revoke execute on all functions in schema api from public;
grant execute on all functions in schema api to intime_service, intime_user;
-- Column defaults and RLS policies call these as the invoking role.
grant execute on function app.now(), app.current_org_id(), app.current_user_id()
to intime_service, intime_user;

grant select on app.settings, app.entity_types, app.organizations
to intime_service, intime_user;

-- Permissions: the platform's list and each org's role settings, readable by
-- every user of the org; changed only through api.set_role_permission.
grant select on app.permissions, app.role_permissions to intime_service, intime_user;

-- Profiles change only through api.create_user and api.update_user, which
-- check who may change what (role, mapping, activity).
grant select on app.user_profiles to intime_service, intime_user;

-- Entity and collaboration tables: plain DML under RLS (deal stages need
-- pipeline.manage, checked by a statement trigger).
grant select, insert, update, delete on
app.accounts,
app.contacts,
app.deal_stages,
app.deals,
app.activities,
app.comments,
app.notes,
app.jobs,
app.candidates,
app.submissions,
app.interviews,
app.placements
to intime_service, intime_user;

-- Email: templates are the org's to edit (with templates.manage, checked by a
-- statement trigger); settings, sending domains, sends, events and suppressions
-- change only through the api functions.
grant select, insert, update, delete on app.email_templates to intime_service, intime_user;
grant select on
app.email_settings,
app.sending_domains,
app.email_sends,
app.email_events,
app.suppressions,
app.suppression_changes,
app.email_threads,
app.inbound_emails
to intime_service, intime_user;

-- Notifications: system templates are read-only; an org edits its own
-- templates (with templates.manage); preferences, notifications and deliveries change only through
-- the api functions.
grant select on app.notification_system_templates to intime_service, intime_user;
grant select, insert, update, delete on app.notification_templates to intime_service, intime_user;
grant select on
app.notification_preferences,
app.notifications,
app.notification_deliveries,
app.notification_template_catalog,
app.notification_delivery_status,
app.builtin_notification_settings
to intime_service, intime_user;

grant select on app.stream_secret to intime_service;

-- Console sessions and approval links (0022) hold secrets' hashes: engine-only, no
-- table privilege; the web app reaches them through the service-only api functions.

-- History is written by the engine only.
grant select on
app.deal_stages_history,
app.deal_stages_history_legacy,
app.deals_with_company,
app.entity_history
to intime_service, intime_user;

-- The job queue (pgqueuer) is the worker's.
grant usage on schema queue to intime_service;
grant select, insert, update, delete on all tables in schema queue to intime_service;
grant usage, select on all sequences in schema queue to intime_service;

-- Workflows: definitions change through api.create_workflow and
-- api.update_workflow; executions, steps, actions, approvals and logs are
-- the engine's, readable under row-level security.
grant select on
app.workflows,
app.workflow_versions,
app.workflow_states,
app.workflow_transitions,
app.workflow_instances,
app.workflow_executions,
app.workflow_steps,
app.workflow_actions,
app.workflow_approvals,
app.workflow_execution_logs,
app.workflow_round_robin,
app.workflow_entity_locks
to intime_service, intime_user;

-- Campaigns: built, enrolled and run through the api functions; every table
-- is readable under row-level security.
grant select on
app.campaigns,
app.campaign_sequences,
app.campaign_enrollments,
app.campaign_sequence_logs,
app.campaign_sequence_logs_archive,
app.campaign_daily_sends,
app.campaign_ab_decisions
to intime_service, intime_user;
