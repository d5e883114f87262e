-- Automatic mail: the rule table that says what kind of automatic message an inbound
-- email is (a bounce report, an out-of-office, other automatic mail) and why, and the
-- classifier that reads it (docs/email.md, "Automatic replies").

-- The rules, lowest priority first, the first match wins. signal names what a rule looks at:
-- 'header:<name>' (p_headers maps lower-case names to values; a header that is absent
-- never matches), 'subject' or 'body' (the first 8,000 characters of the text). pattern
-- is a case-insensitive regular expression. also_signal/also_pattern, when set, must
-- match too; the pseudo-signal 'automatic' is the reason of the first rule of kind
-- 'automatic' or null that matched (so an absence phrase in the body counts only in a
-- message that an automatic header marks as machine-written). kind null is a supporting
-- signal: it never classifies by itself. %s in reason is the matched value, trimmed
-- and lower-cased.
create or replace function app._email_auto_reply_rules()
returns table (
    priority integer,
    signal text,
    pattern text,
    also_signal text,
    also_pattern text,
    kind text,
    reason text
)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    values
    -- Bounce reports first: a DSN may say Auto-Submitted: auto-replied and still is
    -- no out-of-office.
    (
        10, 'header:content-type',
        '^\s*multipart/report\M.*\mreport-type\s*=\s*"?(global-)?delivery-status', null, null,
        'bounce', 'content-type: multipart/report (delivery status)'
    ),
    (11, 'header:x-failed-recipients', '\S', null, null, 'bounce', 'x-failed-recipients'),
    (
        12, 'header:auto-submitted', '^\s*auto-generated\s*\(\s*failure\s*\)', null, null,
        'bounce', 'auto-submitted: %s'
    ),
    (
        13, 'header:from', '(^|[<\s"])(mailer-daemon|mailer_daemon|mail-daemon|postmaster)@',
        'subject',
        '(undeliver|not (been )?delivered|delivery (status notification|failure|failed'
        || '|has failed|problem)|failure notice|returned mail|mail delivery (failed|failure'
        || '|subsystem|system)|non[- ]?delivery|could not be delivered|unzustellbar'
        || '|nicht zugestellt|non remis|non distribu|no (se )?(pudo|puede) (ser )?entregar'
        || '|onbestelbaar|niet (be)?zorgd|non recapitat|mancato recapito|n[ãa]o (foi )?entregue'
        || '|falha na entrega)',
        'bounce', 'mailer-daemon or postmaster sender with a delivery failure subject'
    ),
    -- Out of office: a vacation header, or a localized subject prefix.
    (20, 'header:x-apple-action', '^\s*vacation\M', null, null,
        'out_of_office', 'x-apple-action: %s'),
    (
        21, 'subject',
        '^\s*(auto(matic)?[ -]?reply|auto[ -]?response|out of (the )?office|ooo\s*[:-]'
        || '|away until\M|on (vacation|holiday|leave)\M)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (en)'
    ),
    (
        22, 'subject',
        '^\s*(abwesenheitsnotiz|automatische antwort|abwesend\s*:|nicht im b(ü|ue)ro'
        || '|urlaubsantwort|abwesenheit\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (de)'
    ),
    (
        23, 'subject',
        '^\s*(r[ée]ponse automatique|absence\s*:|absent(e)?\s*:|absent(e)? du bureau'
        || '|message d.absence)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (fr)'
    ),
    (
        24, 'subject',
        '^\s*(respuesta autom[áa]tica|fuera de (la )?oficina|mensaje de ausencia)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (es)'
    ),
    (
        25, 'subject',
        '^\s*(automatisch antwoord|afwezig\s*:|afwezigheidsbericht|niet aanwezig'
        || '|buiten kantoor)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (nl)'
    ),
    (
        26, 'subject',
        '^\s*(risposta automatica|fuori (sede|ufficio)|assente\s*:|risposta di assenza)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (it)'
    ),
    (
        27, 'subject',
        '^\s*(resposta autom[áa]tica|fora do escrit[óo]rio|mensagem de aus[êe]ncia'
        || '|aus[êe]ncia\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (pt)'
    ),
    (28, 'subject', '^\s*ausente\s*:', null, null, 'out_of_office', 'subject: absent (es, pt)'),
    -- An absence phrase in the body of a message an automatic header marks.
    (
        40, 'body',
        '(out of (the )?office|\mi am (currently )?(away|out|on (vacation|holiday|leave))'
        || '|\mi''m (currently )?(away|out|on (vacation|holiday|leave))'
        || '|on (annual|parental|maternity|paternity|sick) leave'
        || '|limited access to (e-?mail|my (e-?mail|inbox))|\mback (in the office )?on\M'
        || '|returning to the office|will (be back|return) on\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (en)'
    ),
    (
        41, 'body',
        '(nicht im b(ü|ue)ro|\mabwesend\M|im urlaub|au(ß|ss)er haus|zur(ü|ue)ck am'
        || '|wieder erreichbar|wieder im b(ü|ue)ro)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (de)'
    ),
    (
        42, 'body',
        '(absente? du bureau|je suis absente?|en cong[ée]s?\M|en vacances|de retour le'
        || '|hors du bureau)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (fr)'
    ),
    (
        43, 'body',
        '(fuera de (la )?oficina|de vacaciones|estoy ausente|estar[ée] (de vuelta|fuera)'
        || '|regreso el|volver[ée] el)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (es)'
    ),
    (
        44, 'body',
        '(\mafwezig\M|met vakantie|niet op kantoor|ben ik weer|weer aanwezig|terug op)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (nl)'
    ),
    (
        45, 'body',
        '(fuori (sede|ufficio)|in ferie|sono assente|in vacanza|rientrer[òo]|di ritorno il)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (it)'
    ),
    (
        46, 'body',
        '(fora do escrit[óo]rio|de f[ée]rias|em f[ée]rias|estou ausente|estarei de volta'
        || '|retorno (em|no dia))',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (pt)'
    ),
    -- Other automatic mail (RFC 3834 and common practice): ticket acknowledgements,
    -- notifications, list mail.
    (60, 'header:auto-submitted', '^(?!\s*no\s*$)\s*\S', null, null,
        'automatic', 'auto-submitted: %s'),
    (61, 'header:x-autoreply', '^', null, null, 'automatic', 'x-autoreply'),
    (62, 'header:x-autorespond', '^', null, null, 'automatic', 'x-autorespond'),
    (63, 'header:precedence', '^\s*(bulk|junk|list|auto_reply)\s*$', null, null,
        'automatic', 'precedence: %s'),
    (64, 'header:return-path', '^\s*<\s*>\s*$', null, null, 'automatic', 'empty return-path'),
    (65, 'header:list-id', '\S', null, null, 'automatic', 'list-id: mailing list'),
    (66, 'header:list-unsubscribe', '\S', null, null,
        'automatic', 'list-unsubscribe: list or bulk mail'),
    -- Asks others not to auto-reply: a human message may carry it too (Outlook), so
    -- it only supports an absence phrase.
    (80, 'header:x-auto-response-suppress', '\S', null, null, null,
        'x-auto-response-suppress: %s')
