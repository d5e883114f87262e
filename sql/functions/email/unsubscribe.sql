create or replace function api.unsubscribe_recipient(p_token text, p_confirm boolean default true)
returns table (result text, email text, organization text)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_send app.email_sends%rowtype;
    v_org_name text;
    v_done boolean;
begin
    perform app._require_service();
    select s.* into v_send
    from app.email_sends as s
    where s.unsubscribe_token = p_token;
    if not found then
        raise exception using errcode = 'IT004', message = 'unknown unsubscribe link';
    end if;
    select o.name into v_org_name from app.organizations as o where o.id = v_send.org_id;
    v_done := exists (
        select 1 from app.suppressions as s
        where
            s.org_id = v_send.org_id and s.email = lower(v_send.to_email)
            and s.reason = 'unsubscribe'
    );
    if p_confirm and not v_done then
        insert into app.suppressions (org_id, email, reason, source_event_id)
        values (v_send.org_id, lower(v_send.to_email), 'unsubscribe', 'one-click:' || v_send.id)
        on conflict (org_id, email, reason) do nothing;
    end if;
    return query select
        case
            when v_done then 'already_unsubscribed'
            when p_confirm then 'unsubscribed'
            else 'subscribed'
        end,
        v_send.to_email,
        v_org_name;
end
$function$;

comment on function api.unsubscribe_recipient(text, boolean) is
$$Service role only (the web app's /u/TOKEN page and RFC 8058 one-click POST). Looks up the send
by its unsubscribe token and, when p_confirm, suppresses the recipient for the sending org's
marketing and campaign mail (reason unsubscribe); transactional mail still goes. Idempotent:
a second call answers already_unsubscribed. With p_confirm false it only reports the state
(result subscribed or already_unsubscribed) for the confirmation page. IT004 for an unknown
token.$$;
