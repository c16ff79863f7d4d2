"""Users: one table for every role. Students carry their academic record on the same row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, TimestampMixin

ROLES = ("sysadmin", "admin", "teacher", "student")
STAFF_ROLES = ("admin", "teacher")
COLLEGE_ROLES = ("admin", "teacher", "student")
USER_STATUSES = ("active", "inactive")
DEFAULT_GROUP_LIMIT = 5
ERASED_ROLE = "erased"  # the anonymous row an erasure leaves for history others keep (services/erasure.py)
ERASED_NAME = "Deleted user"


class User(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "users"
    __tenant_nullable__ = True  # the sysadmin belongs to no college
    __table_args__ = (
        UniqueConstraint("college_id", "email"),
        UniqueConstraint("college_id", "roll_no"),
        UniqueConstraint("college_id", "username"),  # the legacy clients' handle (seeds 000 and 001)
        UniqueConstraint("college_id", "id"),  # target of composite foreign keys from children
        Index("ix_users_college_role", "college_id", "role"),
    )

    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")
    password_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Set by an admin's reset (services/account_recovery.py): every route but the password change answers
    # 403 until the user picks their own (auth/current.py).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    username: Mapped[str | None] = mapped_column(String(64), default=None)

    # Student record (null for staff)
    department: Mapped[str | None] = mapped_column(String(120))
    year: Mapped[int | None] = mapped_column()
    roll_no: Mapped[str | None] = mapped_column(String(50))
    marks: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[float] = mapped_column(Float, default=0)
    group_limit: Mapped[int | None] = mapped_column()

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_student(self) -> bool:
        return self.role == "student"
