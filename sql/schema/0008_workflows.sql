-- Workflows (issue 5): definitions and their versions, the state machine
-- (states, transitions, one instance per workflow and entity), executions
-- with their steps, actions, approvals and monthly-partitioned logs, the
-- round-robin rotation, approval locks and the org's webhook signing keys.

-- Engine-wide switches (owner-controlled, like allow_fake_clock).
alter table app.settings
add column workflow_max_depth integer not null default 5
check (workflow_max_depth between 1 and 20),
add column workflow_log_retention_months integer not null default 6
check (workflow_log_retention_months between 1 and 120),
add column workflow_log_premake_months integer not null default 3
check (workflow_log_premake_months between 1 and 24),
-- 'drop' removes expired partitions; 'detach' keeps them as plain tables
-- (app.workflow_execution_logs_yYYYYmMM) for the DBA to dump and drop.
add column workflow_log_expiry text not null default 'drop'
check (workflow_log_expiry in ('drop', 'detach'));

-- A deal's discount, the field approval chains gate most often.
alter table app.deals
add column discount_percent numeric(5, 2) not null default 0
check (discount_percent between 0 and 100);

update app.entity_types
set updatable_fields = updatable_fields || array['discount_percent']
where entity_type = 'deal';

create table app.workflows (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null check (length(btrim(name)) between 1 and 200),
    description text,
    entity_type text not null references app.entity_types (entity_type),
    is_active boolean not null default true,
    version integer not null default 1 check (version >= 1),
    definition jsonb not null check (jsonb_typeof(definition) = 'object'),
    -- 'never': an entity runs the workflow once; 'after_exit': again once the
    -- previous execution ended; 'concurrent': every trigger starts one.
    reenrollment text not null default 'after_exit'
    check (reenrollment in ('never', 'after_exit', 'concurrent')),
    max_retries integer not null default 3 check (max_retries between 0 and 25),
    -- Derived from the definition on save, for the set-based matcher:
    -- which row events can start it at all.
    trigger_events text[] not null default '{}'
    check (trigger_events <@ array['insert', 'update', 'delete']::text[]),
    schedule_cron text,
    schedule_timezone text,
    schedule_fired_at timestamptz,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by),
    check ((schedule_cron is null) = (schedule_timezone is null))
);

create index workflows_match_idx on app.workflows (org_id, entity_type)
include (trigger_events)
where is_active and deleted_at is null;
create index workflows_scheduled_idx on app.workflows (schedule_fired_at)
where schedule_cron is not null and is_active and deleted_at is null;

-- Every version ever saved: a running execution keeps the definition it
-- started with.
create table app.workflow_versions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    workflow_id uuid not null,
    version integer not null,
    definition jsonb not null,
    created_by uuid,
    created_at timestamptz not null default app.now(),
    primary key (org_id, workflow_id, version),
    foreign key (org_id, workflow_id) references app.workflows (org_id, id) on delete cascade,
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by)
);

create table app.workflow_states (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    workflow_id uuid not null,
    name text not null check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    label text not null,
    state_type text not null default 'intermediate'
    check (state_type in ('initial', 'intermediate', 'final')),
    -- Entities in this state refuse update_field and transitions while an
    -- approval of theirs is pending (see workflow_entity_locks).
    position integer not null default 0,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, workflow_id, name),
    foreign key (org_id, workflow_id) references app.workflows (org_id, id) on delete cascade
);

create unique index workflow_states_one_initial on app.workflow_states (org_id, workflow_id)
where state_type = 'initial';

create table app.workflow_transitions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    workflow_id uuid not null,
    name text not null check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- Null: from any state.
    from_state_id uuid,
    to_state_id uuid not null,
    required_role text check (required_role in ('admin', 'manager', 'member')),
    -- An approval step's configuration that gates the move, or null.
    approval jsonb,
    -- Steps run after the move, as an execution of their own.
    steps jsonb not null default '[]' check (jsonb_typeof(steps) = 'array'),
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, workflow_id, name),
    foreign key (org_id, workflow_id) references app.workflows (org_id, id) on delete cascade,
    foreign key (org_id, from_state_id) references app.workflow_states (org_id, id)
    on delete cascade,
    foreign key (org_id, to_state_id) references app.workflow_states (org_id, id)
    on delete cascade
);

