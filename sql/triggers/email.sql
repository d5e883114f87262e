-- Email: every suppression added or lifted is audited in
-- app.suppression_changes, by whoever did it (the engine too: a bounce, an
-- unsubscribe).

select app._ensure_trigger(
    p_table => 'app.suppressions',
    p_name => 'suppressions_audit',
    p_body => 'after insert or delete on %s for each row '
    || 'execute function app._tg_suppression_audit()'
);
