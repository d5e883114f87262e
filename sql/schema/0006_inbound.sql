-- Communications, part 2: inbound mail, threads and one-click unsubscribe.

create table app.email_threads (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    root_send_id uuid not null,
    subject text,
    entity_type text,
    entity_id uuid,
    message_count integer not null default 0,
    last_message_at timestamptz,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, root_send_id),
    foreign key (org_id, root_send_id) references app.email_sends (org_id, id) on delete cascade
);

create table app.inbound_emails (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    message_id text not null,
    in_reply_to text,
    "references" text[] not null default '{}',
    from_email text not null,
    from_name text,
    to_emails text[] not null default '{}',
    subject text,
    text_body text,
    html_body text,
    headers jsonb not null default '{}',
    is_auto_reply boolean not null,
    auto_reply_reason text,
    matched_send_id uuid not null,
    match_method text not null
    check (match_method in ('in_reply_to', 'references', 'reply_token', 'sender')),
    thread_id uuid not null,
    provider text not null,
    provider_email_id text,
    received_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, message_id),
    foreign key (org_id, matched_send_id) references app.email_sends (org_id, id)
    on delete cascade,
    foreign key (org_id, thread_id) references app.email_threads (org_id, id) on delete cascade,
    check ((auto_reply_reason is not null) = is_auto_reply)
);

create index inbound_emails_send_idx on app.inbound_emails (org_id, matched_send_id);

-- Engine-only: inbound mail that matched no send of any org, kept for an
-- operator to look at, never shown to a tenant.
create table app.inbound_unmatched (
    message_id text primary key,
    from_email text,
    to_emails text[] not null default '{}',
    subject text,
    headers jsonb not null default '{}',
    provider text not null,
    received_at timestamptz not null default app.now()
);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array['email_threads', 'inbound_emails'] loop
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
