"""Where rate-limit counts live: in Redis when `REDIS_URL` is set, so every worker and machine shares
them, and in this process otherwise — or while Redis does not answer.

`Counts` runs a `limits` strategy on Redis and, once Redis fails, on a twin in this process, trying
Redis again at growing intervals (1 s, 2 s, … at most `MAX_RECHECK_SECONDS`): during an outage a
request waits for Redis at most once per interval, not once per count. Both the API limit
(`ratelimits.py`) and the login throttle (`auth/throttle.py`) count through it.

`LocalWindows` is the in-process fixed window the API limit counts in: a dict and a lock. `limits`'
own memory storage starts a timer thread to expire keys whenever none is running, which under steady
traffic is a new thread for most requests.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from limits import RateLimitItem, WindowStats, parse_many
from limits.storage import storage_from_string
from limits.strategies import RateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from .config import ConfigError

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 1.0
MAX_RECHECK_SECONDS = 30.0


def setting_limits(setting: str, value: str) -> tuple[RateLimitItem, ...]:
    """A limit setting as written ("50 per minute", "10/second; 500/hour"), or why the app cannot start."""
    try:
        return tuple(parse_many(value))
    except ValueError as error:
        raise ConfigError(f"{setting} is not a rate limit ({value!r}): {error}") from error


class LocalWindows:
    """Fixed windows counted in this process, with the `limits` strategy methods the API limit uses.
    A window starts at its first hit (as `limits`' fixed window does in Redis); windows that have
    ended are dropped at most once per `sweep_seconds`."""

    def __init__(self, clock: Callable[[], float] = time.time, sweep_seconds: float = 60.0):
        self._clock, self._sweep_seconds = clock, sweep_seconds
        self._windows: dict[str, list[float]] = {}  # key → [ends at, count]
        self._lock = threading.Lock()
        self._next_sweep = clock() + sweep_seconds

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        key, now = item.key_for(*identifiers), self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                window = self._windows[key] = [now + item.get_expiry(), 0]
            window[1] += cost
            return window[1] <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = self._clock()
        window = self._windows.get(item.key_for(*identifiers))
        if window is None or window[0] <= now:
            return WindowStats(now, item.amount)
        return WindowStats(window[0], max(0, item.amount - int(window[1])))

    def __len__(self) -> int:
        return len(self._windows)

    def _sweep(self, now: float) -> None:
        self._windows = {key: window for key, window in self._windows.items() if window[0] > now}
        self._next_sweep = now + self._sweep_seconds


class Counts:
    """One `limits` strategy's operations (`hit`, `test`, `clear`, `get_window_stats`) on the shared
    store, or on `local` while the shared store is down."""

    def __init__(self, redis_url: str | None, strategy: type[RateLimiter], local,
                 clock: Callable[[], float] = time.monotonic):
        self.local, self._clock = local, clock
        self.shared = None
        self._failures: type[BaseException] | tuple[type[BaseException], ...] = ()
        if redis_url:
            storage = storage_from_string(redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                          socket_connect_timeout=REDIS_TIMEOUT_SECONDS, retry=Retry(NoBackoff(), 0))
            self.shared, self._storage = strategy(storage), storage
            self._failures = storage.base_exceptions
        self._down = False
        self._recheck_at, self._recheck_interval = 0.0, 1.0
        self._recheck_lock = threading.Lock()

    @property
    def counting_locally(self) -> bool:
        return self.shared is None or self._down

    def run(self, operation: str, item: RateLimitItem, *identifiers: str):
        if self.shared is not None and (not self._down or self._redis_is_back()):
            try:
                return getattr(self.shared, operation)(item, *identifiers)
            except self._failures as error:
                self._went_down(error)
        return getattr(self.local, operation)(item, *identifiers)

    def _went_down(self, error: BaseException) -> None:
        if self._down:  # a request that was already waiting on Redis when it went down
            return
        log.warning("Rate-limit store unreachable, counting in this process: %s", error)
        self._down = True
        self._schedule_recheck()

    def _schedule_recheck(self) -> None:
        self._recheck_at = self._clock() + self._recheck_interval
        self._recheck_interval = min(self._recheck_interval * 2, MAX_RECHECK_SECONDS)

    def _redis_is_back(self) -> bool:
        """Once per interval, one thread asks Redis (a PING); the others count locally meanwhile."""
        if self._clock() < self._recheck_at or not self._recheck_lock.acquire(blocking=False):
            return False
        try:
            if self._clock() < self._recheck_at or not self._down:
                return not self._down
            if not self._storage.check():
                self._schedule_recheck()
                return False
            log.info("Rate-limit store answers again: counting there")
            self._down, self._recheck_interval = False, 1.0
            return True
        finally:
            self._recheck_lock.release()
