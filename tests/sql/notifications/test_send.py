"""api.send_notification and api.send_notification_bulk: content, channels, grouping
(never into a hidden or expired row), and a notification's email private to its user."""

from __future__ import annotations

import threading

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, MissingVariablesError, NotFoundError
from tests.sql.notifications.conftest import Notifier, deal_notification
from tests.support import TwoOrgs, event

WON = {"deal": {"name": "Acme <Renewal> & Co", "value": "$5"}}


SEED_TEMPLATES = 9  # the seed's nine
WORKFLOW_TEMPLATES = {"workflow_failed", "approval_escalated", "workflow_escalation"}
CAMPAIGN_TEMPLATES = {"campaign_reply", "campaign_ab_winner", "campaign_enrollment_paused"}


def test_the_system_templates_exist_and_render(notifier: Notifier, two_orgs) -> None:
    rows = notifier.owner.execute(
        "select slug, variables from app.notification_system_templates order by slug"
    ).fetchall()
    assert len(rows) == SEED_TEMPLATES + len(WORKFLOW_TEMPLATES) + len(CAMPAIGN_TEMPLATES)
    assert {slug for slug, _ in rows} >= WORKFLOW_TEMPLATES | CAMPAIGN_TEMPLATES
    user = two_orgs.a.rep_ids[1]
    for slug, declared in rows:
        variables: dict = {}
        for item in declared:
            node = variables
            *parents, leaf = item["name"].split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = "X"
        nid = notifier.send(user, template_slug=slug, variables=variables)
        row = notifier.as_user(
            user, "select title from api.list_notifications() where id = %s", (nid,)
        )
        assert row, slug
        assert "{{" not in row[0]["title"], slug


def test_a_system_template_renders_nested_variables(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(
        user,
        template_slug="submission_created",
        variables={
            "job": {"title": "Data Engineer"},
            "candidate": {"name": "Kat"},
            "submitter": {"name": "Sam"},
        },
    )
    [row] = notifier.as_user(user, "select * from api.list_notifications() where id = %s", (nid,))
    assert row["title"] == "New submission for Data Engineer"
    assert row["message"] == "Kat was submitted to Data Engineer by Sam"
    assert row["category"] == "submission"


def test_an_org_template_overrides_the_system_one(notifier: Notifier, two_orgs) -> None:
    # The seed gives org A its own deal_closed_won.
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(user, template_slug="deal_closed_won", variables=WON)
    [row] = notifier.as_user(
        user, "select title from api.list_notifications() where id = %s", (nid,)
    )
    assert row["title"] == "Won: Acme <Renewal> & Co"


def test_the_other_org_still_gets_the_system_template(service, two_orgs: TwoOrgs, admin) -> None:
    b = Notifier(service, admin, two_orgs.b.org_id, two_orgs.b.admin_id)
    admin.execute("delete from app.notification_templates where org_id = %s", (two_orgs.b.org_id,))
    nid = b.send(two_orgs.b.rep_ids[1], template_slug="deal_closed_won", variables=WON)
    rows = b.as_user(
        two_orgs.b.rep_ids[1], "select title from api.list_notifications() where id = %s", (nid,)
    )
    assert rows[0]["title"] == "Deal Won: Acme <Renewal> & Co"


def test_an_inactive_override_falls_back_to_the_system_template(
    notifier: Notifier, two_orgs
) -> None:
    notifier.owner.execute(
        "update app.notification_templates set is_active = false where slug = 'deal_closed_won'"
    )
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(user, template_slug="deal_closed_won", variables=WON)
    [row] = notifier.as_user(
        user, "select title from api.list_notifications() where id = %s", (nid,)
    )
    assert row["title"].startswith("Deal Won: ")


def test_a_missing_required_variable_is_named_and_nothing_is_written(
    notifier: Notifier, two_orgs
) -> None:
    before = notifier.owner.execute("select count(*) from app.notifications").fetchone()
    with pytest.raises(MissingVariablesError, match=r"candidate\.name, job\.title"):
        notifier.send(
            two_orgs.a.rep_ids[1],
            template_slug="submission_created",
            variables={"submitter": {"name": "Sam"}},
        )
    assert notifier.owner.execute("select count(*) from app.notifications").fetchone() == before


def test_email_html_escapes_values_and_in_app_text_keeps_them(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(
        user,
        template_slug="task_assigned",
        variables={"task": {"title": "<script>x()</script>"}, "assigner": {"name": "A & B"}},
    )
    email = notifier.deliveries(nid)["email"]
    assert "&lt;script&gt;x()&lt;/script&gt;" in email["html_body"]
    assert "<script>" not in email["html_body"]
    assert "A &amp; B" in email["html_body"]
    assert email["subject"] == "New Task: <script>x()</script>"
    [row] = notifier.as_user(
        user, "select message from api.list_notifications() where id = %s", (nid,)
    )
    assert row["message"] == "A & B assigned you: <script>x()</script>"


def test_action_url_values_are_percent_encoded(notifier: Notifier, two_orgs) -> None:
    notifier.owner.execute(
        "insert into app.notification_templates (org_id, slug, name, category, title_template, "
        "message_template, action_url_template) values (%s, 'job_link', 'Job', 'submission', "
        "'Job {{job.title}}', 'See it', '/jobs/{{job.id}}?q={{job.title}}')",
        (two_orgs.a.org_id,),
    )
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(
        user, template_slug="job_link", variables={"job": {"id": "../admin", "title": "C++ & Go/é"}}
    )
    [row] = notifier.as_user(
        user, "select action_url from api.list_notifications() where id = %s", (nid,)
    )
    assert row["action_url"] == "/jobs/..%2Fadmin?q=C%2B%2B%20%26%20Go%2F%C3%A9"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "//evil.example/x", "data:text/html,x"])
