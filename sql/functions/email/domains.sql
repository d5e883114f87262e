-- Sending domains (docs/email.md, "Sending domains"): an org claims a domain,
-- publishes the TXT record it is given, and the worker's domains.verify job (or
-- the platform) marks it verified. A verified domain belongs to one org.

-- A domain name as we accept it: LDH labels of 1 to 63 characters (no empty
-- label, no hyphen at either end), at least two labels, an alphabetic top-level
-- label of 2+ letters or an IDNA one (xn--), lower case, 253 characters in all.
-- Null for null. Label lengths are checked apart (see _email_is_plain_address).
create or replace function app._email_is_domain(p_domain text)
returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select
        p_domain ~ '^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+([a-z][a-z]+|xn--[a-z0-9-]+)$'
        -- 238: the TXT record's name, _intime-verify.<domain>, must fit in 253.
        and length(p_domain) <= 238
        and p_domain !~ '[^.]{64}'
$function$;

-- The org's claims (one domain, or all of them) with the TXT record each needs.
create or replace function app._email_domain_records(p_org_id uuid, p_domain text default null)
returns setof app.sending_domain_record
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select
        d.domain,
        '_intime-verify.' || d.domain,
        'intime-verification=' || d.token,
        d.verified_at,
        d.last_checked_at,
        d.last_error,
        d.created_at
    from app.sending_domains as d
    where d.org_id = p_org_id and (p_domain is null or d.domain = p_domain)
    order by d.domain
$function$;

-- The org that verified p_domain, or null (app.verified_domains: on Citus a
-- reference table, read on any node).
create or replace function app._email_domain_owner(p_domain text)
returns uuid
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select v.org_id from app.verified_domains as v where v.domain = p_domain
$function$;

-- IT006 when an org other than p_org_id verified p_domain.
create or replace function app._email_assert_domain_free(p_org_id uuid, p_domain text)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if app._email_domain_owner(p_domain) <> p_org_id then
        raise exception using
            errcode = 'IT006',
            message = format('the domain %s is verified by another organization', p_domain);
    end if;
end
$function$;

-- Why p_org_id may not name p_domain in its email settings for p_provider, or
-- null when it may: the domain must be claimed by the org, not verified by
-- another, and verified by the org unless the provider is outbox (which sends
-- nothing out).
create or replace function app._email_domain_refusal(
    p_org_id uuid, p_domain text, p_provider text
)
returns text
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- Which org verified the domain, in a statement of its own: on Citus it
    -- reads every org's shards, and a query routed to this org's shard may not
    -- call a function that does (docs/scale-out.md).
    v_owner uuid := app._email_domain_owner(p_domain);
    v_claimed boolean;
    v_verified boolean;
begin
    if v_owner <> p_org_id then
        return format('the domain %s is verified by another organization', p_domain);
    end if;
    select true, d.verified_at is not null into v_claimed, v_verified
    from app.sending_domains as d
    where d.org_id = p_org_id and d.domain = p_domain;
    if v_claimed is null then
        return format('the domain %s is not claimed by this organization', p_domain);
    end if;
    if p_provider <> 'outbox' and not v_verified then
        return format('the domain %s is not verified (needed for %s)', p_domain, p_provider);
    end if;
    return null;
end
$function$;

-- The domain argument of the sending-domain functions, lower case, or IT005.
create or replace function app._email_domain_argument(p_domain text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_domain text := lower(p_domain);
begin
    if not coalesce(app._email_is_domain(v_domain), false) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid domain %L', p_domain),
            hint = 'A domain name such as mail.example.com: letters, digits and hyphens, '
            || 'labels of 1 to 63 characters, no trailing dot.';
    end if;
    return v_domain;
end
$function$;

create or replace function api.add_sending_domain(p_domain text)
returns setof app.sending_domain_record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    perform app._email_assert_domain_free(v_org_id, v_domain);
    insert into app.sending_domains (org_id, domain, token)
    values (v_org_id, v_domain, replace(gen_random_uuid()::text, '-', ''))
    on conflict on constraint sending_domains_org_id_domain_key do nothing;
    return query select * from app._email_domain_records(v_org_id, v_domain);
end
$function$;

comment on function api.add_sending_domain(text) is
$$Claims a sending domain for the caller's org (email_settings.manage; IT003 otherwise) and
returns the TXT record to publish: record_name _intime-verify.<domain>, record_value
intime-verification=<token>. The domain is lowercased and must be a plain DNS name (IT005).
Adding a domain the org already claimed returns the same record. Several orgs may claim a
domain nobody verified; one another org verified is IT006. Publish the record, then call
api.check_sending_domain.$$;

create or replace function api.list_sending_domains()
returns setof app.sending_domain_record
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
    select * from app._email_domain_records(app._require_org())
$function$;

comment on function api.list_sending_domains() is
$$The caller's org's sending domains, by name: the TXT record each needs (record_name,
record_value), when it was verified (null: not yet), and the last DNS check (when, and
what was wrong).$$;

create or replace function api.check_sending_domain(p_domain text)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
    v_verified_at timestamptz;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    select d.verified_at into v_verified_at
    from app.sending_domains as d
    where d.org_id = v_org_id and d.domain = v_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', v_domain);
    end if;
    if v_verified_at is not null then
        return 'verified';
    end if;
    perform app._enqueue_job(
        p_entrypoint => 'domains.verify',
        p_payload => jsonb_build_object('org_id', v_org_id, 'domain', v_domain),
        p_dedupe_key => format('domains.verify:%s:%s', v_org_id, v_domain),
        p_skip_duplicate => true
    );
    return 'queued';
end
$function$;

comment on function api.check_sending_domain(text) is
$$Asks the worker to look up the TXT record of a domain the caller's org claimed
(email_settings.manage; IT003 otherwise; IT004 for a domain the org did not claim): the
domains.verify job, queued in this transaction (once: a check already waiting is not
doubled). Returns 'queued', or 'verified' when it already is. The outcome shows in
api.list_sending_domains (verified_at, or last_checked_at and last_error).$$;

create or replace function api.remove_sending_domain(p_domain text)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_domain text;
begin
    perform app._require_permission('email_settings.manage');
    v_domain := app._email_domain_argument(p_domain);
    if exists (
        select 1 from app.email_settings as s
        where
            s.org_id = v_org_id
            and v_domain in (s.reply_domain, lower(split_part(s.from_email, '@', 2)))
    ) then
        raise exception using
            errcode = 'IT013',
            message = format('the domain %s is in use by the email settings', v_domain),
            hint = 'Change the From address and reply domain first (api.set_email_settings).';
    end if;
    delete from app.sending_domains as d where d.org_id = v_org_id and d.domain = v_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', v_domain);
    end if;
    delete from app.verified_domains as v where v.domain = v_domain and v.org_id = v_org_id;
end
$function$;

comment on function api.remove_sending_domain(text) is
$$Gives up a sending domain of the caller's org (email_settings.manage; IT003 otherwise).
IT004 when the org did not claim it, IT013 while the email settings name it (From address
or reply domain).$$;

-- The platform's side: the service role acting for no user (the worker's
-- domains.verify job, an operator). Raises IT002 for anyone else.
create or replace function app._email_require_platform()
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    if app.current_user_id() is not null then
        raise exception using
            errcode = 'IT002',
            message = 'this function is for the platform: the service role acting for no user';
    end if;
