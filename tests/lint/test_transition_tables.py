"""No statement of a trigger function reads a transition table and a table at once.

On a Citus worker a statement on a distributed or reference table is planned by Citus,
which cannot see the trigger's transition tables ("relation new_rows does not exist",
"could not find named tuplestore"). So a trigger reads new_rows/old_rows into arrays in
statements of their own, and its statements on tables read the arrays
(docs/scale-out.md). Checked on the migrated functions' text, statement by statement."""

from __future__ import annotations

import re

import psycopg

TRANSITION = re.compile(r"\b(new_rows|old_rows)\b")
# A table named in a FROM, JOIN, UPDATE, INSERT INTO or DELETE FROM of app, api or queue.
# (A function call, app.f(...), is not a table: its statements are planned apart.)
TABLE = re.compile(r"\b(from|join|update|into)\s+(app|api|queue)\.\w+\b(?!\()", re.IGNORECASE)
# Where one PL/pgSQL statement or condition ends and the next begins.
BOUNDARY = re.compile(r";|\b(?:then|else|begin|loop)\b", re.IGNORECASE)
TRIGGER_FUNCTIONS = """
select p.oid::regprocedure::text, p.prosrc
from pg_proc as p
join pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('app', 'api') and p.prorettype = 'trigger'::regtype
order by 1
"""


def _statements(body: str) -> list[str]:
    without_comments = re.sub(r"--[^\n]*", "", body)
    return [s for s in BOUNDARY.split(without_comments) if s.strip()]


def test_no_trigger_statement_reads_a_transition_table_and_a_table(
    admin: psycopg.Connection,
) -> None:
    functions = admin.execute(TRIGGER_FUNCTIONS).fetchall()
    mixed = [
        f"{name}: {' '.join(statement.split())[:160]}"
        for name, body in functions
        for statement in _statements(body)
        if TRANSITION.search(statement) and TABLE.search(statement)
    ]
    assert len(functions) > 20
    assert mixed == []


def test_the_check_finds_a_mixed_statement() -> None:
    body = "begin insert into app.t (id) select r.id from new_rows as r; return null; end"
    assert [s for s in _statements(body) if TRANSITION.search(s) and TABLE.search(s)]
