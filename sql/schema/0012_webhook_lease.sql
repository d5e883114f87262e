-- The webhook send lease (issue 12): api.claim_webhook gives the claiming
-- worker the delivery for webhook_send_lease_seconds of real time, as
-- api.claim_email_send does for an email. A second claim within the lease
-- (pgqueuer handing the job to another worker while the first is cut off
-- from the database, holding the receiver's answer) defers instead of
-- POSTing the same message again.

alter table app.settings
add column webhook_send_lease_seconds integer not null default 120
check (webhook_send_lease_seconds between 10 and 3600);

alter table app.workflow_actions
add column sending_until timestamptz;
