"""Notifications: created by other services inside their own transaction, read by their owner.

`notify()` only adds the row to the caller's session: the notification commits (or rolls back)
with the change that caused it. Its live event, `notification.created` on the user's channel,
is queued with `events.publish_after_commit`: sent after that commit, dropped on a rollback.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Callable

from sqlalchemy import bindparam, func, select, update

from ..access import allow
from ..auth.companion import Companion
from ..db import db, new_id, utc_iso, utcnow
from ..errors import NotFound
from ..models import Notification, User
from ..models.user import COLLEGE_ROLES
from ..queries import Page, bounded, page_bounds, paginate
from ..realtime import user_channel
from .events import publish_after_commit

NOTIFICATION_CREATED = "notification.created"
PREVIEW_CHARS = 140

JOIN_REQUEST = "join_request"
REQUEST_APPROVED = "request_approved"
REQUEST_REJECTED = "request_rejected"


def event_payload(notification: Notification) -> dict:
    """The notification as the API shows it, in plain JSON (the broker refuses datetimes)."""
    return {
        "notification_id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "message": notification.message,
        "data": notification.data,
        "read": notification.read_at is not None,
        "created_at": utc_iso(notification.created_at),
    }


def preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """A message as a notification quotes it: at most `limit` characters, cut with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def notify(user_id: str, type: str, title: str, message: str, data: dict[str, Any] | None = None) -> Notification:
    """Tell `user_id` something, as part of the caller's transaction (the caller commits)."""
    notification = Notification(id=new_id(), user_id=user_id, type=type, title=title[:200], message=message,
                                data=dict(data or {}), created_at=utcnow())
    db.session.add(notification)
    publish_after_commit([user_channel(user_id)], NOTIFICATION_CREATED, event_payload(notification))
    return notification


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A notification as its owner's lists show it (read from columns: no ORM row per item)."""

    id: str
    type: str
    title: str
    message: str
    data: dict[str, Any]
    read_at: datetime | None
    created_at: datetime

    @property
    def read(self) -> bool:
        return self.read_at is not None


@allow(*COLLEGE_ROLES)
def list_notifications(user: User, page: int, limit: int, unread_only: bool = False) -> Page[NotificationView]:
    result = paginate(_list_statement(unread_only), page, limit, scalars=False, params={"user_id": user.id})
    result.items = [NotificationView(*row) for row in result.items]
    return result


@dataclass(frozen=True)
class NotificationsPoll:
    """What a poll of the list needs: the version of the user's notifications (it changes whenever
    one is created, read, deleted or rewritten), the unread count, and the page — None when the
    caller already holds this version."""

    version: str
    unread: int
    page: Page[NotificationView] | None


@allow(*COLLEGE_ROLES)
def poll(user: User, page: int, limit: int, unread_only: bool = False,
         unchanged: Callable[[str], bool] | None = None, counts: tuple | None = None) -> NotificationsPoll:
    """The list and its version. A caller holding a version (`unchanged` given) is asked first, from
    one aggregate statement (or `counts`, `BELL_COUNTS`' columns when the token's statement read
    them: the app's route): if it holds this one, nothing is loaded. A caller holding none gets the
    page with the version riding along as window aggregates, in one statement (the version then
    describes exactly the rows returned). Otherwise the version is read before the page, so a
    notification arriving in between makes the tag older than the body (a later poll sees it), never
    newer."""
    if unchanged is None and not unread_only:
        rows = db.session.execute(_page_and_version_statement(), {"user_id": user.id, **page_bounds(page, limit)}).all()
        if rows or page == 1:  # past the end, no row carries the aggregates: ask for them apart
            total, read, newest, last_read = rows[0][-4:] if rows else (0, 0, None, None)
            items = [NotificationView(*row[:-4]) for row in rows]
            return NotificationsPoll(_version(user, total, read, newest, last_read), total - read,
                                     Page(items=items, page=page, limit=limit, total=total))
    if counts is None:
        counts = db.session.execute(_version_statement(), {"user_id": user.id}).one()
    total, read, newest, last_read = counts
    total, read = total or 0, read or 0  # BELL_COUNTS' outer join: NULL for a user without any
    version = _version(user, total, read, newest, last_read)
    if unchanged is not None and unchanged(version):
        return NotificationsPoll(version, total - read, None)
    return NotificationsPoll(version, total - read, list_notifications(user, page, limit, unread_only))


def _version(user: User, total: int, read: int, newest, last_read) -> str:
    # `updated_at` of the owner moves when a notification is rewritten in place (erasure, below).
    return f"{total}:{read}:{_stamp(newest)}:{_stamp(last_read)}:{_stamp(user.updated_at)}"


def rewritten(user_ids) -> None:
    """Notifications of `user_ids` were changed in place (not created, read or deleted): their
    owners' copies are out of date, so the version `poll` reports must move."""
    ids = sorted(set(user_ids))
    if ids:
        db.session.execute(update(User).where(User.id.in_(ids)).values(updated_at=utcnow())
                           .execution_options(synchronize_session=False))


def _stamp(value) -> str:
    return value.isoformat() if value is not None else "-"


# The app polls the list every 10 s: its statements are built once per process.

_VIEW_COLUMNS = (Notification.id, Notification.type, Notification.title, Notification.message, Notification.data,
                 Notification.read_at, Notification.created_at)  # NotificationView's fields, in order


def _version_columns(windowed: bool = False):
    """Count, read count, newest and last read of the user's notifications: as aggregates, or as
    window aggregates over all of them (`windowed`) riding along with each row of a page."""
    n = Notification
    columns = (func.count(), func.count(n.read_at), func.max(n.created_at), func.max(n.read_at))
    return tuple(c.over() for c in columns) if windowed else columns


@cache
def _version_statement():
    return select(*_version_columns()).select_from(Notification).where(Notification.user_id == bindparam("user_id"))


def _bell_parameters(caller_id: str, _url_user_id: str | None) -> dict[str, str]:
    return {"bell_user_id": caller_id}


# The version's aggregates over the caller's notifications, as the token's statement reads them for
# the app's bell when the client holds a tag (`auth/companion.py`'s `Companion`; `User` is the caller
# there). Grouped by owner and joined on the caller's id: only their own rows, in any tenant.
_bell = (select(Notification.user_id, *(column.label(name) for column, name in
                                        zip(_version_columns(), ("total", "read", "newest", "last_read"))))
         .where(Notification.user_id == bindparam("bell_user_id")).group_by(Notification.user_id).subquery("bell"))
BELL_COUNTS = Companion(columns=(_bell.c.total, _bell.c.read, _bell.c.newest, _bell.c.last_read),
                        joins=((_bell, _bell.c.user_id == User.id),), parameters=_bell_parameters)


@cache
def _page_and_version_statement():
    """A newest-first page, each row carrying the version's aggregates over all the user's rows."""
    return bounded(select(*_VIEW_COLUMNS, *_version_columns(windowed=True))
                   .where(Notification.user_id == bindparam("user_id"))
                   .order_by(Notification.created_at.desc(), Notification.id.desc()))


@cache
def _list_statement(unread_only: bool):
    stmt = (select(*_VIEW_COLUMNS).where(Notification.user_id == bindparam("user_id"))
            .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return stmt.where(Notification.read_at.is_(None)) if unread_only else stmt


@allow(*COLLEGE_ROLES)
def mark_read(user: User, notification_id: str) -> Notification:
    """Someone else's notification is not found, exactly like another college's."""
    notification = db.session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    ).scalar_one_or_none()
    if notification is None:
        raise NotFound("Notification not found")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


@allow(*COLLEGE_ROLES)
def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return result.rowcount
