-- Enrolling contacts (set-based) and unenrolling them.

create or replace function api.enroll_contacts(p_campaign_id uuid, p_contact_ids uuid[])
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_c app.campaigns%rowtype;
    v_now timestamptz := app.now();
    v_first app.campaign_sequences%rowtype;
    v_needs_email boolean;
    v_ab_variants jsonb;
    v_result jsonb;
    v_repeats integer;
    v_user_id uuid := app.current_user_id();
    v_contacts uuid[];
    v_zones text[];
    v_reasons text[];
    v_zone_names text[];
    v_first_ats timestamptz[];
    v_ids uuid[];
    v_inserted integer;
begin
    -- Any member may enroll into a campaign of the org; the lock orders
    -- concurrent enrollments (a contact is enrolled once).
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if v_c.status not in ('draft', 'active', 'paused') then
        raise exception using
            errcode = 'IT013',
            message = format('campaign is %s: no new enrollments', v_c.status);
    end if;
    if cardinality(p_contact_ids) > 100000 then
        raise exception using
            errcode = 'IT005', message = 'enroll at most 100,000 contacts per call';
    end if;
    select s.* into v_first
    from app.campaign_sequences as s
    where s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
    order by s.step_number
    limit 1;
    v_needs_email := exists (
        select 1 from app.campaign_sequences as s
        where
            s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
            and s.channel = 'email'
    );
    select s.ab_variants into v_ab_variants
    from app.campaign_sequences as s
    where
        s.org_id = v_org_id and s.campaign_id = v_c.id and s.is_active
        and s.ab_variants is not null
    order by s.step_number
    limit 1;

    -- A contact listed twice is enrolled once; the repeats count as already enrolled.
    select count(i.contact_id) - count(distinct i.contact_id) into v_repeats
    from unnest(coalesce(p_contact_ids, '{}')) as i (contact_id);

    -- Each contact's fate, then each zone's first send time, then the insert:
    -- statements of their own. On Citus a statement that reads the org's shards
    -- may not call a function with an exception block (a subtransaction), and
    -- the time zone checks have one (docs/scale-out.md).
    select array_agg(c.contact_id), array_agg(c.timezone), array_agg(c.reason)
    into v_contacts, v_zones, v_reasons
    from (
        select
            i.contact_id,
            k.timezone,
            case
                when k.id is null or k.deleted_at is not null then 'not_found'
                -- EXISTS, not a join: a join was planned as a nested loop over
                -- the campaign's enrollments (quadratic as a campaign fills).
                when exists (
                    select 1
                    from app.campaign_enrollments as e
                    where
                        e.org_id = v_org_id and e.campaign_id = v_c.id
                        and e.contact_id = i.contact_id
                ) then 'already_enrolled'
                when k.status = 'do_not_contact' then 'do_not_contact'
                when v_needs_email and nullif(btrim(k.email), '') is null then 'no_email'
                when v_needs_email and exists (
                    select 1 from app.suppressions as s
                    where
                        s.org_id = v_org_id and s.email = lower(k.email)
                        and s.reason = 'unsubscribe'
                ) then 'unsubscribed'
                when v_needs_email and exists (
                    select 1 from app.suppressions as s
                    where s.org_id = v_org_id and s.email = lower(k.email)
                ) then 'suppressed'
                else 'enrolled'
            end as reason
        from (
            select distinct i.contact_id
            from unnest(coalesce(p_contact_ids, '{}')) as i (contact_id)
            where i.contact_id is not null
        ) as i
        left join app.contacts as k on k.org_id = v_org_id and k.id = i.contact_id
    ) as c;

    -- Each enrolled contact's zone, and one window computation per distinct zone.
    v_zones := array(
        select app._campaign_timezone(
            p_contact_timezone => c.timezone,
            p_campaign_timezone => v_c.timezone,
            p_use_contact => v_c.use_contact_timezone
        )
        from unnest(v_zones) with ordinality as c (timezone, i)
        order by c.i
    );
    select array_agg(z.zone), array_agg(
        app._campaign_next_send_time(
            -- Calendar days in the zone, then elapsed hours and minutes.
            p_ts => ((v_now at time zone z.zone) + make_interval(
                days => coalesce(v_first.delay_days, 0)
            )) at time zone z.zone + make_interval(
                hours => coalesce(v_first.delay_hours, 0),
                mins => coalesce(v_first.delay_minutes, 0)
            ),
            p_timezone => z.zone,
            p_window_start => v_c.send_window_start,
            p_window_end => v_c.send_window_end,
            p_send_days => v_c.send_days
        )
    )
    into v_zone_names, v_first_ats
    from (
        select distinct c.zone
        from unnest(v_zones, v_reasons) as c (zone, reason)
        where c.reason = 'enrolled'
    ) as z;

    select array_agg(gen_random_uuid()) into v_ids
    from unnest(v_reasons) as c (reason);
    insert into app.campaign_enrollments (
        org_id, id, campaign_id, contact_id, status, stop_reason, next_step_at, ab_variant,
        enrolled_by, enrolled_at
    )
    select
        v_org_id, c.id, v_c.id, c.contact_id,
        case when v_c.status = 'active' then 'active' else 'paused' end,
        case when v_c.status = 'active' then null else 'campaign_paused' end,
        z.first_at,
        app._campaign_ab_pick_variant(c.id, v_ab_variants),
        v_user_id, v_now
    from unnest(v_contacts, v_ids, v_zones, v_reasons) as c (contact_id, id, zone, reason)
    inner join unnest(v_zone_names, v_first_ats) as z (zone, first_at) on z.zone = c.zone
    where c.reason = 'enrolled'
    on conflict (org_id, campaign_id, contact_id) do nothing;
    get diagnostics v_inserted = row_count;

    select jsonb_build_object(
        'enrolled', v_inserted,
        'already_enrolled',
        count(*) filter (where c.reason = 'already_enrolled')
        + count(*) filter (where c.reason = 'enrolled') - v_inserted + v_repeats,
        'not_found', count(*) filter (where c.reason = 'not_found'),
        'do_not_contact', count(*) filter (where c.reason = 'do_not_contact'),
        'no_email', count(*) filter (where c.reason = 'no_email'),
        'unsubscribed', count(*) filter (where c.reason = 'unsubscribed'),
        'suppressed', count(*) filter (where c.reason = 'suppressed')
    ) into v_result
    from unnest(v_reasons) as c (reason);
    return v_result;
