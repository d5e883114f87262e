"""Permissions inside an org (docs/permissions.md): the matrix of every role against
every write path, driven by app.permissions — each permission's default, and the same
with the org's setting flipped — plus plain DML from a SQL login, the admin-only
setting, and the reads.

Each write runs as the service acting for a user of org A, in a transaction that is
rolled back, so the paths never see each other's effects."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from intime.errors import InvalidParameterError, PermissionDeniedError, RateLimitedError
from tests.support import Database, TwoOrgs, behind

WORKFLOW: dict[str, Any] = {
    "triggers": [{"type": "status_change", "to": "won"}],
    "steps": [{"name": "task", "type": "create_task", "title": "Call {{deal.name}}"}],
}
NOTIFICATION_TEMPLATE = (
    "insert into app.notification_templates (name, slug, category, title_template, "
    "message_template) values ('x', 'perm_test', 'system', 'T', 'M')"
)


class Fixture:
    """Org A's objects that the write paths act on, made once as the admin."""

    def __init__(self, service: psycopg.Connection, orgs: TwoOrgs) -> None:
        self.service, self.orgs = service, orgs
        a = orgs.a
        with actor(service, a.org_id, a.admin_id):
            self.workflow_id = service.execute(
                "select api.create_workflow(p_name => 'w', p_entity_type => 'deal', "
                "p_definition => %s)",
                (Jsonb(WORKFLOW),),
            ).fetchone()[0]
            # A sending domain the settings do not use, for removal.
            self.spare_domain = "spare.acme.example"
            service.execute("select api.add_sending_domain(p_domain => %s)", (self.spare_domain,))
            # A suppression added by hand, to lift.
            self.suppressed = "perm.manual@client.acme.example"
            service.execute("select api.add_suppression(p_email => %s)", (self.suppressed,))
            # A template that links off the app (made by the admin).
            service.execute(
                "insert into app.notification_templates (name, slug, category, "
                "title_template, message_template, action_url_template) "
                "values ('x', 'external_link', 'deal', 'T', 'M', 'https://evil.example/payout')"
            )
        with actor(service, a.org_id, a.rep_ids[0]):
            # Owned by a member: for everyone else it is another user's campaign.
            self.campaign_id = service.execute(
                "select api.create_campaign(p_name => 'Theirs')"
            ).fetchone()[0]
            self.campaign_step_id = service.execute(
                "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'wait', "
                "p_delay_days => 1)",
                (self.campaign_id,),
            ).fetchone()[0]


Write = Callable[[psycopg.Connection, Fixture], object]