create table app.workflow_instances (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    workflow_id uuid not null,
    entity_type text not null references app.entity_types (entity_type),
    entity_id uuid not null,
    current_state_id uuid,
    status text not null default 'active' check (status in ('active', 'completed', 'cancelled')),
    executions_started integer not null default 0,
    last_execution_at timestamptz,
    created_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, workflow_id, entity_id),
    foreign key (org_id, workflow_id) references app.workflows (org_id, id) on delete cascade,
    foreign key (org_id, current_state_id) references app.workflow_states (org_id, id)
    on delete set null (current_state_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by)
);

create index workflow_instances_entity_idx on app.workflow_instances (
    org_id, entity_type, entity_id
);

create table app.workflow_executions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    instance_id uuid not null,
    workflow_id uuid not null,
    workflow_version integer not null,
    entity_type text not null,
    entity_id uuid not null,
    -- pending: queued, never run; running: between steps (a workflow.run
    -- job is due); waiting: parked on a timer, an action, an approval or a
    -- retry; paused: stopped by a user until resumed.
    status text not null default 'pending'
    check (
        status in ('pending', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'paused')
    ),
    waiting_for text check (waiting_for in ('timer', 'action', 'approval', 'retry')),
    -- When a parked timer or retry is due (application clock).
    wake_at timestamptz,
    -- The queue job that will resume it, for the sweeper.
    wake_job_id bigint,
    started_at timestamptz,
    completed_at timestamptz,
    paused_at timestamptz,
    triggered_by uuid,
    trigger_type text not null default 'event'
    check (trigger_type in ('manual', 'automatic', 'scheduled', 'event', 'api', 'transition')),
    trigger_event jsonb,
    -- A transition's steps; null runs the workflow version's steps.
    steps jsonb,
    current_step_index integer not null default 0,
    total_steps integer not null default 0,
    error_message text,
    error_stack text,
    retry_count integer not null default 0,
    max_retries integer not null default 3,
    next_retry_at timestamptz,
    execution_context jsonb not null default '{}',
    -- Recursion guard: how many workflow steps led here, and which workflows.
    depth integer not null default 0,
    chain uuid[] not null default '{}',
    parent_execution_id uuid,
    -- One active execution per (workflow, entity) unless concurrent.
    exclusive boolean not null default true,
    transition_id uuid,
    -- The transaction running it (api.run_execution), so that the matcher
    -- can trust the recursion context it finds.
    run_xid xid8,
    runs integer not null default 0,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, instance_id) references app.workflow_instances (org_id, id)
    on delete cascade,
    foreign key (org_id, workflow_id, workflow_version)
    references app.workflow_versions (org_id, workflow_id, version) on delete cascade,
    foreign key (org_id, triggered_by) references app.user_profiles (org_id, id)
    on delete set null (triggered_by),
    foreign key (org_id, transition_id) references app.workflow_transitions (org_id, id)
    on delete set null (transition_id),
    check ((status = 'waiting') = (waiting_for is not null)),
    check (steps is null or jsonb_typeof(steps) = 'array')
);

create unique index workflow_executions_one_active on app.workflow_executions (
    org_id, workflow_id, entity_id
)
where exclusive and status in ('pending', 'running', 'waiting', 'paused');
create index workflow_executions_instance_idx on app.workflow_executions (
    org_id, instance_id, status
);
create index workflow_executions_org_idx on app.workflow_executions (
    org_id, status, created_at desc
);
create index workflow_executions_wake_idx on app.workflow_executions (wake_at)
where status = 'waiting' and wake_at is not null;
create index workflow_executions_stalled_idx on app.workflow_executions (updated_at)
where status in ('pending', 'running');

create table app.workflow_steps (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    execution_id uuid not null,
    state_id uuid,
    transition_id uuid,
    step_type text not null
    check (step_type in ('state', 'transition', 'action', 'condition', 'wait', 'approval')),
    -- The definition's step type (create_task, webhook, ...).
    step_kind text not null,
    step_name text,
    step_config jsonb not null default '{}',
    position integer not null,
    status text not null default 'pending'
    check (status in ('pending', 'running', 'completed', 'failed', 'skipped', 'waiting')),
    attempts integer not null default 0,
    started_at timestamptz,
    completed_at timestamptz,
    wait_until timestamptz,
    wait_condition jsonb,
    result jsonb,
    error_message text,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, execution_id) references app.workflow_executions (org_id, id)
    on delete cascade,
    foreign key (org_id, state_id) references app.workflow_states (org_id, id)
    on delete set null (state_id),
    foreign key (org_id, transition_id) references app.workflow_transitions (org_id, id)
    on delete set null (transition_id)
);

