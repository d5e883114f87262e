-- Seeing a message before it goes out (docs/email.md): api.preview_email
-- renders an email template, or a campaign step for a contact, and writes
-- nothing; api.send_test_email sends that rendering to the caller's own address.

-- The rendering behind both, for org p_org_id: an email template (p_template_id
-- or p_template_slug, active or not) with p_variables, rendered as
-- api.queue_email renders it; or a campaign email step (p_step_id) for the
-- contact p_contact_id, rendered as the campaign tick renders it (the same
-- variables, app._campaign_values, and the same fill, app._campaign_fill), in
-- its A/B variant p_variant, else the campaign's winner, else the contact's
-- enrollment's variant, else the first.
-- text_body is null when the template or step has no text of its own.
-- variables is what the send records. Reads only.
create or replace function app._email_preview(
    p_org_id uuid,
    p_template_id uuid,
    p_template_slug text,
    p_variables jsonb,
    p_step_id uuid,
    p_contact_id uuid,
    p_variant text
)
returns table (
    subject text,
    html_body text,
    text_body text,
    category text,
    template_id uuid,
    to_email text,
    ab_variant text,
    variables jsonb
)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_vars jsonb := coalesce(p_variables, '{}');
    v_template app.email_templates%rowtype;
    v_step app.campaign_sequences%rowtype;
    v_campaign app.campaigns%rowtype;
    v_contact app.contacts%rowtype;
    v_missing text[];
    v_variant text;
    v_arm jsonb;
    v_values text[];
    v_values_html text[];
    v_subject text;
    v_html text;
    v_text text;
    v_sender_name text;
    v_sender_email text;
