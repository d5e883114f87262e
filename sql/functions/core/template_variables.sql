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
        select
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
