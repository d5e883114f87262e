"""Every SQL statement of the web app, in one place."""

from __future__ import annotations

# Which role the pool connects as: the health check shows it is never a superuser.
HEALTH = "select current_user"
INGEST_EMAIL_EVENT = (
    "select api.ingest_email_event(p_provider_event_id => %(event_id)s, "
    "p_payload => %(payload)s::jsonb)"
)
