-- A/B tests of campaign steps: the deterministic arm of an enrollment, the
-- statistics (standard normal CDF, pooled two-proportion z-test), the
-- evaluation of a step (Bonferroni-corrected over the comparisons of the
-- best arm with every other), a manual choice, and the scheduled job.

-- The arm of an enrollment: a weighted choice that depends only on the
-- enrollment id, so the same enrollment always gets the same arm. u is the
-- first 32 bits of md5(id) over 2^32 (uniform in [0, 1)); the variants are
-- walked in array order and the first whose cumulative share of the total
-- weight exceeds u wins. A missing weight counts 1; a variant without an id,
-- or whose weight is not a positive number, is never chosen. Null when no
-- variant can be (null, empty or all-zero variants). Called per row by the
-- tick, so one statement over builtins.
create or replace function app._campaign_ab_pick_variant(p_enrollment_id uuid, p_variants jsonb)
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    select w.id
    from (
        select
            v.id,
            v.i,
            v.weight,
            sum(v.weight) over (order by v.i) as cumulative,
            sum(v.weight) over () as total
        from (
            select
                e.value ->> 'id' as id,
                e.i,
                case
                    when e.value ->> 'id' is null then 0
                    when coalesce(e.value -> 'weight', 'null'::jsonb) = 'null'::jsonb then 1
                    when jsonb_typeof(e.value -> 'weight') = 'number'
                        then greatest((e.value ->> 'weight')::numeric, 0)
                    else 0
                end as weight
            from jsonb_array_elements(
                case when jsonb_typeof(p_variants) = 'array' then p_variants end
            ) with ordinality as e (value, i)
        ) as v
    ) as w
    where
        w.weight > 0
        and w.cumulative / w.total
        > ('x' || left(md5(p_enrollment_id::text), 8))::bit(32)::bigint / 4294967296.0
    order by w.i
    limit 1
$function$;

-- The arm ids of a step's ab_variants, in array order; IT005 when the
-- definition is not usable: not a non-empty array, an element that is not
-- an object, an id that is missing, empty or repeated, a weight that is not
-- a positive number.
create or replace function app._campaign_ab_arm_ids(p_variants jsonb)
returns text[]
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_element jsonb;
    v_position bigint;
    v_id text;
    v_ids text [] := '{}'::text [];
begin
    if p_variants is null or jsonb_typeof(p_variants) <> 'array'
        or jsonb_array_length(p_variants) = 0 then
        raise exception using
            errcode = 'IT005', message = 'ab_variants must be a non-empty JSON array';
    end if;
    for v_element, v_position in
        select e.value, e.i - 1 from jsonb_array_elements(p_variants) with ordinality as e (value, i)
    loop
        if jsonb_typeof(v_element) <> 'object' then
            raise exception using
                errcode = 'IT005', message = format('ab_variants[%s] is not an object', v_position);
        end if;
        if jsonb_typeof(v_element -> 'id') is distinct from 'string'
            or length(btrim(v_element ->> 'id')) = 0 then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].id must be a non-empty string', v_position);
        end if;
        v_id := v_element ->> 'id';
        if v_id = any(v_ids) then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].id %s is repeated', v_position, v_id);
        end if;
        if coalesce(v_element -> 'weight', 'null'::jsonb) <> 'null'::jsonb
            and (
                jsonb_typeof(v_element -> 'weight') <> 'number'
                or (v_element ->> 'weight')::numeric <= 0
            ) then
            raise exception using
                errcode = 'IT005',
                message = format('ab_variants[%s].weight must be a positive number', v_position);
        end if;
        v_ids := v_ids || v_id;
    end loop;
    return v_ids;
end
$function$;

