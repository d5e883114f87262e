-- Issue 18: the login map. Which user a SQL login acts as was read from
-- app.user_profiles (db_role = session_user). On a Citus cluster user_profiles
-- is spread over the workers by org, so that read would visit every node, which
-- a trigger on a shard may not do, and its unique key on db_role could only be
-- per org. This table is the same mapping, one row per mapped login: on a
-- cluster a reference table, copied to every node, that keeps a login unique
-- across tenants (docs/scale-out.md). api.create_user and api.update_user write
-- it beside user_profiles (a trigger on a Citus shard may not write a reference
-- table), and a trigger on user_profiles refuses a change that would leave the
-- two apart (sql/functions/core/login_roles.sql). Nobody but the owner reads or
-- writes it.
create table app.login_roles (
    org_id uuid not null references app.organizations (id) on delete cascade,
    user_id uuid not null,
    db_role text not null unique,
    is_active boolean not null,
    primary key (org_id, user_id)
);

select app._enable_tenant_rls('app.login_roles');

insert into app.login_roles (org_id, user_id, db_role, is_active)
select
    u.org_id,
    u.id,
    u.db_role,
    u.is_active
from app.user_profiles as u
where u.db_role is not null;
