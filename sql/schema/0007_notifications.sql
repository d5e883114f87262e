-- Notifications (issue 4): system and org templates, per-user preferences
-- with org defaults, the inbox rows and one delivery row per channel.

-- The seed's nine system templates. Global and read-only: every org reads
-- them, no role but the owner writes them. An org overrides one by creating
-- an app.notification_templates row with the same slug.
create table app.notification_system_templates (
    slug text primary key check (slug ~ '^[a-z0-9][a-z0-9_-]*$'),
    name text not null,
    description text,
    category text not null check (category ~ '^[a-z][a-z0-9_]*$'),
    title_template text not null check (length(title_template) <= 500),
    message_template text not null,
    default_type text not null default 'info'
    check (default_type in ('info', 'success', 'warning', 'error', 'action_required')),
    default_priority text not null default 'normal'
    check (default_priority in ('low', 'normal', 'high', 'urgent')),
    action_url_template text,
    action_label text check (length(action_label) <= 100),
    email_subject_template text check (length(email_subject_template) <= 500),
    email_body_template text,
    email_body_text_template text,
    sms_template text check (length(sms_template) <= 500),
    push_title_template text check (length(push_title_template) <= 100),
    push_body_template text check (length(push_body_template) <= 255),
    push_image_url text,
    default_channels jsonb not null default '["in_app"]'
    check (default_channels <@ '["in_app", "email", "sms", "push"]'::jsonb),
    variables jsonb not null default '[]' check (jsonb_typeof(variables) = 'array'),
    conditions jsonb not null default '{}' check (jsonb_typeof(conditions) = 'object'),
    is_active boolean not null default true,
    is_system boolean not null default true check (is_system),
    version integer not null default 1,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now()
);

create table app.notification_templates (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null check (length(name) <= 100),
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9_-]*$' and length(slug) <= 100),
    description text,
    category text not null check (category ~ '^[a-z][a-z0-9_]*$' and length(category) <= 100),
    title_template text not null check (length(title_template) <= 500),
    message_template text not null,
    default_type text not null default 'info'
    check (default_type in ('info', 'success', 'warning', 'error', 'action_required')),
    default_priority text not null default 'normal'
    check (default_priority in ('low', 'normal', 'high', 'urgent')),
    action_url_template text,
    action_label text check (length(action_label) <= 100),
    email_subject_template text check (length(email_subject_template) <= 500),
    email_body_template text,
    email_body_text_template text,
    sms_template text check (length(sms_template) <= 500),
    push_title_template text check (length(push_title_template) <= 100),
    push_body_template text check (length(push_body_template) <= 255),
    push_image_url text,
    default_channels jsonb not null default '["in_app"]'
    check (
        jsonb_typeof(default_channels) = 'array'
        and default_channels <@ '["in_app", "email", "sms", "push"]'::jsonb
    ),
    variables jsonb not null default '[]' check (jsonb_typeof(variables) = 'array'),
    conditions jsonb not null default '{}' check (jsonb_typeof(conditions) = 'object'),
    is_active boolean not null default true,
    version integer not null default 1,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    created_by uuid default app.current_user_id(),
    primary key (org_id, id),
    constraint unique_template_slug unique (org_id, slug),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by)
);

create index notification_templates_category_idx on app.notification_templates (org_id, category)
where is_active;

-- Per-user, per-category preferences. user_id null is the org's default for
-- the category (set by an admin); category '*' applies to every category.
-- Missing rows fall back: user+category, user+'*', org+category, org+'*',
-- then built-in defaults (docs/notifications.md).
create table app.notification_preferences (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    user_id uuid,
    category text not null check (category = '*' or category ~ '^[a-z][a-z0-9_]*$'),
    channels jsonb not null default '["in_app"]'
    check (
        jsonb_typeof(channels) = 'array'
        and channels <@ '["in_app", "email", "sms", "push"]'::jsonb
    ),
    frequency text not null default 'immediate'
    check (frequency in ('immediate', 'hourly_digest', 'daily_digest', 'weekly_digest', 'never')),
    digest_time time not null default '09:00',
    digest_day text not null default 'monday' check (digest_day in (
        'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'
    )),
    quiet_hours_enabled boolean not null default false,
    quiet_hours_start time not null default '22:00',
    quiet_hours_end time not null default '08:00',
    quiet_hours_timezone text not null default 'America/New_York',
    dnd_enabled boolean not null default false,
    dnd_until timestamptz,
    sound_enabled boolean not null default true,
    email_unsubscribed boolean not null default false,
    email_unsubscribed_at timestamptz,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    constraint unique_user_category unique nulls not distinct (org_id, user_id, category),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade
);