-- The standard normal CDF, P(Z <= x). W. J. Cody's rational Chebyshev
-- approximations ("Rational Chebyshev approximation for the error
-- function", Math. Comp. 1969; as in R's pnorm): |x| <= 0.674, up to
-- sqrt(32), and an asymptotic form beyond, with the exponential split in
-- two exact factors. Relative accuracy near machine precision in both
-- tails (no 1 - x cancellation on the small side); 0 below -37.5193 and 1
-- above 8.2924, where a double cannot tell the difference.
create or replace function app._campaign_normal_cdf(p_x double precision)
returns double precision
language plpgsql
immutable
strict
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_y double precision := abs(p_x);
    v_xsq double precision;
    v_xnum double precision;
    v_xden double precision;
    v_temp double precision;
    v_del double precision;
    v_small double precision;
begin
    if p_x = 'NaN'::double precision then
        return p_x;
    end if;
    if v_y <= 0.67448975 then
        v_xsq := p_x * p_x;
        v_xnum := 0.065682337918207449113 * v_xsq;
        v_xden := v_xsq;
        v_xnum := (v_xnum + 2.2352520354606839287) * v_xsq;
        v_xden := (v_xden + 47.20258190468824187) * v_xsq;
        v_xnum := (v_xnum + 161.02823106855587881) * v_xsq;
        v_xden := (v_xden + 976.09855173777669322) * v_xsq;
        v_xnum := (v_xnum + 1067.6894854603709582) * v_xsq;
        v_xden := (v_xden + 10260.932208618978205) * v_xsq;
        return 0.5 + p_x * (v_xnum + 18154.981253343561249)
            / (v_xden + 45507.789335026729956);
    end if;
    if p_x <= -37.5193 then
        return 0.0::double precision;
    end if;
    if p_x >= 8.2924 then
        return 1.0::double precision;
    end if;
    if v_y <= 5.656854249492380195206754896838 then
        v_xnum := 1.0765576773720192317e-8 * v_y;
        v_xden := v_y;
        v_xnum := (v_xnum + 0.39894151208813466764) * v_y;
        v_xden := (v_xden + 22.266688044328115691) * v_y;
        v_xnum := (v_xnum + 8.8831497943883759412) * v_y;
        v_xden := (v_xden + 235.38790178262499861) * v_y;
        v_xnum := (v_xnum + 93.506656132177855979) * v_y;
        v_xden := (v_xden + 1519.377599407554805) * v_y;
        v_xnum := (v_xnum + 597.27027639480026226) * v_y;
        v_xden := (v_xden + 6485.558298266760755) * v_y;
        v_xnum := (v_xnum + 2494.5375852903726711) * v_y;
        v_xden := (v_xden + 18615.571640885098091) * v_y;
        v_xnum := (v_xnum + 6848.1904505362823326) * v_y;
        v_xden := (v_xden + 34900.952721145977266) * v_y;
        v_xnum := (v_xnum + 11602.651437647350124) * v_y;
        v_xden := (v_xden + 38912.003286093271411) * v_y;
        v_temp := (v_xnum + 9842.7148383839780218) / (v_xden + 19685.429676859990727);
    else
        v_xsq := 1.0 / (p_x * p_x);
        v_xnum := 0.02307344176494017303 * v_xsq;
        v_xden := v_xsq;
        v_xnum := (v_xnum + 0.21589853405795699) * v_xsq;
        v_xden := (v_xden + 1.28426009614491121) * v_xsq;
        v_xnum := (v_xnum + 0.1274011611602473639) * v_xsq;
        v_xden := (v_xden + 0.468238212480865118) * v_xsq;
        v_xnum := (v_xnum + 0.022235277870649807) * v_xsq;
        v_xden := (v_xden + 0.0659881378689285515) * v_xsq;
        v_xnum := (v_xnum + 0.001421619193227893466) * v_xsq;
        v_xden := (v_xden + 0.00378239633202758244) * v_xsq;
        v_temp := v_xsq * (v_xnum + 2.9112874951168792e-5) / (v_xden + 7.29751555083966205e-5);
        v_temp := (0.398942280401432677939946059934 - v_temp) / v_y;
    end if;
    -- exp(-y^2/2) as exp(-xsq^2/2) * exp(-del/2), xsq = y truncated to 1/16:
    -- xsq^2 is exact, so the large exponent loses nothing to rounding.
    v_xsq := trunc(v_y * 16) / 16;
    v_del := (v_y - v_xsq) * (v_y + v_xsq);
    v_small := exp(-v_xsq * v_xsq * 0.5) * exp(-v_del * 0.5) * v_temp;
    if p_x < 0 then
        return v_small;
    end if;
    return 1.0 - v_small;
end
$function$;

-- The pooled two-proportion z-test of a against b: z > 0 when a's rate is
-- higher; the two-sided p-value is 2 * P(Z <= -|z|) (the upper tail without
-- cancellation). No spread (both rates 0% or both 100%): z 0, p 1. Null
-- when an arm has no trials; IT005 for counts that are not proportions.
create or replace function app._campaign_two_proportion_z(
    p_success_a bigint, p_n_a bigint, p_success_b bigint, p_n_b bigint
)
returns table (z double precision, p_value double precision)
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_pool double precision;
    v_se double precision;
    v_z double precision;
begin
    if p_n_a is null or p_n_b is null or p_success_a is null or p_success_b is null
        or p_n_a <= 0 or p_n_b <= 0 then
        return query select null::double precision, null::double precision;
        return;
    end if;
    if p_success_a < 0 or p_success_b < 0 or p_success_a > p_n_a or p_success_b > p_n_b then
        raise exception using
            errcode = 'IT005',
            message = format(
                'successes must be between 0 and the trials (%s/%s, %s/%s)',
                p_success_a, p_n_a, p_success_b, p_n_b
            );
    end if;
    v_pool := (p_success_a + p_success_b)::double precision / (p_n_a + p_n_b);
    v_se := sqrt(v_pool * (1 - v_pool) * (1.0 / p_n_a + 1.0 / p_n_b));
    if v_se = 0 then
        return query select 0::double precision, 1::double precision;
        return;
    end if;
    v_z := (p_success_a::double precision / p_n_a - p_success_b::double precision / p_n_b) / v_se;
    return query select v_z, least(1.0, 2 * app._campaign_normal_cdf(-abs(v_z)));
end
$function$;

-- Tell the campaign's owner that an arm won (campaign_ab_winner). Never
-- raises: a notification that cannot be sent (unknown or inactive owner,
-- a template problem) must not fail the evaluation. True when sent.
create or replace function app._campaign_ab_notify_winner(
    p_org_id uuid, p_campaign_id uuid, p_result jsonb
)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_name text;
    v_owner uuid;
    v_winner jsonb;
    v_runner_up jsonb;
    v_p double precision;
begin
    select c.name, c.owner_id into v_name, v_owner
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = p_campaign_id;
    select a.value into v_winner
    from jsonb_array_elements(p_result -> 'arms') as a (value)
    where a.value ->> 'variant' = p_result ->> 'winner_variant';
    -- The strongest of the others: highest rate, the first in array order on ties.
    select a.value into v_runner_up
    from jsonb_array_elements(p_result -> 'arms') with ordinality as a (value, i)
    where a.value ->> 'variant' <> p_result ->> 'winner_variant'
    order by (a.value ->> 'rate')::double precision desc nulls last, a.i
    limit 1;
    v_p := (v_runner_up ->> 'p_value')::double precision;
    return app._campaign_notify(
        p_org_id => p_org_id,
        p_user_id => v_owner,
        p_template => 'campaign_ab_winner',
        p_variables => jsonb_build_object(
            'campaign', jsonb_build_object('id', p_campaign_id, 'name', v_name),
            'variant', p_result ->> 'winner_variant',
            'step_number', p_result -> 'step_number',
            'metric', p_result ->> 'metric',
            'rate', to_char((v_winner ->> 'rate')::double precision * 100, 'FM990.0') || '%',
            'runner_up_rate',
            to_char((v_runner_up ->> 'rate')::double precision * 100, 'FM990.0') || '%',
            'p', case
                when v_p >= 0.001 then to_char(v_p, 'FM0.0000')
                else btrim(to_char(v_p, '9.9EEEE'))
            end
        ),
        p_campaign_id => p_campaign_id
    );
end
$function$;

-- Evaluate one A/B step of a campaign of p_org_id (the caller checks who
-- may). Counts, per arm, the step's sends whose metric window closed and
-- their successes; with every arm at the minimum sample, tests the best arm
-- (highest rate, the first on ties) against each other one at
-- ab_alpha / (arms - 1). Records the decision and, for a winner with
-- auto-select on, selects it on the campaign and notifies the owner. A
-- campaign that already has a winner is evaluated but nothing is recorded
-- or changed. The campaign row is locked, so concurrent evaluations
-- serialize.
create or replace function app._campaign_evaluate_ab_test(
    p_org_id uuid, p_campaign_id uuid, p_step_number integer
)
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_campaign app.campaigns%rowtype;
    v_variants jsonb;
    v_found boolean;
    v_ids text [];
    v_n bigint [];
    v_s bigint [];
    v_rate double precision [];
    v_z double precision;
    v_p double precision;
    v_significant boolean;
    v_arm jsonb;
    v_arms jsonb := '[]'::jsonb;
    v_count integer;
    v_k integer;
    v_alpha_corrected numeric;
    v_best integer;
    v_all_significant boolean := true;
    v_insufficient boolean;
    v_outcome text;
    v_winner text;
    v_decision_id uuid;
    v_already boolean;
    v_result jsonb;
    v_cutoff timestamptz;
    v_unchanged boolean := false;
begin
    select c.* into v_campaign
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if p_step_number is null then
        raise exception using errcode = 'IT005', message = 'p_step_number must not be null';
    end if;
    select s.ab_variants, true into v_variants, v_found
    from app.campaign_sequences as s
    where s.org_id = p_org_id and s.campaign_id = p_campaign_id and s.step_number = p_step_number;
    if v_found is null then
        raise exception using
            errcode = 'IT005',
            message = format('campaign %s has no step %s', p_campaign_id, p_step_number);
    end if;
    if v_variants is null then
        raise exception using
            errcode = 'IT005',
            message = format('step %s of campaign %s has no A/B variants', p_step_number, p_campaign_id);
    end if;
    v_ids := app._campaign_ab_arm_ids(v_variants);
    v_count := cardinality(v_ids);
    v_already := v_campaign.ab_winner_variant is not null;
    v_cutoff := app.now() - v_campaign.ab_metric_window;

    -- Per arm: the step's sent emails (archived logs too) whose window
    -- closed, counting from the later of the log's and the send's sent_at,
    -- and leaving out sends that never reached anyone.
    with
    logs as (
        select l.ab_variant, l.email_send_id, l.sent_at
        from app.campaign_sequence_logs as l
        where
            l.org_id = p_org_id and l.campaign_id = p_campaign_id
            and l.step_number = p_step_number and l.status = 'sent'
            and l.email_send_id is not null
        union all
        select l.ab_variant, l.email_send_id, l.sent_at
        from app.campaign_sequence_logs_archive as l
        where
            l.org_id = p_org_id and l.campaign_id = p_campaign_id
            and l.step_number = p_step_number and l.status = 'sent'
            and l.email_send_id is not null
    ),

    closed as (
        select
            l.ab_variant,
            e.id,
            case v_campaign.ab_metric
                when 'reply' then e.replied_at is not null
                when 'click' then e.first_clicked_at is not null
                else e.first_opened_at is not null or e.first_clicked_at is not null
            end as success
        from logs as l
        inner join app.email_sends as e on e.org_id = p_org_id and e.id = l.email_send_id
        where
            greatest(l.sent_at, e.sent_at) <= v_cutoff
            and e.status not in ('queued', 'sending', 'failed', 'suppressed', 'bounced')
    ),

    counts as (
        select
            c.ab_variant,
            count(distinct c.id) as n,
            count(distinct c.id) filter (where c.success) as successes
        from closed as c
        group by c.ab_variant
    )

    select
        array_agg(coalesce(c.n, 0) order by a.i),
        array_agg(coalesce(c.successes, 0) order by a.i)
    into v_n, v_s
    from unnest(v_ids) with ordinality as a (variant, i)
    left join counts as c on c.ab_variant = a.variant;

    v_rate := array(
        select case when x.n > 0 then x.s::double precision / x.n end
        from unnest(v_n, v_s) with ordinality as x (n, s, i)
        order by x.i
    );
    v_insufficient := exists (
        select 1 from unnest(v_n) as x (n) where x.n < v_campaign.ab_min_sample_per_variant
    );
    v_k := v_count - 1;
    v_alpha_corrected := case when v_k > 0 then trim_scale(v_campaign.ab_alpha / v_k) end;

    if not v_insufficient then
        v_best := 1;
        for i in 2..v_count loop
            if v_rate[i] > v_rate[v_best] then
                v_best := i;
            end if;
        end loop;
    end if;

    for i in 1..v_count loop
        v_z := null;
        v_p := null;
        v_significant := null;
        if not v_insufficient and i <> v_best then
            select t.z, t.p_value into v_z, v_p
            from app._campaign_two_proportion_z(v_s[v_best], v_n[v_best], v_s[i], v_n[i]) as t;
            v_significant := v_z > 0 and v_p < v_alpha_corrected;
            v_all_significant := v_all_significant and v_significant;
        end if;
        v_arm := jsonb_build_object(
            'variant', v_ids[i], 'n', v_n[i], 'successes', v_s[i], 'rate', v_rate[i],
            'z', v_z, 'p_value', v_p, 'significant', v_significant
        );
        v_arms := v_arms || jsonb_build_array(v_arm);
    end loop;

    if v_insufficient then
        v_outcome := 'insufficient_sample';
    elsif v_k >= 1 and v_all_significant then
        v_winner := v_ids[v_best];
        v_outcome := case when v_campaign.ab_auto_select then 'winner' else 'significant' end;
    else
        v_outcome := 'inconclusive';
    end if;

    -- An evaluation identical to the step's last recorded one (same outcome,
    -- same arms: nothing new closed) is not recorded again, so the job that
    -- evaluates every 15 minutes leaves one row per change, not one per run.
    if not v_already and exists (
        select 1
        from (
            select d.outcome, d.arms
            from app.campaign_ab_decisions as d
            where
                d.org_id = p_org_id and d.campaign_id = p_campaign_id
                and d.step_number = p_step_number
            order by d.created_at desc, d.id
            limit 1
        ) as last
        where last.outcome = v_outcome and last.arms = v_arms
    ) then
        v_unchanged := true;
    end if;

    if not v_already and not v_unchanged then
        insert into app.campaign_ab_decisions (
            org_id, campaign_id, step_number, metric, outcome, winner_variant, best_variant,
            arms, alpha, alpha_corrected, min_sample, decided_by
        ) values (
            p_org_id, p_campaign_id, p_step_number, v_campaign.ab_metric, v_outcome, v_winner,
            v_ids[v_best], v_arms, v_campaign.ab_alpha, v_alpha_corrected,
            v_campaign.ab_min_sample_per_variant, app.current_user_id()
        )
        returning id into v_decision_id;
    end if;

    v_result := jsonb_build_object(
        'campaign_id', p_campaign_id,
        'outcome', v_outcome,
        'metric', v_campaign.ab_metric,
        'step_number', p_step_number,
        'alpha', v_campaign.ab_alpha,
        'alpha_corrected', v_alpha_corrected,
        'min_sample', v_campaign.ab_min_sample_per_variant,
        'metric_window', v_campaign.ab_metric_window,
        'best_variant', v_ids[v_best],
        'winner_variant', v_winner,
        'arms', v_arms,
        'decision_id', v_decision_id,
        'already_selected', v_already,
        'unchanged', v_unchanged,
        'evaluated_at', app.now()
    );
    if v_already then
        return v_result || jsonb_build_object('selected_variant', v_campaign.ab_winner_variant);
    end if;

    if v_outcome = 'winner' then
        v_result := v_result || jsonb_build_object(
            'notified', app._campaign_ab_notify_winner(p_org_id, p_campaign_id, v_result)
        );
        update app.campaigns as c
        set
            ab_winner_variant = v_winner,
            ab_winner_step = p_step_number,
            ab_winner_stats = v_result,
            ab_winner_selected_at = app.now(),
            ab_winner_selected_by = null,
            updated_at = app.now()
        where c.org_id = p_org_id and c.id = p_campaign_id;
    end if;
    return v_result;
