"""SQL shapes that Citus cannot run, kept out of the functions (docs/scale-out.md)."""

from __future__ import annotations

import re

import psycopg

# exists (select from ...): a subquery with no column. When Citus has to plan it apart (a
# distribution column compared with a value known only at run time) it fails with "a column
# definition list is required for functions returning record" (citusdata/citus#5094, open).
ZERO_COLUMN_EXISTS = re.compile(r"exists\s*\(\s*select\s+from\b", re.IGNORECASE)
BODIES = """
select p.oid::regprocedure::text, p.prosrc
from pg_proc as p
join pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('app', 'api')
order by 1
"""


def test_no_function_tests_existence_with_a_zero_column_subquery(
    admin: psycopg.Connection,
) -> None:
    bodies = admin.execute(BODIES).fetchall()
    assert len(bodies) > 100
    assert [name for name, body in bodies if ZERO_COLUMN_EXISTS.search(body)] == []


def test_the_check_finds_a_zero_column_subquery() -> None:
    assert ZERO_COLUMN_EXISTS.search("if not exists (\n    select\n    from app.deals as d")
    assert not ZERO_COLUMN_EXISTS.search("if not exists (select 1 from app.deals as d")
