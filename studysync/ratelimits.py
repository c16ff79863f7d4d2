"""The API rate limit: who is counted, against what, and the one check every request passes.

`RATELIMIT_API` per user (per IP when anonymous) and route; a college may override it in its
settings; the sysadmin and the views marked `exempt` (health, metrics, the docs page's files) are
not counted, nor is a request that matches no route. With `REDIS_URL` the counts live in Redis and
every worker and machine shares them (`rate_counts.py`, which also counts in this process while
Redis is down). Wrong passwords are counted elsewhere, below the routes (`auth/throttle.py`), so
that every surface shares those counts.

The check is written on `limits` directly rather than through Flask-Limiter: Flask-Limiter worked
out which of its limit kinds (application, default, blueprint, decorated, meta) and exemption
scopes applied on every request, ~20% of the CPU of the poll the app sends most, for the one
limit we have. The counts are kept as Flask-Limiter kept them (fixed windows, the same Redis keys).
A request under the limit costs one Redis round trip: answers carry no `X-RateLimit-*` headers,
which would take two more (a GET and a TTL) for headers no client of ours reads; a 429 says when
to retry (`Retry-After` and `retryAfter`).
"""
from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Callable

from flask import Flask, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.strategies import FixedWindowRateLimiter

from .config import Settings
from .errors import TooManyRequests
from .rate_counts import Counts, LocalWindows, setting_limits

EXTENSION_KEY = "studysync.api_limit"
KEY_PREFIX = "studysync"


def exempt(view: Callable) -> Callable:
    """Never counted: probes, scrapers and static files (marks the view; `functools.wraps` keeps the
    mark on the wrappers put around it)."""
    view.rate_limit_exempt = True
    return view


def client_ip() -> str:
    # ProxyFix (TRUSTED_PROXIES hops) has already rewritten remote_addr behind nginx.
    return request.remote_addr or "unknown"


def rate_limit_key() -> str:
    user = g.get("user")
    return f"user:{user.id}" if user is not None else f"ip:{client_ip()}"


def is_exempt() -> bool:
    user = g.get("user")
    return user is not None and user.role == "sysadmin"


def api_limit() -> tuple[RateLimitItem, ...]:
    """The caller's college's own limit, else `RATELIMIT_API`."""
    college = g.get("college")
    override = (college.settings or {}).get("ratelimit_api") if college is not None else None
    if override:
        try:
            return parsed(override)
        except ValueError:  # stored before settings were validated: the default applies
            pass
    return parsed(current_app.config["SETTINGS"].ratelimit_api)


@lru_cache(maxsize=256)
def parsed(value: str) -> tuple[RateLimitItem, ...]:
    """A limit as written ("50 per minute", "10/second; 500/hour") — the setting and the few
    overrides colleges choose, so each string is parsed once per process."""
    return tuple(parse_many(value))


class ApiLimit:
    def __init__(self, settings: Settings):
        setting_limits("RATELIMIT_API", settings.ratelimit_api)
        self.counts = Counts(settings.redis_url, FixedWindowRateLimiter, LocalWindows())

    def check(self) -> None:
        """Before each request (after authentication: the count is the user's): a 429 once any of
        the caller's limits on this route is spent."""
        endpoint = request.endpoint
        if endpoint is None or is_exempt():
            return
        if getattr(current_app.view_functions[endpoint], "rate_limit_exempt", False):
            return
        key = rate_limit_key()
        for item in api_limit():
            if not self.counts.run("hit", item, KEY_PREFIX, key, endpoint):
                reset_at = self.counts.run("get_window_stats", item, KEY_PREFIX, key, endpoint).reset_time
                retry_after = max(1, math.ceil(reset_at - time.time()))
                raise TooManyRequests(f"Too many requests. Please try again in {retry_after} seconds.", retry_after)


def install(app: Flask) -> None:
    """After `authenticate_request` (the key is the user, the limit the user's college's)."""
    settings: Settings = app.config["SETTINGS"]
    if not settings.ratelimit_enabled:
        return
    limit = app.extensions[EXTENSION_KEY] = ApiLimit(settings)
    app.before_request(limit.check)
