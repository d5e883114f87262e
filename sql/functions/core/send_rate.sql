-- A user's sending rate (docs/permissions.md): p_sent more of p_kind
-- ('notification' or 'email') and what the caller sent in the last minute may
-- not pass app.settings.notification_rate_per_minute or email_rate_per_minute
-- (IT016, the wait in the hint); within it, the call is logged in app.send_log.
-- A user's sends take one transaction-scoped lock (both kinds: re-entrant, so
-- no order between two kinds can deadlock): a second transaction of the same
-- user counts after the first committed or rolled back, so parallel
-- transactions cannot each spend the whole minute. It holds until commit;
-- other users never wait, and a transaction that holds it open stalls that
-- user's other sends 5 seconds at most (IT016 then, with a retry hint; a
-- session's shorter lock_timeout stands). With no user in context (the
-- engine: workflows, campaigns, the worker) there is no limit, no lock and
-- nothing is logged.
create or replace function app._require_send_rate(p_kind text, p_sent integer)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app.current_org_id();
    v_user_id uuid := app.current_user_id();
    v_now timestamptz := app.now();
    v_rate integer;
    v_recent integer;
    v_oldest timestamptz;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
begin
    if v_user_id is null or coalesce(p_sent, 0) < 1 then
        return;
    end if;
    if v_lock_timeout = '0' then
        perform pg_catalog.set_config('lock_timeout', '5s', true);
    end if;
    begin
        perform pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('intime.send_rate:' || v_org_id || ':' || v_user_id, 0)
        );
    exception when lock_not_available then
        raise exception using
            errcode = 'IT016',
            message = 'another transaction of this user is sending and has not ended',
            hint = 'Retry in 5 seconds.';
    end;
    perform pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    select case p_kind
        when 'notification' then s.notification_rate_per_minute
        when 'email' then s.email_rate_per_minute
    end
    into v_rate
    from app.settings as s;
    if v_rate is null then
        raise exception using errcode = 'IT005', message = format('unknown send kind %L', p_kind);
    end if;
    select coalesce(sum(l.sent), 0), min(l.sent_at) into v_recent, v_oldest
    from app.send_log as l
    where
        l.org_id = v_org_id and l.user_id = v_user_id and l.kind = p_kind
        and l.sent_at > v_now - interval '1 minute';
    if v_recent + p_sent > v_rate then
        raise exception using
            errcode = 'IT016',
            message = format(
                'sending rate exceeded: %s %ss asked, %s left of %s a minute',
                p_sent, p_kind, greatest(v_rate - v_recent, 0), v_rate
            ),
            hint = format(
                'Retry in %s seconds.',
                ceil(extract(epoch from coalesce(v_oldest, v_now) + interval '1 minute' - v_now))
            );
    end if;
    insert into app.send_log (org_id, user_id, kind, sent_at, sent)
    values (v_org_id, v_user_id, p_kind, v_now, p_sent);
end
$function$;