$function$;

-- What kind of automatic message this is and why (the first rule of
-- app._email_auto_reply_rules that matches), or no row's worth of data (kind and
-- reason null) for a human one.
create or replace function app._email_classify_auto_reply(
    p_headers jsonb,
    p_subject text,
    p_body text
)
returns table (kind text, reason text)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    with input as (
        select coalesce(p_headers, '{}') as headers, left(p_body, 8000) as body
    ),
    valued as (
        select
            r.*,
            case
                when r.signal like 'header:%' then i.headers ->> substr(r.signal, 8)
                when r.signal = 'subject' then p_subject
                when r.signal = 'body' then i.body
            end as value,
            case
                when r.also_signal like 'header:%' then i.headers ->> substr(r.also_signal, 8)
                when r.also_signal = 'subject' then p_subject
                when r.also_signal = 'body' then i.body
            end as also_value
        from app._email_auto_reply_rules() as r
        cross join input as i
    ),
    hits as (
        select
            v.*,
            replace(v.reason, '%s', lower(btrim(left(v.value, 200)))) as said
        from valued as v
        where
            v.value ~* v.pattern
            and (
                v.also_signal is null or v.also_signal = 'automatic'
                or v.also_value ~* v.also_pattern
            )
    ),
    automatic as (
        select h.said
        from hits as h
        where h.kind is null or h.kind = 'automatic'
        order by h.priority
        limit 1
    )
    select
        h.kind,
        h.said || case when h.also_signal = 'automatic' then '; ' || a.said else '' end
    from hits as h
    left join automatic as a on true
    where
        h.kind is not null
        and (h.also_signal is distinct from 'automatic' or a.said ~* h.also_pattern)
    order by h.priority
    limit 1
$function$;
