"""Which browser pages may read the answers of `/api/...` (CORS): `CORS_ORIGINS`, `*` or a list.

The native app sends no `Origin` and is not subject to CORS. A browser build of the app (Expo web)
sends one on every call from its page, and an `OPTIONS` preflight before each call that carries a
token; the answer to a preflight names the methods and headers the page may send and lets the
browser keep it for `PREFLIGHT_SECONDS`, so an open web app does not send two requests per poll.
An origin not in the list gets no `Access-Control-*` header: the browser keeps the answer from the page.

Our own lines rather than flask-cors: that extension matched the path and worked out its options on
every answer, with an `Origin` or not (~120,000 instructions, 4% of an authenticated read; twice for
an error, whose handlers it wrapped as well). A request without an `Origin` costs one header lookup here.
"""
from __future__ import annotations

from flask import Flask, Response, request

PATH_PREFIX = "/api"
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
PREFLIGHT_SECONDS = 600


class Cors:
    """The after-request hook: `origins` is `*` or a comma-separated list (compared without case,
    as schemes and host names are)."""

    def __init__(self, origins: str):
        listed = {origin.strip().lower() for origin in origins.split(",") if origin.strip()}
        self.allowed: frozenset[str] | None = None if "*" in listed else frozenset(listed)

    def __call__(self, response: Response) -> Response:
        origin = request.headers.get("Origin")
        if not origin or not request.path.startswith(PATH_PREFIX):
            return response
        if self.allowed is not None and origin.lower() not in self.allowed:
            return response
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")  # a cache must not hand one page's answer to another
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method", "").upper() in METHODS:
            asked = request.headers.get("Access-Control-Request-Headers", "")
            names = sorted({name.strip() for name in asked.split(",") if name.strip()})
            if names:
                headers["Access-Control-Allow-Headers"] = ", ".join(names)
            headers["Access-Control-Allow-Methods"] = ", ".join(METHODS)
            headers["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
        return response


def install(app: Flask, origins: str) -> None:
    app.after_request(Cors(origins))
