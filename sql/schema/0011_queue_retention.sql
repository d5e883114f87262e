-- Retention of pgqueuer's own history (issue 12): every job leaves rows in
-- queue.pgqueuer_log (queued, picked, its outcome), folded each second into
-- queue.pgqueuer_statistics; pgqueuer deletes neither. api.purge_expired_data
-- deletes what is older than these settings (on the real clock, which is the
-- queue's): log rows of jobs that left the queue, and statistics buckets.
-- The index the purge needs is on a queue table, which pgqueuer's installer
-- creates after the migrations: sql/functions/operations/queue_indexes.sql.

alter table app.settings
add column queue_log_retention_days integer not null default 14
check (queue_log_retention_days between 1 and 3650),
add column queue_statistics_retention_days integer not null default 90
check (queue_statistics_retention_days between 1 and 3650);
