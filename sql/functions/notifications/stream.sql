-- The stream hubs' registration (web/hub.py), on the real clock.

create or replace function api.renew_stream_hub(p_hub_id uuid, p_polling_for interval)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := pg_catalog.clock_timestamp();
begin
    perform app._require_service();
    if p_hub_id is null or p_polling_for is null or p_polling_for < interval '0'
        or p_polling_for > interval '1 minute' then
        raise exception using
            errcode = 'IT005',
            message = 'p_hub_id is required and p_polling_for must be between 0 and 1 minute';
    end if;
    insert into app.stream_hubs as h (hub_id, polling_until, seen_at)
    values (p_hub_id, v_now + p_polling_for, v_now)
    on conflict (hub_id) do update set
        polling_until = excluded.polling_until,
        seen_at = excluded.seen_at;
    delete from app.stream_hubs as h where h.seen_at < v_now - interval '1 minute';
end
$function$;

comment on function api.renew_stream_hub(uuid, interval) is
$$Service role only (the web process's stream hub). Records that hub p_hub_id is alive and
reads the notifications table by itself for the next p_polling_for (0 when idle: then
every write wakes it with NOTIFY). While every hub seen in the last 5 seconds is polling,
writes skip their NOTIFY. Hubs not seen for a minute are forgotten.$$;

create or replace function api.remove_stream_hub(p_hub_id uuid)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    delete from app.stream_hubs as h where h.hub_id = p_hub_id;
end
$function$;

comment on function api.remove_stream_hub(uuid) is
$$Service role only. Forgets hub p_hub_id (a web process shutting down).$$;
