"""Workflows on the cluster: one UPDATE of deals across shards starts one execution per
matched deal (the engine's statement triggers, on every worker), woken from the queue of
the node that holds its shard."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from intime import migrate, pgcluster
from intime.db import actor
from tests.citus.conftest import Org, make_org

STEP = [{"name": "note", "type": "create_activity", "subject": "hit {{trigger.event}}"}]


def _workflow_and_deals(
    service: psycopg.Connection, admin: psycopg.Connection, org: Org, deals: int
) -> None:
    with actor(service, org.org_id, org.admin_id):
        service.execute(
            "select api.create_workflow(p_name => 'on update', p_entity_type => 'deal',"
            " p_definition => %s)",
            (Jsonb({"triggers": [{"type": "updated"}], "steps": STEP}),),
        )
    # As the superuser: Citus runs an INSERT ... SELECT as a COPY, which a role under
    # row-level security may not (docs/scale-out.md).
    admin.execute(
        "insert into app.deals (org_id, name, value, stage_id)"
        " select %s, 'Deal ' || n, n, (select s.id from app.deal_stages as s"
        "  where s.org_id = %s and s.name = 'Lead')"
        " from generate_series(1, %s) as n",
        (org.org_id, org.org_id, deals),
    )


JOBS_PER_NODE = (
    "select coalesce(sum(case entrypoint when 'workflow.run' then 1"
    " else (convert_from(payload, 'UTF8')::jsonb ->> 'executions')::integer end), 0)"
    " from queue.pgqueuer where entrypoint in ('workflow.run', 'workflow.run_due')"
)


def test_an_update_of_10000_deals_across_shards_starts_10000_executions(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """The acceptance figure: 8 orgs of 1,250 deals on both workers, one UPDATE. Each
    worker's triggers start the executions of its shards and wake them from its own
    queue, with no NOTIFY (the statement commits in two phases: app._may_notify)."""
    orgs = [make_org(citus, citus_db[0]) for _ in range(8)]
    nodes = [citus.coordinator, *citus.worker_nodes]
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        for org in orgs:
            _workflow_and_deals(service, admin, org, 1250)
        ids = [o.org_id for o in orgs]
        placed = admin.execute(
            "select count(distinct n.nodename || n.nodeport)"
            " from unnest(%s::uuid[]) as o"
            " cross join lateral (select get_shard_id_for_distribution_column('app.deals', o)"
            "  as shard) as s"
            " inner join pg_dist_placement as p on p.shardid = s.shard"
            " inner join pg_dist_node as n on n.groupid = p.groupid",
            (ids,),
        ).fetchone()
        before = [_jobs(node.dsn("intime")) for node in nodes]
        admin.execute("update app.deals set value = value + 1 where org_id = any(%s)", (ids,))
        started = admin.execute(
            "select org_id, count(*) from app.workflow_executions"
            " where org_id = any(%s) group by 1",
            (ids,),
        ).fetchall()
        woken = [_jobs(node.dsn("intime")) - b for node, b in zip(nodes, before, strict=True)]
    assert placed == (2,)
    assert sorted(n for _, n in started) == [1250] * 8
    assert woken[0] == 0
    assert sum(woken) == 10_000


def _jobs(dsn: str) -> int:
    with psycopg.connect(dsn) as node:
        row = node.execute(JOBS_PER_NODE).fetchone()
    assert row is not None
    return int(row[0])


def test_an_execution_of_task_field_and_note_steps_completes_through_run_execution(
    citus: pgcluster.PgCluster, citus_db: tuple[str, migrate.MigrateResult]
) -> None:
    """The worker's call from the coordinator: a task with no assignee to resolve, a
    field update of the deal (its own triggers on the shard), a note."""
    org = make_org(citus, citus_db[0])
    steps = [
        {"name": "task", "type": "create_task", "title": "Call {{deal.name}}"},
        {"name": "describe", "type": "update_field", "field": "description", "value": "seen"},
        {"name": "note", "type": "create_activity", "subject": "Noted"},
    ]
    with (
        psycopg.connect(citus.coordinator.dsn("intime", "intime_service")) as service,
        psycopg.connect(citus_db[0], autocommit=True) as admin,
    ):
        with actor(service, org.org_id, org.admin_id):
            service.execute(
                "select api.create_workflow(p_name => 'three', p_entity_type => 'deal',"
                " p_definition => %s)",
                (Jsonb({"triggers": [{"type": "updated"}], "steps": steps}),),
            )
        admin.execute(
            "insert into app.deals (org_id, name, value, stage_id) select %s, 'One', 1, s.id"
            " from app.deal_stages as s where s.org_id = %s and s.name = 'Lead'",
            (org.org_id, org.org_id),
        )
        admin.execute("update app.deals set value = 2 where org_id = %s", (org.org_id,))
        executions = admin.execute(
            "select id from app.workflow_executions where org_id = %s", (org.org_id,)
        ).fetchall()
        service.autocommit = True
        outcomes = [
            service.execute(
                "select api.run_execution(p_execution_id => %s, p_org_id => %s)",
                (e[0], org.org_id),
            ).fetchone()
            for e in executions
        ]
        deal = admin.execute(
            "select description from app.deals where org_id = %s", (org.org_id,)
        ).fetchone()
    assert outcomes
    assert {o[0] for o in outcomes if o} == {"completed"}
    assert deal == ("seen",)
