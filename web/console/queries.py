"""Every SQL statement of the console. Each page runs them as the signed-in user
(``intime.db.async_actor``), so row-level security and permissions apply unchanged;
the approval-link statements run as the service role (the link is the credential)."""

from __future__ import annotations

GET_ACTOR = "select full_name, email, role from api.get_actor()"
COUNT_UNREAD = "select api.count_unread_notifications()"

LIST_NOTIFICATIONS = (
    "select id, seq, title, message, type, category, priority, action_url, action_label, "
    "read_at, seen_at, archived_at, created_at, group_count, announced_at "
    "from api.list_notifications(p_unread_only => %(unread_only)s, p_archived => %(archived)s, "
    "p_before_seq => %(before_seq)s, p_before_at => %(before_at)s, p_limit => %(limit)s)"
)
MARK_READ = "select api.mark_notifications_read(p_ids => %(ids)s::uuid[])"
MARK_SEEN = "select api.mark_notifications_seen(p_ids => %(ids)s::uuid[])"
ARCHIVE = "select api.archive_notifications(p_ids => %(ids)s::uuid[])"
MARK_ALL_READ = "select api.mark_all_notifications_read()"

LIST_MY_APPROVALS = (
    "select approval_id, execution_id, title, entity_type, entity_id, requested_at, due_at, "
    "approver_type from api.list_my_approvals()"
)
# The approvals the caller was asked for (their approval_required notifications,
# archived ones too), newest first: the decided list is those no longer pending.
LIST_ASKED_APPROVALS = (
    "select distinct on (a.id) a.id, n.created_at from ("
    "select data, created_at from api.list_notifications(p_limit => %(limit)s) "
    "union all select data, created_at "
    "from api.list_notifications(p_archived => true, p_limit => %(limit)s)) as n "
    "cross join lateral (select (n.data -> 'approval' ->> 'id')::uuid as id) as a "
    "where n.data -> 'approval' ->> 'id' ~ "
    "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "
    "order by a.id, n.created_at desc"
)
GET_APPROVAL = "select api.get_approval(p_approval_id => %(id)s)"
APPROVE = "select api.approve_approval(p_approval_id => %(id)s, p_notes => %(comment)s)"
REJECT = "select api.reject_approval(p_approval_id => %(id)s, p_notes => %(comment)s)"
DELEGATE = (
    "select api.delegate_approval(p_approval_id => %(id)s, p_to_user => %(to)s, "
    "p_reason => %(comment)s)"
)
GET_APPROVAL_LINK = "select api.get_approval_link(p_token => %(token)s)"
DECIDE_APPROVAL_LINK = (
    "select api.decide_approval_link(p_token => %(token)s, p_decision => %(decision)s, "
    "p_comment => %(comment)s, p_delegate_to => %(delegate_to)s)"
)

LIST_EXECUTIONS = (
    "select execution_id, workflow_id, workflow_name, workflow_version, entity_type, "
    "entity_id, status, waiting_for, trigger_type, triggered_by, current_step_index, "
    "total_steps, created_at, started_at, completed_at, error_message, can_retry, "
    "can_cancel, can_pause, can_resume "
    "from api.list_executions(p_status => %(status)s, p_workflow_id => %(workflow_id)s, "
    "p_entity_type => %(entity_type)s, p_entity_id => %(entity_id)s, "
    "p_before_created_at => %(before_created_at)s, p_before_id => %(before_id)s, "
    "p_limit => %(limit)s)"
)
GET_EXECUTION = (
    "select execution_id, workflow_id, workflow_name, workflow_version, entity_type, "
    "entity_id, status, waiting_for, trigger_type, triggered_by, current_step_index, "
    "total_steps, created_at, started_at, completed_at, error_message, can_retry, "
    "can_cancel, can_pause, can_resume "
    "from api.list_executions(p_execution_id => %(id)s, p_limit => 1)"
)
GET_EXECUTION_TIMELINE = (
    "select occurred_at, kind, name, status, message, detail "
    "from api.get_execution_timeline(p_execution_id => %(id)s)"
)
RETRY_EXECUTION = "select api.retry_execution(p_execution_id => %(id)s)"
CANCEL_EXECUTION = "select api.cancel_execution(p_execution_id => %(id)s, p_reason => %(reason)s)"
PAUSE_EXECUTION = "select api.pause_execution(p_execution_id => %(id)s)"
RESUME_EXECUTION = "select api.resume_execution(p_execution_id => %(id)s)"

LIST_CAMPAIGNS = (
    "select campaign_id, name, status, owner_id, owner_name, step_count, enrolled, active, "
    "completed, replied, created_at, activated_at "
    "from api.list_campaigns(p_status => %(status)s, p_limit => %(limit)s)"
)
GET_CAMPAIGN = (
    "select campaign_id, name, status, owner_id, owner_name, step_count, enrolled, active, "
    "completed, replied, created_at, activated_at "
    "from api.list_campaigns(p_campaign_id => %(id)s, p_limit => 1)"
)
GET_CAMPAIGN_STATS = (
    "select scope, step_number, channel, ab_variant, enrolled, sent, delivered, opened, "
    "clicked, replied, bounced, unsubscribed, completed "
    "from api.get_campaign_stats(p_campaign_id => %(id)s)"
)
GET_ENROLLMENT_TIMELINE = (
    "select at, step_number, channel, status, detail, ab_variant, email_status "
    "from api.get_enrollment_timeline(p_enrollment_id => %(id)s)"
)

GET_QUEUE_STATS = "select entrypoint, status, jobs, oldest_at from api.get_queue_stats()"
LIST_FAILED_JOBS = (
    "select job_id, entrypoint, org_id, error, failed_at, payload "
    "from api.list_failed_jobs(p_limit => %(limit)s)"
)
REQUEUE_JOB = "select api.requeue_job(p_job_id => %(id)s)"
