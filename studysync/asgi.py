"""The ASGI application the server runs: the live stream on the event loop, everything else to Flask.

`asgi:app` (beside `wsgi.py`) is what gunicorn serves (deploy/gunicorn.conf.py, uvicorn's worker).
A WebSocket on `/api/v1/stream` is handled by `realtime.stream` as coroutines, so an open socket costs
no thread; every HTTP request goes to the unchanged Flask app through a2wsgi, which runs it in a pool
of `wsgi_threads` threads, as gthread did. Other WebSocket paths are refused (403).
"""
from __future__ import annotations

from typing import Callable

from a2wsgi import WSGIMiddleware
from flask import Flask

from .realtime.stream import PATH as STREAM_PATH, Streams

DEFAULT_WSGI_THREADS = 16


class StudySyncASGI:
    def __init__(self, app: Flask, wsgi_threads: int = DEFAULT_WSGI_THREADS) -> None:
        self.flask_app = app
        self.wsgi = WSGIMiddleware(app, workers=wsgi_threads)
        self.streams = Streams(app)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.wsgi(scope, receive, send)
        elif kind == "websocket":
            if scope["path"] == STREAM_PATH:
                await self.streams(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def going_away(self) -> None:
        """Before the server drops its connections: every open stream gets a 1001 close."""
        await self.streams.going_away()

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.going_away()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_asgi_app(app: Flask, wsgi_threads: int = DEFAULT_WSGI_THREADS) -> StudySyncASGI:
    return StudySyncASGI(app, wsgi_threads)
