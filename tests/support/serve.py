"""Serve a StudySync app in its own process (for tests that need two real instances).

Usage: python -m tests.support.serve PORT  — settings come from the environment
(DATABASE_URL, REDIS_URL, JWT_SECRET_KEY, BCRYPT_ROUNDS, ...). Prints "ready" once listening.
"""
import sys

from werkzeug.serving import make_server

from studysync.app import create_app


def main() -> None:
    port = int(sys.argv[1])
    server = make_server("127.0.0.1", port, create_app(), threaded=True)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
