"""Every SQL statement of the command line, the demo, the seed and the probe.

Parameters are named (``%(name)s``) and ``api`` functions are called with named
arguments. Identifiers that vary (tables in the probe) are composed with
``psycopg.sql`` where they are used, never formatted into these strings.
"""

from __future__ import annotations

# -- command line (cli.py) ------------------------------------------------------
DATABASE_EXISTS = "select 1 from pg_database where datname = %(name)s"
TERMINATE_BACKENDS = (
    "select pg_terminate_backend(pid) from pg_stat_activity where datname = %(name)s"
)
API_DOCS = """
select p.proname,
       pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.pg_get_function_arguments(p.oid),
       pg_catalog.pg_get_function_result(p.oid),
       d.description
from pg_catalog.pg_proc as p
join pg_catalog.pg_namespace as n on n.oid = p.pronamespace
left join pg_catalog.pg_description as d
  on d.objoid = p.oid and d.classoid = 'pg_catalog.pg_proc'::regclass
where n.nspname = 'api'
order by p.proname, 2
"""
# docs/permissions.md: each permission, its default roles, and where it is checked (the
# routines whose body names it, the tables whose permission trigger takes it).
PERMISSION_DOCS = """
select
    p.name,
    p.description,
    'manager' = any(p.default_roles),
    'member' = any(p.default_roles),
    array(
        select n.nspname || '.' || f.proname
        from pg_catalog.pg_proc as f
        join pg_catalog.pg_namespace as n on n.oid = f.pronamespace
        where
            n.nspname in ('app', 'api')
            and strpos(f.prosrc, quote_literal(p.name)) > 0
        order by n.nspname desc, f.proname
    ),
    array(
        select c.relname::text
        from pg_catalog.pg_trigger as t
        join pg_catalog.pg_class as c on c.oid = t.tgrelid
        where
            t.tgfoid = 'app._tg_require_permission'::regproc
            and t.tgargs = convert_to(p.name, 'UTF8') || decode('00', 'hex')
        order by c.relname
    )
from app.permissions as p
order by p.name
"""
CREATE_STREAM_TICKET = "select ticket from api.create_stream_ticket(p_token => %(token)s)"
CREATE_API_TOKEN = (
    "select token_id, token from api.create_api_token(p_name => %(name)s, p_user_id => %(user_id)s)"
)