# permission -> its write paths. A permission in app.permissions without paths here
# fails test_every_permission_has_write_paths_in_the_matrix.
WRITE_PATHS: dict[str, dict[str, Write]] = {
    "templates.manage": {
        "insert email_templates": lambda c, f: c.execute(
            "insert into app.email_templates (slug, name, subject_template, html_template) "
            "values ('perm-test', 'x', 's', 'h')"
        ),
        "update email_templates": lambda c, f: c.execute(
            "update app.email_templates set name = 'changed'"
        ),
        "delete email_templates": lambda c, f: c.execute(
            "delete from app.email_templates where slug = 'no-such'"
        ),
        "insert notification_templates": lambda c, f: c.execute(NOTIFICATION_TEMPLATE),
    },
    "pipeline.manage": {
        "insert deal_stages": lambda c, f: c.execute(
            "insert into app.deal_stages (name, position, probability) values ('New', 9, 5)"
        ),
        "update deal_stages is_won": lambda c, f: c.execute(
            "update app.deal_stages set is_won = true where name = 'Lead'"
        ),
        "delete deal_stages": lambda c, f: c.execute(
            "delete from app.deal_stages where name = 'no-such'"
        ),
    },
    "workflows.manage": {
        "api.create_workflow": lambda c, f: c.execute(
            "select api.create_workflow(p_name => 'x', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(WORKFLOW),),
        ),
        "api.update_workflow": lambda c, f: c.execute(
            "select api.update_workflow(p_workflow_id => %s, p_changes => %s)",
            (f.workflow_id, Jsonb({"name": "renamed"})),
        ),
        "api.delete_workflow": lambda c, f: c.execute(
            "select api.delete_workflow(p_workflow_id => %s)", (f.workflow_id,)
        ),
    },
    "email_settings.manage": {
        "api.set_email_settings": lambda c, f: c.execute(
            "select api.set_email_settings(p_from_email => 'x@acme.example', "
            "p_reply_domain => 'mail.acme.example')"
        ),
        "api.add_sending_domain": lambda c, f: c.execute(
            "select api.add_sending_domain(p_domain => 'perm.acme.example')"
        ),
        "api.check_sending_domain": lambda c, f: c.execute(
            "select api.check_sending_domain(p_domain => 'acme.example')"
        ),
        "api.remove_sending_domain": lambda c, f: c.execute(
            "select api.remove_sending_domain(p_domain => %s)", (f.spare_domain,)
        ),
    },
    "webhook_settings.manage": {
        "api.get_webhook_signing_secret": lambda c, f: c.execute(
            "select api.get_webhook_signing_secret()"
        ),
        "api.rotate_webhook_secret": lambda c, f: c.execute("select api.rotate_webhook_secret()"),
    },
    "notifications.send_critical": {
        "api.send_notification critical": lambda c, f: c.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'Payout', p_message => 'm', p_channels => '{in_app}', "
            "p_critical => true)",
            (f.orgs.a.rep_ids[0],),
        ),
    },
    "notifications.send_email": {
        "api.send_notification by email to another user": lambda c, f: c.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'T', p_message => 'm', p_channels => '{email}')",
            (f.orgs.a.rep_ids[0],),
        ),
        "api.send_notification_bulk by email": lambda c, f: c.execute(
            "select * from api.send_notification_bulk(p_user_ids => %s, p_category => 'deal', "
            "p_title => 'T', p_message => 'm', p_channels => '{in_app,email}')",
            ([f.orgs.a.rep_ids[0], f.orgs.a.manager_id],),
        ),
    },
    "notifications.link_external": {
        "api.send_notification with an absolute action URL": lambda c, f: c.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'T', p_message => 'm', p_channels => '{in_app}', "
            "p_action_url => 'https://evil.example/payout')",
            (f.orgs.a.rep_ids[0],),
        ),
        "api.send_notification of a template whose URL is absolute": lambda c, f: c.execute(
            "select api.send_notification(p_user_id => %s, p_template_slug => 'external_link', "
            "p_channels => '{in_app}')",
            (f.orgs.a.rep_ids[0],),
        ),
    },
    "suppressions.manage": {
        "api.add_suppression": lambda c, f: c.execute(
            "select api.add_suppression(p_email => 'perm.new@client.acme.example', "
            "p_note => 'by phone')"
        ),
        "api.remove_suppression": lambda c, f: c.execute(
            "select api.remove_suppression(p_email => %s)", (f.suppressed,)
        ),
        "api.remove_suppression of a hard bounce with p_force": lambda c, f: c.execute(
            "select api.remove_suppression(p_email => 'nobody@bounce.acme.example', "
            "p_force => true)"
        ),
    },
    "campaigns.manage_any": {
        "api.update_campaign of another's": lambda c, f: c.execute(
            "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
            (f.campaign_id, Jsonb({"name": "Mine now"})),
        ),
        "api.create_campaign for another": lambda c, f: c.execute(
            "select api.create_campaign(p_name => 'For them', p_owner_id => %s)",
            (f.orgs.a.rep_ids[0],),
        ),
        "api.add_sequence_step to another's": lambda c, f: c.execute(
            "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'wait')",
            (f.campaign_id,),
        ),
        "api.update_sequence_step of another's": lambda c, f: c.execute(
            "select api.update_sequence_step(p_step_id => %s, p_changes => %s)",
            (f.campaign_step_id, Jsonb({"delay_days": 2})),
        ),
        "api.activate_campaign of another's": lambda c, f: c.execute(
            "select api.activate_campaign(p_campaign_id => %s)", (f.campaign_id,)
        ),
        "api.complete_campaign of another's": lambda c, f: c.execute(
            "select api.complete_campaign(p_campaign_id => %s)", (f.campaign_id,)
        ),
    },
}

