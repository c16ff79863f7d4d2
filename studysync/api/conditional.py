"""ETags decided before a body is built, for the lists the app polls (issue 15).

The app's HTTP stack (OkHttp's cache on Android, NSURLCache on iOS) keeps a response that carries
an ETag and `Cache-Control: private, no-cache`, and revalidates it with `If-None-Match` on the next
poll. A route that can tell cheaply whether its data changed — a version its service reads in one
aggregate statement — answers 304 from that version alone, without loading or serialising the list.

A request without `If-None-Match` has nothing to compare: `Validator.unchanged` is then None, and
the service reads the version together with the body (one statement where it can) instead of first
asking for the version alone.

The tag is a hash of the route, the caller's college and user id, the query string and the service's
version, so one user's tag never answers for another, even where their data is alike (two empty lists).
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from flask import Response, request

from ..models import User

CACHE_CONTROL = "private, no-cache"  # per user: no shared cache; revalidate on every use
SHAPE = "1"  # bump when a polled route's body changes shape: every tag held by a client goes stale


def etag_for(route: str, user: User, version: str) -> str:
    raw = "\x1f".join((SHAPE, route, user.college_id or "-", user.id, request.query_string.decode("latin-1"), version))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def revalidating() -> bool:
    """Does the client hold a tag (`If-None-Match`)? Only then is a version read on its own."""
    return bool(request.if_none_match)


class Validator:
    """One polled request's tags: `unchanged` for the service (None when the client holds no tag),
    and the answers, 304 or tagged 200, for the route. Each version is hashed once."""

    __slots__ = ("route", "user", "_version", "_tag")

    def __init__(self, route: str, user: User):
        self.route, self.user = route, user
        self._version: str | None = None
        self._tag = ""

    def tag(self, version: str) -> str:
        if version != self._version:
            self._version, self._tag = version, etag_for(self.route, self.user, version)
        return self._tag

    @property
    def unchanged(self) -> Callable[[str], bool] | None:
        """For a service's `unchanged` argument: does the client hold the tag of this version?"""
        held = request.if_none_match
        if not held:
            return None
        return lambda version: held.contains_weak(self.tag(version))

    def not_modified(self, version: str) -> Response:
        return self.tagged(Response(status=304), version)

    def tagged(self, response: Response, version: str) -> Response:
        response.set_etag(self.tag(version))
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response

    def headers(self, version: str) -> dict[str, Any]:
        """The same headers, for a view that returns `(body, status, headers)` (flask-smorest's)."""
        return {"ETag": f'"{self.tag(version)}"', "Cache-Control": CACHE_CONTROL}
