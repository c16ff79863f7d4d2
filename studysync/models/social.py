"""Friends and direct messages.

Pairs of users are stored once, as an ordered pair (`user_low_id < user_high_id`, always built by
`ordered_pair`), so "A and B" and "B and A" are the same row and a unique constraint on the pair is
enough to keep concurrent requests from creating two friendships or two conversations. (No CHECK
constraint on the order: MySQL refuses CHECKs on columns with cascading foreign keys.)

A friend request holds `pending_pair` (the ordered pair as one string) only while it is pending;
its unique constraint allows at most one pending request per pair in either direction (NULLs do
not collide on any of our databases), so two people asking each other at the same moment meet on
one row instead of leaving two crossed requests.

Direct messages hang off a `DirectConversation` row per pair. A sender locks that row, so the
messages of one conversation are written one at a time with strictly increasing `created_at`; the
(created_at, id) cursor of the thread routes therefore never skips a message that commits late.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow

REQUEST_STATUSES = ("pending", "accepted", "rejected")


def ordered_pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def pair_key(a: str, b: str) -> str:
    low, high = ordered_pair(a, b)
    return f"{low}:{high}"


def _user_fk(column: str, table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["college_id", column], ["users.college_id", "users.id"],
                                name=f"fk_{table}_college_{column}", ondelete="CASCADE")


class FriendRequest(IdMixin, TenantScoped, Base):
    __tablename__ = "friend_requests"
    __table_args__ = (
        UniqueConstraint("pending_pair"),
        _user_fk("sender_id", "friend_requests"),
        _user_fk("receiver_id", "friend_requests"),
        Index("ix_friend_requests_receiver_status", "receiver_id", "status"),
        Index("ix_friend_requests_sender_status", "sender_id", "status"),
    )

    sender_id: Mapped[str] = mapped_column(String(36))
    receiver_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    pending_pair: Mapped[str | None] = mapped_column(String(73))  # "low:high" while pending, else NULL
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(default=None)


class Friendship(IdMixin, TenantScoped, Base):
    __tablename__ = "friendships"
    __table_args__ = (
        UniqueConstraint("user_low_id", "user_high_id"),
        _user_fk("user_low_id", "friendships"),
        _user_fk("user_high_id", "friendships"),
        Index("ix_friendships_high", "user_high_id"),
    )

    user_low_id: Mapped[str] = mapped_column(String(36))
    user_high_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def other(self, user_id: str) -> str:
        return self.user_high_id if user_id == self.user_low_id else self.user_low_id


class DirectConversation(IdMixin, TenantScoped, Base):
    __tablename__ = "dm_conversations"
    __table_args__ = (
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys
        UniqueConstraint("user_low_id", "user_high_id"),
        _user_fk("user_low_id", "dm_conversations"),
        _user_fk("user_high_id", "dm_conversations"),
        Index("ix_dm_conversations_low_last", "user_low_id", "last_message_at"),
        Index("ix_dm_conversations_high_last", "user_high_id", "last_message_at"),
    )

    user_low_id: Mapped[str] = mapped_column(String(36))
    user_high_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)
    last_message_id: Mapped[str | None] = mapped_column(String(36))  # no FK: the message points here

    def other(self, user_id: str) -> str:
        return self.user_high_id if user_id == self.user_low_id else self.user_low_id


class DirectMessage(IdMixin, TenantScoped, Base):
    __tablename__ = "direct_messages"
    __table_args__ = (
        ForeignKeyConstraint(["college_id", "conversation_id"], ["dm_conversations.college_id", "dm_conversations.id"],
                             name="fk_direct_messages_college_conversation", ondelete="CASCADE"),
        _user_fk("sender_id", "direct_messages"),
        _user_fk("receiver_id", "direct_messages"),
        Index("ix_direct_messages_conversation_created", "conversation_id", "created_at", "id"),
    )

    conversation_id: Mapped[str] = mapped_column(String(36))
    sender_id: Mapped[str] = mapped_column(String(36))
    receiver_id: Mapped[str] = mapped_column(String(36))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DirectReadMarker(TenantScoped, Base):
    """How far `user_id` has read a conversation: the (created_at, id) of the last message seen."""

    __tablename__ = "dm_read_markers"
    __table_args__ = (
        ForeignKeyConstraint(["college_id", "conversation_id"], ["dm_conversations.college_id", "dm_conversations.id"],
                             name="fk_dm_read_markers_college_conversation", ondelete="CASCADE"),
        _user_fk("user_id", "dm_read_markers"),
    )

    conversation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column()
    last_read_message_id: Mapped[str] = mapped_column(String(36))