begin
    if (p_template_id is not null or p_template_slug is not null) = (p_step_id is not null) then
        raise exception using
            errcode = 'IT005',
            message = 'give p_template_id or p_template_slug (with p_variables), '
            || 'or p_step_id with p_contact_id';
    end if;
    if jsonb_typeof(v_vars) <> 'object' then
        raise exception using errcode = 'IT005', message = 'p_variables must be a JSON object';
    end if;

    if p_step_id is null then
        if p_template_id is not null and p_template_slug is not null then
            raise exception using
                errcode = 'IT005', message = 'give p_template_id or p_template_slug, not both';
        end if;
        if p_contact_id is not null or p_variant is not null then
            raise exception using
                errcode = 'IT005', message = 'p_contact_id and p_variant go with p_step_id';
        end if;
        select t.* into v_template
        from app.email_templates as t
        where
            t.org_id = p_org_id
            and (t.id = p_template_id or t.slug = p_template_slug);
        if not found then
            raise exception using
                errcode = 'IT004',
                message = format(
                    'email template %s not found', coalesce(p_template_id::text, p_template_slug)
                );
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
                    v_template.slug, array_to_string(v_missing, ', ')
                );
        end if;
        return query select
            regexp_replace(
                app._render(v_template.subject_template, v_vars, 'none'), '[\r\n]+', ' ', 'g'
            ),
            app._render(v_template.html_template, v_vars, 'html'),
            case
                when v_template.text_template is not null
                    then app._render(v_template.text_template, v_vars, 'none')
            end,
            v_template.category, v_template.id, null::text, null::text, v_vars;
        return;
    end if;

    if p_contact_id is null then
        raise exception using
            errcode = 'IT005', message = 'p_step_id needs p_contact_id, the contact to render for';
    end if;
    if v_vars <> '{}' then
        raise exception using
            errcode = 'IT005',
            message = 'a campaign step''s variables come from the contact, the campaign and '
            || 'its owner: p_variables goes with a template';
    end if;
    select s.* into v_step
    from app.campaign_sequences as s
    where s.org_id = p_org_id and s.id = p_step_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign step %s not found', p_step_id);
    end if;
    if v_step.channel <> 'email' then
        raise exception using
            errcode = 'IT005',
            message = format(
                'step %s is a %s step: it sends no email', v_step.step_number, v_step.channel
            );
    end if;
    select k.* into v_contact
    from app.contacts as k
    where k.org_id = p_org_id and k.id = p_contact_id and k.deleted_at is null;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('contact %s not found', p_contact_id);
    end if;
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = v_step.campaign_id;
    select u.full_name, u.email into v_sender_name, v_sender_email
    from app.user_profiles as u
    where u.org_id = p_org_id and u.id = v_campaign.owner_id;

    if v_step.ab_variants is not null then
        v_variant := coalesce(
            p_variant,
            v_campaign.ab_winner_variant,
            (
                select e.ab_variant
                from app.campaign_enrollments as e
                where
                    e.org_id = p_org_id and e.campaign_id = v_step.campaign_id
                    and e.contact_id = p_contact_id
            ),
            v_step.ab_variants -> 0 ->> 'id'
        );
        select a.arm into v_arm
        from jsonb_array_elements(v_step.ab_variants) with ordinality as a (arm, n)
        where a.arm ->> 'id' = v_variant
        order by a.n
        limit 1;
        if v_arm is null then
            raise exception using
                errcode = 'IT005',
                message = format(
                    'step %s has no A/B variant %L (it has: %s)', v_step.step_number, v_variant,
                    (
                        select string_agg(a.arm ->> 'id', ', ')
                        from jsonb_array_elements(v_step.ab_variants) as a (arm)
                    )
                );
        end if;
    elsif p_variant is not null then
        raise exception using
            errcode = 'IT005',
            message = format('step %s has no A/B variants', v_step.step_number);
    end if;

    -- The step's content as the tick takes it: the variant's, else the
    -- step's, else its template's (app._campaign_plan_batch).
    if v_step.template_id is not null then
        select t.* into v_template
        from app.email_templates as t
        where t.org_id = p_org_id and t.id = v_step.template_id;
    end if;
    v_subject := coalesce(
        v_arm ->> 'subject', v_step.subject, app._campaign_normalize(v_template.subject_template)
    );
    v_html := coalesce(
        v_arm ->> 'body_html', v_step.body_html, app._campaign_normalize(v_template.html_template)
    );
    v_text := coalesce(
        v_arm ->> 'body_text', v_step.body_text, app._campaign_normalize(v_template.text_template)
    );
    if coalesce(v_subject, '') = '' or coalesce(v_html, v_text, '') = '' then
        raise exception using
            errcode = 'IT005',
            message = format(
                'email step %s has no content yet: a template, or a subject and a body',
                v_step.step_number
            );
    end if;

    select v.vars, v.vars_html into v_values, v_values_html
    from app._campaign_values(
        p_first_name => v_contact.first_name, p_last_name => v_contact.last_name,
        p_full_name => v_contact.full_name, p_email => v_contact.email,
        p_company => v_contact.company_name, p_title => v_contact.title,
        p_campaign_name => v_campaign.name,
        p_sender_name => v_sender_name, p_sender_email => v_sender_email
    ) as v;
    return query select
        regexp_replace(app._campaign_fill(v_subject, v_values), '[\r\n]+', ' ', 'g'),
        coalesce(
            app._campaign_fill(v_html, v_values_html, true),
            app._html_escape(app._campaign_fill(v_text, v_values))
        ),
        app._campaign_fill(v_text, v_values),
        'campaign'::text, v_step.template_id, v_contact.email, v_variant,
        jsonb_build_object(
            'campaign_id', v_step.campaign_id, 'step_number', v_step.step_number,
            'ab_variant', v_variant, 'contact_id', p_contact_id
        );
end
$function$;

create or replace function api.preview_email(
    p_template_id uuid default null,
    p_template_slug text default null,
    p_variables jsonb default '{}',
    p_step_id uuid default null,
    p_contact_id uuid default null,
    p_variant text default null
)
returns table (
    subject text,
    html_body text,
    text_body text,
    text_source text,
    category text,
    to_email text,
    ab_variant text,
    headers jsonb
)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
#variable_conflict use_column
declare
    v_org_id uuid := app._require_org();
    v_settings app.email_settings%rowtype;
    v_p record;
