"""The open WebSocket streams of one process, on its event loop, and the bridge that brings them events.

Publishers deliver in their own thread: a request thread after its commit (in-process broker) or the
Redis listener thread. The broker hands each event once to `Hub` with the sinks of all the sockets
(on this loop) it is for; the hub appends that to a list under a lock and, when no drain is pending,
schedules one on the loop. A message to 5,000 sockets therefore costs the delivering thread one
hand-over and the loop one wake-up, and its JSON is encoded once and shared by every socket's queue.

Everything else here runs on the loop thread only, so it needs no locks: the per-socket `Outbox`
(bounded: a socket that stops reading overflows it instead of growing memory or slowing anyone else)
and the per-user count of open sockets.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from typing import Any, Callable, Protocol

log = logging.getLogger(__name__)

# What a socket is handed: the event (None for a frame of our own, such as a pong) and its JSON text.
Item = tuple[dict | None, str]


def encode(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


class Receiver(Protocol):
    def __call__(self, event: dict | None, text: str | None) -> None:
        """An event and its text, or (None, None) once the socket's subscription has closed."""


class Outbox:
    """One socket's send queue. Full means the reader fell behind: ``on_overflow`` runs once, and from
    then on the outbox drops everything (the client reconnects and catches up over REST)."""

    def __init__(self, maxsize: int, on_overflow: Callable[[], None]) -> None:
        self._items: deque[Item] = deque()
        self._maxsize = maxsize
        self._on_overflow = on_overflow
        self.overflowed = False

    def __len__(self) -> int:
        return len(self._items)

    def push(self, item: Item) -> bool:
        """Queue ``item``; False if it was dropped (the outbox is or has just become full)."""
        if self.overflowed:
            return False
        if len(self._items) >= self._maxsize:
            self.overflowed = True
            self._items.clear()
            self._on_overflow()
            return False
        self._items.append(item)
        return True

    def peek(self) -> Item:
        return self._items[0]

    def pop(self) -> Item:
        return self._items.popleft()


class _Sink:
    """A subscription's sink: on its own, one event for one socket; through ``batch``, for many."""

    __slots__ = ("batch", "receiver")

    def __init__(self, hub: Hub, receiver: Receiver) -> None:
        self.batch = hub.hand_over
        self.receiver = receiver

    def __call__(self, event: dict | None) -> None:
        self.batch([self], event)


class Hub:
    """Per process and event loop: hands events to sockets, counts sockets per user."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_per_user: int) -> None:
        self._loop = loop
        self._lock = threading.Lock()  # guards _pending and _scheduled (any thread)
        self._pending: list[tuple[list[_Sink], dict | None]] = []
        self._scheduled = False
        self._by_user: dict[str, set[Any]] = {}  # loop thread only
        self.max_per_user = max_per_user

    # -- any thread ---------------------------------------------------------------------------------

    def sink(self, receiver: Receiver) -> Callable[[dict | None], None]:
        """The ``sink`` for a broker subscription whose events ``receiver`` takes on the loop."""
        return _Sink(self, receiver)

    def hand_over(self, sinks: list[_Sink], event: dict | None) -> None:
        """``event`` for every one of ``sinks`` (the broker's ``batch``): queued, and one drain scheduled."""
        with self._lock:
            self._pending.append((sinks, event))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop has closed: nobody is left to deliver to
            log.debug("realtime: event for a closed event loop dropped")

    # -- loop thread --------------------------------------------------------------------------------

    def _drain(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        for sinks, event in batch:
            text = None if event is None else encode(event)  # once per event, shared by every socket
            for sink in sinks:
                sink.receiver(event, text)

    def admit(self, user_id: str, stream: Any) -> bool:
        """Count ``stream`` as one of the user's open sockets, unless they hold ``max_per_user``."""
        held = self._by_user.setdefault(user_id, set())
        if len(held) >= self.max_per_user:
            return False
        held.add(stream)
        return True

    def leave(self, user_id: str, stream: Any) -> None:
        held = self._by_user.get(user_id)
        if held is None:
            return
        held.discard(stream)
        if not held:
            del self._by_user[user_id]

    def streams(self) -> list[Any]:
        return [stream for held in self._by_user.values() for stream in held]
