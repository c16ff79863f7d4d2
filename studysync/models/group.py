"""Study groups and their memberships.

`member_count` is the number of *active* memberships, kept in step by every service path that
activates or ends a membership (under a row lock on the group), so "is there space?" is one
column read and the browse filter `has_space` needs no join.

A membership row is unique per (group, user) and is never deleted: leaving, removal and rejection
change its `status`, so a rejoin reuses the row and the group's history stays intact.
`invited` is set when a leader, teacher or admin adds the user; it lets them back into an
invite-only group after leaving, and removal clears it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow

JOIN_POLICIES = ("open", "request", "invite")
MEMBER_ROLES = ("leader", "member")
MEMBER_STATUSES = ("active", "pending", "left", "removed", "rejected")


class StudyGroup(IdMixin, TenantScoped, Base):
    __tablename__ = "study_groups"
    __table_args__ = (
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys
        ForeignKeyConstraint(["college_id", "classroom_id"], ["classrooms.college_id", "classrooms.id"],
                             name="fk_study_groups_college_classroom"),
        ForeignKeyConstraint(["college_id", "leader_id"], ["users.college_id", "users.id"],
                             name="fk_study_groups_college_leader"),
        ForeignKeyConstraint(["college_id", "created_by"], ["users.college_id", "users.id"],
                             name="fk_study_groups_college_creator"),
        Index("ix_study_groups_college_archived_updated", "college_id", "is_archived", "updated_at"),
        Index("ix_study_groups_classroom", "classroom_id"),
    )

    name: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    schedule: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(200))
    max_members: Mapped[int] = mapped_column(default=6)
    min_rating: Mapped[float] = mapped_column(Float, default=0)
    join_policy: Mapped[str] = mapped_column(String(20), default="open")
    classroom_id: Mapped[str | None] = mapped_column(String(36))
    leader_id: Mapped[str] = mapped_column(String(36))
    created_by: Mapped[str] = mapped_column(String(36))
    is_archived: Mapped[bool] = mapped_column(default=False)
    member_count: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set at creation too (not only on change) so "most recently updated first" needs no COALESCE.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def has_space(self) -> bool:
        return self.member_count < self.max_members


class GroupMember(IdMixin, TenantScoped, Base):
    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        ForeignKeyConstraint(["college_id", "group_id"], ["study_groups.college_id", "study_groups.id"],
                             name="fk_group_members_college_group", ondelete="CASCADE"),
        ForeignKeyConstraint(["college_id", "user_id"], ["users.college_id", "users.id"],
                             name="fk_group_members_college_user", ondelete="CASCADE"),
        Index("ix_group_members_user_status", "user_id", "status"),
        Index("ix_group_members_group_status", "group_id", "status"),
    )

    group_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36))
    role: Mapped[str] = mapped_column(String(20), default="member")
    status: Mapped[str] = mapped_column(String(20), default="active")
    invited: Mapped[bool] = mapped_column(default=False)
    requested_at: Mapped[datetime | None] = mapped_column(default=None)
    joined_at: Mapped[datetime | None] = mapped_column(default=None)  # when it last became active
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utcnow)
