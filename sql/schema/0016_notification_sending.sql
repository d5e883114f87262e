-- Who may send what to whom (docs/permissions.md): critical notifications,
-- email to other users and links off the app need a permission; every user's
-- own sending is rate-limited (the engine's is not).

insert into app.permissions (name, description, default_roles) values
(
    'notifications.send_critical',
    'Send critical notifications, which pass do-not-disturb and quiet hours.',
    '{manager}'
),
(
    'notifications.send_email',
    'Send notifications by email to other users (without it they go in-app only).',
    '{manager}'
),
(
    'notifications.link_external',
    'Give a notification an absolute http(s) action URL (without it: a path in the app).',
    '{manager}'
);

-- Notifications a user may send per minute through api.send_notification and
-- api.send_notification_bulk (one per recipient), counted over the last minute
-- of notifications they created; owner-controlled, like allow_fake_clock. The
-- engine (no user in context) is not limited.
alter table app.settings
add column notification_rate_per_minute integer not null default 60
check (notification_rate_per_minute > 0);

create index notifications_sender_idx on app.notifications (org_id, created_by, created_at)
where created_by is not null;