ROLES = ("admin", "manager", "member")


def _user(orgs: TwoOrgs, role: str) -> uuid.UUID:
    a = orgs.a
    # rep_ids[1]: a member who owns nothing the paths touch.
    return {"admin": a.admin_id, "manager": a.manager_id, "member": a.rep_ids[1]}[role]


def _allowed(service: psycopg.Connection, fixture: Fixture, role: str, write: Write) -> bool:
    """Run one write as a user of the role and roll it back: True if it went through,
    False if refused with IT003."""
    orgs = fixture.orgs
    try:
        with errors_translated(), service.transaction(force_rollback=True):
            service.execute(
                "select api.set_actor(p_org_id => %s, p_user_id => %s)",
                (orgs.a.org_id, _user(orgs, role)),
            )
            write(service, fixture)
    except PermissionDeniedError:
        return False
    return True


def _set(service: psycopg.Connection, orgs: TwoOrgs, role: str, permission: str, granted: Any):
    with actor(service, orgs.a.org_id, orgs.a.admin_id):
        service.execute(
            "select api.set_role_permission(p_role => %s, p_permission => %s, p_granted => %s)",
            (role, permission, granted),
        )


@pytest.fixture
def matrix(service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs):
    defaults = {
        name: set(roles)
        for name, roles in admin.execute(
            "select name, default_roles from app.permissions order by name"
        ).fetchall()
    }
    return Fixture(service, two_orgs), defaults


def test_every_permission_has_write_paths_in_the_matrix(admin: psycopg.Connection) -> None:
    names = {r[0] for r in admin.execute("select name from app.permissions").fetchall()}
    assert names == set(WRITE_PATHS)


def test_every_role_against_every_write_path_at_the_defaults(
    matrix, service: psycopg.Connection
) -> None:
    fixture, defaults = matrix
    got, expected = {}, {}
    for permission, paths in WRITE_PATHS.items():
        for path, write in paths.items():
            for role in ROLES:
                key = (permission, path, role)
                got[key] = _allowed(service, fixture, role, write)
                expected[key] = role == "admin" or role in defaults[permission]
    assert got == expected


