-- Generic trigger functions shared by the entity tables.

-- Who wrote a row, and when, is the engine's to record. These columns are
-- stamped on insert (when a user is in context) and frozen on update.
-- jsonb_populate_record ignores keys a table lacks, so one function serves
-- every table.

-- BEFORE UPDATE, per row: stamp updated_at and updated_by; keep the creation
-- stamps (created_at, created_by, author_id, submitted_by, placed_by) as they
-- were, whatever the UPDATE wrote.
create or replace function app._tg_touch()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_old jsonb := to_jsonb(old);
begin
    -- A key the table lacks is null here and ignored by jsonb_populate_record.
    new := jsonb_populate_record(
        new,
        jsonb_build_object(
            'updated_at', app.now(),
            'updated_by', app.current_user_id(),
            'created_at', v_old -> 'created_at',
            'created_by', v_old -> 'created_by',
            'author_id', v_old -> 'author_id',
            'submitted_by', v_old -> 'submitted_by',
            'placed_by', v_old -> 'placed_by'
        )
    );
    return new;
end
$function$;

-- BEFORE INSERT, per row: when a user is in context, the row is theirs and
-- new: created_by, author_id, submitted_by and placed_by are that user,
-- updated_by is empty and created_at is now, whatever the client wrote. The
-- service acting as the system (an import) may set them.
create or replace function app._tg_stamp_created()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_user_id uuid := app.current_user_id();
begin
    if v_user_id is not null then
        new := jsonb_populate_record(
            new,
            jsonb_build_object(
                'created_by', v_user_id,
                'author_id', v_user_id,
                'submitted_by', v_user_id,
                'placed_by', v_user_id,
                'updated_by', null,
                'created_at', app.now()
            )
        );
    end if;
    return new;
end
$function$;

-- BEFORE UPDATE OF id, org_id, per row: keys never change. History joins old
-- and new rows on them, and a row never moves between organizations.
create or replace function app._tg_immutable_keys()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $function$
begin
    if new.id is distinct from old.id or new.org_id is distinct from old.org_id then
        raise exception using
            errcode = 'IT005',
            message = format('%s.id and org_id cannot change', tg_table_name);
    end if;
    return new;
end
$function$;

-- AFTER INSERT/UPDATE/DELETE, per statement, with transition tables
-- new_rows/old_rows: write entity_history set-based, one row per changed
-- field for updates and one per row for creates and deletes.
-- tg_argv[0] is the entity type. One function per event, because each
-- event has its own transition tables.
-- A statement that reads a transition table reads no table (on a Citus worker
-- a statement that touches a distributed table cannot see a transition table,
-- docs/scale-out.md): each computes the history rows from the transition
-- tables alone, in chunks of 5,000 rows as arrays, and writes each chunk from
-- its arrays. Only what history keeps crosses over (the changed fields, not the
-- rows), a chunk at a time, so no array grows with the statement.

create or replace function app._tg_entity_history_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_chunk record;
begin
    -- Materialized CTEs compute each row's jsonb once; a flattened subquery
    -- would recompute to_jsonb() for every field it is compared on.
    -- EXECUTE: planned for this statement's row counts. A static query's plan
    -- is kept per connection with the row count it first saw, so a bulk
    -- UPDATE after a single-row one would join with nested loops (quadratic).
    for v_chunk in execute '
        with
        n as materialized (
            select r.org_id, r.id, to_jsonb(r) as doc from new_rows as r
        ),

        o as materialized (
            select r.org_id, r.id, to_jsonb(r) as doc from old_rows as r
        ),

        changed as (
            select
                n.org_id, n.id, f.key, o.doc -> f.key as old_value, f.value as new_value,
                (row_number() over () - 1) / $1 as chunk
            from n
            inner join o on n.org_id = o.org_id and n.id = o.id
            cross join lateral jsonb_each(n.doc) as f
            where
                f.key not in (''updated_at'', ''updated_by'')
                and (o.doc -> f.key) is distinct from f.value
        )

        select
            array_agg(c.org_id) as org_ids, array_agg(c.id) as ids, array_agg(c.key) as keys,
            array_agg(c.old_value) as old_values, array_agg(c.new_value) as new_values
        from changed as c
        group by c.chunk'
        using 5000
    loop
        insert into app.entity_history (
            org_id, entity_type, entity_id, change_type, field_name, old_value, new_value,
            changed_by
        )
        select x.org_id, tg_argv[0], x.id, 'updated', x.key, x.old_value, x.new_value, v_actor
        from unnest(
            v_chunk.org_ids, v_chunk.ids, v_chunk.keys, v_chunk.old_values, v_chunk.new_values
        ) as x (org_id, id, key, old_value, new_value);
    end loop;
    return null;
end
$function$;

create or replace function app._tg_entity_history_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_chunk record;
begin
    for v_chunk in
        select array_agg(r.org_id) as org_ids, array_agg(r.id) as ids
        from (
            select n.org_id, n.id, (row_number() over () - 1) / 5000 as chunk
            from new_rows as n
        ) as r
        group by r.chunk
    loop
        insert into app.entity_history (org_id, entity_type, entity_id, change_type, changed_by)
        select x.org_id, tg_argv[0], x.id, 'created', v_actor
        from unnest(v_chunk.org_ids, v_chunk.ids) as x (org_id, id);
    end loop;
    return null;
end
$function$;

create or replace function app._tg_entity_history_delete()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_org_ids uuid [] := array(select distinct r.org_id from old_rows as r);
    v_chunk record;
begin
    -- Not the rows of an organization deleted in the same statement: what is
    -- left of them is nothing to keep history for.
    v_org_ids := array(
        select x.id from unnest(v_org_ids) as x (id)
        where exists (select 1 from app.organizations as o where o.id = x.id)
    );
    for v_chunk in
        select array_agg(r.org_id) as org_ids, array_agg(r.id) as ids, array_agg(r.doc) as docs
        from (
            select
                d.org_id, d.id, to_jsonb(d) as doc,
                (row_number() over () - 1) / 5000 as chunk
            from old_rows as d
            where d.org_id = any(v_org_ids)
        ) as r
        group by r.chunk
    loop
        insert into app.entity_history (
            org_id, entity_type, entity_id, change_type, old_value, changed_by
        )
        select x.org_id, tg_argv[0], x.id, 'deleted', x.doc, v_actor
        from unnest(v_chunk.org_ids, v_chunk.ids, v_chunk.docs) as x (org_id, id, doc);
    end loop;
    return null;
end
$function$;
