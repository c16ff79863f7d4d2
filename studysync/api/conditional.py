"""ETags decided before a body is built, for the lists the app polls (issue 15).

The app's HTTP stack (OkHttp's cache on Android, NSURLCache on iOS) keeps a response that carries
an ETag and `Cache-Control: private, no-cache`, and revalidates it with `If-None-Match` on the next
poll. A route that can tell cheaply whether its data changed — a version its service reads in one
aggregate statement — answers 304 from that version alone, without loading or serialising the list.

The tag is a hash of the route, the caller's college and user id, and the service's version, so
one user's tag never answers for another, even where their data is alike (two empty lists).
"""
from __future__ import annotations

import hashlib
from typing import Callable

from flask import Response, request

from ..models import User

CACHE_CONTROL = "private, no-cache"  # per user: no shared cache; revalidate on every use
SHAPE = "1"  # bump when a polled route's body changes shape: every tag held by a client goes stale


def etag_for(route: str, user: User, version: str) -> str:
    raw = "\x1f".join((SHAPE, route, user.college_id or "-", user.id, request.query_string.decode("latin-1"), version))
    return hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


def matcher(route: str, user: User) -> Callable[[str], bool]:
    """For a service's `unchanged` argument: does the client hold the tag of this version?"""
    def unchanged(version: str) -> bool:
        return bool(request.if_none_match) and request.if_none_match.contains_weak(etag_for(route, user, version))

    return unchanged


def not_modified(route: str, user: User, version: str) -> Response:
    return tagged(Response(status=304), route, user, version)


def tagged(response: Response, route: str, user: User, version: str) -> Response:
    response.set_etag(etag_for(route, user, version))
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
