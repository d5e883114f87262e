-- A reply to a user-private send (a notification email: email_sends.recipient_user_id)
-- and the thread rooted in one are as private as the send: they carry its recipient,
-- and the policy hides them from the org's other users, as for email_sends (0007).

alter table app.email_threads add column recipient_user_id uuid;
alter table app.email_threads
add foreign key (org_id, recipient_user_id) references app.user_profiles (org_id, id)
on delete set null (recipient_user_id);
alter table app.inbound_emails add column recipient_user_id uuid;
alter table app.inbound_emails
add foreign key (org_id, recipient_user_id) references app.user_profiles (org_id, id)
on delete set null (recipient_user_id);

update app.email_threads as t
set recipient_user_id = s.recipient_user_id
from app.email_sends as s
where s.org_id = t.org_id and s.id = t.root_send_id and s.recipient_user_id is not null;

update app.inbound_emails as i
set recipient_user_id = s.recipient_user_id
from app.email_sends as s
where s.org_id = i.org_id and s.id = i.matched_send_id and s.recipient_user_id is not null;

drop policy tenant_isolation on app.email_threads;
create policy tenant_isolation on app.email_threads
using (
    org_id = (select app.current_org_id())
    and (recipient_user_id is null or recipient_user_id = (select app.current_user_id()))
)
with check (org_id = (select app.current_org_id()));

drop policy tenant_isolation on app.inbound_emails;
create policy tenant_isolation on app.inbound_emails
using (
    org_id = (select app.current_org_id())
    and (recipient_user_id is null or recipient_user_id = (select app.current_user_id()))
)
with check (org_id = (select app.current_org_id()));
