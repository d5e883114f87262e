-- The order of email statuses. Terminal ones never change again.
create or replace function app._email_status_rank(p_status text)
returns integer
language sql
immutable
as $function$
    -- A searched CASE: Citus sends a simple one (CASE p_status WHEN ...), once
    -- inlined into an UPDATE, to the worker as text = boolean (docs/scale-out.md).
    select case
        when p_status = 'queued' then 0
        when p_status = 'sending' then 1
        when p_status = 'sent' then 2
        when p_status = 'delivery_delayed' then 3
        when p_status = 'delivered' then 4
        when p_status = 'opened' then 5
        when p_status = 'clicked' then 6
        else 100  -- bounced, complained, failed, suppressed
    end
$function$;

-- Why p_email may not receive mail of p_category from org p_org_id, or null.
-- An unsubscribe stops marketing and campaign mail only; every other reason
-- stops everything: a suppression added by hand ('manual', a "don't email
-- me") blocks transactional mail too.
create or replace function app._email_suppression_reason(
    p_org_id uuid, p_email text, p_category text
)
returns text
language sql
stable
set search_path = pg_catalog, pg_temp
as $function$
    select s.reason
    from app.suppressions as s
    where
        s.org_id = p_org_id
        and s.email = lower(p_email)
        and (s.reason <> 'unsubscribe' or p_category in ('marketing', 'campaign'))
    order by s.created_at
    limit 1
$function$;

-- One plain address, as strict as the email-validator library without its
-- internationalised forms: a dot-atom local part of ASCII atext (no quotes,
-- comments, spaces, commas or other list separators: a comma would smuggle a
-- second recipient past suppression, or give a message two authors), no RFC
-- 2047 encoded word (=?...?=: a header encoder would rewrite it on the wire
-- into another address), a domain of 2+ LDH labels of at most 63 characters
-- ending in an alphabetic or xn-- top-level label (no [literal], which stalls
-- a relay); 64 characters of local part, 254 in all. Null for null.
create or replace function app._email_is_plain_address(p_address text)
returns boolean
language sql
immutable
as $function$
    -- No bounded repetition ({0,61}) in the pattern: PostgreSQL's regex engine
    -- pays for it on every call (17x here), and the campaign tick checks every
    -- recipient. Label lengths are checked apart.
    select
        p_address ~ (
            '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*'
            || '@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+'
            || '([A-Za-z][A-Za-z]+|xn--[A-Za-z0-9-]+)$'
        )
        and strpos(p_address, '=?') = 0
        and length(p_address) <= 254
        and length(split_part(p_address, '@', 1)) <= 64
        and split_part(p_address, '@', 2) !~ '[^.]{64}'
$function$;

-- Writes one email_sends row with final (already rendered) content and, unless
-- the recipient is suppressed, its email.send job. The org must have email
-- settings (IT011). Shared by api.queue_email, api.send_test_email (p_is_test:
-- never counted in statistics) and the notification engine.
create or replace function app._email_insert_send(
    p_org_id uuid,
    p_to text,
    p_subject text,
    p_html text,
    p_text text,
    p_category text,
    p_template_id uuid default null,
    p_variables jsonb default '{}',
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_send_after timestamptz default null,
    p_enrollment_id uuid default null,
    p_workflow_action_id uuid default null,
    p_notification_id uuid default null,
    p_recipient_user_id uuid default null,
    p_is_test boolean default false
)
returns app.email_sends
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_settings app.email_settings%rowtype;
    v_reason text;
    v_row app.email_sends%rowtype;
    v_id uuid := gen_random_uuid();
    v_reply_token text := replace(gen_random_uuid()::text, '-', '');
begin
    if not coalesce(app._email_is_plain_address(p_to), false) then
        raise exception using errcode = 'IT005', message = format('invalid recipient %L', p_to);
    end if;
    if p_category not in ('transactional', 'marketing', 'campaign') then
        raise exception using errcode = 'IT005', message = format('invalid category %L', p_category);
    end if;
    select s.* into v_settings from app.email_settings as s where s.org_id = p_org_id;
    if not found then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;
    v_reason := app._email_suppression_reason(p_org_id, p_to, p_category);

    insert into app.email_sends (
        org_id, id, to_email, from_email, from_name, reply_to, subject, html_body, text_body,
        category, template_id, variables, entity_type, entity_id, enrollment_id,
        workflow_action_id, notification_id, recipient_user_id, status, suppression_reason,
        provider, message_id, reply_token, unsubscribe_token, send_after, is_test
    )
    values (
        p_org_id, v_id, p_to, v_settings.from_email, v_settings.from_name,
        format('reply+%s@%s', v_reply_token, v_settings.reply_domain),
        regexp_replace(p_subject, '[\r\n]+', ' ', 'g'),
        p_html, p_text, p_category, p_template_id, coalesce(p_variables, '{}'),
        p_entity_type, p_entity_id, p_enrollment_id, p_workflow_action_id, p_notification_id,
        p_recipient_user_id,
        case when v_reason is null then 'queued' else 'suppressed' end,
        v_reason, v_settings.provider,
        format('<%s@%s>', v_id, v_settings.reply_domain),
        v_reply_token, replace(gen_random_uuid()::text, '-', ''), p_send_after,
        coalesce(p_is_test, false)
    )
    returning * into v_row;

    if v_reason is null then
        perform app._enqueue_job(
            p_entrypoint => 'email.send',
            p_payload => jsonb_build_object('org_id', p_org_id, 'email_send_id', v_id),
            p_at => p_send_after,
            p_dedupe_key => 'email.send:' || v_id
        );
    end if;
    return v_row;
end
$function$;

create or replace function api.queue_email(
    p_to text,
    p_template_slug text default null,
    p_variables jsonb default '{}',
    p_subject text default null,
    p_html text default null,
    p_text text default null,
    p_category text default null,
    p_entity_type text default null,
    p_entity_id uuid default null,
    p_send_after timestamptz default null,
    p_enrollment_id uuid default null,
    p_workflow_action_id uuid default null,
    p_notification_id uuid default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_template app.email_templates%rowtype;
    v_vars jsonb := coalesce(p_variables, '{}');
    v_missing text[];
begin
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;
    if not exists (select 1 from app.email_settings as s where s.org_id = v_org_id) then
        raise exception using
            errcode = 'IT011',
            message = 'email is not configured for this organization',
            hint = 'An org admin calls api.set_email_settings first.';
    end if;

    -- Campaign step emails are written by the campaign tick itself: a send
    -- tied to an enrollment moves it (a reply stops it, opens score it), so
    -- no caller may tie one here.
    if p_enrollment_id is not null then
        raise exception using
            errcode = 'IT003',
            message = 'p_enrollment_id is set by the campaign engine only';
    end if;

    -- Only the workflow engine, inside the run that owns the action, may tie a
    -- send to a workflow action (the send's status resumes that action).
    if p_workflow_action_id is not null and not exists (
        select 1
        from app._wf_run_context() as c
        inner join app.workflow_actions as a
            on a.org_id = c.org_id and a.execution_id = c.execution_id
        where
            a.id = p_workflow_action_id and a.action_type = 'send_email'
            and a.status in ('pending', 'running')
    ) then
        raise exception using
            errcode = 'IT003',
            message = 'p_workflow_action_id is set by the workflow engine only';
    end if;

    if p_notification_id is not null and not exists (
        select 1 from app.notifications as n where n.org_id = v_org_id and n.id = p_notification_id
    ) then
        raise exception using
            errcode = 'IT004',
            message = format('notification %s not found', p_notification_id);
    end if;

    if p_template_slug is not null then
        select t.* into v_template
        from app.email_templates as t
        where t.org_id = v_org_id and t.slug = p_template_slug and t.is_active;
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format('email template %s not found', p_template_slug);
        end if;
        v_missing := app._missing_variables(
            p_declared => v_template.variables,
            p_vars => v_vars,
            p_templates => array[
                v_template.subject_template, v_template.html_template, v_template.text_template
            ]
        );
        if cardinality(v_missing) > 0 then
            raise exception using
                errcode = 'IT010',
                message = format(
                    'template %s is missing required variables: %s',
                    p_template_slug, array_to_string(v_missing, ', ')
                );
        end if;
    elsif p_subject is null or (p_html is null and p_text is null) then
        raise exception using
            errcode = 'IT005',
            message = 'give p_template_slug, or p_subject with p_html or p_text';
    end if;

    -- A user's own mail is rate-limited (IT016); the engine's (workflow
    -- actions, and any call with no user in context) is not.
    if p_workflow_action_id is null then
        perform app._require_send_rate('email', 1);
    end if;

    return (
        app._email_insert_send(
            p_org_id => v_org_id,
            p_to => p_to,
            p_subject => app._render_template(
                coalesce(v_template.subject_template, p_subject), v_vars
            ),
            -- Without HTML, the rendered text escaped (escaping the template
            -- first would break the quotes of a default).
            p_html => case
                when coalesce(v_template.html_template, p_html) is not null
                    then app._render(coalesce(v_template.html_template, p_html), v_vars, 'html')
                else app._html_escape(app._render(p_text, v_vars, 'none'))
            end,
            p_text => app._render_template(coalesce(v_template.text_template, p_text), v_vars),
            p_category => coalesce(p_category, v_template.category, 'transactional'),
            p_template_id => v_template.id,
            p_variables => v_vars,
            p_entity_type => p_entity_type,
            p_entity_id => p_entity_id,
            p_send_after => p_send_after,
            p_enrollment_id => p_enrollment_id,
            p_workflow_action_id => p_workflow_action_id,
            p_notification_id => p_notification_id
        )
    ).id;
end
$function$;

comment on function api.queue_email(
    text, text, jsonb, text, text, text, text, text, uuid, timestamptz, uuid, uuid, uuid
) is
$$Queues one email from the caller's org in one transaction: the email_sends row and an
email.send job (after p_send_after, if given). Content is the org's active template
p_template_slug rendered with p_variables ({{ a.b }} nested lookup, values HTML-escaped in
the HTML body), or p_subject with p_html and/or p_text. p_category (default: the template's,
else transactional) decides suppression: an unsubscribe stops marketing and campaign mail,
every other suppression stops all mail; a suppressed recipient gets a row with status
suppressed and its reason, and no job. Returns the email_sends id. Errors: IT010 names the
missing required variables, IT011 when email is not configured, IT004 unknown template,
IT005 bad input, IT016 when a user (not the engine) queued app.settings.email_rate_per_minute
emails (default 30) in the last minute. Any member may email anyone: writing to contacts is
their work; the rate bounds what one login can do with the org's sending budget.$$;
