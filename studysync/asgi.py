"""The ASGI application the server runs: the live stream on the event loop, everything else to Flask.

`asgi:app` (beside `wsgi.py`) is what gunicorn serves (deploy/gunicorn.conf.py, uvicorn's worker).
A WebSocket on `/api/v1/stream` is handled by `realtime.stream` as coroutines, so an open socket costs
no thread; every HTTP request goes to the unchanged Flask app, run in a pool of `wsgi_threads`
threads as gthread did. Other WebSocket paths are refused (403).

`BufferedWSGI` rather than a2wsgi's `WSGIMiddleware`: a2wsgi hands the response to the loop piece by
piece, the request thread waiting on the loop three times per request (start, body, end). Our
responses are small JSON documents that Flask builds whole, so the thread runs the request to the
end and the loop sends the result once: one hand-over each way. The bench measured the difference
(plain API throughput against gthread). a2wsgi still builds the WSGI environ.

Requests of routes that hash passwords (logins, registrations, password changes: learned as they run,
`hashing_routes`) go to a second, smaller pool, so a burst of logins cannot hold every request thread
and both cores while the app's polls wait.
"""
from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Callable

from a2wsgi.wsgi import build_environ
from flask import Flask

from .cores import unpin_thread
from .hashing_routes import HashingRoutes
from .realtime.stream import PATH as STREAM_PATH, Streams

# Threads per worker for plain HTTP requests. Each runs Python under the one interpreter lock that the
# event loop needs too, to read requests and send answers: once a worker's CPU is the limit, threads
# beyond those that keep it busy only make every request wait longer for its turn. 8 served the app's
# polling mix better than 16 on SQLite and on PostgreSQL with two workers, alone and beside logins
# (bench/request_threads.py, figures in the README). With the logins on threads of their own (below)
# and the worker pinned to a core (cores.py), 4 served about as many as 8 on SQLite and somewhat more
# on PostgreSQL; 8 leave more room for requests that wait (SQLite's write lock, a slow statement).
# GUNICORN_THREADS overrides it.
DEFAULT_WSGI_THREADS = 8
# Threads per worker for requests of routes that hash passwords. bcrypt gives the interpreter lock up
# while it hashes, so each such thread can keep a core busy: one per worker leaves the other core to
# the reads, and two workers (as with Redis) still hash on both cores. GUNICORN_HASHING_THREADS
# overrides it; 0 runs them among the other requests.
DEFAULT_HASHING_THREADS = 1


class BufferedWSGI:
    """Serve a WSGI app to ASGI HTTP requests: body read on the loop, the app run whole in a thread."""

    def __init__(self, app: Flask, threads: int, hashing_threads: int = DEFAULT_HASHING_THREADS) -> None:
        self.app = app
        # Anything longer is refused by Flask (413) from its length alone: read no further than that.
        self.max_body = (app.config.get("MAX_CONTENT_LENGTH") or 1024 * 1024) + 1
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="wsgi")
        # bcrypt runs outside the interpreter lock: the hashing threads may use every core (cores.py).
        self._hashing_executor = (ThreadPoolExecutor(hashing_threads, thread_name_prefix="wsgi-hashing",
                                                     initializer=unpin_thread)
                                  if hashing_threads else self._executor)
        self.hashing_routes = HashingRoutes()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        body = await self._body(receive)
        environ = build_environ(scope, io.BytesIO(body))
        environ["wsgi.input_terminated"] = True  # the whole body is here, chunked or not (as gunicorn says)
        if len(body) >= self.max_body:  # a chunked upload cut short: Flask refuses it by length (413)
            environ["CONTENT_LENGTH"] = str(len(body))
        route = (scope["method"], scope["path"])
        executor = self._hashing_executor if route in self.hashing_routes else self._executor
        status, headers, content = await asyncio.get_running_loop().run_in_executor(
            executor, self.hashing_routes.run, route, partial(self._run, environ))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _body(self, receive: Callable) -> bytes:
        chunks, size = [], 0
        while size < self.max_body:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body"):
                break
        return b"".join(chunks)

    def _run(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        started: list = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            started[:] = [int(status.split(" ", 1)[0]),
                          [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]]
            return written.append

        written: list[bytes] = []
        iterable = self.app(environ, start_response)
        try:
            written.extend(iterable)
        finally:
            getattr(iterable, "close", lambda: None)()
        return started[0], started[1], b"".join(written)


class StudySyncASGI:
    def __init__(self, app: Flask, wsgi_threads: int = DEFAULT_WSGI_THREADS,
                 hashing_threads: int = DEFAULT_HASHING_THREADS) -> None:
        self.flask_app = app
        self.wsgi = BufferedWSGI(app, wsgi_threads, hashing_threads)
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


def create_asgi_app(app: Flask, wsgi_threads: int = DEFAULT_WSGI_THREADS,
                    hashing_threads: int = DEFAULT_HASHING_THREADS) -> StudySyncASGI:
    return StudySyncASGI(app, wsgi_threads, hashing_threads)
