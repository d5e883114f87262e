-- Campaigns: a campaign email's reply, bounce, complaint, opens and clicks
-- move its enrollment; a suppression stops the address's enrollments; the
-- campaign totals follow every enrollment statement.

select app._ensure_trigger(
    p_table => 'app.email_sends',
    p_name => 'email_sends_campaign',
    p_body => 'after update of replied_at, status, open_count, click_count on %s for each row '
    || 'when (new.enrollment_id is not null and ('
    || '(old.replied_at is null and new.replied_at is not null) '
    || 'or (old.status is distinct from new.status '
    || 'and new.status in (''bounced'', ''complained'')) '
    || 'or new.open_count > old.open_count or new.click_count > old.click_count)) '
    || 'execute function app._tg_email_send_campaign()'
);

select app._ensure_trigger(
    p_table => 'app.suppressions',
    p_name => 'suppressions_campaign',
    p_body => 'after insert on %s for each row execute function app._tg_suppression_campaign()'
);

select app._ensure_trigger(
    p_table => 'app.campaign_enrollments',
    p_name => 'campaign_totals_insert',
    p_body => 'after insert on %s referencing new table as new_rows for each statement '
    || 'execute function app._tg_campaign_enrollment_totals()'
);

select app._ensure_trigger(
    p_table => 'app.campaign_enrollments',
    p_name => 'campaign_totals_update',
    p_body => 'after update on %s referencing old table as old_rows new table as new_rows '
    || 'for each statement execute function app._tg_campaign_enrollment_totals()'
);

select app._ensure_trigger(
    p_table => 'app.campaign_enrollments',
    p_name => 'campaign_totals_delete',
    p_body => 'after delete on %s referencing old table as old_rows for each statement '
    || 'execute function app._tg_campaign_enrollment_totals()'
);

select app._ensure_trigger(
    p_table => 'app.email_templates',
    p_name => 'email_templates_campaign_steps',
    p_body => 'before delete on %s for each row '
    || 'execute function app._tg_email_template_in_campaign()'
);

-- On time: the statement's earliest due time arms the tick's wake-up (one job).
select app._ensure_trigger(
    p_table => 'app.campaign_enrollments',
    p_name => 'campaign_wake_insert',
    p_body => 'after insert on %s referencing new table as new_rows for each statement '
    || 'execute function app._tg_campaign_enrollment_wake()'
);

select app._ensure_trigger(
    p_table => 'app.campaign_enrollments',
    p_name => 'campaign_wake_update',
    p_body => 'after update on %s referencing new table as new_rows for each statement '
    || 'execute function app._tg_campaign_enrollment_wake()'
);
