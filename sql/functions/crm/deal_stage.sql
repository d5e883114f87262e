-- The deal pipeline's bookkeeping lives in triggers, so a plain UPDATE of
-- app.deals is as complete as api.move_deal_stage, and cannot contradict it.

-- BEFORE INSERT OR UPDATE, per row:
--   * status always follows the stage (won, lost or open);
--   * entering a stage stamps stage_entered_at and takes the stage's
--     probability (on insert only when none is given); a won or lost stage
--     stamps closed_at, an open one clears it;
--   * without a stage change, status, closed_at and stage_entered_at keep
--     their values; probability may be overridden by hand (a forecast);
--   * a soft-deleted deal does not move.
-- Only a stage change costs a lookup.
create or replace function app._tg_deal_stage_sync()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_stage app.deal_stages%rowtype;
    v_now timestamptz := app.now();
begin
    if tg_op = 'UPDATE' and new.stage_id is not distinct from old.stage_id then
        new.status := old.status;
        new.closed_at := old.closed_at;
        new.stage_entered_at := old.stage_entered_at;
        return new;
    end if;
    if tg_op = 'UPDATE' and old.deleted_at is not null and new.deleted_at is not null then
        raise exception using
            errcode = 'IT005', message = format('deal %s is deleted; restore it first', old.id);
    end if;
    select s.* into v_stage
    from app.deal_stages as s
    where s.org_id = new.org_id and s.id = new.stage_id;
    if not found then
        return new;  -- the foreign key reports the bad stage
    end if;
    new.probability := case
        when tg_op = 'INSERT' then coalesce(new.probability, v_stage.probability)
        else v_stage.probability
    end;
    new.status := case when v_stage.is_won then 'won' when v_stage.is_lost then 'lost' else 'open' end;
    new.closed_at := case when v_stage.is_won or v_stage.is_lost then v_now end;
    new.stage_entered_at := v_now;
    return new;
end
$function$;

-- AFTER UPDATE, per statement: one deal_stages_history row per deal whose
-- stage changed, set-based. Notes come from api.move_deal_stage through the
-- transaction-local setting intime.deal_stage_notes, stamped with the
-- transaction like an actor, so a session-level SET is ignored.
create or replace function app._tg_deal_stage_history()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_setting text := coalesce(pg_catalog.current_setting('intime.deal_stage_notes', true), '');
    v_stamp text := app._transaction_stamp() || '|';
    v_notes text;
    v_actor uuid := app.current_user_id();
    v_org_ids uuid [];
    v_ids uuid [];
    v_from uuid [];
    v_to uuid [];
    v_from_probabilities integer [];
    v_to_probabilities integer [];
    v_days integer [];
    v_at timestamptz [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    if starts_with(v_setting, v_stamp) then
        v_notes := nullif(substr(v_setting, length(v_stamp) + 1), '');
    end if;
    -- The moves, from the transition tables alone; then history, from their
    -- arrays (a Citus worker cannot mix the two, docs/scale-out.md).
    select
        array_agg(n.org_id), array_agg(n.id), array_agg(o.stage_id), array_agg(n.stage_id),
        array_agg(o.probability), array_agg(n.probability),
        array_agg(greatest(0, extract(day from n.stage_entered_at - o.stage_entered_at))::integer),
        array_agg(n.stage_entered_at)
    into v_org_ids, v_ids, v_from, v_to, v_from_probabilities, v_to_probabilities, v_days, v_at
    from new_rows as n
    inner join old_rows as o on n.org_id = o.org_id and n.id = o.id
    where n.stage_id is distinct from o.stage_id;
    if v_ids is not null then
        insert into app.deal_stages_history (
            org_id, deal_id, from_stage_id, to_stage_id, from_probability, to_probability,
            days_in_stage, notes, changed_by, changed_at
        )
        select x.org_id, x.id, x.f, x.t, x.fp, x.tp, x.days, v_notes, v_actor, x.at
        from unnest(
            v_org_ids, v_ids, v_from, v_to, v_from_probabilities, v_to_probabilities, v_days, v_at
        ) as x (org_id, id, f, t, fp, tp, days, at);
    end if;
    return null;
end
$function$;
