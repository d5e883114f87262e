"""Types shared by fixtures and tests."""

from __future__ import annotations

import dataclasses

import psycopg

from intime import pgserver
from intime.seed import SeededOrg


@dataclasses.dataclass
class Database:
    server: pgserver.PgServer
    name: str

    def dsn(self, user: str | None = None) -> str:
        return self.server.dsn(self.name, user)

    def connect(self, user: str | None = None, **kwargs: object) -> psycopg.Connection:
        return psycopg.connect(self.dsn(user), **kwargs)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class TwoOrgs:
    a: SeededOrg
    b: SeededOrg
    login_a: str  # SQL login mapped to a user of org A
    login_b: str
