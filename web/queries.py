"""Every SQL statement of the web app, in one place."""

from __future__ import annotations

# Which role the pool connects as: the health check shows it is never a superuser.
HEALTH = "select current_user"
INGEST_EMAIL_EVENT = (
    "select api.ingest_email_event(p_provider_event_id => %(event_id)s, "
    "p_payload => %(payload)s::jsonb)"
)
INGEST_EMAIL_EVENTS = (
    "select api.ingest_email_events(p_provider_event_ids => %(event_ids)s, "
    "p_payloads => %(payloads)s::jsonb[])"
)
RECORD_INBOUND_EMAIL = (
    "select result, inbound_id, match_method, is_auto_reply, auto_reply_kind, bounce "
    "from api.record_inbound_email("
    "p_message_id => %(message_id)s, p_from => %(from)s, p_from_name => %(from_name)s, "
    "p_to => %(to)s, p_subject => %(subject)s, p_in_reply_to => %(in_reply_to)s, "
    "p_references => %(references)s, p_text => %(text)s, p_html => %(html)s, "
    "p_headers => %(headers)s::jsonb, p_provider => %(provider)s, "
    "p_reply_text => %(reply_text)s, p_dsn => %(dsn)s::jsonb)"
)
UNSUBSCRIBE = (
    "select result, email, organization "
    "from api.unsubscribe_recipient(p_token => %(token)s, p_confirm => %(confirm)s)"
)

# The database's Prometheus gauges (web/metrics.py): one statement per scrape.
GET_METRICS = "select name, labels, value from api.get_metrics()"

# The notification stream (web/hub.py, web/notifications.py).
CREATE_STREAM_TICKET = (
    "select ticket, expires_at from api.create_stream_ticket(p_token => %(token)s)"
)
CLAIM_STREAM_TICKET = (
    "select org_id, user_id, ticket_id, token_id "
    "from api.claim_stream_ticket(p_ticket => %(ticket)s)"
)
CHECK_STREAM_CREDENTIALS = (
    "select api.check_stream_credentials(p_org_ids => %(org_ids)s::uuid[], "
    "p_token_ids => %(token_ids)s::uuid[], p_session_ids => %(session_ids)s::uuid[])"
)
# Per seq range (one on a single node, one per node group on Citus): the highest seq.
GET_NOTIFICATION_FEED_HEADS = "select seq_range, head from api.get_notification_feed_heads()"
STREAM_KEY = "select secret from app.stream_secret"
# Per seq range, the next xid of the node that draws it, drawn by the hub itself: above
# every xid assigned there before (a gap's tag; web/hub.py says why not a snapshot's
# xmax). Its transaction writes nothing but a commit record, which need not wait for a
# WAL flush.
DRAW_TAGS = "select seq_range, tag from api.get_stream_tags()"
# On a cluster, per seq range: the xmin below which a gap can no longer fill (none while
# a two-phase commit is pending) and a new xid (the tag of the gaps noticed before);
# taken before a read (web/hub.py).
GET_HORIZON = "select seq_range, xmin, tag from api.get_stream_horizon()"
READ_FEED = (
    "select pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, "
    "f.seq, f.org_id, f.user_id, f.notification "
    "from pg_current_snapshot() as s left join api.read_notification_feed("
    "p_after_seqs => %(after)s::bigint[], p_limit => %(limit)s, "
    "p_gaps => %(gaps)s::bigint[]) as f on true "
    "order by f.seq"
)
COUNT_UNREAD_FOR = (
    "select org_id, user_id, unread from api.count_unread_notifications_for("
    "p_org_ids => %(org_ids)s::uuid[], p_user_ids => %(user_ids)s::uuid[])"
)
REPLAY_NOTIFICATIONS = (
    "select seq, notification from api.replay_notifications("
    "p_after_seq => %(after)s, p_limit => %(limit)s)"
)
COUNT_UNREAD_NOTIFICATIONS = "select api.count_unread_notifications()"
# The seqs below one in its range, newest first, under the same filter as the replay's.
NOTIFICATION_SEQS_BEFORE = (
    "select seq from api.list_notification_seqs(p_before_seq => %(before)s, p_limit => %(limit)s)"
)
LIST_NOTIFICATIONS = (
    "select to_jsonb(n) from api.list_notifications(p_unread_only => %(unread_only)s, "
    "p_archived => %(archived)s, p_before_seq => %(before_seq)s, p_limit => %(limit)s) as n"
)
MARK_NOTIFICATIONS_READ = "select api.mark_notifications_read(p_ids => %(ids)s::uuid[])"
MARK_ALL_NOTIFICATIONS_READ = "select api.mark_all_notifications_read()"
RENEW_STREAM_HUB = (
    "select api.renew_stream_hub(p_hub_id => %(hub_id)s, "
    "p_polling_for => make_interval(secs => %(seconds)s))"
)
REMOVE_STREAM_HUB = "select api.remove_stream_hub(p_hub_id => %(hub_id)s)"

