"""entity_history: our statement-level set-based trigger against a per-row one.

The baseline is the usual audit trigger: FOR EACH ROW, one INSERT per changed
field. Both run on the same table in the same database; the "no history" row
shows what the history costs at all. Medians of 7 runs (quick: 3) of a 10,000-row
UPDATE (quick: 2,000). Sizes: INTIME_BENCH_HIST_ROWS, INTIME_BENCH_HIST_REPEAT.
"""

from __future__ import annotations

import psycopg

from bench.common import Case, Report, Sizes, bench_database, machine, median_ms
from intime.config import as_role
from intime.db import actor
from intime_cli.seed import seed_org

SIZES = Sizes("HIST", ROWS=(10_000, 2000), REPEAT=(7, 3))

ROW_TRIGGER = """
create or replace function public.bench_row_history() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
    v_key text;
    v_old jsonb := to_jsonb(old);
    v_new jsonb := to_jsonb(new);
begin
    for v_key in select jsonb_object_keys(v_new) loop
        if v_key not in ('updated_at', 'updated_by')
           and v_old -> v_key is distinct from v_new -> v_key then
            insert into app.entity_history (org_id, entity_type, entity_id, change_type,
                                            field_name, old_value, new_value, changed_by)
            values (new.org_id, 'contact', new.id, 'updated', v_key, v_old -> v_key,
                    v_new -> v_key, app.current_user_id());
        end if;
    end loop;
    return null;
end $$;
"""


def run(quick: bool = False) -> Report:
    sz = SIZES.configure(quick=quick)
    report = Report("history_trigger", quick)
    with bench_database() as (server, dsn):
        with psycopg.connect(as_role(dsn, "intime_service"), autocommit=True) as svc:
            org = seed_org(svc, "Bench", "bench", deals=1)
            with actor(svc, org.org_id):
                svc.execute(
                    "insert into app.contacts (first_name, last_name) "
                    "select 'F', 'L' || g from generate_series(1, %s) g",
                    (sz.ROWS,),
                )
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(ROW_TRIGGER)

            def update() -> None:
                with admin.transaction():
                    admin.execute("select api.set_actor(p_org_id => %s)", (org.org_id,))
                    admin.execute(
                        "update app.contacts set title = md5(random()::text), "
                        "status = case when status = 'active' then 'lead' else 'active' end "
                        "where last_name like 'L%%'"
                    )

            ours = median_ms(update, repeat=sz.REPEAT)
            admin.execute("alter table app.contacts disable trigger history_update")
            off = median_ms(update, repeat=sz.REPEAT)
            admin.execute(
                "create trigger bench_row_history after update on app.contacts "
                "for each row execute function public.bench_row_history()"
            )
            per_row = median_ms(update, repeat=sz.REPEAT)
            admin.execute("drop trigger bench_row_history on app.contacts")
            admin.execute("alter table app.contacts enable trigger history_update")
        report.machine = machine(server)
        report.table(
            f"entity_history on a {sz.ROWS:,}-row UPDATE of 2 fields (median of {sz.REPEAT})",
            [
                Case(
                    "statement-level set-based (ours) vs per-row trigger",
                    "ms",
                    ours,
                    per_row,
                    lower_is_better=True,
                ),
                Case(
                    "statement-level set-based (ours) vs no history at all",
                    "ms",
                    ours,
                    off,
                    lower_is_better=True,
                ),
            ],
            f"Machine: {report.machine}. Each run writes {2 * sz.ROWS:,} history rows.",
        )
    return report


if __name__ == "__main__":
    run()
