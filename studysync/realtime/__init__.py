"""Live events: the broker that fans them out (and, alongside it, the WebSocket stream)."""

from studysync.realtime.broker import (
    MEMBERSHIP_CHANGED,
    Broker,
    Event,
    InProcessBroker,
    LocalRegistry,
    RedisBroker,
    Subscription,
    create_broker,
    group_channel,
    user_channel,
)

__all__ = [
    "MEMBERSHIP_CHANGED",
    "Broker",
    "Event",
    "InProcessBroker",
    "LocalRegistry",
    "RedisBroker",
    "Subscription",
    "create_broker",
    "group_channel",
    "user_channel",
]
