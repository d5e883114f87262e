"""The tick renders in its own query: the usual template (known tokens only) costs no
function call per recipient, and contact data can't name a variable. Also the tick's
invariant: every planned enrollment moves on in the statement that writes its step."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from tests.sql.campaigns.conftest import Campaigns

VALUES = ["Ada", "Lovelace", "Ada Lovelace", "Ada Lovelace", "ada@x.test", "Acme", "CTO",
          "Outreach", "Sam Seller", "Sam", "sam@y.test"]  # fmt: skip


def _explain(conn: psycopg.Connection, query: str) -> str:
    return "\n".join(r[0] for r in conn.execute(f"explain (verbose) {query}").fetchall())


def test_the_recipient_values_are_computed_in_the_callers_query(camp: Campaigns) -> None:
    plan = _explain(
        camp.owner,
        "select v.* from app._campaign_values("
        "  p_first_name => 'Ada', p_last_name => null, p_full_name => 'Ada', p_email => 'a@x',"
        "  p_company => 'R&D {x}', p_title => null, p_campaign_name => 'C',"
        "  p_sender_name => 'Sam Seller', p_sender_email => 's@y') as v",
    )
    assert "_campaign_values" not in plan
    assert "Function Scan" not in plan


def test_a_template_of_known_tokens_is_filled_without_a_call(camp: Campaigns) -> None:
    plan = _explain(
        camp.owner,
        "select app._campaign_fill_finish(t.s, f.x, t.v) from"
        " (values ('Hi {{contact.first_name}}', %s::text[])) as t (s, v),"
        " lateral (select app._campaign_fill_known(t.s, t.v) as x offset 0) as f"
        % ("'{" + ",".join(VALUES) + "}'"),
    )
    assert "_campaign_fill_known" not in plan
    assert "_campaign_fill_finish" not in plan
    # The rest of the work is only reached when tokens are left.
    assert "CASE WHEN" in plan
    assert "strpos(" in plan


OLD = r"""
create or replace function pg_temp.old_fill(
    p_template text, p_values text[], p_html boolean default false
)
returns text language plpgsql immutable set search_path = pg_catalog, pg_temp as $function$
declare
    v_out text; v_rest text; v_pos integer; v_token text; v_match text[]; v_value text;
    v_default text; v_pattern text;
begin
    if p_template is null or strpos(p_template, '{{') = 0 then
        return p_template;
    end if;
    v_out := replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        replace(p_template,
            '{{contact.first_name}}', p_values[1]),
        '{{contact.last_name}}', p_values[2]),
        '{{contact.full_name}}', p_values[3]),
        '{{contact.name}}', p_values[4]),
        '{{contact.email}}', p_values[5]),
        '{{contact.company}}', p_values[6]),
        '{{contact.title}}', p_values[7]),
        '{{campaign.name}}', p_values[8]),
        '{{sender.name}}', p_values[9]),
        '{{sender.first_name}}', p_values[10]),
        '{{sender.email}}', p_values[11]);
    if strpos(v_out, '{{') > 0 then
        v_pattern := app._render_pattern();
        v_rest := v_out; v_out := '';
        loop
            v_pos := regexp_instr(v_rest, v_pattern);
            exit when v_pos = 0;
            v_token := regexp_substr(v_rest, v_pattern);
            v_match := regexp_match(v_token, v_pattern);
            v_value := p_values[array_position(app._campaign_variables(), v_match[1])];
            v_default := coalesce(v_match[2], v_match[3]);
            if v_default is not null and coalesce(btrim(v_value), '') = '' then
                v_value := replace(
                    case when p_html then app._html_escape(v_default) else v_default end,
                    '{', chr(1));
            end if;
            v_out := v_out || left(v_rest, v_pos - 1) || coalesce(v_value, '');
            v_rest := substr(v_rest, v_pos + length(v_token));
        end loop;
        v_out := v_out || v_rest;
    end if;
    return replace(v_out, chr(1), '{');
end
$function$;
create or replace function pg_temp.old_values(
    f text, l text, fu text, em text, co text, ti text,
    p_campaign_name text, p_sender_name text, p_sender_email text,
    out vars text[], out vars_html text[])
language plpgsql immutable set search_path = pg_catalog, pg_temp as $function$
declare
    v_raw text[] := array[f, l, fu, fu, em, co, ti, p_campaign_name, p_sender_name,
        split_part(p_sender_name, ' ', 1), p_sender_email];
    v_value text;
