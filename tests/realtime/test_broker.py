"""What every broker must do, run against the in-process and the Redis broker alike."""

import datetime
import threading

import pytest

from studysync.realtime.broker import Event, InProcessBroker, create_broker

from .helpers import WAIT, finishes, flush, received_before_marker


def message(n=1):
    return {"type": "message.created", "data": {"message_id": f"m{n}", "content": "hi"}}


def test_event_reaches_only_subscribers_of_its_channel(broker):
    in_group = broker.subscribe("group:1")
    other_group = broker.subscribe("group:2")
    in_both = broker.subscribe(["group:1", "group:2"])

    broker.publish(["group:1"], message())

    assert in_group.get(WAIT) == message()
    assert in_both.get(WAIT) == message()
    assert received_before_marker(broker, other_group, "group:2") == []


def test_event_for_several_channels_arrives_once_per_subscriber(broker):
    alice = broker.subscribe(["user:alice", "group:1"])
    bob = broker.subscribe("user:bob")
    dm = {"type": "dm.created", "data": {"from": "alice", "to": "bob"}}

    broker.publish(["user:alice", "user:bob", "group:1"], dm)

    assert received_before_marker(broker, alice, "user:alice") == [dm]
    assert received_before_marker(broker, bob, "user:bob") == [dm]


def test_publish_event_sends_type_and_data(broker):
    sub = broker.subscribe("group:1")

    broker.publish_event(Event("reaction.changed", {"message_id": "m1", "emoji": "👍"}, ["group:1"]))

    assert sub.get(WAIT) == {"type": "reaction.changed", "data": {"message_id": "m1", "emoji": "👍"}}


def test_a_channel_string_is_one_channel(broker):
    sub = broker.subscribe("group:1")
    assert sub.channels == {"group:1"}


def test_removed_channel_stops_delivering(broker):
    sub = broker.subscribe(["user:1", "group:1"])
    sub.remove(["group:1"])

    broker.publish("group:1", message())

    assert sub.channels == {"user:1"}
    assert received_before_marker(broker, sub, "user:1") == []


def test_added_channel_delivers_the_very_next_event(broker):
    """A user who joins a group while connected sees the next message without reconnecting."""
    sub = broker.subscribe("user:1")
    sub.add(["group:7"])

    broker.publish("group:7", message())

    assert sub.get(WAIT) == message()


def test_closed_subscription_receives_nothing_and_does_not_block(broker):
    closed = broker.subscribe("group:1")
    still_open = broker.subscribe("group:1")
    closed.close()

    broker.publish("group:1", message())

    assert still_open.get(WAIT) == message()
    assert closed.closed and not closed.overflowed
    assert finishes(lambda: closed.get(timeout=None), within=WAIT) is None
    assert finishes(lambda: list(closed), within=WAIT) == []


def test_close_wakes_a_reader_blocked_in_get(broker):
    sub = broker.subscribe("group:1")
    results = []
    reader = threading.Thread(target=lambda: results.append(sub.get(timeout=None)), daemon=True)
    reader.start()

    sub.close()
    reader.join(WAIT)

    assert not reader.is_alive()
    assert results == [None]


def test_iteration_yields_events_until_closed(broker):
    sub = broker.subscribe("group:1")
    for n in range(3):
        broker.publish("group:1", message(n))

    def read_all():
        seen = []
        for event in sub:
            seen.append(event)
            if len(seen) == 3:
                sub.close()
        return seen

    assert finishes(read_all, within=WAIT) == [message(0), message(1), message(2)]


def test_stalled_subscriber_is_dropped_and_never_blocks_publish(make_broker):
    broker = make_broker(queue_size=1000)
    stalled = broker.subscribe("group:1")  # never reads

    finishes(lambda: [broker.publish("group:1", message(n)) for n in range(5000)])
    flush(broker)

    assert stalled.closed and stalled.overflowed
    assert stalled.get(timeout=0) is None
    # The broker carries on for everyone else.
    fresh = broker.subscribe("group:1")
    broker.publish("group:1", message(5000))
    assert fresh.get(WAIT) == message(5000)


def test_publisher_cannot_change_an_event_after_publishing(broker):
    sub = broker.subscribe("group:1")
    event = message()

    broker.publish("group:1", event)
    event["data"]["content"] = "edited later"

    assert sub.get(WAIT)["data"]["content"] == "hi"


def test_data_json_cannot_carry_is_refused_at_publish(broker):
    """Caught by the in-process broker in tests, not first in production behind Redis."""
    with pytest.raises(TypeError):
        broker.publish("group:1", {"type": "x", "data": {"at": datetime.datetime.now()}})
    with pytest.raises(ValueError):
        broker.publish("group:1", {"type": "x", "data": {"score": float("nan")}})


def test_closed_broker_closes_its_subscriptions(make_broker):
    broker = make_broker()
    sub = broker.subscribe("group:1")

    broker.close()

    assert sub.closed
    broker.publish("group:1", message())  # a late publish from a request thread is not an error
    with pytest.raises(RuntimeError):
        broker.subscribe("group:1")


def test_concurrent_publishers_subscribers_and_channel_changes(make_broker):
    """Smoke test: no lost, duplicated or reordered events while subscriptions come and go."""
    broker = make_broker(queue_size=100_000)
    publishers, per_publisher, readers = 4, 500, 4
    subs = [broker.subscribe("group:load") for _ in range(readers)]
    received = [[] for _ in range(readers)]
    publishing_done = threading.Event()
    errors = []

    def read(i):
        while len(received[i]) < publishers * per_publisher:
            event = subs[i].get(WAIT)
            if event is None:
                return
            received[i].append(event)

    def publish(p):
        for n in range(per_publisher):
            broker.publish(["group:load", f"user:{p}"], {"type": "t", "data": {"p": p, "n": n}})

    def churn():
        n = 0
        try:
            while not publishing_done.is_set():
                with broker.subscribe(["group:load", f"group:churn-{n % 5}"]) as sub:
                    sub.add([f"user:{n % publishers}"])
                    sub.get(timeout=0)
                    sub.remove(["group:load"])
                n += 1
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    reader_threads = [threading.Thread(target=read, args=(i,)) for i in range(readers)]
    publisher_threads = [threading.Thread(target=publish, args=(p,)) for p in range(publishers)]
    churn_thread = threading.Thread(target=churn)
    for thread in reader_threads + [churn_thread] + publisher_threads:
        thread.start()
    for thread in publisher_threads:
        thread.join(60)
    publishing_done.set()
    for thread in reader_threads + [churn_thread]:
        thread.join(60)

    assert not any(t.is_alive() for t in publisher_threads + reader_threads + [churn_thread])
    assert errors == []
    for events in received:
        assert len(events) == publishers * per_publisher
        for p in range(publishers):
            assert [e["data"]["n"] for e in events if e["data"]["p"] == p] == list(range(per_publisher))
    assert not any(sub.overflowed for sub in subs)


def test_create_broker_without_redis_url_is_in_process():
    broker = create_broker(None)
    try:
        assert isinstance(broker, InProcessBroker)
    finally:
        broker.close()
