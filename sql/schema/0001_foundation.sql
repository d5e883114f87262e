-- Foundation: schemas, settings, organizations, users, API tokens.
-- Runs as intime_owner (see sql/bootstrap.sql).

create schema api;

comment on schema app is 'InTime tables and private helpers (names starting with _).';
comment on schema api is 'InTime functions for SQL clients, the worker and the web app.';

-- Forward declarations. Table defaults and RLS policies below refer to these,
-- so they must exist before the tables do; their real bodies live in
-- sql/functions/core/ and replace these on every migrate.
create function app.now() returns timestamptz
language sql stable
set search_path = pg_catalog, pg_temp
as $$ select pg_catalog.clock_timestamp() $$;

create function app.current_org_id() returns uuid
language sql stable
set search_path = pg_catalog, pg_temp
as $$ select null::uuid $$;

create function app.current_user_id() returns uuid
language sql stable
set search_path = pg_catalog, pg_temp
as $$ select null::uuid $$;

-- One row: database-wide switches that only the owner may change.
create table app.settings (
    singleton boolean primary key default true check (singleton),
    allow_fake_clock boolean not null default false
);

insert into app.settings default values;

create table app.organizations (
    id uuid primary key default gen_random_uuid(),
    name text not null check (length(btrim(name)) > 0),
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    timezone text not null default 'UTC',
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now()
);

create table app.user_profiles (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    email text not null check (position('@' in email) > 1),
    full_name text not null,
    role text not null default 'member' check (role in ('admin', 'manager', 'member')),
    manager_id uuid,
    timezone text not null default 'UTC',
    available boolean not null default true,
    out_of_office_until timestamptz,
    db_role name unique,
    is_active boolean not null default true,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, manager_id) references app.user_profiles (org_id, id)
    on delete set null (manager_id),
    check (manager_id is distinct from id)
);

create unique index user_profiles_email_key on app.user_profiles (org_id, lower(email));
create index user_profiles_manager_idx on app.user_profiles (org_id, manager_id)
where manager_id is not null;

create table app.api_tokens (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    user_id uuid not null,
    name text not null,
    token_prefix text not null,
    token_hash bytea not null unique,
    created_at timestamptz not null default app.now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade
);

create index api_tokens_user_idx on app.api_tokens (org_id, user_id);

alter table app.organizations enable row level security;
alter table app.organizations force row level security;
create policy organizations_own on app.organizations
using (id = (select app.current_org_id()));

alter table app.user_profiles enable row level security;
alter table app.user_profiles force row level security;
create policy tenant_isolation on app.user_profiles
using (org_id = (select app.current_org_id()))
with check (org_id = (select app.current_org_id()));

alter table app.api_tokens enable row level security;
alter table app.api_tokens force row level security;
create policy tenant_isolation on app.api_tokens
using (org_id = (select app.current_org_id()))
with check (org_id = (select app.current_org_id()));
