"""Login throttling: wrong credentials counted per account and address, per account, per address.

It lives under the functions that check passwords (`auth/sessions.py`, student registration),
not on the routes, so every surface — `/api/v1`, the mobile `/api`, a legacy one added later —
shares the same counters without holding any of the rule. Only wrong credentials count (a wrong
password, an unknown email, a registration for an email that exists): a typo caught by validation
never locks anyone out.

Three counters, because each alone fails someone:
- per account and address (`RATELIMIT_AUTH`): the guesser is stopped, the owner elsewhere is not;
- per account (`RATELIMIT_AUTH_ACCOUNT`): against guesses spread over many addresses;
- per address (`RATELIMIT_AUTH_IP`): against one address trying many accounts. It is set high
  because a college lab or campus NAT is one address for hundreds of students, and a network the
  college trusts can be exempted from it (`RATELIMIT_AUTH_EXEMPT_NETWORKS`).
The account is the email as typed (trimmed, lower-cased), whether or not it exists, so the
answers do not tell which emails are registered. A successful login clears the counter of that
account at that address.

The counts live where the API limit's do (`rate_counts.py`: Redis with `REDIS_URL`), so every
worker and machine shares them. If Redis stops answering, each process counts alone rather than
refusing every login, and tries Redis again at growing intervals.
"""
from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..config import ConfigError, Settings
from ..errors import TooManyRequests
from ..observability.logging import get_logger
from ..rate_counts import Counts, setting_limits

events = get_logger("studysync.events")

EXTENSION_KEY = "studysync.login_throttle"
NAMESPACE = "studysync-login"


def too_many_attempts(retry_after: int) -> TooManyRequests:
    minutes = max(1, math.ceil(retry_after / 60))
    return TooManyRequests(f"Too many login attempts. Please try again in {minutes} minutes.", retry_after)


@dataclass(frozen=True)
class Counter:
    limits: tuple[RateLimitItem, ...]
    identifiers: tuple[str, ...]


def _networks(values: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(value, strict=False) for value in values)
    except ValueError as error:
        raise ConfigError(f"RATELIMIT_AUTH_EXEMPT_NETWORKS: {error}") from error


class LoginThrottle:
    def __init__(self, settings: Settings):
        self.enabled = settings.ratelimit_enabled
        self.per_account_address = setting_limits("RATELIMIT_AUTH", settings.ratelimit_auth)
        self.per_account = setting_limits("RATELIMIT_AUTH_ACCOUNT", settings.ratelimit_auth_account)
        self.per_address = setting_limits("RATELIMIT_AUTH_IP", settings.ratelimit_auth_ip)
        self.exempt_networks = _networks(settings.ratelimit_auth_exempt_networks)
        self._counts = Counts(settings.redis_url, MovingWindowRateLimiter, MovingWindowRateLimiter(MemoryStorage()))

    def check(self, email: str, address: str | None) -> None:
        """Raise a 429 if any counter of this account or address is spent."""
        if not self.enabled:
            return
        waits = [
            self._seconds_until_free(limit, counter.identifiers)
            for counter in self._counters(email, address)
            for limit in counter.limits
            if not self._run("test", limit, counter.identifiers)
        ]
        if waits:
            events.warning("login_lockout", client=address)
            raise too_many_attempts(max(waits))

    def failed(self, email: str, address: str | None) -> None:
        events.info("login_failed", client=address)  # never the email or what was typed
        if not self.enabled:
            return
        for counter in self._counters(email, address):
            for limit in counter.limits:
                self._run("hit", limit, counter.identifiers)

    def succeeded(self, email: str, address: str | None) -> None:
        if not self.enabled:
            return
        counter = self._counters(email, address)[0]
        for limit in counter.limits:
            self._run("clear", limit, counter.identifiers)

    def _counters(self, email: str, address: str | None) -> list[Counter]:
        account, address = email.strip().lower(), address or "unknown"
        counters = [
            Counter(self.per_account_address, ("account-address", account, address)),
            Counter(self.per_account, ("account", account)),
        ]
        if not self._exempt(address):
            counters.append(Counter(self.per_address, ("address", address)))
        return counters

    def _exempt(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.exempt_networks)

    def _seconds_until_free(self, limit: RateLimitItem, identifiers: tuple[str, ...]) -> int:
        stats = self._run("get_window_stats", limit, identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def _run(self, operation: str, limit: RateLimitItem, identifiers: tuple[str, ...]):
        return self._counts.run(operation, limit, NAMESPACE, *identifiers)


def install(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = LoginThrottle(app.config["SETTINGS"])


def login_throttle() -> LoginThrottle:
    return current_app.extensions[EXTENSION_KEY]