# -- operations (ops.py) ---------------------------------------------------------
# Admin only (superuser or BYPASSRLS): the ops commands find an org by its slug and a
# user by email past row-level security, then act as intime_service through set_actor.
ADMIN_BYPASSES_RLS = (
    "select rolsuper or rolbypassrls from pg_catalog.pg_roles where rolname = current_user"
)
FIND_ORG_BY_SLUG = "select id from app.organizations where slug = %(slug)s"
FIND_USER_BY_EMAIL = """
select id, is_active
from app.user_profiles
where org_id = %(org_id)s and lower(email) = lower(%(email)s)
"""
LOGIN_ROLE_EXISTS = "select 1 from pg_catalog.pg_roles where rolname = %(role)s"
CREATE_API_TOKEN_OP = """
select token_id, token
from api.create_api_token(p_name => %(name)s, p_user_id => %(user_id)s,
    p_expires_at => %(expires_at)s)
"""
LIST_API_TOKENS = "select * from api.list_api_tokens(p_user_id => %(user_id)s)"
REVOKE_API_TOKEN = "select api.revoke_api_token(p_token_id => %(token_id)s)"
LIST_EXECUTIONS = """
select *
from api.list_executions(
    p_status => %(status)s, p_workflow_id => %(workflow_id)s,
    p_entity_type => %(entity_type)s, p_entity_id => %(entity_id)s,
    p_before_created_at => %(before_created_at)s, p_before_id => %(before_id)s,
    p_limit => %(limit)s
)
"""
GET_EXECUTION = (
    "select * from api.list_executions(p_execution_id => %(execution_id)s, p_limit => 1)"
)
GET_EXECUTION_TIMELINE = (
    "select * from api.get_execution_timeline(p_execution_id => %(execution_id)s)"
)
RETRY_EXECUTION = "select api.retry_execution(p_execution_id => %(execution_id)s)"
CANCEL_EXECUTION = """
select api.cancel_execution(
    p_execution_id => %(execution_id)s, p_reason => %(reason)s,
    p_keep_changes => %(keep_changes)s
)
"""
PAUSE_EXECUTION = "select api.pause_execution(p_execution_id => %(execution_id)s)"
RESUME_EXECUTION = "select api.resume_execution(p_execution_id => %(execution_id)s)"
LIST_CAMPAIGNS = "select * from api.list_campaigns(p_status => %(status)s, p_limit => %(limit)s)"
GET_CAMPAIGN_STATS = "select * from api.get_campaign_stats(p_campaign_id => %(campaign_id)s)"
LIST_MY_APPROVALS = "select * from api.list_my_approvals()"
# Every pending approval of the acting org (the engine acting for it: RLS keeps it to
# the org), with its approver: what an admin looks at to see who holds things up.
LIST_PENDING_APPROVALS = """
select
    a.id as approval_id, u.email as approver_email, s.result ->> 'title' as title,
    e.entity_type, e.entity_id, a.requested_at, a.due_at, a.approver_type, a.execution_id
from app.workflow_approvals as a
inner join app.workflow_executions as e on e.org_id = a.org_id and e.id = a.execution_id
inner join app.user_profiles as u on u.org_id = a.org_id and u.id = a.approver_id
left join app.workflow_steps as s on s.org_id = a.org_id and s.id = a.step_id
where a.org_id = app.current_org_id() and a.status = 'pending'
order by a.requested_at, a.id
limit %(limit)s
"""
FUNCTION_EXISTS = "select to_regprocedure(%(signature)s) is not null"
QUEUE_STATS = "select * from api.get_queue_stats()"
LIST_FAILED_JOBS = "select * from api.list_failed_jobs(p_limit => %(limit)s)"
# Until api.get_queue_stats / api.list_failed_jobs exist: the same from pgqueuer's table.
QUEUE_STATS_RAW = """
select entrypoint, status::text as status, count(*) as jobs, min(created) as oldest_at
from queue.pgqueuer
group by entrypoint, status
order by entrypoint, status
"""
LIST_FAILED_JOBS_RAW = """
select id as job_id, entrypoint, null::uuid as org_id, null::text as error,
    updated as failed_at, null::jsonb as payload
from queue.pgqueuer
where status = 'failed'
order by updated desc, id desc
limit %(limit)s
"""

# -- cross-tenant probe (probe.py) ----------------------------------------------
TENANT_TABLES = """
select c.relname
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where n.nspname = 'app'
  and c.relkind in ('r', 'p')
  and not c.relispartition
  and exists (
    select from pg_catalog.pg_attribute as a
    where a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped
  )
  -- Owner-only and keyed by login or domain, not a tenant's data: the login map
  -- (migration 0025) and the verified sending domains (0028).
  and c.relname not in ('login_roles', 'verified_domains')
order by c.relname
"""
# Tables whose policy also checks the user: private to each user of an org.
USER_PRIVATE_TABLES = """
select c.relname
from pg_catalog.pg_class as c
join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
where n.nspname = 'app'
  and c.relkind in ('r', 'p')
  and exists (
    select from pg_catalog.pg_policy as p
    where p.polrelid = c.oid
      and pg_catalog.pg_get_expr(p.polqual, p.polrelid) like '%%current_user_id()%%'
  )
order by c.relname
"""
TENANT_VIEWS = TENANT_TABLES.replace("('r', 'p')", "('v', 'm')")
INSERTABLE_COLUMNS = """
select a.attname
from pg_catalog.pg_attribute as a
where a.attrelid = %(table)s::regclass and a.attnum > 0 and not a.attisdropped
  and a.attgenerated = '' and a.attidentity <> 'a' and a.attname <> 'id'
order by a.attnum
"""

