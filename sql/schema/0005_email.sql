-- Communications, part 1: sending settings, templates, sends, provider
-- events and suppressions (issue 3). Inbound mail and threads follow.

create table app.email_settings (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    from_email text not null check (position('@' in from_email) > 1),
    from_name text,
    reply_domain text not null check (reply_domain ~ '^[a-z0-9.-]+\.[a-z]{2,}$'),
    provider text not null default 'outbox' check (provider in ('smtp', 'resend', 'outbox')),
    rate_limit_per_minute integer not null default 100 check (rate_limit_per_minute > 0),
    -- The org's token bucket (api.claim_email_send), on the real clock.
    rate_tokens double precision,
    rate_refilled_at timestamptz,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id)
);

create table app.email_templates (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9_-]*$'),
    name text not null,
    category text not null default 'transactional'
    check (category in ('transactional', 'marketing')),
    subject_template text not null,
    html_template text not null,
    text_template text,
    -- [{"name": "contact.first_name", "required": true}, ...]
    variables jsonb not null default '[]' check (jsonb_typeof(variables) = 'array'),
    is_active boolean not null default true,
    created_by uuid default app.current_user_id(),
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, slug),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by)
);

create table app.email_sends (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    to_email text not null,
    from_email text not null,
    from_name text,
    reply_to text not null,
    subject text not null,
    html_body text not null,
    text_body text,
    category text not null check (category in ('transactional', 'marketing', 'campaign')),
    template_id uuid,
    variables jsonb not null default '{}',
    entity_type text,
    entity_id uuid,
    enrollment_id uuid,
    workflow_action_id uuid,
    notification_id uuid,
    status text not null default 'queued' check (status in (
        'queued', 'sending', 'sent', 'delivery_delayed', 'delivered', 'opened', 'clicked',
        'bounced', 'complained', 'failed', 'suppressed'
    )),
    suppression_reason text,
    provider text,
    provider_message_id text unique,
    message_id text not null unique,
    reply_token text not null unique,
    unsubscribe_token text not null unique,
    send_after timestamptz,
    queued_at timestamptz not null default app.now(),
    sent_at timestamptz,
    delivered_at timestamptz,
    first_opened_at timestamptz,
    first_clicked_at timestamptz,
    bounced_at timestamptz,
    complained_at timestamptz,
    failed_at timestamptz,
    replied_at timestamptz,
    open_count integer not null default 0,
    click_count integer not null default 0,
    bounce_type text check (bounce_type in ('hard', 'soft')),
    error text,
    attempts integer not null default 0,
    created_by uuid default app.current_user_id(),
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, template_id) references app.email_templates (org_id, id)
    on delete set null (template_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    check ((status = 'suppressed') = (suppression_reason is not null))
);

create index email_sends_entity_idx on app.email_sends (org_id, entity_type, entity_id)
where entity_type is not null;
create index email_sends_to_idx on app.email_sends (org_id, lower(to_email), created_at);
create index email_sends_template_idx on app.email_sends (org_id, template_id)
where template_id is not null;

-- Provider events applied to a send (the seed's email_logs).
create table app.email_events (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id bigint generated always as identity,
    email_send_id uuid not null,
    provider_event_id text not null unique,
    type text not null,
    payload jsonb not null,
    occurred_at timestamptz not null,
    received_at timestamptz not null,
    applied_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, email_send_id) references app.email_sends (org_id, id) on delete cascade
);

create index email_events_send_idx on app.email_events (org_id, email_send_id, occurred_at);

-- Global, engine-only: every webhook event id ever received (deduplication),
-- and events whose email id is not recorded yet (the webhook can beat the
-- send response). No role but the owner reads or writes these.
create table app.webhook_receipts (
    provider text not null,
    event_id text not null,
    received_at timestamptz not null default app.now(),
    primary key (provider, event_id)
);

create table app.email_events_pending (
    provider_event_id text primary key,
    provider_message_id text not null,
    payload jsonb not null,
    received_at timestamptz not null default app.now()
);

create index email_events_pending_message_idx on app.email_events_pending (provider_message_id);

create table app.suppressions (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    email text not null check (email = lower(email) and position('@' in email) > 1),
    reason text not null check (reason in (
        'hard_bounce', 'soft_bounce', 'complaint', 'unsubscribe', 'manual', 'provider'
    )),
    source_event_id text,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, email, reason)
);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array[
        'email_settings', 'email_templates', 'email_sends', 'email_events', 'suppressions'
    ] loop
        execute format('alter table app.%I enable row level security', v_table);
        execute format('alter table app.%I force row level security', v_table);
        execute format(
            'create policy tenant_isolation on app.%I '
            'using (org_id = (select app.current_org_id())) '
            'with check (org_id = (select app.current_org_id()))',
            v_table
        );
    end loop;
end
$rls$;
