-- Approval links (0022, docs/console.md "Sessions and approval links"): every approval row
-- that is notified gets a link, /approvals/apl_<64 hex>, bound to the row (one approver's
-- place in one slot). GET shows the request and changes nothing (mail scanners follow
-- links); POST decides once, as the approver, through api.approve_approval,
-- reject_approval or delegate_approval. A link lives 7 days; it is used once; it is
-- superseded when its row is no longer pending (decided in the slot by someone else,
-- delegated, recalled, cancelled). Only the token's SHA-256 is stored.

-- A new link for approval row p_approval_id of approver p_approver_id: its clear token.
create or replace function app._wf_mint_approval_link(
    p_org_id uuid, p_approval_id uuid, p_approver_id uuid
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    -- 244 random bits from two v4 UUIDs (pg_strong_random underneath), as api tokens.
    v_token text := 'apl_' || replace(gen_random_uuid()::text, '-', '')
        || replace(gen_random_uuid()::text, '-', '');
begin
    insert into app.approval_links (org_id, approval_id, approver_id, token_hash, expires_at)
    values (
        p_org_id, p_approval_id, p_approver_id, app._secret_hash(v_token),
        app.now() + interval '7 days'
    );
    -- Links expired a month ago only ever answer "expired": they go as new ones are made.
    delete from app.approval_links as l where l.expires_at < app.now() - interval '30 days';
    return v_token;
end
$function$;

-- What an approver sees of approval row p_approval_id (no permission check: the callers
-- check). Null when there is no such row in the org.
create or replace function app._wf_approval_view(p_org_id uuid, p_approval_id uuid)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_a app.workflow_approvals%rowtype;
    v_e app.workflow_executions%rowtype;
    v_type app.entity_types%rowtype;
    v_doc jsonb;
    v_change jsonb;
    v_subjects uuid [];
    v_xact xid8;
begin
    select a.* into v_a from app.workflow_approvals as a
    where a.org_id = p_org_id and a.id = p_approval_id;
    if not found then
        return null;
    end if;
    select e.* into v_e from app.workflow_executions as e
    where e.org_id = p_org_id and e.id = v_a.execution_id;
    select t.* into v_type from app.entity_types as t where t.entity_type = v_e.entity_type;
    v_doc := app._wf_entity_doc(p_org_id, v_e.entity_type, v_e.entity_id);

    -- The change asked about: a transition's move, or the fields of the update that
    -- started the execution (the last transaction that changed the entity by then),
    -- else what the trigger carried.
    if v_e.trigger_event ->> 'event' = 'transition' then
        v_change := jsonb_build_array(jsonb_build_object(
            'field', coalesce(v_type.status_field, 'state'),
            'from', v_e.trigger_event -> 'from', 'to', v_e.trigger_event -> 'to'
        ));
    elsif v_e.trigger_event ->> 'event' = 'update' then
        select h.xact_id into v_xact from app.entity_history as h
        where
            h.org_id = p_org_id and h.entity_type = v_e.entity_type
            and h.entity_id = v_e.entity_id and h.change_type = 'updated'
            and h.changed_at <= v_e.created_at + interval '1 second'
        order by h.changed_at desc, h.id desc
        limit 1;
        select jsonb_agg(
            jsonb_build_object('field', h.field_name, 'from', h.old_value, 'to', h.new_value)
            order by h.id
        ) into v_change
        from app.entity_history as h
        where
            h.org_id = p_org_id and h.entity_type = v_e.entity_type
            and h.entity_id = v_e.entity_id and h.change_type = 'updated' and h.xact_id = v_xact;
    end if;
    v_change := coalesce(v_change, v_e.trigger_event, '{}'::jsonb);

    v_subjects := app._wf_approval_subjects(v_e);
    return jsonb_build_object(
        'id', v_a.id,
        'execution_id', v_a.execution_id,
        'status', v_a.status,
        'title', coalesce(
            (
                select s.result ->> 'title' from app.workflow_steps as s
                where s.org_id = p_org_id and s.id = v_a.step_id
            ),
            (
                select w.name from app.workflows as w
                where w.org_id = p_org_id and w.id = v_e.workflow_id
            )
        ),
        'entity', jsonb_build_object(
            'type', v_e.entity_type, 'id', v_e.entity_id,
            'label', coalesce(v_doc ->> v_type.name_field, v_type.label)
        ),
        'change', v_change,
        'requested_by', jsonb_build_object(
            'id', v_e.triggered_by,
            'name', coalesce(
                (
                    select u.full_name from app.user_profiles as u
                    where u.org_id = p_org_id and u.id = v_e.triggered_by
                ),
                (
                    select 'Workflow ' || w.name from app.workflows as w
                    where w.org_id = p_org_id and w.id = v_e.workflow_id
                )
            )
        ),
        'requested_at', v_a.requested_at,
        'due_at', v_a.due_at,
        -- Names by a join, not app._wf_user_name: on Citus a function inside a
        -- statement sent to a shard may not read a distributed table.
        'history', coalesce((
            select jsonb_agg(
                jsonb_build_object(
                    'approver', coalesce(ua.full_name, h.approver_id::text),
                    'status', h.status,
                    'at', coalesce(
                        h.responded_at, h.delegated_at,
                        case when h.status in ('cancelled', 'expired') then h.updated_at end,
                        h.requested_at
                    ),
                    'notes', coalesce(h.response_notes, h.delegation_reason),
                    'delegated_to', case
                        when h.delegated_to is not null
                            then coalesce(ud.full_name, h.delegated_to::text)
                    end
                )
                order by h.created_at, h.slot, h.id
            )
            from app.workflow_approvals as h
            left join app.user_profiles as ua on ua.org_id = h.org_id and ua.id = h.approver_id
            left join app.user_profiles as ud on ud.org_id = h.org_id and ud.id = h.delegated_to
            where
                h.org_id = p_org_id and h.execution_id = v_a.execution_id
                and h.step_id is not distinct from v_a.step_id
        ), '[]'::jsonb),
        -- Whom the approver may hand it to (api.delegate_approval's rule), while it is open.
        'delegates', case when v_a.status = 'pending' then coalesce((
            select jsonb_agg(jsonb_build_object('id', d.id, 'name', d.full_name) order by d.n)
            from (
                select u.id, u.full_name, row_number() over (order by u.full_name, u.id) as n
                from app.user_profiles as u
                where
                    u.org_id = p_org_id and u.is_active and u.id <> v_a.approver_id
                    and u.id <> all(v_subjects)
                order by u.full_name, u.id
                limit 200
            ) as d
        ), '[]'::jsonb) else '[]'::jsonb end
    );
end
$function$;

create or replace function api.get_approval(p_approval_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_user_id uuid := app.current_user_id();
    -- Apart from the probe below (which Citus sends to a shard, where a helper that
    -- reads a table is refused).
    v_admin boolean := app._is_org_admin();
    v_view jsonb;
begin
    -- The approver of any row of its slot, an admin (or the service role acting for no
    -- user); for anyone else the approval does not exist.
    if not (
        v_admin
        or exists (
            select 1
            from app.workflow_approvals as a
            inner join app.workflow_approvals as mine
                on
                    mine.org_id = a.org_id and mine.execution_id = a.execution_id
                    and mine.step_id is not distinct from a.step_id and mine.slot = a.slot
            where a.org_id = v_org_id and a.id = p_approval_id and mine.approver_id = v_user_id
        )
    ) then
        raise exception using
            errcode = 'IT004', message = format('approval %s not found', p_approval_id);
    end if;
    v_view := app._wf_approval_view(v_org_id, p_approval_id);
    if v_view is null then
        raise exception using
            errcode = 'IT004', message = format('approval %s not found', p_approval_id);
    end if;
    return v_view;
end
$function$;

comment on function api.get_approval(uuid) is
$$What an approver sees of an approval row, as one JSON object: id, execution_id, status, title,
entity (type, id, label), change (the fields of the update that started the workflow as
[{field, from, to}], a transition's move, or else the trigger's data), requested_by (id, name),
requested_at, due_at, history (every row of the step: approver, status, at, notes,
delegated_to) and delegates (the users the approver may delegate to while it is pending, at
most 200). For the approver of any row of its slot, an org admin or the service role; IT004
for anyone else, as for an unknown id.$$;

-- The link with token p_token, with its state and the approval's view; IT007 when the
-- token is unknown or its approver is no longer active.
create or replace function app._wf_approval_link_view(p_link app.approval_links)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_view jsonb := app._wf_approval_view(p_link.org_id, p_link.approval_id);
begin
    return jsonb_build_object(
        'state', case
            when p_link.used_at is not null then 'used'
            when v_view ->> 'status' <> 'pending' then 'superseded'
            when p_link.expires_at <= app.now() then 'expired'
            else 'pending'
        end,
        'approval', v_view,
        'approver', (
            select jsonb_build_object('id', u.id, 'name', u.full_name, 'email', u.email)
            from app.user_profiles as u
            where u.org_id = p_link.org_id and u.id = p_link.approver_id
        ),
        'expires_at', p_link.expires_at,
        'used_decision', p_link.used_decision,
        'used_at', p_link.used_at
    );
end
$function$;

create or replace function app._wf_approval_link(p_token text, p_lock boolean)
returns app.approval_links
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_link app.approval_links%rowtype;
begin
    -- Lookup by hash: a timing difference can only reveal bits of a SHA-256 digest.
    -- Found first, then locked by its key: the hash names no org, and on Citus a
    -- locking read must keep to one (docs/scale-out.md, "SQL shapes").
    select l.* into v_link from app.approval_links as l
    where l.token_hash = app._secret_hash(p_token);
    if found and p_lock then
        select l.* into v_link from app.approval_links as l
        where l.org_id = v_link.org_id and l.id = v_link.id
        for update;
    end if;
    if v_link.id is null or not exists (
        select 1 from app.user_profiles as u
        where u.org_id = v_link.org_id and u.id = v_link.approver_id and u.is_active
    ) then
        raise exception using errcode = 'IT007', message = 'unknown approval link';
    end if;
    return v_link;
end
$function$;

create or replace function api.get_approval_link(p_token text)
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    perform app._require_service();
    return app._wf_approval_link_view(app._wf_approval_link(p_token, false));
end
$function$;

comment on function api.get_approval_link(text) is
$$Service role only; changes nothing (mail scanners follow links). What the approval link
p_token shows: state (pending, used, expired or superseded: its approval row is no longer
pending), approval (api.get_approval's object), approver (id, name, email), expires_at,
used_decision and used_at. IT007 when the token is unknown or its approver was deactivated.$$;

create or replace function api.decide_approval_link(
    p_token text,
    p_decision text,
    p_comment text default null,
    p_delegate_to uuid default null
)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_link app.approval_links%rowtype;
    v_execution_id uuid;
    v_used text;
    v_status text;
    v_stamp text := pg_catalog.current_setting('intime.actor_stamp', true);
    v_org text := pg_catalog.current_setting('intime.org_id', true);
    v_user text := pg_catalog.current_setting('intime.user_id', true);
begin
    perform app._require_service();
    if p_decision is null or p_decision not in ('approve', 'reject', 'delegate') then
        raise exception using
            errcode = 'IT005',
            message = format('unknown decision %L', p_decision),
            hint = 'One of approve, reject, delegate.';
    end if;
    if p_decision <> 'delegate' and p_delegate_to is not null then
        raise exception using
            errcode = 'IT005', message = 'p_delegate_to goes with the decision delegate only';
    end if;
    -- The link first (a second use waits here, then finds it used), then the execution
    -- and its approvals in the order every approval path takes them.
    v_link := app._wf_approval_link(p_token, true);
    select a.execution_id into v_execution_id from app.workflow_approvals as a
    where a.org_id = v_link.org_id and a.id = v_link.approval_id;
    perform from app.workflow_executions as e
    where e.org_id = v_link.org_id and e.id = v_execution_id
    for no key update;
    select a.status into v_status from app.workflow_approvals as a
    where a.org_id = v_link.org_id and a.id = v_link.approval_id;
    if v_link.used_at is not null then
        raise exception using
            errcode = 'IT013',
            message = format(
                'this approval link was already used (%s at %s)', v_link.used_decision,
                v_link.used_at
            );
    end if;
    if v_status <> 'pending' then
        raise exception using
            errcode = 'IT013',
            message = format('this approval link is superseded: the approval is %s', v_status);
    end if;
    if v_link.expires_at <= app.now() then
        raise exception using
            errcode = 'IT013',
            message = format('this approval link expired at %s', v_link.expires_at);
    end if;

    -- Act as the approver, through the same functions (and checks) as the app.
    perform api.set_actor(p_org_id => v_link.org_id, p_user_id => v_link.approver_id);
    case p_decision
        when 'approve' then
            perform api.approve_approval(p_approval_id => v_link.approval_id, p_notes => p_comment);
        when 'reject' then
            perform api.reject_approval(p_approval_id => v_link.approval_id, p_notes => p_comment);
        else
            perform api.delegate_approval(
                p_approval_id => v_link.approval_id, p_to_user => p_delegate_to,
                p_reason => p_comment
            );
    end case;
    -- Computed here, not as CASE p_decision WHEN ... in the UPDATE, which Citus sends
    -- to a shard as one that fails there ("operator does not exist: text = boolean").
    v_used := case p_decision
        when 'approve' then 'approved'
        when 'reject' then 'rejected'
        else 'delegated'
    end;
    update app.approval_links as l
    set
        used_at = app.now(),
        used_decision = v_used
    where l.org_id = v_link.org_id and l.id = v_link.id
    returning l.* into v_link;
    -- The caller's own actor (if any) again.
    perform pg_catalog.set_config('intime.actor_stamp', coalesce(v_stamp, ''), true);
    perform pg_catalog.set_config('intime.org_id', coalesce(v_org, ''), true);
    perform pg_catalog.set_config('intime.user_id', coalesce(v_user, ''), true);
    return app._wf_approval_link_view(v_link);
end
$function$;

comment on function api.decide_approval_link(text, text, text, uuid) is
$$Service role only. Decides through the approval link p_token, once: p_decision approve,
reject or delegate (to p_delegate_to; IT005 otherwise), with p_comment as the notes (the
reason, for a delegation). It acts as the link's approver through api.approve_approval,
reject_approval or delegate_approval, so their checks apply (IT005 for a delegate who may
not have it). IT007 when the token is unknown or its approver was deactivated; IT013 when the
link was used, expired, or is superseded (its approval row is no longer pending), the
message says which. Returns what api.get_approval_link returns, after the decision.$$;
