"""Waiting helpers shared by the realtime tests, and the WebSocket client side of the stream tests
(a live server, connecting, reading frames, plain HTTP calls to the same server)."""

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
import simple_websocket
from simple_websocket import ConnectionClosed

from studysync.realtime import user_channel
from tests.support.live import serving

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


# The stream as a client sees it -----------------------------------------------------------------


class Client(simple_websocket.Client):
    """simple-websocket's client, minus one quirk: frames that arrive in the same packet as the
    handshake response sit unread until more data comes. A server that answers at once (`ready`,
    or a refusal followed by closing) would otherwise look silent."""

    def handshake(self):
        super().handshake()
        self._handle_events()  # may record a close (code and reason) that came with the handshake
        self.connected = True  # the reader thread then sees the end of the stream and stops


@pytest.fixture
def live_url(app):
    """The test's app served as the worker serves it (uvicorn; the stream on the event loop)."""
    with serving(app) as url:
        yield url


def ws_url(base, token=None):
    url = base.replace("http://", "ws://") + "/api/v1/stream"
    return f"{url}?token={token}" if token else url


def frame(ws, timeout=WAIT):
    raw = ws.receive(timeout=timeout)
    assert raw is not None, "no frame arrived"
    return json.loads(raw)


def connect(base, actor):
    ws = Client.connect(ws_url(base, actor.token))
    assert frame(ws) == {"type": "ready", "data": {"user_id": actor.id}}
    return ws


def events_until(ws, predicate, timeout=WAIT):
    """Frames up to and including the first that matches ``predicate``."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if raw is None:
            break
        seen.append(json.loads(raw))
        if predicate(seen[-1]):
            return seen
    pytest.fail(f"expected frame never arrived; got {seen}")


def frames_before_marker(broker, ws, user_id):
    """Every frame the socket of ``user_id`` receives before a marker published now on their own
    channel: the socket's events come through one subscription in order, so whatever was delivered
    to it earlier arrives before the marker, and an empty list means nothing was."""
    broker.publish(user_channel(user_id), {"type": "test.marker", "data": {}})
    return events_until(ws, lambda e: e["type"] == "test.marker")[:-1]


def http(method, url, actor=None, body=None):
    headers = {"Content-Type": "application/json"}
    if actor is not None:
        headers["Authorization"] = f"Bearer {actor.token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def refused(ws):
    """The error frame and close code of a refused socket."""
    message = frame(ws)
    with pytest.raises(ConnectionClosed):
        while True:
            ws.receive(timeout=WAIT)
    return message, ws.close_reason
