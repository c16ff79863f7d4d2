"""Settings from the environment (and an optional `.env`), resolved once per app.

Every variable is documented in the README. `load_config()` is called by `create_app()`, never at
import, so tests can build apps with their own settings.
"""
from __future__ import annotations

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
        "ratelimit_api": env.get("RATELIMIT_API", Settings.ratelimit_api),
        "cors_origins": env.get("CORS_ORIGINS", Settings.cors_origins),
        "sysadmin_email": env.get("SYSADMIN_EMAIL") or None,
        "sysadmin_password": env.get("SYSADMIN_PASSWORD") or None,
        "default_college": env.get("DEFAULT_COLLEGE") or None,
        "embedding_model": env.get("EMBEDDING_MODEL") or None,
    }
    if "JWT_TTL" in env:
        values["jwt_ttl"] = _duration(env["JWT_TTL"])
    if "BCRYPT_ROUNDS" in env:
        values["bcrypt_rounds"] = int(env["BCRYPT_ROUNDS"])
    if "TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = int(env["TRUSTED_PROXIES"])
    if "RATELIMIT_ENABLED" in env:
        values["ratelimit_enabled"] = _flag(env["RATELIMIT_ENABLED"])
    if "BULK_SYNC_MAX_ROWS" in env:
        values["bulk_sync_max_rows"] = int(env["BULK_SYNC_MAX_ROWS"])
    if "BULK_WORKERS" in env:
        values["bulk_workers"] = int(env["BULK_WORKERS"])
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


def _checked(settings: Settings) -> Settings:
    if not 4 <= settings.bcrypt_rounds <= 31:
        raise ConfigError("BCRYPT_ROUNDS must be between 4 and 31")
    if settings.app_env == "production":
        if len(settings.jwt_secret_key) < MIN_PRODUCTION_SECRET:
            raise ConfigError(
                f"JWT_SECRET_KEY must be set to at least {MIN_PRODUCTION_SECRET} characters in production"
            )
    elif not settings.jwt_secret_key:
        settings = replace(settings, jwt_secret_key=_development_secret())
    return settings


def settings() -> Settings:
    """The running app's settings (services use this; they never read the environment)."""
    from flask import current_app

    return current_app.config["SETTINGS"]
