-- An org's delete also removes its rows in the tables without a foreign key
-- to it (app._tg_organizations_purge).
select app._ensure_trigger(
    p_table => 'app.organizations'::regclass,
    p_name => 'organizations_purge',
    p_body => 'after delete on %s referencing old table as old_rows '
    || 'for each statement execute function app._tg_organizations_purge()'
);
