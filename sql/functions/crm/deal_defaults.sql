-- BEFORE INSERT on deals: a new deal takes its probability (when not given)
-- and its won/lost status from its stage. NOT NULL is checked after BEFORE
-- triggers, so a missing probability is filled here.
create or replace function app._tg_deal_defaults()
returns trigger
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_stage app.deal_stages%rowtype;
begin
    select s.* into v_stage
    from app.deal_stages as s
    where s.org_id = new.org_id and s.id = new.stage_id;
    if found then
        new.probability := coalesce(new.probability, v_stage.probability);
        if v_stage.is_won or v_stage.is_lost then
            new.status := case when v_stage.is_won then 'won' else 'lost' end;
            new.closed_at := coalesce(new.closed_at, app.now());
        end if;
    end if;
    return new;
end
$function$;
