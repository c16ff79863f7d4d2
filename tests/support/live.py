"""Serve an app the way the worker does (uvicorn, `studysync.asgi`, `studysync.serving`) on a thread
of this process, so a test can publish through the app's broker and look into it while clients talk
to the server over real sockets."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

from studysync.asgi import create_asgi_app
from studysync.serving import Server, config


@contextmanager
def serving(app):
    """Yield the base URL of ``app`` served on a free port; stop the server (1001 to every socket) after."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    server = Server(config(create_asgi_app(app), loop="asyncio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(15)
        listener.close()
