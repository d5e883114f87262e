-- Operations (issue 12): retention of the tables that grow without bound,
-- the email send lease, and the bookkeeping of the reconciliation sweep
-- (api.purge_expired_data, api.claim_email_send, api.reconcile_in_flight;
-- see docs/retention.md).

-- Engine-wide settings (owner-controlled, like the workflow log retention).
alter table app.settings
-- Inbound mail that matched no send: any internet sender can add rows, so
-- besides an age there is a row cap (the oldest go first).
add column inbound_unmatched_retention_days integer not null default 30
check (inbound_unmatched_retention_days between 1 and 3650),
add column inbound_unmatched_max_rows integer not null default 100000
check (inbound_unmatched_max_rows between 1000 and 100000000),
-- Replay protection of Resend (Svix) webhook ids. Svix retries a message for
-- about 28 hours (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) and signatures
-- are accepted for 5 minutes: two days is the floor, 30 days the default.
add column webhook_receipt_retention_days integer not null default 30
check (webhook_receipt_retention_days between 2 and 3650),
-- Provider events that arrived before their send was recorded; one older
-- than a few minutes is for a message we never recorded.
add column email_events_pending_retention_days integer not null default 7
check (email_events_pending_retention_days between 1 and 365),
-- Field-level history: the default of every org without its own value
-- (app.organizations.entity_history_retention_days).
add column entity_history_retention_days integer not null default 1095
check (entity_history_retention_days between 30 and 36500),
-- How long a claimed email belongs to the worker that claimed it (real
-- clock): a second claim within it defers instead of sending again.
add column email_send_lease_seconds integer not null default 120
check (email_send_lease_seconds between 10 and 3600),
-- The reconciliation sweep: how long a row in flight may go untouched
-- without a live job before it is re-queued, and how many re-queues make
-- it a poison row that is failed for good.
add column reconcile_grace_seconds integer not null default 300
check (reconcile_grace_seconds between 60 and 86400),
add column reconcile_max_rounds integer not null default 3
check (reconcile_max_rounds between 1 and 100);

-- An org's own history retention (null: app.settings' default), set by its
-- admins through api.set_entity_history_retention.
alter table app.organizations
add column entity_history_retention_days integer
check (entity_history_retention_days between 30 and 36500);

-- sending_until: the claiming worker's lease (real clock). reconciled: how
-- many times the reconciliation sweep re-queued the row.
alter table app.email_sends
add column sending_until timestamptz,
add column reconciled integer not null default 0;

alter table app.workflow_actions
add column reconciled integer not null default 0;

-- Purges by age, oldest first, without scanning the tables. On a large
-- entity_history the build blocks writes to it: create the index
-- CONCURRENTLY under this name before migrating (docs/retention.md).
create index if not exists entity_history_changed_idx on app.entity_history (
    org_id, changed_at
);
create index inbound_unmatched_received_idx on app.inbound_unmatched (received_at);
create index webhook_receipts_received_idx on app.webhook_receipts (received_at);
create index email_events_pending_received_idx on app.email_events_pending (received_at);

-- The reconciliation sweep and api.unsettled_work look only at rows in
-- flight, which these partial indexes hold.
create index email_sends_in_flight_idx on app.email_sends (updated_at)
where status in ('queued', 'sending');
create index email_sends_workflow_action_idx on app.email_sends (org_id, workflow_action_id)
where workflow_action_id is not null;
create index notification_deliveries_pending_idx on app.notification_deliveries (updated_at)
where status = 'pending';
create index workflow_actions_in_flight_idx on app.workflow_actions (
    coalesce(scheduled_at, created_at)
)
where status in ('pending', 'running');
