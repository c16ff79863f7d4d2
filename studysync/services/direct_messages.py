"""Direct messages between two users of one college, and the caller's conversations.

Ordering and paging: a thread is ordered by (created_at, id). Sending locks the pair's
conversation row and stamps the message strictly after the conversation's previous one, so within
a conversation messages commit in the order of their timestamps. A cursor (`before`/`after` a
message id) compares against that message's (created_at, id), so paging backwards while new
messages arrive never skips or repeats one, and `after=<newest seen>` fetches exactly the new ones.

Read markers: reading a thread (`thread()`, i.e. GET .../messages) marks it read up to the newest
message returned, never backwards; sending marks the sender's own thread read up to their message.
Unread counts count the other person's messages after the reader's marker.

Each message notifies the receiver (`direct_message`) and goes live as `dm.created` to both users'
channels, after the commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Callable

from sqlalchemy import Integer, and_, bindparam, or_, select

from ..access import allow
from ..auth.companion import Companion
from ..db import db, new_id, utc_iso, utcnow
from ..errors import BadRequest
from ..models import DirectConversation, DirectMessage, DirectReadMarker, User
from ..models.social import ordered_pair
from ..models.user import COLLEGE_ROLES
from ..queries import CursorPage, Page, cursor_rows, locked_or_created, paginate
from ..realtime import user_channel
from . import notifications
from .events import publish_after_commit
from .friends import brief, classmate_or_404
from .read_markers import advance_read_marker, thread_unread_counts

MAX_CONTENT = 4000
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
DM_CREATED = "dm.created"
DM_READ = "dm.read"
DIRECT_MESSAGE = "direct_message"
TICK = timedelta(microseconds=1)


def message_view(message: DirectMessage, sender_name: str) -> dict[str, Any]:
    return {"message_id": message.id, "conversation_id": message.conversation_id,
            "sender_id": message.sender_id, "sender_name": sender_name, "receiver_id": message.receiver_id,
            "content": message.content, "created_at": message.created_at}


# Conversations and markers ---------------------------------------------------------------------


def _conversation_stmt(a: str, b: str):
    low, high = ordered_pair(a, b)
    return select(DirectConversation).where(DirectConversation.user_low_id == low,
                                            DirectConversation.user_high_id == high)


def _locked_conversation(a: str, b: str) -> DirectConversation:
    """The pair's conversation, created on first use, locked until the caller commits."""
    low, high = ordered_pair(a, b)
    conversation, _ = locked_or_created(DirectConversation, {"user_low_id": low, "user_high_id": high},
                                        id=new_id(), created_at=utcnow())
    return conversation


def _advance_marker(conversation_id: str, user_id: str, message) -> bool:
    return advance_read_marker(DirectReadMarker, {"conversation_id": conversation_id, "user_id": user_id}, message)


# Sending and reading ---------------------------------------------------------------------------


@allow(*COLLEGE_ROLES, feature="chat")
def send_dm(actor: User, receiver_id: str, content: str) -> dict[str, Any]:
    """Send `content` (1..4000 characters once trimmed) to an active user of the actor's college."""
    text = (content or "").strip()
    if not 1 <= len(text) <= MAX_CONTENT:
        message = f"Message must be 1 to {MAX_CONTENT} characters"
        raise BadRequest(message, errors={"content": [message]})
    receiver = classmate_or_404(actor, receiver_id, self_message="You cannot send a message to yourself")
    conversation = _locked_conversation(actor.id, receiver.id)
    now = utcnow()
    if conversation.last_message_at is not None and now <= conversation.last_message_at:
        now = conversation.last_message_at + TICK  # strictly after the previous one, whatever the clocks
    message = DirectMessage(id=new_id(), conversation_id=conversation.id, sender_id=actor.id,
                            receiver_id=receiver.id, content=text, created_at=now)
    db.session.add(message)
    conversation.last_message_at, conversation.last_message_id = now, message.id
    _advance_marker(conversation.id, actor.id, message)
    view = message_view(message, actor.name)
    notifications.notify(receiver.id, DIRECT_MESSAGE, f"New message from {actor.name}", notifications.preview(text),
                         {"senderId": actor.id, "senderName": actor.name, "messageId": message.id})
    publish_after_commit([user_channel(actor.id), user_channel(receiver.id)], DM_CREATED,
                         {**view, "created_at": utc_iso(now)})
    db.session.flush()
    return view