end
$function$;

comment on function api.enroll_contacts(uuid, uuid[]) is
$$Enroll contacts of the caller's org into a campaign (draft, active or paused; IT013 once
completed), set-based, in one transaction. Each contact gets one outcome, counted in the
returned object: enrolled, already_enrolled (a contact is enrolled in a campaign once; an
id repeated in p_contact_ids counts here),
not_found (unknown, deleted or another org's), do_not_contact (contact status), no_email and
unsubscribed / suppressed (only when the sequence has an email step). The first step is due
after its delay, at the next send window (campaign or contact zone); an A/B arm is assigned
deterministically from the enrollment id and kept for the whole sequence. Enrollments into a
draft or paused campaign wait (status paused, stop_reason campaign_paused) until it runs.$$;

create or replace function api.stop_enrollment(p_enrollment_id uuid, p_reason text default null)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_e app.campaign_enrollments%rowtype;
begin
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = v_org_id and e.id = p_enrollment_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('enrollment %s not found', p_enrollment_id);
    end if;
    if v_e.status not in ('active', 'paused') then
        return false;
    end if;
    update app.campaign_enrollments as e
    set
        status = 'stopped',
        stop_reason = coalesce(nullif(btrim(p_reason), ''), 'unenrolled'),
        next_step_at = null,
        updated_at = app.now()
    where e.org_id = v_org_id and e.id = p_enrollment_id;
    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail
    )
    values (
        v_org_id, v_e.campaign_id, v_e.id, v_e.current_step, 'none', 'stopped',
        'unenrolled: ' || coalesce(nullif(btrim(p_reason), ''), 'no reason given')
    );
    return true;
end
$function$;

comment on function api.stop_enrollment(uuid, text) is
$$Stop one enrollment of the caller's org (status stopped, stop_reason p_reason or
'unenrolled', one log line). Returns false when it had already ended (idempotent); IT004
when unknown.$$;