create index workflow_steps_execution_idx on app.workflow_steps (org_id, execution_id, position);
create index workflow_steps_waiting_idx on app.workflow_steps (wait_until)
where status = 'waiting';

create table app.workflow_actions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    execution_id uuid not null,
    step_id uuid,
    action_type text not null check (action_type in (
        'send_email', 'send_notification', 'create_task', 'create_activity',
        'update_field', 'webhook', 'wait', 'condition', 'assign', 'escalate'
    )),
    action_config jsonb not null,
    status text not null default 'pending'
    check (status in ('pending', 'running', 'completed', 'failed', 'skipped')),
    scheduled_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    result jsonb,
    error_message text,
    error_code text,
    retry_count integer not null default 0,
    -- What the worker delivers (webhook: the URL and the signed body).
    request jsonb,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, execution_id) references app.workflow_executions (org_id, id)
    on delete cascade,
    foreign key (org_id, step_id) references app.workflow_steps (org_id, id) on delete cascade
);

create index workflow_actions_execution_idx on app.workflow_actions (org_id, execution_id);
create index workflow_actions_step_idx on app.workflow_actions (org_id, step_id);
create index workflow_actions_scheduled_idx on app.workflow_actions (scheduled_at)
where status = 'pending' and scheduled_at is not null;

create table app.workflow_approvals (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    execution_id uuid not null,
    step_id uuid,
    approver_id uuid not null,
    approver_type text
    check (
        approver_type in ('user', 'role', 'manager', 'owner', 'field', 'delegate', 'escalation')
    ),
    approver_role text,
    -- queued: a later link of a sequential chain; cancelled: decided by
    -- someone else in its slot, recalled, or no longer needed.
    status text not null default 'pending'
    check (
        status in (
            'queued', 'pending', 'approved', 'rejected', 'delegated', 'escalated', 'expired',
            'cancelled'
        )
    ),
    requested_at timestamptz not null default app.now(),
    due_at timestamptz,
    responded_at timestamptz,
    responded_by uuid,
    response_notes text,
    delegated_to uuid,
    delegated_at timestamptz,
    delegation_reason text,
    escalated_to uuid,
    escalated_at timestamptz,
    escalation_reason text,
    -- A slot is one required decision; delegation and escalation add rows
    -- to the same slot, and the first decision in a slot settles it.
    slot integer not null default 1,
    sequence_order integer not null default 1,
    is_parallel boolean not null default false,
    -- The row this one was delegated or escalated from.
    source_approval_id uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, execution_id) references app.workflow_executions (org_id, id)
    on delete cascade,
    foreign key (org_id, step_id) references app.workflow_steps (org_id, id) on delete cascade,
    foreign key (org_id, approver_id) references app.user_profiles (org_id, id),
    foreign key (org_id, responded_by) references app.user_profiles (org_id, id)
    on delete set null (responded_by),
    foreign key (org_id, delegated_to) references app.user_profiles (org_id, id)
    on delete set null (delegated_to),
    foreign key (org_id, escalated_to) references app.user_profiles (org_id, id)
    on delete set null (escalated_to),
    foreign key (org_id, source_approval_id) references app.workflow_approvals (org_id, id)
    on delete set null (source_approval_id)
);

create index workflow_approvals_execution_idx on app.workflow_approvals (org_id, execution_id);
create index workflow_approvals_approver_idx on app.workflow_approvals (
    org_id, approver_id, status
);
create index workflow_approvals_due_idx on app.workflow_approvals (due_at)
where status = 'pending' and escalated_at is null;

-- Monthly partitions, made ahead and expired by api.maintain_workflow_logs.
-- The default partition catches rows of a month nobody made (a clock set far
-- ahead); maintenance moves them into their month when it makes it.
create sequence app.workflow_execution_logs_seq;

create table app.workflow_execution_logs (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    execution_id uuid not null,
    step_id uuid,
    action_id uuid,
    level text not null default 'info' check (level in ('debug', 'info', 'warning', 'error')),
    message text not null,
    data jsonb,
    occurred_at timestamptz not null default app.now(),
    -- Orders lines written in the same instant (an identity column on a
    -- partitioned table needs PostgreSQL 17).
    seq bigint not null default nextval('app.workflow_execution_logs_seq'),
    primary key (org_id, id, occurred_at)
) partition by range (occurred_at);

