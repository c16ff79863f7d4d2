"""Group chat: messages, emoji reactions and per-member read markers.

Ordering: a group's messages are ordered by (created_at, id). Posting locks the group row and
stamps the message strictly after the group's `last_message_at`, so within a group messages
commit in the order of their timestamps and a (created_at, id) cursor never skips one that
commits late (the same scheme as direct messages, `models/social.py`).

A deleted message keeps its row (and its place in the thread) but loses its content, image and
reactions: `deleted_at` says it was there.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow

MESSAGE_TYPES = ("text", "image", "announcement")

# MySQL/MariaDB's default collations compare every emoji outside the BMP as equal ("🎉" = "👍"),
# which would let one reaction delete another and trip the unique constraint: compare bytes there.
EMOJI = String(32).with_variant(mysql.VARCHAR(32, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


def _fk(columns: list[str], target: str, name: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["college_id", *columns], [f"{target}.college_id", f"{target}.id"],
                                name=name, ondelete="CASCADE")


class GroupMessage(IdMixin, TenantScoped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys
        _fk(["group_id"], "study_groups", "fk_messages_college_group"),
        _fk(["sender_id"], "users", "fk_messages_college_sender"),
        Index("ix_messages_group_created", "group_id", "created_at", "id"),
    )

    group_id: Mapped[str] = mapped_column(String(36))
    sender_id: Mapped[str] = mapped_column(String(36))
    message_type: Mapped[str] = mapped_column(String(20), default="text")
    content: Mapped[str | None] = mapped_column(Text)
    image_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[str | None] = mapped_column(String(36))  # no FK: a moderator may later leave

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class MessageReaction(IdMixin, TenantScoped, Base):
    """One user's one emoji on one message; toggling it again deletes the row."""

    __tablename__ = "message_reactions"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", "emoji"),
        _fk(["message_id"], "messages", "fk_message_reactions_college_message"),
        _fk(["user_id"], "users", "fk_message_reactions_college_user"),
    )

    message_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36))
    emoji: Mapped[str] = mapped_column(EMOJI)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupReadMarker(TenantScoped, Base):
    """How far `user_id` has read a group's chat: the (created_at, id) of the last message seen."""

    __tablename__ = "group_read_markers"
    __table_args__ = (
        _fk(["group_id"], "study_groups", "fk_group_read_markers_college_group"),
        _fk(["user_id"], "users", "fk_group_read_markers_college_user"),
    )

    group_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_read_at: Mapped[datetime] = mapped_column()
    last_read_message_id: Mapped[str] = mapped_column(String(36))
