"""The SQL of the demo's own steps: its orgs replaced on a re-run, the sign-in tokens and
the approval left pending (named parameters, as in intime_cli/queries.py)."""

from __future__ import annotations

# The demo's orgs, found by slug (run as the admin login: every org).
DEMO_ORGS_BY_SLUG = "select slug, name from app.organizations where slug = any(%(slugs)s)"
# A re-run removes the previous run's orgs; every tenant row goes with its org (cascade).
DELETE_DEMO_ORGS = "delete from app.organizations where slug = any(%(slugs)s)"
# The fake clock's switch, read before the demo turns it on and put back at the end.
FAKE_CLOCK_ALLOWED = "select coalesce(bool_or(allow_fake_clock), false) from app.settings"
SET_FAKE_CLOCK = "update app.settings set allow_fake_clock = %(allowed)s"
DEMO_USERS = """
select id, email, role, full_name from app.user_profiles
order by case role when 'admin' then 0 when 'manager' then 1 else 2 end, email
"""
NEW_SIGN_IN = "select token from api.create_api_token(p_name => %(name)s, p_user_id => %(user_id)s)"
# The org's approval still pending, with its approver and the notification that asked
# (as the admin login: a notification is private to its user).
PENDING_APPROVAL = """
select a.id, w.name, u.full_name, u.email, n.action_url, d.name
from app.workflow_approvals as a
join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
join app.workflows as w on w.org_id = e.org_id and w.id = e.workflow_id
join app.user_profiles as u on u.org_id = a.org_id and u.id = a.approver_id
left join app.deals as d on d.org_id = e.org_id and d.id = e.entity_id
join lateral (
    select x.action_url from app.notifications as x
    where
        x.org_id = a.org_id and x.user_id = a.approver_id and x.entity_id = e.entity_id
        and x.action_url like '/approvals/%%'
    order by x.created_at desc
    limit 1
) as n on true
where a.org_id = %(org_id)s and a.status = 'pending'
order by a.created_at
limit 1
"""
EXECUTION_TIMELINE = (
    "select occurred_at, kind, name, status, message, detail "
    "from api.get_execution_timeline(p_execution_id => %(id)s)"
)
# The campaign demo's fake clock, in the campaign's zone, with its date.
LOCAL_NOW = "select to_char(app.now() at time zone 'America/New_York', 'Dy DD Mon HH24:MI')"
# A console sign-in, as the web app makes one (engine-only table).
CREATE_WEB_SESSION = "select session from api.create_web_session(p_token => %(token)s)"
