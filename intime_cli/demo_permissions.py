"""The permissions part of ``intime demo`` (docs/permissions.md): the demo's SQL login, a
member, is refused a template edit; an admin grants members ``templates.manage``; the same
edit then goes through; the admin puts the role back on the default."""

from __future__ import annotations

import psycopg

from intime.db import actor
from intime_cli import queries as q
from intime_cli.seed import SeededOrg

EDIT = "update app.email_templates set subject_template = %(subject)s where slug = 'intro'"


def _try_edit(login: psycopg.Connection, subject: str) -> str:
    try:
        with login.transaction():
            cur = login.execute(EDIT, {"subject": subject})
    except psycopg.Error as exc:
        return f"refused: {exc.sqlstate} {exc.diag.message_primary}"
    return f"{cur.rowcount} template changed"


def run_permissions_demo(service_dsn: str, login_dsn: str, org: SeededOrg) -> bool:
    print("\n== Who may do what (docs/permissions.md)")
    with (
        psycopg.connect(login_dsn, autocommit=True) as login,
        psycopg.connect(service_dsn, autocommit=True) as service,
    ):
        before = _try_edit(login, "Hello {{ contact.first_name }}!")
        print(f"   a member (SQL login) edits the 'intro' email template: {before}")
        with actor(service, org.org_id, org.admin_id):
            service.execute(
                q.SET_ROLE_PERMISSION,
                {"role": "member", "permission": "templates.manage", "granted": True},
            )
        print("   the admin grants members templates.manage (api.set_role_permission)")
        after = _try_edit(login, "Hello {{ contact.first_name }}!")
        print(f"   the member edits it again: {after}")
        with actor(service, org.org_id, org.admin_id):
            service.execute(
                q.SET_ROLE_PERMISSION,
                {"role": "member", "permission": "templates.manage", "granted": None},
            )
        print("   the admin puts members back on the default (admins only)")
    ok = before.startswith("refused: IT003") and after == "1 template changed"
    print(f"   [{'ok' if ok else 'FAIL'}]")
    return ok
