"""Each request is one unit of work: the view runs, then the session commits once, here.

Services only flush; nothing they change is visible to anyone until this commit, and the live
events they queued leave only after it (`services/events.py`). So a request either commits whole
or changes nothing, whichever surface it came through.

When the commit (or a statement before it) fails:

- a deadlock, a serialization failure or a lock wait that timed out, or SQLite's "database is
  locked" (a request that read, then found the write lock taken or its snapshot stale; `db.py`):
  the request did nothing wrong, so the session is rolled back (dropping its queued events) and
  the whole unit runs again, up to `ATTEMPTS` times after a short random pause, on SQLite taking
  the write lock at BEGIN; only then does the client see a 409 asking it to retry. A unit that
  committed is never run again;
- a unique constraint: a 409 whose message names the conflict (`conflicts.py`);
- another integrity error (a row this request relied on was deleted meanwhile): run again, where
  the missing row is met as a 404;
- a database that cannot be reached, or does not answer within its timeouts (`db_timeouts.py`,
  a free pooled connection included): a 503, worded `UNKNOWN_OUTCOME_MESSAGE` when the COMMIT had
  already been sent, since that change may be stored.

Failures outside a view (the token check before it) are mapped by `errors.py` the same way.
"""
from __future__ import annotations

import random
import time
from functools import wraps
from typing import Callable

from flask import Flask, g
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..conflicts import conflict_message, is_unique_violation
from ..db import COMMIT_SENT, RETRY, UNAVAILABLE, db, failure_kind, take_write_lock_at_begin
from ..errors import RETRY_MESSAGE, UNAVAILABLE_MESSAGE, UNKNOWN_OUTCOME_MESSAGE, Conflict, ServiceUnavailable

ATTEMPTS = 3
PAUSE_SECONDS = (0.01, 0.05)


def unit_of_work(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            session = db.session
            g.pop(COMMIT_SENT, None)
            try:
                response = view(*args, **kwargs)
                session.commit()
                return response
            except IntegrityError as exc:
                _rollback_quietly(session)
                if is_unique_violation(exc):
                    raise Conflict(conflict_message(exc)) from exc
                if attempt < ATTEMPTS:
                    _pause()
                    continue
                raise Conflict(RETRY_MESSAGE) from exc
            except DBAPIError as exc:
                kind = failure_kind(exc)
                _rollback_quietly(session)
                if kind == RETRY and attempt < ATTEMPTS:
                    take_write_lock_at_begin()  # SQLite: the rerun cannot meet a stale snapshot again
                    _pause()
                    continue
                if kind == RETRY:
                    raise Conflict(RETRY_MESSAGE) from exc
                if kind == UNAVAILABLE:
                    in_doubt = g.get(COMMIT_SENT, False)
                    raise ServiceUnavailable(UNKNOWN_OUTCOME_MESSAGE if in_doubt else UNAVAILABLE_MESSAGE) from exc
                raise
            except PoolTimeout as exc:  # every connection is held by requests the database is not answering
                _rollback_quietly(session)
                raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from exc
            except BaseException:
                _rollback_quietly(session)
                raise

    wrapper.__unit_of_work__ = True
    return wrapper


def _rollback_quietly(session) -> None:
    try:
        session.rollback()
    except Exception:  # the connection is gone; the pool hands out a fresh one next time
        session.close()


def _pause() -> None:
    time.sleep(random.uniform(*PAUSE_SECONDS))


def install(app: Flask, *, exclude: set[str] = frozenset()) -> None:
    """Wrap every registered view but those in `exclude` (long-lived WebSocket views)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint not in exclude and not getattr(view, "__unit_of_work__", False):
            app.view_functions[endpoint] = unit_of_work(view)