# -- demo data (seed.py) ----------------------------------------------------------
CREATE_ORGANIZATION = (
    "select api.create_organization(p_name => %(name)s, p_slug => %(slug)s, "
    "p_timezone => %(timezone)s)"
)
CREATE_USER = (
    "select api.create_user(p_email => %(email)s, p_full_name => %(full_name)s, "
    "p_role => %(role)s, p_manager_id => %(manager_id)s, p_timezone => %(timezone)s, "
    "p_db_role => %(db_role)s)"
)
DEAL_STAGES = "select id, name from app.deal_stages order by position"
INSERT_ACCOUNT = (
    "insert into app.accounts (name, domain, industry, owner_id, status) "
    "values (%(name)s, %(domain)s, %(industry)s, %(owner_id)s, %(status)s) returning id"
)
INSERT_CONTACT = (
    "insert into app.contacts (first_name, last_name, email, account_id, owner_id, timezone) "
    "values (%(first_name)s, %(last_name)s, %(email)s, %(account_id)s, %(owner_id)s, "
    "%(timezone)s) returning id"
)
INSERT_DEAL = (
    "insert into app.deals (name, account_id, lead_contact_id, owner_id, stage_id, value, "
    "expected_close_date) values (%(name)s, %(account_id)s, %(contact_id)s, %(owner_id)s, "
    "%(stage_id)s, %(value)s, app.now()::date + %(close_in_days)s) returning id"
)
MOVE_DEAL_STAGE = (
    "select api.move_deal_stage(p_deal_id => %(deal_id)s, p_stage_id => %(stage_id)s, "
    "p_notes => %(notes)s)"
)
INSERT_TASK = (
    "insert into app.activities (entity_type, entity_id, type, subject, assignee_id, due_date, "
    "priority) values (%(entity_type)s, %(entity_id)s, 'task', %(subject)s, %(assignee_id)s, "
    "app.now() + %(due_in)s::interval, %(priority)s)"
)
INSERT_COMMENT = (
    "insert into app.comments (entity_type, entity_id, parent_id, body, mentioned_user_ids) "
    "values (%(entity_type)s, %(entity_id)s, %(parent_id)s, %(body)s, "
    "%(mentions)s::uuid[]) returning id"
)
INSERT_NOTE = (
    "insert into app.notes (entity_type, entity_id, title, body, is_pinned) "
    "values (%(entity_type)s, %(entity_id)s, %(title)s, %(body)s, %(pinned)s)"
)
INSERT_JOB = (
    "insert into app.jobs (title, account_id, hiring_contact_id, owner_id, location) "
    "values (%(title)s, %(account_id)s, %(contact_id)s, %(owner_id)s, %(location)s) returning id"
)
INSERT_CANDIDATE = (
    "insert into app.candidates (first_name, last_name, email, owner_id) "
    "values (%(first_name)s, %(last_name)s, %(email)s, %(owner_id)s) returning id"
)
INSERT_SUBMISSION = (
    "insert into app.submissions (job_id, candidate_id, bill_rate) "
    "values (%(job_id)s, %(candidate_id)s, %(bill_rate)s) returning id"
)
INSERT_INTERVIEW = (
    "insert into app.interviews (submission_id, scheduled_at, timezone, interviewer_id) "
    "values (%(submission_id)s, app.now() + %(in)s::interval, %(timezone)s, %(interviewer_id)s)"
)
SET_SUBMISSION_STATUS = "update app.submissions set status = %(status)s where id = %(id)s"
INSERT_PLACEMENT = (
    "insert into app.placements (submission_id, job_id, candidate_id, start_date, bill_rate, "
    "pay_rate, status) values (%(submission_id)s, %(job_id)s, %(candidate_id)s, "
    "app.now()::date + %(start_in_days)s, %(bill_rate)s, %(pay_rate)s, 'pending')"
)

