create or replace function api.move_deal_stage(
    p_deal_id uuid,
    p_stage_id uuid,
    p_notes text default null
)
returns app.deals
language plpgsql
security definer
set search_path = ''
as $function$
declare
    v_org_id uuid := app._require_org();
    v_deal app.deals%rowtype;
    v_stage app.deal_stages%rowtype;
    v_now timestamptz := app.now();
begin
    select d.* into v_deal
    from app.deals as d
    where d.org_id = v_org_id and d.id = p_deal_id and d.deleted_at is null
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('deal %s not found', p_deal_id);
    end if;

    select s.* into v_stage
    from app.deal_stages as s
    where s.org_id = v_org_id and s.id = p_stage_id;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('deal stage %s not found', p_stage_id);
    end if;

    if v_deal.stage_id = p_stage_id then
        return v_deal;  -- already there: a retry changes nothing
    end if;

    insert into app.deal_stages_history (
        org_id, deal_id, from_stage_id, to_stage_id, from_probability, to_probability,
        days_in_stage, notes, changed_by, changed_at
    )
    values (
        v_org_id, v_deal.id, v_deal.stage_id, v_stage.id, v_deal.probability,
        v_stage.probability,
        greatest(0, extract(day from v_now - v_deal.stage_entered_at))::integer,
        p_notes, app.current_user_id(), v_now
    );

    update app.deals as d
    set
        stage_id = v_stage.id,
        probability = v_stage.probability,
        status = case when v_stage.is_won then 'won' when v_stage.is_lost then 'lost' else 'open' end,
        closed_at = case when v_stage.is_won or v_stage.is_lost then v_now end,
        stage_entered_at = v_now
    where d.org_id = v_org_id and d.id = v_deal.id
    returning d.* into v_deal;

    return v_deal;
end
$function$;

comment on function api.move_deal_stage(uuid, uuid, text) is
$$Moves a deal of the caller's org to another stage of its pipeline: writes
deal_stages_history (probabilities, days in the previous stage, notes, who, when), then sets
the deal's probability from the stage and its status to won, lost or open. Moving to the
current stage is a no-op, so a retry is safe. Returns the updated deal. IT004 for an unknown
deal or stage.$$;