end
$function$;

create or replace function api.evaluate_ab_test(p_campaign_id uuid, p_step_number integer)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
begin
    -- Evaluating may select the winner that every later send uses: the
    -- campaign's owner or a holder of campaigns.manage_any (IT003), like api.select_ab_winner.
    perform app._campaign_for_change(p_campaign_id => p_campaign_id);
    return app._campaign_evaluate_ab_test(v_org_id, p_campaign_id, p_step_number);
end
$function$;

comment on function api.evaluate_ab_test(uuid, integer) is
'Evaluate the A/B test of a campaign step (its owner or a holder of campaigns.manage_any; '
'IT003). Per arm (every '
'variant id of the step''s ab_variants): n = sent emails of the step and arm whose metric window '
'(ab_metric_window) closed, successes on ab_metric (reply, click, or open: opened or clicked) and '
'the rate. An arm below ab_min_sample_per_variant gives insufficient_sample. Otherwise the best '
'arm (highest rate, first on ties) is tested against each other arm with a pooled two-proportion '
'z-test at ab_alpha / (arms - 1) (Bonferroni) and wins only when it is significantly better than '
'every one: outcome winner (selected on the campaign, the owner is notified) with ab_auto_select, '
'significant without it (nothing routed), else inconclusive. Each evaluation is recorded in '
'app.campaign_ab_decisions unless it equals the step''s last recorded one (unchanged true); '
'when the campaign already has a winner the result carries '
'already_selected true and nothing is recorded or changed. Returns the result as JSON (outcome, '
'metric, step_number, alpha, alpha_corrected, min_sample, best_variant, winner_variant, arms with '
'variant, n, successes, rate, z, p_value, significant; decision_id). IT004 for an unknown '
'campaign, IT005 for a step without (valid) ab_variants.';

