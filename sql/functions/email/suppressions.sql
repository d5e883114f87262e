-- Suppression management (docs/email.md): a suppression added by hand
-- (reason manual, a "don't email me"), one lifted (a bounce recorded by
-- mistake), the org's list, and the audit of every change, whoever made it.

-- Row trigger on app.suppressions (sql/triggers/email.sql): every suppression
-- added or lifted is a row of app.suppression_changes, by the calling user
-- (null: the engine, a bounce or an unsubscribe). A lift's note comes from
-- api.remove_suppression (the transaction-local intime.suppression_note).
create or replace function app._tg_suppression_audit()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    if tg_op = 'INSERT' then
        insert into app.suppression_changes (
            org_id, email, reason, action, note, changed_by, changed_at
        )
        values (
            new.org_id, new.email, new.reason, 'added', new.note, app.current_user_id(),
            app.now()
        );
        return null;
    end if;
    -- The org itself is being deleted (its rows cascade): nobody is left to read it.
    if not exists (select 1 from app.organizations as o where o.id = old.org_id) then
        return null;
    end if;
    insert into app.suppression_changes (
        org_id, email, reason, action, note, changed_by, changed_at
    )
    values (
        old.org_id, old.email, old.reason, 'removed',
        nullif(pg_catalog.current_setting('intime.suppression_note', true), ''),
        app.current_user_id(), app.now()
    );
    return null;
end
$function$;

create or replace function api.add_suppression(p_email text, p_note text default null)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_email text := lower(btrim(p_email));
    v_id uuid;
begin
    perform app._require_permission('suppressions.manage');
    if not coalesce(app._email_is_plain_address(v_email), false) then
        raise exception using
            errcode = 'IT005', message = format('invalid email address %L', p_email);
    end if;
    if length(p_note) > 1000 then
        raise exception using errcode = 'IT005', message = 'p_note: at most 1000 characters';
    end if;
    insert into app.suppressions (org_id, email, reason, note, created_by, created_at)
    values (
        v_org_id, v_email, 'manual', nullif(btrim(p_note), ''), app.current_user_id(),
        app.now()
    )
    on conflict (org_id, email, reason) do nothing
    returning id into v_id;
    if v_id is null then
        raise exception using
            errcode = 'IT006',
            message = format('%s is already suppressed by hand', v_email),
            hint = 'api.list_suppressions shows it with its note.';
    end if;
    return v_id;
end
$function$;

comment on function api.add_suppression(text, text) is
$$Suppresses an address for the caller's org by hand (reason manual, with p_note and the
caller as created_by): a customer's "don't email me". It blocks every email to the address,
transactional mail included (an unsubscribe blocks marketing and campaign mail only), and
stops the address's active and paused campaign enrollments at once, as an unsubscribe does
(status unsubscribed, stop_reason manual, a log line). Audited in app.suppression_changes.
Needs suppressions.manage (admins; a role the org grants it to), else IT003. IT005 for an
address that is not one plain address or a note over 1000 characters, IT006 when the
address is already suppressed by hand. Returns the suppression's id.$$;

create or replace function api.remove_suppression(
    p_email text,
    p_reason text default null,
    p_note text default null,
    p_force boolean default false
)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_email text := lower(btrim(p_email));
    v_reasons text[];
    v_risky text[];
    v_count integer;
begin
    perform app._require_permission('suppressions.manage');
    if coalesce(v_email, '') = '' then
        raise exception using errcode = 'IT005', message = 'p_email is required';
    end if;
    if p_reason is not null and p_reason not in (
        'hard_bounce', 'soft_bounce', 'complaint', 'unsubscribe', 'manual', 'provider'
    ) then
        raise exception using errcode = 'IT005', message = format('unknown reason %L', p_reason);
    end if;
    if length(p_note) > 1000 then
        raise exception using errcode = 'IT005', message = 'p_note: at most 1000 characters';
    end if;
    select array_agg(s.reason order by s.reason) into v_reasons
    from (
        select s.reason
        from app.suppressions as s
        where
            s.org_id = v_org_id and s.email = v_email
            and (p_reason is null or s.reason = p_reason)
        for update
    ) as s;
    if v_reasons is null then
        raise exception using
            errcode = 'IT004',
            message = format(
                '%s is not suppressed%s', v_email, coalesce(format(' (%s)', p_reason), '')
            );
    end if;
    v_risky := array(
        select r.reason
        from unnest(v_reasons) as r (reason)
        where r.reason in ('hard_bounce', 'complaint', 'unsubscribe', 'provider')
    );
    if cardinality(v_risky) > 0 and not coalesce(p_force, false) then
        raise exception using
            errcode = 'IT017',
            message = format(
                'lifting %s from %s needs p_force => true', array_to_string(v_risky, ', '),
                v_email
            ),
            hint = concat_ws(
                ' ',
                case when 'hard_bounce' = any(v_risky) then
                    'The address bounced permanently: it does not exist or refuses mail, and '
                    || 'mailing it again hurts the org''s sender reputation. Lift it only when '
                    || 'you know the address works now.'
                end,
                case when 'complaint' = any(v_risky) then
                    'The recipient reported the org''s mail as spam: more mail risks more '
                    || 'complaints and the provider suspending the account.'
                end,
                case when 'unsubscribe' = any(v_risky) then
                    'The recipient unsubscribed: mailing them marketing again needs their '
                    || 'renewed consent (CAN-SPAM, GDPR).'
                end,
                case when 'provider' = any(v_risky) then
                    'The provider suppresses the address on its side too: lifting it here '
                    || 'does not lift it there.'
                end
            );
    end if;
    -- The note of the lift, for the audit trigger (app._tg_suppression_audit).
    perform pg_catalog.set_config('intime.suppression_note', coalesce(btrim(p_note), ''), true);
    delete from app.suppressions as s
    where
        s.org_id = v_org_id and s.email = v_email
        and (p_reason is null or s.reason = p_reason);
    get diagnostics v_count = row_count;
    perform pg_catalog.set_config('intime.suppression_note', '', true);
    return v_count;
