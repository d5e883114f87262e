"""One line for every way a command fails: what went wrong, and a hint.

``main`` catches what a command raises and prints ``describe(exc)`` on stderr instead of a
traceback: a connection that failed names its URL (password masked) and what to check; a
privilege the admin role lacks names the role and what it needs; an error raised by InTime's
SQL (SQLSTATE IT...) prints its code, message and hint.
"""

from __future__ import annotations

import getpass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from intime.errors import InTimeError

CONNECT_HINT = "check that PostgreSQL runs there and accepts the connection, and the user/password"
ADMIN_HINT = (
    "DATABASE_URL must be a superuser: intime db migrate creates roles, and the org, user, "
    "token, executions, campaigns, approvals and queue commands read every organization past "
    "row-level security; intime web and intime worker need only INTIME_SERVICE_URL"
)


class Failure(Exception):
    """A command that cannot do what was asked: one line, a hint, exit ``status``."""

    def __init__(
        self, message: str, hint: str | None = None, *, status: int = 1, code: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.code = code


def mask_url(dsn: str) -> str:
    """``dsn`` with its password replaced by ``***`` (URL or key=value form)."""
    if dsn.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(dsn)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = f"{userinfo}@{host}"
        query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="*/")))
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(a connection string that does not parse)"
    if "password" in params:
        params["password"] = "***"  # noqa: S105 (a mask, not a secret)
    return make_conninfo("", **params)


def login_of(dsn: str | None) -> str:
    """The role a connection string logs in as (libpq's default: the OS user)."""
    if dsn:
        try:
            user = conninfo_to_dict(dsn).get("user")
        except psycopg.ProgrammingError:
            user = None
        if user:
            return str(user)
    return getpass.getuser()


def connect(dsn: str, what: str, *, autocommit: bool = False) -> psycopg.Connection:
    """``psycopg.connect``, but a connection that fails is a one-line ``Failure``."""
    try:
        return psycopg.connect(dsn, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        reason = _reason(exc)
        raise Failure(
            f"cannot connect to {mask_url(dsn)} ({what}): {reason}", CONNECT_HINT
        ) from None


def _reason(exc: BaseException) -> str:
    """The first line of a libpq message, without its ``connection to server ...`` prefix."""
    text = " ".join(str(exc).split())
    return text.rsplit("failed: ", 1)[-1] if "failed: " in text else text


def from_database_error(exc: psycopg.Error, admin_url: str | None) -> Failure:
    """The one line for an error the database raised."""
    diag = exc.diag
    state = exc.sqlstate or ""
    message = diag.message_primary or _reason(exc)
    if state.startswith("IT"):
        if diag.message_detail:
            message = f"{message} ({diag.message_detail})"
        return Failure(message, diag.message_hint, code=state)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        role = login_of(admin_url)
        return Failure(f"role {role} lacks a privilege: {message} (SQLSTATE {state})", ADMIN_HINT)
    if isinstance(exc, psycopg.OperationalError) and not state:
        where = mask_url(admin_url) if admin_url else "the embedded server"
        return Failure(f"the connection to {where} failed: {_reason(exc)}", CONNECT_HINT)
    hint = diag.message_hint
    if isinstance(exc, psycopg.errors.UndefinedFunction | psycopg.errors.UndefinedTable):
        hint = "is the database older than this intime? intime db migrate brings it up to date"
    return Failure(f"{message} (SQLSTATE {state or 'none'})", hint)


def from_intime_error(exc: InTimeError) -> Failure:
    """An error translated by ``intime.db`` keeps the database error it came from (and
    so its hint) as its cause."""
    if isinstance(exc.__cause__, psycopg.Error):
        return from_database_error(exc.__cause__, None)
    return Failure(str(exc), getattr(exc, "hint", None), code=exc.sqlstate)


def describe(failure: Failure) -> str:
    """``error: ...; hint: ...`` on one line."""
    line = (
        f"error {failure.code}: {failure.message}" if failure.code else f"error: {failure.message}"
    )
    if failure.hint:
        line += f" (hint: {' '.join(failure.hint.split())})"
    return " ".join(line.splitlines())