end
$function$;

-- Marks org p_org_id's claim on p_domain verified (p_verified: keeping an
-- earlier time) or not, checked now with p_error; IT004 without such a claim.
-- Returns the claim. app.verified_domains follows: its key keeps a domain to one
-- org across a cluster (IT006 when another org has it).
create or replace function app._email_mark_domain(
    p_org_id uuid, p_domain text, p_verified boolean, p_error text
)
returns setof app.sending_domain_record
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stamp timestamptz;
begin
    v_stamp := app.now();  -- a variable: see docs/scale-out.md, "SQL shapes"
    update app.sending_domains as d
    set
        verified_at = case when p_verified then coalesce(d.verified_at, v_stamp) end,
        last_checked_at = v_stamp,
        last_error = p_error
    where d.org_id = p_org_id and d.domain = p_domain;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('sending domain %s not found', p_domain);
    end if;
    if p_verified then
        insert into app.verified_domains (domain, org_id, verified_at)
        values (p_domain, p_org_id, v_stamp)
        on conflict do nothing;
        if app._email_domain_owner(p_domain) <> p_org_id then
            raise exception using
                errcode = 'IT006',
                message = format('the domain %s is verified by another organization', p_domain);
        end if;
    else
        delete from app.verified_domains as v
        where v.domain = p_domain and v.org_id = p_org_id;
    end if;
    return query select * from app._email_domain_records(p_org_id, p_domain);
end
$function$;

create or replace function api.verify_sending_domain(p_org_id uuid, p_domain text)
returns setof app.sending_domain_record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_domain text;
begin
    perform app._email_require_platform();
    v_domain := app._email_domain_argument(p_domain);
    -- Two orgs verifying one domain at once: the second waits, then sees the
    -- first's verification (IT006), never the index's unique violation.
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('intime.sending_domain:' || v_domain, 0)
    );
    perform app._email_assert_domain_free(p_org_id, v_domain);
    return query select * from app._email_mark_domain(p_org_id, v_domain, true, null);
end
$function$;

comment on function api.verify_sending_domain(uuid, text) is
$$Platform only (the service role acting for no user; IT002 otherwise): marks org
p_org_id's claim on p_domain verified (at app.now(); a verified claim keeps its time). The
worker's domains.verify job calls it when the TXT record matches. IT004 when the org did not
claim the domain, IT006 when another org verified it. Returns the claim.$$;

create or replace function api.revoke_sending_domain(p_org_id uuid, p_domain text)
returns setof app.sending_domain_record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_domain text := lower(p_domain);
begin
    perform app._email_require_platform();
    return query select * from app._email_mark_domain(
        p_org_id, v_domain, false, 'verification revoked by the platform'
    );
end
$function$;

comment on function api.revoke_sending_domain(uuid, text) is
$$Platform only (the service role acting for no user; IT002 otherwise): takes back the
verification of org p_org_id's claim on p_domain (a squatted domain, one verified by the
upgrade that its real owner asks for, a domain that changed hands). The claim stays,
unverified: smtp and resend mail from it fails at the claim until it is verified again, and
another org may verify the domain. IT004 when the org has no such claim. Returns the
claim.$$;

create or replace function api.record_sending_domain_check(
    p_org_id uuid, p_domain text, p_error text
)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._email_require_platform();
    update app.sending_domains as d
    set last_checked_at = app.now(), last_error = left(p_error, 500)
    where d.org_id = p_org_id and d.domain = lower(p_domain);
end
$function$;

comment on function api.record_sending_domain_check(uuid, text, text) is
$$Platform only (the service role acting for no user; IT002 otherwise): records a DNS check
of org p_org_id's claim on p_domain that did not verify it (last_checked_at, and p_error as
last_error, cut at 500 characters). A claim since removed is left alone.$$;
