-- Campaigns (issue 6): multi-step outreach sequences with send windows, a
-- daily send limit, A/B variants and their decisions, enrollments and their
-- step logs (with a 90-day archive).

-- How long step logs stay in app.campaign_sequence_logs before the
-- maintenance job moves them to app.campaign_sequence_logs_archive.
alter table app.settings
add column campaign_log_retention_days integer not null default 90
check (campaign_log_retention_days between 1 and 3650);

create table app.campaigns (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null check (length(btrim(name)) between 1 and 200),
    description text,
    status text not null default 'draft'
    check (status in ('draft', 'active', 'paused', 'completed', 'archived')),
    owner_id uuid not null,
    -- The send window, in the campaign's zone or, when use_contact_timezone,
    -- the contact's (falling back to the campaign's). [start, end) local time
    -- on the listed days; an overnight window (end <= start) is refused.
    send_window_start time not null default '09:00',
    send_window_end time not null default '17:00',
    send_days text[] not null default array['mon', 'tue', 'wed', 'thu', 'fri'],
    timezone text not null default 'America/New_York',
    use_contact_timezone boolean not null default false,
    -- Email steps a day (in the campaign's zone); the rest roll to the next window.
    daily_send_limit integer check (daily_send_limit > 0),
    -- A/B testing: the metric, the minimum sample per arm, the significance
    -- level (Bonferroni-corrected over the comparisons), how long after a send
    -- its outcome counts as known, and whether the evaluation picks a winner.
    ab_metric text not null default 'reply' check (ab_metric in ('reply', 'click', 'open')),
    ab_min_sample_per_variant integer not null default 100
    check (ab_min_sample_per_variant >= 1),
    ab_alpha numeric not null default 0.05 check (ab_alpha > 0 and ab_alpha < 0.5),
    ab_metric_window interval not null default '3 days'
    check (ab_metric_window >= interval '0'),
    ab_auto_select boolean not null default true,
    -- The selected winner: every later A/B send uses it.
    ab_winner_variant text,
    ab_winner_step integer,
    ab_winner_stats jsonb,
    ab_winner_selected_at timestamptz,
    ab_winner_selected_by uuid,
    -- Totals, kept by the tick and the email/suppression triggers.
    total_enrolled integer not null default 0,
    total_active integer not null default 0,
    total_completed integer not null default 0,
    total_replied integer not null default 0,
    total_bounced integer not null default 0,
    total_unsubscribed integer not null default 0,
    total_stopped integer not null default 0,
    total_paused integer not null default 0,
    total_sent integer not null default 0,
    total_opened integer not null default 0,
    total_clicked integer not null default 0,
    total_tasks integer not null default 0,
    activated_at timestamptz,
    completed_at timestamptz,
    created_by uuid default app.current_user_id(),
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    check (send_window_end > send_window_start),
    check (
        cardinality(send_days) between 1 and 7
        and send_days <@ array['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']
    ),
    check ((ab_winner_variant is null) = (ab_winner_selected_at is null))
);

create index campaigns_active_idx on app.campaigns (org_id, id) where status = 'active';

create table app.campaign_sequences (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    campaign_id uuid not null,
    step_number integer not null check (step_number >= 1),
    channel text not null
    check (channel in ('email', 'linkedin', 'phone', 'sms', 'task', 'wait')),
    -- The delay after the previous step (after enrollment for step 1).
    delay_days integer not null default 0 check (delay_days between 0 and 365),
    delay_hours integer not null default 0 check (delay_hours between 0 and 1000),
    delay_minutes integer not null default 0 check (delay_minutes between 0 and 100000),
    template_id uuid,
    subject text,
    body_html text,
    body_text text,
    task_config jsonb not null default '{}' check (jsonb_typeof(task_config) = 'object'),
    -- Conditions (app._wf_holds leaves or groups); the step is skipped when any holds.
    skip_conditions jsonb not null default '[]' check (jsonb_typeof(skip_conditions) = 'array'),
    stop_on_reply boolean not null default true,
    -- [{"id", "subject", "body_html", "body_text", "weight"}]; null = no test.
    ab_variants jsonb check (ab_variants is null or jsonb_typeof(ab_variants) = 'array'),
    is_active boolean not null default true,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, campaign_id, step_number),
    foreign key (org_id, campaign_id) references app.campaigns (org_id, id) on delete cascade,
    foreign key (org_id, template_id) references app.email_templates (org_id, id)
);