SET_ROLE_PERMISSION = (
    "select api.set_role_permission(p_role => %(role)s, p_permission => %(permission)s, "
    "p_granted => %(granted)s)"
)
SET_BUILTIN_NOTIFICATION = (
    "select api.set_builtin_notification(p_slug => %(slug)s, p_enabled => %(enabled)s)"
)
ADD_SENDING_DOMAIN = "select domain from api.add_sending_domain(p_domain => %(domain)s)"
VERIFY_SENDING_DOMAIN = (
    "select domain from api.verify_sending_domain(p_org_id => %(org_id)s, p_domain => %(domain)s)"
)
SET_EMAIL_SETTINGS = (
    "select id from api.set_email_settings(p_from_email => %(from_email)s, "
    "p_reply_domain => %(reply_domain)s, p_from_name => %(from_name)s)"
)
INSERT_EMAIL_TEMPLATE = (
    "insert into app.email_templates (slug, name, category, subject_template, html_template, "
    "text_template, variables) values (%(slug)s, %(name)s, %(category)s, %(subject)s, "
    "%(html)s, %(text)s, %(variables)s) returning id"
)
QUEUE_TEMPLATE_EMAIL = (
    "select api.queue_email(p_to => %(to)s, p_template_slug => %(slug)s, "
    "p_variables => %(variables)s, p_entity_type => %(entity_type)s, p_entity_id => %(entity_id)s)"
)
ADD_SUPPRESSION = "select api.add_suppression(p_email => %(email)s, p_note => %(note)s)"
RECORD_EMAIL_SENT = (
    "select api.record_email_sent(p_email_send_id => %(id)s, p_provider => %(provider)s, "
    "p_provider_message_id => %(message_id)s)"
)
INGEST_EMAIL_EVENT = (
    "select api.ingest_email_event(p_provider_event_id => %(event_id)s, p_payload => %(payload)s)"
)

RECORD_INBOUND_EMAIL = (
    "select result, matched_send_id from api.record_inbound_email(p_message_id => %(message_id)s, "
    "p_from => %(from)s, p_in_reply_to => %(in_reply_to)s, p_subject => %(subject)s, "
    "p_text => %(text)s)"
)

# -- demo report (demo.py) --------------------------------------------------------
INSERT_NOTIFICATION_TEMPLATE = (
    "insert into app.notification_templates (slug, name, category, title_template, "
    "message_template, default_channels, variables) values (%(slug)s, %(name)s, %(category)s, "
    "%(title)s, %(message)s, %(channels)s, %(variables)s) returning id"
)
SET_NOTIFICATION_PREFERENCE = (
    "select id from api.set_preference(p_category => %(category)s, p_channels => %(channels)s, "
    "p_frequency => %(frequency)s)"
)
SEND_TEMPLATE_NOTIFICATION = (
    "select api.send_notification(p_user_id => %(user_id)s, p_template_slug => %(slug)s, "
    "p_variables => %(variables)s, p_entity_type => %(entity_type)s, "
    "p_entity_id => %(entity_id)s)"
)
SEND_NOTIFICATION_BULK = (
    "select count(*) from api.send_notification_bulk(p_user_ids => %(user_ids)s, "
    "p_template_slug => %(slug)s, p_variables => %(variables)s)"
)
DEMO_SET_QUIET_HOURS = (
    "select id from api.set_preference(p_category => 'deal', p_quiet_hours_enabled => true, "
    "p_quiet_hours_start => %(start)s, p_quiet_hours_end => %(end)s, "
    "p_quiet_hours_timezone => 'UTC')"
)
DEMO_SET_DND = "select id from api.set_preference(p_category => '*', p_dnd_until => %(until)s)"
DEMO_SEND_NOTIFICATION = (
    "select api.send_notification(p_user_id => %(user_id)s, p_template_slug => %(slug)s, "
    "p_variables => %(variables)s, p_group_key => %(group_key)s, p_critical => %(critical)s, "
    "p_channels => array['in_app', 'email'])"
)
DEMO_DELIVERIES = (
    "select channel, status, coalesce(reason, ''), deliver_after "
    "from app.notification_deliveries where notification_id = %(id)s order by channel"
)
NOTIFICATION_EMAIL_OF_USER = (
    "select id from app.email_sends where recipient_user_id = %(user_id)s "
    "and notification_id is not null order by created_at limit 1"
)
LOGIN_EXISTS = "select 1 from pg_roles where rolname = %(role)s"
# The login map's row first (user_profiles' guard checks they agree, migration 0025).
UNMAP_LOGIN = """
with unmapped as (delete from app.login_roles where db_role = %(role)s)
update app.user_profiles set db_role = null where db_role = %(role)s
"""
ACTOR_NAME = "select full_name from api.get_actor()"
ORG_NAME = "select name from app.organizations"
ORG_COUNTS = """
select (select count(*) from app.user_profiles), (select count(*) from app.accounts),
       (select count(*) from app.contacts), (select count(*) from app.deals),
       (select count(*) from app.jobs), (select count(*) from app.entity_history)
"""
DEALS_WITH_STAGES = """
select d.name, s.name, d.status, d.probability, d.value
from app.deals as d
join app.deal_stages as s on s.org_id = d.org_id and s.id = d.stage_id
order by d.name
"""
LEGACY_STAGE_HISTORY = """
select d.name, fs.name, ts.name, h.metadata
from app.deal_stages_history_legacy as h
join app.deals as d on d.org_id = h.org_id and d.id = h.entity_id
left join app.deal_stages as fs on fs.org_id = h.org_id and fs.id = (h.old_value #>> '{}')::uuid
join app.deal_stages as ts on ts.org_id = h.org_id and ts.id = (h.new_value #>> '{}')::uuid
order by d.name, h.changed_at
"""
DEAL_FIELD_HISTORY = """
select h.field_name, h.old_value, h.new_value, u.full_name
from app.entity_history as h
left join app.user_profiles as u on u.org_id = h.org_id and u.id = h.changed_by
where h.entity_type = 'deal' and h.entity_id = %(deal_id)s and h.change_type = 'updated'
  and h.field_name in ('status', 'probability')
order by h.id
"""

