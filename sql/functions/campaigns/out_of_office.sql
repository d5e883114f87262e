-- Out-of-office pauses (docs/campaigns.md, "Out of office"): an absence notice
-- in answer to a campaign email pauses that enrollment until the contact is
-- back (the return date its text gives, else the campaign's
-- out_of_office_resume_days); the tick's resume pass (tick.sql) wakes it.

-- A date from its parts, or null when there is none: p_year null means the
-- next such date on or after p_received (but a day-month that passed less
-- than 30 days before p_received is a stale notice, null, not next year's);
-- a two-digit year is 20YY. Plausible only from p_received to a year after
-- it: null otherwise.
create or replace function app._email_plausible_date(
    p_year integer, p_month integer, p_day integer, p_received date
)
returns date
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_year integer := p_year;
    v_date date;
begin
    if p_month is null or p_day is null or p_received is null
        or p_month not between 1 and 12 or p_day not between 1 and 31 then
        return null;
    end if;
    if v_year is null then
        v_year := extract(year from p_received)::integer;
    elsif v_year < 100 then
        v_year := 2000 + v_year;
    end if;
    if v_year not between 2000 and 2200 then
        return null;
    end if;
    -- 31 April, 29 February of a common year: no such day.
    if p_day > extract(
        day from make_date(v_year, p_month, 1) + interval '1 month' - interval '1 day'
    ) then
        return null;
    end if;
    v_date := make_date(v_year, p_month, p_day);
    if p_year is null and v_date < p_received then
        if v_date >= p_received - 30 then
            return null;
        end if;
        v_year := v_year + 1;
        if p_day > extract(
            day from make_date(v_year, p_month, 1) + interval '1 month' - interval '1 day'
        ) then
            return null;
        end if;
        v_date := make_date(v_year, p_month, p_day);
    end if;
    if v_date < p_received or v_date > p_received + interval '1 year' then
        return null;
    end if;
    return v_date;
end
$function$;

-- The return date an absence notice gives, or null. Reads the first 4,000
-- characters of p_text (the subject and the body), lower-cased (accented
-- capitals too, whatever the database's locale), and looks for a cue word
-- followed by a date, or (German and Dutch word order) a date followed by
-- "wieder" / "zurück" / "terug" / "weer":
--
-- | cue (then up to 6 filler words: on, the, in, office, date, am, zum, le, au, el,
-- |   de, op, il, em, no, dia, tot en met's "en met", weekday names and their
-- |   abbreviations...)
-- | en | back, return, returns, returning, until, till, til, through, thru
-- | de | zurück, Rückkehr, wieder, bis (bis zum, bis einschließlich)
-- | fr | de retour, retour, jusqu'(au/à), reviens, rentre, au (du 3 au 12 janvier)
-- | es | hasta, de vuelta, regreso, regresaré, volveré, vuelvo, al (del 3 al 12)
-- | nl | tot (tot en met), t/m, terug, weer
-- | it | fino (fino al / all'), rientro, rientrerò, ritorno, tornerò, torno, al
-- | pt | até, retorno, de volta, volto, voltarei, regresso, regressarei
-- | date before the cue | am/ab (dem)/op/vanaf/per DATE ... wieder/zurück/terug/weer
--
-- | date form                         | examples                         | reading
-- | YYYY-MM-DD                        | 2027-01-12                       | ISO
-- | D.M.YYYY, D.M.YY, D.M.            | 12.01.2027, 12.1.27, 12.01.      | day first
-- | D-M-YYYY, D-M-YY                  | 12-01-2027                       | day first
-- | D/M/YYYY, D/M/YY, D/M             | 12/01/2027, 1/12                 | see below
-- | D[st/nd/rd/th/er/º][.] [de/of] MONTH [[,] [de] YYYY]
-- |                                   | 12 January, 12. Januar 2027,     | day first
-- |                                   | 1er janvier, 12 de enero de 2027 |
-- | MONTH D[st/nd/rd/th][[,] YYYY]    | January 12, 2027; Jan 12th       | month first
--
-- MONTH: the month names of the seven languages and their abbreviations (with an
-- optional dot; "mär", "janv", "févr", "mrt", "gen", "giu", "dez", ...). A slash
-- date whose two readings are both valid days (01/12) is read day first
-- (most of the world) or month first (the United States), whichever is the
-- nearer plausible date: absences last days or weeks, not eleven months. A date
-- without a year is the next one on or after the received date
-- (app._email_plausible_date); one before it, or more than a year after it,
-- is not a return date. With several, the latest wins ("until 12 January,
-- back on 13 January": the 13th). The received date is taken in UTC.
create or replace function app._email_return_date(p_text text, p_received_at timestamptz)
returns date
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_months constant jsonb := $json${
        "january": 1, "jan": 1, "januar": 1, "jänner": 1, "jän": 1, "janvier": 1, "janv": 1,
        "enero": 1, "ene": 1, "januari": 1, "gennaio": 1, "gen": 1, "janeiro": 1,
        "february": 2, "feb": 2, "februar": 2, "février": 2, "fevrier": 2, "févr": 2,
        "fevr": 2, "febrero": 2, "februari": 2, "febbraio": 2, "fevereiro": 2, "fev": 2,
        "march": 3, "mar": 3, "märz": 3, "maerz": 3, "marz": 3, "mär": 3, "mars": 3,
        "marzo": 3, "maart": 3, "mrt": 3, "março": 3, "marco": 3,
        "april": 4, "apr": 4, "avril": 4, "avr": 4, "abril": 4, "abr": 4, "aprile": 4,
        "may": 5, "mai": 5, "mayo": 5, "mei": 5, "maggio": 5, "mag": 5, "maio": 5,
        "june": 6, "jun": 6, "juni": 6, "juin": 6, "junio": 6, "giugno": 6, "giu": 6,
        "junho": 6,
        "july": 7, "jul": 7, "juli": 7, "juillet": 7, "juil": 7, "julio": 7, "luglio": 7,
        "lug": 7, "julho": 7,
        "august": 8, "aug": 8, "août": 8, "aout": 8, "agosto": 8, "ago": 8, "augustus": 8,
        "september": 9, "sep": 9, "sept": 9, "septembre": 9, "septiembre": 9,
        "setiembre": 9, "settembre": 9, "sett": 9, "set": 9, "setembro": 9,
        "october": 10, "oct": 10, "oktober": 10, "okt": 10, "octobre": 10, "octubre": 10,
        "ottobre": 10, "ott": 10, "outubro": 10, "out": 10,
        "november": 11, "nov": 11, "novembre": 11, "noviembre": 11, "novembro": 11,
        "december": 12, "dec": 12, "dezember": 12, "dez": 12, "décembre": 12,
        "decembre": 12, "déc": 12, "diciembre": 12, "dic": 12, "dicembre": 12,
        "dezembro": 12
    }$json$;
    -- Letters (the text is lower-cased): a word boundary is a change from or to these.
    v_letter constant text := 'a-z0-9à-öø-ÿß';
    v_cues constant text := 'back|returning|returns|return|until|till|til|through|thru'
        || '|zurück|zurueck|rückkehr|rueckkehr|wieder|bis'
        || '|de retour|retour|jusqu''|jusqu|reviens|rentre|au'
        || '|hasta|de vuelta|regresaré|regresare|regreso|volveré|volvere|vuelvo|al'
        || '|tot|t/m|terug|weer'
        || '|fino|rientrerò|rientrero|rientro|ritorno|tornerò|tornero|torno'
        || '|até|ate|retorno|de volta|voltarei|volto|regressarei|regresso';
    v_fillers constant text := 'on|the|of|in|office|at|work|by|date'
        || '|am|ab|dem|den|zum|einschließlich|einschliesslich|inklusive|inkl|im|büro|buero'
        || '|le|la|au|à|a|du|bureau|el|de|del|en|oficina|met|op|kantoor|aanwezig'
        || '|il|ufficio|è|previsto|prevista|per|para'
        || '|em|no|na|dia|escritório|escritorio'
        || '|monday|tuesday|wednesday|thursday|friday|saturday|sunday'
        || '|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun'
        || '|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag'
        || '|mo|di|mi|do|fr|sa|so'
        || '|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche'
        || '|lun|mer|jeu|ven|sam|dim'
        || '|lunes|martes|miércoles|miercoles|jueves|viernes|sábado|sabado|domingo'
        || '|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|ma|wo|vr|za|zo'
        || '|lunedì|lunedi|martedì|martedi|mercoledì|mercoledi|giovedì|giovedi'
        || '|venerdì|venerdi|sabato|domenica'
        || '|segunda-feira|terça-feira|terca-feira|quarta-feira|quinta-feira|sexta-feira'
        || '|segunda|terça|terca|quarta|quinta|sexta';
    v_month text;
    v_filler text;
    v_date text;
    v_patterns text[];
    v_pattern text;
    v_text text;
    v_received date;
    v_m text[];
    v_found date;
    v_best date;
begin
    if p_text is null or p_received_at is null then
        return null;
    end if;
    v_received := (p_received_at at time zone 'UTC')::date;
    -- lower() of a C-locale database leaves accented capitals alone: fold them
    -- first. Curly apostrophes become straight ones, non-breaking spaces
    -- spaces; markdown emphasis goes.
    v_text := lower(translate(
        left(p_text, 4000),
        'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝ’‘`´' || chr(160) || chr(8239) || chr(8201) || '*_',
        'àáâãäåæçèéêëìíîïñòóôõöøùúûüý''''''''   '
    ));
    v_text := regexp_replace(v_text, '\s+', ' ', 'g');

    select string_agg(k.name, '|' order by length(k.name) desc, k.name) into v_month
    from jsonb_object_keys(v_months) as k (name);
    v_filler := format('(?:(?:%s)\.?[\s,:]+|(?:dall|all|dell|l|d)'')', v_fillers);
    -- Six date forms, three groups each (see the table above).
    v_date := '(?:'
        || '(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)'
        || '|(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})(?!\d))?'
        || '|(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])'
        || '|(\d{1,2})-(\d{1,2})-(\d{4}|\d{2})(?!\d)'
        || format(
            '|(\d{1,2})(?:st|nd|rd|th|er|º|°|ª)?\.?\s?(?:de |of )?(%1$s)(?![%2$s])\.?'
            || '(?:,?\s(?:de )?(\d{4})(?!\d))?',
            v_month, v_letter
        )
        || format(
            '|(%1$s)(?![%2$s])\.?\s?(\d{1,2})(?:st|nd|rd|th)?(?!\d)(?:,?\s(\d{4})(?!\d))?',
            v_month, v_letter
        )
        || ')';
    v_patterns := array[
        format(
            '(?<![%1$s])(?:%2$s)(?:[\s,:]+|(?<=''))%3$s{0,6}%4$s',
            v_letter, v_cues, v_filler, v_date
        ),
        format(
            '(?<![%1$s])(?:am|ab|op|vanaf|per)\s%2$s{0,2}%3$s(?:\s[%1$s]+){0,4}\s'
            || '(?:wieder|zurück|zurueck|terug|weer)(?![%1$s])',
            v_letter, v_filler, v_date
        )
    ];
    foreach v_pattern in array v_patterns loop
        for v_m in select m from regexp_matches(v_text, v_pattern, 'g') as m loop
            v_found := coalesce(
                app._email_plausible_date(
                    v_m[1]::integer, v_m[2]::integer, v_m[3]::integer, v_received
                ),
                app._email_plausible_date(
                    v_m[6]::integer, v_m[5]::integer, v_m[4]::integer, v_received
                ),
                -- Slash: day first or month first, the nearer plausible one.
                least(
                    app._email_plausible_date(
                        v_m[9]::integer, v_m[8]::integer, v_m[7]::integer, v_received
                    ),
                    app._email_plausible_date(
                        v_m[9]::integer, v_m[7]::integer, v_m[8]::integer, v_received
                    )
                ),
                app._email_plausible_date(
                    v_m[12]::integer, v_m[11]::integer, v_m[10]::integer, v_received
                ),
                app._email_plausible_date(
                    v_m[15]::integer, (v_months ->> v_m[14])::integer, v_m[13]::integer, v_received
                ),
                app._email_plausible_date(
                    v_m[18]::integer, (v_months ->> v_m[16])::integer, v_m[17]::integer, v_received
                )
            );
            v_best := greatest(v_best, v_found);
        end loop;
    end loop;
    return v_best;
end
$function$;

-- An out-of-office reply (p_inbound_id, classified so by api.record_inbound_email)
-- to the campaign email p_send_id: pause its enrollment until the contact is
-- back. The return date of the subject and the reply's own text (else the
-- body; app._email_return_date) gives the resume time: the first send day
-- strictly after it, at the window's start, in the step's zone (the contact's
-- with use_contact_timezone); without one, out_of_office_resume_days from now
-- (then the next window). The next step keeps its number and runs then
-- (next_step_at = greatest(next_step_at, resume_at)). By the enrollment's state:
--
-- | state                               | what happens                             | returns
-- | active, or parked (campaign_paused) | paused: out_of_office, resume_at         | paused
-- | paused for out_of_office            | resume_at moves later (never earlier)    | extended
-- |                                     | nothing when it would not move later     | ignored: ..
-- | paused for errors (or by hand)      | stays so (a person resumes it); its next | deferred
-- |                                     | step waits for the return all the same   |
-- | completed, replied, stopped...      | nothing (completed stays completed)      | ignored: ..
--
-- Paused, extended and deferred write a 'deferred' log line (the next step's
-- number, the send that drew the reply); paused and extended tell the owner.
-- The tick's resume pass (api.tick_campaigns) wakes the enrollment, parking it
-- as campaign_paused when its campaign is paused by then.
create or replace function app._campaign_pause_out_of_office(
    p_org_id uuid, p_send_id uuid, p_inbound_id uuid
)
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_now timestamptz := app.now();
    v_in record;
    v_enrollment_id uuid;
    v_e app.campaign_enrollments%rowtype;
    v_c app.campaigns%rowtype;
    v_who text;
    v_contact_zone text;
    v_zone text;
    v_return date;
    v_resume timestamptz;
    v_next timestamptz;
    v_result text;
    v_when text;
    v_message text;
begin
    select
        i.subject, i.reply_text, i.text_body, i.html_body, i.received_at, i.from_email
    into v_in
    from app.inbound_emails as i
    where i.org_id = p_org_id and i.id = p_inbound_id;
    if not found then
        return 'ignored: inbound email not found';
    end if;
    select s.enrollment_id into v_enrollment_id
    from app.email_sends as s
    where s.org_id = p_org_id and s.id = p_send_id;
    if v_enrollment_id is null then
        return 'ignored: not a campaign email';
    end if;
    -- Lock order: the enrollment, then (the totals trigger) its campaign.
    select e.* into v_e
    from app.campaign_enrollments as e
    where e.org_id = p_org_id and e.id = v_enrollment_id
    for update;
    if not found then
        return 'ignored: the enrollment is gone';
    end if;
    if v_e.status not in ('active', 'paused') then
        return 'ignored: the enrollment is ' || v_e.status;
    end if;
    select c.* into v_c
    from app.campaigns as c
    where c.org_id = p_org_id and c.id = v_e.campaign_id;
    select coalesce(k.full_name, k.email), k.timezone into v_who, v_contact_zone
    from app.contacts as k
    where k.org_id = p_org_id and k.id = v_e.contact_id;
    v_who := coalesce(v_who, v_in.from_email);
    v_zone := app._campaign_timezone(
        p_contact_timezone => v_contact_zone,
        p_campaign_timezone => v_c.timezone,
        p_use_contact => v_c.use_contact_timezone
    );

    -- The reply's own text (without the quoted campaign email, whose dates are
    -- not the contact's), else the text body, else the HTML without its tags.
    v_return := app._email_return_date(
        p_text => concat_ws(
            E'\n',
            v_in.subject,
            coalesce(
                nullif(btrim(v_in.reply_text), ''),
                nullif(btrim(v_in.text_body), ''),
                regexp_replace(left(v_in.html_body, 20000), '<[^>]*>', ' ', 'g')
            )
        ),
        p_received_at => v_in.received_at
    );
    v_resume := app._campaign_next_send_time(
        p_ts => case
            when v_return is not null
                then greatest((v_return + 1)::timestamp at time zone v_zone, v_now)
            else v_now + make_interval(days => v_c.out_of_office_resume_days)
        end,
        p_timezone => v_zone,
        p_window_start => v_c.send_window_start,
        p_window_end => v_c.send_window_end,
        p_send_days => v_c.send_days
    );
    v_when := to_char(v_resume at time zone v_zone, 'YYYY-MM-DD HH24:MI') || ' ' || v_zone;

    if v_e.status = 'paused' and v_e.stop_reason = 'out_of_office' then
        if v_e.resume_at is not null and v_resume <= v_e.resume_at then
            return format(
                'ignored: already out of office until %s',
                to_char(v_e.resume_at at time zone v_zone, 'YYYY-MM-DD HH24:MI')
            );
        end if;
        v_result := 'extended';
    elsif v_e.status = 'active' or v_e.stop_reason = 'campaign_paused' then
        v_result := 'paused';
    else
        v_result := 'deferred';
    end if;

    v_next := greatest(v_e.next_step_at, v_resume);
    update app.campaign_enrollments as e
    set
        status = 'paused',
        stop_reason = case when v_result = 'deferred' then e.stop_reason else 'out_of_office' end,
        resume_at = case when v_result = 'deferred' then null else v_resume end,
        next_step_at = v_next,
        updated_at = v_now
    where e.org_id = v_e.org_id and e.id = v_e.id;

    insert into app.campaign_sequence_logs (
        org_id, campaign_id, enrollment_id, step_number, channel, status, detail, email_send_id,
        scheduled_at
    )
    values (
        v_e.org_id, v_e.campaign_id, v_e.id, v_e.current_step + 1, 'none', 'deferred',
        format(
            'out of office%s: %s %s',
            coalesce(' until ' || to_char(v_return, 'YYYY-MM-DD'), ' (no return date given)'),
            case v_result
                when 'paused' then 'paused, resumes'
                when 'extended' then 'pause extended, resumes'
                else 'still paused (' || v_e.stop_reason || '), next step not before'
            end,
            v_when
        ),
        p_send_id, v_next
    );

    if v_result in ('paused', 'extended') then
        -- No system template for this one: the title and message are given
        -- (guarded like app._campaign_notify: a failure is a warning).
        begin
            perform from app._notification_send(row(
                p_org_id,  -- org_id
                array[v_c.owner_id],  -- user_ids
                'campaign',  -- category
                null,  -- template_slug
                left(
                    format(
                        '%s is out of office%s', v_who,
                        coalesce(' until ' || to_char(v_return, 'FMMonth FMDD, YYYY'), '')
                    ),
                    500
                ),  -- title
                format(
                    '%s answered %s with an out-of-office reply%s. Their sequence is paused '
                    || 'and resumes %s with step %s.',
                    v_who, v_c.name,
                    case
                        when v_return is not null
                            then ' (back ' || to_char(v_return, 'FMMonth FMDD, YYYY') || ')'
                        else ' without a return date'
                    end,
                    v_when, v_e.current_step + 1
                ),  -- message
                jsonb_build_object(
                    'campaign', jsonb_build_object('name', v_c.name),
                    'contact', jsonb_build_object('name', v_who),
                    'return_date', v_return,
                    'resume_at', v_resume,
                    'enrollment_id', v_e.id
                ),  -- variables
                'info',  -- type
                'normal',  -- priority
                'campaign',  -- entity_type
                v_c.id,  -- entity_id
                format('/campaigns/%s', v_c.id),  -- action_url
                'Open campaign',  -- action_label
                array['in_app'],  -- channels
                null,  -- group_key
                null,  -- expires_at
                false  -- critical
            )::app.notification_request);
        exception when others then
            get stacked diagnostics v_message = message_text;
            raise warning 'out-of-office notification not sent: %', v_message;
        end;
    end if;
    return v_result;
end
$function$;

-- IT005 unless p_days is a usable out_of_office_resume_days: 1 to 90.
create or replace function app._campaign_assert_out_of_office_days(p_days integer)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $function$
begin
    if p_days is null or p_days not between 1 and 90 then
        raise exception using
            errcode = 'IT005',
            message = format(
                'out_of_office_resume_days is 1 to 90 (got %s)', coalesce(p_days::text, 'null')
            );
    end if;
end
$function$;
