"""The SQL the soak harness runs, read as the superuser unless said otherwise.

On a Citus cluster every node has a queue of its own (docs/scale-out.md, "The queue: one
per node"): a query that reads ``queue.*`` runs on every node and the harness merges
the answers (job ids collide across nodes, so a job is named with its node). Those
queries read the node's queue alone, or join it only to the app tables in ways Citus
plans on any node (a left join from the node's jobs to a distributed table is refused:
the domain rows are then read apart, by id).
"""

from __future__ import annotations

from typing import LiteralString

# -- checks ---------------------------------------------------------------------------

HAS_UNSETTLED_WORK: LiteralString = (
    "select to_regprocedure('api.list_unsettled_work()') is not null"
)
PRODUCT_UNSETTLED: LiteralString = """
select kind, org_id, id::text as id, status, job_status, waiting_until,
       coalesce(waiting_until > now(), false) as future,
       extract(epoch from now() - coalesce(waiting_until, since)) as age,
       null::text as related
from api.list_unsettled_work()
"""
HARNESS_UNSETTLED: LiteralString = """
with keyed as (
    select q.entrypoint, q.status::text as job_status, q.execute_after,
           coalesce(p ->> 'email_send_id', p ->> 'execution_id', p ->> 'action_id') as key
    from queue.pgqueuer as q,
         lateral (select case when q.payload is not null
                              then convert_from(q.payload, 'UTF8')::jsonb end as p) as x
    where q.entrypoint in ('email.send', 'workflow.run', 'webhook.deliver')
),
best as (
    select entrypoint, key,
           (array_agg(job_status order by case job_status when 'picked' then 0
                                                         when 'queued' then 1 else 2 end))[1]
               as job_status,
           min(execute_after) filter (where job_status = 'queued') as job_after
    from keyed
    group by entrypoint, key
),
u as (
    select 'email' as kind, s.org_id, s.id::text as id, s.status, b.job_status,
           greatest(b.job_after, s.send_after) as waiting_until, s.updated_at as since,
           null::text as related
    from app.email_sends as s
    left join best as b on b.entrypoint = 'email.send' and b.key = s.id::text
    where s.status in ('queued', 'sending')
    union all
    select 'execution', e.org_id, e.id::text,
           e.status || coalesce(':' || e.waiting_for, ''), b.job_status,
           coalesce(case when e.waiting_for in ('timer', 'retry') then e.wake_at end,
                    b.job_after),
           e.updated_at,
           (select string_agg(a.action_type || ':' || a.status, ',')
            from app.workflow_actions as a
            where a.org_id = e.org_id and a.execution_id = e.id
              and a.status in ('pending', 'running'))
    from app.workflow_executions as e
    left join best as b on b.entrypoint = 'workflow.run' and b.key = e.id::text
    where e.status in ('pending', 'running', 'waiting')
    union all
    select 'action:' || a.action_type, a.org_id, a.id::text, a.status, b.job_status,
           coalesce(b.job_after, a.scheduled_at), coalesce(a.started_at, a.created_at),
           case when a.action_type = 'send_email' then
                    (select s.status from app.email_sends as s
                     where s.org_id = a.org_id and s.workflow_action_id = a.id
                     order by s.created_at desc limit 1)
                else (select e.status from app.workflow_executions as e
                      where e.org_id = a.org_id and e.id = a.execution_id) end
    from app.workflow_actions as a
    left join best as b on b.entrypoint = 'webhook.deliver' and b.key = a.id::text
    where a.status in ('pending', 'running')
    union all
    select 'delivery:' || d.channel, d.org_id, d.id::text, d.status, null,
           d.deliver_after, d.updated_at,
           (select s.status from app.email_sends as s
            where s.org_id = d.org_id and s.id = d.email_send_id)
    from app.notification_deliveries as d
    where d.status in ('pending', 'held', 'digest')
)
select kind, org_id, id, status, job_status, waiting_until,
       coalesce(waiting_until > now(), false) as future,
       extract(epoch from now() - coalesce(waiting_until, since)) as age, related
from u
"""
# Run on every node: the node's failed jobs; their domain rows are read by DOMAIN_STATUSES.
FAILED_JOBS: LiteralString = """
select q.id, q.entrypoint, q.attempts,
       coalesce(p ->> 'email_send_id', p ->> 'execution_id', p ->> 'action_id') as domain_id,
       (select l.traceback from queue.pgqueuer_log as l
        where l.job_id = q.id and l.status = 'failed' order by l.id desc limit 1) as traceback
from queue.pgqueuer as q,
     lateral (select case when q.entrypoint in ('email.send', 'workflow.run', 'webhook.deliver')
                          and q.payload is not null
                     then convert_from(q.payload, 'UTF8')::jsonb end as p) as x
where q.status = 'failed'
order by q.id
"""
DOMAIN_STATUSES: LiteralString = """
select 'email.send' as entrypoint, s.id::text as id, s.status from app.email_sends as s
where s.id = any(%(emails)s::uuid[])
union all
select 'workflow.run', e.id::text, e.status from app.workflow_executions as e
where e.id = any(%(executions)s::uuid[])
union all
select 'webhook.deliver', a.id::text, a.status from app.workflow_actions as a
where a.id = any(%(actions)s::uuid[])
"""
FAILED_LOG_ONLY: LiteralString = """
select count(*) from queue.pgqueuer_log as l
where l.status = 'failed' and not exists (select 1 from queue.pgqueuer as q where q.id = l.job_id)
"""
JOB_ERRORS: LiteralString = """
select entrypoint, status::text as status, traceback
from queue.pgqueuer_log
where status in ('failed', 'exception') and traceback is not null
order by id
limit 20000
"""
JOB_STATUS_COUNTS: LiteralString = """
select entrypoint, status::text, count(*) from queue.pgqueuer_log
group by 1, 2 order by 1, 2
"""
EMAIL_TOTALS: LiteralString = """
select o.slug, s.status, count(*) from app.email_sends as s
join app.organizations as o on o.id = s.org_id
where o.slug like 'soak-%%' group by 1, 2 order by 1, 2
"""
EXECUTION_TOTALS: LiteralString = """
select e.status, count(*) from app.workflow_executions as e
join app.organizations as o on o.id = e.org_id
where o.slug like 'soak-%%' group by 1 order by 1
"""
EMAILS_BY_ID: LiteralString = """
select id::text, message_id, status, attempts, provider from app.email_sends
where id = any(%(ids)s::uuid[]) or message_id = any(%(mids)s)
"""
# A user's in-app notifications (a few hundred in a run: the position is applied in Python,
# a watermark per seq range).
STREAMED: LiteralString = """
select id::text, seq from app.notifications
where user_id = %(user_id)s and channels ? 'in_app'
  and (expires_at is null or expires_at > now())
"""
STREAM_HEADS: LiteralString = """
select seq >> 48 as seq_range, max(seq) as head from app.notifications
where user_id = %(user_id)s and channels ? 'in_app'
group by 1
"""
EXECUTION_EVIDENCE: LiteralString = """
select e.id::text, e.status, e.waiting_for,
       to_char(e.wake_at, 'HH24:MI:SS.MS') as wake_at,
       round(extract(epoch from now() - e.wake_at)::numeric, 1) as overdue_s,
       e.wake_job_id, e.retry_count, e.runs,
       (select string_agg(x.message, ' | ')
        from (select g.message from app.workflow_execution_logs as g
              where g.org_id = e.org_id and g.execution_id = e.id
              order by g.occurred_at desc, g.seq desc limit 3) as x) as last_logs
from app.workflow_executions as e
where e.id = any(%(ids)s::uuid[])
"""
# Run on every node: what its queue log says of the jobs of these ids (one node's ids).
WAKE_JOBS: LiteralString = """
select l.job_id, string_agg(l.status::text || ' ' || to_char(l.created, 'HH24:MI:SS.MS'), ', '
                            order by l.id) as wake_job
from queue.pgqueuer_log as l
where l.job_id = any(%(job_ids)s::bigint[])
group by l.job_id
"""
ROW_EVIDENCE: LiteralString = """
select 'email' as kind, s.id::text, to_jsonb(s) - 'html_body' - 'text_body' - 'variables'
       - 'reply_token' - 'unsubscribe_token' - 'subject' as row
from app.email_sends as s where s.id = any(%(ids)s::uuid[])
union all
select 'action', a.id::text, to_jsonb(a) - 'action_config' - 'request' - 'result'
from app.workflow_actions as a where a.id = any(%(ids)s::uuid[])
union all
select 'delivery', d.id::text, to_jsonb(d)
from app.notification_deliveries as d where d.id = any(%(ids)s::uuid[])
"""

