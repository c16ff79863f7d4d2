"""API rate limits (Flask-Limiter): who is counted, and what their limit is.

`RATELIMIT_API` per user (per IP when anonymous); a college may override it in its settings; the
sysadmin is exempt. With `REDIS_URL` the counters live in Redis and every worker and machine
shares them. Wrong passwords are counted elsewhere, below the routes (`auth/throttle.py`), so
that every surface shares those counts. This module knows nothing of `extensions`, which builds
the limiter from these functions.
"""
from __future__ import annotations

from flask import current_app, g, request


def client_ip() -> str:
    # ProxyFix (TRUSTED_PROXIES hops) has already rewritten remote_addr behind nginx.
    return request.remote_addr or "unknown"


def rate_limit_key() -> str:
    user = g.get("user")
    return f"user:{user.id}" if user is not None else f"ip:{client_ip()}"


def is_exempt() -> bool:
    user = g.get("user")
    return user is not None and user.role == "sysadmin"


def api_limit() -> str:
    college = g.get("college")
    override = (college.settings or {}).get("ratelimit_api") if college is not None else None
    return override or current_app.config["SETTINGS"].ratelimit_api
