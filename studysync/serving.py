"""How uvicorn serves `asgi:app`: the gunicorn worker class, and the same settings for tests.

`Worker` is uvicorn-worker's `UvicornWorker` with the stream's WebSocket settings (heartbeat, frame
limit) and one change at shutdown: before uvicorn drops its connections (which would close each
socket with 1012), `Server` has the app close every open stream with 1001, "going away", so clients
reconnect to another worker or after the restart.
"""
from __future__ import annotations

import gc
import socket
import sys
from typing import Any

import uvicorn
from gunicorn.arbiter import Arbiter
from uvicorn_worker import UvicornWorker

from .realtime.stream import MAX_CLIENT_FRAME, PING_SECONDS, PONG_SECONDS

SERVER_OPTIONS: dict[str, Any] = {
    "ws": "websockets-sansio",
    "ws_max_size": MAX_CLIENT_FRAME,
    "ws_ping_interval": PING_SECONDS,
    "ws_ping_timeout": PONG_SECONDS,
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