def test_every_role_against_every_write_path_with_the_setting_flipped(
    matrix, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    fixture, defaults = matrix
    for permission in WRITE_PATHS:
        for role in ("manager", "member"):
            _set(service, two_orgs, role, permission, role not in defaults[permission])
    got, expected = {}, {}
    for permission, paths in WRITE_PATHS.items():
        for path, write in paths.items():
            for role in ROLES:
                key = (permission, path, role)
                got[key] = _allowed(service, fixture, role, write)
                expected[key] = role == "admin" or role not in defaults[permission]
    assert got == expected


def test_a_null_setting_puts_the_role_back_on_the_default(
    matrix, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    fixture, _ = matrix
    insert = WRITE_PATHS["templates.manage"]["insert email_templates"]
    _set(service, two_orgs, "member", "templates.manage", True)
    assert _allowed(service, fixture, "member", insert)
    _set(service, two_orgs, "member", "templates.manage", None)
    assert not _allowed(service, fixture, "member", insert)


def test_a_members_sql_login_is_refused_template_and_stage_writes(
    db: Database, two_orgs: TwoOrgs
) -> None:
    statements = [
        "update app.notification_templates set action_url_template = 'https://evil.example/payout'",
        NOTIFICATION_TEMPLATE,
        "update app.email_templates set html_template = '<a href=https://evil.example>x</a>'",
        "update app.deal_stages set is_won = true",
        "delete from app.deal_stages",
    ]
    refused = []
    with db.connect(two_orgs.login_a, autocommit=True) as member:
        for statement in statements:
            with pytest.raises(psycopg.Error) as info:
                member.execute(statement)
            refused.append(info.value.sqlstate)
    assert refused == ["IT003"] * len(statements)


def test_only_an_admin_changes_what_a_role_may_do(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    for user in (a.manager_id, a.rep_ids[1]):
        with (
            pytest.raises(PermissionDeniedError),
            actor(service, a.org_id, user),
        ):
            service.execute(
                "select api.set_role_permission(p_role => 'member', "
                "p_permission => 'templates.manage', p_granted => true)"
            )


@pytest.mark.parametrize(
    ("role", "permission"),
    [("admin", "templates.manage"), ("member", "templates.nope"), (None, "templates.manage")],
)
def test_an_admin_cannot_set_the_admin_role_or_an_unknown_permission(
    service: psycopg.Connection, two_orgs: TwoOrgs, role: str | None, permission: str
) -> None:
    with (
        pytest.raises(InvalidParameterError),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "select api.set_role_permission(p_role => %s, p_permission => %s, p_granted => true)",
            (role, permission),
        )


def test_an_orgs_setting_does_not_reach_another_org(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _set(service, two_orgs, "member", "templates.manage", True)
    with actor(service, two_orgs.b.org_id, two_orgs.b.rep_ids[1]):
        held = service.execute("select api.get_permission(p_permission => 'templates.manage')")
        assert held.fetchone() == (False,)


def test_every_user_reads_what_each_role_holds(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _set(service, two_orgs, "manager", "pipeline.manage", True)
    with actor(service, two_orgs.a.org_id, two_orgs.a.rep_ids[1]):
        rows = service.execute(
            "select permission, admin, manager, member, manager_default "
            "from api.list_role_permissions() where permission = 'pipeline.manage'"
        ).fetchall()
    assert rows == [("pipeline.manage", True, True, False, False)]


def test_an_unknown_permission_is_an_error_not_a_refusal(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with (
        pytest.raises(InvalidParameterError, match="unknown permission"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute("select api.get_permission(p_permission => 'templates.mange')")


def test_the_engine_acting_as_the_system_holds_every_permission(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    with actor(service, two_orgs.a.org_id):
        held = service.execute(
            "select bool_and(api.get_permission(p_permission => name)) from app.permissions"
        )
        assert held.fetchone() == (True,)


def test_without_send_email_a_members_notification_to_another_goes_in_app_only(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    with actor(service, a.org_id, a.rep_ids[1]):
        nid = service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'T', p_message => 'm')",
            (a.rep_ids[0],),
        ).fetchone()[0]
        emails = service.execute(
            "select count(*) from app.email_sends where notification_id = %s", (nid,)
        ).fetchone()
    assert nid is not None
    assert emails == (0,)


def test_a_member_may_still_email_themselves(
    service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    with actor(service, a.org_id, a.rep_ids[1]):
        service.execute(
            "select api.send_notification(p_user_id => %s, p_category => 'deal', "
            "p_title => 'Note to self', p_message => 'm', p_channels => '{email}')",
            (a.rep_ids[1],),
        )


def test_a_users_sending_is_rate_limited_and_the_engines_is_not(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    admin.execute("update app.settings set notification_rate_per_minute = 3")
    # A minute of its own, away from the seed's notifications.
    service.execute("set app.fake_now = '2030-01-07 10:00:00+00'")
    send = (
        "select * from api.send_notification_bulk(p_user_ids => %s, p_category => 'deal', "
        "p_title => 'T', p_message => 'm', p_channels => '{in_app}')"
    )
    with actor(service, a.org_id, a.manager_id):
        service.execute(send, ([a.rep_ids[0], a.rep_ids[1]],))
    with (
        pytest.raises(RateLimitedError, match="2 notifications asked, 1 left of 3"),
        actor(service, a.org_id, a.manager_id),
    ):
        service.execute(send, ([a.rep_ids[0], a.rep_ids[1]],))
    # Another user has their own bucket; the engine (no user) has none.
    with actor(service, a.org_id, a.admin_id):
        service.execute(send, ([a.rep_ids[0], a.rep_ids[1]],))
    with actor(service, a.org_id):
        for _ in range(3):
            service.execute(send, ([a.rep_ids[0], a.rep_ids[1]],))


def test_a_collapsed_notification_counts_against_the_rate(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: re-sending one group_key collapsed into one row and was never
    counted, so a member could re-announce (and re-email) without limit."""
    a = two_orgs.a
    admin.execute("update app.settings set notification_rate_per_minute = 3")
    service.execute("set app.fake_now = '2030-01-07 11:00:00+00'")
    send = (
        "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => 'T', "
        "p_message => 'm', p_channels => '{in_app}', p_group_key => 'again')"
    )
    with actor(service, a.org_id, a.rep_ids[0]):
        for _ in range(3):
            service.execute(send, (a.rep_ids[1],))
    with pytest.raises(RateLimitedError), actor(service, a.org_id, a.rep_ids[0]):
        service.execute(send, (a.rep_ids[1],))


def test_a_users_email_is_rate_limited_and_the_engines_is_not(
    service: psycopg.Connection, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: api.queue_email had no limit; a member could spend the org's
    sending budget at will. Any member may still email anyone, app.settings'
    email_rate_per_minute times a minute."""
    a = two_orgs.a
    admin.execute("update app.settings set email_rate_per_minute = 2")
    service.execute("set app.fake_now = '2030-01-07 12:00:00+00'")
    queue = "select api.queue_email(p_to => 'ada@example.com', p_subject => 's', p_text => 't')"
    with actor(service, a.org_id, a.rep_ids[0]):
        service.execute(queue)
        service.execute(queue)
    with (
        pytest.raises(RateLimitedError, match="1 emails asked, 0 left of 2"),
        actor(service, a.org_id, a.rep_ids[0]),
    ):
        service.execute(queue)
    with actor(service, a.org_id, a.rep_ids[1]):  # their own count
        service.execute(queue)
    with actor(service, a.org_id):  # the engine
        for _ in range(3):
            service.execute(queue)
    service.execute("set app.fake_now = '2030-01-07 12:01:01+00'")
    with actor(service, a.org_id, a.rep_ids[0]):  # a minute on
        service.execute(queue)


def test_parallel_transactions_of_one_user_share_one_rate(
    db: Database, admin: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """Review of issue 14: three open transactions of one rep each sent a whole minute's
    worth (uncommitted sends were not counted). The second now waits for the first and
    counts what it committed."""
    a = two_orgs.a
    admin.execute("update app.settings set notification_rate_per_minute = 3")
    send = (
        "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => 'T', "
        "p_message => 'm', p_channels => '{in_app}')"
    )
    first, second = db.connect("intime_service"), db.connect("intime_service")
    try:
        for conn in (first, second):
            conn.execute("set app.fake_now = '2030-01-07 13:00:00+00'")
            conn.execute(
                "select api.set_actor(p_org_id => %s, p_user_id => %s)", (a.org_id, a.rep_ids[0])
            )
        for _ in range(3):
            first.execute(send, (a.rep_ids[1],))
        waited, raised = behind(first, second, send, (a.rep_ids[1],))
        assert waited, "the second transaction did not wait for the first"
        assert isinstance(raised, RateLimitedError)
    finally:
        first.close()
        second.close()


def test_a_users_send_held_open_stalls_their_other_sends_only_briefly(
    db: Database, two_orgs: TwoOrgs
) -> None:
    a = two_orgs.a
    send = (
        "select api.send_notification(p_user_id => %s, p_category => 'deal', p_title => 'T', "
        "p_message => 'm', p_channels => '{in_app}')"
    )
    first, second = db.connect("intime_service"), db.connect("intime_service")
    try:
        for conn in (first, second):
            conn.execute(
                "select api.set_actor(p_org_id => %s, p_user_id => %s)", (a.org_id, a.rep_ids[0])
            )
        first.execute(send, (a.rep_ids[1],))
        second.execute("set lock_timeout = '200ms'")  # the default wait is 5 s
        with pytest.raises(RateLimitedError, match="has not ended"), errors_translated():
            second.execute(send, (a.rep_ids[1],))
        second.rollback()
        second.execute(
            "select api.set_actor(p_org_id => %s, p_user_id => %s)", (a.org_id, a.manager_id)
        )
        second.execute(send, (a.rep_ids[1],))  # another user does not wait
    finally:
        first.close()
        second.close()