def test_an_unsafe_action_url_is_refused(notifier: Notifier, two_orgs, url: str) -> None:
    with pytest.raises(InvalidParameterError, match="action URL"):
        notifier.send(
            two_orgs.a.rep_ids[1], category="deal", title="t", message="m", action_url=url
        )


def test_direct_content_needs_category_title_and_message(notifier: Notifier, two_orgs) -> None:
    with pytest.raises(InvalidParameterError, match="p_category with p_title and p_message"):
        notifier.send(two_orgs.a.rep_ids[1], title="only a title")


def test_an_unknown_template_is_not_found(notifier: Notifier, two_orgs) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        notifier.send(two_orgs.a.rep_ids[1], template_slug="nope")


def test_a_user_of_another_org_is_not_found(notifier: Notifier, two_orgs) -> None:
    with pytest.raises(NotFoundError, match=str(two_orgs.b.rep_ids[0])):
        notifier.send(two_orgs.b.rep_ids[0], category="deal", title="t", message="m")


def test_requested_channels_are_intersected_with_preferences(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    notifier.prefer(user, category="deal", channels=["in_app", "sms"])
    nid = notifier.send(
        user, category="deal", title="t", message="m", channels=["in_app", "email", "sms"]
    )
    deliveries = notifier.deliveries(nid)
    assert set(deliveries) == {"in_app", "sms"}
    assert deliveries["in_app"]["status"] == "delivered"


def test_sms_and_push_are_skipped_with_a_clear_reason(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    notifier.prefer(user, category="deal", channels=["in_app", "sms", "push"])
    nid = notifier.send(user, category="deal", title="t", message="m")
    deliveries = notifier.deliveries(nid)
    for channel in ("sms", "push"):
        assert deliveries[channel]["status"] == "skipped"
        assert deliveries[channel]["reason"] == "no provider configured"


def test_an_immediate_email_is_queued_and_linked(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    nid = notifier.send(user, template_slug="deal_closed_won", variables=WON)
    email = notifier.deliveries(nid)["email"]
    assert email["status"] == "pending"
    assert email["email_status"] == "queued"
    assert email["to_email"] == "sam@acme.example"
    job = notifier.owner.execute(
        "select count(*) from queue.pgqueuer where dedupe_key = 'email.send:' || %s",
        (str(email["email_send_id"]),),
    ).fetchone()
    assert job == (1,)


def test_email_is_skipped_when_the_org_has_no_email_settings(notifier: Notifier, two_orgs) -> None:
    notifier.owner.execute("delete from app.email_settings where org_id = %s", (two_orgs.a.org_id,))
    nid = notifier.send(two_orgs.a.rep_ids[1], template_slug="deal_closed_won", variables=WON)
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["reason"]) == ("skipped", "no email provider configured")


def test_email_status_changes_flow_to_the_delivery(notifier: Notifier, two_orgs, mail) -> None:
    nid = notifier.send(two_orgs.a.rep_ids[1], template_slug="deal_closed_won", variables=WON)
    send_id = notifier.deliveries(nid)["email"]["email_send_id"]
    mail.sent(send_id, f"re_{send_id}")
    assert notifier.deliveries(nid)["email"]["status"] == "sent"
    mail.ingest(f"msg_{send_id}", event("email.delivered", f"re_{send_id}"))
    assert notifier.deliveries(nid)["email"]["status"] == "delivered"


def test_a_suppressed_address_leaves_the_email_skipped(notifier: Notifier, two_orgs) -> None:
    notifier.owner.execute(
        "insert into app.suppressions (org_id, email, reason) values (%s, 'sam@acme.example', "
        "'hard_bounce')",
        (two_orgs.a.org_id,),
    )
    nid = notifier.send(two_orgs.a.rep_ids[1], template_slug="deal_closed_won", variables=WON)
    email = notifier.deliveries(nid)["email"]
    assert (email["status"], email["reason"]) == ("skipped", "suppressed: hard_bounce")


def test_the_same_unread_group_key_collapses_into_one_row(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    first = notifier.send(user, category="deal", title="1 new reply", message="a", group_key="g")
    [before] = notifier.as_user(
        user, "select seq from api.list_notifications() where id = %s", (first,)
    )
    second = notifier.send(user, category="deal", title="2 new replies", message="b", group_key="g")
    assert second == first
    [row] = notifier.as_user(user, "select * from api.list_notifications() where group_key = 'g'")
    assert (row["group_count"], row["title"], row["message"]) == (2, "2 new replies", "b")
    assert row["seq"] > before["seq"]


def test_a_read_group_starts_a_new_row(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    first = notifier.send(user, category="deal", title="t", message="m", group_key="g")
    notifier.as_user(user, "select api.mark_notifications_read(%s)", ([first],))
    second = notifier.send(user, category="deal", title="t", message="m", group_key="g")
    assert second != first


def test_a_collapsed_group_emails_once(notifier: Notifier, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    for _ in range(3):
        nid = notifier.send(user, template_slug="deal_closed_won", variables=WON, group_key="won")
    count = notifier.owner.execute(
        "select count(*) from app.email_sends where notification_id = %s", (nid,)
    ).fetchone()
    assert count == (1,)


def test_concurrent_sends_to_one_group_collapse(db, two_orgs) -> None:
    user = two_orgs.a.rep_ids[1]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with (
                db.connect("intime_service", autocommit=True) as conn,
                actor(conn, two_orgs.a.org_id, two_orgs.a.admin_id),
            ):
                barrier.wait()
                conn.execute(
                    "select api.send_notification(p_user_id => %s, p_category => 'deal', "
                    "p_title => 't', p_message => 'm', p_group_key => 'race')",
                    (user,),
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.connect() as owner:
        rows = owner.execute(
            "select group_count from app.notifications where group_key = 'race'"
        ).fetchall()
    assert rows == [(2,)]


def test_bulk_sends_to_each_user_with_outcomes(notifier: Notifier, two_orgs) -> None:
    a = two_orgs.a
    notifier.prefer(a.manager_id, category="deal", frequency="never")
    notifier.owner.execute(
        "update app.user_profiles set is_active = false where id = %s", (a.rep_ids[1],)
    )
    rows = notifier.bulk(
        [a.rep_ids[0], a.rep_ids[0], a.manager_id, a.rep_ids[1]],
        category="deal",
        title="Team update",
        message="Q3 targets are out",
    )
    outcomes = {user: outcome for user, _, outcome in rows}
    assert outcomes == {
        a.rep_ids[0]: "created",
        a.manager_id: "suppressed",
        a.rep_ids[1]: "inactive",
    }
    created = [nid for user, nid, _ in rows if user == a.rep_ids[0]]
    assert created[0] is not None


def test_bulk_with_a_stranger_writes_nothing(notifier: Notifier, two_orgs) -> None:
    before = notifier.owner.execute("select count(*) from app.notifications").fetchone()
    with pytest.raises(NotFoundError):
        notifier.bulk(
            [two_orgs.a.rep_ids[0], two_orgs.b.rep_ids[0]], category="deal", title="t", message="m"
        )
    assert notifier.owner.execute("select count(*) from app.notifications").fetchone() == before


def test_a_login_cannot_write_notifications_directly(db, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "insert into app.notifications (org_id, user_id, title, message, category) "
            "values (%s, %s, 't', 'm', 'deal')",
            (two_orgs.a.org_id, two_orgs.a.rep_ids[0]),
        )


# Another member of the org cannot read a user's private notification through email_sends.
def test_notification_email_is_private_to_its_user(db, notifier: Notifier, two_orgs, sam):
    nid = notifier.send(
        sam,
        category="deal",
        title="Your performance review",
        message="confidential: PIP starts Monday",
        channels=["in_app", "email"],
    )
    with db.connect(two_orgs.login_a) as riley:  # login mapped to rep_ids[0], a plain member
        own = riley.execute("select count(*) from app.notifications where id = %s", (nid,))
        assert own.fetchone() == (0,)  # the notification itself is private...
        leaked = riley.execute(
            "select subject, text_body from app.email_sends where notification_id = %s", (nid,)
        ).fetchall()
    assert leaked == [], f"member reads another user's notification email: {leaked}"


# '//host' is refused, and so is '/<TAB>/host': browsers strip TAB/LF -> '//host'.
@pytest.mark.parametrize("url", ["/\t/evil.example/login", "/\n/evil.example/login"])
def test_protocol_relative_url_with_tab_is_refused(notifier: Notifier, sam, url):
    with pytest.raises(InvalidParameterError, match="action URL"):
        notifier.send(sam, category="deal", title="t", message="m", action_url=url)


# A long rendered title is an IT005, not a raw CHECK violation.
def test_long_title_is_an_it005_not_a_check_violation(notifier: Notifier, sam):
    with pytest.raises(InvalidParameterError):  # today: psycopg.errors.CheckViolation (23514)
        notifier.send(
            sam,
            template_slug="mention_comment",
            variables={"mentioner": {"name": "A" * 500}, "entity": {"name": "e"}},
        )


# An unknown p_notification_id of api.queue_email is an InTime error, not a raw FK violation.
def test_queue_email_unknown_notification_id_is_an_it_error(mail):
    import uuid

    from intime.errors import InTimeError

    with pytest.raises(InTimeError):
        mail.queue(to="x@y.example", subject="s", text="t", notification_id=uuid.uuid4())


# A row without in_app (channels off, or p_channels email only) never swallows the group.
def test_group_key_does_not_collapse_into_an_invisible_row(notifier: Notifier, sam):
    unread_before = notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"]
    notifier.prefer(sam, category="deal", channels=["email"])  # in-app off for deals
    a = deal_notification(notifier, sam, group_key="acct-1")
    b = deal_notification(notifier, sam, group_key="acct-1")
    c = deal_notification(notifier, sam, group_key="acct-1")
    emails = notifier.owner.execute(
        "select count(*) from app.email_sends where notification_id = any(%s)", ([a, b, c],)
    ).fetchone()
    notifier.prefer(sam, category="deal", channels=["in_app", "email"])  # in-app back on
    d = deal_notification(notifier, sam, group_key="acct-1", title="visible?")
    listed = notifier.as_user(sam, "select id from api.list_notifications() where id = %s", (d,))
    unread = notifier.as_user(sam, "select api.count_unread_notifications() as n")[0]["n"]
    # today: one email for three sends, d is a (collapsed into the hidden row), nothing listed
    assert (emails, listed, unread - unread_before) == ((3,), [{"id": d}], 1), (
        emails,
        listed,
        unread - unread_before,
        d == a,
    )


# A group key never collapses into an expired (hidden) row: the old count would resurface
# and the expired row's skipped email would mean the new notification is never emailed.
def test_group_key_does_not_collapse_into_an_expired_row(notifier: Notifier, sam):
    notifier.at("2026-06-10T03:30:00Z")
    notifier.prefer(sam, category="deal", quiet_hours_enabled=True, quiet_hours_timezone="UTC")
    first = deal_notification(notifier, sam, group_key="g", expires_at="2026-06-10T06:00:00Z")
    notifier.at("2026-06-10T09:00:00Z")
    notifier.tick()  # the held email of the expired row is skipped ('expired')
    second = deal_notification(notifier, sam, group_key="g", title="fresh")
    [row] = notifier.as_user(sam, "select * from api.list_notifications() where id = %s", (second,))
    email = notifier.deliveries(second)["email"]
    assert (second != first, row["group_count"], email["status"]) == (True, 1, "pending"), (
        second == first,
        row["group_count"],
        email["status"],
        email["reason"],
    )


def test_a_group_collapses_only_its_own_senders_notifications(
    db, notifier: Notifier, two_orgs
) -> None:
    """A plain member reusing an admin's group_key gets a row of their own; the admin's
    unread notification keeps its text and link (issue 14's review: it was rewritten in
    place, with the admin's authority)."""
    sam = two_orgs.a.rep_ids[1]
    nid = notifier.send(
        sam,
        category="workflow",
        title="Approve invoice #5",
        message="from admin",
        action_url="/approvals/5",
        group_key="approval-5",
        channels=["in_app"],
    )  # notifier acts as the org admin
    with db.connect(two_orgs.login_a) as riley:  # a plain member (rep_ids[0])
        riley.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'workflow', "
            "p_title => 'Approve invoice #5', p_message => 'urgent, log in again', "
            "p_action_url => '/login-again', p_group_key => 'approval-5')",
            (sam,),
        )
        riley.commit()
    rows = notifier.owner.execute(
        "select id, created_by, action_url, group_count from app.notifications "
        "where user_id = %s and group_key = 'approval-5' order by created_at, id",
        (sam,),
    ).fetchall()
    admin_row = next(r for r in rows if r[0] == nid)
    assert admin_row[1:] == (two_orgs.a.admin_id, "/approvals/5", 1)
    assert [r[1:3] for r in rows if r[0] != nid] == [(two_orgs.a.rep_ids[0], "/login-again")]


def test_bulk_with_one_bad_address_still_notifies_the_team(notifier: Notifier, two_orgs):
    [row] = notifier.as_user(
        two_orgs.a.admin_id,
        "select api.create_user(p_email => 'pat@intranet', p_full_name => 'Pat') as id",
    )
    rows = notifier.bulk(
        [two_orgs.a.rep_ids[1], row["id"]],
        category="deal",
        title="Team",
        message="m",
        channels=["in_app", "email"],
    )  # raises IT005 today
    assert len(rows) == 2
