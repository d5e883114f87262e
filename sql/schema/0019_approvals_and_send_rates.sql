-- Approvals that hold to the end (docs/workflows.md): the fields an approval's
-- workflow reads stay locked from the request until the execution that asked for it
-- ends, not only while the approval is pending. approval_requested_at marks such an
-- execution; app._tg_approval_field_lock finds the live ones by entity through this
-- index on every UPDATE of an entity table.
alter table app.workflow_executions add column approval_requested_at timestamptz;

-- Executions that asked for an approval before this migration hold their lock on.
update app.workflow_executions as e
set approval_requested_at = app.now()
where
    e.status in ('pending', 'running', 'waiting', 'paused')
    and exists (
        select from app.workflow_approvals as a
        where a.org_id = e.org_id and a.execution_id = e.id
    );

drop index app.workflow_executions_awaiting_idx;

create index workflow_executions_approval_lock_idx on app.workflow_executions (
    org_id, entity_type, entity_id
)
where approval_requested_at is not null and status in ('pending', 'running', 'waiting', 'paused');

-- What each user sent, for the per-user rates (docs/permissions.md): one row per
-- call, appended and never updated (concurrent sends of one user take no lock on a
-- shared row), summed over the last minute; api.purge_expired_data deletes rows
-- older than an hour. A collapsed notification counts like a new one.
create table app.send_log (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    user_id uuid not null,
    kind text not null check (kind in ('notification', 'email')),
    sent_at timestamptz not null,
    sent integer not null check (sent > 0),
    primary key (org_id, id),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade
);

create index send_log_user_idx on app.send_log (org_id, user_id, kind, sent_at);
create index send_log_sent_at_idx on app.send_log (sent_at);

select app._enable_tenant_rls('app.send_log');

-- Emails a user may queue per minute through api.queue_email (the engine's sends,
-- workflows and campaigns, are not limited); owner-controlled like the notification rate.
alter table app.settings
add column email_rate_per_minute integer not null default 30
check (email_rate_per_minute > 0);

-- The rate now reads app.send_log.
drop index app.notifications_sender_idx;

-- A group collapses only its own sender's notifications (the engine's, with no user,
-- are one sender): a member can no longer rewrite an admin's unread notification by
-- reusing its group_key. The old index's rows are unique under the wider key too.
create unique index notifications_group_sender_key on app.notifications (
    org_id, user_id, group_key, created_by
) nulls not distinct
where group_key is not null and read_at is null and archived_at is null and channels ? 'in_app';

drop index app.notifications_group_key;