# -- email demo (demo_email.py) ------------------------------------------------------
DEMO_SEND_IDS = (
    "select id, to_email, provider_message_id, message_id from app.email_sends "
    "where id = any(%(ids)s) order by to_email"
)
DEMO_SEND_STATUSES = (
    "select to_email, status, open_count, click_count, replied_at is not null, "
    "delivered_at is not null from app.email_sends where id = any(%(ids)s) order by to_email"
)
DEMO_DEAL_EMAIL_STATS = (
    "select sent, delivered, opened, clicked, replied, bounced, open_rate, click_rate, "
    "bounce_rate from api.get_email_stats(p_entity_type => 'deal', p_entity_id => %(deal_id)s)"
)
DEMO_SUPPRESSIONS = "select email, reason from app.suppressions order by email, reason"

# -- workflows (seed.py, demo_workflows.py) ------------------------------------------
CREATE_WORKFLOW = (
    "select api.create_workflow(p_name => %(name)s, p_entity_type => %(entity_type)s, "
    "p_definition => %(definition)s)"
)
START_WORKFLOW = (
    "select api.start_workflow(p_workflow_id => %(workflow_id)s, p_entity_id => %(entity_id)s)"
)
RUN_EXECUTION = (
    "select api.run_execution(p_execution_id => %(execution_id)s, p_org_id => %(org_id)s)"
)
EXECUTION_WEBHOOK_ACTION = (
    "select id from app.workflow_actions "
    "where execution_id = %(execution_id)s and action_type = 'webhook'"
)
COMPLETE_ACTION = (
    "select api.complete_action(p_action_id => %(action_id)s, p_result => %(result)s, "
    "p_org_id => %(org_id)s)"
)
WEBHOOK_SIGNING_SECRET = "select api.get_webhook_signing_secret()"
TICK_WORKFLOWS = "select api.tick_workflows()"
APPROVE_APPROVAL = "select api.approve_approval(p_approval_id => %(id)s, p_notes => %(notes)s)"
DEMO_TIMELINE = (
    "select occurred_at, kind, name, status, message "
    "from api.get_execution_timeline(p_execution_id => %(id)s)"
)
DEMO_EXECUTION_OF = (
    "select id from app.workflow_executions where entity_id = %(deal_id)s "
    "order by created_at desc limit 1"
)
DEMO_EXECUTIONS_OF = (
    "select id from app.workflow_executions where entity_id = %(deal_id)s order by created_at"
)
DEMO_EXECUTION_STATUS = "select status, waiting_for from app.workflow_executions where id = %(id)s"
DEMO_WORKFLOW_TASK = """
select a.subject, u.full_name, a.due_date
from app.activities as a
join app.user_profiles as u on u.org_id = a.org_id and u.id = a.assignee_id
where a.entity_id = %(deal_id)s and a.type = 'task' and a.metadata ? 'workflow_id'
"""
DEMO_WORKFLOW_EMAIL = (
    "select to_email, subject, status from app.email_sends "
    "where entity_id = %(deal_id)s and workflow_action_id is not null"
)
DEMO_NEW_DEAL = (
    "insert into app.deals (name, owner_id, stage_id, value) "
    "values (%(name)s, %(owner_id)s, %(stage_id)s, 120000) returning id"
)
DEMO_SET_DISCOUNT = "update app.deals set discount_percent = %(discount)s where id = %(deal_id)s"
DEMO_ESCALATED_OF = (
    "select count(*) from app.workflow_approvals "
    "where execution_id = %(id)s and escalated_at is not null"
)
DEMO_APPROVALS = """
select u.full_name, a.approver_type, a.status, a.escalated_at is not null, a.escalation_reason
from app.workflow_approvals as a
join app.user_profiles as u on u.org_id = a.org_id and u.id = a.approver_id
where a.execution_id = %(id)s
order by a.created_at
"""
DEMO_PENDING_APPROVAL_OF = (
    "select id from app.workflow_approvals where execution_id = %(id)s "
    "and approver_id = %(user_id)s and status = 'pending'"
)

