"""Group chat: messages (text, image, announcement), edits, soft deletes, emoji reactions and read
markers.

Who: active members read and post; the group's teacher and admins moderate (read, post, delete any
message) without being members (`policies.can_use_chat`). Membership is read afresh on every call,
so a removed member loses access with the very next request, and their live stream stops
following the group (`groups.membership._announce_membership`).

Ordering and paging: posting locks the group row and stamps the message strictly after the group's
`last_message_at` (which, with `updated_at`, moves with every message, so listings sort by
activity). Pages are cut by (created_at, id) cursors (`queries.cursor_rows`), never offsets.

Read markers: `mark_read` moves the caller's marker forward (never back) and posting moves the
sender's; unread counts (`read_markers.group_unread_counts`) count other people's live messages after it.

Every change is published after its commit to the group's channel: `message.created`,
`message.updated`, `message.deleted`, `reaction.changed`; a read marker to the reader's own
channel (`chat.read`), so their other devices clear the badge. Mentions (`mention_ids`, members of
the group) notify each named member (`group_message_mention`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..access import allow
from ..db import db, new_id, utc_iso, utcnow
from ..errors import BadRequest, Conflict, NotFound
from ..models import GroupMessage, GroupReadMarker, MessageReaction, StudyGroup, User
from ..models.user import COLLEGE_ROLES
from ..policies import (
    can_announce,
    can_delete_message,
    ensure,
    ensure_group_writable,
    ensure_use_chat,
)
from ..queries import CursorPage, cursor_rows
from ..realtime import group_channel, user_channel
from . import groups, notifications
from .events import publish_after_commit
from .read_markers import advance_read_marker, group_unread_counts

MAX_CONTENT = 4000
MAX_IMAGE_URL = 500
MAX_EMOJI = 16
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
TICK = timedelta(microseconds=1)

MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"
MESSAGE_DELETED = "message.deleted"
REACTION_CHANGED = "reaction.changed"
CHAT_READ = "chat.read"
GROUP_MESSAGE_MENTION = "group_message_mention"

MESSAGE_NOT_FOUND = "Message not found"
MESSAGE_DELETED_ALREADY = "This message was deleted"


# Views -----------------------------------------------------------------------------------------


def message_view(message: GroupMessage, sender_name: str, reactions: list[dict[str, Any]] | None = None,
                 viewer_id: str | None = None) -> dict[str, Any]:
    """The message as every read shows it; a deleted one keeps its place but not its content.

    `reactions`: grouped by emoji, in the order each emoji was first used, with `count`, the
    reacting `user_ids` and, for a viewer, whether they are among them (`reacted`).
    """
    grouped = [{**r, "reacted": viewer_id in r["user_ids"]} if viewer_id else dict(r) for r in reactions or ()]
    return {
        "message_id": message.id, "group_id": message.group_id, "sender_id": message.sender_id,
        "sender_name": sender_name, "message_type": message.message_type,
        "content": None if message.is_deleted else message.content,
        "image_url": None if message.is_deleted else message.image_url,
        "created_at": message.created_at, "edited_at": message.edited_at,
        "is_deleted": message.is_deleted, "deleted_at": message.deleted_at, "reactions": grouped,
    }


def _event_view(view: dict[str, Any]) -> dict[str, Any]:
    """The same in plain JSON for the broker (no per-viewer `reacted`)."""
    return {**view, "created_at": utc_iso(view["created_at"]), "edited_at": utc_iso(view["edited_at"]),
            "deleted_at": utc_iso(view["deleted_at"]),
            "reactions": [{k: v for k, v in r.items() if k != "reacted"} for r in view["reactions"]]}


def _reactions_of(message_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Reactions grouped per message and emoji, in one query for the whole page."""
    ids = list(message_ids)
    grouped: dict[str, dict[str, dict[str, Any]]] = {i: {} for i in ids}
    if ids:
        rows = db.session.execute(
            select(MessageReaction.message_id, MessageReaction.emoji, MessageReaction.user_id)
            .where(MessageReaction.message_id.in_(ids))
            .order_by(MessageReaction.created_at, MessageReaction.id))
        for message_id, emoji, user_id in rows:
            entry = grouped[message_id].setdefault(emoji, {"emoji": emoji, "count": 0, "user_ids": []})
            entry["count"] += 1
            entry["user_ids"].append(user_id)
    return {message_id: list(by_emoji.values()) for message_id, by_emoji in grouped.items()}


