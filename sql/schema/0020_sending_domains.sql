-- Sending domains (docs/email.md): an org claims a domain, publishes a TXT record
-- (_intime-verify.<domain> = intime-verification=<token>) and the worker's
-- domains.verify job marks it verified. Several orgs may claim a domain that is
-- not verified; a verified domain belongs to one org. Email settings name only
-- claimed domains (verified ones for smtp and resend), and inbound mail to a
-- verified domain is filed under its org only.
create table app.sending_domains (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    domain text not null check (domain = lower(domain) and length(domain) between 4 and 253),
    token text not null check (token ~ '^[0-9a-f]{32,64}$'),
    created_at timestamptz not null default app.now(),
    verified_at timestamptz,
    last_checked_at timestamptz,
    last_error text check (length(last_error) <= 500),
    primary key (org_id, id),
    unique (org_id, domain)
);

-- One org per verified domain; also how inbound mail finds a domain's owner.
create unique index sending_domains_verified_idx on app.sending_domains (domain)
where verified_at is not null;

select app._enable_tenant_rls('app.sending_domains');

-- A claim as api.add_sending_domain, api.list_sending_domains and
-- api.verify_sending_domain return it: the TXT record it needs and its state.
create type app.sending_domain_record as (
    domain text,
    record_name text,
    record_value text,
    verified_at timestamptz,
    last_checked_at timestamptz,
    last_error text,
    created_at timestamptz
);

-- The domains that email settings already name keep working: each is claimed by
-- its org, and verified when no other org's settings name it (a domain two orgs
-- name stays unverified for both, and their smtp or resend mail from it fails
-- with the reason until the rightful owner verifies it).
insert into app.sending_domains (org_id, domain, token, verified_at)
select
    u.org_id,
    u.domain,
    replace(gen_random_uuid()::text, '-', '') as token,
    case when count(*) over (partition by u.domain) = 1 then app.now() end as verified_at
from (
    select
        s.org_id,
        lower(split_part(s.from_email, '@', 2)) as domain
    from app.email_settings as s
    union
    select
        s.org_id,
        s.reply_domain
    from app.email_settings as s
) as u
where length(u.domain) between 4 and 253;

update app.permissions
set description = 'Set the org''s sending identity, provider and limits; claim its sending domains.'
where name = 'email_settings.manage';
