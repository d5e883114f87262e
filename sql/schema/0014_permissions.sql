-- Permissions inside an org (docs/permissions.md). The platform names the
-- permissions and each one's default roles; an org's admins change what its
-- managers and members hold (app.role_permissions: only the differences from
-- the defaults are stored). Admins hold every permission, always: an org
-- cannot lock its admins out.

create table app.permissions (
    name text primary key check (name ~ '^[a-z_]+\.[a-z_]+$'),
    description text not null check (length(description) between 1 and 300),
    -- The non-admin roles that hold it unless the org says otherwise.
    default_roles text[] not null default '{}'
    check (default_roles <@ array['manager', 'member'])
);

insert into app.permissions (name, description, default_roles) values
(
    'templates.manage',
    'Create, change and delete the org''s email and notification templates.',
    '{}'
),
(
    'pipeline.manage',
    'Create, change, reorder and delete deal stages (won and lost stages included).',
    '{}'
),
(
    'workflows.manage',
    'Create, change, activate and delete workflows.',
    '{}'
),
(
    'email_settings.manage',
    'Set the org''s sending identity, provider and limits.',
    '{}'
),
(
    'webhook_settings.manage',
    'Read and rotate the org''s webhook signing secret.',
    '{}'
),
(
    'campaigns.manage_any',
    'Change, activate, pause and evaluate campaigns another user owns.',
    '{}'
);

create table app.role_permissions (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    role text not null check (role in ('manager', 'member')),
    permission text not null references app.permissions (name) on delete cascade,
    granted boolean not null,
    changed_by uuid,
    changed_at timestamptz not null default app.now(),
    primary key (org_id, role, permission),
    foreign key (org_id, changed_by) references app.user_profiles (org_id, id)
    on delete set null (changed_by)
);

select app._enable_tenant_rls('app.role_permissions');
