-- Automatic mail: the rule table that says what kind of automatic message an inbound
-- email is (a bounce report, an out-of-office, other automatic mail) and why, and the
-- classifier that reads it (docs/email.md, "Automatic replies").

-- The result gained marks_automatic (issue 15 review): CREATE OR REPLACE cannot change it.
drop function if exists app._email_auto_reply_rules();

-- The rules, lowest priority first, the first match wins. signal names what a rule looks at:
-- 'header:<name>' (p_headers maps lower-case names to values; a header that is absent
-- never matches), 'subject' or 'body' (the reply's new text, quoted '>' lines left out,
-- first 8,000 characters). pattern is a case-insensitive regular expression.
-- also_signal/also_pattern, when set, must match too; the pseudo-signal 'automatic' is
-- the reason of the first matching rule that marks_automatic (a header by which a
-- machine says it wrote the message: RFC 3834 and its kin, not a list header nor
-- X-Auto-Response-Suppress), so an absence phrase in the body counts only in mail such
-- a header marks; the pseudo-signal 'threaded' is 'yes' for a message that answers one
-- of our sends (its In-Reply-To or References name the send's Message-ID), else 'no'.
-- %s in reason is the matched value, trimmed and lower-cased.
create or replace function app._email_auto_reply_rules()
returns table (
    priority integer,
    signal text,
    pattern text,
    also_signal text,
    also_pattern text,
    kind text,
    reason text,
    marks_automatic boolean
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
        'bounce', 'content-type: multipart/report (delivery status)', false
    ),
    (11, 'header:x-failed-recipients', '\S', null, null, 'bounce', 'x-failed-recipients', false),
    (
        12, 'header:auto-submitted', '^\s*auto-generated\s*\(\s*failure\s*\)', null, null,
        'bounce', 'auto-submitted: %s', false
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
        'bounce', 'mailer-daemon or postmaster sender with a delivery failure subject', false
    ),
    -- A read receipt (RFC 8098 MDN): what a mail program sent, not what a person wrote.
    -- Its content type is the signal: a "Read:" subject alone a person may write.
    (
        14, 'header:content-type',
        '^\s*multipart/report\M.*\mreport-type\s*=\s*"?disposition-notification\M', null, null,
        'automatic', 'read receipt (MDN)', false
    ),
    -- Out of office: a vacation header, or a localized subject prefix.
    (20, 'header:x-apple-action', '^\s*vacation\M', null, null,
        'out_of_office', 'x-apple-action: %s', true),
    (
        21, 'subject',
        '^\s*(auto(matic)?[ -]?reply|auto[ -]?response|out of (the )?office|ooo\s*[:-]'
        || '|away until\M|on (vacation|holiday|leave)\M|auto\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (en)', false
    ),
    (
        22, 'subject',
        '^\s*(abwesenheitsnotiz|automatische antwort|abwesend\s*:|nicht im b(ü|ue)ro'
        || '|urlaubsantwort|abwesenheit\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (de)', false
    ),
    (
        23, 'subject',
        '^\s*(r[ée]ponse automatique|absence\s*:|absent(e)?\s*:|absent(e)? du bureau'
        || '|message d.absence)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (fr)', false
    ),
    (
        24, 'subject',
        '^\s*(respuesta autom[áa]tica|fuera de (la )?oficina|mensaje de ausencia)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (es)', false
    ),
    (
        25, 'subject',
        '^\s*(automatisch antwoord|afwezig\s*:|afwezigheidsbericht|niet aanwezig'
        || '|buiten kantoor)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (nl)', false
    ),
    (
        26, 'subject',
        '^\s*(risposta automatica|fuori (sede|ufficio)|assente\s*:|risposta di assenza)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (it)', false
    ),
    (
        27, 'subject',
        '^\s*(resposta autom[áa]tica|fora do escrit[óo]rio|mensagem de aus[êe]ncia'
        || '|aus[êe]ncia\s*:)',
        null, null, 'out_of_office', 'subject: automatic reply or out of office (pt)', false
    ),
    (28, 'subject', '^\s*ausente\s*:', null, null, 'out_of_office', 'subject: absent (es, pt)',
        false),
    -- Exchange's X-Auto-Response-Suppress: Outlook sets it on person-written mail too, so
    -- it counts only with the "Automatic reply:" subject Exchange gives an out-of-office,
    -- here in the languages rules 21-28 do not cover.
    (
        29, 'header:x-auto-response-suppress', '\S',
        'subject',
        '^\s*(autosvar|automatisk svar|automaattinen vastaus|automatyczna odpowied'
        || '|automatick[áa] odpov|automatikus v[áa]lasz|otomatik yan[ıi]t|r[ăa]spuns automat)',
        'out_of_office', 'x-auto-response-suppress with an automatic reply subject', false
    ),
    -- A bare absence word as the whole subject (Gmail's vacation responder sends the
    -- subject its user typed: "OOO", "Vacation", "Away"), with a header by which a
    -- machine says it wrote the message: a person may title a mail "Vacation".
    (
        30, 'subject', '^\s*(ooo|vacation|holiday|away|on leave|out)\s*[!.]?\s*$',
        'automatic', '.', 'out_of_office', 'subject: an absence word, automatic (en)', false
    ),
    -- An absence phrase in the new text of a message an automatic header marks; each
    -- phrase ends at a word end (\M), "I am out" is not "I am outlining".
    (
        40, 'body',
        '(\mout of (the )?office\M|\mi am (currently )?(away|out|on (vacation|holiday|leave))\M'
        || '|\mi[''’]m (currently )?(away|out|on (vacation|holiday|leave))\M'
        || '|\mon (annual|parental|maternity|paternity|sick) leave\M'
        || '|\mlimited access to (e-?mail|my (e-?mail|inbox))\M|\mback in the office on\M'
        || '|\mreturning to the office\M|(\mwill|[''’]ll) (be back|return) on\M'
        || '|(\mwill|[''’]ll) be (away|out|travell?ing|on (vacation|holiday|leave))\M'
        || '|\maway from (the|my) (office|desk)\M|\mi am travell?ing\M|\mi[''’]m travell?ing\M'
        || '|(^|\n)\s*on (vacation|holiday|leave)\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (en)', false
    ),
    (
        41, 'body',
        '(\mnicht im b(ü|ue)ro\M|\mabwesend\M|\mim urlaub\M|\mau(ß|ss)er haus\M'
        || '|\mzur(ü|ue)ck am\M|\mwieder erreichbar\M|\mwieder im b(ü|ue)ro\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (de)', false
    ),
    (
        42, 'body',
        '(\mabsente? du bureau\M|\mje suis absente?\M|\men cong(é|e\M|[ée]s\M)'
        || '|\men vacances\M|\mde retour le\M|\mhors du bureau\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (fr)', false
    ),
    (
        43, 'body',
        '(\mfuera de (la )?oficina\M|\mde vacaciones\M|\mestoy ausente\M'
        || '|\mestar[ée] (de vuelta|fuera)\M|\mregreso el\M|\mvolver[ée] el\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (es)', false
    ),
    (
        44, 'body',
        '(\mafwezig\M|\mmet vakantie\M|\mniet op kantoor\M|\mben ik weer\M'
        || '|\mweer aanwezig\M|\mterug op\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (nl)', false
    ),
    (
        45, 'body',
        '(\mfuori (sede|ufficio)\M|\min ferie\M|\msono assente\M|\min vacanza\M'
        || '|\mrientrer(ò|o\M)|\mdi ritorno il\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (it)', false
    ),
    (
        46, 'body',
        '(\mfora do escrit[óo]rio\M|\mde f[ée]rias\M|\mem f[ée]rias\M|\mestou ausente\M'
        || '|\mestarei de volta\M|\mretorno (em|no dia)\M)',
        'automatic', '.', 'out_of_office', 'absence phrase in the body (pt)', false
    ),
    -- Other automatic mail (RFC 3834 and common practice): ticket acknowledgements,
    -- notifications. These headers say a machine wrote the message.
    (60, 'header:auto-submitted', '^(?!\s*no\s*$)\s*\S', null, null,
        'automatic', 'auto-submitted: %s', true),
    (61, 'header:x-autoreply', '^', null, null, 'automatic', 'x-autoreply', true),
    (62, 'header:x-autorespond', '^', null, null, 'automatic', 'x-autorespond', true),
    (63, 'header:precedence', '^\s*(bulk|junk|auto_reply)\s*$', null, null,
        'automatic', 'precedence: %s', true),
    (64, 'header:return-path', '^\s*<\s*>\s*$', null, null, 'automatic', 'empty return-path',
        true),
    -- List mail: a list relays what a person wrote too, so a list header backs no
    -- absence phrase, and a message through a list (a Google Group) that answers one of
    -- our sends is a reply.
    (65, 'header:precedence', '^\s*list\s*$', 'threaded', '^no$',
        'automatic', 'precedence: %s', false),
    (66, 'header:list-id', '\S', 'threaded', '^no$', 'automatic', 'list-id: mailing list', false),
    (67, 'header:list-unsubscribe', '\S', 'threaded', '^no$',
        'automatic', 'list-unsubscribe: list or bulk mail', false)
$function$;

-- What kind of automatic message this is and why (the first rule of
-- app._email_auto_reply_rules that matches), or no row's worth of data (kind and
-- reason null) for a human one. p_body is what the body rules read: the reply's new
-- text when the caller has it (api.record_inbound_email passes p_reply_text), so a
-- quoted email is not read as the sender's own words; lines quoted with '>' are left
-- out whatever the caller passed. p_answers_our_send: the message's In-Reply-To or
-- References name one of our sends (the 'threaded' pseudo-signal).
create or replace function app._email_classify_auto_reply(
    p_headers jsonb,
    p_subject text,
    p_body text,
    p_answers_our_send boolean default false
)
returns table (kind text, reason text)
language sql
immutable
set search_path = pg_catalog, pg_temp
as $function$
    with input as (
        select
            coalesce(p_headers, '{}') as headers,
            left(regexp_replace(left(p_body, 20000), '^[ \t]*>.*$', '', 'gn'), 8000) as body
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
                when r.also_signal = 'threaded' then
                    case when p_answers_our_send then 'yes' else 'no' end
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
        where h.marks_automatic
        order by h.priority
        limit 1
    )
    select
        h.kind,
        h.said || case when h.also_signal = 'automatic' then '; ' || a.said else '' end
    from hits as h
    left join automatic as a on true
    where h.also_signal is distinct from 'automatic' or a.said ~* h.also_pattern
    order by h.priority
    limit 1
$function$;
