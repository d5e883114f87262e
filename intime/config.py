"""Configuration from the environment. Read once at the edge and passed down."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from intime.netguard import parse_allow

SERVICE_ROLE = "intime_service"
N = TypeVar("N", int, float)


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings for the CLI, the worker and the web app.

    ``database_url`` is the admin connection used by migrations; when it is
    unset the CLI starts the embedded server. ``service_url`` is how the web
    app and the worker connect: as ``intime_service``, never as a superuser.
    """

    database_url: str | None
    service_url: str | None
    home: Path | None
    pg_bindir: str | None
    resend_webhook_secrets: tuple[str, ...] = ()
    inbound_webhook_token: str | None = None
    public_url: str = "http://localhost:8000"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    # Messages the SMTP transport hands over at once, one connection each.
    smtp_concurrency: int = 4
    resend_api_key: str | None = None
    resend_base_url: str = "https://api.resend.com"
    # Webhook targets (and inbound raw-message links) allowed although not public: CIDRs
    # and exact host names (intime/netguard.py).
    webhook_allow: tuple[str, ...] = ()
    # Origins allowed to call the web app cross-origin (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Process sizing and behaviour (docs/operations.md); CLI flags override them.
    log_format: str = "text"
    worker_pool_size: int = 8
    worker_max_in_flight: int = 20
    worker_grace_seconds: float = 30.0
    worker_metrics_port: str | None = None  # PORT or HOST:PORT (worker/metrics.py)
    web_pool_size: int = 16
    web_workers: int = 1
    web_max_connections: int = 1000
    connect_timeout: float = 30.0

    def __post_init__(self) -> None:
        for name, value in (
            ("DATABASE_URL", self.database_url),
            ("INTIME_SERVICE_URL", self.service_url),
        ):
            if value:
                try:
                    conninfo_to_dict(value)
                except psycopg.ProgrammingError as exc:
                    reason = " ".join(str(exc).split())
                    raise ConfigError(f"{name} is not a connection string: {reason}") from None
        if self.log_format not in ("text", "json"):
            raise ConfigError("INTIME_LOG_FORMAT must be text or json")
        for name in (
            "smtp_concurrency",
            "worker_pool_size",
            "worker_max_in_flight",
            "web_pool_size",
            "web_workers",
            "web_max_connections",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.worker_max_in_flight < 2:
            raise ConfigError("worker_max_in_flight must be at least 2")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        home = env.get("INTIME_HOME")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            service_url=env.get("INTIME_SERVICE_URL") or None,
            home=Path(home) if home else None,
            pg_bindir=env.get("INTIME_PG_BINDIR") or None,
            resend_webhook_secrets=tuple(
                env.get("RESEND_WEBHOOK_SECRETS", "").replace(",", " ").split()
            ),
            inbound_webhook_token=env.get("INBOUND_WEBHOOK_TOKEN") or None,
            public_url=env.get("INTIME_PUBLIC_URL") or "http://localhost:8000",
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_number(env, "SMTP_PORT", 25, int, 65535),
            smtp_username=env.get("SMTP_USERNAME") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=(env.get("SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
            smtp_concurrency=_number(env, "SMTP_CONCURRENCY", 4, int, 1000),
            resend_api_key=env.get("RESEND_API_KEY") or None,
            resend_base_url=env.get("RESEND_BASE_URL") or "https://api.resend.com",
            webhook_allow=parse_allow(env.get("INTIME_WEBHOOK_ALLOW", "")),
            cors_origins=parse_origins(env.get("INTIME_CORS_ORIGINS", "")),
            log_format=env.get("INTIME_LOG_FORMAT") or "text",
            worker_pool_size=_number(env, "INTIME_WORKER_POOL_SIZE", 8, int, 1000),
            worker_max_in_flight=_number(env, "INTIME_WORKER_MAX_IN_FLIGHT", 20, int, 10000),
            worker_grace_seconds=_number(env, "INTIME_WORKER_GRACE_SECONDS", 30.0, float, 3600),
            worker_metrics_port=env.get("INTIME_WORKER_METRICS_PORT") or None,
            web_pool_size=_number(env, "INTIME_WEB_POOL_SIZE", 16, int, 1000),
            web_workers=_number(env, "INTIME_WEB_WORKERS", 1, int, 256),
            web_max_connections=_number(env, "INTIME_WEB_MAX_CONNECTIONS", 1000, int, 1_000_000),
            connect_timeout=_number(env, "INTIME_CONNECT_TIMEOUT", 30.0, float, 3600),
        )


class ConfigError(ValueError):
    """A setting that cannot be used; the CLI prints it as one line."""


def parse_origins(raw: str) -> tuple[str, ...]:
    """INTIME_CORS_ORIGINS: comma separated origins, each scheme://host[:port] (no
    path, no wildcard: a browser sends the exact origin)."""
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest or "*" in rest:
            raise ConfigError(
                f"INTIME_CORS_ORIGINS: {origin!r} is not an origin like https://app.example"
            )
    return origins


def _number(
    env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N], high: float = 1e6
) -> N:
    """A setting that must be a finite number from 0 to ``high``."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or not 0 <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be a number from 0 to {high:g}")
    return value


def as_role(dsn: str, role: str, dbname: str | None = None) -> str:
    """The same connection string, logging in as ``role`` (and optionally another db)."""
    params = conninfo_to_dict(dsn)
    if params.get("user") != role:
        params.pop("password", None)  # another role has its own secret
    params["user"] = role
    if dbname:
        params["dbname"] = dbname
    return make_conninfo("", **params)


def service_dsn(config: Config, admin_dsn: str) -> str:
    """Where the service role connects: INTIME_SERVICE_URL or the admin DSN as intime_service."""
    return config.service_url or as_role(admin_dsn, SERVICE_ROLE)
