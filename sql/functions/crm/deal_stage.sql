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
    v_chunk record;
begin
    if starts_with(v_setting, v_stamp) then
        v_notes := nullif(substr(v_setting, length(v_stamp) + 1), '');
    end if;
    -- The moves, from the transition tables alone, 5,000 a chunk; then each chunk
    -- written from its arrays (a Citus worker cannot mix the two, docs/scale-out.md).
    for v_chunk in
        select
            array_agg(m.org_id) as org_ids, array_agg(m.id) as ids,
            array_agg(m.from_stage_id) as from_stage_ids, array_agg(m.to_stage_id) as to_stage_ids,
            array_agg(m.from_probability) as from_probabilities,
            array_agg(m.to_probability) as to_probabilities,
            array_agg(m.days_in_stage) as days, array_agg(m.changed_at) as changed_at
        from (
            select
                n.org_id, n.id, o.stage_id as from_stage_id, n.stage_id as to_stage_id,
                o.probability as from_probability, n.probability as to_probability,
                greatest(0, extract(day from n.stage_entered_at - o.stage_entered_at))::integer
                as days_in_stage,
                n.stage_entered_at as changed_at,
                (row_number() over () - 1) / 5000 as chunk
            from new_rows as n
            inner join old_rows as o on n.org_id = o.org_id and n.id = o.id
            where n.stage_id is distinct from o.stage_id
        ) as m
        group by m.chunk
    loop
        insert into app.deal_stages_history (
            org_id, deal_id, from_stage_id, to_stage_id, from_probability, to_probability,
            days_in_stage, notes, changed_by, changed_at
        )
        select
            x.org_id, x.id, x.from_stage_id, x.to_stage_id, x.from_probability,
            x.to_probability, x.days, v_notes, v_actor, x.changed_at
        from unnest(
            v_chunk.org_ids, v_chunk.ids, v_chunk.from_stage_ids, v_chunk.to_stage_ids,
            v_chunk.from_probabilities, v_chunk.to_probabilities, v_chunk.days,
            v_chunk.changed_at
        ) as x (
            org_id, id, from_stage_id, to_stage_id, from_probability, to_probability, days,
            changed_at
        );
    end loop;
    return null;
end
$function$;