create index notification_preferences_dnd_idx on app.notification_preferences (org_id, dnd_until)
where dnd_enabled;

create table app.notifications (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    -- Stream order and resume point (the SSE event id). A collapsed group
    -- takes a new seq, which re-announces it.
    seq bigint generated always as identity,
    user_id uuid not null,
    title text not null check (length(title) <= 500),
    message text not null,
    type text not null default 'info'
    check (type in ('info', 'success', 'warning', 'error', 'action_required')),
    category text not null check (category ~ '^[a-z][a-z0-9_]*$'),
    priority text not null default 'normal'
    check (priority in ('low', 'normal', 'high', 'urgent')),
    entity_type text,
    entity_id uuid,
    action_url text,
    action_label text,
    -- The channels this notification resolved to (requested ∩ preferences).
    channels jsonb not null default '["in_app"]',
    template_slug text,
    data jsonb not null default '{}' check (jsonb_typeof(data) = 'object'),
    group_key text check (length(group_key) <= 200),
    group_count integer not null default 1 check (group_count >= 1),
    critical boolean not null default false,
    -- Stored during do-not-disturb: shown in the inbox, not alerted.
    silent boolean not null default false,
    email_subject text,
    email_html text,
    email_text text,
    expires_at timestamptz,
    read_at timestamptz,
    seen_at timestamptz,
    archived_at timestamptz,
    created_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (seq),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade,
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by)
);

create index notifications_inbox_idx on app.notifications (org_id, user_id, seq desc);
create index notifications_unread_idx on app.notifications (org_id, user_id)
where read_at is null and archived_at is null;
-- One open (unread, unarchived, in-app) row per group: the collapse upsert's
-- target. A row without the in-app channel never shows, so it never groups.
create unique index notifications_group_key on app.notifications (org_id, user_id, group_key)
where group_key is not null and read_at is null and archived_at is null and channels ? 'in_app';
create index notifications_expires_idx on app.notifications (expires_at)
where expires_at is not null;

create table app.notification_deliveries (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    notification_id uuid not null,
    user_id uuid not null,
    channel text not null check (channel in ('in_app', 'email', 'sms', 'push')),
    status text not null check (status in (
        'pending', 'held', 'digest', 'sent', 'delivered', 'skipped', 'failed'
    )),
    reason text,
    -- held: when the hold ends (re-checked then); digest: the digest slot.
    deliver_after timestamptz,
    attempts integer not null default 0,
    email_send_id uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, notification_id, channel),
    foreign key (org_id, notification_id) references app.notifications (org_id, id)
    on delete cascade,
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade,
    foreign key (org_id, email_send_id) references app.email_sends (org_id, id)
    on delete set null (email_send_id),
    check ((status in ('held', 'digest')) = (deliver_after is not null))
);

-- The tick's scan: held and digest rows by due time, across orgs.
create index notification_deliveries_due_idx on app.notification_deliveries (
    status, deliver_after
) where status in ('held', 'digest');
create index notification_deliveries_email_idx on app.notification_deliveries (
    org_id, email_send_id
) where email_send_id is not null;
create index notification_deliveries_user_idx on app.notification_deliveries (org_id, user_id);

-- A notification's email (and a digest) is as private as the notification:
-- email_sends and email_events carry the recipient user, and the policy hides
-- them from the org's other users.
alter table app.email_sends add column recipient_user_id uuid;
alter table app.email_sends
add foreign key (org_id, recipient_user_id) references app.user_profiles (org_id, id)
on delete set null (recipient_user_id);
alter table app.email_events add column recipient_user_id uuid;
drop policy tenant_isolation on app.email_sends;
create policy tenant_isolation on app.email_sends
using (
    org_id = (select app.current_org_id())
    and (recipient_user_id is null or recipient_user_id = (select app.current_user_id()))
)
with check (org_id = (select app.current_org_id()));
drop policy tenant_isolation on app.email_events;
create policy tenant_isolation on app.email_events
using (
    org_id = (select app.current_org_id())
    and (recipient_user_id is null or recipient_user_id = (select app.current_user_id()))
)
with check (org_id = (select app.current_org_id()));

-- The stream hub's key for the read-wakeup payload (api.mark_read and
-- friends NOTIFY a keyed hash of the user, never the ids). Readable by the
-- service role only.
create table app.stream_secret (
    singleton boolean primary key default true check (singleton),
    secret bytea not null default uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())
);
insert into app.stream_secret default values;

