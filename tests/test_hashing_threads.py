"""Logins hash on threads of their own: a poll is answered while a login holds the worker's only request thread.

The app is served through the worker's own bridge (`asgi.BufferedWSGI`) with one request thread. A
login for an unknown email still runs a full bcrypt check (no user enumeration by timing), here at
cost 13, so it holds its thread far longer than a read takes.
"""
from __future__ import annotations

import asyncio
import json

import pytest

from studysync.asgi import BufferedWSGI
from studysync.hashing_routes import HashingRoutes, note_hashing

LOGIN = ("POST", "/api/auth/login")
POLL = ("GET", "/api/health")


async def call(bridge: BufferedWSGI, method: str, path: str, body: dict | None = None) -> int:
    payload = json.dumps(body).encode() if body is not None else b""
    scope = {"type": "http", "http_version": "1.1", "method": method, "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "scheme": "http", "server": ("127.0.0.1", 5000),
             "client": ("127.0.0.1", 40000),
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                         (b"content-length", str(len(payload)).encode())]}
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message):
        sent.append(message)

    await bridge(scope, receive, send)
    return sent[0]["status"]


def finishing_order(bridge: BufferedWSGI) -> list[str]:
    """A login is sent, then a poll: the order in which their answers come back."""
    order: list[str] = []

    async def login():
        assert await call(bridge, *LOGIN, {"email": "nobody@demo.edu", "password": "Wrong-pass1"}) == 401
        order.append("login")

    async def poll():
        await asyncio.sleep(0)  # the login is handed to its thread first
        assert await call(bridge, *POLL) == 200
        order.append("poll")

    async def both():
        await asyncio.gather(login(), poll())

    asyncio.run(both())
    return order


@pytest.fixture
def slow_hashing_app(app_factory):
    return app_factory(bcrypt_rounds=13)


def test_a_poll_is_answered_while_a_login_hashes(slow_hashing_app):
    bridge = BufferedWSGI(slow_hashing_app, threads=1, hashing_threads=1)
    assert finishing_order(bridge) == ["login", "poll"]  # a fresh worker's first login holds the request thread
    assert LOGIN in bridge.hashing_routes and POLL not in bridge.hashing_routes  # and teaches the bridge its route:
    assert finishing_order(bridge) == ["poll", "login"]  # the next ones hash on a thread of their own


def test_without_hashing_threads_the_poll_waits_for_the_login(slow_hashing_app):
    bridge = BufferedWSGI(slow_hashing_app, threads=1, hashing_threads=0)
    finishing_order(bridge)
    assert finishing_order(bridge) == ["login", "poll"]  # what the hashing thread spares the poll


def test_a_login_refused_before_bcrypt_keeps_the_route_with_the_hashing_ones(slow_hashing_app):
    bridge = BufferedWSGI(slow_hashing_app, threads=1, hashing_threads=1)
    login = ("POST", "/api/v1/auth/login")
    assert asyncio.run(call(bridge, *login, {"email": "nobody@demo.edu", "password": "Wrong-pass1"})) == 401
    assert login in bridge.hashing_routes
    assert asyncio.run(call(bridge, *login, {"email": "not an email"})) == 400  # refused before bcrypt
    assert login in bridge.hashing_routes


def hashes() -> tuple:
    note_hashing()
    return (200,)


def test_a_route_whose_request_succeeds_without_hashing_goes_back_to_the_request_threads():
    routes, route = HashingRoutes(), ("PATCH", "/api/v1/users/me")
    routes.run(route, hashes)  # a new password
    assert route in routes
    routes.run(route, lambda: (422,))  # refused: teaches nothing
    assert route in routes
    routes.run(route, lambda: (200,))  # a new name, the password kept
    assert route not in routes


def test_the_routes_remembered_are_bounded():
    routes = HashingRoutes(limit=3)
    for number in range(5):
        routes.run(("PUT", f"/api/v1/users/{number}/password"), hashes)
    assert [("PUT", f"/api/v1/users/{number}/password") in routes for number in range(5)] == [
        False, False, True, True, True]


def test_hashing_outside_a_request_teaches_nothing():
    routes = HashingRoutes()
    routes.run(("GET", "/api/health"), lambda: (200,))
    note_hashing()  # as the bulk import's own hashing threads do
    assert ("GET", "/api/health") not in routes