create table app.campaign_enrollments (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    campaign_id uuid not null,
    contact_id uuid not null,
    status text not null default 'active' check (status in (
        'active', 'paused', 'completed', 'replied', 'bounced', 'unsubscribed', 'stopped'
    )),
    stop_reason text,
    -- The last step run (0 before the first); next_step_at is when the next
    -- one is due (null once the enrollment has ended).
    current_step integer not null default 0 check (current_step >= 0),
    steps_completed integer not null default 0,
    next_step_at timestamptz,
    last_step_at timestamptz,
    ab_variant text,
    emails_sent integer not null default 0,
    linkedin_sent integer not null default 0,
    calls_made integer not null default 0,
    sms_sent integer not null default 0,
    tasks_created integer not null default 0,
    first_opened_at timestamptz,
    first_clicked_at timestamptz,
    replied_at timestamptz,
    bounced_at timestamptz,
    unsubscribed_at timestamptz,
    -- +10 per open, +25 per click, at most 100 (the seed's rule).
    engagement_score integer not null default 0 check (engagement_score between 0 and 100),
    -- Errors in a row; the third pauses the enrollment.
    error_count integer not null default 0,
    last_error text,
    last_error_at timestamptz,
    enrolled_by uuid,
    enrolled_at timestamptz not null default app.now(),
    completed_at timestamptz,
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    -- A contact is enrolled in a campaign once.
    unique (org_id, campaign_id, contact_id),
    foreign key (org_id, campaign_id) references app.campaigns (org_id, id) on delete cascade,
    foreign key (org_id, contact_id) references app.contacts (org_id, id) on delete cascade,
    -- A paused enrollment keeps its next_step_at (a campaign pause parks its
    -- active enrollments as paused with stop_reason 'campaign_paused').
    check (status <> 'active' or next_step_at is not null)
);

-- The tick's scan: due active enrollments, oldest first.
create index campaign_enrollments_due_idx on app.campaign_enrollments (next_step_at)
where status = 'active';
create index campaign_enrollments_contact_idx on app.campaign_enrollments (org_id, contact_id);
create index campaign_enrollments_campaign_idx on app.campaign_enrollments (
    org_id, campaign_id, status
);

-- One row per step run (sent, skipped, failed, deferred...). No foreign keys:
-- logs are append-only history written in bulk by the tick, and outlive
-- nothing but their org.
create table app.campaign_sequence_logs (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id bigint generated always as identity,
    campaign_id uuid not null,
    enrollment_id uuid not null,
    sequence_id uuid,
    step_number integer not null,
    channel text not null,
    status text not null check (status in (
        'sent', 'skipped', 'failed', 'suppressed', 'deferred', 'stopped', 'completed'
    )),
    detail text,
    ab_variant text,
    email_send_id uuid,
    activity_id uuid,
    scheduled_at timestamptz,
    sent_at timestamptz,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id)
);

create index campaign_sequence_logs_enrollment_idx on app.campaign_sequence_logs (
    org_id, enrollment_id, id
);
create index campaign_sequence_logs_campaign_idx on app.campaign_sequence_logs (
    org_id, campaign_id, step_number
);
create index campaign_sequence_logs_send_idx on app.campaign_sequence_logs (org_id, email_send_id)
where email_send_id is not null;
create index campaign_sequence_logs_created_idx on app.campaign_sequence_logs (created_at);

-- Logs older than the retention, moved here by api.archive_campaign_logs.
create table app.campaign_sequence_logs_archive (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id bigint not null,
    campaign_id uuid not null,
    enrollment_id uuid not null,
    sequence_id uuid,
    step_number integer not null,
    channel text not null,
    status text not null,
    detail text,
    ab_variant text,
    email_send_id uuid,
    activity_id uuid,
    scheduled_at timestamptz,
    sent_at timestamptz,
    created_at timestamptz not null,
    archived_at timestamptz not null default app.now(),
    primary key (org_id, id)
);

create index campaign_sequence_logs_archive_campaign_idx
on app.campaign_sequence_logs_archive (org_id, campaign_id, step_number);

