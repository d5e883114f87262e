-- TEMPORARY (issue 15, helper B's branch): a stand-in for helper E's
-- app._campaign_pause_out_of_office, so api.record_inbound_email (email/inbound.sql)
-- can call it. It does nothing and returns null. The merge replaces this whole file
-- with helper E's version (same signature), which pauses the enrollment.
create or replace function app._campaign_pause_out_of_office(
    p_org_id uuid,
    p_send_id uuid,
    p_inbound_id uuid
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform p_org_id, p_send_id, p_inbound_id;
    return null;
end
$function$;
