"""Every SQL statement of the worker, in one place."""

from __future__ import annotations

CLAIM_EMAIL_SEND = (
    "select action, retry_after_seconds, email_send_id, to_email, from_email, from_name, "
    "reply_to, subject, html_body, text_body, category, message_id, unsubscribe_token, "
    "provider, attempts from api.claim_email_send(p_email_send_id => %(id)s)"
)
RECORD_EMAIL_SENT = (
    "select api.record_email_sent(p_email_send_id => %(id)s, p_provider => %(provider)s, "
    "p_provider_message_id => %(provider_message_id)s)"
)
FAIL_EMAIL_SEND = (
    "select api.fail_email_send(p_email_send_id => %(id)s, p_error => %(error)s, "
    "p_permanent => %(permanent)s)"
)
RUN_NOTIFICATION_TICK = "select api.run_notification_tick(p_limit => 1000)"
PURGE_EXPIRED_NOTIFICATIONS = "select api.purge_expired_notifications(p_limit => 10000)"
