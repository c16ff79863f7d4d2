"""Settings from the environment (and an optional `.env`), resolved once per app.

Every variable is documented in the README. `load_config()` is called by `create_app()`, never at
import, so tests can build apps with their own settings.
"""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
MIN_PRODUCTION_SECRET = 32


class ConfigError(RuntimeError):
    """The app refuses to start with this configuration."""


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = ""
    jwt_secret_key: str = ""
    jwt_ttl: timedelta = timedelta(days=7)
    bcrypt_rounds: int = 12
    redis_url: str | None = None
    ratelimit_auth: str = "5 per 15 minutes"
    ratelimit_auth_account: str = "50 per 15 minutes"
    ratelimit_auth_ip: str = "100 per 15 minutes"
    ratelimit_auth_exempt_networks: tuple[str, ...] = ()
    ratelimit_api: str = "50 per minute"
    ratelimit_enabled: bool = True
    cors_origins: str = "*"
    trusted_proxies: int = 0
    sysadmin_email: str | None = None
    sysadmin_password: str | None = None
    default_college: str | None = None
    embedding_model: str | None = None
    bulk_sync_max_rows: int = 50
    bulk_workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    portal_domain: str = "studysync.app"
    portal_url_template: str | None = None  # e.g. https://{subdomain}.studysync.example
    log_format: str | None = None  # json | console; None: console in development, json elsewhere
    log_level: str = "INFO"
    metrics_allowed_networks: str = "127.0.0.0/8,::1/128"
    metrics_token: str | None = None
    smtp_url: str | None = None
    mail_from: str = "StudySync <no-reply@studysync.local>"
    # Bounds on every wait for the database, in seconds (see db_timeouts.py and the README).
    db_connect_timeout: float = 3.0
    db_pool_timeout: float = 3.0
    db_statement_timeout: float = 5.0
    health_timeout: float = 2.0
    bulk_retry_seconds: float = 60.0  # how long a bulk import keeps retrying a row the database refused
    bulk_stalled_seconds: float = 120.0  # a running job that has not moved for this long lost its worker
    legacy_surfaces: str = "seed000,seed001,seed003"  # api/legacy: the earlier systems' clients served
    stream_max_sockets_per_user: int = 5  # open /api/v1/stream sockets per user and worker
    stream_queue_size: int = 256  # events waiting for one socket before it is closed with 1013

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **overrides)


def _duration(value: str) -> timedelta:
    """`3600`, `30m`, `12h` or `7d`."""
    value = value.strip().lower()
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units:
        return timedelta(**{units[value[-1]]: float(value[:-1])})
    return timedelta(seconds=float(value))


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_sqlite_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'studysync.db'}"