# -- faults ---------------------------------------------------------------------------

# Every email `sending` and webhook action `running` (database-wide), and every one an
# `email.send` / `webhook.deliver` job is picked for, with the queue_manager_id of each
# worker holding such a job (the worker's id, logged at its start).
IN_FLIGHT: LiteralString = """
with picked as (
    select q.entrypoint, q.queue_manager_id::text as holder,
           coalesce(x.p ->> 'email_send_id', x.p ->> 'action_id') as key
    from queue.pgqueuer as q,
         lateral (select case when q.payload is not null
                              then convert_from(q.payload, 'UTF8')::jsonb end as p) as x
    where q.status = 'picked' and q.entrypoint in ('email.send', 'webhook.deliver')
),
held as (
    select entrypoint, key,
           coalesce(array_agg(holder) filter (where holder is not null), '{}') as holders
    from picked
    group by entrypoint, key
)
select 'email' as kind, s.id::text as key, s.message_id, s.status,
       coalesce(h.holders, '{}') as holders
from app.email_sends as s
left join held as h on h.entrypoint = 'email.send' and h.key = s.id::text
where s.status = 'sending' or h.key is not null
union all
select 'webhook', a.id::text, null, a.status, coalesce(h.holders, '{}')
from app.workflow_actions as a
left join held as h on h.entrypoint = 'webhook.deliver' and h.key = a.id::text
where (a.action_type = 'webhook' and a.status = 'running') or h.key is not null
"""
TERMINATE_SERVICE: LiteralString = """
select count(*) filter (where pg_terminate_backend(pid)) as killed, count(*) as seen
from pg_stat_activity
where usename = 'intime_service' and application_name is distinct from %(harness)s
  and pid <> pg_backend_pid()
"""

# -- workload (as intime_service, inside api.set_actor) ------------------------------

SET_EMAIL_SETTINGS: LiteralString = (
    "select id from api.set_email_settings(p_from_email => %(from_email)s, "
    "p_reply_domain => %(reply_domain)s, p_from_name => %(from_name)s, "
    "p_provider => %(provider)s, p_rate_limit_per_minute => 600)"
)
INSERT_CAMPAIGN_CONTACTS: LiteralString = """
insert into app.contacts (first_name, last_name, email, owner_id, timezone)
select 'Camp', 'N' || g, 'camp' || g || '.soak@prospects.' || %(domain)s, %(owner_id)s, 'UTC'
from generate_series(1, %(n)s) as g
returning id
"""
UPDATE_DEAL: LiteralString = "update app.deals set value = value + 1 where id = %(id)s returning id"
SEND_NOTIFICATION: LiteralString = (
    "select api.send_notification(p_user_id => %(user_id)s, p_category => 'soak', "
    "p_title => %(title)s, p_message => %(message)s, p_channels => %(channels)s)"
)
