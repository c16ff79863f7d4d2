"""Fan-out of live events (new messages, reactions, notifications) to connected clients.

Services publish an event after their commit; each WebSocket holds one `Subscription` and reads from it.
The database stays the source of truth: an event that is dropped (a subscriber too slow, Redis briefly
down) costs a client nothing but a reconnect, after which it catches up through the REST cursor routes.
That is why nothing here ever blocks a writer or retries delivery.

Two brokers share one local fan-out (`LocalRegistry`):

- `InProcessBroker`: a single process (development, tests, one gunicorn worker).
- `RedisBroker`: several workers or machines; every event goes through Redis pub/sub, so a message
  posted through one worker reaches a WebSocket held by another.

Channel names are plain strings, ``"group:<id>"`` and ``"user:<id>"`` (see `group_channel`,
`user_channel`). Ids are UUIDs, unique across colleges, so a channel never needs a tenant prefix.
"""

from __future__ import annotations

import abc
import json
import logging
import os
import select
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 1000
DEFAULT_PREFIX = "studysync:"
# On a user's channel: {"group_id", "status"}; the stream starts or stops following that group's channel.
MEMBERSHIP_CHANGED = "membership.changed"


def group_channel(group_id: Any) -> str:
    return f"group:{group_id}"


def user_channel(user_id: Any) -> str:
    return f"user:{user_id}"


def _channel_set(channels: Iterable[str] | str) -> list[str]:
    """Channels in first-seen order without duplicates; a lone string is one channel, not its letters."""
    if isinstance(channels, str):
        channels = [channels]
    result = list(dict.fromkeys(channels))
    for name in result:
        if not isinstance(name, str) or not name:
            raise ValueError(f"channel names are non-empty strings, got {name!r}")
    return result


def _encode(obj: Any) -> str:
    """JSON both brokers agree on: a datetime or NaN fails at publish, in tests too, not only behind Redis."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Event:
    """What a service announces: ``Event("message.created", {...}, [group_channel(gid)])``.

    Subscribers receive ``as_dict()`` — type and data only; the channels are routing, not payload,
    so a direct message does not tell its reader which other inboxes it went to.
    """

    type: str
    data: dict = field(default_factory=dict)
    channels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(_channel_set(self.channels)))

    def as_dict(self) -> dict:
        return {"type": self.type, "data": self.data}


class Subscription:
    """One consumer's view of some channels, with its own bounded queue.

    The queue is bounded so that one stalled client (a phone in a tunnel) cannot grow memory without
    limit or slow anyone else: when it is full the subscription closes itself with ``overflowed`` set,
    and the WebSocket layer tells the client to reconnect and catch up over REST.

    Events are shared between subscriptions: treat them as read-only.

    With a ``sink`` the subscription keeps no queue: each event is handed to ``sink(event)`` in the
    delivering thread, and ``sink(None)`` once when it closes. The WebSocket stream uses that to move
    events onto its event loop, where each socket keeps its own bounded queue. A sink may also have a
    ``batch`` attribute, ``batch(sinks, event)``: delivery then hands one event to all the sinks sharing
    that ``batch`` in one call (one per event loop rather than one per socket).
    """

    def __init__(
        self,
        registry: LocalRegistry,
        channels: Iterable[str] | str,
        maxsize: int,
        sink: Callable[[dict | None], None] | None = None,
    ) -> None:
        if maxsize < 1:
            raise ValueError("a subscription queue holds at least one event")
        self._registry = registry
        self._maxsize = maxsize
        self._sink = sink
        self._items: deque[dict] = deque()
        self._cond = threading.Condition()  # guards _items, _closed, _overflowed
        self._membership = threading.Lock()  # serialises add/remove/close so the registry matches _channels
        self._channels: set[str] = set()
        self._closed = False
        self._overflowed = False
        self.add(channels)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def overflowed(self) -> bool:
        """True when the subscription was closed because its reader fell too far behind."""
        return self._overflowed

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    def get(self, timeout: float | None = None) -> dict | None:
        """The next event, or None after ``timeout`` seconds or once closed (``timeout=None`` waits)."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return self._items.popleft() if self._items else None

    def add(self, channels: Iterable[str] | str) -> None:
        """Start receiving more channels, e.g. when the user joins a group while connected.

        Returns once the broker is listening (for Redis: once SUBSCRIBE is confirmed), so an event
        published after this returns is not missed.
        """
        names = _channel_set(channels)
        with self._membership:
            if self._closed:
                return
            new = [name for name in names if name not in self._channels]
            self._channels.update(new)
            self._registry.attach(self, new)
        if new:
            self._registry.settle()

    def remove(self, channels: Iterable[str] | str) -> None:
        names = _channel_set(channels)
        with self._membership:
            gone = [name for name in names if name in self._channels]
            self._channels.difference_update(gone)
            self._registry.detach(self, gone)

    def close(self) -> None:
        self._shutdown(overflowed=False)

    def __iter__(self) -> Iterator[dict]:
        """Events until the subscription is closed."""
        while (event := self.get()) is not None:
            yield event

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _offer(self, event: dict) -> None:
        """Called by the publishing (or Redis listener) thread: never waits for the reader."""
        if self._sink is not None:
            if not self._closed:
                self._sink(event)
            return
        with self._cond:
            if self._closed:
                return
            if len(self._items) < self._maxsize:
                self._items.append(event)
                self._cond.notify()
                return
        log.info("realtime subscription overflowed (%d queued); closing it", self._maxsize)
        self._shutdown(overflowed=True)

    def _shutdown(self, overflowed: bool) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._overflowed = overflowed
            self._items.clear()
            self._cond.notify_all()
        with self._membership:
            self._registry.detach(self, list(self._channels))
            self._channels.clear()
        if self._sink is not None:
            self._sink(None)


