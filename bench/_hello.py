"""The bare Flask "hello" that bench/http_throughput.py serves under the same server settings as StudySync.

`app` is the WSGI app; `asgi` serves it through the same bridge and thread pool as the real app's
`asgi:app` (studysync/asgi.py), so the two are compared under one worker class. The worker runs
with `lifespan: on`, so `asgi` answers the lifespan messages as the real app does.
"""
import os

from flask import Flask, jsonify

from studysync.asgi import DEFAULT_WSGI_THREADS, BufferedWSGI

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify({"success": True, "message": "hello"})


_http = BufferedWSGI(app, int(os.environ.get("GUNICORN_THREADS", DEFAULT_WSGI_THREADS)))


async def asgi(scope, receive, send):
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
