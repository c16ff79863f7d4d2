"""ASGI entry point: `gunicorn -c deploy/gunicorn.conf.py asgi:app` (what `make run` does).

GUNICORN_THREADS sets the threads that serve plain HTTP requests in each worker (the live stream
needs none), GUNICORN_HASHING_THREADS those that serve requests of routes that hash passwords.
"""
import os

from studysync.app import create_app
from studysync.asgi import DEFAULT_HASHING_THREADS, DEFAULT_WSGI_THREADS, create_asgi_app

app = create_asgi_app(create_app(), int(os.environ.get("GUNICORN_THREADS", DEFAULT_WSGI_THREADS)),
                      int(os.environ.get("GUNICORN_HASHING_THREADS", DEFAULT_HASHING_THREADS)))
