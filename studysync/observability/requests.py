"""Every request: an id, a work context for the services, one log line and its metrics.

The id is the trusted proxy's `X-Request-ID` (nginx's `$request_id`) when the app sits behind one
(`TRUSTED_PROXIES`), otherwise a new one; it goes back in the `X-Request-ID` header and in every
error body (`errors.envelope`). The log line names the route template, never the URL's query
string (the stream's `?token=`), nor any header or body.
"""
from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, current_app, g, request

from . import context, metrics
from .logging import get_logger

HEADER = "X-Request-ID"
VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")  # what we accept from a proxy; anything else: a new id

log = get_logger("studysync.request")
events = get_logger("studysync.events")


def install(app: Flask) -> None:
    """Called after the auth hook is registered: the id comes first, the user right after auth."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.before_request(_identify)
    app.after_request(_finish)
    app.teardown_request(_end)


def _request_id() -> str:
    given = request.headers.get(HEADER, "")
    if current_app.config["SETTINGS"].trusted_proxies and VALID_ID.match(given):
        return given
    return uuid.uuid4().hex


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.work_context_token = context.begin(request_id=_request_id(), client_address=request.remote_addr)


def _identify() -> None:
    user = g.get("user")
    if user is not None:
        context.update(user_id=user.id, user_role=user.role, college_id=user.college_id)


def _finish(response: Response) -> Response:
    work = context.current()
    if work.request_id:
        response.headers[HEADER] = work.request_id
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    route = request.url_rule.rule if request.url_rule is not None else None
    status = response.status_code
    metrics.observe_request(request.method, route, status, seconds)
    level = "warning" if status >= 500 else "info"
    getattr(log, level)("request", method=request.method, route=route or metrics.UNMATCHED_ROUTE,
                        path=request.path, status=status, duration_ms=round(seconds * 1000, 1),
                        client=request.remote_addr)
    return response


def _end(_exc) -> None:
    token = g.pop("work_context_token", None)
    if token is not None:
        try:
            context.end(token)
        except ValueError:  # set in another context (a copied one): nothing of ours to restore
            pass
