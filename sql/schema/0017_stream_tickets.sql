-- Stream tickets: what a browser puts in /notifications/stream?ticket=, since an
-- EventSource cannot set a header. Short-lived (60 s), single-use, bound to a user and
-- to the API token that minted it (revoking the token ends the stream). Only the
-- SHA-256 of the ticket is stored. Engine-only: the service role reaches it through
-- api.create_stream_ticket, api.claim_stream_ticket and api.authenticate_stream_ticket.
create table app.stream_tickets (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    user_id uuid not null,
    token_id uuid not null,
    ticket_hash bytea not null unique,
    expires_at timestamptz not null,
    used_at timestamptz,
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade,
    foreign key (org_id, token_id) references app.api_tokens (org_id, id) on delete cascade
);

create index stream_tickets_expires_idx on app.stream_tickets (expires_at);

select app._enable_tenant_rls('app.stream_tickets');
