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
-- tables alone, as arrays, and writes them from the arrays. Only what history
-- keeps crosses over: the keys of created rows, the changed fields of updated
-- ones (not their rows), and deleted rows 5,000 at a time. An array is bounded
-- (1 GB): an UPDATE whose changed values pass it in one statement fails.

create or replace function app._tg_entity_history_update()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $function$
declare
    v_actor uuid := app.current_user_id();
    v_org_ids uuid [];
    v_ids uuid [];
    v_keys text [];
    v_old_values jsonb [];
    v_new_values jsonb [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    -- The changed fields, from the transition tables alone; then history, from
    -- their arrays. Materialized CTEs compute each row's jsonb once; a flattened
    -- subquery would recompute to_jsonb() for every field it is compared on.
    -- EXECUTE: planned for this statement's row counts. A static query's plan
    -- is kept per connection with the row count it first saw, so a bulk
    -- UPDATE after a single-row one would join with nested loops (quadratic).
    execute '
        with
        n as materialized (
            select r.org_id, r.id, to_jsonb(r) as doc from new_rows as r
        ),

        o as materialized (
            select r.org_id, r.id, to_jsonb(r) as doc from old_rows as r
        )

        select
            array_agg(n.org_id), array_agg(n.id), array_agg(f.key), array_agg(o.doc -> f.key),
            array_agg(f.value)
        from n
        inner join o on n.org_id = o.org_id and n.id = o.id
        cross join lateral jsonb_each(n.doc) as f
        where
            f.key not in (''updated_at'', ''updated_by'')
            and (o.doc -> f.key) is distinct from f.value'
    into v_org_ids, v_ids, v_keys, v_old_values, v_new_values;
    if v_ids is null then
        return null;
    end if;
    insert into app.entity_history (
        org_id, entity_type, entity_id, change_type, field_name, old_value, new_value,
        changed_by
    )
    select x.org_id, tg_argv[0], x.id, 'updated', x.key, x.old_value, x.new_value, v_actor
    from unnest(v_org_ids, v_ids, v_keys, v_old_values, v_new_values)
        as x (org_id, id, key, old_value, new_value);
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
    v_org_ids uuid [];
    v_ids uuid [];
begin
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from new_rows) then
        return null;
    end if;
    select array_agg(r.org_id), array_agg(r.id) into v_org_ids, v_ids from new_rows as r;
    insert into app.entity_history (org_id, entity_type, entity_id, change_type, changed_by)
    select x.org_id, tg_argv[0], x.id, 'created', app.current_user_id()
    from unnest(v_org_ids, v_ids) as x (org_id, id);
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
    -- Citus fires a statement trigger on every shard a statement visits, with
    -- no rows on most: nothing to do (docs/scale-out.md).
    if not exists (select 1 from old_rows) then
        return null;
    end if;
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
