"""Project SQLSTATEs (class IT) mapped to Python exceptions, in one place.

``docs/errors.md`` is the registry; a test checks that every code raised in
``sql/`` appears there and here.
"""

from __future__ import annotations

import psycopg


class InTimeError(Exception):
    """An error raised by InTime's SQL with a project SQLSTATE."""

    sqlstate: str = "IT000"

    def __init__(
        self, message: str, *, sqlstate: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        if sqlstate:
            self.sqlstate = sqlstate
        # What to do about it (the SQL's HINT: which permission, which function to call).
        self.hint = hint


class MigrationChangedError(InTimeError):
    sqlstate = "IT001"


class ServiceRoleRequiredError(InTimeError):
    sqlstate = "IT002"


class PermissionDeniedError(InTimeError):
    sqlstate = "IT003"


class NotFoundError(InTimeError):
    sqlstate = "IT004"


class InvalidParameterError(InTimeError):
    sqlstate = "IT005"


class AlreadyExistsError(InTimeError):
    sqlstate = "IT006"


class InvalidTokenError(InTimeError):
    sqlstate = "IT007"


class NoActorError(InTimeError):
    sqlstate = "IT008"


class MigrationLockTimeoutError(InTimeError):
    """Raised by the Python migration runner, not by SQL."""

    sqlstate = "IT009"


class MissingVariablesError(InTimeError):
    sqlstate = "IT010"


class NotConfiguredError(InTimeError):
    sqlstate = "IT011"


class InvalidDefinitionError(InTimeError):
    sqlstate = "IT012"


class InvalidStateError(InTimeError):
    sqlstate = "IT013"


class EntityLockedError(InTimeError):
    sqlstate = "IT014"


class TransitionNotAllowedError(InTimeError):
    sqlstate = "IT015"


class RateLimitedError(InTimeError):
    sqlstate = "IT016"


class ForceRequiredError(InTimeError):
    """A risky change that the caller must confirm (``p_force``); the hint says why."""

    sqlstate = "IT017"


class NodeUnavailableError(InTimeError):
    """A node of a Citus cluster did not answer a question asked of every node; the
    answer would be incomplete. Retry once the node is back."""

    sqlstate = "IT018"


BY_SQLSTATE: dict[str, type[InTimeError]] = {
    cls.sqlstate: cls
    for cls in (
        MigrationChangedError,
        ServiceRoleRequiredError,
        PermissionDeniedError,
        NotFoundError,
        InvalidParameterError,
        AlreadyExistsError,
        InvalidTokenError,
        NoActorError,
        MigrationLockTimeoutError,
        MissingVariablesError,
        NotConfiguredError,
        InvalidDefinitionError,
        InvalidStateError,
        EntityLockedError,
        TransitionNotAllowedError,
        RateLimitedError,
        ForceRequiredError,
        NodeUnavailableError,
    )
}


def translate(exc: psycopg.Error) -> Exception:
    """The project exception for a psycopg error with an IT SQLSTATE, else ``exc``."""
    state = exc.sqlstate or ""
    if not state.startswith("IT"):
        return exc
    cls = BY_SQLSTATE.get(state, InTimeError)
    diag = exc.diag
    message = diag.message_primary or str(exc)
    if diag.message_detail:
        message = f"{message} ({diag.message_detail})"
    return cls(message, sqlstate=state, hint=diag.message_hint or None)
