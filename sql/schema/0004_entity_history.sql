-- Field-level history of every registered entity, written by one generic
-- statement-level trigger (sql/triggers/entity_history.sql).

create table app.entity_history (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id bigint generated always as identity,
    -- No foreign key to app.entity_types: the history triggers are the only
    -- writers and take the type from the registry, and a bulk UPDATE would
    -- otherwise pay one referential check per history row.
    entity_type text not null,
    entity_id uuid not null,
    change_type text not null check (change_type in ('created', 'updated', 'deleted')),
    field_name text,
    old_value jsonb,
    new_value jsonb,
    changed_by uuid,
    changed_at timestamptz not null default app.now(),
    xact_id xid8 not null default pg_current_xact_id(),
    primary key (org_id, id),
    foreign key (org_id, changed_by) references app.user_profiles (org_id, id)
    on delete set null (changed_by),
    check ((change_type = 'updated') = (field_name is not null))
);

create index entity_history_entity_idx on app.entity_history (
    org_id, entity_type, entity_id, changed_at
);

alter table app.entity_history enable row level security;
alter table app.entity_history force row level security;
create policy tenant_isolation on app.entity_history
using (org_id = (select app.current_org_id()))
with check (org_id = (select app.current_org_id()));
