"""Rate limits (Flask-Limiter): who is counted, and how auth routes are limited.

API routes: `RATELIMIT_API` per user (per IP when anonymous), a college may override it in its
settings; the sysadmin is exempt. Auth routes: `RATELIMIT_AUTH` per client IP and, separately,
per account; only failed attempts count, so a busy computer lab behind one address is not locked
out by its students' successful logins. With `REDIS_URL` the counters live in Redis and every
worker and machine shares them.
"""
from __future__ import annotations

import math
import time
from typing import Callable

from flask import current_app, g, request
from flask.wrappers import Response


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


def auth_limit() -> str:
    return current_app.config["SETTINGS"].ratelimit_auth


def _account_key() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    body = body if isinstance(body, dict) else {}
    email = body.get("email") or body.get("student_email") or request.form.get("username") or ""
    college = body.get("college_id") or request.form.get("college_id") or ""
    return f"account:{college}:{str(email).strip().lower()}"


def _ip_key() -> str:
    return f"ip:{client_ip()}"


def _failed(response: Response) -> bool:
    return response.status_code >= 400 and response.status_code != 429


def _login_message() -> str:
    from .extensions import limiter

    current = limiter.current_limit
    seconds = max(1, int(current.reset_at - time.time())) if current else 900
    return f"Too many login attempts. Please try again in {max(1, math.ceil(seconds / 60))} minutes."


def auth_rate_limited(view: Callable) -> Callable:
    """Per IP and per account, shared by every auth route, counting failures only."""
    from .extensions import limiter

    for scope, key in (("auth-ip", _ip_key), ("auth-account", _account_key)):
        view = limiter.shared_limit(
            auth_limit, scope=scope, key_func=key, deduct_when=_failed, error_message=_login_message
        )(view)
    view.checks_credentials = True  # its failures and lockouts are logged (observability/requests.py)
    return view
