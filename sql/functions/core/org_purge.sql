-- AFTER DELETE, per statement, on app.organizations: what an org's delete
-- removes beyond its foreign-key cascades. email_sends and
-- campaign_sequence_logs have no foreign key to the org (migration 0024: the
-- engine's inserts proved it on every row for nothing), so their rows of the
-- deleted orgs go here; a send's events and notification deliveries follow
-- by their own cascades.
create or replace function app._tg_organizations_purge()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- Read apart from the deletes (a Citus node cannot mix them, docs/scale-out.md).
    v_org_ids uuid [] := array(select o.id from old_rows as o);
begin
    delete from app.email_sends as s
    where s.org_id = any(v_org_ids);
    delete from app.campaign_sequence_logs as l
    where l.org_id = any(v_org_ids);
    return null;
end
$function$;
