-- A time-ordered UUID (RFC 9562 version 7, as PostgreSQL 18's uuidv7() without
-- its sub-millisecond counter): the first 48 bits are the Unix time in
-- milliseconds, the rest random. A table keyed by it takes new rows at the
-- right edge of its indexes; with random (version 4) keys, every insert lands
-- on a random leaf page of each index, which at 100,000 campaign sends cost
-- the tick twice the index work of an empty table (docs/campaigns.md). For
-- ids only: the time is readable from it, so a secret stays gen_random_uuid().
--
-- Inlined (docs/conventions.md, "Inlined SQL helpers"): one expression, no SET
-- clause. Volatile, as gen_random_uuid() is: a scalar SQL helper may be.
create or replace function app._uuid7()
returns uuid
language sql
volatile
as $function$
    select encode(
        set_bit(
            set_bit(
                overlay(
                    uuid_send(gen_random_uuid())
                    placing substring(
                        int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)
                        from 3
                    )
                    from 1 for 6
                ),
                52, 1
            ),
            53, 1
        ),
        'hex'
    )::uuid
$function$;
