"""api.send_notification and api.send_notification_bulk: content, channels, grouping."""

from __future__ import annotations

import threading

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, MissingVariablesError, NotFoundError
from tests.sql.notifications.conftest import Notifier
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
