-- AFTER INSERT OR UPDATE on comments, per statement: every mentioned user
-- must be a user of the comment's organization. An array cannot carry a
-- foreign key, and a mention of another org's user would later route a
-- notification across tenants. Running after the row-level security checks
-- keeps RLS the first line of refusal; one set-based query per statement.
create or replace function app._tg_comment_mentions()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_unknown uuid;
    -- Each mention as (org, user): the transition table is read here, apart from the
    -- statement on user_profiles (a Citus worker cannot mix them, docs/scale-out.md).
    v_org_ids uuid[];
    v_user_ids uuid[];
    -- The mentioned users that exist, read by key in a statement of their own:
    -- on a Citus shard a probe per mention would need a correlated subquery.
    v_found_orgs uuid[];
    v_found_ids uuid[];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select array_agg(c.org_id), array_agg(m.user_id) into v_org_ids, v_user_ids
    from new_rows as c
    cross join lateral unnest(c.mentioned_user_ids) as m (user_id);
    if v_org_ids is null then
        return null;
    end if;
    select array_agg(u.org_id), array_agg(u.id) into v_found_orgs, v_found_ids
    from app.user_profiles as u
    where u.org_id = any(v_org_ids) and u.id = any(v_user_ids);
    select m.user_id into v_unknown
    from unnest(v_org_ids, v_user_ids) as m (org_id, user_id)
    where not exists (
        select 1
        from unnest(v_found_orgs, v_found_ids) as u (org_id, id)
        where u.org_id = m.org_id and u.id = m.user_id
    )
    limit 1;
    if found then
        raise exception using
            errcode = 'IT004',
            message = format('mentioned user %s not found', v_unknown);
    end if;
    return null;
end
$function$;