class LocalRegistry:
    """The channel → subscriptions map of this process, shared by both brokers.

    ``on_change`` is told (without waiting) whenever the set of channels with at least one local
    subscriber changes, and ``settle`` is awaited after a subscription grows; the Redis broker uses
    them to SUBSCRIBE/UNSUBSCRIBE. Lock order is subscription → registry, never the reverse: delivery
    copies the targets under the registry lock and offers to them after releasing it.
    """

    def __init__(
        self,
        on_change: Callable[[], None] | None = None,
        settle: Callable[[], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self._on_change = on_change
        self._settle = settle

    def attach(self, sub: Subscription, channels: Iterable[str]) -> None:
        changed = False
        with self._lock:
            for name in channels:
                holders = self._subs.setdefault(name, set())
                changed |= not holders
                holders.add(sub)
        if changed and self._on_change:
            self._on_change()

    def detach(self, sub: Subscription, channels: Iterable[str]) -> None:
        changed = False
        with self._lock:
            for name in channels:
                holders = self._subs.get(name)
                if holders is None:
                    continue
                holders.discard(sub)
                if not holders:
                    del self._subs[name]
                    changed = True
        if changed and self._on_change:
            self._on_change()

    def settle(self) -> None:
        if self._settle:
            self._settle()

    def channels(self) -> set[str]:
        with self._lock:
            return set(self._subs)

    def deliver(self, channels: Iterable[str], event: dict) -> int:
        """Offer ``event`` once to every subscription holding any of ``channels``; returns how many.

        Sinks that share a ``batch`` (see `Subscription`) get the event in one call for all of them:
        5,000 sockets on one event loop cost one hand-over, not 5,000.
        """
        with self._lock:
            names = list(channels)
            if len(names) == 1:
                targets: Iterable[Subscription] = list(self._subs.get(names[0], ()))
            else:
                targets = set()
                for name in names:
                    targets.update(self._subs.get(name, ()))
        batches: dict[Callable, list] = {}
        count = 0
        for sub in targets:
            count += 1
            batch = getattr(sub._sink, "batch", None)
            if batch is None:
                sub._offer(event)
            elif not sub._closed:
                batches.setdefault(batch, []).append(sub._sink)
        for batch, sinks in batches.items():
            batch(sinks, event)
        return count

    def close_all(self) -> None:
        with self._lock:
            subs = set().union(*self._subs.values()) if self._subs else set()
        for sub in subs:
            sub.close()


class Broker(abc.ABC):
    """Publish events to channels; hand out subscriptions to them."""

    @abc.abstractmethod
    def publish(self, channels: Iterable[str] | str, event: dict) -> None:
        """Send ``event`` (a JSON-serialisable dict) to every subscriber of any of ``channels``, once each.

        Never waits for subscribers. Raises TypeError/ValueError for data JSON cannot carry; a broker
        outage is logged, not raised, because the caller has already committed.
        """

    @abc.abstractmethod
    def subscribe(
        self, channels: Iterable[str] | str, sink: Callable[[dict | None], None] | None = None
    ) -> Subscription:
        """A new subscription, already listening when this returns (``sink``: see `Subscription`)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close every subscription and release connections; idempotent."""

    def publish_event(self, event: Event) -> None:
        self.publish(event.channels, event.as_dict())


class InProcessBroker(Broker):
    """Fan-out within one process; enough for development, tests and a single worker."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._registry = LocalRegistry()
        self._closed = False

    def publish(self, channels: Iterable[str] | str, event: dict) -> None:
        names = _channel_set(channels)
        # The JSON round trip gives subscribers what Redis would give them: a copy the publisher can
        # no longer mutate, and an early error for anything that would not cross the wire.
        copy = json.loads(_encode(event))
        if not self._closed:
            self._registry.deliver(names, copy)

    def subscribe(
        self, channels: Iterable[str] | str, sink: Callable[[dict | None], None] | None = None
    ) -> Subscription:
        if self._closed:
            raise RuntimeError("broker is closed")
        return Subscription(self._registry, channels, self._queue_size, sink)

    def close(self) -> None:
        self._closed = True
        self._registry.close_all()


class RedisBroker(Broker):
    """Fan-out across processes through Redis pub/sub.

    Every event takes the Redis round trip, including to subscribers in the publishing process: one
    delivery path means one copy per subscriber and the same order everywhere, at the cost of a
    loopback hop. While Redis is down an event is delivered to this process's subscribers directly
    (other workers' clients catch up over REST).

    Each process has one listener thread with one PubSub connection, started on the first subscribe.
    It SUBSCRIBEs to ``prefix + channel`` while at least one local subscription holds the channel and
    fans each message out through the `LocalRegistry`. Only that thread touches the PubSub (redis-py's
    PubSub is not safe to share), so other threads just bump ``_wanted_gen``, wake the listener through
    a pipe and, when they need the subscription live, wait until the listener reports it confirmed.
    The listener sleeps in poll() on that pipe and the Redis socket: it neither polls on a timer nor
    makes a new socket (or a joined group) wait for its next round.

    An event addressed to several channels is PUBLISHed once per channel with one id; the listener
    delivers the first copy to the union of those channels and drops the rest.
    """

    IDLE_SECONDS = 1.0  # the longest the listener sleeps: it checks for stop and sends health checks
    MIN_BACKOFF, MAX_BACKOFF = 0.1, 5.0
    SEEN_IDS = 4096  # multi-channel event ids remembered for de-duplication

    def __init__(
        self,
        url: str,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        subscribe_timeout: float = 2.0,
    ) -> None:
        self._prefix = prefix
        self._queue_size = queue_size
        self._subscribe_timeout = subscribe_timeout
        common = {"socket_connect_timeout": 2, "socket_timeout": 5, "socket_keepalive": True}
        # Publishing runs in request threads after a commit: one quick retry for a stale pooled
        # connection, then give up rather than hold the request.
        self._client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 1), **common)
        # The listener does its own reconnecting (with backoff and a full resubscribe), so its client
        # must not retry behind its back. The name makes it findable in CLIENT LIST.
        self._listen_client = redis.Redis.from_url(
            url,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
            health_check_interval=15,
            client_name=f"{prefix}listener",
            **common,
        )
        self._registry = LocalRegistry(on_change=self._request_sync, settle=self._await_sync)
        self._sync = threading.Condition()  # guards the generations below and the thread handle
        self._wanted_gen = 0  # bumped whenever the local channel set changes
        self._synced_gen = 0  # the listener has SUBSCRIBEd (confirmed) everything as of this gen
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None  # the listener's pipe: a byte written wakes it
        self._stopping = threading.Event()
        self._backoff = self.MIN_BACKOFF  # listener thread only, like _seen
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.local_fallbacks = 0  # events delivered in this process only because Redis refused them

    # -- publishing -------------------------------------------------------------------------------

    def publish(self, channels: Iterable[str] | str, event: dict) -> None:
        names = _channel_set(channels)
        payload = _encode({"id": uuid.uuid4().hex, "channels": names, "event": event})
        if not names or self._stopping.is_set():
            return
        try:
            with self._client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.publish(self._prefix + name, payload)
                pipe.execute()
        except (redis.RedisError, OSError):
            # Subscribers in this process still get it; other workers' clients catch up over REST.
            log.warning("realtime publish to %s delivered locally only: Redis unavailable", names, exc_info=True)
            self.local_fallbacks += 1
            self._registry.deliver(names, json.loads(payload)["event"])

    # -- subscribing ------------------------------------------------------------------------------

    def subscribe(
        self, channels: Iterable[str] | str, sink: Callable[[dict | None], None] | None = None
    ) -> Subscription:
        if self._stopping.is_set():
            raise RuntimeError("broker is closed")
        self._ensure_listener()
        return Subscription(self._registry, channels, self._queue_size, sink)

    def close(self) -> None:
        self._stopping.set()
        with self._sync:
            self._sync.notify_all()
            thread = self._thread
            self._poke()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        with self._sync:
            wake, self._wake = self._wake, None
        for fd in wake or ():
            os.close(fd)
        self._registry.close_all()
        self._client.close()
        self._listen_client.close()

    def _ensure_listener(self) -> None:
        with self._sync:
            # is_alive() is also False in a forked child, which then starts its own listener.
            if self._thread is None or not self._thread.is_alive():
                for fd in self._wake or ():  # a forked child's copy, or a dead thread's
                    os.close(fd)
                self._wake = os.pipe()
                for fd in self._wake:
                    os.set_blocking(fd, False)
                self._thread = threading.Thread(
                    target=self._listen, name="studysync-realtime-listener", daemon=True
                )
                self._thread.start()

    def _request_sync(self) -> None:
        with self._sync:
            self._wanted_gen += 1
            self._poke()

    def _poke(self) -> None:
        """Wake the listener (hold ``_sync``)."""
        if self._wake is not None:
            try:
                os.write(self._wake[1], b"!")
            except BlockingIOError:
                pass  # the pipe is full of wake-ups already

    def _await_sync(self) -> None:
        """Wait until the listener's SUBSCRIBEs cover the registry as it is now (bounded)."""
        if threading.current_thread() is self._thread:
            return  # the listener cannot wait for itself
        with self._sync:
            target = self._wanted_gen
            done = self._sync.wait_for(
                lambda: self._synced_gen >= target or self._stopping.is_set(),
                self._subscribe_timeout,
            )
        if not done:
            log.warning("realtime: Redis SUBSCRIBE not confirmed within %ss", self._subscribe_timeout)

    def _mark_synced(self, gen: int) -> None:
        with self._sync:
            if gen > self._synced_gen:
                self._synced_gen = gen
                self._sync.notify_all()

    # -- the listener thread ----------------------------------------------------------------------

    def _listen(self) -> None:
        """Keep one PubSub connection alive for the life of the broker; never let the thread die."""
        while not self._stopping.is_set():
            pubsub = self._listen_client.pubsub()
            try:
                self._pump(pubsub)
            except Exception:  # noqa: BLE001 - a listener that dies silently would be worse
                log.warning(
                    "realtime listener lost Redis; reconnecting in %.1fs", self._backoff, exc_info=True
                )
                self._stopping.wait(self._backoff)
                self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001
                    pass

    def _pump(self, pubsub: Any) -> None:
        """Apply channel changes and fan messages out until stopped; raises on connection loss.

        Starts from nothing on each (re)connection, so the first pass subscribes every wanted channel.
        """
        active: set[str] = set()  # channels SUBSCRIBEd on this connection
        awaiting: set[str] = set()  # SUBSCRIBE sent, confirmation not read yet
        seen_gen = -1
        with self._sync:
            wake = self._wake[0] if self._wake else None
        while not self._stopping.is_set():
            with self._sync:
                gen = self._wanted_gen
            if gen != seen_gen:
                wanted = self._registry.channels()
                new, gone = wanted - active, active - wanted
                if new:
                    pubsub.subscribe(*(self._prefix + name for name in new))
                    awaiting |= new
                if gone:
                    pubsub.unsubscribe(*(self._prefix + name for name in gone))
                    awaiting -= gone
                active, seen_gen = wanted, gen
            if not awaiting:
                self._mark_synced(seen_gen)
            # Whatever is readable now, without waiting (redis-py may hold a reply in its buffer).
            message = pubsub.get_message(timeout=0) if pubsub.connection is not None else None
            if message is None:
                self._sleep(pubsub, wake)
            elif message["type"] == "subscribe":
                awaiting.discard(message["channel"][len(self._prefix):])
                self._backoff = self.MIN_BACKOFF  # connected and working again
            elif message["type"] == "message":
                self._fan_out(message["data"])

    def _sleep(self, pubsub: Any, wake: int | None) -> None:
        """Until Redis sends something, another thread pokes the pipe, or `IDLE_SECONDS` pass."""
        poller = select.poll()  # not select(): a worker holding sockets has descriptors above 1024
        if wake is not None:
            poller.register(wake, select.POLLIN)
        connection = pubsub.connection
        sock = getattr(connection, "_sock", None)
        if sock is not None and pubsub.subscribed:
            if connection.can_read(timeout=0):
                return  # a reply already sits in redis-py's buffer (behind a health check's PONG)
            poller.register(sock, select.POLLIN)
        for fd, _ in poller.poll(self.IDLE_SECONDS * 1000):
            if fd == wake:
                try:
                    while os.read(wake, 512):
                        pass
                except (BlockingIOError, OSError):
                    pass

    def _fan_out(self, raw: str) -> None:
        try:
            payload = json.loads(raw)
            event_id, channels, event = payload["id"], payload["channels"], payload["event"]
        except (ValueError, TypeError, KeyError):
            log.warning("realtime: ignoring malformed message %.200r", raw)
            return
        if len(channels) > 1:  # one copy arrives per channel: deliver the first, drop the others
            if event_id in self._seen:
                return
            self._seen[event_id] = None
            if len(self._seen) > self.SEEN_IDS:
                self._seen.popitem(last=False)
        self._registry.deliver(channels, event)


def create_broker(
    redis_url: str | None,
    *,
    prefix: str = DEFAULT_PREFIX,
    queue_size: int = DEFAULT_QUEUE_SIZE,
) -> Broker:
    """Redis when a URL is configured (several workers), otherwise in-process."""
    if redis_url:
        return RedisBroker(redis_url, prefix=prefix, queue_size=queue_size)
    return InProcessBroker(queue_size=queue_size)
