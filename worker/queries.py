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
