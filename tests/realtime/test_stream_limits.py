"""What protects the server from its sockets: a cap per user, a bounded queue per socket, and a clean
goodbye (1001) to every socket when the server stops."""
import base64
import json
import os
import socket
import struct
import time
from urllib.parse import urlparse

import pytest
from simple_websocket import ConnectionClosed

from studysync.realtime import group_channel, user_channel
from studysync.realtime.stream import FALLEN_BEHIND
from tests.factories import Factory, make_group
from tests.support.live import serving

from .helpers import (  # noqa: F401 (live_url: fixture)
    WAIT, Client, connect, events_until, live_url, refused, ws_url,
)

TOO_MANY = "Too many open live connections for this account (at most 5); close one and retry"


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen")
        time.sleep(0.02)


def test_a_sixth_socket_of_one_user_is_refused_with_a_reason(app, live_url, factory):
    kit = factory.college()
    alice, bob = kit.students
    sockets = [connect(live_url, alice) for _ in range(5)]
    try:
        message, code = refused(Client.connect(ws_url(live_url, alice.token)))
        assert (message, code) == ({"type": "error", "message": TOO_MANY}, 4429)

        sockets.append(connect(live_url, bob))  # the cap is per user: bob is not affected

        sockets.pop(0).close()  # once alice closes one, she may open another
        broker = app.extensions["studysync.broker"]
        wait_until(lambda: sum(user_channel(alice.id) in s.channels for s in _subscriptions(broker)) == 4,
                   "the closed socket's release")
        sockets.append(connect(live_url, alice))
    finally:
        for ws in sockets:
            ws.close()


def _subscriptions(broker):
    registry = broker._registry
    with registry._lock:
        return set().union(*registry._subs.values()) if registry._subs else set()


class StalledClient:
    """A WebSocket client that completes the handshake and then reads nothing until told to."""

    def __init__(self, url):
        parsed = urlparse(url)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fill up quickly
        self.sock.connect((parsed.hostname, parsed.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parsed.path}?{parsed.query} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(1)  # byte by byte: leave every frame unread
        assert self.buffer.startswith(b"HTTP/1.1 101"), self.buffer
        self.buffer = b""

    def frames_until_close(self):
        """Everything the server sent, read at last: text frames as dicts, then the close code."""
        self.sock.settimeout(WAIT)
        texts = []
        while True:
            opcode, payload = self._frame()
            if opcode == 0x8:
                return texts, struct.unpack("!H", payload[:2])[0]
            if opcode == 0x1:
                texts.append(json.loads(payload))

    def _frame(self):
        head = self._read(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return head[0] & 0x0F, self._read(length)

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data


def test_a_socket_that_stops_reading_is_closed_and_does_not_hold_up_the_others(app_factory):
    app = app_factory(stream_queue_size=16)
    factory = Factory(app, app.test_client())
    kit = factory.college()
    alice, bob = kit.students
    group_id = make_group(factory.client, alice, member_ids=[bob.id])["group_id"]
    broker = app.extensions["studysync.broker"]
    padding = "x" * 64 * 1024  # 200 of these are far more than the socket buffers hold
    with serving(app) as url:
        stalled = StalledClient(ws_url(url, alice.token))
        wait_until(lambda: user_channel(alice.id) in broker._registry.channels(), "alice's subscription")
        ws_bob = connect(url, bob)
        try:
            # bob gets each event while alice's socket is stalled, before the next one is sent
            for n in range(200):
                broker.publish(group_channel(group_id), {"type": "test.bulk", "data": {"n": n, "pad": padding}})
                assert events_until(ws_bob, lambda e: e["type"] == "test.bulk")[-1]["data"]["n"] == n

            # the server let go of alice's subscription instead of queueing without bound
            wait_until(lambda: user_channel(alice.id) not in broker._registry.channels(),
                       "the stalled socket's release")
            texts, code = stalled.frames_until_close()
            assert texts[0]["type"] == "ready"
            assert len(texts) < 200  # events past her queue were dropped, not kept for her
            # what she did get came in order, none twice nor skipped, across the server's switch from
            # sending at once to waiting on her socket
            received = [text["data"]["n"] for text in texts[1:-1]]
            assert received == list(range(len(received)))
            assert texts[-1] == {"type": "error", "message": FALLEN_BEHIND}
            assert code == 1013
        finally:
            ws_bob.close()
            stalled.sock.close()


def test_every_socket_is_told_1001_when_the_server_stops(app, factory):
    kit = factory.college()
    alice, bob = kit.students
    with serving(app) as url:
        sockets = [connect(url, alice), connect(url, bob)]
    for ws in sockets:
        with pytest.raises(ConnectionClosed):
            while True:
                ws.receive(timeout=WAIT)
        assert ws.close_reason == 1001