@dataclass(frozen=True)
class ThreadPoll:
    """The newest page of a thread and its version (it moves with every new message and with
    either user's name); `page` is None when the caller already holds this version."""

    version: str
    page: CursorPage[dict[str, Any]] | None


@allow(*COLLEGE_ROLES, feature="chat")
def poll_thread(actor: User, other_id: str, limit: int = DEFAULT_LIMIT,
                unchanged: Callable[[str], bool] | None = None, head: tuple | None = None) -> ThreadPoll:
    """What the app polls every 3 s: the newest `limit` messages, unless `unchanged(version)` says
    the caller holds them already — then the conversation's row alone answers (no messages
    loaded, nothing locked). Reading marks the thread read as `thread()` does.

    `head` is `THREAD_HEAD`'s columns when the token's statement read them already (the app's
    route: `auth/companion.py`'s `Companion`); otherwise they are read here.

    Two statements, not one: joined to the conversation, the messages would come out of the index
    in thread order only on some databases — PostgreSQL would read and sort a whole long thread on
    every poll — while by the conversation's id they are the index's last `limit` entries."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    other = classmate_or_404(actor, other_id, self_message="You have no conversation with yourself", active=False)
    if head is None:
        low, high = ordered_pair(actor.id, other.id)
        head = db.session.execute(_conversation_and_marker_statement(),
                                  {"low": low, "high": high, "user_id": actor.id}).first()
    conversation_id, newest, read_at, read_id = head if head is not None else (None, None, None, None)
    version = f"{newest or '-'}|{actor.name}|{other.name}"  # message ids are never reused
    if unchanged is not None and unchanged(version):
        return ThreadPoll(version, None)
    if conversation_id is None:
        return ThreadPoll(version, CursorPage([], False))
    rows = db.session.execute(_messages_statement(), {"conversation_id": conversation_id, "limit": limit + 1}).all()
    return ThreadPoll(version, _latest(actor, other, conversation_id, (read_at, read_id), rows, limit))


# Built once per process: the app polls a thread every 3 s. Columns, not ORM rows.

def _head_parameters(caller_id: str, other_id: str) -> dict[str, str]:
    low, high = ordered_pair(caller_id, other_id)
    return {"head_low": low, "head_high": high}


# The pair's conversation (its id and newest message) and the caller's marker, as the token's
# statement reads them for the app's thread route, the caller being `User` there. The statement runs
# under all tenants: the conversation is looked for in the caller's college only (the marker's
# composite foreign key keeps it to its conversation's).
THREAD_HEAD = Companion(
    columns=(DirectConversation.id, DirectConversation.last_message_id,
             DirectReadMarker.last_read_at, DirectReadMarker.last_read_message_id),
    joins=((DirectConversation, and_(DirectConversation.user_low_id == bindparam("head_low"),
                                     DirectConversation.user_high_id == bindparam("head_high"),
                                     DirectConversation.college_id == User.college_id)),
           (DirectReadMarker, and_(DirectReadMarker.conversation_id == DirectConversation.id,
                                   DirectReadMarker.user_id == User.id))),
    parameters=_head_parameters,
)


@cache
def _conversation_and_marker_statement():
    """THREAD_HEAD's columns, on their own: the pair's conversation and the reader's marker."""
    conv, marker = DirectConversation, DirectReadMarker
    return (select(conv.id, conv.last_message_id, marker.last_read_at, marker.last_read_message_id)
            .outerjoin(marker, and_(marker.conversation_id == conv.id, marker.user_id == bindparam("user_id")))
            .where(conv.user_low_id == bindparam("low"), conv.user_high_id == bindparam("high")))


@cache
def _messages_statement():
    """A conversation's newest `limit` messages, newest first (the index's order, read backwards).
    The limit is a named parameter, as in `queries.bounded`: `.limit(n)` per request made a new
    statement object per poll, whose cache key SQLAlchemy worked out and whose tenant criteria
    `tenancy._scoped` added anew each time."""
    message = DirectMessage
    return (select(message.id, message.sender_id, message.receiver_id, message.content, message.created_at)
            .where(message.conversation_id == bindparam("conversation_id"))
            .order_by(message.created_at.desc(), message.id.desc())
            .limit(bindparam("limit", type_=Integer)))


