"""Forgot-password tokens: only the SHA-256 of each token is stored, so a database dump cannot be
used to take over an account. A token is good for one use within its lifetime."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow


class PasswordResetToken(IdMixin, TenantScoped, Base):
    __tablename__ = "password_reset_tokens"
    __tenant_nullable__ = True  # the sysadmin may reset theirs too
    __table_args__ = (
        ForeignKeyConstraint(
            ["college_id", "user_id"], ["users.college_id", "users.id"],
            name="fk_password_reset_tokens_college_user", ondelete="CASCADE",
        ),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
