"""Learning profiles: what a student tells the matcher about how, what and when they study.

One row per student (created on the first save). `text_version` grows and `embedding_stale` turns
true on every change, so the matching issue recomputes the learning-style embedding once per
version: it reads `(id, text_version)`, embeds, then clears the flag with
`UPDATE profiles SET embedding_stale = false WHERE id = :id AND text_version = :version`, which
leaves the flag set if the profile changed again meanwhile.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, TimestampMixin


class Profile(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "profiles"
    __table_args__ = (
        UniqueConstraint("user_id"),
        ForeignKeyConstraint(["college_id", "user_id"], ["users.college_id", "users.id"],
                             name="fk_profiles_college_user", ondelete="CASCADE"),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    major: Mapped[str | None] = mapped_column(String(120))
    year: Mapped[str | None] = mapped_column(String(50))
    university: Mapped[str | None] = mapped_column(String(200))
    learning_style: Mapped[str | None] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    subjects: Mapped[list[str]] = mapped_column(default=list)
    schedule: Mapped[dict[str, Any]] = mapped_column(default=dict)
    performance_level: Mapped[int | None] = mapped_column()
    group_preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    study_environments: Mapped[list[str]] = mapped_column(default=list)
    study_methods: Mapped[list[str]] = mapped_column(default=list)

    embedding_stale: Mapped[bool] = mapped_column(default=True)
    text_version: Mapped[int] = mapped_column(default=1)