create table app.workflow_execution_logs_default partition of app.workflow_execution_logs default;

create index workflow_execution_logs_execution_idx on app.workflow_execution_logs (
    org_id, execution_id, occurred_at, seq
);
create index workflow_execution_logs_level_idx on app.workflow_execution_logs (
    org_id, level, occurred_at desc
)
where level in ('warning', 'error');

-- Fair rotation per (workflow, step): who got how many, and when.
create table app.workflow_round_robin (
    org_id uuid not null references app.organizations (id) on delete cascade,
    workflow_id uuid not null,
    step_name text not null,
    user_id uuid not null,
    weight integer not null default 1 check (weight between 1 and 100),
    assigned_count bigint not null default 0,
    last_assigned_at timestamptz,
    primary key (org_id, workflow_id, step_name, user_id),
    foreign key (org_id, workflow_id) references app.workflows (org_id, id) on delete cascade,
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade
);

-- An entity under a pending approval that locks it.
create table app.workflow_entity_locks (
    org_id uuid not null references app.organizations (id) on delete cascade,
    entity_type text not null references app.entity_types (entity_type),
    entity_id uuid not null,
    execution_id uuid not null,
    reason text not null,
    locked_at timestamptz not null default app.now(),
    primary key (org_id, entity_type, entity_id, execution_id),
    foreign key (org_id, execution_id) references app.workflow_executions (org_id, id)
    on delete cascade
);

-- The org's Standard Webhooks signing secret; the previous one keeps
-- signing beside it for a day after a rotation.
create table app.webhook_settings (
    org_id uuid not null primary key references app.organizations (id) on delete cascade,
    secret text not null,
    previous_secret text,
    previous_valid_until timestamptz,
    rotated_at timestamptz not null default app.now()
);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array[
        'workflows', 'workflow_versions', 'workflow_states', 'workflow_transitions',
        'workflow_instances', 'workflow_executions', 'workflow_steps', 'workflow_actions',
        'workflow_approvals', 'workflow_execution_logs', 'workflow_execution_logs_default',
        'workflow_round_robin', 'workflow_entity_locks', 'webhook_settings'
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

-- The approval notification links to the approval's page.
update app.notification_system_templates
set
    action_url_template = '/approvals/{{approval.id}}',
    action_label = 'Review',
    variables = variables || '[{"name": "approval.id", "type": "string", "required": false}]'
where slug = 'approval_required';

-- Workflow executions that failed notify their owner.
insert into app.notification_system_templates (
    name, slug, category, title_template, message_template, default_type, default_priority,
    email_subject_template, email_body_template, default_channels, variables
) values (
    'Workflow Failed', 'workflow_failed', 'workflow',
    'Workflow failed: {{workflow.name}}',
    '{{workflow.name}} failed at step {{step.name}}: {{error}}',
    'error', 'high',
    'Workflow failed: {{workflow.name}}',
    '<p><strong>{{workflow.name}}</strong> failed at step <strong>{{step.name}}</strong>.</p>'
    || '<p>{{error}}</p>',
    '["in_app"]',
    (
        '[{"name": "workflow.name", "type": "string", "required": true},'
        || ' {"name": "step.name", "type": "string", "required": true},'
        || ' {"name": "error", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Approval Escalated', 'approval_escalated', 'workflow',
    'Escalated to you: {{item.title}}',
    '{{approver.name}} did not decide on {{item.title}} by {{due_at}}; it is now yours too.',
    'warning', 'high',
    'Escalated approval: {{item.title}}',
    '<p>An approval was escalated to you: <strong>{{item.title}}</strong>.</p>',
    '["in_app", "email"]',
    (
        '[{"name": "item.title", "type": "string", "required": true},'
        || ' {"name": "approver.name", "type": "string", "required": true},'
        || ' {"name": "due_at", "type": "string", "required": true}]'
    )::jsonb
),
(
    'Workflow Escalation', 'workflow_escalation', 'workflow',
    'Escalation: {{item.title}}',
    '{{message}}',
    'warning', 'high',
    'Escalation: {{item.title}}',
    '<p>{{message}}</p>',
    '["in_app"]',
    (
        '[{"name": "item.title", "type": "string", "required": true},'
        || ' {"name": "message", "type": "string", "required": true}]'
    )::jsonb
);
