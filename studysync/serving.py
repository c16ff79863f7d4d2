"""How uvicorn serves `asgi:app`: the gunicorn worker class, and the same settings for tests.

`Worker` is uvicorn-worker's `UvicornWorker` with the stream's WebSocket settings (heartbeat, frame
limit) and one change at shutdown: before uvicorn drops its connections (which would close each
socket with 1012), `Server` has the app close every open stream with 1001, "going away", so clients
reconnect to another worker or after the restart. `StreamProtocol` is uvicorn's WebSocket protocol
(websockets, sans I/O) with each event's frame built once for all the sockets it goes to.
"""
from __future__ import annotations

import gc
import socket
import sys
from typing import Any

import uvicorn
from gunicorn.arbiter import Arbiter
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn_worker import UvicornWorker
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from .realtime.stream import MAX_CLIENT_FRAME, PING_SECONDS, PONG_SECONDS


class StreamProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets (sans I/O) protocol, with one shortcut for the stream's fan-out.

    A frame from server to client is not masked, so an event's text frame is the same bytes for every
    socket it reaches, and the hub hands them all the same text object one after another. The frame is
    built for the first socket and written as it is to the next ones, instead of being encoded and
    framed once per socket (under cProfile, a fifth of what a 5,000-socket fan-out spent in `send`).
    Anything out of the ordinary takes uvicorn's own path: a connection that is paused, closing or not
    yet open, one that negotiated compression (its frames differ per connection), a binary or
    fragmented message.
    """

    # The text framed last and its frame. Holding the text keeps its identity from being reused by
    # another string, so `is` tells the same event apart from the next.
    _last: tuple[str | None, bytes] = (None, b"")

    async def send(self, message: Any) -> None:
        text = message.get("text")
        if (message["type"] == "websocket.send" and text is not None and message.get("bytes") is None
                and self.handshake_complete and self.initial_response is None and not self.close_sent
                and not self.disconnected and self.writable.is_set() and self.conn.state is State.OPEN
                and not self.conn.extensions and not self.conn.expect_continuation_frame):
            framed, frame = StreamProtocol._last
            if framed is not text:
                frame = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
                StreamProtocol._last = (text, frame)
            self.transport.write(frame)
            return
        await super().send(message)


SERVER_OPTIONS: dict[str, Any] = {
    "ws": StreamProtocol,
    "ws_max_size": MAX_CLIENT_FRAME,
    "ws_ping_interval": PING_SECONDS,
    "ws_ping_timeout": PONG_SECONDS,
    # No permessage-deflate, though browsers and OkHttp offer it: events are small JSON, and a
    # compressed socket keeps its own deflate state (about twice the memory and CPU per socket at
    # 5,000, bench/chat_fanout.py --compression) and cannot share the event's one frame.
    "ws_per_message_deflate": False,
    "lifespan": "on",
    # Flask's ProxyFix (TRUSTED_PROXIES) is the one place that trusts X-Forwarded-*, as under gthread.
    "proxy_headers": False,
    "server_header": False,
}


class Server(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()  # no new sockets while the open ones are told to go away
        going_away = getattr(self.config.app, "going_away", None)
        if going_away is not None:
            await going_away()
        await super().shutdown(sockets)


class Worker(UvicornWorker):
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", **SERVER_OPTIONS}

    async def _serve(self) -> None:  # UvicornWorker._serve, with our Server
        self.config.app = self.wsgi
        # The app (Flask, SQLAlchemy, schemas, models) lives as long as the worker: out of the garbage
        # collector's sight, a full collection no longer walks it (~0.1 s of stalled event loop each).
        gc.collect()
        gc.freeze()
        server = Server(config=self.config)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


def config(app: Any, **options: Any) -> uvicorn.Config:
    """A uvicorn config with the worker's settings (tests and scripts that serve in-process)."""
    return uvicorn.Config(app, log_level="warning", **{**SERVER_OPTIONS, **options})