def _names(user_ids: Iterable[str]) -> dict[str, str]:
    ids = set(user_ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def _views(messages: list[GroupMessage], viewer_id: str) -> list[dict[str, Any]]:
    names = _names(m.sender_id for m in messages)
    reactions = _reactions_of(m.id for m in messages)
    return [message_view(m, names.get(m.sender_id, ""), reactions[m.id], viewer_id) for m in messages]


# Access ----------------------------------------------------------------------------------------


def _chat_group(actor: User, group_id: str, *, lock: bool = False) -> StudyGroup:
    """The group if `actor` may use its chat: 404 for an unknown group, 403 for a non-member.
    With `lock`, the group row is locked first, so the membership read after it cannot change
    before the caller commits."""
    group = groups.lock_group(group_id) if lock else groups.get_group_or_404(group_id)
    member = groups.membership_of(group.id, actor.id, fresh=True)
    ensure_use_chat(actor, group, groups.classroom_of(group), member=member is not None and member.status == "active")
    return group


def _message_in_chat(actor: User, message_id: str, *, shared: bool = False) -> tuple[GroupMessage, StudyGroup]:
    """The message, locked until the caller commits (`shared`: it may not change meanwhile), so an
    edit or a reaction cannot land on a message deleted at the same moment."""
    message = db.session.execute(
        select(GroupMessage).where(GroupMessage.id == message_id)
        .with_for_update(read=shared).execution_options(populate_existing=True)).scalar_one_or_none()
    if message is None:
        raise NotFound(MESSAGE_NOT_FOUND)
    return message, _chat_group(actor, message.group_id)


def _live_message(actor: User, message_id: str, *, shared: bool = False) -> tuple[GroupMessage, StudyGroup]:
    message, group = _message_in_chat(actor, message_id, shared=shared)
    if message.is_deleted:
        raise Conflict(MESSAGE_DELETED_ALREADY)
    return message, group


# Validation ------------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> BadRequest:
    return BadRequest(message, errors={field: [message]})


def _content(value: str | None, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise _invalid("content", "Message content is required")
        return None
    if len(text) > MAX_CONTENT:
        raise _invalid("content", f"Message must be at most {MAX_CONTENT} characters")
    return text


def _image_url(value: str | None) -> str:
    url = (value or "").strip()
    if not url:
        raise _invalid("image_url", "An image message needs an image_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > MAX_IMAGE_URL:
        raise _invalid("image_url", f"image_url must be an http or https URL of at most {MAX_IMAGE_URL} characters")
    return url


def _emoji(value: str | None) -> str:
    emoji = (value or "").strip()
    if not emoji or len(emoji) > MAX_EMOJI or any(c.isspace() or not c.isprintable() for c in emoji):
        raise _invalid("emoji", f"emoji must be one emoji (at most {MAX_EMOJI} characters, no spaces)")
    return emoji


# Reading ---------------------------------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="chat")
def list_messages(actor: User, group_id: str, before: str | None = None, after: str | None = None,
                  limit: int = DEFAULT_LIMIT) -> CursorPage[dict[str, Any]]:
    """A page of the group's chat, oldest → newest (see `queries.cursor_rows` for the cursors).
    Reading does not move the read marker: the client says what it showed (`mark_read`)."""
    group = _chat_group(actor, group_id)
    limit = max(1, min(int(limit), MAX_LIMIT))
    rows, has_more = cursor_rows(
        select(GroupMessage).where(GroupMessage.group_id == group.id),
        GroupMessage.created_at, GroupMessage.id, limit=limit,
        before=_cursor(group.id, "before", before) if before else None,
        after=_cursor(group.id, "after", after) if after else None)
    return CursorPage(_views(rows, actor.id), has_more)


def _cursor(group_id: str, name: str, message_id: str) -> tuple[datetime, str]:
    row = db.session.execute(
        select(GroupMessage.created_at, GroupMessage.id)
        .where(GroupMessage.id == message_id, GroupMessage.group_id == group_id)).first()
    if row is None:
        raise _invalid(name, "No such message in this group")
    return row[0], row[1]


# Writing ---------------------------------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="chat")
def post_message(actor: User, group_id: str, content: str | None, message_type: str = "text",
                 image_url: str | None = None, mention_ids: Iterable[str] = ()) -> dict[str, Any]:
    """Post to the group's chat; an image needs an http(s) `image_url` (its `content` is a caption),
    an announcement comes from the leader or the group's teacher."""
    if message_type == "image":
        image_url, text = _image_url(image_url), _content(content, required=False)
    elif message_type in ("text", "announcement"):
        image_url, text = None, _content(content, required=True)
    else:
        raise _invalid("message_type", "message_type must be text, image or announcement")
    group = _chat_group(actor, group_id, lock=True)
    if message_type == "announcement":
        ensure(can_announce(actor, group, groups.classroom_of(group)),
               "Only the group's leader or its teacher can post announcements")
    ensure_group_writable(group)
    message = _append(actor, group, message_type, text, image_url)
    view = message_view(message, actor.name, [], actor.id)
    _notify_mentions(actor, group, message, set(mention_ids) - {actor.id})
    return view


def announce(actor: User, group_id: str, text: str) -> GroupMessage:
    """An announcement the system posts on `actor`'s behalf (a study session was scheduled), inside
    the caller's transaction: it commits, or rolls back, with the change it announces."""
    return _append(actor, groups.lock_group(group_id), "announcement", _content(text, required=True), None)


def _append(actor: User, group: StudyGroup, message_type: str, text: str | None, image_url: str | None) -> GroupMessage:
    """Add a message to a group whose row the caller has locked: stamped strictly after the previous
    one, moving the group's activity and the sender's read marker, published after the commit."""
    now = utcnow()
    if group.last_message_at is not None and now <= group.last_message_at:
        now = group.last_message_at + TICK  # strictly after the previous one, whatever the clocks
    message = GroupMessage(id=new_id(), group_id=group.id, sender_id=actor.id, message_type=message_type,
                           content=text, image_url=image_url, created_at=now)
    db.session.add(message)
    group.last_message_at = group.updated_at = now
    _advance_marker(group.id, actor.id, message)
    publish_after_commit(group_channel(group.id), MESSAGE_CREATED,
                         _event_view(message_view(message, actor.name, [], None)))
    return message


def _notify_mentions(actor: User, group: StudyGroup, message: GroupMessage, user_ids: set[str]) -> None:
    """Notify the mentioned users who are active members; other ids are ignored, not refused
    (a member may have left while the message was typed)."""
    if not user_ids:
        return
    members = set(groups.active_member_ids(group.id)) & user_ids
    preview = notifications.preview(message.content or "an image")
    for user_id in sorted(members):
        notifications.notify(user_id, GROUP_MESSAGE_MENTION, f"{actor.name} mentioned you in {group.name}", preview,
                             {"groupId": group.id, "messageId": message.id, "senderId": actor.id})


@allow(*COLLEGE_ROLES, feature="chat")
def edit_message(actor: User, message_id: str, content: str | None) -> dict[str, Any]:
    """The author changes the text (an image's caption); `edited_at` says it changed."""
    message, group = _live_message(actor, message_id)
    ensure(message.sender_id == actor.id, "Only the author can edit a message")
    ensure_group_writable(group)
    message.content = _content(content, required=message.message_type != "image")
    message.edited_at = utcnow()
    view = _views([message], actor.id)[0]
    publish_after_commit(group_channel(group.id), MESSAGE_UPDATED, _event_view(view))
    return view


@allow(*COLLEGE_ROLES, feature="chat")
def delete_message(actor: User, message_id: str) -> dict[str, Any]:
    """Soft delete by the author, the leader or a moderator: the row keeps its place in the thread,
    its content, image and reactions go. Deleting a deleted message changes nothing."""
    message, group = _message_in_chat(actor, message_id)
    ensure(can_delete_message(actor, message, group, groups.classroom_of(group)),
           "Only the author, the group's leader or a moderator can delete this message")
    ensure_group_writable(group)
    if not message.is_deleted:
        message.deleted_at, message.deleted_by = utcnow(), actor.id
        message.content = message.image_url = None
        db.session.execute(delete(MessageReaction).where(MessageReaction.message_id == message.id))
        publish_after_commit(group_channel(group.id), MESSAGE_DELETED, {
            "message_id": message.id, "group_id": group.id, "deleted_at": utc_iso(message.deleted_at)})
    return _views([message], actor.id)[0]


@allow(*COLLEGE_ROLES, feature="chat")
def toggle_reaction(actor: User, message_id: str, emoji: str) -> dict[str, Any]:
    """Add the caller's `emoji` to the message, or take it back if it is there; the message comes
    back with its reactions regrouped."""
    emoji = _emoji(emoji)
    message, group = _live_message(actor, message_id, shared=True)
    ensure_group_writable(group)
    mine = (MessageReaction.message_id == message.id, MessageReaction.user_id == actor.id,
            MessageReaction.emoji == emoji)
    removed = db.session.execute(delete(MessageReaction).where(*mine)).rowcount
    if not removed:
        try:
            with db.session.begin_nested():
                db.session.add(MessageReaction(message_id=message.id, user_id=actor.id, emoji=emoji, created_at=utcnow()))
        except IntegrityError:  # a double tap landed twice at once: the reaction is there either way
            pass
    view = _views([message], actor.id)[0]
    publish_after_commit(group_channel(group.id), REACTION_CHANGED, {
        "message_id": message.id, "group_id": group.id, "user_id": actor.id, "emoji": emoji,
        "added": not removed, "reactions": _event_view(view)["reactions"]})
    return view


# Read markers ----------------------------------------------------------------------------------


def _advance_marker(group_id: str, user_id: str, message: GroupMessage) -> bool:
    return advance_read_marker(GroupReadMarker, {"group_id": group_id, "user_id": user_id}, message)


@allow(*COLLEGE_ROLES, feature="chat")
def mark_read(actor: User, group_id: str, message_id: str | None = None) -> dict[str, Any]:
    """Mark the chat read up to `message_id` (default: the newest message); returns the marker and
    what is still unread after it."""
    group = _chat_group(actor, group_id)
    if message_id:
        message = db.session.execute(
            select(GroupMessage).where(GroupMessage.id == message_id, GroupMessage.group_id == group.id)
        ).scalar_one_or_none()
        if message is None:
            raise _invalid("message_id", "No such message in this group")
    else:
        message = db.session.execute(
            select(GroupMessage).where(GroupMessage.group_id == group.id)
            .order_by(GroupMessage.created_at.desc(), GroupMessage.id.desc()).limit(1)).scalar_one_or_none()
    if message is not None and _advance_marker(group.id, actor.id, message):
        publish_after_commit(user_channel(actor.id), CHAT_READ,
                             {"group_id": group.id, "last_read_message_id": message.id})
        db.session.flush()
    marker = db.session.execute(
        select(GroupReadMarker).where(GroupReadMarker.group_id == group.id, GroupReadMarker.user_id == actor.id)
    ).scalar_one_or_none()
    return {"group_id": group.id, "last_read_message_id": marker.last_read_message_id if marker else None,
            "unread_count": group_unread_counts(actor.id, [group.id]).get(group.id, 0)}