-- The web processes' stream hubs, for the announce trigger: while every
-- live hub is polling the table anyway, a write skips its NOTIFY (which
-- would serialize its commit with every other notifying commit). Unlogged:
-- it is soft state, rebuilt by the hubs within seconds.
create unlogged table app.stream_hubs (
    hub_id uuid primary key,
    polling_until timestamptz not null,
    seen_at timestamptz not null
);

-- email_sends.notification_id (0005) now has its table.
update app.email_sends set notification_id = null
where notification_id is not null;
alter table app.email_sends
add foreign key (org_id, notification_id) references app.notifications (org_id, id)
on delete set null (notification_id);
create index email_sends_notification_idx on app.email_sends (org_id, notification_id)
where notification_id is not null;

do $rls$
declare
    v_table text;
begin
    execute 'alter table app.notification_templates enable row level security';
    execute 'alter table app.notification_templates force row level security';
    execute $p$
        create policy tenant_isolation on app.notification_templates
        using (org_id = (select app.current_org_id()))
        with check (org_id = (select app.current_org_id()))
    $p$;
    -- Preferences: the user's own rows and the org's defaults (user_id null);
    -- they are written only through api.set_preference.
    execute 'alter table app.notification_preferences enable row level security';
    execute 'alter table app.notification_preferences force row level security';
    execute $p$
        create policy user_isolation on app.notification_preferences
        using (
            org_id = (select app.current_org_id())
            and (user_id is null or user_id = (select app.current_user_id()))
        )
        with check (
            org_id = (select app.current_org_id())
            and user_id = (select app.current_user_id())
        )
    $p$;
    foreach v_table in array array['notifications', 'notification_deliveries'] loop
        execute format('alter table app.%I enable row level security', v_table);
        execute format('alter table app.%I force row level security', v_table);
        execute format(
            'create policy user_isolation on app.%I '
            'using (org_id = (select app.current_org_id()) '
            'and user_id = (select app.current_user_id())) '
            'with check (org_id = (select app.current_org_id()) '
            'and user_id = (select app.current_user_id()))',
            v_table
        );
    end loop;
end
$rls$;

-- Every template an org can use: its own rows, and the system rows (org_id
-- null, is_system) with is_overridden when the org has the same slug.
create view app.notification_template_catalog with (security_invoker = true) as
select
    t.org_id,
    t.id,
    t.slug,
    t.name,
    t.description,
    t.category,
    t.title_template,
    t.message_template,
    t.default_type,
    t.default_priority,
    t.action_url_template,
    t.action_label,
    t.email_subject_template,
    t.email_body_template,
    t.email_body_text_template,
    t.default_channels,
    t.variables,
    t.is_active,
    false as is_system,
    false as is_overridden
from app.notification_templates as t
union all
select
    null::uuid as org_id,
    null::uuid as id,
    s.slug,
    s.name,
    s.description,
    s.category,
    s.title_template,
    s.message_template,
    s.default_type,
    s.default_priority,
    s.action_url_template,
    s.action_label,
    s.email_subject_template,
    s.email_body_template,
    s.email_body_text_template,
    s.default_channels,
    s.variables,
    s.is_active,
    true as is_system,
    exists(
        select from app.notification_templates as o
        where
            o.slug = s.slug
            and o.is_active
    ) as is_overridden
from app.notification_system_templates as s;

-- The seed's delivery_status column, derived: {"in_app": "delivered", ...}.
create view app.notification_delivery_status with (security_invoker = true) as
select
    d.org_id,
    d.notification_id,
    d.user_id,
    jsonb_object_agg(d.channel, d.status order by d.channel) as delivery_status
from app.notification_deliveries as d
group by d.org_id, d.notification_id, d.user_id;

