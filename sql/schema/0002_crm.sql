-- CRM core: the entity registry, accounts, contacts, the deal pipeline and
-- its history, activities, comments and notes.

-- The registry of entity types that workflows, history and polymorphic
-- references may name. updatable_fields is the allowlist of columns a
-- workflow's update_field step may write.
create table app.entity_types (
    entity_type text primary key check (entity_type ~ '^[a-z][a-z_]*$'),
    table_name text not null unique,
    label text not null,
    name_field text not null,
    owner_field text,
    status_field text,
    updatable_fields text[] not null default '{}'
);

create table app.accounts (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null check (length(btrim(name)) > 0),
    domain text,
    industry text,
    website text,
    phone text,
    employee_count integer check (employee_count >= 0),
    annual_revenue numeric(16, 2) check (annual_revenue >= 0),
    status text not null default 'prospect'
    check (status in ('prospect', 'customer', 'partner', 'churned', 'inactive')),
    owner_id uuid,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id)
    on delete set null (owner_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create index accounts_owner_idx on app.accounts (org_id, owner_id) where owner_id is not null;

create table app.contacts (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    first_name text not null default '',
    last_name text not null default '',
    full_name text generated always as (btrim(first_name || ' ' || last_name)) stored,
    email text check (email is null or position('@' in email) > 1),
    phone text,
    title text,
    company_name text,
    account_id uuid,
    owner_id uuid,
    timezone text,
    linkedin_url text,
    status text not null default 'active'
    check (status in ('active', 'lead', 'customer', 'inactive', 'do_not_contact')),
    source text,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, account_id) references app.accounts (org_id, id)
    on delete set null (account_id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id)
    on delete set null (owner_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create unique index contacts_email_key on app.contacts (org_id, lower(email))
where email is not null;
create index contacts_account_idx on app.contacts (org_id, account_id)
where account_id is not null;

create table app.deal_stages (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null,
    position integer not null,
    probability integer not null check (probability between 0 and 100),
    is_won boolean not null default false,
    is_lost boolean not null default false,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, name),
    check (not (is_won and is_lost))
);

create table app.deals (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    name text not null check (length(btrim(name)) > 0),
    account_id uuid,
    lead_contact_id uuid,
    owner_id uuid,
    stage_id uuid not null,
    value numeric(16, 2) not null default 0 check (value >= 0),
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    -- Filled from the stage on insert when not given (app._tg_deal_stage_sync).
    probability integer not null check (probability between 0 and 100),
    status text not null default 'open' check (status in ('open', 'won', 'lost')),
    expected_close_date date,
    closed_at timestamptz,
    stage_entered_at timestamptz not null default app.now(),
    description text,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, account_id) references app.accounts (org_id, id)
    on delete set null (account_id),
    foreign key (org_id, lead_contact_id) references app.contacts (org_id, id)
    on delete set null (lead_contact_id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id)
    on delete set null (owner_id),
    foreign key (org_id, stage_id) references app.deal_stages (org_id, id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create index deals_lead_contact_idx on app.deals (org_id, lead_contact_id)
where deleted_at is null;
create index deals_account_idx on app.deals (org_id, account_id) where deleted_at is null;
create index deals_stage_idx on app.deals (org_id, stage_id) where deleted_at is null;
create index deals_owner_idx on app.deals (org_id, owner_id) where deleted_at is null;

create table app.deal_stages_history (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    deal_id uuid not null,
    from_stage_id uuid,
    to_stage_id uuid not null,
    from_probability integer,
    to_probability integer not null,
    days_in_stage integer,
    notes text,
    changed_by uuid,
    changed_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, deal_id) references app.deals (org_id, id) on delete cascade,
    foreign key (org_id, from_stage_id) references app.deal_stages (org_id, id)
    on delete set null (from_stage_id),
    foreign key (org_id, to_stage_id) references app.deal_stages (org_id, id),
    foreign key (org_id, changed_by) references app.user_profiles (org_id, id)
    on delete set null (changed_by)
);

create index deal_stages_history_deal_idx on app.deal_stages_history (
    org_id, deal_id, changed_at
);

-- DEALS-01 compatibility views, column for column as the seed has them
-- (hence the noqa marks). security_invoker makes them obey the
-- caller's row-level security instead of the owner's.
create view app.deal_stages_history_legacy with (security_invoker = true) as
select  -- noqa: ST06
    h.id,
    h.org_id,
    h.deal_id as entity_id,
    'deal'::text as entity_type,
    'stage_change'::text as change_type,
    'stage_id'::text as field_name,
    to_jsonb(h.from_stage_id) as old_value,
    to_jsonb(h.to_stage_id) as new_value,
    h.changed_by,
    h.changed_at,
    jsonb_build_object(
        'from_probability', h.from_probability,
        'to_probability', h.to_probability,
        'days_in_stage', h.days_in_stage,
        'notes', h.notes
    ) as metadata
from app.deal_stages_history as h;

create view app.deals_with_company with (security_invoker = true) as
select
    d.*,  -- noqa: AM04
    d.account_id as company_id
from app.deals as d;

create table app.activities (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    entity_type text not null references app.entity_types (entity_type),
    entity_id uuid not null,
    secondary_entity_type text,
    secondary_entity_id uuid,
    type text not null
    check (type in ('task', 'call', 'email', 'meeting', 'note', 'linkedin')),
    subject text not null,
    description text,
    status text not null default 'open'
    check (status in ('open', 'scheduled', 'in_progress', 'completed', 'cancelled')),
    priority text not null default 'normal'
    check (priority in ('low', 'normal', 'high', 'urgent')),
    due_date timestamptz,
    completed_at timestamptz,
    assignee_id uuid,
    metadata jsonb not null default '{}',
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, assignee_id) references app.user_profiles (org_id, id)
    on delete set null (assignee_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by),
    check ((secondary_entity_type is null) = (secondary_entity_id is null))
);

