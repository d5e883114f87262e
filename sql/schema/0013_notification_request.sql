-- One notification request (app._notification_send's one argument, instead of 17
-- parameters passed again by every caller), and what app._notification_content makes
-- of it: the rendered notification and its email version.

create type app.notification_request as (
    org_id uuid,
    user_ids uuid [],
    category text,
    template_slug text,
    title text,
    message text,
    variables jsonb,
    type text,
    priority text,
    entity_type text,
    entity_id uuid,
    action_url text,
    action_label text,
    channels text [],
    group_key text,
    expires_at timestamptz,
    critical boolean
);

create type app.notification_content as (
    category text,
    title text,
    message text,
    type text,
    priority text,
    action_url text,
    action_label text,
    requested_channels jsonb,
    variables jsonb,
    email_subject text,
    email_html text,
    email_text text
);