-- Email steps sent per campaign and local day (the daily send limit).
create table app.campaign_daily_sends (
    org_id uuid not null references app.organizations (id) on delete cascade,
    campaign_id uuid not null,
    local_date date not null,
    sent integer not null default 0 check (sent >= 0),
    primary key (org_id, campaign_id, local_date),
    foreign key (org_id, campaign_id) references app.campaigns (org_id, id) on delete cascade
);

-- Every A/B evaluation and manual choice, with its statistics.
create table app.campaign_ab_decisions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    campaign_id uuid not null,
    step_number integer not null,
    metric text not null,
    -- winner: a significant best arm, recorded on the campaign; significant:
    -- the same with auto-select off (nothing routed); inconclusive: not
    -- significant; insufficient_sample: an arm below the minimum; manual:
    -- api.select_ab_winner.
    outcome text not null check (
        outcome in ('winner', 'significant', 'inconclusive', 'insufficient_sample', 'manual')
    ),
    winner_variant text,
    best_variant text,
    arms jsonb not null default '[]',
    alpha numeric,
    alpha_corrected numeric,
    min_sample integer,
    decided_by uuid,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, campaign_id) references app.campaigns (org_id, id) on delete cascade
);

create index campaign_ab_decisions_campaign_idx on app.campaign_ab_decisions (
    org_id, campaign_id, created_at
);

-- What one batch of the campaign tick did (app._campaign_run_batch).
create type app.campaign_batch_counts as (
    processed integer,
    sent integer,
    skipped integer,
    errored integer,
    deferred integer,
    completed integer,
    stopped integer
);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array[
        'campaigns', 'campaign_sequences', 'campaign_enrollments', 'campaign_sequence_logs',
        'campaign_sequence_logs_archive', 'campaign_daily_sends', 'campaign_ab_decisions'
    ] loop
        execute format('alter table app.%I enable row level security', v_table);
        execute format('alter table app.%I force row level security', v_table);
        execute format(
            'create policy tenant_isolation on app.%I '
            'using (org_id = (select app.current_org_id())) '
            'with check (org_id = (select app.current_org_id()))',
            v_table
        );
    end loop;
end
$rls$;

-- Campaign notifications for the owner: a human reply, a selected A/B
-- winner, an enrollment paused after repeated errors.
insert into app.notification_system_templates (
    name, slug, category, title_template, message_template, default_type, default_priority,
    email_subject_template, email_body_template, default_channels, variables
) values (
    'Campaign Reply', 'campaign_reply', 'campaign',
    '{{contact.name}} replied to {{campaign.name}}',
    '{{contact.name}} replied to step {{step_number}} of {{campaign.name}}: {{outcome}}.',
    'success', 'high',
    'Reply from {{contact.name}} ({{campaign.name}})',
    '<p><strong>{{contact.name}}</strong> replied to <strong>{{campaign.name}}</strong>.</p>',
    '["in_app", "email"]',
    (
        '[{"name": "campaign.name", "type": "string", "required": true},'
        || ' {"name": "contact.name", "type": "string", "required": true}]'
    )::jsonb
),
(
    'A/B Winner Selected', 'campaign_ab_winner', 'campaign',
    'A/B winner for {{campaign.name}}: {{variant}}',
    'Variant {{variant}} won step {{step_number}} of {{campaign.name}} on {{metric}} rate '
    || '({{rate}} vs {{runner_up_rate}}, p = {{p}}); later sends use it.',
    'info', 'normal',
    'A/B winner for {{campaign.name}}',
    '<p>Variant <strong>{{variant}}</strong> won <strong>{{campaign.name}}</strong>.</p>',
    '["in_app"]',
    (
        '[{"name": "campaign.name", "type": "string", "required": true},'
        || ' {"name": "variant", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Campaign Enrollment Paused', 'campaign_enrollment_paused', 'campaign',
    'Paused in {{campaign.name}}: {{contact.name}}',
    '{{contact.name}} was paused in {{campaign.name}} after 3 errors in a row: {{error}}',
    'warning', 'normal',
    'Enrollment paused in {{campaign.name}}',
    '<p>{{contact.name}} was paused after repeated errors: {{error}}</p>',
    '["in_app"]',
    (
        '[{"name": "campaign.name", "type": "string", "required": true},'
        || ' {"name": "contact.name", "type": "string", "required": true}]'
    )::jsonb
);