create index activities_entity_idx on app.activities (org_id, entity_type, entity_id);
create index activities_assignee_open_idx on app.activities (org_id, assignee_id, due_date)
where status in ('open', 'scheduled', 'in_progress');

create table app.comments (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    entity_type text not null references app.entity_types (entity_type),
    entity_id uuid not null,
    parent_id uuid,
    body text not null check (length(btrim(body)) > 0),
    author_id uuid default app.current_user_id(),
    mentioned_user_ids uuid[] not null default '{}',
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    edited_at timestamptz,
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, parent_id) references app.comments (org_id, id) on delete cascade,
    foreign key (org_id, author_id) references app.user_profiles (org_id, id)
    on delete set null (author_id)
);

create index comments_entity_idx on app.comments (org_id, entity_type, entity_id, created_at);
create index comments_mentions_idx on app.comments using gin (mentioned_user_ids);

create table app.notes (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    entity_type text not null references app.entity_types (entity_type),
    entity_id uuid not null,
    title text,
    body text not null,
    is_pinned boolean not null default false,
    author_id uuid default app.current_user_id(),
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, author_id) references app.user_profiles (org_id, id)
    on delete set null (author_id)
);

create index notes_entity_idx on app.notes (org_id, entity_type, entity_id);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array[
        'accounts', 'contacts', 'deal_stages', 'deals', 'deal_stages_history',
        'activities', 'comments', 'notes'
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

insert into app.entity_types (
    entity_type, table_name, label, name_field, owner_field, status_field, updatable_fields
) values
(
    'account', 'accounts', 'Account', 'name', 'owner_id', 'status',
    array['name', 'domain', 'industry', 'website', 'phone', 'status', 'owner_id']
),
(
    'contact', 'contacts', 'Contact', 'full_name', 'owner_id', 'status',
    array['first_name', 'last_name', 'phone', 'title', 'status', 'owner_id', 'timezone']
),
(
    'deal', 'deals', 'Deal', 'name', 'owner_id', 'status',
    array['name', 'owner_id', 'value', 'currency', 'expected_close_date', 'description']
),
(
    'activity', 'activities', 'Activity', 'subject', 'assignee_id', 'status',
    array['subject', 'description', 'status', 'priority', 'due_date', 'assignee_id']
);
