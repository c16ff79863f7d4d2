"""Read markers and unread counts, for group chats and direct-message threads alike.

A marker holds the (created_at, id) of the last message its user has read; it only moves forward.
Unread means: someone else's message, after the marker (and, in a group, after the moment the
reader last joined), not deleted. Counts are one query for any number of groups or threads.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import and_, bindparam, func, or_, select

from ..db import db
from ..models import (
    DirectMessage,
    DirectReadMarker,
    GroupMember,
    GroupMessage,
    GroupReadMarker,
)
from ..queries import after_row, locked_or_created


def advance_read_marker(model, keys: dict, message) -> bool:
    """Move a read marker (`last_read_at`, `last_read_message_id`) forward to `message`, never back;
    True if it moved."""
    marker, created = locked_or_created(model, keys, last_read_at=message.created_at,
                                        last_read_message_id=message.id)
    if created:
        return True
    if (marker.last_read_at, marker.last_read_message_id) >= (message.created_at, message.id):
        return False
    marker.last_read_at, marker.last_read_message_id = message.created_at, message.id
    return True


def group_unread_counts(user_id: str, group_ids: list[str]) -> dict[str, int]:
    """Unread chat messages per group for `user_id`: other people's messages, not deleted, newer
    than the user's read marker and than the moment they (last) joined."""
    if not group_ids:
        return {}
    rows = db.session.execute(_group_unread_statement(), {"user_id": user_id, "group_ids": list(group_ids)}).all()
    return {group_id: count for group_id, count in rows}


def _group_unread(message, marker, member, user_id) -> tuple:
    """The rule, once for both forms below: someone else's live message in an active membership's
    group, newer than the reader's (last) joining and than their marker."""
    return (message.sender_id != user_id, message.deleted_at.is_(None), member.status == "active",
            message.created_at > member.joined_at,
            or_(marker.last_read_at.is_(None),
                after_row(message.created_at, message.id, marker.last_read_at, marker.last_read_message_id)))


@cache
def _group_unread_statement():
    """Built once per process: the polled group lists run it on every request."""
    message, marker, member = GroupMessage, GroupReadMarker, GroupMember
    user_id = bindparam("user_id")
    return (
        select(message.group_id, func.count())
        .select_from(message)
        .join(member, and_(member.group_id == message.group_id, member.user_id == user_id))
        .outerjoin(marker, and_(marker.group_id == message.group_id, marker.user_id == user_id))
        .where(message.group_id.in_(bindparam("group_ids", expanding=True)),
               *_group_unread(message, marker, member, user_id))
        .group_by(message.group_id)
    )


def group_unread_column(member):
    """The same count as `group_unread_counts`, as a scalar subquery correlated to a list statement
    that already has each group and the reader's membership `member` (GroupMember outer-joined on the
    reader; the bound parameter `user_id` is the reader): without an active membership it counts 0.
    The list then needs no second query for its unread counts."""
    message, marker = GroupMessage, GroupReadMarker
    user_id = bindparam("user_id")
    return (
        select(func.count())
        .select_from(message)
        .outerjoin(marker, and_(marker.group_id == message.group_id, marker.user_id == user_id))
        .where(message.group_id == member.group_id, *_group_unread(message, marker, member, user_id))
        .correlate(member)
        .scalar_subquery()
    )


def thread_unread_counts(user_id: str, conversation_ids: list[str]) -> dict[str, int]:
    """Unread direct messages per conversation for `user_id`."""
    if not conversation_ids:
        return {}
    message, marker = DirectMessage, DirectReadMarker
    rows = db.session.execute(
        select(message.conversation_id, func.count())
        .select_from(message)
        .outerjoin(marker, and_(marker.conversation_id == message.conversation_id, marker.user_id == user_id))
        .where(message.conversation_id.in_(conversation_ids), message.sender_id != user_id,
               or_(marker.last_read_at.is_(None),
                   after_row(message.created_at, message.id, marker.last_read_at, marker.last_read_message_id)))
        .group_by(message.conversation_id)
    ).all()
    return {conversation_id: count for conversation_id, count in rows}