begin
    vars := '{}'; vars_html := '{}';
    foreach v_value in array v_raw loop
        v_value := coalesce(v_value, '');
        vars := vars || replace(v_value, '{', chr(1));
        vars_html := vars_html || replace(replace(replace(replace(replace(replace(
            v_value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'),
            '''', '&#39;'), '{', chr(1));
    end loop;
end
$function$;
"""

TEMPLATES = [
    None,
    "",
    "plain",
    "no tokens {here}",
    "{{",
    "{{}}",
    "a {{ b",
    "\x01",
    "x\x01{y",
    "\x01{contact.email}}",
    "{{contact.first_name}}",
    "{{{contact.first_name}}}",
    "{{contact.email}}}} {{{sender.email}}",
    "{{contact.la{{contact.first_name}}",
    '{{ contact.title | default: "there" }}',
    "{{ contact.title | default: '<&{{x}}>' }}",
    "{{contact.nickname}} x",
    "{{ contact.nickname | default: 'R&D {x' }}",
    "{{contact.first_name}}\x01 {{ contact.company | default: 'c' }}",
    "<p>{{contact.company}} {{sender.first_name}} {{sender.name}} {{campaign.name}}</p>",
    "{{contact.first_name}}{{contact.first_name}}",
]
CONTACTS = [
    (None, None, None, None, None, None, None, None, None),
    ("Ada", "L", "Ada L", "a@x", "R&D <x> {y}", "", "C", "Sam Seller", "s@y"),
    ("{{contact.email}}", "{", "{{", "}}", "st_name}}", "  ", "{{campaign.name}}", " lead", None),
    ("\x01", "a\x01{b", "'\"", "&amp;", "{{ contact.title | default: 'z' }}", None, "", "", ""),
]


@pytest.mark.parametrize("html", [False, True])
def test_the_tick_renders_as_the_one_function_fill_did(camp: Campaigns, html: bool) -> None:
    """Against the single PL/pgSQL fill and values of session 26 (OLD, kept here as the
    oracle): the parts the tick's plan inlines, and app._campaign_fill (the preview's),
    give the same text for every template and contact above, nulls, braces, chr(1),
    defaults and unknown tokens included."""
    camp.owner.execute(OLD)
    diffs = []
    for template, contact in itertools.product(TEMPLATES, CONTACTS):
        row = camp.owner.execute(
            "with o as (select * from pg_temp.old_values(%(c0)s, %(c1)s, %(c2)s, %(c3)s,"
            "   %(c4)s, %(c5)s, %(c6)s, %(c7)s, %(c8)s)),"
            " n as (select * from app._campaign_values(p_first_name => %(c0)s,"
            "   p_last_name => %(c1)s, p_full_name => %(c2)s, p_email => %(c3)s,"
            "   p_company => %(c4)s, p_title => %(c5)s, p_campaign_name => %(c6)s,"
            "   p_sender_name => %(c7)s, p_sender_email => %(c8)s)),"
            " v as (select case when %(h)s then o.vars_html else o.vars end as old_vars,"
            "   case when %(h)s then n.vars_html else n.vars end as new_vars,"
            "   o.vars = n.vars and o.vars_html = n.vars_html as same_values from o, n)"
            " select v.same_values, pg_temp.old_fill(%(t)s, v.old_vars, %(h)s),"
            "   app._campaign_fill_finish(%(t)s, app._campaign_fill_known(%(t)s, v.new_vars),"
            "     v.new_vars, %(h)s),"
            "   app._campaign_fill(%(t)s, v.new_vars, %(h)s)"
            " from v",
            {"t": template, "h": html, **{f"c{i}": value for i, value in enumerate(contact)}},
        ).fetchone()
        assert row is not None
        same_values, old, parts, whole = row
        if not same_values or old != parts or old != whole:
            diffs.append((template, contact, same_values, old, parts, whole))
    assert diffs == []


def test_the_tick_and_the_preview_agree_on_a_template_with_chr_1(camp: Campaigns) -> None:
    cid = camp.create()
    step = camp.email_step(
        cid, subject="Offer \x01{contact.email}} inside", body_html="<p>x\x01{y</p>"
    )
    [contact] = camp.contacts(1)
    preview = camp.call(
        "select subject, html_body from api.preview_email(p_step_id => %s, p_contact_id => %s)",
        (step, contact),
    )[0]
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert (send["subject"], send["html_body"]) == (preview["subject"], preview["html_body"])
    assert send["subject"] == "Offer \x01{contact.email}} inside"


def test_contact_data_that_looks_like_a_token_is_sent_as_written(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(
        cid, subject="Hi {{contact.first_name}}", body_html="<p>{{contact.first_name}}</p>"
    )
    [contact] = camp.contacts(1)
    camp.owner.execute(
        "update app.contacts set first_name = %s where id = %s",
        ("{{contact.email}} {{ contact.title | default: 'x' }}", contact),
    )
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert send["subject"] == "Hi {{contact.email}} {{ contact.title | default: 'x' }}"
    assert (
        send["html_body"] == "<p>{{contact.email}} {{ contact.title | default: &#39;x&#39; }}</p>"
    )


def test_an_enrollment_that_does_not_move_on_gets_no_step(camp: Campaigns) -> None:
    """If the statement that writes a step could not move an enrollment on (here a trigger
    skips its update), the batch rolls back and runs one at a time: the others send once,
    the stuck one has no send and a failed log line (the same trigger skips its error
    count), so the next tick can't send it twice."""
    cid = camp.create()
    camp.email_step(cid)
    contacts = camp.contacts(3)
    camp.enroll(cid, contacts)
    camp.activate(cid)
    stuck = camp.owner.execute(
        "select id from app.campaign_enrollments where contact_id = %s", (contacts[0],)
    ).fetchone()
    assert stuck is not None
    # Citus takes triggers on distributed tables only so (as migrate does); on one
    # server the setting is a placeholder.
    camp.owner.execute("set citus.enable_unsafe_triggers = on")
    camp.owner.execute(
        "create function public.skip_one() returns trigger language plpgsql as $$"
        f" begin if old.id = '{stuck[0]}' then return null; end if; return new; end $$"
    )
    camp.owner.execute(
        "create trigger skip_one before update on app.campaign_enrollments"
        " for each row execute function public.skip_one()"
    )
    try:
        counts = camp.tick()
    finally:
        camp.owner.execute("drop trigger skip_one on app.campaign_enrollments")
        camp.owner.execute("drop function public.skip_one()")
    assert (counts["sent"], counts["errored"]) == (2, 1)
    sends = camp.sends(cid)
    assert len(sends) == 2
    assert all(s["enrollment_id"] != stuck[0] for s in sends)
    logs = camp.owner.execute(
        "select status, detail from app.campaign_sequence_logs where enrollment_id = %s",
        (stuck[0],),
    ).fetchall()
    assert [
        (status, "0 of 1 planned enrollments moved on" in detail) for status, detail in logs
    ] == [("failed", True)]
