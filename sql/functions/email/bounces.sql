-- Bounce reports that come back as mail (DSN, RFC 3464; other shapes through
-- flufl.bounce in the parser, web/mime.py), applied to their send with the rules of a
-- Resend bounce (docs/email.md, "Bounces").

-- Applies the report p_dsn (the parser's dsn object, or null for a message the
-- classifier found to be a bounce report without one) to the send it came back for:
-- through app._email_apply_events, with a synthesized event whose provider_event_id is
-- 'dsn:' plus the report's Message-ID, so a report delivered twice is applied once.
-- The recipient the report is about: the send's own address when it is named,
-- failures before delays. Action failed with a 5.x.x status: a hard bounce (suppressed
-- at once); failed with 4.x.x, or with no status (an explicit failure of unknown
-- class): a soft bounce (three suppress); delayed: delivery_delayed, no bounce.
-- An unreadable report (no report, or no recipient whose action is failed or delayed,
-- and none delivered) changes nothing: the caller records it, tied to its send, and
-- the send, its enrollment and the suppressions stay as they are (a delay warning
-- the parser could not read must not stop a sequence).
-- Returns 'hard', 'soft', 'delayed', 'unreadable', or null when nothing was applied
-- for another reason (a report of a successful delivery, or one applied before).
create or replace function app._email_apply_bounce_report(
    p_org_id uuid,
    p_send_id uuid,
    p_message_id text,
    p_dsn jsonb
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_event_id text := 'dsn:' || p_message_id;
    v_recipients jsonb := case
        when jsonb_typeof(p_dsn -> 'recipients') = 'array' then p_dsn -> 'recipients'
        else '[]'
    end;
    v_to text;
    v_recipient jsonb;
    v_action text;
    v_status text;
    v_diagnostic text;
    v_kind text;
    v_data jsonb;
begin
    if exists (select 1 from app.email_events as e where e.provider_event_id = v_event_id) then
        return null;
    end if;
    select s.to_email into v_to
    from app.email_sends as s
    where s.org_id = p_org_id and s.id = p_send_id;

    select r.value into v_recipient
    from jsonb_array_elements(v_recipients) with ordinality as r (value, n)
    where jsonb_typeof(r.value) = 'object' and r.value ->> 'action' in ('failed', 'delayed')
    order by
        coalesce(lower(r.value ->> 'recipient') = lower(v_to), false) desc,
        r.value ->> 'action' = 'failed' desc,
        r.n
    limit 1;
    if v_recipient is null then
        -- Every recipient delivered, relayed or expanded: nothing to apply. Else no
        -- recipient says what happened: unreadable, applied to nothing.
        return case
            when exists (
                select 1 from jsonb_array_elements(v_recipients) as r (value)
                where
                    jsonb_typeof(r.value) = 'object'
                    and r.value ->> 'action' in ('delivered', 'relayed', 'expanded')
            ) then null
            else 'unreadable'
        end;
    end if;

    v_action := v_recipient ->> 'action';
    v_status := substring(v_recipient ->> 'status' from '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$');
    v_diagnostic := left(v_recipient ->> 'diagnostic', 1000);
    v_kind := case
        when v_action = 'delayed' then 'delayed'
        when v_status like '5.%' then 'hard'
        -- Failed with 4.x.x, or failed with no status (the class unknown): soft.
        else 'soft'
    end;
    v_data := jsonb_build_object(
        'to', jsonb_build_array(v_to),
        'dsn', jsonb_strip_nulls(jsonb_build_object(
            'message_id', p_message_id,
            'source', left(p_dsn ->> 'source', 100),
            'recipient', left(v_recipient ->> 'recipient', 320),
            'action', v_action,
            'status', v_status,
            'diagnostic', v_diagnostic,
            'remote_mta', left(v_recipient ->> 'remote_mta', 1000),
            'reporting_mta', left(p_dsn ->> 'reporting_mta', 1000)
        ))
    );
    if v_kind <> 'delayed' then
        v_data := v_data || jsonb_build_object('bounce', jsonb_strip_nulls(jsonb_build_object(
            'type', case when v_kind = 'hard' then 'Permanent' else 'Transient' end,
            'subType', 'dsn',
            'message', v_diagnostic,
            'status', v_status
        )));
    end if;
    perform app._email_apply_events(
        p_org_ids => array[p_org_id],
        p_send_ids => array[p_send_id],
        p_event_ids => array[v_event_id],
        p_payloads => array[jsonb_build_object(
            'type', case when v_kind = 'delayed' then 'email.delivery_delayed' else 'email.bounced' end,
            'data', v_data
        )],
        p_received_at => array[app.now()]
    );
    return v_kind;
end
$function$;
