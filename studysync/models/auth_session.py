"""Server-side sessions: every token names one, so revocation takes effect on the next request."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, IdMixin, TenantScoped, utcnow


class AuthSession(IdMixin, TenantScoped, Base):
    __tablename__ = "auth_sessions"
    __tenant_nullable__ = True
    __table_args__ = (
        ForeignKeyConstraint(
            ["college_id", "user_id"], ["users.college_id", "users.id"],
            name="fk_auth_sessions_college_user", ondelete="CASCADE",
        ),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip_address: Mapped[str | None] = mapped_column(String(64))

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now