# Campaigns (issue 6).
CREATE_CAMPAIGN = (
    "select api.create_campaign(p_name => %(name)s, p_send_window_start => %(start)s, "
    "p_send_window_end => %(end)s, p_send_days => %(days)s, p_timezone => %(timezone)s, "
    "p_daily_send_limit => %(daily_limit)s, p_ab_min_sample_per_variant => %(min_sample)s)"
)
ADD_EMAIL_STEP = (
    "select api.add_sequence_step(p_campaign_id => %(campaign_id)s, p_channel => 'email', "
    "p_delay_minutes => %(delay_minutes)s, p_subject => %(subject)s, "
    "p_body_html => %(body_html)s, p_ab_variants => %(ab_variants)s)"
)
ADD_TASK_STEP = (
    "select api.add_sequence_step(p_campaign_id => %(campaign_id)s, p_channel => %(channel)s, "
    "p_delay_minutes => %(delay_minutes)s, p_task_config => %(task_config)s)"
)
ENROLL_CONTACTS = (
    "select api.enroll_contacts(p_campaign_id => %(campaign_id)s, p_contact_ids => %(contact_ids)s)"
)
ACTIVATE_CAMPAIGN = "select api.activate_campaign(p_campaign_id => %(campaign_id)s)"
TICK_CAMPAIGNS = "select * from api.tick_campaigns(p_batch_size => %(batch_size)s)"
SELECT_AB_WINNER = (
    "select api.select_ab_winner(p_campaign_id => %(campaign_id)s, p_variant => %(variant)s)"
)
ARCHIVE_CAMPAIGN_LOGS = (
    "select api.archive_campaign_logs(p_limit => 1000, p_retention => %(retention)s)"
)
CAMPAIGN_ENROLLMENTS = (
    "select id from app.campaign_enrollments where campaign_id = %(campaign_id)s order by id"
)
STOP_ENROLLMENT = (
    "select api.stop_enrollment(p_enrollment_id => %(enrollment_id)s, p_reason => %(reason)s)"
)

