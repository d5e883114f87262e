-- Something to look at and act on (issue 16, docs/console.md): approval links an
-- approver follows from the email, and the operator console's sign-in sessions.

-- A signed, single-use, expiring link to decide one approval row, bound to its approver
-- (the row is one approver's place in one slot; delegation and escalation add rows, so a
-- link of a row that is no longer pending is superseded). Only the SHA-256 of the link's
-- token is stored. Engine-only: the web app reaches it through the api.
create table app.approval_links (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    approval_id uuid not null,
    approver_id uuid not null,
    token_hash bytea not null unique,
    expires_at timestamptz not null,
    used_at timestamptz,
    used_decision text check (used_decision in ('approved', 'rejected', 'delegated')),
    created_at timestamptz not null default app.now(),
    primary key (org_id, id),
    check ((used_at is null) = (used_decision is null)),
    foreign key (org_id, approval_id)
    references app.workflow_approvals (org_id, id) on delete cascade,
    foreign key (org_id, approver_id) references app.user_profiles (org_id, id) on delete cascade
);

create index approval_links_approval_idx on app.approval_links (org_id, approval_id);
create index approval_links_expires_idx on app.approval_links (expires_at);

select app._enable_tenant_rls('app.approval_links');

-- A console sign-in: an API token exchanged for a session cookie. The cookie holds the
-- session's secret (only its SHA-256 is stored); the session lives while it is not
-- ended, not expired and its token still authorizes (revoking the token ends it). The
-- CSRF token goes in every form of the session's pages.
create table app.web_sessions (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    user_id uuid not null,
    token_id uuid not null,
    secret_hash bytea not null unique,
    csrf_token text not null,
    created_at timestamptz not null default app.now(),
    expires_at timestamptz not null,
    last_seen_at timestamptz,
    ended_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, user_id) references app.user_profiles (org_id, id) on delete cascade,
    foreign key (org_id, token_id) references app.api_tokens (org_id, id) on delete cascade
);

create index web_sessions_expires_idx on app.web_sessions (expires_at);

select app._enable_tenant_rls('app.web_sessions');

-- One time zone rule from here on: IANA names only (docs/conventions.md). A contact's or
-- candidate's zone was never checked; a value that is no IANA zone could never be used,
-- so it is cleared.
update app.contacts set timezone = null
where
    timezone is not null
    and (
        timezone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'
        or timezone ~ '^(posix|right)/'
        or timezone in ('posixrules', 'localtime', 'Factory')
        or timezone not in (select z.name from pg_catalog.pg_timezone_names as z)
    );

update app.candidates set timezone = null
where
    timezone is not null
    and (
        timezone !~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'
        or timezone ~ '^(posix|right)/'
        or timezone in ('posixrules', 'localtime', 'Factory')
        or timezone not in (select z.name from pg_catalog.pg_timezone_names as z)
    );