# The JSON API under /api/v1 (web/api.py): one api function per endpoint, rows as JSON.
API_LIST_NOTIFICATIONS = (
    "select to_jsonb(n) from api.list_notifications(p_unread_only => %(unread_only)s, "
    "p_archived => %(archived)s, p_before_seq => %(before_seq)s, p_limit => %(limit)s, "
    "p_before_at => %(before_at)s) as n"
)
API_COUNT_UNREAD = "select api.count_unread_notifications()"
API_MARK_READ = "select api.mark_notifications_read(p_ids => %(ids)s::uuid[])"
API_MARK_ALL_READ = "select api.mark_all_notifications_read()"
API_MARK_SEEN = "select api.mark_notifications_seen(p_ids => %(ids)s::uuid[])"
API_ARCHIVE = "select api.archive_notifications(p_ids => %(ids)s::uuid[])"
API_GET_PREFERENCES = "select to_jsonb(p) from api.get_preferences() as p"
API_SET_PREFERENCE = (
    "select to_jsonb(p) - 'org_id' - 'id' from api.set_preference("
    "p_category => %(category)s, p_channels => %(channels)s::text[], "
    "p_frequency => %(frequency)s, p_digest_time => %(digest_time)s::time, "
    "p_digest_day => %(digest_day)s, p_quiet_hours_enabled => %(quiet_hours_enabled)s, "
    "p_quiet_hours_start => %(quiet_hours_start)s::time, "
    "p_quiet_hours_end => %(quiet_hours_end)s::time, "
    "p_quiet_hours_timezone => %(quiet_hours_timezone)s, p_dnd_enabled => %(dnd_enabled)s, "
    "p_dnd_until => %(dnd_until)s::timestamptz, p_sound_enabled => %(sound_enabled)s, "
    "p_email_unsubscribed => %(email_unsubscribed)s, "
    "p_org_default => coalesce(%(org_default)s, false)) as p"
)
API_LIST_MY_APPROVALS = "select to_jsonb(a) from api.list_my_approvals() as a"
API_APPROVE = "select api.approve_approval(p_approval_id => %(id)s, p_notes => %(comment)s)"
API_REJECT = "select api.reject_approval(p_approval_id => %(id)s, p_notes => %(comment)s)"
API_DELEGATE = (
    "select api.delegate_approval(p_approval_id => %(id)s, p_to_user => %(to_user_id)s, "
    "p_reason => %(reason)s)"
)
API_LIST_EXECUTIONS = (
    "select to_jsonb(e) from api.list_executions(p_status => %(status)s, "
    "p_workflow_id => %(workflow_id)s, p_entity_type => %(entity_type)s, "
    "p_entity_id => %(entity_id)s, p_before_created_at => %(before_created_at)s, "
    "p_before_id => %(before_id)s, p_limit => %(limit)s, "
    "p_execution_id => %(execution_id)s) as e"
)
API_EXECUTION_TIMELINE = (
    "select to_jsonb(t) from api.get_execution_timeline(p_execution_id => %(id)s) as t"
)
API_RETRY_EXECUTION = "select api.retry_execution(p_execution_id => %(id)s)"
API_CANCEL_EXECUTION = (
    "select api.cancel_execution(p_execution_id => %(id)s, p_reason => %(reason)s, "
    "p_keep_changes => coalesce(%(keep_changes)s, false))"
)
API_LIST_CAMPAIGNS = (
    "select to_jsonb(c) from api.list_campaigns(p_status => %(status)s, p_limit => %(limit)s, "
    "p_campaign_id => %(campaign_id)s) as c"
)
API_CAMPAIGN_STATS = "select to_jsonb(s) from api.get_campaign_stats(p_campaign_id => %(id)s) as s"
API_ENROLLMENT_TIMELINE = (
    "select to_jsonb(t) from api.get_enrollment_timeline(p_enrollment_id => %(id)s) as t"
)

# Console and API principals (web/auth.py).
AUTHENTICATE_BEARER = (
    "select org_id, user_id, token_id from api.authenticate_token(p_token => %(token)s)"
)
CREATE_WEB_SESSION = (
    "select session, csrf_token, expires_at from api.create_web_session(p_token => %(token)s)"
)
AUTHENTICATE_WEB_SESSION = (
    "select org_id, user_id, token_id, session_id, csrf_token "
    "from api.authenticate_web_session(p_session => %(session)s)"
)
END_WEB_SESSION = "select api.end_web_session(p_session => %(session)s)"
