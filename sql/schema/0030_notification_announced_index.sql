-- Issue 18: the inbox page's index (api.list_notifications orders by
-- announced_at, then seq; 0029 added the column). notifications_inbox_idx (by
-- seq) stays for the stream's replay and the cursor's lookup by seq.
--
-- A plain CREATE INDEX blocks the table's writes (not its reads) while it builds.
-- On a large notifications table an operator may build it first without that:
--   create index concurrently if not exists notifications_announced_idx
--   on app.notifications (org_id, user_id, announced_at desc, seq desc);
-- and this migration then finds it there (a failed concurrent build leaves an
-- invalid index, which it would find too: check pg_index.indisvalid first).
create index if not exists notifications_announced_idx on app.notifications (
    org_id, user_id, announced_at desc, seq desc
);