end
$function$;

comment on function api.remove_suppression(text, text, text, boolean) is
$$Lifts the caller's org's suppressions of p_email: the one with reason p_reason, or all of
them (null), with p_note in the audit (app.suppression_changes). Returns how many were
lifted. A hard_bounce, complaint, unsubscribe or provider suppression is lifted only with
p_force => true, else IT017 with a hint saying what the risk is (sender reputation, the
recipient's consent, the provider's own list); soft_bounce and manual lift without it. Enrollments that a
suppression stopped stay stopped. Needs suppressions.manage, else IT003. IT004 when the
address has no such suppression, IT005 for a missing address, an unknown reason or a note
over 1000 characters.$$;

create or replace function api.list_suppressions(
    p_email_like text default null,
    p_reason text default null,
    p_limit integer default 100,
    p_offset integer default 0
)
returns table (
    id uuid,
    email text,
    reason text,
    note text,
    created_by uuid,
    source_event_id text,
    created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if p_limit is null or p_limit not between 1 and 1000 then
        raise exception using errcode = 'IT005', message = 'p_limit: 1 to 1000';
    end if;
    if p_offset is null or p_offset < 0 then
        raise exception using errcode = 'IT005', message = 'p_offset: 0 or more';
    end if;
    return query
    select s.id, s.email, s.reason, s.note, s.created_by, s.source_event_id, s.created_at
    from app.suppressions as s
    where
        s.org_id = v_org_id
        and (p_email_like is null or s.email like lower(p_email_like))
        and (p_reason is null or s.reason = p_reason)
    order by s.created_at desc, s.id
    limit p_limit offset p_offset;
end
$function$;

comment on function api.list_suppressions(text, text, integer, integer) is
$$The caller's org's suppressions, newest first, p_limit (1-1000, default 100) from
p_offset: id, email, reason (hard_bounce, soft_bounce, complaint, unsubscribe, manual,
provider), note, created_by (null: added by the engine), source_event_id, created_at.
p_email_like is a LIKE pattern on the lowercased address ('%@acme.example'); p_reason
keeps one reason. Any user of the org may read them (app.suppressions is readable anyway);
changing them needs suppressions.manage. IT005 for a limit or offset out of range.$$;

create or replace function api.list_suppression_changes(
    p_email text default null,
    p_limit integer default 100,
    p_offset integer default 0
)
returns table (
    id bigint,
    email text,
    reason text,
    action text,
    note text,
    changed_by uuid,
    changed_at timestamptz
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
begin
    if p_limit is null or p_limit not between 1 and 1000 then
        raise exception using errcode = 'IT005', message = 'p_limit: 1 to 1000';
    end if;
    if p_offset is null or p_offset < 0 then
        raise exception using errcode = 'IT005', message = 'p_offset: 0 or more';
    end if;
    return query
    select c.id, c.email, c.reason, c.action, c.note, c.changed_by, c.changed_at
    from app.suppression_changes as c
    where
        c.org_id = v_org_id
        and (p_email is null or c.email = lower(btrim(p_email)))
    order by c.id desc
    limit p_limit offset p_offset;
end
$function$;

comment on function api.list_suppression_changes(text, integer, integer) is
$$The audit of the caller's org's suppressions, newest first, p_limit (1-1000, default 100)
from p_offset, for one address (p_email) or all: each suppression added or lifted (action
added or removed), its reason and note, who (changed_by; null for the engine: a bounce, a
complaint, an unsubscribe link) and when. Any user of the org may read it. IT005 for a limit
or offset out of range.$$;
