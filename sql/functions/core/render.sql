-- Template rendering: {{ a.b }} looks up a nested path in p_vars, and
-- {{ a.b | default: "text" }} falls back to its text. With p_html, values (and
-- defaults) are HTML-escaped. An unknown path renders as empty; required
-- variables are checked up front by app._missing_variables.
-- app._html_escape is one expression with no SET clause, so that it is
-- inlined where it is called (docs/conventions.md, "Inlined SQL helpers"):
-- as a function call it was planned again in every transaction.
create or replace function app._html_escape(p_text text)
returns text
language sql
immutable
as $function$
    select replace(replace(replace(replace(replace(
        p_text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$function$;

-- Percent-encodes everything but RFC 3986 unreserved characters, byte by
-- byte in UTF-8: a value placed in a URL can't add a path, query or scheme.
create or replace function app._url_encode(p_text text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(string_agg(
        case
            when c.ch ~ '^[A-Za-z0-9_.~-]$' then c.ch
            else regexp_replace(upper(encode(convert_to(c.ch, 'UTF8'), 'hex')), '(..)', '%\1', 'g')
        end, '' order by c.ord
    ), '')
    from regexp_split_to_table(p_text, '') with ordinality as c (ch, ord)
$function$;

-- A template's token: {{ a.b }}, or {{ a.b | default: "text" }} ('text' in
-- single quotes too; no braces in it, so that a default never holds a token):
-- group 1 the path, group 2 or 3 the default. The one filter is default;
-- anything else between braces with a | in it is refused when a template is
-- saved (app._render_check).
create or replace function app._render_pattern()
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select '\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*'
        || '(?:\|\s*default\s*:\s*(?:"([^"{}]*)"|''([^''{}]*)'')\s*)?\}\}'
$function$;

-- Renders {{ a.b }} placeholders from p_vars. p_escape: 'none', 'html'
-- (values HTML-escaped, for bodies) or 'url' (values percent-encoded, for
-- action URLs). The template text itself is trusted and left as is. A
-- {{ a.b | default: "text" }} renders its text, escaped like a value, when the
-- value is missing, null, empty or only spaces.
create or replace function app._render(p_template text, p_vars jsonb, p_escape text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_pattern constant text := app._render_pattern();
    v_out text := '';
    v_rest text := coalesce(p_template, '');
    v_pos integer;
    v_token text;
    v_match text[];
    v_value text;
begin
    if p_escape not in ('none', 'html', 'url') then
        raise exception using errcode = 'IT005', message = format('unknown escape %L', p_escape);
    end if;
    loop
        v_pos := regexp_instr(v_rest, c_pattern);
        exit when v_pos = 0;
        v_token := regexp_substr(v_rest, c_pattern);
        v_match := regexp_match(v_token, c_pattern);
        v_value := p_vars #>> string_to_array(v_match[1], '.');
        if coalesce(btrim(v_value), '') = '' then
            v_value := coalesce(v_match[2], v_match[3], v_value);
        end if;
        v_value := coalesce(v_value, '');
        v_out := v_out || left(v_rest, v_pos - 1)
            || case p_escape
                when 'html' then app._html_escape(v_value)
                when 'url' then app._url_encode(v_value)
                else v_value
            end;
        v_rest := substr(v_rest, v_pos + length(v_token));
    end loop;
    return v_out || v_rest;
end
$function$;

-- IT005 when p_template has a token with a filter that is not
-- {{ a.b | default: "text" }}: another filter name, a missing colon, an
-- unquoted or unterminated text. p_where names the field in the message.
-- Called where templates are saved (email and notification templates,
-- campaign steps).
create or replace function app._render_check(p_template text, p_where text)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_bad text;
begin
    if p_template is null or strpos(p_template, '{{') = 0 then
        return;
    end if;
    v_bad := regexp_substr(
        regexp_replace(p_template, app._render_pattern(), '', 'g'),
        '\{\{[^}]*\|[^}]*(\}\})?'
    );
    if v_bad is not null then
        raise exception using
            errcode = 'IT005',
            message = format('%s has a malformed filter: %s', p_where, left(v_bad, 100)),
            hint = 'The one filter is default, with a quoted text: '
            || '{{ contact.first_name | default: "there" }}.';
    end if;
end
$function$;

create or replace function app._render_template(
    p_template text,
    p_vars jsonb,
    p_html boolean default false
)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select app._render(p_template, p_vars, case when p_html then 'html' else 'none' end)
$function$;

-- The names of declared required variables that p_vars lacks (or has null).
-- A variable that p_templates (the texts the template renders) use, each time
-- with a default ({{ a.b | default: "text" }}), is not missing: it renders its
-- default instead.
create or replace function app._missing_variables(
    p_declared jsonb, p_vars jsonb, p_templates text[] default '{}'
)
returns text[]
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select coalesce(array_agg(d ->> 'name' order by d ->> 'name'), '{}')
    from jsonb_array_elements(coalesce(p_declared, '[]')) as d
    where
        coalesce((d ->> 'required')::boolean, false)
        and (p_vars #>> string_to_array(d ->> 'name', '.')) is null
        and not coalesce((
            select bool_and(coalesce(m.g[2], m.g[3]) is not null)
            from unnest(p_templates) as t (body)
            cross join lateral regexp_matches(t.body, app._render_pattern(), 'g') as m (g)
            where m.g[1] = d ->> 'name'
        ), false)
$function$;

-- Row trigger on a template table: every column named by the trigger's
-- arguments must pass app._render_check, and use only known variables
-- (app._template_known_variables: the ones the template declares, and the ones
-- InTime's senders give it); IT005 naming the column and the variables, whether
-- the template is written by a SQL client or an api function.
-- It must also suit the workflows and campaigns that already send it
-- (app._template_assert_senders).
create or replace function app._tg_template_tokens()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_row jsonb := to_jsonb(new);
    -- The table's own name, not its shard's (on Citus the trigger fires on a shard).
    v_table text := app._citus_logical_name(tg_table_name);
    v_column text;
    v_known text[];
    v_unknown text[];
begin
    foreach v_column in array tg_argv loop
        perform app._render_check(v_row ->> v_column, v_column);
        continue when strpos(coalesce(v_row ->> v_column, ''), '{{') = 0;
        v_known := coalesce(
            v_known,
            app._template_known_variables(v_table, v_row -> 'variables', v_row ->> 'slug')
        );
        v_unknown := app._template_unknown_variables(v_row ->> v_column, v_known);
        if cardinality(v_unknown) > 0 then
            raise exception using
                errcode = 'IT005',
                message = format(
                    '%s uses unknown variables: %s',
                    v_column, array_to_string(v_unknown, ', ')
                ),
                hint = format(
                    'Declare them in the template''s variables ([{"name": "%s"}]); a '
                    || 'template also knows what InTime''s senders give it: a campaign''s '
                    || 'contact.first_name, campaign.name, sender.name ..., and a '
                    || 'workflow''s <entity>.<column>, owner, org, workflow, execution, '
                    || 'trigger, steps and now.',
                    v_unknown[1]
                );
        end if;
    end loop;
    perform app._template_assert_senders(
        v_table, (v_row ->> 'org_id')::uuid, (v_row ->> 'id')::uuid, v_row ->> 'slug',
        v_table = 'email_templates' or (v_row ->> 'is_active')::boolean is not false,
        array_to_string(array(select v_row ->> a.c from unnest(tg_argv) as a (c)), ' ')
    );
    return new;
end
$function$;