insert into app.notification_system_templates (
    name, slug, category, title_template, message_template,
    email_subject_template, email_body_template, default_channels, variables
) values
(
    'Submission Created', 'submission_created', 'submission',
    'New submission for {{job.title}}',
    '{{candidate.name}} was submitted to {{job.title}} by {{submitter.name}}',
    'New Candidate Submission: {{job.title}}',
    '<p>A new candidate has been submitted:</p><p><strong>Candidate:</strong> '
    || '{{candidate.name}}</p><p><strong>Job:</strong> {{job.title}}</p>',
    '["in_app", "email"]',
    (
        '[{"name": "job.title", "type": "string", "required": true},'
        || ' {"name": "candidate.name", "type": "string", "required": true},'
        || ' {"name": "submitter.name", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Submission Status Changed', 'submission_status_changed', 'submission',
    'Submission status: {{status}}',
    '{{candidate.name}} for {{job.title}} is now {{status}}',
    'Submission Update: {{candidate.name}} - {{status}}',
    '<p>Submission status has been updated:</p><p><strong>Candidate:</strong> '
    || '{{candidate.name}}</p><p><strong>Status:</strong> {{status}}</p>',
    '["in_app"]',
    (
        '[{"name": "status", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Interview Scheduled', 'interview_scheduled', 'interview',
    'Interview scheduled: {{candidate.name}}',
    'Interview with {{candidate.name}} for {{job.title}} on {{interview.date}} at '
    || '{{interview.time}}',
    'Interview Scheduled: {{candidate.name}} for {{job.title}}',
    '<p>An interview has been scheduled:</p><p><strong>Candidate:</strong> {{candidate.name}}'
    || '</p><p><strong>Date:</strong> {{interview.date}}</p><p><strong>Time:</strong> '
    || '{{interview.time}}</p>',
    '["in_app", "email"]',
    (
        '[{"name": "interview.date", "type": "string", "required": true},'
        || ' {"name": "interview.time", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Deal Stage Changed', 'deal_stage_changed', 'deal',
    'Deal moved to {{stage}}',
    '{{deal.name}} has been moved to {{stage}}',
    'Deal Update: {{deal.name}} - {{stage}}',
    '<p>Deal stage has been updated:</p><p><strong>Deal:</strong> {{deal.name}}</p>'
    || '<p><strong>New Stage:</strong> {{stage}}</p>',
    '["in_app"]',
    (
        '[{"name": "deal.name", "type": "string", "required": true},'
        || ' {"name": "stage", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Deal Closed Won', 'deal_closed_won', 'deal',
    'Deal Won: {{deal.name}}',
    '{{deal.name}} worth {{deal.value}} has been closed won!',
    'Congratulations! Deal Won: {{deal.name}}',
    '<p>Great news! A deal has been closed:</p><p><strong>Deal:</strong> {{deal.name}}</p>'
    || '<p><strong>Value:</strong> {{deal.value}}</p>',
    '["in_app", "email"]',
    (
        '[{"name": "deal.name", "type": "string", "required": true},'
        || ' {"name": "deal.value", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Task Assigned', 'task_assigned', 'assignment',
    'New task assigned',
    '{{assigner.name}} assigned you: {{task.title}}',
    'New Task: {{task.title}}',
    '<p>You have been assigned a new task:</p><p><strong>Task:</strong> {{task.title}}</p>'
    || '<p><strong>Assigned by:</strong> {{assigner.name}}</p>',
    '["in_app", "email"]',
    (
        '[{"name": "task.title", "type": "string", "required": true},'
        || ' {"name": "assigner.name", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Approval Required', 'approval_required', 'workflow',
    'Approval needed: {{item.title}}',
    '{{requester.name}} is requesting your approval for {{item.title}}',
    'Approval Request: {{item.title}}',
    '<p>Your approval is required:</p><p><strong>Item:</strong> {{item.title}}</p>'
    || '<p><strong>Requested by:</strong> {{requester.name}}</p>'
    || '<p><a href="{{action_url}}">Review and Approve</a></p>',
    '["in_app", "email"]',
    (
        '[{"name": "item.title", "type": "string", "required": true},'
        || ' {"name": "requester.name", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Campaign Activated', 'campaign_activated', 'campaign',
    'Campaign is now live',
    '{{campaign.name}} has been activated with {{campaign.enrolled_count}} prospects',
    'Campaign Live: {{campaign.name}}',
    '<p>Your campaign is now active:</p><p><strong>Campaign:</strong> {{campaign.name}}</p>'
    || '<p><strong>Enrolled:</strong> {{campaign.enrolled_count}} prospects</p>',
    '["in_app"]',
    (
        '[{"name": "campaign.name", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Mentioned in Comment', 'mention_comment', 'mention',
    '{{mentioner.name}} mentioned you',
    '{{mentioner.name}} mentioned you in a comment on {{entity.name}}',
    'You were mentioned: {{entity.name}}',
    '<p>{{mentioner.name}} mentioned you:</p><blockquote>{{comment.excerpt}}</blockquote>',
    '["in_app", "email"]',
    (
        '[{"name": "mentioner.name", "type": "string", "required": true}]'
    )::jsonb
);
