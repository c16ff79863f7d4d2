"""Which routes hash passwords, learned while their requests run, so the server can give them threads apart.

A bcrypt check holds its request thread for about a quarter of a second at cost 12. Run among the
reads, four logins at once take four of a worker's request threads and both cores, and the app's polls
queue behind them. `asgi.BufferedWSGI` sends a request whose route hashes to threads of its own, so
hashing waits for hashing and the polls go on.

A route is known by its method and path as the server reads them, before Flask has matched anything.
It is learned the moment one of its requests starts hashing (`auth.passwords` calls `note_hashing`),
so the next request of that route already goes to the hashing threads. Only those that reach a fresh
worker before its first one starts hashing (a few milliseconds in) run on the request threads. It is
forgotten when one of its requests succeeds without hashing (a profile update that kept the password),
so a route that hashes only now and then does not queue behind logins. An error answer teaches
nothing: a login refused for its body or throttled still belongs with the logins that hash.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

RouteKey = tuple[str, str]  # (method, path)
Answer = tuple  # (status, ...): what a request's work returns, its HTTP status first

_running = threading.local()  # .routes, .key: the request on this thread; .hashed: whether it did


class HashingRoutes:
    """The routes whose latest request hashed, at most `limit` of them (paths may hold ids: no unbounded set)."""

    def __init__(self, limit: int = 256) -> None:
        self.limit = limit
        self._keys: OrderedDict[RouteKey, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: RouteKey) -> bool:
        return key in self._keys

    def run(self, key: RouteKey, work: Callable[[], Answer]) -> Answer:
        """`work()` on this thread, learning from it whether the route of `key` hashes."""
        _running.routes, _running.key, _running.hashed = self, key, False
        try:
            answer = work()
        finally:
            _running.routes = None
        if not _running.hashed and answer[0] < 400 and key in self._keys:
            with self._lock:
                self._keys.pop(key, None)
        return answer

    def _learn(self, key: RouteKey) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            if len(self._keys) > self.limit:
                self._keys.popitem(last=False)


def note_hashing() -> None:
    """The request on this thread is about to run bcrypt: its route hashes (a no-op outside a request)."""
    routes = getattr(_running, "routes", None)
    if routes is not None and not _running.hashed:
        _running.hashed = True
        routes._learn(_running.key)
