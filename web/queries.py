"""Every SQL statement of the web app, in one place."""

from __future__ import annotations

# Which role the pool connects as: the health check shows it is never a superuser.
HEALTH = "select current_user"
INGEST_EMAIL_EVENT = (
    "select api.ingest_email_event(p_provider_event_id => %(event_id)s, "
    "p_payload => %(payload)s::jsonb)"
)
RECORD_INBOUND_EMAIL = (
    "select result, inbound_id, match_method, is_auto_reply from api.record_inbound_email("
    "p_message_id => %(message_id)s, p_from => %(from)s, p_from_name => %(from_name)s, "
    "p_to => %(to)s, p_subject => %(subject)s, p_in_reply_to => %(in_reply_to)s, "
    "p_references => %(references)s, p_text => %(text)s, p_html => %(html)s, "
    "p_headers => %(headers)s::jsonb, p_provider => %(provider)s)"
)
UNSUBSCRIBE = (
    "select result, email, organization "
    "from api.unsubscribe(p_token => %(token)s, p_confirm => %(confirm)s)"
)
