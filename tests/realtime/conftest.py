"""Brokers for the realtime tests: the in-process one always, the Redis one against a real server.

Redis tests skip when no server answers, except under CI=true, where a missing Redis is a failure
rather than a quietly green run.
"""

import os
import uuid

import pytest
import redis

from studysync.realtime.broker import InProcessBroker, RedisBroker

REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"Redis unreachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true requires it)")
        pytest.skip(reason)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def prefix():
    """A key prefix of its own per test, so test runs sharing one Redis server never see each other."""
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def make_redis_broker(redis_url, prefix):
    made = []

    def make(**options):
        options.setdefault("prefix", prefix)
        broker = RedisBroker(redis_url, **options)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture(params=["in_process", "redis"])
def make_broker(request):
    """Each behaviour test runs on both brokers: they must be interchangeable."""
    if request.param == "redis":
        yield request.getfixturevalue("make_redis_broker")
        return
    made = []

    def make(**options):
        broker = InProcessBroker(**options)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def broker(make_broker):
    return make_broker()