# The campaign part of the demo (intime_cli/demo_campaigns.py).
SET_FAKE_NOW = "select set_config('app.fake_now', %(at)s, false)"
ALLOW_FAKE_CLOCK = "update app.settings set allow_fake_clock = true"
DEMO_LOCAL_NOW = "select to_char(app.now() at time zone 'America/New_York', 'Dy HH24:MI')"
DEMO_CAMPAIGN_TICK = (
    "select processed, sent, skipped, deferred, completed, stopped, elapsed_ms "
    "from api.tick_campaigns(p_batch_size => 1000)"
)
DEMO_CAMPAIGN_SENT = (
    "select count(*) from app.email_sends as s join app.campaign_enrollments as e "
    "on e.org_id = s.org_id and e.id = s.enrollment_id "
    "where e.campaign_id = %(campaign_id)s and s.status <> 'queued' and s.status <> 'sending'"
)
# Why a campaign's sends are not done yet: each one's state and its email.send job.
DEMO_CAMPAIGN_PENDING = (
    "select s.status, s.attempts, s.error, "
    "round(extract(epoch from s.sending_until - clock_timestamp()))::int as lease_s, "
    "j.status as job, j.attempts as job_attempts, "
    "round(extract(epoch from j.execute_after - now()))::int as job_in_s, "
    "round(extract(epoch from now() - j.heartbeat))::int as heartbeat_age_s "
    "from app.email_sends as s join app.campaign_enrollments as e "
    "on e.org_id = s.org_id and e.id = s.enrollment_id "
    "left join queue.pgqueuer as j on j.dedupe_key = 'email.send:' || s.id "
    "where e.campaign_id = %(campaign_id)s and s.status in ('queued', 'sending') "
    "order by s.created_at limit 10"
)
DEMO_CAMPAIGN_FIRST_SENDS = (
    "select s.to_email, s.provider_message_id, s.message_id from app.email_sends as s "
    "join app.campaign_sequence_logs as l on l.org_id = s.org_id and l.email_send_id = s.id "
    "where s.org_id = %(org_id)s and l.step_number = 1 and s.to_email like '%%@prospects.%%'"
)
DEMO_OUT_OF_OFFICE = (
    "select k.full_name, e.status, e.stop_reason, "
    "to_char(e.resume_at at time zone 'America/New_York', 'Dy DD Mon HH24:MI'), "
    "to_char(e.next_step_at at time zone 'America/New_York', 'Dy DD Mon HH24:MI'), "
    "e.current_step + 1 "
    "from app.campaign_enrollments as e "
    "join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id "
    "where e.campaign_id = %(campaign_id)s and e.stop_reason = 'out_of_office'"
)
DEMO_BOUNCED_SEND = (
    "select s.status, s.bounce_type, s.bounce_status, "
    "exists (select from app.suppressions as x where x.org_id = s.org_id "
    "and x.email = lower(s.to_email) and x.reason = 'hard_bounce') "
    "from app.email_sends as s where s.org_id = %(org_id)s and s.message_id = %(message_id)s"
)
DEMO_CAMPAIGN_ENROLLMENTS = (
    "select e.id, k.full_name as name, e.status from app.campaign_enrollments as e "
    "join app.contacts as k on k.org_id = e.org_id and k.id = e.contact_id "
    "where e.campaign_id = %(campaign_id)s order by k.first_name"
)
DEMO_ENROLLMENT_TIMELINE = (
    "select at at time zone 'America/New_York', step_number, status, ab_variant "
    "from api.get_enrollment_timeline(p_enrollment_id => %(enrollment_id)s) "
    "where status <> 'deferred'"
)
DEMO_CAMPAIGN_STATS = "select * from api.get_campaign_stats(p_campaign_id => %(campaign_id)s)"
DEMO_CAMPAIGN_TASKS = (
    "select count(*), min(subject) from app.activities "
    "where metadata ->> 'campaign_id' = %(campaign_id)s and metadata ->> 'channel' = 'linkedin'"
)
DEMO_CAMPAIGN_NOTIFICATIONS = (
    "select title from app.notifications where user_id = %(user_id)s "
    "and category = 'campaign' and strpos(message, %(name)s) > 0 order by created_at"
)

# A held failed job is a bug (docs/operations.md, rule 2); the demo shows there are none.
FAILED_JOBS = "select count(distinct job_id) from queue.pgqueuer_log where status = 'failed'"
