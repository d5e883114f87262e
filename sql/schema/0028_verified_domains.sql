-- Issue 18: the verified sending domains, one row per domain, in a table of their
-- own. A verified domain belongs to one org (its mail, inbound and outbound): on a
-- single node the partial unique index on app.sending_domains (domain) held it,
-- but on Citus sending_domains is spread over the workers by org and a unique key
-- must include org_id (docs/scale-out.md, "What intime db migrate does"). This
-- table is, on a cluster, a reference table copied to every node whose primary key
-- keeps a domain to one org across tenants. app._email_mark_domain writes it beside
-- sending_domains; inbound mail finds a domain's org here. Nobody but the owner
-- reads or writes it.
create table app.verified_domains (
    org_id uuid not null references app.organizations (id) on delete cascade,
    domain text not null unique,
    verified_at timestamptz not null,
    primary key (org_id, domain)
);

select app._enable_tenant_rls('app.verified_domains');

insert into app.verified_domains (domain, org_id, verified_at)
select
    d.domain,
    d.org_id,
    d.verified_at
from app.sending_domains as d
where d.verified_at is not null;
