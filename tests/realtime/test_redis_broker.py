"""What only the Redis broker does: cross-process delivery and surviving Redis trouble.

Two RedisBroker instances in one test stand for two gunicorn workers: they share nothing but Redis.
"""

import time

from studysync.realtime.broker import RedisBroker, create_broker

from .helpers import WAIT, finishes, received_before_marker


def message(n=1):
    return {"type": "message.created", "data": {"message_id": f"m{n}"}}


def wait_until(predicate, within=WAIT):
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def listener_ids(redis_client, prefix):
    return {c["id"] for c in redis_client.client_list() if c.get("name") == f"{prefix}listener"}


def test_event_published_by_one_worker_reaches_another(make_redis_broker):
    worker_a, worker_b = make_redis_broker(), make_redis_broker()
    on_b = worker_b.subscribe("group:1")
    on_a = worker_a.subscribe("group:1")

    worker_a.publish("group:1", message())

    assert on_b.get(WAIT) == message()
    # The publishing worker's own subscriber gets it exactly once (via Redis only).
    assert received_before_marker(worker_a, on_a, "group:1") == [message()]


def test_channel_added_on_another_worker_receives_the_next_event(make_redis_broker):
    worker_a, worker_b = make_redis_broker(), make_redis_broker()
    sub = worker_b.subscribe("user:1")
    sub.add("group:9")

    worker_a.publish("group:9", message())

    assert sub.get(WAIT) == message()


def test_redis_subscription_follows_local_subscribers(make_redis_broker, redis_client, prefix):
    broker = make_redis_broker()
    first, second = broker.subscribe("group:1"), broker.subscribe("group:1")
    assert redis_client.pubsub_channels(f"{prefix}*") == [f"{prefix}group:1"]

    first.close()
    assert received_before_marker(broker, second, "group:1") == []

    second.close()
    assert wait_until(lambda: redis_client.pubsub_channels(f"{prefix}*") == [])


def test_listener_reconnects_and_resubscribes_after_its_connection_is_killed(
    make_redis_broker, redis_client, prefix
):
    publisher, worker = make_redis_broker(), make_redis_broker()
    sub = worker.subscribe("group:1")
    (killed,) = listener_ids(redis_client, prefix)

    redis_client.client_kill_filter(_id=killed)

    # Events published while it reconnects are lost by design; keep publishing until one arrives.
    deadline = time.monotonic() + 15
    event = None
    while event is None and time.monotonic() < deadline:
        publisher.publish("group:1", message())
        event = sub.get(timeout=0.2)
    assert event == message()
    assert not sub.closed
    assert listener_ids(redis_client, prefix) - {killed}


def test_malformed_message_does_not_stop_the_listener(make_redis_broker, redis_client, prefix):
    broker = make_redis_broker()
    sub = broker.subscribe("group:1")

    redis_client.publish(f"{prefix}group:1", "not json")
    redis_client.publish(f"{prefix}group:1", '{"unexpected": true}')
    broker.publish("group:1", message())

    assert sub.get(WAIT) == message()


def test_prefix_keeps_deployments_apart(make_redis_broker, prefix):
    ours, theirs = make_redis_broker(), make_redis_broker(prefix=f"{prefix}other:")
    sub = ours.subscribe("group:1")

    theirs.publish("group:1", message())

    assert received_before_marker(ours, sub, "group:1") == []


def test_create_broker_with_url_uses_redis(redis_url):
    broker = create_broker(redis_url)
    try:
        assert isinstance(broker, RedisBroker)
    finally:
        broker.close()


def test_redis_down_neither_raises_nor_hangs():
    """A commit must not turn into an error because Redis is away; clients catch up over REST."""
    broker = RedisBroker("redis://127.0.0.1:1/0", subscribe_timeout=0.2)

    def use():
        broker.publish("group:1", message())
        sub = broker.subscribe("group:1")
        return sub.get(timeout=0.1), sub.closed

    try:
        assert finishes(use, within=30) == (None, False)
    finally:
        finishes(broker.close, within=30)


def test_with_redis_down_subscribers_in_this_process_still_get_the_event():
    """Redis away: a member connected to this worker still sees the message as it is posted."""
    broker = RedisBroker("redis://127.0.0.1:1/0", subscribe_timeout=0.2)

    def use():
        sub = broker.subscribe("group:1")
        broker.publish(["group:1", "group:2"], message(7))
        return sub.get(timeout=5), sub.get(timeout=0.1)

    try:
        assert finishes(use, within=30) == (message(7), None)
        assert broker.local_fallbacks == 1
    finally:
        finishes(broker.close, within=30)
