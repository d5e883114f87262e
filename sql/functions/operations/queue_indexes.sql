-- Indexes InTime adds to pgqueuer's tables. They live among the re-applied
-- files, not in a migration, because pgqueuer's installer creates the queue
-- schema after the migrations and before these files (intime/migrate.py);
-- "if not exists" makes re-applying them a no-op.

-- pgqueuer keys its statistics by (priority, second, status, entrypoint):
-- api.purge_expired_data finds the oldest buckets through this instead.
create index if not exists pgqueuer_statistics_created_idx
on queue.pgqueuer_statistics (created);
