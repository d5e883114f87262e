-- The application clock. Every function reads time through app.now() so that
-- tests and the demo can set it: a session's app.fake_now is honoured only in
-- a database whose app.settings.allow_fake_clock is true (owner-controlled).
create or replace function app.now()
returns timestamptz
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_fake text := pg_catalog.current_setting('app.fake_now', true);
begin
    if v_fake is null or v_fake = '' then
        return pg_catalog.clock_timestamp();
    end if;
    -- A human SQL login never moves its clock, even where the fake clock is on.
    if not pg_catalog.pg_has_role(session_user, 'intime_service', 'member') then
        return pg_catalog.clock_timestamp();
    end if;
    if not coalesce((select s.allow_fake_clock from app.settings as s), false) then
        return pg_catalog.clock_timestamp();
    end if;
    return v_fake::timestamptz;
end
$function$;
