"""A view that hits a deadlock runs again instead of failing.

Two requests that lock the same rows in different orders (a join request and the leader's own
join; two posts racing a membership change) can deadlock; the database then aborts one of them.
That request did nothing wrong, so every view is wrapped: on a failure `db.failure_kind` calls
`RETRY` the session is rolled back (which also drops the live events it queued) and the view runs
again, up to `ATTEMPTS` times, after a short random pause. Only when every attempt failed does the
client see a 409 asking it to retry; a database that cannot be reached, or that does not answer
within its timeouts (`db_timeouts.py`, including a free pooled connection), is a 503 — worded
`UNKNOWN_OUTCOME_MESSAGE` when a COMMIT had already been sent, since that change may be stored. Views commit once,
at the end, and publish only after the commit, so running one again repeats nothing.

Failures outside a view (the token check before it) are mapped by `errors.py` the same way.
"""
from __future__ import annotations

import random
import time
from functools import wraps
from typing import Callable

from flask import Flask, g
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..db import COMMIT_SENT, RETRY, UNAVAILABLE, db, failure_kind
from ..errors import RETRY_MESSAGE, UNAVAILABLE_MESSAGE, UNKNOWN_OUTCOME_MESSAGE, Conflict, ServiceUnavailable

ATTEMPTS = 3
PAUSE_SECONDS = (0.01, 0.05)


def retrying(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            g.pop(COMMIT_SENT, None)
            try:
                return view(*args, **kwargs)
            except DBAPIError as exc:
                kind = failure_kind(exc)
                db.session.rollback()
                if kind == RETRY and attempt < ATTEMPTS:
                    time.sleep(random.uniform(*PAUSE_SECONDS))
                    continue
                if kind == RETRY:
                    raise Conflict(RETRY_MESSAGE) from exc
                if kind == UNAVAILABLE:
                    in_doubt = g.get(COMMIT_SENT, False)
                    raise ServiceUnavailable(UNKNOWN_OUTCOME_MESSAGE if in_doubt else UNAVAILABLE_MESSAGE) from exc
                raise
            except PoolTimeout as exc:  # every connection is held by requests the database is not answering
                db.session.rollback()
                raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from exc

    wrapper.__wrapped_for_retry__ = True
    return wrapper


def install(app: Flask, *, exclude: set[str] = frozenset()) -> None:
    """Wrap every registered view but those in `exclude` (long-lived WebSocket views)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint not in exclude and not getattr(view, "__wrapped_for_retry__", False):
            app.view_functions[endpoint] = retrying(view)