def _development_secret() -> str:
    """Generated once and kept under instance/, so restarts keep tokens valid."""
    path = INSTANCE_DIR / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def load_config(**overrides) -> Settings:
    """Read the environment; `overrides` (used by tests) win over it."""
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    env = os.environ
    values: dict = {
        "app_env": env.get("APP_ENV", "development"),
        "database_url": env.get("DATABASE_URL") or default_sqlite_url(),
        "jwt_secret_key": env.get("JWT_SECRET_KEY", ""),
        "redis_url": env.get("REDIS_URL") or None,
        "ratelimit_auth": env.get("RATELIMIT_AUTH", Settings.ratelimit_auth),
        "ratelimit_auth_account": env.get("RATELIMIT_AUTH_ACCOUNT", Settings.ratelimit_auth_account),
        "ratelimit_auth_ip": env.get("RATELIMIT_AUTH_IP", Settings.ratelimit_auth_ip),
        "ratelimit_api": env.get("RATELIMIT_API", Settings.ratelimit_api),
        "cors_origins": env.get("CORS_ORIGINS", Settings.cors_origins),
        "sysadmin_email": env.get("SYSADMIN_EMAIL") or None,
        "sysadmin_password": env.get("SYSADMIN_PASSWORD") or None,
        "default_college": env.get("DEFAULT_COLLEGE") or None,
        "embedding_model": env.get("EMBEDDING_MODEL") or None,
        "portal_url_template": env.get("PORTAL_URL_TEMPLATE") or None,
        "log_format": env.get("LOG_FORMAT") or None,
        "log_level": env.get("LOG_LEVEL", Settings.log_level),
        "metrics_allowed_networks": env.get("METRICS_ALLOWED_NETWORKS", Settings.metrics_allowed_networks),
        "metrics_token": env.get("METRICS_TOKEN") or None,
        "smtp_url": env.get("SMTP_URL") or None,
        "mail_from": env.get("MAIL_FROM") or Settings.mail_from,
        "legacy_surfaces": env.get("LEGACY_SURFACES", Settings.legacy_surfaces),
    }
    if "JWT_TTL" in env:
        values["jwt_ttl"] = _duration(env["JWT_TTL"])
    if "BCRYPT_ROUNDS" in env:
        values["bcrypt_rounds"] = int(env["BCRYPT_ROUNDS"])
    if "TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = int(env["TRUSTED_PROXIES"])
    if "RATELIMIT_AUTH_EXEMPT_NETWORKS" in env:
        values["ratelimit_auth_exempt_networks"] = tuple(env["RATELIMIT_AUTH_EXEMPT_NETWORKS"].replace(",", " ").split())
    if "RATELIMIT_ENABLED" in env:
        values["ratelimit_enabled"] = _flag(env["RATELIMIT_ENABLED"])
    if "BULK_SYNC_MAX_ROWS" in env:
        values["bulk_sync_max_rows"] = int(env["BULK_SYNC_MAX_ROWS"])
    if "BULK_WORKERS" in env:
        values["bulk_workers"] = int(env["BULK_WORKERS"])
    for name, variable in _SECONDS.items():
        if variable in env:
            values[name] = float(env[variable])
    if "STREAM_MAX_SOCKETS_PER_USER" in env:
        values["stream_max_sockets_per_user"] = int(env["STREAM_MAX_SOCKETS_PER_USER"])
    if "STREAM_QUEUE_SIZE" in env:
        values["stream_queue_size"] = int(env["STREAM_QUEUE_SIZE"])
    known = {f.name for f in fields(Settings)}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"Unknown settings: {', '.join(sorted(unknown))}")
    values.update(overrides)
    settings = Settings(**values)
    return _checked(settings)


_SECONDS = {"db_connect_timeout": "DB_CONNECT_TIMEOUT", "db_pool_timeout": "DB_POOL_TIMEOUT",
            "db_statement_timeout": "DB_STATEMENT_TIMEOUT", "health_timeout": "HEALTH_TIMEOUT",
            "bulk_retry_seconds": "BULK_RETRY_SECONDS", "bulk_stalled_seconds": "BULK_STALLED_SECONDS"}


def _checked(settings: Settings) -> Settings:
    for name in _SECONDS:
        if not getattr(settings, name) > 0:
            raise ConfigError(f"{_SECONDS[name]} must be a positive number of seconds")
    if settings.bulk_stalled_seconds <= settings.bulk_retry_seconds:
        raise ConfigError("BULK_STALLED_SECONDS must exceed BULK_RETRY_SECONDS (a retrying job is not stalled)")
    if not 4 <= settings.bcrypt_rounds <= 31:
        raise ConfigError("BCRYPT_ROUNDS must be between 4 and 31")
    _check_operations(settings)

    from .api.legacy import enabled_surfaces

    try:
        enabled_surfaces(settings.legacy_surfaces)
    except ValueError as error:
        raise ConfigError(str(error))
    if settings.app_env == "production":
        if len(settings.jwt_secret_key) < MIN_PRODUCTION_SECRET:
            raise ConfigError(
                f"JWT_SECRET_KEY must be set to at least {MIN_PRODUCTION_SECRET} characters in production"
            )
    elif not settings.jwt_secret_key:
        settings = replace(settings, jwt_secret_key=_development_secret())
    return settings


def _check_operations(settings: Settings) -> None:
    """Settings of issue 14 that would otherwise fail on the first request that uses them."""
    if settings.log_format not in (None, "json", "console"):
        raise ConfigError("LOG_FORMAT must be json or console")
    for network in filter(None, (n.strip() for n in settings.metrics_allowed_networks.split(","))):
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
    if settings.portal_url_template and "{subdomain}" not in settings.portal_url_template:
        raise ConfigError("PORTAL_URL_TEMPLATE must contain {subdomain}")


def settings() -> Settings:
    """The running app's settings (services use this; they never read the environment)."""
    from flask import current_app

    return current_app.config["SETTINGS"]
