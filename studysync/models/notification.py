"""Notifications: what a user is told (join requests, approvals, later friends and messages)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow


class Notification(IdMixin, TenantScoped, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        ForeignKeyConstraint(["college_id", "user_id"], ["users.college_id", "users.id"],
                             name="fk_notifications_college_user", ondelete="CASCADE"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    user_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def read(self) -> bool:
        return self.read_at is not None
