"""Study sessions a group schedules, their RSVPs, and each user's calendar-feed secret.

A session is never deleted: cancelling sets `status` to "cancelled", so a subscribed calendar
learns of it (the feed marks it `STATUS:CANCELLED`). `sequence` counts the changes a calendar app
must apply (iCalendar's SEQUENCE); the session id is the event's stable UID.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow

SESSION_STATUSES = ("scheduled", "cancelled")
RSVP_STATUSES = ("going", "maybe", "not_going")


class StudySession(IdMixin, TenantScoped, Base):
    __tablename__ = "study_sessions"
    __table_args__ = (
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys
        ForeignKeyConstraint(["college_id", "group_id"], ["study_groups.college_id", "study_groups.id"],
                             name="fk_study_sessions_college_group", ondelete="CASCADE"),
        ForeignKeyConstraint(["college_id", "created_by"], ["users.college_id", "users.id"],
                             name="fk_study_sessions_college_creator", ondelete="CASCADE"),
        Index("ix_study_sessions_group_time", "group_id", "scheduled_time"),
    )

    group_id: Mapped[str] = mapped_column(String(36))
    title: Mapped[str] = mapped_column(String(100))
    scheduled_time: Mapped[datetime] = mapped_column()
    duration_minutes: Mapped[int] = mapped_column(default=60)
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    sequence: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def ends_at(self) -> datetime:
        return self.scheduled_time + timedelta(minutes=self.duration_minutes)


class SessionAttendee(IdMixin, TenantScoped, Base):
    __tablename__ = "session_attendees"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        ForeignKeyConstraint(["college_id", "session_id"], ["study_sessions.college_id", "study_sessions.id"],
                             name="fk_session_attendees_college_session", ondelete="CASCADE"),
        ForeignKeyConstraint(["college_id", "user_id"], ["users.college_id", "users.id"],
                             name="fk_session_attendees_college_user", ondelete="CASCADE"),
        Index("ix_session_attendees_user", "user_id"),
    )

    session_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)


class CalendarFeed(TenantScoped, Base):
    """A user's calendar subscription secret, stored as its SHA-256: rotating or deleting the row
    revokes every URL handed out before."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (
        ForeignKeyConstraint(["college_id", "user_id"], ["users.college_id", "users.id"],
                             name="fk_calendar_feeds_college_user", ondelete="CASCADE"),
        UniqueConstraint("token_hash"),
    )

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
