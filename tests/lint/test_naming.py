"""The naming rule of docs/conventions.md, checked on a migrated database."""

from __future__ import annotations

import re

import psycopg

API_VERBS = {
    "activate", "add", "approve", "archive", "authenticate", "cancel", "check", "claim",
    "complete", "count", "create", "delegate", "delete", "enroll", "evaluate", "fail", "get",
    "ingest", "list", "maintain", "mark", "move", "pause", "preview", "purge", "queue", "read",
    "requeue",
    "recall",
    "decide", "end",
    "reconcile", "record", "reject", "remove", "renew", "replay", "resume", "retry", "revoke",
    "rotate", "run", "select", "send", "set", "start", "stop", "tick", "transition",
    "unsubscribe", "update", "validate", "verify",
}  # fmt: skip
APP_DOMAIN = re.compile(r"^_(tg|wf|campaign|email|notification|ops)_[a-z0-9_]+$")
# Helpers shared by several domains (no domain tag), and the three public app functions.
APP_SHARED = {
    "_act_for_org", "_actor_pin", "_actor_setting", "_api_token_is_live",
    "_citus_on_coordinator",
    "_citus_local_shard", "_citus_logical_name", "_citus_placement",
    "_keyed_mark", "_login_actor", "_login_row", "_may_notify", "_on_citus", "_on_every_node",
    "_pin_actor",
    "_pinned",
    "_apply_changes", "_assert_changes",
    "_assert_time_zone",
    "_distribute_tenant_table",
    "_enable_tenant_rls", "_enqueue_job", "_ensure_trigger", "_html_escape",
    "_has_permission", "_is_org_admin", "_is_service", "_require_permission",
    "_migration_status", "_missing_variables", "_render", "_render_check", "_render_pattern",
    "_render_template",
    "_require_org", "_require_send_rate", "_require_service", "_secret_hash", "_transaction_stamp",
    "_template_known_variables", "_template_unknown_variables", "_template_variables",
    "_template_assert_senders",
    "_url_encode", "_uuid7",
    "_is_time_zone", "now", "current_org_id", "current_user_id",
}  # fmt: skip

FUNCTIONS = (
    "select distinct p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
    "where n.nspname = %s order by 1"
)


def names(conn: psycopg.Connection, schema: str) -> list[str]:
    return [name for (name,) in conn.execute(FUNCTIONS, (schema,))]


def test_every_api_function_is_verb_noun(admin: psycopg.Connection) -> None:
    api = names(admin, "api")
    assert len(api) > 80
    wrong = [n for n in api if n.split("_")[0] not in API_VERBS or "_" not in n]
    assert wrong == [], "api functions not named verb_noun (docs/conventions.md)"


def test_every_tick_is_tick_domain(admin: psycopg.Connection) -> None:
    api = names(admin, "api")
    ticks = [n for n in api if re.search(r"(^|_)(tick|sweep)(_|$)", n)]
    assert ticks == [
        "tick_campaigns",
        "tick_notifications",
        "tick_workflows",
    ]


def test_every_app_helper_carries_its_domain_or_is_shared(admin: psycopg.Connection) -> None:
    app = names(admin, "app")
    wrong = [n for n in app if not APP_DOMAIN.match(n) and n not in APP_SHARED]
    assert wrong == [], "app helpers without a domain tag (docs/conventions.md)"
    assert set(app) >= APP_SHARED, "a shared helper listed here no longer exists"


def test_every_update_function_takes_a_jsonb_patch(admin: psycopg.Connection) -> None:
    rows = admin.execute(
        "select p.proname, pg_get_function_identity_arguments(p.oid) from pg_proc p "
        "where p.pronamespace = 'api'::regnamespace and p.proname like 'update\\_%' order by 1"
    ).fetchall()
    assert rows
    for name, args in rows:
        noun = name.removeprefix("update_")
        assert re.fullmatch(r"p_\w+_id uuid, p_changes jsonb", args), (name, args, noun)
