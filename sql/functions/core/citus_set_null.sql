-- On a Citus database (docs/scale-out.md) a foreign key that includes the distribution
-- column cannot be ON DELETE SET NULL, not even with a column list
-- (FOREIGN KEY (org_id, owner_id) ... ON DELETE SET NULL (owner_id)). The distribution
-- step (intime/citus.py) re-adds each such key as NO ACTION and puts this BEFORE DELETE
-- row trigger on the referenced table: it clears the referencing column of the same org
-- first, so the key's end-of-statement check then passes, as SET NULL would have.
-- Arguments: the referencing table, its column, the referenced key column (org_id is
-- the tenant column on both sides; the key is a uuid, as intime/citus.py checks).
-- Unused on a single node. Owner-only (no grant); SECURITY DEFINER because SET NULL,
-- too, acts whatever the deleting role may update.
create or replace function app._tg_citus_set_null()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    -- Plain uuid parameters: Citus cannot ship a record parameter to a shard.
    execute format(
        'update %s as c set %I = null where c.org_id = $1 and c.%I = $2',
        tg_argv[0]::regclass,
        tg_argv[1],
        tg_argv[1]
    ) using old.org_id, (to_jsonb(old) ->> tg_argv[2])::uuid;
    return old;
end
$function$;