def _latest(actor: User, other: User, conversation_id: str, marker: tuple, rows, limit: int
            ) -> CursorPage[dict[str, Any]]:
    """The page (oldest → newest) from `rows` (newest first, one beyond the page if there are more);
    the reader's marker moves to the newest when it is behind."""
    names = {actor.id: actor.name, other.id: other.name}
    page = rows[:limit]
    items = [{"message_id": message_id, "conversation_id": conversation_id, "sender_id": sender_id,
              "sender_name": names[sender_id], "receiver_id": receiver_id, "content": content, "created_at": created_at}
             for message_id, sender_id, receiver_id, content, created_at in reversed(page)]
    # The marker is read without a lock: only when it has to move forward is it locked and moved.
    if page and (marker[0] is None or marker < (page[0].created_at, page[0].id)):
        _mark_read(conversation_id, actor, other, page[0])
    return CursorPage(items, len(rows) > limit)


def _mark_read(conversation_id: str, actor: User, other: User, newest) -> None:
    """`newest`: the message (or a row with its `id` and `created_at`) the reader has now seen."""
    if _advance_marker(conversation_id, actor.id, newest):
        publish_after_commit(user_channel(actor.id), DM_READ, {
            "conversation_id": conversation_id, "user_id": other.id, "last_read_message_id": newest.id})
        db.session.flush()


@allow(*COLLEGE_ROLES, feature="chat")
def thread(actor: User, other_id: str, before: str | None = None, after: str | None = None,
           limit: int = DEFAULT_LIMIT) -> CursorPage[dict[str, Any]]:
    """A page of the actor's messages with `other_id`, oldest → newest.

    No cursor: the newest `limit`. `before`: the `limit` messages just older than that one.
    `after`: the `limit` messages just newer than that one (with `before` too: between the two).
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    other = classmate_or_404(actor, other_id, self_message="You have no conversation with yourself", active=False)
    conversation = db.session.execute(_conversation_stmt(actor.id, other.id)).scalar_one_or_none()
    if conversation is None:
        for name, value in (("after", after), ("before", before)):
            if value:
                _cursor(None, name, value)  # 400: no message can be in a thread that does not exist
        return CursorPage([], False)
    rows, has_more = cursor_rows(
        select(DirectMessage).where(DirectMessage.conversation_id == conversation.id),
        DirectMessage.created_at, DirectMessage.id, limit=limit,
        before=_cursor(conversation, "before", before) if before else None,
        after=_cursor(conversation, "after", after) if after else None)
    names = {actor.id: actor.name, other.id: other.name}
    page = CursorPage([message_view(m, names[m.sender_id]) for m in rows], has_more)
    if rows:
        _mark_read(conversation.id, actor, other, rows[-1])
    return page


def _cursor(conversation: DirectConversation | None, name: str, message_id: str) -> tuple[datetime, str]:
    row = None
    if conversation is not None:
        row = db.session.execute(
            select(DirectMessage.created_at, DirectMessage.id)
            .where(DirectMessage.id == message_id, DirectMessage.conversation_id == conversation.id)
        ).first()
    if row is None:
        raise BadRequest(f"{name}: no such message in this conversation",
                         errors={name: ["No such message in this conversation"]})
    return row[0], row[1]


@allow(*COLLEGE_ROLES, feature="chat")
def conversations(actor: User, page: int = 1, limit: int = 20) -> Page[dict[str, Any]]:
    """The actor's threads, newest activity first, each with the other user, last message and
    unread count — five queries for any page size."""
    conv = DirectConversation
    stmt = (select(conv)
            .where(or_(conv.user_low_id == actor.id, conv.user_high_id == actor.id),
                   conv.last_message_at.is_not(None))
            .order_by(conv.last_message_at.desc(), conv.id.desc()))
    result = paginate(stmt, page, limit)
    items: list[DirectConversation] = list(result.items)
    if not items:
        return Page(items=[], page=page, limit=limit, total=result.total)
    ids = [c.id for c in items]
    last = {m.id: m for m in db.session.execute(
        select(DirectMessage).where(DirectMessage.id.in_([c.last_message_id for c in items]))).scalars()}
    users = {u.id: u for u in db.session.execute(
        select(User).where(User.id.in_({c.other(actor.id) for c in items} | {actor.id}))).scalars()}
    unread = thread_unread_counts(actor.id, ids)
    views = []
    for c in items:
        other = users[c.other(actor.id)]
        message = last.get(c.last_message_id)
        views.append({
            "conversation_id": c.id, "user": brief(other),
            "last_message": message_view(message, users[message.sender_id].name) if message else None,
            "last_message_at": c.last_message_at, "unread_count": unread.get(c.id, 0),
        })
    return Page(items=views, page=page, limit=limit, total=result.total)
