"""The built-in notifications: the seed's system templates fire on their own events
(a task assigned, a mention, a submission and its status, an interview, a deal stage),
set-based in the statement that made the change, to the right recipient, never to the
actor, under each recipient's preferences, unless the org turned them off."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor
from intime.errors import NotFoundError, PermissionDeniedError
from tests.sql.notifications.conftest import Notifier
from tests.support import TwoOrgs

BUILTINS = [
    "task_assigned",
    "mention_comment",
    "submission_created",
    "submission_status_changed",
    "interview_scheduled",
    "deal_stage_changed",
    "deal_closed_won",
]


class Org:
    """Org A of the seed, written as one of its users through the service role."""

    def __init__(self, service: psycopg.Connection, owner: psycopg.Connection, two_orgs: TwoOrgs):
        self.conn, self.owner, self.seed = service, owner, two_orgs.a
        self.admin, self.manager = two_orgs.a.admin_id, two_orgs.a.manager_id
        self.riley, self.sam = two_orgs.a.rep_ids
        # The seed's notifications are not the test's. By id, not by seq: on a Citus
        # cluster each node draws seqs from a range of its own (docs/scale-out.md).
        self.seeded = [r[0] for r in owner.execute("select id from app.notifications")]

    def run(self, user: uuid.UUID | None, query: str, params: Any = None) -> list[dict]:
        with actor(self.conn, self.seed.org_id, user):
            cur = self.conn.cursor(row_factory=dict_row)
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def one(self, user: uuid.UUID | None, query: str, params: Any = None) -> Any:
        [row] = self.run(user, query, params)
        return next(iter(row.values()))

    def received(self, user: uuid.UUID, slug: str) -> list[dict]:
        """The user's notifications of a template since the test began, read as the
        owner (past RLS)."""
        return (
            self.owner.cursor(row_factory=dict_row)
            .execute(
                "select * from app.notifications where org_id = %s and user_id = %s "
                "and template_slug = %s and id <> all(%s) order by created_at, seq",
                (self.seed.org_id, user, slug, self.seeded),
            )
            .fetchall()
        )

    def task(self, by: uuid.UUID | None, assignee: uuid.UUID | None, subject: str) -> uuid.UUID:
        return self.one(
            by,
            "insert into app.activities (entity_type, entity_id, type, subject, assignee_id) "
            "values ('deal', %s, 'task', %s, %s) returning id",
            (self.seed.deal_ids[0], subject, assignee),
        )

    def comment(self, by: uuid.UUID, mentions: list[uuid.UUID], body: str = "Look") -> uuid.UUID:
        return self.one(
            by,
            "insert into app.comments (entity_type, entity_id, body, mentioned_user_ids, "
            "author_id) values ('deal', %s, %s, %s::uuid[], %s) returning id",
            (self.seed.deal_ids[0], body, mentions, by),
        )

    def stage(self, name: str) -> uuid.UUID:
        return self.one(None, "select id from app.deal_stages where name = %s", (name,))

    def set_builtin(self, user: uuid.UUID | None, slug: str | None, enabled: bool) -> None:
        self.run(user, "select api.set_builtin_notification(%s, %s)", (slug, enabled))


@pytest.fixture
def org(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs) -> Org:
    return Org(service, admin, two_orgs)


# Each of the built-in notifications fires to the right recipient, rendered.


def test_assigning_a_task_notifies_the_assignee(org: Org) -> None:
    task_id = org.task(org.admin, org.sam, "Call Ada")
    [n] = org.received(org.sam, "task_assigned")
    assert n["title"] == "New task assigned"
    assert n["message"] == "Acme Staffing Admin assigned you: Call Ada"
    assert (n["entity_type"], n["entity_id"], n["created_by"]) == ("activity", task_id, org.admin)
    assert n["category"] == "assignment"


def test_reassigning_a_task_notifies_the_new_assignee_only(org: Org) -> None:
    task_id = org.task(org.admin, org.sam, "Call Ada")
    org.run(
        org.admin, "update app.activities set assignee_id = %s where id = %s", (org.riley, task_id)
    )
    org.run(
        org.admin, "update app.activities set subject = 'Call Ada today' where id = %s", (task_id,)
    )
    assert len(org.received(org.sam, "task_assigned")) == 1
    [n] = org.received(org.riley, "task_assigned")
    assert n["message"] == "Acme Staffing Admin assigned you: Call Ada"


def test_an_activity_that_is_not_a_task_notifies_nobody(org: Org) -> None:
    org.run(
        org.admin,
        "insert into app.activities (entity_type, entity_id, type, subject, assignee_id) "
        "values ('deal', %s, 'call', 'Ring Ada', %s)",
        (org.seed.deal_ids[0], org.sam),
    )
    assert org.received(org.sam, "task_assigned") == []


def test_a_mention_notifies_each_mentioned_user(org: Org) -> None:
    comment_id = org.comment(org.riley, [org.manager, org.sam], "Please <b>review</b> & sign")
    for user in (org.manager, org.sam):
        [n] = org.received(user, "mention_comment")
        assert n["title"] == "Riley Rep mentioned you"
        assert n["message"] == "Riley Rep mentioned you in a comment on Acme Staffing deal 1"
        assert n["data"]["comment"] == {
            "id": str(comment_id),
            "excerpt": "Please <b>review</b> & sign",
        }
        assert n["email_html"].endswith(
            "<blockquote>Please &lt;b&gt;review&lt;/b&gt; &amp; sign</blockquote>"
        )
        assert (n["entity_type"], n["entity_id"]) == ("deal", org.seed.deal_ids[0])


def test_an_edit_notifies_only_the_mentions_it_adds(org: Org) -> None:
    comment_id = org.comment(org.riley, [org.manager])
    org.run(
        org.riley,
        "update app.comments set mentioned_user_ids = %s::uuid[], body = 'Look again' "
        "where id = %s",
        ([org.manager, org.sam], comment_id),
    )
    assert len(org.received(org.manager, "mention_comment")) == 1
    assert len(org.received(org.sam, "mention_comment")) == 1


def test_a_mention_added_by_another_users_edit_names_the_editor(org: Org) -> None:
    comment_id = org.comment(org.admin, [])
    org.run(
        org.riley,
        "update app.comments set mentioned_user_ids = %s::uuid[] where id = %s",
        ([org.sam, org.riley], comment_id),
    )
    [n] = org.received(org.sam, "mention_comment")
    assert n["created_by"] == org.riley
    assert n["title"] == "Riley Rep mentioned you"
    assert org.received(org.riley, "mention_comment") == []


def test_reassigning_done_tasks_notifies_nobody(org: Org) -> None:
    task_ids = [org.task(org.admin, org.riley, f"Done {i}") for i in range(3)]
    org.run(
        org.admin,
        "update app.activities set status = 'completed' where id = any(%s)",
        (task_ids,),
    )
    org.run(
        org.admin,
        "update app.activities set assignee_id = %s where id = any(%s)",
        (org.sam, task_ids),
    )
    assert org.received(org.sam, "task_assigned") == []


def test_a_campaign_id_in_a_tasks_metadata_does_not_silence_it(org: Org) -> None:
    org.run(
        org.admin,
        "insert into app.activities (entity_type, entity_id, type, subject, assignee_id, "
        "metadata) values ('deal', %s, 'task', 'Call', %s, %s)",
        (org.seed.deal_ids[0], org.sam, Jsonb({"campaign_id": str(uuid.uuid4())})),
    )
    assert len(org.received(org.sam, "task_assigned")) == 1


def test_a_task_created_already_done_notifies_nobody(org: Org) -> None:
    org.run(
        org.admin,
        "insert into app.activities (entity_type, entity_id, type, subject, assignee_id, "
        "status) values ('deal', %s, 'task', 'Logged call', %s, 'completed')",
        (org.seed.deal_ids[0], org.sam),
    )
    assert org.received(org.sam, "task_assigned") == []


def test_a_mention_on_a_row_without_a_name_names_its_type(org: Org) -> None:
    submission = org.one(None, "select id from app.submissions limit 1")
    org.run(
        org.riley,
        "insert into app.comments (entity_type, entity_id, body, mentioned_user_ids) "
        "values ('submission', %s, 'See this', %s::uuid[])",
        (submission, [org.sam]),
    )
    [n] = org.received(org.sam, "mention_comment")
    assert n["message"] == "Riley Rep mentioned you in a comment on Submission"


def _new_candidate(org: Org, first: str) -> uuid.UUID:
    return org.one(
        org.riley,
        "insert into app.candidates (first_name, last_name) values (%s, 'Hopper') returning id",
        (first,),
    )


def _job(org: Org) -> uuid.UUID:
    # The seed's job, owned by Sam.
    return org.one(None, "select id from app.jobs where title = 'Senior Data Engineer'")


def test_a_submission_notifies_the_job_owner(org: Org) -> None:
    candidate = _new_candidate(org, "Grace")
    submission = org.one(
        org.riley,
        "insert into app.submissions (job_id, candidate_id) values (%s, %s) returning id",
        (_job(org), candidate),
    )
    [n] = org.received(org.sam, "submission_created")
    assert n["title"] == "New submission for Senior Data Engineer"
    assert n["message"] == "Grace Hopper was submitted to Senior Data Engineer by Riley Rep"
    assert (n["entity_type"], n["entity_id"]) == ("submission", submission)


def test_a_submission_status_change_notifies_the_job_owner(org: Org) -> None:
    submission = org.one(None, "select id from app.submissions where job_id = %s", (_job(org),))
    org.run(
        org.riley,
        "update app.submissions set status = 'client_review' where id = %s",
        (submission,),
    )
    [n] = org.received(org.sam, "submission_status_changed")
    assert n["title"] == "Submission status: client review"
    assert n["message"] == "Katherine Johnson for Senior Data Engineer is now client review"


def test_a_scheduled_interview_notifies_the_interviewer(org: Org) -> None:
    submission = org.one(None, "select id from app.submissions where job_id = %s", (_job(org),))
    org.run(
        org.sam,
        "insert into app.interviews (submission_id, scheduled_at, timezone, interviewer_id) "
        "values (%s, '2031-03-04 15:30+00', 'Europe/Paris', %s)",
        (submission, org.riley),
    )
    [n] = org.received(org.riley, "interview_scheduled")
    assert n["title"] == "Interview scheduled: Katherine Johnson"
    assert n["message"] == (
        "Interview with Katherine Johnson for Senior Data Engineer on 2031-03-04 at "
        "16:30 Europe/Paris"
    )


def test_a_rescheduled_interview_notifies_the_interviewer_again(org: Org) -> None:
    interview = org.one(None, "select id from app.interviews limit 1")  # the manager's
    org.run(
        org.sam,
        "update app.interviews set scheduled_at = '2031-03-05 09:00+00', timezone = 'UTC' "
        "where id = %s",
        (interview,),
    )
    received = org.received(org.manager, "interview_scheduled")
    assert received[-1]["message"].endswith("on 2031-03-05 at 09:00 UTC")


def test_a_deal_stage_change_notifies_the_owner(org: Org) -> None:
    deal = org.seed.deal_ids[1]  # Sam's, in Proposal
    org.run(
        org.admin,
        "update app.deals set stage_id = %s where id = %s",
        (org.stage("Negotiation"), deal),
    )
    [n] = org.received(org.sam, "deal_stage_changed")
    assert n["title"] == "Deal moved to Negotiation"
    assert n["message"] == "Acme Staffing deal 2 has been moved to Negotiation"
    assert n["entity_id"] == deal


def test_a_won_deal_sends_deal_closed_won_in_place_of_the_stage_change(org: Org) -> None:
    deal = org.seed.deal_ids[1]
    before = len(org.received(org.sam, "deal_stage_changed"))
    org.run(
        org.admin,
        "select api.move_deal_stage(p_deal_id => %s, p_stage_id => %s)",
        (deal, org.stage("Closed Won")),
    )
    [n] = org.received(org.sam, "deal_closed_won")
    assert n["title"] == "Won: Acme Staffing deal 2"  # the seed's org template for it
    assert n["data"]["deal"]["value"] == "USD 20,000.00"
    assert len(org.received(org.sam, "deal_stage_changed")) == before


def test_a_won_deal_sends_the_stage_change_when_deal_closed_won_is_off(org: Org) -> None:
    org.set_builtin(org.admin, "deal_closed_won", False)
    org.run(
        org.admin,
        "update app.deals set stage_id = %s where id = %s",
        (org.stage("Closed Won"), org.seed.deal_ids[1]),
    )
    assert org.received(org.sam, "deal_closed_won") == []
    assert org.received(org.sam, "deal_stage_changed")[-1]["title"] == "Deal moved to Closed Won"


# Nobody hears of their own action.


def test_assigning_a_task_to_oneself_notifies_nobody(org: Org) -> None:
    org.task(org.sam, org.sam, "Note to self")
    assert org.received(org.sam, "task_assigned") == []


def test_a_self_mention_notifies_only_the_others(org: Org) -> None:
    org.comment(org.riley, [org.riley, org.sam])
    assert org.received(org.riley, "mention_comment") == []
    assert len(org.received(org.sam, "mention_comment")) == 1


def test_the_job_owner_submitting_is_not_notified(org: Org) -> None:
    candidate = _new_candidate(org, "Ada")
    org.run(
        org.sam,
        "insert into app.submissions (job_id, candidate_id) values (%s, %s)",
        (_job(org), candidate),
    )
    assert org.received(org.sam, "submission_created") == []


def test_a_write_with_no_user_in_context_notifies_from_intime(org: Org) -> None:
    org.task(None, org.sam, "Imported task")
    [n] = org.received(org.sam, "task_assigned")
    assert n["message"] == "InTime assigned you: Imported task"
    assert n["created_by"] is None


# The org's switch, and each recipient's preferences.


def test_an_org_that_turned_one_off_gets_nothing_from_it(org: Org) -> None:
    org.set_builtin(org.admin, "task_assigned", False)
    org.task(org.admin, org.sam, "Quietly")
    assert org.received(org.sam, "task_assigned") == []
    org.comment(org.admin, [org.sam])
    assert len(org.received(org.sam, "mention_comment")) == 1  # the others still fire


def test_turning_one_back_on_fires_again(org: Org) -> None:
    org.set_builtin(org.admin, "task_assigned", False)
    org.set_builtin(org.admin, "task_assigned", True)
    org.task(org.admin, org.sam, "Loud again")
    assert len(org.received(org.sam, "task_assigned")) == 1


def test_the_off_switch_is_per_org(org: Org, two_orgs: TwoOrgs) -> None:
    org.set_builtin(org.admin, "task_assigned", False)
    b = two_orgs.b
    with actor(org.conn, b.org_id, b.admin_id):
        org.conn.execute(
            "insert into app.activities (entity_type, entity_id, type, subject, assignee_id) "
            "values ('deal', %s, 'task', 'Call Globex', %s)",
            (b.deal_ids[0], b.rep_ids[1]),
        )
    row = org.owner.execute(
        "select count(*) from app.notifications where org_id = %s and user_id = %s "
        "and template_slug = 'task_assigned' and message like '%%: Call Globex'",
        (b.org_id, b.rep_ids[1]),
    ).fetchone()
    assert row == (1,)


def test_a_recipient_who_chose_never_for_the_category_gets_nothing(
    org: Org, notifier: Notifier
) -> None:
    notifier.prefer(org.sam, category="assignment", frequency="never")
    org.task(org.admin, org.sam, "Call Ada")
    assert org.received(org.sam, "task_assigned") == []


def test_a_recipient_in_do_not_disturb_gets_it_silent_with_the_email_held(
    org: Org, notifier: Notifier
) -> None:
    notifier.prefer(org.sam, category="*", dnd_enabled=True)
    org.task(org.admin, org.sam, "Call Ada")
    [n] = org.received(org.sam, "task_assigned")
    assert n["silent"] is True
    deliveries = notifier.deliveries(n["id"])
    assert deliveries["email"]["status"] == "held"
    assert deliveries["in_app"]["reason"] == "silent: do not disturb"


def test_the_assignee_gets_the_email_when_nothing_holds_it(org: Org, notifier: Notifier) -> None:
    org.task(org.admin, org.sam, "Call <Ada>")
    [n] = org.received(org.sam, "task_assigned")
    email = notifier.deliveries(n["id"])["email"]
    assert (email["status"], email["to_email"]) == ("pending", "sam@acme.example")
    assert email["subject"] == "New Task: Call <Ada>"
    assert "<strong>Task:</strong> Call &lt;Ada&gt;" in email["html_body"]


def test_an_org_template_the_event_cannot_fill_does_not_block_the_change(org: Org) -> None:
    org.run(
        org.admin,
        "insert into app.notification_templates (slug, name, category, title_template, "
        "message_template, variables) values ('task_assigned', 'Task', 'assignment', "
        "'Due {{task.due}}', 'm', '[{\"name\": \"task.due\", \"required\": true}]')",
    )
    task_id = org.task(org.admin, org.sam, "Call Ada")
    assert org.one(None, "select assignee_id from app.activities where id = %s", (task_id,)) == (
        org.sam
    )
    assert org.received(org.sam, "task_assigned") == []


# One statement, one pass: set-based.


def _calls(conn: psycopg.Connection, function: str) -> int:
    row = conn.execute(
        "select coalesce(sum(calls), 0) from pg_stat_xact_user_functions "
        "where schemaname = 'app' and funcname = %s",
        (function,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _assign_in_bulk(org: Org, subject: str, count: int) -> psycopg.Cursor:
    """In the owner's open transaction (the actor set): ``count`` unassigned tasks
    ``subject N``, then one UPDATE assigning the even ones to Sam, the others to Riley,
    with track_functions on."""
    conn = org.owner
    conn.execute(
        "insert into app.activities (org_id, entity_type, entity_id, type, subject) "
        "select %s, 'deal', %s, 'task', %s || ' ' || g from generate_series(1, %s) g",
        (org.seed.org_id, org.seed.deal_ids[0], subject, count),
    )
    conn.execute("set local track_functions = 'pl'")
    return conn.execute(
        "update app.activities set assignee_id = case when right(subject, 1) in "
        "('0', '2', '4', '6', '8') then %s::uuid else %s::uuid end "
        "where subject like %s",
        (org.sam, org.riley, subject + " %"),
    )


def test_1000_tasks_assigned_in_one_update_give_1000_notifications_in_one_pass(org: Org) -> None:
    conn = org.owner  # a superuser: it may turn on track_functions
    with conn.transaction():
        conn.execute("select api.set_actor(%s, %s)", (org.seed.org_id, org.admin))
        cur = _assign_in_bulk(org, "Bulk task", 1000)
        assert cur.rowcount == 1000
        assert _calls(conn, "_tg_activity_notify_update") == 1
        assert _calls(conn, "_notification_send_builtin") == 1
    rows = conn.execute(
        "select n.user_id, count(*), count(distinct n.entity_id), "
        "count(*) filter (where n.message = 'Acme Staffing Admin assigned you: ' || a.subject) "
        "from app.notifications n join app.activities a on a.org_id = n.org_id "
        "and a.id = n.entity_id where n.template_slug = 'task_assigned' "
        "and a.subject like 'Bulk task %%' group by n.user_id order by 2",
    ).fetchall()
    assert {(user, count, distinct, right) for user, count, distinct, right in rows} == {
        (org.sam, 500, 500, 500),
        (org.riley, 500, 500, 500),
    }


def test_the_emails_of_a_bulk_assignment_are_queued_in_one_statement(org: Org) -> None:
    """One INSERT of the sends, one of their jobs, one UPDATE of the deliveries: Sam's
    address is suppressed, so his are skipped (their suppressed sends kept and linked),
    Riley's pending, each with one email.send job."""
    conn = org.owner
    conn.execute(
        "insert into app.suppressions (org_id, email, reason) "
        "values (%s, 'sam@acme.example', 'hard_bounce')",
        (org.seed.org_id,),
    )
    with conn.transaction():
        conn.execute("select api.set_actor(%s, %s)", (org.seed.org_id, org.admin))
        _assign_in_bulk(org, "Mail task", 40)
        assert _calls(conn, "_notification_queue_emails") == 1
        assert _calls(conn, "_email_insert_send") == 0
    rows = conn.execute(
        "select n.user_id, d.status, d.reason, s.status, d.attempts, s.xmin::text, s.cmin::text, "
        "(select count(*) from queue.pgqueuer j where j.entrypoint = 'email.send' "
        "and j.dedupe_key = 'email.send:' || s.id) "
        "from app.notifications n join app.activities a on a.org_id = n.org_id "
        "and a.id = n.entity_id join app.notification_deliveries d on d.org_id = n.org_id "
        "and d.notification_id = n.id and d.channel = 'email' left join app.email_sends s "
        "on s.org_id = d.org_id and s.id = d.email_send_id "
        "where n.template_slug = 'task_assigned' and a.subject like 'Mail task %%'",
    ).fetchall()
    assert len(rows) == 40
    assert {(*r[:5], r[7]) for r in rows} == {
        (org.sam, "skipped", "suppressed: hard_bounce", "suppressed", 1, 0),
        (org.riley, "pending", None, "queued", 1, 1),
    }
    assert len({(r[5], r[6]) for r in rows}) == 1  # one statement wrote every send


