"""Operations from the command line: orgs, users, tokens, executions, campaigns,
approvals and the queue.

Each command that acts on an organization takes ``--org SLUG`` and runs as that org
through ``api.set_actor`` on an ``intime_service`` connection: as the engine (the org's
system actor, an admin's powers) by default, or as a user with ``--as EMAIL`` (that
user's permissions and row-level security apply, exactly as in the web app). The slug
and the email are resolved on the admin connection (DATABASE_URL), which reads past
row-level security. Every listing prints a table, or JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import uuid
from collections.abc import Callable, Iterator
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from intime.db import actor
from intime_cli import queries as q
from intime_cli.failures import ADMIN_HINT, Failure, connect, login_of
from intime_cli.output import Column, print_rows, text

PGQ_HINT = 'pgq --schema queue --pg-dsn "$DATABASE_URL"'


@dataclasses.dataclass
class Databases:
    """Where an ops command connects; each connection opens on first use."""

    admin_dsn: str | None  # None: INTIME_SERVICE_URL alone, no admin connection
    service_dsn: str
    admin_label: str
    stack: contextlib.ExitStack
    _admin: psycopg.Connection | None = None
    _service: psycopg.Connection | None = None

    @property
    def admin(self) -> psycopg.Connection:
        if self.admin_dsn is None:
            raise Failure(
                "finding an organization by its slug needs DATABASE_URL (a superuser); "
                "only INTIME_SERVICE_URL is set",
                ADMIN_HINT,
            )
        if self._admin is None:
            self._admin = self.stack.enter_context(
                connect(self.admin_dsn, self.admin_label, autocommit=True)
            )
            row = self._admin.execute(q.ADMIN_BYPASSES_RLS).fetchone()
            if not (row and row[0]):
                raise Failure(
                    f"{self.admin_label} connects as {login_of(self.admin_dsn)}, "
                    "which is no superuser and cannot find an organization by its slug",
                    ADMIN_HINT,
                )
        return self._admin

    @property
    def service(self) -> psycopg.Connection:
        if self._service is None:
            self._service = self.stack.enter_context(
                connect(self.service_dsn, "the intime_service login")
            )
        return self._service

    def org(self, slug: str) -> uuid.UUID:
        row = self.admin.execute(q.FIND_ORG_BY_SLUG, {"slug": slug}).fetchone()
        if row is None:
            raise Failure(
                f"no organization with slug {slug!r}",
                "intime org create --slug SLUG --name NAME creates one",
            )
        value = row[0]
        assert isinstance(value, uuid.UUID)
        return value

    def user(self, org_id: uuid.UUID, slug: str, email: str) -> uuid.UUID:
        row = self.admin.execute(
            q.FIND_USER_BY_EMAIL, {"org_id": org_id, "email": email}
        ).fetchone()
        if row is None:
            raise Failure(
                f"no user {email} in organization {slug}",
                f"intime user create --org {slug} --email EMAIL --name NAME creates one",
            )
        if not row[1]:
            raise Failure(f"user {email} of organization {slug} is deactivated")
        value = row[0]
        assert isinstance(value, uuid.UUID)
        return value

    @contextlib.contextmanager
    def acting(self, args: argparse.Namespace) -> Iterator[psycopg.Connection]:
        """A transaction on the service connection as ``--org`` (and ``--as``)."""
        org_id = self.org(args.org)
        email = getattr(args, "as_email", None)
        user_id = self.user(org_id, args.org, email) if email else None
        with actor(self.service, org_id, user_id):
            yield self.service

    def rows(
        self, args: argparse.Namespace, query: LiteralString, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        with self.acting(args) as conn:
            cur = conn.cursor(row_factory=dict_row)
            return cur.execute(query, params or {}).fetchall()

    def has_function(self, signature: str) -> bool:
        row = self.service.execute(q.FUNCTION_EXISTS, {"signature": signature}).fetchone()
        self.service.rollback()
        return bool(row and row[0])


Handler = Callable[[argparse.Namespace, Databases], int]


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id (a UUID)") from None


def _positive(high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not 1 <= number <= high:
            raise argparse.ArgumentTypeError(f"must be from 1 to {high}")
        return number

    return parse


def _cursor(value: str) -> tuple[datetime.datetime, uuid.UUID]:
    at, _, ident = value.rpartition(",")
    try:
        return datetime.datetime.fromisoformat(at), uuid.UUID(ident)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a cursor (the CREATED_AT,ID that the previous page printed)"
        ) from None


# -- org, user -------------------------------------------------------------------


def org_create(args: argparse.Namespace, dbs: Databases) -> int:
    with dbs.service.transaction():
        row = dbs.service.execute(
            q.CREATE_ORGANIZATION,
            {"name": args.name, "slug": args.slug, "timezone": args.timezone},
        ).fetchone()
    assert row is not None
    print(f"created organization {args.slug} ({args.name}), id {row[0]}")
    print(
        f"next: intime user create --org {args.slug} --email EMAIL --name NAME --role admin"
        + _database_flag(args)
    )
    return 0


def user_create(args: argparse.Namespace, dbs: Databases) -> int:
    created_login = False
    if (
        args.db_role
        and not dbs.admin.execute(q.LOGIN_ROLE_EXISTS, {"role": args.db_role}).fetchone()
    ):
        dbs.admin.execute(
            sql.SQL("create role {} login in role intime_user").format(sql.Identifier(args.db_role))
        )
        created_login = True
    try:
        with dbs.acting(args) as conn:
            row = conn.execute(
                q.CREATE_USER,
                {
                    "email": args.email,
                    "full_name": args.name,
                    "role": args.role,
                    "manager_id": None,
                    "timezone": args.timezone,
                    "db_role": args.db_role,
                },
            ).fetchone()
    except BaseException:
        if created_login:
            dbs.admin.execute(sql.SQL("drop role {}").format(sql.Identifier(args.db_role)))
        raise
    assert row is not None
    print(f"created {args.role} {args.email} in {args.org}, id {row[0]}")
    if args.db_role:
        made = "created login role" if created_login else "mapped login role"
        print(
            f"{made} {args.db_role}: its SQL sessions act as {args.email}"
            + (
                f" (no password yet: ALTER ROLE {args.db_role} PASSWORD '...')"
                if created_login
                else ""
            )
        )
    print(f"next: intime token create --org {args.org} --email {args.email}" + _database_flag(args))
    return 0


def _database_flag(args: argparse.Namespace) -> str:
    database = getattr(args, "database", None)
    return f" --database {database}" if database else ""


# -- tokens ------------------------------------------------------------------------


def token_create(args: argparse.Namespace, dbs: Databases) -> int:
    org_id = dbs.org(args.org)
    user_id = dbs.user(org_id, args.org, args.email)
    expires = (
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=args.expires_in_days)
        if args.expires_in_days
        else None
    )
    # Made by the org's engine (an admin's powers), or by --as (an admin, or the user).
    as_user = dbs.user(org_id, args.org, args.as_email) if args.as_email else None
    with actor(dbs.service, org_id, as_user):
        row = dbs.service.execute(
            q.CREATE_API_TOKEN_OP,
            {"name": args.name, "user_id": user_id, "expires_at": expires},
        ).fetchone()
    assert row is not None
    token_id, token = row
    print(f"token id: {token_id}")
    print(f"token:    {token}   (shown once)")
    return 0


TOKEN_COLUMNS = (
    Column("token_id", "id", wrap=False),
    Column("user_email", "user"),
    Column("name", "name"),
    Column("token_prefix", "prefix", wrap=False),
    Column("created_at", "created"),
    Column("last_used_at", "last used"),
    Column("expires_at", "expires"),
    Column("revoked_at", "revoked"),
)


def token_list(args: argparse.Namespace, dbs: Databases) -> int:
    org_id = dbs.org(args.org)
    user_id = dbs.user(org_id, args.org, args.email) if args.email else None
    rows = dbs.rows(args, q.LIST_API_TOKENS, {"user_id": user_id})
    print_rows(
        rows,
        TOKEN_COLUMNS,
        as_json=args.json,
        title=f"API tokens of {args.org}",
        empty=f"no API tokens in {args.org}",
    )
    return 0


def token_revoke(args: argparse.Namespace, dbs: Databases) -> int:
    rows = dbs.rows(args, q.REVOKE_API_TOKEN, {"token_id": args.token_id})
    revoked = rows[0]["revoke_api_token"]
    print(f"revoked token {args.token_id}" if revoked else f"token {args.token_id} was revoked")
    return 0


# -- executions ----------------------------------------------------------------------


def _steps(row: dict[str, Any]) -> str:
    total = row.get("total_steps")
    index = row.get("current_step_index")
    return f"{text(index)}/{text(total)}"


EXECUTION_COLUMNS = (
    Column("execution_id", "id", wrap=False),
    Column("workflow_name", "workflow"),
    Column("entity_type", "entity"),
    Column("status", "status"),
    Column("waiting_for", "waiting for"),
    Column("created_at", "created"),
    Column("error_message", "error"),
)
TIMELINE_COLUMNS = (
    Column("occurred_at", "at"),
    Column("kind", "kind"),
    Column("name", "name"),
    Column("status", "status"),
    Column("message", "message"),
)


def executions_list(args: argparse.Namespace, dbs: Databases) -> int:
    before_at, before_id = args.cursor or (None, None)
    rows = dbs.rows(
        args,
        q.LIST_EXECUTIONS,
        {
            "status": args.status,
            "workflow_id": args.workflow,
            "entity_type": args.entity_type,
            "entity_id": args.entity,
            "before_created_at": before_at,
            "before_id": before_id,
            "limit": args.limit,
        },
    )
    for row in [] if args.json else rows:  # JSON: the api function's columns as they are
        row["steps"] = _steps(row)
        row["may"] = ", ".join(
            verb for verb in ("retry", "cancel", "pause", "resume") if row.get(f"can_{verb}")
        )
    columns = (
        *EXECUTION_COLUMNS[:4],
        Column("steps", "step"),
        *EXECUTION_COLUMNS[4:],
        Column("may", "you may"),
    )
    print_rows(
        rows,
        columns,
        as_json=args.json,
        title=f"Workflow executions of {args.org}, newest first",
        empty="no executions",
    )
    if rows and len(rows) == args.limit and not args.json:
        last = rows[-1]
        print(f"more: --cursor '{last['created_at'].isoformat()},{last['execution_id']}'")
    return 0


def executions_show(args: argparse.Namespace, dbs: Databases) -> int:
    rows = dbs.rows(args, q.GET_EXECUTION_TIMELINE, {"execution_id": args.execution_id})
    title = f"Execution {args.execution_id}"
    if not args.json:  # JSON: the timeline's rows as they are
        for row in dbs.rows(args, q.GET_EXECUTION, {"execution_id": args.execution_id}):
            may = ", ".join(
                verb for verb in ("retry", "cancel", "pause", "resume") if row.get(f"can_{verb}")
            )
            title += (
                f": {row['workflow_name']} v{row['workflow_version']}, {row['status']}"
                f"; you may {may or 'do nothing'}"
            )
    print_rows(rows, TIMELINE_COLUMNS, as_json=args.json, title=title, empty="no timeline")
    return 0


def executions_control(args: argparse.Namespace, dbs: Databases) -> int:
    queries: dict[str, LiteralString] = {
        "retry": q.RETRY_EXECUTION,
        "cancel": q.CANCEL_EXECUTION,
        "pause": q.PAUSE_EXECUTION,
        "resume": q.RESUME_EXECUTION,
    }
    params: dict[str, Any] = {"execution_id": args.execution_id}
    if args.action == "cancel":
        params |= {"reason": args.reason, "keep_changes": args.keep_changes}
    dbs.rows(args, queries[args.action], params)
    done = {"retry": "retried", "cancel": "cancelled", "pause": "paused", "resume": "resumed"}
    print(f"{done[args.action]} execution {args.execution_id}")
    return 0


# -- campaigns ----------------------------------------------------------------------------

CAMPAIGN_COLUMNS = (
    Column("campaign_id", "id", wrap=False),
    Column("name", "name"),
    Column("status", "status"),
    Column("owner_name", "owner"),
    Column("step_count", "steps"),
    Column("enrolled", "enrolled"),
    Column("active", "active"),
    Column("completed", "completed"),
    Column("replied", "replied"),
    Column("created_at", "created"),
)
STATS_COLUMNS = (
    Column("scope", "scope"),
    Column("step_number", "step"),
    Column("channel", "channel"),
    Column("ab_variant", "arm"),
    Column("enrolled", "enrolled"),
    Column("sent", "sent"),
    Column("delivered", "delivered"),
    Column("opened", "opened"),
    Column("clicked", "clicked"),
    Column("replied", "replied"),
    Column("bounced", "bounced"),
    Column("unsubscribed", "unsub"),
    Column("completed", "completed"),
)


def campaigns_list(args: argparse.Namespace, dbs: Databases) -> int:
    rows = dbs.rows(args, q.LIST_CAMPAIGNS, {"status": args.status, "limit": args.limit})
    print_rows(
        rows,
        CAMPAIGN_COLUMNS,
        as_json=args.json,
        title=f"Campaigns of {args.org}",
        empty="no campaigns",
    )
    return 0


def campaigns_stats(args: argparse.Namespace, dbs: Databases) -> int:
    rows = dbs.rows(args, q.GET_CAMPAIGN_STATS, {"campaign_id": args.campaign_id})
    print_rows(
        rows,
        STATS_COLUMNS,
        as_json=args.json,
        title=f"Campaign {args.campaign_id}",
        empty="no statistics",
    )
    return 0


# -- approvals ----------------------------------------------------------------------------

APPROVAL_COLUMNS = (
    Column("approval_id", "id", wrap=False),
    Column("title", "what"),
    Column("entity_type", "entity"),
    Column("requested_at", "requested"),
    Column("due_at", "due"),
    Column("execution_id", "execution", wrap=False),
)


def approvals_list(args: argparse.Namespace, dbs: Databases) -> int:
    who = args.user or args.as_email
    if who:
        args.as_email = who
        rows = dbs.rows(args, q.LIST_MY_APPROVALS)
        columns: tuple[Column, ...] = APPROVAL_COLUMNS
        title = f"Approvals waiting for {who}, oldest first"
    else:
        rows = dbs.rows(args, q.LIST_PENDING_APPROVALS, {"limit": args.limit})
        columns = (APPROVAL_COLUMNS[0], Column("approver_email", "approver"), *APPROVAL_COLUMNS[1:])
        title = f"Pending approvals in {args.org}, oldest first"
    print_rows(rows, columns, as_json=args.json, title=title, empty="no pending approvals")
    return 0


# -- queue ------------------------------------------------------------------------------------

QUEUE_COLUMNS = (
    Column("entrypoint", "entrypoint"),
    Column("status", "status"),
    Column("jobs", "jobs"),
    Column("oldest_at", "oldest"),
)
FAILED_COLUMNS = (
    Column("job_id", "job"),
    Column("entrypoint", "entrypoint"),
    Column("org_id", "org", wrap=False),
    Column("failed_at", "failed"),
    Column("error", "error"),
)


def queue(args: argparse.Namespace, dbs: Databases) -> int:
    conn = dbs.service
    # api.get_queue_stats / api.list_failed_jobs when the database has them; pgqueuer's
    # table read directly (the service role may) on a database migrated before them.
    modern = dbs.has_function("api.get_queue_stats()")
    cur = conn.cursor(row_factory=dict_row)
    with conn.transaction():
        stats = cur.execute(q.QUEUE_STATS if modern else q.QUEUE_STATS_RAW).fetchall()
        failed = cur.execute(
            q.LIST_FAILED_JOBS if modern else q.LIST_FAILED_JOBS_RAW, {"limit": args.failed}
        ).fetchall()
    if args.json:
        from intime_cli.output import print_json

        print_json({"queue": stats, "failed": failed})
        return 0
    print_rows(stats, QUEUE_COLUMNS, as_json=False, title="Queue", empty="the queue is empty")
    print_rows(
        failed, FAILED_COLUMNS, as_json=False, title="Failed jobs", empty="no failed jobs held"
    )
    print(f"more: {PGQ_HINT} dashboard | failed | requeue JOB_ID ...")
    return 0


# -- the parser ----------------------------------------------------------------------------


def add_commands(sub: argparse._SubParsersAction[Any], database: argparse.ArgumentParser) -> None:
    """The ops commands, each with ``--database`` (``database``, a parent parser)."""
    org_flag = argparse.ArgumentParser(add_help=False)
    org_flag.add_argument("--org", required=True, metavar="SLUG", help="the organization")
    org_flag.add_argument(
        "--as",
        dest="as_email",
        metavar="EMAIL",
        help="act as this user of the org, with their permissions "
        "(default: the org's engine, an admin's powers)",
    )
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    acting = [database, org_flag]
    _org_and_user_commands(sub, database, acting)
    _token_commands(sub, acting, listing)
    _execution_commands(sub, acting, listing)
    _campaign_and_approval_commands(sub, acting, listing)

    p = sub.add_parser(
        "queue",
        help="job queue depth and failed jobs (more with pgq)",
        parents=[database, listing],
        description="Queue depth by entrypoint and status, and the failed jobs held. "
        f"pgqueuer's own CLI does more: {PGQ_HINT} dashboard, ... failed, "
        "... requeue JOB_ID.",
    )
    p.add_argument(
        "--failed", type=_positive(500), default=20, metavar="N", help="failed jobs to show"
    )
    p.set_defaults(ops=queue)


Parents = list[argparse.ArgumentParser]


def _org_and_user_commands(
    sub: argparse._SubParsersAction[Any], database: argparse.ArgumentParser, acting: Parents
) -> None:
    org = sub.add_parser("org", help="organizations")
    org_sub = org.add_subparsers(dest="action", required=True)
    p = org_sub.add_parser("create", help="create an organization", parents=[database])
    p.add_argument("--slug", required=True, help="2-63 lower-case letters, digits and dashes")
    p.add_argument("--name", required=True, help="its display name")
    p.add_argument("--timezone", default="UTC", help="an IANA time zone")
    p.set_defaults(ops=org_create)

    user = sub.add_parser("user", help="users of an organization")
    user_sub = user.add_subparsers(dest="action", required=True)
    p = user_sub.add_parser("create", help="create a user", parents=acting)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True, help="full name")
    p.add_argument("--role", choices=("admin", "manager", "member"), default="member")
    p.add_argument("--timezone", default="UTC", help="an IANA time zone")
    p.add_argument(
        "--db-role",
        metavar="LOGIN",
        help="map this PostgreSQL login to the user (created, in intime_user, "
        "when it does not exist)",
    )
    p.set_defaults(ops=user_create)


def _token_commands(
    sub: argparse._SubParsersAction[Any], acting: Parents, listing: argparse.ArgumentParser
) -> None:
    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    p = token_sub.add_parser("create", help="create a token for a user", parents=acting)
    p.add_argument("--email", required=True, help="the user the token authenticates")
    p.add_argument("--name", default="cli", help="a label for the token")
    p.add_argument(
        "--expires-in-days", type=_positive(3650), metavar="DAYS", help="(default: never)"
    )
    p.set_defaults(ops=token_create)
    p = token_sub.add_parser("list", help="list tokens (no secrets)", parents=[*acting, listing])
    p.add_argument("--email", help="only this user's tokens")
    p.set_defaults(ops=token_list)
    p = token_sub.add_parser("revoke", help="revoke a token", parents=acting)
    p.add_argument("token_id", type=_uuid, metavar="TOKEN_ID", help="the id token list shows")
    p.set_defaults(ops=token_revoke)


def _execution_commands(
    sub: argparse._SubParsersAction[Any], acting: Parents, listing: argparse.ArgumentParser
) -> None:
    executions = sub.add_parser("executions", help="workflow executions")
    ex_sub = executions.add_subparsers(dest="action", required=True)
    p = ex_sub.add_parser("list", help="newest first", parents=[*acting, listing])
    p.add_argument(
        "--status", help="pending, running, waiting, paused, completed, failed or cancelled"
    )
    p.add_argument("--workflow", type=_uuid, metavar="ID", help="one workflow's")
    p.add_argument("--entity-type", help="deal, contact, ...")
    p.add_argument("--entity", type=_uuid, metavar="ID", help="one entity's")
    p.add_argument("--limit", type=_positive(200), default=50, help="rows per page, 1-200")
    p.add_argument("--cursor", type=_cursor, help="the next page, as the previous one printed")
    p.set_defaults(ops=executions_list)
    p = ex_sub.add_parser(
        "show",
        help="an execution's timeline: steps, actions, approvals, log lines",
        parents=[*acting, listing],
    )
    p.add_argument("execution_id", type=_uuid, metavar="EXECUTION_ID")
    p.set_defaults(ops=executions_show)
    for action, help_text in (
        ("retry", "restart a failed execution from its failed step"),
        ("cancel", "cancel an execution (an open approval is withdrawn as a rejection)"),
        ("pause", "pause an active execution"),
        ("resume", "resume a paused execution"),
    ):
        p = ex_sub.add_parser(action, help=help_text, parents=acting)
        p.add_argument("execution_id", type=_uuid, metavar="EXECUTION_ID")
        if action == "cancel":
            p.add_argument("--reason")
            p.add_argument(
                "--keep-changes", action="store_true", help="admins: cancel outright, undo nothing"
            )
        p.set_defaults(ops=executions_control)


def _campaign_and_approval_commands(
    sub: argparse._SubParsersAction[Any], acting: Parents, listing: argparse.ArgumentParser
) -> None:
    campaigns = sub.add_parser("campaigns", help="campaigns")
    c_sub = campaigns.add_subparsers(dest="action", required=True)
    p = c_sub.add_parser("list", help="campaigns with their counts", parents=[*acting, listing])
    p.add_argument("--status", help="draft, active, paused, completed or archived")
    p.add_argument("--limit", type=_positive(500), default=100, help="rows, 1-500")
    p.set_defaults(ops=campaigns_list)
    p = c_sub.add_parser(
        "stats", help="the funnel per step and A/B arm", parents=[*acting, listing]
    )
    p.add_argument("campaign_id", type=_uuid, metavar="CAMPAIGN_ID")
    p.set_defaults(ops=campaigns_stats)

    approvals = sub.add_parser("approvals", help="workflow approvals")
    a_sub = approvals.add_subparsers(dest="action", required=True)
    p = a_sub.add_parser(
        "list",
        help="pending approvals: a user's (--user), else the whole org's",
        parents=[*acting, listing],
    )
    p.add_argument("--user", metavar="EMAIL", help="those waiting for this user, as that user")
    p.add_argument(
        "--limit", type=_positive(500), default=100, help="rows, 1-500 (the whole org's)"
    )
    p.set_defaults(ops=approvals_list)
