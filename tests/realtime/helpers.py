"""Waiting helpers shared by the realtime tests."""

import threading
import uuid

import pytest

WAIT = 5.0  # upper bound for an expected event; a passing test returns as soon as it arrives


def finishes(fn, within=30.0):
    """Run ``fn`` and return its result, failing (instead of hanging the suite) if it blocks."""
    outcome = {}

    def run():
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    if thread.is_alive():
        pytest.fail(f"still blocked after {within}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def received_before_marker(broker, sub, channel):
    """Everything ``sub`` receives before a marker published now on ``channel``.

    Events from one publisher arrive in order, so an empty list proves that nothing was delivered
    earlier, without sleeping and hoping.
    """
    broker.publish(channel, {"type": "test.marker", "data": {}})
    seen = []
    while (event := sub.get(WAIT)) is not None:
        if event["type"] == "test.marker":
            return seen
        seen.append(event)
    pytest.fail(f"marker on {channel} never arrived (closed={sub.closed}); got {seen}")


def flush(broker):
    """Return once the broker has fanned out everything published before (the Redis listener is FIFO)."""
    with broker.subscribe(f"flush:{uuid.uuid4().hex}") as probe:
        received_before_marker(broker, probe, next(iter(probe.channels)))
