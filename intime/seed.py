"""Demo and test data: one organization with a row in every tenant table.

Runs as the service role through the public API (api.create_organization,
api.create_user, api.set_actor, api.move_deal_stage) and plain INSERTs under
RLS, the way a client would.
"""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
from psycopg.rows import dict_row

from intime.db import actor


@dataclasses.dataclass(frozen=True)
class SeededOrg:
    org_id: uuid.UUID
    slug: str
    admin_id: uuid.UUID
    manager_id: uuid.UUID
    rep_ids: tuple[uuid.UUID, ...]
    stage_ids: dict[str, uuid.UUID]
    deal_ids: tuple[uuid.UUID, ...]
    contact_ids: tuple[uuid.UUID, ...]
    login_user_id: uuid.UUID | None


def _one(conn: psycopg.Connection, query: str, params: dict[str, object]) -> uuid.UUID:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def seed_org(
    conn: psycopg.Connection,
    name: str,
    slug: str,
    *,
    login_role: str | None = None,
    deals: int = 3,
) -> SeededOrg:
    """Create an org with users, CRM and staffing data, and deal stage moves.

    ``conn`` connects as intime_service. ``login_role`` (an existing member of
    intime_user) is mapped to one of the reps for SQL-login tests.
    """
    domain = f"{slug}.example"
    with conn.transaction():
        org_id = _one(
            conn,
            "select api.create_organization(p_name => %(name)s, p_slug => %(slug)s, "
            "p_timezone => 'America/New_York')",
            {"name": name, "slug": slug},
        )
    with actor(conn, org_id):
        admin_id = _one(
            conn,
            "select api.create_user(p_email => %(e)s, p_full_name => %(n)s, p_role => 'admin')",
            {"e": f"admin@{domain}", "n": f"{name} Admin"},
        )
        manager_id = _one(
            conn,
            "select api.create_user(p_email => %(e)s, p_full_name => %(n)s, p_role => 'manager',"
            " p_timezone => 'Europe/London')",
            {"e": f"manager@{domain}", "n": "Morgan Manager"},
        )
        rep_ids = tuple(
            _one(
                conn,
                "select api.create_user(p_email => %(e)s, p_full_name => %(n)s, "
                "p_manager_id => %(m)s, p_db_role => %(r)s)",
                {
                    "e": f"{first.lower()}@{domain}",
                    "n": f"{first} Rep",
                    "m": manager_id,
                    "r": login_role if i == 0 else None,
                },
            )
            for i, first in enumerate(("Riley", "Sam"))
        )
    with actor(conn, org_id, admin_id):
        conn.execute(
            "select token_id from api.create_api_token(p_name => 'seed', p_user_id => %(u)s)",
            {"u": rep_ids[0]},
        )
        stages = {
            r["name"]: r["id"]
            for r in conn.cursor(row_factory=dict_row)
            .execute("select id, name from app.deal_stages order by position")
            .fetchall()
        }
        account_id = _one(
            conn,
            "insert into app.accounts (name, domain, industry, owner_id, status) "
            "values (%(n)s, %(d)s, 'Software', %(o)s, 'customer') returning id",
            {"n": f"{name} Client Co", "d": f"client.{domain}", "o": rep_ids[0]},
        )
        contact_ids = tuple(
            _one(
                conn,
                "insert into app.contacts (first_name, last_name, email, account_id, owner_id, "
                "timezone) values (%(f)s, %(l)s, %(e)s, %(a)s, %(o)s, 'America/Chicago') "
                "returning id",
                {
                    "f": first,
                    "l": last,
                    "e": f"{first.lower()}.{last.lower()}@client.{domain}",
                    "a": account_id,
                    "o": rep_ids[0],
                },
            )
            for first, last in (("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"))
        )
        deal_ids = tuple(
            _one(
                conn,
                "insert into app.deals (name, account_id, lead_contact_id, owner_id, stage_id, "
                "value, expected_close_date) values (%(n)s, %(a)s, %(c)s, %(o)s, %(s)s, %(v)s, "
                "app.now()::date + 30) returning id",
                {
                    "n": f"{name} deal {i + 1}",
                    "a": account_id,
                    "c": contact_ids[i % len(contact_ids)],
                    "o": rep_ids[i % len(rep_ids)],
                    "s": stages["Lead"],
                    "v": 10000 * (i + 1),
                },
            )
            for i in range(deals)
        )
        path = ("Qualified", "Proposal", "Negotiation", "Closed Won")
        for i, deal_id in enumerate(deal_ids):
            steps = path if i == 0 else path[: 1 + i % 3]
            if i == len(deal_ids) - 1 and i > 0:
                steps = ("Qualified", "Closed Lost")
            for stage in steps:
                conn.execute(
                    "select api.move_deal_stage(p_deal_id => %(d)s, p_stage_id => %(s)s, "
                    "p_notes => %(n)s)",
                    {"d": deal_id, "s": stages[stage], "n": f"moved to {stage}"},
                )
        conn.execute(
            "insert into app.activities (entity_type, entity_id, type, subject, assignee_id, "
            "due_date, priority) values ('deal', %(d)s, 'task', 'Send proposal', %(u)s, "
            "app.now() + interval '2 days', 'high')",
            {"d": deal_ids[0], "u": rep_ids[0]},
        )
        comment_id = _one(
            conn,
            "insert into app.comments (entity_type, entity_id, body, mentioned_user_ids) "
            "values ('deal', %(d)s, 'Looping in @manager', array[%(m)s]::uuid[]) returning id",
            {"d": deal_ids[0], "m": manager_id},
        )
        conn.execute(
            "insert into app.comments (entity_type, entity_id, parent_id, body) "
            "values ('deal', %(d)s, %(p)s, 'On it')",
            {"d": deal_ids[0], "p": comment_id},
        )
        conn.execute(
            "insert into app.notes (entity_type, entity_id, title, body, is_pinned) "
            "values ('account', %(a)s, 'Context', 'Renewal due in Q3', true)",
            {"a": account_id},
        )
        job_id = _one(
            conn,
            "insert into app.jobs (title, account_id, hiring_contact_id, owner_id, location) "
            "values ('Senior Data Engineer', %(a)s, %(c)s, %(o)s, 'Remote') returning id",
            {"a": account_id, "c": contact_ids[0], "o": rep_ids[1]},
        )
        candidate_id = _one(
            conn,
            "insert into app.candidates (first_name, last_name, email, owner_id) "
            "values ('Katherine', 'Johnson', %(e)s, %(o)s) returning id",
            {"e": f"katherine@candidates.{domain}", "o": rep_ids[1]},
        )
    with actor(conn, org_id, rep_ids[1]):
        submission_id = _one(
            conn,
            "insert into app.submissions (job_id, candidate_id, bill_rate) "
            "values (%(j)s, %(c)s, 120) returning id",
            {"j": job_id, "c": candidate_id},
        )
        conn.execute(
            "insert into app.interviews (submission_id, scheduled_at, timezone, interviewer_id) "
            "values (%(s)s, app.now() + interval '3 days', 'America/New_York', %(i)s)",
            {"s": submission_id, "i": manager_id},
        )
        conn.execute(
            "update app.submissions set status = 'offered' where id = %(s)s",
            {"s": submission_id},
        )
        conn.execute(
            "insert into app.placements (submission_id, job_id, candidate_id, start_date, "
            "bill_rate, pay_rate, status) values (%(s)s, %(j)s, %(c)s, app.now()::date + 14, "
            "120, 85, 'pending')",
            {"s": submission_id, "j": job_id, "c": candidate_id},
        )
    return SeededOrg(
        org_id=org_id,
        slug=slug,
        admin_id=admin_id,
        manager_id=manager_id,
        rep_ids=rep_ids,
        stage_ids=stages,
        deal_ids=deal_ids,
        contact_ids=contact_ids,
        login_user_id=rep_ids[0] if login_role else None,
    )
