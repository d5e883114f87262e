create or replace function api.set_email_settings(
    p_from_email text,
    p_reply_domain text,
    p_from_name text default null,
    p_provider text default 'outbox',
    p_rate_limit_per_minute integer default 100
)
returns app.email_settings
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_settings app.email_settings%rowtype;
    v_refusal text;
begin
    perform app._require_permission('email_settings.manage');
    if not coalesce(app._email_is_plain_address(p_from_email), false) then
        raise exception using
            errcode = 'IT005',
            message = format('invalid from address %L', p_from_email),
            hint = 'One plain address: local@domain.tld, no name, comma or encoded word.';
    end if;
    if not coalesce(app._email_is_domain(lower(p_reply_domain)), false) then
        raise exception using
            errcode = 'IT005', message = format('invalid reply domain %L', p_reply_domain);
    end if;
    if p_from_name ~ '[\r\n]' then
        raise exception using errcode = 'IT005', message = 'the from name must be one line';
    end if;
    -- A display name that looks like an address ("Acme Billing <billing@acme.example>")
    -- shows the reader another org's address beside ours.
    if p_from_name ~ '[<>@"]' or length(p_from_name) > 100 then
        raise exception using
            errcode = 'IT005',
            message = format('invalid from name %L', p_from_name),
            hint = 'A name of at most 100 characters, without <, >, @ or double quotes.';
    end if;
    if p_provider is null or p_provider not in ('smtp', 'resend', 'outbox') then
        raise exception using
            errcode = 'IT005',
            message = format('invalid provider %L', p_provider),
            hint = 'Use smtp, resend or outbox.';
    end if;
    if p_rate_limit_per_minute is null or p_rate_limit_per_minute < 1 then
        raise exception using errcode = 'IT005', message = 'the rate limit must be at least 1';
    end if;
    -- Only the org's own domains (docs/email.md, "Sending domains").
    v_refusal := coalesce(
        app._email_domain_refusal(v_org_id, lower(split_part(p_from_email, '@', 2)), p_provider),
        app._email_domain_refusal(v_org_id, lower(p_reply_domain), p_provider)
    );
    if v_refusal is not null then
        raise exception using
            errcode = 'IT005',
            message = v_refusal,
            hint = 'Claim it with api.add_sending_domain, publish its TXT record and call '
            || 'api.check_sending_domain; provider outbox takes a claimed domain not yet verified.';
    end if;

    insert into app.email_settings (
        org_id, from_email, from_name, reply_domain, provider, rate_limit_per_minute
    )
    values (
        v_org_id, p_from_email, p_from_name, lower(p_reply_domain), p_provider,
        p_rate_limit_per_minute
    )
    on conflict (org_id) do update
    set
        from_email = excluded.from_email,
        from_name = excluded.from_name,
        reply_domain = excluded.reply_domain,
        provider = excluded.provider,
        rate_limit_per_minute = excluded.rate_limit_per_minute,
        updated_at = excluded.updated_at
    returning * into v_settings;
    return v_settings;
end
$function$;

comment on function api.set_email_settings(text, text, text, text, integer) is
$$Sets the caller's org's sending settings (email_settings.manage, admins by default, or the
service role; IT003 otherwise): the From address
and name, the reply domain (Message-IDs and reply+token@ addresses are on it), the provider
(smtp, resend or outbox; credentials come from the environment, never from tables) and the
sending limit per minute (default 100). The From address's domain and the reply domain must
be sending domains of the org (api.add_sending_domain), verified for smtp and resend (outbox
takes a claimed one not yet verified), and never one another org verified: IT005 otherwise.
Returns the settings row.$$;
