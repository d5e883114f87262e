-- Issue 18: the inbox in the order notifications were announced, on one node and
-- on a cluster. The inbox paged newest first by seq, but on Citus seqs come in a
-- range per node (docs/scale-out.md, "The stream on a cluster"): a notification a
-- worker's trigger wrote sorted above one the coordinator wrote later, whatever
-- their times. announced_at is when the row was made or last re-announced by its
-- group (when it took its current seq); the inbox orders by (announced_at, seq).
--
-- A default that is not volatile is stored once in the catalog: the column is
-- added without rewriting the table, on one node and on every shard. The rows
-- that exist keep their seq order among themselves (they tie on the time of this
-- migration) and sort below every row announced after it. The index comes in
-- 0030, a transaction of its own: this one's lock is then held for an instant.
alter table app.notifications
add column announced_at timestamptz not null default app.now();