create or replace function api.select_ab_winner(
    p_campaign_id uuid, p_variant text, p_step_number integer default null
)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_org_id uuid := app._require_org();
    v_owner_id uuid;
    v_step integer;
begin
    select c.owner_id into v_owner_id
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id
    for update;
    if not found then
        raise exception using
            errcode = 'IT004', message = format('campaign %s not found', p_campaign_id);
    end if;
    if not (v_owner_id = app.current_user_id() or app._has_permission('campaigns.manage_any')) then
        raise exception using
            errcode = 'IT003',
            message = 'only the campaign''s owner or a holder of campaigns.manage_any may select an A/B winner',
            hint = 'An org admin grants campaigns.manage_any with api.set_role_permission.';
    end if;
    select s.step_number into v_step
    from app.campaign_sequences as s
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(s.ab_variants) = 'array' then s.ab_variants end
    ) as e (value)
    where
        s.org_id = v_org_id and s.campaign_id = p_campaign_id
        and (p_step_number is null or s.step_number = p_step_number)
        and jsonb_typeof(e.value) = 'object' and e.value ->> 'id' = p_variant
    order by s.step_number
    limit 1;
    if not found then
        raise exception using
            errcode = 'IT005',
            message = case
                when p_step_number is null then format(
                    'variant %s is not a variant of any A/B step of campaign %s',
                    p_variant, p_campaign_id
                )
                else format(
                    'variant %s is not a variant of step %s of campaign %s',
                    p_variant, p_step_number, p_campaign_id
                )
            end;
    end if;
    update app.campaigns as c
    set
        ab_winner_variant = p_variant,
        ab_winner_step = v_step,
        ab_winner_stats = jsonb_build_object('manual', true),
        ab_winner_selected_at = app.now(),
        ab_winner_selected_by = app.current_user_id(),
        updated_at = app.now()
    where c.org_id = v_org_id and c.id = p_campaign_id;
    insert into app.campaign_ab_decisions (
        org_id, campaign_id, step_number, metric, outcome, winner_variant, decided_by
    )
    select v_org_id, c.id, v_step, c.ab_metric, 'manual', p_variant, app.current_user_id()
    from app.campaigns as c
    where c.org_id = v_org_id and c.id = p_campaign_id;
