"""Every SQL statement of the worker, in one place."""

from __future__ import annotations

CLAIM_EMAIL_SEND = (
    "select action, retry_after_seconds, email_send_id, to_email, from_email, from_name, "
    "reply_to, subject, html_body, text_body, category, message_id, unsubscribe_token, "
    "provider, attempts, return_path "
    "from api.claim_email_send(p_email_send_id => %(id)s, p_org_id => %(org_id)s)"
)
RECORD_EMAIL_SENT = (
    "select api.record_email_sent(p_email_send_id => %(id)s, p_provider => %(provider)s, "
    "p_provider_message_id => %(provider_message_id)s, p_org_id => %(org_id)s)"
)
FAIL_EMAIL_SEND = (
    "select api.fail_email_send(p_email_send_id => %(id)s, p_error => %(error)s, "
    "p_permanent => %(permanent)s, p_org_id => %(org_id)s)"
)
TICK_NOTIFICATIONS = "select api.tick_notifications(p_limit => 1000)"
PURGE_EXPIRED_NOTIFICATIONS = "select api.purge_expired_notifications(p_limit => 10000)"

# Workflows (worker/workflows.py): service-role functions that take the org directly.
RUN_EXECUTION = (
    "select api.run_execution(p_execution_id => %(execution_id)s, p_org_id => %(org_id)s)"
)
RUN_EXECUTIONS = (
    "select picked, completed, waiting, retrying, failed, deferred "
    "from api.run_executions(p_limit => %(limit)s)"
)
CLAIM_WEBHOOK = (
    "select action, url, headers, body, msg_id, secrets, attempt, retry_after_seconds "
    "from api.claim_webhook(p_action_id => %(action_id)s, p_org_id => %(org_id)s)"
)
COMPLETE_ACTION = (
    "select api.complete_action(p_action_id => %(action_id)s, p_result => %(result)s, "
    "p_org_id => %(org_id)s)"
)
FAIL_ACTION = (
    "select api.fail_action(p_action_id => %(action_id)s, p_error => %(error)s, "
    "p_permanent => %(permanent)s, p_retry_after_seconds => %(retry_after)s, "
    "p_result => %(result)s, p_org_id => %(org_id)s)"
)
FAIL_EXECUTION = (
    "select api.fail_execution(p_execution_id => %(execution_id)s, p_error => %(error)s, "
    "p_org_id => %(org_id)s)"
)
TICK_WORKFLOWS = "select api.tick_workflows(p_limit => 1000)"
MAINTAIN_WORKFLOW_LOGS = "select api.maintain_workflow_logs()"

# Campaigns (worker/campaigns.py): service-role functions across every org.
TICK_CAMPAIGNS = (
    "select processed, sent, skipped, errored, deferred, completed, stopped, more_due, "
    "elapsed_ms from api.tick_campaigns(p_batch_size => %(batch_size)s)"
)
# One waiting continuation is enough. No dedupe key: pgqueuer's key also
# covers the picked job, i.e. the very tick that queues its successor.
ENQUEUE_CAMPAIGN_TICK = (
    "insert into queue.pgqueuer (priority, entrypoint, payload, status, execute_after) "
    "select 0, 'campaigns.tick', null, 'queued', now() where not exists ("
    "select from queue.pgqueuer where entrypoint = 'campaigns.tick' and status = 'queued')"
)
EVALUATE_AB_TESTS = "select api.evaluate_ab_tests()"
ARCHIVE_CAMPAIGN_LOGS = "select api.archive_campaign_logs(p_limit => %(limit)s)"

# Housekeeping (worker/maintenance.py): service-role functions across every org.
RECONCILE_IN_FLIGHT_WORK = "select api.reconcile_in_flight_work(p_limit => %(limit)s)"
PURGE_EXPIRED_DATA = "select api.purge_expired_data(p_limit => %(limit)s)"

# Sending domains (worker/domains.py): the claim as its org sees it, then the platform's
# report (service-role functions that take the org directly).
SENDING_DOMAIN = (
    "select record_name, record_value, verified_at from api.list_sending_domains() "
    "where domain = %(domain)s"
)
VERIFY_SENDING_DOMAIN = (
    "select domain from api.verify_sending_domain(p_org_id => %(org_id)s, p_domain => %(domain)s)"
)
RECORD_SENDING_DOMAIN_CHECK = (
    "select api.record_sending_domain_check(p_org_id => %(org_id)s, p_domain => %(domain)s, "
    "p_error => %(error)s)"
)