def test_an_update_of_other_columns_never_reaches_the_sender(org: Org) -> None:
    conn = org.owner
    with conn.transaction():
        conn.execute("select api.set_actor(%s, %s)", (org.seed.org_id, org.admin))
        conn.execute("set local track_functions = 'pl'")
        org_id = org.seed.org_id  # a superuser passes RLS: name the org
        conn.execute("update app.activities set priority = 'low' where org_id = %s", (org_id,))
        conn.execute("update app.deals set description = 'x' where org_id = %s", (org_id,))
        assert _calls(conn, "_tg_activity_notify_update") == 1
        assert _calls(conn, "_tg_deal_notify_stage") == 1
        assert _calls(conn, "_notification_builtin_tasks") == 0
        assert _calls(conn, "_notification_send_builtin") == 0


def test_a_sql_login_assigning_a_task_notifies_under_its_row_level_security(
    db, two_orgs: TwoOrgs, org: Org
) -> None:
    # The login is mapped to Riley: its RLS would refuse a notification row for Sam.
    with db.connect(two_orgs.login_a) as login:
        login.execute(
            "insert into app.activities (entity_type, entity_id, type, subject, assignee_id) "
            "values ('deal', %s, 'task', 'From psql', %s)",
            (org.seed.deal_ids[0], org.sam),
        )
        login.commit()
    [n] = org.received(org.sam, "task_assigned")
    assert n["created_by"] == org.riley