end
$function$;

comment on function api.select_ab_winner(uuid, text, integer) is
'Choose the A/B winner of a campaign by hand (the campaign''s owner or a holder of '
'campaigns.manage_any; IT003 otherwise), '
'replacing any earlier winner: every later A/B send uses it. p_variant must be a variant id of '
'the given step, or of any A/B step when p_step_number is null (the lowest such step is '
'recorded), else IT005; IT004 for an unknown campaign. Records a manual decision in '
'app.campaign_ab_decisions.';

create or replace function api.evaluate_ab_tests()
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_campaign record;
    v_step integer;
    v_result jsonb;
    v_winners integer := 0;
    v_message text;
    v_state text;
begin
    perform app._require_service();
    for v_campaign in
        select c.org_id, c.id
        from app.campaigns as c
        where
            c.status = 'active' and c.ab_winner_variant is null
            and exists (
                select 1 from app.campaign_sequences as s
                where
                    s.org_id = c.org_id and s.campaign_id = c.id and s.is_active
                    and jsonb_array_length(s.ab_variants) >= 2
            )
        -- Key order, like every other path that locks campaigns.
        order by c.org_id, c.id
    loop
        -- One campaign's bad data never stops the others.
        begin
            for v_step in
                select s.step_number
                from app.campaign_sequences as s
                where
                    s.org_id = v_campaign.org_id and s.campaign_id = v_campaign.id
                    and s.is_active and jsonb_array_length(s.ab_variants) >= 2
                order by s.step_number
            loop
                v_result := app._campaign_evaluate_ab_test(v_campaign.org_id, v_campaign.id, v_step);
                if (v_result ->> 'already_selected')::boolean then
                    exit;
                end if;
                if v_result ->> 'outcome' = 'winner' then
                    v_winners := v_winners + 1;
                    exit;
                end if;
            end loop;
        exception when others then
            get stacked diagnostics v_message = message_text, v_state = returned_sqlstate;
            raise warning 'A/B evaluation of campaign % (org %) failed: % (%)',
                v_campaign.id, v_campaign.org_id, v_message, v_state;
        end;
    end loop;
    return v_winners;
end
$function$;

comment on function api.evaluate_ab_tests() is
'Service role only (the scheduled A/B job). Evaluates, as api.evaluate_ab_test does, every active '
'campaign without a winner: its active A/B steps with two or more variants, lowest step first, '
'until one yields a winner. A campaign whose evaluation fails is skipped with a warning; the '
'others go on. Returns the number of winners selected.';
