-- Staffing: jobs, candidates, submissions, interviews and placements.

create table app.jobs (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    title text not null check (length(btrim(title)) > 0),
    account_id uuid,
    hiring_contact_id uuid,
    owner_id uuid,
    status text not null default 'open'
    check (status in ('draft', 'open', 'on_hold', 'filled', 'closed')),
    location text,
    employment_type text not null default 'full_time'
    check (employment_type in ('full_time', 'part_time', 'contract', 'contract_to_hire')),
    openings integer not null default 1 check (openings >= 0),
    salary_min numeric(12, 2),
    salary_max numeric(12, 2),
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    description text,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    check (salary_min is null or salary_max is null or salary_min <= salary_max),
    foreign key (org_id, account_id) references app.accounts (org_id, id)
    on delete set null (account_id),
    foreign key (org_id, hiring_contact_id) references app.contacts (org_id, id)
    on delete set null (hiring_contact_id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id)
    on delete set null (owner_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create index jobs_account_idx on app.jobs (org_id, account_id) where account_id is not null;

create table app.candidates (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    first_name text not null,
    last_name text not null default '',
    full_name text generated always as (btrim(first_name || ' ' || last_name)) stored,
    email text check (email is null or position('@' in email) > 1),
    phone text,
    headline text,
    location text,
    timezone text,
    linkedin_url text,
    status text not null default 'active'
    check (status in ('active', 'placed', 'inactive', 'do_not_contact')),
    source text,
    owner_id uuid,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    deleted_at timestamptz,
    primary key (org_id, id),
    foreign key (org_id, owner_id) references app.user_profiles (org_id, id)
    on delete set null (owner_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create unique index candidates_email_key on app.candidates (org_id, lower(email))
where email is not null;

create table app.submissions (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    job_id uuid not null,
    candidate_id uuid not null,
    submitted_by uuid default app.current_user_id(),
    status text not null default 'submitted'
    check (status in (
        'submitted', 'client_review', 'interviewing', 'offered', 'placed', 'rejected', 'withdrawn'
    )),
    submitted_at timestamptz not null default app.now(),
    bill_rate numeric(12, 2),
    notes text,
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, job_id, candidate_id),
    -- Lets a placement's foreign key pin its job and candidate to its submission's.
    unique (org_id, id, job_id, candidate_id),
    foreign key (org_id, job_id) references app.jobs (org_id, id) on delete cascade,
    foreign key (org_id, candidate_id) references app.candidates (org_id, id) on delete cascade,
    foreign key (org_id, submitted_by) references app.user_profiles (org_id, id)
    on delete set null (submitted_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create index submissions_candidate_idx on app.submissions (org_id, candidate_id);

create table app.interviews (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    submission_id uuid not null,
    scheduled_at timestamptz not null,
    duration_minutes integer not null default 60 check (duration_minutes > 0),
    timezone text not null default 'UTC',
    interview_type text not null default 'video'
    check (interview_type in ('phone', 'video', 'onsite', 'technical')),
    location text,
    interviewer_id uuid,
    status text not null default 'scheduled'
    check (status in ('scheduled', 'completed', 'cancelled', 'no_show')),
    feedback text,
    created_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, submission_id) references app.submissions (org_id, id)
    on delete cascade,
    foreign key (org_id, interviewer_id) references app.user_profiles (org_id, id)
    on delete set null (interviewer_id),
    foreign key (org_id, created_by) references app.user_profiles (org_id, id)
    on delete set null (created_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

create index interviews_submission_idx on app.interviews (org_id, submission_id);

create table app.placements (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    id uuid not null default gen_random_uuid(),
    submission_id uuid not null,
    job_id uuid not null,
    candidate_id uuid not null,
    start_date date not null,
    end_date date,
    bill_rate numeric(12, 2),
    pay_rate numeric(12, 2),
    currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    status text not null default 'pending'
    check (status in ('pending', 'active', 'completed', 'terminated')),
    placed_by uuid default app.current_user_id(),
    updated_by uuid,
    created_at timestamptz not null default app.now(),
    updated_at timestamptz not null default app.now(),
    primary key (org_id, id),
    unique (org_id, submission_id),
    check (end_date is null or end_date >= start_date),
    foreign key (org_id, submission_id, job_id, candidate_id)
    references app.submissions (org_id, id, job_id, candidate_id) on delete cascade,
    foreign key (org_id, placed_by) references app.user_profiles (org_id, id)
    on delete set null (placed_by),
    foreign key (org_id, updated_by) references app.user_profiles (org_id, id)
    on delete set null (updated_by)
);

do $rls$
declare
    v_table text;
begin
    foreach v_table in array array[
        'jobs', 'candidates', 'submissions', 'interviews', 'placements'
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

insert into app.entity_types (
    entity_type, table_name, label, name_field, owner_field, status_field, updatable_fields
) values
(
    'job', 'jobs', 'Job', 'title', 'owner_id', 'status',
    array['title', 'status', 'location', 'openings', 'owner_id', 'description']
),
(
    'candidate', 'candidates', 'Candidate', 'full_name', 'owner_id', 'status',
    array['status', 'phone', 'headline', 'location', 'owner_id']
),
(
    'submission', 'submissions', 'Submission', 'id', 'submitted_by', 'status',
    array['status', 'notes', 'bill_rate']
),
(
    'interview', 'interviews', 'Interview', 'id', 'interviewer_id', 'status',
    array['status', 'feedback', 'location', 'interviewer_id']
),
(
    'placement', 'placements', 'Placement', 'id', 'placed_by', 'status',
    array['status', 'end_date', 'bill_rate', 'pay_rate']
);
