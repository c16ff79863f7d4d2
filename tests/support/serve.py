"""Serve a StudySync app in its own process (for tests that need two real instances).

Usage: python -m tests.support.serve PORT  — settings come from the environment
(DATABASE_URL, REDIS_URL, JWT_SECRET_KEY, BCRYPT_ROUNDS, ...). Served like the worker does it
(uvicorn, `asgi:app`'s router, the stream on the event loop). Prints "ready" once listening.
"""
import socket
import sys

from studysync.app import create_app
from studysync.asgi import create_asgi_app
from studysync.serving import Server, config


def main() -> None:
    port = int(sys.argv[1])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    server = Server(config(create_asgi_app(create_app())))
    print("ready", flush=True)  # connections wait in the backlog until the loop accepts them
    server.run(sockets=[listener])


if __name__ == "__main__":
    main()
