"""Live events leave only after the change they announce has committed.

Services queue events on the session with `publish_after_commit(channels, type, data)`, and the listeners
installed here publish them to the app's broker once the outermost transaction commits. A rollback
drops them, so a client is never told about a message that does not exist; a savepoint that rolls
back drops only what was queued inside it. Publishing never blocks or raises into the committed
request: the broker drops what it cannot deliver, and clients catch up over REST.

The queue is `session.info[AFTER_COMMIT_EVENTS]`, a list of `realtime.Event`.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from ..db import db
from ..realtime import Broker, Event

log = logging.getLogger(__name__)

AFTER_COMMIT_EVENTS = "studysync.after_commit_events"
_SAVEPOINT_MARKS = "studysync.after_commit_marks"  # nested transaction -> queue length when it began


def publish_after_commit(channels: Iterable[str] | str, type: str, data: dict[str, Any],
                         session: Session | None = None) -> Event:
    """Queue `{"type": type, "data": data}` for `channels`, sent when the current transaction commits.

    `data` must be plain JSON (ids as strings, times as ISO strings); anything else fails here, in
    the service, rather than silently after the commit.
    """
    json.dumps(data, allow_nan=False)
    session = session or db.session
    if not session.in_transaction():
        session.begin()  # no connection yet; it makes a rollback before any query drop the event too
    queued = Event(type, data, channels)
    _queue(session).append(queued)
    return queued


def pending_events(session: Session | None = None) -> list[Event]:
    """What would be published if the session committed now (for tests and debugging)."""
    return list((session or db.session).info.get(AFTER_COMMIT_EVENTS, ()))


def _queue(session: Session) -> list[Event]:
    return session.info.setdefault(AFTER_COMMIT_EVENTS, [])


def install(app: Flask) -> None:
    """Publish each app session's queued events to the app's broker after its commits."""
    broker: Broker = app.extensions["studysync.broker"]
    factory = app.extensions["studysync.db"].session_factory

    def after_transaction_create(session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            session.info.setdefault(_SAVEPOINT_MARKS, {})[transaction] = len(_queue(session))

    def after_commit(session: Session) -> None:
        # SQLAlchemy also reports a released savepoint here: its events now belong to the
        # enclosing transaction. Only the outermost commit publishes.
        savepoint = session.get_nested_transaction()
        if savepoint is not None:
            session.info.get(_SAVEPOINT_MARKS, {}).pop(savepoint, None)
            return
        queued = session.info.pop(AFTER_COMMIT_EVENTS, None)
        for item in queued or ():
            try:
                broker.publish_event(item)
            except Exception:  # noqa: BLE001 - the data is committed; a lost event costs a refresh
                log.exception("live event %s could not be published", getattr(item, "type", item))

    def after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
        if previous.nested:
            mark = session.info.get(_SAVEPOINT_MARKS, {}).pop(previous, None)
            if mark is not None:
                del _queue(session)[mark:]
        else:
            session.info.pop(AFTER_COMMIT_EVENTS, None)

    def after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        # (A savepoint's mark is dropped by after_commit / after_soft_rollback: SQLAlchemy ends the
        # transaction before it reports the soft rollback.)
        if transaction.parent is None:
            # The outermost transaction ended without a commit (rolled back, closed, failed):
            # whatever it queued never happened.
            session.info.pop(AFTER_COMMIT_EVENTS, None)
            session.info.pop(_SAVEPOINT_MARKS, None)

    sa_event.listen(factory, "after_transaction_create", after_transaction_create)
    sa_event.listen(factory, "after_commit", after_commit)
    sa_event.listen(factory, "after_soft_rollback", after_soft_rollback)
    sa_event.listen(factory, "after_transaction_end", after_transaction_end)
