-- The deal pipeline's bookkeeping lives in triggers, so a plain
-- UPDATE app.deals SET stage_id = ... is as complete as api.move_deal_stage.

-- BEFORE INSERT OR UPDATE OF stage_id, per row: a deal takes its probability
-- (on insert only when not given) and its status from its stage; entering a
-- stage stamps stage_entered_at, and a won or lost stage closes the deal.
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
        return new;
    end if;
    select s.* into v_stage
    from app.deal_stages as s
    where s.org_id = new.org_id and s.id = new.stage_id;
    if not found then
        return new;  -- the foreign key reports the bad stage
    end if;
    if tg_op = 'INSERT' then
        new.probability := coalesce(new.probability, v_stage.probability);
    else
        new.probability := v_stage.probability;
        new.stage_entered_at := v_now;
    end if;
    new.status := case when v_stage.is_won then 'won' when v_stage.is_lost then 'lost' else 'open' end;
    new.closed_at := case
        when v_stage.is_won or v_stage.is_lost then coalesce(new.closed_at, v_now)
    end;
    return new;
end
$function$;

-- AFTER UPDATE, per statement: one deal_stages_history row per deal whose
-- stage changed, set-based. Notes come from api.move_deal_stage through the
-- transaction-local setting intime.deal_stage_notes.
create or replace function app._tg_deal_stage_history()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    insert into app.deal_stages_history (
        org_id, deal_id, from_stage_id, to_stage_id, from_probability, to_probability,
        days_in_stage, notes, changed_by, changed_at
    )
    select
        n.org_id, n.id, o.stage_id, n.stage_id, o.probability, n.probability,
        greatest(0, extract(day from n.stage_entered_at - o.stage_entered_at))::integer,
        nullif(pg_catalog.current_setting('intime.deal_stage_notes', true), ''),
        app.current_user_id(),
        n.stage_entered_at
    from new_rows as n
    inner join old_rows as o on n.org_id = o.org_id and n.id = o.id
    where n.stage_id is distinct from o.stage_id;
    return null;
end
$function$;
