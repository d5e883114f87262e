select app._ensure_trigger(
    p_table => 'app.notifications',
    p_name => 'notifications_announce_insert',
    p_body => 'after insert on %s for each statement '
    || 'execute function app._tg_notification_announce()'
);

select app._ensure_trigger(
    p_table => 'app.email_sends',
    p_name => 'email_sends_delivery_status',
    p_body => 'after update of status on %s for each row '
    || 'when (old.status is distinct from new.status and (new.notification_id is not null '
    || 'or new.entity_type = ''notification_digest'')) '
    || 'execute function app._tg_email_send_delivery_status()'
);
