-- Mail that a sales team can trust (docs/email.md): bounce reports (DSN) from any
-- relay tied to their send, automatic replies classified by kind, out-of-office
-- pauses, replies' new text, test sends, suppressions managed by hand and audited,
-- and the built-in notifications an org can turn off.

-- A test send (api.send_test_email): delivered like the real one, never counted in
-- statistics, never part of an enrollment.
alter table app.email_sends add column is_test boolean not null default false;

-- The enhanced status code (RFC 3463, '5.1.1') of the bounce that ended a send.
alter table app.email_sends
add column bounce_status text check (bounce_status ~ '^[245]\.[0-9]{1,3}\.[0-9]{1,3}$');

-- What kind of automatic mail an inbound message is (app._email_classify_auto_reply):
-- out_of_office (a vacation or absence notice), bounce (a delivery status
-- notification) or automatic (anything else a machine wrote: a ticket acknowledgement,
-- list mail). Null for a human message.
alter table app.inbound_emails
add column auto_reply_kind text check (auto_reply_kind in ('out_of_office', 'bounce', 'automatic'));

update app.inbound_emails set auto_reply_kind = 'automatic'
where is_auto_reply;

alter table app.inbound_emails
add constraint inbound_emails_auto_reply_kind_matches_check check (
    (auto_reply_kind is not null) = is_auto_reply
);

-- What the person wrote: the body without the quoted history and the signature.
alter table app.inbound_emails add column reply_text text;

-- A bounce report names its send by the VERP address it came back to
-- (bounce+TOKEN@reply domain) or by the Message-ID of the returned headers.
alter table app.inbound_emails drop constraint inbound_emails_match_method_check;
alter table app.inbound_emails
add constraint inbound_emails_match_method_check check (match_method in (
    'in_reply_to', 'references', 'reply_token', 'sender', 'verp', 'returned_message_id'
));

-- Why a message matched no send (for the operator who reads this table).
alter table app.inbound_unmatched add column reason text;

-- Out-of-office pauses: how long after an absence notice without a return date the
-- enrollment waits, and until when a paused enrollment waits.
alter table app.campaigns
add column out_of_office_resume_days integer not null default 7
check (out_of_office_resume_days between 1 and 90);

alter table app.campaign_enrollments add column resume_at timestamptz;

-- The tick's resume pass: enrollments an out-of-office reply paused, by resume time.
create index campaign_enrollments_resume_idx on app.campaign_enrollments (resume_at)
where status = 'paused' and resume_at is not null;

-- Suppressions added by hand carry a note and their author.
alter table app.suppressions add column note text check (length(note) <= 1000);
alter table app.suppressions add column created_by uuid;
alter table app.suppressions
add foreign key (org_id, created_by) references app.user_profiles (org_id, id)
on delete set null (created_by);

-- Every suppression added or lifted, by whom (null: the engine, e.g. a bounce) and when.
create table app.suppression_changes (
    org_id uuid not null references app.organizations (id) on delete cascade,
    id bigint generated always as identity,
    email text not null,
    reason text not null,
    action text not null check (action in ('added', 'removed')),
    note text,
    changed_by uuid,
    changed_at timestamptz not null default app.now(),
    primary key (org_id, id),
    foreign key (org_id, changed_by) references app.user_profiles (org_id, id)
    on delete set null (changed_by)
);

create index suppression_changes_email_idx on app.suppression_changes (org_id, email, id);

select app._enable_tenant_rls('app.suppression_changes');

insert into app.permissions (name, description, default_roles) values (
    'suppressions.manage',
    'Add and lift the org''s email suppressions (a bounce lifted by mistake, a "do not email").',
    '{}'
);

-- The built-in notifications (the system templates that fire on their own: a task
-- assigned, a mention, a submission, an interview, a deal stage) an org turned off
-- or back on. No row: on.
create table app.builtin_notification_settings (
    org_id uuid not null default app.current_org_id()
    references app.organizations (id) on delete cascade,
    slug text not null references app.notification_system_templates (slug) on delete cascade,
    enabled boolean not null,
    changed_by uuid default app.current_user_id(),
    changed_at timestamptz not null default app.now(),
    primary key (org_id, slug),
    foreign key (org_id, changed_by) references app.user_profiles (org_id, id)
    on delete set null (changed_by)
);

select app._enable_tenant_rls('app.builtin_notification_settings');