begin
    select p.* into v_p
    from app._email_preview(
        p_org_id => v_org_id, p_template_id => p_template_id,
        p_template_slug => p_template_slug, p_variables => p_variables, p_step_id => p_step_id,
        p_contact_id => p_contact_id, p_variant => p_variant
    ) as p;
    select s.* into v_settings from app.email_settings as s where s.org_id = v_org_id;
    return query select
        v_p.subject, v_p.html_body, v_p.text_body,
        case when v_p.text_body is null then 'generated_from_html' else 'template' end,
        v_p.category, v_p.to_email, v_p.ab_variant,
        -- What the worker sets (worker/email.py); {placeholders} are the
        -- send's own values, known once it is queued.
        case when v_settings.org_id is not null then jsonb_strip_nulls(jsonb_build_object(
            'From', case
                when v_settings.from_name is null then v_settings.from_email
                -- As Python's formataddr: quoted when it has a special character.
                when v_settings.from_name ~ '[][\\()<>@,:;".]'
                    then format(
                        '"%s" <%s>', replace(v_settings.from_name, '\', '\\'),
                        v_settings.from_email
                    )
                else format('%s <%s>', v_settings.from_name, v_settings.from_email)
            end,
            'To', v_p.to_email,
            'Reply-To', format('reply+{token}@%s', v_settings.reply_domain),
            'Return-Path', format('bounce+{token}@%s', v_settings.reply_domain),
            'Message-ID', format('<{send_id}@%s>', v_settings.reply_domain),
            'List-Unsubscribe', case
                when v_p.category in ('marketing', 'campaign')
                    then '<{public_url}/u/{unsubscribe_token}>'
            end,
            'List-Unsubscribe-Post', case
                when v_p.category in ('marketing', 'campaign')
                    then 'List-Unsubscribe=One-Click'
            end
        )) end;
end
$function$;

comment on function api.preview_email(uuid, text, jsonb, uuid, uuid, text) is
$$Renders an email without writing anything: an email template of the caller's org
(p_template_id or p_template_slug, active or not) with p_variables, as api.queue_email renders
it (IT010 for missing required variables); or a campaign email step (p_step_id) for the contact
p_contact_id, as the campaign tick renders it (the contact's, the campaign's and its owner's
values), in A/B variant p_variant (default: the campaign's winner, else the variant the
contact's enrollment drew, else the first). Returns one row: subject, html_body (the body the
worker wraps in its layout), text_body (the template's or step's own text; null when it has
none, with text_source generated_from_html: the worker then generates the text part from the
HTML with inscriptis when it sends), category, to_email (the contact's address for a step),
ab_variant, and headers, the headers the worker will set: From, To, Reply-To
(reply+{token}@reply domain), Return-Path (the VERP address bounce+{token}@reply domain),
Message-ID (<{send_id}@reply domain>) and, for marketing and campaign mail, List-Unsubscribe
and List-Unsubscribe-Post; {token}, {send_id}, {public_url} and {unsubscribe_token} are filled
in per send. headers is null when the org has no email settings. Any user of the org may
preview (as any may queue an email and read a campaign). IT004 for a template, step or
contact not in the caller's org, IT005 for a step that is not an email step or has no
content yet, an unknown variant, or arguments that do not go together.$$;

create or replace function api.send_test_email(
    p_template_id uuid default null,
    p_template_slug text default null,
    p_variables jsonb default '{}',
    p_step_id uuid default null,
    p_contact_id uuid default null,
    p_variant text default null
)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    v_to text;
    v_p record;
begin
    select u.email into v_to
    from app.user_profiles as u
    where u.org_id = v_org_id and u.id = v_user_id and u.is_active;
    if v_to is null then
        raise exception using
            errcode = 'IT003',
            message = 'a test email goes to the calling user''s own address: call it as a user',
            hint = 'As intime_service, pass p_user_id to api.set_actor; or use a mapped SQL login.';
    end if;
    select p.* into v_p
    from app._email_preview(
        p_org_id => v_org_id, p_template_id => p_template_id,
        p_template_slug => p_template_slug, p_variables => p_variables, p_step_id => p_step_id,
        p_contact_id => p_contact_id, p_variant => p_variant
    ) as p;
    perform app._require_send_rate('email', 1);
    return (
        app._email_insert_send(
            p_org_id => v_org_id,
            p_to => v_to,
            p_subject => '[Test] ' || v_p.subject,
            p_html => v_p.html_body,
            p_text => v_p.text_body,
            p_category => v_p.category,
            p_template_id => v_p.template_id,
            p_variables => v_p.variables,
            p_is_test => true
        )
    ).id;
end
$function$;

comment on function api.send_test_email(uuid, text, jsonb, uuid, uuid, text) is
$$Sends what api.preview_email renders (same arguments) to the calling user's own address
(user_profiles.email; IT003 with no user in context), subject prefixed "[Test] ", through the
normal queue: an email_sends row with is_test = true and its email.send job. A test send is
never counted in statistics (api.get_email_stats, campaign and A/B figures) and never touches
an enrollment (no enrollment, no log line, no entity). It counts against the caller's email
rate (IT016), and suppression still applies: when the caller's own address is suppressed
(for a marketing or campaign email, an unsubscribe too) the row ends suppressed and nothing
is sent. IT011 when email is not configured. Returns the email_sends id.$$;
