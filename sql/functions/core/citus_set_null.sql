-- On a Citus database (docs/scale-out.md) a foreign key that includes the distribution
-- column cannot be ON DELETE SET NULL, not even with a column list
-- (FOREIGN KEY (org_id, owner_id) ... ON DELETE SET NULL (owner_id)). The distribution
-- step (intime/citus.py) re-adds each such key as NO ACTION and puts this BEFORE DELETE
-- row trigger on the referenced table: it clears the referencing column of the same org
-- first, so the key's end-of-statement check then passes, as SET NULL would have.
-- Arguments: the referencing table, its column, the referenced key column (org_id is
-- the tenant column on both sides). Unused on a single node. Owner-only (no grant);
-- SECURITY DEFINER because SET NULL, too, acts whatever the deleting role may update.
create or replace function app._tg_citus_set_null()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
begin
    execute format(
        'update %s as c set %I = null where c.org_id = ($1).org_id and c.%I = ($1).%I',
        tg_argv[0]::regclass,
        tg_argv[1],
        tg_argv[1],
        tg_argv[2]
    ) using old;
    return old;
end
$function$;
