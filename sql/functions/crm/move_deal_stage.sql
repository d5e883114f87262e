create or replace function api.move_deal_stage(
    p_deal_id uuid,
    p_stage_id uuid,
    p_notes text default null
)
returns app.deals
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_deal app.deals%rowtype;
begin
    select d.* into v_deal
    from app.deals as d
    where d.org_id = v_org_id and d.id = p_deal_id and d.deleted_at is null
    for update;
    if not found then
        raise exception using errcode = 'IT004', message = format('deal %s not found', p_deal_id);
    end if;
    if not exists (
        select 1 from app.deal_stages as s where s.org_id = v_org_id and s.id = p_stage_id
    ) then
        raise exception using
            errcode = 'IT004', message = format('deal stage %s not found', p_stage_id);
    end if;
    if v_deal.stage_id = p_stage_id then
        return v_deal;  -- already there: a retry changes nothing
    end if;

    -- The deal triggers sync probability and status and write the history row.
    perform pg_catalog.set_config(
        'intime.deal_stage_notes', app._transaction_stamp() || '|' || coalesce(p_notes, ''), true
    );
    update app.deals as d
    set stage_id = p_stage_id
    where d.org_id = v_org_id and d.id = p_deal_id
    returning d.* into v_deal;
    perform pg_catalog.set_config('intime.deal_stage_notes', '', true);
    return v_deal;
end
$function$;

comment on function api.move_deal_stage(uuid, uuid, text) is
$$Moves a deal of the caller's org to another stage of its pipeline. The deal's triggers set its
probability from the stage and its status to won, lost or open, and write deal_stages_history
(probabilities, days in the previous stage, p_notes, who, when); a plain UPDATE of stage_id
does the same, without notes. Moving to the current stage is a no-op, so a retry is safe.
Returns the updated deal. IT004 for an unknown deal or stage.$$;
