"""The bare Flask "hello" that bench/http_throughput.py serves under the same server settings as StudySync.

`app` is the WSGI app; `asgi` serves it through the same bridge and thread pool as the real app's
`asgi:app` (studysync/asgi.py), so the two are compared under one worker class.
"""
import os

from flask import Flask, jsonify

from studysync.asgi import DEFAULT_WSGI_THREADS, BufferedWSGI

app = Flask(__name__)


@app.get("/")
def hello():
    return jsonify({"success": True, "message": "hello"})


asgi = BufferedWSGI(app, int(os.environ.get("GUNICORN_THREADS", DEFAULT_WSGI_THREADS)))