def test_the_notification_is_private_to_its_recipient(org: Org, notifier: Notifier) -> None:
    org.task(org.admin, org.sam, "Call Ada")
    [n] = org.received(org.sam, "task_assigned")
    query = "select id from app.notifications where id = %s"
    assert notifier.as_user(org.sam, query, (n["id"],)) == [{"id": n["id"]}]
    assert notifier.as_user(org.riley, query, (n["id"],)) == []
    assert notifier.as_user(org.admin, query, (n["id"],)) == []


# Who may switch them, and what the list shows.


def test_a_member_may_not_turn_a_builtin_notification_off(org: Org) -> None:
    with pytest.raises(PermissionDeniedError):
        org.set_builtin(org.sam, "task_assigned", False)
    with pytest.raises(PermissionDeniedError):
        org.set_builtin(org.manager, "task_assigned", False)
    org.task(org.admin, org.sam, "Still on")
    assert len(org.received(org.sam, "task_assigned")) == 1


@pytest.mark.parametrize("slug", ["approval_required", "no_such_slug", None])
def test_a_slug_that_is_not_a_builtin_notification_is_not_found(org: Org, slug: str | None) -> None:
    with pytest.raises(NotFoundError):
        org.set_builtin(org.admin, slug, False)


def test_the_list_shows_every_builtin_notification_with_its_switch(org: Org) -> None:
    org.set_builtin(org.admin, "mention_comment", False)
    rows = org.run(org.sam, "select * from api.list_builtin_notifications()")
    assert [r["slug"] for r in rows] == BUILTINS
    off = {r["slug"]: (r["enabled"], r["changed_by"]) for r in rows}
    assert off["mention_comment"] == (False, org.admin)
    assert off["task_assigned"] == (True, None)
    assert all(r["event"] for r in rows)
