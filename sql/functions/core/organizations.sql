create or replace function api.create_organization(
    p_name text,
    p_slug text,
    p_timezone text default 'UTC'
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid;
begin
    perform app._require_service();
    if p_name is null or length(btrim(p_name)) = 0 then
        raise exception using errcode = 'IT005', message = 'organization name must not be empty';
    end if;
    if p_slug is null or p_slug !~ '^[a-z0-9][a-z0-9-]{1,62}$' then
        raise exception using
            errcode = 'IT005',
            message = format('invalid organization slug %L', p_slug),
            hint = 'Use 2 to 63 lower-case letters, digits and dashes.';
    end if;
    perform app._assert_time_zone(p_timezone, 'the organization');
    if exists (select 1 from app.organizations as o where o.slug = p_slug) then
        raise exception using
            errcode = 'IT006', message = format('organization slug %s is taken', p_slug);
    end if;

    insert into app.organizations (name, slug, timezone)
    values (btrim(p_name), p_slug, p_timezone)
    returning id into v_org_id;

    -- Every org starts with a standard pipeline it may edit.
    insert into app.deal_stages (org_id, name, position, probability, is_won, is_lost)
    values
    (v_org_id, 'Lead', 1, 10, false, false),
    (v_org_id, 'Qualified', 2, 25, false, false),
    (v_org_id, 'Proposal', 3, 50, false, false),
    (v_org_id, 'Negotiation', 4, 75, false, false),
    (v_org_id, 'Closed Won', 5, 100, true, false),
    (v_org_id, 'Closed Lost', 6, 0, false, true);

    return v_org_id;
end
$function$;

comment on function api.create_organization(text, text, text) is
$$Service role only. Creates an organization with a standard six-stage deal pipeline
(Lead 10%, Qualified 25%, Proposal 50%, Negotiation 75%, Closed Won, Closed Lost) and returns
its id. The slug is 2-63 lower-case letters, digits and dashes, unique (IT005 invalid,
IT006 taken).$$;
