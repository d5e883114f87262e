-- Template rendering: {{ a.b }} looks up a nested path in p_vars. With
-- p_html, values are HTML-escaped. An unknown path renders as empty; required
-- variables are checked up front by app._missing_variables.
create or replace function app._html_escape(p_text text)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
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

-- Renders {{ a.b }} placeholders from p_vars. p_escape: 'none', 'html'
-- (values HTML-escaped, for bodies) or 'url' (values percent-encoded, for
-- action URLs). The template text itself is trusted and left as is.
create or replace function app._render(p_template text, p_vars jsonb, p_escape text)
returns text
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    c_pattern constant text := '\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}';
    v_out text := '';
    v_rest text := coalesce(p_template, '');
    v_pos integer;
    v_token text;
    v_value text;
begin
    if p_escape not in ('none', 'html', 'url') then
        raise exception using errcode = 'IT005', message = format('unknown escape %L', p_escape);
    end if;
    loop
        v_pos := regexp_instr(v_rest, c_pattern);
        exit when v_pos = 0;
        v_token := regexp_substr(v_rest, c_pattern);
        v_value := coalesce(
            p_vars #>> string_to_array((regexp_match(v_token, c_pattern))[1], '.'), ''
        );
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
create or replace function app._missing_variables(p_declared jsonb, p_vars jsonb)
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
$function$;
