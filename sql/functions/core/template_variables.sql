-- Unknown template variables are refused when a template is saved (issue 16), as campaigns
-- always did: a variable that nothing provides would render as empty ("Thanks  for ...").
-- What is known depends on where the text is used:
-- - a campaign step: app._campaign_variables();
-- - a workflow step: app._wf_template_variables() (the entity's columns, owner, org,
--   workflow, execution, trigger, the steps' results, now);
-- - an email or notification template: what it declares in its `variables`, and what
--   InTime's own senders give it (app._template_known_variables).
-- A known entry 'a.b.*' stands for every path below a.b ('trigger.payload.*').

-- The variables p_text uses: the path of every {{ a.b }} token (with or without a
-- default), and whatever else stands between double braces ({{ contact.first name }}),
-- which can never be known.
create or replace function app._template_variables(p_text text)
returns text[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(distinct t.name order by t.name), '{}')
    from (
        select m[1]
        from regexp_matches(coalesce(p_text, ''), app._render_pattern(), 'g') as m
        union all
        select m[1]
        from regexp_matches(
            regexp_replace(coalesce(p_text, ''), app._render_pattern(), '', 'g'),
            '\{\{\s*([^}|]*?)\s*\}\}', 'g'
        ) as m
    ) as t (name)
    where t.name <> ''
$function$;

-- The variables of p_text that p_known does not know (p_known entries are paths, or
-- 'a.b.*' for every path below a.b), sorted; empty when all are known.
create or replace function app._template_unknown_variables(p_text text, p_known text[])
returns text[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(v.name order by v.name), '{}')
    from unnest(app._template_variables(p_text)) as v (name)
    where not exists (
        select 1
        from unnest(p_known) as k (known)
        where
            k.known = v.name
            or (k.known like '%.*' and starts_with(v.name, left(k.known, -1)))
    )
$function$;

-- The variables an email template (p_table 'email_templates') or a notification template
-- ('notification_templates') may use: the names it declares (p_declared, its `variables`),
-- those of a campaign (contact.first_name, sender.name, ...), those of a workflow on any
-- entity type (deal.name, entity.<column>, owner.name, org.name, trigger.*, ...), and for a
-- notification template the action_url its email gets, plus, when it overrides a system
-- template (p_slug), every variable that template declares or uses.
create or replace function app._template_known_variables(
    p_table text, p_declared jsonb, p_slug text
)
returns text[]
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
begin
    return array(
        select d.v ->> 'name'
        from jsonb_array_elements(
            case when jsonb_typeof(p_declared) = 'array' then p_declared else '[]' end
        ) as d (v)
        where jsonb_typeof(d.v) = 'object' and d.v ? 'name'
        union
        select unnest(app._campaign_variables())
        union
        select unnest(app._wf_template_variables(e.entity_type, '{}'))
        from app.entity_types as e
        union
        select 'steps.*'
        union
        select 'action_url' where p_table = 'notification_templates'
        union
        select s.v ->> 'name'
        from app.notification_system_templates as t
        cross join lateral jsonb_array_elements(t.variables) as s (v)
        where p_table = 'notification_templates' and t.slug = p_slug
        union
        select unnest(app._template_variables(concat_ws(
            ' ', t.title_template, t.message_template, t.action_url_template,
            t.email_subject_template, t.email_body_template, t.email_body_text_template,
            t.sms_template, t.push_title_template, t.push_body_template
        )))
        from app.notification_system_templates as t
        where p_table = 'notification_templates' and t.slug = p_slug
    );
end
$function$;

-- An edited template must still suit what already sends it: IT005 when a workflow of the
-- org (not deleted: a paused one resumes without a new check) sends it from a step
-- (send_email names an email template by slug, send_notification a notification template
-- by slug; p_active false: that notification template is off and the system one is sent)
-- and does not give it a variable p_text uses (the workflow's variables and the step's own,
-- as app._wf_steps_problems checks them when the workflow is saved), or when an active step
-- of a campaign that may still send (not completed or archived) names the email template
-- by id (p_id) and the variable is not a campaign's. Only the steps naming the template are
-- looked at.
create or replace function app._template_assert_senders(
    p_table text, p_org_id uuid, p_id uuid, p_slug text, p_active boolean, p_text text
)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_kind constant text := case p_table
        when 'email_templates' then 'send_email'
        when 'notification_templates' then 'send_notification'
    end;
    v_what text := case p_table when 'email_templates' then 'email' else 'notification' end;
    v_sender text;
    v_unknown text[];
    v_help text;
begin
    if c_kind is null or not p_active or cardinality(app._template_variables(p_text)) = 0 then
        return;
    end if;
    select format('workflow %L (%s)', w.name, s.path), u.unknown, format(
        'a %s workflow gives %s.<column>, entity.<column>, owner, org, workflow, '
        || 'execution, trigger, steps and now: pass %s in the step''s variables',
        w.entity_type, w.entity_type,
        case when cardinality(u.unknown) = 1 then 'it' else 'them' end
    )
    into v_sender, v_unknown, v_help
    from app.workflows as w
    cross join lateral (
        select format('$.steps[%s].template', e.i - 1) as path, e.step, w.definition -> 'steps'
        from jsonb_array_elements(
            case when jsonb_typeof(w.definition -> 'steps') = 'array'
                then w.definition -> 'steps' else '[]' end
        ) with ordinality as e (step, i)
        where e.step ->> 'type' = c_kind and e.step ->> 'template' = p_slug
        union all
        select format('$.transitions[%s].steps[%s].template', t.i - 1, e.i - 1), e.step,
            t.transition -> 'steps'
        from jsonb_array_elements(
            case when jsonb_typeof(w.definition -> 'transitions') = 'array'
                then w.definition -> 'transitions' else '[]' end
        ) with ordinality as t (transition, i)
        cross join lateral jsonb_array_elements(
            case when jsonb_typeof(t.transition -> 'steps') = 'array'
                then t.transition -> 'steps' else '[]' end
        ) with ordinality as e (step, i)
        where e.step ->> 'type' = c_kind and e.step ->> 'template' = p_slug
    ) as s (path, step, steps)
    cross join lateral (
        select app._template_unknown_variables(
            p_text,
            app._wf_template_variables(
                w.entity_type,
                array(select n.v ->> 'name' from jsonb_array_elements(s.steps) as n (v))
            )
            || array(
                select k.key || x.below
                from jsonb_object_keys(
                    case when jsonb_typeof(s.step -> 'variables') = 'object'
                        then s.step -> 'variables' else '{}' end
                ) as k (key)
                cross join (values (''), ('.*')) as x (below)
            )
            || case when c_kind = 'send_notification' then array['action_url'] else '{}' end
        )
    ) as u (unknown)
    where w.org_id = p_org_id and w.deleted_at is null and cardinality(u.unknown) > 0
    order by w.name, w.id, s.path
    limit 1;
    if v_sender is null and p_table = 'email_templates' then
        select format('campaign %L (step %s)', c.name, q.step_number), u.unknown, format(
            'a campaign step renders its template with the campaign''s variables only: %s',
            array_to_string(app._campaign_variables(), ', ')
        )
        into v_sender, v_unknown, v_help
        from app.campaign_sequences as q
        inner join app.campaigns as c on c.org_id = q.org_id and c.id = q.campaign_id
        cross join lateral (
            select app._template_unknown_variables(p_text, app._campaign_variables())
        ) as u (unknown)
        where
            q.org_id = p_org_id and q.template_id = p_id and q.is_active
            and c.status not in ('completed', 'archived') and cardinality(u.unknown) > 0
        order by c.name, c.id, q.step_number
        limit 1;
    end if;
    if v_sender is not null then
        raise exception using
            errcode = 'IT005',
            message = format(
                '%s template %L uses %s, which %s does not give it',
                v_what, p_slug, array_to_string(v_unknown, ', '), v_sender
            ),
            hint = format(
                'Change the %s first, or write the template without %s (%s).',
                split_part(v_sender, ' ', 1), array_to_string(v_unknown, ', '), v_help
            );
    end if;
end
$function$;
